// Small helpers the admin console's modules share: building elements (always through
// textContent, because rows, columns and cells are user data), formatting numbers, and
// showing the byte-string names of the admin API ({key: base64, text: string|null}).

// Creates <tag class=...> holding `text` as text (never parsed as HTML).
export function el(tag, className = '', text = null) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== null && text !== undefined) node.textContent = String(text);
  return node;
}

export function humanBytes(bytes) {
  if (bytes === null || bytes === undefined) return '–';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = -1;
  do {
    value /= 1024;
    unit += 1;
  } while (value >= 1024 && unit < units.length - 1);
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function humanDuration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export function rate(value) {
  if (value === null || value === undefined) return '–';
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

export function orDash(value) {
  return value === null || value === undefined || value === '' ? '–' : String(value);
}

export function base64ToBytes(b64) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

export function hexOf(bytes, max = bytes.length) {
  let out = '';
  for (let i = 0; i < Math.min(max, bytes.length); i++) {
    out += bytes[i].toString(16).padStart(2, '0');
  }
  return out;
}

// Appends a byte-string name to `parent`: its text when the server found it printable,
// else its hex with a "bin" badge so binary keys stay recognisable.
export function appendName(parent, name) {
  if (name.text !== null && name.text !== undefined) {
    parent.appendChild(el('span', 'admin-name', name.text));
    return;
  }
  const bytes = base64ToBytes(name.key);
  parent.appendChild(el('span', 'badge text-bg-secondary me-1', 'bin'));
  const shown = hexOf(bytes, 32) + (bytes.length > 32 ? '…' : '');
  parent.appendChild(el('span', 'admin-name font-monospace', `0x${shown}`));
}

// A Bootstrap alert in `element` (role=alert is in the markup).
export function showAlert(element, text, kind = 'danger') {
  element.className = `alert alert-${kind} py-2`;
  element.textContent = text;
  element.hidden = false;
}

export function hideAlert(element) {
  element.hidden = true;
  element.textContent = '';
}

// Asks in the page's Bootstrap modal; resolves true on Confirm, false on Cancel/close.
export function confirmAction(title, body, okLabel) {
  const modalEl = document.getElementById('confirm-modal');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-body').textContent = body;
  const ok = document.getElementById('confirm-ok');
  ok.textContent = okLabel;
  const modal = window.bootstrap.Modal.getOrCreateInstance(modalEl);
  return new Promise((resolve) => {
    let confirmed = false;
    const onOk = () => {
      confirmed = true;
      modal.hide();
    };
    ok.addEventListener('click', onOk);
    modalEl.addEventListener(
      'hidden.bs.modal',
      () => {
        ok.removeEventListener('click', onOk);
        resolve(confirmed);
      },
      { once: true },
    );
    modal.show();
  });
}
