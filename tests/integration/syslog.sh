#!/bin/bash
# log = syslog with no syslog socket: the lines are not lost in silence
# (issue 9, item 11).  A daemon-mode start says on the caller's stderr
# that /dev/log cannot be reached; -F logs to stderr whatever log says,
# so its connection lines are there; and once a syslog socket appears
# at /dev/log the daemon notices it within a bounded time, says so
# there, and its lines arrive.
. "$(dirname "$0")/lib.sh"

need_root

# /dev/log must be absent and then ours, in this mount namespace only.
private_dev

cat >"$T/s.conf" <<CONF
log = syslog
service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 10007
  builtin  = echo
}
CONF

# -F: stderr is the log, whatever log says; connections are logged.
start_daemon "$T/s.conf"
wait_port 10007 || fail "-F: the daemon does not answer on 10007"
wait_log 'service=echo action=accept proto=tcp' ||
    fail "-F: no accept line on stderr"
stop_daemon
MONPID=

# Daemon mode: the start warns on the caller's stderr, naming /dev/log.
pf=$T/portmuxd.pid
timeout 10 "$PORTMUXD" -f "$T/s.conf" -p "$pf" </dev/null >/dev/null \
    2>"$T/err"
RC=$?
[ $RC = 0 ] || fail "daemon mode: exit $RC: $(cat "$T/err")"
grep -q 'action=warn path=/dev/log msg="cannot reach syslog' "$T/err" ||
    fail "daemon mode: no warning naming /dev/log on stderr: '$(cat "$T/err")'"
MONPID=$(cat "$pf")
PIDS+=("$MONPID")
proc_alive "$MONPID" || fail "the daemon ($MONPID) is not running"
wait_port 10007 || fail "daemon mode: no answer on 10007"

# A syslog socket appears; the engine (an ordinary user, sandboxed) must
# reach it, through the monitor.
: >"$T/syslog.out"
socat -u UNIX-RECV:/dev/log,perm=0666 OPEN:"$T/syslog.out",append &
PIDS+=("$!")
for i in $(seq 1 50); do
	[ -S /dev/log ] && break
	sleep 0.1
done
[ -S /dev/log ] || fail "socat did not create /dev/log"

# Each connection makes the engine log; within 15s (the retry is every
# 2s) the lines must arrive there, announced by one action=syslog line.
got=0
for i in $(seq 1 75); do
	connect_ok 127.0.0.1 10007
	if grep -q 'action=syslog path=/dev/log msg="syslog is reachable again"' \
	    "$T/syslog.out" &&
	    grep -q 'portmuxd\[[0-9]*\]: conn=[0-9]* service=echo action=accept' \
	    "$T/syslog.out"; then
		got=1
		break
	fi
	sleep 0.2
done
[ $got = 1 ] || fail "no lines at /dev/log within 15s: '$(cat "$T/syslog.out")'"
# The engine's sandbox cannot reach /dev/log: the monitor connected the
# socket for the engine that was already running, which must still be.
grep -q 'killed by' "$T/syslog.out" &&
    fail "an engine died on the way: $(grep 'killed by' "$T/syslog.out")"
grep -q 'reason=restart' "$T/syslog.out" &&
    fail "the engine was restarted instead of given a socket"
grep -q '^<30>' "$T/syslog.out" || fail "lines lack <30> (daemon.info): '$(head -3 "$T/syslog.out")'"
kill -TERM "$MONPID"
for i in $(seq 1 100); do
	proc_alive "$MONPID" || break
	sleep 0.05
done
proc_alive "$MONPID" && fail "the daemon did not stop on SIGTERM"
MONPID=
ok
