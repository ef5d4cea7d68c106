// The drive page: where the user is (a folder, search results, or the trash; all in the
// address: /drive?path=/a/b, ?q=, ?view=trash), the listing and its toolbars, and the
// wiring of the modules: drive.list.js (list/grid, sort, selection, drag to move),
// drive.actions.js (drive.picker.js for moves), drive.uploads.js (drive.upload.js for
// resumable ones), drive.search.js, drive.trash.js, drive.versions.js, drive.share.js.
import { api } from '/static/api.js';
import { startPage } from '/static/layout.js';
import {
  downloadAll, initActions, move, moveInto, newFolder, remove, rename,
} from '/static/drive.actions.js';
import {
  allSelected, clearSelection, highlight, initList, makeDropTarget, selectedEntries, selectedPaths,
  showEntries,
} from '/static/drive.list.js';
import { initPicker } from '/static/drive.picker.js';
import { initSearch, runSearch } from '/static/drive.search.js';
import { initShare, showShare } from '/static/drive.share.js';
import { initTrash, showTrash } from '/static/drive.trash.js';
import { resumableTransfer } from '/static/drive.upload.js';
import { initUploads, useTransfer } from '/static/drive.uploads.js';
import { initVersions, showVersions } from '/static/drive.versions.js';
import { $, SHARED_ROOT, humanSize, inShared, normalize, say } from '/static/drive.util.js';

const user = await startPage('drive');
// where: {view: 'files'|'search'|'trash', path, q}
let where = fromLocation();
let lastFolder = where.path;  // where "Back to files" goes from search results

function fromLocation() {
  const params = new URLSearchParams(window.location.search);
  if (params.get('view') === 'trash') return { view: 'trash', path: '/', q: '' };
  if (params.get('q')) return { view: 'search', path: '/', q: params.get('q') };
  return { view: 'files', path: normalize(params.get('path') || '/'), q: '' };
}

function addressOf(w) {
  if (w.view === 'trash') return '/drive?view=trash';
  if (w.view === 'search') return `/drive?${new URLSearchParams({ q: w.q })}`;
  return w.path === '/' ? '/drive' : `/drive?${new URLSearchParams({ path: w.path })}`;
}

function renderBreadcrumbs() {
  const list = $('breadcrumbs');
  list.replaceChildren();
  const parts = where.path.split('/').filter((s) => s);
  const crumbs = [['My Drive', '/']];
  parts.forEach((name, i) => crumbs.push([name, '/' + parts.slice(0, i + 1).join('/')]));
  crumbs.forEach(([name, path], i) => {
    const li = document.createElement('li');
    li.className = 'breadcrumb-item';
    if (i === crumbs.length - 1) {
      li.classList.add('active');
      li.setAttribute('aria-current', 'page');
      li.textContent = name;
    } else {
      const a = document.createElement('a');
      a.href = addressOf({ view: 'files', path });
      a.textContent = name;
      a.addEventListener('click', (e) => {
        e.preventDefault();
        go({ view: 'files', path });
      });
      if (!inShared(path) || path === '/') makeDropTarget(a, path);
      li.appendChild(a);
    }
    list.appendChild(li);
  });
}

function showView(name) {
  for (const v of ['files', 'search', 'trash']) $(`${v}-view`).hidden = v !== name;
  const section = name === 'trash' ? 'trash' : inShared(where.path) ? 'shared' : 'files';
  for (const a of document.querySelectorAll('#sections a')) {
    const on = name !== 'search' && a.dataset.section === section;
    a.classList.toggle('active', on);
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function listFolder(mark = '') {
  lastFolder = where.path;
  renderBreadcrumbs();
  const shared = inShared(where.path);
  $('folder-title').textContent = where.path === '/' ? 'My Drive'
    : where.path === SHARED_ROOT ? 'Shared with me' : where.path.slice(where.path.lastIndexOf('/') + 1);
  document.title = `${where.path === '/' ? 'Drive' : where.path} · PennCloud`;
  // Inside "Shared with me" the owner's rules apply: uploads and new folders go only into
  // edit shares (the listing says which), never above one.
  const setTools = (writable) => {
    for (const id of ['new-folder-button', 'upload-folder-button', 'upload-files-button']) {
      $(id).hidden = !writable;
    }
  };
  setTools(!shared);
  try {
    const data = await api('GET', `/api/files?${new URLSearchParams({ path: where.path })}`);
    setTools(!shared || data.permission === 'write');
    showEntries(where.path, data.entries, data.permission);
    if (data.usage) {
      $('usage').textContent = `${humanSize(data.usage.used)} of ${humanSize(data.usage.quota)} used`;
    }
    if (mark) highlight(mark);
  } catch (e) {
    showEntries(where.path, []);
    $('empty-folder').hidden = true;
    say(e.status === 404 ? 'This folder does not exist.' : e.message);
  }
}

async function refresh() {
  if (where.view === 'trash') await showTrash();
  else if (where.view === 'search') await runSearch(where.q);
  else await listFolder();
}

// Shows `next` (and records it in the history unless `push` is false); `mark` names an
// item of the folder to point out.
async function go(next, { push = true, mark = '' } = {}) {
  where = { path: '/', q: '', ...next };
  say('');
  if (push) history.pushState(null, '', addressOf(where));
  showView(where.view);
  if (where.view === 'files') {
    $('search-input').value = '';
    await listFolder(mark);
  } else if (where.view === 'search') {
    $('search-input').value = where.q;
    await runSearch(where.q);
    $('search-title').focus();
  } else {
    await showTrash();
    $('trash-title').focus();
  }
}

window.addEventListener('popstate', () => go(fromLocation(), { push: false }));

for (const a of document.querySelectorAll('#sections a')) {
  a.addEventListener('click', (e) => {
    e.preventDefault();
    const section = a.dataset.section;
    go(section === 'trash' ? { view: 'trash' }
      : { view: 'files', path: section === 'shared' ? SHARED_ROOT : '/' });
  });
}
$('search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const q = $('search-input').value.trim();
  if (q) go({ view: 'search', q });
});
$('search-back').addEventListener('click', () => go({ view: 'files', path: lastFolder }));
$('new-folder-button').addEventListener('click', () => newFolder(where.path));
$('bulk-download').addEventListener('click',
  () => downloadAll(selectedEntries(), where.path, allSelected()));
$('bulk-move').addEventListener('click', () => move(selectedPaths()));
$('bulk-delete').addEventListener('click', () => remove(selectedEntries(), where.path));

initActions(refresh);
initPicker();
initList({
  navigate: (path) => go({ view: 'files', path }),
  moveInto,
  actions: {
    rename, move, share: showShare, versions: showVersions,
    remove: (entries) => remove(entries, where.path),
  },
});
useTransfer(resumableTransfer(user.csrf));  // big files over tus, resumable
initUploads(user, {
  folder: () => where.path,
  fileDone: () => { if (where.view === 'files') listFolder(); },
});
initSearch((folder, name) => go({ view: 'files', path: folder }, { mark: name }));
initTrash();
initVersions(refresh);
initShare();
clearSelection();
go(where, { push: false });
