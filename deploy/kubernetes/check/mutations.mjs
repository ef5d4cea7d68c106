// Proves check.mjs can fail: copies the manifests, breaks one thing at a time the way a real
// edit might, and expects check.mjs to exit 1 naming that thing. A check that cannot fail is
// no check.
//   PENNCLOUD_BIN_DIR=build/bin node mutations.mjs
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const source = path.join(here, "..");

// [what, file under deploy/kubernetes, text to replace, replacement, expected in the report]
const MUTATIONS = [
  ["a probe names a port the container lacks", "base/frontend.yaml", "httpGet: {path: /healthz, port: http}", "httpGet: {path: /healthz, port: web}", "readinessProbe names port web"],
  ["an exec probe dials another port", "base/kvs.yaml", "http://127.0.0.1:17000/metrics", "http://127.0.0.1:17001/metrics", "dials port 17001"],
  ["a Service selects no pod", "base/mail.yaml", "selector: {app.kubernetes.io/name: pop3}", "selector: {app.kubernetes.io/name: pop}", "Service/pop3: selects no pods"],
  ["a mount without its volume", "base/coordinator.yaml", "- {name: admin, mountPath: /admin, readOnly: true}", "- {name: admins, mountPath: /admin, readOnly: true}", "mounts admins"],
  ["a Secret nobody makes", "base/coordinator.yaml", "secretName: penncloud-admin", "secretName: penncloud-admins", "Secret penncloud-admins"],
  ["a flag the binary does not have", "base/frontend.yaml", "- --port=8001", "- --listen_port=8001", "--check_config failed"],
  ["a config key no binary knows", "base/penncloud.conf", "workers = 64", "worker_threads = 64", "--check_config failed"],
  ["a peer that does not exist", "base/kvs.yaml", "3=kvs-g2-2.kvs-g2:7000", "3=kvs-g2-3.kvs-g2:7000", "names kvs-g2-3.kvs-g2"],
  ["a wrong type", "base/frontend.yaml", "minReplicas: 3", "minReplicas: three", "must be integer"],
  ["a writable root file system", "base/mail.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "root file system not read-only"],
  ["a $(VAR) the container lacks", "base/coordinator.yaml", "            - {name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}\n", "", "$(POD_NAMESPACE) names no variable"],
  ["an overlay patch that misses", "overlays/production/kustomization.yaml", "name: coordinator}", "name: coordinators}", "a patch matches no object"],
];

let failed = 0;
async function mutate([what, file, from, to, expect]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "penncloud-k8s-mut-"));
  try {
    fs.cpSync(source, dir, { recursive: true, filter: (p) => !p.includes("node_modules") });
    const target = path.join(dir, file);
    const text = fs.readFileSync(target, "utf8");
    if (!text.includes(from)) {
      console.error(`FAIL ${what}: ${file} no longer contains ${JSON.stringify(from)}`);
      failed++;
      return;
    }
    fs.writeFileSync(target, text.replace(from, to));
    // The binaries run only where the mutation is theirs to catch (each run starts 11 of them).
    const flags = expect.includes("--check_config") ? [] : ["--no-binaries"];
    const { code, report } = await new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(here, "check.mjs"), ...flags, dir]);
      let report = "";
      child.stdout.on("data", (d) => (report += d));
      child.stderr.on("data", (d) => (report += d));
      const timer = setTimeout(() => child.kill("SIGKILL"), 120000);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, report });
      });
    });
    if (code === 1 && report.includes(expect)) {
      console.log(`ok   ${what}: caught`);
    } else {
      console.error(`FAIL ${what}: check.mjs exited ${code} without "${expect}":\n${report}`);
      failed++;
    }
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
}
const pending = [...MUTATIONS];
await Promise.all(Array.from({ length: 3 }, async () => {
  while (pending.length) await mutate(pending.shift());
}));
console.log(failed ? `${failed} mutations went unnoticed` : `all ${MUTATIONS.length} mutations caught`);
process.exit(failed ? 1 : 0);
