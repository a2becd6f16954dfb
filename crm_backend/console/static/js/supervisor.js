// Supervisor board: every team's queue, every agent's presence and load; live.
import { api, ApiError } from "./api.js";
import { $, $$, h, replace, toast } from "./dom.js";
import { clock, duration, label, PRESENCE, ROLE } from "./format.js";
import { Live } from "./live.js";
import { initShell, LIVE_FORBIDDEN_TEXT, setLiveState } from "./shell.js";
import { loadTicketBoard } from "./tickets-stats.js";

const state = { teams: [], agents: [], filter: "all", liveOpen: false, fetchedAt: Date.now() };

const num = (value) => (typeof value === "number" && !Number.isNaN(value) ? value : 0);

/** Seconds the oldest escalation of a queue had waited when the server answered. */
function oldestSeconds(queue, generatedAt) {
  if (!queue.oldest_queued_at) return null;
  return Math.max(0, (generatedAt - new Date(queue.oldest_queued_at).getTime()) / 1000);
}

async function load() {
  let data;
  try {
    data = await api("/console/overview");
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      location.reload();
      return;
    }
    toast("看板刷新失败，稍后自动重试", "error");
    return;
  }
  const generatedAt = data.generated_at ? new Date(data.generated_at).getTime() : Date.now();
  state.fetchedAt = Date.now();
  state.teams = data.queues.map((q) => ({
    id: q.team_id,
    name: q.team_name,
    waiting: num(q.waiting),
    offered: num(q.offered),
    callbacks: num(q.callbacks),
    active: num(q.active),
    online: num(q.online_agents),
    oldest: oldestSeconds(q, generatedAt),
  }));
  state.agents = data.agents;
  render();
}

function teamStats(team) {
  const members = state.agents.filter((a) => a.team_id === team.id);
  const online = members.filter((a) => a.presence === "online");
  return {
    online: team.online,
    members: members.length,
    load: online.reduce((s, a) => s + num(a.load), 0),
    capacity: online.reduce((s, a) => s + num(a.capacity), 0),
  };
}

function bar(load, capacity) {
  const ratio = capacity ? Math.min(1, load / capacity) : load ? 1 : 0;
  const cls = ratio >= 1 ? "bar is-full" : ratio >= 0.75 ? "bar is-high" : "bar";
  const fill = h("span", {});
  fill.style.width = `${Math.round(ratio * 100)}%`;
  return h("div", { class: cls, role: "img", "aria-label": `负荷 ${load}/${capacity}` }, fill);
}

function render() {
  renderKpis();
  renderTeams();
  renderAgents();
  $("#updated-at").textContent = `更新于 ${clock(new Date(state.fetchedAt).toISOString())}`;
}

function renderKpis() {
  const waiting = state.teams.reduce((s, t) => s + t.waiting, 0);
  const offered = state.teams.reduce((s, t) => s + t.offered, 0);
  const oldest = Math.max(0, ...state.teams.map((t) => t.oldest ?? 0));
  const active = state.agents;
  const online = active.filter((a) => a.presence === "online");
  const load = online.reduce((s, a) => s + num(a.load), 0);
  const capacity = online.reduce((s, a) => s + num(a.capacity), 0);
  $("#kpi-waiting").textContent = String(waiting);
  $("#kpi-waiting").classList.toggle("is-bad", waiting > 0 && online.length === 0);
  const oldestEl = $("#kpi-oldest");
  oldestEl.textContent = waiting ? duration(oldest + (Date.now() - state.fetchedAt) / 1000) : "—";
  oldestEl.dataset.base = waiting ? String(oldest) : "";
  oldestEl.classList.toggle("is-bad", waiting > 0 && oldest >= 600);
  $("#kpi-offered").textContent = String(offered);
  $("#kpi-online").textContent = `${online.length}`;
  $("#kpi-online-note").textContent = `在线 / 在岗 ${active.length} 人`;
  $("#kpi-load").textContent = `${load}/${capacity}`;
}

function renderTeams() {
  const rows = state.teams.map((team) => {
    const stats = teamStats(team);
    const oldest = team.oldest;
    const ageCls = oldest === null ? "" : oldest >= 600 ? "is-bad" : oldest >= 180 ? "is-warn" : "";
    const oldestCell = h("td", { class: `num wait ${ageCls}`.trim() }, team.waiting && oldest !== null ? duration(oldest) : "—");
    if (team.waiting && oldest !== null) oldestCell.dataset.base = String(oldest);
    return h(
      "tr",
      { dataset: { teamId: team.id } },
      h("td", { class: "team-name" }, team.name),
      h("td", { class: team.waiting ? "num is-warn" : "num" }, String(team.waiting)),
      oldestCell,
      h("td", { class: "num" }, String(team.offered)),
      h("td", { class: team.callbacks ? "num is-warn" : "num" }, String(team.callbacks)),
      h("td", { class: "num" }, String(team.active)),
      h("td", { class: stats.online ? "num" : "num is-bad" }, `${stats.online} / ${stats.members}`),
      h("td", {}, h("div", { class: "state" }, bar(stats.load, stats.capacity), h("span", {}, `${stats.load}/${stats.capacity}`))),
    );
  });
  replace($("#teams-body"), rows.length ? rows : h("tr", {}, h("td", { colspan: 8, class: "muted" }, "没有团队数据")));
}

const PRESENCE_ORDER = { online: 0, away: 1, offline: 2 };

function renderAgents() {
  const shown = state.agents
    .filter((a) => state.filter === "all" || a.presence === state.filter)
    .sort(
      (a, b) =>
        (PRESENCE_ORDER[a.presence] ?? 3) - (PRESENCE_ORDER[b.presence] ?? 3) ||
        num(b.load) / (b.capacity || 1) - num(a.load) / (a.capacity || 1) ||
        String(a.employee_no).localeCompare(String(b.employee_no)),
    );
  const rows = shown.map((a) =>
    h(
      "tr",
      { dataset: { agentId: a.id, presence: a.presence } },
      h("td", { class: "team-name" }, a.name),
      h("td", {}, a.employee_no || "—"),
      h("td", {}, a.team_name || "—"),
      h("td", {}, a.role_label || label(ROLE, a.role)),
      h("td", {}, h("span", { class: "state" }, h("span", { class: `dot dot-${a.presence}` }), label(PRESENCE, a.presence))),
      h("td", { class: "num" }, String(num(a.held))),
      h("td", { class: a.offered ? "num is-warn" : "num" }, String(num(a.offered))),
      h("td", {}, bar(num(a.load), num(a.capacity))),
      h("td", { class: num(a.load) >= num(a.capacity) && a.capacity ? "num is-bad" : "num" }, `${num(a.load)} / ${num(a.capacity)}`),
    ),
  );
  replace($("#agents-body"), rows.length ? rows : h("tr", {}, h("td", { colspan: 9, class: "muted" }, "没有符合条件的坐席")));
}

for (const chip of $$("#agent-filters .chip")) {
  chip.addEventListener("click", () => {
    state.filter = chip.dataset.filter;
    for (const other of $$("#agent-filters .chip")) other.classList.toggle("is-active", other === chip);
    renderAgents();
  });
}

// Waiting times tick between reads.
setInterval(() => {
  const elapsed = (Date.now() - state.fetchedAt) / 1000;
  for (const el of $$("[data-base]")) {
    if (el.dataset.base) el.textContent = duration(Number(el.dataset.base) + elapsed);
  }
}, 1000);

let pending = null;
function reloadSoon() {
  if (pending) return;
  pending = setTimeout(() => {
    pending = null;
    load();
  }, 250);
}

let ticketsPending = null;
function ticketsSoon() {
  if (ticketsPending) return;
  ticketsPending = setTimeout(() => {
    ticketsPending = null;
    loadTicketBoard();
  }, 500);
}

initShell();
const live = new Live({
  onHint: (hint) => {
    if (["queue", "presence", "resync"].includes(hint.type)) reloadSoon();
    if (hint.type === "tickets" || hint.type === "resync") ticketsSoon();
  },
  onState: (s) => {
    state.liveOpen = s === "open";
    setLiveState(s);
  },
  onUnauthorized: () => api("/me").catch(() => {}),
  onForbidden: () => toast(LIVE_FORBIDDEN_TEXT, "error"),
});
await Promise.all([load(), loadTicketBoard()]);
live.start();
// A slow safety net: the board also refreshes on its own every 30 s.
setInterval(() => {
  load();
  loadTicketBoard();
}, 30000);
