#!/bin/bash
# Two UDP builtins of this daemon cannot be made to answer each other
# (portmux.conf(5) "UDP services"): a datagram to echo on 21007 whose
# spoofed source is 127.0.0.1:21013, where daytime listens, would make
# echo answer daytime, daytime answer echo, and so on for ever, the
# reply rate being the only brake.  The fixed list of bad source ports
# cannot know the ports a configuration chose, so a datagram from any
# local address (loopback, or an address of one of the host's
# interfaces) and a port where this daemon serves a UDP builtin gets no
# reply and is logged reason=badsrc.  Checked with hping3 spoofing the
# source on loopback (another builtin, echo's own port, a non-loopback
# address of the host), and with a real IPv6 socket bound to [::1]:21013.
# A client on a local address and any other port is still answered.
# The test runs in its own network namespace (run.sh), so the spoofed
# packets and the added address never leave it.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd hping3 ip perl

# An address of the host outside 127/8, as an interface's would be (on
# lo: kernels without the dummy module exist).
ip addr add 192.0.2.1/32 dev lo || fail "ip addr add 192.0.2.1/32 dev lo"

conf=$T/udploop.conf
cat >"$conf" <<EOF
stop_grace = 1s

defaults {
  protocol = udp
  udp_reply_rate = 1000/1s
}
service echo {
  address = {0.0.0.0, ::1}
  port    = 21007
  builtin = echo
}
service daytime {
  address = {0.0.0.0}
  port    = 21013
  builtin = daytime
}
EOF

# udp_client SRC SPORT DST DPORT WAIT: send "ping" from SRC:SPORT (0: the
# kernel chooses) and print the reply, if one comes within WAIT seconds.
cat >"$T/udpc.pl" <<'EOF'
use strict;
use warnings;
use IO::Socket::IP;
use IO::Select;
use Socket qw(AI_NUMERICHOST);

my ($src, $sport, $dst, $dport, $wait) = @ARGV;
my $s = IO::Socket::IP->new(Proto => 'udp', LocalHost => $src,
    LocalPort => $sport, PeerHost => $dst, PeerPort => $dport,
    # Not AI_ADDRCONFIG: with 192.0.2.1 the only address that is not
    # loopback, glibc would refuse ::1.
    GetAddrInfoFlags => AI_NUMERICHOST)
    or die "udp client: socket: $@\n";
defined($s->send("ping")) or die "udp client: send: $!\n";
exit 0 unless IO::Select->new($s)->can_read($wait);
my $buf;
defined($s->recv($buf, 65536)) or die "udp client: recv: $!\n";
print "$buf\n";
EOF
udp_client()
{
	timeout 20 perl "$T/udpc.pl" "$@"
}

# spoof SRC SPORT DPORT: one 5-byte datagram to 127.0.0.1:DPORT that
# claims to come from SRC:SPORT.  hping3 fails when no answer came,
# which is the point here: what counts is that it sent the datagram.
spoof()
{
	timeout 10 hping3 -2 -I lo -a "$1" -s "$2" -k -p "$3" -c 1 -d 5 \
	    127.0.0.1 >"$T/hping.out" 2>&1
	grep -q '^1 packets transmitted' "$T/hping.out" ||
	    { cat "$T/hping.out" >&2; fail "hping3 from $1:$2 to $3"; }
}

# Debug level: every refusal is logged, though all come from 127.0.0.1.
start_daemon "$conf" -d
# wait_udp PORT: until a UDP socket is bound on PORT (ss), at most 5s.
wait_udp()
{
	for _ in $(seq 1 50); do
		[ -n "$(ss -lunH "( sport = :$1 )" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	return 1
}
for p in 21007 21013; do
	wait_udp $p || fail "nothing listens on UDP port $p"
done

# A client on a local address and another port is a client.
got=$(udp_client 127.0.0.1 0 127.0.0.1 21007 5)
[ "$got" = ping ] || fail "echo did not answer 127.0.0.1: '$got'"
got=$(udp_client 192.0.2.1 0 192.0.2.1 21007 5)
[ "$got" = ping ] || fail "echo did not answer 192.0.2.1: '$got'"

# check SRC SPORT: echo refused the datagram from SRC:SPORT.
check()
{
	local re="service=echo .*action=refuse proto=udp peer=$1:$2 "

	wait_log "${re}reason=badsrc" 5 ||
	    fail "echo did not refuse $1:$2 as badsrc" \
	    "($(log_count "service=echo .*action=accept proto=udp peer=$1:$2 ")" \
	    "replies to it)"
}

spoof 127.0.0.1 21013 21007		# echo -> daytime -> echo ...
check 127.0.0.1 21013
spoof 127.0.0.1 21007 21007		# echo -> echo -> echo ...
check 127.0.0.1 21007
spoof 192.0.2.1 21013 21007		# via the host's 192.0.2.1
check 192.0.2.1 21013
# A real socket on [::1]:21013 (daytime listens on IPv4 only).
got=$(udp_client ::1 21013 ::1 21007 2)
[ -z "$got" ] || fail "echo answered [::1]:21013: '$got'"
check '\[::1\]' 21013

# The loop never started: daytime never got a datagram from echo.
n=$(log_count "service=daytime .*action=accept")
[ "$n" = 0 ] || fail "daytime answered $n datagrams: echo and daytime looped"
n=$(log_count "service=echo .*action=accept proto=udp peer=(127\.0\.0\.1|192\.0\.2\.1|\[::1\]):210(07|13) ")
[ "$n" = 0 ] || fail "echo answered $n datagrams from builtin ports"

# And echo still answers everyone else.
got=$(udp_client ::1 0 ::1 21007 5)
[ "$got" = ping ] || fail "echo did not answer [::1] afterwards: '$got'"

stop_daemon
ok
