// Live updates: the server's event stream (GET /api/events) says when a folder changed
// (new mail, another tab, IMAP or POP3); the page then re-reads the folder list and, if the
// open folder changed, its listing. Optional desktop notifications for new Inbox mail.
import { $, state } from '/static/mail.util.js';

const MAX_RETRY_MS = 30000;
let lastInboxUnread = null;

function notifyIfNew() {
  const inbox = state.folders.find((f) => f.name === 'inbox');
  const unread = inbox ? inbox.unread : 0;
  if (lastInboxUnread !== null && unread > lastInboxUnread && document.hidden &&
      'Notification' in window && Notification.permission === 'granted') {
    new Notification('PennCloud Mail', { body: `${unread} unread in Inbox` });
  }
  lastInboxUnread = unread;
}

function setUpNotifications() {
  const button = $('notify-button');
  if (!('Notification' in window) || Notification.permission !== 'default') {
    button.classList.add('d-none');
    return;
  }
  button.addEventListener('click', async () => {
    await Notification.requestPermission();
    button.classList.add('d-none');
  });
}

// `changed(folders)` runs after every event, with the names of the folders that changed
// (every folder after a reconnect, when events may have been missed).
export function startLiveUpdates(changed) {
  setUpNotifications();
  let retryMs = 1000;
  let source = null;
  const connect = () => {
    source = new EventSource('/api/events');
    source.addEventListener('ready', () => {
      retryMs = 1000;
      document.body.dataset.live = 'on';
      changed(null).then(notifyIfNew);
    });
    source.addEventListener('mail', (ev) => {
      let folders = null;
      try {
        folders = JSON.parse(ev.data).folders;
      } catch {
        folders = null;
      }
      $('live-status').textContent = 'Mail updated';
      changed(folders).then(notifyIfNew);
    });
    source.addEventListener('error', () => {
      document.body.dataset.live = 'off';
      // The browser retries by itself unless the server refused the stream.
      if (source.readyState !== EventSource.CLOSED) return;
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    });
  };
  connect();
}
