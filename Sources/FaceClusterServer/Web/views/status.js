// Status: photos that failed, with their reasons, and photos still waiting or in progress.
import { api } from "../api.js";
import { h, show, errorBox, formatDate, plural } from "../ui.js";

async function section(title, status, render) {
  const list = h("ul", { class: "status-list", "aria-label": title });
  const note = h("p", { class: "muted" }, "Loading…");
  const more = h("button", { type: "button", class: "more", hidden: true }, "Show more");
  let cursor = null;
  let count = 0;
  async function load() {
    try {
      const page = await api.photos(status, cursor);
      list.append(...page.photos.map(render));
      count += page.photos.length;
      cursor = page.nextCursor;
      more.hidden = !cursor;
      note.textContent = count === 0 ? "None." : `${plural(count, "photo")}${cursor ? " so far" : ""}.`;
    } catch (error) {
      note.replaceChildren(errorBox(error));
    }
  }
  more.addEventListener("click", load);
  load();
  return h("section", {}, h("h2", {}, title), note, list, more);
}

export async function statusPage() {
  const photoLink = (photo) => h("a", { href: `#/photos/${encodeURIComponent(photo.id)}` }, photo.name);
  show("Status", h("h1", {}, "Status"),
    await section("Failed photos", "failed", (photo) => h("li", { class: "failed", dataset: { photoId: photo.id } },
      photoLink(photo), h("span", { class: "reason" }, `${photo.failure?.message || "unknown reason"}`),
      h("code", {}, photo.failure?.code || ""), photo.failure?.retryable ? h("span", { class: "muted" }, " (will be retried)") : null,
      h("span", { class: "muted when" }, formatDate(photo.updatedAt)))),
    await section("Waiting", "pending", (photo) => h("li", {}, photoLink(photo), h("span", { class: "muted" }, ` added ${formatDate(photo.addedAt)}`))),
    await section("In progress", "processing", (photo) => h("li", {}, photoLink(photo))));
}
