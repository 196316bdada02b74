// Settings: which API the gallery talks to (this server's /api, or a deployed API Gateway URL) and the token.
import { settings, saveSettings } from "../api.js";
import { h, show } from "../ui.js";

export async function settingsPage() {
  const current = settings();
  const base = h("input", { id: "base-url", value: current.baseUrl, required: true, autocomplete: "off" });
  const token = h("input", { id: "token", type: "password", value: current.token, autocomplete: "off" });
  const saved = h("p", { role: "status" });
  const form = h("form", { class: "settings" },
    h("label", { for: "base-url" }, "API base URL"), base,
    h("p", { class: "muted" }, "/api for this server; for a deployment, the HTTP API's URL (the stack's ApiUrl output)."),
    h("label", { for: "token" }, "Token"), token,
    h("p", { class: "muted" }, "The token `facecluster serve` printed, or a JWT from your identity provider for a deployment."),
    h("button", { type: "submit" }, "Save"), saved);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveSettings({ baseUrl: base.value, token: token.value });
    saved.textContent = "Saved.";
  });
  show("Settings", h("h1", {}, "Settings"), form);
}
