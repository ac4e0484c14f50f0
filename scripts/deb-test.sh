#!/usr/bin/env bash
# The Debian package end to end: build it (scripts/package), install it with
# dpkg -i, check what it put where and with which owner and mode, run the
# installed binary's quickstart and server as the openum user, check the
# systemd unit, purge the package and check that it is gone. Runs as root on
# Debian (CI) and leaves the machine as it found it. Last line:
# "deb: N passed, M failed"; the exit status is 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

version=0.0.0~debtest
unit=/usr/lib/systemd/system/openum.service
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
summary() { echo "deb: $passed passed, $failed failed (${SECONDS}s)"; }
die() { fail "$*"; summary; exit 1; }
# check WHAT COMMAND...: passes when COMMAND succeeds.
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
# is WHAT WANT GOT
is() { if [ "$3" = "$2" ]; then pass "$1"; else fail "$1: got '$3', want '$2'"; fi; }
modeowner() { stat -c '%a %U:%G' "$1" 2>&1; }
absent() { ! [ -e "$1" ]; }

[ "$(id -u)" = 0 ] || die "run as root: the test installs and purges a package"
for c in dpkg go runuser setpriv systemd-analyze adduser; do
	command -v "$c" >/dev/null || die "$c is missing (systemd-analyze: apt-get install systemd)"
done
# Purging removes the openum user and /var/lib/openum: never someone's own.
[ "$(dpkg-query -W -f='${db:Status-Status}' openum 2>/dev/null)" != installed ] || die "the openum package is installed already; this test would purge it"
! getent passwd openum >/dev/null || die "an openum user exists already; this test would remove it"
! getent group openum >/dev/null || die "an openum group exists already; this test would remove it"
absent /var/lib/openum || die "/var/lib/openum exists already; this test would remove it"

work=$(mktemp -d) qs=$(mktemp -d) serve_pid=
cleanup() {
	[ -n "$serve_pid" ] && kill -KILL "$serve_pid" 2>/dev/null
	if dpkg-query -W openum >/dev/null 2>&1; then dpkg --purge openum >/dev/null 2>&1; fi
	# Should the purge have failed or left them: none of these was here before.
	if getent passwd openum >/dev/null; then deluser --quiet --system openum; fi
	if getent group openum >/dev/null; then delgroup --quiet --system openum; fi
	rm -rf "$work" "$qs" /var/lib/openum
}
trap cleanup EXIT

echo "== build"
deb=$(go run ./scripts/package -version "$version" -out "$work") || die "go run ./scripts/package failed"
is "package file name" "openum_${version}_$(dpkg --print-architecture).deb" "$(basename "$deb")"

echo "== install"
dpkg -i "$deb" >"$work/dpkg.out" 2>&1 || { cat "$work/dpkg.out"; die "dpkg -i"; }
pass "dpkg -i"
is "binary" "755 root:root" "$(modeowner /usr/bin/openum)"
is "unit file" "644 root:root" "$(modeowner $unit)"
for d in README.md docs/*.md; do
	dst=/usr/share/doc/openum/$d
	is "doc $d" "644 root:root" "$(modeowner "$dst")"
	check "doc $d is the repository's" cmp -s "$d" "$dst"
done
is "openum --version" "openum $version" "$(/usr/bin/openum --version)"
check "openum --help lists the commands" grep -q quickstart <(/usr/bin/openum --help)
IFS=: read -r _ _ uid gid _ home shell < <(getent passwd openum)
check "openum is a system user" test "${uid:-1000}" -lt 1000
is "openum's group" openum "$(getent group "${gid:-x}" | cut -d: -f1)"
is "openum's home" /var/lib/openum "${home:-}"
is "openum's shell" /usr/sbin/nologin "${shell:-}"
is "data directory" "700 openum:openum" "$(modeowner /var/lib/openum)"
check "not enabled on install" absent /etc/systemd/system/multi-user.target.wants/openum.service
dpkg -i "$deb" >"$work/dpkg.out" 2>&1 || cat "$work/dpkg.out"
is "installed again, the same user" "$uid" "$(id -u openum 2>&1)"

echo "== quickstart as openum"
chown openum:openum "$qs"
out=$(cd "$qs" && runuser -u openum -- /usr/bin/openum quickstart --data "$qs/data" 2>&1)
rc=$?
is "quickstart's exit status" 0 "$rc"
check "quickstart delivered its message" grep -q "Voice message delivered" <<<"$out"
mail=("$qs"/data/mail/*/new/*)
is "one message in the Maildir" 1 "$(find "$qs/data/mail" -path '*/new/*' -type f | wc -l)"
is "the message" "600 openum:openum" "$(modeowner "${mail[0]}")"
[ "$failed" = 0 ] || echo "$out"

echo "== serve as the unit runs it"
# The unit's user, data directory and umask, with free ports; SIGHUP is
# ExecReload, SIGTERM is systemctl stop.
(cd / && umask 0077 && exec env OPENUM_DATA=/var/lib/openum setpriv --reuid=openum --regid=openum --init-groups \
	/usr/bin/openum serve --sip-port -1 --tls-port -1) >"$work/serve.out" 2>&1 &
serve_pid=$!
for _ in $(seq 50); do grep -q listening "$work/serve.out" && break; sleep 0.2; done
check "serve listens" grep -q listening "$work/serve.out"
kill -HUP "$serve_pid"
sleep 1
check "serve runs on after SIGHUP" kill -0 "$serve_pid"
kill -TERM "$serve_pid"
wait "$serve_pid"
is "serve's exit status after SIGTERM" 0 "$?"
serve_pid=
check "serve drained" grep -q stopping "$work/serve.out"
is "files in /var/lib/openum not openum's" "" "$(find /var/lib/openum ! -user openum -print)"
# Certificates are public (0644, in a 0700 directory); nothing else is.
is "files in /var/lib/openum others may read" "" "$(find /var/lib/openum ! -name '*.crt' -perm /077 -print)"
check "a private key in /var/lib/openum" test -n "$(find /var/lib/openum -name '*.key' -perm 600)"
[ "$failed" = 0 ] || cat "$work/serve.out"

echo "== unit"
# verify warns of an unknown directive but still exits 0: it must say nothing.
said=$(systemd-analyze verify $unit 2>&1)
rc=$?
is "systemd-analyze verify's exit status" 0 "$rc"
is "systemd-analyze verify's complaints" "" "$said"
for want in User=openum Group=openum StateDirectory=openum Environment=OPENUM_DATA=/var/lib/openum \
	'ExecStart=/usr/bin/openum serve' 'ExecReload=/bin/kill -HUP $MAINPID' \
	AmbientCapabilities=CAP_NET_BIND_SERVICE NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes; do
	check "unit has $want" grep -qxF "$want" $unit
done
drain=$(/usr/bin/openum serve --help | sed -n 's/.*--drain-timeout.*(default \([0-9]*\)s).*/\1/p')
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' $unit)
check "TimeoutStopSec (${stop:-?}s) above serve's drain timeout (${drain:-?}s)" test "${stop:-0}" -gt "${drain:-999}"
exposure=$(systemd-analyze security --offline=true --threshold=20 $unit 2>&1 | tail -1)
rc=$?
echo "     $exposure"
check "systemd-analyze security: exposure at most 2.0" test "$rc" = 0

echo "== purge"
dpkg --purge openum >"$work/dpkg.out" 2>&1
rc=$?
is "dpkg --purge's exit status" 0 "$rc"
[ "$rc" = 0 ] || cat "$work/dpkg.out"
check "dpkg knows no openum" bash -c '! dpkg-query -W openum 2>/dev/null'
for f in /usr/bin/openum $unit /usr/share/doc/openum /var/lib/openum; do
	check "$f removed" absent "$f"
done
check "openum user removed" bash -c '! getent passwd openum'
check "openum group removed" bash -c '! getent group openum'

summary
[ "$failed" = 0 ]
