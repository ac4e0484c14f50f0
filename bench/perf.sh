#!/usr/bin/env bash
# Every performance requirement (SPEC PERF-1 to PERF-4, docs/requirements.md)
# measured in one run on this machine, and one table of them: each figure
# beside its goal and beside the floor or yardstick measured in the same
# run, since this machine's speed moves by a quarter between runs and a
# figure says little without its floor. The steps, one after the other
# (about 10 minutes; run it on an otherwise quiet machine):
#
#   floor      bench/udpfloor recv and send 2000: what the kernel's loopback
#              UDP alone costs a process, the media path's floor
#   load       RATE=100 DURATION=110 bench/load.sh 2000: PERF-1 (recording)
#              and PERF-4 (memory a call at the peak)
#   greeting   GREETING=1 RATE=100 DURATION=60 bench/load.sh 2000: PERF-1's
#              greeting phase, the server sending SRTP while it receives
#   setup      GO_BENCH=0 bench/setup.sh 5000: PERF-2 beside Kamailio, and
#              fresh handshakes through serve at 100/s
#   handshake  BenchmarkMutualTLSHandshakeCPU/ecdsa-p256-x25519 (3000x):
#              PERF-3 and the public-key operations' own cost (crypto floor)
#
# PERF-4's growth needs a 30-minute soak and 58 GB of disk, not run here:
# SAMPLE=60 RATE=100 DURATION=1860 bench/load.sh 2000 (its comment says
# how to stop it).
#
#   bench/perf.sh
#   SKIP=greeting,setup bench/perf.sh    leave steps out
#   KEEP=1 bench/perf.sh                 keep each step's own output
#
# Needs what bench/load.sh and bench/setup.sh need (sip-tester, stunnel4,
# openssl, python3, kamailio and kamailio-tls-modules for the yardstick).
set -uo pipefail
cd "$(dirname "$0")/.."
w=$(mktemp -d /tmp/openum-perf.XXXXXX)
trap '[ -n "${KEEP:-}" ] && echo "outputs: $w" || rm -rf "$w"' EXIT
run() { [[ ",${SKIP:-}," != *",$1,"* ]]; }
say() { echo "== $* ($(date -u +%T), load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2; }

if run floor; then
  say floor
  go build -o "$w/udpfloor" ./bench/udpfloor || exit 1
  "$w/udpfloor" recv 2000 >"$w/floor-recv.txt" 2>&1 &
  recv=$!
  sleep 1
  "$w/udpfloor" send 2000 >"$w/floor-send.txt" 2>&1
  sleep 1
  kill "$recv" 2>/dev/null
  wait "$recv" 2>/dev/null
fi
if run load; then
  say load
  RATE=100 DURATION=110 bench/load.sh 2000 >"$w/load.txt" 2>&1
fi
if run greeting; then
  say greeting
  GREETING=1 RATE=100 DURATION=60 bench/load.sh 2000 >"$w/greeting.txt" 2>&1
fi
if run setup; then
  say setup
  GO_BENCH=0 bench/setup.sh 5000 >"$w/setup.txt" 2>&1
fi
if run handshake; then
  say handshake
  go test -c -o "$w/sip.test" ./internal/sip || exit 1
  (cd internal/sip && "$w/sip.test" -test.run '^$' -test.bench 'MutualTLSHandshakeCPU/ecdsa-p256-x25519' \
    -test.benchtime 3000x 2>&1 | grep -v 'ref went negative') >"$w/handshake.txt"
fi

python3 - "$w" <<'PY'
import os, re, sys
w = sys.argv[1]

def text(name):
    try:
        return open(os.path.join(w, name)).read()
    except OSError:
        return ''

def num(pattern, s, group=1):
    m = re.search(pattern, s)
    return float(m.group(group)) if m else None

def figures(s, *names):  # those columns of bench/load.sh 2000's data row, or None
    lines = s.splitlines()
    for i, l in enumerate(lines):
        if l.split()[:1] == ['calls']:
            for d in lines[i + 1:]:
                if d.split()[:1] == ['2000']:
                    row = dict(zip(l.split(), d.split()))
                    try:
                        return tuple(float(row[n]) for n in names)
                    except (KeyError, ValueError):
                        return None
    return None

def setup_row(server, step, s):
    for l in s.splitlines():
        f = l.split()
        if f[:2] == [server, step] and len(f) >= 9:
            return {'achieved': float(f[5]), 'us': float(f[7]), 'p99': float(f[8])}
    return None

def fmt(v, spec='.0f'):
    return '—' if v is None else format(v, spec)

def verdict(*checks):
    if any(c is None for c in checks):
        return 'not run'
    return 'met' if all(checks) else 'NOT met'

recv = num(r'(\d+) µs a call-second', text('floor-recv.txt'))
send = num(r'(\d+) µs a call-second', text('floor-send.txt'))
rows = []

skipped = os.environ.get('SKIP', '').split(',')

def failed(step, requirement):  # a step that ran and left no figure
    if step not in skipped:
        rows.append((requirement, f'no figure: {step} failed (KEEP=1 keeps its output)', '—', '—', 'failed'))

load = figures(text('load.txt'), 'steady_us/call_s', 'loss_pct', 'peak_KiB/call')
if not load:
    failed('load', 'PERF-1 recording')
if load:
    steady, loss, peak = load
    rows.append(('PERF-1 recording', f'{steady:.0f} µs a call-second, {loss:.3f} % loss', '≤ 250 µs, < 0.1 %',
                 f'receiving alone {fmt(recv)}', verdict(steady <= 250 and loss < 0.1)))
    rows.append(('PERF-4 memory', f'{peak:.1f} KiB a call at the peak', '≤ 48 KiB', '—', verdict(peak <= 48)))
greet = figures(text('greeting.txt'), 'steady_us/call_s', 'loss_pct')
if not greet:
    failed('greeting', 'PERF-1 greeting')
if greet:
    steady, loss = greet
    both = recv + send if recv is not None and send is not None else None
    rows.append(('PERF-1 greeting', f'{steady:.0f} µs a call-second, {loss:.3f} % loss', '≤ 300 µs',
                 f'receiving and sending alone {fmt(both)}', verdict(steady <= 300)))
setup = text('setup.txt')
ou, ku = setup_row('openum', 'setup', setup), setup_row('kamailio', 'setup', setup)
if not ou:
    failed('setup', 'PERF-2 set-up')
if ou:
    rows.append(('PERF-2 set-up', f'{ou["us"]:.0f} µs, {ou["achieved"]:.0f}/s of 5,000 offered, p99 {ou["p99"]:.0f} ms',
                 '≤ 100 µs, ≥ 5,000/s, p99 ≤ 50 ms', f'Kamailio {fmt(ku and ku["us"])} µs',
                 verdict(ou['us'] <= 100 and ou['achieved'] >= 0.99 * 5000 and ou['p99'] <= 50)))
hs = text('handshake.txt')
cpu, floor = num(r'([\d.]+) server-cpu-µs/handshake', hs), num(r'([\d.]+) crypto-floor-µs', hs)
oh, kh = setup_row('openum', 'handshake', setup), setup_row('kamailio', 'handshake', setup)
if cpu is None:
    failed('handshake', 'PERF-3 handshake')
if cpu is not None:
    through = f'; serve at 100/s {fmt(oh and oh["us"])}, Kamailio {fmt(kh and kh["us"])}' if oh else ''
    rows.append(('PERF-3 handshake', f'{cpu:.0f} µs', '≤ 400 µs', f'crypto {fmt(floor)}{through}', verdict(cpu <= 400)))
rows.append(('PERF-4 growth', 'not run: a 30-minute soak, see bench/perf.sh', 'no growth in 30 min', '—', '—'))

head = ('requirement', 'measured', 'goal', 'floor or yardstick, this run', 'verdict')
widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
for r in [head] + rows:
    print('  '.join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())
PY
