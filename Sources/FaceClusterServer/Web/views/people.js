// People: a grid of faces with names and photo counts, most photos first, a page at a time (cursor).
import { api } from "../api.js";
import { h, show, personName, plural, errorBox } from "../ui.js";

export function personCard(person) {
  const name = personName(person);
  return h("li", { class: "card", dataset: { personId: person.id } },
    h("a", { href: `#/people/${encodeURIComponent(person.id)}` },
      person.coverThumbnailUrl
        ? h("img", { src: person.coverThumbnailUrl, alt: `Face of ${name}`, loading: "lazy", width: 160, height: 160 })
        : h("span", { class: "noface", role: "img", "aria-label": `No face of ${name}` }, "?"),
      h("span", { class: "name" }, name),
      h("span", { class: "count" }, plural(person.photoCount, "photo"))));
}

export async function peoplePage() {
  const grid = h("ul", { class: "grid people", "aria-label": "People" });
  const more = h("button", { type: "button", class: "more", hidden: true }, "Show more people");
  const summary = h("p", { class: "muted" }, "Loading…");
  show("People", h("div", { class: "heading" }, h("h1", {}, "People"), summary), grid, more);
  let cursor = null;
  let shown = 0;
  async function load() {
    more.disabled = true;
    try {
      const page = await api.people(cursor);
      grid.append(...page.people.map(personCard));
      shown += page.people.length;
      cursor = page.nextCursor;
      more.hidden = !cursor;
      summary.textContent = shown === 0
        ? "No people yet."
        : `${plural(shown, "person").replace("persons", "people")}${cursor ? " so far" : ""}, most photos first.`;
      if (shown === 0) summary.append(" ", h("a", { href: "#/upload" }, "Upload photos"), " to find the people in them.");
    } catch (error) {
      grid.after(errorBox(error, () => { error.box?.remove(); load(); }));
      summary.textContent = "";
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener("click", load);
  await load();
}
