import { api } from '/static/api.js';
import { clearMessage, showMessage, startPage } from '/static/layout.js';
import { startProfile } from '/static/account.profile.js';
import { startSettings } from '/static/account.settings.js';

await startPage('account');
await startSettings();
await startProfile();
const form = document.getElementById('password-form');
const message = document.getElementById('message');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessage(message);
  if (form.new.value.length < 8) {
    showMessage(message, 'Your new password must be at least 8 characters.');
    return;
  }
  if (form.new.value !== form.confirm.value) {
    showMessage(message, 'The two new passwords do not match.');
    return;
  }
  const button = document.getElementById('submit');
  button.disabled = true;
  try {
    await api('POST', '/api/password', { old: form.old.value, new: form.new.value });
    form.reset();
    showMessage(message, 'Your password was changed. Other devices were logged out.', 'success');
  } catch (e) {
    showMessage(message, e.message);
  } finally {
    button.disabled = false;
  }
});
