#!/usr/bin/env bash
# Load benchmark for SPEC MEDIA/UM (issue: media and voice mail): N concurrent
# Secured calls, each streaming G.711 over SRTP for DURATION seconds into a
# recording, against `openum serve` on loopback. Reports, per step of N:
# set-up times, packet loss (server-side count of accepted packets against
# what was sent), server CPU time per call-second (from /proc rusage) and
# server memory per call (RSS while the calls are up).
#
#   bench/load.sh [N ...]          default: 50 100 200
#   DURATION=30 RATE=50 bench/load.sh 100 400
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30}
RATE=${RATE:-50}
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(50 100 200)

work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
export OPENUM_DATA=$work/data
go build -o "$work/openum" ./cmd/openum
o="$work/openum"
$o dialplan new SEC --number-of-digits-in-extension 5 --voip-security secured --max-call-duration 120 >/dev/null
$o gateway new SELF --address localhost >/dev/null
$o huntgroup new HG --gateway SELF --dialplan SEC --pilot-identifier 12345 >/dev/null
$o policy new P --dialplan SEC >/dev/null
$o mailbox enable load@example.test --dialplan SEC --extension 12345 >/dev/null
$o server set --name localhost --dialplans SEC --max-calls-allowed 10000 --rtp-port-range 20000-39999 >/dev/null
$o cert new-self-signed --fqdn localhost --san 127.0.0.1 >/dev/null
port=$((30000 + RANDOM % 20000))
$o serve --listen 127.0.0.1 --sip-port $((port)) --tls-port $((port + 1)) --request-rate 100000 --request-burst 100000 >"$work/serve.log" 2>&1 &
server=$!
sleep 2
hz=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$server/stat"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
packets() { python3 -c "
import json,sys
n=0
for line in open('$OPENUM_DATA/events.log'):
    r=json.loads(line)
    if r.get('EventID')==9300: n+=r.get('packets',0)
print(n)"; }

printf '%6s %10s %8s %9s %9s %10s %14s %12s\n' calls established failed setup_p50 setup_p99 loss_pct cpu_us/call_s mem_KiB/call
for n in "${steps[@]}"; do
  base_rss=$(rss); c0=$(cpu); p0=$(packets)
  $o test load --secured --media-secured --remote-port $((port + 1)) --calls "$n" --rate "$RATE" \
     --duration "${DURATION}s" --json >"$work/load.json" &
  load=$!
  sleep $(( n / RATE + DURATION / 2 )); mid_rss=$(rss)
  wait $load
  sleep 8  # recordings end on silence (RecordingIdleTimeout) and are spooled
  c1=$(cpu); p1=$(packets)
  python3 - "$work/load.json" "$n" "$c0" "$c1" "$hz" "$p0" "$p1" "$base_rss" "$mid_rss" "$DURATION" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n, c0, c1, hz, p0, p1, base, mid, dur = (float(x) for x in sys.argv[2:])
sent = r["PacketsSent"]
loss = 100 * (1 - (p1 - p0) / sent) if sent else 100
call_s = r["Established"] * dur
cpu_us = (c1 - c0) / hz * 1e6 / call_s if call_s else 0
mem = (mid - base) / max(r["Established"], 1)
print(f'{int(n):6d} {r["Established"]:10d} {r["Failed"]:8d} {r["SetupP50"]:9.1f} {r["SetupP99"]:9.1f} {loss:10.3f} {cpu_us:14.0f} {mem:12.0f}')
if r["Failures"]:
    print("   failures:", r["Failures"])
PY
done
