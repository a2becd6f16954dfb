// 投诉工单: the team's complaint queue with live SLA countdowns, a ticket's detail
// and its verbs. Live through the console's websocket ("tickets" hints), with a
// slow poll as the safety net.
import { api, ApiError } from "./api.js";
import { $, $$, toast } from "./dom.js";
import { Live } from "./live.js";
import { initShell, LIVE_FORBIDDEN_TEXT, setLiveState } from "./shell.js";
import { renderDetail, renderRefusal } from "./tickets-detail.js";
import { AssignDialog, ResolveDialog, TextDialog } from "./tickets-dialogs.js";
import { explainRefusal, explainTicket, OPEN, serverClock, windows } from "./tickets-format.js";
import { TicketTable, tick } from "./tickets-table.js";
import { coalesce } from "./util.js";

const root = $("#tickets");
const me = {
  id: Number(root.dataset.agentId),
  name: root.dataset.agentName,
  teamId: root.dataset.teamId ? Number(root.dataset.teamId) : null,
  supervisor: root.dataset.supervisor === "true",
};
const state = {
  scope: me.supervisor ? "all" : "team",
  sla: "",
  current: null, // the open ticket's detail
  names: new Map(),
  chatOpen: new Set(), // tickets whose chat transcript the agent opened
  liveOpen: false,
};
const DONE = {
  acknowledge: "已确认受理，客户会收到通知",
  investigate: "已开始处理",
  resolve: "工单已解决，处理结果已通知客户",
  update: "进展已告知客户",
  "request-info": "已请客户补充信息",
  propose: "处理方案已发送给客户",
  close: "工单已关闭",
  reopen: "工单已重新打开",
  assign: "工单已指派",
  notes: "备注已保存",
};

initShell();
const table = new TicketTable({
  body: $("#tk-body"),
  all: $("#tk-pick-all"),
  me,
  onSelect: (id) => open(id),
  onPick: (tickets) => {
    $("#tk-bulk").hidden = tickets.length === 0;
    $("#tk-bulk-count").textContent = `已选 ${tickets.length} 张`;
  },
});

// --- the list ------------------------------------------------------------------------

function query() {
  const q = new URLSearchParams({ sort: "deadline", limit: "200" });
  const status = $("#tk-status").value;
  if (status === "open") for (const s of OPEN) q.append("status", s);
  else if (status !== "all") q.append("status", status);
  if (state.scope === "mine") q.set("mine", "true");
  // an agent's own view already is their team's tickets plus those assigned to them
  if (state.scope === "team" && me.supervisor && me.teamId) q.set("team", String(me.teamId));
  if (state.sla === "soon") q.set("due_soon", "true");
  if (state.sla === "breached") q.set("breached", "true");
  for (const name of ["category", "severity", "tier"]) {
    const value = $(`#tk-${name}`).value;
    if (value) q.set(name, value);
  }
  return q.toString();
}

const refreshList = coalesce(async () => {
  let data;
  try {
    data = await api(`/tickets?${query()}`);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) toast(explainTicket(error, "工单列表刷新失败"), "error");
    return;
  }
  serverClock.sync(data.as_of);
  windows.ack = data.ack_soon_minutes * 60e3;
  windows.resolve = data.resolve_soon_minutes * 60e3;
  table.show(data.items, state.sla ? "没有符合条件的工单" : "没有未结的投诉工单");
  $("#tk-total").textContent = data.total > data.items.length ? `共 ${data.total} 张，显示前 ${data.items.length} 张` : `共 ${data.total} 张`;
});

// The filters live in the address (?scope=mine&sla=soon&category=billing…): a reload
// keeps the view, and a bookmark or a link to a colleague is a saved view.
const SELECTS = ["status", "category", "severity", "tier"];

function activate(groupId, key, value) {
  const chip = $$(`#${groupId} .chip`).find((c) => c.dataset[key] === value);
  if (!chip) return; // not a choice on this page (e.g. 全部 for an agent)
  state[key] = value;
  for (const other of $$(`#${groupId} .chip`)) other.classList.toggle("is-active", other === chip);
}

function remember() {
  const q = new URLSearchParams();
  if (state.scope !== (me.supervisor ? "all" : "team")) q.set("scope", state.scope);
  if (state.sla) q.set("sla", state.sla);
  for (const name of SELECTS) {
    const value = $(`#tk-${name}`).value;
    if (value !== (name === "status" ? "open" : "")) q.set(name, value);
  }
  const search = q.toString();
  history.replaceState(null, "", `${location.pathname}${search ? `?${search}` : ""}${location.hash}`);
}

function restore() {
  const q = new URLSearchParams(location.search);
  if (q.has("scope")) activate("tk-scope", "scope", q.get("scope"));
  if (q.has("sla")) activate("tk-sla", "sla", q.get("sla"));
  for (const name of SELECTS) {
    const select = $(`#tk-${name}`);
    const value = q.get(name);
    if (value !== null && [...select.options].some((o) => o.value === value)) select.value = value;
  }
  remember(); // drop what was not a choice
}

function chips(groupId, key) {
  for (const chip of $$(`#${groupId} .chip`)) {
    chip.addEventListener("click", () => {
      activate(groupId, key, chip.dataset[key]);
      remember();
      refreshList();
    });
  }
}
chips("tk-scope", "scope");
chips("tk-sla", "sla");
for (const name of SELECTS) {
  $(`#tk-${name}`).addEventListener("change", () => {
    remember();
    refreshList();
  });
}
restore();

// --- the detail pane -------------------------------------------------------------------

function show(ticket) {
  // a hint after one's own verb re-reads the same ticket: nothing to redraw
  const same = state.current && state.current.id === ticket.id && JSON.stringify(state.current) === JSON.stringify(ticket);
  state.current = ticket;
  if (!same) renderDetail($("#tk-detail"), ticket, { me, names: state.names, onVerb: runVerb, chatOpen: state.chatOpen });
}

async function open(id) {
  table.select(id);
  history.replaceState(null, "", `${location.search}#t${id}`);
  $("#tk-empty").hidden = true;
  const pane = $("#tk-detail");
  pane.hidden = false;
  pane.dataset.ticketId = String(id);
  let ticket;
  try {
    ticket = await api(`/tickets/${id}`);
  } catch (error) {
    if (Number(pane.dataset.ticketId) !== id) return;
    state.current = null;
    const text = explainTicket(error, "工单加载失败");
    renderRefusal(pane, text, error instanceof ApiError && error.status === 403);
    return;
  }
  if (Number(pane.dataset.ticketId) === id) show(ticket);
}

const refreshDetail = coalesce(async () => {
  const current = state.current;
  if (!current) return;
  try {
    const ticket = await api(`/tickets/${current.id}`);
    if (state.current && state.current.id === ticket.id) show(ticket);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
      state.current = null;
      renderRefusal($("#tk-detail"), explainTicket(error), error.status === 403);
    }
  }
});

function afterVerb(ticket, verb) {
  toast(DONE[verb] || "操作成功", "success");
  if (ticket && state.current && ticket.id === state.current.id) show(ticket);
  refreshList();
}

// --- bulk verbs on the ticked rows ------------------------------------------------------

const BULK_DONE = { assign: "已指派", acknowledge: "已确认受理" };

/** One toast for the tickets done, one listing each refused ticket and why. */
function afterBulk(result, verb) {
  const numbers = new Map(table.items.map((t) => [t.id, t.ticket_no]));
  if (result.done.length) toast(`${BULK_DONE[verb]} ${result.done.length} 张工单`, "success");
  if (result.refused.length) {
    const why = result.refused.map((r) => `${numbers.get(r.ticket_id) || `#${r.ticket_id}`}：${explainRefusal(r.code)}`);
    toast(`${result.refused.length} 张未处理 — ${why.join("；")}`, "error");
  }
  table.pickAll(false);
  refreshList();
  refreshDetail();
}

const text = new TextDialog({ onDone: afterVerb });
const assign = new AssignDialog({ me, onDone: afterVerb, onBulk: afterBulk });

$("#tk-bulk-clear").addEventListener("click", () => table.pickAll(false));
$("#tk-bulk-assign").addEventListener("click", () => {
  const tickets = table.pickedTickets;
  if (tickets.length) assign.open(tickets[0], tickets);
});
$("#tk-bulk-ack").addEventListener("click", async (event) => {
  const tickets = table.pickedTickets;
  if (!tickets.length) return;
  const button = event.currentTarget;
  button.disabled = true;
  try {
    const body = { ticket_ids: tickets.map((t) => t.id) };
    afterBulk(await api("/tickets/bulk-acknowledge", { method: "POST", body }), "acknowledge");
  } catch (error) {
    toast(explainTicket(error, "批量确认受理失败，请重试"), "error");
  } finally {
    button.disabled = false;
  }
});
const resolve = new ResolveDialog({ onDone: afterVerb });

async function runVerb(verb, button) {
  const ticket = state.current;
  if (!ticket) return;
  if (verb.key === "assign") return assign.open(ticket);
  if (verb.key === "resolve") return resolve.open(ticket);
  if (verb.key !== "acknowledge" && verb.key !== "investigate") return text.open(ticket, verb.key);
  // one click: acknowledging and starting work need no text
  button.disabled = true;
  try {
    afterVerb(await api(`/tickets/${ticket.id}/${verb.key}`, { method: "POST" }), verb.key);
  } catch (error) {
    toast(explainTicket(error), "error");
    refreshDetail();
  } finally {
    button.disabled = false;
  }
}

// --- live ------------------------------------------------------------------------------

let soon = null;
function refreshSoon() {
  if (soon) return;
  soon = setTimeout(() => {
    soon = null;
    refreshList();
  }, 300);
}

const live = new Live({
  onHint: (hint) => {
    if (hint.type === "resync") {
      refreshList();
      refreshDetail();
    } else if (hint.type === "tickets") {
      refreshSoon();
      if (state.current && state.current.id === Number(hint.ticket_id)) refreshDetail();
    }
  },
  onState: (s) => {
    state.liveOpen = s === "open";
    setLiveState(s);
  },
  onUnauthorized: () => api("/me").catch(() => {}),
  onForbidden: () => toast(LIVE_FORBIDDEN_TEXT, "error"),
});

// Countdowns tick every second; without the websocket the list is re-read every
// 30 s, with it every 2 minutes (deadlines move into "soon" on their own).
setInterval(() => tick(), 1000);
let lastPoll = Date.now();
setInterval(() => {
  if (!state.liveOpen || Date.now() - lastPoll >= 120000) {
    lastPoll = Date.now();
    refreshList();
    refreshDetail();
  }
}, 30000);

async function loadNames() {
  try {
    const data = await api("/agents");
    for (const agent of data.items || []) state.names.set(agent.id, agent.name);
  } catch {
    /* the transcript falls back to "人工坐席" */
  }
}

await Promise.all([refreshList(), loadNames()]);
live.start();
const fromHash = /^#t(\d+)$/.exec(location.hash);
if (fromHash) open(Number(fromHash[1]));
