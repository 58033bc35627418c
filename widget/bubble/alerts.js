// Telling the visitor something arrived while they were not looking: the unread badge on the
// launcher, and a short beep if they switched sound on (off by default, remembered per site).
import { format } from "./texts.js";

const BADGE_MAX = 9; // more shows as "9+": the badge stays a small circle
const BEEP_HZ = 660;
const BEEP_GAIN = 0.06; // quiet: a hint, not an alarm
const BEEP_S = 0.15;

export function createAlerts({ ui, T, session, store, soundDefault, isOpen }) {
  const { badge, launch, sound } = ui;
  let soundOn = store.get("sound", soundDefault);
  let audio = null;

  function updateBadge() {
    const n = isOpen() ? 0 : session.unreadCount();
    badge.hidden = n === 0;
    badge.textContent = n > BADGE_MAX ? BADGE_MAX + "+" : String(n);
    launch.setAttribute("aria-label", n ? T.open + ", " + format(T.unread, { n }) : T.open);
  }

  function beep() {
    if (!soundOn) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = BEEP_HZ; g.gain.value = BEEP_GAIN;
      o.connect(g); g.connect(audio.destination); o.start(); o.stop(audio.currentTime + BEEP_S);
    } catch (e) { /* no sound is fine */ }
  }

  sound.addEventListener("click", () => {
    soundOn = !soundOn; store.set("sound", soundOn);
    sound.setAttribute("aria-pressed", String(soundOn));
    if (soundOn) beep();
  });
  sound.setAttribute("aria-pressed", String(soundOn));

  return { updateBadge, beep };
}
