// Chinese labels and time formatting for the console.

export const PRESENCE = { online: "在线", away: "离开", offline: "离线" };
export const TIER = { vip: "VIP", gold: "黄金", standard: "标准", basic: "基础" };
export const RISK = { high: "高", medium: "中", low: "低" };
export const VERIFICATION = { none: "未验证", verified: "已验证身份", step_up: "已二次验证" };
export const CHANNEL = { web: "网页", wechat: "微信公众号", rest: "接口" };
export const CONVERSATION_STATUS = { bot: "机器人服务中", queued: "排队中", agent: "人工服务中", closed: "已关闭" };
export const ESCALATION_STATUS = { queued: "排队中", assigned: "已派单", active: "服务中", closed: "已结束" };
export const TOPIC = { general: "综合", vip: "VIP", retention: "挽留", complaints: "投诉", sales: "营销" };
export const ROLE = {
  service_agent: "客服专员",
  sales_agent: "业务员",
  account_manager: "客户经理",
  retention: "客户关怀专员",
  supervisor: "客服主管",
};
export const SENDER = { customer: "客户", bot: "小安", agent: "坐席", system: "系统" };
export const EVENT_KIND = {
  queued: "进入队列",
  offered: "派单",
  offer_expired: "派单超时",
  declined: "拒绝",
  accepted: "接入",
  transferred: "转接",
  resolved: "结束",
  closed: "关闭",
  csat: "满意度",
};

// The bot's slot names as agents know them.
export const SLOT = {
  phone: "手机号",
  policy_number: "保单号",
  policy_no: "保单号",
  id_last4: "证件后四位",
  person_name: "姓名",
  date: "日期",
  amount: "金额",
  product_type: "险种",
  complaint_category: "投诉类别",
  complaint_description: "投诉内容",
  complaint_desired_outcome: "客户诉求",
  desired_outcome: "客户诉求",
  ticket_number: "工单号",
  claim_number: "理赔案件号",
  verified: "身份已验证",
  customer_id: "客户编号",
  requested_slot: "待收集",
  topic: "咨询主题",
  last_intent: "最近意图",
  payment_option: "缴费方案",
  cancel_reason: "退保原因",
};

export const label = (map, key) => (key in map ? map[key] : key ?? "—");

const pad = (n) => String(n).padStart(2, "0");

/** "14:05" today, "昨天 14:05", otherwise "11月3日 14:05". */
export function clock(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const now = new Date();
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const day = (x) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const diff = Math.round((day(now) - day(d)) / 86400000);
  if (diff === 0) return hm;
  if (diff === 1) return `昨天 ${hm}`;
  if (d.getFullYear() === now.getFullYear()) return `${d.getMonth() + 1}月${d.getDate()}日 ${hm}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
}

/** "2026-11-25" (dates come as ISO dates or datetimes). */
export function day(iso) {
  if (!iso) return "—";
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso;
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Seconds → "0:42", "12:05", "1小时05分", "2天3小时". */
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 3600) return `${Math.floor(s / 60)}:${pad(s % 60)}`;
  const hours = Math.floor(s / 3600);
  if (hours < 24) return `${hours}小时${pad(Math.floor((s % 3600) / 60))}分`;
  return `${Math.floor(hours / 24)}天${hours % 24}小时`;
}

/** Seconds since an ISO time (server and browser clocks are assumed close). */
export const since = (iso) => (Date.now() - new Date(iso).getTime()) / 1000;

/** "¥36,800.00" from fen (integer minor units), or the server's yuan text. */
export function money(fen, text) {
  if (typeof fen === "number") {
    const n = fen / 100;
    return `¥${n.toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  }
  return text ? `¥${text}` : "—";
}

/** Priority band: [css class, label]. */
export function priorityBand(points) {
  if (points >= 50) return ["prio-urgent", "紧急"];
  if (points >= 25) return ["prio-high", "高"];
  if (points >= 10) return ["prio-mid", "中"];
  return ["prio-normal", "普通"];
}
