// Talking to the PennCloud JSON API from the pages: fetch with the session cookie, the
// CSRF header on every state-changing request, and errors as exceptions carrying the
// server's message and HTTP status.

let csrfToken = null;

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function setCsrf(token) {
  csrfToken = token;
}

export async function api(method, path, body, { raw = false, headers = {} } = {}) {
  const init = { method, credentials: 'same-origin', headers: { ...headers } };
  if (method !== 'GET' && method !== 'HEAD') {
    if (csrfToken) init.headers['X-CSRF-Token'] = csrfToken;
  }
  if (body !== undefined) {
    if (raw) {
      init.body = body;
    } else {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'Cannot reach PennCloud. Check your connection and try again.');
  }
  const type = res.headers.get('Content-Type') || '';
  const data = type.includes('application/json') ? await res.json() : null;
  if (!res.ok) {
    const message = (data && data.error) || `Request failed (HTTP ${res.status})`;
    throw new ApiError(res.status, message);
  }
  return data;
}

// The logged-in user ({username, csrf, email, admin}), or null if there is no session.
export async function me() {
  try {
    const who = await api('GET', '/api/me');
    setCsrf(who.csrf);
    return who;
  } catch (e) {
    if (e.status === 401) return null;
    throw e;
  }
}
