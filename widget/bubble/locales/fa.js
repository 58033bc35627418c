// Persian: every key of texts.js's English, in the same {placeholders}. Written right to left
// (texts.js RTL_LANGUAGES): the panel mirrors, each message keeps its own direction.
export const fa = {
  title: "گفتگو با ما", open: "باز کردن گفتگو", unread: "{n} پیام خوانده‌نشده", close: "بستن گفتگو",
  greeting: "سلام! هر سؤالی دارید بپرسید. همیشه با یک کلیک می‌توانید با یک کارشناس صحبت کنید.",
  placeholder: "پیامتان را بنویسید…", label: "پیام شما", send: "ارسال",
  human: "گفتگو با کارشناس", helpful: "این پاسخ مفید بود؟", yes: "بله", no: "نه",
  thanks: "از بازخوردتان سپاسگزاریم!", none: "هیچ‌کدام", you: "شما", bot: "دستیار",
  sending: "در حال ارسال…", sent: "ارسال شد", failed: "ارسال نشد", log: "پیام‌ها",
  queue: "شما نفر {n} در صف هستید.", wait: "زمان تقریبی انتظار: حدود {m} دقیقه.",
  waitSoon: "زمان تقریبی انتظار: کمتر از یک دقیقه.", instead: "به‌جایش ایمیل بزنید",
  assigned: "در حال گفتگو با {name} هستید.", typing: "{name} در حال نوشتن است…",
  ticket: "یک کارشناس {when} پاسخ می‌دهد. پاسخ را همین‌جا می‌بینید، و اگر نشانی ایمیلتان را بگذارید، با ایمیل هم.",
  by: "تا {time}", soon: "به‌زودی", email: "نشانی ایمیل شما", save: "ذخیره",
  emailBad: "لطفاً یک نشانی ایمیل معتبر وارد کنید.",
  closed: "این گفتگو به پایان رسید.", rate: "گفتگو چطور بود؟", star: "{n} ستاره از ۵",
  comment: "نظر (اختیاری)", rateSend: "ارسال امتیاز", rated: "از امتیازتان سپاسگزاریم!",
  nps: "چقدر احتمال دارد ما را به دیگران پیشنهاد کنید؟", npsLow: "0 = اصلاً", npsHigh: "10 = کاملاً",
  npsSend: "ارسال", npsSkip: "نه، ممنون", npsThanks: "سپاسگزاریم!",
  transcript: "این گفتگو را برایم ایمیل کنید", transcriptSent: "گفتگو را به {email} فرستادیم.",
  offline: "آفلاین: پیام‌ها وقتی دوباره آنلاین شوید فرستاده می‌شوند.",
  connecting: "در حال اتصال…", online: "آنلاین", sound: "اعلان صوتی",
  tooLong: "این پیام خیلی طولانی است.", newChat: "برای شروع گفتگوی تازه پیامی بنویسید.",
};
