// What the drive modules share: element lookup, paths, sizes and dates, the page's message
// line, and one Bootstrap modal used as prompt and confirm.
import { clearMessage, showMessage } from '/static/layout.js';

export { iconFor, kindOf } from '/static/icons.js';

export const $ = (id) => document.getElementById(id);

// The folder recipients see shares under (the API's own name for it).
export const SHARED_ROOT = '/Shared with me';

export function normalize(path) {
  return '/' + String(path).split('/').filter((s) => s.length > 0).join('/');
}
export function join(dir, name) {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}
export function parentOf(path) {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
export function baseName(path) {
  return path.slice(path.lastIndexOf('/') + 1);
}
export function inShared(path) {
  return path === SHARED_ROOT || path.startsWith(`${SHARED_ROOT}/`);
}

// Whether items can be put into folder `path` (its listing's "permission" given): anywhere
// in one's own drive, and inside a share ("/Shared with me/<owner>/<name>/...") its owner
// made writable; not into the list of owners or of one owner's shares.
export function takesItems(path, permission) {
  return !inShared(path) || (path.split('/').filter(Boolean).length >= 3 && permission === 'write');
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

export function formatTime(ms) {
  return ms ? new Date(ms).toLocaleString() : '';
}

export function contentUrl(path, extra = {}) {
  return `/api/files/content?${new URLSearchParams({ path, ...extra })}`;
}
// One path: that item as a zip; several: all of them side by side in one archive.
export function zipUrl(...paths) {
  return `/api/files/zip?${new URLSearchParams(paths.map((path) => ['path', path]))}`;
}
export function thumbnailUrl(path) {
  return `/api/files/thumbnail?${new URLSearchParams({ path, size: '256' })}`;
}

// Types a browser shows by itself (the server serves them inline only if safe).
export function opensInBrowser(entry) {
  const type = (entry.content_type || '').split(';')[0].trim().toLowerCase();
  return type === 'application/pdf' || type === 'text/plain' || type === 'text/markdown' ||
    type === 'text/csv';
}

export function say(text, kind = 'danger') {
  if (text) showMessage($('message'), text, kind);
  else clearMessage($('message'));
}

// The client-side check of a name (the server checks again, and says more).
export function validName(name) {
  if (!name || name === '.' || name === '..') return 'Please enter a name.';
  if (name.includes('/')) return 'A name cannot contain "/".';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return 'A name cannot contain control characters.';
  return null;
}

// Runs an API call from a dialog; returns an error sentence for the dialog, or null.
export async function attempt(fn) {
  try {
    await fn();
    return null;
  } catch (e) {
    return e.message;
  }
}

// A prompt (value !== null) or a confirmation. `check(answer)` returns an error sentence to
// show in the dialog (it stays open), or null to close it. Resolves to the answer or null.
export function dialog({ title, text = '', label = '', value = null, ok = 'OK', danger = false, check }) {
  const dialogEl = $('dialog');
  return new Promise((resolve) => {
    const modal = window.bootstrap.Modal.getOrCreateInstance(dialogEl);
    $('dialog-title').textContent = title;
    $('dialog-text').textContent = text;
    $('dialog-text').hidden = !text;
    const input = $('dialog-input');
    $('dialog-field').hidden = value === null;
    $('dialog-label').textContent = label;
    input.value = value ?? '';
    const error = $('dialog-error');
    error.textContent = '';
    const okButton = $('dialog-ok');
    okButton.textContent = ok;
    okButton.className = `btn ${danger ? 'btn-danger' : 'btn-primary'}`;
    let result = null;
    // Bootstrap ignores hide() while the modal is still fading in, so a quick answer
    // waits for 'shown' before closing.
    let shown = false;
    let closeWhenShown = false;
    const form = $('dialog-form');
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

// Starts a download of `url` without leaving the page.
export function download(url, name = '') {
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
}
