// 历史会话: the customer's conversations on every channel (newest first); one click
// shows a conversation's transcript, read-only. Every string is a text node.
import { api, explain } from "./api.js";
import { empty, h, replace } from "./dom.js";
import { clock, CONVERSATION_STATUS, day, label, SENDER } from "./format.js";

const BADGE = { web: "网页", wechat: "微信", rest: "接口" };
const PAGE = 100;
const $id = (id) => document.getElementById(id);

let shown = null; // the customer whose history is on screen (stale answers are dropped)

/** Read and show the history of ``customerId`` (null: an unverified customer). */
export async function loadHistory(customerId, currentConversationId) {
  const root = $id("history-body");
  const count = $id("history-count");
  if (!root) return;
  shown = customerId || null;
  count.textContent = "";
  if (!customerId) {
    replace(root, empty("客户尚未验证身份，暂无历史会话。"));
    return;
  }
  replace(root, empty("加载中…"));
  let data;
  try {
    data = await api(`/customers/${customerId}/conversations?limit=50`);
  } catch (error) {
    if (shown === customerId) replace(root, empty(explain(error, "历史会话加载失败")));
    return;
  }
  if (shown !== customerId) return;
  const items = data.items || [];
  count.textContent = String(data.total ?? items.length);
  if (!items.length) {
    replace(root, empty("没有历史会话"));
    return;
  }
  replace(
    root,
    h(
      "div",
      { class: "hist-list", role: "list" },
      items.map((c) => row(c, c.id === currentConversationId)),
    ),
  );
}

function row(c, current) {
  const transcript = h("div", { class: "hist-transcript", hidden: true, "aria-live": "polite" });
  const button = h(
    "button",
    {
      type: "button",
      class: current ? "hist-item is-current" : "hist-item",
      dataset: { conversation: c.id, channel: c.channel },
      "aria-expanded": "false",
      onclick: () => toggle(c, button, transcript),
    },
    h("span", { class: `hist-badge hist-${c.channel}` }, label(BADGE, c.channel)),
    h("span", { class: "hist-date", title: clock(c.started_at) }, day(c.started_at)),
    h("span", { class: "hist-status" }, label(CONVERSATION_STATUS, c.status)),
    h("span", { class: "hist-count" }, `${c.message_count} 条消息`),
    current ? h("span", { class: "hist-now" }, "当前") : null,
  );
  return h("div", { class: "hist-row", role: "listitem" }, button, transcript);
}

async function toggle(c, button, box) {
  const open = button.getAttribute("aria-expanded") === "true";
  button.setAttribute("aria-expanded", open ? "false" : "true");
  box.hidden = open;
  if (open || box.dataset.loaded) return;
  replace(box, empty("加载中…"));
  const messages = [];
  let after = null;
  try {
    for (;;) {
      const query = after ? `&after_id=${after}` : "";
      const page = await api(`/conversations/${c.id}/messages?limit=${PAGE}${query}`);
      messages.push(...page.items);
      if (page.items.length < PAGE || !page.next_after_id) break;
      after = page.next_after_id;
    }
  } catch (error) {
    replace(box, empty(explain(error, "会话记录加载失败")));
    return;
  }
  box.dataset.loaded = "true";
  if (!messages.length) {
    replace(box, empty("该会话没有消息"));
    return;
  }
  replace(
    box,
    messages.map((m) =>
      h(
        "div",
        { class: m.private ? `hist-msg hist-msg-${m.sender} is-note` : `hist-msg hist-msg-${m.sender}` },
        h(
          "div",
          { class: "hist-msg-meta" },
          m.private ? "内部备注" : m.agent ? `${m.agent.name}（${m.agent.employee_no}）` : label(SENDER, m.sender),
          " · ",
          clock(m.created_at),
        ),
        h("div", { class: "hist-msg-text" }, m.text),
      ),
    ),
  );
}
