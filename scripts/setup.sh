#!/usr/bin/env bash
# Installs every build and test dependency of PennCloud from Debian 12 packages.
# Idempotent and quiet: packages already present are skipped, so a second run costs seconds.
#   scripts/setup.sh          build + test dependencies
#   scripts/setup.sh --bench  also the anchors the benchmarks compare against
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git clang-format ccache
  # the fuzz targets (fuzz/): clang with libFuzzer and the sanitizer runtimes
  clang-14 libclang-rt-14-dev
  # libraries
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  librocksdb-dev libboost-dev libssl-dev nlohmann-json3-dev libargon2-dev libgmime-3.0-dev
  libgtest-dev libgmock-dev libexpat1-dev libtomlplusplus-dev libicu-dev
  # two-step sign-in: QR codes for enrollment (frontend/qr_svg.h), base32 and HOTP/TOTP codes
  libqrencode-dev liboath-dev
  # drive: folder downloads as zip (drive/zip.h); thumbnails, made by the thumbnailer
  # process (drive/thumbnail.h) under a seccomp filter (drive/thumbnailer_child.h)
  libarchive-dev libvips-dev libseccomp-dev
  # mail between domains (docs/mail-auth.md): DKIM, SPF, DMARC; python3-dkim (+ nacl for
  # Ed25519) is the second DKIM implementation the interop test checks ours against
  libopendkim-dev libspf2-dev libopendmarc-dev python3-dkim python3-nacl
  # real clients and tools the tests drive
  curl swaks libnet-ssleay-perl fetchmail python3 python3-grpcio iproute2 openssl procps psmisc
  # reading descriptor sets: the wire-compatibility check (tests/proto/wire_compat.py)
  python3-protobuf
  # the multi-host test cuts emulated hosts off inside their network namespaces
  iptables
  chromium litmus rclone
  # the WebDAV client the drive test drives for locks (tests/drive/cadaver_system_test.cc)
  cadaver
  # IMAP clients the mail tests drive: mbsync, and Thunderbird headless over Marionette
  isync thunderbird
  # validates docker/compose.yaml in CI (no container engine needed)
  docker-compose
  # the web app's CSS/JS, served by the frontends under /assets/, and its icons (/icons/)
  libjs-bootstrap5 bootstrap-icons
)
# Node may come from elsewhere (with its own npm); Debian's nodejs and npm only when absent.
command -v npm >/dev/null || packages+=(nodejs npm)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(etcd-server etcd-client wrk nginx-light postfix gnuplot-nox dovecot-imapd argon2)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Browser tests drive Debian's chromium through playwright-core (no browser download) and
# check pages with axe-core.
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ -f "$root/tests/e2e/package.json" && ( ! -d "$root/tests/e2e/node_modules/playwright-core" ||
      ! -d "$root/tests/e2e/node_modules/@axe-core/playwright" ) ]]; then
  (cd "$root/tests/e2e" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
# The offline checks of the Kubernetes manifests render and validate them with node.
if [[ -f "$root/deploy/kubernetes/check/package.json" && ( ! -d "$root/deploy/kubernetes/check/node_modules/yaml" ||
      ! -d "$root/deploy/kubernetes/check/node_modules/kubernetes-models" ) ]]; then
  (cd "$root/deploy/kubernetes/check" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
