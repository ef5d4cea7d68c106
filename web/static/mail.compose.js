// Compose: new messages, replies (to Reply-To when the original names one), forwards, Bcc,
// address suggestions from past correspondents, and drafts saved on the server every few
// seconds while typing (the same Drafts folder IMAP shows). Sending a saved draft removes it.
import { api } from '/static/api.js';
import { offerUndo } from '/static/mail.delivery.js';
import { clearDriveAttachments, driveAttachments, initAttachFromDrive } from '/static/mail.drive.js';
import { $, clearAlert, onViewChange, show, showAlert, state } from '/static/mail.util.js';

const AUTOSAVE_MS = 3000;
const FIELDS = ['compose-to', 'compose-cc', 'compose-bcc', 'compose-subject', 'compose-body'];
// draftId: the saved copy's id ('' before the first save); dirty: typed since the last save;
// saving: the last save (resolved when none is running); form: counts openings of the form.
const draft = {
  id: '', dirty: false, saving: Promise.resolve(), timer: null, replyTo: '', forward: '', form: 0,
};
let signature = '';
let afterSend = async () => {};

export function addressOf(text) {
  const match = /<([^>]+)>/.exec(text || '');
  return (match ? match[1] : (text || '')).trim();
}
export function splitList(text) {
  return (text || '').split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/).map(addressOf).filter(Boolean);
}
function quote(m) {
  return `\n\nOn ${m.date}, ${m.from} wrote:\n` + m.body.split('\n').map((l) => `> ${l}`).join('\n');
}
function prefixed(prefix, subject) {
  return subject.toLowerCase().startsWith(prefix.toLowerCase()) ? subject : `${prefix} ${subject}`;
}
function signed(body) {
  return signature ? `\n\n-- \n${signature}${body}` : body;
}

function fields() {
  return {
    to: splitList($('compose-to').value),
    cc: splitList($('compose-cc').value),
    bcc: splitList($('compose-bcc').value),
    subject: $('compose-subject').value,
    body: $('compose-body').value,
    ...(draft.replyTo ? { reply_to: draft.replyTo } : {}),
    ...(draft.forward ? { forward: draft.forward } : {}),
  };
}

async function saveNow() {
  if (!draft.dirty) return;
  draft.dirty = false;
  const form = draft.form;
  try {
    const res = draft.id
      ? await api('PUT', `/api/mail/drafts/${encodeURIComponent(draft.id)}`, fields())
      : await api('POST', '/api/mail/drafts', fields());
    if (form !== draft.form) return;  // the form was reopened meanwhile: not its draft
    draft.id = res.id;
    $('draft-status').textContent = `Draft saved at ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    draft.dirty = true;
    $('draft-status').textContent = `Draft not saved: ${e.message}`;
  }
}

// Saves the draft if it changed since the last save; saves run one after another.
export function saveDraft() {
  draft.saving = draft.saving.then(saveNow);
  return draft.saving;
}

// Resolves once a save in progress is done (a listing of Drafts then shows it).
export function draftSaved() {
  return draft.saving;
}

function stopAutosave() {
  clearInterval(draft.timer);
  draft.timer = null;
}

// Opens the compose form. `draftOf` is a saved draft (as GET /api/mail/{id} returns it).
export function compose({ to = '', cc = '', bcc = '', subject = '', body = '', replyTo = '',
                          forward = null, draftOf = null } = {}) {
  clearAlert();
  $('compose-to').value = to;
  $('compose-cc').value = cc;
  $('compose-bcc').value = bcc;
  $('compose-subject').value = subject;
  $('compose-body').value = body;
  $('compose-files').value = '';
  clearDriveAttachments();
  $('draft-status').textContent = draftOf ? 'Saved draft' : '';
  Object.assign(draft, { id: draftOf ? draftOf.id : '', dirty: false, form: draft.form + 1,
                         replyTo, forward: forward ? forward.id : '' });
  const fwd = $('compose-forwarded');
  fwd.replaceChildren();
  for (const a of (forward || draftOf || { attachments: [] }).attachments) {
    const li = document.createElement('li');
    li.className = 'list-inline-item badge bg-light text-dark';
    li.textContent = a.filename;
    fwd.appendChild(li);
  }
  $('compose-title').textContent = replyTo ? 'Reply' : forward ? 'Forward' : draftOf ? 'Draft' : 'New message';
  show('compose-view');
  stopAutosave();
  draft.timer = setInterval(saveDraft, AUTOSAVE_MS);
  $(to ? 'compose-body' : 'compose-to').focus();
}

export function composeNew() {
  compose({ body: signed('') });
}
export function reply(m, all) {
  const me = `${state.user.username}@`.toLowerCase();
  const others = all ? [...splitList(m.to), ...splitList(m.cc)].filter((a) => !a.toLowerCase().startsWith(me)) : [];
  compose({ to: addressOf(m.reply_to || m.from), cc: others.join(', '), subject: prefixed('Re:', m.subject),
            body: signed(quote(m)), replyTo: m.id });
}
export function forward(m) {
  compose({ subject: prefixed('Fwd:', m.subject),
            body: signed(`\n\n---------- Forwarded message ----------\nFrom: ${m.from}\nDate: ${m.date}\n` +
                         `Subject: ${m.subject}\nTo: ${m.to}\n\n${m.body}`),
            forward: m });
}
export function openDraft(m) {
  compose({ to: m.to, cc: m.cc, bcc: (m.bcc || []).join(', '), subject: m.subject, body: m.body,
            replyTo: m.draft_reply_to || '', draftOf: m });
  draft.forward = m.draft_forward || '';
}

// Suggests past correspondents for the address being typed (the text after the last
// comma); each suggestion is the whole field's value with that address completed.
let suggestTimer = null;
function suggestContacts(input) {
  clearTimeout(suggestTimer);
  suggestTimer = setTimeout(async () => {
    const text = input.value;
    const cut = text.lastIndexOf(',') + 1;
    const prefix = cut ? `${text.slice(0, cut)} ` : '';
    const typed = text.slice(cut).trim();
    const list = $('contact-suggestions');
    if (!typed) {
      list.replaceChildren();
      return;
    }
    try {
      const { contacts } = await api('GET', `/api/mail/contacts?${new URLSearchParams({ q: typed })}`);
      list.replaceChildren(...contacts.map((c) => new Option(c.name || c.address, prefix + c.address)));
    } catch {
      list.replaceChildren();  // suggestions are a nicety
    }
  }, 150);
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
  stopAutosave();
  try {
    await draft.saving;
    const attachments = [];
    for (const f of $('compose-files').files) {
      attachments.push({ filename: f.name, content_type: f.type || 'application/octet-stream',
                         data: await readFile(f) });
    }
    const body = { ...fields(), attachments, ...driveAttachments(), ...(draft.id ? { draft: draft.id } : {}), undo: true };
    const sent = await api('POST', '/api/mail', body);
    Object.assign(draft, { id: '', dirty: false });
    await afterSend();
    showAlert('Message sent.', 'success');
    offerUndo(sent);
  } catch (e) {
    draft.timer = setInterval(saveDraft, AUTOSAVE_MS);
    showAlert(e.message);
  } finally {
    button.disabled = false;
  }
}

async function discard(onDone) {
  stopAutosave();
  const id = draft.id;
  Object.assign(draft, { id: '', dirty: false });
  if (id) {
    try {
      await api('DELETE', `/api/mail/${encodeURIComponent(id)}`);
    } catch (e) {
      showAlert(e.message);
    }
  }
  await onDone();
}

// `sent()` shows where the page goes after a send; `closed()` after Discard.
export async function initCompose({ sent, closed }) {
  afterSend = sent;
  initAttachFromDrive();
  for (const id of FIELDS) $(id).addEventListener('input', () => { draft.dirty = true; });
  for (const id of ['compose-to', 'compose-cc', 'compose-bcc']) {
    $(id).addEventListener('input', () => suggestContacts($(id)));
  }
  $('compose-view').addEventListener('submit', send);
  $('cancel-compose').addEventListener('click', () => discard(closed));
  // Leaving the form any other way keeps what was typed as a draft.
  onViewChange((from) => {
    if (from !== 'compose-view') return;
    stopAutosave();
    saveDraft();
  });
  try {
    signature = (await api('GET', '/api/account/profile')).signature || '';
  } catch {
    signature = '';
  }
}
