#!/bin/bash
# A program that leaves a background process behind, holding its stderr
# (the log pipe), made the engine keep that pipe open and read after
# the program's exit: one engine descriptor per connection, outside any
# instances limit, until the engine ran out.  The engine reads on for
# the last 16 such programs of a service and lets go of the oldest with
# a warning.  40 connections, one after the other, each leaving a
# process that writes a line once told to: the engine's descriptors
# grow by at most 16 (+2), 24 warnings name the first 24 connections,
# and the late lines of exactly the last 16 are logged.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd socat

N=40
KEEP=16
bg=$T/bg
mkdir -m 1777 "$bg"
cat >"$bg/prog.sh" <<EOF
#!/bin/sh
# Only fd 2 stays with the background process; it waits for the go.
(
	i=0
	while [ ! -e $bg/go ] && [ \$i -lt 600 ]; do
		sleep 0.05
		i=\$((i + 1))
	done
	echo "late line \$PORTMUX_CONN" >&2
	exec sleep 30
) </dev/null >/dev/null &
echo \$! >>$bg/pids
echo hi
EOF
chmod 755 "$bg/prog.sh"

conf=$T/lingerfd.conf
cat >"$conf" <<EOF
stop_grace = 1s

service bg {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2100
  server   = $bg/prog.sh
  user     = daemon
}
EOF

start_daemon "$conf"
wait_listen 2100 127.0.0.1 || fail "bg does not listen on 127.0.0.1:2100"
ep=$(engine_pid) || fail "no engine"
fds0=$(ls "/proc/$ep/fd" | wc -l)

for i in $(seq 1 $N); do
	out=$(timeout 5 socat -u TCP4:127.0.0.1:2100 - 2>&1)
	[ "$out" = hi ] || fail "connection $i: got '$out', not 'hi'"
	# One at a time: each exit is seen before the next connection.
	wait_count ' service=bg action=exit ' "$i" ||
	    fail "connection $i: no exit line"
done
# The background processes are ours to stop (they left the session).
for p in $(cat "$bg/pids"); do
	PIDS+=("$p")
done
[ "$(wc -l <"$bg/pids")" = $N ] || fail "not $N background processes"

warn_re=' service=bg action=warn pid=[0-9]+ msg="stderr held open after exit, no longer read: '
wait_count "$warn_re" $((N - KEEP))
fds1=$(ls "/proc/$ep/fd" | wc -l)
say "engine descriptors: $fds0 before, $fds1 after $N connections"
[ "$fds1" -le $((fds0 + KEEP + 2)) ] ||
    fail "the engine holds $((fds1 - fds0)) more descriptors after $N programs left their stderr open (at most $KEEP + 2)"
nwarn=$(log_count "$warn_re")
[ "$nwarn" = $((N - KEEP)) ] ||
    fail "$nwarn warnings about stderr held open, not $((N - KEEP))"
say "$nwarn warnings: the engine let go of the oldest pipes"

# The accepted connections, in order: the first ones were let go.
accepts=$(awk '/ service=bg action=accept / { sub(/^conn=/, "", $1); print $1 }' "$LOG")
first=$(echo "$accepts" | head -n $((N - KEEP)) | sort)
last=$(echo "$accepts" | tail -n $KEEP | sort)
warned=$(grep -E -- "$warn_re" "$LOG" | awk '{ sub(/^conn=/, "", $1); print $1 }' | sort)
[ "$warned" = "$first" ] ||
    fail "the warnings are not for the first $((N - KEEP)) connections"

# Go: the processes still read write a line each; the others' pipe has
# no reader (SIGPIPE ends them).
touch "$bg/go"
late_re=' service=bg action=stderr pid=[0-9]+ line="late line [0-9]+"'
wait_count "$late_re" $KEEP 10
# Every let-go process has written (and died of it) before the count.
for p in $(head -n $((N - KEEP)) "$bg/pids"); do
	for j in $(seq 1 100); do
		proc_alive "$p" || break
		sleep 0.05
	done
	proc_alive "$p" && fail "let-go background process $p still runs"
done
nlate=$(log_count "$late_re")
[ "$nlate" = $KEEP ] || fail "$nlate late stderr lines logged, not $KEEP"
# Each under its own connection, and those are the last ones.
lines=$(grep -E -- "$late_re" "$LOG")
echo "$lines" | awk '{ c = $1; sub(/^conn=/, "", c); n = $NF;
    gsub(/"/, "", n); if (c != n) exit 1 }' ||
    fail "a late line is logged under another connection"
lateconns=$(echo "$lines" | awk '{ sub(/^conn=/, "", $1); print $1 }' | sort)
[ "$lateconns" = "$last" ] ||
    fail "the late lines are not those of the last $KEEP connections"
say "$nlate late lines, from the last $KEEP connections"

proc_alive "$MONPID" || fail "portmuxd died"
[ "$(engine_pid)" = "$ep" ] || fail "the engine changed"
stop_daemon
ok
