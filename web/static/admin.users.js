// The console's users (/api/admin/users): a paged list searched by name prefix, a form that
// creates an account (admin.newuser.js), and per user disable/enable, make/remove admin, a
// one-time password-reset link and the drive quota. Every action that takes something away or hands out access asks first; the
// server checks every action again (admin session and CSRF token).
import { api } from '/static/api.js';
import {
  el, hideAlert, humanBytes, showAlert, confirmAction,
} from '/static/admin.util.js';
import { startNewUserForm } from '/static/admin.newuser.js';

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
  const drive = user.drive || { used: null, quota: null };
  row.append(el('td', 'text-nowrap', `${humanBytes(drive.used)} of ${humanBytes(drive.quota)}`));
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
      const ok = await confirmAction(`Make ${user.username} an admin?`,
        'They get this console: nodes, data, users and sign-up, including making other admins.',
        'Make admin');
      if (!ok) return;
      await api('POST', `${base}/admin`, { admin: true });
      await show();
    }));
  }
  actions.append(actionButton('Reset password', 'dark', async () => {
    const ok = await confirmAction(`Make a password-reset link for ${user.username}?`,
      'The link is shown once and works once, for 24 hours; a newer link replaces it. When '
        + `${user.username} sets a new password with it, they are logged out everywhere. Their `
        + 'app passwords (mail clients) keep working.',
      'Make link');
    if (!ok) return;
    const link = await api('POST', `${base}/reset`, {});
    document.getElementById('reset-user').textContent = link.username;
    document.getElementById('reset-url').value = new URL(link.url, window.location.origin).href;
    document.getElementById('reset-new').hidden = false;
  }));
  actions.append(actionButton('Quota…', 'secondary', () => editQuota(user)));
  row.append(actions);
  return row;
}

const GIB = 1024 ** 3;

// Asks for the new quota in the page's quota dialog; lowering it below what the user
// stores already says so before it is saved (their files stay, new uploads are refused).
function editQuota(user) {
  const modalEl = document.getElementById('quota-modal');
  const form = document.getElementById('quota-form');
  const input = document.getElementById('quota-gib');
  const warning = document.getElementById('quota-warning');
  const drive = user.drive || { used: 0, quota: 0 };
  document.getElementById('quota-title').textContent = `Drive quota of ${user.username}`;
  document.getElementById('quota-used').textContent =
    `Stored now: ${humanBytes(drive.used)}. Limit now: ${humanBytes(drive.quota)}.`;
  input.value = String(Math.round((drive.quota / GIB) * 1000) / 1000);
  const bytes = () => Math.round(Number(input.value) * GIB);
  const warn = () => {
    warning.hidden = !(bytes() < drive.used);
  };
  warn();
  input.addEventListener('input', warn);
  const modal = window.bootstrap.Modal.getOrCreateInstance(modalEl);
  const onSubmit = async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    try {
      await api('PUT', `/api/admin/users/${encodeURIComponent(user.username)}/drive`,
        { quota: bytes() });
      modal.hide();
      await show();
    } catch (e) {
      showAlert(document.getElementById('quota-alert'), e.message);
    }
  };
  form.addEventListener('submit', onSubmit);
  modalEl.addEventListener('hidden.bs.modal', () => {
    form.removeEventListener('submit', onSubmit);
    input.removeEventListener('input', warn);
    hideAlert(document.getElementById('quota-alert'));
  }, { once: true });
  modal.show();
}

// Answers can arrive out of order (the first page load and a quick search): only the
// newest request's answer is drawn, and the table says which search it shows.
let latest = 0;

async function show() {
  const asked = ++latest;
  const query = document.getElementById('users-query').value.trim();
  const after = pages[pages.length - 1];
  const params = new URLSearchParams({ q: query, after, limit: String(PAGE) });
  const page = await api('GET', `/api/admin/users?${params}`);
  if (asked !== latest) return;
  const body = document.getElementById('users-body');
  body.replaceChildren();
  body.dataset.query = query;
  if (page.users.length === 0) {
    const empty = el('tr');
    const cell = el('td', 'text-muted', 'No users match.');
    cell.colSpan = 5;
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
  // A new account is shown by searching for it.
  startNewUserForm(async (name) => {
    document.getElementById('users-query').value = name;
    pages = [''];
    await show();
  });
  run();
}
