// Talking to the PennCloud JSON API from the pages: fetch with the session cookie, the
// CSRF header on every state-changing request, and errors as exceptions carrying the
// server's message and HTTP status.

let csrfToken = null;

// How long a page waits for a change it asked for. The cluster gives a write at most 50 s
// after the last byte it receives (common/write_deadline.h); the page also says when it
// stops waiting, so a request held on the way (a dropped network, a stuck connection) and
// delivered later is refused instead of applied over what the user did meanwhile.
const WRITE_TIMEOUT_MS = 50000;

// The cluster's clock less this page's monotonic clock (performance.now), at least: an
// answer's Date was read off the cluster's clock, to the second, before the answer arrived.
// The largest such bound is kept, so the page's deadline is never later, by the cluster's
// clock, than the moment the page stops waiting, whatever this computer's clock says.
let clusterClockOffsetMs = null;

function learnClusterClock(res, arrivedAt) {
  const dated = Date.parse(res.headers.get('Date') || '');
  if (Number.isNaN(dated)) return;
  const bound = dated - arrivedAt;
  if (clusterClockOffsetMs === null || bound > clusterClockOffsetMs) clusterClockOffsetMs = bound;
}

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
  const writes = method !== 'GET' && method !== 'HEAD';
  if (writes) {
    if (csrfToken) init.headers['X-CSRF-Token'] = csrfToken;
    init.headers['X-PennCloud-Timeout-Ms'] = String(WRITE_TIMEOUT_MS);
    if (clusterClockOffsetMs !== null) {
      const deadline = performance.now() + WRITE_TIMEOUT_MS + clusterClockOffsetMs;
      init.headers['X-PennCloud-Deadline-Ms'] = String(Math.floor(deadline));
    }
    init.signal = AbortSignal.timeout(WRITE_TIMEOUT_MS);
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
    if (e.name === 'TimeoutError') {
      throw new ApiError(0, 'PennCloud took too long to answer. Reload to see whether the change was made.');
    }
    throw new ApiError(0, 'Cannot reach PennCloud. Check your connection and try again.');
  }
  learnClusterClock(res, performance.now());
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
