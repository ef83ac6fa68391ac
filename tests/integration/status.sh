#!/bin/bash
# SIGUSR1 writes the status table to the log, a line per listener
# (portmuxd(8), SIGUSR1): service, proto, local address, state, kind,
# active/limit, accepted and refused since the start, the last
# refusal's reason.  Builtin, exec, wait, redirect, trap and knock-gated
# services, each checked field by field after known traffic; a wait
# service whose program holds its socket shows state=waiting; the
# counters outlive a reload.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd socat

conf=$T/status.conf
cat >"$conf" <<EOF
stop_grace = 1s

service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2300
  builtin  = echo
  instances = 10
}

service denied {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2301
  builtin  = discard
  deny     = {127.0.0.0/8}
}

service hello {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2302
  server   = /bin/echo
  args     = {echo, hello}
  user     = daemon
}

service relay {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2303
  redirect = "127.0.0.1:2300"
}

service trap {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2304
  builtin  = trap
}

service gated {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2305
  builtin  = echo
  knock    = {"tcp:7301"}
}

service holder {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2306
  wait     = true
  server   = /bin/sleep
  args     = {sleep, 30}
  user     = daemon
}
EOF

start_daemon "$conf"
for p in 2300 2301 2302 2303 2304 2305 2306; do
	wait_listen $p 127.0.0.1 || fail "nothing listens on 127.0.0.1:$p"
done

# talk PORT: a line to it, what comes back.
talk()
{
	echo ping | timeout 5 socat -t 2 - "TCP4:127.0.0.1:$1" 2>/dev/null
}

for i in 1 2 3; do
	[ "$(talk 2300)" = ping ] || fail "echo did not answer"
done
talk 2301 >/dev/null
talk 2301 >/dev/null
[ "$(talk 2302)" = hello ] || fail "hello did not answer"
[ "$(talk 2303)" = ping ] || fail "the redirect did not answer"
[ -z "$(talk 2305)" ] || fail "gated answered without a knock"
# A connection to the wait service starts its program, which holds the
# socket and never accepts.
exec 5<>/dev/tcp/127.0.0.1/2306 || fail "cannot connect to holder"
wait_log ' service=holder action=spawn ' 5 || fail "holder was not started"
wait_count ' service=relay action=close ' 1 || fail "no close line for relay"
wait_count ' service=echo action=close ' 4 || fail "not 4 close lines for echo"

# dump_line SERVICE N: the service's status line of the Nth dump.
dump_line()
{
	grep -E "^service=$1 action=dump proto=" "$LOG" | sed -n "$2p"
}

# expect SERVICE N KEY VALUE...: the fields of its status line.
expect()
{
	local s=$1 n=$2 line k v got

	shift 2
	line=$(dump_line "$s" "$n")
	[ -n "$line" ] || fail "dump $n: no status line for $s"
	while [ $# -gt 0 ]; do
		k=$1 v=$2
		shift 2
		got=$(field "$line" "$k")
		[ "$got" = "$v" ] ||
		    fail "dump $n, $s: $k=$got, not $v (line: $line)"
	done
}

kill -USR1 "$MONPID"
wait_count '^service=[a-z]+ action=dump proto=' 7 ||
    fail "not 7 status lines after SIGUSR1"
expect echo 1 proto tcp local 127.0.0.1:2300 state listen kind builtin:echo \
    active 0 limit 10 accepted 4 refused 0 last_refusal -
expect denied 1 local 127.0.0.1:2301 kind builtin:discard accepted 0 \
    refused 2 last_refusal acl
expect hello 1 local 127.0.0.1:2302 kind exec accepted 1 refused 0
expect relay 1 local 127.0.0.1:2303 kind redirect accepted 1 refused 0
expect trap 1 local 127.0.0.1:2304 kind trap accepted 0 refused 0
expect gated 1 local 127.0.0.1:2305 kind builtin:echo gate knock \
    accepted 0 refused 1 last_refusal knock
expect holder 1 local 127.0.0.1:2306 kind wait state waiting active 1 \
    limit 1
grep -E '^service=echo action=dump ' "$LOG" | grep -q ' gate=' &&
    fail "echo's status line says it has a gate"
say "first dump: $(dump_line echo 1)"

# The counters are the daemon's, not the engine's: a reload keeps them.
kill -HUP "$MONPID"
wait_log '^action=reload generation=2 ' 10 || fail "no reload"
[ "$(talk 2300)" = ping ] || fail "echo did not answer after the reload"
wait_count ' service=echo action=close ' 5 || fail "not 5 close lines for echo"
kill -USR1 "$MONPID"
wait_count '^service=[a-z]+ action=dump proto=' 14 ||
    fail "not 14 status lines after the second SIGUSR1"
expect echo 2 accepted 5 refused 0
expect denied 2 refused 2 last_refusal acl
expect hello 2 accepted 1
say "after the reload: $(dump_line echo 2)"

exec 5<&-
stop_daemon
ok
