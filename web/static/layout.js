// The shared page frame: the navigation bar, the login guard, and message helpers.
// Every signed-in page calls `startPage('mail')` (or 'drive', 'home', 'account', 'admin').
import { api, me } from '/static/api.js';

const LINKS = [
  ['home', '/', 'Home'],
  ['mail', '/mail', 'Mail'],
  ['drive', '/drive', 'Drive'],
  ['account', '/account', 'Account'],
  ['admin', '/admin', 'Admin'],  // only for admins (the console itself checks again)
];

function renderNav(active, user) {
  const nav = document.getElementById('pc-nav');
  if (!nav) return;
  nav.className = 'navbar navbar-expand-md navbar-dark bg-primary mb-4';
  nav.setAttribute('aria-label', 'Main navigation');
  nav.innerHTML = `
    <div class="container">
      <a class="navbar-brand fw-semibold" href="/">PennCloud</a>
      <button class="navbar-toggler" type="button" data-bs-toggle="collapse"
              data-bs-target="#pc-nav-links" aria-controls="pc-nav-links"
              aria-expanded="false" aria-label="Toggle navigation">
        <span class="navbar-toggler-icon"></span>
      </button>
      <div class="collapse navbar-collapse" id="pc-nav-links">
        <ul class="navbar-nav me-auto"></ul>
        <span class="navbar-text me-3" id="pc-user"></span>
        <button class="btn btn-outline-light btn-sm" type="button" id="pc-logout">Log out</button>
      </div>
    </div>`;
  const list = nav.querySelector('ul');
  for (const [key, href, label] of LINKS) {
    if (key === 'admin' && !user.admin) continue;
    const li = document.createElement('li');
    li.className = 'nav-item';
    const a = document.createElement('a');
    a.className = 'nav-link' + (key === active ? ' active' : '');
    if (key === active) a.setAttribute('aria-current', 'page');
    a.href = href;
    a.textContent = label;
    li.appendChild(a);
    list.appendChild(li);
  }
  nav.querySelector('#pc-user').textContent = user.username;
  nav.querySelector('#pc-logout').addEventListener('click', async () => {
    try {
      await api('POST', '/api/logout');
    } finally {
      window.location.assign('/login');
    }
  });
}

// Ensures a session (else goes to /login), draws the navigation, returns the user.
export async function startPage(active) {
  const user = await me();
  if (!user) {
    const next = encodeURIComponent(window.location.pathname + window.location.search);
    window.location.replace(`/login?next=${next}`);
    return new Promise(() => {});  // never resolves: the page is going away
  }
  renderNav(active, user);
  return user;
}

// Shows a Bootstrap alert in `element` (role=alert, so screen readers announce it).
export function showMessage(element, text, kind = 'danger') {
  element.className = `alert alert-${kind}`;
  element.textContent = text;
  element.hidden = false;
}

export function clearMessage(element) {
  element.hidden = true;
  element.textContent = '';
}

// Checks a new password and its repetition (fields `password` and `confirm` of `form`)
// before the server does, saying what is wrong in `message` and focusing the field.
export function newPasswordIsValid(form, message) {
  if (form.password.value.length < 8) {
    showMessage(message, 'Your password must be at least 8 characters.');
    form.password.focus();
    return false;
  }
  if (form.password.value !== form.confirm.value) {
    showMessage(message, 'The two passwords do not match.');
    form.confirm.focus();
    return false;
  }
  return true;
}
