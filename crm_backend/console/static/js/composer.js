// The composer: reply or private note (内部备注), Enter to send, canned replies on "/".
import { api, explain } from "./api.js";
import { $, empty, h, replace, toast } from "./dom.js";

const MAX = 2000;

export class Composer {
  constructor({ form, onSent }) {
    this.form = form;
    this.input = $("#composer-input", form);
    this.send = $("#btn-send", form);
    this.count = $("#composer-count", form);
    this.hint = $("#composer-hint", form);
    this.canned = $("#canned", form);
    this.cannedQ = $("#canned-q", form);
    this.cannedList = $("#canned-list", form);
    this.onSent = onSent;
    this.mode = "reply";
    this.conversationId = null;
    this.canReply = false;
    this.canNote = false;
    this.busy = false;
    this.cannedItems = [];
    this.cannedIndex = 0;
    this.cannedSeq = 0;
    this.drafts = new Map();
    this.bind();
  }

  bind() {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    for (const button of this.form.querySelectorAll(".mode")) {
      button.addEventListener("click", () => this.setMode(button.dataset.mode));
    }
    this.input.addEventListener("keydown", (event) => {
      // Never send while an IME (pinyin) is composing: Enter confirms the candidate.
      if (event.isComposing || event.keyCode === 229) return;
      if (!this.canned.hidden && ["ArrowDown", "ArrowUp", "Escape"].includes(event.key)) {
        this.cannedKey(event);
        return;
      }
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        if (!this.canned.hidden && this.cannedItems.length) this.pickCanned(this.cannedIndex);
        else this.submit();
      }
    });
    this.input.addEventListener("input", () => {
      this.updateCount();
      const text = this.input.value;
      if (text.startsWith("/")) this.openCanned(text.slice(1), { focusSearch: false });
      else if (!this.canned.hidden && this.cannedFromSlash) this.closeCanned();
    });
    $("#btn-canned", this.form).addEventListener("click", () => {
      if (this.canned.hidden) this.openCanned("", { focusSearch: true });
      else this.closeCanned();
    });
    this.cannedQ.addEventListener("input", () => this.loadCanned(this.cannedQ.value));
    this.cannedQ.addEventListener("keydown", (event) => {
      if (event.isComposing || event.keyCode === 229) return;
      if (["ArrowDown", "ArrowUp", "Escape"].includes(event.key)) this.cannedKey(event);
      else if (event.key === "Enter") {
        event.preventDefault();
        if (this.cannedItems.length) this.pickCanned(this.cannedIndex);
      }
    });
    document.addEventListener("click", (event) => {
      if (!this.canned.hidden && !this.form.contains(event.target)) this.closeCanned();
    });
  }

  /** Point the composer at a conversation with the caller's rights on it. */
  attach({ conversationId, canReply, canNote, reason }) {
    if (conversationId !== this.conversationId) {
      // Drafts stay with their conversation while the agent looks elsewhere.
      if (this.conversationId) this.drafts.set(this.conversationId, this.input.value);
      this.input.value = (conversationId && this.drafts.get(conversationId)) || "";
      this.closeCanned();
    }
    this.conversationId = conversationId;
    this.canReply = canReply;
    this.canNote = canNote;
    this.reason = reason;
    if (!canReply && this.mode === "reply" && canNote && !this.input.value) this.setMode("note");
    else if (canReply && this.mode === "note" && !this.input.value) this.setMode("reply");
    else this.refresh();
  }

  setMode(mode) {
    this.mode = mode;
    this.form.classList.toggle("is-note", mode === "note");
    for (const button of this.form.querySelectorAll(".mode")) {
      button.setAttribute("aria-selected", button.dataset.mode === mode ? "true" : "false");
    }
    this.refresh();
    this.input.focus();
  }

  refresh() {
    const note = this.mode === "note";
    const allowed = note ? this.canNote : this.canReply;
    this.input.disabled = !allowed;
    this.send.disabled = !allowed || this.busy;
    this.send.textContent = note ? "添加备注" : "发送";
    if (!allowed) {
      this.input.placeholder = note ? "此会话已结束，不能添加备注" : this.reason || "接入会话后即可回复客户";
    } else {
      this.input.placeholder = note
        ? "内部备注仅同事可见，客户看不到（Enter 保存）"
        : "输入回复，Enter 发送，Shift+Enter 换行，输入 / 搜索快捷回复";
    }
    this.hint.textContent = note ? "内部备注 · 客户不可见" : "Enter 发送 · Shift+Enter 换行 · / 快捷回复";
    this.updateCount();
  }

  updateCount() {
    this.count.textContent = `${this.input.value.length}/${MAX}`;
  }

  async submit() {
    const text = this.input.value.trim();
    const cid = this.conversationId;
    if (!text || this.busy || !cid) return;
    const note = this.mode === "note";
    if (note ? !this.canNote : !this.canReply) return;
    this.busy = true;
    this.refresh();
    const path = `/conversations/${cid}/${note ? "notes" : "messages"}`;
    try {
      const message = await api(path, { method: "POST", body: { text } });
      this.drafts.delete(cid);
      if (this.conversationId === cid) {
        this.input.value = "";
        this.updateCount();
        this.onSent(message);
      }
    } catch (error) {
      toast(explain(error, note ? "备注保存失败" : "发送失败，请重试"), "error");
    } finally {
      this.busy = false;
      this.refresh();
      this.input.focus();
    }
  }

  // --- canned replies -------------------------------------------------------

  openCanned(query, { focusSearch }) {
    if (!this.conversationId) return;
    this.cannedFromSlash = !focusSearch;
    this.canned.hidden = false;
    if (focusSearch) {
      this.cannedQ.value = query;
      this.cannedQ.focus();
    } else {
      this.cannedQ.value = query;
    }
    this.loadCanned(query);
  }

  closeCanned() {
    this.canned.hidden = true;
    this.cannedItems = [];
  }

  async loadCanned(query) {
    const seq = ++this.cannedSeq;
    const q = encodeURIComponent(query.trim());
    let items = [];
    try {
      const data = await api(`/conversations/${this.conversationId}/canned-replies?q=${q}`);
      items = Array.isArray(data) ? data : data.items || [];
    } catch (error) {
      if (seq !== this.cannedSeq) return;
      replace(this.cannedList, h("li", { class: "canned-empty" }, explain(error, "快捷回复加载失败")));
      return;
    }
    if (seq !== this.cannedSeq) return;
    this.cannedItems = items;
    this.cannedIndex = 0;
    this.renderCanned();
  }

  renderCanned() {
    if (!this.cannedItems.length) {
      replace(this.cannedList, h("li", { class: "canned-empty" }, empty("没有匹配的快捷回复")));
      return;
    }
    replace(
      this.cannedList,
      this.cannedItems.map((item, index) =>
        h(
          "li",
          {
            role: "option",
            class: index === this.cannedIndex ? "canned-item is-active" : "canned-item",
            "aria-selected": index === this.cannedIndex ? "true" : "false",
            onmousedown: (event) => event.preventDefault(),
            onclick: () => this.pickCanned(index),
          },
          h(
            "div",
            { class: "canned-line" },
            h("span", { class: "canned-title" }, item.title || "快捷回复"),
            item.shortcut ? h("span", { class: "canned-shortcut" }, `/${item.shortcut}`) : null,
          ),
          h("div", { class: "canned-text" }, item.text),
        ),
      ),
    );
  }

  cannedKey(event) {
    event.preventDefault();
    if (event.key === "Escape") {
      this.closeCanned();
      this.input.focus();
      return;
    }
    const n = this.cannedItems.length;
    if (!n) return;
    this.cannedIndex = (this.cannedIndex + (event.key === "ArrowDown" ? 1 : n - 1)) % n;
    this.renderCanned();
    const active = this.cannedList.querySelector(".is-active");
    if (active) active.scrollIntoView({ block: "nearest" });
  }

  pickCanned(index) {
    const item = this.cannedItems[index];
    if (!item) return;
    const current = this.input.value;
    this.input.value = current.startsWith("/") || !current.trim() ? item.text : `${current} ${item.text}`;
    this.closeCanned();
    this.updateCount();
    this.input.focus();
    this.input.setSelectionRange(this.input.value.length, this.input.value.length);
  }
}
