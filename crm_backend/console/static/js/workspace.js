// The agent workspace: lists on the left, the conversation in the middle, the brief
// and the customer's picture on the right; live through one websocket.
import { api, ApiError, explain } from "./api.js";
import { renderBrief, loadPicture, renderPicture } from "./brief.js";
import { Composer } from "./composer.js";
import { ResolveDialog, TransferDialog } from "./dialogs.js";
import { $, $$, h, replace, toast } from "./dom.js";
import { loadHistory } from "./history.js";
import { CHANNEL, CONVERSATION_STATUS, duration, label, since, VERIFICATION } from "./format.js";
import { Live } from "./live.js";
import { offeredTo, QueueList } from "./queue.js";
import { initPresence, loadMe } from "./presence.js";
import { initShell, LIVE_FORBIDDEN_TEXT, setLiveState } from "./shell.js";
import { Transcript } from "./transcript.js";
import { coalesce } from "./util.js";

const root = $("#workspace");
const me = {
  id: Number(root.dataset.agentId),
  name: root.dataset.agentName,
  supervisor: root.dataset.supervisor === "true",
};
const PAGE = 100;
const TITLE = document.title;
const EMPTY_TEXT = {
  queue: "暂无排队客户。新的转人工请求会实时出现在这里。",
  mine: "您当前没有正在服务的会话。",
  all: "当前没有进行中的转人工会话。",
};

const state = {
  tab: "queue",
  lists: { queue: [], mine: [], all: [] },
  current: null, // { id, brief, conversation }
  names: new Map(),
  unread: new Set(),
  liveOpen: false,
};

function setTitle() {
  document.title = state.unread.size ? `(${state.unread.size}) ${TITLE}` : TITLE;
}

// --- components --------------------------------------------------------------------

initShell();
initPresence();
const queue = new QueueList({ root: $("#list-body"), agentId: me.id, onSelect: (item) => openEscalation(item.id) });
const transcript = new Transcript({ root: $("#transcript"), newBelow: $("#new-below"), agentId: me.id, agentName: me.name });
const composer = new Composer({
  form: $("#composer"),
  onSent: (message) => {
    if (message && typeof message.id === "number") transcript.add([message]);
    refreshMessages();
  },
});
const transfer = new TransferDialog({
  me,
  onDone: () => {
    toast("已转接，接手的同事会收到提醒", "success");
    refreshLists();
    refreshCurrent();
  },
});
const resolve = new ResolveDialog({
  onDone: () => {
    toast("会话已结束，已交还智能客服小安并邀请客户评价", "success");
    refreshLists();
    refreshCurrent();
  },
});

// --- lists -------------------------------------------------------------------------

const isMine = (item) =>
  item.status !== "queued" &&
  (item.assigned_agent_id === undefined ? true : item.assigned_agent_id === me.id);

const refreshLists = coalesce(async () => {
  try {
    const [team, mine, all] = await Promise.all([
      api("/escalations?scope=team&status=queued&limit=200"),
      api("/escalations?scope=mine&limit=200"),
      me.supervisor ? api("/escalations?scope=all&limit=200") : Promise.resolve(null),
    ]);
    state.lists.queue = team.items;
    state.lists.mine = mine.items.filter(isMine);
    state.lists.all = all ? all.items : [];
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) toast(explain(error, "会话列表刷新失败"), "error");
    return;
  }
  renderTabs();
  showList();
  if (!state.liveOpen) watchMine();
});

function renderTabs() {
  for (const [tab, items] of Object.entries(state.lists)) {
    const badge = $(`[data-count="${tab}"]`);
    if (badge) badge.textContent = String(items.length);
  }
  const offered = state.lists.queue.some((item) => offeredTo(item, me.id));
  $('[data-tab="queue"]').classList.toggle("has-offer", offered);
  const mineUnread = state.lists.mine.some((item) => state.unread.has(item.conversation_id));
  $('[data-unread="mine"]').hidden = !mineUnread;
}

function showList() {
  queue.unread = state.unread;
  queue.selected = state.current ? state.current.id : null;
  queue.show(state.lists[state.tab], EMPTY_TEXT[state.tab]);
}

for (const tab of $$("#list-tabs .tab")) {
  tab.addEventListener("click", () => {
    state.tab = tab.dataset.tab;
    for (const other of $$("#list-tabs .tab")) other.setAttribute("aria-selected", other === tab ? "true" : "false");
    showList();
  });
}
$("#list-filter").addEventListener("input", (event) => queue.setFilter(event.target.value));

// --- the open conversation -------------------------------------------------------------

async function loadNames() {
  try {
    const data = await api("/agents");
    for (const agent of data.items || []) state.names.set(agent.id, agent.name);
  } catch {
    /* names fall back to "人工坐席" */
  }
}

async function openEscalation(id) {
  const previous = state.current;
  state.current = { id, brief: null, conversation: null };
  queue.select(id);
  // Nothing can act on a conversation until its brief is here.
  for (const button of $$("#chat-actions .btn")) button.hidden = true;
  composer.attach({ conversationId: null, canReply: false, canNote: false, reason: "加载中…" });
  location.hash = `e${id}`;
  $("#chat-empty").hidden = true;
  $("#chat").hidden = false;
  $("#side-empty").hidden = true;
  $("#side").hidden = false;
  replace($("#brief-body"), h("p", { class: "muted" }, "加载中…"));
  let brief;
  let conversation;
  try {
    brief = await api(`/escalations/${id}`);
    conversation = await api(`/conversations/${brief.conversation_id}`);
  } catch (error) {
    if (state.current && state.current.id === id) closeCurrent(explain(error, "无法打开该会话"));
    return;
  }
  if (!state.current || state.current.id !== id) return;
  if (previous && previous.brief && previous.brief.conversation_id !== brief.conversation_id) {
    live.unwatch(previous.brief.conversation_id);
  }
  state.current = { id, brief, conversation };
  transcript.reset({ customerName: conversation.customer_name || "客户", names: state.names });
  live.watch(brief.conversation_id);
  markRead(brief.conversation_id);
  renderCurrent();
  loadHistory(brief.customer_id, brief.conversation_id);
  await refreshMessages({ initial: true });
  const picture = await loadPicture(brief);
  if (state.current && state.current.id === id) renderPicture(picture);
}

function closeCurrent(message) {
  if (state.current && state.current.brief) live.unwatch(state.current.brief.conversation_id);
  state.current = null;
  queue.select(null);
  history.replaceState(null, "", location.pathname);
  $("#chat").hidden = true;
  $("#chat-empty").hidden = false;
  $("#side").hidden = true;
  $("#side-empty").hidden = false;
  if (message) toast(message, "error");
}

function markRead(conversationId) {
  state.unread.delete(conversationId);
  queue.markUnread(conversationId, false);
  renderTabs();
  setTitle();
}

const refreshMessages = coalesce(async (options = {}) => {
  const current = state.current;
  if (!current || !current.brief) return;
  const cid = current.brief.conversation_id;
  let after = transcript.lastId;
  for (;;) {
    let page;
    try {
      const query = after ? `&after_id=${after}` : "";
      page = await api(`/conversations/${cid}/messages?limit=${PAGE}${query}`);
    } catch {
      return;
    }
    if (!state.current || state.current.brief !== current.brief) return;
    transcript.add(page.items, { initial: options.initial });
    if (page.items.length < PAGE || !page.next_after_id) break;
    after = page.next_after_id;
  }
});

const refreshCurrent = coalesce(async () => {
  const current = state.current;
  if (!current || !current.brief) return;
  try {
    const [brief, conversation] = await Promise.all([
      api(`/escalations/${current.id}`),
      api(`/conversations/${current.brief.conversation_id}`),
    ]);
    if (!state.current || state.current.id !== current.id) return;
    state.current.brief = brief;
    state.current.conversation = conversation;
    renderCurrent();
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
      closeCurrent("该会话已转出，您不再有查看权限");
    }
    return;
  }
  await refreshMessages();
});

function renderCurrent() {
  const { brief, conversation } = state.current;
  const queued = brief.status === "queued";
  const closed = brief.status === "closed";
  const holder = conversation.status === "agent" && conversation.assigned_agent && conversation.assigned_agent.id === me.id;
  const offered = queued && isOfferedToMe(brief);

  $("#chat-customer").textContent = conversation.customer_name || "未验证客户";
  const sub = [
    label(CHANNEL, conversation.channel),
    `会话 #${conversation.id}`,
    label(CONVERSATION_STATUS, conversation.status),
    label(VERIFICATION, conversation.verification_level),
  ];
  replace(
    $("#chat-sub"),
    sub.map((text) => h("span", { class: "sub-item" }, text)),
    queued ? h("span", { class: "sub-item sub-wait", dataset: { since: brief.queued_at } }, `已等待 ${duration(since(brief.queued_at))}`) : null,
  );

  $("#btn-accept").hidden = !queued;
  $("#btn-decline").hidden = !offered;
  $("#btn-transfer").hidden = closed || !(holder || me.supervisor || offered);
  $("#btn-resolve").hidden = closed || !(holder || (me.supervisor && !queued));

  const banner = $("#chat-banner");
  let text = "";
  let kind = "info";
  if (queued) {
    text = offered ? "该客户已派给您，请尽快接入（超时将转给其他同事）。" : "客户正在排队等待人工服务，接入后即可回复。";
    kind = offered ? "warn" : "info";
  } else if (closed) {
    const outcome = brief.outcome_label || brief.outcome;
    text = `会话已结束${outcome ? `（${outcome}）` : ""}，客户已交还智能客服小安。`;
  } else if (!holder) {
    const who = conversation.assigned_agent ? conversation.assigned_agent.name : "其他坐席";
    text = `该会话由 ${who} 接待中，您可以查看并添加内部备注。`;
  }
  banner.textContent = text;
  banner.dataset.kind = kind;
  banner.hidden = !text;

  const reason = queued ? "接入会话后即可回复客户" : closed ? "会话已结束" : "该会话由其他坐席接待";
  composer.attach({ conversationId: conversation.id, canReply: holder, canNote: !closed, reason });
  renderBrief(brief, conversation);
}

function isOfferedToMe(brief) {
  if (brief.offered_agent !== undefined) return Boolean(brief.offered_agent && brief.offered_agent.id === me.id);
  return Boolean(brief.target_agent && brief.target_agent.id === me.id);
}

setInterval(() => {
  for (const el of $$(".sub-wait")) el.textContent = `已等待 ${duration(since(el.dataset.since))}`;
}, 1000);

// --- actions -------------------------------------------------------------------------

async function act(button, fn) {
  button.disabled = true;
  try {
    await fn();
  } finally {
    button.disabled = false;
  }
}

$("#btn-accept").addEventListener("click", (event) =>
  act(event.currentTarget, async () => {
    const current = state.current;
    if (!current?.brief) return;
    try {
      await api(`/escalations/${current.id}/accept`, { method: "POST" });
      toast("已接入会话，客户会收到您已接入的提示", "success");
      selectTab("mine");
    } catch (error) {
      toast(explain(error, "接入失败"), "error");
    }
    await Promise.all([refreshLists(), refreshCurrent(), loadMe()]);
    $("#composer-input").focus();
  }),
);

$("#btn-decline").addEventListener("click", (event) =>
  act(event.currentTarget, async () => {
    if (!state.current?.brief) return;
    try {
      await api(`/escalations/${state.current.id}/decline`, { method: "POST" });
      toast("已拒绝，系统会派给下一位同事", "success");
      closeCurrent();
    } catch (error) {
      toast(explain(error, "操作失败"), "error");
    }
    await refreshLists();
  }),
);

$("#btn-transfer").addEventListener("click", () => state.current?.brief && transfer.open(state.current.brief));
$("#btn-resolve").addEventListener("click", () => state.current?.brief && resolve.open(state.current.brief));

function selectTab(name) {
  const tab = $(`#list-tabs [data-tab="${name}"]`);
  if (tab) tab.click();
}

// --- live ---------------------------------------------------------------------------

/** Follow my conversations too, so that their new messages can be flagged. */
function watchMine() {
  for (const item of state.lists.mine) live.watch(item.conversation_id);
  if (state.current && state.current.brief) live.watch(state.current.brief.conversation_id);
}

// A burst of messages re-reads the lists once, so queue previews stay fresh.
let listsSoon = null;
function refreshListsSoon() {
  if (listsSoon) return;
  listsSoon = setTimeout(() => {
    listsSoon = null;
    refreshLists();
  }, 500);
}

function onHint(hint) {
  switch (hint.type) {
    case "resync":
      refreshLists().then(watchMine);
      loadMe();
      refreshCurrent();
      break;
    case "queue":
      refreshLists().then(watchMine);
      loadMe();
      refreshCurrent();
      break;
    case "presence":
      loadMe();
      break;
    case "conversation": {
      const cid = Number(hint.conversation_id);
      refreshListsSoon();
      if (state.current && state.current.brief && state.current.brief.conversation_id === cid) {
        refreshMessages();
        if (document.hidden) {
          state.unread.add(cid);
          setTitle();
        }
      } else {
        state.unread.add(cid);
        queue.markUnread(cid, true);
        renderTabs();
        setTitle();
      }
      break;
    }
    default:
      break;
  }
}

const live = new Live({
  onHint,
  onState: (s) => {
    state.liveOpen = s === "open";
    setLiveState(s);
  },
  onUnauthorized: () => loadMe(),
  onForbidden: () => toast(LIVE_FORBIDDEN_TEXT, "error"),
});

document.addEventListener("visibilitychange", () => {
  if (!document.hidden && state.current && state.current.brief) markRead(state.current.brief.conversation_id);
});

// Without the websocket (down, or reconnecting) the page still moves: slow polling.
setInterval(() => {
  if (state.liveOpen) return;
  refreshLists();
  refreshCurrent();
}, 8000);

// --- start ---------------------------------------------------------------------------

await Promise.all([loadMe(), loadNames(), refreshLists()]);
live.start();
const fromHash = /^#e(\d+)$/.exec(location.hash);
if (fromHash) openEscalation(Number(fromHash[1]));
