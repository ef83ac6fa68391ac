#!/bin/bash
# A real TCP nowait service: netkit's in.fingerd, run as inetd runs it
# ("finger stream tcp nowait nobody /usr/sbin/in.fingerd in.fingerd"),
# queried by the netkit finger client on port 79.  in.fingerd reads one
# request line from its stdin socket, runs finger(1) with the socket as
# stdout and exits; the client must get the long report on root
# ("Login: root"), and the log the usual accept, spawn (as nobody) and
# exit status 0.  This is the inetd contract real programs rely on:
# blocking socket on fd 0 and 1, a sane environment with PATH, and
# nothing else open.  Needs root for the user switch and port 79.
. "$(dirname "$0")/lib.sh"

need_root
[ -x /usr/sbin/in.fingerd ] ||
    skip "/usr/sbin/in.fingerd is not installed (Debian package fingerd)"
need_cmd finger
getent services finger >/dev/null ||
    skip "no finger entry in /etc/services (Debian package netbase)"

conf=$T/finger.conf
cat >"$conf" <<EOF
stop_grace = 2s

service finger {
  protocol = tcp
  address  = {127.0.0.1, ::1}
  port     = finger
  server   = /usr/sbin/in.fingerd
  args     = {in.fingerd, -u}
}
EOF
start_daemon "$conf"
wait_listen 79 127.0.0.1 || fail "nothing listens on 127.0.0.1 port 79"

# check OUT WHAT: the long report on root.
check()
{
	grep -Eq '^Login: +root( |$)' "$1" ||
	    fail "$2: no 'Login: root' line in: $(head -c 600 "$1")"
	grep -Eq 'Directory: +/root( |$)' "$1" ||
	    fail "$2: no 'Directory: /root' in: $(head -c 600 "$1")"
}

# The finger client, on port 79 by its /etc/services name.
timeout 20 finger root@127.0.0.1 >"$T/finger.out" 2>&1 ||
    fail "finger root@127.0.0.1 failed: $(cat "$T/finger.out")"
check "$T/finger.out" "finger root@127.0.0.1"
wait_log "^conn=[0-9]+ service=finger action=accept proto=tcp peer=127\\.0\\.0\\.1:[0-9]+ local=127\\.0\\.0\\.1:79( |\$)" ||
    fail "no 'service=finger action=accept proto=tcp peer=127.0.0.1:PORT local=127.0.0.1:79' line"
wait_log "^conn=[0-9]+ service=finger action=spawn pid=[0-9]+ user=nobody( |\$)" ||
    fail "no 'service=finger action=spawn pid=N user=nobody' line"
wait_log "^conn=[0-9]+ service=finger action=exit pid=[0-9]+ status=0 " ||
    fail "no 'service=finger action=exit ... status=0' line"

# The protocol by hand, over IPv6: one CRLF line, the report, EOF.
printf 'root\r\n' | timeout 20 socat -t10 - 'TCP6:[::1]:79' >"$T/raw.out" 2>&1 ||
    fail "socat to [::1]:79 failed: $(cat "$T/raw.out")"
check "$T/raw.out" "'root' sent to [::1]:79"

# in.fingerd -u refuses "finger @host", the list of everyone logged in:
# the argument reached the program.
timeout 20 finger @127.0.0.1 >"$T/all.out" 2>&1
grep -q 'Login: ' "$T/all.out" &&
    fail "in.fingerd -u answered 'finger @127.0.0.1' with a report: the args did not reach it"
grep -q "supply a username" "$T/all.out" ||
    fail "in.fingerd -u: no refusal for 'finger @127.0.0.1': $(cat "$T/all.out")"
c=$(log_count '^conn=[0-9]+ service=finger action=exit pid=[0-9]+ status=0 ')
i=0
while [ "$c" -lt 3 ]; do
	i=$((i + 1))
	[ $i -le 50 ] || fail "3 finger queries, $c 'action=exit ... status=0' lines"
	sleep 0.1
	c=$(log_count '^conn=[0-9]+ service=finger action=exit pid=[0-9]+ status=0 ')
done

ok
