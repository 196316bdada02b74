// The web gallery: a hash router over five pages and the settings. No build step: these modules are served
// as they are by `facecluster serve` (or any static host, against a deployed API; see Docs/deploy.md).
import { adoptTokenFromAddress } from "./api.js";
import { peoplePage } from "./views/people.js";
import { personPage } from "./views/person.js";
import { photoPage } from "./views/photo.js";
import { uploadPage } from "./views/upload.js";
import { statusPage } from "./views/status.js";
import { settingsPage } from "./views/settings.js";
import { reviewPage } from "./views/review.js";
import { show, h } from "./ui.js";

const routes = [
  [/^#\/people\/([^/]+)$/, (id) => personPage(decodeURIComponent(id)), "people"],
  [/^#\/photos\/([^/]+)$/, (id) => photoPage(decodeURIComponent(id)), "people"],
  [/^#\/upload$/, () => uploadPage(), "upload"],
  [/^#\/status$/, () => statusPage(), "status"],
  [/^#\/review$/, () => reviewPage(), "review"],
  [/^#\/settings$/, () => settingsPage(), "settings"],
  [/^(#\/people|#\/?|)$/, () => peoplePage(), "people"],
];

let current = null;

async function route() {
  const hash = location.hash;
  for (const [pattern, page, section] of routes) {
    const match = hash.match(pattern);
    if (!match) continue;
    for (const link of document.querySelectorAll("nav a")) {
      if (link.dataset.section === section) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    current?.leave?.();
    current = await page(...match.slice(1));
    return;
  }
  show("Not found", h("h1", {}, "Not found"), h("p", {}, "No such page. ", h("a", { href: "#/people" }, "See the people.")));
}

window.addEventListener("hashchange", route);
adoptTokenFromAddress(); // a `#token=…` from the server's printed address, kept for this session
route();
