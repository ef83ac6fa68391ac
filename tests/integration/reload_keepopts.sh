#!/bin/bash
# A reload that fails to bind leaves the kept listeners as they were
# (DESIGN.md "Reload" is all or nothing), their options included: the
# new backlog and keepalive of an unchanged service must not reach its
# live socket when a later service of the same reload cannot bind.  The
# backlog is what ss shows as Send-Q of the listening socket; keepalive,
# which accepted sockets inherit, shows as a keepalive timer (ss -o) on
# the server's side of an accepted connection.  The same reload, once
# the port is free, does change both: the observables are real.
. "$(dirname "$0")/lib.sh"

conf=$T/portmux.conf
cat >"$conf" <<EOF
stop_grace = 2s

service echo {
  protocol  = tcp
  address   = {127.0.0.1}
  port      = 7
  builtin   = echo
  keepalive = false
  backlog   = 16
}
EOF

# The new generation: echo with keepalive and another backlog, and a
# second service on a port another process holds.
cat >"$T/new.conf" <<EOF
stop_grace = 2s

service echo {
  protocol  = tcp
  address   = {127.0.0.1}
  port      = 7
  builtin   = echo
  keepalive = true
  backlog   = 64
}

service other {
  protocol  = tcp
  address   = {127.0.0.1}
  port      = 2099
  builtin   = discard
}
EOF

# The backlog port 7 listens with (Send-Q of the listening socket).
backlog_of_7()
{
	ss -ltnH '( sport = :7 )' | awk 'NR == 1 { print $3 }'
}

# Connect to echo and tell whether the server's side of the connection
# has a keepalive timer: "yes" or "no".  The connection is held on fd 5
# while ss looks, polling until it shows up as established.
keepalive_of_new_conn()
{
	local out= i

	exec 5<>/dev/tcp/127.0.0.1/7 || return 1
	for i in $(seq 1 50); do
		out=$(ss -tnoeH state established '( sport = :7 )')
		[ -n "$out" ] && break
		sleep 0.1
	done
	exec 5<&-
	[ -n "$out" ] || return 1
	case "$out" in
	*timer:\(keepalive*) echo yes ;;
	*) echo no ;;
	esac
}

# Until no connection to echo is established any more (the last one was
# closed by the client; echo closes its side).
wait_no_conn()
{
	local i

	for i in $(seq 1 50); do
		[ -z "$(ss -tnH state established '( sport = :7 )')" ] &&
		    return 0
		sleep 0.1
	done
	return 1
}

start_daemon "$conf"
wait_listen 7 127.0.0.1 || fail "echo does not listen"
[ "$(backlog_of_7)" = 16 ] ||
    fail "echo listens with backlog $(backlog_of_7), not 16: $(ss -ltn)"
ka=$(keepalive_of_new_conn) || fail "no connection to echo"
[ "$ka" = no ] || fail "a connection to echo has keepalive with keepalive = false"
wait_no_conn || fail "the connection to echo does not end"
engine=$(engine_pid)

socat TCP4-LISTEN:2099,bind=127.0.0.1,reuseaddr,fork /dev/null &
holder=$!
PIDS+=("$holder")
wait_listen 2099 127.0.0.1 || fail "socat does not listen on port 2099"

cp "$T/new.conf" "$conf.new" && mv "$conf.new" "$conf" ||
    fail "cannot write the new config"
kill -HUP "$MONPID"
wait_log '^action=warn msg="reload failed, keeping generation [0-9]+"' 10 ||
    fail "the reload with port 2099 taken was not refused"
grep -Eq '^action=warn service=other proto=tcp address=127\.0\.0\.1 port=2099 msg="cannot bind" error="Address already in use"$' \
    "$LOG" || fail "no line naming service other, port 2099 and EADDRINUSE"
grep -Eq '^action=reload generation=' "$LOG" &&
    fail "a failed reload logged action=reload"
[ "$(engine_pid)" = "$engine" ] || fail "the engine changed on a failed reload"

[ "$(backlog_of_7)" = 16 ] ||
    fail "the failed reload changed echo's live backlog to $(backlog_of_7)"
ka=$(keepalive_of_new_conn) || fail "no connection to echo after the failed reload"
[ "$ka" = no ] ||
    fail "the failed reload turned keepalive on for echo's live socket"
wait_no_conn || fail "the connection to echo does not end"

# The port is free again: the same reload goes through and changes both.
kill "$holder"
wait "$holder" 2>/dev/null
for i in $(seq 1 50); do
	listening 2099 || break
	sleep 0.1
done
listening 2099 && fail "socat still listens on port 2099"
kill -HUP "$MONPID"
wait_log '^action=reload generation=[0-9]+ services=2( |$)' 10 ||
    fail "the reload with port 2099 free did not go through"
for i in $(seq 1 50); do
	[ "$(backlog_of_7)" = 64 ] && break
	sleep 0.1
done
[ "$(backlog_of_7)" = 64 ] ||
    fail "echo listens with backlog $(backlog_of_7) after the reload, not 64"
ka=$(keepalive_of_new_conn) || fail "no connection to echo after the reload"
[ "$ka" = yes ] || fail "keepalive = true did not reach echo's socket on reload"

ok
