#!/bin/bash
# The UDP builtins answer as their RFCs say, on 127.0.0.1 and on ::1, and
# cannot be turned into reflectors or amplifiers (DESIGN.md "Builtins",
# "Overload policy"): echo (RFC 862) returns the datagram; discard (863)
# sends nothing; daytime (867) one ctime-style line in local time; time
# (868) 4 bytes, seconds since 1900, also for an empty datagram; chargen
# (864) one datagram of 0..512 bytes that is a prefix of the pattern.
# A datagram from a source port below 1024 or from a port of another
# reflecting service (7, 13, 19, 37, 53, 123, 161, 1900, 11211) gets no
# reply, and is logged reason=badsrc: two echo services, or an echo and
# a chargen, would otherwise ping-pong forever, and a spoofed source
# would aim the replies at a victim.  (The unspecified, broadcast and
# multicast sources cannot be sent from on loopback: the unit tests of
# builtin.c cover them.)  Replies to one source group are capped by
# udp_reply_rate (default 10/1s) while another source is still answered:
# a flood from one address must not disable the service for others.
# The log has one info line per source group and second, with repeat=N
# counting what went to debug since: a flood must not flood the log.
#
# The UDP client is perl (perl-base is Essential on Debian): socat cannot
# send an empty datagram, nor bind a source address and port and collect
# every reply within a deadline.
. "$(dirname "$0")/lib.sh"

export TZ=PMX-3

need_cmd perl

# udp_client DST PORT SRC SPORT COUNT HEX WANT WAIT: send COUNT
# datagrams of the bytes HEX (empty: an empty datagram) from SRC:SPORT
# ("-" and 0: the kernel chooses) and print each reply as "R HEX", until
# WANT replies came or WAIT seconds passed.  An ICMP port unreachable
# fails it.
cat >"$T/udpc.pl" <<'EOF'
use strict;
use warnings;
use IO::Socket::IP;
use IO::Select;
use Time::HiRes qw(time);

my ($dst, $dport, $src, $sport, $count, $hex, $want, $wait) = @ARGV;
my %o = (Proto => 'udp', PeerHost => $dst, PeerPort => $dport,
    ReuseAddr => 1);
$o{LocalHost} = $src if $src ne '-';
$o{LocalPort} = $sport if $sport ne '0';
my $s = IO::Socket::IP->new(%o) or die "udp client: socket: $@\n";
my $data = pack('H*', $hex);
for (1 .. $count) {
	defined($s->send($data)) or die "udp client: send: $!\n";
}
my $sel = IO::Select->new($s);
my $end = time + $wait;
my $got = 0;
$| = 1;
while ($got < $want) {
	my $left = $end - time;
	last if $left <= 0;
	last unless $sel->can_read($left);
	my $buf;
	defined($s->recv($buf, 65536)) or die "udp client: recv: $!\n";
	print "R ", unpack('H*', $buf), "\n";
	$got++;
}
EOF

udp_client()
{
	timeout 20 perl "$T/udpc.pl" "$@"
}

# hex_of FILE: the bytes of FILE as lowercase hex, one line.
hex_of()
{
	od -An -tx1 -v "$1" | tr -d ' \n'
}

# wait_udp PORT ADDR: until a UDP socket is bound there (ss), at most 5s.
wait_udp()
{
	local want

	want=$(addr_port "$2" "$1")
	for _ in $(seq 1 50); do
		ss -lunH "( sport = :$1 )" 2>/dev/null |
		    awk -v w="$want" '$4 == w { f = 1 } END { exit !f }' &&
		    return 0
		sleep 0.1
	done
	return 1
}

conf=$T/udp.conf
cat >"$conf" <<EOF
stop_grace = 2s

# The services checked for their bytes answer every datagram of the
# test; echorate keeps the default udp_reply_rate, 10/1s.
defaults {
  protocol = udp
  address  = {127.0.0.1, ::1}
}
service echo {
  port = 7
  builtin = echo
  udp_reply_rate = 1000/1s
}
service discard {
  port = 9
  builtin = discard
  udp_reply_rate = 1000/1s
}
service daytime {
  port = 13
  builtin = daytime
  udp_reply_rate = 1000/1s
}
service chargen {
  port = 19
  builtin = chargen
  udp_reply_rate = 1000/1s
}
service time {
  port = 37
  builtin = time
  udp_reply_rate = 1000/1s
}
service echorate {
  port = 2007
  builtin = echo
}
EOF

# The RFC 864 pattern, first 8 lines (more than 512 bytes).
awk 'BEGIN {
	for (k = 0; k < 8; k++) {
		s = ""
		for (i = 0; i < 72; i++)
			s = s sprintf("%c", 32 + (k + i) % 95)
		printf "%s\r\n", s
	}
}' >"$T/chargen.expected"
chargen_hex=$(hex_of "$T/chargen.expected")
[ ${#chargen_hex} -ge 1024 ] || fail "awk cannot build the chargen pattern"

daytime_re='^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 123][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}$'

# Part 1, log_level debug (-d): every datagram has its own log line.
start_daemon "$conf" -d
for a in 127.0.0.1 ::1; do
	for p in 7 9 13 19 37 2007; do
		wait_udp $p $a || fail "nothing bound on udp $a port $p"
	done
done

# expect_line REGEX WHAT: the log has such a line.
expect_line()
{
	wait_log "$1" || fail "$2: no log line matching '$1'"
}

# Peers as the log writes them, as regexes.
peer_re()
{
	case "$1" in
	*:*) echo "\\[$1\\]:$2" ;;
	*) echo "${1//./\\.}:$2" ;;
	esac
}

sp=40000
for a in 127.0.0.1 ::1; do
	# echo: 1000 random bytes come back unchanged, and a short one.
	sp=$((sp + 1))
	head -c 1000 /dev/urandom >"$T/echo.in"
	h=$(hex_of "$T/echo.in")
	udp_client "$a" 7 "$a" $sp 1 "$h" 1 5 >"$T/echo.out" ||
	    fail "udp echo client on $a failed: $(cat "$T/echo.out")"
	[ "$(cat "$T/echo.out")" = "R $h" ] ||
	    fail "udp echo on $a: expected the 1000 bytes back once, got $(wc -l <"$T/echo.out") replies: $(cut -c 1-80 "$T/echo.out")"
	expect_line "service=echo action=accept proto=udp peer=$(peer_re "$a" $sp) bytes_in=1000 bytes_out=1000( |\$)" \
	    "udp echo on $a"

	# discard: no reply, but a log line.
	sp=$((sp + 1))
	udp_client "$a" 9 "$a" $sp 1 6869 1 0.5 >"$T/discard.out" ||
	    fail "udp discard client on $a failed: $(cat "$T/discard.out")"
	[ ! -s "$T/discard.out" ] ||
	    fail "udp discard on $a replied: $(cat "$T/discard.out")"
	expect_line "service=discard action=accept proto=udp peer=$(peer_re "$a" $sp) bytes_in=2 bytes_out=0( |\$)" \
	    "udp discard on $a"

	# daytime: one datagram, a ctime line in local time with CRLF.
	sp=$((sp + 1))
	udp_client "$a" 13 "$a" $sp 1 0a 1 5 >"$T/daytime.out" ||
	    fail "udp daytime client on $a failed: $(cat "$T/daytime.out")"
	now=$(date +%s)
	[ "$(wc -l <"$T/daytime.out")" = 1 ] ||
	    fail "udp daytime on $a: $(wc -l <"$T/daytime.out") replies to one datagram"
	h=$(sed -n 's/^R //p' "$T/daytime.out")
	case "$h" in
	*0d0a) ;;
	*) fail "udp daytime on $a: reply does not end in CRLF: $h" ;;
	esac
	s=$(printf '%s' "${h%0d0a}" | sed 's/../\\x&/g')
	s=$(printf %b "$s")
	[[ $s =~ $daytime_re ]] ||
	    fail "udp daytime on $a: '$s' is not ctime style"
	t=$(date -d "$s" +%s) || fail "date cannot parse daytime '$s'"
	d=$((now - t))
	[ ${d#-} -le 3 ] ||
	    fail "udp daytime on $a: '$s' is ${d}s off the local time '$(date)' (TZ=$TZ)"
	expect_line "service=daytime action=accept proto=udp peer=$(peer_re "$a" $sp) bytes_in=1 bytes_out=26( |\$)" \
	    "udp daytime on $a"

	# time: 4 bytes big-endian, for an empty datagram too.
	for payload in '' 0a; do
		sp=$((sp + 1))
		udp_client "$a" 37 "$a" $sp 1 "$payload" 1 5 >"$T/time.out" ||
		    fail "udp time client on $a failed: $(cat "$T/time.out")"
		now=$(date +%s)
		[ "$(wc -l <"$T/time.out")" = 1 ] ||
		    fail "udp time on $a: $(wc -l <"$T/time.out") replies to a datagram of ${#payload} hex digits (expected 1)"
		h=$(sed -n 's/^R //p' "$T/time.out")
		[ ${#h} = 8 ] ||
		    fail "udp time on $a: reply '$h' is not 4 bytes"
		v=$((16#$h))
		want=$(((now + 2208988800) % 4294967296))
		d=$((want - v))
		[ ${d#-} -le 2 ] ||
		    fail "udp time on $a: $v, expected $want (off by $d s)"
		expect_line "service=time action=accept proto=udp peer=$(peer_re "$a" $sp) bytes_in=$((${#payload} / 2)) bytes_out=4( |\$)" \
		    "udp time on $a"
	done

	# chargen: ten datagrams, ten replies, each a prefix of the
	# pattern of at most 512 bytes, not all of one length.
	sp=$((sp + 1))
	udp_client "$a" 19 "$a" $sp 10 0a 10 5 >"$T/chargen.out" ||
	    fail "udp chargen client on $a failed: $(cat "$T/chargen.out")"
	[ "$(wc -l <"$T/chargen.out")" = 10 ] ||
	    fail "udp chargen on $a: $(wc -l <"$T/chargen.out") replies to 10 datagrams"
	while read -r _ h; do
		[ $((${#h} / 2)) -le 512 ] ||
		    fail "udp chargen on $a: a reply of $((${#h} / 2)) bytes, more than 512"
		[ "${chargen_hex:0:${#h}}" = "$h" ] ||
		    fail "udp chargen on $a: a reply of $((${#h} / 2)) bytes is not a prefix of the RFC 864 pattern: ${h:0:160}..."
	done <"$T/chargen.out"
	[ "$(awk '{ print length($2) }' "$T/chargen.out" | sort -u | wc -l)" -gt 1 ] ||
	    fail "udp chargen on $a: 10 replies all of $(awk '{ print length($2) / 2; exit }' "$T/chargen.out") bytes: the length is not random"
	[ "$(log_count "service=chargen action=accept proto=udp peer=$(peer_re "$a" $sp) bytes_in=1 bytes_out=[0-9]+")" = 10 ] ||
	    fail "udp chargen on $a: not 10 accept lines for $(addr_port "$a" $sp)"
done

# Sources that must get no reply: every reflecting port, and ports
# below 1024.  IPv4 from 127.0.0.9, so that the daemon's own sockets on
# 127.0.0.1 are not in the way; IPv6 only from ports the test does not
# bind for the daemon.  The clients run at once, each waiting 0.5s for
# a reply; the refuse line in the log is the proof that none was sent.
bad_cases="127.0.0.1 127.0.0.9 echo 7 7,13,19,37,53,123,161,1900,11211,1,1000,1023
127.0.0.1 127.0.0.9 chargen 19 19,7
127.0.0.1 127.0.0.9 daytime 13 7,13
::1 ::1 echo 7 53,123,161,1900,11211,1000
::1 ::1 time 37 123,1023"
bad_pids=()
while read -r a src svc dport ports; do
	for port in ${ports//,/ }; do
		out=$T/bad.$svc.$a.$port
		udp_client "$a" "$dport" "$src" "$port" 1 0a 1 0.5 >"$out" 2>&1 &
		bad_pids+=($!)
	done
done <<<"$bad_cases"
for p in "${bad_pids[@]}"; do
	wait "$p" || fail "a udp client of the badsrc checks failed: $(cat "$T"/bad.*)"
done
while read -r a src svc dport ports; do
	for port in ${ports//,/ }; do
		out=$T/bad.$svc.$a.$port
		[ ! -s "$out" ] ||
		    fail "udp $svc on $a answered a datagram from source port $port: $(cat "$out")"
		expect_line "service=$svc action=refuse proto=udp peer=$(peer_re "$src" "$port") reason=badsrc( |\$)" \
		    "udp $svc on $a, source $(addr_port "$src" "$port")"
	done
done <<<"$bad_cases"
# 1024 is the first port a client may use.
udp_client 127.0.0.1 7 127.0.0.9 1024 1 0a 1 5 >"$T/ok.out" ||
    fail "udp client from 127.0.0.9:1024 failed"
[ "$(cat "$T/ok.out")" = "R 0a" ] ||
    fail "udp echo did not answer source port 1024: '$(cat "$T/ok.out")'"

# udp_reply_rate 10/1s: 50 datagrams at once from 127.0.0.2 get about
# 10 replies (the bucket starts full and refills during the burst), and
# 127.0.0.3 is still answered right after.
flood()
{
	local n

	udp_client 127.0.0.1 2007 127.0.0.2 "$1" 50 666c6f6f64 50 1 \
	    >"$T/flood.out" || fail "flood client failed: $(cat "$T/flood.out")"
	n=$(wc -l <"$T/flood.out")
	[ "$n" -ge 10 ] && [ "$n" -le 12 ] ||
	    fail "50 datagrams from 127.0.0.2 to echorate (udp_reply_rate 10/1s) got $n replies, expected 10 to 12"
	udp_client 127.0.0.1 2007 127.0.0.3 "$1" 1 6f74686572 1 5 \
	    >"$T/other.out" || fail "client on 127.0.0.3 failed"
	[ "$(cat "$T/other.out")" = "R 6f74686572" ] ||
	    fail "127.0.0.3 got no answer from echorate right after the flood from 127.0.0.2: '$(cat "$T/other.out")'"
	echo "$n"
}
n=$(flood 40100) || exit $?
p=$(peer_re 127.0.0.2 40100)
expect_line "service=echorate action=refuse proto=udp peer=$p reason=rate( |\$)" \
    "the flood"
acc=$(log_count "service=echorate action=accept proto=udp peer=$p ")
ref=$(log_count "service=echorate action=refuse proto=udp peer=$p reason=rate")
[ "$acc" = "$n" ] && [ "$ref" = $((50 - n)) ] ||
    fail "the flood got $n replies; at debug the log has $acc accept and $ref refuse reason=rate lines for $p, expected $n and $((50 - n))"
stop_daemon
[ "$DAEMON_RC" = 0 ] || fail "portmuxd exited $DAEMON_RC on SIGTERM"

# Part 2, log_level info: one line per source and second.  The same
# flood logs one line for 127.0.0.2; one second later the next datagram
# logs a line with repeat=49, the 49 datagrams not logged at info.
LOG=$T/daemon-info.log
: >"$LOG"
start_daemon "$conf"
wait_udp 2007 127.0.0.1 || fail "nothing bound on udp 127.0.0.1 port 2007"
n=$(flood 40200) || exit $?
p=$(peer_re 127.0.0.2 40200)
wait_log "service=echorate action=accept proto=udp peer=$p bytes_in=5 bytes_out=5( |\$)" ||
    fail "at info, no accept line for the first datagram from 127.0.0.2:40200"
wait_log "service=echorate action=accept proto=udp peer=$(peer_re 127.0.0.3 40200) " ||
    fail "at info, no accept line for 127.0.0.3:40200"
c=$(log_count "peer=$p ")
[ "$c" = 1 ] ||
    fail "at info, 50 datagrams from 127.0.0.2 within a second gave $c log lines, expected 1"
# The next info line of that source is due a second after the first;
# the bucket has refilled by then, so the datagram is answered.
sleep 1.2
udp_client 127.0.0.1 2007 127.0.0.2 40200 1 6c61746572 1 5 >"$T/later.out" ||
    fail "client on 127.0.0.2 failed"
[ "$(cat "$T/later.out")" = "R 6c61746572" ] ||
    fail "127.0.0.2 got no answer 1.2s after its flood: '$(cat "$T/later.out")'"
wait_log "service=echorate action=accept proto=udp peer=$p bytes_in=5 bytes_out=5 repeat=49( |\$)" ||
    fail "at info, no 'action=accept proto=udp peer=127.0.0.2:40200 bytes_in=5 bytes_out=5 repeat=49' line a second after the flood"

ok
