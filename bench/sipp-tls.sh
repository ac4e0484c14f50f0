#!/usr/bin/env bash
# The signalling benchmarks of issue 4, on loopback, with the server in the
# go test process and Debian's sipp behind stunnel4 for mutual TLS:
#   - call set-ups per second (INVITE -> 200 -> ACK -> BYE) over one
#     persistent mutual TLS connection, at the highest rate with < 1 % failed
#     calls, and the p50/p99 set-up time (INVITE to 200, sipp's 1 ms ticks);
#   - fresh mutual TLS handshakes per second (one connection per OPTIONS),
#     and the server's CPU per handshake, ECDSA P-256 and RSA 2048;
#   - server memory per idle mutual TLS connection (2,000 of them).
# Needs sip-tester, stunnel4 and openssl (.ci/run installs them). Not run by
# CI. Numbers move with whatever else the machine is doing: run it on a
# quiet one.
#   bench/sipp-tls.sh            all three
#   bench/sipp-tls.sh Handshake  the ones whose name matches
set -euo pipefail
cd "$(dirname "$0")/.."
filter=${1:-.}
bin=$(mktemp -d)/sip.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" ./internal/sip
cd internal/sip # the benchmarks read testdata/
run() { # name benchtime; sipgo's own log lines (stderr) are dropped
  if [[ $1 =~ $filter ]]; then
    "$bin" -test.run '^$' -test.bench "^$1\$" -test.benchtime "$2" -test.count 1 -test.timeout 15m -test.v 2>/dev/null |
      grep -E '^(Benchmark|--- |    bench_test|ok|FAIL|PASS)' || true
  fi
}
run BenchmarkSippCallsOverMutualTLS 1x
run BenchmarkMutualTLSHandshake 5s
run BenchmarkMutualTLSHandshakeCPU 1000x
run BenchmarkIdleTLSConnectionMemory 1x
