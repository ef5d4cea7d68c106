// What changes the tree from the page: new folder, rename, move (a path typed, or items
// dropped on a folder), delete to the trash, and downloads of several items.
import { api } from '/static/api.js';
import {
  attempt, baseName, contentUrl, dialog, download, join, normalize, say, validName, zipUrl,
} from '/static/drive.util.js';

let refresh = async () => {};

export function initActions(onChange) {
  refresh = onChange;
}

export async function newFolder(base) {
  const done = await dialog({
    title: 'New folder', label: 'Folder name', value: '', ok: 'Create',
    check: async (name) => validName(name.trim()) ||
      attempt(() => api('POST', '/api/files/folder', { path: join(base, name.trim()) })),
  });
  if (done !== null) await refresh();
}

export async function rename(entry, path) {
  const dir = path.slice(0, path.length - entry.name.length);
  const done = await dialog({
    title: `Rename ${entry.type}`, label: 'New name', value: entry.name, ok: 'Rename',
    check: async (name) => validName(name.trim()) ||
      (name.trim() === entry.name ? null : attempt(() => api('POST', '/api/files/move', {
        from: path, to: `${dir}${name.trim()}`,
      }))),
  });
  if (done !== null) await refresh();
}

// Moves every path into `folder`; stops at the first failure and says which.
async function moveAll(paths, folder) {
  for (const from of paths) {
    try {
      await api('POST', '/api/files/move', { from, to: join(folder, baseName(from)) });
    } catch (e) {
      return `${baseName(from)}: ${e.message}`;
    }
  }
  return null;
}

export async function move(paths) {
  const what = paths.length === 1 ? baseName(paths[0]) : `${paths.length} items`;
  const start = paths[0].slice(0, paths[0].lastIndexOf('/')) || '/';
  const done = await dialog({
    title: `Move ${what}`, label: 'Destination folder (for example /Documents)', value: start, ok: 'Move',
    check: async (dest) => moveAll(paths, normalize(dest)),
  });
  if (done !== null) await refresh();
}

// Items dragged onto a folder.
export async function moveInto(paths, folder) {
  const problem = await moveAll(paths, folder);
  say(problem || `Moved ${paths.length === 1 ? baseName(paths[0]) : `${paths.length} items`} to ${folder}.`,
    problem ? 'danger' : 'success');
  await refresh();
}

export async function remove(entries, base) {
  const one = entries.length === 1 ? entries[0] : null;
  const what = one ? (one.type === 'folder' ? `the folder "${one.name}" and everything in it` : `"${one.name}"`)
    : `${entries.length} items`;
  const done = await dialog({
    title: 'Delete?', text: `Move ${what} to the trash? You can restore from the trash for 30 days.`,
    ok: 'Delete', danger: true,
    check: async () => {
      for (const e of entries) {
        const problem = await attempt(() =>
          api('DELETE', `/api/files?${new URLSearchParams({ path: join(base, e.name) })}`));
        if (problem) return `${e.name}: ${problem}`;
      }
      return null;
    },
  });
  if (done !== null) await refresh();
}

// One item: the file, or the folder as a zip; several: each the same way, one after another
// (the server zips one path per request).
export function downloadAll(entries, base) {
  for (const e of entries) {
    const path = join(base, e.name);
    if (e.type === 'folder') download(zipUrl(path), `${e.name}.zip`);
    else download(contentUrl(path), e.name);
  }
}
