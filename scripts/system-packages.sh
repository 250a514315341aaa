#!/usr/bin/env bash
# The Debian packages Gatehouse's demo and tests need, in one place.
#
#   system-packages.sh check  demo|test   exit 0 when everything is there, else list what is missing
#   system-packages.sh ensure demo|test   install what is missing (as root, or with sudo), or print the
#                                         one apt-get line to run and exit 1
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin

# libkrb5-dev, g++, make, python3: npm's kerberos module (Windows sign-in) builds from source against MIT
# Kerberos when its prebuilt download is unreachable (better-sqlite3 likewise needs the compiler).
BUILD=(libkrb5-dev g++ make python3)
DEMO=(samba samba-ad-dc samba-ad-provision samba-dsdb-modules python3-samba winbind ldb-tools ldap-utils faketime
      smbclient attr acl curl ca-certificates "${BUILD[@]}")
# The tests' real parts: the DC, xmlsec1 (token verification), Chromium (pages), the Shibboleth SP behind
# apache2, docker-compose (compose file), faketime, Redis, HAProxy and nginx (the farm), MIT Kerberos (kinit),
# iproute2 (the tests' own network namespace), prometheus (promtool checks the alert rules in docs/),
# python3-pysaml2 (another SAML 2.0 SP, run by Debian's /usr/bin/python3).
TEST=("${DEMO[@]}" faketime xmlsec1 docker-compose chromium apache2 libapache2-mod-shib shibboleth-sp-utils
      redis-server haproxy nginx krb5-user iproute2 util-linux prometheus python3-pysaml2)

action=${1:-check}; purpose=${2:-test}
case $purpose in demo) pkgs=("${DEMO[@]}") ;; test) pkgs=("${TEST[@]}") ;; *) echo "usage: $0 check|ensure demo|test" >&2; exit 2 ;; esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

line="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $action == check ]]; then
  echo "missing Debian packages: ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "Gatehouse's $purpose needs these Debian/Ubuntu packages, and this machine has no apt-get: ${missing[*]}" >&2
  exit 1
fi
sudo=()
if ((EUID != 0)); then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n); else
    echo "Gatehouse's $purpose needs Debian packages that are missing. Run, as root:" >&2
    echo "  $line" >&2
    exit 1
  fi
fi
echo "[packages] installing for the $purpose: ${missing[*]}" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
