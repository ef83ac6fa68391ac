#!/bin/bash
# A problem of the host, not of the file, disables only the service it
# concerns (portmux.conf(5) "Validation"), as xinetd does, at start and
# on reload: after `apt remove fingerd', a finger service whose program
# is gone must not keep echo down.  The error line names the service.
# portmuxd -n run as root checks this host, so there the problem is an
# error (exit 78); run by another user it stays a warning (exit 0), and
# both say which check they made.  Once the program is back, a reload
# serves finger again; a reload that adds a service with an unknown user
# takes the rest of the new file.  Syntax errors stay fatal (badconf.sh,
# reload_bad.sh).  Last, a file whose services are all disabled starts,
# with a warning, serves nothing, and a reload switches one back on.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd setpriv

mkdir -p "$T/bin" && chmod 755 "$T/bin" || fail "cannot make $T/bin"
PROG=$T/bin/fingerd		# missing at first

write_conf()
{
	cat >"$T/host.conf" <<EOF
stop_grace   = 1s
reload_grace = 1s

service finger {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2079
  server   = $PROG
}

service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2007
  builtin  = echo
}
$1
EOF
	chmod 644 "$T/host.conf"
}

# echo_ok PORT WORD: the echo service on PORT answers WORD.
echo_ok()
{
	[ "$(printf '%s\n' "$2" | timeout 5 socat -t3 - \
	    "TCP4:127.0.0.1:$1" 2>/dev/null)" = "$2" ]
}

finger_ok()
{
	[ "$(printf '\n' | timeout 5 socat -t3 - TCP4:127.0.0.1:2079 \
	    2>/dev/null)" = "finger ok" ]
}

write_conf ""

# -n as root: this host lacks the program, an error.
timeout 10 "$PORTMUXD" -n -f "$T/host.conf" </dev/null >"$T/out" 2>&1
rc=$?
[ $rc = 78 ] || fail "-n as root: exit $rc, expected 78: $(cat "$T/out")"
grep -q "checking $T/host.conf as root: problems of this host are errors" \
    "$T/out" || fail "-n as root does not say how it checked: $(cat "$T/out")"
grep -q "^$T/host.conf:8: service 'finger': server '$PROG': No such file or directory\$" \
    "$T/out" || fail "-n as root: no error for the missing program: $(cat "$T/out")"

# -n as another user: a warning, exit 0.
timeout 10 setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$PORTMUXD" -n -f "$T/host.conf" </dev/null >"$T/out" 2>&1
rc=$?
[ $rc = 0 ] || fail "-n as nobody: exit $rc, expected 0: $(cat "$T/out")"
grep -q "checking $T/host.conf as uid [0-9]*: problems of this host .* are warnings" \
    "$T/out" || fail "-n as nobody does not say how it checked: $(cat "$T/out")"
grep -q "^$T/host.conf:8: warning: service 'finger': server '$PROG': No such file or directory\$" \
    "$T/out" || fail "-n as nobody: no warning for the missing program: $(cat "$T/out")"

# At start: echo is served, finger is not, and the log says why.
start_daemon "$T/host.conf"
wait_listen 2007 127.0.0.1 || fail "echo does not listen: one missing program stopped every service"
echo_ok 2007 first || fail "echo does not answer"
grep -q "^$T/host.conf:8: service 'finger': server '$PROG': No such file or directory\$" \
    "$LOG" || fail "no error line naming the finger service and its program"
grep -q "^$T/host.conf:4: service 'finger': not served until" "$LOG" ||
    fail "no line saying that finger is not served"
listening 2079 127.0.0.1 && fail "port 2079 is bound for a service that is not served"

# The program is installed: a reload serves finger.
printf '#!/bin/sh\necho "finger ok"\n' >"$PROG"
chmod 755 "$PROG"
kill -HUP "$MONPID"
wait_log '^action=reload generation=2 services=2 ' 10 ||
    fail "no 'action=reload generation=2 services=2' after the program was installed"
wait_listen 2079 127.0.0.1 || fail "finger does not listen after the reload"
finger_ok || fail "finger does not answer after the reload"

# A reload whose new service names an unknown user: the new file is
# taken, that service alone is left out.
write_conf "service daytime2 {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2013
  builtin  = daytime
}
service broken {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2014
  server   = $PROG
  user     = portmux-no-such-user
}"
kill -HUP "$MONPID"
wait_log '^action=reload generation=3 services=3 ' 10 ||
    fail "no 'action=reload generation=3 services=3': a service's unknown user refused the whole reload"
grep -q "^$T/host.conf:28: service 'broken': user 'portmux-no-such-user' does not exist\$" \
    "$LOG" || fail "no error line naming the broken service and its user"
wait_listen 2013 127.0.0.1 || fail "the new daytime service does not listen"
listening 2014 127.0.0.1 && fail "the broken service's port is bound"
finger_ok || fail "finger is not served after the third reload"
echo_ok 2007 third || fail "echo is not served after the third reload"
stop_daemon

# Everything switched off: it starts, serves nothing, and a reload
# switches echo back on.
cat >"$T/off.conf" <<EOF
service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2007
  builtin  = echo
  disable  = true
}
EOF
: >"$LOG"
start_daemon "$T/off.conf"
grep -q "^$T/off.conf:1: warning: no service to serve (1 disabled" "$LOG" ||
    fail "no warning that nothing is served"
grep -q '^action=start .* services=0 ' "$LOG" ||
    fail "the start line does not say services=0"
sed -i 's/disable  = true/disable  = false/' "$T/off.conf"
kill -HUP "$MONPID"
wait_log '^action=reload generation=2 services=1 ' 10 ||
    fail "no 'action=reload generation=2 services=1' after enabling echo"
wait_listen 2007 127.0.0.1 || fail "echo does not listen after it was enabled"
echo_ok 2007 back || fail "echo does not answer after it was enabled"

ok
