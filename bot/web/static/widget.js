/* 安顺人寿 在线客服 widget: one <script> tag on a host page gives a floating
 * button that opens the chat (an iframe of the gateway's /chat page).
 *
 *   <script src="https://GATEWAY/widget.js" async></script>
 */
(function () {
  "use strict";
  if (window.__anshunChatWidget) return;
  window.__anshunChatWidget = true;

  var script = document.currentScript || (function () {
    var all = document.getElementsByTagName("script");
    for (var i = all.length - 1; i >= 0; i--) {
      if (/\/widget\.js(\?|$)/.test(all[i].src)) return all[i];
    }
    return null;
  })();
  var base = script ? new URL(script.src, window.location.href).origin : window.location.origin;

  var css = [
    ".anshun-chat-launcher{position:fixed;right:24px;bottom:24px;z-index:2147483000;display:flex;",
    "align-items:center;gap:8px;height:54px;padding:0 20px 0 16px;border:0;border-radius:27px;",
    "background:linear-gradient(135deg,#0f4c9c,#1763c6);color:#fff;cursor:pointer;",
    "font:600 15px/1 'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;",
    "box-shadow:0 10px 30px rgba(15,76,156,.35);transition:transform .15s}",
    ".anshun-chat-launcher:hover{transform:translateY(-2px)}",
    ".anshun-chat-launcher svg{width:24px;height:24px}",
    ".anshun-chat-panel{position:fixed;right:24px;bottom:92px;z-index:2147483000;width:380px;",
    "height:min(640px,calc(100vh - 120px));border-radius:16px;overflow:hidden;background:#fff;",
    "box-shadow:0 18px 60px rgba(15,30,60,.28);display:none}",
    ".anshun-chat-panel.open{display:block}",
    ".anshun-chat-panel iframe{width:100%;height:100%;border:0;display:block}",
    "@media (max-width:480px){.anshun-chat-panel{right:0;bottom:0;width:100%;height:100%;",
    "border-radius:0}.anshun-chat-launcher.hidden-mobile{display:none}}"
  ].join("");

  function mount() {
    var style = document.createElement("style");
    style.textContent = css;
    document.head.appendChild(style);

    var launcher = document.createElement("button");
    launcher.type = "button";
    launcher.className = "anshun-chat-launcher";
    launcher.setAttribute("aria-label", "打开在线客服");
    var svgNs = "http://www.w3.org/2000/svg";
    var icon = document.createElementNS(svgNs, "svg");
    icon.setAttribute("viewBox", "0 0 24 24");
    icon.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(svgNs, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M12 3C6.5 3 2 6.8 2 11.5c0 2.4 1.2 4.6 3.1 6.1L4.5 21l3.9-2.1c1.1.3 2.3.5 3.6.5 5.5 0 10-3.8 10-8.5S17.5 3 12 3zm-4 9.8a1.3 1.3 0 110-2.6 1.3 1.3 0 010 2.6zm4 0a1.3 1.3 0 110-2.6 1.3 1.3 0 010 2.6zm4 0a1.3 1.3 0 110-2.6 1.3 1.3 0 010 2.6z");
    icon.appendChild(path);
    launcher.appendChild(icon);
    var label = document.createElement("span");
    label.textContent = "在线客服";
    launcher.appendChild(label);

    var panel = document.createElement("div");
    panel.className = "anshun-chat-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", "安顺人寿 在线客服");
    var frame = null;

    function open() {
      if (!frame) {
        frame = document.createElement("iframe");
        frame.title = "安顺人寿 在线客服";
        frame.src = base + "/chat?embed=1";
        frame.allow = "clipboard-write";
        panel.appendChild(frame);
      }
      panel.classList.add("open");
      launcher.classList.add("hidden-mobile");
      launcher.setAttribute("aria-expanded", "true");
    }
    function close() {
      panel.classList.remove("open");
      launcher.classList.remove("hidden-mobile");
      launcher.setAttribute("aria-expanded", "false");
    }
    launcher.addEventListener("click", function () {
      if (panel.classList.contains("open")) close(); else open();
    });
    window.addEventListener("message", function (event) {
      if (event.origin === base && event.data && event.data.type === "anshun-chat:close") close();
    });
    document.body.appendChild(panel);
    document.body.appendChild(launcher);
    window.AnshunChat = { open: open, close: close };
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mount);
  } else {
    mount();
  }
})();
