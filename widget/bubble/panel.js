// The bubble's frame: a <chatdesk-widget> element with an open shadow root holding the launcher
// and the panel. Static markup only; every label is set as text (texts.js, or the site's own
// title and greeting).
import { h } from "./dom.js";
import { stylesheet, themeFrom } from "./theme.js";

const ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';

const MARKUP = `
<button class="launch" type="button" aria-controls="cd-panel">${ICON}<span class="badge" hidden></span></button>
<section class="panel" id="cd-panel" role="dialog" hidden>
 <header><div class="t"><h2 id="cd-title"></h2><p class="conn"></p></div>
  <button class="snd" type="button" aria-pressed="false">♪</button>
  <button class="x" type="button">×</button></header>
 <div class="stat" role="status"></div>
 <div class="scroll" role="log" tabindex="0"><div class="m bot greet"><p class="b"></p></div><div class="log"></div></div>
 <div class="typing" aria-live="polite"></div>
 <div class="extra"></div>
 <form class="comp"><label class="sr" for="cd-text"></label><textarea id="cd-text" rows="1" enterkeyhint="send"></textarea><button class="pri" type="submit"></button></form>
 <p class="err" role="alert"></p>
 <div class="acts"><button class="hum" type="button"></button></div>
</section>`;

/** Build the element (not yet in the page); returns it with its parts by name. `dir` "rtl"
 * mirrors the whole bubble (the launcher's side is theme.side); `lang` is the texts' language. */
export function buildPanel({ T, theme, title, greeting, dir = "ltr", lang = "en" }) {
  const host = document.createElement("chatdesk-widget");
  const shadow = host.attachShadow({ mode: "open" });
  const w = h("div", "w", null, { dir, lang });
  w.innerHTML = MARKUP;
  const style = h("style", "", stylesheet(theme));
  shadow.append(style, w);
  const $ = (sel) => w.querySelector(sel);
  const ui = {
    host, shadow, w, style, title: $("#cd-title"), greeting: $(".greet .b"),
    launch: $(".launch"), badge: $(".badge"), panel: $(".panel"), conn: $(".conn"),
    stat: $(".stat"), scroll: $(".scroll"), log: $(".log"), typing: $(".typing"),
    extra: $(".extra"), form: $(".comp"), input: $("#cd-text"), err: $(".err"),
    human: $(".hum"), sound: $(".snd"), closeBtn: $(".x"),
  };
  ui.title.textContent = title ?? T.title;
  ui.panel.setAttribute("dir", dir);
  ui.panel.setAttribute("aria-labelledby", "cd-title");
  // A site's own title and greeting may be in any language: each reads in its own direction.
  ui.title.setAttribute("dir", "auto");
  ui.greeting.setAttribute("dir", "auto");
  ui.greeting.textContent = greeting ?? T.greeting;
  $("label.sr").textContent = T.label;
  ui.input.placeholder = T.placeholder;
  ui.form.querySelector("button").textContent = T.send;
  ui.human.textContent = T.human;
  ui.sound.setAttribute("aria-label", T.sound);
  ui.closeBtn.setAttribute("aria-label", T.close);
  ui.scroll.setAttribute("aria-label", T.log);
  return ui;
}

/** Show another look (config.js lookFrom: the saved one, or a preview's draft): the title and
 * greeting as text, the colours through theme.js's checks. */
export function applyLook(ui, T, look) {
  ui.title.textContent = look.title ?? T.title;
  ui.greeting.textContent = look.greeting ?? T.greeting;
  ui.style.textContent = stylesheet(themeFrom(look));
}
