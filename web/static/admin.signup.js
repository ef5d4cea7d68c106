// The console's sign-up settings: the policy (open, invite-only, closed) and invite links
// (/api/admin/signup, /api/admin/invites). A new link's token is shown once, like a
// password: the server keeps only its digest.
import { api } from '/static/api.js';
import {
  confirmAction, el, hideAlert, showAlert,
} from '/static/admin.util.js';

const alertBox = () => document.getElementById('signup-alert');

function renderInvites(invites) {
  const list = document.getElementById('invite-list');
  list.replaceChildren();
  const now = Date.now() / 1000;
  const open = invites.filter((i) => i.expires > now);
  if (open.length === 0) {
    list.append(el('li', 'list-group-item text-muted', 'No open invites.'));
    return;
  }
  for (const invite of open) {
    const item = el('li', 'list-group-item d-flex align-items-center gap-2');
    const expires = new Date(invite.expires * 1000).toLocaleString();
    item.append(el('span', 'me-auto', `Made by ${invite.creator}, valid until ${expires}`));
    const revoke = el('button', 'btn btn-outline-danger btn-sm', 'Revoke');
    revoke.type = 'button';
    revoke.addEventListener('click', async () => {
      const ok = await confirmAction('Revoke this invite link?',
        `Nobody can sign up with the link ${invite.creator} made any more; it cannot be restored.`,
        'Revoke');
      if (!ok) return;
      try {
        await api('DELETE', `/api/admin/invites/${invite.id}`);
        await load();
      } catch (e) {
        showAlert(alertBox(), e.message);
      }
    });
    item.append(revoke);
    list.append(item);
  }
}

// The policy control stays disabled until the stored policy is shown, and later reloads
// (after an invite changes) leave it alone: an answer arriving late must not overwrite a
// choice the admin has made but not yet saved.
async function load({ withPolicy = false } = {}) {
  const settings = await api('GET', '/api/admin/signup');
  if (withPolicy) {
    document.getElementById('signup-policy').value = settings.policy;
    document.getElementById('signup-policy').disabled = false;
    document.getElementById('signup-save').disabled = false;
  }
  renderInvites(settings.invites);
}

export function startSignupSettings() {
  const form = document.getElementById('signup-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    hideAlert(alertBox());
    try {
      const policy = document.getElementById('signup-policy').value;
      const settings = await api('PUT', '/api/admin/signup', { policy });
      renderInvites(settings.invites);
      showAlert(alertBox(), `Sign-up is now ${settings.policy}.`, 'success');
    } catch (e) {
      showAlert(alertBox(), e.message);
    }
  });
  document.getElementById('invite-create').addEventListener('click', async () => {
    hideAlert(alertBox());
    try {
      const days = Number(document.getElementById('invite-days').value);
      const invite = await api('POST', '/api/admin/invites', { days });
      document.getElementById('invite-url').value = new URL(invite.url, window.location.origin).href;
      document.getElementById('invite-new').hidden = false;
      await load();
    } catch (e) {
      showAlert(alertBox(), e.message);
    }
  });
  load({ withPolicy: true }).catch((e) => showAlert(alertBox(), e.message));
}
