// Uploads into the open folder: files and whole folders, from the pickers or dropped on the
// page, two at a time, each with a progress bar.
//
// The one place the bytes are sent is `transfer(path, file, row)`: a plain streamed PUT
// by default. Resumable uploads (drive.upload.js) take over by calling
// `useTransfer(fn)`; fn gets the same arguments and must call row.progress(fraction) and
// row.finish(ok, text), and resolve when the file is done or has failed (row.element is the
// row's list item, for controls of its own).
import { api } from '/static/api.js';
import { $, contentUrl, join, say } from '/static/drive.util.js';
import { ITEMS_DRAG_TYPE } from '/static/drive.list.js';

let csrf = '';
let transfer = putFile;

export function useTransfer(fn) {
  transfer = fn;
}

function uploadRow(label) {
  $('uploads').hidden = false;
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
  $('upload-list').prepend(li);
  return {
    element: li,
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
        } catch { /* not JSON */ }
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

// items: [{file, rel}] where rel is "name" or "folder/sub/name", relative to `base`.
// `fileDone()` runs after each file (the page refreshes its listing).
async function uploadAll(items, base, fileDone) {
  if (items.length === 0) return;
  say('');
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
    say(e.message);
    return;
  }
  // Two at a time: keeps the pipe full without starving the page.
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      await transfer(join(base, job.rel), job.file, job.row);
      fileDone();
    }
  };
  await Promise.all([worker(), worker()]);
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

// folder(): the folder uploads go into now; fileDone(): after each file.
export function initUploads(user, { folder, fileDone }) {
  csrf = user.csrf;
  $('upload-files-button').addEventListener('click', () => $('file-input').click());
  $('upload-folder-button').addEventListener('click', () => $('folder-input').click());
  for (const id of ['file-input', 'folder-input']) {
    const input = $(id);
    input.addEventListener('change', () => {
      const items = [...input.files].map((file) => ({ file, rel: file.webkitRelativePath || file.name }));
      input.value = '';
      uploadAll(items, folder(), fileDone);
    });
  }
  const zone = $('drop-zone');
  const outside = (e) => !e.dataTransfer.types.includes(ITEMS_DRAG_TYPE);
  zone.addEventListener('dragover', (e) => {
    if (!outside(e)) return;
    e.preventDefault();
    zone.classList.add('pc-dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('pc-dragging'));
  zone.addEventListener('drop', async (e) => {
    if (!outside(e)) return;
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
    uploadAll(items, folder(), fileDone);
  });
}
