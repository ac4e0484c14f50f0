#!/usr/bin/env bash
# Call set-up and fresh-handshake benchmark (SPEC PERF-2, PERF-3), openum
# beside Debian's Kamailio on one harness, in one run, on loopback:
#
#   sipp (TCP) -> stunnel4 (mutual TLS 1.3, ECDSA P-256 certificates made
#   by openssl here) -> server
#
#   - set-ups: one persistent connection; INVITE with an SDP offer -> 200
#     (openum: an SDP answer, a media port opened, a SIPSecured dial plan)
#     -> ACK -> BYE -> 200, at each offered rate for DUR seconds;
#   - handshakes: stunnel without session resumption and sipp -t tn, so
#     each OPTIONS -> 200 is one fresh mutual TLS connection, at HS_RATE/s.
#
# Kamailio (bench/kamailio/stateless.cfg) answers statelessly from its own
# TLS workers: the yardstick of a C proxy that keeps no call state. Each
# row gives the rate offered and achieved, the server's CPU time per
# set-up or handshake from /proc (its process and all its children:
# sipp and stunnel are not counted), and sipp's p99 INVITE-to-200 (1 ms
# ticks). The load average is printed first and last: the numbers are
# CPU time, but a loaded machine inflates them too.
#
# Then, unless GO_BENCH=0, the Go benchmarks' numbers, which count
# allocations as well (BenchmarkSippCallsOverMutualTLS at RATES' first
# rate, BenchmarkMutualTLSHandshakeCPU with ECDSA P-256 and RSA 2048, and
# crypto-floor-µs: what the public-key operations a handshake cannot skip
# cost at that moment, the yardstick for the handshake's CPU on a loaded
# machine).
#
# At a low HS_RATE each handshake wakes an idle server: its CPU per
# handshake then includes the Go scheduler's wake-ups (sysmon, idle
# threads spinning for work, stack growth of new goroutines), a third of
# it when measured at 100/s; the Go benchmark, two handshakes at a time
# without pause, has less of it.
#
#   bench/setup.sh                      rates 1000,2000,4000,5000,6000
#   DUR=8 HS_RATE=300 bench/setup.sh 2000,5000   (HS_RATE default 100)
#   SKIP_KAM=1 GO_BENCH=0 bench/setup.sh 5000     (SKIP_OPENUM=1: Kamailio alone)
#   PROFILE=/tmp/prof ...   also saves a CPU profile of openum serve over
#       each of its steps (cpu-setup-RATE.pprof, cpu-handshake-RATE.pprof),
#       from its admin API (which it opens then, on loopback)
#
# Needs sip-tester, stunnel4, openssl, python3; kamailio and
# kamailio-tls-modules for the yardstick (left out when not installed).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
RATES=${1:-1000,2000,4000,5000,6000}
DUR=${DUR:-5}
HS_RATE=${HS_RATE:-100}
w=$(mktemp -d /tmp/openum-setup.XXXXXX)
wrappers=()
cleanup() {
  for p in "${wrappers[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "${KEEP:-}" ] && echo "work dir: $w" || rm -rf "$w"
}
trap cleanup EXIT
stunnel=$(command -v stunnel4 || command -v stunnel)

freeport() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
listening() { for _ in $(seq 100); do ss -lnt | grep -q "127.0.0.1:$1 " && return 0; sleep 0.1; done; return 1; }
child() { cat "/proc/$1/task/$1/children" 2>/dev/null | awk '{print $1}'; }
# cpu PID: clock ticks of PID and its descendants, user + system.
cpu() {
  python3 - "$1" <<'PY'
import os, sys
kids, ticks = {}, {}
for d in filter(str.isdigit, os.listdir('/proc')):
    try:
        s = open(f'/proc/{d}/stat').read()
    except OSError:
        continue
    f = s[s.rindex(')') + 2:].split()
    kids.setdefault(int(f[1]), []).append(int(d))
    ticks[int(d)] = int(f[11]) + int(f[12])
todo, n = [int(sys.argv[1])], 0
while todo:
    p = todo.pop()
    n += ticks.get(p, 0)
    todo += kids.get(p, [])
print(n)
PY
}

# --- the PKI: a CA, the server's certificate (localhost), the gateway's ---
mkdir -p "$w/pki" "$w/run"
(
  cd "$w/pki"
  ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -days 2 -subj "/CN=openum bench CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign"
  leaf() { # name CN SAN
    openssl req "${ec[@]}" -keyout "$1.key" -out "$1.csr" -subj "/CN=$2"
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n' "$3" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out "$1.crt" -extfile "$1.ext"
  }
  leaf server localhost "DNS:localhost,IP:127.0.0.1"
  leaf gateway alice.localhost "DNS:alice.localhost"
) >"$w/pki.log" 2>&1 || { echo "openssl failed:"; cat "$w/pki.log"; exit 1; }

# start_stunnel CONNECT_PORT [fresh]: a tunnel from 127.0.0.1:$tunnel; sets tunnel_w
start_stunnel() {
  tunnel=$(freeport)
  cat >"$w/stunnel.conf" <<EOF
foreground = yes
pid =
debug = 3
[gateway]
client = yes
accept = 127.0.0.1:$tunnel
connect = 127.0.0.1:$1
cert = $w/pki/gateway.crt
key = $w/pki/gateway.key
CAfile = $w/pki/ca.crt
verifyChain = yes
checkHost = localhost
sslVersionMin = TLSv1.3
$( [ "${2:-}" = fresh ] && echo "sessionResume = no" )
EOF
  timeout 3600 "$stunnel" "$w/stunnel.conf" >"$w/stunnel.log" 2>&1 &
  tunnel_w=$!
  wrappers+=("$tunnel_w")
  listening "$tunnel" || { echo "stunnel did not start:"; tail -5 "$w/stunnel.log"; exit 1; }
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# step SERVER PID KIND RATE: one sipp run through the tunnel, one table row.
step() {
  local server=$1 pid=$2 kind=$3 rate=$4 scenario=$root/internal/sip/testdata/sipp/uac.xml mode=t1
  if [ "$kind" = handshake ]; then scenario=$root/bench/sipp/options.xml mode=tn; fi
  local dir=$w/run/$server-$kind-$rate
  mkdir -p "$dir"
  local c0 t0 c1 t1
  c0=$(cpu "$pid"); t0=$(date +%s.%N)
  local profiling=
  if [ -n "${PROFILE:-}" ] && [ "$server" = openum ]; then
    admin "debug/pprof/profile?seconds=$DUR" >"$PROFILE/cpu-$kind-$rate.pprof" &
    profiling=$!
  fi
  (cd "$dir" && timeout $((3 * DUR + 30)) sipp -sf "$scenario" -s 5001 -i 127.0.0.1 -p "$(freeport)" \
    -mi 127.0.0.1 -mp "$(freeport)" -t $mode -r "$rate" -m $((rate * DUR)) -l "$rate" -d 0 \
    -max_socket 9000 -nostdin -recv_timeout 5000 -trace_stat -stf stats.csv -trace_rtt -rtt_freq 1 \
    -trace_err -error_file errors.log "127.0.0.1:$tunnel" >sipp.out 2>&1)
  c1=$(cpu "$pid"); t1=$(date +%s.%N)
  [ -z "$profiling" ] || wait "$profiling"
  python3 - "$dir" "$server" "$kind" "$rate" "$c0" "$c1" "$t0" "$t1" "$(getconf CLK_TCK)" <<'PY'
import glob, os, sys
d, server, kind = sys.argv[1:4]
rate, c0, c1, t0, t1, hz = (float(x) for x in sys.argv[4:])
ok = failed = 0
achieved = 0.0
try:
    lines = [l.rstrip('\n').split(';') for l in open(os.path.join(d, 'stats.csv')) if l.strip()]
    head, last = lines[0], lines[-1]
    v = dict(zip(head, last))
    ok, failed = int(v['SuccessfulCall(C)']), int(v['FailedCall(C)'])
    epoch = lambda f: float(f.split('\t')[-1])
    el = epoch(v['CurrentTime']) - epoch(v['StartTime'])
    achieved = ok / el if el > 0 else 0
except (OSError, KeyError, ValueError, IndexError):
    pass
ms = []
for f in glob.glob(os.path.join(d, '*_rtt.csv')):
    for line in open(f):
        p = line.strip().split(';')
        try:
            ms.append(float(p[1]))
        except (IndexError, ValueError):
            pass
ms.sort()
p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))] if ms else float('nan')
cpu_s = (c1 - c0) / hz
pct = 100 * cpu_s / (t1 - t0)
per = cpu_s * 1e6 / ok if ok else float('nan')
verdict = 'PASS' if ok and failed < 0.01 * (ok + failed) and achieved >= 0.95 * rate else 'FAIL'
print(f'{server:9} {kind:9} {int(rate):>8} {ok:>7} {failed:>6} {achieved:>10.0f} {pct:>8.0f} {per:>10.0f} {p99:>7.0f}  {verdict}', flush=True)
PY
}

ladder() { # SERVER PID CONNECT_PORT
  start_stunnel "$3"
  for r in ${RATES//,/ }; do step "$1" "$2" setup "$r"; done
  stop "$tunnel_w"
  start_stunnel "$3" fresh
  step "$1" "$2" handshake "$HS_RATE"
  stop "$tunnel_w"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores), $(date -u +%FT%TZ)"
printf '%-9s %-9s %8s %7s %6s %10s %8s %10s %7s\n' server step offered/s ok failed achieved/s "cpu %" "cpu µs/op" "p99 ms"

# --- openum serve: a SIPSecured dial plan, gateway ALICE, pilot 5001 ---
if [ -z "${SKIP_OPENUM:-}" ]; then
go build -o "$w/openum" ./cmd/openum || exit 1
export OPENUM_DATA=$w/data
o() { "$w/openum" "$@" >/dev/null || exit 1; }
o dialplan new SS --number-of-digits-in-extension 5 --voip-security sipsecured
o gateway new ALICE --address alice.localhost --port 5061
o huntgroup new HG --gateway ALICE --dialplan SS --pilot-identifier 5001
o policy new P --dialplan SS
o mailbox enable bench@example.test --dialplan SS --extension 12345 --policy P
o server set --name localhost --dialplans SS --max-calls-allowed 10000 --rtp-port-range 20000-59999
o cert import "$w/pki/ca.crt" --trusted
cat "$w/pki/server.crt" "$w/pki/server.key" >"$w/server.pem"
o cert import "$w/server.pem"
sip=$(freeport) tls=$(freeport) admin_flags=(--admin-listen off)
if [ -n "${PROFILE:-}" ]; then
  mkdir -p "$PROFILE"
  admin_listen=127.0.0.1:$(freeport) admin_flags=(--admin-listen "$admin_listen" --admin-plain-http)
  token=$("$w/openum" admin token new bench --role admin 2>/dev/null | sed -n 1p)
fi
admin() { curl -sf -H "Authorization: Bearer $token" "http://$admin_listen/$1"; }
timeout 3600 "$w/openum" serve --fqdn localhost --listen 127.0.0.1 --sip-port "$sip" --tls-port "$tls" \
  "${admin_flags[@]}" --options-interval 0 --request-rate 1000000 --request-burst 1000000 \
  --max-conns-per-source 100000 >"$w/openum.log" 2>&1 &
serve_w=$!
wrappers+=("$serve_w")
listening "$tls" || { echo "openum serve did not start:"; tail -5 "$w/openum.log"; exit 1; }
ladder openum "$(child "$serve_w")" "$tls"
stop "$serve_w"
fi

# --- Kamailio, stateless ---
kam_modules=/usr/lib/x86_64-linux-gnu/kamailio/modules
if [ -z "${SKIP_KAM:-}" ] && ! [ -e $kam_modules/tls.so ]; then
  echo "kamailio: left out ($(command -v kamailio >/dev/null && echo "no $kam_modules/tls.so: install kamailio-tls-modules" || echo "not installed"))"
elif [ -z "${SKIP_KAM:-}" ]; then
  cat >"$w/kamailio-tls.cfg" <<EOF
[server:default]
method = TLSv1.2+
verify_certificate = yes
require_certificate = yes
private_key = $w/pki/server.key
certificate = $w/pki/server.crt
ca_list = $w/pki/ca.crt
EOF
  mkdir -p "$w/kamailio"
  ktls=$(freeport)
  timeout 3600 kamailio -f "$root/bench/kamailio/stateless.cfg" -DD -E -P "$w/kamailio/pid" -Y "$w/kamailio" \
    -m 1024 -M 16 -x fm -X fm -l "tls:127.0.0.1:$ktls" -A NCH=2 -A "TLSCFG=\"$w/kamailio-tls.cfg\"" \
    >"$w/kamailio.log" 2>&1 &
  kam_w=$!
  wrappers+=("$kam_w")
  listening "$ktls" || { echo "kamailio did not start:"; tail -5 "$w/kamailio.log"; exit 1; }
  sleep 0.5
  ladder kamailio "$(child "$kam_w")" "$ktls"
  stop "$kam_w"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "${GO_BENCH:-1}" != 0 ]; then
  first=${RATES%%,*}
  echo "Go benchmarks (server in the test process; allocations are per set-up or handshake):"
  go test -c -o "$w/sip.test" ./internal/sip || exit 1
  # Run from the package directory (the benchmarks read testdata/); the
  # binary's stderr is sipgo's own log. GOGC 200 is openum serve's
  # target while it holds little, as here (internal/gcpolicy).
  (cd internal/sip && GOGC=${GOGC:-200} OPENUM_BENCH_RATES=$first "$w/sip.test" -test.run '^$' -test.bench SippCallsOverMutualTLS \
    -test.benchtime 1x -test.v 2>/dev/null | grep offered | sed 's/^ *bench_test.go:[0-9]*: /set-ups: /')
  (cd internal/sip && "$w/sip.test" -test.run '^$' -test.bench MutualTLSHandshakeCPU -test.benchtime 1000x 2>/dev/null |
    grep -E '^Benchmark')
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
