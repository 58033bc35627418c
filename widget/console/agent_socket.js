// The console's socket (docs/protocol.md, agent frames): hello with the login token, heartbeat,
// reconnect with backoff, and replies or notes the agent is waiting on. No DOM: tests/widget/
// drives it with a fake socket and fake timers.
import { Connection, PendingReplies } from "../shared/protocol.js";

export const NOT_CONNECTED = "Not connected; try again.";
// The text stays in the composer, and sending it again is safe: the composer reuses the
// client_msg_id, so a message the server stored before the drop is not stored twice.
export const CONNECTION_LOST = "The connection dropped before the server confirmed it; try again.";
const POLICY_VIOLATION = 1008; // docs/protocol.md: the token is invalid: log in again

/**
 * token(): the agent's bearer token; onFrame(f): every frame but acks and errors that answer a
 * request() (a message frame that answers one is passed on too: it is the reply itself);
 * onStatus(s): "connecting" | "online" | "reconnecting"; onRefused(): the server refused the
 * token (close 1008): no reconnect.
 */
export class AgentSocket {
  constructor({ url, token, WebSocket, timers, random, onFrame, onStatus, onRefused }) {
    this.replies = new PendingReplies();
    this.connection = new Connection({
      url, WebSocket, timers, random, onStatus,
      hello: () => ({ type: "hello", token: token() }),
      onFrame: (f) => {
        if (f.type === "ack") { this.replies.resolve(f.client_msg_id, f); return; }
        // A reply comes back as itself: its message frame is its acknowledgement (and is shown).
        if (f.type === "message" && f.client_msg_id) this.replies.resolve(f.client_msg_id, f);
        if (f.type === "error" && f.ref && this.replies.reject(f.ref, new Error(f.message))) return;
        onFrame(f);
      },
      onClose: (event) => {
        // Nothing will answer on a closed socket: the agent must not wait forever.
        this.replies.rejectAll(new Error(CONNECTION_LOST));
        if (event.code === POLICY_VIOLATION) { onRefused(); return false; }
        return true;
      },
    });
  }

  connect() { this.connection.connect(); }

  /** Log out: close for good; whatever was still waiting is rejected. */
  close() {
    this.connection.stop(1000, "logout");
    this.replies.rejectAll(new Error(CONNECTION_LOST));
  }

  /** Fire and forget (watch, typing, status); false when there is no welcomed socket. */
  send(frame) { return this.connection.send(frame); }

  /** A frame with a client_msg_id: resolves on its ack or its own message frame, rejects on
   * its error or a close. */
  request(frame) {
    if (!this.connection.ready) return Promise.reject(new Error(NOT_CONNECTED));
    const answered = this.replies.wait(frame.client_msg_id);
    this.connection.send(frame);
    return answered;
  }
}
