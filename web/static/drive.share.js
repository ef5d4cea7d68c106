// The share dialog of one file or folder: public links (view or upload-only, optional
// password and expiry, copy, download count, revoke) and shares with other accounts (view
// or edit, who has access, revoke). Everything listed comes from GET /api/shares.
import { api } from '/static/api.js';
import { clearMessage, showMessage } from '/static/layout.js';
import { $, formatTime } from '/static/drive.util.js';

let current = null;  // {entry, path}

function note(text, kind = 'danger') {
  if (text) showMessage($('share-message'), text, kind);
  else clearMessage($('share-message'));
}

function revokeButton(label, id) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'btn btn-sm btn-outline-danger';
  b.textContent = 'Revoke';
  b.setAttribute('aria-label', label);
  b.addEventListener('click', async () => {
    try {
      await api('DELETE', `/api/shares/${encodeURIComponent(id)}`);
      note('Access revoked.', 'success');
    } catch (e) {
      note(e.message);
    }
    await load();
  });
  return b;
}

function linkItem(share, index) {
  const li = document.createElement('li');
  li.className = 'list-group-item';
  li.dataset.id = share.id;
  const url = new URL(share.url, window.location.origin).href;
  const group = document.createElement('div');
  group.className = 'input-group input-group-sm mb-1';
  const field = document.createElement('input');
  field.className = 'form-control';
  field.readOnly = true;
  field.value = url;
  field.setAttribute('aria-label', `Link ${index + 1}`);
  const copy = document.createElement('button');
  copy.type = 'button';
  copy.className = 'btn btn-outline-primary';
  copy.textContent = 'Copy';
  copy.setAttribute('aria-label', `Copy link ${index + 1}`);
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      field.select();  // no clipboard permission: leave it selected for Ctrl+C
    }
    note('Link copied.', 'success');
  });
  group.append(field, copy);
  const facts = document.createElement('div');
  facts.className = 'd-flex flex-wrap align-items-center gap-2 small';
  const text = document.createElement('span');
  text.className = 'me-auto pc-link-facts';
  const parts = [share.permission === 'upload' ? 'Upload only' : 'View and download',
    share.password ? 'password' : 'no password',
    // A day's expiry is the end of it: show its last second, not the next midnight.
    share.expires ? `until ${formatTime(Date.parse(share.expires) - 1000)}` : 'never expires',
    `${share.downloads} download${share.downloads === 1 ? '' : 's'}`];
  text.textContent = parts.join(' · ');
  facts.append(text, revokeButton(`Revoke link ${index + 1}`, share.id));
  li.append(group, facts);
  return li;
}

function personItem(share) {
  const li = document.createElement('li');
  li.className = 'list-group-item d-flex align-items-center gap-2';
  li.dataset.user = share.user;
  const text = document.createElement('span');
  text.className = 'me-auto';
  text.textContent = `${share.user} · ${share.permission === 'write' ? 'can edit' : 'can view'}`;
  li.append(text, revokeButton(`Revoke access of ${share.user}`, share.id));
  return li;
}

async function load() {
  try {
    const { shares } = await api('GET', '/api/shares');
    const mine = shares.filter((s) => s.path === current.path);
    $('link-list').replaceChildren(...mine.filter((s) => s.kind === 'link').map(linkItem));
    const people = mine.filter((s) => s.kind === 'user');
    $('people-list').replaceChildren(...people.map(personItem));
    if (people.length === 0) {
      const li = document.createElement('li');
      li.className = 'list-group-item text-muted';
      li.textContent = 'Only you have access.';
      $('people-list').appendChild(li);
    }
  } catch (e) {
    note(e.message);
  }
}

async function createLink(ev) {
  ev.preventDefault();
  const body = { path: current.path, permission: $('link-permission').value };
  if ($('link-password').value) body.password = $('link-password').value;
  if ($('link-expires').value) body.expires = $('link-expires').value;
  try {
    await api('POST', '/api/shares', body);
    $('link-password').value = '';
    $('link-expires').value = '';
    note('Link created.', 'success');
  } catch (e) {
    note(e.message);
  }
  await load();
}

async function shareWithUser(ev) {
  ev.preventDefault();
  const user = $('share-user').value.trim().toLowerCase();
  if (!user) {
    note('Enter the username of the person to share with.');
    return;
  }
  try {
    await api('POST', '/api/shares', { path: current.path, user, permission: $('share-permission').value });
    $('share-user').value = '';
    note(`Shared with ${user}.`, 'success');
  } catch (e) {
    note(e.status === 404 ? `There is no account named ${user}.` : e.message);
  }
  await load();
}

export async function showShare(entry, path) {
  current = { entry, path };
  $('share-title').textContent = `Share ${entry.name}`;
  note('');
  $('link-list').replaceChildren();
  $('people-list').replaceChildren();
  // A file drop needs a folder to drop into.
  $('link-permission').querySelector('option[value="upload"]').disabled = entry.type !== 'folder';
  $('link-permission').value = 'read';
  window.bootstrap.Modal.getOrCreateInstance($('share-dialog')).show();
  await load();
}

export function initShare() {
  $('link-form').addEventListener('submit', createLink);
  $('user-share-form').addEventListener('submit', shareWithUser);
  // The date picker names a day; the link lasts to its end (the server reads it so).
  $('link-expires').min = new Date().toISOString().slice(0, 10);
}
