// Mail and drive together: "Save to Drive" beside each attachment of an open message (pick a
// folder; the file lands there, never replacing one), and "Attach from Drive" in compose
// (pick files; they go with the message as if uploaded: "drive_attachments" in the send
// request). The picker is a <dialog> of its own, made here, that walks the drive's folders.
import { api } from '/static/api.js';
import { SHARED_ROOT, iconFor, takesItems } from '/static/drive.util.js';
import { $, showAlert } from '/static/mail.util.js';

const picked = new Map();  // compose: drive path -> size, in the order chosen

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

function join(dir, name) {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

// ---- the picker ------------------------------------------------------------------------

function pickerDialog() {
  let dialog = $('drive-picker');
  if (dialog) return dialog;
  dialog = el('dialog', { id: 'drive-picker', class: 'pc-dialog pc-drive-picker', 'aria-labelledby': 'drive-picker-title' },
    el('h2', { class: 'h5', id: 'drive-picker-title' }),
    el('nav', { 'aria-label': 'Drive folder' }, el('ol', { class: 'breadcrumb mb-2', id: 'drive-picker-crumbs' })),
    el('ul', { class: 'list-group mb-2', id: 'drive-picker-list', 'aria-label': 'In this folder' }),
    el('div', { class: 'text-danger small', id: 'drive-picker-error', role: 'alert' }),
    el('div', { class: 'd-flex gap-2 mt-2' },
      el('button', { type: 'button', class: 'btn btn-primary btn-sm', id: 'drive-picker-ok' }),
      el('button', { type: 'button', class: 'btn btn-outline-secondary btn-sm', id: 'drive-picker-cancel', text: 'Cancel' })));
  dialog.style.maxWidth = 'min(28rem, calc(100vw - 2rem))';  // CSSOM: allowed by the CSP
  document.body.appendChild(dialog);
  return dialog;
}

// Lets the user walk the drive. mode 'folder': resolves to the folder chosen; 'files':
// resolves to the list of file paths ticked (from any folders visited). null if cancelled.
function pick({ mode, title, ok }) {
  const dialog = pickerDialog();
  const chosen = new Map();
  let folder = '/';
  $('drive-picker-title').textContent = title;
  $('drive-picker-error').textContent = '';

  const okButton = $('drive-picker-ok');
  let writable = true;  // whether the folder shown takes a saved file
  const label = () => {
    okButton.textContent = mode === 'folder' ? ok : `${ok} (${chosen.size})`;
    okButton.disabled = mode === 'files' ? chosen.size === 0 : !writable;
  };

  async function open(path) {
    folder = path;
    const crumbs = $('drive-picker-crumbs');
    const parts = path.split('/').filter(Boolean);
    const items = [['My Drive', '/'], ...parts.map((n, i) => [n, `/${parts.slice(0, i + 1).join('/')}`])];
    crumbs.replaceChildren(...items.map(([name, p], i) => {
      if (i === items.length - 1) return el('li', { class: 'breadcrumb-item active', 'aria-current': 'location', text: name });
      const b = el('button', { type: 'button', class: 'btn btn-link btn-sm p-0', text: name });
      b.addEventListener('click', () => open(p));
      return el('li', { class: 'breadcrumb-item' }, b);
    }));
    const list = $('drive-picker-list');
    list.replaceChildren();
    writable = false;
    label();
    try {
      const { entries, permission } = await api('GET', `/api/files?${new URLSearchParams({ path })}`);
      if (folder !== path) return;  // another folder opened meanwhile
      writable = takesItems(path, permission);
      label();
      const sorted = entries.slice().sort((a, b) =>
        (a.type === b.type ? a.name.localeCompare(b.name) : a.type === 'folder' ? -1 : 1));
      if (path === '/') sorted.unshift({ type: 'folder', name: SHARED_ROOT.slice(1) });
      for (const e of sorted) {
        const p = join(path, e.name);
        if (e.type === 'folder') {
          const b = el('button', { type: 'button', class: 'list-group-item list-group-item-action d-flex align-items-center gap-2',
                                   'aria-label': `Open folder ${e.name}` }, iconFor(e), e.name);
          b.addEventListener('click', () => open(p));
          list.appendChild(el('li', { class: 'list-group-item p-0 border-0' }, b));
        } else if (mode === 'files') {
          const id = `drive-pick-${list.children.length}`;
          const box = el('input', { type: 'checkbox', class: 'form-check-input m-0', id });
          box.checked = chosen.has(p);
          box.addEventListener('change', () => {
            if (box.checked) chosen.set(p, e.size);
            else chosen.delete(p);
            label();
          });
          list.appendChild(el('li', { class: 'list-group-item d-flex align-items-center gap-2' }, box, iconFor(e),
            el('label', { class: 'form-check-label', for: id, text: e.name })));
        }
      }
      if (list.children.length === 0) {
        list.appendChild(el('li', { class: 'list-group-item text-muted', text: mode === 'folder' ? 'No folders inside.' : 'Nothing here.' }));
      }
    } catch (e) {
      $('drive-picker-error').textContent = e.message;
    }
  }

  return new Promise((resolve) => {
    let result = null;
    const finish = (value) => {
      result = value;
      dialog.close();
    };
    const onOk = () => finish(mode === 'folder' ? folder : [...chosen.keys()]);
    const onCancel = () => finish(null);
    okButton.addEventListener('click', onOk);
    $('drive-picker-cancel').addEventListener('click', onCancel);
    dialog.addEventListener('close', () => {
      okButton.removeEventListener('click', onOk);
      $('drive-picker-cancel').removeEventListener('click', onCancel);
      resolve(result);
    }, { once: true });
    label();
    dialog.showModal();
    open('/');
  });
}

// ---- Save to Drive ---------------------------------------------------------------------

async function save(message, attachment) {
  const folder = await pick({ mode: 'folder', title: `Save ${attachment.filename} to Drive`, ok: 'Save here' });
  if (folder === null) return;
  try {
    const url = `/api/mail/${encodeURIComponent(message.id)}/attachments/${attachment.index}/save`;
    const saved = await api('POST', url, { path: folder });
    showAlert(`Saved to Drive as ${saved.path}.`, 'success');
  } catch (e) {
    showAlert(e.message);
  }
}

// Puts a "Save to Drive" button after each attachment's link in #read-attachments.
export function addSaveButtons(message) {
  const items = $('read-attachments').children;
  message.attachments.forEach((a, i) => {
    if (!items[i]) return;
    const b = el('button', { type: 'button', class: 'btn btn-outline-primary btn-sm ms-1',
                             'aria-label': `Save ${a.filename} to Drive`, text: 'Save to Drive' });
    b.addEventListener('click', () => save(message, a));
    items[i].appendChild(b);
  });
}

// ---- Attach from Drive -----------------------------------------------------------------

function renderPicked() {
  const list = $('compose-drive-files');
  list.replaceChildren(...[...picked.keys()].map((path) => {
    const name = path.slice(path.lastIndexOf('/') + 1);
    const remove = el('button', { type: 'button', class: 'btn-close btn-close-sm ms-1', 'aria-label': `Remove ${name}` });
    remove.addEventListener('click', () => {
      picked.delete(path);
      renderPicked();
    });
    return el('li', { class: 'list-inline-item badge bg-light text-dark', title: path },
      iconFor({ type: 'file', name }), ` ${name}`, remove);
  }));
}

// What the send request adds: the chosen drive files, if any.
export function driveAttachments() {
  return picked.size > 0 ? { drive_attachments: [...picked.keys()] } : {};
}

// A new compose form starts with none.
export function clearDriveAttachments() {
  picked.clear();
  renderPicked();
}

// Adds the "Attach from Drive" button and its list under the compose form's file field.
export function initAttachFromDrive() {
  const files = $('compose-files');
  const button = el('button', { type: 'button', class: 'btn btn-outline-secondary btn-sm mt-1', id: 'attach-drive-button',
                                text: 'Attach from Drive' });
  const list = el('ul', { class: 'list-inline small mt-1', id: 'compose-drive-files', 'aria-label': 'Files from Drive' });
  files.after(button, list);
  button.addEventListener('click', async () => {
    const paths = await pick({ mode: 'files', title: 'Attach from Drive', ok: 'Attach' });
    if (!paths) return;
    for (const p of paths) picked.set(p, true);
    renderPicked();
  });
}
