#!/usr/bin/env bash
# ctest kubernetes_manifests: check.mjs on the manifests, then mutations.mjs (each check can
# fail). Fails, never skips, when a tool is missing: scripts/setup.sh installs node and this
# folder's npm packages.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${PENNCLOUD_BIN_DIR:?PENNCLOUD_BIN_DIR must name the folder of the built binaries}"
command -v node >/dev/null || { echo "node is missing: run scripts/setup.sh" >&2; exit 1; }
for p in yaml kubernetes-models; do
  [[ -d $here/node_modules/$p ]] || { echo "npm package $p is missing in $here: run scripts/setup.sh" >&2; exit 1; }
done
for b in kvs_server kvsctl coordinator frontend smtp pop3 imap; do
  [[ -x $PENNCLOUD_BIN_DIR/$b ]] || { echo "$PENNCLOUD_BIN_DIR/$b is missing: build it first" >&2; exit 1; }
done
node "$here/check.mjs"
node "$here/mutations.mjs"
