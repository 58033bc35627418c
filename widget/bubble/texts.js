// Every sentence the bubble shows. English is here, complete, and the fallback for any key
// another language lacks; every other language is one file in ./locales/ (and one import line
// below). A site may override keys (window.chatdeskConfig.strings). {name} placeholders are
// filled by format(). pickLocale() chooses the language: the site's `locale` option, else the
// browser's languages in order of preference, best match first (zh-TW -> zh-Hant, pt-BR -> pt).
import { cs } from "./locales/cs.js";
import { de } from "./locales/de.js";
import { es } from "./locales/es.js";
import { fa } from "./locales/fa.js";
import { fr } from "./locales/fr.js";
import { pt } from "./locales/pt.js";
import { zhHans } from "./locales/zh-Hans.js";
import { zhHant } from "./locales/zh-Hant.js";

const EN = {
  title: "Chat with us", open: "Open chat", unread: "{n} unread", close: "Close chat",
  greeting: "Hi! Ask us anything. A person is always one click away.",
  placeholder: "Type your message…", label: "Your message", send: "Send",
  human: "Talk to a person", helpful: "Was this helpful?", yes: "Yes", no: "No",
  thanks: "Thanks for your feedback!", none: "None of these", you: "You", bot: "Assistant",
  sending: "Sending…", sent: "Sent", failed: "Not sent", log: "Messages",
  queue: "You are number {n} in the queue.", wait: "Estimated wait: about {m} min.",
  waitSoon: "Estimated wait: under a minute.", instead: "E-mail me instead",
  assigned: "You are chatting with {name}.", typing: "{name} is typing…",
  ticket: "A person will reply {when}. You will see it here, and by e-mail if you leave your address.",
  by: "by {time}", soon: "soon", email: "Your e-mail address", save: "Save",
  emailBad: "Please enter a valid e-mail address.",
  closed: "This chat has ended.", rate: "How was your chat?", star: "{n} of 5 stars",
  comment: "Comment (optional)", rateSend: "Send rating", rated: "Thank you for your rating!",
  nps: "How likely are you to recommend us?", npsLow: "0 = not at all likely", npsHigh: "10 = extremely likely",
  npsSend: "Send", npsSkip: "No thanks", npsThanks: "Thank you!",
  transcript: "E-mail me this conversation", transcriptSent: "We sent the conversation to {email}.",
  offline: "Offline: messages will be sent when you are back.",
  connecting: "Connecting…", online: "Online", sound: "Sound notifications",
  tooLong: "That message is too long.", newChat: "Write a message to start a new chat.",
  offerTitle: "Leave your e-mail instead",
  offer: "Sorry for the wait: everyone is still busy. Leave your e-mail and we will answer you by ticket, or keep waiting here.",
  offerSend: "Get a ticket", keepWaiting: "Keep waiting",
  topicAsk: "What is it about?", topicAny: "Something else",
};

export const TEXTS = { en: EN, cs, de, es, fa, fr, pt, "zh-Hans": zhHans, "zh-Hant": zhHant };

// Languages written right to left (CLDR character order): the panel mirrors for them.
export const RTL_LANGUAGES = ["ar", "ckb", "dv", "fa", "he", "ps", "sd", "ug", "ur", "yi"];

/** The TEXTS key a locale reads ("de-AT" -> "de", "zh-TW" -> "zh-Hant", "zh" -> "zh-Hans"), or
 * null when we have no texts in its language. */
export function matchLanguage(locale) {
  if (typeof locale !== "string" || !locale.trim()) return null;
  const tag = locale.trim().replace(/_/g, "-");
  const exact = Object.keys(TEXTS).find((k) => k.toLowerCase() === tag.toLowerCase());
  if (exact) return exact;
  let lang = tag.split("-")[0].toLowerCase(), script = "";
  try {
    // The likely script of the region: zh-TW/zh-HK/zh-MO write Hant, zh/zh-CN/zh-SG write Hans.
    const full = new Intl.Locale(tag).maximize();
    lang = full.language; script = full.script || "";
  } catch (e) { /* not a well-formed tag: its first part may still name a language */ }
  if (script && TEXTS[lang + "-" + script]) return lang + "-" + script;
  return TEXTS[lang] ? lang : null;
}

/** The bubble's language: the site's `locale` option if we speak it, else the first of the
 * browser's languages we speak, else English. `locale` is the tag to send in hello and to
 * format dates with (the visitor's own, "pt-BR"), `lang` the TEXTS key, `dir` ltr or rtl. */
export function pickLocale(asked, browserLanguages = []) {
  for (const candidate of [asked, ...(browserLanguages || [])]) {
    const lang = matchLanguage(candidate);
    if (lang) return { locale: String(candidate).trim().replace(/_/g, "-"), lang, dir: directionOf(lang) };
  }
  return { locale: "en", lang: "en", dir: "ltr" };
}

/** "rtl" for a language written right to left, else "ltr". */
export function directionOf(lang) {
  return RTL_LANGUAGES.includes(String(lang).split("-")[0].toLowerCase()) ? "rtl" : "ltr";
}

/** The texts for a locale ("de-AT" speaks "de"), English for any key it lacks, with the
 * site's overrides on top. */
export function textsFor(locale, overrides = {}) {
  return Object.assign({}, EN, TEXTS[matchLanguage(locale)] || {}, overrides);
}

/** Fill {name} placeholders: format("{n} unread", {n: 3}). */
export function format(text, vars) {
  return text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k]));
}
