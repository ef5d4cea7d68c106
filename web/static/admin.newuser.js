// The console's "Create a user" form (POST /api/admin/users). The page checks the name and
// the password against the sign-up rules before it asks, so a typo is named beside its
// field; the server checks everything again, and what it refuses (a taken name, a rule the
// page does not know) shows above the form with the server's own words.
import { api } from '/static/api.js';
import { confirmAction, hideAlert, showAlert } from '/static/admin.util.js';

// The sign-up rules (accounts/accounts.cc: NormalizeUsername, ValidatePassword); null when
// the value passes.
export function usernameProblem(name) {
  if (name.length < 3 || name.length > 32) return 'A username is 3 to 32 characters.';
  if (!/^[a-z]/i.test(name)) return 'A username starts with a letter.';
  if (!/^[a-z0-9._-]+$/i.test(name)) {
    return "A username may contain only letters, digits, '.', '_' and '-'.";
  }
  return null;
}

export function passwordProblem(password) {
  if (password.length < 8) return 'The password must be at least 8 characters.';
  if (new TextEncoder().encode(password).length > 128) {
    return 'The password must be at most 128 bytes.';
  }
  return null;
}

// Marks `input` invalid with `problem` in its feedback element, or clears it (null).
function mark(input, problem) {
  const feedback = document.getElementById(`${input.id}-error`);
  feedback.textContent = problem ?? '';
  input.classList.toggle('is-invalid', problem !== null);
  input.setAttribute('aria-invalid', problem === null ? 'false' : 'true');
  return problem === null;
}

// `onCreated(name)` runs after the server made the account (the list shows it then).
export function startNewUserForm(onCreated) {
  const form = document.getElementById('newuser-form');
  const name = document.getElementById('newuser-name');
  const password = document.getElementById('newuser-password');
  const admin = document.getElementById('newuser-admin');
  const alertBox = document.getElementById('newuser-alert');
  const button = document.getElementById('newuser-create');
  // A field once marked is checked again as it is typed in, so the mark goes when fixed.
  name.addEventListener('input', () => {
    if (name.classList.contains('is-invalid')) mark(name, usernameProblem(name.value.trim()));
  });
  password.addEventListener('input', () => {
    if (password.classList.contains('is-invalid')) mark(password, passwordProblem(password.value));
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    hideAlert(alertBox);
    const username = name.value.trim();
    const nameOk = mark(name, usernameProblem(username));
    const passwordOk = mark(password, passwordProblem(password.value));
    if (!nameOk) name.focus();
    else if (!passwordOk) password.focus();
    if (!nameOk || !passwordOk) return;
    const makeAdmin = admin.checked;
    const ok = await confirmAction(
      `Create the account ${username.toLowerCase()}?`,
      makeAdmin
        ? 'They can log in at once with the password you set, and as an admin they get this '
          + 'console: nodes, data, users and sign-up, including making other admins.'
        : 'They can log in at once with the password you set. Tell it to them privately; '
          + 'they can change it in Account settings.',
      'Create user',
    );
    if (!ok) return;
    button.disabled = true;
    try {
      const user = await api('POST', '/api/admin/users',
        { username, password: password.value, admin: makeAdmin });
      form.reset();
      showAlert(alertBox, `Created ${user.username}${user.admin ? ' (admin)' : ''}.`, 'success');
      await onCreated(user.username);
    } catch (e) {
      showAlert(alertBox, `Not created: ${e.message}`);
      if (e.status === 409) name.focus();
    } finally {
      button.disabled = false;
    }
  });
}
