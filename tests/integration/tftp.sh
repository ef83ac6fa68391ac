#!/bin/bash
# A real UDP wait service: tftpd-hpa's in.tftpd run the way Debian's
# inetd.conf runs it ("tftp dgram udp wait root /usr/sbin/in.tftpd
# in.tftpd -s DIR"), served to the tftp-hpa client.  in.tftpd reads the
# request queued on its stdin socket (so portmuxd must have peeked at it,
# not consumed it), answers from a new socket of its own, chroots to DIR
# and drops to nobody by itself (-s, -u), and leaves after -t seconds
# without a new request; portmuxd must then re-arm the port, so that the
# second download, after the first program exited, spawns a new one.
# Each download of a 100 KiB random file must match its sha256.
# Needs root: in.tftpd chroots.
. "$(dirname "$0")/lib.sh"

need_root
need_tftp

tftp_root 102400
srv=$TFTP_ROOT

conf=$T/tftp.conf
cat >"$conf" <<EOF
stop_grace = 2s

service tftp {
  protocol = udp
  address  = {127.0.0.1}
  port     = 69
  server   = /usr/sbin/in.tftpd
  args     = {in.tftpd, -s, $srv, -u, nobody, -t, 1}
  user     = root
  wait     = true
}
EOF
start_daemon "$conf"

tftp_get 1
wait_log "^conn=[0-9]+ service=tftp action=accept proto=udp peer=127\\.0\\.0\\.1:[0-9]+ local=127\\.0\\.0\\.1:69 wait=1( |\$)" ||
    fail "no 'service=tftp action=accept proto=udp peer=127.0.0.1:PORT local=127.0.0.1:69 wait=1' line"
wait_log "^conn=[0-9]+ service=tftp action=spawn pid=[0-9]+ user=root( |\$)" ||
    fail "no 'service=tftp action=spawn pid=N user=root' line"
# in.tftpd -t 1 leaves a second after the last request.
wait_log "^conn=[0-9]+ service=tftp action=exit pid=[0-9]+ status=0 " 10 ||
    fail "in.tftpd (-t 1) did not exit, or not with status 0"

tftp_get 2
c=$(log_count '^conn=[0-9]+ service=tftp action=spawn ')
[ "$c" = 2 ] ||
    fail "two downloads, the second after in.tftpd exited, gave $c spawns, expected 2 (the port must be re-armed)"

ok
