// How the bubble looks: the site's colour and side, validated before they reach CSS, and the
// stylesheet of the shadow root (the host page's CSS cannot reach in, ours cannot leak out).

const DEFAULT_PRIMARY = "#2456d3";

/** A CSS colour the browser understands and that cannot break out of its declaration. */
export function cssColor(c, fallback) {
  return typeof c === "string" && !/[;{}<>\\]/.test(c) && CSS.supports("color", c) ? c : fallback;
}

/** Black or white text, whichever contrasts more (WCAG relative luminance) with a #rrggbb colour. */
export function readableOn(c) {
  const m = /^#([0-9a-f]{6})$/i.exec(c);
  if (!m) return "#fff";
  const lin = [0, 2, 4].map((i) => {
    const v = parseInt(m[1].slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  const lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  return (1.05 / (lum + 0.05)) >= ((lum + 0.05) / 0.05) ? "#fff" : "#111";
}

/** {primary, onPrimary, side} from the site's options (config.js). */
export function themeFrom(config) {
  const primary = cssColor(config.color, DEFAULT_PRIMARY);
  return { primary, onPrimary: cssColor(config.textColor, readableOn(primary)), side: config.side };
}

export function stylesheet({ primary, onPrimary, side }) {
  return `
:host{all:initial!important;display:block!important;position:static!important;--p:${primary}!important;--op:${onPrimary}!important}
*{box-sizing:border-box}
.w{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d2330;letter-spacing:normal;text-align:start}
.sr{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
button,input,textarea{font:inherit;color:inherit;margin:0}
button{cursor:pointer;border-radius:8px;border:1px solid var(--p);background:#fff;color:#1d2330;padding:6px 12px;min-height:36px}
button.pri{background:var(--p);color:var(--op)}
button:disabled{cursor:default;opacity:.6}
:focus-visible{outline:3px solid #1d2330;outline-offset:2px}
.launch{position:fixed;${side}:20px;bottom:20px;width:60px;height:60px;border-radius:50%;border:2px solid #fff;background:var(--p);color:var(--op);box-shadow:0 4px 16px rgba(0,0,0,.3);padding:0;display:flex;align-items:center;justify-content:center;z-index:2147483000}
.launch svg{width:28px;height:28px;fill:currentColor}
.badge{position:absolute;top:-4px;${side === "right" ? "left" : "right"}:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#b3261e;color:#fff;font-size:13px;font-weight:700;line-height:22px;text-align:center}
.panel{position:fixed;${side}:20px;bottom:92px;width:380px;height:620px;max-height:calc(100vh - 112px);display:flex;flex-direction:column;background:#fff;border-radius:14px;box-shadow:0 8px 40px rgba(0,0,0,.28);overflow:hidden;z-index:2147483001}
.panel[hidden]{display:none}
header{background:var(--p);color:var(--op);padding:10px;padding-inline-start:16px;display:flex;align-items:center;gap:6px}
header .t{flex:1;min-width:0}
h2{font-size:17px;margin:0;font-weight:700}
.conn{font-size:13px;margin:0}
header button{background:transparent;color:var(--op);border:1px solid transparent;font-size:20px;line-height:1;width:40px;height:40px;padding:0}
header button[aria-pressed=false]{opacity:.8}
header :focus-visible{outline-color:var(--op)}
.stat{padding:10px 16px;background:#f4f6fa;border-bottom:1px solid #dde1e8;font-size:14px;display:flex;gap:10px;align-items:center;flex-wrap:wrap}
.stat:empty{display:none}
.stat p{margin:0;flex:1 1 200px}
.scroll{flex:1;overflow-y:auto;padding:12px 14px;overscroll-behavior:contain}
.m{margin:8px 0;display:flex;flex-direction:column;align-items:flex-start;max-width:100%}
.m .b{max-width:85%;padding:8px 12px;border-radius:14px;background:#eef0f4;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;margin:0}
.m.visitor{align-items:flex-end}
.m.visitor .b{background:var(--p);color:var(--op);border-end-end-radius:4px}
.m.bot .b,.m.agent .b{border-end-start-radius:4px}
.m.system{align-items:center;text-align:center}
.m.system .b{background:none;color:#4a5261;font-size:14px;padding:2px 8px;max-width:100%}
.b a{color:#1a45b0;text-decoration:underline}
.who{display:flex;align-items:center;gap:6px;font-size:13px;font-weight:600;color:#4a5261;margin:0 0 2px}
.av{width:24px;height:24px;border-radius:50%;object-fit:cover;background:#4a5261;color:#fff;font-size:11px;display:inline-flex;align-items:center;justify-content:center;flex:none}
.ft{font-size:12px;color:#4a5261;margin-top:2px}
.opts,.fb{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px;align-items:center;font-size:14px}
.opts button{text-align:start}
.greet .b{background:#eef0f4}
.typing{min-height:20px;padding:0 16px;font-size:13px;color:#4a5261}
.extra:empty{display:none}
.extra{padding:10px 14px;border-top:1px solid #dde1e8}
.extra form{display:flex;gap:6px;flex-wrap:wrap;align-items:center}
.extra p{margin:0 0 6px;flex-basis:100%}
.err{color:#b3261e;font-size:13px;margin:4px 0 0;flex-basis:100%}
.err:empty{display:none}
.offer>button{margin-top:6px}
input,textarea{font-size:16px;border:1px solid #767d8c;border-radius:8px;padding:8px 10px;background:#fff;color:#1d2330}
input{flex:1 1 160px;min-width:0}
fieldset{border:0;padding:0;margin:0 0 6px;flex-basis:100%}
legend{padding:0;margin-bottom:4px;font-weight:600}
.stars{display:flex;gap:2px}
.stars label{font-size:28px;line-height:1;color:#767d8c;cursor:pointer;padding:2px}
.stars input{position:absolute;opacity:0;width:1px;height:1px}
.stars label.on{color:#a15c00}
.stars input:focus-visible+span{outline:3px solid #1d2330;outline-offset:2px}
.rate textarea{flex-basis:100%;min-height:44px}
.scale{display:flex;flex-wrap:wrap;gap:3px}
.scale label{position:relative}
.scale input{position:absolute;opacity:0;width:1px;height:1px}
.scale span{display:inline-flex;align-items:center;justify-content:center;min-width:28px;min-height:32px;border:1px solid #767d8c;border-radius:6px;cursor:pointer;font-size:14px}
.scale input:checked+span{background:#1d2330;color:#fff;border-color:#1d2330}
.scale input:focus-visible+span{outline:3px solid #1d2330;outline-offset:2px}
.hint{font-size:13px;color:#4a5261;margin:4px 0 0}
.comp{display:flex;gap:8px;padding:10px 12px;border-top:1px solid #dde1e8;align-items:flex-end}
.comp textarea{unicode-bidi:plaintext;flex:1;resize:none;height:42px;max-height:120px;line-height:1.4}
.acts{display:flex;justify-content:center;padding:0 12px 10px}
.acts button{border:0;background:none;color:#1a45b0;text-decoration:underline;min-height:32px}
.acts[hidden],[hidden]{display:none!important}
@media (max-width:479px){
 .panel{left:0;right:0;top:0;bottom:0;width:100%;height:100%;max-height:none;border-radius:0}
 .w.open .launch{display:none}
}
@media (prefers-reduced-motion:no-preference){.panel{animation:up .18s ease-out}@keyframes up{from{opacity:0;transform:translateY(12px)}}}
`;
}
