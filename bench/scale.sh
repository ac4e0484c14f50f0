#!/usr/bin/env bash
# The directory at the scale of a large organisation (SPEC DIR-1..DIR-4):
# 100,000 UM mailboxes over 100 dial plans, on both engines, SQLite (a
# file) and PostgreSQL (a cluster of the benchmark's own, started and
# stopped by internal/pgtest, as the tests do). It runs the Go benchmarks
# and prints one table:
#
#   - enable p50 / p99: openum mailbox enable besides hashing the PIN (one
#     Update, then the Snapshot that shows the mailbox); goal p50 ≤ 20 ms;
#   - change seen: from one process's change to another's Watcher handing
#     on the new configuration (a running server polls on top: every half
#     second); goal ≤ 1 s;
#   - reload CPU: what that reload cost the watching process; goal ≤ 50 ms;
#   - heap/mailbox: what a server's handle and configuration hold; goal
#     ≤ 1 KiB;
#   - snapshot: the Snapshot a logon takes on each call;
#   - get --json: openum mailbox get --json of all 100,000 as a new process
#     runs it, wall and CPU time; goal ≤ 2 s.
#
# Seeding 100,000 mailboxes takes a minute or two per engine. The numbers
# are this machine's at this moment: the load average is printed with
# them.
#
#   bench/scale.sh                 20 changes measured per engine
#   N=100 bench/scale.sh
#
# Needs go and Debian's postgresql (run as root, the cluster runs as the
# postgres user; as another user, as that user).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for engine in sqlite postgres; do
	go test -run '^$' -bench '^BenchmarkScale$' -benchtime "${N}x" "./internal/directory/$engine" >"$out/$engine.txt"
done
go test -run '^$' -bench '^BenchmarkMailboxGetJSON$' -benchtime 3x ./internal/cli >"$out/get.txt"

# metric FILE LINE-PATTERN UNIT: the value printed before UNIT on the
# benchmark line matching LINE-PATTERN.
metric() {
	awk -v pat="$2" -v unit="$3" '$0 ~ pat { for (i = 2; i <= NF; i++) if ($i == unit) { print $(i - 1); exit } }' "$1"
}
printf '\n%-11s %14s %14s %10s %14s %12s %11s %12s %12s\n' engine "enable p50 ms" "enable p99 ms" "seen ms" "reload CPU ms" "heap B/mbox" "snapshot µs" "get --json s" "get CPU s"
for engine in sqlite postgres; do
	f=$out/$engine.txt
	name=SQLite
	[ "$engine" = postgres ] && name=PostgreSQL
	printf '%-11s %14s %14s %10s %14s %12s %11s %12s %12s\n' "$name" \
		"$(metric "$f" BenchmarkScale enable-p50-ms)" "$(metric "$f" BenchmarkScale enable-p99-ms)" \
		"$(metric "$f" BenchmarkScale reload-ms)" "$(metric "$f" BenchmarkScale reload-cpu-ms)" \
		"$(metric "$f" BenchmarkScale heap-B/mailbox)" "$(metric "$f" BenchmarkScale snapshot-us)" \
		"$(metric "$out/get.txt" "MailboxGetJSON/$name" s/get)" "$(metric "$out/get.txt" "MailboxGetJSON/$name" cpu-s/get)"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
