// Webmail: folders, listing with paging and search, reading (text, or HTML in a sandboxed
// frame whose CSP blocks scripts and remote fetches), compose / reply / reply all /
// forward with attachments, and delete to Trash.
import { api } from '/static/api.js';
import { startPage } from '/static/layout.js';

const $ = (id) => document.getElementById(id);
const state = { user: null, folder: 'inbox', cursors: [''], page: 0, q: '', current: null };

function showAlert(message, kind = 'danger') {
  const el = $('alert');
  el.className = `alert alert-${kind}`;
  el.textContent = message;
}
function clearAlert() {
  $('alert').className = 'alert d-none';
}
function show(view) {
  for (const v of ['list-view', 'read-view', 'compose-view']) {
    $(v).classList.toggle('d-none', v !== view);
  }
}
function formatDate(m) {
  const d = new Date(m.received);
  return Number.isNaN(d.getTime()) ? m.date : d.toLocaleString();
}

async function refreshCounts() {
  try {
    const counts = await api('GET', '/api/mail/counts');
    for (const f of ['inbox', 'trash']) {
      const n = counts[f].unread;
      $(`unread-${f}`).textContent = n ? String(n) : '';
    }
  } catch (e) {
    /* the counts are a nicety; the listing reports errors */
  }
}

async function loadList() {
  clearAlert();
  show('list-view');
  const titles = { inbox: 'Inbox', sent: 'Sent', trash: 'Trash' };
  $('folder-title').textContent = state.q ? `Search in ${titles[state.folder]}: “${state.q}”`
                                          : titles[state.folder];
  for (const b of document.querySelectorAll('#folders [data-folder]')) {
    const active = b.dataset.folder === state.folder;
    b.classList.toggle('active', active);
    if (active) b.setAttribute('aria-current', 'true'); else b.removeAttribute('aria-current');
  }
  const params = new URLSearchParams({ folder: state.folder, limit: '25' });
  if (state.q) params.set('q', state.q);
  else if (state.cursors[state.page]) params.set('cursor', state.cursors[state.page]);
  let data;
  try {
    data = await api('GET', `/api/mail?${params}`);
  } catch (e) {
    showAlert(e.message);
    return;
  }
  const rows = $('message-rows');
  rows.replaceChildren();
  for (const m of data.messages) {
    const tr = document.createElement('tr');
    tr.tabIndex = 0;
    tr.dataset.id = m.id;
    if (m.unread) tr.classList.add('unread');
    const who = state.folder === 'sent' ? m.to : m.from;
    for (const text of [who, (m.subject || '(no subject)') + (m.has_attachments ? ' 📎' : ''), formatDate(m)]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.appendChild(td);
    }
    tr.setAttribute('aria-label', `${m.unread ? 'Unread. ' : ''}${who}: ${m.subject}`);
    tr.addEventListener('click', () => openMessage(m.id));
    tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') openMessage(m.id); });
    rows.appendChild(tr);
  }
  $('empty-folder').classList.toggle('d-none', data.messages.length > 0);
  state.cursors[state.page + 1] = data.next;
  $('older-button').classList.toggle('d-none', !data.next);
  $('newer-button').classList.toggle('d-none', state.page === 0);
  refreshCounts();
}

function loadHtml(id, images) {
  $('html-frame').src = `/api/mail/${encodeURIComponent(id)}/html${images ? '?images=1' : ''}`;
  $('images-note').classList.toggle('d-none', images);
}

async function openMessage(id) {
  clearAlert();
  let m;
  try {
    m = await api('GET', `/api/mail/${encodeURIComponent(id)}`);
  } catch (e) {
    showAlert(e.message);
    return;
  }
  state.current = m;
  $('read-subject').textContent = m.subject || '(no subject)';
  $('read-from').textContent = m.from;
  $('read-to').textContent = m.to;
  $('read-cc').textContent = m.cc || '—';
  $('read-date').textContent = m.date || formatDate(m);
  const list = $('read-attachments');
  list.replaceChildren();
  for (const a of m.attachments) {
    const li = document.createElement('li');
    li.className = 'list-inline-item';
    const link = document.createElement('a');
    link.href = `/api/mail/${encodeURIComponent(m.id)}/attachments/${a.index}`;
    link.download = a.filename;
    link.className = 'btn btn-outline-secondary btn-sm attachment-link';
    link.textContent = `${a.filename} (${Math.ceil(a.size / 1024)} KiB)`;
    link.setAttribute('aria-label', `Download attachment ${a.filename}`);
    li.appendChild(link);
    list.appendChild(li);
  }
  const hasHtml = Boolean(m.html);
  $('html-part').classList.toggle('d-none', !hasHtml);
  if (hasHtml) loadHtml(m.id, false);
  else $('html-frame').removeAttribute('src');
  $('read-body').textContent = m.body;
  $('read-body').classList.toggle('d-none', hasHtml && !m.body);
  $('delete-button').textContent = m.folder === 'trash' ? 'Delete forever' : 'Delete';
  show('read-view');
  refreshCounts();
}

function addressOf(text) {
  const match = /<([^>]+)>/.exec(text || '');
  return (match ? match[1] : (text || '')).trim();
}
function splitList(text) {
  return (text || '').split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/).map(addressOf).filter(Boolean);
}
function quote(m) {
  return `\n\nOn ${m.date}, ${m.from} wrote:\n` + m.body.split('\n').map((l) => `> ${l}`).join('\n');
}

function compose({ to = '', cc = '', subject = '', body = '', replyTo = '', forward = null } = {}) {
  clearAlert();
  $('compose-to').value = to;
  $('compose-cc').value = cc;
  $('compose-subject').value = subject;
  $('compose-body').value = body;
  $('compose-files').value = '';
  $('compose-view').dataset.replyTo = replyTo;
  $('compose-view').dataset.forward = forward ? forward.id : '';
  const fwd = $('compose-forwarded');
  fwd.replaceChildren();
  for (const a of forward ? forward.attachments : []) {
    const li = document.createElement('li');
    li.className = 'list-inline-item badge bg-light text-dark';
    li.textContent = a.filename;
    fwd.appendChild(li);
  }
  $('compose-title').textContent = replyTo ? 'Reply' : forward ? 'Forward' : 'New message';
  show('compose-view');
  $(to ? 'compose-body' : 'compose-to').focus();
}

function prefixed(prefix, subject) {
  return subject.toLowerCase().startsWith(prefix.toLowerCase()) ? subject : `${prefix} ${subject}`;
}

function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result.slice(reader.result.indexOf(',') + 1));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function send(ev) {
  ev.preventDefault();
  const button = $('send-button');
  button.disabled = true;
  try {
    const attachments = [];
    for (const f of $('compose-files').files) {
      attachments.push({ filename: f.name, content_type: f.type || 'application/octet-stream',
                         data: await readFile(f) });
    }
    const body = {
      to: splitList($('compose-to').value),
      cc: splitList($('compose-cc').value),
      subject: $('compose-subject').value,
      body: $('compose-body').value,
      attachments,
    };
    if ($('compose-view').dataset.replyTo) body.reply_to = $('compose-view').dataset.replyTo;
    if ($('compose-view').dataset.forward) body.forward = $('compose-view').dataset.forward;
    await api('POST', '/api/mail', body);
    state.folder = 'sent';
    state.q = '';
    state.cursors = [''];
    state.page = 0;
    await loadList();
    showAlert('Message sent.', 'success');
  } catch (e) {
    showAlert(e.message);
  } finally {
    button.disabled = false;
  }
}

async function main() {
  state.user = await startPage('mail');
  for (const b of document.querySelectorAll('#folders [data-folder]')) {
    b.addEventListener('click', () => {
      state.folder = b.dataset.folder;
      state.q = '';
      $('search-input').value = '';
      state.cursors = [''];
      state.page = 0;
      loadList();
    });
  }
  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    state.q = $('search-input').value.trim();
    state.cursors = [''];
    state.page = 0;
    loadList();
  });
  $('older-button').addEventListener('click', () => { state.page += 1; loadList(); });
  $('newer-button').addEventListener('click', () => { state.page = Math.max(0, state.page - 1); loadList(); });
  $('compose-button').addEventListener('click', () => compose());
  $('cancel-compose').addEventListener('click', () => loadList());
  $('back-button').addEventListener('click', () => loadList());
  $('show-images-button').addEventListener('click', () => loadHtml(state.current.id, true));
  $('compose-view').addEventListener('submit', send);
  $('reply-button').addEventListener('click', () => {
    const m = state.current;
    compose({ to: addressOf(m.from), subject: prefixed('Re:', m.subject), body: quote(m), replyTo: m.id });
  });
  $('reply-all-button').addEventListener('click', () => {
    const m = state.current;
    const me = `${state.user.username}@`;
    const others = [...splitList(m.to), ...splitList(m.cc)]
      .filter((a) => !a.toLowerCase().startsWith(me.toLowerCase()));
    compose({ to: addressOf(m.from), cc: others.join(', '), subject: prefixed('Re:', m.subject),
              body: quote(m), replyTo: m.id });
  });
  $('forward-button').addEventListener('click', () => {
    const m = state.current;
    compose({ subject: prefixed('Fwd:', m.subject),
              body: `\n\n---------- Forwarded message ----------\nFrom: ${m.from}\nDate: ${m.date}\n` +
                    `Subject: ${m.subject}\nTo: ${m.to}\n\n${m.body}`,
              forward: m });
  });
  $('delete-button').addEventListener('click', async () => {
    try {
      await api('DELETE', `/api/mail/${encodeURIComponent(state.current.id)}`);
      await loadList();
      showAlert(state.current.folder === 'trash' ? 'Message deleted.' : 'Moved to Trash.', 'success');
    } catch (e) {
      showAlert(e.message);
    }
  });
  await loadList();
}

main();
