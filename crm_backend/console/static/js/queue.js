// The left pane: 排队中 / 我的会话 / 全部, with priority, waiting time and unread marks.
import { $$, empty, h, replace } from "./dom.js";
import { clock, duration, label, priorityBand, SENDER, since, TOPIC } from "./format.js";

/** Whether an escalation is offered to this agent now (a live offer). List rows
 * always carry ``offered_agent_id`` (null: no offer), so a row that only targets
 * the agent (a call-back, an expired offer) is not an offer. */
export function offeredTo(item, agentId) {
  if ("offered_agent_id" in item) return item.offered_agent_id === agentId;
  return item.target_agent_id === agentId || item.offered_to_me === true;
}

function targetText(item, agentId) {
  if (item.status !== "queued") {
    if (item.assigned_agent_id === agentId) return "服务中 · 我";
    return item.assigned_agent_name ? `服务中 · ${item.assigned_agent_name}` : "服务中";
  }
  if (item.callback) return item.callback_due_at ? `待回电 · ${clock(item.callback_due_at)}` : "待回电";
  if (offeredTo(item, agentId)) return "派给我";
  const offered = item.offered_agent_name;
  const team = item.target_team_name;
  if (offered && team) return `${team} · 已派${offered}`;
  if (item.target_agent_name) return `专属 · ${item.target_agent_name}`;
  return team || "待分配";
}

/** The conversation's latest message on one line ("客户：……"), or null. */
function previewLine(item) {
  if (!item.last_message_preview) return null;
  const who = label(SENDER, item.last_message_sender);
  return h(
    "div",
    { class: "qitem-preview", title: clock(item.last_message_at) },
    h("span", { class: "qitem-preview-who" }, `${who}：`),
    item.last_message_preview,
  );
}

export class QueueList {
  constructor({ root, agentId, onSelect }) {
    this.root = root;
    this.agentId = agentId;
    this.onSelect = onSelect;
    this.items = [];
    this.selected = null;
    this.unread = new Set();
    this.filter = "";
    this.emptyText = "";
    setInterval(() => this.tick(), 1000);
  }

  /** Show ``items`` (already ordered by the server: priority, then waiting). */
  show(items, emptyText) {
    this.items = items;
    this.emptyText = emptyText;
    this.render();
  }

  setFilter(text) {
    this.filter = text.trim().toLowerCase();
    this.render();
  }

  select(escalationId) {
    this.selected = escalationId;
    for (const row of $$(".qitem", this.root)) {
      row.classList.toggle("is-selected", Number(row.dataset.id) === escalationId);
      row.setAttribute("aria-current", Number(row.dataset.id) === escalationId ? "true" : "false");
    }
  }

  markUnread(conversationId, on = true) {
    if (on) this.unread.add(conversationId);
    else this.unread.delete(conversationId);
    for (const row of $$(`.qitem[data-conversation="${conversationId}"]`, this.root)) {
      row.classList.toggle("is-unread", on);
    }
  }

  matches(item) {
    if (!this.filter) return true;
    const hay = [
      item.customer_name,
      item.trigger_label,
      item.target_team_name,
      item.target_agent_name,
      item.reason,
      item.last_message_preview,
    ]
      .filter(Boolean)
      .join(" ")
      .toLowerCase();
    return hay.includes(this.filter);
  }

  render() {
    const visible = this.items.filter((item) => this.matches(item));
    if (!visible.length) {
      replace(this.root, h("div", { class: "list-empty" }, empty(this.filter ? "没有符合筛选条件的会话" : this.emptyText)));
      return;
    }
    replace(this.root, visible.map((item) => this.row(item)));
  }

  row(item) {
    const [band, bandText] = priorityBand(item.priority);
    const mine = offeredTo(item, this.agentId) && item.status === "queued" && !item.callback;
    const classes = ["qitem"];
    if (item.id === this.selected) classes.push("is-selected");
    if (mine) classes.push("is-offered");
    if (this.unread.has(item.conversation_id)) classes.push("is-unread");
    const waitingSince = item.status === "queued" ? item.queued_at : null;
    return h(
      "button",
      {
        type: "button",
        role: "listitem",
        class: classes.join(" "),
        dataset: { id: item.id, conversation: item.conversation_id, status: item.status },
        "aria-current": item.id === this.selected ? "true" : "false",
        onclick: () => this.onSelect(item),
      },
      h(
        "div",
        { class: "qitem-top" },
        h("span", { class: `prio ${band}`, title: `优先级 ${item.priority} 分` }, `${bandText} ${item.priority}`),
        h("span", { class: "qitem-name" }, item.customer_name || "未验证客户"),
        h("span", { class: "qitem-unread", "aria-label": "有新消息" }),
        waitingSince
          ? h("span", { class: "qitem-wait", dataset: { since: waitingSince }, title: "已等待" }, duration(since(waitingSince)))
          : h("span", { class: "qitem-time" }, clock(item.assigned_at || item.queued_at)),
      ),
      h(
        "div",
        { class: "qitem-mid" },
        h("span", { class: "qitem-trigger" }, item.trigger_label || item.trigger),
        item.topic ? h("span", { class: "tag" }, label(TOPIC, item.topic)) : null,
        item.callback ? h("span", { class: "tag tag-warn" }, "待回电") : null,
      ),
      previewLine(item),
      h("div", { class: "qitem-bottom" }, h("span", { class: mine ? "qitem-target is-me" : "qitem-target" }, targetText(item, this.agentId))),
    );
  }

  /** Waiting times tick every second without a re-read. */
  tick() {
    for (const el of $$(".qitem-wait", this.root)) {
      const seconds = since(el.dataset.since);
      el.textContent = duration(seconds);
      el.classList.toggle("is-long", seconds >= 180);
      el.classList.toggle("is-breach", seconds >= 600);
    }
  }
}

