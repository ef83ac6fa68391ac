#!/bin/bash
# TCP port forwarding (portmux.conf(5) redirect, redirect_source,
# redirect_timeout, redirect_buffer, timeout; src/relay.c).  A redirect
# service must be a faithful pipe between the client and the target, in
# both directions, that never costs the engine more than redirect_buffer
# per direction, never hangs on a target that is down or silent, and is
# subject to the same gatekeeping as any other service.  Every target
# here is a real listener on loopback (socat or a small python3 server);
# the clients are socat, or python3 where socat cannot say it (send only
# after the target's EOF; abort with a RST).  Every wait is a bounded
# poll on a condition.
#
#  1. 100 MiB of random bytes client -> target, and 100 MiB target ->
#     client, arrive with the same sha256; the close line counts
#     bytes_in (client -> target) and bytes_out (target -> client)
#     exactly, and has no reason.
#  2. Half-close is passed on, both ways: the client sends "hello" and
#     shuts its write side; the target reads to EOF and only then
#     answers; the client still gets the answer.  And the mirror: the
#     target sends a banner and shuts its write side; the client reads
#     to EOF and only then sends; the target still gets it.  A relay
#     that closed both ways on the first EOF, or did not pass an EOF on,
#     fails here.
#  3. Back pressure: a target that accepts but does not read while the
#     client offers 64 MiB.  The engine must stop reading the client
#     (bytes wait in the kernel's socket buffers: the engine's socket
#     from the client keeps a non-empty receive queue) and its VmRSS must
#     stay within 8 MiB of its figure before the connection.  Once the
#     target reads, all 64 MiB arrive intact.
#  4. Target down (no listener): the client is closed at once, the close
#     line has reason=connect and error="Connection refused".
#  5. Target silent: a listener whose accept queue is full drops the
#     SYN, so the connect can only time out: with redirect_timeout = 1s
#     the client is closed after about 1s (bounded), reason=connect,
#     error="Connection timed out".  A blackhole route (in this test's
#     own network namespace) makes connect() fail at once with EINVAL:
#     closed at once, reason=connect, error="Invalid argument".
#  6. redirect_source = 127.0.0.7: the target sees that peer address.
#  7. redirect = "localhost:PORT": a name resolved at load works.
#  8. An ACL on a redirect service refuses with reason=acl and the target
#     sees no connection for it; per_source = 1 refuses a second relayed
#     connection from the same source (reason=per_source) but not one
#     from another source, and frees the slot when the first ends.
#  9. Idle timeout: timeout = 1s with both sides silent closes the relay
#     after about 1s, reason=timeout.
# 10. IPv6: redirect = "[::1]:PORT" to a socat listener on ::1, from an
#     IPv4 and from an IPv6 client.
# 11. A name with two addresses (an /etc/hosts of this test's own mount
#     namespace): the first, in the order getaddrinfo() gives them, has
#     no listener; the relay reaches the second.
# 12. A client that aborts (RST) ends the relay with reason=reset, and
#     the target sees a reset too, not an EOF that a whole upload ends with.
# 13. A relay still open at stop ends after stop_grace with reason=stop.
. "$(dirname "$0")/lib.sh"

need_cmd python3 sha256sum ip head date

# Part 5 adds a route, part 11 mounts over /etc/hosts: only in network
# and mount namespaces of our own (run.sh).
for ns in net mnt; do
	[ "$(stat -L -c %i /proc/self/ns/$ns)" = \
	    "$(stat -L -c %i /proc/1/ns/$ns 2>/dev/null)" ] &&
	    fail "not in a $ns namespace of its own: run it through run.sh"
done

BIG=104857600		# part 1, 100 MiB
MID=67108864		# part 3, 64 MiB
HOLE=10.66.0.1		# part 5, blackholed

conf=$T/redirect.conf
cat >"$conf" <<EOF
stop_grace = 1s

defaults {
  protocol  = tcp
  address   = {127.0.0.1}
  ban_after = 100000/1m
}

service up {
  port     = 3001
  redirect = "127.0.0.1:4001"
}

service down {
  port     = 3002
  redirect = "127.0.0.1:4002"
}

service half {
  port     = 3003
  redirect = "127.0.0.1:4003"
}

service stall {
  port     = 3004
  redirect = "127.0.0.1:4004"
}

service dead {
  port     = 3005
  redirect = "127.0.0.1:4005"
}

service silent {
  port     = 3006
  redirect = "127.0.0.1:4006"
  redirect_timeout = 1s
}

service hole {
  port     = 3016
  redirect = "$HOLE:80"
  redirect_timeout = 1s
}

service src {
  port     = 3007
  redirect = "127.0.0.1:4007"
  redirect_source = "127.0.0.7"
}

service named {
  port     = 3008
  redirect = "localhost:4008"
}

service acl {
  port     = 3009
  redirect = "127.0.0.1:4009"
  allow    = {127.0.0.1/32}
}

service persrc {
  port       = 3010
  redirect   = "127.0.0.1:4010"
  per_source = 1
}

service idle {
  port     = 3011
  redirect = "127.0.0.1:4011"
  timeout  = 1s
}

service six {
  port     = 3012
  address  = {127.0.0.1, ::1}
  redirect = "[::1]:4012"
}

service rhalf {
  port     = 3013
  redirect = "127.0.0.1:4013"
}

service multi {
  port     = 3014
  redirect = "multi.test:4014"
}

service reset {
  port     = 3015
  redirect = "127.0.0.1:4015"
}

service hold {
  port     = 3017
  redirect = "127.0.0.1:4017"
}
EOF

# The python3 targets.
#   stall PORT FLAG OUT   accept one connection; read nothing until FLAG
#                         exists, then read to EOF; OUT: "BYTES SHA256"
#   peer PORT OUT         accept one connection; OUT: the peer's address;
#                         send "ok", close
#   echo PORT LOG GREET   accept any number; append each peer's address
#                         to LOG, send "hi" if GREET is 1, echo to EOF
#   full PORT             listen(0) and fill the accept queue with one
#                         connection of its own: later SYNs are dropped
#   banner PORT OUT       accept one connection; send "banner", shut the
#                         write side, read to EOF into OUT
# and the python3 clients:
#   after PORT            read to EOF, print it; then send "after", shut
#                         the write side, read to EOF
#   abort PORT            send "abc", read the echo, then reset
# Every one gives up after 60s.
cat >"$T/target.py" <<'EOF'
import hashlib, os, socket, struct, sys, threading, time

def put(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)

def readall(c):
    got = b""
    while True:
        b = c.recv(65536)
        if not b:
            return got
        got += b

def listener(port, backlog=16):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(backlog)
    return s

def echo(c, greet):
    try:
        if greet:
            c.sendall(b"hi\n")
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
        c.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    c.close()

mode, port = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 60
if mode == "stall":
    flag, out = sys.argv[3], sys.argv[4]
    l = listener(port)
    c, _ = l.accept()
    while not os.path.exists(flag):
        if time.monotonic() > deadline:
            sys.exit(2)
        time.sleep(0.05)
    h, n = hashlib.sha256(), 0
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    put(out, "%d %s\n" % (n, h.hexdigest()))
    c.close()
elif mode == "peer":
    out = sys.argv[3]
    l = listener(port)
    c, _ = l.accept()
    put(out, c.getpeername()[0] + "\n")
    c.sendall(b"ok\n")
    c.close()
elif mode == "echo":
    log, greet = sys.argv[3], sys.argv[4] == "1"
    l = listener(port)
    l.settimeout(1)
    while time.monotonic() < deadline:
        try:
            c, a = l.accept()
        except socket.timeout:
            continue
        c.settimeout(None)
        with open(log, "a") as f:
            f.write(a[0] + "\n")
        threading.Thread(target=echo, args=(c, greet), daemon=True).start()
elif mode == "full":
    l = listener(port, 0)
    f = socket.create_connection(("127.0.0.1", port))
    while time.monotonic() < deadline:
        time.sleep(0.5)
elif mode == "banner":
    out = sys.argv[3]
    l = listener(port)
    c, _ = l.accept()
    c.sendall(b"banner\n")
    c.shutdown(socket.SHUT_WR)
    got = readall(c)
    put(out, got.decode())
    c.close()
elif mode == "after":
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    got = readall(c)
    sys.stdout.write(got.decode())
    sys.stdout.flush()
    c.sendall(b"after\n")
    c.shutdown(socket.SHUT_WR)
    while c.recv(65536):
        pass
    c.close()
elif mode == "watch":
    out = sys.argv[3]
    l = listener(port)
    c, _ = l.accept()
    how = "eof"
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
    except ConnectionResetError:
        how = "reset"
    put(out, how + "\n")
    c.close()
elif mode == "abort":
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.sendall(b"abc")
    got = b""
    while len(got) < 3:
        b = c.recv(3 - len(got))
        if not b:
            sys.exit(1)
        got += b
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
EOF

# bg CMD...: run CMD in the background, under timeout(1), tracked for the
# cleanup; BG is its PID.
bg()
{
	timeout 60 "$@" &
	BG=$!
	PIDS+=("$BG")
}

ms_now()
{
	echo $(($(date +%s%N) / 1000000))
}

# close_line SERVICE [N]: the Nth (default first) close line of SERVICE,
# waited for at most 10s.
close_line()
{
	local n=${2:-1} i

	for i in $(seq 1 200); do
		[ "$(log_count "^conn=[0-9]+ service=$1 action=close ")" -ge "$n" ] &&
		    break
		sleep 0.05
	done
	[ "$(log_count "^conn=[0-9]+ service=$1 action=close ")" -ge "$n" ] ||
	    fail "no close line number $n of service $1"
	grep -E "^conn=[0-9]+ service=$1 action=close " "$LOG" | sed -n "${n}p"
}

# err_of LINE: the quoted error="..." of a log line.
err_of()
{
	echo "$1" | sed -n 's/.* error="\([^"]*\)".*/\1/p'
}

# expect LINE KEY VALUE: KEY=VALUE in LINE (VALUE empty: no KEY at all).
expect()
{
	local got

	got=$(field "$1" "$2")
	[ "$got" = "$3" ] ||
	    fail "expected $2=${3:-(none)}, got ${got:-(none)}, in: $1"
}

# sum FILE: its sha256.
sum()
{
	sha256sum <"$1" | cut -d' ' -f1
}

# rss PID: VmRSS in KiB.
rss()
{
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}

# recvq PORT: the receive queue of the established socket whose local
# port is PORT (there is one), in bytes.
recvq()
{
	ss -tnH state established "( sport = :$1 )" | awk 'NR == 1 { print $1 }'
}

# wait_file FILE TIMEOUT: until FILE is not empty.
wait_file()
{
	local n i

	n=$(awk -v t="$2" 'BEGIN { printf "%d", t * 20 }')
	for i in $(seq 1 "$n"); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# quick_close SERVICE PORT MAX_MS MIN_MS: a client that only reads gets
# no data and is closed within MAX_MS (and not before MIN_MS); prints
# the close line.
quick_close()
{
	local t0 t1 out

	t0=$(ms_now)
	out=$(timeout 10 socat -u "TCP4:127.0.0.1:$2" - 2>/dev/null)
	t1=$(ms_now)
	[ -z "$out" ] || fail "service $1 sent data to the client: $out"
	[ $((t1 - t0)) -lt "$3" ] ||
	    fail "service $1: the client was closed after $((t1 - t0))ms, expected less than $3ms"
	[ $((t1 - t0)) -ge "$4" ] ||
	    fail "service $1: the client was closed after $((t1 - t0))ms, expected at least $4ms"
	close_line "$1"
}

# Part 11: multi.test has two addresses, resolved at load.  Which one
# getaddrinfo() puts first (as the daemon calls it) gets no listener.
cp /etc/hosts "$T/hosts" &&
    printf '127.0.0.8 multi.test\n127.0.0.9 multi.test\n' >>"$T/hosts" &&
    chmod 644 "$T/hosts" && mount --bind "$T/hosts" /etc/hosts ||
    fail "cannot mount $T/hosts on /etc/hosts"
multi=$(python3 -c 'import socket
print(" ".join(a[4][0] for a in socket.getaddrinfo("multi.test", 4014,
    socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_NUMERICSERV)))')
case "$multi" in
"127.0.0.8 127.0.0.9" | "127.0.0.9 127.0.0.8") ;;
*) fail "multi.test resolves to '$multi', expected 127.0.0.8 and 127.0.0.9" ;;
esac
live=${multi#* }

start_daemon "$conf"
for p in 3001 3002 3003 3004 3005 3006 3016 3007 3008 3009 3010 3011 3012 \
    3013 3014 3015 3017; do
	wait_listen $p 127.0.0.1 || fail "nothing listens on 127.0.0.1:$p"
done
wait_listen 3012 ::1 || fail "nothing listens on [::1]:3012"

# 1. 100 MiB each way.
head -c $BIG /dev/urandom >"$T/data" || fail "cannot write $T/data"
bigsum=$(sum "$T/data")

bg socat -u TCP4-LISTEN:4001,bind=127.0.0.1,reuseaddr "CREATE:$T/up.out"
sink=$BG
wait_listen 4001 127.0.0.1 || fail "the sink does not listen on 4001"
timeout 60 socat -u "OPEN:$T/data" TCP4:127.0.0.1:3001 2>"$T/up.err" ||
    fail "upload client failed: $(cat "$T/up.err")"
wait_exit "$sink" 20 || fail "the sink did not see the end of the upload"
[ "$(sum "$T/up.out")" = "$bigsum" ] ||
    fail "upload: the target got $(wc -c <"$T/up.out") bytes with another sha256"
line=$(close_line up) || exit $?
expect "$line" bytes_in $BIG
expect "$line" bytes_out 0
expect "$line" reason ""
expect "$line" target 127.0.0.1:4001

bg socat -u "OPEN:$T/data" TCP4-LISTEN:4002,bind=127.0.0.1,reuseaddr
source=$BG
wait_listen 4002 127.0.0.1 || fail "the source does not listen on 4002"
timeout 60 socat -u TCP4:127.0.0.1:3002 "CREATE:$T/down.out" 2>"$T/down.err" ||
    fail "download client failed: $(cat "$T/down.err")"
[ "$(sum "$T/down.out")" = "$bigsum" ] ||
    fail "download: the client got $(wc -c <"$T/down.out") bytes with another sha256"
wait_exit "$source" 20 || fail "the download's source did not exit"
line=$(close_line down) || exit $?
expect "$line" bytes_in 0
expect "$line" bytes_out $BIG
expect "$line" reason ""
rm -f "$T/up.out" "$T/down.out"

# 2. Half-close: the target answers only after the client's EOF.
cat >"$T/half.sh" <<EOF
#!/bin/sh
cat >"$T/half.got"
echo reply
EOF
chmod 755 "$T/half.sh"
bg socat TCP4-LISTEN:4003,bind=127.0.0.1,reuseaddr "EXEC:$T/half.sh"
wait_listen 4003 127.0.0.1 || fail "the half-close target does not listen"
got=$(printf hello | timeout 10 socat -t 5 - TCP4:127.0.0.1:3003 2>"$T/half.err")
[ "$got" = reply ] ||
    fail "half-close: the client got '$got' instead of the target's reply after its EOF: $(cat "$T/half.err")"
[ "$(cat "$T/half.got")" = hello ] && [ "$(wc -c <"$T/half.got")" = 5 ] ||
    fail "half-close: the target read '$(cat "$T/half.got")', expected hello"
line=$(close_line half) || exit $?
expect "$line" bytes_in 5
expect "$line" bytes_out 6
expect "$line" reason ""

# ... and the target shuts first: the client sends only after that EOF.
bg python3 "$T/target.py" banner 4013 "$T/rhalf.got"
wait_listen 4013 127.0.0.1 || fail "the banner target does not listen"
got=$(timeout 10 python3 "$T/target.py" after 3013 2>"$T/rhalf.err")
[ "$got" = banner ] ||
    fail "half-close: the client got '$got' instead of the banner and EOF: $(cat "$T/rhalf.err")"
wait_file "$T/rhalf.got" 5 ||
    fail "half-close: the target did not get what the client sent after the target's EOF"
[ "$(cat "$T/rhalf.got")" = after ] ||
    fail "half-close: the target read '$(cat "$T/rhalf.got")', expected after"
line=$(close_line rhalf) || exit $?
expect "$line" bytes_in 6
expect "$line" bytes_out 7
expect "$line" reason ""

# 3. Back pressure: a target that does not read.
head -c $MID "$T/data" >"$T/data64"
midsum=$(sum "$T/data64")
rm -f "$T/data"
bg python3 "$T/target.py" stall 4004 "$T/stall.go" "$T/stall.res"
wait_listen 4004 127.0.0.1 || fail "the stalling target does not listen"
epid=$(engine_pid)
[ -n "$epid" ] || fail "no engine process"
base=$(rss "$epid")
bg socat -u "OPEN:$T/data64" TCP4:127.0.0.1:3004
client=$BG
# Stalled: bytes wait unread at the target and at the engine's socket
# from the client.
for i in $(seq 1 200); do
	a=$(recvq 4004)
	b=$(recvq 3004)
	[ "${a:-0}" -gt 0 ] && [ "${b:-0}" -gt 0 ] && break
	sleep 0.05
done
[ "${a:-0}" -gt 0 ] && [ "${b:-0}" -gt 0 ] ||
    fail "the relay to a target that does not read never stalled (target queue ${a:-none}, engine queue ${b:-none})"
for i in 1 2 3 4 5; do
	sleep 0.2
	r=$(rss "$epid")
	[ "$r" -le $((base + 8192)) ] ||
	    fail "the engine's VmRSS grew from ${base} KiB to ${r} KiB while the target did not read"
	b=$(recvq 3004)
	[ "${b:-0}" -gt 0 ] ||
	    fail "the engine read everything the client sent while the target did not read (sample $i)"
done
[ -e "$T/stall.res" ] && fail "the stalling target read early"
say "back pressure: engine VmRSS ${base} KiB -> ${r} KiB, engine queue $b bytes"
put "$T/stall.go" go
wait_file "$T/stall.res" 30 || fail "the target did not get the whole 64 MiB"
[ "$(cat "$T/stall.res")" = "$MID $midsum" ] ||
    fail "back pressure: the target got '$(cat "$T/stall.res")', expected '$MID $midsum'"
wait_exit "$client" 10 || fail "the 64 MiB client did not exit"
line=$(close_line stall) || exit $?
expect "$line" bytes_in $MID
expect "$line" bytes_out 0
expect "$line" reason ""
rm -f "$T/data64"

# 4. Target down.
listening 4005 && fail "something listens on 4005"
line=$(quick_close dead 3005 2000 0) || exit $?
expect "$line" reason connect
expect "$line" target 127.0.0.1:4005
expect "$line" bytes_in 0
expect "$line" bytes_out 0
[ "$(err_of "$line")" = "Connection refused" ] ||
    fail "target down: expected error=\"Connection refused\" in: $line"

# 5. Target silent: its accept queue is full, the SYN is dropped.
bg python3 "$T/target.py" full 4006
for i in $(seq 1 100); do
	ss -ltnH "( sport = :4006 )" | awk '$2 == 1 && $3 == 0 { f = 1 } END { exit !f }' &&
	    break
	sleep 0.05
done
ss -ltnH "( sport = :4006 )" | awk '$2 == 1 && $3 == 0 { f = 1 } END { exit !f }' ||
    fail "the silent target's accept queue is not full: $(ss -ltnH "( sport = :4006 )")"
line=$(quick_close silent 3006 4000 900) || exit $?
expect "$line" reason connect
expect "$line" target 127.0.0.1:4006
[ "$(err_of "$line")" = "Connection timed out" ] ||
    fail "silent target: expected error=\"Connection timed out\" in: $line"
d=$(field "$line" duration_ms)
[ "$d" -ge 900 ] && [ "$d" -lt 3000 ] ||
    fail "silent target: redirect_timeout = 1s, but duration_ms=$d"

# ... and blackholed: connect() fails at once.
ip route add blackhole $HOLE/32 || fail "cannot add a blackhole route"
line=$(quick_close hole 3016 2000 0) || exit $?
expect "$line" reason connect
expect "$line" target $HOLE:80
[ "$(err_of "$line")" = "Invalid argument" ] ||
    fail "blackholed target: expected error=\"Invalid argument\" in: $line"

# 6. redirect_source.
bg python3 "$T/target.py" peer 4007 "$T/peer.out"
wait_listen 4007 127.0.0.1 || fail "the peer target does not listen"
got=$(timeout 5 socat -u TCP4:127.0.0.1:3007 - 2>/dev/null)
[ "$got" = ok ] || fail "redirect_source: the client got '$got', expected ok"
[ "$(cat "$T/peer.out" 2>/dev/null)" = 127.0.0.7 ] ||
    fail "redirect_source = 127.0.0.7, but the target saw '$(cat "$T/peer.out" 2>/dev/null)'"
line=$(close_line src) || exit $?
expect "$line" reason ""

# 7. A name resolved at load.
bg python3 "$T/target.py" echo 4008 "$T/named.peers" 0
wait_listen 4008 127.0.0.1 || fail "the named target does not listen"
got=$(printf 'name\n' | timeout 5 socat -t 3 - TCP4:127.0.0.1:3008 2>/dev/null)
[ "$got" = name ] || fail "redirect = localhost:4008: got '$got', expected name"
line=$(close_line named) || exit $?
expect "$line" target 127.0.0.1:4008
expect "$line" bytes_in 5
expect "$line" bytes_out 5

# 8. ACL and per_source.
bg python3 "$T/target.py" echo 4009 "$T/acl.peers" 0
wait_listen 4009 127.0.0.1 || fail "the acl target does not listen"
got=$(printf 'x\n' | timeout 5 socat -t 3 - TCP4:127.0.0.1:3009,bind=127.0.0.2 2>/dev/null)
[ -z "$got" ] || fail "acl: 127.0.0.2 is not allowed, it got '$got'"
wait_log '^conn=[0-9]+ service=acl action=refuse proto=tcp peer=127\.0\.0\.2:[0-9]+ reason=acl$' ||
    fail "no 'service=acl action=refuse proto=tcp peer=127.0.0.2:PORT reason=acl' line"
got=$(printf 'y\n' | timeout 5 socat -t 3 - TCP4:127.0.0.1:3009,bind=127.0.0.1 2>/dev/null)
[ "$got" = y ] || fail "acl: 127.0.0.1 is allowed, it got '$got'"
# The target accepts in order and logs each before serving it: one that
# the engine made for the refused client would be logged by now.
[ "$(wc -l <"$T/acl.peers")" = 1 ] ||
    fail "acl: the target saw $(wc -l <"$T/acl.peers") connections, expected only the allowed one"
close_line acl >/dev/null || exit $?
[ "$(log_count '^conn=[0-9]+ service=acl action=close ')" = 1 ] ||
    fail "acl: a refused connection has a relay close line"

bg python3 "$T/target.py" echo 4010 "$T/persrc.peers" 1
wait_listen 4010 127.0.0.1 || fail "the per_source target does not listen"
bg socat -u TCP4:127.0.0.1:3010,bind=127.0.0.3 "CREATE:$T/hold.out"
holder=$BG
wait_file "$T/hold.out" 5 || fail "per_source: the held connection was not relayed"
t0=$(ms_now)
got=$(printf 'x\n' | timeout 5 socat -t 3 - TCP4:127.0.0.1:3010,bind=127.0.0.3 2>/dev/null)
t1=$(ms_now)
[ -z "$got" ] || fail "per_source: a second connection from 127.0.0.3 got '$got'"
[ $((t1 - t0)) -lt 2000 ] ||
    fail "per_source: the refused client was closed after $((t1 - t0))ms"
wait_log '^conn=[0-9]+ service=persrc action=refuse proto=tcp peer=127\.0\.0\.3:[0-9]+ reason=per_source$' ||
    fail "no 'service=persrc action=refuse proto=tcp peer=127.0.0.3:PORT reason=per_source' line"
got=$(printf 'z\n' | timeout 5 socat -t 3 - TCP4:127.0.0.1:3010,bind=127.0.0.4 2>/dev/null)
[ "$got" = "hi
z" ] || fail "per_source: 127.0.0.4 got '$got', expected hi and z"
kill -TERM "$holder"
wait_exit "$holder" 5 || fail "the holding client did not exit"
close_line persrc 2 >/dev/null || exit $?
got=$(printf 'w\n' | timeout 5 socat -t 3 - TCP4:127.0.0.1:3010,bind=127.0.0.3 2>/dev/null)
[ "$got" = "hi
w" ] || fail "per_source: 127.0.0.3's slot was not freed when its relay ended (got '$got')"

# 9. Idle timeout.
bg python3 "$T/target.py" echo 4011 "$T/idle.peers" 0
wait_listen 4011 127.0.0.1 || fail "the idle target does not listen"
line=$(quick_close idle 3011 4000 900) || exit $?
expect "$line" reason timeout
expect "$line" bytes_in 0
expect "$line" bytes_out 0
[ "$(wc -l <"$T/idle.peers")" = 1 ] || fail "idle: the target was not connected"

# 10. IPv6 target, IPv4 and IPv6 clients.
bg socat "TCP6-LISTEN:4012,bind=[::1],reuseaddr,fork" PIPE
wait_listen 4012 ::1 || fail "socat does not listen on [::1]:4012"
got=$(printf 'six4\n' | timeout 5 socat -t 3 - TCP4:127.0.0.1:3012 2>/dev/null)
[ "$got" = six4 ] || fail "redirect to [::1]:4012 from IPv4: got '$got'"
got=$(printf 'six6\n' | timeout 5 socat -t 3 - "TCP6:[::1]:3012" 2>/dev/null)
[ "$got" = six6 ] || fail "redirect to [::1]:4012 from IPv6: got '$got'"
for n in 1 2; do
	line=$(close_line six $n) || exit $?
	expect "$line" target '[::1]:4012'
	expect "$line" bytes_in 5
	expect "$line" bytes_out 5
	expect "$line" reason ""
done

# 11. Two addresses: the first refuses, the second is relayed.
bg socat TCP4-LISTEN:4014,bind=$live,reuseaddr PIPE
wait_listen 4014 "$live" || fail "socat does not listen on $live:4014"
got=$(printf 'two\n' | timeout 5 socat -t 3 - TCP4:127.0.0.1:3014 2>/dev/null)
[ "$got" = two ] ||
    fail "multi.test ($multi): got '$got', the second address was not tried"
line=$(close_line multi) || exit $?
expect "$line" target "$live:4014"
expect "$line" reason ""

# 12. The client aborts.
bg python3 "$T/target.py" watch 4015 "$T/reset.how"
wait_listen 4015 127.0.0.1 || fail "the reset target does not listen"
timeout 10 python3 "$T/target.py" abort 3015 ||
    fail "reset: the aborting client was not relayed"
line=$(close_line reset) || exit $?
expect "$line" reason reset
expect "$line" bytes_in 3
expect "$line" bytes_out 3
wait_file "$T/reset.how" 5 || fail "reset: the target did not see the end"
[ "$(cat "$T/reset.how")" = reset ] ||
    fail "reset: the target saw $(cat "$T/reset.how"), not the client's reset"

# 13. A relay still open at stop.
bg python3 "$T/target.py" echo 4017 "$T/hold.peers" 1
wait_listen 4017 127.0.0.1 || fail "the hold target does not listen"
bg socat -u TCP4:127.0.0.1:3017 "CREATE:$T/stop.out"
holder=$BG
wait_file "$T/stop.out" 5 || fail "stop: the held connection was not relayed"
stop_daemon
line=$(close_line hold) || exit $?
expect "$line" reason stop
d=$(field "$line" duration_ms)
[ "$d" -ge 900 ] || fail "stop: the relay ended before stop_grace (1s): $line"
wait_exit "$holder" 5 || fail "stop: the client of the relay was not closed"

ok
