// What changes the tree from the page: new folder, rename, move (a folder picked, or items
// dropped on a folder), delete to the trash, and downloads of several items.
import { api } from '/static/api.js';
import { pickFolder } from '/static/drive.picker.js';
import {
  attempt, baseName, contentUrl, dialog, download, join, say, validName, zipUrl,
} from '/static/drive.util.js';

// Longest download address sent: the frontends take 16 KiB of request head in all.
const MAX_ADDRESS = 12000;

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
  const done = await pickFolder({
    title: `Move ${what}`, paths, check: (folder) => moveAll(paths, folder),
  });
  if (done !== null) {
    say(`Moved ${what} to ${done}.`, 'success');
    await refresh();
  }
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

// One file downloads as itself; a folder, or several items, as one zip. A selection too
// long for one address is refused, unless it is the whole folder, which zips as the folder.
export function downloadAll(entries, base, wholeFolder) {
  if (entries.length === 1 && entries[0].type === 'file') {
    download(contentUrl(join(base, entries[0].name)), entries[0].name);
    return;
  }
  const paths = entries.map((e) => join(base, e.name));
  const url = zipUrl(...paths);
  const name = paths.length === 1 ? `${entries[0].name}.zip` : 'download.zip';
  if (url.length <= MAX_ADDRESS) download(url, name);
  else if (wholeFolder) download(zipUrl(base), `${baseName(base) || 'drive'}.zip`);
  else say('Too many items for one download: select fewer, or download the whole folder.');
}
