// The right pane: the hand-off brief and the customer's picture.
import { api } from "./api.js";
import { dl, empty, h, replace } from "./dom.js";
import {
  CHANNEL,
  clock,
  day,
  EVENT_KIND,
  label,
  money,
  PRESENCE,
  priorityBand,
  RISK,
  SLOT,
  TIER,
  VERIFICATION,
} from "./format.js";

const $id = (id) => document.getElementById(id);

function chip(text, cls = "") {
  return h("span", { class: `chip-s ${cls}`.trim() }, text);
}

function slotValue(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return value ? "是" : "否";
  if (Array.isArray(value)) return value.map(slotValue).join("、");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function reasonsList(reasons, { signed = true } = {}) {
  if (!reasons || !reasons.length) return null;
  return h(
    "ul",
    { class: "reasons" },
    reasons.map((r) => {
      const text = typeof r === "string" ? r : r.label || r.code;
      const points = typeof r === "object" && typeof r.points === "number" ? r.points : null;
      return h(
        "li",
        {},
        h("span", {}, text),
        points !== null && signed ? h("span", { class: points < 0 ? "pts pts-neg" : "pts" }, `${points > 0 ? "+" : ""}${points}`) : null,
      );
    }),
  );
}

// --- the brief ---------------------------------------------------------------

export function renderBrief(brief, conversation) {
  const body = $id("brief-body");
  const [band, bandText] = priorityBand(brief.priority);
  const verification = brief.verification_level || (conversation && conversation.verification_level);
  const verifiedCls = verification && verification !== "none" ? "chip-ok" : "chip-warn";
  const head = h(
    "div",
    { class: "brief-head" },
    chip(brief.trigger_label || brief.trigger, "chip-trigger"),
    h("span", { class: `prio ${band}` }, `${bandText} ${brief.priority}`),
    chip(label(VERIFICATION, verification), verifiedCls),
  );
  const parts = [head];
  if (brief.reason) parts.push(h("p", { class: "brief-reason" }, brief.reason));

  const reasons = reasonsList(brief.priority_reasons);
  if (reasons) parts.push(h("h4", { class: "sub" }, "优先级因素"), reasons);

  const slots = Object.entries(brief.slots || {}).filter(([key]) => !key.startsWith("_") && key !== "callback_due_at");
  parts.push(h("h4", { class: "sub" }, "机器人已收集"));
  parts.push(slots.length ? dl(slots.map(([k, v]) => [label(SLOT, k), slotValue(v)])) : empty("机器人未收集到信息"));

  const routeRows = [
    ["渠道", conversation ? label(CHANNEL, conversation.channel) : null],
    ["专属人员", brief.target_agent ? `${brief.target_agent.name}（${brief.target_agent.employee_no}）` : null],
    ["派单给", brief.offered_agent ? `${brief.offered_agent.name}（${brief.offered_agent.employee_no}）` : null],
    ["目标团队", brief.target_team ? brief.target_team.name : null],
    ["接待坐席", brief.assigned_agent ? `${brief.assigned_agent.name}（${brief.assigned_agent.employee_no}）` : null],
    ["进入队列", clock(brief.queued_at)],
    ["等待时长", typeof brief.waiting_minutes === "number" ? `${brief.waiting_minutes} 分钟` : null],
    ["承诺回电", brief.callback_due_at ? clock(brief.callback_due_at) : null],
  ];
  parts.push(h("h4", { class: "sub" }, "路由"), dl(routeRows));

  if (brief.events && brief.events.length) {
    parts.push(
      h(
        "details",
        { class: "events" },
        h("summary", {}, `处理记录（${brief.events.length}）`),
        h(
          "ol",
          { class: "timeline" },
          brief.events.map((e) =>
            h(
              "li",
              {},
              h("span", { class: "tl-kind" }, label(EVENT_KIND, e.kind)),
              h("time", {}, clock(e.created_at)),
              e.note ? h("div", { class: "tl-note" }, e.note) : null,
            ),
          ),
        ),
      ),
    );
  }
  replace(body, parts);
}

// --- the customer's picture ------------------------------------------------------

/** The customer's picture: from the brief (``customer``), or, from a CRM whose brief
 * does not carry it, read part by part through the agent API. */
export async function loadPicture(brief) {
  if (!brief.customer_id) return { unknown: true };
  const picture = brief.customer;
  if (picture) {
    const agent = picture.servicing_agent ? picture.servicing_agent.agent : null;
    return {
      profile: { ...picture.summary, score: picture.score, servicing_agent: agent },
      policies: picture.policies,
      bills: picture.bills,
      claims: picture.claims,
      complaints: picture.complaints,
    };
  }
  if (picture === null) return { unknown: true };
  const id = brief.customer_id;
  const get = (path) => api(path).catch(() => null);
  const [profile, policies, bills, claims] = await Promise.all([
    get(`/customers/${id}`),
    get(`/customers/${id}/policies`),
    get(`/customers/${id}/bills`),
    get(`/customers/${id}/claims`),
  ]);
  return {
    profile,
    policies: policies && policies.items,
    bills,
    claims: claims && claims.items,
    complaints: null,
  };
}

function riskCls(risk) {
  return { high: "chip-danger", medium: "chip-warn", low: "chip-ok" }[risk] || "";
}

function tierCls(tier) {
  return { vip: "chip-vip", gold: "chip-gold" }[tier] || "";
}

export function renderPicture(picture) {
  const customer = $id("customer-body");
  if (picture.unknown) {
    replace(customer, empty("客户尚未验证身份，暂无客户信息。可引导客户提供手机号和证件后四位。"));
    for (const part of ["policies", "bills", "claims", "complaints"]) replace($id(`${part}-body`), empty("—"));
    for (const part of ["policies", "claims", "complaints"]) $id(`${part}-count`).textContent = "";
    return;
  }
  renderCustomer(customer, picture.profile);
  renderPolicies(picture.policies);
  renderBills(picture.bills);
  renderClaims(picture.claims);
  renderComplaints(picture.complaints);
}

function renderCustomer(root, p) {
  if (!p) {
    replace(root, empty("客户信息加载失败"));
    return;
  }
  const score = p.score || {};
  const tier = score.value_tier || p.value_tier;
  const risk = score.churn_risk || p.churn_risk;
  const agent = p.servicing_agent;
  const parts = [
    h(
      "div",
      { class: "cust-head" },
      h("div", { class: "cust-avatar", "aria-hidden": "true" }, (p.name || "客")[0]),
      h(
        "div",
        { class: "cust-id" },
        h("div", { class: "cust-name" }, p.name || "—", tier ? chip(`${label(TIER, tier)}客户`, tierCls(tier)) : null),
        h("div", { class: "cust-meta" }, [p.customer_no, p.gender === "female" ? "女" : p.gender === "male" ? "男" : null, p.age ? `${p.age}岁` : null, p.city || p.region].filter(Boolean).join(" · ")),
      ),
    ),
    dl([
      ["手机", p.phone || p.phone_masked],
      ["证件", p.id_number_masked],
      ["职业", p.occupation],
      ["学历", p.education],
      ["微信", p.wechat_bound === undefined ? null : p.wechat_bound ? "已绑定" : "未绑定"],
      ["年缴保费", typeof score.annual_premium_fen === "number" ? money(score.annual_premium_fen) : null],
    ]),
  ];
  parts.push(
    h(
      "div",
      { class: "score-row" },
      h("div", { class: "score" }, h("span", { class: "score-label" }, "客户价值"), h("span", { class: "score-value" }, tier ? label(TIER, tier) : "—"), typeof score.value_score === "number" ? h("span", { class: "score-pts" }, `${score.value_score} 分`) : null),
      h("div", { class: `score score-risk-${risk || "low"}` }, h("span", { class: "score-label" }, "流失风险"), h("span", { class: "score-value" }, risk ? label(RISK, risk) : "—"), typeof score.churn_score === "number" ? h("span", { class: "score-pts" }, `${score.churn_score} 分`) : null),
    ),
  );
  const churn = reasonsList(score.churn_reasons);
  parts.push(h("h4", { class: "sub" }, "流失风险原因"), churn || empty("暂无流失信号"));
  const value = reasonsList(score.value_reasons);
  if (value) parts.push(h("details", { class: "value-reasons" }, h("summary", {}, "价值评分依据"), value));
  parts.push(h("h4", { class: "sub" }, "服务人员"));
  if (agent) {
    parts.push(
      h(
        "div",
        { class: agent.departed ? "svc-agent is-departed" : "svc-agent" },
        h("span", { class: `dot dot-${agent.presence || "offline"}`, title: label(PRESENCE, agent.presence) }),
        h("span", { class: "svc-name" }, `${agent.name}（${agent.employee_no}）`),
        h("span", { class: "svc-role" }, [agent.role_label, agent.team_name].filter(Boolean).join(" · ")),
        agent.departed ? chip("已离职", "chip-danger") : chip(label(PRESENCE, agent.presence), ""),
        agent.work_phone ? h("div", { class: "svc-phone" }, `工作电话 ${agent.work_phone}`) : null,
      ),
    );
  } else {
    parts.push(empty("未分配服务人员"));
  }
  replace(root, parts);
}

const POLICY_STATUS_CLS = { in_force: "chip-ok", grace: "chip-warn", lapsed: "chip-danger", surrendered: "", matured: "" };

function renderPolicies(items) {
  const root = $id("policies-body");
  $id("policies-count").textContent = Array.isArray(items) ? String(items.length) : "";
  if (!Array.isArray(items)) return replace(root, empty("保单信息加载失败"));
  if (!items.length) return replace(root, empty("没有保单"));
  replace(
    root,
    items.map((p) =>
      h(
        "div",
        { class: "item" },
        h("div", { class: "item-top" }, h("span", { class: "item-title" }, p.product_name), chip(p.status_label || p.status, POLICY_STATUS_CLS[p.status] || "")),
        h("div", { class: "item-meta" }, [p.policy_no, p.product_type_label, p.customer_role_label].filter(Boolean).join(" · ")),
        dl(
          [
            ["保额", money(p.sum_assured_fen, p.sum_assured_yuan)],
            ["保费", `${money(p.premium_fen, p.premium_yuan)} / ${p.payment_frequency_label || ""}`],
            ["生效", day(p.start_date)],
            ["缴至", p.paid_to_date ? day(p.paid_to_date) : null],
            ["现金价值", p.cash_value_fen ? money(p.cash_value_fen, p.cash_value_yuan) : null],
          ],
          "kv kv-compact",
        ),
        h(
          "div",
          { class: "item-flags" },
          p.within_hesitation_period ? chip(`犹豫期至 ${day(p.hesitation_end_date)}`, "chip-info") : null,
          p.within_grace_period ? chip(`宽限期剩 ${p.grace_days_left} 天`, "chip-warn") : null,
          p.arrears_since ? chip(`欠费自 ${day(p.arrears_since)}`, "chip-danger") : null,
        ),
      ),
    ),
  );
}

function renderBills(bills) {
  const root = $id("bills-body");
  if (!bills) return replace(root, empty("缴费信息加载失败"));
  const arrears = bills.arrears_fen || 0;
  const parts = [
    h(
      "div",
      { class: arrears > 0 ? "arrears is-owing" : "arrears" },
      h("span", { class: "arrears-label" }, arrears > 0 ? "欠费合计" : "欠费"),
      h("span", { class: "arrears-value" }, arrears > 0 ? money(arrears, bills.arrears_yuan) : "无欠费"),
      arrears > 0 ? h("span", { class: "arrears-note" }, `${bills.arrears_count} 期 · 自 ${day(bills.arrears_since)}`) : null,
    ),
  ];
  if (bills.next_bill) {
    const b = bills.next_bill;
    parts.push(dl([["下期应缴", `${money(b.amount_fen, b.amount_yuan)}（${day(b.due_date)}）`], ["保单", b.policy_no], ["状态", b.status_label || b.status]]));
  }
  const owing = (bills.policies || []).filter((p) => p.arrears_fen > 0);
  for (const p of owing) {
    parts.push(
      h(
        "div",
        { class: "item item-owing" },
        h("div", { class: "item-top" }, h("span", { class: "item-title" }, p.product_name), chip(`欠 ${money(p.arrears_fen, p.arrears_yuan)}`, "chip-danger")),
        h("div", { class: "item-meta" }, [p.policy_no, p.within_grace_period ? `宽限期剩 ${p.grace_days_left} 天（至 ${day(p.grace_end_date)}）` : null, p.debit_bank ? `${p.debit_bank} ${p.debit_account_masked || ""}` : null].filter(Boolean).join(" · ")),
      ),
    );
  }
  replace(root, parts);
}

const CLAIM_CLS = { paid: "chip-ok", approved: "chip-ok", rejected: "chip-danger", documents_pending: "chip-warn", under_review: "chip-info", reported: "chip-info" };

function renderClaims(items) {
  const root = $id("claims-body");
  $id("claims-count").textContent = Array.isArray(items) ? String(items.length) : "";
  if (!Array.isArray(items)) return replace(root, empty("理赔信息加载失败"));
  if (!items.length) return replace(root, empty("没有理赔记录"));
  replace(
    root,
    items.map((c) =>
      h(
        "div",
        { class: c.is_open ? "item item-open" : "item" },
        h("div", { class: "item-top" }, h("span", { class: "item-title" }, `${c.type_label || c.type} · ${c.claim_no}`), chip(c.status_label || c.status, CLAIM_CLS[c.status] || "")),
        h("div", { class: "item-meta" }, [c.product_name, `出险 ${day(c.incident_date)}`].filter(Boolean).join(" · ")),
        dl(
          [
            ["申请金额", money(c.amount_claimed_fen, c.amount_claimed_yuan)],
            ["已赔付", c.amount_paid_fen ? money(c.amount_paid_fen, c.amount_paid_yuan) : null],
            ["待补材料", c.pending_documents],
            ["结论", c.decision_reason],
          ],
          "kv kv-compact",
        ),
      ),
    ),
  );
}

const TICKET_CLS = { received: "chip-warn", acknowledged: "chip-info", investigating: "chip-info", resolved: "chip-ok", closed: "" };

function renderComplaints(items) {
  const root = $id("complaints-body");
  const list = Array.isArray(items) ? items : items && items.items;
  $id("complaints-count").textContent = Array.isArray(list) ? String(list.length) : "";
  if (!Array.isArray(list)) return replace(root, empty("投诉信息暂不可用"));
  if (!list.length) return replace(root, empty("没有投诉记录"));
  const now = Date.now();
  replace(
    root,
    list.map((t) => {
      const open = ["received", "acknowledged", "investigating"].includes(t.status);
      const overdue = open && t.resolve_due_at && new Date(t.resolve_due_at).getTime() < now;
      return h(
        "div",
        { class: open ? "item item-open" : "item" },
        h("div", { class: "item-top" }, h("span", { class: "item-title" }, `${t.category_label || t.category} · ${t.ticket_no}`), chip(t.status_label || t.status, TICKET_CLS[t.status] || "")),
        h("div", { class: "item-meta" }, [t.severity_label ? `严重程度 ${t.severity_label}` : null, `登记 ${day(t.created_at)}`].filter(Boolean).join(" · ")),
        open
          ? dl(
              [
                ["受理时限", clock(t.ack_due_at)],
                ["办结时限", clock(t.resolve_due_at)],
              ],
              "kv kv-compact",
            )
          : null,
        overdue ? chip("已超办结时限", "chip-danger") : null,
      );
    }),
  );
}
