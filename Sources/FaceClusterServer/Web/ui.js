// Small DOM helpers: elements are built, never parsed from strings, so names and file names from the API
// cannot inject markup.

/** `h("a", { href: "#/x", class: "card" }, child, "text")`; `on*` attributes become listeners. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "style" && typeof value === "object") Object.assign(element.style, value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Replaces the page's content, sets the title and moves focus to the heading (for screen readers and keyboards). */
export function show(title, ...content) {
  const main = document.getElementById("main");
  main.replaceChildren(...content.flat().filter((child) => child !== null && child !== undefined && child !== false));
  document.title = `${title} · FaceClusterKit`;
  const heading = main.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  }
}

export function personName(person) {
  if (person.unassigned && !person.name) return "Unassigned face";
  return person.name || "Unnamed person";
}

export function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** An error as the page shows it: the API's message and code, in an alert region. */
export function errorBox(error, retry) {
  return h("div", { class: "error", role: "alert" },
    h("strong", {}, error.status === 401 ? "Not signed in. " : "Something went wrong. "),
    error.message || String(error),
    error.code ? h("code", {}, ` (${error.code})`) : null,
    error.status === 401 ? h("span", {}, " Set the token in ", h("a", { href: "#/settings" }, "Settings"), ".") : null,
    retry ? h("button", { type: "button", class: "link", onclick: retry }, "Try again") : null);
}

export function formatDate(text) {
  const date = new Date(text);
  return isNaN(date) ? "" : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A modal dialog; resolves with the value `choose` was called with, or null when cancelled (Esc included). */
export function dialog(title, build) {
  return new Promise((resolve) => {
    const box = h("dialog", { "aria-label": title });
    let value = null;
    const close = (result) => { value = result; box.close(); };
    box.append(h("h2", {}, title), build(close));
    box.addEventListener("close", () => { box.remove(); resolve(value); });
    document.body.append(box);
    box.showModal();
  });
}
