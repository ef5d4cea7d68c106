// The folder listing: a table (list) or cards with thumbnails (grid), sorted by name, size
// or date (folders first), with checkboxes for multi-select (shift-click takes a range),
// a menu of actions per item, and drag and drop of items onto folders to move them. Inside
// "Shared with me" a read share offers downloads only; a write share also rename, move and
// delete (the owner's share and versions stay the owner's).
import { menuButton } from '/static/drive.menu.js';
import {
  $, SHARED_ROOT, contentUrl, formatTime, humanSize, iconFor, inShared, join, opensInBrowser, thumbnailUrl, zipUrl,
} from '/static/drive.util.js';

// The data a drag of drive items carries: a JSON list of their paths.
export const ITEMS_DRAG_TYPE = 'application/x-penncloud-paths';

// `listed`: a folder's entries have arrived, so an empty list means an empty folder (before
// that, the page would flash "This folder is empty" on every load).
const view = {
  base: '/', entries: [], listed: false, selected: new Set(), anchor: -1, permission: '',
  sort: localStorage.getItem('pc-drive-sort') || 'name',
  desc: localStorage.getItem('pc-drive-desc') === '1',
  layout: localStorage.getItem('pc-drive-layout') === 'grid' ? 'grid' : 'list',
};
let hooks = null;

function sorted(entries) {
  const dir = view.desc ? -1 : 1;
  const byName = (a, b) => a.name.localeCompare(b.name, undefined, { numeric: true, sensitivity: 'base' });
  const by = {
    name: byName,
    size: (a, b) => (a.size || 0) - (b.size || 0) || byName(a, b),
    modified: (a, b) => (a.modified_ms || 0) - (b.modified_ms || 0) || byName(a, b),
  }[view.sort];
  return entries.slice().sort((a, b) =>
    (a.type === b.type ? dir * by(a, b) : a.type === 'folder' ? -1 : 1));
}

function pathOf(entry) {
  return join(view.base, entry.name);
}

// Whether the items shown may be changed: the user's own, or inside a write share.
function editable() {
  return !inShared(view.base) || view.permission === 'write';
}
// "Shared with me" itself lists people, made up by the server: nothing to select.
function selectable() {
  return view.base !== SHARED_ROOT;
}

// ---- one item's pieces -------------------------------------------------------------------

function nameLink(entry) {
  const path = pathOf(entry);
  const link = document.createElement('a');
  link.className = 'pc-file-name';
  link.textContent = entry.name;
  link.draggable = false;
  if (entry.type === 'folder') {
    link.href = `/drive?path=${encodeURIComponent(path)}`;
    link.setAttribute('aria-label', `Open folder ${entry.name}`);
    link.addEventListener('click', (e) => {
      e.preventDefault();
      hooks.navigate(path);
    });
  } else if (opensInBrowser(entry)) {
    link.href = contentUrl(path, { inline: '1' });
    link.target = '_blank';
    link.rel = 'noopener';
    link.setAttribute('aria-label', `Open ${entry.name} in a new tab`);
  } else {
    link.href = contentUrl(path);
    link.setAttribute('download', entry.name);
  }
  return link;
}

function menuItem(text, label, onClick) {
  const li = document.createElement('li');
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'dropdown-item';
  b.textContent = text;
  b.setAttribute('aria-label', label);
  b.addEventListener('click', onClick);
  li.appendChild(b);
  return li;
}

function menuLink(text, label, href, attrs = {}) {
  const li = document.createElement('li');
  const a = document.createElement('a');
  a.className = 'dropdown-item';
  a.href = href;
  a.textContent = text;
  a.setAttribute('aria-label', label);
  for (const [k, v] of Object.entries(attrs)) a.setAttribute(k, v);
  li.appendChild(a);
  return li;
}

function actionsMenu(entry) {
  const path = pathOf(entry);
  // "Shared with me" and its owners are made up by the server: nothing to act on.
  if (view.base === SHARED_ROOT) return document.createTextNode('');
  const wrap = document.createElement('div');
  wrap.className = 'pc-menu-wrap';
  const toggle = document.createElement('button');
  toggle.type = 'button';
  toggle.className = 'btn btn-sm btn-outline-secondary';
  toggle.textContent = '⋯';
  toggle.setAttribute('aria-label', `Actions for ${entry.name}`);
  const menu = document.createElement('ul');
  menu.className = 'pc-menu';
  const a = hooks.actions;
  const own = !inShared(view.base);
  if (entry.type === 'file') {
    if (opensInBrowser(entry)) {
      menu.appendChild(menuLink('Open in new tab', `Open ${entry.name} in a new tab`,
        contentUrl(path, { inline: '1' }), { target: '_blank', rel: 'noopener' }));
    }
    menu.appendChild(menuLink('Download', `Download ${entry.name}`, contentUrl(path), { download: entry.name }));
  } else {
    menu.appendChild(menuLink('Download as zip', `Download ${entry.name} as zip`, zipUrl(path),
      { download: `${entry.name}.zip` }));
  }
  if (editable()) {
    menu.appendChild(menuItem('Rename', `Rename ${entry.name}`, () => a.rename(entry, path)));
    menu.appendChild(menuItem('Move', `Move ${entry.name}`, () => a.move([path])));
    if (own) menu.appendChild(menuItem('Share', `Share ${entry.name}`, () => a.share(entry, path)));
    if (own && entry.type === 'file') {
      menu.appendChild(menuItem('Versions', `Versions of ${entry.name}`, () => a.versions(entry, path)));
    }
    const li = document.createElement('li');
    li.innerHTML = '<hr class="dropdown-divider">';
    menu.appendChild(li);
    menu.appendChild(menuItem('Delete', `Delete ${entry.name}`, () => a.remove([entry])));
  }
  wrap.append(toggle, menu);
  menuButton(toggle, menu);
  return wrap;
}

function checkbox(entry, index) {
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.className = 'form-check-input pc-select';
  box.checked = view.selected.has(entry.name);
  box.setAttribute('aria-label', `Select ${entry.name}`);
  box.addEventListener('click', (e) => select(index, box.checked, e.shiftKey));
  return box;
}

// Drag source: the item, or every selected item if it is one of them.
function makeDraggable(el, entry) {
  if (!editable()) return;
  el.draggable = true;
  el.addEventListener('dragstart', (e) => {
    const names = view.selected.has(entry.name) ? [...view.selected] : [entry.name];
    e.dataTransfer.setData(ITEMS_DRAG_TYPE, JSON.stringify(names.map((n) => join(view.base, n))));
    e.dataTransfer.effectAllowed = 'move';
  });
}

// Drop target: a folder (row, card or breadcrumb) takes dragged items into `folderPath`.
export function makeDropTarget(el, folderPath) {
  el.addEventListener('dragover', (e) => {
    if (!e.dataTransfer.types.includes(ITEMS_DRAG_TYPE)) return;
    e.preventDefault();
    e.stopPropagation();
    e.dataTransfer.dropEffect = 'move';
    el.classList.add('pc-drop-target');
  });
  el.addEventListener('dragleave', () => el.classList.remove('pc-drop-target'));
  el.addEventListener('drop', (e) => {
    if (!e.dataTransfer.types.includes(ITEMS_DRAG_TYPE)) return;
    e.preventDefault();
    e.stopPropagation();
    el.classList.remove('pc-drop-target');
    const paths = JSON.parse(e.dataTransfer.getData(ITEMS_DRAG_TYPE) || '[]')
      .filter((p) => p !== folderPath);
    if (paths.length > 0) hooks.moveInto(paths, folderPath);
  });
}

// ---- list and grid -----------------------------------------------------------------------

function row(entry, index) {
  const tr = document.createElement('tr');
  tr.dataset.name = entry.name;
  tr.dataset.type = entry.type;
  tr.classList.toggle('table-active', view.selected.has(entry.name));
  const check = document.createElement('td');
  check.className = 'pc-check';
  if (selectable()) check.appendChild(checkbox(entry, index));
  const name = document.createElement('td');
  const icon = iconFor(entry);
  icon.classList.add('me-1');
  name.append(icon, nameLink(entry));
  const size = document.createElement('td');
  size.className = 'text-end text-nowrap';
  size.textContent = entry.type === 'folder' ? '—' : humanSize(entry.size);
  const modified = document.createElement('td');
  modified.className = 'd-none d-md-table-cell text-nowrap';
  modified.textContent = formatTime(entry.modified_ms);
  const actions = document.createElement('td');
  actions.className = 'text-end';
  actions.appendChild(actionsMenu(entry));
  tr.append(check, name, size, modified, actions);
  makeDraggable(tr, entry);
  if (entry.type === 'folder' && editable()) makeDropTarget(tr, pathOf(entry));
  return tr;
}

function thumbnail(entry) {
  const box = document.createElement('div');
  box.className = 'pc-thumb';
  const icon = iconFor(entry, 'large');
  icon.classList.add('pc-thumb-icon');
  if (entry.type === 'file' && (entry.content_type || '').startsWith('image/')) {
    const img = document.createElement('img');
    img.alt = '';
    img.loading = 'lazy';
    img.src = thumbnailUrl(pathOf(entry));
    // No thumbnail (not made yet, or not an image after all): the type's icon instead.
    img.addEventListener('error', () => img.replaceWith(icon));
    box.appendChild(img);
  } else {
    box.appendChild(icon);
  }
  return box;
}

function card(entry, index) {
  const li = document.createElement('li');
  li.className = 'card pc-card';
  li.dataset.name = entry.name;
  li.dataset.type = entry.type;
  li.classList.toggle('border-primary', view.selected.has(entry.name));
  const top = document.createElement('div');
  top.className = 'd-flex justify-content-between align-items-start p-1';
  if (selectable()) top.appendChild(checkbox(entry, index));
  top.appendChild(actionsMenu(entry));
  const body = document.createElement('div');
  body.className = 'card-body p-2 text-center';
  const meta = document.createElement('div');
  meta.className = 'small text-muted';
  meta.textContent = entry.type === 'folder' ? 'Folder' : humanSize(entry.size);
  body.append(thumbnail(entry), nameLink(entry), meta);
  li.append(top, body);
  makeDraggable(li, entry);
  if (entry.type === 'folder' && editable()) makeDropTarget(li, pathOf(entry));
  return li;
}

function render() {
  const list = sorted(view.entries);
  const grid = view.layout === 'grid';
  $('list-layout').hidden = grid;
  $('file-grid').hidden = !grid;
  if (grid) {
    $('file-rows').replaceChildren();
    $('file-grid').replaceChildren(...list.map(card));
  } else {
    $('file-grid').replaceChildren();
    $('file-rows').replaceChildren(...list.map(row));
  }
  $('empty-folder').hidden = !view.listed || list.length > 0;
  $('list-button').setAttribute('aria-pressed', String(!grid));
  $('grid-button').setAttribute('aria-pressed', String(grid));
  $('sort-select').value = view.sort;
  $('sort-direction').textContent = view.desc ? '↓' : '↑';
  $('sort-direction').setAttribute('aria-label', view.desc ? 'Sort ascending' : 'Sort descending');
  const all = $('select-all');
  all.hidden = !selectable();
  all.checked = list.length > 0 && view.selected.size === list.length;
  all.indeterminate = view.selected.size > 0 && view.selected.size < list.length;
  $('selection-bar').hidden = view.selected.size === 0;
  $('bulk-move').hidden = !editable();
  $('bulk-delete').hidden = !editable();
  $('selection-count').textContent = `${view.selected.size} selected`;
}

// ---- selection ---------------------------------------------------------------------------

function select(index, on, range) {
  const list = sorted(view.entries);
  const from = range && view.anchor >= 0 ? Math.min(view.anchor, index) : index;
  const to = range && view.anchor >= 0 ? Math.max(view.anchor, index) : index;
  for (let i = from; i <= to; i++) {
    if (on) view.selected.add(list[i].name);
    else view.selected.delete(list[i].name);
  }
  view.anchor = index;
  render();
  // Keep keyboard focus on the box just used (render drew new ones).
  document.querySelectorAll('.pc-select')[index]?.focus();
}

export function selectedPaths() {
  return [...view.selected].map((n) => join(view.base, n));
}
export function selectedEntries() {
  return view.entries.filter((e) => view.selected.has(e.name));
}
export function allSelected() {
  return view.entries.length > 0 && view.selected.size === view.entries.length;
}
export function clearSelection() {
  view.selected.clear();
  view.anchor = -1;
  render();
}

// Shows `entries` of folder `base` (inside a share, `permission` is the share's); the
// selection survives a refresh of the same folder.
export function showEntries(base, entries, permission = '') {
  if (base !== view.base) {
    view.selected.clear();
    view.anchor = -1;
  }
  view.base = base;
  view.entries = entries;
  view.listed = true;
  view.permission = permission;
  const names = new Set(entries.map((e) => e.name));
  for (const n of [...view.selected]) if (!names.has(n)) view.selected.delete(n);
  render();
}

// Brings the item `name` into view and marks it for a moment (a search result opened).
export function highlight(name) {
  const el = document.querySelector(`[data-name="${CSS.escape(name)}"]`);
  if (!el) return;
  el.classList.add('pc-highlight');
  el.scrollIntoView({ block: 'center' });
  el.querySelector('a')?.focus();
}

// hooks: navigate(path), moveInto(paths, folder), actions {rename, move, share, versions, remove}.
export function initList(h) {
  hooks = h;
  $('select-all').addEventListener('click', () => {
    if (view.selected.size === view.entries.length) view.selected.clear();
    else for (const e of view.entries) view.selected.add(e.name);
    render();
  });
  $('sort-select').addEventListener('change', () => {
    view.sort = $('sort-select').value;
    localStorage.setItem('pc-drive-sort', view.sort);
    render();
  });
  $('sort-direction').addEventListener('click', () => {
    view.desc = !view.desc;
    localStorage.setItem('pc-drive-desc', view.desc ? '1' : '0');
    render();
  });
  for (const [id, layout] of [['list-button', 'list'], ['grid-button', 'grid']]) {
    $(id).addEventListener('click', () => {
      view.layout = layout;
      localStorage.setItem('pc-drive-layout', layout);
      render();
    });
  }
  $('bulk-clear').addEventListener('click', clearSelection);
}
