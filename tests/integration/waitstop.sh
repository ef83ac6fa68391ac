#!/bin/bash
# A stop ends the wait programs, so that a start right after it can bind
# their ports (issue 9, item 6: in.tftpd kept UDP port 69 after a stop
# and the next start failed with EADDRINUSE, exit 71, for as long as it
# lingered).  A stop sends TERM to the process group of each wait
# program and KILL after stop_grace to one that ignores TERM, waits for
# them, logs each step, and a new daemon then starts and serves tftp.
# Needs root: port 69, and in.tftpd chroots.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd ss
need_cmd perl
need_tftp

tftp_root 65536
srv=$TFTP_ROOT

# in.tftpd -t 900 stays for 15 minutes after its last request, as the
# Debian inetd.conf line lets it; the TCP wait program ignores TERM and
# never accepts, so only KILL ends it.
conf=$T/waitstop.conf
cat >"$conf" <<CONF
stop_grace = 1s

service tftp {
  protocol = udp
  address  = {127.0.0.1}
  port     = 69
  server   = /usr/sbin/in.tftpd
  args     = {in.tftpd, -s, "$srv", -u, nobody, -t, 900}
  user     = root
  wait     = true
}

service stubborn {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 10079
  server   = /usr/bin/perl
  args     = {perl, -e, "\$SIG{TERM} = 'IGNORE'; sleep 120"}
  wait     = true
}
CONF

# spawned_pid SERVICE: the pid of its first spawn line.
spawned_pid()
{
	sed -En "s/^conn=[0-9]+ service=$1 action=spawn pid=([0-9]+) .*/\\1/p" \
	    "$LOG" | head -n 1
}

start_daemon "$conf"
wait_listen 10079 127.0.0.1 || fail "nothing listens on 127.0.0.1:10079"
tftp_get 1
wait_log '^conn=[0-9]+ service=tftp action=spawn pid=[0-9]+ ' ||
    fail "no spawn line for tftp"
exec 7<>/dev/tcp/127.0.0.1/10079 || fail "cannot connect to 10079"
wait_log '^conn=[0-9]+ service=stubborn action=spawn pid=[0-9]+ ' ||
    fail "no spawn line for stubborn"
exec 7<&-
tpid=$(spawned_pid tftp)
spid=$(spawned_pid stubborn)
proc_alive "$tpid" || fail "in.tftpd ($tpid) is not running after the download"
proc_alive "$spid" || fail "the stubborn program ($spid) is not running"

# The stop: bounded by stop_grace (1s) and the kill slack (2s).
t0=$(date +%s%N)
stop_daemon 10
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$DAEMON_RC" = 0 ] || fail "portmuxd exited $DAEMON_RC on SIGTERM, expected 0"
wait_log "^conn=[0-9]+ service=tftp action=stop pid=$tpid signal=TERM " ||
    fail "no 'service=tftp action=stop pid=$tpid signal=TERM' line"
wait_log "^conn=[0-9]+ service=stubborn action=stop pid=$spid signal=TERM " ||
    fail "no 'service=stubborn action=stop pid=$spid signal=TERM' line"
wait_log "^action=stop pgid=$spid signal=KILL " ||
    fail "no 'action=stop pgid=$spid signal=KILL' line for the program that ignores TERM"
wait_log "^conn=[0-9]+ service=tftp action=exit pid=$tpid signal=15 " ||
    fail "in.tftpd's exit (signal 15) is not logged"
wait_log "^conn=[0-9]+ service=stubborn action=exit pid=$spid signal=9 " ||
    fail "the stubborn program's exit (signal 9) is not logged"
proc_alive "$tpid" && fail "in.tftpd ($tpid) still runs after the stop"
proc_alive "$spid" && fail "the stubborn program ($spid) still runs after the stop"
grep -Eq "^action=stop pgid=$tpid signal=KILL " "$LOG" &&
    fail "in.tftpd, which leaves on TERM, was sent KILL"
socks=$(ss -Hanu 'sport = :69'; ss -Hant 'sport = :10079')
[ -z "$socks" ] || fail "ports still bound after the stop: $socks"
say "stop took ${ms}ms"

# A new daemon at once: it binds both ports and serves tftp.
LOG=$T/second.log
start_daemon "$conf"
wait_listen 10079 127.0.0.1 || fail "the second daemon does not listen on 10079"
tftp_get 2
stop_daemon 10

ok
