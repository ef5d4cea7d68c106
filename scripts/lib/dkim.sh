#!/usr/bin/env bash
# The DKIM keys outbound mail is signed with (docs/mail-auth.md): one Ed25519 key
# (RFC 8463) and one RSA-2048 key per mail domain, made once with the openssl command line
# and reused on every later start, and the DNS TXT records that publish them.
#
#   dkim.sh DIR DEFAULT_DIR DOMAIN   keys in DIR (or DEFAULT_DIR when DIR is ""), named
#                                    DOMAIN.SELECTOR.key as the smtp server reads them
#                                    (--dkim_dir); prints the records to publish
#
# Keys are 0600 in a 0700 folder; only public keys are printed, never a private one.
set -euo pipefail

dir=${1:-$2}
domain=$3
mkdir -p "$dir"
chmod 700 "$dir"

# SELECTOR ALGORITHM-ARGS...: makes DIR/DOMAIN.SELECTOR.key unless it is there.
make_key() {
  local key=$dir/$domain.$1.key
  shift
  [[ -s $key ]] && return
  (umask 077 && openssl genpkey "$@" -out "$key.tmp" 2>/dev/null && mv "$key.tmp" "$key")
}
make_key penncloud-ed25519 -algorithm ED25519
make_key penncloud-rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048

# The public half as DKIM publishes it: Ed25519 as the bare 32-byte key, RSA as the
# SubjectPublicKeyInfo (the last 32 bytes of an Ed25519 SubjectPublicKeyInfo are the key).
public_key() {  # key kind
  if [[ $2 == ed25519 ]]; then
    openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 -w0
  else
    openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | base64 -w0
  fi
}

echo "DKIM: publish these DNS TXT records for $domain (keys in $dir):"
for kind in ed25519 rsa; do
  selector=penncloud-$kind
  record="v=DKIM1; k=$kind; p=$(public_key "$dir/$domain.$selector.key" "$kind")"
  # One TXT string holds at most 255 bytes (RFC 1035); longer records are split in quotes.
  quoted=$(printf '%s' "$record" | fold -w 250 | sed 's/.*/"&"/' | tr '\n' ' ')
  echo "  $selector._domainkey.$domain. IN TXT ( ${quoted% } )"
done
