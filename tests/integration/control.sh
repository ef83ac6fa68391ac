#!/bin/bash
# The control socket and portmuxctl(8) against a running daemon with
# builtin, exec, wait, redirect, trap, knock-gated, PROXY and tcpmux
# services:
# status, connections and bans checked field by field, the JSON of each
# carrying the same values as the table; unban lifts a trap's ban (and
# the source connects again); reload answers with the new generation,
# or with the problems of a broken file (file:line) and exit 1; a user
# without rights cannot connect (77), a member of control_group may read
# but not unban or reload (77); malformed, oversized and version 2
# requests get an error reply.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd socat python3 setpriv
CTL=$top_builddir/src/portmuxctl
[ -x "$CTL" ] || fail "no $CTL"

chmod 711 "$T" || fail "chmod $T"
sock=$T/ctl.sock
conf=$T/control.conf
write_conf()
{
	cat >"$conf" <<EOF
stop_grace    = 1s
control       = "$sock"
control_group = daemon

service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2400
  builtin  = echo
  instances = 10
}

service sleeper {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2402
  server   = /bin/sleep
  args     = {sleep, 30}
  user     = daemon
}

service relay {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2403
  redirect = "127.0.0.1:2400"
}

service trap {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2404
  builtin  = trap
}

service gated {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2405
  builtin  = echo
  knock    = {"tcp:7401"}
}

service behind {
  protocol        = tcp
  address         = {127.0.0.1}
  port            = 2407
  builtin         = echo
  proxy_protocol  = v1
  trusted_proxies = {127.0.0.0/8}
  proxy_timeout   = 1m
}

service mux {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2408
  builtin  = tcpmux
  tcpmux_timeout = 1m
}

service named {
  protocol = tcp
  builtin  = echo
  tcpmux   = true
}

service holder {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2406
  wait     = true
  server   = /bin/sleep
  args     = {sleep, 30}
  user     = daemon
}
$1
EOF
}
write_conf ""
start_daemon "$conf"
for p in 2400 2402 2403 2404 2405 2406 2407 2408; do
	wait_listen $p 127.0.0.1 || fail "nothing listens on 127.0.0.1:$p"
done
[ -S "$sock" ] || fail "no control socket $sock"
perm=$(stat -c '%a %U %G' "$sock")
[ "$perm" = "660 root daemon" ] ||
    fail "control socket is '$perm', not '660 root daemon'"

ctl()
{
	timeout 20 "$CTL" -s "$sock" "$@"
}

# json CMD PYTHON-EXPR: evaluate the expression on the parsed JSON (d).
json()
{
	local cmd=$1

	shift
	ctl -j $cmd >"$T/j.out" 2>"$T/j.err" ||
	    fail "portmuxctl -j $cmd: exit $?: $(cat "$T/j.err")"
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" \
	    "$T/j.out" || fail "portmuxctl -j $cmd: not JSON: $(head -c 300 "$T/j.out")"
}

# Connections that stay open: echo, the redirect, the exec'd sleeper and
# the wait holder.
exec 5<>/dev/tcp/127.0.0.1/2400 || fail "cannot connect to echo"
echo ping >&5
read -r -t 5 got <&5 && [ "$got" = ping ] || fail "echo did not answer"
exec 6<>/dev/tcp/127.0.0.1/2403 || fail "cannot connect to relay"
echo ping >&6
read -r -t 5 got <&6 && [ "$got" = ping ] || fail "the redirect did not answer"
exec 7<>/dev/tcp/127.0.0.1/2402 || fail "cannot connect to sleeper"
wait_log ' service=sleeper action=spawn ' 5 || fail "sleeper not started"
exec 8<>/dev/tcp/127.0.0.1/2406 || fail "cannot connect to holder"
wait_log ' service=holder action=spawn ' 5 || fail "holder not started"
# Half a PROXY header: the connection waits for the rest.
exec 9<>/dev/tcp/127.0.0.1/2407 || fail "cannot connect to behind"
printf 'PROXY TCP4' >&9
# Half a tcpmux name: it waits for the LF.
exec 4<>/dev/tcp/127.0.0.1/2408 || fail "cannot connect to mux"
printf 'nam' >&4
# A knock-gated service refuses without the knock.
timeout 5 socat -T 2 - TCP4:127.0.0.1:2405 </dev/null >/dev/null 2>&1
wait_log ' service=gated action=refuse ' 5 || fail "gated did not refuse"
# The trap bans its source: 127.0.0.9, so that 127.0.0.1 stays free.
timeout 5 socat -T 2 - TCP4:127.0.0.1:2404,bind=127.0.0.9 </dev/null \
    >/dev/null 2>&1
wait_log '^action=ban peer=127\.0\.0\.9/32 reason=trap ' 5 ||
    fail "the trap did not ban 127.0.0.9"

# status: the table and the JSON, field by field.
ctl status >"$T/status.out" 2>"$T/status.err" ||
    fail "portmuxctl status: exit $?: $(cat "$T/status.err")"
say "portmuxctl status:"
cat "$T/status.out" >&2
head -1 "$T/status.out" | grep -q 'SERVICE' || fail "status: no header"
# row SERVICE KEY VALUE...: the JSON row of SERVICE has these values.
row()
{
	local cmd=$1 sel=$2 k v got

	shift 2
	while [ $# -gt 0 ]; do
		k=$1 v=$2
		shift 2
		got=$(json "$cmd" "[r.get('$k') for r in d if $sel][0] if [r for r in d if $sel] else 'NO ROW'") ||
		    exit 1
		[ "$got" = "$v" ] || fail "$cmd, row $sel: $k=$got, not $v"
	done
}
# echo: the client, and the redirect's connection to it.
row status "r['service']=='echo'" proto tcp local 127.0.0.1:2400 \
    state listen kind builtin:echo active 2 limit 10 accepted 2 refused 0 \
    last_refusal -
row status "r['service']=='sleeper'" kind exec active 1 accepted 1
row status "r['service']=='relay'" kind redirect active 1 accepted 1
row status "r['service']=='trap'" kind trap accepted 0 refused 1 \
    last_refusal trap
row status "r['service']=='gated'" kind builtin:echo gate knock refused 1 \
    last_refusal knock
row status "r['service']=='holder'" kind wait state waiting active 1
row status "r['service']=='control'" proto unix local "$sock" \
    kind builtin:control
# The table says the same as the JSON.
grep -E '^echo +tcp +127\.0\.0\.1:2400 +listen +builtin:echo ' \
    "$T/status.out" >/dev/null || fail "status table: no echo row as expected"
[ "$(json status "len(d)")" = 9 ] || fail "status: not 9 rows"

# connections
ctl connections >"$T/conns.out" 2>&1 || fail "connections: $(cat "$T/conns.out")"
say "portmuxctl connections:"
cat "$T/conns.out" >&2
spid=$(grep -m1 -E ' service=sleeper action=spawn ' "$LOG" | sed 's/.* pid=\([0-9]*\).*/\1/')
hpid=$(grep -m1 -E ' service=holder action=spawn ' "$LOG" | sed 's/.* pid=\([0-9]*\).*/\1/')
eid=$(grep -m1 -E ' service=echo action=accept ' "$LOG" | sed 's/^conn=\([0-9]*\) .*/\1/')
row connections "r['conn']==$eid" service echo local 127.0.0.1:2400 \
    bytes_in 5 bytes_out 5 state builtin
[[ $(json connections "[r['peer'] for r in d if r['conn']==$eid][0]") =~ ^127\.0\.0\.1:[0-9]+$ ]] ||
    fail "connections: echo's peer is not 127.0.0.1:PORT"
row connections "r['service']=='relay'" local 127.0.0.1:2403 bytes_in 5 \
    bytes_out 5 state relay
row connections "r['service']=='sleeper'" pid "$spid" local 127.0.0.1:2402 \
    state exec
row connections "r['service']=='holder'" pid "$hpid" state wait
# The engine has read the 10 and the 3 bytes once it says so: poll, bounded.
for i in $(seq 50); do
	[ "$(json connections "sorted(r['bytes_in'] for r in d if r['service'] in ('behind','mux'))")" = "[3, 10]" ] && break
	sleep 0.1
done
row connections "r['service']=='behind'" local 127.0.0.1:2407 bytes_in 10 \
    state proxy-header
row connections "r['service']=='mux'" local 127.0.0.1:2408 bytes_in 3 \
    state tcpmux-name

# bans and unban
row bans "r['addr']=='127.0.0.9/32'" reason trap
ctl bans | grep -q '127\.0\.0\.9/32' || fail "bans table: no 127.0.0.9/32"
timeout 5 socat -T 2 - TCP4:127.0.0.1:2400,bind=127.0.0.9 </dev/null \
    >/dev/null 2>&1
wait_log ' service=echo action=refuse .*reason=banned' 5 ||
    fail "127.0.0.9 was not refused while banned"
out=$(ctl unban 127.0.0.9) || fail "unban: exit $?: $out"
say "portmuxctl unban 127.0.0.9: $out"
[ "$(json bans "len(d)")" = 0 ] || fail "a ban is left after unban"
wait_log '^action=unban peer=127\.0\.0\.9/32' 5 || fail "no unban line"
got=$(echo back | timeout 5 socat -T 2 - TCP4:127.0.0.1:2400,bind=127.0.0.9 2>/dev/null)
[ "$got" = back ] || fail "127.0.0.9 still refused after unban"

# A member of control_group reads, but may not change state; others
# cannot connect.
as()
{
	timeout 20 setpriv --reuid="$1" --regid="$2" --init-groups \
	    "$CTL" -s "$sock" "${@:3}"
}
as daemon daemon status >/dev/null 2>&1 || fail "user daemon (control_group) cannot read status"
as daemon daemon unban 127.0.0.9 >/dev/null 2>&1
rc=$?
[ $rc = 77 ] || fail "user daemon: unban exit $rc, not 77"
as nobody nogroup status >/dev/null 2>&1
rc=$?
[ $rc = 77 ] || fail "user nobody: status exit $rc, not 77"

# Hostile requests: an error reply each, within the timeout.
r=$(printf 'portmuxctl/2 status\n' | timeout 10 socat -t 8 - "UNIX-CONNECT:$sock")
[[ $r == "portmuxd/1 error code=version "* ]] || fail "version 2: '$r'"
r=$(printf 'hello\n' | timeout 10 socat -t 8 - "UNIX-CONNECT:$sock")
[[ $r == "portmuxd/1 error code=usage "* ]] || fail "malformed: '$r'"
r=$(head -c 5000 /dev/zero | tr '\0' a | timeout 10 socat -t 8 - "UNIX-CONNECT:$sock")
[[ $r == "portmuxd/1 error code=usage "* ]] || fail "oversized: '$r'"
# A silent client is closed (CONTROL_REQ_MS, 5 s), and meanwhile the
# engine answers others.
start=$SECONDS
timeout 20 socat -T 15 - "UNIX-CONNECT:$sock" < <(sleep 12) >/dev/null 2>&1 &
slow=$!
PIDS+=($slow)
ctl stats >/dev/null || fail "stats while a silent client is connected"
wait_log ' service=control action=close .*timeout' 10 ||
    fail "the silent client was not closed in time"

# reload: taken, then refused with the problem.
out=$(ctl reload) || fail "reload: exit $?: $out"
say "portmuxctl reload: $out"
wait_log '^action=reload generation=2 ' 10 || fail "no reload line"
[ "$(json stats "d['generation']")" = 2 ] || fail "stats: generation is not 2"
write_conf "service broken { port = 99999 }"
ctl reload >"$T/rl.out" 2>"$T/rl.err"
rc=$?
[ $rc = 1 ] || fail "a broken reload: exit $rc, not 1"
grep -q "control.conf:[0-9]*:" "$T/rl.err" ||
    fail "a broken reload: no file:line problem: $(cat "$T/rl.err")"
say "a broken reload: $(head -2 "$T/rl.err" | tr '\n' ' ')"
[ "$(json stats "d['generation']")" = 2 ] || fail "the broken reload changed the generation"

exec 4<&- 5<&- 6<&- 7<&- 8<&- 9<&-
stop_daemon
[ -e "$sock" ] && fail "the control socket is left after the stop"
ok
