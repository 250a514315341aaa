#!/bin/sh
# Creates the token-signing certificate and session key on first start (kept in the certs volume),
# then runs the gatehouse command given (default: serve).
set -e
: "${GATEHOUSE_CONFIG:=/etc/gatehouse/gatehouse.yaml}"
export GATEHOUSE_CONFIG
if [ ! -f /app/certs/signing.crt ]; then
  node /app/dist/cli.js certs init
fi
exec node /app/dist/cli.js "$@"
