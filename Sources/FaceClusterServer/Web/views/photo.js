// A photo with every face's box drawn where the API says it is (boxes are fractions of the photo as
// displayed, EXIF orientation applied, which is how browsers draw it), labelled with its person.
import { api } from "../api.js";
import { h, show, personName, errorBox, dialog, formatDate, plural } from "../ui.js";

const STATUS_WORDS = { pending: "Waiting to be processed", processing: "Being processed", indexed: "Done", no_faces: "No faces found", failed: "Failed" };

export async function photoPage(id) {
  let photo;
  try {
    photo = await api.photo(id);
  } catch (error) {
    show("Photo", h("h1", {}, "Photo"), errorBox(error));
    return;
  }
  const people = [...new Set(photo.faces.map((face) => personName({ name: face.personName, unassigned: face.unassigned })))];
  const alt = photo.faces.length ? `Photo ${photo.name} with ${people.join(", ")}` : `Photo ${photo.name}`;
  const frame = h("div", { class: "frame" },
    h("img", { src: photo.url, alt, class: "photo" }),
    photo.faces.map((face) => {
      const box = face.boundingBox;
      const clamp = (value) => Math.min(Math.max(value, 0), 1);
      const left = clamp(box.left), top = clamp(box.top);
      const name = personName({ name: face.personName, unassigned: face.unassigned });
      return h("a", {
        class: "box", href: `#/people/${encodeURIComponent(face.personId)}`, "aria-label": `${name}: open their photos`,
        dataset: { faceId: face.faceId, personId: face.personId },
        style: {
          left: `${left * 100}%`, top: `${top * 100}%`,
          width: `${(clamp(box.left + box.width) - left) * 100}%`, height: `${(clamp(box.top + box.height) - top) * 100}%`,
        },
      }, h("span", { class: "label" }, name));
    }));
  const facts = h("dl", { class: "facts" },
    h("dt", {}, "Status"), h("dd", { class: "photo-status" }, STATUS_WORDS[photo.status] || photo.status),
    photo.failure ? [h("dt", {}, "Reason"), h("dd", { class: "failure" }, `${photo.failure.message} (${photo.failure.code})`)] : null,
    h("dt", {}, "Faces"), h("dd", {}, String(photo.faces.length)),
    photo.width ? [h("dt", {}, "Size"), h("dd", {}, `${photo.width} × ${photo.height}`)] : null,
    h("dt", {}, "Added"), h("dd", {}, formatDate(photo.addedAt)));
  const status = h("p", { role: "status" });
  show(photo.name,
    h("h1", {}, photo.name),
    ["indexed", "no_faces"].includes(photo.status) || photo.status === "failed" ? null
      : h("p", { class: "muted" }, "This photo is still being processed; reload in a moment."),
    frame,
    h("h2", {}, plural(photo.faces.length, "face")),
    h("ul", { class: "faces" }, photo.faces.map((face) => h("li", { class: "face-actions" },
      h("a", { href: `#/people/${encodeURIComponent(face.personId)}` },
        h("img", { src: face.thumbnailUrl, alt: "", width: 48, height: 48 }), personName({ name: face.personName, unassigned: face.unassigned })),
      h("button", {
        type: "button", class: "link", "aria-label": `Not ${personName({ name: face.personName, unassigned: face.unassigned })}: make this face someone else`,
        onclick: () => notThisPerson(face),
      }, "Not this person")))),
    facts,
    h("p", { class: "actions" }, h("button", { type: "button", class: "danger", onclick: remove }, "Delete photo…")),
    status);

  async function notThisPerson(face) {
    try {
      const person = await api.moveFace(face.faceId, null);
      status.textContent = `Moved to a new person; name them on their page. Undo is under Review → History.`;
      photoPage(photo.id).then(() => {
        document.querySelector("main [role=status]").replaceChildren(
          `This face is now a person of its own. `, h("a", { href: `#/people/${encodeURIComponent(person.id)}` }, "Name them"), ".");
      });
    } catch (error) {
      status.replaceChildren(errorBox(error));
    }
  }

  async function remove() {
    const sure = await dialog("Delete this photo?", (choose) => h("div", {},
      h("p", {}, "Its faces and thumbnails are removed from the gallery; the file itself stays where it is."),
      h("p", { class: "actions" },
        h("button", { type: "button", class: "danger", onclick: () => choose(true) }, "Delete"),
        h("button", { type: "button", onclick: () => choose(false), autofocus: true }, "Cancel"))));
    if (!sure) return;
    try {
      await api.deletePhoto(photo.id);
      // Say so where the photo was (going back could leave the gallery when the photo page was opened first).
      show("Photo deleted", h("h1", {}, "Photo deleted"),
        h("p", { role: "status" }, `${photo.name} is no longer in the gallery; the file itself stays where it is. `,
          h("a", { href: "#/people" }, "Back to people"), "."));
    } catch (error) {
      status.replaceChildren(errorBox(error));
    }
  }
}
