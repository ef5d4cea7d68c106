// The console's outbound mail queue (/api/admin/queue): a paged list, oldest first, with
// recipients, sender, age, attempts, the last error and the next retry; "Retry now" and
// "Drop" per message. Dropping asks first; the server checks every action again (admin
// session and CSRF token) and refuses a message a queue runner is delivering right now.
import { api } from '/static/api.js';
import {
  confirmAction, el, hideAlert, humanDuration, showAlert,
} from '/static/admin.util.js';

const PAGE = 20;
const alertBox = () => document.getElementById('queue-alert');
const pages = [''];  // the `after` of each page shown so far

function actionButton(label, className, onClick) {
  const b = el('button', `btn btn-sm ${className}`, label);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

async function retry(entry) {
  hideAlert(alertBox());
  try {
    await api('POST', `/api/admin/queue/${encodeURIComponent(entry.id)}/retry`);
    showAlert(alertBox(), `Retrying the message from ${entry.sender || '<>'} now.`, 'success');
  } catch (e) {
    showAlert(alertBox(), e.message);
  }
  await show();
}

async function drop(entry) {
  const ok = await confirmAction('Drop this message?',
    `The message from ${entry.sender || 'the mail system'} to ${entry.recipients.join(', ')} will never be delivered, and no bounce is sent.`,
    'Drop');
  if (!ok) return;
  hideAlert(alertBox());
  try {
    await api('DELETE', `/api/admin/queue/${encodeURIComponent(entry.id)}`);
    showAlert(alertBox(), 'Message dropped.', 'success');
  } catch (e) {
    showAlert(alertBox(), e.message);
  }
  await show();
}

function entryRow(entry) {
  const row = el('tr');
  row.dataset.id = entry.id;
  row.append(el('td', 'text-break', entry.recipients.join(', ')));
  row.append(el('td', 'text-break', entry.sender || '<> (bounce)'));
  row.append(el('td', '', humanDuration(entry.age_s)));
  row.append(el('td', '', entry.attempts));
  row.append(el('td', 'text-break small', entry.last_error || '—'));
  const next = entry.delivering ? 'being delivered'
    : `${entry.held ? 'undo window until ' : ''}${new Date(entry.next_retry).toLocaleString()}`;
  row.append(el('td', 'small', next));
  const actions = el('td', 'text-nowrap');
  const label = `${entry.recipients[0] || ''}`;
  const retryButton = actionButton('Retry now', 'btn-outline-primary me-1', () => retry(entry));
  retryButton.setAttribute('aria-label', `Retry now: message to ${label}`);
  retryButton.disabled = entry.held || entry.delivering;
  const dropButton = actionButton('Drop', 'btn-outline-danger', () => drop(entry));
  dropButton.setAttribute('aria-label', `Drop: message to ${label}`);
  dropButton.disabled = entry.delivering;
  actions.append(retryButton, dropButton);
  row.append(actions);
  return row;
}

async function show() {
  const after = pages[pages.length - 1];
  const page = await api('GET', `/api/admin/queue?limit=${PAGE}&after=${encodeURIComponent(after)}`);
  const body = document.getElementById('queue-body');
  body.replaceChildren();
  if (page.messages.length === 0) {
    const empty = el('tr');
    const cell = el('td', 'text-muted', pages.length === 1 ? 'The queue is empty.' : 'No more messages.');
    cell.colSpan = 7;
    empty.append(cell);
    body.append(empty);
  }
  for (const entry of page.messages) body.append(entryRow(entry));
  const next = document.getElementById('queue-next');
  next.disabled = page.next === null;
  next.dataset.after = page.next ?? '';
  document.getElementById('queue-prev').disabled = pages.length === 1;
  document.getElementById('queue-page').textContent = `page ${pages.length}`;
}

function start() {
  const run = () => show().catch((e) => showAlert(alertBox(), e.message));
  document.getElementById('queue-refresh').addEventListener('click', () => {
    hideAlert(alertBox());
    run();
  });
  document.getElementById('queue-next').addEventListener('click', (event) => {
    pages.push(event.currentTarget.dataset.after);
    run();
  });
  document.getElementById('queue-prev').addEventListener('click', () => {
    if (pages.length > 1) pages.pop();
    run();
  });
  run();
}

start();
