// Every sentence the bubble shows, one block per language. English is complete and the fallback
// for any key another language lacks; a site may override keys (window.chatdeskConfig.strings).
// {name} placeholders are filled by format().

export const TEXTS = {
  en: {
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
    transcript: "E-mail me this conversation", transcriptSent: "We sent the conversation to {email}.",
    offline: "Offline: messages will be sent when you are back.",
    connecting: "Connecting…", online: "Online", sound: "Sound notifications",
    tooLong: "That message is too long.", newChat: "Write a message to start a new chat.",
  },
  de: {
    title: "Chatten Sie mit uns", open: "Chat öffnen", unread: "{n} ungelesen", close: "Chat schließen",
    greeting: "Hallo! Fragen Sie uns einfach. Ein Mensch ist immer nur einen Klick entfernt.",
    placeholder: "Ihre Nachricht…", label: "Ihre Nachricht", send: "Senden",
    human: "Mit einem Menschen sprechen", helpful: "War das hilfreich?", yes: "Ja", no: "Nein",
    thanks: "Danke für Ihr Feedback!", none: "Nichts davon", you: "Sie", bot: "Assistent",
    sending: "Wird gesendet…", sent: "Gesendet", failed: "Nicht gesendet", log: "Nachrichten",
    queue: "Sie sind Nummer {n} in der Warteschlange.", wait: "Geschätzte Wartezeit: etwa {m} Min.",
    waitSoon: "Geschätzte Wartezeit: unter einer Minute.", instead: "Lieber per E-Mail",
    assigned: "Sie chatten mit {name}.", typing: "{name} schreibt…",
    ticket: "Ein Mensch antwortet {when}. Sie sehen die Antwort hier und per E-Mail, wenn Sie Ihre Adresse angeben.",
    by: "bis {time}", soon: "bald", email: "Ihre E-Mail-Adresse", save: "Speichern",
    emailBad: "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
    closed: "Dieser Chat ist beendet.", rate: "Wie war der Chat?", star: "{n} von 5 Sternen",
    comment: "Kommentar (optional)", rateSend: "Bewertung senden", rated: "Danke für Ihre Bewertung!",
    transcript: "Verlauf per E-Mail senden", transcriptSent: "Wir haben den Verlauf an {email} gesendet.",
    offline: "Offline: Nachrichten werden gesendet, sobald Sie wieder online sind.",
    connecting: "Verbinde…", online: "Online", sound: "Tonsignale",
    tooLong: "Die Nachricht ist zu lang.", newChat: "Schreiben Sie, um einen neuen Chat zu beginnen.",
  },
};

/** The texts for a locale ("de-AT" speaks "de"), with the site's overrides on top. */
export function textsFor(locale, overrides = {}) {
  return Object.assign({}, TEXTS.en, TEXTS[String(locale).slice(0, 2).toLowerCase()] || {}, overrides);
}

/** Fill {name} placeholders: format("{n} unread", {n: 3}). */
export function format(text, vars) {
  return text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k]));
}
