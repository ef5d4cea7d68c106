// The drive page: a folder browser over /api/files with breadcrumbs, uploads of files and
// whole folders (picker or drag and drop) with a progress bar each, and download, rename,
// move, delete and new folder. The current folder is in the address: /drive?path=/a/b.
import { api } from '/static/api.js';
import { clearMessage, showMessage, startPage } from '/static/layout.js';

const user = await startPage('drive');
const message = document.getElementById('message');
const rows = document.getElementById('file-rows');
let currentPath = pathFromLocation();

// ---- paths and formatting ---------------------------------------------------------------

function pathFromLocation() {
  const p = new URLSearchParams(window.location.search).get('path') || '/';
  return normalize(p);
}

function normalize(path) {
  const parts = path.split('/').filter((s) => s.length > 0);
  return '/' + parts.join('/');
}

function join(dir, name) {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function parentOf(path) {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function humanSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  do {
    value /= 1024;
    unit += 1;
  } while (value >= 1024 && unit < units.length - 1);
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function contentUrl(path) {
  return `/api/files/content?path=${encodeURIComponent(path)}`;
}

// ---- listing -----------------------------------------------------------------------------

function renderBreadcrumbs() {
  const list = document.getElementById('breadcrumbs');
  list.replaceChildren();
  const parts = currentPath.split('/').filter((s) => s);
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
      a.href = `/drive?path=${encodeURIComponent(path)}`;
      a.textContent = name;
      a.addEventListener('click', (e) => {
        e.preventDefault();
        navigate(path);
      });
      li.appendChild(a);
    }
    list.appendChild(li);
  });
}

function actionButton(label, text, kind, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = `btn btn-sm btn-outline-${kind}`;
  b.textContent = text;
  b.setAttribute('aria-label', label);
  b.addEventListener('click', onClick);
  return b;
}

function renderRow(entry) {
  const path = join(currentPath, entry.name);
  const tr = document.createElement('tr');
  tr.dataset.name = entry.name;
  tr.dataset.type = entry.type;

  const nameCell = document.createElement('td');
  nameCell.className = 'pc-file-name';
  const icon = document.createElement('span');
  icon.setAttribute('aria-hidden', 'true');
  icon.textContent = entry.type === 'folder' ? '📁 ' : '📄 ';
  nameCell.appendChild(icon);
  const link = document.createElement('a');
  link.textContent = entry.name;
  if (entry.type === 'folder') {
    link.href = `/drive?path=${encodeURIComponent(path)}`;
    link.setAttribute('aria-label', `Open folder ${entry.name}`);
    link.addEventListener('click', (e) => {
      e.preventDefault();
      navigate(path);
    });
  } else {
    link.href = contentUrl(path);
    link.setAttribute('download', entry.name);
  }
  nameCell.appendChild(link);

  const size = document.createElement('td');
  size.className = 'text-end text-nowrap';
  size.textContent = entry.type === 'folder' ? '—' : humanSize(entry.size);
  const modified = document.createElement('td');
  modified.className = 'd-none d-md-table-cell text-nowrap';
  modified.textContent = entry.modified_ms ? new Date(entry.modified_ms).toLocaleString() : '';

  const actions = document.createElement('td');
  actions.className = 'text-end';
  const group = document.createElement('div');
  group.className = 'btn-group';
  group.setAttribute('role', 'group');
  group.setAttribute('aria-label', `Actions for ${entry.name}`);
  if (entry.type === 'file') {
    const dl = document.createElement('a');
    dl.className = 'btn btn-sm btn-outline-primary';
    dl.href = contentUrl(path);
    dl.setAttribute('download', entry.name);
    dl.textContent = 'Download';
    dl.setAttribute('aria-label', `Download ${entry.name}`);
    group.appendChild(dl);
  }
  group.appendChild(actionButton(`Rename ${entry.name}`, 'Rename', 'secondary', () => rename(entry)));
  group.appendChild(actionButton(`Move ${entry.name}`, 'Move', 'secondary', () => move(entry)));
  group.appendChild(actionButton(`Delete ${entry.name}`, 'Delete', 'danger', () => remove(entry)));
  actions.appendChild(group);

  tr.append(nameCell, size, modified, actions);
  return tr;
}

async function refresh() {
  renderBreadcrumbs();
  document.title = `${currentPath === '/' ? 'Drive' : currentPath} · PennCloud`;
  try {
    const data = await api('GET', `/api/files?path=${encodeURIComponent(currentPath)}`);
    const entries = data.entries.slice().sort((a, b) =>
      a.type === b.type ? a.name.localeCompare(b.name) : a.type === 'folder' ? -1 : 1);
    rows.replaceChildren(...entries.map(renderRow));
    document.getElementById('empty-folder').hidden = entries.length > 0;
    if (data.usage) {
      document.getElementById('usage').textContent =
        `${humanSize(data.usage.used)} of ${humanSize(data.usage.quota)} used`;
    }
  } catch (e) {
    rows.replaceChildren();
    showMessage(message, e.status === 404 ? 'This folder does not exist.' : e.message);
  }
}

function navigate(path, push = true) {
  currentPath = normalize(path);
  clearMessage(message);
  if (push) history.pushState(null, '', `/drive?path=${encodeURIComponent(currentPath)}`);
  refresh();
}

window.addEventListener('popstate', () => navigate(pathFromLocation(), false));

// ---- dialogs (a Bootstrap modal used as prompt and confirm) -------------------------------

const dialogEl = document.getElementById('dialog');

function dialog({ title, text = '', label = '', value = null, ok = 'OK', danger = false, check }) {
  return new Promise((resolve) => {
    const modal = window.bootstrap.Modal.getOrCreateInstance(dialogEl);
    document.getElementById('dialog-title').textContent = title;
    document.getElementById('dialog-text').textContent = text;
    document.getElementById('dialog-text').hidden = !text;
    const field = document.getElementById('dialog-field');
    const input = document.getElementById('dialog-input');
    field.hidden = value === null;
    document.getElementById('dialog-label').textContent = label;
    input.value = value ?? '';
    const error = document.getElementById('dialog-error');
    error.textContent = '';
    const okButton = document.getElementById('dialog-ok');
    okButton.textContent = ok;
    okButton.className = `btn ${danger ? 'btn-danger' : 'btn-primary'}`;
    let result = null;
    // Bootstrap ignores hide() while the modal is still fading in, so a quick answer
    // waits for 'shown' before closing.
    let shown = false;
    let closeWhenShown = false;
    const form = document.getElementById('dialog-form');
    const onSubmit = async (e) => {
      e.preventDefault();
      const answer = value === null ? true : input.value;
      if (check) {
        const problem = await check(answer);
        if (problem) {
          error.textContent = problem;
          return;
        }
      }
      result = answer;
      if (shown) modal.hide();
      else closeWhenShown = true;
    };
    const onShown = () => {
      shown = true;
      if (closeWhenShown) modal.hide();
      else (value === null ? okButton : input).focus();
    };
    const onHidden = () => {
      form.removeEventListener('submit', onSubmit);
      dialogEl.removeEventListener('shown.bs.modal', onShown);
      dialogEl.removeEventListener('hidden.bs.modal', onHidden);
      resolve(result);
    };
    form.addEventListener('submit', onSubmit);
    dialogEl.addEventListener('shown.bs.modal', onShown);
    dialogEl.addEventListener('hidden.bs.modal', onHidden);
    modal.show();
  });
}

// Runs an API call from a dialog; returns an error sentence for the dialog, or null.
async function attempt(fn) {
  try {
    await fn();
    return null;
  } catch (e) {
    return e.message;
  }
}

function validName(name) {
  if (!name || name === '.' || name === '..') return 'Please enter a name.';
  if (name.includes('/')) return 'A name cannot contain "/".';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return 'A name cannot contain control characters.';
  return null;
}

async function newFolder() {
  const done = await dialog({
    title: 'New folder', label: 'Folder name', value: '', ok: 'Create',
    check: async (name) => validName(name.trim()) ||
      attempt(() => api('POST', '/api/files/folder', { path: join(currentPath, name.trim()) })),
  });
  if (done !== null) refresh();
}

async function rename(entry) {
  const done = await dialog({
    title: `Rename ${entry.type}`, label: 'New name', value: entry.name, ok: 'Rename',
    check: async (name) => validName(name.trim()) ||
      (name.trim() === entry.name ? null : attempt(() => api('POST', '/api/files/move', {
        from: join(currentPath, entry.name), to: join(currentPath, name.trim()),
      }))),
  });
  if (done !== null) refresh();
}

async function move(entry) {
  const done = await dialog({
    title: `Move ${entry.name}`, label: 'Destination folder (for example /Documents)',
    value: currentPath, ok: 'Move',
    check: async (dest) => attempt(() => api('POST', '/api/files/move', {
      from: join(currentPath, entry.name), to: join(normalize(dest), entry.name),
    })),
  });
  if (done !== null) refresh();
}

async function remove(entry) {
  const what = entry.type === 'folder' ? `the folder "${entry.name}" and everything in it`
    : `"${entry.name}"`;
  const done = await dialog({
    title: 'Delete?', text: `Delete ${what}? This cannot be undone.`, ok: 'Delete', danger: true,
    check: async () => attempt(() =>
      api('DELETE', `/api/files?path=${encodeURIComponent(join(currentPath, entry.name))}`)),
  });
  if (done !== null) refresh();
}

// ---- uploads -----------------------------------------------------------------------------

const uploadList = document.getElementById('upload-list');

function uploadRow(label) {
  document.getElementById('uploads').hidden = false;
  const li = document.createElement('li');
  li.className = 'list-group-item';
  const name = document.createElement('div');
  name.className = 'd-flex justify-content-between small';
  const title = document.createElement('span');
  title.className = 'pc-file-name';
  title.textContent = label;
  const status = document.createElement('span');
  status.className = 'text-muted ms-2 text-nowrap';
  status.textContent = 'Waiting';
  name.append(title, status);
  const outer = document.createElement('div');
  outer.className = 'progress mt-1';
  outer.setAttribute('role', 'progressbar');
  outer.setAttribute('aria-label', `Upload of ${label}`);
  outer.setAttribute('aria-valuemin', '0');
  outer.setAttribute('aria-valuemax', '100');
  outer.setAttribute('aria-valuenow', '0');
  const bar = document.createElement('div');
  bar.className = 'progress-bar';
  bar.style.width = '0%';
  outer.appendChild(bar);
  li.append(name, outer);
  uploadList.prepend(li);
  return {
    progress(fraction) {
      const pct = Math.round(fraction * 100);
      bar.style.width = `${pct}%`;
      outer.setAttribute('aria-valuenow', String(pct));
      status.textContent = `${pct}%`;
    },
    finish(ok, text) {
      bar.classList.add(ok ? 'bg-success' : 'bg-danger');
      if (ok) this.progress(1);
      status.textContent = text;
      li.dataset.state = ok ? 'done' : 'failed';
    },
  };
}

// PUT with XHR, since fetch cannot report upload progress.
function putFile(path, file, row) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', contentUrl(path));
    const csrf = user.csrf;
    if (csrf) xhr.setRequestHeader('X-CSRF-Token', csrf);
    if (file.type) xhr.setRequestHeader('Content-Type', file.type);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable && e.total > 0) row.progress(e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        row.finish(true, 'Done');
      } else {
        let text = `Failed (HTTP ${xhr.status})`;
        try {
          text = JSON.parse(xhr.responseText).error || text;
        } catch (e) { /* not JSON */ }
        row.finish(false, text);
      }
      resolve();
    });
    xhr.addEventListener('error', () => {
      row.finish(false, 'Connection lost');
      resolve();
    });
    xhr.send(file);
  });
}

async function ensureFolder(path) {
  try {
    await api('POST', '/api/files/folder', { path });
  } catch (e) {
    if (e.status !== 409) throw e;  // already there
  }
}

// items: [{file, rel}] where rel is "name" or "folder/sub/name", relative to currentPath.
async function uploadAll(items) {
  if (items.length === 0) return;
  clearMessage(message);
  const base = currentPath;
  const jobs = items.map((it) => ({ ...it, row: uploadRow(it.rel) }));
  const folders = new Set();
  for (const { rel } of items) {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join('/'));
  }
  try {
    for (const f of [...folders].sort((a, b) => a.split('/').length - b.split('/').length)) {
      await ensureFolder(join(base, f));
    }
  } catch (e) {
    showMessage(message, e.message);
    return;
  }
  // Two at a time: keeps the pipe full without starving the page.
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      await putFile(join(base, job.rel), job.file, job.row);
      if (base === currentPath) refresh();
    }
  };
  await Promise.all([worker(), worker()]);
}

document.getElementById('upload-files-button').addEventListener('click', () =>
  document.getElementById('file-input').click());
document.getElementById('upload-folder-button').addEventListener('click', () =>
  document.getElementById('folder-input').click());
document.getElementById('new-folder-button').addEventListener('click', newFolder);

for (const id of ['file-input', 'folder-input']) {
  const input = document.getElementById(id);
  input.addEventListener('change', () => {
    const items = [...input.files].map((file) => ({
      file, rel: file.webkitRelativePath || file.name,
    }));
    input.value = '';
    uploadAll(items);
  });
}

// Drag and drop, folders included (walked through the entries API).
function readEntries(reader) {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

async function collect(entry, prefix, out) {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    out.push({ file, rel: prefix + entry.name });
  } else if (entry.isDirectory) {
    const reader = entry.createReader();
    for (let batch = await readEntries(reader); batch.length > 0; batch = await readEntries(reader)) {
      for (const child of batch) await collect(child, `${prefix}${entry.name}/`, out);
    }
  }
}

const zone = document.getElementById('drop-zone');
zone.addEventListener('dragover', (e) => {
  e.preventDefault();
  zone.classList.add('pc-dragging');
});
zone.addEventListener('dragleave', () => zone.classList.remove('pc-dragging'));
zone.addEventListener('drop', async (e) => {
  e.preventDefault();
  zone.classList.remove('pc-dragging');
  const items = [];
  const entries = [...(e.dataTransfer.items || [])]
    .map((it) => (it.webkitGetAsEntry ? it.webkitGetAsEntry() : null));
  if (entries.length > 0 && entries.every((x) => x)) {
    for (const entry of entries) await collect(entry, '', items);
  } else {
    for (const file of e.dataTransfer.files) items.push({ file, rel: file.name });
  }
  uploadAll(items);
});

refresh();
