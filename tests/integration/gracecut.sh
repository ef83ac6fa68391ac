#!/bin/bash
# Connections cut when a grace period ends are each logged (issue 9,
# item 10: the old engine's connections killed at the end of
# reload_grace left no line).  After a reload, and after a stop, every
# connection that was still open (idle echo clients, a chargen client
# that reads nothing, a tcpmux client that has sent half a name) gets
# exactly one action=close line with reason=stop, and its client sees
# the socket closed.  Needs root: tcpmux listens on port 1.
. "$(dirname "$0")/lib.sh"

need_root

conf=$T/gracecut.conf
cat >"$conf" <<CONF
reload_grace = 1s
stop_grace   = 1s

service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 10007
  builtin  = echo
}

service chargen {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 10019
  builtin  = chargen
}

service tcpmux {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 1
  builtin  = tcpmux
  tcpmux_timeout = 60s
}

service MyEcho {
  protocol = tcp
  builtin  = echo
  tcpmux   = true
}
CONF
start_daemon "$conf"
wait_listen 10007 127.0.0.1 || fail "nothing listens on 10007"
wait_listen 10019 127.0.0.1 || fail "nothing listens on 10019"
wait_listen 1 127.0.0.1 || fail "nothing listens on port 1"

# open_all ROUND: three idle echo clients, a chargen client that never
# reads and a tcpmux client half-way through its name, on fds 3-7;
# waits until the five are accepted.
open_all()
{
	local want=$(( $1 * 5 ))

	exec 3<>/dev/tcp/127.0.0.1/10007 4<>/dev/tcp/127.0.0.1/10007 \
	    5<>/dev/tcp/127.0.0.1/10007 6<>/dev/tcp/127.0.0.1/10019 \
	    7<>/dev/tcp/127.0.0.1/1 || fail "round $1: cannot connect"
	printf 'MyEc' >&7 || fail "round $1: cannot write to tcpmux"
	for i in $(seq 1 100); do
		[ "$(log_count ' action=accept ')" -ge "$want" ] && return 0
		sleep 0.05
	done
	fail "round $1: $(log_count ' action=accept ') accept lines, expected $want"
}

# check_cut ROUND: each connection accepted in ROUND has exactly one
# close line with reason=stop, and each client got EOF or a reset.
check_cut()
{
	local id n fd

	for id in $(sed -En 's/^conn=([0-9]+) .* action=accept .*/\1/p' \
	    "$LOG" | tail -n 5); do
		wait_log "^conn=$id service=[A-Za-z]+ action=close .* reason=stop\$" 5 ||
		    fail "round $1: connection $id was cut without a close line with reason=stop"
		n=$(grep -Ec "^conn=$id service=[A-Za-z]+ action=close " "$LOG")
		[ "$n" = 1 ] ||
		    fail "round $1: connection $id has $n close lines, expected 1"
	done
	# The clients: each read ends (EOF or reset), none hangs.  The
	# chargen client drains what was queued for it first.
	for fd in 3 4 5 7 6; do
		timeout 10 cat <&$fd >/dev/null 2>&1
		[ $? = 124 ] && fail "round $1: the client on fd $fd was not closed"
	done
	exec 3<&- 4<&- 5<&- 6<&- 7<&-
}

# Round 1: a reload.  The old engine's connections are cut at the end
# of reload_grace.
open_all 1
kill -HUP "$MONPID" || fail "cannot send SIGHUP"
wait_log '^action=reload generation=2 ' 10 || fail "no reload line"
check_cut 1

# Round 2: a stop.  The engine's connections are cut at stop_grace.
open_all 2
stop_daemon 10
check_cut 2

ok
