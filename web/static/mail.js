// Webmail: folders with unread counts, listing with paging and search, reading (text, or
// HTML in a sandboxed frame whose CSP blocks scripts and remote fetches), flags, moving and
// deleting; compose and drafts (mail.compose.js), folder changes (mail.folders.js), live
// updates (mail.live.js), conversations (mail.threads.js) and keyboard shortcuts
// (mail.keys.js).
import { api } from '/static/api.js';
import { startPage } from '/static/layout.js';
import {
  composeNew, draftSaved, forward, initCompose, openDraft, reply,
} from '/static/mail.compose.js';
import {
  MESSAGE_DRAG_TYPE, fillMoveMenu, initFolders, moveMessage, refreshFolders,
} from '/static/mail.folders.js';
import { showDelivery } from '/static/mail.delivery.js';
import { addSaveButtons } from '/static/mail.drive.js';
import { initShortcuts } from '/static/mail.keys.js';
import { conversationsOn, initConversations, listThreads, openThread, threadRow } from '/static/mail.threads.js';
import { startLiveUpdates } from '/static/mail.live.js';
import {
  $, clearAlert, currentView, folderLabel, formatDate, show, showAlert, state,
} from '/static/mail.util.js';

let folderActions = null;

function row(m) {
  const tr = document.createElement('tr');
  tr.tabIndex = 0;
  tr.dataset.id = m.id;
  tr.draggable = true;
  if (m.unread) tr.classList.add('unread');
  const flagCell = document.createElement('td');
  const flag = document.createElement('button');
  flag.type = 'button';
  flag.className = 'btn btn-link btn-sm p-0 pc-flag';
  flag.textContent = m.flagged ? '★' : '☆';
  flag.setAttribute('aria-pressed', String(Boolean(m.flagged)));
  flag.setAttribute('aria-label', `Flag: ${m.subject || '(no subject)'}`);
  flag.addEventListener('click', (ev) => {
    ev.stopPropagation();
    setFlags(m.id, { flagged: !m.flagged });
  });
  flagCell.appendChild(flag);
  tr.appendChild(flagCell);
  const who = state.folder === 'sent' || state.folder === 'drafts' ? m.to : m.from;
  for (const text of [who, (m.subject || '(no subject)') + (m.has_attachments ? ' 📎' : ''), formatDate(m)]) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.appendChild(td);
  }
  tr.setAttribute('aria-label', `${m.unread ? 'Unread. ' : ''}${m.flagged ? 'Flagged. ' : ''}${who}: ${m.subject}`);
  tr.addEventListener('click', () => openMessage(m.id));
  tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' && ev.target === tr) openMessage(m.id); });
  tr.addEventListener('dragstart', (ev) => {
    ev.dataTransfer.setData(MESSAGE_DRAG_TYPE, m.id);
    ev.dataTransfer.effectAllowed = 'move';
  });
  return tr;
}

async function loadList({ keepFocus = false } = {}) {
  if (!keepFocus) clearAlert();
  show('list-view');
  await draftSaved();  // leaving the compose form saves the draft: list it as saved
  const title = folderLabel(state.folder);
  $('folder-title').textContent = state.q ? `Search: “${state.q}”` : title;
  folderActions.updateFolderActions();
  const params = new URLSearchParams({ folder: state.folder, limit: '25' });
  if (state.cursors[state.page]) params.set('cursor', state.cursors[state.page]);
  const focused = keepFocus ? document.activeElement?.closest?.('tr') : null;
  let rows;
  let next = '';
  try {
    if (state.q) {
      const data = await api('GET', `/api/mail/search?${new URLSearchParams({ q: state.q })}`);
      rows = data.messages.map(row);
      state.ids = data.messages.map((m) => m.id);
    } else if (conversationsOn()) {
      const threads = await listThreads(state.folder);
      rows = threads.map((t) => threadRow(t, (x) => (x.count === 1 ? openMessage(x.messages[0]) : openThread(x))));
      state.ids = threads.map((t) => t.messages[t.messages.length - 1]);
    } else {
      const data = await api('GET', `/api/mail?${params}`);
      rows = data.messages.map(row);
      state.ids = data.messages.map((m) => m.id);
      next = data.next;
    }
  } catch (e) {
    showAlert(e.message);
    return;
  }
  $('message-rows').replaceChildren(...rows);
  const key = focused?.dataset.id ? `tr[data-id="${CSS.escape(focused.dataset.id)}"]`
    : focused?.dataset.thread ? `tr[data-thread="${CSS.escape(focused.dataset.thread)}"]` : null;
  if (key) $('message-rows').querySelector(key)?.focus();
  $('empty-folder').classList.toggle('d-none', rows.length > 0);
  state.cursors[state.page + 1] = next;
  $('older-button').classList.toggle('d-none', !next);
  $('newer-button').classList.toggle('d-none', state.page === 0);
  await refreshFolders();
}

async function openFolder(name) {
  state.folder = name;
  state.q = '';
  $('search-input').value = '';
  state.cursors = [''];
  state.page = 0;
  state.current = null;
  await loadList();
}

function loadHtml(id, images) {
  $('html-frame').src = `/api/mail/${encodeURIComponent(id)}/html${images ? '?images=1' : ''}`;
  $('images-note').classList.toggle('d-none', images);
}

function showFlag(m) {
  $('flag-button').textContent = m.flagged ? 'Unflag' : 'Flag';
  $('flag-button').setAttribute('aria-pressed', String(Boolean(m.flagged)));
}

async function openMessage(id) {
  clearAlert();
  let m;
  try {
    m = await api('GET', `/api/mail/${encodeURIComponent(id)}`);
  } catch (e) {
    showAlert(e.message);
    return;
  }
  if (m.folder === 'drafts') {
    openDraft(m);
    return;
  }
  state.current = m;
  $('read-subject').textContent = m.subject || '(no subject)';
  $('read-from').textContent = m.from;
  $('read-to').textContent = m.to;
  $('read-cc').textContent = m.cc || '—';
  $('read-date').textContent = m.date || formatDate(m);
  const list = $('read-attachments');
  list.replaceChildren();
  for (const a of m.attachments) {
    const li = document.createElement('li');
    li.className = 'list-inline-item';
    const link = document.createElement('a');
    link.href = `/api/mail/${encodeURIComponent(m.id)}/attachments/${a.index}`;
    link.download = a.filename;
    link.className = 'btn btn-outline-secondary btn-sm attachment-link';
    link.textContent = `${a.filename} (${Math.ceil(a.size / 1024)} KiB)`;
    link.setAttribute('aria-label', `Download attachment ${a.filename}`);
    li.appendChild(link);
    list.appendChild(li);
  }
  addSaveButtons(m);
  const hasHtml = Boolean(m.html);
  $('html-part').classList.toggle('d-none', !hasHtml);
  if (hasHtml) loadHtml(m.id, false);
  else $('html-frame').removeAttribute('src');
  $('read-body').textContent = m.body;
  $('read-body').classList.toggle('d-none', hasHtml && !m.body);
  $('delete-button').textContent = m.folder === 'trash' ? 'Delete forever' : 'Delete';
  $('restore-button').classList.toggle('d-none', m.folder !== 'trash');
  showFlag(m);
  fillMoveMenu();
  show('read-view');
  showDelivery(m);
  $('read-subject').tabIndex = -1;
  $('read-subject').focus();
  refreshFolders();
}

async function setFlags(id, flags) {
  try {
    const res = await api('POST', `/api/mail/${encodeURIComponent(id)}/flags`, flags);
    if (state.current && state.current.id === id) {
      Object.assign(state.current, { flagged: res.flagged, unread: res.unread });
      showFlag(state.current);
    }
    if (currentView() === 'list-view') await loadList({ keepFocus: true });
    return res;
  } catch (e) {
    showAlert(e.message);
    return null;
  }
}

// Back to the listing, focus on the row of the message that was open.
async function backToList() {
  const id = state.current ? state.current.id : null;
  state.current = null;
  await loadList();
  const tr = id && $('message-rows').querySelector(`tr[data-id="${CSS.escape(id)}"]`);
  (tr || $('folder-title')).focus?.();
}

// j / k: in the listing, the next or previous row; reading, the next or previous message.
function step(delta) {
  if (currentView() === 'read-view' && state.current) {
    const i = state.ids.indexOf(state.current.id);
    const next = state.ids[i + delta];
    if (next) openMessage(next);
    return;
  }
  if (currentView() !== 'list-view') return;
  const rows = [...$('message-rows').querySelectorAll('tr')];
  const i = rows.indexOf(document.activeElement?.closest?.('tr'));
  const target = rows[i < 0 ? 0 : Math.min(Math.max(i + delta, 0), rows.length - 1)];
  target?.focus();
}

async function removeCurrent() {
  const m = state.current;
  try {
    await api('DELETE', `/api/mail/${encodeURIComponent(m.id)}`);
    await backToList();
    showAlert(m.folder === 'trash' ? 'Message deleted.' : 'Moved to Trash.', 'success');
  } catch (e) {
    showAlert(e.message);
  }
}

async function main() {
  state.user = await startPage('mail');
  folderActions = initFolders({
    openFolder,
    reload: async () => {
      if (currentView() === 'read-view') await backToList();
      else await loadList();
    },
  });
  await initCompose({
    sent: async () => { await openFolder('sent'); },
    closed: () => loadList(),
  });
  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    state.q = $('search-input').value.trim();
    state.cursors = [''];
    state.page = 0;
    loadList();
  });
  $('older-button').addEventListener('click', () => { state.page += 1; loadList(); });
  $('newer-button').addEventListener('click', () => { state.page = Math.max(0, state.page - 1); loadList(); });
  $('compose-button').addEventListener('click', composeNew);
  $('back-button').addEventListener('click', backToList);
  $('thread-back-button').addEventListener('click', backToList);
  initConversations(() => openFolder(state.folder));
  $('show-images-button').addEventListener('click', () => loadHtml(state.current.id, true));
  $('reply-button').addEventListener('click', () => reply(state.current, false));
  $('reply-all-button').addEventListener('click', () => reply(state.current, true));
  $('forward-button').addEventListener('click', () => forward(state.current));
  $('unread-button').addEventListener('click', async () => {
    if (await setFlags(state.current.id, { unread: true })) {
      await backToList();
      showAlert('Marked unread.', 'success');
    }
  });
  $('flag-button').addEventListener('click', () => setFlags(state.current.id, { flagged: !state.current.flagged }));
  $('restore-button').addEventListener('click', () => moveMessage(state.current.id, 'inbox'));
  $('delete-button').addEventListener('click', removeCurrent);
  initShortcuts({
    compose: composeNew,
    reply: () => reply(state.current, false),
    replyAll: () => reply(state.current, true),
    forward: () => forward(state.current),
    remove: removeCurrent,
    step,
    back: backToList,
  });
  await loadList();
  startLiveUpdates(async (folders) => {
    await refreshFolders();
    if (currentView() === 'list-view' && !state.q && (!folders || folders.includes(state.folder))) {
      await loadList({ keepFocus: true });
    }
  });
}

main();
