import { api } from '/static/api.js';
import { clearMessage, newPasswordIsValid, showMessage } from '/static/layout.js';

const form = document.getElementById('signup-form');
const message = document.getElementById('message');
const USERNAME = /^[a-z][a-z0-9._-]{2,31}$/;
// An admin's invite link: /signup?invite=TOKEN (needed when sign-up is by invitation).
const invite = new URLSearchParams(window.location.search).get('invite');

// The admin's sign-up policy decides what the page offers.
async function showPolicy() {
  let policy = 'open';
  try {
    ({ policy } = await api('GET', '/api/signup'));
  } catch {
    return;  // the sign-up itself will say what is wrong
  }
  if (policy === 'closed') {
    showMessage(message, 'Sign-up is closed. Ask an administrator for an account.');
    form.hidden = true;
  } else if (policy === 'invite' && !invite) {
    showMessage(message, 'Sign-up is by invitation: open the invite link an administrator sent you.');
    form.hidden = true;
  }
}
showPolicy();

form.username.addEventListener('input', () => {
  document.getElementById('address-preview').textContent =
      form.username.value.trim().toLowerCase() || 'name';
});

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessage(message);
  const username = form.username.value.trim().toLowerCase();
  const password = form.password.value;
  if (!USERNAME.test(username)) {
    showMessage(message,
        'Choose a username of 3 to 32 letters, digits, ".", "_" or "-", starting with a letter.');
    form.username.focus();
    return;
  }
  if (!newPasswordIsValid(form, message)) return;
  const button = document.getElementById('submit');
  button.disabled = true;
  try {
    await api('POST', '/api/signup', invite ? { username, password, invite } : { username, password });
    window.location.assign('/');
  } catch (e) {
    showMessage(message, e.status === 409 ? 'That username is taken. Try another.' : e.message);
  } finally {
    button.disabled = false;
  }
});
