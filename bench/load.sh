#!/usr/bin/env bash
# Load benchmark for SPEC MEDIA/UM and PERF-1/PERF-4: N concurrent Secured
# calls, each streaming G.711 over SRTP for DURATION seconds into a
# recording, against `openum serve` on loopback. Reports, per step of N:
# set-up times; packet loss (packets the server accepted, from
# openum_rtp_packets_total, against what the callers sent); server CPU
# time (from /proc) per call-second over the whole step, set-up, greeting
# and saving included (cpu_us/call_s), and over the steady window while
# every call is up (steady_us/call_s: per 50 packets the server accepted
# in the window, openum_rtp_received_packets_total, so that callers slowed
# by a loaded machine do not flatter it; played_pps is what it sent); server
# memory (RSS) and goroutines per call at the end of that window
# (mem_KiB/call), and the most it was resident at any time of the step
# (peak_KiB/call, from VmHWM). The first is wherever the heap stood in its
# collection cycle, which the allocation rate moves; the second is what
# the server needed: give the window time for a few cycles (DURATION=110
# and more) before reading it as the steady state.
#
#   bench/load.sh [N ...]          default: 50 100 200
#   DURATION=60 RATE=100 bench/load.sh 1000 2000
#   GREETING=1 ...   the mailbox's greeting lasts longer than the calls: the
#       server sends SRTP while it receives, the whole call (no recordings,
#       so the steady window starts once the calls are up)
#   SAMPLE=60 DURATION=1800 ...   a soak: prints the server's resident set,
#       heap in use, heap idle but not yet returned to the kernel (part of
#       the resident set, not of what the server holds), the live heap (what
#       the last collection found reachable: the one that must not grow),
#       stacks, goroutines, calls up and CPU every 60 s of the window, from
#       one scrape of /metrics a sample.
#       The recordings take 16 kB a second each, in the spool while the
#       calls last, then in the store and in Maildir too: 2,000 calls of 30
#       minutes need 58 GB, then 173 GB once saved and delivered
#   PROFILE=/tmp/prof ...   also saves, per step, a CPU profile of the server
#       over the steady window (cpu-N.pprof; not in a soak), its heap at the window's start
#       and end (heap-start-N.pprof, heap-N.pprof: what the window allocated
#       is go tool pprof -sample_index alloc_space -diff_base the first the
#       second) and goroutines (goroutine-N.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30}
RATE=${RATE:-50}
GREETING=${GREETING:-}
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(50 100 200)

work=$(mktemp -d); server=
trap '[ -z "$server" ] || kill $server 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
export OPENUM_DATA=$work/data
go build -o "$work/openum" ./cmd/openum
o="$work/openum"
# Recordings last the calls: the dial plan's MaxRecordingDuration (20
# minutes unless a soak needs more, at most 100) would end them first.
rec=$(( DURATION / 60 + 2 )); [ "$rec" -ge 20 ] || rec=20; [ "$rec" -le 100 ] || rec=100
$o dialplan new SEC --number-of-digits-in-extension 5 --voip-security secured --max-call-duration 120 \
  --max-recording-duration "$rec" >/dev/null
$o gateway new SELF --address localhost >/dev/null
$o huntgroup new HG --gateway SELF --dialplan SEC --pilot-identifier 12345 >/dev/null
# The one mailbox takes every step's messages: the quota at its most
# (10,000 messages), or a step after the first is told "mailbox full".
$o policy new P --dialplan SEC --max-messages 10000 --max-message-storage 100000 >/dev/null
$o mailbox enable load@example.test --dialplan SEC --extension 12345 >/dev/null
$o server set --name localhost --dialplans SEC --max-calls-allowed 10000 --rtp-port-range 20000-39999 >/dev/null
$o cert new-self-signed --fqdn localhost --san 127.0.0.1 >/dev/null
token=$($o admin token new bench --role admin | sed -n 1p)
if [ -n "$GREETING" ]; then
  mkdir -p "$OPENUM_DATA/greetings"
  sox -n -r 8000 -b 16 -c 1 "$OPENUM_DATA/greetings/load@example.test.wav" synth $((DURATION + 60)) sine 440 vol 0.3
fi
port=$((30000 + RANDOM % 20000))
$o serve --listen 127.0.0.1 --sip-port $((port)) --tls-port $((port + 1)) --request-rate 100000 --request-burst 100000 \
   --admin-listen "127.0.0.1:$((port + 2))" --admin-plain-http >"$work/serve.log" 2>&1 &
server=$!
sleep 2
hz=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$server/stat"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$server/status"; }
admin() { curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$((port + 2))/$1"; }
metric() { admin metrics | of "$1"; }
# of sums the samples of metric $1 in the /metrics text on stdin.
of() { awk -v m="$1" '$1 == m {s += $2} END {printf "%d\n", s}'; }
accepted() { metric 'openum_rtp_packets_total{result="accepted"}'; }
received() { metric openum_rtp_received_packets_total; }
played() { metric openum_rtp_played_frames_total; }
calls() { admin metrics | in_progress; }
in_progress() { awk '/^openum_calls_in_progress/ {s += $2} END {printf "%d\n", s}'; }
goroutines() { admin 'debug/pprof/goroutine?debug=1' | awk 'NR == 1 {print $4}'; }
admin metrics >/dev/null || { echo "no metrics from the admin API" >&2; exit 1; }

printf '%6s %10s %8s %9s %9s %9s %14s %16s %12s %13s %10s %10s\n' calls established failed setup_p50 setup_p99 loss_pct cpu_us/call_s steady_us/call_s mem_KiB/call peak_KiB/call gor/call played_pps
for n in "${steps[@]}"; do
  # A step measures its own calls: the mail of the step before delivered
  # first (up to 5 minutes), and VmHWM, the process's high-water mark,
  # reset, so that the peak is not the saves at the end of that step.
  for _ in $(seq 300); do [ "$(metric openum_delivery_queue_messages)" -eq 0 ] && break; sleep 1; done
  echo 5 >"/proc/$server/clear_refs"
  base_rss=$(rss); base_gor=$(goroutines); c0=$(cpu); p0=$(accepted); l0=$(metric openum_rtp_packets_lost_total); t0=$(date +%s.%N)
  $o test load --secured --media-secured --remote-port $((port + 1)) --calls "$n" --rate "$RATE" \
     --duration "${DURATION}s" --json >"$work/load.json" &
  load=$!
  # The steady window: every call is up (and, recording, past its greeting
  # and tone: 6 s) and none has ended.
  from=$(( n / RATE + 2 )); [ -n "$GREETING" ] || from=$((from + 6))
  window=$(( DURATION - from - 1 ))
  sa=0; sb=0; sw=0; up_a=0; up_b=0; ra=0; rb=0; pa=0; pb=0; mid_rss=$base_rss; mid_hwm=$base_rss; mid_gor=$base_gor
  if [ "$window" -ge 4 ]; then
    sleep "$(python3 -c "import time; print(max(0, $t0 + $from - time.time()))")"
    sa=$(cpu); ta=$(date +%s.%N); up_a=$(calls); ra=$(received); pa=$(played)
    [ -z "${PROFILE:-}" ] || { mkdir -p "$PROFILE"; admin debug/pprof/heap >"$PROFILE/heap-start-$n.pprof"; }
    if [ -n "${SAMPLE:-}" ]; then
      # A soak: what the server holds, every SAMPLE seconds of the window,
      # to show whether it grows while the same calls go on.
      printf '   %6s %9s %10s %10s %10s %10s %11s %6s %10s\n' t_s rss_KiB heap_KiB idle_KiB live_KiB stack_KiB goroutines calls cpu_pct
      ts=$(date +%s); tc=$(cpu)
      while [ $(( $(date +%s) + SAMPLE )) -le $(( ${ta%.*} + window )) ]; do
        sleep "$SAMPLE"
        now=$(date +%s); c=$(cpu); m=$(admin metrics)
        printf '   %6d %9d %10d %10d %10d %10d %11d %6d %10.1f\n' $(( now - ${ta%.*} )) "$(rss)" \
          $(( $(of go_memstats_heap_inuse_bytes <<<"$m") / 1024 )) \
          $(( ($(of go_memstats_heap_idle_bytes <<<"$m") - $(of go_memstats_heap_released_bytes <<<"$m")) / 1024 )) \
          $(( $(of go_gc_heap_live_bytes <<<"$m") / 1024 )) $(( $(of go_memstats_stack_inuse_bytes <<<"$m") / 1024 )) \
          "$(goroutines)" "$(in_progress <<<"$m")" \
          "$(python3 -c "print(100 * ($c - $tc) / $hz / max(1, $now - $ts))")"
        ts=$now; tc=$c
      done
      sleep "$(python3 -c "import time; print(max(0, $ta + $window - time.time()))")"
    elif [ -n "${PROFILE:-}" ]; then
      admin "debug/pprof/profile?seconds=$window" >"$PROFILE/cpu-$n.pprof"
    else
      sleep "$window"
    fi
    sb=$(cpu); sw=$(python3 -c "print($(date +%s.%N) - $ta)"); up_b=$(calls); rb=$(received); pb=$(played)
    mid_rss=$(rss); mid_hwm=$(hwm); mid_gor=$(goroutines)
    if [ -n "${PROFILE:-}" ]; then
      admin 'debug/pprof/heap?gc=1' >"$PROFILE/heap-$n.pprof" # live, after a collection
      admin 'debug/pprof/goroutine?debug=1' >"$PROFILE/goroutine-$n.txt"
    fi
  fi
  # test load exits 1 when a call failed, but writes its JSON first: the
  # failures are counted and printed from it below.
  wait $load || true
  # A call's packets count once it has ended, its recording saved.
  for _ in $(seq 120); do [ "$(calls)" -eq 0 ] && break; sleep 1; done
  c1=$(cpu); p1=$(accepted); l1=$(metric openum_rtp_packets_lost_total); left=$(calls)
  python3 - "$work/load.json" "$n" "$c0" "$c1" "$hz" "$p0" "$p1" "$base_rss" "$mid_rss" "$mid_hwm" "$DURATION" "$sa" "$sb" "$sw" "$base_gor" "$mid_gor" "$up_a" "$up_b" "$ra" "$rb" "$pa" "$pb" "$l0" "$l1" "$left" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n, c0, c1, hz, p0, p1, base, mid, peak, dur, sa, sb, sw, g0, g1, ua, ub, ra, rb, pa, pb, l0, l1, left = (float(x) for x in sys.argv[2:])
up = max(r["Established"], 1)
sent = r["PacketsSent"]
loss = 100 * (1 - (p1 - p0) / sent) if sent else 100
call_s = r["Established"] * dur
cpu_us = (c1 - c0) / hz * 1e6 / call_s if call_s else 0
# A call-second is 50 packets received.
steady = f'{(sb - sa) / hz * 1e6 / ((rb - ra) / 50):16.0f}' if sw and rb > ra else f'{"-":>16}'
played = f'{(pb - pa) / sw:10.0f}' if sw else f'{"-":>10}'
print(f'{int(n):6d} {r["Established"]:10d} {r["Failed"]:8d} {r["SetupP50"]:9.1f} {r["SetupP99"]:9.1f} {loss:9.3f} {cpu_us:14.0f} {steady} {(mid - base) / up:12.1f} {(peak - base) / up:13.1f} {(g1 - g0) / up:10.2f} {played}')
if sw:
    print(f'   steady window {sw:.0f} s: {ua:.0f} calls up at its start, {ub:.0f} at its end; {(rb - ra) / sw:.0f} packets/s received (50 a call: {(rb - ra) / sw / 50:.0f} calls)')
if l1 > l0 or left:
    print(f'   sequence gaps the server saw: {l1 - l0:.0f} packets; calls still up when counted: {left:.0f}')
if r["Failures"]:
    print("   failures:", r["Failures"])
PY
done
