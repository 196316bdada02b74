// A person: rename in place, their photos newest first, merge another person into them, forget them.
import { api } from "../api.js";
import { h, show, personName, plural, errorBox, dialog, formatDate } from "../ui.js";

export async function personPage(id) {
  let person;
  try {
    person = await api.person(id);
  } catch (error) {
    show("Person", h("h1", {}, "Person"), errorBox(error));
    return;
  }
  if (person.id !== id) { location.replace(`#/people/${encodeURIComponent(person.id)}`); return; } // merged away

  const status = h("p", { class: "status", role: "status" });
  const nameInput = h("input", {
    class: "name-input", value: person.name || "", placeholder: "Add a name", "aria-label": "Name", maxlength: 200,
  });
  const count = h("p", { class: "muted count" }, plural(person.photoCount, "photo"));
  async function rename() {
    const name = nameInput.value.trim();
    if (name === (person.name || "")) return;
    try {
      person = await api.rename(person.id, name || null);
      status.textContent = person.name ? `Named ${person.name}.` : "Name removed.";
      document.title = `${personName(person)} · FaceClusterKit`;
      heading.textContent = personName(person);
    } catch (error) {
      status.replaceChildren(errorBox(error));
    }
  }
  nameInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); rename(); }
    if (event.key === "Escape") nameInput.value = person.name || "";
  });
  nameInput.addEventListener("change", rename);

  const heading = h("h1", {}, personName(person));
  const photos = h("ul", { class: "grid photos", "aria-label": `Photos of ${personName(person)}` });
  const more = h("button", { type: "button", class: "more", hidden: true }, "Show more photos");
  show(personName(person),
    h("div", { class: "person-head" },
      person.coverThumbnailUrl ? h("img", { class: "cover", src: person.coverThumbnailUrl, alt: `Face of ${personName(person)}`, width: 96, height: 96 }) : null,
      h("div", {}, heading, h("label", { class: "rename" }, nameInput), count)),
    person.unassigned
      ? h("p", { class: "muted unassigned-note" }, "Unassigned: seen too few times to be a person yet, so not listed among the people. ",
        h("button", { type: "button", class: "link", onclick: () => makePerson() }, "Make a person"), " or merge into the right person.")
      : null,
    h("div", { class: "actions" },
      h("button", { type: "button", onclick: () => merge() }, "Merge with another person…"),
      h("button", { type: "button", class: "danger", onclick: () => forget() }, "Forget this person…")),
    status, photos, more);

  let cursor = null;
  async function load() {
    more.disabled = true;
    try {
      const page = await api.photosOf(person.id, cursor);
      photos.append(...page.photos.map((item) => h("li", { class: "tile", dataset: { photoId: item.photoId } },
        h("a", { href: `#/photos/${encodeURIComponent(item.photoId)}` },
          h("img", { src: item.url, alt: `Photo with ${personName(person)}, added ${formatDate(item.addedAt)}`, loading: "lazy" })))));
      cursor = page.nextCursor;
      more.hidden = !cursor;
    } catch (error) {
      photos.after(errorBox(error));
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener("click", load);

  // An unassigned group made a person (its face, as Review's "Make a person" does), then shown listed.
  async function makePerson() {
    try {
      const face = (await api.photosOf(person.id, null)).photos[0]?.face;
      if (!face) return;
      const made = await api.makePerson(face.faceId);
      await personPage(made.id);
      document.querySelector("main [role=status]").textContent = "Now listed among the people; name them above.";
    } catch (error) {
      status.replaceChildren(errorBox(error));
    }
  }
  async function merge() {
    const chosen = await dialog(`Merge into ${personName(person)}`, (choose) => {
      const list = h("ul", { class: "picker", "aria-label": "People to merge" });
      const filter = h("input", { type: "search", placeholder: "Filter by name", "aria-label": "Filter people by name" });
      let everyone = [];
      function render() {
        const text = filter.value.trim().toLowerCase();
        list.replaceChildren(...everyone
          .filter((other) => other.id !== person.id && personName(other).toLowerCase().includes(text))
          .map((other) => h("li", {},
            h("button", { type: "button", class: "pick", dataset: { personId: other.id }, onclick: () => choose(other) },
              other.coverThumbnailUrl ? h("img", { src: other.coverThumbnailUrl, alt: "", width: 48, height: 48 }) : null,
              h("span", {}, personName(other)), h("span", { class: "muted" }, plural(other.photoCount, "photo"))))));
      }
      (async () => {
        let next = null;
        do {
          const page = await api.people(next, 100);
          everyone = everyone.concat(page.people);
          next = page.nextCursor;
        } while (next && everyone.length < 2000);
        render();
      })().catch((error) => list.replaceChildren(errorBox(error)));
      filter.addEventListener("input", render);
      return h("div", {},
        h("p", {}, "Their photos move to this person. Undo is under Review → History."),
        filter, list,
        h("p", {}, h("button", { type: "button", onclick: () => choose(null) }, "Cancel")));
    });
    if (!chosen) return;
    try {
      person = await api.merge(person.id, chosen.id);
      status.textContent = `Merged ${personName(chosen)} into ${personName(person)}.`;
      count.textContent = plural(person.photoCount, "photo");
      photos.replaceChildren();
      cursor = null;
      await load();
    } catch (error) {
      status.replaceChildren(errorBox(error));
    }
  }

  async function forget() {
    const sure = await dialog(`Forget ${personName(person)}?`, (choose) => h("div", {},
      h("p", {}, `Every face of ${personName(person)} leaves the index and their thumbnails are deleted. `
        + "The photos stay, with the other people in them. This cannot be undone."),
      h("p", { class: "actions" },
        h("button", { type: "button", class: "danger", onclick: () => choose(true) }, "Forget"),
        h("button", { type: "button", onclick: () => choose(false), autofocus: true }, "Cancel"))));
    if (!sure) return;
    try {
      await api.forget(person.id);
      location.hash = "#/people";
    } catch (error) {
      status.replaceChildren(errorBox(error));
    }
  }

  await load();
}
