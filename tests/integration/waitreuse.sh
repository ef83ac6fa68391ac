#!/bin/bash
# A wait program of a removed service holds a listener the monitor
# closed; a later reload may give that descriptor number to a new
# listener.  The engines find a wait program's listener by number, so
# the monitor must forget a number whose socket is gone: otherwise the
# new wait service is taken for busy and never answers, silently.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd python3

udp_echo=$T/udpecho
cat >"$udp_echo" <<'PY'
#!/usr/bin/python3
import socket
s = socket.socket(fileno=0)
d, a = s.recvfrom(512)
s.sendto(d, a)
PY
chmod 755 "$udp_echo"

conf=$T/portmux.conf
write_conf()
{
	{
		echo 'reload_grace = 1s'
		echo 'service echo { address = {"127.0.0.1"} port = 7 builtin = echo }'
		[ "$1" = a ] && cat <<CONF
service holder {
  protocol = udp
  address  = {"127.0.0.1"}
  port     = 6001
  wait     = true
  server   = /bin/sleep
  args     = {sleep, 60}
  user     = daemon
}
CONF
		[ "$1" = c ] && cat <<CONF
service fresh {
  protocol = udp
  address  = {"127.0.0.1"}
  port     = 6002
  wait     = true
  server   = $udp_echo
  user     = daemon
}
CONF
	} >"$conf"
}

udp_ask()
{
	python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(b"ping", ("127.0.0.1", int(sys.argv[1])))
try:
    print(s.recv(64).decode())
except OSError:
    print("timeout")
PY
}

udp_bound()	# until UDP port $1 is bound, at most 5 s
{
	for _ in $(seq 1 100); do
		[ -n "$(ss -lunH "( sport = :$1 )" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	return 1
}

sock_fd()	# the monitor's descriptor of socket inode $1
{
	local f
	for f in /proc/"$MONPID"/fd/*; do
		[ "$(readlink "$f")" = "socket:[$1]" ] && { basename "$f"; return; }
	done
}

write_conf a
start_daemon "$conf"
udp_bound 6001 || fail "holder does not listen"
udp_ask 6001 >/dev/null		# wakes holder: sleep holds the socket
for _ in $(seq 1 100); do
	child=$(pgrep -P "$MONPID" -x sleep) && break
	sleep 0.05
done
[ -n "$child" ] || fail "the wait program did not start"
ino=$(readlink "/proc/$child/fd/0" | tr -dc 0-9)
n=$(sock_fd "$ino")
[ -n "$n" ] || fail "the monitor holds no descriptor of holder's socket"

reload_to()	# write config $1 and reload, waiting for the reload line
{
	write_conf "$1"
	kill -HUP "$MONPID"
	gen=$((gen + 1))
	wait_log "^action=reload generation=$gen " 5 || fail "no reload $gen"
}

# holder removed, then fresh added, until fresh's listener takes the
# number n: the reload's new engine may hold n for a while, until it
# drains, so each round first waits for n to be free in the monitor.
gen=1
hit=
for _ in 1 2 3 4 5 6; do
	reload_to none
	for _ in $(seq 1 100); do
		[ -e "/proc/$MONPID/fd/$n" ] || break
		sleep 0.05
	done
	[ -e "/proc/$MONPID/fd/$n" ] && continue
	reload_to c
	udp_bound 6002 || fail "fresh does not listen"
	fino=$(ss -luneH "( sport = :6002 )" | grep -o 'ino:[0-9]*' | head -n 1 |
	    cut -d: -f2)
	if [ "$(readlink "/proc/$MONPID/fd/$n")" = "socket:[$fino]" ]; then
		hit=1
		break
	fi
done
[ -n "$hit" ] || fail "fresh's listener never took descriptor $n"
proc_alive "$child" || fail "the wait program of the removed service ended"
say "fresh's listener is descriptor $n, holder's old number"
r=$(udp_ask 6002)
[ "$r" = ping ] || fail "the new wait service does not answer ($r)"
stop_daemon
ok
