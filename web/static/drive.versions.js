// The versions panel of one file: its older contents, newest first, each downloadable and
// restorable (restoring keeps the current content as a version too).
import { api } from '/static/api.js';
import { showMessage, clearMessage } from '/static/layout.js';
import { $, contentUrl, formatTime, humanSize } from '/static/drive.util.js';

let current = null;  // {entry, path} of the file shown
let changed = () => {};

function item(v, index) {
  const li = document.createElement('li');
  li.className = 'list-group-item d-flex flex-wrap align-items-center gap-2';
  const text = document.createElement('span');
  text.className = 'me-auto';
  text.textContent = `${formatTime(v.modified_ms)} · ${humanSize(v.size)}`;
  const label = `version ${index + 1} from ${formatTime(v.modified_ms)}`;
  const dl = document.createElement('a');
  dl.className = 'btn btn-sm btn-outline-primary';
  dl.href = contentUrl(current.path, { version: v.id });
  dl.setAttribute('download', current.entry.name);
  dl.textContent = 'Download';
  dl.setAttribute('aria-label', `Download ${label}`);
  const restore = document.createElement('button');
  restore.type = 'button';
  restore.className = 'btn btn-sm btn-outline-success';
  restore.textContent = 'Restore';
  restore.setAttribute('aria-label', `Restore ${label}`);
  restore.addEventListener('click', async () => {
    try {
      await api('POST', '/api/files/versions/restore', { path: current.path, id: v.id });
      showMessage($('versions-message'), 'Restored. The content it replaced is now a version.', 'success');
      changed();
      await load();
    } catch (e) {
      showMessage($('versions-message'), e.message);
    }
  });
  li.append(text, dl, restore);
  return li;
}

async function load() {
  try {
    const { versions } = await api('GET', `/api/files/versions?${new URLSearchParams({ path: current.path })}`);
    $('versions-list').replaceChildren(...versions.map(item));
    $('versions-empty').hidden = versions.length > 0;
  } catch (e) {
    showMessage($('versions-message'), e.message);
  }
}

export async function showVersions(entry, path) {
  current = { entry, path };
  $('versions-title').textContent = `Versions of ${entry.name}`;
  clearMessage($('versions-message'));
  $('versions-list').replaceChildren();
  $('versions-empty').hidden = true;
  window.bootstrap.Modal.getOrCreateInstance($('versions-dialog')).show();
  await load();
}

// `onChange()` runs after a restore (the listing's size and date change).
export function initVersions(onChange) {
  changed = onChange;
}
