// Resumable uploads on the drive page. Files of RESUMABLE_FROM bytes and more go over tus 1.0
// (/api/uploads/, docs/drive.md) in PATCHes of CHUNK bytes, with a progress bar, a
// Pause/Resume button on their row, and automatic retry after a dropped connection: the
// server keeps every byte it stored, so the page asks for the offset (HEAD) and carries on
// from there. Smaller files go in one streamed PUT. The protocol is a handful of requests,
// so this speaks it directly rather than loading a client library into the page.
const contentUrl = (path) => `/api/files/content?path=${encodeURIComponent(path)}`;

export const RESUMABLE_FROM = 4 << 20;
const CHUNK = 4 << 20;
// Waits between attempts after a drop; the last one repeats until MAX_ATTEMPTS.
const RETRY_MS = [250, 1000, 2000, 4000, 8000];
const MAX_ATTEMPTS = 30;
const TUS = { 'Tus-Resumable': '1.0.0' };

// One XHR (fetch cannot report upload progress). Resolves {status, xhr}; status 0 means the
// connection dropped or the request was aborted.
function send(method, url, headers, body, onProgress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve) => {
    xhr.open(method, url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    if (onProgress) {
      xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded));
    }
    xhr.addEventListener('load', () => resolve({ status: xhr.status, xhr }));
    xhr.addEventListener('error', () => resolve({ status: 0, xhr }));
    xhr.addEventListener('abort', () => resolve({ status: 0, xhr }));
    xhr.send(body);
  });
  return { xhr, done };
}

function errorText(res) {
  try {
    return JSON.parse(res.xhr.responseText).error || `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

// Worth another try: a drop, a server error, a busy upload (423) or an offset the server
// did not expect (409: ask it again).
const retryable = (status) => status === 0 || status >= 500 || status === 409 || status === 423;

// The list item of an upload row, for its Pause button.
function rowElement(row, path) {
  if (row.element) return row.element;
  for (const li of document.querySelectorAll('#upload-list li')) {
    const name = li.querySelector('.pc-file-name')?.textContent;
    if (!li.dataset.state && !li.dataset.tus && name && `/${path}`.endsWith(`/${name}`)) return li;
  }
  return null;
}

class ResumableUpload {
  constructor(path, file, csrf, row) {
    Object.assign(this, { path, file, csrf, row });
    this.offset = 0;
    this.paused = false;
    this.current = null;  // the XHR under way
    this.wake = null;     // resolves a pause or a retry wait early
  }

  headers(extra = {}) {
    return { ...TUS, 'X-CSRF-Token': this.csrf, ...extra };
  }

  async wait(ms) {
    await new Promise((resolve) => {
      this.wake = resolve;
      if (ms !== undefined) setTimeout(resolve, ms);
    });
    this.wake = null;
  }

  setPaused(paused) {
    this.paused = paused;
    this.button.textContent = paused ? 'Resume' : 'Pause';
    this.button.setAttribute('aria-pressed', String(paused));
    if (paused && this.current) this.current.abort();
    if (!paused && this.wake) this.wake();
  }

  addButton() {
    this.button = document.createElement('button');
    this.button.type = 'button';
    this.button.className = 'btn btn-sm btn-outline-secondary ms-2 py-0 pc-upload-pause';
    this.button.textContent = 'Pause';
    this.button.setAttribute('aria-pressed', 'false');
    this.button.setAttribute('aria-label', `Pause or resume ${this.file.name}`);
    this.button.addEventListener('click', () => this.setPaused(!this.paused));
    const li = rowElement(this.row, this.path);
    if (li) {
      li.dataset.tus = '1';
      li.firstElementChild.append(this.button);
    }
  }

  async run() {
    const created = await send('POST', '/api/uploads/', this.headers({
      'Upload-Length': String(this.file.size),
      'Upload-Metadata': `path ${utf8Base64(this.path)},filetype ${utf8Base64(this.file.type)}`,
    })).done;
    if (created.status !== 201) throw new Error(errorText(created));
    const url = created.xhr.getResponseHeader('Location');
    this.addButton();
    let attempts = 0;
    while (this.offset < this.file.size) {
      if (this.paused) {
        await this.wait();
        if (!(await this.ask(url))) continue;
      }
      const end = Math.min(this.offset + CHUNK, this.file.size);
      const start = this.offset;
      const req = send('PATCH', url, this.headers({
        'Upload-Offset': String(start),
        'Content-Type': 'application/offset+octet-stream',
      }), this.file.slice(start, end), (sent) => this.row.progress((start + sent) / this.file.size));
      this.current = req.xhr;
      const res = await req.done;
      this.current = null;
      if (res.status === 204) {
        this.offset = Number(res.xhr.getResponseHeader('Upload-Offset'));
        this.row.progress(this.offset / this.file.size);
        attempts = 0;
        continue;
      }
      if (this.paused) continue;  // aborted by Pause
      if (!retryable(res.status) || ++attempts > MAX_ATTEMPTS) throw new Error(errorText(res));
      await this.wait(RETRY_MS[Math.min(attempts - 1, RETRY_MS.length - 1)]);
      await this.ask(url);
    }
    this.button?.remove();
  }

  // Where the server stands (HEAD); false if it could not say (the loop tries again).
  async ask(url) {
    const res = await send('HEAD', url, TUS).done;
    if (res.status === 404) throw new Error('The upload expired or was removed');
    if (res.status !== 200) return false;
    this.offset = Number(res.xhr.getResponseHeader('Upload-Offset'));
    this.row.progress(this.offset / this.file.size);
    return true;
  }
}

function utf8Base64(text) {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

async function putFile(path, file, csrf, row) {
  const headers = { 'X-CSRF-Token': csrf };
  if (file.type) headers['Content-Type'] = file.type;
  const res = await send('PUT', contentUrl(path), headers, file,
    (sent) => row.progress(file.size ? sent / file.size : 1)).done;
  if (res.status < 200 || res.status >= 300) {
    throw new Error(res.status ? errorText(res) : 'Connection lost');
  }
}

// The drive page's transfer (drive.uploads.js `useTransfer`): (path, file, row) => Promise.
export function resumableTransfer(csrf) {
  return async (path, file, row) => {
    try {
      if (file.size >= RESUMABLE_FROM) {
        await new ResumableUpload(path, file, csrf, row).run();
      } else {
        await putFile(path, file, csrf, row);
      }
      row.finish(true, 'Done');
    } catch (e) {
      row.finish(false, e.message);
    }
  };
}
