// The gallery's one way to the HTTP API (Docs/openapi.yaml): the local server's /api, or a deployed API
// Gateway URL with a JWT (Settings). Errors come back as ApiError with the API's code and message.

const SETTINGS_KEY = "facecluster.settings";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** { baseUrl, token }: saved settings; a `#token=…` the server printed is taken once and kept for the session. */
export function settings() {
  const saved = JSON.parse(localStorage.getItem(SETTINGS_KEY) || "{}");
  const session = sessionStorage.getItem("facecluster.token");
  return { baseUrl: saved.baseUrl || "/api", token: saved.token || session || "" };
}

export function saveSettings({ baseUrl, token }) {
  localStorage.setItem(SETTINGS_KEY, JSON.stringify({ baseUrl: baseUrl.trim() || "/api", token: token.trim() }));
}

/** Takes `#token=…` out of the address (so it is not left in history or screenshots). */
export function adoptTokenFromAddress() {
  const match = location.hash.match(/^#token=([A-Za-z0-9_\-.~]+)/);
  if (!match) return false;
  sessionStorage.setItem("facecluster.token", match[1]);
  history.replaceState(null, "", location.pathname + "#/people");
  return true;
}

function url(path, query = {}) {
  const { baseUrl } = settings();
  const target = new URL(baseUrl.replace(/\/$/, "") + path, location.href);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") target.searchParams.set(name, value);
  }
  return target.toString();
}

function headers(extra = {}) {
  const { token } = settings();
  return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
}

async function failure(response) {
  let code = "http_" + response.status;
  let message = response.statusText || "the request failed";
  try {
    const body = await response.json();
    if (body && body.error) ({ code, message } = body.error);
  } catch { /* not the error shape */ }
  return new ApiError(response.status, code, message);
}

/** A JSON request; resolves to the parsed answer (null for 204). */
export async function request(method, path, { query, body } = {}) {
  const init = { method, headers: headers(body === undefined ? {} : { "content-type": "application/json" }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  let response;
  try {
    response = await fetch(url(path, query), init);
  } catch (error) {
    throw new ApiError(0, "offline", `the API at ${settings().baseUrl} cannot be reached (${error.message})`);
  }
  if (!response.ok) throw await failure(response);
  return response.status === 204 ? null : response.json();
}

export const api = {
  people: (cursor, limit = 48) => request("GET", "/people", { query: { cursor, limit } }),
  person: (id) => request("GET", `/people/${encodeURIComponent(id)}`),
  rename: (id, name) => request("PATCH", `/people/${encodeURIComponent(id)}`, { body: { name } }),
  merge: (into, from) => request("POST", `/people/${encodeURIComponent(into)}/merge`, { body: { from } }),
  forget: (id) => request("DELETE", `/people/${encodeURIComponent(id)}`),
  photosOf: (id, cursor, limit = 30) => request("GET", `/people/${encodeURIComponent(id)}/photos`, { query: { cursor, limit } }),
  photo: (id) => request("GET", `/photos/${encodeURIComponent(id)}`),
  photos: (status, cursor, limit = 50) => request("GET", "/photos", { query: { status, cursor, limit } }),
  deletePhoto: (id) => request("DELETE", `/photos/${encodeURIComponent(id)}`),
  moveFace: (faceId, personId) => request("PUT", `/faces/${encodeURIComponent(faceId)}`, { body: { personId } }),
  makePerson: (faceId, name) => request("POST", `/faces/${encodeURIComponent(faceId)}/person`, { body: name ? { name } : {} }),
  unassigned: (cursor, limit = 50) => request("GET", "/faces/unassigned", { query: { cursor, limit } }),
  suggestions: (limit = 10) => request("GET", "/suggestions", { query: { limit } }),
  history: (cursor, limit = 20) => request("GET", "/operations", { query: { cursor, limit } }),
  undo: (id) => request("POST", `/operations/${encodeURIComponent(id)}/undo`),
};

/**
 * Uploads one file as the request body (POST /photos?filename=…), reporting progress as a fraction 0…1.
 * Resolves to the photo (status pending, or as it is when the same file was uploaded before).
 */
export function upload(file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url("/photos", { filename: file.name }));
    for (const [name, value] of Object.entries(headers({ "content-type": file.type || "application/octet-stream" }))) {
      xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded / event.total); };
    xhr.onerror = () => reject(new ApiError(0, "offline", "the upload could not reach the API"));
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body?.error?.code || "http_" + xhr.status, body?.error?.message || "the upload failed"));
    };
    xhr.send(file);
  });
}
