// Which canned reply the reply being written came from, so its use is counted (issue 15,
// canned replies that earn automation). The composer's /shortcut menu and the canned panel
// note the reply they insert; sending asks which one the text still contains.
let inserted = null; // { id, text } of the last canned reply put into the composer

/** Remember a canned reply just inserted into the composer. */
export function noteCanned(reply) { inserted = { id: reply.id, text: reply.text.trim() }; }

/** The id of the inserted canned reply if the text about to be sent still contains it. */
export function cannedIdFor(text) {
  return inserted && inserted.text && text.includes(inserted.text) ? inserted.id : null;
}

/** After a send: the next reply starts without one. */
export function forgetCanned() { inserted = null; }
