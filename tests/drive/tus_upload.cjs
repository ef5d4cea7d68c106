// Uploads one file with tus-js-client (tus 1.0) through the coordinator and reports, one JSON
// object per line: each accepted chunk, each retry, and at the end the bytes this client
// put into PATCH bodies in total, counting every PATCH whole even when it was cut off (an
// upper bound of what the servers received).
//   node tus_upload.cjs <base url> <session cookie> <csrf> <file> <drive path> <chunk bytes>
'use strict';
const fs = require('fs');
const { Upload } = require('tus-js-client');

const [base, cookie, csrf, file, dest, chunkArg] = process.argv.slice(2);
const data = fs.readFileSync(file);
const chunk = Number(chunkArg);
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');

let sent = 0;
let retries = 0;
let accepted = 0;
let afterRetry = false;
const resumedAt = [];

const upload = new Upload(data, {
  endpoint: `${base}/api/uploads/`,
  chunkSize: chunk,
  retryDelays: [0, 200, 500, 1000, 1000, 2000, 2000, 3000, 3000, 5000, 5000],
  headers: { Cookie: cookie, 'X-CSRF-Token': csrf },
  metadata: { path: dest, filename: dest.split('/').pop(), filetype: 'application/octet-stream' },
  onBeforeRequest(req) {
    if (req.getMethod() !== 'PATCH') return;
    const offset = Number(req.getHeader('Upload-Offset'));
    sent += Math.min(chunk, data.length - offset);
    if (afterRetry) {
      // The offset the server answered to HEAD: what it had stored when the drop came.
      resumedAt.push({ offset, acknowledgedBefore: accepted });
      afterRetry = false;
    }
  },
  onChunkComplete(_size, bytesAccepted) {
    accepted = bytesAccepted;
    say({ accepted });
  },
  onShouldRetry(err, attempt) {
    const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
    const retry = !(status >= 400 && status < 500) || status === 409 || status === 423;
    say({ retry: attempt, status, error: String(err.message).split('\n')[0], willRetry: retry });
    retries++;
    afterRetry = true;
    return retry;
  },
  onError(err) {
    say({ failed: String(err.message).split('\n')[0] });
    process.exit(1);
  },
  onSuccess() {
    say({ done: true, url: upload.url, size: data.length, sent, retries, resumedAt });
  },
});
upload.start();
