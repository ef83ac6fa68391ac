#!/bin/bash
# SIGTERM stops the daemon cleanly (DESIGN.md "Command line", signals):
# the listeners close at once, an open builtin connection gets at most
# stop_grace, then the monitor exits 0 (within stop_grace + 2s), logs
# action=stop, leaves no engine behind, frees every port so that a
# restart (or anything else) can bind it again, and removes the pidfile
# it wrote for -p.  Init systems and admins rely on all of that.
. "$(dirname "$0")/lib.sh"

conf=$(conf_copy builtins.conf) || exit $?
grace=2
grep -q "^stop_grace *= *${grace}s" "$conf" || fail "test bug: stop_grace is not ${grace}s"
pidfile=$T/portmuxd.pid

start_daemon "$conf" -p "$pidfile"
for p in 7 9 13 19 37; do
	wait_port $p || fail "port $p does not answer"
done
for i in $(seq 1 50); do
	[ -s "$pidfile" ] && break
	sleep 0.1
done
[ -s "$pidfile" ] || fail "no pidfile $pidfile with -p"
[ "$(tr -d ' \n' <"$pidfile")" = "$MONPID" ] ||
    fail "pidfile holds '$(cat "$pidfile")', the monitor is $MONPID"
engine=$(engine_pid)
[ -n "$engine" ] || fail "no engine"

# A discard connection stays open across the stop.
exec 3<>/dev/tcp/127.0.0.1/9 || fail "cannot connect to discard"
printf 'hold\n' >&3

t0=$(date +%s%N)
kill -TERM "$MONPID"

# Listeners close at once, even while a connection drains.
for i in $(seq 1 20); do
	refused 127.0.0.1 7 && break
	sleep 0.1
done
refused 127.0.0.1 7 || fail "echo still accepts 2s after SIGTERM"

wait_exit "$MONPID" $((grace + 2)) ||
    fail "the monitor still runs $((grace + 2))s after SIGTERM (stop_grace = ${grace}s)"
t1=$(date +%s%N)
[ "$DAEMON_RC" = 0 ] || fail "portmuxd exited $DAEMON_RC on SIGTERM, expected 0"
say "stopped in $(((t1 - t0) / 1000000)) ms"
grep -q '^action=stop' "$LOG" || fail "no action=stop line"

# The held connection was closed by the daemon, not left hanging.
c=
read -r -t 2 -u 3 -N 1 c
rc=$?
exec 3<&-
[ $rc = 1 ] || fail "the held discard connection is not at EOF after the stop (read: $rc)"

for i in $(seq 1 20); do
	proc_alive "$engine" || break
	sleep 0.1
done
proc_alive "$engine" && fail "the engine $engine survived the monitor"
[ -e "$pidfile" ] && fail "the pidfile $pidfile is still there"

listen=$(ss -ltnH)
[ -z "$listen" ] || fail "still listening after the stop: $listen"
for a in 127.0.0.1 ::1; do
	for p in 7 9 13 19 37; do
		fam=TCP4-LISTEN
		case $a in *:*) fam=TCP6-LISTEN ;; esac
		# Bound and listening until timeout ends it (124): the port
		# is free.  An immediate error means it is still taken.
		timeout 0.3 socat "$fam:$p,bind=$a,reuseaddr" - </dev/null \
		    >/dev/null 2>"$T/bind.err"
		rc=$?
		[ $rc = 124 ] ||
		    fail "cannot bind $a port $p after the stop: $(cat "$T/bind.err")"
	done
done

ok
