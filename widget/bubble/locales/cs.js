// Czech: every key of texts.js's English, in the same {placeholders}. Counts stand after a
// colon or before an abbreviation, so no plural form is needed.
export const cs = {
  title: "Napište nám", open: "Otevřít chat", unread: "Nepřečteno: {n}", close: "Zavřít chat",
  greeting: "Dobrý den! Zeptejte se nás na cokoli. Člověk je vždy jen jedno kliknutí daleko.",
  placeholder: "Napište zprávu…", label: "Vaše zpráva", send: "Odeslat",
  human: "Mluvit s člověkem", helpful: "Pomohlo vám to?", yes: "Ano", no: "Ne",
  thanks: "Děkujeme za zpětnou vazbu!", none: "Nic z toho", you: "Vy", bot: "Asistent",
  sending: "Odesílá se…", sent: "Odesláno", failed: "Neodesláno", log: "Zprávy",
  queue: "Ve frontě jste {n}. v pořadí.", wait: "Odhadovaná doba čekání: asi {m} min.",
  waitSoon: "Odhadovaná doba čekání: méně než minuta.", instead: "Raději e-mailem",
  assigned: "Obsluhuje vás {name}.", typing: "{name} píše…",
  ticket: "Člověk vám odpoví {when}. Odpověď uvidíte tady, a e-mailem, pokud nám necháte adresu.",
  by: "nejpozději {time}", soon: "brzy", email: "Váš e-mail", save: "Uložit",
  emailBad: "Zadejte prosím platnou e-mailovou adresu.",
  closed: "Tento chat skončil.", rate: "Jak jste byli spokojeni?", star: "Hvězdičky: {n} z 5",
  comment: "Komentář (nepovinný)", rateSend: "Odeslat hodnocení", rated: "Děkujeme za hodnocení!",
  nps: "Jak pravděpodobné je, že nás doporučíte?", npsLow: "0 = vůbec ne", npsHigh: "10 = určitě",
  npsSend: "Odeslat", npsSkip: "Ne, děkuji", npsThanks: "Děkujeme!",
  transcript: "Poslat mi tuto konverzaci e-mailem", transcriptSent: "Konverzaci jsme poslali na {email}.",
  offline: "Offline: zprávy se odešlou, až budete zase online.",
  connecting: "Připojuji…", online: "Online", sound: "Zvuková upozornění",
  tooLong: "Zpráva je příliš dlouhá.", newChat: "Napište zprávu a začněte nový chat.",
};
