#!/usr/bin/env bash
# The trial DC container's process: provisions and seeds the domain on the first start (into the volume at
# SAMBA_DC_DIR; later starts reuse it), starts Samba, copies Samba's CA certificate to DC_CA_DIR for Gatehouse
# (which runs as another user and cannot read Samba's private folder), shows Samba's output as the
# container's log, and stops Samba cleanly on docker stop. Ends when Samba ends.
set -euo pipefail
: "${SAMBA_DC_DIR:=/var/lib/gatehouse-dc}" "${DC_CA_DIR:=/var/lib/gatehouse-dc-ca}"
export SAMBA_DC_DIR

samba-dc.sh up
mkdir -p "$DC_CA_DIR"
install -m 0644 "$SAMBA_DC_DIR/private/tls/ca.pem" "$DC_CA_DIR/ca.pem.new"
mv -f "$DC_CA_DIR/ca.pem.new" "$DC_CA_DIR/ca.pem"
echo "[dc] ready: LDAP on 127.0.0.1:389 (StartTLS, LDAPS on 636; certificate DC1.corp.example.test, CA in $DC_CA_DIR/ca.pem)" >&2

stop() {
  trap - TERM INT
  samba-dc.sh down
  exit 0
}
trap stop TERM INT
tail -n +1 -F --pid="$(cat "$SAMBA_DC_DIR/run/samba.pid")" "$SAMBA_DC_DIR/log/samba.out" &
wait $! || true
echo "[dc] samba exited" >&2
exit 1
