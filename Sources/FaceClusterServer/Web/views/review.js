// Review: what the grouping is unsure of, and what was done. People who may be one (merge them or leave them),
// faces seen too few times to be a person yet (make one a person), and the history of people operations, each
// undoable exactly.
import { api } from "../api.js";
import { h, show, personName, plural, errorBox, formatDate } from "../ui.js";

function face(person) {
  return person.coverThumbnailUrl
    ? h("img", { src: person.coverThumbnailUrl, alt: `Face of ${personName(person)}`, width: 72, height: 72 })
    : h("span", { class: "noface small", role: "img", "aria-label": `No face of ${personName(person)}` }, "?");
}

// `merged(id)`: a suggestion was taken and the person `id` merged away (the other sections follow).
async function suggestions(merged) {
  const list = h("ul", { class: "review-list", "aria-label": "Suggestions" });
  const note = h("p", { class: "muted" }, "Loading…");
  async function load() {
    try {
      const { suggestions: items } = await api.suggestions(10);
      note.textContent = items.length ? "These people may be one person, most likely first." : "No suggestions: nobody looks like someone else.";
      list.replaceChildren(...items.map((item) => {
        const row = h("li", { class: "suggestion" },
          h("a", { href: `#/people/${encodeURIComponent(item.first.id)}` }, face(item.first), h("span", {}, personName(item.first), h("br"), h("small", { class: "muted" }, plural(item.first.photoCount, "photo")))),
          h("span", { class: "similarity", title: item.reason }, `similarity ${Math.round(item.similarity)} of 100`),
          h("a", { href: `#/people/${encodeURIComponent(item.second.id)}` }, face(item.second), h("span", {}, personName(item.second), h("br"), h("small", { class: "muted" }, plural(item.second.photoCount, "photo")))),
          h("span", { class: "actions" },
            h("button", {
              type: "button", onclick: async () => {
                try {
                  const [into, from] = item.first.photoCount >= item.second.photoCount ? [item.first, item.second] : [item.second, item.first];
                  await api.merge(into.id, from.id);
                  row.replaceWith(h("li", { class: "done", role: "status" }, `Merged ${personName(from)} into ${personName(into)}.`));
                  merged(from.id);
                } catch (error) { row.append(errorBox(error)); }
              },
            }, "Same person"),
            h("button", { type: "button", onclick: () => row.remove() }, "Not now")));
        return row;
      }));
    } catch (error) {
      note.replaceChildren(errorBox(error));
    }
  }
  await load();
  return h("section", {}, h("h2", {}, "People who may be one"), note, list);
}

async function unassigned(refreshHistory) {
  const grid = h("ul", { class: "grid faces-grid", "aria-label": "Unassigned faces" });
  const note = h("p", { class: "muted" }, "Loading…");
  const more = h("button", { type: "button", class: "more", hidden: true }, "Show more faces");
  let cursor = null;
  let count = 0;
  async function load() {
    try {
      const page = await api.unassigned(cursor);
      grid.append(...page.faces.map((item) => {
        const tile = h("li", { class: "face-tile", dataset: { faceId: item.faceId, personId: item.personId } },
          h("a", { href: `#/people/${encodeURIComponent(item.personId)}` },
            h("img", { src: item.thumbnailUrl, alt: "An unassigned face", width: 120, height: 120, loading: "lazy" })),
          h("button", {
            type: "button", onclick: async () => {
              try {
                const person = await api.makePerson(item.faceId);
                location.hash = `#/people/${encodeURIComponent(person.id)}`;
                refreshHistory();
              } catch (error) { tile.append(errorBox(error)); }
            },
          }, "Make a person"));
        return tile;
      }));
      count += page.faces.length;
      cursor = page.nextCursor;
      more.hidden = !cursor;
      note.textContent = count ? "Seen too few times to be a person yet; they join one when more photos agree, or when you say." : "None.";
    } catch (error) {
      note.replaceChildren(errorBox(error));
    }
  }
  more.addEventListener("click", load);
  await load();
  return h("section", {}, h("h2", {}, "Unassigned faces"), note, grid, more);
}

function history() {
  const list = h("ul", { class: "status-list history", "aria-label": "History" });
  const note = h("p", { class: "muted" }, "Loading…");
  const more = h("button", { type: "button", class: "more", hidden: true }, "Show older operations");
  let cursor = null;
  function row(operation) {
    return h("li", { dataset: { operationId: operation.id, state: operation.state } },
      h("span", { class: "reason" }, operation.summary, operation.automatic ? h("small", { class: "muted" }, " (automatic)") : null),
      h("span", { class: "muted when" }, formatDate(operation.at)),
      operation.state === "applied" && operation.kind !== "undo"
        ? h("button", {
          type: "button", class: "link", "aria-label": `Undo: ${operation.summary}`, onclick: async (event) => {
            try {
              await api.undo(operation.id);
              await load();
            } catch (error) { event.target.replaceWith(errorBox(error)); }
          },
        }, "Undo")
        : h("span", { class: "muted" }, operation.state === "undone" ? "undone" : ""));
  }
  // `older`: the next page after what is shown; otherwise the newest page again (after an undo or a merge).
  async function load(older = false) {
    try {
      const page = await api.history(older ? cursor : null, 20);
      if (older) list.append(...page.operations.map(row));
      else list.replaceChildren(...page.operations.map(row));
      cursor = page.nextCursor;
      more.hidden = !cursor;
      note.textContent = list.children.length ? "Newest first. Undo reverses one exactly, unless something later touched the same people." : "Nothing yet.";
    } catch (error) {
      note.replaceChildren(errorBox(error));
    }
  }
  more.addEventListener("click", () => load(true));
  load();
  return { section: h("section", {}, h("h2", {}, "History"), note, list, more), refresh: () => load() };
}

export async function reviewPage() {
  const log = history();
  const strangers = await unassigned(log.refresh);
  // An unassigned face merged by a suggestion is no longer waiting: its tile goes.
  const merged = (personId) => {
    for (const tile of strangers.querySelectorAll(`li[data-person-id="${CSS.escape(personId)}"]`)) tile.remove();
    log.refresh();
  };
  show("Review", h("h1", {}, "Review"), await suggestions(merged), strangers, log.section);
}
