#!/bin/bash
# An exec'd service gets exactly the process DESIGN.md ("Child processes")
# promises, seen from inside by the reporter helper: the client socket on
# fd 0 and 1 and nothing open beyond fd 2; the service user (nobody when
# started as root) with its groups; an empty signal mask and SIGPIPE at
# its default (exec keeps "ignored", the classic inetd bug); a session of
# its own; a clean environment holding only PATH, PROTO, the UCSPI
# variables, PORTMUX_SERVICE, PORTMUX_CONN, REMOTE_HOST and what `env'
# and `passenv' name, so nothing of the daemon's own environment
# (LISTEN_*, NOTIFY_SOCKET, LD_*, secrets) leaks into a service; the
# configured argv.  The log must show spawn, the child's stderr line and
# its exit status.  The `stderr = null' and `stderr = client' variants
# send fd 2 to /dev/null and to the client instead of the log.
. "$(dirname "$0")/lib.sh"

rep=$(reporter) || exit $?
conf=$T/exec.conf
cat >"$conf" <<EOF
stop_grace = 2s

service rep {
  protocol = tcp
  address  = {127.0.0.1, ::1}
  port     = 2000
  server   = $rep
  args     = {rep0, one, "two words"}
  env      = {"FOO=bar", "LANG=C.UTF-8"}
  passenv  = {PMX_PASSED}
}

service repnull {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2001
  server   = $rep
  stderr   = null
}

service repclient {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2002
  server   = $rep
  stderr   = client
}
EOF

if [ "$(id -u)" = 0 ]; then
	svc_user=nobody
else
	svc_user=$(id -un)
fi
svc_uid=$(id -u "$svc_user")
svc_gid=$(id -g "$svc_user")
svc_groups=$(id -G "$svc_user" | tr ' ' '\n' | sort -n | paste -sd, -)

# The daemon's own environment: one variable passed by name, the rest
# must not reach the service.
PMX_PASSED='passed value' FOO_SECRET=hidden LD_LIBRARY_PATH=/nonexistent \
    LISTEN_FDS=3 LISTEN_PID=1 NOTIFY_SOCKET=/nonexistent/notify \
    start_daemon "$conf"
for p in 2000 2001 2002; do
	wait_listen $p || fail "nothing listens on port $p"
done

# run_client ADDR PORT SRCPORT OUT: one connection, sending a line.
run_client()
{
	printf 'ping %s\n' "$3" |
	    timeout 10 socat -t5 - "$(socat_tcp "$1" "$2" "$3")" >"$4" ||
	    fail "client of port $2 on $1 failed"
	grep -qx "got ping $3" "$4" ||
	    fail "port $2 on $1: the line sent did not come back: $(cat "$4")"
}

# expect OUT LINE: the client saw exactly this line.
expect()
{
	grep -qxF -- "$2" "$1" ||
	    fail "expected the line '$2', the client got: $(cat "$1")"
}

# common OUT: what every service variant must see.
common()
{
	local out=$1 groups

	grep -q "^uid=$svc_uid gid=$svc_gid euid=$svc_uid groups=" "$out" ||
	    fail "credentials: $(grep '^uid=' "$out"), expected uid=$svc_uid gid=$svc_gid ($svc_user)"
	groups=$(sed -n 's/^uid=.* groups=//p' "$out" | tr ',' '\n' |
	    sort -n | paste -sd, -)
	[ "$groups" = "$svc_groups" ] ||
	    fail "groups: $groups, expected initgroups($svc_user) = $svc_groups"
	expect "$out" "fds=0,1,2"
	expect "$out" "fd0=socket"
	expect "$out" "sigmask=0000000000000000"
	expect "$out" "sigpipe=default"
	expect "$out" "sid_is_pid=1"
}

# exit_logged ID SERVICE: spawn and exit lines; prints the child's pid.
exit_logged()
{
	local id=$1 svc=$2 spawn pid

	wait_log "^conn=$id service=$svc action=exit pid=[0-9]+ status=0 duration_ms=[0-9]+( |\$)" ||
	    fail "no 'conn=$id service=$svc action=exit pid= status=0 duration_ms=' line"
	spawn=$(log_line_of "$id" spawn)
	[[ $spawn =~ ^conn=$id\ service=$svc\ action=spawn\ pid=([0-9]+)\ user=$svc_user( |$) ]] ||
	    fail "spawn line of conn $id: '$spawn', expected 'conn=$id service=$svc action=spawn pid=N user=$svc_user'"
	pid=${BASH_REMATCH[1]}
	grep -Eq "^conn=$id service=$svc action=exit pid=$pid status=0 " "$LOG" ||
	    fail "the exit line of conn $id does not name pid $pid"
	echo "$pid"
}

sp=41000
for a in 127.0.0.1 ::1; do
	sp=$((sp + 1))
	out=$T/rep.$sp
	run_client "$a" 2000 $sp "$out"
	common "$out"
	expect "$out" "args 3 rep0 one two words"

	id=$(conn_of "$(addr_port "$a" $sp)")
	[ -n "$id" ] || fail "no accept line for $(addr_port "$a" $sp)"

	# The environment, exactly.
	sed -n 's/^env //p' "$out" | sort >"$T/env.got"
	sort >"$T/env.want" <<EOF
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
PROTO=TCP
TCPREMOTEIP=$a
TCPREMOTEPORT=$sp
TCPLOCALIP=$a
TCPLOCALPORT=2000
PORTMUX_SERVICE=rep
PORTMUX_CONN=$id
REMOTE_HOST=$a
FOO=bar
LANG=C.UTF-8
PMX_PASSED=passed value
EOF
	diff -u "$T/env.want" "$T/env.got" >"$T/env.diff" ||
	    fail "environment of the service on $a differs (- expected, + got): $(cat "$T/env.diff")"

	pid=$(exit_logged "$id" rep) || exit $?
	grep -qxF "conn=$id service=rep action=stderr pid=$pid line=\"reporter stderr line\"" "$LOG" ||
	    fail "no 'conn=$id service=rep action=stderr pid=$pid line=\"reporter stderr line\"' line"
	grep -q 'reporter stderr line' "$out" &&
	    fail "stderr = log, but the client got the stderr line"
done

# stderr = null: neither the log nor the client sees fd 2.
sp=$((sp + 1))
out=$T/null.$sp
run_client 127.0.0.1 2001 $sp "$out"
common "$out"
expect "$out" "args 1 reporter"
id=$(conn_of "127.0.0.1:$sp")
[ -n "$id" ] || fail "no accept line for 127.0.0.1:$sp"
exit_logged "$id" repnull >/dev/null || exit $?
grep -q "service=repnull action=stderr" "$LOG" &&
    fail "stderr = null, but the log has the child's stderr"
grep -q 'reporter stderr line' "$out" &&
    fail "stderr = null, but the client got the stderr line"

# stderr = client: fd 2 is the socket, as inetd did.
sp=$((sp + 1))
out=$T/client.$sp
run_client 127.0.0.1 2002 $sp "$out"
common "$out"
expect "$out" "args 1 reporter"
expect "$out" "reporter stderr line"
id=$(conn_of "127.0.0.1:$sp")
[ -n "$id" ] || fail "no accept line for 127.0.0.1:$sp"
exit_logged "$id" repclient >/dev/null || exit $?
grep -q "service=repclient action=stderr" "$LOG" &&
    fail "stderr = client, but the log has the child's stderr"

ok
