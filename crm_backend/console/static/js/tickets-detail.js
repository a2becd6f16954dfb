// The ticket detail pane: the complaint, deadlines, the verbs valid in its status,
// the customer's picture, the originating chat and the event log. Text only.
import { api } from "./api.js";
import { dl, empty, h, replace } from "./dom.js";
import { CHANNEL, clock, label, money, PRESENCE, RISK, TIER } from "./format.js";
import { countdown } from "./tickets-table.js";
import { explainTicket, OPEN, REMEDY, SEVERITY_CLS, stamp, STATUS, STATUS_CLS, TICKET_EVENT } from "./tickets-format.js";
import { Transcript } from "./transcript.js";

const WORKED = ["acknowledged", "investigating"];
const EVERY = [...OPEN, "resolved", "closed"];

// Each verb: its button, the statuses it is valid in, and how it is asked for.
export const VERBS = [
  { key: "acknowledge", text: "确认受理", when: ["received"], cls: "btn-primary" },
  { key: "investigate", text: "开始处理", when: ["acknowledged"] },
  { key: "resolve", text: "解决", when: WORKED, cls: "btn-primary" },
  { key: "update", text: "告知客户进展", when: WORKED },
  { key: "request-info", text: "请客户补充信息", when: WORKED },
  { key: "propose", text: "提出处理方案", when: WORKED },
  { key: "close", text: "关闭", when: ["resolved"], cls: "btn-primary" },
  { key: "reopen", text: "重新打开", when: ["resolved", "closed"] },
  { key: "assign", text: "指派/转派", when: [...OPEN, "resolved"] },
  { key: "notes", text: "添加内部备注", when: EVERY, cls: "btn-ghost" },
];

const card = (title, ...body) => h("section", { class: "card tk-card" }, h("h3", { class: "card-title" }, title), h("div", { class: "card-body" }, body));
const chip = (text, cls = "") => h("span", { class: `chip-s ${cls}`.trim() }, text);
const who = (agent) => (agent ? `${agent.name}（${agent.employee_no}）` : "系统");

function deadlines(t) {
  const box = (title, kind) =>
    h("div", { class: "tk-sla" }, h("span", { class: "tk-sla-label" }, title), countdown(t, kind), h("span", { class: "tk-sla-at" }, stamp(t[`${kind}_due_at`])));
  return h("div", { class: "tk-slas" }, box("受理截止", "ack"), box("解决截止", "resolve"));
}

function actions(t, onVerb) {
  const shown = VERBS.filter((v) => v.when.includes(t.status));
  return h(
    "div",
    { class: "tk-actions", role: "toolbar", "aria-label": "工单操作" },
    shown.map((v) =>
      h(
        "button",
        { type: "button", class: `btn btn-sm ${v.cls || ""}`.trim(), dataset: { verb: v.key }, onclick: (event) => onVerb(v, event.currentTarget) },
        v.key === "assign" ? (t.assignee ? "转派" : "指派") : v.text,
      ),
    ),
  );
}

function remedyText(t) {
  if (!t.remedy) return null;
  if (t.remedy === "refund") return `退款 ${money(t.refund_fen)}`;
  if (t.remedy === "rejected") return `不予支持：${t.remedy_reason || "—"}`;
  return label(REMEDY, t.remedy);
}

function complaint(t) {
  const parts = [h("div", { class: "tk-desc" }, t.description)];
  parts.push(
    dl([
      ["客户诉求", t.desired_outcome],
      ["关联保单", t.policy_no || "未关联保单"],
      ["渠道", label(CHANNEL, t.channel)],
      ["登记时间", stamp(t.created_at)],
      ["处理人", t.assignee ? who(t.assignee) : "未指派"],
      ["所属团队", t.team_name],
    ]),
  );
  if (t.priority_reasons && t.priority_reasons.length) {
    parts.push(h("h4", { class: "sub" }, `优先级 ${t.priority} 分`), h("ul", { class: "reasons" }, t.priority_reasons.map((r) => h("li", {}, h("span", {}, r)))));
  }
  return card("投诉内容", parts);
}

function resolution(t) {
  const rows = [
    ["处理方案", t.proposal],
    ["处理结果", t.outcome],
    ["补救方式", remedyText(t)],
    ["解决时间", t.resolved_at ? stamp(t.resolved_at) : null],
  ];
  if (!rows.some(([, v]) => v)) return null;
  return card("处理方案与结果", dl(rows));
}

function eventLine(e) {
  const internal = !e.customer_visible;
  let title = label(TICKET_EVENT, e.kind);
  if (e.kind === "note") title = internal ? "内部备注" : "备注（客户可见）";
  let note = e.note;
  if (e.kind === "assigned") {
    const to = [e.assigned_agent ? who(e.assigned_agent) : null, e.assigned_team].filter(Boolean).join(" · ");
    title = `指派给 ${to || "—"}`;
    note = e.assign_note;
  }
  return h(
    "li",
    { class: internal ? "tk-ev is-internal" : "tk-ev", dataset: { kind: e.kind } },
    h("div", { class: "tk-ev-head" }, h("span", { class: "tl-kind" }, title), internal ? chip("内部", "chip-note") : null, h("span", { class: "tk-ev-who" }, who(e.actor)), h("time", { datetime: e.created_at, title: e.created_at }, clock(e.created_at))),
    note ? h("div", { class: "tl-note" }, note) : null,
  );
}

function log(t) {
  const items = [...(t.events || [])].reverse();
  return card(`处理记录（${items.length}）`, items.length ? h("ol", { class: "timeline tk-log" }, items.map(eventLine)) : empty("暂无处理记录"));
}

const profiles = new Map(); // customer id → the last profile read (no flash on redraw)

/** The customer's picture: tier, churn risk with its reasons, the servicing agent. */
async function customer(t, root) {
  if (profiles.has(t.customer_id)) paintCustomer(t, root, profiles.get(t.customer_id));
  let p;
  try {
    p = await api(`/customers/${t.customer_id}`);
  } catch (error) {
    replace(root, empty(explainTicket(error, "客户信息加载失败")));
    return;
  }
  profiles.set(t.customer_id, p);
  paintCustomer(t, root, p);
}

function paintCustomer(t, root, p) {
  const score = p.score || {};
  const agent = p.servicing_agent && (p.servicing_agent.agent || p.servicing_agent);
  const reasons = (score.churn_reasons || []).map((r) => (typeof r === "string" ? r : r.label || r.code));
  replace(
    root,
    h("div", { class: "tk-cust-head" }, h("span", { class: "tk-cust-big" }, p.name), score.value_tier ? chip(`${label(TIER, score.value_tier)}客户`, { vip: "chip-vip", gold: "chip-gold" }[score.value_tier] || "") : null, score.churn_risk ? chip(`流失风险${label(RISK, score.churn_risk)}`, { high: "chip-danger", medium: "chip-warn" }[score.churn_risk] || "chip-ok") : null),
    dl([
      ["客户号", p.customer_no],
      ["手机", t.customer_phone_masked],
      ["证件", p.id_number_masked],
      ["地区", [p.region, p.city].filter(Boolean).join(" ")],
      ["服务人员", agent && agent.name ? `${agent.name}${agent.employee_no ? `（${agent.employee_no}）` : ""} · ${label(PRESENCE, agent.presence)}` : "未分配"],
    ]),
    reasons.length ? [h("h4", { class: "sub" }, "流失风险原因"), h("ul", { class: "reasons" }, reasons.map((r) => h("li", {}, h("span", {}, r))))] : null,
  );
}

/** The originating conversation, shown with the workspace's transcript on demand. */
function conversation(t, ctx) {
  if (!t.conversation_id) return card("来源会话", empty("该投诉不是从在线会话登记的"));
  const log = h("div", { class: "transcript tk-transcript", role: "log", "aria-label": "聊天记录", hidden: true });
  const below = h("button", { type: "button", class: "new-below", hidden: true }, "有新消息 ↓");
  const button = h("button", { type: "button", class: "btn btn-sm", id: "tk-show-chat", "aria-expanded": "false" }, "查看聊天记录");
  button.addEventListener("click", async () => {
    const open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", open ? "false" : "true");
    button.textContent = open ? "查看聊天记录" : "收起聊天记录";
    log.hidden = open;
    if (open) ctx.chatOpen.delete(t.id);
    else ctx.chatOpen.add(t.id);
    if (open || log.dataset.loaded) return;
    log.dataset.loaded = "true";
    const transcript = new Transcript({ root: log, newBelow: below, agentId: ctx.me.id, agentName: ctx.me.name });
    transcript.reset({ customerName: t.customer_name, names: ctx.names });
    try {
      for (let after = 0; ; ) {
        const page = await api(`/conversations/${t.conversation_id}/messages?limit=100${after ? `&after_id=${after}` : ""}`);
        transcript.add(page.items, { initial: true });
        if (page.items.length < 100 || !page.next_after_id) break;
        after = page.next_after_id;
      }
      if (!transcript.ids.size) replace(log, empty("该会话没有消息"));
    } catch (error) {
      replace(log, empty(explainTicket(error, "聊天记录加载失败")));
    }
  });
  // a redraw (after a verb or a hint) keeps the transcript open
  if (ctx.chatOpen.has(t.id)) queueMicrotask(() => button.click());
  return card("来源会话", h("div", { class: "tk-conv" }, h("span", {}, `会话 #${t.conversation_id}`), button), h("div", { class: "tk-transcript-box" }, log, below));
}

/** Render ticket ``t`` into ``root``; ``onVerb(verb, button)`` runs a button's verb. */
export function renderDetail(root, t, ctx) {
  const head = h(
    "header",
    { class: "tk-head" },
    h("div", { class: "tk-title" }, h("h2", { id: "tk-title-no" }, t.ticket_no), chip(label(STATUS, t.status), STATUS_CLS[t.status] || ""), h("span", { class: `sev ${SEVERITY_CLS[t.severity] || ""}` }, `${t.severity_label}`), h("span", { class: "tk-cat" }, t.category_label)),
    h("div", { class: "tk-sub" }, `${t.customer_name} · ${t.customer_phone_masked || "—"}`),
  );
  const custBody = h("div", { class: "card-body" }, profiles.has(t.customer_id) ? null : empty("加载中…"));
  const custCard = h("section", { class: "card tk-card" }, h("h3", { class: "card-title" }, "客户全景"), custBody);
  replace(root, head, deadlines(t), actions(t, ctx.onVerb), complaint(t), resolution(t), custCard, conversation(t, ctx), log(t));
  customer(t, custBody);
}

/** The pane's answer when the ticket cannot be shown (403: 无权处理该工单). */
export function renderRefusal(root, text, forbidden = false) {
  const why = forbidden ? "该工单属于其他团队或已转出，您不能查看或处理。" : "请刷新列表后重试。";
  replace(root, h("div", { class: "tk-refused", role: "alert" }, h("h2", {}, text), h("p", { class: "muted" }, why)));
}
