#!/bin/bash
# `instances' is a hard cap per service that many sources together can
# reach (DESIGN.md keys table, "Overload policy"), for exec'd services
# and builtins alike.  An exec'd service (a shell that says "up", then
# sleeps) with instances = 4 and per_source = 2 is filled by two
# connections from each of 127.0.0.2 and 127.0.0.3; a fifth, from
# 127.0.0.4, must be closed at once without data and logged with
# reason=instances, while a third from 127.0.0.2 hits per_source first
# (admission order: rate, per_source, instances).  When the clients
# leave and the programs exit, the slots are free again.  The echo builtin with instances = 2
# gets the same treatment: two held connections, the third refused, one
# released, the next one served.  Limits count source groups, not
# addresses: with source_prefix4 = 24, 127.0.3.2 and 127.0.3.3 share
# one per_source = 2, and 127.0.3.4 is refused while 127.0.4.2, in
# another /24, is served (with the default /32 above, 127.0.0.2 and
# 127.0.0.3 each had their own two).
. "$(dirname "$0")/lib.sh"

conf=$T/instances.conf
cat >"$conf" <<EOF
stop_grace = 1s

service sl {
  protocol   = tcp
  address    = {127.0.0.1}
  port       = 2000
  server     = /bin/sh
  args       = {sh, -c, "echo up; exec cat >/dev/null"}
  instances  = 4
  per_source = 2
}

service echo {
  protocol   = tcp
  address    = {127.0.0.1}
  port       = 7
  builtin    = echo
  instances  = 2
}

service grouped {
  protocol       = tcp
  address        = {127.0.0.1}
  port           = 2002
  builtin        = echo
  per_source     = 2
  source_prefix4 = 24
}
EOF

start_daemon "$conf"
wait_listen 2000 127.0.0.1 || fail "nothing listens on port 2000"
wait_listen 7 127.0.0.1 || fail "nothing listens on port 7"
wait_listen 2002 127.0.0.1 || fail "nothing listens on port 2002"

# hold NAME SRC PORT: a connection from SRC kept open in the background
# (socat reads until the server closes), what it reads goes to $T/NAME.
declare -A holder
hold()
{
	timeout 60 socat -u "TCP4:127.0.0.1:$3,bind=$2" "CREATE:$T/$1" \
	    2>/dev/null &
	holder[$1]=$!
	PIDS+=($!)
}

# wait_up NAME: the held connection NAME got the program's "up".
wait_up()
{
	local i

	for i in $(seq 1 100); do
		grep -qx up "$T/$1" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "connection $1 was not served: it did not read 'up'"
}

# refused_from SRC PORT REASON: the connection is closed at once, no
# data, and the log says why.
refused_from()
{
	local out t0 t1

	t0=$(date +%s%N)
	out=$(timeout 5 socat -u "TCP4:127.0.0.1:$2,bind=$1" - 2>/dev/null)
	t1=$(date +%s%N)
	[ -z "$out" ] ||
	    fail "a connection from $1 to port $2 should be refused ($3), it got: $out"
	[ $(( (t1 - t0) / 1000000 )) -lt 2000 ] ||
	    fail "a refused connection from $1 to port $2 was not closed at once ($(( (t1 - t0) / 1000000 ))ms)"
	wait_log "^conn=[0-9]+ service=$4 action=refuse proto=tcp peer=${1//./\\.}:[0-9]+ reason=$3\$" ||
	    fail "no 'conn=N service=$4 action=refuse proto=tcp peer=$1:PORT reason=$3' line"
}

# sl_exits N: wait until N programs of sl have exited with status 0.
sl_exits()
{
	local i

	for i in $(seq 1 100); do
		[ "$(log_count '^conn=[0-9]+ service=sl action=exit pid=[0-9]+ status=0 ')" -ge "$1" ] &&
		    return 0
		sleep 0.05
	done
	fail "$(log_count '^conn=[0-9]+ service=sl action=exit pid=[0-9]+ status=0 ') programs of sl exited with status 0, expected $1"
}

# The exec'd service: fill it from two sources.
hold a1 127.0.0.2 2000
hold a2 127.0.0.2 2000
hold b1 127.0.0.3 2000
hold b2 127.0.0.3 2000
for h in a1 a2 b1 b2; do
	wait_up $h
done
[ "$(log_count '^conn=[0-9]+ service=sl action=spawn ')" = 4 ] ||
    fail "expected 4 spawn lines for service sl, got $(log_count '^conn=[0-9]+ service=sl action=spawn ')"
refused_from 127.0.0.4 2000 instances sl
refused_from 127.0.0.2 2000 per_source sl
[ "$(log_count '^conn=[0-9]+ service=sl action=spawn ')" = 4 ] ||
    fail "a refused connection was handed to a program"

# The clients leave, the programs exit: the slots are free again.
kill -TERM "${holder[a1]}" "${holder[a2]}" "${holder[b1]}" "${holder[b2]}"
sl_exits 4
hold c1 127.0.0.4 2000
wait_up c1
kill -TERM "${holder[c1]}"
sl_exits 5

# The builtin: two held echo connections from two sources, a third
# refused; after one closes, a new one is served.
hold e1 127.0.0.2 7
hold e2 127.0.0.3 7
for i in $(seq 1 100); do
	[ "$(log_count '^conn=[0-9]+ service=echo action=accept ')" -ge 2 ] &&
	    break
	sleep 0.05
done
[ "$(log_count '^conn=[0-9]+ service=echo action=accept ')" -ge 2 ] ||
    fail "the two held echo connections were not accepted"
refused_from 127.0.0.4 7 instances echo
kill -TERM "${holder[e1]}"
wait_log '^conn=[0-9]+ service=echo action=close ' ||
    fail "no 'service=echo action=close' line after a held connection ended"
got=$(printf 'again\n' | timeout 5 socat -t3 - "TCP4:127.0.0.1:7,bind=127.0.0.4" 2>/dev/null)
[ "$got" = again ] ||
    fail "echo did not serve 127.0.0.4 after a slot was freed (got '$got')"

kill -TERM "${holder[e2]}"

# Source groups: two addresses of 127.0.3.0/24 fill its per_source.
hold g1 127.0.3.2 2002
hold g2 127.0.3.3 2002
for i in $(seq 1 100); do
	[ "$(log_count '^conn=[0-9]+ service=grouped action=accept ')" -ge 2 ] &&
	    break
	sleep 0.05
done
[ "$(log_count '^conn=[0-9]+ service=grouped action=accept ')" -ge 2 ] ||
    fail "the two held connections to grouped were not accepted"
refused_from 127.0.3.4 2002 per_source grouped
got=$(printf 'other\n' | timeout 5 socat -t3 - "TCP4:127.0.0.1:2002,bind=127.0.4.2" 2>/dev/null)
[ "$got" = other ] ||
    fail "grouped: 127.0.4.2 is in another /24 than the held connections, it was not served (got '$got')"
kill -TERM "${holder[g1]}" "${holder[g2]}"

ok
