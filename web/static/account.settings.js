// Account settings beyond the password: app passwords, two-step sign-in (TOTP) and the list
// of sessions. Everything the server sends is put in the page as text, never as HTML.
import { api } from '/static/api.js';
import { clearMessage, showMessage } from '/static/layout.js';

const when = (iso) => (iso ? new Date(iso).toLocaleString() : 'never');

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function actionCell(label, onClick) {
  const td = document.createElement('td');
  td.className = 'text-end';
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'btn btn-sm btn-outline-danger';
  button.textContent = label;
  button.addEventListener('click', onClick);
  td.append(button);
  return td;
}

// --- App passwords --------------------------------------------------------------------
const appMessage = document.getElementById('app-message');

async function loadAppPasswords() {
  const { app_passwords: list } = await api('GET', '/api/account/app-passwords');
  const body = document.getElementById('app-list');
  body.replaceChildren();
  for (const p of list) {
    const row = document.createElement('tr');
    row.append(cell(p.name), cell(when(p.created)), cell(when(p.last_used)),
      actionCell('Revoke', async () => {
        clearMessage(appMessage);
        try {
          await api('DELETE', `/api/account/app-passwords/${encodeURIComponent(p.id)}`);
          showMessage(appMessage, `Revoked “${p.name}”.`, 'success');
          await loadAppPasswords();
        } catch (e) {
          showMessage(appMessage, e.message);
        }
      }));
    body.append(row);
  }
}

document.getElementById('app-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessage(appMessage);
  const form = event.target;
  const name = form.name.value.trim();
  if (!name) {
    showMessage(appMessage, 'Give the app password a name, such as the device it is for.');
    return;
  }
  try {
    const made = await api('POST', '/api/account/app-passwords', { name });
    document.getElementById('app-secret').textContent = made.password;
    document.getElementById('app-new').hidden = false;
    form.reset();
    await loadAppPasswords();
  } catch (e) {
    showMessage(appMessage, e.message);
  }
});

// --- Two-step sign-in -----------------------------------------------------------------
const tfaMessage = document.getElementById('tfa-message');
const tfa = (id) => document.getElementById(id);

async function loadTwoFactor() {
  const state = await api('GET', '/api/account/two-factor');
  tfa('tfa-status').textContent = state.enabled
    ? `On. ${state.recovery_codes_left} recovery codes left.`
    : 'Off. Turn it on to ask for a code from your phone after your password.';
  tfa('tfa-start').hidden = state.enabled;
  tfa('tfa-disable').hidden = !state.enabled;
  tfa('tfa-enroll').hidden = true;
}

tfa('tfa-start').addEventListener('click', async () => {
  clearMessage(tfaMessage);
  try {
    const setup = await api('POST', '/api/account/two-factor/setup');
    tfa('tfa-qr').src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(setup.qr_svg)}`;
    tfa('tfa-secret').textContent = setup.secret;
    tfa('tfa-enroll').hidden = false;
    tfa('tfa-start').hidden = true;
    tfa('tfa-code').focus();
  } catch (e) {
    showMessage(tfaMessage, e.message);
  }
});

tfa('tfa-enroll').addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessage(tfaMessage);
  try {
    const { recovery_codes: codes } = await api('POST', '/api/account/two-factor/confirm',
      { code: tfa('tfa-code').value.trim() });
    tfa('tfa-codes').replaceChildren(...codes.map((c) => {
      const li = document.createElement('li');
      li.textContent = c;
      return li;
    }));
    tfa('tfa-recovery').hidden = false;
    event.target.reset();
    showMessage(tfaMessage, 'Two-step sign-in is on. Mail apps now need app passwords.',
      'success');
    await loadTwoFactor();
  } catch (e) {
    showMessage(tfaMessage, e.message);
  }
});

tfa('tfa-disable').addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessage(tfaMessage);
  const form = event.target;
  try {
    await api('POST', '/api/account/two-factor/disable',
      { password: form.password.value, code: form.code.value.trim() });
    form.reset();
    tfa('tfa-recovery').hidden = true;
    showMessage(tfaMessage, 'Two-step sign-in is off.', 'success');
    await loadTwoFactor();
  } catch (e) {
    showMessage(tfaMessage, e.message);
  }
});

// --- Sessions -------------------------------------------------------------------------
const sessionsMessage = document.getElementById('sessions-message');

async function loadSessions() {
  const { sessions } = await api('GET', '/api/account/sessions');
  const body = document.getElementById('sessions-list');
  body.replaceChildren();
  for (const s of sessions) {
    const row = document.createElement('tr');
    row.title = s.user_agent;
    row.append(cell(s.current ? `${s.device} (this one)` : s.device), cell(s.address),
      cell(when(s.created)), cell(when(s.last_seen)),
      s.current ? cell('') : actionCell('Sign out', async () => {
        clearMessage(sessionsMessage);
        try {
          await api('DELETE', `/api/account/sessions/${encodeURIComponent(s.id)}`);
          await loadSessions();
        } catch (e) {
          showMessage(sessionsMessage, e.message);
        }
      }));
    body.append(row);
  }
}

document.getElementById('end-others').addEventListener('click', async () => {
  clearMessage(sessionsMessage);
  try {
    await api('POST', '/api/account/sessions/end-others');
    showMessage(sessionsMessage, 'Signed out everywhere else.', 'success');
    await loadSessions();
  } catch (e) {
    showMessage(sessionsMessage, e.message);
  }
});

export async function startSettings() {
  await Promise.all([loadAppPasswords(), loadTwoFactor(), loadSessions()]);
}
