// Login: employee number + password → POST /auth/login (sets the HttpOnly cookie).
import { api, ApiError } from "./api.js";
import { $ } from "./dom.js";

const form = $("#login-form");
const errorBox = $("#login-error");
const submit = $("#login-submit");

function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = false;
}

function reason(error) {
  if (!(error instanceof ApiError)) return "无法连接服务器，请检查网络后重试";
  if (error.status === 401) return "工号或密码错误，请重新输入";
  if (error.status === 423) return "登录失败次数过多，账号已暂时锁定，请稍后再试";
  if (error.status === 403) return "该账号已停用，请联系主管";
  if (error.status === 422) return "请输入工号和密码";
  return "登录失败，请稍后重试";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  const employeeNo = $("#employee_no").value.trim().toUpperCase();
  const password = $("#password").value;
  if (!employeeNo || !password) {
    showError("请输入工号和密码");
    return;
  }
  submit.disabled = true;
  submit.textContent = "登录中…";
  try {
    await api("/auth/login", {
      method: "POST",
      body: { employee_no: employeeNo, password },
      redirectOn401: false,
    });
    location.assign(form.dataset.next || "/console/");
  } catch (error) {
    showError(reason(error));
    $("#password").value = "";
    $("#password").focus();
    submit.disabled = false;
    submit.textContent = "登录";
  }
});
