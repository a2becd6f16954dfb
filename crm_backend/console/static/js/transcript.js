// The transcript: customer / bot 小安 / agent / system / private-note styles.
import { h } from "./dom.js";
import { clock, day } from "./format.js";

const NEAR_BOTTOM = 80;

function payloadButtons(payload) {
  const buttons = payload && Array.isArray(payload.buttons) ? payload.buttons : [];
  if (!buttons.length) return null;
  return h(
    "div",
    { class: "msg-buttons", "aria-label": "机器人提供的选项" },
    buttons.map((b) => h("span", { class: "msg-button" }, b.title || b.payload || "")),
  );
}

export class Transcript {
  constructor({ root, newBelow, agentId, agentName }) {
    this.root = root;
    this.newBelow = newBelow;
    this.agentId = agentId;
    this.agentName = agentName;
    this.ids = new Set();
    this.lastId = 0;
    this.lastDay = null;
    this.customerName = "客户";
    this.names = new Map();
    newBelow.addEventListener("click", () => this.scrollToEnd());
    root.addEventListener("scroll", () => {
      if (this.nearBottom()) newBelow.hidden = true;
    });
  }

  reset({ customerName, names }) {
    this.root.replaceChildren();
    this.ids.clear();
    this.lastId = 0;
    this.lastDay = null;
    this.customerName = customerName || "客户";
    this.names = names || new Map();
    this.newBelow.hidden = true;
  }

  nearBottom() {
    const el = this.root;
    return el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM;
  }

  scrollToEnd() {
    this.root.scrollTop = this.root.scrollHeight;
    this.newBelow.hidden = true;
  }

  /** Append messages not shown yet (by id); returns how many were new. */
  add(messages, { initial = false } = {}) {
    const stick = initial || this.nearBottom();
    let added = 0;
    let fromCustomer = 0;
    for (const message of messages) {
      if (this.ids.has(message.id)) continue;
      this.ids.add(message.id);
      this.lastId = Math.max(this.lastId, message.id);
      const d = day(message.created_at);
      if (d !== this.lastDay) {
        this.lastDay = d;
        this.root.append(h("div", { class: "day-sep" }, h("span", {}, d)));
      }
      this.root.append(this.render(message));
      added += 1;
      if (message.sender === "customer") fromCustomer += 1;
    }
    if (!added) return 0;
    if (stick) this.scrollToEnd();
    else if (fromCustomer) this.newBelow.hidden = false;
    return added;
  }

  who(message) {
    if (message.private) {
      const name = message.agent_id === this.agentId ? "我" : this.names.get(message.agent_id) || "同事";
      return `内部备注 · ${name}`;
    }
    switch (message.sender) {
      case "customer":
        return this.customerName;
      case "bot":
        return "小安 · 智能客服";
      case "agent": {
        if (message.agent_id === this.agentId) return `我（${this.agentName}）`;
        return this.names.get(message.agent_id) || "人工坐席";
      }
      default:
        return "系统";
    }
  }

  render(message) {
    const kind = message.private ? "note" : message.sender;
    const time = h("time", { datetime: message.created_at, title: message.created_at }, clock(message.created_at));
    if (kind === "system") {
      return h("div", { class: "msg msg-system", dataset: { id: message.id } }, h("span", { class: "msg-system-text" }, message.text), time);
    }
    const badge = { customer: "客", bot: "安", agent: "坐", note: "注" }[kind] || "?";
    const tags = [];
    if (kind === "customer" && typeof message.sentiment === "number" && message.sentiment <= -0.5) {
      tags.push(h("span", { class: "tag tag-danger", title: `情绪分 ${message.sentiment.toFixed(2)}` }, "情绪负面"));
    }
    return h(
      "div",
      { class: `msg msg-${kind}`, dataset: { id: message.id, sender: message.sender } },
      h("div", { class: "msg-avatar", "aria-hidden": "true" }, badge),
      h(
        "div",
        { class: "msg-main" },
        h("div", { class: "msg-meta" }, h("span", { class: "msg-who" }, this.who(message)), tags, time),
        h("div", { class: "msg-bubble" }, message.text),
        kind === "bot" ? payloadButtons(message.payload) : null,
      ),
    );
  }
}
