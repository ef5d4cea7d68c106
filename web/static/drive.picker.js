// The folder picker that "Move" opens: browse folders from My Drive (and, through it, the
// shares under "Shared with me"), step into one, and move the items into the folder shown.
// Folders being moved are shown but cannot be entered (nothing moves into itself); folders
// that take no items (the list of owners, a read-only share) cannot be picked.
import { api } from '/static/api.js';
import { $, SHARED_ROOT, baseName, iconFor, join, takesItems } from '/static/drive.util.js';

const ROOT = '/';
const ROOT_NAME = 'My Drive';

let state = null;  // {at, moving: Set, from: Set, check, resolve, result}

function crumb(name, path, last) {
  const li = document.createElement('li');
  li.className = 'breadcrumb-item';
  if (last) {
    li.classList.add('active');
    li.setAttribute('aria-current', 'location');
    li.textContent = name;
    return li;
  }
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'btn btn-link p-0 align-baseline';
  b.textContent = name;
  b.addEventListener('click', () => show(path));
  li.appendChild(b);
  return li;
}

function renderCrumbs() {
  const rest = state.at.split('/').filter(Boolean);
  const items = [[ROOT_NAME, ROOT]];
  rest.forEach((name, i) => items.push([name, join(ROOT, rest.slice(0, i + 1).join('/'))]));
  $('picker-crumbs').replaceChildren(...items.map(([n, p], i) => crumb(n, p, i === items.length - 1)));
}

function folderButton(entry) {
  const path = join(state.at, entry.name);
  const moving = state.moving.has(path);
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'list-group-item list-group-item-action d-flex align-items-center gap-2';
  b.disabled = moving;
  b.setAttribute('aria-label', moving ? `${entry.name} (being moved)` : `Open folder ${entry.name}`);
  const name = document.createElement('span');
  name.className = 'pc-file-name';
  name.textContent = moving ? `${entry.name} (being moved)` : entry.name;
  b.append(iconFor(entry), name);
  b.addEventListener('click', () => show(path));
  return b;
}

async function show(path) {
  if (!state) return;
  state.at = path;
  $('picker-error').textContent = '';
  renderCrumbs();
  let folders = [];
  let writable = false;
  try {
    const data = await api('GET', `/api/files?${new URLSearchParams({ path })}`);
    folders = data.entries.filter((e) => e.type === 'folder')
      .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true, sensitivity: 'base' }));
    if (path === ROOT) folders.unshift({ type: 'folder', name: SHARED_ROOT.slice(1) });
    writable = takesItems(path, data.permission);
  } catch (e) {
    $('picker-error').textContent = e.message;
  }
  if (state?.at !== path) return;  // closed, or another folder opened meanwhile
  $('picker-list').replaceChildren(...folders.map(folderButton));
  $('picker-empty').hidden = folders.length > 0;
  // Moving items to where they already are does nothing: not offered.
  const here = state.from.size === 1 && state.from.has(path);
  const name = path === ROOT ? ROOT_NAME : baseName(path);
  const ok = $('picker-ok');
  ok.disabled = here || !writable;
  ok.textContent = here ? 'Already here' : writable ? 'Move here' : 'Cannot move here';
  ok.setAttribute('aria-label', here ? 'Already in this folder'
    : writable ? `Move here, to ${name}` : `${name} takes no items`);
}

// Asks where `paths` go. `check(folder)` moves them and returns an error sentence (the
// picker stays open with it) or null. Resolves to the folder chosen, or null if cancelled.
export function pickFolder({ title, paths, check }) {
  const from = new Set(paths.map((p) => p.slice(0, p.lastIndexOf('/')) || '/'));
  const start = from.size === 1 ? [...from][0] : ROOT;
  return new Promise((resolve) => {
    state = { at: start, moving: new Set(paths), from, check, resolve, result: null };
    $('picker-title').textContent = title;
    const modal = window.bootstrap.Modal.getOrCreateInstance($('picker-dialog'));
    modal.show();
    show(start);
  });
}

export function initPicker() {
  const dialogEl = $('picker-dialog');
  $('picker-ok').addEventListener('click', async () => {
    const ok = $('picker-ok');
    ok.disabled = true;
    const problem = await state.check(state.at);
    ok.disabled = false;
    if (problem) {
      $('picker-error').textContent = problem;
      return;
    }
    state.result = state.at;
    window.bootstrap.Modal.getOrCreateInstance(dialogEl).hide();
  });
  dialogEl.addEventListener('shown.bs.modal', () => {
    ($('picker-list').querySelector('button:not(:disabled)') || $('picker-ok')).focus();
  });
  dialogEl.addEventListener('hidden.bs.modal', () => {
    const { resolve, result } = state;
    state = null;
    resolve(result);
  });
}
