#!/bin/bash
# The kernel firewall (DESIGN.md keys firewall, nft_table; portmux.conf(5)
# "Kernel firewall").  With firewall = nftables the monitor creates the
# table inet portmux, mirrors every ban into its sets with the ban's
# expiry, so that a banned source is dropped on every port of the host,
# ports that portmuxd does not serve included (a socat listener here),
# keeps the sets equal to the ban table over a reload and an engine
# crash, lets the kernel drop the element when the ban ends, and
# removes the table at stop.  All of it in the test's own network
# namespace: the host's firewall is never touched.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd nft
need_cmd socat

nft list tables >/dev/null 2>&1 || skip "nf_tables is not available here"

# An echo server outside portmuxd.
socat TCP4-LISTEN:2500,bind=127.0.0.1,reuseaddr,fork EXEC:cat >/dev/null 2>&1 &
PIDS+=("$!")
wait_listen 2500 127.0.0.1 || fail "the socat listener did not start"

# reach SRC: a line sent from SRC to the socat listener comes back.
reach()
{
	local out

	out=$(printf 'hi\n' | timeout 3 socat -t1 - \
	    "TCP4:127.0.0.1:2500,bind=$1,connect-timeout=2" 2>/dev/null)
	[ "$out" = hi ]
}

# in_set ADDR: the ban set holds ADDR, with a timeout.
in_set()
{
	nft list set inet portmux ban4 2>/dev/null | grep -Eq "$1 (timeout|expires)"
}

reach 127.0.0.2 || fail "127.0.0.2 cannot reach the listener before any ban"

conf=$T/firewall.conf
cat >"$conf" <<EOF
stop_grace = 1s
ban_time   = 4s
firewall   = nftables

service trap {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2323
  builtin  = trap
}
EOF
start_daemon "$conf"
wait_listen 2323 127.0.0.1 || fail "the trap is not listening"
nft list table inet portmux >/dev/null 2>&1 || fail "no table inet portmux after the start"

timeout 3 socat -t1 - TCP4:127.0.0.1:2323,bind=127.0.0.2 </dev/null >/dev/null 2>&1
wait_log "action=ban peer=127.0.0.2/32 reason=trap" || fail "the trap did not ban 127.0.0.2"
for i in $(seq 1 50); do in_set 127.0.0.2 && break; sleep 0.1; done
in_set 127.0.0.2 || fail "the ban is not in the set: $(nft list set inet portmux ban4 2>&1)"
reach 127.0.0.2 && fail "banned 127.0.0.2 still reaches a port outside portmuxd"
reach 127.0.0.3 || fail "127.0.0.3 no longer reaches the listener"

# A reload and an engine crash keep the set equal to the ban table.
kill -HUP "$MONPID"
wait_log "action=reload generation=2" || fail "no reload"
in_set 127.0.0.2 || fail "the reload emptied the ban set: $(nft list set inet portmux ban4 2>&1)"
old=$(engine_pid)
kill -KILL "$old"
wait_log "action=start .*reason=restart" 10 || fail "the engine was not restarted"
in_set 127.0.0.2 || fail "the engine restart emptied the ban set"

# The ban ends (ban_time 4s): the kernel drops the element too.
for i in $(seq 1 100); do reach 127.0.0.2 && break; sleep 0.1; done
reach 127.0.0.2 || fail "127.0.0.2 is still dropped 10s after a 4s ban"
in_set 127.0.0.2 && fail "the ended ban is still in the set"

stop_daemon
[ "$DAEMON_RC" = 0 ] || fail "portmuxd exited $DAEMON_RC at stop"
nft list tables 2>/dev/null | grep -q 'inet portmux$' &&
    fail "the table is still there after the stop: $(nft list tables)"

# A failing firewall is an error at start that names it, never silent:
# a table name nft refuses (a keyword).
conf2=$T/badtable.conf
sed 's/^firewall   = nftables$/firewall = nftables\nnft_table = table/' "$conf" >"$conf2"
LOG=$T/badtable.log
"$PORTMUXD" -F -f "$conf2" >"$LOG" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_exit "$pid" 10 || fail "portmuxd with a bad nft table did not exit"
[ "$DAEMON_RC" = 71 ] || fail "a failing firewall exited $DAEMON_RC, expected 71"
grep -q "nft" "$LOG" || fail "the error does not name nft: $(cat "$LOG")"
ok
