#!/bin/bash
# The TCP builtins answer as their RFCs say, on 127.0.0.1 and on ::1:
# echo (RFC 862) returns exactly the bytes sent, also after the client
# has shut down its writing side (half-close, as `socat -t' or `nc -N'
# do); discard (863) sends nothing and keeps the connection until the
# client closes it; daytime (867) sends one ctime-style line in local
# time; chargen (864) sends the rotating 72-column pattern of the 95
# printable characters; time (868) sends 4 bytes, seconds since 1900.
# Each connection must be logged with an accept line naming peer and
# local address and a close line counting the bytes both ways: those
# lines are what an admin greps when a client complains.
. "$(dirname "$0")/lib.sh"

# A local time 3 hours east of UTC (a POSIX TZ, no tzdata needed): the
# daemon inherits it, so a daytime answer in UTC instead of local time
# shows up as a 3 hour difference.
export TZ=PMX-3

conf=$(conf_copy builtins.conf) || exit $?
start_daemon "$conf"

sp=40000	# client source ports, one per checked connection
next_sp()
{
	sp=$((sp + 1))
}

# check_conn ADDR SRCPORT SERVICE LOCALPORT BYTES_IN BYTES_OUT: the
# accept and close lines of that connection.  BYTES_OUT may be a regex.
check_conn()
{
	local a=$1 p=$2 svc=$3 lport=$4 bin=$5 bout=$6 peer loc id

	peer=$(addr_port "$a" "$p")
	loc=$(addr_port "$a" "$lport")
	grep -Fq " service=$svc action=accept proto=tcp peer=$peer local=$loc" \
	    "$LOG" || fail "no accept line for $svc from $peer to $loc"
	id=$(conn_of "$peer")
	[ -n "$id" ] || fail "no conn id for $peer"
	wait_log "^conn=$id service=$svc action=close bytes_in=$bin bytes_out=$bout duration_ms=[0-9]+( |\$)" ||
	    fail "no 'conn=$id service=$svc action=close bytes_in=$bin bytes_out=$bout duration_ms=' line"
}

# The RFC 864 pattern: line k holds 72 characters starting at ring[k mod
# 95] of the ring 0x20..0x7E, then CRLF.
awk 'BEGIN {
	for (k = 0; k < 100; k++) {
		s = ""
		for (i = 0; i < 72; i++)
			s = s sprintf("%c", 32 + (k + i) % 95)
		printf "%s\r\n", s
	}
}' >"$T/chargen.expected"
[ "$(head -n 1 "$T/chargen.expected" | cut -c 1-3)" = ' !"' ] ||
    fail "awk cannot build the chargen pattern"

daytime_re='^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 123][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}$'

for a in 127.0.0.1 ::1; do
	wait_port 7 "$a" || fail "echo on $a port 7 does not answer"

	# echo, half-closed: all 64 KiB come back after the client's FIN.
	head -c 65536 /dev/urandom >"$T/echo.in"
	next_sp
	timeout 15 socat -t5 - "$(socat_tcp "$a" 7 $sp)" \
	    <"$T/echo.in" >"$T/echo.out" || fail "echo client on $a failed"
	cmp -s "$T/echo.in" "$T/echo.out" ||
	    fail "echo on $a after half-close: $(wc -c <"$T/echo.out") bytes back, 65536 sent, or different bytes"
	check_conn "$a" $sp echo 7 65536 65536

	# echo, interactive: each line comes back while the connection is
	# open, byte for byte (CR included).
	exec 3<>"/dev/tcp/$a/7" || fail "cannot connect to echo on $a"
	printf 'hello\r\nworld\n' >&3
	l1='' l2=''
	read -r -t 3 -u 3 l1
	read -r -t 3 -u 3 l2
	exec 3<&-
	[ "$l1" = $'hello\r' ] && [ "$l2" = world ] ||
	    fail "echo on $a returned '$l1' '$l2'"

	# discard: nothing back, no EOF, the connection stays open.
	exec 3<>"/dev/tcp/$a/9" || fail "cannot connect to discard on $a"
	head -c 1000 /dev/zero | tr '\0' x >&3
	read -r -t 1 -u 3 -N 1 c
	rc=$?
	[ $rc -gt 128 ] ||
	    fail "discard on $a: read returned $rc (0 = data, 1 = EOF), expected a timeout"
	printf 'more\n' >&3 || fail "discard on $a: write failed after 1s"
	read -r -t 1 -u 3 -N 1 c
	rc=$?
	[ $rc -gt 128 ] || fail "discard on $a: read returned $rc after 2s"
	exec 3<&-
	id=$(awk -v l="local=$(addr_port "$a" 9)" \
	    '/ service=discard action=accept / && index($0 " ", " " l " ") {
		sub(/^conn=/, "", $1); print $1 }' "$LOG" | tail -n 1)
	[ -n "$id" ] || fail "no accept line for discard on $a"
	wait_log "^conn=$id service=discard action=close bytes_in=1005 bytes_out=0 duration_ms=[0-9]+" ||
	    fail "no 'conn=$id service=discard action=close bytes_in=1005 bytes_out=0' line"

	# daytime: one ctime line in local time, CRLF, then close.
	next_sp
	timeout 5 socat -u "$(socat_tcp "$a" 13 $sp)" - >"$T/daytime.out" ||
	    fail "daytime client on $a failed"
	now=$(date +%s)
	[ "$(wc -l <"$T/daytime.out")" = 1 ] &&
	    [ "$(tail -c 2 "$T/daytime.out" | od -An -tx1 | tr -d ' ')" = 0d0a ] ||
	    fail "daytime on $a: not one CRLF line: $(od -c "$T/daytime.out" | head -n 5)"
	s=$(tr -d '\r\n' <"$T/daytime.out")
	[[ $s =~ $daytime_re ]] || fail "daytime on $a: '$s' is not ctime style"
	t=$(date -d "$s" +%s) || fail "date cannot parse daytime '$s'"
	d=$((now - t))
	[ ${d#-} -le 3 ] ||
	    fail "daytime on $a: '$s' is ${d}s off the local time '$(date)' (TZ=$TZ)"
	check_conn "$a" $sp daytime 13 0 26

	# chargen: the first 100 lines (the ring wraps at line 95).
	next_sp
	timeout 5 socat -u "$(socat_tcp "$a" 19 $sp)" - 2>/dev/null |
	    head -c 7400 >"$T/chargen.out"
	cmp "$T/chargen.expected" "$T/chargen.out" ||
	    fail "chargen on $a: first lines differ from RFC 864: $(head -n 2 "$T/chargen.out" | od -c | head -n 12)"
	check_conn "$a" $sp chargen 19 0 '[0-9]+'

	# time: 4 bytes, big-endian, (now + 2208988800) mod 2^32.
	next_sp
	timeout 5 socat -u "$(socat_tcp "$a" 37 $sp)" - >"$T/time.out" ||
	    fail "time client on $a failed"
	now=$(date +%s)
	[ "$(wc -c <"$T/time.out")" = 4 ] ||
	    fail "time on $a: $(wc -c <"$T/time.out") bytes, expected 4"
	set -- $(od -An -tu1 "$T/time.out")
	v=$((($1 << 24) | ($2 << 16) | ($3 << 8) | $4))
	want=$(((now + 2208988800) % 4294967296))
	d=$((want - v))
	[ ${d#-} -le 2 ] || fail "time on $a: $v, expected $want (off by $d s)"
	check_conn "$a" $sp time 37 0 4
done

# Every accepted connection has been closed and logged as such.
i=0
while [ "$(log_count ' action=accept ')" != "$(log_count ' action=close ')" ]; do
	i=$((i + 1))
	[ $i -le 50 ] ||
	    fail "$(log_count ' action=accept ') accept lines but $(log_count ' action=close ') close lines"
	sleep 0.1
done
grep -q '^conn=0 ' "$LOG" && fail "conn id 0 in the log"

ok
