#!/bin/bash
# No leak per connection (DESIGN.md "Processes": a daemon that runs for
# months; every connection passes through the engine, every exec'd one
# through the monitor too).  After a warm-up pass (so that allocator
# pools, libevent tables and the source table have grown to their
# working size), 20000 connections are made by a few concurrent client
# loops: 18000 to the echo builtin, 2000 to an exec'd program
# (/bin/echo, one line then exit).  Every one must be served.  Once the
# log shows every close and exit line, the engine and the monitor must
# hold exactly as many descriptors as after the warm-up, their VmRSS must
# be within max(5%, 512 KiB) of the warm-up figure, and neither may have
# a zombie child (every child reaped).  A descriptor or a few hundred
# bytes lost per connection shows here.  The client loops are
# sequential, at most 6 connections at once from 127.0.0.1, far below
# per_source (16): a refusal means the daemon still counts connections
# whose program has exited (children reaped late).
. "$(dirname "$0")/lib.sh"

need_cmd ps

NB=18000		# builtin connections
NX=2000			# exec'd connections
LB=4			# concurrent builtin client loops
LX=2			# concurrent exec client loops
WB=600			# warm-up: builtin connections
WX=100			# warm-up: exec'd connections

# Under ASan, freed memory waits in a quarantine (256 MB by default)
# before it is reused: RSS would grow with any allocation, leaked or
# not; and even without it, ASan's allocator only reaches its working
# size after some 20000 connections (a warm-up as long as the load,
# below).  LeakSanitizer still checks the daemon at exit.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"

conf=$T/leak.conf
cat >"$conf" <<EOF
stop_grace = 1s

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

# loop PORT SEND COUNT NAME: COUNT connections one after the other, each
# (sending SEND, if not empty, and) reading the line "x" within 5s.
# Failures go to $T/fail.NAME, the count done to $T/done.NAME.
loop()
{
	local port=$1 send=$2 count=$3 name=$4 i fd line bad=0

	for ((i = 1; i <= count; i++)); do
		if ! exec {fd}<>"/dev/tcp/127.0.0.1/$port"; then
			bad=$((bad + 1))
			echo "connection $i: connect failed" >>"$T/fail.$name"
			continue
		fi
		[ -n "$send" ] && printf '%s\n' "$send" >&"$fd"
		line=
		read -r -t 5 -u "$fd" line
		exec {fd}<&-
		if [ "$line" != x ]; then
			bad=$((bad + 1))
			echo "connection $i: got '$line'" >>"$T/fail.$name"
		fi
	done
	echo "$count $bad" >"$T/done.$name"
}

# run_load NB NX: NB builtin and NX exec'd connections, in LB + LX
# concurrent loops; fails unless every one was served.
run_load()
{
	local nb=$1 nx=$2 pids=() p n name deadline

	rm -f "$T"/fail.* "$T"/done.*
	for n in $(seq 1 $LB); do
		loop 7 x $((nb / LB)) "b$n" 2>/dev/null &
		pids+=($!)
		PIDS+=($!)
	done
	for n in $(seq 1 $LX); do
		loop 2000 "" $((nx / LX)) "x$n" 2>/dev/null &
		pids+=($!)
		PIDS+=($!)
	done
	deadline=$((SECONDS + 100))
	for p in "${pids[@]}"; do
		while proc_alive "$p" && [ $SECONDS -lt $deadline ]; do
			sleep 0.2
		done
		proc_alive "$p" &&
		    fail "a client loop still runs after 100s ($(cat "$T"/done.* 2>/dev/null | wc -l) of $((LB + LX)) loops done)"
		wait "$p"
	done
	for name in $(seq -f b%g 1 $LB) $(seq -f x%g 1 $LX); do
		[ -s "$T/done.$name" ] || fail "client loop $name did not finish"
	done
	if cat "$T"/fail.* >"$T/failures" 2>/dev/null; then
		fail "$(wc -l <"$T/failures") of $((nb + nx)) connections failed ($(refusals)): $(head -n 3 "$T/failures")"
	fi
}

# refusals: what the log says was refused, by service and reason
# (repeat= summaries included), and the bans.
refusals()
{
	awk '/ action=refuse / {
		svc = ""; why = ""; n = 1
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^service=/) svc = substr($i, 9)
			if ($i ~ /^reason=/) why = substr($i, 8)
			if ($i ~ /^repeat=/) n = substr($i, 8)
		}
		r[svc " " why] += n
	}
	/^action=ban / { bans = bans " " $0 }
	END {
		for (k in r) printf "%s refused %d times; ", k, r[k]
		if (bans != "") printf "bans:%s", bans
	}' "$LOG"
}

# quiet NB NX: wait until the log has NB close lines of echo and NX exit
# lines of once (every connection over, every child reaped), at most 30s.
quiet()
{
	local i c x

	for i in $(seq 1 300); do
		c=$(log_count '^conn=[0-9]+ service=echo action=close ')
		x=$(log_count '^conn=[0-9]+ service=once action=exit ')
		[ "$c" -ge "$1" ] && [ "$x" -ge "$2" ] && return 0
		sleep 0.1
	done
	fail "after the load: $c of $1 echo close lines, $x of $2 exit lines"
}

fds()
{
	ls "/proc/$1/fd" | wc -l
}

rss()
{
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# zombies PID: the zombie children of PID.
zombies()
{
	ps -o pid=,stat= --ppid "$1" | awk '$2 ~ /^Z/ { print $1 }'
}

start_daemon "$conf"
wait_listen 7 127.0.0.1 || fail "nothing listens on port 7"
wait_listen 2000 127.0.0.1 || fail "nothing listens on port 2000"
engine=$(engine_pid)
[ -n "$engine" ] || fail "no engine found"
if grep -q libasan "/proc/$MONPID/maps"; then
	WB=$NB
	WX=$NX
	say "AddressSanitizer build: warm-up of $((WB + WX)) connections"
fi

run_load $WB $WX
quiet $WB $WX
efd0=$(fds "$engine")
mfd0=$(fds "$MONPID")
erss0=$(rss "$engine")
mrss0=$(rss "$MONPID")
say "after the warm-up: engine $efd0 fds ${erss0} KiB, monitor $mfd0 fds ${mrss0} KiB"

t0=$SECONDS
run_load $NB $NX
quiet $((WB + NB)) $((WX + NX))
say "$((NB + NX)) connections in $((SECONDS - t0))s"

[ "$(engine_pid)" = "$engine" ] || fail "the engine changed during the load"
efd1=$(fds "$engine")
mfd1=$(fds "$MONPID")
erss1=$(rss "$engine")
mrss1=$(rss "$MONPID")
say "after the load: engine $efd1 fds ${erss1} KiB, monitor $mfd1 fds ${mrss1} KiB"

[ "$efd1" = "$efd0" ] ||
    fail "the engine holds $efd1 descriptors after $((NB + NX)) connections, $efd0 after the warm-up: $(ls -l "/proc/$engine/fd" | tail -n +2)"
[ "$mfd1" = "$mfd0" ] ||
    fail "the monitor holds $mfd1 descriptors after $((NB + NX)) connections, $mfd0 after the warm-up: $(ls -l "/proc/$MONPID/fd" | tail -n +2)"
for who in engine monitor; do
	if [ $who = engine ]; then
		r0=$erss0 r1=$erss1
	else
		r0=$mrss0 r1=$mrss1
	fi
	slack=$((r0 * 5 / 100))
	[ $slack -ge 512 ] || slack=512
	[ "$r1" -le $((r0 + slack)) ] ||
	    fail "the $who's VmRSS grew from ${r0} KiB to ${r1} KiB over $((NB + NX)) connections (allowed: ${slack} KiB)"
done
z=$(zombies "$MONPID")
[ -z "$z" ] || fail "zombie children of the monitor: $z"
z=$(zombies "$engine")
[ -z "$z" ] || fail "zombie children of the engine: $z"

ok
