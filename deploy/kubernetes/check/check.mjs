// Offline checks of PennCloud's Kubernetes manifests (there is no cluster in CI):
//   1. renders the base and every overlay (render.mjs);
//   2. validates every object against the Kubernetes schema (npm kubernetes-models);
//   3. checks the cross-references a cluster would only reveal at run time: Services and
//      budgets select pods that exist, probes and Services name real container ports, every
//      mounted volume exists, every Secret and ConfigMap is made by the manifests or by the
//      cluster-init Job, every replica, config group and coordinator address names a pod or
//      Service that exists, and every container is non-root, read-only, bounded and probed;
//   4. runs every server binary with the exact flags and config its container gets, plus
//      --check_config (PENNCLOUD_BIN_DIR: the folder of the built binaries).
// Exits 1 naming every problem found.
//   PENNCLOUD_BIN_DIR=build/bin node check.mjs [--no-binaries] [MANIFESTS_DIR]
// (default deploy/kubernetes; --no-binaries skips step 4, for mutations.mjs's quick cases).
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { render } from "./render.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const runBinaries = !args.includes("--no-binaries");
const root = args.find((a) => !a.startsWith("--")) ?? path.join(here, "..");
const trees = ["base", ...fs.readdirSync(path.join(root, "overlays")).map((o) => `overlays/${o}`)];
const binDir = process.env.PENNCLOUD_BIN_DIR;
if (!binDir && runBinaries) {
  console.error("check.mjs: set PENNCLOUD_BIN_DIR to the folder of the built binaries");
  process.exit(1);
}

const problems = [];
const fail = (tree, what) => problems.push(`${tree}: ${what}`);
const WORKLOADS = new Set(["Deployment", "StatefulSet", "Job"]);
const SERVERS = new Set(["kvs_server", "coordinator", "frontend", "smtp", "pop3", "imap"]);

// --- 2. schema ------------------------------------------------------------------------------
async function modelFor(obj) {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : [null, obj.apiVersion];
  const module = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
  const models = await import(module);
  if (!models[obj.kind]) throw new Error(`no model for ${obj.apiVersion} ${obj.kind}`);
  return models[obj.kind];
}

async function validateSchema(tree, objects) {
  for (const obj of objects) {
    try {
      const Model = await modelFor(obj);
      new Model(obj).validate();
    } catch (e) {
      fail(tree, `${obj.kind}/${obj.metadata?.name}: ${e.message}`);
    }
  }
}

// --- 3. cross-references --------------------------------------------------------------------
const podSpecOf = (o) => o.spec?.template?.spec;
const podLabelsOf = (o) => o.spec?.template?.metadata?.labels ?? {};
const selects = (selector, labels) =>
  Object.keys(selector ?? {}).length > 0 &&
  Object.entries(selector).every(([k, v]) => labels[k] === v);

// The Secrets the cluster-init Job makes (`create_secret NAME ...` in its script).
function secretsMadeByInit(objects) {
  const scripts = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "penncloud-scripts");
  const made = new Set();
  for (const text of Object.values(scripts?.data ?? {})) {
    for (const m of text.matchAll(/^\s*create_secret ([a-z0-9-]+)/gm)) made.add(m[1]);
  }
  return made;
}

// Host names in a flag value like "config=a-0.a:7000,b-1.b:7000" or "1=a-0.a:7000,...".
const hostsIn = (value) =>
  value.split(",").map((part) => part.replace(/^[^=]*=/, "").replace(/:\d+$/, ""));

function checkReferences(tree, objects) {
  const by = (kind) => objects.filter((o) => o.kind === kind);
  const workloads = objects.filter((o) => WORKLOADS.has(o.kind));
  const configMaps = new Map(by("ConfigMap").map((o) => [o.metadata.name, o]));
  const secrets = new Set([...by("Secret").map((o) => o.metadata.name), ...secretsMadeByInit(objects)]);
  const services = new Map(by("Service").map((o) => [o.metadata.name, o]));
  const statefulSets = new Map(by("StatefulSet").map((o) => [o.metadata.name, o]));

  // A name a pod may dial: a Service, or a StatefulSet pod through its headless Service.
  const resolves = (host) => {
    const parts = host.split(".");
    if (parts.length === 1) return services.has(host);
    const [pod, svc] = parts;
    const set = statefulSets.get(svc);
    const ordinal = Number(pod.slice(svc.length + 1));
    return (
      set !== undefined && set.spec.serviceName === svc && pod.startsWith(`${svc}-`) &&
      Number.isInteger(ordinal) && ordinal < set.spec.replicas && services.has(svc)
    );
  };

  for (const w of workloads) {
    const name = `${w.kind}/${w.metadata.name}`;
    const spec = podSpecOf(w);
    const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
    for (const t of w.spec.volumeClaimTemplates ?? []) volumes.set(t.metadata.name, { pvc: true });
    if (w.kind !== "Job" && !selects(w.spec.selector.matchLabels, podLabelsOf(w))) {
      fail(tree, `${name}: its selector does not match its own pod labels`);
    }
    if (!spec.securityContext?.runAsNonRoot) fail(tree, `${name}: pod not runAsNonRoot`);
    if (w.kind !== "Job" && spec.automountServiceAccountToken !== false) {
      fail(tree, `${name}: mounts a service account token it does not need`);
    }
    const mounted = new Set();
    const all = [...(spec.initContainers ?? []).map((c) => [c, true]), ...spec.containers.map((c) => [c, false])];
    for (const [c, init] of all) {
      const cname = `${name} container ${c.name}`;
      const sc = c.securityContext ?? {};
      if (sc.readOnlyRootFilesystem !== true) fail(tree, `${cname}: root file system not read-only`);
      if (sc.allowPrivilegeEscalation !== false) fail(tree, `${cname}: may escalate privileges`);
      if (!(sc.capabilities?.drop ?? []).includes("ALL")) fail(tree, `${cname}: keeps capabilities`);
      for (const r of ["cpu", "memory"]) {
        if (!c.resources?.requests?.[r] || !c.resources?.limits?.[r]) fail(tree, `${cname}: no ${r} request and limit`);
      }
      for (const m of c.volumeMounts ?? []) {
        mounted.add(m.name);
        const v = volumes.get(m.name);
        if (!v) {
          fail(tree, `${cname}: mounts ${m.name}, which the pod does not have`);
          continue;
        }
        // Only init containers and the Job may see the CA key: a server holds its own key only.
        if (v.secret?.secretName === "penncloud-ca" && !init && w.kind !== "Job") {
          fail(tree, `${cname}: a server container mounts the CA's key`);
        }
      }
      const ports = new Map((c.ports ?? []).map((p) => [p.name, p.containerPort]));
      const numbers = new Set(ports.values());
      if (!init && w.kind !== "Job") {
        for (const kind of ["readinessProbe", "livenessProbe"]) {
          const probe = c[kind];
          if (!probe) {
            fail(tree, `${cname}: no ${kind}`);
            continue;
          }
          const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
          if (port !== undefined && !(typeof port === "number" ? numbers.has(port) : ports.has(port))) {
            fail(tree, `${cname}: ${kind} names port ${port}, which the container does not declare`);
          }
          if (probe.exec) {
            const text = probe.exec.command.join(" ");
            const used = [...text.matchAll(/(?:127\.0\.0\.1|\$POD_IP)[:/](\d+)/g)].map((m) => Number(m[1]));
            if (!used.length) fail(tree, `${cname}: ${kind} exec reaches no port of the container`);
            for (const p of used) {
              if (!numbers.has(p)) fail(tree, `${cname}: ${kind} dials port ${p}, which the container does not declare`);
            }
          }
        }
      }
      // A $(VAR) that names no variable of the container reaches the process as written.
      const defined = new Set((c.env ?? []).map((e) => e.name));
      for (const arg of [...(c.command ?? []), ...(c.args ?? [])]) {
        for (const m of arg.matchAll(/\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)/g)) {
          if (m[1] && !defined.has(m[1])) fail(tree, `${cname}: $(${m[1]}) names no variable of the container`);
        }
      }
      // Scripts the containers run come from the scripts ConfigMap.
      const text = [...(c.command ?? []), ...(c.args ?? [])].join(" ");
      for (const m of text.matchAll(/\/scripts\/([\w.-]+)/g)) {
        if (!configMaps.get("penncloud-scripts")?.data?.[m[1]]) fail(tree, `${cname}: runs /scripts/${m[1]}, which penncloud-scripts lacks`);
      }
      // Every address a flag names: replicas, the config group, coordinators.
      for (const m of text.matchAll(/--(peers|config|kvs|coordinator)=(\S+)/g)) {
        for (const host of hostsIn(m[2])) {
          if (host.startsWith("$") || host === "0.0.0.0") continue;
          if (!resolves(host)) fail(tree, `${cname}: --${m[1]} names ${host}, which no Service or StatefulSet pod answers to`);
        }
      }
      for (const env of c.env ?? []) {
        if (env.name === "PENNCLOUD_CONFIG" && !(c.volumeMounts ?? []).some((m) => env.value.startsWith(`${m.mountPath}/`))) {
          fail(tree, `${cname}: PENNCLOUD_CONFIG ${env.value} is on no mounted volume`);
        }
      }
    }
    for (const [vname, v] of volumes) {
      if (!mounted.has(vname)) fail(tree, `${name}: volume ${vname} is mounted by no container`);
      if (v.configMap) {
        const cm = configMaps.get(v.configMap.name);
        if (!cm) fail(tree, `${name}: ConfigMap ${v.configMap.name} does not exist`);
      }
      if (v.secret && !v.secret.optional && !secrets.has(v.secret.secretName)) {
        fail(tree, `${name}: Secret ${v.secret.secretName} is made neither here nor by cluster-init`);
      }
    }
    if (w.kind === "StatefulSet") {
      const svc = services.get(w.spec.serviceName);
      if (!svc || svc.spec.clusterIP !== "None") fail(tree, `${name}: serviceName ${w.spec.serviceName} is not a headless Service`);
      if (!by("PodDisruptionBudget").some((p) => p.spec.maxUnavailable === 1 && selects(p.spec.selector.matchLabels, podLabelsOf(w)))) {
        fail(tree, `${name}: no PodDisruptionBudget with maxUnavailable 1`);
      }
    }
  }

  for (const svc of services.values()) {
    const pods = workloads.filter((w) => selects(svc.spec.selector, podLabelsOf(w)));
    if (!pods.length) {
      fail(tree, `Service/${svc.metadata.name}: selects no pods`);
      continue;
    }
    for (const p of svc.spec.ports) {
      const target = p.targetPort ?? p.port;
      for (const w of pods) {
        const ports = podSpecOf(w).containers.flatMap((c) => c.ports ?? []);
        if (!ports.some((cp) => cp.name === target || cp.containerPort === target)) {
          fail(tree, `Service/${svc.metadata.name}: port ${p.name} targets ${target}, which ${w.metadata.name} does not declare`);
        }
      }
    }
  }
  for (const pdb of by("PodDisruptionBudget")) {
    if (!workloads.some((w) => selects(pdb.spec.selector.matchLabels, podLabelsOf(w)))) {
      fail(tree, `PodDisruptionBudget/${pdb.metadata.name}: selects no pods`);
    }
  }
  for (const hpa of by("HorizontalPodAutoscaler")) {
    const t = hpa.spec.scaleTargetRef;
    if (!workloads.some((w) => w.kind === t.kind && w.metadata.name === t.name)) {
      fail(tree, `HorizontalPodAutoscaler/${hpa.metadata.name}: targets ${t.kind}/${t.name}, which does not exist`);
    }
  }
}

// --- 4. the real binaries accept the config and the flags -----------------------------------
// What each server container would run, with --check_config added: the binary parses the
// ConfigMap's file and every flag, reports any problem, and exits without starting.
// What Kubernetes does to command and args: $(VAR) becomes the container's variable, $$
// becomes $, and a reference to no variable is left as written (so a shell's $(( )) passes).
function kubernetesExpand(text, env) {
  return text.replace(/\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)/g, (whole, name) =>
    whole === "$$" ? "$" : (env[name] ?? whole));
}

const seenRuns = new Set();

function runOne(tree, r) {
  return new Promise((resolve) => {
    const child = spawn(r.argv[0], r.argv.slice(1), { env: r.env });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20000);
    child.on("error", (e) => {
      clearTimeout(timer);
      fail(tree, `${r.what}: cannot run: ${e.message}`);
      resolve();
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code !== 0 || !/is good/.test(out)) fail(tree, `${r.what}: --check_config failed (exit ${code}): ${out}`.trim());
      resolve();
    });
  });
}

async function checkConfigRuns(tree, objects) {
  const config = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "penncloud-config");
  if (!config) return fail(tree, "no ConfigMap penncloud-config");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "penncloud-k8s-"));
  const confPath = path.join(dir, "penncloud.conf");
  fs.writeFileSync(confPath, config.data["penncloud.conf"]);
  const runs = [];
  for (const w of objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet")) {
    for (const c of podSpecOf(w).containers) {
      const env = {
        PATH: `${binDir}:${process.env.PATH}`,
        POD_NAME: `${w.metadata.name}-0`,
        NODE_NAME: `${w.metadata.name}-0`,
        POD_NAMESPACE: "penncloud",
        POD_IP: "10.0.0.7",
      };
      for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
      env.PENNCLOUD_CONFIG = confPath;  // the ConfigMap's file, where the mount would put it
      let argv;
      const expand = (s) => kubernetesExpand(s, env);
      if (c.command[0] === "sh" && c.command[1] === "-c") {
        argv = ["sh", "-c", `${[...c.command.slice(2), ...(c.args ?? [])].map(expand).join(" ")} --check_config`];
      } else {
        argv = [...c.command, ...(c.args ?? [])].map(expand).concat("--check_config");
      }
      const binary = (argv[0] === "sh" ? argv[2].match(/exec (\S+)/)?.[1] : argv[0]) ?? "?";
      if (!SERVERS.has(binary)) fail(tree, `${w.metadata.name}: container ${c.name} runs ${binary}, not a PennCloud server`);
      runs.push({ what: `${w.metadata.name}/${c.name} (${binary})`, argv, env });
    }
  }
  // kvsctl runs in the cluster-init Job (through docker/cluster-init.sh) with the same file.
  runs.push({ what: "cluster-init (kvsctl)", argv: ["kvsctl", "--check_config"], env: { PATH: `${binDir}:${process.env.PATH}`, PENNCLOUD_CONFIG: confPath } });
  // A run the base already made (an overlay that changed no flag) is not repeated; the rest
  // run four at a time.
  const fresh = runs.filter((r) => {
    const key = JSON.stringify([r.argv, config.data["penncloud.conf"]]);
    if (seenRuns.has(key)) return false;
    seenRuns.add(key);
    return true;
  });
  const pending = fresh.map((r) => () => runOne(tree, r));
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (pending.length) await pending.shift()();
  }));
  fs.rmSync(dir, { recursive: true });
  return fresh.length;
}

let total = 0;
for (const tree of trees) {
  let objects;
  try {
    objects = render(path.join(root, tree));
  } catch (e) {
    fail(tree, `does not render: ${e.message}`);
    continue;
  }
  await validateSchema(tree, objects);
  checkReferences(tree, objects);
  const runs = runBinaries ? await checkConfigRuns(tree, objects) : 0;
  const kinds = {};
  for (const o of objects) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
  console.log(`${tree}: ${objects.length} objects (${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(", ")}); ${runs} new --check_config runs`);
  total++;
}
for (const p of problems) console.error(`FAIL ${p}`);
console.log(problems.length ? `${problems.length} problems` : `all ${total} trees pass`);
process.exit(problems.length ? 1 : 0);
