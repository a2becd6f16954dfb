// The ticket verbs' dialogs: a text (note, update, request, proposal, reopen, close),
// assign to an agent or a team, and resolve with the outcome and the remedy.
import { api } from "./api.js";
import { PRESENCE_ORDER, showError } from "./dialogs.js";
import { $, $$, empty, h, replace } from "./dom.js";
import { label, PRESENCE } from "./format.js";
import { explainTicket, yuanToFen } from "./tickets-format.js";

function bindClose(dialog) {
  for (const button of $$("[data-close]", dialog)) button.addEventListener("click", () => dialog.close());
}

// Text verbs: the dialog's wording, the field the API takes, whether it is required.
const TEXT_VERBS = {
  notes: { title: "添加内部备注", sub: "仅内部可见，客户看不到。", field: "text", required: true, submit: "保存备注", placeholder: "处理要点、核实情况等" },
  update: { title: "告知客户进展", sub: "客户会收到这条进展通知。", field: "text", required: true, submit: "发送给客户", placeholder: "例如：已联系理赔部门核实，预计3个工作日内答复您。" },
  "request-info": { title: "请客户补充信息", sub: "客户会收到补充材料的请求；解决时限照常计算。", field: "text", required: true, submit: "发送请求", placeholder: "例如：请提供扣款当月的银行流水截图。" },
  propose: { title: "提出处理方案", sub: "方案会发给客户确认，工单状态不变。", field: "proposal", required: true, submit: "发送方案", placeholder: "例如：为您退还重复扣除的保费 ¥368.00。" },
  reopen: { title: "重新打开工单", sub: "工单回到「处理中」，原处理结果保留在记录里。", field: "reason", required: true, submit: "重新打开", placeholder: "重新打开的原因" },
  close: { title: "关闭工单", sub: "关闭后如客户仍有异议，可重新打开。", field: "note", required: false, submit: "关闭工单", placeholder: "关闭说明（可选，客户可见）" },
};

export class TextDialog {
  constructor({ onDone }) {
    this.dialog = $("#dlg-tk-text");
    this.error = $("#tk-text-error");
    this.onDone = onDone;
    bindClose(this.dialog);
    $("#form-tk-text").addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  open(ticket, verb) {
    this.ticket = ticket;
    this.verb = verb;
    this.spec = TEXT_VERBS[verb];
    $("#dlg-tk-text-title").textContent = `${this.spec.title} · ${ticket.ticket_no}`;
    $("#tk-text-sub").textContent = this.spec.sub;
    $("#tk-text-label").textContent = this.spec.required ? "内容" : "内容（可选）";
    $("#tk-text-submit").textContent = this.spec.submit;
    const input = $("#tk-text-input");
    input.value = "";
    input.placeholder = this.spec.placeholder;
    this.dialog.dataset.verb = verb;
    showError(this.error, "");
    this.dialog.showModal();
    input.focus();
  }

  async submit() {
    const text = $("#tk-text-input").value.trim();
    if (this.spec.required && !text) return showError(this.error, "请填写内容");
    const body = text ? { [this.spec.field]: text } : {};
    const button = $("#tk-text-submit");
    button.disabled = true;
    try {
      const result = await api(`/tickets/${this.ticket.id}/${this.verb}`, { method: "POST", body });
      this.dialog.close();
      this.onDone(result, this.verb);
    } catch (error) {
      showError(this.error, explainTicket(error));
    } finally {
      button.disabled = false;
    }
  }
}

export class AssignDialog {
  constructor({ me, onDone, onBulk }) {
    this.dialog = $("#dlg-tk-assign");
    this.form = $("#form-tk-assign");
    this.error = $("#tk-assign-error");
    this.me = me;
    this.onDone = onDone;
    this.onBulk = onBulk;
    this.agents = [];
    this.teams = [];
    this.choice = null;
    bindClose(this.dialog);
    for (const radio of $$('input[name="tk-target"]', this.form)) radio.addEventListener("change", () => this.switchTarget());
    $("#tk-assign-q").addEventListener("input", () => this.renderAgents());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  get target() {
    return $('input[name="tk-target"]:checked', this.form).value;
  }

  switchTarget() {
    this.choice = null;
    for (const field of $$(".field[data-for]", this.form)) field.hidden = field.dataset.for !== this.target;
    this.renderAgents();
    this.renderTeams();
  }

  /** Assign ``ticket``, or every one of ``tickets`` (ticked in the list: bulk). */
  async open(ticket, tickets = null) {
    this.ticket = ticket;
    this.tickets = tickets;
    const many = tickets !== null;
    $("#dlg-tk-assign-title").textContent = many ? `批量指派 ${tickets.length} 张工单` : "指派 / 转派工单";
    $("#tk-assign-submit").textContent = many ? `指派 ${tickets.length} 张` : "确认指派";
    $("#tk-assign-note").value = "";
    $("#tk-assign-q").value = "";
    showError(this.error, "");
    replace($("#tk-assign-agents"), empty("加载中…"));
    this.dialog.showModal();
    try {
      const [agents, teams] = await Promise.all([api("/agents"), api("/teams")]);
      // the ticket's own desk first, then who is online, then the least loaded
      const rank = (a) => [a.team_id === ticket.team_id ? 0 : 1, PRESENCE_ORDER[a.presence] ?? 3, a.load / (a.capacity || 1)];
      const cmp = (x, y) => rank(x).reduce((d, v, i) => d || v - rank(y)[i], 0);
      this.agents = (agents.items || []).filter((a) => many || !ticket.assignee || a.id !== ticket.assignee.id).sort(cmp);
      this.teams = teams.items || [];
    } catch (error) {
      showError(this.error, explainTicket(error, "坐席和团队列表加载失败"));
    }
    this.switchTarget();
  }

  pick(kind, item, meta, tail) {
    const picked = this.choice === item.id;
    return h(
      "button",
      {
        type: "button",
        role: "option",
        class: picked ? "pick is-picked" : "pick",
        "aria-selected": picked ? "true" : "false",
        dataset: { [`${kind}Id`]: item.id, name: item.name },
        onclick: () => {
          this.choice = item.id;
          kind === "agent" ? this.renderAgents() : this.renderTeams();
        },
      },
      h("span", { class: `dot dot-${item.presence || (item.online ? "online" : "offline")}` }),
      h("span", { class: "pick-name" }, item.id === this.me.id ? `${item.name}（我）` : item.name),
      h("span", { class: "pick-meta" }, meta),
      h("span", { class: "pick-state" }, tail),
    );
  }

  renderAgents() {
    const q = $("#tk-assign-q").value.trim().toLowerCase();
    const rows = this.agents.filter((a) => !q || [a.name, a.team_name, ...(a.skills || [])].join(" ").toLowerCase().includes(q));
    if (!rows.length) return replace($("#tk-assign-agents"), empty("没有符合条件的坐席"));
    replace($("#tk-assign-agents"), rows.map((a) => this.pick("agent", a, a.team_name || "—", label(PRESENCE, a.presence))));
  }

  renderTeams() {
    if (!this.teams.length) return replace($("#tk-assign-teams"), empty("没有可选团队"));
    replace($("#tk-assign-teams"), this.teams.map((t) => this.pick("team", t, `${t.members ?? "—"} 人`, `在线 ${t.online ?? "—"}`)));
  }

  async submit() {
    if (!this.choice) return showError(this.error, this.target === "agent" ? "请选择坐席" : "请选择团队");
    const note = $("#tk-assign-note").value.trim();
    const body = this.target === "agent" ? { agent_id: this.choice } : { team_id: this.choice };
    if (note) body.note = note;
    const button = $("#tk-assign-submit");
    button.disabled = true;
    try {
      if (this.tickets) {
        body.ticket_ids = this.tickets.map((t) => t.id);
        const result = await api("/tickets/bulk-assign", { method: "POST", body });
        this.dialog.close();
        this.onBulk(result, "assign");
        return;
      }
      const result = await api(`/tickets/${this.ticket.id}/assign`, { method: "POST", body });
      this.dialog.close();
      this.onDone(result, "assign");
    } catch (error) {
      showError(this.error, explainTicket(error, "指派失败，请重试"));
    } finally {
      button.disabled = false;
    }
  }
}

export class ResolveDialog {
  constructor({ onDone }) {
    this.dialog = $("#dlg-tk-resolve");
    this.form = $("#form-tk-resolve");
    this.error = $("#tk-resolve-error");
    this.onDone = onDone;
    bindClose(this.dialog);
    for (const radio of $$('input[name="tk-remedy"]', this.form)) radio.addEventListener("change", () => this.switchRemedy());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  get remedy() {
    return $('input[name="tk-remedy"]:checked', this.form).value;
  }

  switchRemedy() {
    $("#tk-refund-field").hidden = this.remedy !== "refund";
    $("#tk-reject-field").hidden = this.remedy !== "rejected";
  }

  open(ticket) {
    this.ticket = ticket;
    $("#tk-resolve-outcome").value = ticket.proposal || "";
    $("#tk-refund-yuan").value = "";
    $("#tk-reject-reason").value = "";
    $('input[name="tk-remedy"][value=""]', this.form).checked = true;
    $("#dlg-tk-resolve-title").textContent = `解决工单 · ${ticket.ticket_no}`;
    this.switchRemedy();
    showError(this.error, "");
    this.dialog.showModal();
  }

  async submit() {
    const outcome = $("#tk-resolve-outcome").value.trim();
    if (!outcome) return showError(this.error, "请填写处理结果");
    const body = { outcome };
    const remedy = this.remedy;
    if (remedy) body.remedy = remedy;
    if (remedy === "refund") {
      const fen = yuanToFen($("#tk-refund-yuan").value);
      if (fen === null) return showError(this.error, "请填写正确的退款金额（元，最多两位小数）");
      body.refund_fen = fen;
    }
    if (remedy === "rejected") {
      const reason = $("#tk-reject-reason").value.trim();
      if (!reason) return showError(this.error, "请填写不予支持的理由");
      body.remedy_reason = reason;
    }
    const button = $("#tk-resolve-submit");
    button.disabled = true;
    try {
      const result = await api(`/tickets/${this.ticket.id}/resolve`, { method: "POST", body });
      this.dialog.close();
      this.onDone(result, "resolve");
    } catch (error) {
      showError(this.error, explainTicket(error, "解决失败，请重试"));
    } finally {
      button.disabled = false;
    }
  }
}
