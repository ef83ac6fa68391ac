#!/bin/bash
# Exit lines and byte accounting (DESIGN.md "Logging", key accounting):
# every exit line of an exec'd service carries pid, status= or signal=
# and duration_ms; with accounting = true on a TCP service the engine
# keeps a copy of the socket and the exit line adds bytes_in and
# bytes_out, the exact payload counts from TCP_INFO.  /bin/cat echoing
# 100000 random bytes must log bytes_in=100000 bytes_out=100000 (and the
# client must get its bytes back intact), an asymmetric program reading
# a 6-byte line and writing 12345 bytes must log bytes_in=6
# bytes_out=12345, a program writing 500000 bytes to a slow client (a
# small receive buffer, reading after 0.5s: the program exits with most
# of its output still queued in the socket, which the client then
# reads in full) must log bytes_out=500000, a program killed by SIGKILL
# logs signal=9 with its counts, exit status 3 logs status=3, and a
# service without accounting logs no byte counts.  Billing and abuse
# reports rely on these figures.
. "$(dirname "$0")/lib.sh"

conf=$T/accounting.conf
cat >"$conf" <<EOF
stop_grace = 1s

defaults {
  protocol   = tcp
  address    = {127.0.0.1}
  accounting = true
}

service cat {
  port   = 2000
  server = /bin/cat
}

service asym {
  port   = 2001
  server = /bin/sh
  args   = {sh, -c, "read l; head -c 12345 /dev/zero"}
}

service killed {
  port   = 2002
  server = /bin/sh
  args   = {sh, -c, "read l; printf abc; kill -9 \$\$"}
}

service status3 {
  port   = 2003
  server = /bin/sh
  args   = {sh, -c, "sleep 0.3; exit 3"}
}

service bulk {
  port   = 2005
  server = /usr/bin/head
  args   = {head, -c, 500000, /dev/zero}
}

service plain {
  port       = 2004
  server     = /bin/cat
  accounting = false
}
EOF

start_daemon "$conf"
for p in 2000 2001 2002 2003 2004 2005; do
	wait_listen $p 127.0.0.1 || fail "nothing listens on port $p"
done

# talk PORT SRCPORT IN OUT: one connection from SRCPORT sends the file IN
# then half-closes; what comes back goes to OUT.
talk()
{
	timeout 20 socat -t10 - "TCP4:127.0.0.1:$1,sourceport=$2,reuseaddr" \
	    <"$3" >"$4" 2>"$4.err" ||
	    fail "client of port $1 failed: $(cat "$4.err")"
}

# exit_line SRCPORT SERVICE: the exit line of the connection from
# 127.0.0.1:SRCPORT, once it is logged.
exit_line()
{
	local id

	id=$(conn_of "127.0.0.1:$1")
	[ -n "$id" ] || fail "no accept line for 127.0.0.1:$1 (service $2)"
	wait_log "^conn=$id service=$2 action=exit " 10 ||
	    fail "no 'conn=$id service=$2 action=exit' line"
	log_line_of "$id" exit
}

# check LINE SERVICE END: the exit line is
# conn=ID service=SERVICE action=exit pid=N STATUS duration_ms=N END
check()
{
	[[ $1 =~ ^conn=[0-9]+\ service=$2\ action=exit\ pid=[0-9]+\ (status|signal)=[0-9]+\ duration_ms=[0-9]+(\ .*)?$ ]] ||
	    fail "malformed exit line of service $2: '$1'"
	[[ $1 =~ \ $3$ ]] ||
	    fail "exit line of service $2: '$1', expected it to end with '$3'"
}

# cat: 100000 random bytes each way.
head -c 100000 /dev/urandom >"$T/in.cat" || fail "cannot make $T/in.cat"
talk 2000 40001 "$T/in.cat" "$T/out.cat"
cmp -s "$T/in.cat" "$T/out.cat" ||
    fail "cat: the client got $(wc -c <"$T/out.cat") bytes back, not its 100000 bytes"
line=$(exit_line 40001 cat) || exit $?
check "$line" cat "status=0 duration_ms=[0-9]+ bytes_in=100000 bytes_out=100000"

# asym: a 6-byte line in, 12345 bytes out.
printf 'hello\n' >"$T/in.asym"
talk 2001 40002 "$T/in.asym" "$T/out.asym"
[ "$(wc -c <"$T/out.asym")" = 12345 ] ||
    fail "asym: the client got $(wc -c <"$T/out.asym") bytes, not 12345"
line=$(exit_line 40002 asym) || exit $?
check "$line" asym "status=0 duration_ms=[0-9]+ bytes_in=6 bytes_out=12345"

# killed: signal=9, and its counts.
talk 2002 40003 "$T/in.asym" "$T/out.killed"
[ "$(cat "$T/out.killed")" = abc ] ||
    fail "killed: the client got '$(cat "$T/out.killed")', not 'abc'"
line=$(exit_line 40003 killed) || exit $?
check "$line" killed "signal=9 duration_ms=[0-9]+ bytes_in=6 bytes_out=3"

# status3: status=3 and a duration of at least the 300ms it slept.
: >"$T/in.empty"
talk 2003 40004 "$T/in.empty" "$T/out.status3"
line=$(exit_line 40004 status3) || exit $?
check "$line" status3 "status=3 duration_ms=[0-9]+ bytes_in=0 bytes_out=0"
ms=$(field "$line" duration_ms)
[ "$ms" -ge 300 ] && [ "$ms" -lt 10000 ] ||
    fail "status3 slept 300ms, its exit line says duration_ms=$ms"

# bulk: a slow reader; the program is done long before the client.
got=$(timeout 20 socat -u TCP4:127.0.0.1:2005,rcvbuf=8192 STDOUT 2>/dev/null |
    { sleep 0.5; wc -c; })
[ "$got" = 500000 ] || fail "bulk: the client got $got bytes, not 500000"
wait_log '^conn=[0-9]+ service=bulk action=exit ' 10 ||
    fail "no 'service=bulk action=exit' line"
line=$(grep -m 1 -E '^conn=[0-9]+ service=bulk action=exit ' "$LOG")
check "$line" bulk "status=0 duration_ms=[0-9]+ bytes_in=0 bytes_out=500000"

# plain: no accounting, no byte counts.
talk 2004 40005 "$T/in.asym" "$T/out.plain"
[ "$(cat "$T/out.plain")" = hello ] ||
    fail "plain: the client got '$(cat "$T/out.plain")', not 'hello'"
line=$(exit_line 40005 plain) || exit $?
check "$line" plain "status=0 duration_ms=[0-9]+"

ok
