#!/bin/bash
# Out of descriptors (DESIGN.md "Overload policy": EMFILE/ENFILE on
# accept pauses that listener with a backoff instead of spinning).  A
# listener whose accept() fails with EMFILE stays readable: a naive
# event loop retries at once, forever, and burns a CPU while serving
# nobody.  portmuxd is started with RLIMIT_NOFILE 64 (soft and hard, so
# the monitor cannot raise it) and 200 concurrent clients connect to an
# unlimited echo builtin; the first ones are served and hold their
# connection open, the rest wait in the backlog.  While the engine is
# saturated (connections pending in the backlog), the CPU time of the
# engine and of the monitor, from /proc/PID/stat, must each stay under
# 20% of the wall time, and the log must show action=pause.  Once the
# holders let go, every one of the 200 clients must have been served or
# closed (none left hanging), the log must show action=resume, the
# engine must be the same process, and a new client is served.
. "$(dirname "$0")/lib.sh"

need_cmd prlimit getconf

NOFILE=64
NCLIENTS=200
PORT=7

conf=$T/emfile.conf
cat >"$conf" <<EOF
stop_grace = 1s

service echo {
  protocol   = tcp
  address    = {127.0.0.1}
  port       = $PORT
  builtin    = echo
  instances  = unlimited
  per_source = unlimited
}
EOF

# start_daemon runs $PORTMUXD: a wrapper that execs it under the limit,
# so that the monitor's PID is the wrapper's.
real=$PORTMUXD
PORTMUXD=$T/portmuxd-nofile
cat >"$PORTMUXD" <<EOF
#!/bin/sh
exec prlimit --nofile=$NOFILE:$NOFILE -- "$real" "\$@"
EOF
chmod 755 "$PORTMUXD"

start_daemon "$conf"
wait_listen $PORT 127.0.0.1 || fail "nothing listens on port $PORT"
engine=$(engine_pid)
[ -n "$engine" ] || fail "no engine found"
lim=$(awk '/^Max open files/ { print $4 "/" $5 }' "/proc/$engine/limits")
[ "$lim" = "$NOFILE/$NOFILE" ] ||
    fail "the engine's RLIMIT_NOFILE is $lim, expected $NOFILE/$NOFILE"

# cpu_ticks PID: utime + stime, in clock ticks.
cpu_ticks()
{
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# backlog: connections waiting in the listener's accept queue (ss shows
# it as Recv-Q of the listening socket).
backlog()
{
	ss -ltnH "( sport = :$PORT )" | awk '{ n += $2 } END { print n + 0 }'
}

# client N: connect, send a line, wait at most 20s for its echo; once
# served, hold the connection until $T/release exists (at most 20s;
# `read -t' on the silent socket is the sleep, no fork), then close.
# Writes "N served", "N closed" (EOF, no echo), "N timeout" or "N ...".
client()
{
	local n=$1 r line rc i

	if ! exec 3<>"/dev/tcp/127.0.0.1/$PORT"; then
		echo "$n connect-failed" >>"$T/results"
		return
	fi
	printf 'c%d\n' "$n" >&3 2>/dev/null
	read -r -t 20 -u 3 line
	rc=$?
	if [ $rc = 0 ]; then
		if [ "$line" = "c$n" ]; then
			r=served
		else
			r="wrong-echo:$line"
		fi
		for i in $(seq 1 100); do
			[ -e "$T/release" ] && break
			read -r -t 0.2 -u 3 _
			[ $? -le 128 ] && break		# the server closed
		done
	elif [ $rc -gt 128 ]; then
		r=timeout
	else
		r=closed
	fi
	exec 3<&-
	echo "$n $r" >>"$T/results"
}

: >"$T/results"
clients=()
for n in $(seq 1 $NCLIENTS); do
	client "$n" 2>>"$T/clients.err" &
	clients+=($!)
	PIDS+=($!)
done

# Saturated: the engine's descriptors are all in use and connections
# wait in the backlog.
for i in $(seq 1 200); do
	[ "$(backlog)" -gt 0 ] && grep -q "^service=echo action=pause " "$LOG" &&
	    break
	sleep 0.05
done
wait_log '^service=echo action=pause reason=overload( .*)? retry_ms=[0-9]+( |$)' 1 ||
    fail "no 'service=echo action=pause reason=overload ... retry_ms=N' line with $NCLIENTS clients and $NOFILE descriptors"
[ "$(backlog)" -gt 0 ] ||
    fail "the engine is not saturated: nothing waits in the backlog"
fds=$(ls "/proc/$engine/fd" | wc -l)
say "saturated: engine has $fds descriptors, $(log_count '^conn=[0-9]+ service=echo action=accept ') clients accepted, $(backlog) waiting"

# CPU time over 3s of wall time, while saturated.
hz=$(getconf CLK_TCK)
e0=$(cpu_ticks "$engine")
m0=$(cpu_ticks "$MONPID")
t0=$(date +%s%N)
sleep 3
e1=$(cpu_ticks "$engine")
m1=$(cpu_ticks "$MONPID")
t1=$(date +%s%N)
pending=$(backlog)
wall_ms=$(( (t1 - t0) / 1000000 ))
eng_ms=$(( (e1 - e0) * 1000 / hz ))
mon_ms=$(( (m1 - m0) * 1000 / hz ))
say "while saturated for ${wall_ms}ms: engine ${eng_ms}ms CPU, monitor ${mon_ms}ms CPU"
[ "$pending" -gt 0 ] ||
    fail "the backlog emptied during the measurement: it did not measure a saturated engine"
[ $((eng_ms * 5)) -lt "$wall_ms" ] ||
    fail "the engine used ${eng_ms}ms of CPU in ${wall_ms}ms while out of descriptors (limit 20%): it spins on accept"
[ $((mon_ms * 5)) -lt "$wall_ms" ] ||
    fail "the monitor used ${mon_ms}ms of CPU in ${wall_ms}ms while the engine was out of descriptors (limit 20%)"

# Let go; every client must end, served or closed, none hanging.
: >"$T/release"
for i in $(seq 1 400); do
	[ "$(wc -l <"$T/results")" -ge $NCLIENTS ] && break
	sleep 0.1
done
[ "$(wc -l <"$T/results")" = $NCLIENTS ] ||
    fail "only $(wc -l <"$T/results") of $NCLIENTS clients finished within 40s: $(awk '{ print $2 }' "$T/results" | sort | uniq -c | tr '\n' ' ')"
# Each has written its result and exits.
wait "${clients[@]}"
bad=$(grep -Ev ' (served|closed)$' "$T/results")
[ -z "$bad" ] ||
    fail "$(echo "$bad" | wc -l) clients were neither served nor closed: $(echo "$bad" | awk '{ print $2 }' | sort | uniq -c | tr '\n' ' ')"
served=$(grep -c ' served$' "$T/results")
closed=$(grep -c ' closed$' "$T/results")
say "$served clients served, $closed closed"

wait_log '^service=echo action=resume$' 5 ||
    fail "no 'service=echo action=resume' line"
proc_alive "$MONPID" || fail "the monitor died"
[ "$(engine_pid)" = "$engine" ] ||
    fail "the engine changed from $engine to $(engine_pid): it died out of descriptors"
got=$(printf 'after\n' | timeout 5 socat -t3 - "TCP4:127.0.0.1:$PORT" 2>/dev/null)
[ "$got" = after ] || fail "a new client is not served after the load (got '$got')"

ok
