#!/usr/bin/env bash
# npm run demo: a throwaway Samba AD with sample users, a demo config and certificate, Gatehouse on
# http://localhost:8080 and a small demo relying party on http://localhost:8081 that shows the token.
# Everything stays on 127.0.0.1; Ctrl-C stops it all. Needs root (or sudo) for Samba's LDAP ports.
#
# Env: PORT (8080), RP_PORT (8081),
#      SAMBA_DC_DIR (/tmp/gatehouse-demo-dc): the DC, made afresh at each start unless one already runs there,
#      DEMO_DIR (var/demo): the config, certificates and state written here.
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO=${DEMO_DIR:-var/demo}
SAMBA_DC_DIR=$(realpath -m "${SAMBA_DC_DIR:-/tmp/gatehouse-demo-dc}")
export SAMBA_DC_DIR
PORT=${PORT:-8080}
RP_PORT=${RP_PORT:-8081}
mkdir -p "$DEMO/certs"

say() { printf '\033[1m[demo]\033[0m %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[[ -f dist/cli.js ]] || { say "building"; npm run -s build; }

bash test/fixtures/samba-dc.sh install
was_running=0
if bash test/fixtures/samba-dc.sh status >/dev/null 2>&1; then
  was_running=1
  say "using the domain controller already running in $SAMBA_DC_DIR as it is (passwords changed in it stay changed)"
else
  # A fresh domain each time, so that the users below are as listed (an earlier demo may have changed them).
  say "creating a fresh Samba AD domain controller in $SAMBA_DC_DIR (about 10 s; longer on a busy machine)"
  bash test/fixtures/samba-dc.sh destroy 2>/dev/null
fi
bash test/fixtures/samba-dc.sh up

# Samba made its own CA and LDAPS certificate on its first start; the certificate names the DC
# DC1.corp.example.test (no subjectAltName), so that is the name Gatehouse expects when it connects to 127.0.0.1.
CA=$SAMBA_DC_DIR/private/tls/ca.pem
[[ -s $CA ]] || die "Samba did not create its CA certificate ($CA)"

cat > "$DEMO/gatehouse.yaml" <<YAML
# Written by npm run demo. See README.md for every key.
publicUrl: http://localhost:$PORT
listen: { host: 127.0.0.1, port: $PORT }
directory:
  urls: [ldap://127.0.0.1]
  baseDn: DC=corp,DC=example,DC=test
  bindDn: svc-gatehouse@corp.example.test
  bindPassword: Passw0rd!Svc1
  netbiosName: CORP
  # Passwords go to the DC over StartTLS, checked against the demo DC's self-signed CA. Changing a
  # password (dave, hank) always needs TLS: AD refuses password changes on an unencrypted connection.
  startTls: true
  caFile: "$CA"
  tlsServerName: DC1.corp.example.test
signing: { certFile: "$DEMO/certs/signing.crt", keyFile: "$DEMO/certs/signing.key" }
session: { keyFile: "$DEMO/certs/session.key" }
stateDir: "$DEMO/var"
# The demo domain locks accounts after 3 bad passwords; Gatehouse's default would be half of that.
# Two attempts per location and a 1-minute window keep a typo from locking you out of the demo.
lockout: { threshold: 2, observationWindowMinutes: 1 }
relyingParties:
  - id: urn:gatehouse:demo
    name: Gatehouse demo application
    replyUrls: [http://localhost:$RP_PORT/]
YAML
[[ -f $DEMO/certs/signing.crt ]] || node dist/cli.js certs init --config "$DEMO/gatehouse.yaml"
node dist/cli.js check-config --config "$DEMO/gatehouse.yaml"

pids=()
cleanup() {
  trap - EXIT INT TERM
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  # Leave a DC we did not start alone.
  ((was_running)) || bash test/fixtures/samba-dc.sh down || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

node scripts/demo-rp.mjs "$RP_PORT" "http://localhost:$PORT" &
pids+=($!)
node dist/cli.js serve --config "$DEMO/gatehouse.yaml" &
pids+=($!)

# Both answer before anything is printed as running.
node -e '
  const urls = process.argv.slice(1);
  const deadline = Date.now() + 20_000;
  (async () => {
    for (const url of urls) {
      for (;;) {
        try { if ((await fetch(url)).ok) break; } catch {}
        if (Date.now() > deadline) { console.error(`[demo] no answer from ${url}`); process.exit(1); }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  })();
' "http://127.0.0.1:$PORT/adfs/probe" "http://127.0.0.1:$RP_PORT/" || die "Gatehouse or the demo application did not start (see above)"

cat >&2 <<TXT

  Gatehouse is running (ready in $SECONDS s).

  Open:      http://localhost:$RP_PORT/          (a demo application that trusts Gatehouse)
  or:        http://localhost:$PORT/adfs/ls/?wa=wsignin1.0&wtrealm=urn:gatehouse:demo
  Metadata:  http://localhost:$PORT/FederationMetadata/2007-06/FederationMetadata.xml

  Users (domain CORP, corp.example.test):
    alice@corp.example.test  Passw0rd!Alice   signs in
    CORP\\bob                 Passw0rd!Bob1    signs in
    carol                    Passw0rd!Carol   disabled
    dave                     Passw0rd!Dave1   must change password
    hank                     Passw0rd!Hank1   password expired
    frank                    Passw0rd!Frank1  account expired

  Ctrl-C stops Gatehouse, the demo application and the domain controller (SAMBA_DC_DIR=$SAMBA_DC_DIR).

TXT
wait -n "${pids[@]}"
