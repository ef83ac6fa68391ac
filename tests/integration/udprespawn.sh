#!/bin/bash
# A UDP wait program that exits without reading the datagram that woke
# it (or cannot be started) leaves that datagram queued: re-armed at
# once, the socket is readable again and the program is started again,
# for ever; one spoofable datagram gave 1,254 spawns in 3 s.  Like a TCP
# wait program that does not accept, such a program is started again
# only after a delay that doubles from 50 ms up to 5 s
# (portmux.conf(5) "Wait services"), and the series starts with one
# warning, not one per attempt.  A program that reads its datagram and
# exits, one program per datagram as tftpd does under load, must get no
# delay: a burst of datagrams from many sources, and several from one
# source, are all answered at once, with no pause logged.
. "$(dirname "$0")/lib.sh"

need_cmd perl

# The replying program: one datagram, answered with its payload, then exit.
cat >"$T/once.pl" <<'EOF'
use strict;
use warnings;

alarm 10;
open(my $s, '+<&=', 0) or die "fd 0: $!\n";
my $from = recv($s, my $buf, 65536, 0);
defined($from) or die "recv: $!\n";
defined(send($s, "re:$buf", 0, $from)) or die "send: $!\n";
EOF
chmod 644 "$T/once.pl"

# burst PORT NSOCK PERSOCK WAIT: NSOCK sockets each send PERSOCK distinct
# datagrams to 127.0.0.1:PORT at once; prints how many replies came back
# within WAIT seconds and how long that took.
cat >"$T/burst.pl" <<'EOF'
use strict;
use warnings;
use IO::Socket::IP;
use IO::Select;
use Time::HiRes qw(time);

my ($port, $nsock, $per, $wait) = @ARGV;
my $sel = IO::Select->new;
my %want;
my $t0 = time;
for my $i (1 .. $nsock) {
	my $s = IO::Socket::IP->new(Proto => 'udp', PeerHost => '127.0.0.1',
	    PeerPort => $port, LocalHost => '127.0.0.1')
	    or die "socket: $@\n";
	$sel->add($s);
	for my $j (1 .. $per) {
		my $d = "s$i-d$j";
		defined($s->send($d)) or die "send: $!\n";
		$want{"re:$d"} = 1;
	}
}
my $got = 0;
while ($got < $nsock * $per) {
	my $left = $t0 + $wait - time;
	last if $left <= 0;
	for my $s ($sel->can_read($left)) {
		defined($s->recv(my $buf, 65536)) or next;
		$got++ if delete $want{$buf};
	}
}
printf "answered=%d ms=%d\n", $got, (time - $t0) * 1000;
EOF

conf=$T/udprespawn.conf
cat >"$conf" <<EOF
stop_grace = 1s

service deaf {
  protocol = udp
  address  = {127.0.0.1}
  port     = 2071
  server   = /bin/true
  wait     = true
}

service once {
  protocol = udp
  address  = {127.0.0.1}
  port     = 2072
  server   = /usr/bin/perl
  args     = {perl, $T/once.pl}
  wait     = true
}
EOF
start_daemon "$conf"
for _ in $(seq 1 50); do
	[ -n "$(ss -lunH '( sport = :2071 )')" ] &&
	    [ -n "$(ss -lunH '( sport = :2072 )')" ] && break
	sleep 0.1
done

# --- One datagram that nobody reads ---
perl -MIO::Socket::IP -e 'IO::Socket::IP->new(Proto => "udp",
    PeerHost => "127.0.0.1", PeerPort => 2071)->send("x") or die' ||
    fail "sending the datagram to deaf"
wait_log '^conn=[0-9]+ service=deaf action=spawn ' 5 ||
    fail "the datagram to deaf started no program"
# It is still started again, later and later: count over 3 s from the
# first spawn, giving up at once on a loop.
for _ in $(seq 1 60); do
	[ "$(log_count '^conn=[0-9]+ service=deaf action=spawn ')" -gt 8 ] &&
	    break
	sleep 0.05
done
n=$(log_count '^conn=[0-9]+ service=deaf action=spawn ')
say "$n spawns of deaf for one datagram in about 3s"
[ "$n" -le 8 ] ||
    fail "one datagram nobody reads started deaf $n times in about 3s: a respawn loop"
[ "$n" -ge 2 ] ||
    fail "deaf was not started again for the datagram still queued ($n spawns)"
c=$(log_count '^service=deaf action=pause reason=overload msg="the program exited within a second and left its datagram pending" retry_ms=50$')
[ "$c" = 1 ] ||
    fail "$c 'service=deaf action=pause reason=overload msg=\"the program exited within a second and left its datagram pending\" retry_ms=50' lines, expected 1"
c=$(log_count '^service=deaf action=pause ')
[ "$c" = 1 ] || fail "$c pause lines for deaf at level info, expected one per series"

# --- Programs that read their datagram: no delay ---
out=$(timeout 30 perl "$T/burst.pl" 2072 20 1 10) || fail "burst client: $out"
say "20 sources: $out"
[ "${out%% *}" = answered=20 ] ||
    fail "of 20 datagrams from 20 sources to once, only ${out%% *} were answered within 10s"
out=$(timeout 30 perl "$T/burst.pl" 2072 1 5 10) || fail "burst client: $out"
say "1 source, 5 datagrams: $out"
[ "${out%% *}" = answered=5 ] ||
    fail "of 5 datagrams from one source to once, only ${out%% *} were answered within 10s"
c=$(log_count '^conn=[0-9]+ service=once action=spawn ')
[ "$c" = 25 ] || fail "25 datagrams to once started $c programs, expected 25"
log_count '^service=once action=pause' >/dev/null &&
    fail "once was paused though each program read its datagram: $(grep '^service=once action=pause' "$LOG" | head -n 3)"

proc_alive "$MONPID" || fail "the monitor died"
stop_daemon
ok
