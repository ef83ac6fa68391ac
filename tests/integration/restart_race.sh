#!/bin/bash
# An engine restart that fails, then a reload before its retry: the
# reload starts the engine of the new generation, and the pending retry
# must not start a second one.  That second engine was never drained,
# kept serving the old listeners after the next reload, and shared a
# configuration its sibling freed (a use-after-free in the monitor).
# The restart is made to fail by lowering the monitor's descriptor limit
# to the lowest free descriptor, so that its socketpair fails.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd prlimit

conf=$T/portmux.conf
cat >"$conf" <<CONF
reload_grace = 1s
service echo {
  address = {"127.0.0.1"}
  port    = 7
  builtin = echo
}
CONF
start_daemon "$conf"
wait_listen 7 127.0.0.1 || fail "echo does not listen"

# The lowest descriptor number the monitor does not use.
free_fd()
{
	local n=0

	while [ -e "/proc/$MONPID/fd/$n" ]; do
		n=$((n + 1))
	done
	echo "$n"
}

old=$(engine_pid)
[ -n "$old" ] || fail "no engine"
hard=$(prlimit --pid "$MONPID" --nofile --noheadings --raw -o HARD)
soft=$(prlimit --pid "$MONPID" --nofile --noheadings --raw -o SOFT)
prlimit --pid "$MONPID" --nofile="$(free_fd):$hard" ||
    fail "cannot lower the monitor's RLIMIT_NOFILE"
kill -KILL "$old"
wait_log 'engine restart failed' 5 || {
	prlimit --pid "$MONPID" --nofile="$soft:$hard"
	fail "the restart did not fail with the descriptor limit lowered"
}
# The retry is due a second after the failure: restore and reload now.
prlimit --pid "$MONPID" --nofile="$soft:$hard" && kill -HUP "$MONPID"
wait_log '^action=reload generation=2 ' 5 || fail "no reload to generation 2"

# Past the retry's time: exactly one engine, none started by the retry.
for _ in $(seq 1 40); do
	[ "$(log_count 'reason=restart')" -gt 0 ] && break
	sleep 0.05
done
[ "$(log_count 'reason=restart')" -eq 0 ] ||
    fail "the pending restart started a second engine after the reload"
n=$(pgrep -c -P "$MONPID" -x portmuxd-engine)
[ "$n" -eq 1 ] || fail "$n engines run, not 1"

# And the next reload drains the one engine: the monitor stays up.
kill -HUP "$MONPID"
wait_log '^action=reload generation=3 ' 5 || fail "no reload to generation 3"
wait_port 7 || fail "echo does not answer after the reloads"
proc_alive "$MONPID" || fail "the monitor died"
stop_daemon
ok
