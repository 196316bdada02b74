// Upload: drop or choose photos; each shows its progress, then its result once processed (polled).
import { api, upload } from "../api.js";
import { h, show, plural } from "../ui.js";

const TERMINAL = new Set(["indexed", "no_faces", "failed"]);

export async function uploadPage() {
  const input = h("input", { type: "file", multiple: true, accept: "image/*,.heic,.heif", class: "visually-hidden", id: "files" });
  const zone = h("label", { class: "dropzone", for: "files", tabindex: "0" },
    h("strong", {}, "Drop photos here"), h("span", {}, " or press Enter to choose them (JPEG, PNG, WebP, HEIC)."), input);
  const list = h("ul", { class: "uploads", "aria-label": "Uploads" });
  show("Upload", h("h1", {}, "Upload photos"), zone, list);

  zone.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); }
  });
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => { event.preventDefault(); zone.classList.add("over"); });
  }
  for (const name of ["dragleave", "drop"]) zone.addEventListener(name, () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => { event.preventDefault(); send([...event.dataTransfer.files]); });
  input.addEventListener("change", () => { send([...input.files]); input.value = ""; });

  function send(files) {
    for (const file of files) sendOne(file);
  }

  async function sendOne(file) {
    const progress = h("progress", { max: 1, value: 0, "aria-label": `Upload of ${file.name}` });
    const result = h("span", { class: "result" }, "Uploading…");
    const row = h("li", { class: "upload", dataset: { file: file.name } }, h("span", { class: "file" }, file.name), progress, result);
    list.prepend(row);
    try {
      let photo = await upload(file, (fraction) => { progress.value = fraction; });
      progress.value = 1;
      row.dataset.photoId = photo.id;
      result.textContent = "Finding faces…";
      for (let wait = 500; !TERMINAL.has(photo.status); wait = Math.min(wait * 1.5, 4000)) {
        await new Promise((resolve) => setTimeout(resolve, wait));
        photo = await api.photo(photo.id);
      }
      row.dataset.status = photo.status;
      const link = h("a", { href: `#/photos/${encodeURIComponent(photo.id)}` }, "see the photo");
      if (photo.status === "failed") {
        row.classList.add("failed");
        result.replaceChildren(`Failed: ${photo.failure?.message || "unknown reason"} (${photo.failure?.code || "?"}) — `, link);
      } else {
        result.replaceChildren(photo.status === "no_faces" ? "No faces found — " : `${plural(photo.faces.length, "face")} found — `, link);
      }
    } catch (error) {
      row.classList.add("failed");
      row.dataset.status = "refused";
      result.textContent = `Refused: ${error.message}${error.code ? ` (${error.code})` : ""}`;
    }
  }
}
