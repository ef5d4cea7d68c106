// The console's users (/api/admin/users): a paged list searched by name prefix, with
// disable/enable and make/remove admin per user. Disabling and removing admin ask first;
// the server checks every action again (admin session and CSRF token).
import { api } from '/static/api.js';
import { el, hideAlert, showAlert, confirmAction } from '/static/admin.util.js';

const alertBox = () => document.getElementById('users-alert');
const PAGE = 25;
// The `after` of each page shown so far: index 0 is the first page.
let pages = [''];

function actionButton(label, kind, onClick) {
  const button = el('button', `btn btn-outline-${kind} btn-sm`, label);
  button.type = 'button';
  button.addEventListener('click', async () => {
    hideAlert(alertBox());
    try {
      await onClick();
    } catch (e) {
      showAlert(alertBox(), e.message);
    }
  });
  return button;
}

function userRow(user) {
  const row = el('tr');
  row.dataset.user = user.username;
  row.append(el('td', 'font-monospace', user.username));
  const status = el('td');
  if (user.disabled) status.append(el('span', 'badge text-bg-danger', 'disabled'));
  if (user.admin) status.append(el('span', 'badge text-bg-primary ms-1', 'admin'));
  if (!user.disabled && !user.admin) status.append(el('span', 'text-muted', 'active'));
  row.append(status);
  row.append(el('td', '', user.created ? new Date(user.created * 1000).toLocaleDateString() : '—'));
  const actions = el('td', 'd-flex gap-2 flex-wrap');
  const base = `/api/admin/users/${encodeURIComponent(user.username)}`;
  if (user.disabled) {
    actions.append(actionButton('Enable', 'success', async () => {
      await api('POST', `${base}/disabled`, { disabled: false });
      await show();
    }));
  } else {
    actions.append(actionButton('Disable', 'danger', async () => {
      const ok = await confirmAction(`Disable ${user.username}?`,
        'They are logged out everywhere at once, and no login of theirs (web, mail, WebDAV) works until you enable the account again.',
        'Disable');
      if (!ok) return;
      await api('POST', `${base}/disabled`, { disabled: true });
      await show();
    }));
  }
  if (user.admin) {
    actions.append(actionButton('Remove admin', 'secondary', async () => {
      const ok = await confirmAction(`Remove admin from ${user.username}?`,
        'They lose the console at their next request.', 'Remove admin');
      if (!ok) return;
      await api('POST', `${base}/admin`, { admin: false });
      await show();
    }));
  } else {
    actions.append(actionButton('Make admin', 'primary', async () => {
      await api('POST', `${base}/admin`, { admin: true });
      await show();
    }));
  }
  row.append(actions);
  return row;
}

async function show() {
  const query = document.getElementById('users-query').value.trim();
  const after = pages[pages.length - 1];
  const params = new URLSearchParams({ q: query, after, limit: String(PAGE) });
  const page = await api('GET', `/api/admin/users?${params}`);
  const body = document.getElementById('users-body');
  body.replaceChildren();
  if (page.users.length === 0) {
    const empty = el('tr');
    const cell = el('td', 'text-muted', 'No users match.');
    cell.colSpan = 4;
    empty.append(cell);
    body.append(empty);
  }
  for (const user of page.users) body.append(userRow(user));
  const next = document.getElementById('users-next');
  next.disabled = page.next === null;
  next.dataset.after = page.next ?? '';
  document.getElementById('users-prev').disabled = pages.length === 1;
  document.getElementById('users-page').textContent = `page ${pages.length}`;
}

export function startUsers() {
  const run = () => show().catch((e) => showAlert(alertBox(), e.message));
  document.getElementById('users-form').addEventListener('submit', (event) => {
    event.preventDefault();
    hideAlert(alertBox());
    pages = [''];
    run();
  });
  document.getElementById('users-next').addEventListener('click', (event) => {
    pages.push(event.currentTarget.dataset.after);
    run();
  });
  document.getElementById('users-prev').addEventListener('click', () => {
    if (pages.length > 1) pages.pop();
    run();
  });
  run();
}
