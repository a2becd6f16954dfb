// The top bar shared by every page: logout and the live-connection indicator.
import { api } from "./api.js";
import { $ } from "./dom.js";

const LIVE_TEXT = {
  connecting: "连接中…",
  open: "实时已连接",
  reconnecting: "重新连接中…",
  closed: "连接已断开",
  forbidden: "实时连接被拒绝",
};

/** Said once when the server refuses the page's origin (close code 4403). */
export const LIVE_FORBIDDEN_TEXT =
  "实时连接被服务器拒绝：当前页面地址不在允许的来源中。页面将定时刷新，请联系管理员配置 CRM_CONSOLE_ALLOWED_ORIGINS。";

/** Show the websocket's state in the top bar. */
export function setLiveState(state) {
  const badge = $("#live-status");
  if (!badge) return;
  badge.dataset.state = state;
  $(".live-text", badge).textContent = LIVE_TEXT[state] || state;
  badge.title = state === "forbidden" ? LIVE_FORBIDDEN_TEXT : "";
}

/** Wire the logout button. */
export function initShell() {
  const button = $("#logout");
  if (!button) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api("/auth/logout", { method: "POST", redirectOn401: false });
    } catch {
      /* the session is gone either way */
    }
    location.assign("/console/login");
  });
}
