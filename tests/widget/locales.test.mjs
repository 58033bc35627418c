// The bubble's languages (widget/bubble/texts.js, widget/bubble/locales/*.js): which one a page
// and a browser get, and that every language says every sentence with the same placeholders.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { directionOf, matchLanguage, pickLocale, TEXTS, textsFor } from "../../widget/bubble/texts.js";
import { readConfig } from "../../widget/bubble/config.js";

const LOCALES_DIR = new URL("../../widget/bubble/locales/", import.meta.url);
const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test("the issue's languages are all there, one file each, each imported", () => {
  for (const lang of ["en", "de", "es", "fr", "pt", "zh-Hans", "zh-Hant", "cs", "fa"]) assert.ok(TEXTS[lang], lang);
  const files = readdirSync(LOCALES_DIR).filter((f) => f.endsWith(".js")).map((f) => f.replace(/\.js$/, ""));
  assert.deepEqual(files.sort(), Object.keys(TEXTS).filter((k) => k !== "en").sort());
});

test("every language has every English key, with the same placeholders, and no others", () => {
  const en = TEXTS.en;
  for (const [lang, texts] of Object.entries(TEXTS)) {
    assert.deepEqual(Object.keys(texts).sort(), Object.keys(en).sort(), lang);
    for (const key of Object.keys(en)) {
      assert.equal(typeof texts[key], "string", `${lang}.${key}`);
      assert.ok(texts[key].trim(), `${lang}.${key} is empty`);
      assert.deepEqual(placeholders(texts[key]), placeholders(en[key]), `${lang}.${key}`);
    }
  }
});

test("a locale is matched to the language we write: region, script and case do not matter", () => {
  const cases = {
    "zh-TW": "zh-Hant", "zh-HK": "zh-Hant", "zh-MO": "zh-Hant", "zh-Hant": "zh-Hant", "zh-hant-tw": "zh-Hant",
    zh: "zh-Hans", "zh-CN": "zh-Hans", "zh-SG": "zh-Hans", "zh-Hans-CN": "zh-Hans",
    "pt-BR": "pt", "pt-PT": "pt", "de-AT": "de", "de_CH": "de", "fa-IR": "fa", "cs-CZ": "cs", "CS": "cs",
    "es-419": "es", "fr-CA": "fr", "en-GB": "en",
  };
  for (const [tag, lang] of Object.entries(cases)) assert.equal(matchLanguage(tag), lang, tag);
  for (const tag of ["ja", "ar", "", null, undefined, "???", 42]) assert.equal(matchLanguage(tag), null, String(tag));
});

test("the site's locale wins; else the browser's first language we speak; else English", () => {
  assert.deepEqual(pickLocale("fa", ["de-DE", "en"]), { locale: "fa", lang: "fa", dir: "rtl" });
  assert.deepEqual(pickLocale(null, ["ja-JP", "zh-TW", "en"]), { locale: "zh-TW", lang: "zh-Hant", dir: "ltr" });
  assert.deepEqual(pickLocale("", ["pt-BR"]), { locale: "pt-BR", lang: "pt", dir: "ltr" });
  // A site language we have no texts for: the visitor's browser may still have one we speak.
  assert.deepEqual(pickLocale("ja", ["cs-CZ"]), { locale: "cs-CZ", lang: "cs", dir: "ltr" });
  assert.deepEqual(pickLocale("ja", ["ko"]), { locale: "en", lang: "en", dir: "ltr" });
  assert.deepEqual(pickLocale(undefined, undefined), { locale: "en", lang: "en", dir: "ltr" });
});

test("right to left for Persian and the other RTL scripts, left to right for the rest", () => {
  for (const lang of ["fa", "ar", "he", "ur", "fa-AF"]) assert.equal(directionOf(lang), "rtl", lang);
  for (const lang of ["en", "de", "zh-Hant", "cs"]) assert.equal(directionOf(lang), "ltr", lang);
});

test("texts fall back to English per key and take the site's own wording on top", () => {
  const T = textsFor("zh-TW", { title: "客服" });
  assert.equal(T.title, "客服");
  assert.equal(T.human, TEXTS["zh-Hant"].human);
  assert.equal(textsFor("ja").human, TEXTS.en.human);
});

const page = (cfg, languages, dataset = {}) => readConfig(
  { dataset, src: "https://chat.example/widget.js" },
  { chatdeskConfig: cfg, location: { href: "https://shop.example/" }, navigator: { languages, language: languages[0] } },
);

test("the config picks the language, and RTL moves the launcher left unless the site placed it", () => {
  const fa = page({}, ["fa-IR", "en"]);
  assert.equal(fa.locale, "fa-IR"); assert.equal(fa.lang, "fa"); assert.equal(fa.dir, "rtl"); assert.equal(fa.side, "left");
  assert.equal(page({ position: "right" }, ["fa"]).side, "right");
  const en = page({}, ["en-US"]);
  assert.equal(en.side, "right"); assert.equal(en.dir, "ltr");
  assert.equal(page({}, ["en-US"], { locale: "cs" }).lang, "cs"); // data-locale="cs"
  assert.equal(page({ locale: "zh-HK" }, ["en"]).lang, "zh-Hant");
});
