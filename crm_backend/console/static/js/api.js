// The agent API over fetch: same-origin cookie, JSON in and out, errors as ApiError.
export const API = "/api/v1/agent";

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

function toLogin() {
  const next = encodeURIComponent(location.pathname);
  location.assign(`/console/login?next=${next}`);
}

/** Call ``path`` under the agent API; 401 sends the browser to the login page. */
export async function api(path, { method = "GET", body, redirectOn401 = true, signal } = {}) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin", signal };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(API + path, init);
  if (response.status === 204) return null;
  let data = null;
  const type = response.headers.get("content-type") || "";
  if (type.includes("application/json")) data = await response.json().catch(() => null);
  if (!response.ok) {
    const err = (data && data.error) || {};
    if (response.status === 401 && redirectOn401) toLogin();
    throw new ApiError(response.status, err.code, err.message, data);
  }
  return data;
}

const MESSAGES = {
  already_accepted: "该会话已被其他坐席接入",
  not_holder: "您未持有该会话，无法回复",
  conversation_closed: "会话已结束",
  forbidden: "您没有权限执行此操作",
  not_found: "记录不存在或已被处理",
  validation_error: "输入内容不符合要求",
  over_capacity: "已达接待上限",
  wechat_window_closed: "客户已超过48小时未发消息，无法通过微信触达（已为您创建回电任务）",
};

/** A short Chinese explanation of an API error for a toast. */
export function explain(error, fallback = "操作失败，请稍后重试") {
  if (!(error instanceof ApiError)) {
    // fetch rejects with a TypeError when the network (or the server) is unreachable
    return error instanceof TypeError && /fetch|network/i.test(error.message) ? "网络异常，请检查连接后重试" : fallback;
  }
  if (error.code && MESSAGES[error.code]) return MESSAGES[error.code];
  if (error.status === 409) return "状态已变化，请刷新后重试";
  if (error.status === 403) return MESSAGES.forbidden;
  if (error.status === 404) return MESSAGES.not_found;
  if (error.status === 422) return MESSAGES.validation_error;
  return fallback;
}
