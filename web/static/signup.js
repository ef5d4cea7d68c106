import { api } from '/static/api.js';
import { clearMessage, showMessage } from '/static/layout.js';

const form = document.getElementById('signup-form');
const message = document.getElementById('message');
const USERNAME = /^[a-z][a-z0-9._-]{2,31}$/;

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
  if (password.length < 8) {
    showMessage(message, 'Your password must be at least 8 characters.');
    form.password.focus();
    return;
  }
  if (password !== form.confirm.value) {
    showMessage(message, 'The two passwords do not match.');
    form.confirm.focus();
    return;
  }
  const button = document.getElementById('submit');
  button.disabled = true;
  try {
    await api('POST', '/api/signup', { username, password });
    window.location.assign('/');
  } catch (e) {
    showMessage(message, e.status === 409 ? 'That username is taken. Try another.' : e.message);
  } finally {
    button.disabled = false;
  }
});
