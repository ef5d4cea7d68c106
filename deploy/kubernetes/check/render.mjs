// Renders a kustomization the way `kubectl kustomize` does, for the fields PennCloud's
// manifests use: resources (files and folders), namespace, images, replicas,
// configMapGenerator (with disableNameSuffixHash) and JSON 6902 patches with a kind/name
// target. Debian 12 ships no kustomize (its kubectl 1.20 embeds kustomize 2.0, which predates
// most of these fields), so the offline checks in ctest render with this; any field it does
// not know is an error, never silently skipped.
//   node render.mjs DIR   prints the rendered objects as one YAML stream
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";

const KNOWN = new Set([
  "apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches",
  "generatorOptions", "configMapGenerator",
]);

// Kinds that live outside any namespace: `namespace:` leaves them alone.
const CLUSTER_SCOPED = new Set([
  "Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass",
  "CustomResourceDefinition",
]);

export function loadYamlObjects(file) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  const objects = [];
  for (const doc of docs) {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
    const obj = doc.toJS();
    if (obj !== null && obj !== undefined) objects.push(obj);
  }
  return objects;
}

// Kustomize matches a target's name as a regular expression over the whole name.
function matches(target, obj) {
  const whole = (re, s) => new RegExp(`^(?:${re})$`).test(s ?? "");
  if (target.kind && !whole(target.kind, obj.kind)) return false;
  if (target.name && !whole(target.name, obj.metadata?.name)) return false;
  for (const key of Object.keys(target)) {
    if (key !== "kind" && key !== "name") throw new Error(`patch target field ${key} not supported`);
  }
  return true;
}

// RFC 6901 pointer into `doc`: the parent container and the last key.
function locate(doc, pointer) {
  const parts = pointer.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  let node = doc;
  for (const p of parts.slice(0, -1)) {
    node = Array.isArray(node) ? node[Number(p)] : node?.[p];
    if (node === undefined) throw new Error(`patch path ${pointer} does not exist`);
  }
  return [node, parts[parts.length - 1]];
}

// RFC 6902 add, replace and remove: the operations the overlays use.
function applyJson6902(obj, ops) {
  for (const op of ops) {
    const [parent, key] = locate(obj, op.path);
    if (op.op === "add") {
      if (Array.isArray(parent)) parent.splice(key === "-" ? parent.length : Number(key), 0, op.value);
      else parent[key] = op.value;
    } else if (op.op === "replace") {
      if (!(key in parent)) throw new Error(`replace: ${op.path} does not exist`);
      parent[key] = op.value;
    } else if (op.op === "remove") {
      if (!(key in parent)) throw new Error(`remove: ${op.path} does not exist`);
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
    } else {
      throw new Error(`patch op ${op.op} not supported`);
    }
  }
}

function podSpecs(obj) {
  const spec = obj.spec?.template?.spec ?? obj.spec?.jobTemplate?.spec?.template?.spec;
  return spec ? [spec] : [];
}

export function render(dir) {
  const file = path.join(dir, "kustomization.yaml");
  const k = YAML.parse(fs.readFileSync(file, "utf8"));
  for (const key of Object.keys(k)) {
    if (!KNOWN.has(key)) throw new Error(`${file}: field ${key} is not supported by render.mjs`);
  }
  let objects = [];
  for (const r of k.resources ?? []) {
    const p = path.join(dir, r);
    objects.push(...(fs.statSync(p).isDirectory() ? render(p) : loadYamlObjects(p)));
  }
  if ((k.configMapGenerator ?? []).length && !k.generatorOptions?.disableNameSuffixHash) {
    throw new Error(`${file}: render.mjs needs generatorOptions.disableNameSuffixHash: true`);
  }
  for (const g of k.configMapGenerator ?? []) {
    const data = {};
    for (const f of g.files ?? []) data[path.basename(f)] = fs.readFileSync(path.join(dir, f), "utf8");
    for (const key of Object.keys(g)) {
      if (key !== "name" && key !== "files") throw new Error(`${file}: configMapGenerator.${key} not supported`);
    }
    objects.push({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: g.name }, data });
  }
  for (const p of k.patches ?? []) {
    const ops = YAML.parse(p.patch ?? fs.readFileSync(path.join(dir, p.path), "utf8"));
    if (!Array.isArray(ops)) throw new Error(`${file}: only JSON 6902 patches are supported`);
    let hit = 0;
    for (const obj of objects) {
      if (matches(p.target ?? {}, obj)) {
        applyJson6902(obj, structuredClone(ops));
        hit++;
      }
    }
    if (!hit) throw new Error(`${file}: a patch matches no object: ${JSON.stringify(p.target)}`);
  }
  for (const r of k.replicas ?? []) {
    const found = objects.filter((o) => o.metadata?.name === r.name && o.spec?.replicas !== undefined);
    if (!found.length) throw new Error(`${file}: replicas for ${r.name}: no such workload`);
    for (const o of found) o.spec.replicas = r.count;
  }
  for (const img of k.images ?? []) {
    for (const obj of objects) {
      for (const spec of podSpecs(obj)) {
        for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
          const [name, tag] = c.image.split(":");
          if (name !== img.name) continue;
          c.image = `${img.newName ?? name}${img.newTag ?? tag ? `:${img.newTag ?? tag}` : ""}`;
        }
      }
    }
  }
  if (k.namespace) {
    for (const obj of objects) {
      if (!CLUSTER_SCOPED.has(obj.kind)) obj.metadata.namespace = k.namespace;
      // Kustomize also moves the subjects of role bindings into the namespace.
      for (const s of obj.subjects ?? []) if (s.kind === "ServiceAccount") s.namespace = k.namespace;
    }
  }
  return objects;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const objects = render(process.argv[2] ?? ".");
  process.stdout.write(objects.map((o) => YAML.stringify(o)).join("---\n"));
}
