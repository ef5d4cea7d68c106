// Delivery after Send: an "Undo" toast for the account's undo window (the server holds the
// message until it ends), and for a message in Sent its delivery timeline per recipient
// (queued, delivered, accepted with the remote server's reply, deferred with the reason
// and next retry, bounced, cancelled), with "Retry now" and "Cancel" while any is deferred.
// The page only asks; the server decides whether an undo is still in time (409 if not).
import { api } from '/static/api.js';
import { openDraft } from '/static/mail.compose.js';
import { $, showAlert } from '/static/mail.util.js';

const REFRESH_MS = 2000;
const STATE_LABEL = {
  queued: 'Queued', delivered: 'Delivered', accepted: 'Accepted by the remote server',
  deferred: 'Deferred', bounced: 'Bounced', cancelled: 'Cancelled', unknown: 'Unknown',
};
const STATE_BADGE = {
  queued: 'text-bg-secondary', delivered: 'text-bg-success', accepted: 'text-bg-success',
  deferred: 'text-bg-warning', bounced: 'text-bg-danger', cancelled: 'text-bg-dark',
  unknown: 'text-bg-light',
};
let panelFor = '';  // the message whose timeline the panel shows
let refreshTimer = null;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
const when = (iso) => new Date(iso).toLocaleString();
const path = (id, rest) => `/api/mail/${encodeURIComponent(id)}${rest}`;

// --- Undo send ---

function toastBox() {
  let box = $('undo-toast');
  if (!box) {
    box = el('div', 'undo-toast alert alert-dark d-flex align-items-center gap-3 shadow d-none');
    box.id = 'undo-toast';
    box.setAttribute('role', 'status');
    box.setAttribute('aria-live', 'polite');
    // Through the CSSOM, which the pages' Content-Security-Policy allows.
    Object.assign(box.style, {
      position: 'fixed', bottom: '1rem', left: '50%', transform: 'translateX(-50%)',
      zIndex: '1080', maxWidth: 'calc(100vw - 2rem)',
    });
    document.body.append(box);
  }
  return box;
}

function hideToast(box, after = 0) {
  clearTimeout(box.timer);
  box.timer = setTimeout(() => box.classList.add('d-none'), after);
}

async function undo(id, box) {
  box.querySelector('button').disabled = true;
  try {
    await api('POST', path(id, '/undo'));
    hideToast(box);
    openDraft(await api('GET', path(id, '')));
    showAlert('Sending undone: the message is back in Drafts.', 'info');
  } catch (e) {
    box.replaceChildren(el('span', '', e.status === 409 ? 'Too late: the message was sent.' : e.message));
    hideToast(box, 4000);
  }
}

// Called by compose once POST /api/mail answered with the Sent copy `sent`.
export async function offerUndo(sent) {
  let timeline;
  try {
    timeline = await api('GET', path(sent.id, '/delivery'));
  } catch {
    return;  // the message is sent either way; only the offer is lost
  }
  if (!timeline.undo_ms) return;
  const box = toastBox();
  const button = el('button', 'btn btn-sm btn-light', 'Undo');
  button.type = 'button';
  button.addEventListener('click', () => undo(sent.id, box));
  box.replaceChildren(el('span', '', 'Sending…'), button);
  box.classList.remove('d-none');
  hideToast(box, timeline.undo_ms);
}

// --- The timeline of a message in Sent ---

function panel() {
  let section = $('delivery-panel');
  if (!section) {
    section = el('section', 'delivery-panel border rounded p-2 mb-3 small d-none');
    section.id = 'delivery-panel';
    section.setAttribute('aria-labelledby', 'delivery-title');
    $('read-body').before(section);
  }
  return section;
}

function recipientItem(r) {
  const li = el('li', 'delivery-step d-flex flex-wrap align-items-baseline gap-2 py-1');
  li.append(el('span', 'fw-semibold text-break', r.address));
  li.append(el('span', `badge ${STATE_BADGE[r.state] || 'text-bg-secondary'}`, STATE_LABEL[r.state] || r.state));
  li.append(el('time', 'text-body-secondary', when(r.updated)));
  if (r.attempts > 1) li.append(el('span', 'text-body-secondary', `${r.attempts} attempts`));
  if (r.next_retry) li.append(el('span', '', `next try ${when(r.next_retry)}`));
  if (r.reply) li.append(el('code', 'delivery-reply w-100 text-break', r.reply));
  return li;
}

async function act(id, what) {
  try {
    render(id, await api('POST', path(id, `/delivery/${what}`)));
    if (what === 'retry') schedule(id, 500);
  } catch (e) {
    showAlert(e.message);
  }
}

function render(id, t) {
  const section = panel();
  const title = el('h2', 'h6 mb-1', 'Delivery');
  title.id = 'delivery-title';
  const list = el('ul', 'list-unstyled mb-1');
  list.setAttribute('aria-label', 'Delivery status per recipient');
  for (const r of t.recipients) list.append(recipientItem(r));
  section.replaceChildren(title);
  if (t.undo_until) section.append(el('p', 'mb-1', `Held until ${when(t.undo_until)}: it can still be undone.`));
  section.append(list);
  if (t.recipients.some((r) => r.state === 'deferred')) {
    const bar = el('div', 'd-flex gap-2');
    const retry = el('button', 'btn btn-outline-primary btn-sm', 'Retry now');
    const cancel = el('button', 'btn btn-outline-danger btn-sm', 'Cancel');
    for (const [b, what] of [[retry, 'retry'], [cancel, 'cancel']]) {
      b.type = 'button';
      b.addEventListener('click', () => act(id, what));
      bar.append(b);
    }
    section.append(bar);
  }
  section.classList.toggle('d-none', t.recipients.length === 0);
}

function schedule(id, ms) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => load(id), ms);
}

async function load(id) {
  if (panelFor !== id || $('read-view').classList.contains('d-none')) return;
  let t;
  try {
    t = await api('GET', path(id, '/delivery'));
  } catch {
    panel().classList.add('d-none');
    return;
  }
  if (panelFor !== id) return;
  render(id, t);
  // Until nothing is left to happen, keep it current.
  if (t.pending || t.undo_until) schedule(id, REFRESH_MS);
}

// Called by the reader with each message it opens.
export function showDelivery(m) {
  clearTimeout(refreshTimer);
  panelFor = m.folder === 'sent' ? m.id : '';
  panel().classList.add('d-none');
  if (panelFor) load(panelFor);
}
