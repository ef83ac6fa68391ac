#!/bin/bash
# The engine out of descriptors around a UDP wait service, its limit
# lowered from outside (prlimit --pid) so that no new descriptor can be
# had, with the service's socket readable:
#
# 1. The handover needs a duplicate of the listener.  A failed dup used
#    to leave the socket watched and readable: a busy loop, 425k log
#    lines in 2 s.  The listener is paused instead and retried from a
#    timer, with one warning per pause (reason=overload, msg="dup: ...",
#    retry_ms), and once descriptors are free again the queued datagram
#    is handed over and answered, with a resume line.
# 2. The monitor answers a spawn with the child's stderr pipe; with the
#    engine's table full the kernel drops that descriptor (MSG_CTRUNC),
#    which the engine took for "monitor gone": it exited 71.  It must go
#    on, the child tracked (its exit logged, the listener re-armed) and
#    only its stderr unread, with a warning.  The monitor is stopped
#    (SIGSTOP) while the engine hands the datagram over, so that the
#    limit is lowered after the dup was sent and before the answer.
# In both cases the engine stays the same process and the service
# answers afterwards, its program's stderr logged again.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd perl prlimit setpriv

# One datagram, answered with its payload and the pid; a line on stderr.
cat >"$T/once.pl" <<'EOF'
use strict;
use warnings;

alarm 20;
open(my $s, '+<&=', 0) or die "fd 0: $!\n";
my $from = recv($s, my $buf, 65536, 0);
defined($from) or die "recv: $!\n";
print STDERR "served $buf\n";
defined(send($s, "re:$buf pid=$$", 0, $from)) or die "send: $!\n";
EOF
chmod 644 "$T/once.pl"

# udpc PAYLOAD WAIT OUT: one datagram to the service, the reply (within
# WAIT seconds) to OUT, in the background; UDPC is its pid.
cat >"$T/udpc.pl" <<'EOF'
use strict;
use warnings;
use IO::Socket::IP;
use IO::Select;

my ($data, $wait) = @ARGV;
my $s = IO::Socket::IP->new(Proto => 'udp', PeerHost => '127.0.0.1',
    PeerPort => 2073) or die "udp client: socket: $@\n";
defined($s->send($data)) or die "udp client: send: $!\n";
IO::Select->new($s)->can_read($wait) or die "udp client: no reply\n";
defined($s->recv(my $buf, 65536)) or die "udp client: recv: $!\n";
print "$buf\n";
EOF
udpc()
{
	timeout 60 perl "$T/udpc.pl" "$1" "$2" >"$3" 2>&1 &
	UDPC=$!
	PIDS+=("$UDPC")
}

conf=$T/waitfd.conf
cat >"$conf" <<EOF
stop_grace = 1s

service uwait {
  protocol = udp
  address  = {127.0.0.1}
  port     = 2073
  server   = /usr/bin/perl
  args     = {perl, $T/once.pl}
  wait     = true
}
EOF
start_daemon "$conf"
for _ in $(seq 1 50); do
	[ -n "$(ss -lunH '( sport = :2073 )')" ] && break
	sleep 0.1
done
engine=$(engine_pid)
[ -n "$engine" ] || fail "no engine found"
hard=$(awk '/^Max open files/ { print $5 }' "/proc/$engine/limits")
soft=$(awk '/^Max open files/ { print $4 }' "/proc/$engine/limits")

# as_engine CMD...: run as the engine's uid and gid, which may change its
# limits without CAP_SYS_RESOURCE (a container may not grant that).
euid=$(awk '/^Uid:/ { print $2 }' "/proc/$engine/status")
egid=$(awk '/^Gid:/ { print $2 }' "/proc/$engine/status")
as_engine()
{
	setpriv --reuid="$euid" --regid="$egid" --clear-groups -- "$@"
}

# starve: no new descriptor for the engine (the soft limit at its lowest
# free descriptor number); feed: its own limit back.
starve()
{
	local i=3

	while [ -e "/proc/$engine/fd/$i" ]; do
		i=$((i + 1))
	done
	as_engine prlimit --pid "$engine" --nofile="$i:$hard" ||
	    fail "prlimit --pid $engine --nofile=$i:$hard"
}
feed()
{
	as_engine prlimit --pid "$engine" --nofile="$soft:$hard" ||
	    fail "prlimit --pid $engine --nofile=$soft:$hard"
}

# served OUT PAYLOAD: the client got its answer; SERVED: the program's pid.
served()
{
	wait "$UDPC" || fail "no answer to '$2': $(cat "$1")"
	grep -q "^re:$2 pid=[0-9]*\$" "$1" || fail "answer to '$2': $(cat "$1")"
	SERVED=$(sed -n 's/^re:.* pid=//p' "$1")
}

# --- 1. The dup of the listener fails ---
starve
udpc one 30 "$T/one"
wait_log 'service=uwait' 5 || fail "nothing logged for the datagram to uwait"
# The socket stays readable meanwhile: over 2 s, a few pauses, no loop.
for _ in $(seq 1 40); do
	[ "$(log_count 'service=uwait')" -gt 20 ] && break
	sleep 0.05
done
n=$(log_count 'service=uwait')
say "$n uwait log lines in 2s without descriptors"
[ "$n" -le 20 ] ||
    fail "$n uwait log lines in 2s while the dup fails: the engine spins on the readable socket"
wait_log '^service=uwait action=pause reason=overload msg="dup: Too many open files" retry_ms=50$' 1 ||
    fail "no 'service=uwait action=pause reason=overload msg=\"dup: Too many open files\" retry_ms=50' line"
[ "$(log_count '^conn=[0-9]+ service=uwait action=spawn ')" = 0 ] ||
    fail "uwait spawned without a duplicate of its listener"
feed
served "$T/one" one
pid1=$SERVED
wait_log '^service=uwait action=resume$' 5 || fail "no 'service=uwait action=resume' line"
wait_log "^conn=[0-9]+ service=uwait action=exit pid=$pid1 status=0 " 5 ||
    fail "no exit line of the first program $pid1"
[ "$(engine_pid)" = "$engine" ] || fail "the engine changed from $engine to $(engine_pid)"

# --- 2. The stderr pipe of the spawn answer is lost ---
kill -STOP "$MONPID"
udpc two 30 "$T/two"
# Logged after the dup went to the monitor and was closed.
acc='^conn=[0-9]+ service=uwait action=accept proto=udp peer=127\.0\.0\.1:[0-9]+ local=127\.0\.0\.1:2073 wait=1$'
for _ in $(seq 1 100); do
	[ "$(log_count "$acc")" -ge 2 ] && break
	sleep 0.05
done
if [ "$(log_count "$acc")" != 2 ]; then
	kill -CONT "$MONPID"
	fail "the engine did not hand the second datagram over"
fi
starve
kill -CONT "$MONPID"
served "$T/two" two
pid2=$SERVED
wait_log "^conn=[0-9]+ service=uwait action=spawn pid=$pid2 " 5 ||
    fail "no spawn line for the second program $pid2"
wait_log "^conn=[0-9]+ service=uwait action=warn pid=$pid2 msg=\"stderr not read: descriptor lost\" error=\"Too many open files\"\$" 5 ||
    fail "no 'service=uwait action=warn pid=$pid2 msg=\"stderr not read: descriptor lost\"' line"
wait_log "^conn=[0-9]+ service=uwait action=exit pid=$pid2 status=0 " 5 ||
    fail "no exit line of the second program $pid2: the engine lost track of it"
grep -q 'monitor gone' "$LOG" && fail "the engine took a lost descriptor for a lost monitor"
proc_alive "$engine" || fail "the engine $engine died when a descriptor was lost"
feed
[ "$(engine_pid)" = "$engine" ] || fail "the engine changed from $engine to $(engine_pid)"

# --- Descriptors free again: served, stderr logged ---
udpc three 10 "$T/three"
served "$T/three" three
pid3=$SERVED
wait_log "^conn=[0-9]+ service=uwait action=stderr pid=$pid3 line=\"served three\"\$" 5 ||
    fail "the stderr line of program $pid3 is not logged"
[ "$(engine_pid)" = "$engine" ] || fail "the engine changed from $engine to $(engine_pid)"
stop_daemon
ok
