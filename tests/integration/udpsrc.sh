#!/bin/bash
# Forged UDP sources against the UDP builtins (DESIGN.md "Overload
# policy", "Logging", "Builtins").
#
#  1. A flood of datagrams a UDP builtin refuses without looking at its
#     source group's state (badsrc: source port 19; an ACL denial), each
#     from another of 127/8's addresses, takes no entry of the source
#     table that the engines share with TCP: a TCP source that spent
#     its rate (rate = 2/1m) is still refused after the floods, where
#     recycling its entry for the flood would hand it a full bucket.
#     The refusals are logged at most once a second per service and
#     reason, with repeat=K counting those in between, not one info
#     line per forged source; every refusal is counted in a line or a
#     repeat=.
#  2. On a wildcard socket (0.0.0.0 and ::) a builtin answers from the
#     address the datagram was sent to: with two more addresses on lo, a
#     client bound to one and connected to the other gets its answer (a
#     connected socket drops one from any other address, and the
#     kernel's own choice of source for a local destination is that
#     destination itself, the wrong one).  IPv4, and IPv6 with ::1 and
#     two fd00:: addresses.
#
# The clients are python3: they send from any address of 127/8 through
# one socket (IP_PKTINFO), and the flood waits, every 64 datagrams, for
# the echo of a probe sent behind them, so that no datagram is dropped
# by a full socket buffer: the engine has seen each one.
. "$(dirname "$0")/lib.sh"

need_cmd python3
need_cmd ip

cat >"$T/udpsrc.py" <<'EOF'
import socket, struct, sys, time

IP_PKTINFO = 8

def pktinfo(src):
    return [(socket.IPPROTO_IP, IP_PKTINFO,
        struct.pack('=i4s4s', 0, socket.inet_aton(src), bytes(4)))]

def flood(port, sport, count, first):
    """count datagrams to 127.0.0.1:port from 127.a.b.c:sport, each from
    another address, every 64 followed by a probe from 127.0.0.1 whose
    echo says the engine read all before it."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', sport))
    p = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    p.bind(('127.0.0.1', 0))
    p.connect(('127.0.0.1', port))
    p.settimeout(5)
    start = time.monotonic()
    for i in range(count):
        n = first + i
        src = '127.%d.%d.%d' % (1 + (n >> 16), (n >> 8) & 255, n & 255)
        s.sendmsg([b'x'], pktinfo(src), 0, ('127.0.0.1', port))
        if i % 64 == 63 or i == count - 1:
            p.send(b'probe')
            if p.recv(64) != b'probe':
                sys.exit('flood: a wrong probe echo')
    print('%.3f' % (time.monotonic() - start))

def probe(port):
    """One echo from 127.0.0.1: the engine read all sent before."""
    p = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    p.bind(('127.0.0.1', 0))
    p.connect(('127.0.0.1', port))
    p.settimeout(5)
    p.send(b'probe')
    if p.recv(64) != b'probe':
        sys.exit('probe: a wrong echo')

def one(port, sport, src):
    """One datagram from src:sport, then a probe behind it."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', sport))
    s.sendmsg([b'x'], pktinfo(src), 0, ('127.0.0.1', port))
    probe(port)

def ask(src, dst, port, data):
    """From a socket bound to src and connected to dst: print the answer
    in hex, or 'none' after 3 s."""
    fam = socket.AF_INET6 if ':' in dst else socket.AF_INET
    c = socket.socket(fam, socket.SOCK_DGRAM)
    c.bind((src, 0))
    c.connect((dst, port))
    c.settimeout(3)
    c.send(data)
    try:
        print(c.recv(65536).hex())
    except (socket.timeout, ConnectionRefusedError):
        print('none')

def tcp(port):
    """A TCP echo: print what came back, 'closed' if nothing."""
    c = socket.create_connection(('127.0.0.1', port), timeout=3)
    c.settimeout(3)
    try:
        c.sendall(b'ping\n')
        b = c.recv(64)
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        b = b''
    print(b.decode() .strip() if b else 'closed')

cmd = sys.argv[1]
if cmd == 'flood':
    flood(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]),
        int(sys.argv[5]))
elif cmd == 'one':
    one(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
elif cmd == 'ask':
    ask(sys.argv[2], sys.argv[3], int(sys.argv[4]),
        bytes.fromhex(sys.argv[5]))
elif cmd == 'tcp':
    tcp(int(sys.argv[2]))
EOF

py()
{
	timeout 60 python3 "$T/udpsrc.py" "$@"
}

conf=$T/udpsrc.conf
cat >"$conf" <<EOF
stop_grace = 2s

service tcpecho {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 3007
  builtin  = echo
  rate     = 2/1m
}
# The probes come from 127.0.0.1, far more than 10 a second.
service udpbad {
  protocol = udp
  address  = {127.0.0.1}
  port     = 3017
  builtin  = echo
  udp_reply_rate = 100000/1s
}
service udpacl {
  protocol = udp
  address  = {127.0.0.1}
  port     = 3018
  builtin  = echo
  allow    = {127.0.0.1/32}
  udp_reply_rate = 100000/1s
}
service wild {
  protocol = udp
  address  = {0.0.0.0, ::}
  port     = 3027
  builtin  = echo
  udp_reply_rate = 1000/1s
}
service wildgen {
  protocol = udp
  address  = {0.0.0.0, ::}
  port     = 3028
  builtin  = daytime
  udp_reply_rate = 1000/1s
}
EOF

ip addr add 10.9.9.9/32 dev lo && ip addr add 10.9.9.10/32 dev lo ||
    fail "cannot add 10.9.9.9 and 10.9.9.10 to lo"
ip -6 addr add fd00::9/128 dev lo nodad &&
    ip -6 addr add fd00::10/128 dev lo nodad ||
    fail "cannot add fd00::9 and fd00::10 to lo"

start_daemon "$conf"
wait_listen 3007 127.0.0.1 || fail "nothing listens on 127.0.0.1:3007"

# 1. A TCP source spends its rate: 2 answered, the third refused.
for i in 1 2; do
	[ "$(py tcp 3007)" = ping ] ||
	    fail "part 1: TCP connection $i to tcpecho (rate 2/1m) got no echo"
done
[ "$(py tcp 3007)" = closed ] ||
    fail "part 1: the third TCP connection within a minute was answered"
wait_log '^conn=[0-9]+ service=tcpecho action=refuse proto=tcp peer=127\.0\.0\.1:[0-9]+ reason=rate$' ||
    fail "part 1: no reason=rate refusal for the third TCP connection"

# refusal_total SERVICE REASON: the refusals the lines of SERVICE with
# REASON stand for, each line 1 plus its repeat=.
refusal_total()
{
	awk -v s=" service=$1 " -v r=" reason=$2" '
	    index($0, s) && index($0 " ", r " ") {
		n++
		if (match($0, / repeat=[0-9]+/))
			n += substr($0, RSTART + 8, RLENGTH - 8)
	    } END { print n + 0 }' "$LOG"
}

# flood_check SERVICE PORT SPORT COUNT FIRST REASON: COUNT forged
# sources, then single ones until a line with repeat= shows that the
# counting works; at most one line a second of the flood per reason.
flood_check()
{
	local svc=$1 port=$2 sport=$3 count=$4 first=$5 why=$6 secs lines
	local total max i polls=0

	secs=$(py flood "$port" "$sport" "$count" "$first") ||
	    fail "part 1: the flood of $svc failed: $secs"
	for i in $(seq 1 20); do
		log_count "service=$svc action=refuse proto=udp .*reason=$why repeat=[0-9]+\$" \
		    >/dev/null && break
		py one "$port" "$sport" 127.250.0.$i ||
		    fail "part 1: a single datagram to $svc failed"
		polls=$((polls + 1))
		wait_log "service=$svc action=refuse proto=udp .*reason=$why repeat=[0-9]+\$" 0.5 &&
		    break
	done
	wait_log "service=$svc action=refuse proto=udp .*reason=$why repeat=[0-9]+\$" ||
	    fail "part 1: no reason=$why line with repeat= for $svc"
	lines=$(log_count "service=$svc action=refuse ")
	# The flood's seconds, rounded up, the polls' and the first one.
	max=$(awk -v s="$secs" -v p="$polls" 'BEGIN { printf "%d", s + p / 2 + 3 }')
	[ "$lines" -le "$max" ] ||
	    fail "part 1: $count forged sources to $svc in ${secs}s gave $lines refusal lines, expected at most $max"
	total=$(refusal_total "$svc" "$why")
	[ "$total" -ge "$count" ] && [ "$total" -le $((count + polls)) ] ||
	    fail "part 1: the reason=$why lines of $svc stand for $total refusals, expected $count to $((count + polls))"
	say "$svc: $count forged sources in ${secs}s, $lines lines for $total refusals"
}

flood_check udpbad 3017 19 70000 0 badsrc
flood_check udpacl 3018 40000 30000 70000 acl
[ "$(log_count 'service=udp(bad|acl) action=accept proto=udp peer=127\.[1-9]')" = 0 ] ||
    fail "part 1: a forged source was answered"

# The TCP source's entry survived: still refused, within the minute.
[ "$(py tcp 3007)" = closed ] ||
    fail "part 1: after the floods of forged UDP sources, the TCP source that spent its rate was answered: its bucket was recycled"
[ "$(log_count 'service=tcpecho action=accept ')" = 2 ] ||
    fail "part 1: tcpecho accepted $(log_count 'service=tcpecho action=accept ') connections, expected 2"

# 2. Wildcard sockets answer from the address written to.
hi=6869
for pair in "10.9.9.9 10.9.9.10" "127.0.0.1 10.9.9.10" "10.9.9.10 10.9.9.9" \
    "::1 fd00::10" "fd00::9 fd00::10" "fd00::10 ::1"; do
	set -- $pair
	got=$(py ask "$1" "$2" 3027 "$hi") || fail "part 2: client failed: $got"
	[ "$got" = "$hi" ] ||
	    fail "part 2: echo on a wildcard socket, from $1 to $2: got '$got', expected the datagram back from $2"
	got=$(py ask "$1" "$2" 3028 78)
	case "$got" in
	none|'') fail "part 2: daytime on a wildcard socket, from $1 to $2: no answer from $2" ;;
	esac
done
# A bound socket still answers as before.
[ "$(py ask 127.0.0.1 127.0.0.1 3017 "$hi")" = "$hi" ] ||
    fail "part 2: udpbad on 127.0.0.1 did not answer"

stop_daemon
[ "$DAEMON_RC" = 0 ] || fail "portmuxd exited $DAEMON_RC on SIGTERM"
ok
