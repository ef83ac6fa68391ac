#!/bin/bash
# When the engine dies the monitor restarts it on the same sockets
# (DESIGN.md "Processes"): after SIGKILL to portmuxd-engine the monitor
# logs the death, starts a new engine with a new pid (logged with
# reason=restart) and the ports answer again within a few seconds; the
# monitor itself keeps running.  The engine is the process that parses
# network input, so it is the one expected to crash.
. "$(dirname "$0")/lib.sh"

conf=$(conf_copy builtins.conf) || exit $?
start_daemon "$conf"
wait_port 7 || fail "echo does not answer"

echo_works()
{
	local line=

	exec 3<>/dev/tcp/127.0.0.1/7 || return 1
	printf 'check\n' >&3
	read -r -t 3 -u 3 line
	exec 3<&-
	[ "$line" = check ]
}

old=$(engine_pid)
[ -n "$old" ] || fail "no portmuxd-engine child of $MONPID"
grep -Eq "^action=start pid=$MONPID engine=$old( |\$)" "$LOG" ||
    fail "the start line does not name monitor $MONPID and engine $old"

kill -KILL "$old"
# The wording is free ("exited with status N", "killed by signal N"),
# but it must name the dead engine.
wait_log "^action=warn msg=\"engine $old (exited|killed)" 5 ||
    fail "the monitor did not log the engine's death (action=warn msg=\"engine $old exited|killed ...\")"
wait_log "^action=start pid=$MONPID engine=[0-9]+ .*reason=restart" 5 ||
    fail "no 'action=start ... reason=restart' line"
new=$(sed -n "s/^action=start pid=$MONPID engine=\([0-9]*\) .*reason=restart.*/\1/p" \
    "$LOG" | tail -n 1)
[ -n "$new" ] && [ "$new" != "$old" ] ||
    fail "the restarted engine has pid '$new' (old $old)"
[ "$(engine_pid)" = "$new" ] ||
    fail "the monitor's engine child is $(engine_pid), the log says $new"

up=0
for i in $(seq 1 50); do
	echo_works && up=1 && break
	sleep 0.1
done
[ $up = 1 ] || fail "echo does not answer 5s after the engine restart"
for a in 127.0.0.1 ::1; do
	for p in 7 9 13 19 37; do
		wait_port $p $a || fail "port $p on $a does not answer after the restart"
	done
done
proc_alive "$MONPID" || fail "the monitor died"

ok
