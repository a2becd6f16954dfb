// The agent's own presence switch (在线/离开/离线) and load/capacity in the top bar.
import { api, explain } from "./api.js";
import { $, $$, toast } from "./dom.js";

const root = document.body;
// bumped by every switch: a /me read started before it must not undo it
let changes = 0;

function showPresence(presence) {
  for (const button of $$("#presence .presence-opt")) {
    button.setAttribute("aria-checked", button.dataset.presence === presence ? "true" : "false");
  }
  root.dataset.presence = presence;
}

/** Re-read /me: presence, load and capacity. */
export async function loadMe() {
  const seen = changes;
  try {
    const data = await api("/me");
    if (seen === changes) showPresence(data.presence);
    $("#load-value").textContent = String(data.load ?? 0);
    $("#capacity-value").textContent = String(data.capacity ?? "–");
    $("#load-chip").classList.toggle("is-full", (data.load ?? 0) >= (data.capacity ?? Infinity));
  } catch {
    /* the next hint or resync tries again */
  }
}

/** Wire the presence switch. */
export function initPresence() {
  for (const button of $$("#presence .presence-opt")) {
    button.addEventListener("click", async () => {
      const presence = button.dataset.presence;
      const previous = root.dataset.presence;
      changes += 1;
      showPresence(presence);
      try {
        const data = await api("/me/presence", { method: "POST", body: { presence } });
        showPresence(data.presence);
        toast(`状态已切换为「${button.textContent.trim()}」`, "success");
      } catch (error) {
        showPresence(previous);
        toast(explain(error, "状态切换失败"), "error");
      }
    });
    button.disabled = false; // rendered disabled: no click is lost before this
  }
}
