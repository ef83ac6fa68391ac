#!/bin/bash
# UDP port forwarding (portmux.conf(5) "Forwarding": redirect,
# redirect_source, udp_session_timeout, udp_sessions; src/udprelay.c).
# A UDP redirect keeps a session for each client (its address and port,
# and the local address it wrote to), with a socket of its own
# connected to the target; the target's answers must reach that client
# alone, from the address the client wrote to (a client that connected
# its socket drops anything else), sessions must end after
# udp_session_timeout of silence both ways, and the table must stay
# bounded, with refusals that cannot flood the log.  Sessions are
# admitted like connections (ACLs, per_source, rate, bans), but a
# datagram's source is forgeable, so nothing here may start a ban.
# Targets and clients are small python3 programs (u.py below): socat
# cannot bind many sources at once, send an empty datagram, nor say
# which address an answer came from.
#
#  1. 50 clients (10 ports on each of 127.0.0.11-15, within the default
#     per_source 16 and instances 64) each send 4 tagged datagrams, one
#     at a time: each gets back exactly its own, each once, and nothing
#     of another's.  One accept line per client, the target sees 50
#     distinct senders (a socket per session), and after expiry each
#     session's close line (2s to 4s after its start, for a timeout of
#     2s) counts its bytes and 4 datagrams each way, with no reason.
#  2. A wildcard service (no address key: 0.0.0.0 and ::): a client on
#     127.0.0.1 whose socket is connect()ed to 127.0.0.2 gets its answer
#     (so from 127.0.0.2); one socket writing to 127.0.0.2, .3 and .4 has
#     three sessions, logged with their local=, each answered from its
#     own address.  The same over IPv6 from ::1 to ::1 and to a ULA
#     address put on lo in this test's own network namespace (with ::1
#     alone an answer from the wrong address could not be seen).  And on
#     one dual-stack socket (v6only = false), where IPv4 clients arrive
#     mapped: answered from 127.0.0.2 and logged as IPv4.
#  3. Expiry, udp_session_timeout = 1s: the target's answers alone keep
#     a session alive (one datagram in, 5 answers 0.25s apart: 5 arrive,
#     one session, duration >= 2s); then it ends with no reason; a new
#     datagram from the same port is a new session with a new conn id.
#  4. redirect_source = 127.0.0.9: the target sees that source.  A
#     65507-byte and an empty datagram go through intact.  Source ports
#     7, 13, 19, 37 are refused reason=badsrc; 123 and 1000 are served.
#  5. udp_sessions = 2: a third client is refused reason=overload
#     msg="udp_sessions 2 full"; 200 more from fresh ports give at most 3
#     lines; a second later one more refusal carries repeat=, and lines
#     plus repeats count every refused client exactly; the two clients
#     with sessions are still served, and once they expire a new client
#     is served.
#  6. Target down (no listener): the close line has reason=connect and
#     error="Connection refused", datagrams_out=0.  A redirect_source the
#     host does not have (a ULA address, never assigned: nothing is
#     sent) ends the session at once, reason=connect, error="Cannot
#     assign requested address".
#  7. allow = {127.0.0.1/32}: 127.0.0.3 gets nothing, one reason=acl
#     line and a summary with repeat=4 for its 4 more datagrams, and the
#     target never sees it.  per_source = 1: a second port of 127.0.0.1
#     is refused reason=per_source, 127.0.0.4 is served, and the second
#     port is served once the first session expired.  instances = 1:
#     a client of another source is refused reason=instances.
#  8. rate = 2/1m with ban_after = 2/1m: 20 new clients of 127.0.0.5
#     give 2 sessions and reason=rate refusals (summarised), and no ban:
#     127.0.0.5 is still served elsewhere.  A TCP trap bans 127.0.0.6:
#     its live session ends at its next datagram, reason=banned, and its
#     new clients are refused reason=banned.
#  9. IPv6 target: redirect = "[::1]:PORT", from IPv4 and IPv6 clients.
# 10. Reload: live sessions end with reason=stop (their close lines with
#     the counts of part 4) and the client's next datagram opens a
#     session in the new engine; stop ends that one with reason=stop.
. "$(dirname "$0")/lib.sh"

need_cmd python3 ip

# Part 2 adds an address to lo: only in a network namespace of our own.
[ "$(stat -L -c %i /proc/self/ns/net)" = \
    "$(stat -L -c %i /proc/1/ns/net 2>/dev/null)" ] &&
    fail "not in a network namespace of its own: run it through run.sh"
ULA=fd00:7a::2
ip -6 addr add "$ULA/128" dev lo nodad ||
    fail "cannot add $ULA to lo in this test's network namespace"

cat >"$T/u.py" <<'EOF'
import os, select, socket, sys, time

def fam(a):
    return socket.AF_INET6 if ':' in a else socket.AF_INET

def fmt(sa):
    a, p = sa[0], sa[1]
    return '[%s]:%d' % (a, p) if ':' in a else '%s:%d' % (a, p)

def die(msg):
    sys.stderr.write('u.py: %s\n' % msg)
    sys.exit(1)

def usock(a, port=0):
    s = socket.socket(fam(a), socket.SOCK_DGRAM)
    s.bind((a, port))
    return s

def payload(spec):
    if spec == 'empty':
        return b''
    if spec.startswith('rand:'):
        return os.urandom(int(spec[5:]))
    return spec.encode()

cmd = sys.argv[1]
if cmd == 'echo':
    # echo ADDR PORT RECORD [REPEAT GAP]: answer each datagram to its
    # sender, REPEAT times GAP seconds apart; append "SENDER LEN" to
    # RECORD first.
    addr, port, rec = sys.argv[2], int(sys.argv[3]), sys.argv[4]
    rep = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    gap = float(sys.argv[6]) if len(sys.argv) > 6 else 0
    s = usock(addr, port)
    with open(rec, 'a') as f:
        while True:
            d, sa = s.recvfrom(65536)
            f.write('%s %d\n' % (fmt(sa), len(d)))
            f.flush()
            for i in range(rep):
                if i:
                    time.sleep(gap)
                s.sendto(d, sa)
elif cmd == 'many':
    # many DST PORT SPEC K: SPEC "a1:n1,a2:n2,...": n1 clients on a1...,
    # each a socket of its own; each sends K tagged datagrams, one at a
    # time (the next when the last came back), and must get back exactly
    # its own, each once, from DST:PORT.  Prints "PEER BYTES" a client.
    dst, port, spec, k = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    want_from = (dst, port)
    cl = []
    for part in spec.split(','):
        a, n = part.split(':')
        for _ in range(int(n)):
            cl.append(usock(a))
    n = len(cl)
    sent = [0] * n
    pending = [None] * n
    got = [0] * n
    nbytes = [0] * n
    errs = []

    def nxt(i):
        j = sent[i]
        if j == k:
            pending[i] = None
            return
        tag = ('c%03d.%d.' % (i, j)).encode()
        size = 16 + (i * 37 + j * 101) % 900
        d = tag + os.urandom(size).hex().encode()[:size]
        sent[i] += 1
        pending[i] = d
        nbytes[i] += len(d)
        cl[i].sendto(d, want_from)

    for i in range(n):
        nxt(i)
    idx = {s.fileno(): i for i, s in enumerate(cl)}
    end = time.time() + 15
    while any(p is not None for p in pending) and time.time() < end:
        r, _, _ = select.select(cl, [], [], max(0, end - time.time()))
        for s in r:
            i = idx[s.fileno()]
            d, sa = s.recvfrom(65536)
            if (sa[0], sa[1]) != want_from:
                errs.append('client %d got a datagram from %s' % (i, fmt(sa)))
            elif d != pending[i]:
                errs.append('client %d got %r, not its own %r' %
                    (i, d[:12], (pending[i] or b'(nothing)')[:12]))
            else:
                got[i] += 1
                nxt(i)
    # Anything more (a duplicate, another's) within a short look.
    r, _, _ = select.select(cl, [], [], 0.3)
    for s in r:
        i = idx[s.fileno()]
        d, sa = s.recvfrom(65536)
        errs.append('client %d got an extra datagram %r from %s' % (i, d[:12], fmt(sa)))
    for i in range(n):
        if got[i] != k:
            errs.append('client %d (%s) got %d of its %d datagrams back' %
                (i, fmt(cl[i].getsockname()), got[i], k))
    if errs:
        die('; '.join(errs[:10]) + (' (%d errors)' % len(errs)))
    for i in range(n):
        print('%s %d' % (fmt(cl[i].getsockname()), nbytes[i]))
elif cmd == 'send':
    # send DST PORT SRC SPORT WAIT [-c] [-nWANT] PAYLOAD...: from
    # SRC:SPORT (0: the kernel picks; -c: connect()ed to DST:PORT), send
    # each PAYLOAD (text, rand:N, empty); print "L PEER", then for each
    # reply, until WANT (default: as many as payloads) came or WAIT
    # seconds passed, "R FROM LEN I", I the index of the payload it
    # equals, or -1.
    dst, port, src, sport, wait = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
    args = sys.argv[7:]
    conn = False
    if args and args[0] == '-c':
        conn = True
        args = args[1:]
    want = None
    if args and args[0].startswith('-n'):
        want = int(args[0][2:])
        args = args[1:]
    if want is None:
        want = len(args)
    s = socket.socket(fam(dst), socket.SOCK_DGRAM)
    s.bind((src, sport))
    if conn:
        s.connect((dst, port))
    print('L %s' % fmt(s.getsockname()), flush=True)
    ps = [payload(a) for a in args]
    for d in ps:
        if conn:
            s.send(d)
        else:
            s.sendto(d, (dst, port))
    end = time.time() + wait
    n = 0
    while n < want:
        left = end - time.time()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            break
        try:
            d, sa = s.recvfrom(65536)
        except ConnectionRefusedError:
            print('E refused', flush=True)
            continue
        i = ps.index(d) if d in ps else -1
        print('R %s %d %d' % (fmt(sa), len(d), i), flush=True)
        n += 1
elif cmd == 'multi':
    # multi PORT SRC SPORT WAIT DST...: one socket sends the text DST to
    # each DST:PORT; prints "L PEER", then "R FROM PAYLOAD" a reply.
    port, src, sport, wait = int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    dsts = sys.argv[6:]
    s = usock(src, sport)
    print('L %s' % fmt(s.getsockname()), flush=True)
    for d in dsts:
        s.sendto(d.encode(), (d, port))
    end = time.time() + wait
    n = 0
    while n < len(dsts):
        left = end - time.time()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            break
        d, sa = s.recvfrom(65536)
        print('R %s %s' % (fmt(sa), d.decode(errors='replace')), flush=True)
        n += 1
elif cmd == 'burst':
    # burst DST PORT SRC N WAIT: N sockets on SRC each send one
    # datagram; prints the number of distinct source ports and of the
    # replies within WAIT seconds (every socket stays open until then).
    dst, port, src, n, wait = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
    cl = [usock(src) for _ in range(n)]
    for i, s in enumerate(cl):
        s.sendto(b'burst%d' % i, (dst, port))
    ports = {s.getsockname()[1] for s in cl}
    got = 0
    end = time.time() + wait
    while True:
        left = end - time.time()
        if left <= 0:
            break
        r, _, _ = select.select(cl, [], [], left)
        if not r:
            break
        for s in r:
            s.recvfrom(65536)
            got += 1
    print(len(ports), got)
else:
    die('unknown command ' + cmd)
EOF

# u ARGS...: the python3 client, bounded.
u()
{
	timeout 30 python3 "$T/u.py" "$@"
}

# bg CMD...: run CMD in the background, under timeout(1), tracked for
# the cleanup; BG is its PID.
bg()
{
	timeout 110 "$@" &
	BG=$!
	PIDS+=("$BG")
}

# target NAME ADDR PORT [REPEAT GAP]: an echo target recording its
# senders in $T/NAME.peers; waits until it is bound.
target()
{
	local name=$1 addr=$2 port=$3

	shift 3
	: >"$T/$name.peers"
	bg python3 "$T/u.py" echo "$addr" "$port" "$T/$name.peers" "$@"
	wait_udp "$port" "$addr" || fail "target $name: nothing bound on udp $(addr_port "$addr" "$port")"
}

# wait_udp PORT ADDR: until a UDP socket is bound there (ss), at most 5s.
# ADDR :: also matches a dual-stack socket, which ss shows as *:PORT.
wait_udp()
{
	local want alt=

	want=$(addr_port "$2" "$1")
	[ "$2" = :: ] && alt="*:$1"
	for _ in $(seq 1 50); do
		ss -lunH "( sport = :$1 )" 2>/dev/null |
		    awk -v w="$want" -v a="$alt" '$4 == w || (a != "" && $4 == a) {
		    f = 1 } END { exit !f }' && return 0
		sleep 0.1
	done
	return 1
}

# re STRING: STRING as an extended regex (dots and brackets escaped).
re()
{
	printf '%s' "$1" | sed -e 's/[].[]/\\&/g'
}

# send ARGS...: u.py send, its output in OUT, the client's peer in PEER.
send()
{
	OUT=$(u send "$@") || fail "udp client 'send $*' failed: $OUT"
	PEER=$(printf '%s\n' "$OUT" | sed -n 's/^L //p')
	[ -n "$PEER" ] || fail "udp client 'send $*' printed no local address"
}

# answered WHAT FROM N: OUT has exactly N replies, all from FROM, and
# equal to what was sent.
answered()
{
	local n bad

	n=$(printf '%s\n' "$OUT" | grep -c '^R ')
	bad=$(printf '%s\n' "$OUT" | awk -v f="$2" '$1 == "R" && ($2 != f || $4 < 0)')
	[ "$n" = "$3" ] && [ -z "$bad" ] ||
	    fail "$1: expected $3 replies equal to what was sent, from $2; got $n: $(printf '%s' "$OUT" | tr '\n' ' ')"
}

# unanswered WHAT: OUT has no reply.
unanswered()
{
	printf '%s\n' "$OUT" | grep -q '^R ' &&
	    fail "$1: must get no answer, got: $(printf '%s' "$OUT" | tr '\n' ' ')"
	return 0
}

# conns_of SERVICE PEER: the conn ids of its accept lines, in order.
conns_of()
{
	awk -v s="service=$1" -v p="peer=$2" '$2 == s && $3 == "action=accept" &&
	    $5 == p { sub(/^conn=/, "", $1); print $1 }' "$LOG"
}

# accept_of SERVICE PEER: the single conn id of that peer, or fail.
accept_of()
{
	local c

	c=$(conns_of "$1" "$2")
	[ -n "$c" ] && [ "$(echo "$c" | wc -l)" = 1 ] ||
	    fail "service $1: expected one accept line for peer $2, got conn ids: $(printf '%s' "$c" | tr '\n' ' ')"
	echo "$c"
}

# close_of CONN [TIMEOUT]: its close line, waited for (default 10s).
close_of()
{
	local n i line

	n=$(awk -v t="${2:-10}" 'BEGIN { printf "%d", t * 20 }')
	for i in $(seq 1 "$n"); do
		line=$(log_line_of "$1" close)
		[ -n "$line" ] && break
		sleep 0.05
	done
	[ -n "$line" ] || fail "no close line for conn=$1 within ${2:-10}s"
	echo "$line"
}

# expect LINE KEY VALUE: the field has that value (VALUE "": absent).
expect()
{
	local v

	v=$(field "$1" "$2")
	[ "$v" = "$3" ] ||
	    fail "expected $2=${3:-(none)} in: $1"
}

# count_of SERVICE N ACTION [TIMEOUT]: until SERVICE has at least N lines
# of ACTION (default 10s); then exactly N, or fail.
count_of()
{
	local re="^conn=[0-9]+ service=$1 action=$3 " n i

	n=$(awk -v t="${4:-10}" 'BEGIN { printf "%d", t * 20 }')
	for i in $(seq 1 "$n"); do
		[ "$(log_count "$re")" -ge "$2" ] && break
		sleep 0.05
	done
	[ "$(log_count "$re")" = "$2" ] ||
	    fail "service $1: $(log_count "$re") $3 lines, expected $2"
}

conf=$T/udpredirect.conf
cat >"$conf" <<EOF
stop_grace = 1s

# wild and wild46 have no address key: the defaults bind wild to 0.0.0.0
# and ::, and wild46 (v6only = false) to :: alone.
defaults {
  protocol = udp
}

# 1: the default per_source (16) and instances (64) hold 50 clients on
# five addresses.
service many {
  address  = {127.0.0.1}
  port     = 3001
  redirect = "127.0.0.1:4001"
  udp_session_timeout = 2s
}

service wild {
  port     = 3002
  redirect = "127.0.0.1:4002"
  udp_session_timeout = 2s
}

service wild46 {
  v6only   = false
  port     = 3013
  redirect = "127.0.0.1:4002"
  udp_session_timeout = 2s
}

service expire {
  address  = {127.0.0.1}
  port     = 3003
  redirect = "127.0.0.1:4003"
  udp_session_timeout = 1s
}

service src9 {
  address  = {127.0.0.1}
  port     = 3006
  redirect = "127.0.0.1:4006"
  redirect_source = "127.0.0.9"
}

service full {
  address  = {127.0.0.1}
  port     = 3004
  redirect = "127.0.0.1:4004"
  udp_sessions = 2
  udp_session_timeout = 4s
}

service down {
  address  = {127.0.0.1}
  port     = 3005
  redirect = "127.0.0.1:4005"
  udp_session_timeout = 1s
}

service nosrc {
  address  = {127.0.0.1}
  port     = 3014
  redirect = "[::1]:4011"
  redirect_source = "fd00:7a::3"
}

service acl {
  address  = {127.0.0.1}
  port     = 3007
  redirect = "127.0.0.1:4007"
  allow    = {127.0.0.1/32}
}

service persrc {
  address  = {127.0.0.1}
  port     = 3008
  redirect = "127.0.0.1:4008"
  per_source = 1
  udp_session_timeout = 2s
}

service inst {
  address   = {127.0.0.1}
  port      = 3015
  redirect  = "127.0.0.1:4008"
  instances = 1
}

service rated {
  address   = {127.0.0.1}
  port      = 3009
  redirect  = "127.0.0.1:4009"
  rate      = 2/1m
  ban_after = 2/1m
}

service cut {
  address  = {127.0.0.1}
  port     = 3010
  redirect = "127.0.0.1:4010"
}

service trap {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2323
  builtin  = trap
}

service v6 {
  address  = {127.0.0.1, ::1}
  port     = 3011
  redirect = "[::1]:4011"
  udp_session_timeout = 1s
}

service hold {
  address  = {127.0.0.1}
  port     = 3012
  redirect = "127.0.0.1:4012"
}
EOF

start_daemon "$conf"
for p in 3001 3003 3004 3005 3006 3007 3008 3009 3010 3012 3014 3015; do
	wait_udp $p 127.0.0.1 || fail "nothing bound on udp 127.0.0.1:$p"
done
wait_udp 3002 0.0.0.0 || fail "service wild is not bound on udp 0.0.0.0:3002"
wait_udp 3002 :: || fail "service wild is not bound on udp [::]:3002"
wait_udp 3013 :: || fail "service wild46 is not bound on udp [::]:3013"
wait_udp 3011 ::1 || fail "service v6 is not bound on udp [::1]:3011"
wait_listen 2323 127.0.0.1 || fail "the trap does not listen"

# 1. 50 clients, each its own answers.
target many 127.0.0.1 4001
u many 127.0.0.1 3001 127.0.0.11:10,127.0.0.12:10,127.0.0.13:10,127.0.0.14:10,127.0.0.15:10 4 \
    >"$T/many.out" 2>"$T/many.err" ||
    fail "part 1: $(cat "$T/many.err")"
[ "$(wc -l <"$T/many.out")" = 50 ] || fail "part 1: the client printed $(wc -l <"$T/many.out") clients, not 50"
count_of many 50 accept 2
while read -r peer bytes; do
	c=$(accept_of many "$peer") || exit $?
	grep -Eq "^conn=$c service=many action=accept proto=udp peer=$(re "$peer") local=127\\.0\\.0\\.1:3001\$" "$LOG" ||
	    fail "part 1: the accept line of $peer is not 'conn=$c ... proto=udp peer=$peer local=127.0.0.1:3001'"
	echo "$c $peer $bytes"
done <"$T/many.out" >"$T/many.conns" || exit $?
[ "$(wc -l <"$T/many.peers")" = 200 ] ||
    fail "part 1: the target got $(wc -l <"$T/many.peers") datagrams, expected 200"
n=$(awk '{ print $1 }' "$T/many.peers" | sort -u | wc -l)
[ "$n" = 50 ] || fail "part 1: the target saw $n distinct senders, expected 50 (a socket per session)"
awk '$1 !~ /^127\.0\.0\.1:[0-9]+$/ { exit 1 }' "$T/many.peers" ||
    fail "part 1: the target saw a sender other than 127.0.0.1: $(grep -v '^127\.0\.0\.1:' "$T/many.peers" | head -1)"
count_of many 50 close 10
while read -r c peer bytes; do
	line=$(close_of "$c") || exit $?
	expect "$line" bytes_in "$bytes"
	expect "$line" bytes_out "$bytes"
	expect "$line" datagrams_in 4
	expect "$line" datagrams_out 4
	expect "$line" target 127.0.0.1:4001
	expect "$line" reason ""
	expect "$line" error ""
	expect "$line" proto udp
	d=$(field "$line" duration_ms)
	[ "$d" -ge 2000 ] && [ "$d" -lt 4000 ] ||
	    fail "part 1: udp_session_timeout = 2s, a session lasted ${d}ms (expected 2000 to 3999): $line"
done <"$T/many.conns"

# 2. Answers from the address the client wrote to, on a wildcard socket.
target wild 127.0.0.1 4002
send 127.0.0.2 3002 127.0.0.1 0 3 -c hello
answered "part 2: a client connected to 127.0.0.2:3002" 127.0.0.2:3002 1
c=$(accept_of wild "$PEER") || exit $?
grep -Eq "^conn=$c service=wild action=accept proto=udp peer=$(re "$PEER") local=127\\.0\\.0\\.2:3002\$" "$LOG" ||
    fail "part 2: no 'action=accept proto=udp peer=$PEER local=127.0.0.2:3002' line"
OUT=$(u multi 3002 127.0.0.1 23002 3 127.0.0.2 127.0.0.3 127.0.0.4) ||
    fail "part 2: the multi client failed: $OUT"
for a in 127.0.0.2 127.0.0.3 127.0.0.4; do
	printf '%s\n' "$OUT" | grep -qx "R $a:3002 $a" ||
	    fail "part 2: one socket writing to 127.0.0.2, .3, .4: no answer '$a' from $a:3002: $(printf '%s' "$OUT" | tr '\n' ' ')"
	grep -Eq "^conn=[0-9]+ service=wild action=accept proto=udp peer=127\\.0\\.0\\.1:23002 local=$(re "$a"):3002\$" "$LOG" ||
	    fail "part 2: no session of 127.0.0.1:23002 with local=$a:3002"
done
[ "$(printf '%s\n' "$OUT" | grep -c '^R ')" = 3 ] || fail "part 2: not 3 answers: $(printf '%s' "$OUT" | tr '\n' ' ')"
[ "$(conns_of wild 127.0.0.1:23002 | wc -l)" = 3 ] ||
    fail "part 2: 127.0.0.1:23002 writing to three addresses must have three sessions, has $(conns_of wild 127.0.0.1:23002 | wc -l)"
for a in ::1 "$ULA"; do
	send "$a" 3002 ::1 0 3 -c hello6
	answered "part 2: a client on ::1 connected to [$a]:3002" "[$a]:3002" 1
	c=$(accept_of wild "$PEER") || exit $?
	grep -Eq "^conn=$c service=wild action=accept proto=udp peer=$(re "$PEER") local=$(re "[$a]"):3002\$" "$LOG" ||
	    fail "part 2: no 'action=accept proto=udp peer=$PEER local=[$a]:3002' line"
done

# The dual-stack socket: IPv4 clients arrive mapped.
for a in 127.0.0.2 ::1; do
	src=127.0.0.1
	[ "$a" = ::1 ] && src=::1
	send "$a" 3013 "$src" 0 3 -c hello46
	answered "part 2: a client on $src connected to $(addr_port "$a" 3013) (v6only = false)" "$(addr_port "$a" 3013)" 1
	c=$(accept_of wild46 "$PEER") || exit $?
	grep -Eq "^conn=$c service=wild46 action=accept proto=udp peer=$(re "$PEER") local=$(re "$(addr_port "$a" 3013)")\$" "$LOG" ||
	    fail "part 2: no 'action=accept proto=udp peer=$PEER local=$(addr_port "$a" 3013)' line"
done

# 3. Expiry.  The target answers 5 times, 0.25s apart: the answers alone
# keep the session alive past udp_session_timeout (1s).
target expire 127.0.0.1 4003 5 0.25
send 127.0.0.1 3003 127.0.0.1 23003 5 -n5 tick
answered "part 3: 5 answers to one datagram" 127.0.0.1:3003 5
c1=$(accept_of expire 127.0.0.1:23003) || exit $?
line=$(close_of "$c1") || exit $?
expect "$line" reason ""
expect "$line" datagrams_in 1
expect "$line" datagrams_out 5
expect "$line" bytes_in 4
expect "$line" bytes_out 20
d=$(field "$line" duration_ms)
[ "$d" -ge 2000 ] && [ "$d" -lt 4000 ] ||
    fail "part 3: answers for 1s then 1s of silence: duration_ms=$d, expected 2000 to 3999: $line"
send 127.0.0.1 3003 127.0.0.1 23003 5 -n5 tock
answered "part 3: the same client after expiry" 127.0.0.1:3003 5
ids=$(conns_of expire 127.0.0.1:23003 | tr '\n' ' ')
read -r id1 id2 rest <<<"$ids"
[ "$id1" = "$c1" ] && [ -n "$id2" ] && [ -z "$rest" ] && [ "$id2" -gt "$c1" ] ||
    fail "part 3: after expiry a datagram from the same port must open a new session: conn ids of 127.0.0.1:23003: $ids"

# 4. redirect_source, sizes, sources.
target src9 127.0.0.1 4006
send 127.0.0.1 3006 127.0.0.1 23006 5 rand:65507 empty hi
answered "part 4: a 65507-byte, an empty and a short datagram" 127.0.0.1:3006 3
for i in 0 1 2; do
	printf '%s\n' "$OUT" | grep -Eq "^R 127\\.0\\.0\\.1:3006 [0-9]+ $i\$" ||
	    fail "part 4: datagram $i did not come back: $(printf '%s' "$OUT" | tr '\n' ' ')"
done
src9_conn=$(accept_of src9 127.0.0.1:23006) || exit $?
[ "$(wc -l <"$T/src9.peers")" = 3 ] ||
    fail "part 4: the target got $(wc -l <"$T/src9.peers") datagrams, expected 3"
awk '$1 !~ /^127\.0\.0\.9:[0-9]+$/ { exit 1 }' "$T/src9.peers" ||
    fail "part 4: redirect_source 127.0.0.9: the target saw $(cut -d' ' -f1 "$T/src9.peers" | sort -u | tr '\n' ' ')"
for p in 7 13 19 37; do
	send 127.0.0.1 3006 127.0.0.$p $p 0.5 -n1 x
	unanswered "part 4: source port $p"
	wait_log "^conn=[0-9]+ service=src9 action=refuse proto=udp peer=127\\.0\\.0\\.$p:$p reason=badsrc\$" ||
	    fail "part 4: no 'action=refuse proto=udp peer=127.0.0.$p:$p reason=badsrc' line"
done
for p in 123 1000; do
	send 127.0.0.1 3006 127.0.0.1 $p 3 x
	answered "part 4: source port $p" 127.0.0.1:3006 1
done
[ "$(wc -l <"$T/src9.peers")" = 5 ] ||
    fail "part 4: the target got $(wc -l <"$T/src9.peers") datagrams, expected 5: a badsrc one went through"

# 5. udp_sessions = 2.
target full 127.0.0.1 4004
for p in 24001 24002; do
	send 127.0.0.1 3004 127.0.0.1 $p 3 "a$p"
	answered "part 5: client $p" 127.0.0.1:3004 1
done
send 127.0.0.1 3004 127.0.0.1 24003 0.5 -n1 c
unanswered "part 5: a third client with udp_sessions = 2"
wait_log "^conn=[0-9]+ service=full action=refuse proto=udp peer=127\\.0\\.0\\.1:24003 reason=overload msg=\"udp_sessions 2 full\"\$" ||
    fail "part 5: no 'action=refuse proto=udp peer=127.0.0.1:24003 reason=overload msg=\"udp_sessions 2 full\"' line"
OUT=$(u burst 127.0.0.1 3004 127.0.0.21 200 0.5) || fail "part 5: the burst client failed"
[ "$OUT" = "200 0" ] ||
    fail "part 5: 200 clients while full: '$OUT', expected 200 distinct ports and no answer"
ovl="^conn=[0-9]+ service=full action=refuse proto=udp peer=[0-9.]+:[0-9]+ reason=overload msg=\"udp_sessions 2 full\"( repeat=[0-9]+)?\$"
n=$(log_count "$ovl")
[ "$n" -ge 1 ] && [ "$n" -le 3 ] ||
    fail "part 5: 201 refused clients within about a second gave $n log lines, expected 1 to 3"
# The lines are a second apart: after a second, the next refusal is
# logged, with the count of those not logged.  The clients that have a
# session are still served meanwhile.
sleep 1.2
for p in 24001 24002; do
	send 127.0.0.1 3004 127.0.0.1 $p 3 "b$p"
	answered "part 5: client $p, still in the table" 127.0.0.1:3004 1
done
send 127.0.0.1 3004 127.0.0.1 24004 0.5 -n1 d
unanswered "part 5: another client while full"
wait_log "^conn=[0-9]+ service=full action=refuse proto=udp peer=127\\.0\\.0\\.1:24004 reason=overload msg=\"udp_sessions 2 full\" repeat=[0-9]+\$" ||
    fail "part 5: a second after the burst, no refuse line with repeat= for 127.0.0.1:24004"
total=$(grep -E "$ovl" "$LOG" | awk '{ n++; for (i = 1; i <= NF; i++)
    if ($i ~ /^repeat=/) { sub(/^repeat=/, "", $i); n += $i } } END { print n + 0 }')
[ "$total" = 202 ] ||
    fail "part 5: the overload lines and their repeat= count $total refused clients, expected 202: $(grep -E "$ovl" "$LOG" | tr '\n' '|')"
[ "$(log_count '^conn=[0-9]+ service=full action=accept ')" = 2 ] ||
    fail "part 5: $(log_count '^conn=[0-9]+ service=full action=accept ') sessions opened with udp_sessions = 2"
count_of full 2 close 10
send 127.0.0.1 3004 127.0.0.1 24005 3 e
answered "part 5: a new client once the table emptied" 127.0.0.1:3004 1
accept_of full 127.0.0.1:24005 >/dev/null || exit $?

# 6. Target down.
send 127.0.0.1 3005 127.0.0.1 0 0.5 -n1 x y
unanswered "part 6: target down"
c=$(accept_of down "$PEER") || exit $?
line=$(close_of "$c") || exit $?
expect "$line" reason connect
case "$line" in
*' error="Connection refused"'*) ;;
*) fail "part 6: no error=\"Connection refused\" in: $line" ;;
esac
expect "$line" datagrams_in 2
expect "$line" datagrams_out 0
expect "$line" target 127.0.0.1:4005

send 127.0.0.1 3014 127.0.0.1 0 0.5 -n1 x
unanswered "part 6: redirect_source not on this host"
c=$(accept_of nosrc "$PEER") || exit $?
line=$(close_of "$c" 2) || exit $?
expect "$line" reason connect
expect "$line" datagrams_out 0
expect "$line" target "[::1]:4011"
case "$line" in
*' error="Cannot assign requested address"'*) ;;
*) fail "part 6: no error=\"Cannot assign requested address\" in: $line" ;;
esac

# 7. ACL and per_source.
target acl 127.0.0.1 4007
send 127.0.0.1 3007 127.0.0.3 0 0.5 -n1 a1 a2 a3 a4 a5
unanswered "part 7: 127.0.0.3, outside allow"
wait_log "^conn=[0-9]+ service=acl action=refuse proto=udp peer=$(re "$PEER") reason=acl\$" ||
    fail "part 7: no 'action=refuse proto=udp peer=$PEER reason=acl' line"
wait_log "^service=acl action=refuse proto=udp peer=127\\.0\\.0\\.3/32 reason=acl repeat=4\$" 5 ||
    fail "part 7: no summary 'service=acl action=refuse proto=udp peer=127.0.0.3/32 reason=acl repeat=4' for the 4 other datagrams"
[ "$(log_count '^conn=[0-9]+ service=acl action=refuse ')" = 1 ] ||
    fail "part 7: 5 refused datagrams within a second gave $(log_count '^conn=[0-9]+ service=acl action=refuse ') refuse lines, expected 1"
send 127.0.0.1 3007 127.0.0.1 0 3 ok
answered "part 7: 127.0.0.1, in allow" 127.0.0.1:3007 1
[ "$(wc -l <"$T/acl.peers")" = 1 ] ||
    fail "part 7: the target got $(wc -l <"$T/acl.peers") datagrams, expected only the allowed one"

target persrc 127.0.0.1 4008
send 127.0.0.1 3008 127.0.0.1 28001 3 one
answered "part 7: per_source, the first client" 127.0.0.1:3008 1
send 127.0.0.1 3008 127.0.0.1 28002 0.5 -n1 two
unanswered "part 7: per_source = 1, a second port of 127.0.0.1"
wait_log "^conn=[0-9]+ service=persrc action=refuse proto=udp peer=127\\.0\\.0\\.1:28002 reason=per_source\$" ||
    fail "part 7: no 'action=refuse proto=udp peer=127.0.0.1:28002 reason=per_source' line"
send 127.0.0.1 3008 127.0.0.4 28003 3 three
answered "part 7: per_source, another source" 127.0.0.1:3008 1
c=$(accept_of persrc 127.0.0.1:28001) || exit $?
close_of "$c" >/dev/null || exit $?
send 127.0.0.1 3008 127.0.0.1 28002 3 four
answered "part 7: per_source, the second port once the first session ended" 127.0.0.1:3008 1

send 127.0.0.1 3015 127.0.0.1 0 3 in1
answered "part 7: instances = 1, the first client" 127.0.0.1:3015 1
send 127.0.0.1 3015 127.0.0.2 0 0.5 -n1 in2
unanswered "part 7: instances = 1, a client of another source"
wait_log "^conn=[0-9]+ service=inst action=refuse proto=udp peer=$(re "$PEER") reason=instances\$" ||
    fail "part 7: no 'action=refuse proto=udp peer=$PEER reason=instances' line"

# 8. rate: no ban from UDP.  A ban from a TCP trap cuts a session.
target rated 127.0.0.1 4009
OUT=$(u burst 127.0.0.1 3009 127.0.0.5 20 0.5) || fail "part 8: the burst client failed"
[ "$OUT" = "20 2" ] ||
    fail "part 8: 20 clients of 127.0.0.5 with rate = 2/1m: '$OUT', expected 20 ports and 2 answers"
wait_log '^conn=[0-9]+ service=rated action=refuse proto=udp peer=127\.0\.0\.5:[0-9]+ reason=rate$' ||
    fail "part 8: no reason=rate refuse line"
wait_log '^service=rated action=refuse proto=udp peer=127\.0\.0\.5/32 reason=rate repeat=17$' 5 ||
    fail "part 8: no summary 'service=rated action=refuse proto=udp peer=127.0.0.5/32 reason=rate repeat=17'"
[ "$(log_count '^conn=[0-9]+ service=rated action=accept ')" = 2 ] ||
    fail "part 8: $(log_count '^conn=[0-9]+ service=rated action=accept ') sessions with rate = 2/1m"
send 127.0.0.1 3001 127.0.0.5 0 3 still
answered "part 8: 127.0.0.5 after its rate refusals (no ban)" 127.0.0.1:3001 1
grep -E 'action=ban ' "$LOG" && fail "part 8: UDP refusals started a ban"

target cut 127.0.0.1 4010
send 127.0.0.1 3010 127.0.0.6 26001 3 before
answered "part 8: 127.0.0.6 before its ban" 127.0.0.1:3010 1
c=$(accept_of cut 127.0.0.6:26001) || exit $?
timeout 3 socat -t1 - TCP4:127.0.0.1:2323,bind=127.0.0.6 </dev/null >/dev/null 2>&1
wait_log '^action=ban peer=127\.0\.0\.6/32 reason=trap ' || fail "part 8: the trap did not ban 127.0.0.6"
send 127.0.0.1 3010 127.0.0.6 26001 0.5 -n1 after
unanswered "part 8: the banned session's next datagram"
line=$(close_of "$c" 5) || exit $?
expect "$line" reason banned
expect "$line" datagrams_in 1
send 127.0.0.1 3010 127.0.0.6 26002 0.5 -n1 new
unanswered "part 8: a new client of banned 127.0.0.6"
wait_log '^conn=[0-9]+ service=cut action=refuse proto=udp peer=127\.0\.0\.6:26002 reason=banned$' ||
    fail "part 8: no 'action=refuse proto=udp peer=127.0.0.6:26002 reason=banned' line"
[ "$(wc -l <"$T/cut.peers")" = 1 ] ||
    fail "part 8: the target got $(wc -l <"$T/cut.peers") datagrams, expected 1 (none after the ban)"

# 9. IPv6 target.
target v6 ::1 4011
send 127.0.0.1 3011 127.0.0.1 0 3 four
answered "part 9: IPv4 client, IPv6 target" 127.0.0.1:3011 1
c4=$(accept_of v6 "$PEER") || exit $?
send ::1 3011 ::1 0 3 six
answered "part 9: IPv6 client, IPv6 target" "[::1]:3011" 1
c6=$(accept_of v6 "$PEER") || exit $?
awk '$1 !~ /^\[::1\]:[0-9]+$/ { exit 1 }' "$T/v6.peers" ||
    fail "part 9: the target saw $(cut -d' ' -f1 "$T/v6.peers" | tr '\n' ' ')"
for c in $c4 $c6; do
	line=$(close_of "$c") || exit $?
	expect "$line" target "[::1]:4011"
	expect "$line" datagrams_out 1
	expect "$line" reason ""
done

# 10. Reload, then stop.
target hold 127.0.0.1 4012
send 127.0.0.1 3012 127.0.0.1 29001 3 held
answered "part 10: a session before the reload" 127.0.0.1:3012 1
c=$(accept_of hold 127.0.0.1:29001) || exit $?
kill -HUP "$MONPID"
wait_log '^action=reload generation=2 ' 10 || fail "part 10: no reload line"
line=$(close_of "$c") || exit $?
expect "$line" reason stop
line=$(close_of "$src9_conn") || exit $?
expect "$line" reason stop
expect "$line" bytes_in 65509
expect "$line" bytes_out 65509
expect "$line" datagrams_in 3
expect "$line" datagrams_out 3
expect "$line" target 127.0.0.1:4006
for i in $(seq 1 10); do
	send 127.0.0.1 3012 127.0.0.1 29001 0.5 again
	printf '%s\n' "$OUT" | grep -q '^R ' && break
done
answered "part 10: the client after the reload" 127.0.0.1:3012 1
c2=$(conns_of hold 127.0.0.1:29001 | tail -1)
[ -n "$c2" ] && [ "$c2" != "$c" ] || fail "part 10: no new session after the reload"
stop_daemon
[ "$DAEMON_RC" = 0 ] || fail "portmuxd exited $DAEMON_RC on SIGTERM"
line=$(close_of "$c2" 2) || exit $?
expect "$line" reason stop
expect "$line" datagrams_in 1
expect "$line" datagrams_out 1

ok
