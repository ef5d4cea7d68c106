import { api } from '/static/api.js';
import { clearMessage, showMessage } from '/static/layout.js';

const form = document.getElementById('login-form');
const message = document.getElementById('message');

// Only same-site paths: an open redirect would help phishing.
function nextPage() {
  const next = new URLSearchParams(window.location.search).get('next') || '/';
  return next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessage(message);
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    showMessage(message, 'Enter your username and password.');
    return;
  }
  const button = document.getElementById('submit');
  button.disabled = true;
  try {
    await api('POST', '/api/login', { username, password });
    window.location.assign(nextPage());
  } catch (e) {
    if (e.status === 401) {
      showMessage(message, 'Wrong username or password.');
    } else if (e.status === 429) {
      showMessage(message, `Too many failed attempts. ${e.message}`);
    } else {
      showMessage(message, e.message);
    }
    form.password.value = '';
    form.password.focus();
  } finally {
    button.disabled = false;
  }
});
