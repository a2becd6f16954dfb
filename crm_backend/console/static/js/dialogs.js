// Transfer (to an agent or a team, with an internal note) and resolve (with an outcome).
import { api, explain } from "./api.js";
import { $, $$, empty, h, replace } from "./dom.js";
import { label, PRESENCE, TOPIC } from "./format.js";

function bindClose(dialog) {
  for (const button of $$("[data-close]", dialog)) button.addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
}

export function showError(box, text) {
  box.textContent = text;
  box.hidden = !text;
}

export const PRESENCE_ORDER = { online: 0, away: 1, offline: 2 };

export class TransferDialog {
  constructor({ me, onDone }) {
    this.dialog = $("#dlg-transfer");
    this.form = $("#form-transfer");
    this.error = $("#transfer-error");
    this.me = me;
    this.onDone = onDone;
    this.agents = [];
    this.teams = [];
    this.choice = null;
    bindClose(this.dialog);
    for (const radio of $$('input[name="target"]', this.form)) radio.addEventListener("change", () => this.switchTarget());
    $("#transfer-agent-q").addEventListener("input", () => this.renderAgents());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  get target() {
    return $('input[name="target"]:checked', this.form).value;
  }

  switchTarget() {
    this.choice = null;
    for (const field of $$(".field[data-for]", this.form)) field.hidden = field.dataset.for !== this.target;
    this.renderAgents();
    this.renderTeams();
  }

  async open(escalation) {
    this.escalation = escalation;
    this.choice = null;
    $("#transfer-note").value = "";
    $("#transfer-agent-q").value = "";
    showError(this.error, "");
    replace($("#transfer-agents"), empty("加载中…"));
    replace($("#transfer-teams"), empty("加载中…"));
    this.dialog.showModal();
    try {
      const [agents, teams] = await Promise.all([api("/agents"), api("/teams")]);
      this.agents = (agents.items || []).filter((a) => a.id !== this.me.id);
      this.agents.sort((a, b) => (PRESENCE_ORDER[a.presence] ?? 3) - (PRESENCE_ORDER[b.presence] ?? 3) || a.load / (a.capacity || 1) - b.load / (b.capacity || 1));
      this.teams = teams.items || [];
    } catch (error) {
      showError(this.error, explain(error, "坐席和团队列表加载失败"));
    }
    this.switchTarget();
  }

  renderAgents() {
    const q = $("#transfer-agent-q").value.trim().toLowerCase();
    const rows = this.agents.filter((a) => !q || [a.name, a.team_name, ...(a.skills || [])].join(" ").toLowerCase().includes(q));
    if (!rows.length) return replace($("#transfer-agents"), empty("没有符合条件的坐席"));
    replace(
      $("#transfer-agents"),
      rows.map((a) => {
        const full = a.load >= a.capacity;
        return h(
          "button",
          {
            type: "button",
            role: "option",
            class: this.choice === a.id ? "pick is-picked" : "pick",
            "aria-selected": this.choice === a.id ? "true" : "false",
            dataset: { agentId: a.id, name: a.name },
            onclick: () => {
              this.choice = a.id;
              this.renderAgents();
            },
          },
          h("span", { class: `dot dot-${a.presence}`, title: label(PRESENCE, a.presence) }),
          h("span", { class: "pick-name" }, a.name),
          h("span", { class: "pick-meta" }, a.team_name || "—"),
          h("span", { class: full ? "pick-load is-full" : "pick-load" }, `${a.load}/${a.capacity}`),
          h("span", { class: "pick-state" }, label(PRESENCE, a.presence)),
        );
      }),
    );
  }

  renderTeams() {
    if (!this.teams.length) return replace($("#transfer-teams"), empty("没有可选团队"));
    replace(
      $("#transfer-teams"),
      this.teams.map((t) =>
        h(
          "button",
          {
            type: "button",
            role: "option",
            class: this.choice === t.id ? "pick is-picked" : "pick",
            "aria-selected": this.choice === t.id ? "true" : "false",
            dataset: { teamId: t.id, name: t.name },
            onclick: () => {
              this.choice = t.id;
              this.renderTeams();
            },
          },
          h("span", { class: `dot ${t.online ? "dot-online" : "dot-offline"}` }),
          h("span", { class: "pick-name" }, t.name),
          h("span", { class: "pick-meta" }, (t.topics || []).map((x) => label(TOPIC, x)).join("、")),
          h("span", { class: "pick-load" }, `在线 ${t.online ?? "—"}`),
        ),
      ),
    );
  }

  async submit() {
    const note = $("#transfer-note").value.trim();
    if (!this.choice) return showError(this.error, this.target === "agent" ? "请选择要转接的坐席" : "请选择要转接的团队");
    if (!note) return showError(this.error, "请填写转接说明，方便接手的同事了解情况");
    const body = this.target === "agent" ? { agent_id: this.choice, note } : { team_id: this.choice, note };
    const button = $("#transfer-submit");
    button.disabled = true;
    try {
      const result = await api(`/escalations/${this.escalation.id}/transfer`, { method: "POST", body });
      this.dialog.close();
      this.onDone(result);
    } catch (error) {
      showError(this.error, explain(error, "转接失败，请重试"));
    } finally {
      button.disabled = false;
    }
  }
}

export class ResolveDialog {
  constructor({ onDone }) {
    this.dialog = $("#dlg-resolve");
    this.form = $("#form-resolve");
    this.error = $("#resolve-error");
    this.onDone = onDone;
    bindClose(this.dialog);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  open(escalation) {
    this.escalation = escalation;
    $("#resolve-note").value = "";
    $('input[name="outcome"]', this.form).checked = true;
    showError(this.error, "");
    this.dialog.showModal();
  }

  async submit() {
    const outcome = $('input[name="outcome"]:checked', this.form).value;
    const note = $("#resolve-note").value.trim();
    const body = note ? { outcome, note } : { outcome };
    const button = $("#resolve-submit");
    button.disabled = true;
    try {
      const result = await api(`/escalations/${this.escalation.id}/resolve`, { method: "POST", body });
      this.dialog.close();
      this.onDone(result, outcome);
    } catch (error) {
      showError(this.error, explain(error, "结束会话失败，请重试"));
    } finally {
      button.disabled = false;
    }
  }
}
