#!/bin/bash
# Stealth port knocking (DESIGN.md keys knock, knock_timeout, knock_open;
# portmux.conf(5) "Knocking"), with the knock client of Debian's knockd.
# Until a source has hit tcp:7001, udp:7002, tcp:7003 in that order
# within knock_timeout, its connections to the service are refused
# (reason=knock); then its source group is let in for knock_open, and a
# connection accepted in the window outlives it.  The knock ports are
# never bound: ss shows nothing there and nmap, connect and SYN scans
# alike, sees them closed.  Wrong order, a hit out of order in the
# middle, and a sequence slower than knock_timeout open nothing; a
# repeated hit (a retransmit) does not break a sequence.  IPv6 too.
# The engine logs every knock it counts at debug level: the test waits
# for the line of the last hit before it looks at the outcome, never on
# a fixed sleep.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd knock
need_cmd socat
need_cmd nmap

conf=$T/knock.conf
cat >"$conf" <<EOF
stop_grace = 1s
log_level  = debug

service secret {
  protocol      = tcp
  address       = {127.0.0.1, ::1}
  port          = 2201
  builtin       = echo
  knock         = {"tcp:7001", "udp:7002", "tcp:7003"}
  knock_timeout = 2s
  knock_open    = 3s
}

service long {
  protocol   = tcp
  address    = {127.0.0.1}
  port       = 2202
  builtin    = echo
  knock      = {"udp:7011"}
  knock_open = 5m
}
EOF
start_daemon "$conf"
wait_listen 2201 127.0.0.1 || fail "echo is not listening on 2201"

# echo_from SRC ADDR [PORT]: a line sent from SRC comes back.
echo_from()
{
	local fam=TCP4 src=$1 out port=${3:-2201}

	case "$2" in
	*:*) fam=TCP6 src="[$1]" ;;
	esac
	out=$(printf 'knock-knock\n' | timeout 5 socat -t2 - \
	    "$fam:$(addr_port "$2" "$port"),bind=$src" 2>/dev/null)
	[ "$out" = knock-knock ]
}

# hits PEER: knock lines counted so far for that group.
hits()
{
	log_count "service=secret action=knock peer=$1 port="
}

opened()
{
	log_count "service=secret action=knock peer=$1 open="
}

# knock_wait PEER N ARGS...: run knock, then wait for N more counted
# hits of PEER (the last one being a step, reset or repeat).
knock_wait()
{
	local peer=$1 n=$2 before

	shift 2
	before=$(( $(hits "$peer") + $(opened "$peer") ))
	knock "$@" >/dev/null || fail "knock $* failed"
	for i in $(seq 1 100); do
		[ $(( $(hits "$peer") + $(opened "$peer") )) -ge \
		    $((before + n)) ] && return 0
		sleep 0.05
	done
	fail "knock $*: the engine did not count $n hits of $peer"
}

# 1. Nothing gets in before a knock; the refusal names the reason.
echo_from 127.0.0.1 127.0.0.1 && fail "echo answered before any knock"
wait_log "service=secret action=refuse proto=tcp peer=127.0.0.1:[0-9]+ reason=knock" ||
    fail "no reason=knock refusal before the knock"

# 2. The knock ports are closed: not bound, and nmap says closed.
for p in 7001 7002 7003; do
	[ -z "$(ss -Hltnu "( sport = :$p )")" ] ||
	    fail "something listens on knock port $p: $(ss -Hltnu "( sport = :$p )")"
done
out=$(nmap -n -Pn -sT -p 7001,7003 127.0.0.1 2>&1)
[ "$(echo "$out" | grep -Ec '^700[13]/tcp +closed')" = 2 ] ||
    fail "nmap -sT does not see the knock ports closed: $out"
out=$(nmap -n -Pn -sS -p 7001,7003 127.0.0.1 2>&1)
[ "$(echo "$out" | grep -Ec '^700[13]/tcp +closed')" = 2 ] ||
    fail "nmap -sS does not see the knock ports closed: $out"

# 3. Wrong order opens nothing.
knock_wait 127.0.0.1/32 3 127.0.0.1 7003:tcp 7002:udp 7001:tcp
[ "$(opened 127.0.0.1/32)" = 0 ] || fail "the reversed sequence opened it"
echo_from 127.0.0.1 127.0.0.1 && fail "echo answered after a wrong order"

# 4. A hit out of order in the middle resets the sequence.
knock_wait 127.0.0.1/32 4 127.0.0.1 7001:tcp 7003:tcp 7002:udp 7003:tcp
[ "$(opened 127.0.0.1/32)" = 0 ] || fail "a sequence with a hit out of order opened it"

# 5. Slower than knock_timeout (2s for the whole sequence): nothing.
knock_wait 127.0.0.1/32 3 -d 1500 127.0.0.1 7001:tcp 7002:udp 7003:tcp
[ "$(opened 127.0.0.1/32)" = 0 ] || fail "a sequence slower than knock_timeout opened it"
echo_from 127.0.0.1 127.0.0.1 && fail "echo answered after a timed out sequence"

# 6. The right order, with a repeated first hit (a retransmit), opens
# the service for that source group only.
knock_wait 127.0.0.1/32 4 127.0.0.1 7001:tcp 7001:tcp 7002:udp 7003:tcp
wait_log "service=secret action=knock peer=127.0.0.1/32 open=3s" ||
    fail "the right sequence did not open the service"
echo_from 127.0.0.1 127.0.0.1 || fail "echo did not answer the knocked source"
echo_from 127.0.0.2 127.0.0.1 && fail "echo answered 127.0.0.2, which did not knock"
wait_log "peer=127.0.0.2:[0-9]+ reason=knock" ||
    fail "127.0.0.2 was not refused with reason=knock"

# 7. A connection accepted in the window outlives it.
coproc HELD { socat - TCP4:127.0.0.1:2201,bind=127.0.0.1 2>/dev/null; }
PIDS+=("$HELD_PID")
echo first >&"${HELD[1]}"
read -r -t 5 line <&"${HELD[0]}" || fail "no echo on the held connection"
[ "$line" = first ] || fail "held connection echoed '$line'"
for i in $(seq 1 100); do
	echo_from 127.0.0.1 127.0.0.1 || break
	sleep 0.1
done
echo_from 127.0.0.1 127.0.0.1 && fail "the window did not close within 10s"
echo second >&"${HELD[1]}"
read -r -t 5 line <&"${HELD[0]}" || fail "the held connection was cut when the window closed"
[ "$line" = second ] || fail "held connection echoed '$line' after the window"

# 8. IPv6: the group is ::/64 (source_prefix6).
echo_from ::1 ::1 && fail "echo answered ::1 before its knock"
knock_wait ::/64 3 -6 ::1 7001:tcp 7002:udp 7003:tcp
wait_log "service=secret action=knock peer=::/64 open=3s" ||
    fail "the IPv6 knock did not open the service"
echo_from ::1 ::1 || fail "echo did not answer ::1 after its knock"

# 9. An open window survives a reload and an engine crash: the monitor
# keeps it for the next engine.
echo_from 127.0.0.1 127.0.0.1 2202 && fail "long answered before its knock"
knock 127.0.0.1 7011:udp >/dev/null || fail "knock 7011:udp failed"
wait_log "service=long action=knock peer=127.0.0.1/32 open=300s" ||
    fail "the one-step knock did not open long"
echo_from 127.0.0.1 127.0.0.1 2202 || fail "long did not answer after its knock"
kill -HUP "$MONPID"
wait_log "action=reload generation=2" || fail "no reload"
echo_from 127.0.0.1 127.0.0.1 2202 || fail "the reload closed the knock window"
kill -KILL "$(engine_pid)"
wait_log "action=start .*reason=restart" 10 || fail "the engine was not restarted"
for i in $(seq 1 50); do echo_from 127.0.0.1 127.0.0.1 2202 && break; sleep 0.1; done
echo_from 127.0.0.1 127.0.0.1 2202 || fail "the engine restart closed the knock window"
ok
