#!/bin/bash
# A port that cannot be bound stops the start with exit 71 and a line
# naming the service, the address, the port and the errno (DESIGN.md,
# Command line), never a half-started daemon: once for an ordinary user
# and a port below 1024 (where -n only warns: the file is fine, the host
# decides), once for a port another socket holds.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd setpriv

# A directory an ordinary user can read.
d=$T/pub
mkdir -p "$d" && chmod 755 "$T" "$d" || fail "cannot make $d"
cat >"$d/low.conf" <<CONF
log = stderr
service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 7
  builtin  = echo
}
CONF
chmod 644 "$d/low.conf"

as_nobody()
{
	timeout 10 setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$PORTMUXD" "$@" </dev/null >"$T/out" 2>&1
	RC=$?
}

# -n as an ordinary user: a warning, exit 0.
as_nobody -n -f "$d/low.conf"
[ $RC = 0 ] || fail "-n as nobody: exit $RC, expected 0: $(cat "$T/out")"
grep -q "low.conf:5: warning: service 'echo': port 7: binding a port below" \
    "$T/out" || fail "-n as nobody: no warning about port 7: $(cat "$T/out")"

# Started as an ordinary user: exit 71, naming service, address, port.
as_nobody -F -f "$d/low.conf"
[ $RC = 71 ] || fail "start as nobody: exit $RC, expected 71: $(cat "$T/out")"
grep -Eq '^action=error service=echo proto=tcp address=127\.0\.0\.1 port=7 msg="cannot bind" error="Permission denied"$' \
    "$T/out" || fail "start as nobody: no line naming echo, 127.0.0.1, 7 and EACCES: $(cat "$T/out")"
grep -q 'action=start' "$T/out" && fail "start as nobody: it logged action=start"

# As root, a port held by another socket: exit 71, EADDRINUSE.
socat TCP-LISTEN:7,bind=127.0.0.1,reuseaddr,fork /dev/null &
holder=$!
PIDS+=("$holder")
wait_listen 7 127.0.0.1 || fail "socat does not listen on port 7"
timeout 10 "$PORTMUXD" -F -f "$d/low.conf" </dev/null >"$T/out" 2>&1
RC=$?
[ $RC = 71 ] || fail "port in use: exit $RC, expected 71: $(cat "$T/out")"
grep -Eq '^action=error service=echo proto=tcp address=127\.0\.0\.1 port=7 msg="cannot bind" error="Address already in use"$' \
    "$T/out" || fail "port in use: no line naming echo, 127.0.0.1, 7 and EADDRINUSE: $(cat "$T/out")"

ok
