// Account settings: the display name on sent mail and the webmail signature.
import { api } from '/static/api.js';
import { clearMessage, showMessage } from '/static/layout.js';

export async function startProfile() {
  const form = document.getElementById('profile-form');
  const message = document.getElementById('profile-message');
  try {
    const profile = await api('GET', '/api/account/profile');
    form.display_name.value = profile.display_name;
    form.signature.value = profile.signature;
  } catch (e) {
    showMessage(message, e.message);
  }
  form.dataset.ready = 'true';
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearMessage(message);
    try {
      await api('PUT', '/api/account/profile',
                { display_name: form.display_name.value, signature: form.signature.value });
      showMessage(message, 'Saved.', 'success');
    } catch (e) {
      showMessage(message, e.message);
    }
  });
}
