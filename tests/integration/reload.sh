#!/bin/bash
# SIGHUP reloads without dropping a connection to a service that did not
# change (DESIGN.md "Reload": a socket whose identity is unchanged is
# kept, so connections queue in its backlog while engines switch).  A
# client loop hammers echo while the config is swapped to add daytime
# and remove discard: every one of its connections must succeed, the new
# service must answer, the removed port must refuse, and the log must
# say action=reload.
. "$(dirname "$0")/lib.sh"

conf=$T/portmux.conf
cat >"$T/old.conf" <<EOF
reload_grace = 2s
stop_grace = 2s

service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 7
  builtin  = echo
}

service discard {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 9
  builtin  = discard
}
EOF
cat >"$T/new.conf" <<EOF
reload_grace = 2s
stop_grace = 2s

service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 7
  builtin  = echo
}

service daytime {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 13
  builtin  = daytime
}
EOF
cp "$T/old.conf" "$conf"

start_daemon "$conf"
wait_port 7 || fail "echo does not answer"
wait_port 9 || fail "discard does not answer"
refused 127.0.0.1 13 || fail "port 13 answers before the reload"
old_engine=$(engine_pid)

# The client loop: 300 connections, each sends its number and must get
# it back within 3s.  It records progress and failures in files.
N=300
: >"$T/failures"
(
	for i in $(seq 1 $N); do
		if exec 3<>/dev/tcp/127.0.0.1/7; then
			printf 'n%d\n' "$i" >&3
			line=
			read -r -t 3 -u 3 line
			exec 3<&-
			[ "$line" = "n$i" ] ||
			    echo "connection $i: got '$line'" >>"$T/failures"
		else
			echo "connection $i: connect failed" >>"$T/failures"
		fi
		put "$T/progress" "$i"
		sleep 0.01
	done
	echo finished >"$T/loopdone"
) 2>>"$T/loop.stderr" &
loop=$!
PIDS+=("$loop")

progress()
{
	cat "$T/progress" 2>/dev/null || echo 0
}

# Reload once the loop is well under way.
for i in $(seq 1 100); do
	[ "$(progress)" -ge 50 ] && break
	sleep 0.05
done
[ "$(progress)" -ge 50 ] || fail "the client loop is stuck at $(progress)"
cp "$T/new.conf" "$T/swap.conf" && mv "$T/swap.conf" "$conf"
kill -HUP "$MONPID"
wait_log '^action=reload generation=[0-9]+ services=2( |$)' 10 ||
    fail "no 'action=reload generation=N services=2' line after SIGHUP"
at_reload=$(progress)

wait_port 13 || fail "the new daytime service does not answer"
out=$(timeout 5 socat -u TCP4:127.0.0.1:13 - | tr -d '\r\n')
[ -n "$out" ] || fail "daytime answered nothing"
for i in $(seq 1 50); do
	refused 127.0.0.1 9 && break
	sleep 0.1
done
refused 127.0.0.1 9 || fail "the removed discard port 9 still accepts"
listening 9 && fail "something still listens on port 9"

# Let the loop finish, bounded.
for i in $(seq 1 300); do
	[ -e "$T/loopdone" ] && break
	sleep 0.1
done
[ -e "$T/loopdone" ] || fail "the client loop did not finish ($(progress)/$N)"
wait "$loop"
[ -s "$T/failures" ] &&
    fail "$(wc -l <"$T/failures") of $N echo connections failed across the reload: $(head -n 5 "$T/failures")"
[ "$at_reload" -lt $N ] ||
    fail "the reload completed only after the loop had ended: nothing was tested"

proc_alive "$MONPID" || fail "the monitor died"
new_engine=$(engine_pid)
[ -n "$new_engine" ] || fail "no engine after the reload"
say "engine $old_engine -> $new_engine, reload done at connection $at_reload of $N"

ok
