#!/usr/bin/env bash
# npm run demo: a throwaway Samba AD with sample users, a demo config and certificate, Gatehouse on
# http://localhost:8080 and a small demo relying party on http://localhost:8081 that shows the token.
# Everything stays on 127.0.0.1; Ctrl-C stops it all. Needs root (or sudo) for Samba's LDAP ports.
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO=var/demo
export SAMBA_DC_DIR=${SAMBA_DC_DIR:-/tmp/gatehouse-demo-dc}
PORT=${PORT:-8080}
RP_PORT=${RP_PORT:-8081}
mkdir -p "$DEMO/certs"

say() { printf '\033[1m[demo]\033[0m %s\n' "$*" >&2; }

[[ -f dist/cli.js ]] || { say "building"; npm run -s build; }

say "starting a local Samba AD domain controller (first run installs packages and provisions, ~1 min)"
bash test/fixtures/samba-dc.sh install
was_running=0; bash test/fixtures/samba-dc.sh status >/dev/null 2>&1 && was_running=1
bash test/fixtures/samba-dc.sh up

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
signing: { certFile: $DEMO/certs/signing.crt, keyFile: $DEMO/certs/signing.key }
session: { keyFile: $DEMO/certs/session.key }
stateDir: $DEMO/var
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
  kill "${pids[@]}" 2>/dev/null || true
  # Leave a DC we did not start alone.
  ((was_running)) || bash test/fixtures/samba-dc.sh down || true
}
trap cleanup EXIT INT TERM

node scripts/demo-rp.mjs "$RP_PORT" "http://localhost:$PORT" &
pids+=($!)
node dist/cli.js serve --config "$DEMO/gatehouse.yaml" &
pids+=($!)

for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/adfs/probe" >/dev/null 2>&1 && break; sleep 0.2; done
cat >&2 <<TXT

  Gatehouse is running.

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
