/* 安顺人寿 在线客服: the customer's side of the web chat.
 *
 * Speaks the gateway's socket.io events (those of Rasa's web widgets plus
 * bot_typing / customer_uttered / chat_error). Chat text is only ever set with
 * textContent: a message like <img src=x onerror=alert(1)> shows literally.
 */
(function () {
  "use strict";

  var SESSION_KEY = "anshun.chat.session";
  var STARTED_KEY = "anshun.chat.started";
  var TEXT_MAX = 2000;
  var ACK_TIMEOUT = 20000;

  var list = document.getElementById("message-list");
  var scroller = document.getElementById("messages");
  var typing = document.getElementById("typing");
  var conn = document.getElementById("conn");
  var connText = document.getElementById("conn-text");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var counter = document.getElementById("counter");
  var welcome = document.getElementById("welcome");
  var shown = new Set();

  function storage(key, value) {
    try {
      if (value === undefined) return window.localStorage.getItem(key);
      window.localStorage.setItem(key, value);
    } catch (e) { /* private mode: the chat still works, without history */ }
    return null;
  }

  function newSessionId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;  // uuid4
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  var sessionId = storage(SESSION_KEY);
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(sessionId || "")) {
    sessionId = newSessionId();
    storage(SESSION_KEY, sessionId);
  }

  // ---- rendering (textContent only) ------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function timeLabel(iso) {
    var date = iso ? new Date(iso) : new Date();
    if (isNaN(date.getTime())) date = new Date();
    var now = new Date();
    var hm = ("0" + date.getHours()).slice(-2) + ":" + ("0" + date.getMinutes()).slice(-2);
    if (date.toDateString() === now.toDateString()) return hm;
    return (date.getMonth() + 1) + "月" + date.getDate() + "日 " + hm;
  }

  function scrollDown() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  function hideWelcome() {
    if (welcome) welcome.hidden = true;
  }

  function disableOlderReplies() {
    list.querySelectorAll(".quick-replies button").forEach(function (b) { b.disabled = true; });
  }

  function renderCustomer(text, iso) {
    hideWelcome();
    var item = el("li", "msg msg-customer");
    var body = el("div", "msg-body");
    body.appendChild(el("div", "bubble", text));
    var status = el("div", "msg-status", timeLabel(iso));
    body.appendChild(status);
    item.appendChild(body);
    list.appendChild(item);
    scrollDown();
    return { item: item, status: status };
  }

  function renderSystem(text, isError) {
    hideWelcome();
    var item = el("li", "msg msg-system" + (isError ? " error" : ""));
    item.appendChild(el("div", "notice", text));
    list.appendChild(item);
    scrollDown();
    return item;
  }

  function quickReplies(data) {
    var raw = data.quick_replies || data.buttons || [];
    var box = el("div", "quick-replies");
    raw.forEach(function (reply) {
      if (!reply || reply.title === undefined) return;
      var button = el("button", "", reply.title);
      button.type = "button";
      button.addEventListener("click", function () {
        if (button.disabled) return;
        box.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
        button.classList.add("chosen");
        send(String(reply.payload !== undefined ? reply.payload : reply.title), String(reply.title));
      });
      box.appendChild(button);
    });
    return box.childNodes.length ? box : null;
  }

  function renderIncoming(data, fromHistory) {
    var meta = data.metadata || {};
    var id = meta.message_id;
    if (id !== undefined && id !== null) {
      if (shown.has(id)) return;
      shown.add(id);
    }
    var sender = meta.sender || "bot";
    if (sender === "customer") {
      var mine = renderCustomer(data.text || "", meta.created_at);
      mine.item.dataset.messageId = id;
      return;
    }
    if (sender === "system") {
      renderSystem(data.text || "", false);
      return;
    }
    hideWelcome();
    var isAgent = sender === "agent";
    var item = el("li", "msg " + (isAgent ? "msg-agent" : "msg-bot"));
    var name = isAgent ? (meta.agent_name || "人工客服") : "小安";
    var initial = isAgent ? name.charAt(0) : "安";
    item.appendChild(el("span", "avatar " + (isAgent ? "avatar-agent" : "avatar-bot"), initial));
    var body = el("div", "msg-body");
    var header = el("div", "msg-meta");
    if (isAgent) {
      header.appendChild(el("span", "badge badge-agent", "人工客服"));
      header.appendChild(el("span", "name", name + (meta.employee_no ? "（工号 " + meta.employee_no + "）" : "")));
    } else {
      header.appendChild(el("span", "badge badge-bot", "智能客服"));
      header.appendChild(el("span", "name", name));
    }
    header.appendChild(el("span", "time", timeLabel(meta.created_at)));
    body.appendChild(header);
    if (data.text) body.appendChild(el("div", "bubble", data.text));
    var replies = quickReplies(data);
    if (replies) {
      if (!fromHistory) disableOlderReplies();
      body.appendChild(replies);
    }
    item.appendChild(body);
    list.appendChild(item);
    scrollDown();
  }

  // ---- connection ------------------------------------------------------------

  function setState(state, text) {
    conn.dataset.state = state;
    connText.textContent = text;
  }

  var socket = io({ path: "/socket.io", reconnectionDelayMax: 5000 });

  socket.on("connect", function () {
    setState("online", "小安在线 · 随时为您服务");
    socket.emit("session_request", { session_id: sessionId });
  });
  socket.on("disconnect", function () {
    setState("offline", "连接已断开，正在重新连接…");
    typing.hidden = true;
  });
  socket.io.on("reconnect_attempt", function () {
    setState("connecting", "正在重新连接…");
  });
  socket.on("connect_error", function () {
    setState("offline", "网络异常，正在重试…");
  });
  socket.on("session_confirm", function (data) {
    var confirmed = data && data.session_id ? data.session_id : data;
    if (typeof confirmed === "string" && confirmed !== sessionId) {
      sessionId = confirmed;
      storage(SESSION_KEY, sessionId);
    }
    loadHistory();
  });
  socket.on("bot_uttered", function (data) {
    typing.hidden = true;
    renderIncoming(data || {}, false);
  });
  socket.on("bot_typing", function (data) {
    typing.hidden = !(data && data.typing);
    if (!typing.hidden) scrollDown();
  });
  socket.on("customer_uttered", function (data) {
    if (data && data.text) renderCustomer(data.text, null);
  });
  socket.on("chat_error", function (data) {
    if (data && data.message) renderSystem(data.message, true);
  });

  // History on load and after every reconnect (messages sent while offline).
  function loadHistory() {
    if (storage(STARTED_KEY) !== sessionId) return;
    fetch("/api/history?session_id=" + encodeURIComponent(sessionId), { cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !data.messages) return;
        var fresh = data.messages.filter(function (m) {
          var id = m.metadata && m.metadata.message_id;
          return id === undefined || id === null || !shown.has(id);
        });
        if (!shown.size && list.childNodes.length === 0) {
          fresh.forEach(function (m) { renderIncoming(m, true); });
          disableAllButLastReplies();
        } else {
          fresh.filter(function (m) { return m.metadata.sender !== "customer"; })
            .forEach(function (m) { renderIncoming(m, false); });
        }
      })
      .catch(function () { /* history is a convenience; live chat goes on */ });
  }

  function disableAllButLastReplies() {
    var groups = list.querySelectorAll(".quick-replies");
    for (var i = 0; i < groups.length - 1; i++) {
      groups[i].querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    }
    var last = list.lastElementChild;
    if (groups.length && last && !last.contains(groups[groups.length - 1])) {
      groups[groups.length - 1].querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    }
  }

  // ---- sending ---------------------------------------------------------------

  function send(text, display) {
    if (!text || !text.trim()) return;
    storage(STARTED_KEY, sessionId);
    var mine = renderCustomer(display || text, null);
    mine.status.textContent = "发送中…";
    var payload = { message: text, session_id: sessionId };
    if (display) payload.display = display;
    socket.timeout(ACK_TIMEOUT).emit("user_uttered", payload, function (err, ack) {
      if (err) {
        failed(mine, "网络不稳定，消息可能未送达", text, display);
      } else if (ack && ack.ok) {
        mine.status.textContent = timeLabel(null);
        if (ack.message_id) {
          shown.add(ack.message_id);
          mine.item.dataset.messageId = ack.message_id;
        }
      } else {
        var retry = ack && ack.error === "crm_unavailable";
        failed(mine, retry ? "未送达" : "未发送", retry ? text : null, display);
      }
    });
  }

  function failed(mine, label, retryText, display) {
    mine.status.textContent = label;
    mine.status.classList.add("failed");
    if (!retryText) return;
    var again = el("button", "", "重新发送");
    again.type = "button";
    again.addEventListener("click", function () {
      mine.item.remove();
      send(retryText, display);
    });
    mine.status.appendChild(again);
  }

  function updateCounter() {
    var n = input.value.length;
    counter.hidden = n < TEXT_MAX - 200;
    counter.textContent = n + "/" + TEXT_MAX;
    counter.classList.toggle("over", n > TEXT_MAX);
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 140) + "px";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) return;
    input.value = "";
    updateCounter();
    send(text, null);
    input.focus();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", updateCounter);
  document.querySelectorAll("#shortcuts button").forEach(function (button) {
    button.addEventListener("click", function () { send(button.dataset.text, null); });
  });
  var close = document.getElementById("close-chat");
  if (close) {
    close.addEventListener("click", function () {
      window.parent.postMessage({ type: "anshun-chat:close" }, "*");
    });
  }
})();
