// The supervisor board's complaints panel: backlog, breaches, breach rate and the
// average times to acknowledge and resolve, by team and by category.
import { api } from "./api.js";
import { $, h, replace } from "./dom.js";
import { explainTicket } from "./tickets-format.js";

const DAYS = 30;

/** Hours → "25分钟", "3.5小时", "2.1天" from two days on; "—" without data. */
export function hours(value) {
  if (typeof value !== "number") return "—";
  if (value < 1) return `${Math.round(value * 60)}分钟`;
  if (value >= 48) return `${(value / 24).toFixed(1)}天`;
  return `${value.toFixed(1)}小时`;
}

const percent = (rate) => (typeof rate === "number" ? `${(rate * 100).toFixed(1)}%` : "—");

function rateBar(rate) {
  const value = typeof rate === "number" ? rate : 0;
  const cls = value >= 0.2 ? "bar bar-rate is-full" : value >= 0.05 ? "bar bar-rate is-high" : "bar bar-rate";
  const fill = h("span", {});
  fill.style.width = `${Math.min(100, Math.round(value * 100))}%`;
  return h(
    "div",
    { class: "state" },
    h("div", { class: cls, role: "img", "aria-label": `超时率 ${percent(rate)}` }, fill),
    h("span", { class: "rate-text" }, percent(rate)),
  );
}

function rows(buckets, breaches) {
  const now = new Map(breaches.map((b) => [b.key, b]));
  if (!buckets.length) return h("tr", {}, h("td", { colspan: 7, class: "muted" }, "暂无工单数据"));
  return buckets.map((b) => {
    const open = now.get(b.key);
    const breachedNow = open ? open.tickets : 0;
    return h(
      "tr",
      { dataset: { key: b.key ?? "" } },
      h("td", { class: "team-name" }, b.label),
      h("td", { class: "num" }, String(b.backlog)),
      h("td", { class: breachedNow ? "num is-bad" : "num", title: open ? `受理超时 ${open.ack_breached} · 解决超时 ${open.resolve_breached}` : "" }, String(breachedNow)),
      h("td", { class: "num" }, String(b.opened)),
      h("td", {}, rateBar(b.breach_rate)),
      h("td", { class: "num" }, hours(b.avg_ack_hours)),
      h("td", { class: "num" }, hours(b.avg_resolve_hours)),
    );
  });
}

/** Read /tickets/stats and /tickets/breaches and fill the panel. */
export async function loadTicketBoard() {
  let stats;
  let breaches;
  try {
    [stats, breaches] = await Promise.all([api(`/tickets/stats?days=${DAYS}`), api("/tickets/breaches")]);
  } catch (error) {
    replace($("#tk-board-note"), explainTicket(error, "投诉统计加载失败"));
    return;
  }
  const all = stats.overall;
  $("#tk-kpi-backlog").textContent = String(all.backlog);
  const breached = $("#tk-kpi-breached");
  breached.textContent = String(breaches.total);
  breached.classList.toggle("is-bad", breaches.total > 0);
  $("#tk-kpi-breached-note").textContent = `受理超时 ${breaches.ack_breached} · 解决超时 ${breaches.resolve_breached}`;
  const rate = $("#tk-kpi-rate");
  rate.textContent = percent(all.breach_rate);
  rate.classList.toggle("is-bad", (all.breach_rate || 0) >= 0.2);
  $("#tk-kpi-rate-note").textContent = `近${DAYS}天新增 ${all.opened} 张，超时 ${all.breached} 张`;
  $("#tk-kpi-ack").textContent = hours(all.avg_ack_hours);
  $("#tk-kpi-resolve").textContent = hours(all.avg_resolve_hours);
  replace($("#tk-by-team"), rows(stats.by_team, breaches.by_team));
  replace($("#tk-by-category"), rows(stats.by_category, breaches.by_category));
  replace($("#tk-board-note"), `近${DAYS}天新增工单的超时率与平均时长；积压与当前超时为此刻未结的工单`);
}
