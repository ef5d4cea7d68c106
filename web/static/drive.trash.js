// The trash view: what was deleted, where it was, restore or delete for good (one item, or
// everything, each after a confirmation).
import { api } from '/static/api.js';
import {
  $, baseName, dialog, attempt, formatTime, humanSize, iconFor, parentOf, say,
} from '/static/drive.util.js';

function button(text, label, kind, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = `btn btn-sm btn-outline-${kind}`;
  b.textContent = text;
  b.setAttribute('aria-label', label);
  b.addEventListener('click', onClick);
  return b;
}

function row(item) {
  const name = baseName(item.path);
  const tr = document.createElement('tr');
  tr.dataset.id = item.id;
  const cells = [
    [name, 'pc-file-name'],
    [parentOf(item.path), 'd-none d-md-table-cell pc-file-name'],
    [humanSize(item.size), 'text-end text-nowrap'],
    [formatTime(item.deleted_ms), 'd-none d-md-table-cell text-nowrap'],
  ];
  for (const [text, cls] of cells) {
    const td = document.createElement('td');
    td.className = cls;
    td.textContent = text;
    tr.appendChild(td);
  }
  tr.firstChild.prepend(iconFor({ type: item.type, name }), ' ');
  const actions = document.createElement('td');
  actions.className = 'text-end text-nowrap';
  const group = document.createElement('div');
  group.className = 'btn-group';
  group.append(
    button('Restore', `Restore ${name}`, 'success', () => restore(item)),
    button('Delete forever', `Delete ${name} forever`, 'danger', () => purge(item, name)),
  );
  actions.appendChild(group);
  tr.appendChild(actions);
  return tr;
}

export async function showTrash() {
  try {
    const { entries } = await api('GET', '/api/trash');
    $('trash-rows').replaceChildren(...entries.map(row));
    $('trash-empty').hidden = entries.length > 0;
    $('empty-trash').disabled = entries.length === 0;
  } catch (e) {
    say(e.message);
  }
}

async function restore(item) {
  try {
    const { path } = await api('POST', '/api/trash/restore', { id: item.id });
    say(`Restored to ${path}.`, 'success');
  } catch (e) {
    say(e.message);
  }
  await showTrash();
}

async function purge(item, name) {
  const done = await dialog({
    title: 'Delete forever?', text: `Delete "${name}" for good? It cannot be brought back.`,
    ok: 'Delete forever', danger: true,
    check: () => attempt(() => api('DELETE', `/api/trash/${encodeURIComponent(item.id)}`)),
  });
  if (done !== null) await showTrash();
}

async function emptyTrash() {
  const done = await dialog({
    title: 'Empty the trash?', text: 'Everything in the trash will be deleted for good.',
    ok: 'Empty trash', danger: true,
    check: () => attempt(() => api('DELETE', '/api/trash')),
  });
  if (done !== null) {
    say('The trash is empty.', 'success');
    await showTrash();
  }
}

export function initTrash() {
  $('empty-trash').addEventListener('click', emptyTrash);
}
