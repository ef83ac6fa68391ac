#!/bin/bash
# Wait services (DESIGN.md "Child processes"): with wait = true the
# program gets the listening socket itself as stdin/stdout and the engine
# stops watching it until the program exits, then re-arms it.  That is
# how inetd runs tftpd, syslog receivers and self-accepting servers; an
# engine that kept watching would steal datagrams or connections from
# the program, or spawn a second one.  A UDP wait program must find the
# datagram that woke it still queued (the engine only peeks at its
# source) and gets UDPREMOTEIP/UDPREMOTEPORT of that datagram, plus
# UDPLOCALIP/UDPLOCALPORT and PROTO=UDP.  A TCP wait program accepts by
# itself, so no TCPREMOTE* can be exported.  A stop of portmuxd ends a
# running wait program, which frees its port.  The programs are small perl scripts (perl-base is Essential
# on Debian): each handles two clients, then exits.
. "$(dirname "$0")/lib.sh"

need_cmd perl

# The UDP wait program: answers two datagrams, each with its count, pid,
# payload, source and the environment, then exits.
cat >"$T/udpwait.pl" <<'EOF'
use strict;
use warnings;
use Socket qw(:all);

alarm 30;
open(my $s, '+<&=', 0) or die "fd 0: $!\n";
my $type = unpack('i', getsockopt($s, SOL_SOCKET, SO_TYPE));
for my $n (1 .. 2) {
	my $from = recv($s, my $buf, 65536, 0);
	defined($from) or die "recv: $!\n";
	my ($err, $host, $port) = getnameinfo($from,
	    NI_NUMERICHOST | NI_NUMERICSERV);
	my $msg = "n=$n pid=$$ dgram=" . ($type == SOCK_DGRAM ? 1 : 0) .
	    " got=$buf from=$host/$port\n";
	$msg .= "env $_=$ENV{$_}\n" for sort keys %ENV;
	defined(send($s, $msg, 0, $from)) or die "send: $!\n";
}
EOF

# The TCP wait program: accepts two connections on its listening fd 0,
# tells each client its count, pid, peer and the environment, then exits.
cat >"$T/tcpwait.pl" <<'EOF'
use strict;
use warnings;
use Socket qw(:all);

alarm 30;
open(my $l, '+<&=', 0) or die "fd 0: $!\n";
my $acc = unpack('i', getsockopt($l, SOL_SOCKET, SO_ACCEPTCONN));
for my $n (1 .. 2) {
	my $paddr = accept(my $c, $l) or die "accept: $!\n";
	my ($err, $host, $port) = getnameinfo($paddr,
	    NI_NUMERICHOST | NI_NUMERICSERV);
	select((select($c), $| = 1)[0]);
	print $c "n=$n pid=$$ listening=$acc peer=$host/$port\n";
	print $c "env $_=$ENV{$_}\n" for sort keys %ENV;
	close($c);
}
EOF
chmod 644 "$T/udpwait.pl" "$T/tcpwait.pl"

# udp_client DST PORT SPORT PAYLOAD: one datagram from DST's family
# loopback at SPORT; prints the reply (at most 5s).
cat >"$T/udpc.pl" <<'EOF'
use strict;
use warnings;
use IO::Socket::IP;
use IO::Select;

my ($dst, $dport, $sport, $data) = @ARGV;
my $s = IO::Socket::IP->new(Proto => 'udp', PeerHost => $dst,
    PeerPort => $dport, LocalHost => $dst, LocalPort => $sport,
    ReuseAddr => 1) or die "udp client: socket: $@\n";
defined($s->send($data)) or die "udp client: send: $!\n";
IO::Select->new($s)->can_read(5) or die "udp client: no reply in 5s\n";
defined($s->recv(my $buf, 65536)) or die "udp client: recv: $!\n";
print $buf;
EOF

conf=$T/wait.conf
cat >"$conf" <<EOF
stop_grace = 2s

service uwait {
  protocol = udp
  address  = {127.0.0.1, ::1}
  port     = 2069
  server   = /usr/bin/perl
  args     = {perl, $T/udpwait.pl}
  wait     = true
}

service twait {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2070
  server   = /usr/bin/perl
  args     = {perl, $T/tcpwait.pl}
  wait     = true
}
EOF
start_daemon "$conf"
wait_listen 2070 127.0.0.1 || fail "nothing listens on port 2070"

# reply_field OUT KEY: the value of KEY=... on the first line of OUT.
reply_field()
{
	head -n 1 "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# udp ADDR SPORT PAYLOAD OUT
udp()
{
	timeout 10 perl "$T/udpc.pl" "$1" 2069 "$2" "$3" >"$4" 2>&1 ||
	    fail "udp client $(addr_port "$1" "$2") to the wait service: $(cat "$4")"
}

# has OUT LINE WHAT
has()
{
	grep -qxF -- "$2" "$1" ||
	    fail "$3: no line '$2' in: $(tr '\n' '|' <"$1")"
}

# exited PID SERVICE: the log has the exit line of that program.
exited()
{
	wait_log "^conn=[0-9]+ service=$2 action=exit pid=$1 status=0 " ||
	    fail "no 'service=$2 action=exit pid=$1 status=0' line"
}

# --- UDP ---
udp 127.0.0.1 40001 first "$T/u1"
has "$T/u1" "n=1 pid=$(reply_field "$T/u1" pid) dgram=1 got=first from=127.0.0.1/40001" \
    "the first datagram must reach the program, not be consumed by portmuxd"
upid=$(reply_field "$T/u1" pid)
for v in PROTO=UDP UDPREMOTEIP=127.0.0.1 UDPREMOTEPORT=40001 \
    UDPLOCALIP=127.0.0.1 UDPLOCALPORT=2069 PORTMUX_SERVICE=uwait; do
	has "$T/u1" "env $v" "environment of the UDP wait program"
done
grep -Eq '^env TCP' "$T/u1" && fail "TCP variables in a UDP program's environment"

# The second datagram goes to the same program; its environment is
# still that of the datagram that woke it.
udp 127.0.0.1 40002 second "$T/u2"
has "$T/u2" "n=2 pid=$upid dgram=1 got=second from=127.0.0.1/40002" \
    "the second datagram must reach the running program $upid"
has "$T/u2" "env UDPREMOTEPORT=40001" "environment of the running program"
exited "$upid" uwait
c=$(log_count 'service=uwait action=spawn ')
[ "$c" = 1 ] || fail "2 datagrams for one running wait program gave $c spawns"
c=$(log_count "service=uwait action=accept proto=udp peer=127\\.0\\.0\\.1:40001 local=127\\.0\\.0\\.1:2069 wait=1( |\$)")
[ "$c" = 1 ] ||
    fail "$c 'service=uwait action=accept proto=udp peer=127.0.0.1:40001 local=127.0.0.1:2069 wait=1' lines, expected 1"
log_count 'peer=127\.0\.0\.1:40002' >/dev/null &&
    fail "portmuxd logged the datagram from 127.0.0.1:40002, which it must not have seen: $(grep 'peer=127\.0\.0\.1:40002' "$LOG")"

# Re-armed after the exit: a new program, over IPv6 this time.
udp ::1 40003 third "$T/u3"
upid2=$(reply_field "$T/u3" pid)
[ -n "$upid2" ] && [ "$upid2" != "$upid" ] ||
    fail "after the program $upid exited, the next datagram was answered by pid '$upid2'"
has "$T/u3" "n=1 pid=$upid2 dgram=1 got=third from=::1/40003" \
    "the first datagram of the second program"
for v in UDPREMOTEIP=::1 UDPREMOTEPORT=40003 UDPLOCALIP=::1 \
    UDPLOCALPORT=2069; do
	has "$T/u3" "env $v" "environment of the UDP wait program on ::1"
done
wait_log "service=uwait action=accept proto=udp peer=\\[::1\\]:40003 local=\\[::1\\]:2069 wait=1( |\$)" ||
    fail "no 'service=uwait action=accept proto=udp peer=[::1]:40003 local=[::1]:2069 wait=1' line"
udp ::1 40004 fourth "$T/u4"
has "$T/u4" "n=2 pid=$upid2 dgram=1 got=fourth from=::1/40004" \
    "the second datagram of the second program"
exited "$upid2" uwait

# --- TCP ---
# tcp SPORT OUT: one connection, all the program writes.
tcp()
{
	timeout 10 socat -u "$(socat_tcp 127.0.0.1 2070 "$1")" - >"$2" \
	    2>"$2.err" || fail "tcp client from port $1 failed: $(cat "$2.err")"
	[ -s "$2" ] || fail "tcp client from port $1 got nothing"
}

tcp 41001 "$T/t1"
tpid=$(reply_field "$T/t1" pid)
has "$T/t1" "n=1 pid=$tpid listening=1 peer=127.0.0.1/41001" \
    "the TCP wait program must get the listening socket and accept the client itself"
has "$T/t1" "env PROTO=TCP" "environment of the TCP wait program"
has "$T/t1" "env PORTMUX_SERVICE=twait" "environment of the TCP wait program"
grep -Eq '^env (TCPREMOTE|REMOTE_HOST)' "$T/t1" &&
    fail "a TCP wait program got a remote address, which nobody knows before it accepts: $(grep -E '^env (TCPREMOTE|REMOTE_HOST)' "$T/t1")"
tcp 41002 "$T/t2"
has "$T/t2" "n=2 pid=$tpid listening=1 peer=127.0.0.1/41002" \
    "the second connection must reach the running program $tpid"
exited "$tpid" twait
c=$(log_count 'service=twait action=spawn ')
[ "$c" = 1 ] || fail "2 connections for one running TCP wait program gave $c spawns"
# No peer is known before the program accepts.
c=$(log_count "service=twait action=accept proto=tcp peer=unknown local=127\\.0\\.0\\.1:2070 wait=1( |\$)")
[ "$c" = 1 ] ||
    fail "$c 'service=twait action=accept proto=tcp peer=unknown local=127.0.0.1:2070 wait=1' lines, expected 1"

tcp 41003 "$T/t3"
tpid2=$(reply_field "$T/t3" pid)
[ -n "$tpid2" ] && [ "$tpid2" != "$tpid" ] ||
    fail "after the program $tpid exited, the next connection was served by pid '$tpid2'"
wait_log "^conn=[0-9]+ service=twait action=spawn pid=$tpid2 " ||
    fail "no spawn line for the second TCP wait program $tpid2"

# Stop portmuxd while tpid2 runs: the stop ends it (TERM), so that the
# port is free for the next start (waitstop.sh tests KILL and tftpd).
stop_daemon
[ "$DAEMON_RC" = 0 ] || fail "portmuxd exited $DAEMON_RC on SIGTERM"
proc_alive "$tpid2" &&
    fail "the TCP wait program $tpid2 still runs after the stop of portmuxd"
grep -Eq "^conn=[0-9]+ service=twait action=exit pid=$tpid2 signal=15 " "$LOG" ||
    fail "the exit of the TCP wait program $tpid2 on SIGTERM is not logged"
listening 2070 127.0.0.1 &&
    fail "port 2070 is still bound after the stop"

ok
