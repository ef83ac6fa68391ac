#!/bin/bash
# A start in daemon mode (no -F) with log = syslog and no syslog socket
# reports every failure on the stderr of the command that started it,
# before the fork into the background (a port in use) and after it (a
# pidfile that cannot be written), with exit 71; and a pidfile whose
# directory is missing gets that directory created (issue 9, item 5:
# such a start used to exit 71 and print nothing).
. "$(dirname "$0")/lib.sh"

need_root

# /dev/log must be absent (lib.sh's private_dev).
private_dev

cat >"$T/d.conf" <<CONF
log = syslog
service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 10007
  builtin  = echo
}
CONF

# run_daemon ARGS: portmuxd in daemon mode; RC and $T/err.
run_daemon()
{
	timeout 10 "$PORTMUXD" -f "$T/d.conf" "$@" </dev/null >/dev/null \
	    2>"$T/err"
	RC=$?
}

# A pidfile after the fork whose directory cannot be made: a file is
# in the way.  Exit 71, and the error names the pidfile and errno.
: >"$T/file"
run_daemon -p "$T/file/run/portmuxd.pid"
[ $RC = 71 ] || fail "pidfile under a file: exit $RC, expected 71: $(cat "$T/err")"
grep -Eq "action=error path=$T/file/run/portmuxd.pid msg=\"cannot write pidfile\" error=\"Not a directory\"" \
    "$T/err" || fail "pidfile under a file: stderr does not name it: '$(cat "$T/err")'"
wait_listen 10007 127.0.0.1 && fail "a daemon still listens after exit 71"

# A pidfile in a missing directory: created, and the daemon runs.
pf=$T/run/sub/portmuxd.pid
run_daemon -p "$pf"
[ $RC = 0 ] || fail "pidfile in a missing directory: exit $RC: $(cat "$T/err")"
[ -s "$pf" ] || fail "no pidfile $pf"
MONPID=$(cat "$pf")
PIDS+=("$MONPID")
proc_alive "$MONPID" || fail "the daemon of $pf ($MONPID) is not running"
[ "$(stat -c %a "$T/run/sub")" = 755 ] ||
    fail "$T/run/sub has mode $(stat -c %a "$T/run/sub"), expected 755"
wait_listen 10007 127.0.0.1 || fail "the daemon does not listen on 10007"

# The port is now taken (by that daemon): a second start fails with
# exit 71, naming the port on stderr at error level.
run_daemon -p "$T/second.pid"
[ $RC = 71 ] || fail "port in use: exit $RC, expected 71: $(cat "$T/err")"
grep -Eq 'action=error service=echo proto=tcp address=127\.0\.0\.1 port=10007 msg="cannot bind" error="Address already in use"' \
    "$T/err" || fail "port in use: stderr does not name the port: '$(cat "$T/err")'"

kill -TERM "$MONPID"
for i in $(seq 1 100); do
	proc_alive "$MONPID" || break
	sleep 0.05
done
proc_alive "$MONPID" && fail "the daemon did not stop on SIGTERM"
MONPID=
ok
