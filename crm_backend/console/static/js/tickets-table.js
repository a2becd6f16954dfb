// The ticket queue table: one row per ticket, SLA countdowns that tick every second.
import { $$, h, replace } from "./dom.js";
import { label, TIER } from "./format.js";
import { age, deadlineState, SEVERITY_CLS, serverClock, stamp, STATUS, STATUS_CLS } from "./tickets-format.js";

const TIER_CLS = { vip: "chip-vip", gold: "chip-gold" };

/** A live countdown cell's content; ``tick`` keeps it current. */
export function countdown(ticket, kind) {
  const el = h("span", { class: "cd", dataset: { kind } });
  el.ticket = ticket;
  paint(el);
  return el;
}

function paint(el) {
  const [cls, text] = deadlineState(el.ticket, el.dataset.kind);
  el.className = `cd ${cls}`;
  el.textContent = text;
}

/** Re-paint every countdown on the page (and the ages). */
export function tick(root = document) {
  for (const el of $$(".cd", root)) if (el.ticket) paint(el);
  for (const el of $$(".tk-age", root)) el.textContent = age(serverClock.now() - new Date(el.dataset.since).getTime());
}

function customerCell(t) {
  return h(
    "td",
    { class: "tk-cust" },
    h(
      "div",
      { class: "tk-cust-top" },
      h("span", { class: "tk-cust-name" }, t.customer_name || "—"),
      t.customer_tier && t.customer_tier !== "standard" && t.customer_tier !== "basic"
        ? h("span", { class: `chip-s ${TIER_CLS[t.customer_tier] || ""}` }, label(TIER, t.customer_tier))
        : null,
    ),
    h("div", { class: "tk-cust-phone" }, t.customer_phone_masked || ""),
  );
}

function deadlineCell(t, kind) {
  return h("td", { class: `tk-due tk-due-${kind}` }, countdown(t, kind), h("div", { class: "tk-due-at" }, stamp(t[`${kind}_due_at`])));
}

export class TicketTable {
  /** ``onPick(tickets)``: the rows ticked for a bulk verb changed. */
  constructor({ body, all, onSelect, onPick, me }) {
    this.body = body;
    this.all = all;
    this.onSelect = onSelect;
    this.onPick = onPick;
    this.me = me;
    this.selected = null;
    this.items = [];
    this.picked = new Set();
    all.addEventListener("change", () => this.pickAll(all.checked));
  }

  show(items, emptyText) {
    this.items = items;
    // a ticket that left the list (closed, filtered out) is no longer ticked
    const shown = new Set(items.map((t) => t.id));
    for (const id of [...this.picked]) if (!shown.has(id)) this.picked.delete(id);
    this.pickedChanged();
    if (!items.length) {
      replace(this.body, h("tr", {}, h("td", { colspan: 10, class: "tk-none muted" }, emptyText)));
      return;
    }
    replace(
      this.body,
      items.map((t) => this.row(t)),
    );
  }

  /** The ticked tickets, in list order. */
  get pickedTickets() {
    return this.items.filter((t) => this.picked.has(t.id));
  }

  pick(id, on) {
    if (on) this.picked.add(id);
    else this.picked.delete(id);
    this.pickedChanged();
  }

  pickAll(on) {
    this.picked = new Set(on ? this.items.map((t) => t.id) : []);
    for (const box of $$(".tk-pick input", this.body)) box.checked = on;
    this.pickedChanged();
  }

  pickedChanged() {
    const n = this.picked.size;
    this.all.checked = n > 0 && n === this.items.length;
    this.all.indeterminate = n > 0 && n < this.items.length;
    this.onPick(this.pickedTickets);
  }

  pickCell(t) {
    return h(
      "td",
      { class: "tk-pick", onclick: (event) => event.stopPropagation() },
      h("input", {
        type: "checkbox",
        checked: this.picked.has(t.id),
        "aria-label": `选择工单 ${t.ticket_no}`,
        onchange: (event) => this.pick(t.id, event.target.checked),
        onkeydown: (event) => event.stopPropagation(),
      }),
    );
  }

  row(t) {
    const assignee = t.assignee ? (t.assignee.id === this.me.id ? `${t.assignee.name}（我）` : t.assignee.name) : null;
    return h(
      "tr",
      {
        class: t.id === this.selected ? "tk-row is-selected" : "tk-row",
        tabindex: "0",
        dataset: { id: t.id, ticketNo: t.ticket_no, status: t.status },
        "aria-selected": t.id === this.selected ? "true" : "false",
        onclick: () => this.onSelect(t.id),
        onkeydown: (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            this.onSelect(t.id);
          }
        },
      },
      this.pickCell(t),
      h("td", { class: "tk-no" }, t.ticket_no, t.channel === "wechat" ? h("span", { class: "tk-chan" }, "微信") : null),
      h("td", {}, t.category_label),
      h("td", {}, h("span", { class: `sev ${SEVERITY_CLS[t.severity] || ""}` }, t.severity_label)),
      customerCell(t),
      h("td", { class: assignee ? "tk-assignee" : "tk-assignee muted" }, assignee || t.team_name || "未分配", assignee && t.team_name ? h("div", { class: "tk-team" }, t.team_name) : null),
      h("td", {}, h("span", { class: `chip-s ${STATUS_CLS[t.status] || ""}` }, label(STATUS, t.status))),
      h("td", { class: "num" }, h("span", { class: "tk-age", dataset: { since: t.created_at }, title: stamp(t.created_at) }, age(serverClock.now() - new Date(t.created_at).getTime()))),
      deadlineCell(t, "ack"),
      deadlineCell(t, "resolve"),
    );
  }

  select(id) {
    this.selected = id;
    for (const row of $$(".tk-row", this.body)) {
      const on = Number(row.dataset.id) === id;
      row.classList.toggle("is-selected", on);
      row.setAttribute("aria-selected", on ? "true" : "false");
    }
  }
}
