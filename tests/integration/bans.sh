#!/bin/bash
# Bans started by refusals, and the ban table (DESIGN.md keys ban_after,
# ban_time, ban_max, source_prefix4; "Overload policy"; "Processes";
# "Reload"; portmux.conf(5) "Limits and bans").  ban_after is a token
# bucket of rate refusals: with ban_after = 5/1m, a group past its rate
# is refused 5 times without a ban, and the 6th refusal bans it
# (action=ban reason=refused until=now+ban_time), on every service, UDP
# builtins included, with
# refusals logged reason=banned; the group is the one of the offending
# service (source_prefix4 = 24 there, so 127.0.1.3 pays for 127.0.1.2).
# Refusals by ACL or per_source (an honest client retries when its
# connections are all busy), and UDP datagrams (their source is
# spoofable), never start a ban.  A ban must survive a reload (SIGHUP) and an engine crash
# (SIGKILL of the engine: the monitor hands the ban table to the next
# engine), or an attacker would only have to wait for either.  With
# ban_max = 1 the table is full after one ban: a second offender is not
# banned, the refusal of its ban is logged (action=warn ... ban table
# full (ban_max 1), ban refused), and the first ban is kept: evicting it
# would let an attacker unban himself.
. "$(dirname "$0")/lib.sh"

conf=$T/bans.conf
cat >"$conf" <<EOF
stop_grace   = 1s
reload_grace = 1s
ban_time     = 60s
ban_max      = 1

service guarded {
  protocol       = tcp
  address        = {127.0.0.1}
  port           = 2001
  builtin        = echo
  rate           = 1/1m
  ban_factor     = 1000
  source_prefix4 = 24
  deny           = {127.0.2.2/32}
  ban_after      = 5/1m
}

service held {
  protocol       = tcp
  address        = {127.0.0.1}
  port           = 2003
  builtin        = echo
  per_source     = 1
  source_prefix4 = 24
  ban_after      = 5/1m
}

service open {
  protocol  = tcp
  address   = {127.0.0.1}
  port      = 2002
  builtin   = echo
}

service uecho {
  protocol  = udp
  address   = {127.0.0.1}
  port      = 2007
  builtin   = echo
  deny      = {127.0.0.5/32}
  ban_after = 5/1m
  udp_reply_rate = 5/1m
}
EOF

N=5		# ban_after

# tcp_from SRC PORT: what the echo service on PORT answers SRC (empty:
# refused).
tcp_from()
{
	printf 'hello\n' | timeout 5 socat -t3 - \
	    "TCP4:127.0.0.1:$2,bind=$1" 2>/dev/null
}

# udp_from SRC: the echo of one datagram from SRC (empty: none in 0.5s).
udp_from()
{
	printf 'dgram' | timeout 5 socat -t0.5 - \
	    "UDP4:127.0.0.1:2007,bind=$1" 2>/dev/null
}

# banned SRC WHEN: refused on both TCP services and answered nothing on
# UDP.
banned()
{
	local p

	for p in 2001 2002 2003; do
		[ -z "$(tcp_from "$1" $p)" ] ||
		    fail "$2: $1 is served on port $p, its group is banned"
	done
	[ -z "$(udp_from "$1")" ] ||
	    fail "$2: the UDP echo answered $1, its group is banned"
}

start_daemon "$conf"
wait_listen 2001 127.0.0.1 || fail "nothing listens on port 2001"
wait_listen 2002 127.0.0.1 || fail "nothing listens on port 2002"
wait_listen 2003 127.0.0.1 || fail "nothing listens on port 2003"
[ "$(udp_from 127.0.1.3)" = dgram ] || fail "the UDP echo does not answer"
[ "$(tcp_from 127.0.1.3 2002)" = hello ] || fail "echo on 2002 does not answer"

# hold SRC: a connection from SRC to held, kept open (socat reads
# until the server closes), so that the group is at per_source = 1.
hold()
{
	local n

	n=$(log_count "^conn=[0-9]+ service=held action=accept proto=tcp peer=${1//./\\.}:")
	timeout 60 socat -u "TCP4:127.0.0.1:2003,bind=$1" /dev/null 2>/dev/null &
	PIDS+=($!)
	for i in $(seq 1 100); do
		[ "$(log_count "^conn=[0-9]+ service=held action=accept proto=tcp peer=${1//./\\.}:")" -gt "$n" ] &&
		    return 0
		sleep 0.05
	done
	fail "the holding connection of $1 to held was not accepted"
}

# over_limit SRC COUNT PORT WHY: COUNT connections of SRC to PORT, each
# refused.
over_limit()
{
	local i

	for i in $(seq 1 "$2"); do
		[ -z "$(tcp_from "$1" "$3")" ] ||
		    fail "$1 was served on port $3: $4"
	done
}

# past_rate SRC: the one connection of SRC that rate = 1/1m allows.
past_rate()
{
	[ "$(tcp_from "$1" 2001)" = hello ] ||
	    fail "the first connection of $1 to guarded (rate = 1/1m) was not served"
}

# UDP never starts a ban: 30 datagrams refused by ACL, 30 beyond
# udp_reply_rate; ban_after is 5 on that service.
for i in $(seq 1 30); do
	printf 'x' | timeout 3 socat -u - "UDP4:127.0.0.1:2007,bind=127.0.0.5" \
	    2>/dev/null
	printf 'x' | timeout 3 socat -u - "UDP4:127.0.0.1:2007,bind=127.0.0.6" \
	    2>/dev/null
done
wait_log '^conn=[0-9]+ service=uecho action=refuse proto=udp peer=127\.0\.0\.5:[0-9]+ reason=acl$' ||
    fail "no 'service=uecho action=refuse proto=udp peer=127.0.0.5:PORT reason=acl' line"
[ -z "$(udp_from 127.0.0.6)" ] ||
    fail "127.0.0.6 sent 30 datagrams, udp_reply_rate = 5/1m: it must get no more answers"

# ACL refusals never start a ban either.
for i in $(seq 1 $((2 * N))); do
	[ -z "$(tcp_from 127.0.2.2 2001)" ] ||
	    fail "127.0.2.2 is denied on port 2001, it was served"
done
wait_log '^conn=[0-9]+ service=guarded action=refuse proto=tcp peer=127\.0\.2\.2:[0-9]+ reason=acl$' ||
    fail "no 'service=guarded action=refuse proto=tcp peer=127.0.2.2:PORT reason=acl' line"
# Nor do per_source refusals, however many: 4 x ban_after of them.
hold 127.0.3.2
over_limit 127.0.3.2 $((4 * N)) 2003 "it holds its per_source = 1 connection"
wait_log '^conn=[0-9]+ service=held action=refuse proto=tcp peer=127\.0\.3\.2:[0-9]+ reason=per_source$' ||
    fail "no 'service=held action=refuse proto=tcp peer=127.0.3.2:PORT reason=per_source' line"
grep -q '^action=ban ' "$LOG" &&
    fail "UDP, ACL or per_source refusals started a ban: $(grep -m 1 '^action=ban ' "$LOG")"

# The ban_after path: past its rate, N refusals empty the bucket, the
# next one starts a ban of the /24 group.
past_rate 127.0.1.2
over_limit 127.0.1.2 $N 2001 "rate = 1/1m is used up"
wait_log '^conn=[0-9]+ service=guarded action=refuse proto=tcp peer=127\.0\.1\.2:[0-9]+ reason=rate$' ||
    fail "no 'service=guarded action=refuse proto=tcp peer=127.0.1.2:PORT reason=rate' line"
grep -q '^action=ban ' "$LOG" &&
    fail "ban_after = $N/1m: banned after only $N refusals: $(grep -m 1 '^action=ban ' "$LOG")"
over_limit 127.0.1.2 1 2001 "rate = 1/1m is used up"
wait_log '^action=ban peer=127\.0\.1\.0/24 reason=refused until=[0-9TZ:-]+$' 3 ||
    fail "no 'action=ban peer=127.0.1.0/24 reason=refused until=...' line after $((N + 1)) refusals (ban_after = $N/1m)"
line=$(grep -m 1 '^action=ban peer=127\.0\.1\.0/24 ' "$LOG")
until=$(field "$line" until)
[[ $until =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] ||
    fail "until=$until is not ISO 8601 UTC (YYYY-MM-DDTHH:MM:SSZ)"
left=$(( $(date -u -d "${until%Z} UTC" +%s) - $(date +%s) ))
[ "$left" -ge 55 ] && [ "$left" -le 61 ] ||
    fail "until=$until is ${left}s away, ban_time = 60s"
[ "$(log_count '^action=ban ')" = 1 ] ||
    fail "expected one ban, the log has: $(grep '^action=ban ' "$LOG")"

# Another address of the group, on every service.
banned 127.0.1.3 "after the ban"
wait_log '^(conn=[0-9]+ service=open action=refuse proto=tcp peer=127\.0\.1\.3:[0-9]+|service=open action=refuse proto=tcp peer=127\.0\.1\.0/24) reason=banned( |$)' ||
    fail "no refusal of 127.0.1.3 with reason=banned on service open"
wait_log '^conn=[0-9]+ service=uecho action=refuse proto=udp peer=127\.0\.1\.3:[0-9]+ reason=banned$' ||
    fail "no 'service=uecho action=refuse proto=udp peer=127.0.1.3:PORT reason=banned' line"
[ "$(tcp_from 127.0.0.3 2002)" = hello ] ||
    fail "127.0.0.3 is outside the banned group, it is not served"
[ "$(udp_from 127.0.0.3)" = dgram ] ||
    fail "127.0.0.3 is outside the banned group, the UDP echo does not answer it"

# The ban survives a reload.
kill -HUP "$MONPID"
wait_log '^action=reload generation=2 ' 10 ||
    fail "no 'action=reload generation=2' line after SIGHUP"
banned 127.0.1.3 "after a reload"

# The ban survives an engine crash.
old=$(engine_pid)
[ -n "$old" ] || fail "no engine found"
kill -KILL "$old"
for i in $(seq 1 100); do
	new=$(engine_pid)
	[ -n "$new" ] && [ "$new" != "$old" ] && break
	sleep 0.05
done
[ -n "$new" ] && [ "$new" != "$old" ] ||
    fail "the monitor did not start a new engine after SIGKILL of $old"
wait_log '^action=start .*reason=restart' 5 ||
    fail "no 'action=start ... reason=restart' line after SIGKILL of the engine"
[ "$(tcp_from 127.0.0.3 2002)" = hello ] ||
    fail "the new engine does not serve 127.0.0.3"
banned 127.0.1.3 "after an engine restart"

# A second offender with the table full: not banned, logged, the first
# ban kept.
past_rate 127.0.0.2
over_limit 127.0.0.2 $((N + 1)) 2001 "rate = 1/1m is used up"
wait_log '^action=warn peer=127\.0\.0\.0/24 reason=refused msg="ban table full \(ban_max 1\), ban refused"$' 3 ||
    fail "$((N + 1)) rate refusals of 127.0.0.0/24 with ban_max = 1 already used: no 'action=warn peer=127.0.0.0/24 reason=refused msg=\"ban table full (ban_max 1), ban refused\"' line"
grep -q '^action=ban peer=127\.0\.0\.' "$LOG" &&
    fail "the table is full, yet a second ban was made: $(grep '^action=ban peer=127\.0\.0\.' "$LOG")"
[ "$(tcp_from 127.0.0.3 2002)" = hello ] ||
    fail "127.0.0.3 is not served: the refused second ban was applied"
banned 127.0.1.3 "with the table full"
grep -q '^action=unban ' "$LOG" &&
    fail "a ban ended early: $(grep '^action=unban ' "$LOG")"

ok
