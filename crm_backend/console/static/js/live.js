// One websocket to the CRM's hub: hints in, ``watch`` out, reconnect with backoff.
// A hint carries no data; the page re-reads through the REST API.

const MAX_DELAY = 30000;

export class Live {
  constructor({ onHint, onState, onUnauthorized, onForbidden }) {
    this.onHint = onHint;
    this.onState = onState || (() => {});
    this.onUnauthorized = onUnauthorized || (() => {});
    this.onForbidden = onForbidden || (() => {});
    this.watching = new Set();
    this.attempt = 0;
    this.socket = null;
    this.timer = null;
    this.stopped = false;
  }

  get url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}/api/v1/agent/ws`;
  }

  start() {
    this.stopped = false;
    this.connect();
    window.addEventListener("online", () => this.reconnectNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && !this.isOpen()) this.reconnectNow();
    });
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000);
  }

  isOpen() {
    return this.socket && this.socket.readyState === WebSocket.OPEN;
  }

  connect() {
    clearTimeout(this.timer);
    this.onState(this.attempt === 0 ? "connecting" : "reconnecting");
    let socket;
    try {
      socket = new WebSocket(this.url);
    } catch {
      this.schedule();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      const reconnected = this.attempt > 0;
      this.attempt = 0;
      this.onState("open");
      for (const id of this.watching) this.send({ type: "watch", conversation_id: id });
      // Hints sent while we were away are lost: re-read everything once.
      this.onHint({ type: "resync", reconnected });
    });
    socket.addEventListener("message", (event) => {
      let hint;
      try {
        hint = JSON.parse(event.data);
      } catch {
        return;
      }
      if (hint && typeof hint.type === "string") this.onHint(hint);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (event.code === 4403) {
        // The page's origin is not allowed: retrying cannot help, so stop for good
        // (the page falls back to polling) and say why.
        this.stopped = true;
        clearTimeout(this.timer);
        this.onState("forbidden");
        this.onForbidden();
        return;
      }
      if (event.code === 4401) {
        // The page decides (a REST call sends a logged-out agent to the login
        // page); if the session is fine after all, retry slowly, never in a loop.
        this.onState("closed");
        this.onUnauthorized();
        this.attempt = Math.max(this.attempt, 5);
      }
      if (!this.stopped) this.schedule();
    });
    socket.addEventListener("error", () => {
      /* a close event follows */
    });
  }

  schedule() {
    this.attempt += 1;
    this.onState("reconnecting");
    const base = Math.min(MAX_DELAY, 1000 * 2 ** Math.min(this.attempt - 1, 5));
    const delay = base / 2 + Math.random() * (base / 2);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.stopped || this.isOpen()) return;
    if (this.socket && this.socket.readyState === WebSocket.CONNECTING) return;
    this.attempt = Math.max(this.attempt, 1);
    this.connect();
  }

  send(message) {
    if (this.isOpen()) this.socket.send(JSON.stringify(message));
  }

  /** Follow a conversation (kept across reconnects). */
  watch(conversationId) {
    if (!conversationId) return;
    this.watching.add(conversationId);
    this.send({ type: "watch", conversation_id: conversationId });
  }

  unwatch(conversationId) {
    this.watching.delete(conversationId);
    this.send({ type: "unwatch", conversation_id: conversationId });
  }
}
