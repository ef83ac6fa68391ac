# Helpers for the integration tests, sourced by every tests/integration/*.sh
# (the pattern of uftpd's test/lib.sh).  A test runs inside the namespaces
# that run.sh sets up; it starts the real daemon on loopback with a config
# of its own, talks to it with real clients (socat, bash /dev/tcp) and
# ends with ok, fail MSG or skip MSG:
#
#   ok          exit 0
#   fail MSG    print MSG and the daemon log, exit 1 (automake: FAIL)
#   skip MSG    exit 77 (SKIP); under CI=true exit 99 (ERROR): CI must not
#               pass by testing nothing
#
# Everything a test writes goes to its own temporary directory $T under
# $TMPDIR (default /tmp), never to the source tree, which distcheck makes
# read-only.  $T is world-searchable so that a service running as
# `nobody' can exec the copy of the reporter kept there.  The EXIT trap
# stops, by PID, only the processes this test started (and what they
# started), then removes $T; KEEP_TMP=1 keeps it for a post-mortem.
#
# Every wait is bounded in count and time, and a watchdog fails the whole
# test after $TEST_TIMEOUT seconds (default 120).
#
# shellcheck shell=bash

set -u

TEST_NAME=$(basename "$0" .sh)

# make check exports both, absolute; for a run by hand, guess in-tree.
if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

PORTMUXD=$top_builddir/src/portmuxd
CONFDIR=$top_srcdir/tests/integration/conf
TEST_TIMEOUT=${TEST_TIMEOUT:-120}

MONPID=			# the monitor started by start_daemon
DAEMON_RC=		# its exit status, once stop_daemon or wait_exit saw it
PIDS=()			# every process this test started, by PID
WATCHDOG=

T=$(mktemp -d "${TMPDIR:-/tmp}/portmuxd-$TEST_NAME.XXXXXX") || {
	echo "cannot create a temporary directory" >&2
	exit 99
}
chmod 755 "$T"
LOG=$T/daemon.log
: >"$LOG"

say()
{
	printf '%s: %s\n' "$TEST_NAME" "$*"
}

# Print the daemon log (at most 500 lines) into the test's .log file.
show_log()
{
	local n

	[ -s "$LOG" ] || {
		echo "--- daemon log is empty"
		return 0
	}
	n=$(wc -l <"$LOG")
	echo "--- daemon log ($LOG, $n lines)"
	head -n 500 "$LOG"
	[ "$n" -le 500 ] || echo "--- ($((n - 500)) more lines not shown)"
	echo "--- end of daemon log"
}

# ok also stops a daemon that still runs, and fails the test if a
# sanitizer (--enable-sanitizers) reported anything in the daemon log:
# an ASan or UBSan report in the engine or the monitor does not always
# make a client see an error.
ok()
{
	local kids p i

	if [ -n "$MONPID" ] && proc_alive "$MONPID"; then
		kids=$(pgrep -P "$MONPID")
		kill -TERM "$MONPID"
		wait_exit "$MONPID" 10 ||
		    fail "portmuxd did not exit within 10s of SIGTERM"
		for p in $kids; do
			for i in $(seq 1 50); do
				proc_alive "$p" || break
				sleep 0.1
			done
		done
	fi
	if grep -Eq 'ERROR: [A-Za-z]+Sanitizer|runtime error: ' "$LOG"; then
		fail "a sanitizer reported an error in the daemon log"
	fi
	say "OK${1:+: $*}"
	exit 0
}

# fail and skip write to stderr, so that a fail inside $(...) still
# reaches the test log; the caller then ends with `|| exit $?'.
fail()
{
	{
		say "FAIL: $*"
		show_log
	} >&2
	exit 1
}

skip()
{
	if [ "${CI:-}" = true ]; then
		say "SKIP counts as a failure under CI=true: $*" >&2
		exit 99
	fi
	say "SKIP: $*" >&2
	exit 77
}

# True while PID exists and is not a zombie (our own children stay
# zombies until we wait for them, and kill -0 succeeds on a zombie).
proc_alive()
{
	local state

	[ -n "${1:-}" ] || return 1
	state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" \
	    2>/dev/null) || return 1
	case "$state" in
	"" | Z | X | x) return 1 ;;
	esac
	return 0
}

# All descendants of the given PIDs, children first.
descendants()
{
	local p c

	for p in "$@"; do
		for c in $(pgrep -P "$p" 2>/dev/null); do
			descendants "$c"
			echo "$c"
		done
	done
}

cleanup()
{
	local rc=$? p all i

	trap - EXIT INT TERM ALRM
	if [ -n "$WATCHDOG" ]; then
		kill -TERM "$WATCHDOG" 2>/dev/null
		wait "$WATCHDOG" 2>/dev/null
	fi
	# Processes we started and their descendants (the engine, service
	# programs), all by PID.  The monitor goes first and gently, so it
	# can remove its pidfile and sockets.
	all=$(descendants "${PIDS[@]}")
	for p in "${PIDS[@]}"; do
		proc_alive "$p" && kill -TERM "$p" 2>/dev/null
	done
	for i in $(seq 1 30); do
		local alive=0

		for p in "${PIDS[@]}" $all; do
			proc_alive "$p" && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${PIDS[@]}" $all; do
		proc_alive "$p" && kill -KILL "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	if [ "${KEEP_TMP:-}" = 1 ]; then
		echo "keeping $T"
	else
		rm -rf "$T"
	fi
	exit $rc
}

trap cleanup EXIT
trap 'fail "interrupted"' INT TERM
trap 'fail "watchdog: still running after ${TEST_TIMEOUT}s"' ALRM

# The watchdog: a subshell that sleeps, then sends SIGALRM to the test.
# Client commands run under timeout(1), so the trap runs within a few
# seconds of the alarm; if the test is still stuck in some command 5s
# later, the watchdog sends SIGTERM to the test's children (by PID).
(
	trap 'kill -TERM $sp 2>/dev/null; wait $sp; exit 0' TERM
	sleep "$TEST_TIMEOUT" &
	sp=$!
	wait $sp
	kill -ALRM $$ 2>/dev/null || exit 0
	sleep 5 &
	sp=$!
	wait $sp
	for c in $(pgrep -P $$); do
		[ "$c" = "$BASHPID" ] || kill -TERM "$c" 2>/dev/null
	done
) &
WATCHDOG=$!

need_cmd()
{
	local c

	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"
	done
}

need_cmd socat ss pgrep timeout od cmp awk

[ -x "$PORTMUXD" ] || skip "$PORTMUXD is not built"

# Real root, in the initial user namespace: the privilege drop tests mean
# nothing in a user namespace.
need_root()
{
	[ "$(id -u)" = 0 ] || skip "needs root"
	awk 'NR == 1 && $1 == 0 && $2 == 0 && $3 == 4294967295 { ok = 1 }
	    END { exit !ok }' /proc/self/uid_map 2>/dev/null ||
	    skip "needs root in the initial user namespace"
}

# As root the engine runs as _portmuxd, which must exist (DESIGN.md
# "Processes"; contrib/quickstart creates it).
if [ "$(id -u)" = 0 ] && ! getent passwd _portmuxd >/dev/null; then
	skip "no _portmuxd account: run contrib/quickstart, or useradd" \
	    "--system --no-create-home --home-dir /nonexistent" \
	    "--shell /usr/sbin/nologin _portmuxd"
fi

# The reporter, copied where any user can exec it.
reporter()
{
	local src=$top_builddir/tests/integration/reporter

	[ -x "$T/reporter" ] && {
		echo "$T/reporter"
		return 0
	}
	[ -x "$src" ] || skip "$src is not built"
	cp "$src" "$T/reporter" && chmod 755 "$T/reporter" ||
	    fail "cannot copy the reporter to $T"
	echo "$T/reporter"
}

# put FILE VALUE: write VALUE to FILE by a rename, so that a reader that
# polls FILE never sees it empty or half written.
put()
{
	printf '%s\n' "$2" >"$1.tmp.$BASHPID" && mv -f "$1.tmp.$BASHPID" "$1"
}

# Copy a config from tests/integration/conf/ into $T, with @T@ replaced
# by the temporary directory; print the new path.
conf_copy()
{
	local name=$1

	sed -e "s|@T@|$T|g" "$CONFDIR/$name" >"$T/$name" ||
	    fail "cannot copy $CONFDIR/$name"
	echo "$T/$name"
}

# start_daemon CONF [ARGS...]: start portmuxd -F -f CONF in the
# background, stdout and stderr to $LOG, and wait for its start line.
start_daemon()
{
	local conf=$1

	shift
	"$PORTMUXD" -F -f "$conf" "$@" >>"$LOG" 2>&1 &
	MONPID=$!
	PIDS+=("$MONPID")
	wait_log 'action=start ' 10 ||
	    fail "portmuxd -F -f $conf did not log action=start"
	proc_alive "$MONPID" || fail "portmuxd exited right after starting"
}

# wait_exit PID TIMEOUT: wait at most TIMEOUT seconds (decimal allowed)
# for a child of this shell to exit; set DAEMON_RC when it did.
wait_exit()
{
	local pid=$1 n i

	n=$(awk -v t="$2" 'BEGIN { printf "%d", t * 20 }')
	for i in $(seq 1 "$n"); do
		proc_alive "$pid" || break
		sleep 0.05
	done
	proc_alive "$pid" && return 1
	wait "$pid" 2>/dev/null
	DAEMON_RC=$?
	return 0
}

# stop_daemon [TIMEOUT]: SIGTERM the monitor, wait for it (default 10s).
stop_daemon()
{
	[ -n "$MONPID" ] || return 0
	kill -TERM "$MONPID" 2>/dev/null
	wait_exit "$MONPID" "${1:-10}" ||
	    fail "portmuxd did not exit within ${1:-10}s of SIGTERM"
}

# wait_log REGEX [TIMEOUT]: until an extended REGEX matches a log line
# (default 5s).  Stops early, after a last look, if the daemon is gone.
wait_log()
{
	local re=$1 n i

	n=$(awk -v t="${2:-5}" 'BEGIN { printf "%d", t * 20 }')
	for i in $(seq 1 "$n"); do
		grep -Eq -- "$re" "$LOG" && return 0
		if [ -n "$MONPID" ] && ! proc_alive "$MONPID"; then
			sleep 0.1
			grep -Eq -- "$re" "$LOG"
			return
		fi
		sleep 0.05
	done
	return 1
}

# log_count REGEX: how many log lines match.
log_count()
{
	grep -Ec -- "$1" "$LOG"
}

# wait_count REGEX N [TIMEOUT]: until at least N log lines match
# (default 5s).
wait_count()
{
	local n i

	n=$(awk -v t="${3:-5}" 'BEGIN { printf "%d", t * 20 }')
	for i in $(seq 1 "$n"); do
		[ "$(log_count "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	[ "$(log_count "$1")" -ge "$2" ]
}

# wait_file FILE REGEX [N] [TIMEOUT]: until at least N lines of FILE
# (default 1) match an extended REGEX (default 10s).
wait_file()
{
	local n i

	n=$(awk -v t="${4:-10}" 'BEGIN { printf "%d", t * 20 }')
	for i in $(seq 1 "$n"); do
		[ "$(grep -Ec -- "$2" "$1" 2>/dev/null)" -ge "${3:-1}" ] &&
		    return 0
		sleep 0.05
	done
	return 1
}

# engine_pid: the monitor's (newest) child named portmuxd-engine.
engine_pid()
{
	pgrep -n -P "$MONPID" -x portmuxd-engine
}

# addr_port ADDR PORT: 127.0.0.1:7 or [::1]:7, as socat and the log
# write them.
addr_port()
{
	case "$1" in
	*:*) echo "[$1]:$2" ;;
	*) echo "$1:$2" ;;
	esac
}

# socat's address for a TCP client; SRCPORT optional.
socat_tcp()
{
	local a=$1 p=$2 sp=${3:-} fam=TCP4

	case "$a" in
	*:*) fam=TCP6 ;;
	esac
	echo "$fam:$(addr_port "$a" "$p")${sp:+,sourceport=$sp,reuseaddr}"
}

# connect_ok ADDR PORT: a TCP connection succeeds (then closes at once).
connect_ok()
{
	timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# refused ADDR PORT: the connection is refused (not merely timed out).
refused()
{
	local rc

	timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
	rc=$?
	[ $rc = 1 ]
}

# wait_port PORT [ADDR]: until a TCP connection to ADDR (default
# 127.0.0.1) PORT succeeds, at most 5s.  The daemon logs that connection.
wait_port()
{
	local port=$1 addr=${2:-127.0.0.1} i

	for i in $(seq 1 50); do
		connect_ok "$addr" "$port" && return 0
		sleep 0.1
	done
	return 1
}

# listening PORT [ADDR]: something listens on it (ss, no connection).
listening()
{
	local port=$1 addr=${2:-} out

	out=$(ss -ltnH "( sport = :$port )" 2>/dev/null) || return 1
	[ -n "$out" ] || return 1
	[ -z "$addr" ] && return 0
	echo "$out" | awk -v want="$(addr_port "$addr" "$port")" \
	    '$4 == want { f = 1 } END { exit !f }'
}

# wait_listen PORT [ADDR]: until listening, at most 5s.
wait_listen()
{
	local i

	for i in $(seq 1 50); do
		listening "$@" && return 0
		sleep 0.1
	done
	return 1
}

# conn_of PEER: the conn id of the accept line for that peer ("ADDR:PORT"
# as the log writes it).
conn_of()
{
	awk -v p=" peer=$1 " 'index($0, " action=accept ") && index($0 " ", p) {
	    sub(/^conn=/, "", $1); print $1; exit }' "$LOG"
}

# log_line_of CONN ACTION: the first log line of that connection and
# action.
log_line_of()
{
	awk -v c="conn=$1" -v a="action=$2" \
	    '$1 == c && index($0 " ", " " a " ") { print; exit }' "$LOG"
}

# field LINE KEY: the value of KEY=VALUE in a log line (unquoted).
field()
{
	echo "$1" | awk -v k="$2" '{
		for (i = 1; i <= NF; i++)
			if (index($i, k "=") == 1) {
				v = substr($i, length(k) + 2)
				gsub(/^"|"$/, "", v)
				print v
				exit
			}
	}'
}

# private_dev: a tmpfs over /dev in this test's own mount namespace,
# with the few nodes the daemon and the shell use, and no /dev/log.
private_dev()
{
	local n

	mkdir "$T/dev" && mount -t tmpfs -o mode=755 tmpfs "$T/dev" ||
	    fail "cannot mount a tmpfs on $T/dev"
	for n in null zero full random urandom; do
		: >"$T/dev/$n" && mount --bind "/dev/$n" "$T/dev/$n" ||
		    fail "cannot bind /dev/$n"
	done
	ln -s /proc/self/fd "$T/dev/fd"
	mount --move "$T/dev" /dev || fail "cannot move the tmpfs onto /dev"
	[ -e /dev/log ] && fail "/dev/log still exists"
}

# need_tftp: tftpd-hpa's in.tftpd and the tftp-hpa client, or skip.
need_tftp()
{
	need_cmd sha256sum
	[ -x /usr/sbin/in.tftpd ] ||
	    skip "/usr/sbin/in.tftpd is not installed (Debian package tftpd-hpa)"
	command -v tftp >/dev/null 2>&1 && tftp -V 2>&1 | grep -qi 'tftp-hpa' ||
	    skip "the tftp-hpa client is not installed (Debian package tftp-hpa)"
}

# tftp_root BYTES: TFTP_ROOT (the server's directory) with a blob.bin of
# BYTES random bytes, whose sha256 is TFTP_SUM; downloads go to $T/dl.
tftp_root()
{
	TFTP_ROOT=$T/tftproot
	TFTP_SIZE=$1
	mkdir -m 755 "$TFTP_ROOT" "$T/dl" || fail "cannot create $TFTP_ROOT"
	head -c "$1" /dev/urandom >"$TFTP_ROOT/blob.bin" ||
	    fail "cannot write $TFTP_ROOT/blob.bin"
	chmod 644 "$TFTP_ROOT/blob.bin"
	TFTP_SUM=$(sha256sum <"$TFTP_ROOT/blob.bin" | cut -d' ' -f1)
}

# tftp_get N: download blob.bin from 127.0.0.1:69 into $T/dl/blob.N and
# compare it with the original.
tftp_get()
{
	local f=$T/dl/blob.$1 got

	(cd "$T/dl" && timeout 40 tftp -m binary 127.0.0.1 69 \
	    -c get blob.bin "$f") >"$T/tftp.$1.out" 2>&1
	[ -f "$f" ] ||
	    fail "download $1: tftp wrote no file: $(cat "$T/tftp.$1.out")"
	got=$(sha256sum <"$f" | cut -d' ' -f1)
	[ "$got" = "$TFTP_SUM" ] ||
	    fail "download $1: $(wc -c <"$f") bytes with sha256 $got, expected $TFTP_SIZE bytes with sha256 $TFTP_SUM: $(cat "$T/tftp.$1.out")"
}
