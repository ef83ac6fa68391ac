#!/bin/bash
# A reload that removes a service stops its program from being started,
# also by the draining engine: a tcpmux client that connected before the
# reload and names the removed service after it got the old program
# (the old engine still had it).  The draining engine still serves what
# it accepted for a service that stays: a second client, connected
# before the reload as well, names the kept service afterwards and gets
# its program (a draining engine whose last client this was used to
# exit before asking for the spawn: "+Go", then EOF).  Needs root:
# tcpmux listens on port 1.
. "$(dirname "$0")/lib.sh"

need_root

# conf FILE WITH_GONE: tcpmux, Kept, and Gone when WITH_GONE is 1.
conf()
{
	cat >"$1" <<CONF
reload_grace = 20s
stop_grace   = 1s

service tcpmux {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 1
  builtin  = tcpmux
  tcpmux_timeout = 60s
}

service Kept {
  protocol = tcp
  tcpmux   = true
  server   = /bin/echo
  args     = {echo, "kept program"}
  user     = daemon
}
CONF
	[ "$2" = 1 ] && cat >>"$1" <<CONF

service Gone {
  protocol = tcp
  tcpmux   = true
  server   = /bin/echo
  args     = {echo, "removed program"}
  user     = daemon
}
CONF
	return 0
}

cf=$T/reload_removed.conf
conf "$cf" 1
start_daemon "$cf"
wait_listen 1 127.0.0.1 || fail "nothing listens on port 1"

# Both clients connect before the reload and say nothing yet.
exec 3<>/dev/tcp/127.0.0.1/1 4<>/dev/tcp/127.0.0.1/1 ||
    fail "cannot connect to tcpmux"
wait_count ' service=tcpmux action=accept ' 2 ||
    fail "the two tcpmux clients were not accepted"
old=$(engine_pid)

conf "$cf" 0
kill -HUP "$MONPID"
wait_log '^action=reload generation=[0-9]+ services=2( |$)' 10 ||
    fail "no 'action=reload ... services=2' line after SIGHUP"
proc_alive "$old" || fail "the old engine did not wait for its clients"

printf 'Gone\r\n' >&3
gone=$(timeout 5 cat <&3 | tr -d '\r')
exec 3<&-
printf 'Kept\r\n' >&4
kept=$(timeout 5 cat <&4 | tr -d '\r')
exec 4<&-

say "removed service's client got: $(echo "$gone" | paste -sd'|' -)"
say "kept service's client got: $(echo "$kept" | paste -sd'|' -)"
case "$gone" in
*"removed program"*)
	fail "the draining engine started the removed service's program" ;;
esac
grep -Eq ' service=Gone action=spawn ' "$LOG" &&
    fail "a spawn line for the removed service"
wait_log ' service=Gone action=refuse ' 5 ||
    fail "no refuse line for the removed service's client"
[ "$kept" = "+Go
kept program" ] || fail "the kept service's client got '$kept', not '+Go' and its program"
wait_log ' service=Kept action=exit ' 5 || fail "no exit line for Kept"

stop_daemon
ok
