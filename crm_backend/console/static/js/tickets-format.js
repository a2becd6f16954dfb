// Complaint tickets: Chinese labels, SLA countdowns, yuan → fen, and API errors.
import { ApiError, explain } from "./api.js";

export const OPEN = ["received", "acknowledged", "investigating"];
// The desk's words for a status (pages.py's TICKET_STATUS_LABELS; the customer is
// told "已受理" on receipt, the desk sees the ticket still waiting).
export const STATUS = { received: "待受理", acknowledged: "已受理", investigating: "处理中", resolved: "已解决", closed: "已关闭" };
export const STATUS_CLS = { received: "chip-warn", acknowledged: "chip-info", investigating: "chip-info", resolved: "chip-ok", closed: "" };
export const SEVERITY_CLS = { critical: "sev-critical", high: "sev-high", medium: "sev-medium", low: "sev-low" };
export const REMEDY = { refund: "退款", correction: "更正", apology: "致歉", rejected: "不予支持" };

// What each log entry was, for the agent's eyes.
export const TICKET_EVENT = {
  received: "登记投诉",
  acknowledged: "确认受理",
  investigating: "开始处理",
  resolved: "解决",
  closed: "关闭",
  reopened: "重新打开",
  note: "备注",
  update: "告知客户进展",
  info_requested: "请客户补充信息",
  proposed: "提出处理方案",
  assigned: "指派",
  breached: "超时",
  escalated: "超时上报",
};

const pad = (n) => String(n).padStart(2, "0");

/** A span of time: "12:05" under an hour (it visibly ticks), "3小时05分", "2天3小时". */
export function span(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 3600) return `${pad(Math.floor(s / 60))}:${pad(s % 60)}`;
  const hours = Math.floor(s / 3600);
  if (hours < 24) return `${hours}小时${pad(Math.floor((s % 3600) / 60))}分`;
  return `${Math.floor(hours / 24)}天${hours % 24}小时`;
}

/** How old a ticket is: "刚刚", "12分钟", "3小时05分", "2天3小时". */
export function age(ms) {
  const minutes = Math.floor(Math.max(0, ms) / 60000);
  if (minutes < 1) return "刚刚";
  if (minutes < 60) return `${minutes}分钟`;
  return span(ms);
}

/** The server's clock as this page sees it: countdowns follow the CRM, not the PC. */
export const serverClock = {
  skew: 0,
  sync(asOf) {
    if (asOf) this.skew = new Date(asOf).getTime() - Date.now();
  },
  now() {
    return Date.now() + this.skew;
  },
};

/** The "breaching soon" windows in ms (the list answer says how long they are). */
export const windows = { ack: 4 * 3600e3, resolve: 48 * 3600e3 };

/** One deadline's state: [css class, text]; ``kind`` is "ack" or "resolve". */
export function deadlineState(ticket, kind) {
  const due = new Date(ticket[`${kind}_due_at`]).getTime();
  const breached = ticket[`${kind}_breached`];
  const doneAt = kind === "ack" ? ticket.acknowledged_at : ticket.resolved_at;
  const running = kind === "ack" ? ticket.status === "received" : OPEN.includes(ticket.status);
  if (!running) {
    if (kind === "ack" && !doneAt && !OPEN.includes(ticket.status)) return ["cd-done", "—"];
    const late = breached || (doneAt && new Date(doneAt).getTime() > due);
    const verb = kind === "ack" ? "受理" : "解决";
    if (!doneAt) return ["cd-done", kind === "resolve" ? "已关闭" : `已${verb}`];
    return late ? ["cd-late", `超时${verb}`] : ["cd-done", `已${verb}`];
  }
  const left = due - serverClock.now();
  if (left <= 0 || breached) return ["cd-breached", `已超时 ${span(-left)}`];
  if (left <= windows[kind]) return ["cd-soon", `剩 ${span(left)}`];
  return ["cd-ok", `剩 ${span(left)}`];
}

/** "11月26日 14:00" (deadlines are days away: the date always shows). */
export function stamp(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return `${d.getMonth() + 1}月${d.getDate()}日 ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "128.50" (yuan) → 12850 fen; null when it is not a positive amount. */
export function yuanToFen(text) {
  const match = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text || "");
  if (!match) return null;
  const fen = Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0"));
  return fen > 0 ? fen : null;
}

const CODES = {
  refund_amount: "请填写退款金额",
  reject_reason: "请填写不予支持的理由",
  nothing_to_assign: "请选择坐席或团队",
  agent_not_found: "所选坐席不存在或已离职",
  team_not_found: "所选团队不存在",
  policy_mismatch: "保单不属于该客户",
};

const REFUSALS = {
  forbidden: "无权处理",
  not_found: "工单不存在",
  invalid_transition: "当前状态不能执行此操作",
};

/** Why a bulk verb left one ticket alone, in a few Chinese words. */
export function explainRefusal(code) {
  return REFUSALS[code] || CODES[code] || "未能处理";
}

/** A Chinese sentence for a failed ticket call (403: 无权处理该工单). */
export function explainTicket(error, fallback = "操作失败，请稍后重试") {
  if (!(error instanceof ApiError)) return explain(error, fallback);
  const detail = (error.body && error.body.error) || {};
  if (error.status === 403) return "无权处理该工单";
  if (error.status === 404) return "工单不存在或已被删除";
  if (error.code === "invalid_transition") {
    const now = STATUS[detail.status] || detail.status_label;
    return now ? `工单当前为「${now}」，不能执行此操作，请刷新后重试` : "工单状态已变化，请刷新后重试";
  }
  if (error.code && CODES[error.code]) return CODES[error.code];
  return explain(error, fallback);
}
