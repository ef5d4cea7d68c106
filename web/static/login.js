import { api } from '/static/api.js';
import { clearMessage, showMessage } from '/static/layout.js';

const form = document.getElementById('login-form');
const message = document.getElementById('message');

// Only same-origin paths: an open redirect would help phishing. A prefix check is not
// enough: the URL parser reads "/\evil.example" (and "/%5cevil", decoded here to it) as
// "//evil.example", and drops tabs and newlines ("/\t/evil"). So the target is resolved
// the way the browser will resolve it, and its origin compared.
function nextPage() {
  const { search, origin } = window.location;
  const next = new URLSearchParams(search).get('next') || '/';
  if (!next.startsWith('/') || next.startsWith('//') || next.includes('\\')) return '/';
  let url;
  try {
    url = new URL(next, origin);
  } catch {
    return '/';
  }
  return url.origin === origin ? url.pathname + url.search + url.hash : '/';
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
    const answer = await api('POST', '/api/login', { username, password });
    if (answer.code_required) {
      askForCode(answer.ticket);
      return;
    }
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

// Two-step sign-in: the password was right; the session begins once the code is.
const codeForm = document.getElementById('code-form');
let ticket = null;

function askForCode(newTicket) {
  ticket = newTicket;
  form.hidden = true;
  codeForm.hidden = false;
  codeForm.code.focus();
}

codeForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessage(message);
  const code = codeForm.code.value.trim();
  if (!code) {
    showMessage(message, 'Enter the code from your authenticator app.');
    return;
  }
  const button = document.getElementById('code-submit');
  button.disabled = true;
  try {
    await api('POST', '/api/login/code', { ticket, code });
    window.location.assign(nextPage());
  } catch (e) {
    if (e.status === 429) {
      showMessage(message, `Too many failed attempts. ${e.message}`);
    } else if (e.message.startsWith('sign-in expired')) {
      showMessage(message, 'That took too long. Enter your password again.');
      codeForm.hidden = true;
      form.hidden = false;
      form.password.value = '';
      form.password.focus();
    } else {
      showMessage(message, e.status === 401 ? 'That code is not right.' : e.message);
    }
    codeForm.code.value = '';
  } finally {
    button.disabled = false;
  }
});
