// The page behind an admin's password-reset link (/reset?token=...). The token is read
// once and taken out of the address bar, so it does not linger in history or get copied
// along with the URL; the server checks it, and spends it only when the new password is set.
import { api } from '/static/api.js';
import { clearMessage, newPasswordIsValid, showMessage } from '/static/layout.js';

const form = document.getElementById('reset-form');
const message = document.getElementById('message');
const token = new URLSearchParams(window.location.search).get('token') || '';
window.history.replaceState(null, '', '/reset');

function refuse(e) {
  if (e.status === 404) {
    showMessage(message,
        'This reset link is not valid: it was used, replaced by a newer one, or it expired. Ask an administrator for a new link.');
  } else {
    showMessage(message, e.message);
  }
}

async function check() {
  if (!token) {
    showMessage(message, 'This page needs the reset link an administrator gave you.');
    return;
  }
  try {
    const { username } = await api('POST', '/api/password/reset/check', { token });
    document.getElementById('reset-user').textContent = username;
    form.hidden = false;
    form.password.focus();
  } catch (e) {
    refuse(e);
  }
}
check();

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessage(message);
  const password = form.password.value;
  if (!newPasswordIsValid(form, message)) return;
  const button = document.getElementById('submit');
  button.disabled = true;
  try {
    const { username } = await api('POST', '/api/password/reset', { token, password });
    form.hidden = true;
    showMessage(message, `The password of ${username} is set. Log in with it now.`, 'success');
  } catch (e) {
    if (e.status === 400) {
      showMessage(message, e.message);
      form.password.focus();
    } else {
      form.hidden = true;
      refuse(e);
    }
  } finally {
    button.disabled = false;
  }
});
