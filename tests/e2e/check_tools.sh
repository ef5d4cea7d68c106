#!/usr/bin/env bash
# The browser tests' tools, checked before any spec runs: a missing one fails the suite by
# name instead of letting it drop out. scripts/setup.sh installs all three.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
chromium=${PENNCLOUD_CHROMIUM:-/usr/bin/chromium}
missing=()
command -v node >/dev/null || missing+=("node (Debian package nodejs)")
[[ -f "$dir/node_modules/playwright-core/package.json" ]] ||
  missing+=("playwright-core (npm install in tests/e2e)")
[[ -f "$dir/node_modules/@axe-core/playwright/package.json" ]] ||
  missing+=("@axe-core/playwright (npm install in tests/e2e)")
[[ -x "$chromium" ]] || missing+=("chromium at $chromium (Debian package chromium)")
if ((${#missing[@]})); then
  echo "e2e: missing ${missing[*]}; run scripts/setup.sh" >&2
  exit 1
fi
echo "e2e: node $(node --version), playwright-core, @axe-core/playwright, $chromium"
