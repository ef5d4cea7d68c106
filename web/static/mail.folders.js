// The folder list (names, unread counts, drop targets) and folder changes: create, rename,
// delete user folders ('/' nests them), empty Trash, and moving a message by menu or by
// dragging its row onto a folder.
import { api } from '/static/api.js';
import { $, clearAlert, folderLabel, isSystemFolder, showAlert, state } from '/static/mail.util.js';

export const MESSAGE_DRAG_TYPE = 'application/x-penncloud-message';
let openFolderHandler = () => {};
let afterMove = async () => {};

function unreadOf(name) {
  const f = state.folders.find((x) => x.name === name);
  return f ? f.unread : 0;
}

// The tab's title carries the Inbox's unread count.
function updateTitle() {
  const n = unreadOf('inbox');
  document.title = n ? `(${n}) Mail · PennCloud` : 'Mail · PennCloud';
}

function folderButton(f) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'list-group-item list-group-item-action d-flex justify-content-between align-items-center';
  b.dataset.folder = f.name;
  const depth = f.special ? 0 : f.name.split('/').length - 1;
  b.classList.add(`pc-depth-${Math.min(depth, 7)}`);
  const label = document.createElement('span');
  label.className = 'text-truncate';
  label.textContent = f.special ? folderLabel(f.name) : f.name.split('/').pop();
  b.appendChild(label);
  const badge = document.createElement('span');
  badge.className = `badge rounded-pill ${f.name === 'inbox' ? 'bg-primary' : 'bg-secondary'}`;
  if (f.special) badge.id = `unread-${f.name}`;
  badge.textContent = f.unread ? String(f.unread) : '';
  b.appendChild(badge);
  b.setAttribute('aria-label', `${f.special ? folderLabel(f.name) : f.name}${f.unread ? `, ${f.unread} unread` : ''}`);
  if (f.name === state.folder) {
    b.classList.add('active');
    b.setAttribute('aria-current', 'true');
  }
  b.addEventListener('click', () => openFolderHandler(f.name));
  b.addEventListener('dragover', (ev) => {
    if (!ev.dataTransfer.types.includes(MESSAGE_DRAG_TYPE)) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = 'move';
    b.classList.add('pc-drop');
  });
  b.addEventListener('dragleave', () => b.classList.remove('pc-drop'));
  b.addEventListener('drop', (ev) => {
    ev.preventDefault();
    b.classList.remove('pc-drop');
    const id = ev.dataTransfer.getData(MESSAGE_DRAG_TYPE);
    if (id) moveMessage(id, f.name);
  });
  return b;
}

// Re-reads the folder list and counts; the listing reports errors, so this stays quiet.
export async function refreshFolders() {
  try {
    state.folders = (await api('GET', '/api/mail/folders')).folders;
  } catch {
    return;
  }
  const focused = document.activeElement?.dataset?.folder;
  $('folders').replaceChildren(...state.folders.map(folderButton));
  if (focused) $('folders').querySelector(`[data-folder="${CSS.escape(focused)}"]`)?.focus();
  fillMoveMenu();
  updateTitle();
}

// The read view's "Move to" menu: every folder but the message's own.
export function fillMoveMenu() {
  const select = $('move-select');
  const here = state.current ? state.current.folder : state.folder;
  const first = new Option('Move to…', '');
  select.replaceChildren(first, ...state.folders.filter((f) => f.name !== here)
    .map((f) => new Option(f.special ? folderLabel(f.name) : f.name, f.name)));
  select.value = '';
}

export async function moveMessage(id, folder) {
  try {
    await api('POST', `/api/mail/${encodeURIComponent(id)}/move`, { folder });
    await afterMove();
    showAlert(`Moved to ${folderLabel(folder)}.`, 'success');
  } catch (e) {
    showAlert(e.message);
  }
}

function updateFolderActions() {
  const own = !isSystemFolder(state.folder);
  $('rename-folder-button').classList.toggle('d-none', !own);
  $('delete-folder-button').classList.toggle('d-none', !own);
  $('empty-folder-button').classList.toggle('d-none', state.folder !== 'trash');
}

// The one small form serves "new folder" and "rename folder".
function openFolderForm(mode) {
  const form = $('folder-form');
  form.dataset.mode = mode;
  $('folder-form-label').textContent = mode === 'rename' ? `New name for ${state.folder}` : 'New folder name';
  $('folder-save').textContent = mode === 'rename' ? 'Rename' : 'Create';
  $('folder-name').value = mode === 'rename' ? state.folder : '';
  form.classList.remove('d-none');
  $('folder-name').focus();
}
function closeFolderForm() {
  $('folder-form').classList.add('d-none');
  $('new-folder-button').focus();
}

async function submitFolderForm(ev) {
  ev.preventDefault();
  const name = $('folder-name').value.trim();
  if (!name) return;
  clearAlert();
  try {
    if ($('folder-form').dataset.mode === 'rename') {
      await api('POST', '/api/mail/folders/rename', { from: state.folder, to: name });
      $('folder-form').classList.add('d-none');
      await openFolderHandler(name);
      showAlert(`Folder renamed to ${name}.`, 'success');
    } else {
      await api('POST', '/api/mail/folders', { name });
      $('folder-form').classList.add('d-none');
      await refreshFolders();
      showAlert(`Folder ${name} created.`, 'success');
    }
  } catch (e) {
    showAlert(e.message);
  }
}

async function deleteFolder() {
  const name = state.folder;
  if (!window.confirm(`Delete folder ${name} and every message in it?`)) return;
  try {
    await api('DELETE', `/api/mail/folders?name=${encodeURIComponent(name)}`);
    await openFolderHandler('inbox');
    showAlert(`Folder ${name} deleted.`, 'success');
  } catch (e) {
    showAlert(e.message);
  }
}

async function emptyTrash() {
  if (!window.confirm('Delete every message in Trash for good?')) return;
  try {
    let deleted = 0;
    for (let round = 0; round < 1000; round++) {  // 500 a round: a bounded loop
      const res = await api('POST', '/api/mail/folders/empty', { name: 'trash' });
      deleted += res.deleted;
      if (!res.more) break;
    }
    await afterMove();
    showAlert(`Trash emptied (${deleted} deleted).`, 'success');
  } catch (e) {
    showAlert(e.message);
  }
}

// `openFolder(name)` shows a folder; `reload()` redraws after a move.
export function initFolders({ openFolder, reload }) {
  openFolderHandler = openFolder;
  afterMove = reload;
  $('new-folder-button').addEventListener('click', () => openFolderForm('create'));
  $('rename-folder-button').addEventListener('click', () => openFolderForm('rename'));
  $('folder-cancel').addEventListener('click', closeFolderForm);
  $('folder-form').addEventListener('submit', submitFolderForm);
  $('delete-folder-button').addEventListener('click', deleteFolder);
  $('empty-folder-button').addEventListener('click', emptyTrash);
  $('move-select').addEventListener('change', (ev) => {
    if (ev.target.value && state.current) moveMessage(state.current.id, ev.target.value);
  });
  return { updateFolderActions };
}
