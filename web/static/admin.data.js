// The console's raw-data browser: one page of a group's rows at a time (Next / Previous
// by the server's cursors), a row's columns the same way, and one cell as text or hex.
// Everything shown here is user data, so it only ever reaches the page as textContent.
import { api } from '/static/api.js';
import { appendName, el, hideAlert, humanBytes, showAlert } from '/static/admin.util.js';

// A cursor-paged list: `fetchPage(after)` returns {items, next}; `cursors` holds the
// `after` of every page up to the shown one, so Previous needs no backwards API.
class Pager {
  constructor(list, prev, next, label, fetchPage, renderItem) {
    Object.assign(this, { list, prev, next, label, fetchPage, renderItem });
    this.cursors = [];
    this.nextCursor = null;
    prev.addEventListener('click', () => this.go(this.cursors.length - 2));
    next.addEventListener('click', () => {
      this.cursors.push(this.nextCursor);
      this.go(this.cursors.length - 1);
    });
  }

  reset() {
    this.cursors = [];
    this.list.replaceChildren();
    this.prev.disabled = true;
    this.next.disabled = true;
    if (this.label) this.label.textContent = '';
  }

  async start() {
    this.cursors = [null];
    return this.go(0);
  }

  async go(index) {
    if (index < 0) return;
    this.cursors.length = index + 1;
    this.prev.disabled = true;
    this.next.disabled = true;
    if (this.label) this.label.textContent = 'loading…';
    const page = await this.fetchPage(this.cursors[index]);
    this.list.replaceChildren();
    for (const item of page.items) this.list.appendChild(this.renderItem(item));
    if (page.items.length === 0) this.list.appendChild(el('div', 'list-group-item text-muted', 'Empty.'));
    this.nextCursor = page.next;
    this.prev.disabled = index === 0;
    this.next.disabled = page.next === null || page.next === undefined;
    if (this.label) this.label.textContent = `page ${index + 1}`;
  }
}

function keyButton(name, extra) {
  const button = el('button', 'list-group-item list-group-item-action admin-key');
  button.type = 'button';
  appendName(button, name);
  if (extra) button.appendChild(el('span', 'text-muted small ms-2', extra));
  return button;
}

function select(list, button) {
  for (const b of list.querySelectorAll('.active')) b.classList.remove('active');
  button.classList.add('active');
}

export function startDataBrowser() {
  const groupSelect = document.getElementById('data-group');
  const limitSelect = document.getElementById('data-limit');
  const alert = document.getElementById('data-alert');
  const rowsList = document.getElementById('data-rows');
  const columnsList = document.getElementById('data-columns');
  const cellView = document.getElementById('cell-view');
  const cellContent = document.getElementById('cell-content');
  let group = null;
  let row = null;
  let cell = null;
  let cellMode = 'text';

  const fail = (e) => showAlert(alert, e.message);
  const base = () => `/api/admin/data/${encodeURIComponent(group)}`;
  const limit = () => Number(limitSelect.value);

  function showCell() {
    const asText = cellMode === 'text' && cell.text !== null && cell.text !== undefined;
    cellContent.textContent = asText ? cell.text : cell.hex.replace(/(..)/g, '$1 ').trim();
    document.getElementById('cell-as-text').classList.toggle('active', asText);
    document.getElementById('cell-as-hex').classList.toggle('active', !asText);
    document.getElementById('cell-as-text').disabled = cell.text === null || cell.text === undefined;
    const cut = document.getElementById('cell-truncated');
    cut.hidden = !cell.truncated;
    cut.textContent = asText ? 'Showing the first 64 KiB.' : 'Showing the first 4096 bytes.';
  }

  async function openCell(column) {
    hideAlert(alert);
    try {
      const q = new URLSearchParams({ row: row.key, column: column.key });
      cell = await api('GET', `${base()}/cell?${q}`);
      const name = document.getElementById('cell-name');
      name.replaceChildren();
      appendName(name, column);
      document.getElementById('cell-size').textContent = `${humanBytes(cell.size)} (${cell.size} bytes)`;
      cellMode = cell.text !== null && cell.text !== undefined ? 'text' : 'hex';
      cellView.hidden = false;
      showCell();
    } catch (e) {
      fail(e);
    }
  }

  const columns = new Pager(
    columnsList, document.getElementById('columns-prev'), document.getElementById('columns-next'),
    null,
    async (after) => {
      const q = new URLSearchParams({ row: row.key, limit: String(limit()) });
      if (after) q.set('after', after);
      const page = await api('GET', `${base()}/columns?${q}`);
      return { items: page.columns, next: page.next };
    },
    (column) => {
      const b = keyButton(column, humanBytes(column.size));
      b.addEventListener('click', () => {
        select(columnsList, b);
        openCell(column);
      });
      return b;
    });

  async function openRow(r) {
    hideAlert(alert);
    row = r;
    cellView.hidden = true;
    const label = document.getElementById('columns-row');
    label.replaceChildren();
    label.append('of ');
    appendName(label, r);
    try {
      await columns.start();
    } catch (e) {
      fail(e);
    }
  }

  const rows = new Pager(
    rowsList, document.getElementById('rows-prev'), document.getElementById('rows-next'),
    document.getElementById('rows-page'),
    async (after) => {
      const q = new URLSearchParams({ limit: String(limit()) });
      if (after) q.set('after', after);
      const page = await api('GET', `${base()}/rows?${q}`);
      return { items: page.rows, next: page.next };
    },
    (r) => {
      const b = keyButton(r);
      b.addEventListener('click', () => {
        select(rowsList, b);
        openRow(r);
      });
      return b;
    });

  // Paging errors surface in the alert instead of as unhandled rejections.
  for (const pager of [rows, columns]) {
    const go = pager.go.bind(pager);
    pager.go = (i) => go(i).catch(fail);
  }

  document.getElementById('cell-as-text').addEventListener('click', () => {
    cellMode = 'text';
    showCell();
  });
  document.getElementById('cell-as-hex').addEventListener('click', () => {
    cellMode = 'hex';
    showCell();
  });
  document.getElementById('data-form').addEventListener('submit', (event) => {
    event.preventDefault();
    hideAlert(alert);
    group = groupSelect.value;
    if (!group) return;
    columns.reset();
    cellView.hidden = true;
    document.getElementById('columns-row').textContent = '';
    rows.start();
  });

  // Keeps the group picker in step with the cluster map (called on every overview).
  return function setGroups(groupIds) {
    const have = [...groupSelect.options].map((o) => o.value);
    if (have.join() === groupIds.join()) return;
    const chosen = groupSelect.value;
    groupSelect.replaceChildren();
    for (const id of groupIds) {
      const option = el('option', '', id === 'config' ? 'config' : `group ${id}`);
      option.value = id;
      groupSelect.appendChild(option);
    }
    if (groupIds.includes(chosen)) groupSelect.value = chosen;
  };
}
