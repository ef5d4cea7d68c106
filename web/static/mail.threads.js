// Conversations: with the setting on, a folder lists threads (GET /api/mail/threads, grouped
// by References / In-Reply-To with subject fallback) and opening one shows all its messages
// in order, quoted text collapsed. The setting lives in this browser (localStorage).
import { api } from '/static/api.js';
import { $, show, showAlert, state } from '/static/mail.util.js';

const SETTING = 'pc-mail-conversations';

export function conversationsOn() {
  return localStorage.getItem(SETTING) === 'on';
}

export function initConversations(changed) {
  const toggle = $('conversations-toggle');
  toggle.checked = conversationsOn();
  toggle.addEventListener('change', () => {
    localStorage.setItem(SETTING, toggle.checked ? 'on' : 'off');
    changed();
  });
}

// A thread's listing row; `open(thread)` shows it.
export function threadRow(t, open) {
  const tr = document.createElement('tr');
  tr.tabIndex = 0;
  tr.dataset.thread = t.id;
  if (t.unread) tr.classList.add('unread');
  const cells = ['', t.count > 1 ? `${t.count} messages` : '1 message',
                 t.subject || '(no subject)', new Date(t.latest).toLocaleString()];
  for (const text of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.appendChild(td);
  }
  tr.setAttribute('aria-label', `${t.unread ? `${t.unread} unread. ` : ''}${t.subject}, ${t.count} messages`);
  tr.addEventListener('click', () => open(t));
  tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' && ev.target === tr) open(t); });
  return tr;
}

export async function listThreads(folder) {
  return (await api('GET', `/api/mail/threads?${new URLSearchParams({ folder, limit: '50' })}`)).threads;
}

// The text of a message with its quoted lines ("> ...") folded into a disclosure.
function bodyWithQuotesCollapsed(text) {
  const frag = document.createDocumentFragment();
  let plain = [];
  let quoted = [];
  const flush = () => {
    if (plain.length) {
      const pre = document.createElement('pre');
      pre.className = 'mail-text mb-1';
      pre.textContent = plain.join('\n');
      frag.appendChild(pre);
      plain = [];
    }
    if (quoted.length) {
      const details = document.createElement('details');
      const summary = document.createElement('summary');
      summary.textContent = 'Show quoted text';
      const pre = document.createElement('pre');
      pre.className = 'mail-text text-muted';
      pre.textContent = quoted.join('\n');
      details.append(summary, pre);
      frag.appendChild(details);
      quoted = [];
    }
  };
  for (const line of (text || '').split('\n')) {
    const isQuote = line.startsWith('>') || /^On .* wrote:$/.test(line);
    if (isQuote !== (quoted.length > 0) && (plain.length || quoted.length)) flush();
    (isQuote ? quoted : plain).push(line);
  }
  flush();
  return frag;
}

export async function openThread(t) {
  const list = $('thread-messages');
  list.replaceChildren();
  $('thread-subject').textContent = t.subject || '(no subject)';
  try {
    for (const id of t.messages.slice(0, 100)) {
      const m = await api('GET', `/api/mail/${encodeURIComponent(id)}`);
      const item = document.createElement('li');
      item.className = 'list-group-item';
      const head = document.createElement('p');
      head.className = 'small mb-1';
      const from = document.createElement('strong');
      from.textContent = m.from;
      head.append(from, ` · ${m.date}`);
      item.append(head, bodyWithQuotesCollapsed(m.body));
      list.appendChild(item);
    }
  } catch (e) {
    showAlert(e.message);
    return;
  }
  state.current = null;
  show('thread-view');
  $('thread-subject').focus();
}
