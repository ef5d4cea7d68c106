// Name search over the whole drive: results with their folder; a folder opens, a file opens
// its containing folder with the file marked.
import { api } from '/static/api.js';
import { $, humanSize, iconFor, parentOf, say } from '/static/drive.util.js';

let openAt = () => {};

function row(hit) {
  const tr = document.createElement('tr');
  const name = document.createElement('td');
  const link = document.createElement('a');
  link.className = 'pc-file-name';
  link.textContent = hit.name;
  const folder = hit.type === 'folder' ? hit.path : parentOf(hit.path);
  link.href = `/drive?path=${encodeURIComponent(folder)}`;
  link.setAttribute('aria-label', hit.type === 'folder' ? `Open folder ${hit.path}`
    : `Show ${hit.name} in ${folder}`);
  link.addEventListener('click', (e) => {
    e.preventDefault();
    openAt(folder, hit.type === 'folder' ? '' : hit.name);
  });
  name.append(iconFor(hit), ' ', link);
  const where = document.createElement('td');
  where.className = 'pc-file-name text-muted small';
  where.textContent = parentOf(hit.path);
  const size = document.createElement('td');
  size.className = 'text-end text-nowrap';
  size.textContent = hit.type === 'folder' ? '—' : humanSize(hit.size);
  tr.append(name, where, size);
  return tr;
}

export async function runSearch(q) {
  $('search-title').textContent = `Search: “${q}”`;
  $('search-rows').replaceChildren();
  $('search-empty').hidden = true;
  try {
    const { entries } = await api('GET', `/api/files/search?${new URLSearchParams({ q, limit: '200' })}`);
    $('search-rows').replaceChildren(...entries.map(row));
    $('search-empty').hidden = entries.length > 0;
  } catch (e) {
    say(e.message);
  }
}

// open(folder, name): shows `folder`, marking the item `name` ('' for none).
export function initSearch(open) {
  openAt = open;
}
