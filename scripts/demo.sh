#!/usr/bin/env bash
# The README's first command: build openum and set up a directory the way an
# administrator would for a Secured dial plan answered through one IP gateway.
# It becomes the full call quickstart (openum quickstart) in a later release.
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENUM_DATA="${OPENUM_DATA:-$PWD/openum-data}"
if [ -e "$OPENUM_DATA/directory.db" ]; then
  echo "demo: $OPENUM_DATA already holds a directory; set OPENUM_DATA to an empty directory" >&2
  exit 1
fi
go build -o openum ./cmd/openum
run() { echo "\$ $*"; "$@"; echo; }
run ./openum dialplan new DP1 --number-of-digits-in-extension 5 --voip-security secured
run ./openum gateway new GW1 --address gw1.example.test --port 5061
run ./openum huntgroup new HG1 --gateway GW1 --dialplan DP1 --pilot-identifier 5000
run ./openum policy new P1 --dialplan DP1
run ./openum mailbox enable alice@example.test --dialplan DP1 --extension 12345 --policy P1 --display-name "Alice Martin"
run ./openum server set --dialplans DP1
run ./openum dialplan get
run ./openum audit
echo "demo: directory ready in $OPENUM_DATA"
