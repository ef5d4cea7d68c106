// The public link page: describes the link, asks for its password if it has one, then lists
// the shared folder (downloads, zip) or offers the upload form of a file drop. Works without
// an account; the token is the page's own path, /s/{token}.

const base = location.pathname.replace(/\/+$/, '');
const $ = (id) => document.getElementById(id);

function show(id, on = true) {
  $(id).hidden = !on;
}

function say(text, kind = 'danger') {
  const box = $('message');
  box.className = `alert alert-${kind}`;
  box.textContent = text;
  box.hidden = !text;
}

async function call(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(base + path, init);
  const data = (res.headers.get('Content-Type') || '').includes('json') ? await res.json() : null;
  if (!res.ok) {
    const error = new Error((data && data.error) || `HTTP ${res.status}`);
    error.status = res.status;
    throw error;
  }
  return data;
}

function formatSize(bytes) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let n = bytes;
  let u = 0;
  while (n >= 1000 && u < units.length - 1) {
    n /= 1000;
    u += 1;
  }
  return `${u === 0 ? n : n.toFixed(1)} ${units[u]}`;
}

function join(folder, name) {
  return folder === '/' ? `/${name}` : `${folder}/${name}`;
}

function query(path) {
  return `?path=${encodeURIComponent(path)}`;
}

function renderCrumbs(path, rootName) {
  const list = $('crumbs');
  list.replaceChildren();
  const parts = path.split('/').filter(Boolean);
  const items = [{ name: rootName, path: '/' }];
  parts.forEach((name, i) => items.push({ name, path: `/${parts.slice(0, i + 1).join('/')}` }));
  items.forEach((item, i) => {
    const li = document.createElement('li');
    li.className = 'breadcrumb-item';
    if (i === items.length - 1) {
      li.textContent = item.name;
      li.setAttribute('aria-current', 'page');
    } else {
      const a = document.createElement('a');
      a.href = '#';
      a.textContent = item.name;
      a.addEventListener('click', (e) => {
        e.preventDefault();
        browse(item.path, rootName);
      });
      li.append(a);
    }
    list.append(li);
  });
}

async function browse(path, rootName, isFile = false) {
  say('');
  const data = await call('GET', `/files${query(path)}`);
  renderCrumbs(isFile ? '/' : path, rootName);
  $('zip').href = `${base}/zip${query(path)}`;
  const list = $('entries');
  list.replaceChildren();
  for (const entry of data.entries) {
    const li = document.createElement('li');
    li.className = 'list-group-item';
    const name = document.createElement(entry.type === 'folder' ? 'a' : 'span');
    name.className = 'pc-name';
    name.textContent = entry.type === 'folder' ? `${entry.name}/` : entry.name;
    const target = isFile ? '/' : join(path, entry.name);
    if (entry.type === 'folder') {
      name.href = '#';
      name.addEventListener('click', (e) => {
        e.preventDefault();
        browse(target, rootName).catch((err) => say(err.message));
      });
      li.append(name);
    } else {
      // Images show a thumbnail, made under the same access as their download.
      if (/^image\/(jpeg|png|webp|gif)/.test(entry.content_type || '')) {
        const img = document.createElement('img');
        img.className = 'pc-share-thumb';
        img.alt = '';
        img.loading = 'lazy';
        img.src = `${base}/thumbnail${query(target)}&size=64`;
        img.addEventListener('error', () => img.remove());
        li.append(img);
      }
      const size = document.createElement('span');
      size.className = 'pc-size';
      size.textContent = formatSize(entry.size);
      const get = document.createElement('a');
      get.className = 'btn btn-sm btn-outline-secondary';
      get.href = `${base}/content${query(target)}`;
      get.textContent = 'Download';
      get.setAttribute('download', entry.name);
      get.setAttribute('aria-label', `Download ${entry.name}`);
      li.append(name, size, get);
    }
    list.append(li);
  }
  show('empty', data.entries.length === 0);
  show('browse');
}

async function sendFiles() {
  const files = [...$('drop-files').files];
  const results = $('drop-results');
  if (files.length === 0) {
    say('Choose one or more files first.', 'warning');
    return;
  }
  $('drop-send').disabled = true;
  for (const file of files) {
    const li = document.createElement('li');
    li.textContent = `${file.name}: uploading…`;
    results.append(li);
    try {
      const res = await fetch(`${base}/upload?name=${encodeURIComponent(file.name)}`, {
        method: 'PUT',
        credentials: 'same-origin',
        body: file,
      });
      const data = await res.json();
      if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
      li.textContent = `${file.name}: sent as “${data.name}” (${formatSize(data.size)})`;
    } catch (err) {
      li.textContent = `${file.name}: failed (${err.message})`;
    }
  }
  $('drop-send').disabled = false;
}

async function open() {
  let info;
  try {
    info = await call('GET', '/info');
  } catch (err) {
    $('title').textContent = 'Link not available';
    $('subtitle').textContent = '';
    say(err.status === 404 ? 'This link does not exist, has expired or was revoked.' : err.message);
    return;
  }
  if (info.password && !info.unlocked) {
    show('password-form');
    $('password').focus();
    return;
  }
  show('password-form', false);
  $('title').textContent = info.name;
  const until = info.expires ? ` · until ${new Date(info.expires).toLocaleString()}` : '';
  if (info.permission === 'upload') {
    $('subtitle').textContent = `File drop${until}`;
    show('drop');
    return;
  }
  $('subtitle').textContent = `${info.type === 'folder' ? 'Shared folder' : 'Shared file'}${until}`;
  await browse('/', info.name, info.type === 'file');
}

$('password-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    await call('POST', '/unlock', { password: $('password').value });
    $('password').value = '';
    await open();
  } catch (err) {
    say(err.status === 401 ? 'Wrong password.' : err.message);
  }
});
$('drop-send').addEventListener('click', () => sendFiles());
open().catch((err) => say(err.message));
