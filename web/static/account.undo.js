// Account settings: how long webmail holds a sent message so that "Undo" can take it back
// (/api/account/undo-send, 0 to 30 seconds; the server checks the range again).
import { api } from '/static/api.js';
import { clearMessage, showMessage } from '/static/layout.js';

async function start() {
  const form = document.getElementById('undo-form');
  const message = document.getElementById('undo-message');
  try {
    form.seconds.value = (await api('GET', '/api/account/undo-send')).seconds;
  } catch (e) {
    showMessage(message, e.message);
  }
  form.dataset.ready = 'true';
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearMessage(message);
    try {
      await api('PUT', '/api/account/undo-send', { seconds: Number(form.seconds.value) });
      showMessage(message, 'Saved.', 'success');
    } catch (e) {
      showMessage(message, e.message);
    }
  });
}

start();
