#!/bin/bash
# IPv4 and IPv6 side by side (DESIGN.md "Keys and defaults", "Logging",
# "Builtins"): 127.0.0.1 and ::1 on one port are two sockets of one
# service, each client seen with its own address; by default a service
# binds both 0.0.0.0 and :: (v6only = true).  With v6only = false a
# single :: socket takes IPv4 clients too, and they arrive as mapped
# addresses (::ffff:127.0.0.1): portmuxd must show and export them as
# plain IPv4, in the log and in TCPREMOTEIP/TCPLOCALIP/REMOTE_HOST, or
# every ACL, log grep and program comparing addresses sees a form nobody
# configured.  The UDP builtins normalise a mapped source before the
# reflection check, so an IPv4 datagram from port 19 is still dropped.
. "$(dirname "$0")/lib.sh"

need_cmd perl

rep=$(reporter) || exit $?
conf=$T/dualstack.conf
cat >"$conf" <<EOF
stop_grace = 2s

service rep46 {
  protocol = tcp
  address  = {127.0.0.1, ::1}
  port     = 2200
  server   = $rep
}

service repmapped {
  protocol = tcp
  address  = {::}
  v6only   = false
  port     = 2201
  server   = $rep
}

# v6only = false without an address: :: alone.
service echomapped {
  protocol = tcp
  v6only   = false
  port     = 2202
  builtin  = echo
}

# The default address: 0.0.0.0 and ::, two sockets.
service echoboth {
  protocol = tcp
  port     = 2203
  builtin  = echo
}

service udpmapped {
  protocol = udp
  v6only   = false
  port     = 2207
  builtin  = echo
}
EOF
start_daemon "$conf" -d
for p in 2200 2201 2202 2203; do
	wait_listen $p || fail "nothing listens on port $p"
done

# The sockets, as ss shows them: a dual-stack :: socket is "*".
socks()
{
	ss -"$1"lnH "( sport = :$2 )" | awk '{ print $4 }' | sort | paste -sd ' ' -
}
s=$(socks t 2200)
[ "$s" = "127.0.0.1:2200 [::1]:2200" ] ||
    fail "rep46 (address {127.0.0.1, ::1}) listens on '$s'"
s=$(socks t 2201)
[ "$s" = "*:2201" ] ||
    fail "repmapped (address ::, v6only = false) listens on '$s', expected one dual-stack socket '*:2201'"
s=$(socks t 2202)
[ "$s" = "*:2202" ] ||
    fail "echomapped (no address, v6only = false) listens on '$s', expected :: alone, '*:2202'"
s=$(socks t 2203)
[ "$s" = "0.0.0.0:2203 [::]:2203" ] ||
    fail "echoboth (default address) listens on '$s', expected '0.0.0.0:2203 [::]:2203'"
s=$(socks u 2207)
[ "$s" = "*:2207" ] ||
    fail "udpmapped (udp, v6only = false) is bound on '$s', expected '*:2207'"

sp=41000

# rep ADDR PORT SERVICE EXPECTED_IP: the reporter sees the client, and
# the accept line names it, as EXPECTED_IP.
rep()
{
	local a=$1 port=$2 svc=$3 ip=$4 out v id

	sp=$((sp + 1))
	out=$T/rep.$sp
	printf 'ping %s\n' $sp |
	    timeout 10 socat -t5 - "$(socat_tcp "$a" "$port" $sp)" >"$out" ||
	    fail "client of $svc on $a failed"
	grep -qx "got ping $sp" "$out" ||
	    fail "$svc from $a: the line did not come back: $(cat "$out")"
	for v in "TCPREMOTEIP=$ip" "TCPREMOTEPORT=$sp" "TCPLOCALIP=$ip" \
	    "TCPLOCALPORT=$port" "REMOTE_HOST=$ip"; do
		grep -qx "env $v" "$out" ||
		    fail "$svc, client $a: expected $v, the environment has: $(grep -E '^env (TCP|REMOTE)' "$out" | tr '\n' ' ')"
	done
	grep -Fq " service=$svc action=accept proto=tcp peer=$(addr_port "$ip" $sp) local=$(addr_port "$ip" "$port")" "$LOG" ||
	    fail "$svc, client $a: no 'service=$svc action=accept proto=tcp peer=$(addr_port "$ip" $sp) local=$(addr_port "$ip" "$port")' line"
	id=$(conn_of "$(addr_port "$ip" $sp)")
	wait_log "^conn=$id service=$svc action=exit pid=[0-9]+ status=0 " ||
	    fail "no 'conn=$id service=$svc action=exit ... status=0' line"
}

rep 127.0.0.1 2200 rep46 127.0.0.1
rep ::1 2200 rep46 ::1
rep 127.0.0.1 2201 repmapped 127.0.0.1
rep ::1 2201 repmapped ::1
grep -q 'ffff' "$LOG" && fail "a mapped address (::ffff:) in the log: $(grep ffff "$LOG")"

# echo ADDR PORT SERVICE EXPECTED_IP
echo_ok()
{
	local a=$1 port=$2 svc=$3 ip=$4 got

	sp=$((sp + 1))
	got=$(printf 'dual %s\n' $sp |
	    timeout 10 socat -t5 - "$(socat_tcp "$a" "$port" $sp)") ||
	    fail "client of $svc on $a failed"
	[ "$got" = "dual $sp" ] || fail "$svc from $a returned '$got'"
	grep -Fq " service=$svc action=accept proto=tcp peer=$(addr_port "$ip" $sp) local=$(addr_port "$ip" "$port")" "$LOG" ||
	    fail "$svc, client $a: no 'service=$svc action=accept proto=tcp peer=$(addr_port "$ip" $sp) local=$(addr_port "$ip" "$port")' line"
}
echo_ok 127.0.0.1 2202 echomapped 127.0.0.1
echo_ok ::1 2202 echomapped ::1
echo_ok 127.0.0.1 2203 echoboth 127.0.0.1
echo_ok ::1 2203 echoboth ::1

# UDP on a dual-stack socket: the reply goes back to the IPv4 client,
# the log shows it as IPv4, and a mapped source port 19 is dropped.
cat >"$T/udpc.pl" <<'EOF'
use strict;
use warnings;
use IO::Socket::IP;
use IO::Select;

my ($dst, $dport, $sport, $data, $wait) = @ARGV;
my $s = IO::Socket::IP->new(Proto => 'udp', PeerHost => $dst,
    PeerPort => $dport, LocalHost => $dst, LocalPort => $sport,
    ReuseAddr => 1) or die "udp client: socket: $@\n";
defined($s->send($data)) or die "udp client: send: $!\n";
exit 0 unless IO::Select->new($s)->can_read($wait);
defined($s->recv(my $buf, 65536)) or die "udp client: recv: $!\n";
print $buf;
EOF
got=$(timeout 10 perl "$T/udpc.pl" 127.0.0.1 2207 42001 mapped 5) ||
    fail "udp client from 127.0.0.1:42001 failed: $got"
[ "$got" = mapped ] ||
    fail "udp echo on a dual-stack socket did not answer 127.0.0.1:42001: '$got'"
wait_log "service=udpmapped action=accept proto=udp peer=127\\.0\\.0\\.1:42001 bytes_in=6 bytes_out=6( |\$)" ||
    fail "no 'service=udpmapped action=accept proto=udp peer=127.0.0.1:42001 bytes_in=6 bytes_out=6' line"
got=$(timeout 10 perl "$T/udpc.pl" ::1 2207 42002 six 5) ||
    fail "udp client from [::1]:42002 failed: $got"
[ "$got" = six ] || fail "udp echo on a dual-stack socket did not answer [::1]:42002"
got=$(timeout 10 perl "$T/udpc.pl" 127.0.0.1 2207 19 reflect 0.5) ||
    fail "udp client from 127.0.0.1:19 failed: $got"
[ -z "$got" ] ||
    fail "udp echo on a dual-stack socket answered 127.0.0.1:19 (a mapped source port 19): '$got'"
wait_log "service=udpmapped action=refuse proto=udp peer=127\\.0\\.0\\.1:19 reason=badsrc( |\$)" ||
    fail "no 'service=udpmapped action=refuse proto=udp peer=127.0.0.1:19 reason=badsrc' line"
grep -q 'ffff' "$LOG" && fail "a mapped address (::ffff:) in the log: $(grep ffff "$LOG")"

ok
