#!/bin/bash
# Reloads under load (DESIGN.md "Reload": a socket whose identity is
# unchanged is kept, the new engine takes over the live children and
# the old one drains its builtin connections; connection ids stay
# unique).  Configuration management may send SIGHUP every few seconds
# on a busy server, so a reload must cost no connection, not once in
# twenty.  Two client loops hammer the echo builtin and one an exec'd
# program (/bin/echo) without pause while the monitor gets 20 SIGHUPs
# with the config unchanged, each waiting for its
# `action=reload generation=N' line and for some connections to go
# through in the new generation.  Every connection must be served, the
# connection ids in the log must be unique, and the old engines must be
# gone once reload_grace is over.
. "$(dirname "$0")/lib.sh"

RELOADS=20

conf=$T/reload_load.conf
cat >"$conf" <<EOF
stop_grace   = 1s
reload_grace = 1s

service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 7
  builtin  = echo
}

service once {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2000
  server   = /bin/echo
  args     = {echo, x}
}
EOF

# loop PORT SEND NAME: connections one after the other until
# $T/stop exists (at most 200000), each (sending SEND, if not empty,
# and) reading the line "x" within 5s.  The count goes to $T/n.NAME
# every 10 connections, failures to $T/fail.NAME.
loop()
{
	local port=$1 send=$2 name=$3 i fd line

	for ((i = 1; i <= 200000; i++)); do
		[ -e "$T/stop" ] && break
		if ! exec {fd}<>"/dev/tcp/127.0.0.1/$port"; then
			echo "connection $i: connect failed" >>"$T/fail.$name"
			continue
		fi
		[ -n "$send" ] && printf '%s\n' "$send" >&"$fd"
		line=
		read -r -t 5 -u "$fd" line
		exec {fd}<&-
		[ "$line" = x ] ||
		    echo "connection $i: got '$line'" >>"$T/fail.$name"
		[ $((i % 10)) = 0 ] && put "$T/n.$name" "$i"
	done
	put "$T/n.$name" "$((i - 1))"
	: >"$T/done.$name"
}

# count NAME: connections made so far by loop NAME.
count()
{
	cat "$T/n.$1" 2>/dev/null || echo 0
}

start_daemon "$conf"
wait_listen 7 127.0.0.1 || fail "nothing listens on port 7"
wait_listen 2000 127.0.0.1 || fail "nothing listens on port 2000"

loops=()
for name in e1 e2; do
	loop 7 x $name 2>/dev/null &
	loops+=($!)
	PIDS+=($!)
done
loop 2000 "" x1 2>/dev/null &
loops+=($!)
PIDS+=($!)

# progress_past NAME N: wait (at most 10s) until loop NAME has made
# more than N connections.
progress_past()
{
	local i

	for i in $(seq 1 200); do
		[ "$(count "$1")" -gt "$2" ] && return 0
		sleep 0.05
	done
	fail "client loop $1 is stuck at $(count "$1") connections (reload $g of $RELOADS)"
}

g=0
progress_past e1 20
progress_past x1 10
for g in $(seq 2 $((RELOADS + 1))); do
	e=$(count e1)
	x=$(count x1)
	kill -HUP "$MONPID"
	wait_log "^action=reload generation=$g " 10 ||
	    fail "no 'action=reload generation=$g' line within 10s of SIGHUP number $((g - 1))"
	# Some load in the new generation before the next reload.
	progress_past e1 $((e + 20))
	progress_past x1 $((x + 10))
done

: >"$T/stop"
for p in "${loops[@]}"; do
	wait_exit "$p" 10 || fail "a client loop did not stop within 10s"
done
for name in e1 e2 x1; do
	[ -e "$T/done.$name" ] || fail "client loop $name did not finish"
done
total=$(( $(count e1) + $(count e2) + $(count x1) ))
if cat "$T"/fail.* >"$T/failures" 2>/dev/null; then
	fail "$(wc -l <"$T/failures") of $total connections failed across $RELOADS reloads: $(head -n 5 "$T/failures"); refusals in the log: $(grep -m 5 ' action=refuse ' "$LOG")"
fi
say "$total connections ($(count e1) + $(count e2) echo, $(count x1) exec'd) across $RELOADS reloads"

dup=$(awk '$2 ~ /^service=/ && / action=accept / { print $1 }' "$LOG" |
    sort | uniq -d | head -n 3)
[ -z "$dup" ] || fail "connection ids used twice across generations: $dup"

# The old engines exit once reload_grace is over.
for i in $(seq 1 100); do
	[ "$(pgrep -c -P "$MONPID" -x portmuxd-engine)" = 1 ] && break
	sleep 0.05
done
[ "$(pgrep -c -P "$MONPID" -x portmuxd-engine)" = 1 ] ||
    fail "$(pgrep -c -P "$MONPID" -x portmuxd-engine) engines still run 5s after the last reload (reload_grace = 1s)"
proc_alive "$MONPID" || fail "the monitor died"

ok
