// What the webmail modules share: the page's state, element lookup, alerts and views.
export const $ = (id) => document.getElementById(id);

// folder: the open folder; cursors/page: listing pages; q: the search; current: the open
// message; ids: the listed messages' ids, in order (for j/k); folders: the last folder list.
export const state = {
  user: null, folder: 'inbox', cursors: [''], page: 0, q: '', current: null, ids: [], folders: [],
};

export function showAlert(message, kind = 'danger') {
  const el = $('alert');
  el.className = `alert alert-${kind}`;
  el.textContent = message;
}
export function clearAlert() {
  $('alert').className = 'alert d-none';
}

const VIEWS = ['list-view', 'read-view', 'thread-view', 'compose-view'];
const viewLeaveHooks = [];
// `hook(next)` runs whenever the page switches away from a view (compose saves its draft).
export function onViewChange(hook) {
  viewLeaveHooks.push(hook);
}
export function currentView() {
  return VIEWS.find((v) => !$(v).classList.contains('d-none'));
}
export function show(view) {
  const before = currentView();
  if (before !== view) for (const hook of viewLeaveHooks) hook(before, view);
  for (const v of VIEWS) {
    $(v).classList.toggle('d-none', v !== view);
  }
}

const SYSTEM_NAMES = { inbox: 'Inbox', sent: 'Sent', drafts: 'Drafts', trash: 'Trash', junk: 'Junk' };
export function folderLabel(name) {
  return SYSTEM_NAMES[name] || name;
}
export function isSystemFolder(name) {
  return Object.hasOwn(SYSTEM_NAMES, name);
}

export function formatDate(m) {
  const d = new Date(m.received);
  return Number.isNaN(d.getTime()) ? m.date : d.toLocaleString();
}
