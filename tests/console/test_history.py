"""历史会话 in the workspace's right panel: every channel, newest first, and a past
conversation's transcript read-only, as text."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.console.support import Service, agent_for, shot_of

LIVE = 20_000  # ms
CUSTOMER = 2  # a demo customer no other console test talks as


def test_history_lists_web_and_wechat_and_shows_a_transcript(
    agent_page: Callable[..., Page], service: Service
) -> None:
    attack = "<b onmouseover=alert(1)>微信上问过理赔</b>"
    response = service.client.post(
        "/api/v1/service/conversations/messages",
        json={
            "channel": "wechat",
            "external_id": f"o-history-{uuid.uuid4().hex[:10]}",
            "text": attack,
            "customer_id": CUSTOMER,
        },
    )
    response.raise_for_status()
    wechat_id = response.json()["conversation_id"]
    service.bot(wechat_id, "好的，已为您查询。")
    closed = service.client.post(f"/api/v1/service/conversations/{wechat_id}/close")
    closed.raise_for_status()

    conversation, escalation = service.handed_over(CUSTOMER)
    page = agent_page(agent_for(escalation))
    page.locator('#list-tabs .tab[data-tab="queue"]').click()
    page.locator(f'.qitem[data-id="{escalation["id"]}"]').click(timeout=LIVE)

    history = page.locator("#history-body")
    rows = history.locator(".hist-item")
    expect(rows.first).to_be_visible(timeout=LIVE)
    current = history.locator(f'.hist-item[data-conversation="{conversation["id"]}"]')
    past = history.locator(f'.hist-item[data-conversation="{wechat_id}"]')
    # newest first: this web chat, then the closed WeChat one
    expect(rows.nth(0)).to_have_attribute("data-conversation", str(conversation["id"]))
    expect(rows.nth(1)).to_have_attribute("data-conversation", str(wechat_id))
    expect(current.locator(".hist-badge")).to_have_text("网页")
    expect(current).to_contain_text("3 条消息")
    expect(past.locator(".hist-badge")).to_have_text("微信")
    expect(past).to_contain_text("已关闭")
    expect(past).to_contain_text("2 条消息")

    past.click()
    expect(past).to_have_attribute("aria-expanded", "true")
    transcript = history.locator(".hist-transcript").nth(1)
    expect(transcript.locator(".hist-msg")).to_have_count(2)
    expect(transcript.locator(".hist-msg-text").first).to_have_text(attack)
    expect(transcript).to_contain_text("好的，已为您查询。")
    assert history.locator("b").count() == 0
    shot_of(page.locator("#card-history"), "history")

    past.click()
    expect(transcript).to_be_hidden()


ROW_TARGETS = """async () => {
  const { QueueList } = await import("/console/static/js/queue.js");
  const root = document.createElement("div");
  const list = new QueueList({ root, agentId: 7, onSelect: () => {} });
  const base = {
    status: "queued", priority: 10, trigger: "customer_request",
    trigger_label: "客户要求",
    topic: "general", customer_name: "客户", target_team_name: "综合服务组",
    target_agent_id: null, target_agent_name: null, offered_agent_name: null,
    queued_at: new Date().toISOString(), callback: false, callback_due_at: null,
  };
  list.show([
    { ...base, id: 1, conversation_id: 1, callback: true, target_agent_id: 7,
      target_agent_name: "我", offered_agent_id: null,
      callback_due_at: new Date().toISOString() },
    { ...base, id: 2, conversation_id: 2, offered_agent_id: 7,
      offered_agent_name: "我" },
    { ...base, id: 3, conversation_id: 3, target_agent_id: 7, target_agent_name: "我",
      offered_agent_id: null },
  ], "");
  return [...root.querySelectorAll(".qitem")].map((row) => [
    row.querySelector(".qitem-target").textContent,
    row.classList.contains("is-offered"),
  ]);
}"""


def test_queue_rows_say_call_back_and_only_a_live_offer_is_mine(
    agent_page: Callable[..., Page],
) -> None:
    page = agent_page("KN1033")
    expect(page.locator("#list-tabs")).to_be_visible()
    callback, offer, targeted = page.evaluate(ROW_TARGETS)
    assert callback[0].startswith("待回电 · ") and len(callback[0]) > 6, callback
    assert callback[1] is False
    assert offer == ["派给我", True]
    assert targeted == ["专属 · 我", False]


LIVE_4403 = """async () => {
  const { Live } = await import("/console/static/js/live.js");
  let made = 0;
  class Refused extends EventTarget {
    constructor() {
      super();
      made += 1;
      this.readyState = 0;
      setTimeout(() => {
        this.readyState = 3;
        const event = new Event("close");
        event.code = 4403;
        this.dispatchEvent(event);
      }, 10);
    }
    close() {}
    send() {}
  }
  Refused.OPEN = 1;
  Refused.CONNECTING = 0;
  const real = window.WebSocket;
  window.WebSocket = Refused;
  const states = [];
  let forbidden = 0;
  try {
    const live = new Live({
      onHint: () => {},
      onState: (s) => states.push(s),
      onForbidden: () => { forbidden += 1; },
    });
    live.start();
    await new Promise((r) => setTimeout(r, 2500));
    window.dispatchEvent(new Event("online"));  // would reconnect at once
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    window.WebSocket = real;
  }
  return { made, forbidden, last: states[states.length - 1] };
}"""


def test_a_forbidden_origin_stops_the_websocket(
    agent_page: Callable[..., Page],
) -> None:
    page = agent_page("KN1033")
    # the page's own socket is up first, so only the test's one meets the refusal
    expect(page.locator("#live-status")).to_have_attribute(
        "data-state", "open", timeout=LIVE
    )
    result = page.evaluate(LIVE_4403)
    assert result == {"made": 1, "forbidden": 1, "last": "forbidden"}
