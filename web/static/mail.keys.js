// Gmail's keyboard shortcuts: c compose, r reply, a reply all, f forward, # delete,
// j / k next / previous message, / search, ? help, Esc back to the list. Keys typed into a
// field stay there.
import { $, currentView } from '/static/mail.util.js';

function typing(target) {
  return target.closest('input, textarea, select, [contenteditable="true"]') !== null;
}

// `actions` = {compose, reply, replyAll, forward, remove, step(±1), back}.
export function initShortcuts(actions) {
  const dialog = $('help-dialog');
  $('help-button').addEventListener('click', () => dialog.showModal());
  document.addEventListener('keydown', (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || dialog.open || typing(ev.target)) return;
    const view = currentView();
    const reading = view === 'read-view';
    const handlers = {
      c: () => actions.compose(),
      r: () => reading && actions.reply(),
      a: () => reading && actions.replyAll(),
      f: () => reading && actions.forward(),
      '#': () => reading && actions.remove(),
      j: () => actions.step(1),
      k: () => actions.step(-1),
      '/': () => $('search-input').focus(),
      '?': () => dialog.showModal(),
      Escape: () => view !== 'list-view' && actions.back(),
    };
    const handler = handlers[ev.key];
    if (!handler) return;
    ev.preventDefault();
    handler();
  });
}
