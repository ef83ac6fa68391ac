#!/bin/bash
# UDP port forwarding (portmux.conf(5) "Forwarding"; src/udprelay.c).
# Each client of a udp redirect, by address and port, gets a session of
# its own: its datagrams reach the target from a socket of that session,
# and only the target's answers to that socket come back to it, from the
# address it wrote to, also on a wildcard socket (a client that connected
# its socket drops an answer from any other address).  A session ends
# after udp_session_timeout of silence with a close line counting the
# datagrams; udp_sessions bounds the table, a new client beyond it is
# refused (reason=overload, at most a line a second); a target with no
# listener gives reason=connect, error="Connection refused";
# redirect_source is the source the target sees; an ACL refuses, a live
# session ends at stop with reason=stop.
#
# The clients and targets are python3, which can bind a source, connect
# a UDP socket and wait for every answer within a deadline.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd python3

# udpt.py echo PORT PEERS: answer each datagram to its sender, and write
# each new sender address to PEERS.
# udpt.py clients DST PORT N K: N clients (sources 127.0.0.1..4, ports
# of the kernel), each connected to DST:PORT, send K tagged datagrams;
# each must get back exactly its own K, within 5s.  Prints "ok N".
# udpt.py burst DST PORT N: one datagram from each of N new sockets.
# udpt.py one DST PORT SRC TAG WAIT: one datagram from SRC; print the
# answer, or "none" after WAIT seconds.
cat >"$T/udpt.py" <<'EOF'
import os, select, socket, sys, time

def put(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)

mode = sys.argv[1]
if mode == "echo":
    port, peers = int(sys.argv[2]), sys.argv[3]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    seen = []
    end = time.monotonic() + 120
    while time.monotonic() < end:
        if not select.select([s], [], [], 1)[0]:
            continue
        b, a = s.recvfrom(65536)
        if a not in seen:
            seen.append(a)
            put(peers, "".join("%s %d\n" % x for x in seen))
        s.sendto(b, a)
elif mode == "clients":
    dst, port, n, k = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), \
        int(sys.argv[5])
    socks = []
    for i in range(n):
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.bind(("127.0.0.%d" % (1 + i % 4), 0))
        c.connect((dst, port))
        socks.append(c)
    for j in range(k):
        for i, c in enumerate(socks):
            c.send(b"client %d datagram %d" % (i, j))
    got = {c: [] for c in socks}
    end = time.monotonic() + 5
    while any(len(v) < k for v in got.values()) and time.monotonic() < end:
        for c in select.select(socks, [], [], 0.2)[0]:
            got[c].append(c.recv(65536))
    for i, c in enumerate(socks):
        want = sorted(b"client %d datagram %d" % (i, j) for j in range(k))
        if sorted(got[c]) != want:
            print("client %d got %r" % (i, got[c]))
            sys.exit(1)
    print("ok %d" % n)
elif mode == "burst":
    dst, port, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    for i in range(n):
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.bind(("127.0.0.1", 0))
        c.sendto(b"burst", (dst, port))
        c.close()
elif mode == "one":
    dst, port, src, tag, wait = sys.argv[2], int(sys.argv[3]), \
        sys.argv[4], sys.argv[5].encode(), float(sys.argv[6])
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.bind((src, 0))
    c.connect((dst, port))
    c.send(tag)
    try:
        if select.select([c], [], [], wait)[0]:
            print(c.recv(65536).decode())
        else:
            print("none")
    except ConnectionRefusedError:
        print("none")
EOF

conf=$T/udpfwd.conf
cat >"$conf" <<EOF
stop_grace = 1s
defaults {
  protocol = udp
  udp_session_timeout = 1s
}
# On the wildcard socket: answers must leave from 127.0.0.2.
service many {
  port     = 3001
  redirect = "127.0.0.1:4001"
}
service full {
  address      = {127.0.0.1}
  port         = 3002
  redirect     = "127.0.0.1:4002"
  udp_sessions = 2
  udp_session_timeout = 30s
}
service down {
  address  = {127.0.0.1}
  port     = 3003
  redirect = "127.0.0.1:4003"
}
service src {
  address         = {127.0.0.1}
  port            = 3004
  redirect        = "127.0.0.1:4004"
  redirect_source = "127.0.0.9"
  allow           = {127.0.0.1/32}
}
EOF

# poll_file FILE PATTERN SECS: until FILE holds a line matching PATTERN.
poll_file()
{
	local i

	for i in $(seq 1 $(($3 * 20))); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

for p in 4001 4002 4004; do
	python3 "$T/udpt.py" echo $p "$T/peers.$p" &
	PIDS+=($!)
done
start_daemon "$conf"
# The echo targets are ready when they answer a direct datagram, from
# 127.0.0.5, which the counts of their sources below leave out.
for p in 4001 4002 4004; do
	for i in $(seq 1 100); do
		[ "$(python3 "$T/udpt.py" one 127.0.0.1 $p 127.0.0.5 x 0.1)" = x ] &&
		    break
		[ "$i" = 100 ] && fail "the echo target on $p does not answer"
	done
done
# relayed: how many sources other than the probe's a target saw.
relayed()
{
	grep -vc '^127\.0\.0\.5 ' "$T/peers.$1"
}

# 1. 40 clients, 3 datagrams each, through the wildcard socket to
# 127.0.0.2: every client gets exactly its own back.
got=$(timeout 20 python3 "$T/udpt.py" clients 127.0.0.2 3001 40 3) ||
    fail "many: $got"
[ "$got" = "ok 40" ] || fail "many: $got"
[ "$(log_count 'service=many action=accept proto=udp peer=127\.0\.0\.[1-4]:[0-9]+ local=127\.0\.0\.2:3001$')" = 40 ] ||
    fail "many: not 40 accept lines with local=127.0.0.2:3001"
[ "$(relayed 4001)" = 40 ] ||
    fail "many: the target saw $(relayed 4001) sources, not 40"

# 2. Expiry after 1s of silence: 40 close lines, 3 datagrams each way.
n=0
for i in $(seq 1 100); do
	n=$(log_count 'service=many action=close proto=udp bytes_in=[0-9]+ bytes_out=[0-9]+ datagrams_in=3 datagrams_out=3 duration_ms=[0-9]+ target=127\.0\.0\.1:4001$')
	[ "$n" = 40 ] && break
	sleep 0.05
done
[ "$n" = 40 ] || fail "many: $n of 40 sessions closed after udp_session_timeout"
# A datagram after the expiry starts a new session.
[ "$(python3 "$T/udpt.py" one 127.0.0.2 3001 127.0.0.1 again 3)" = again ] ||
    fail "many: no answer after the expiry"
[ "$(log_count 'service=many action=accept ')" = 41 ] ||
    fail "many: the datagram after the expiry did not open a new session"

# 3. udp_sessions = 2: two live sessions, a third client refused.
for c in a b; do
	[ "$(python3 "$T/udpt.py" one 127.0.0.1 3002 127.0.0.1 $c 3)" = $c ] ||
	    fail "full: client $c got no answer"
done
[ "$(python3 "$T/udpt.py" one 127.0.0.1 3002 127.0.0.1 c 1)" = none ] ||
    fail "full: a third client was served beyond udp_sessions = 2"
wait_log 'service=full action=refuse proto=udp peer=127\.0\.0\.1:[0-9]+ reason=overload msg="udp_sessions 2 full"$' ||
    fail "full: no reason=overload line"
# A burst of 200 new clients, well within a second or two: a line a
# second at most, however many are refused.
python3 "$T/udpt.py" burst 127.0.0.1 3002 200
t=$(python3 "$T/udpt.py" one 127.0.0.1 3002 127.0.0.1 e 1)
[ "$t" = none ] || fail "full: a client of the burst was served ($t)"
[ "$(log_count 'service=full action=refuse ')" -le 4 ] ||
    fail "full: $(log_count 'service=full action=refuse ') refusal lines for 202 refusals"
[ "$(relayed 4002)" = 2 ] ||
    fail "full: the target saw a refused client"

# 4. No listener at the target.
[ "$(python3 "$T/udpt.py" one 127.0.0.1 3003 127.0.0.1 q 1)" = none ] ||
    fail "down: an answer from no target"
wait_log 'service=down action=close proto=udp bytes_in=1 bytes_out=0 datagrams_in=1 datagrams_out=0 duration_ms=[0-9]+ reason=connect target=127\.0\.0\.1:4003 error="Connection refused"$' 5 ||
    fail "down: no reason=connect close line"

# 5. redirect_source, and the ACL.
[ "$(python3 "$T/udpt.py" one 127.0.0.1 3004 127.0.0.1 s 3)" = s ] ||
    fail "src: no answer"
poll_file "$T/peers.4004" '^127\.0\.0\.9 ' 5 ||
    fail "src: the target saw $(cat "$T/peers.4004"), not 127.0.0.9"
[ "$(python3 "$T/udpt.py" one 127.0.0.1 3004 127.0.0.3 t 1)" = none ] ||
    fail "src: 127.0.0.3 was served despite allow"
wait_log 'service=src action=refuse proto=udp peer=127\.0\.0\.3:[0-9]+ reason=acl$' ||
    fail "src: no reason=acl line"

# 6. The live sessions of "full" end at stop.
stop_daemon
[ "$(log_count 'service=full action=close proto=udp .* reason=stop target=')" = 2 ] ||
    fail "full: the two live sessions did not end with reason=stop"

ok
