#!/bin/bash
# TCPMUX (RFC 1078, DESIGN.md "Builtins"): on port 1 a client names a
# service in a line, CR optional, case-insensitive, and portmuxd answers
# "+Go" and hands the connection over.  Whatever the client sent after
# the LF must reach the service (the name line is read without consuming
# a byte more), both for a builtin and for a program, which runs as its
# own `user'.  HELP lists exactly the services with tcpmux = true; a
# service without it is never reachable by name, or tcpmux would expose
# every internal service through port 1.  An unknown name gets
# "-Service not available" (reason=notfound, the name quoted in the
# log), a name longer than tcpmux_maxlen "-Service name too long"
# (reason=error), and a client that sends no LF within tcpmux_timeout is
# closed (reason=timeout): the engine's buffer and waiting time for a
# name are bounded.  Needs root for the service user.
. "$(dirname "$0")/lib.sh"

need_root

rep=$(reporter) || exit $?
conf=$T/tcpmux.conf
cat >"$conf" <<EOF
stop_grace = 2s

service tcpmux {
  protocol = tcp
  address  = {127.0.0.1, ::1}
  port     = 1
  builtin  = tcpmux
  tcpmux_timeout = 2s
}

# Reachable only through tcpmux: no port.
service MyEcho {
  protocol = tcp
  builtin  = echo
  tcpmux   = true
}

service rep {
  protocol = tcp
  server   = $rep
  args     = {rep, viatcpmux}
  user     = daemon
  tcpmux   = true
}

# Reachable by name, but its ACL refuses loopback: refused before "+Go".
service locked {
  protocol = tcp
  builtin  = echo
  tcpmux   = true
  allow    = {192.0.2.0/24}
}

# On a port of its own, not reachable by name.
service direct {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2013
  builtin  = daytime
}
EOF
start_daemon "$conf"
wait_listen 1 127.0.0.1 || fail "nothing listens on 127.0.0.1 port 1"
wait_listen 1 ::1 || fail "nothing listens on ::1 port 1"
wait_listen 2013 127.0.0.1 || fail "nothing listens on port 2013"

sp=41000

# mux ADDR OUT FORMAT [ARGS]: a tcpmux client from a fresh source port
# ($sp) sending printf FORMAT ARGS, then half-closing; OUT gets all the
# bytes the server sent until it closed.
mux()
{
	local a=$1 out=$2

	shift 2
	sp=$((sp + 1))
	# shellcheck disable=SC2059
	printf -- "$@" | timeout 10 socat -t5 - "$(socat_tcp "$a" 1 $sp)" \
	    >"$out" 2>"$out.err" ||
	    fail "tcpmux client on $a failed: $(cat "$out.err")"
}

# same OUT EXPECTED_PRINTF_FORMAT: OUT holds exactly these bytes.
same()
{
	# shellcheck disable=SC2059
	printf -- "$2" >"$1.want"
	cmp -s "$1.want" "$1" ||
	    fail "$3: expected $(od -An -c "$1.want" | tr -s ' ' | head -c 300), got $(od -An -c "$1" | tr -s ' ' | head -c 300)"
}

# refuse_logged PEER_REGEX REASON [DETAIL_REGEX]: the tcpmux refuse
# line of that client.
refuse_logged()
{
	local peer=$1

	wait_log "^conn=[0-9]+ service=tcpmux action=refuse proto=tcp peer=$peer reason=$2${3:+ $3}( |\$)" ||
	    fail "no 'service=tcpmux action=refuse proto=tcp peer=$peer reason=$2${3:+ $3}' line"
}

# HELP: the tcpmux = true services, one per CRLF line, nothing else.
for a in 127.0.0.1 ::1; do
	mux "$a" "$T/help" 'HELP\r\n'
	tr -d '\r' <"$T/help" | sort >"$T/help.got"
	printf 'MyEcho\nrep\nlocked\n' | sort >"$T/help.want"
	diff -u "$T/help.want" "$T/help.got" >"$T/help.diff" ||
	    fail "HELP on $a lists (- expected, + got): $(cat "$T/help.diff")"
	[ "$(grep -c $'\r$' "$T/help")" = 3 ] ||
	    fail "HELP on $a: the lines do not end in CRLF: $(od -c "$T/help" | head -n 4)"
done
mux 127.0.0.1 "$T/help" 'help\n'
[ "$(wc -l <"$T/help")" = 3 ] ||
    fail "'help' in lower case without CR did not list the 3 services: $(cat "$T/help")"

# A builtin by name, case-insensitive, with and without CR: "+Go", then
# the bytes sent after the LF come back from echo.
mux 127.0.0.1 "$T/echo1" 'myecho\r\nhello tcpmux\n'
same "$T/echo1" '+Go\r\nhello tcpmux\n' "tcpmux to MyEcho on 127.0.0.1"
id=$(conn_of "127.0.0.1:$sp")
[ -n "$id" ] || fail "no accept line for 127.0.0.1:$sp"
grep -Eq "^conn=$id service=tcpmux action=accept proto=tcp peer=127\.0\.0\.1:$sp local=127\.0\.0\.1:1( |\$)" "$LOG" ||
    fail "the accept line of conn $id does not name service=tcpmux peer=127.0.0.1:$sp local=127.0.0.1:1"
wait_log "^conn=$id service=MyEcho action=close bytes_in=13 bytes_out=13 " ||
    fail "no 'conn=$id service=MyEcho action=close bytes_in=13 bytes_out=13' line: the target must count only the bytes after the name line"
mux ::1 "$T/echo2" 'MYECHO\nsecond line\r\n'
same "$T/echo2" '+Go\r\nsecond line\r\n' "tcpmux to MyEcho on ::1"

# The name line in two pieces still works: the name is accumulated.
exec 3<>/dev/tcp/127.0.0.1/1 || fail "cannot connect to tcpmux"
printf 'My' >&3
sleep 0.3
printf 'Echo\r\nsplit\n' >&3
l1='' l2=''
read -r -t 5 -u 3 l1
read -r -t 5 -u 3 l2
exec 3<&-
[ "$l1" = $'+Go\r' ] && [ "$l2" = split ] ||
    fail "a name line sent in two pieces: got '$l1' '$l2', expected '+Go' 'split'"

# A program by name: it runs as its own user, and gets the line sent
# after the name on its stdin.
mux 127.0.0.1 "$T/rep" 'Rep\r\nping after the name\n'
head -n 1 "$T/rep" | cmp -s - <(printf '+Go\r\n') ||
    fail "tcpmux to rep: the first line is not '+Go': $(head -n 1 "$T/rep" | od -c)"
uid=$(id -u daemon)
grep -q "^uid=$uid gid=$(id -g daemon) euid=$uid " "$T/rep" ||
    fail "tcpmux to rep: the program runs as $(grep '^uid=' "$T/rep"), expected user daemon ($uid)"
grep -qx "got ping after the name" "$T/rep" ||
    fail "tcpmux to rep: the line sent after the name did not reach the program: $(cat "$T/rep")"
grep -qx "args 2 rep viatcpmux" "$T/rep" ||
    fail "tcpmux to rep: argv: $(grep '^args' "$T/rep")"
for v in PROTO=TCP PORTMUX_SERVICE=rep TCPREMOTEIP=127.0.0.1 \
    TCPREMOTEPORT=$sp TCPLOCALIP=127.0.0.1 TCPLOCALPORT=1; do
	grep -qx "env $v" "$T/rep" ||
	    fail "tcpmux to rep: no $v in the environment: $(grep '^env' "$T/rep")"
done
grep -qx "fds=0,1,2" "$T/rep" ||
    fail "tcpmux to rep: open fds $(grep '^fds=' "$T/rep"), expected 0,1,2"
id=$(conn_of "127.0.0.1:$sp")
[ -n "$id" ] || fail "no accept line for 127.0.0.1:$sp"
wait_log "^conn=$id service=rep action=spawn pid=[0-9]+ user=daemon( |\$)" ||
    fail "no 'conn=$id service=rep action=spawn pid= user=daemon' line"
wait_log "^conn=$id service=rep action=exit pid=[0-9]+ status=0 " ||
    fail "no 'conn=$id service=rep action=exit ... status=0' line"

# Not reachable by name: an unknown name, a service without tcpmux =
# true, and the tcpmux service itself.
for name in nosuch direct DIRECT tcpmux; do
	mux 127.0.0.1 "$T/nf" '%s\r\nsecret\n' "$name"
	same "$T/nf" '-Service not available\r\n' "tcpmux name '$name'"
	refuse_logged "127\\.0\\.0\\.1:$sp" notfound "name=\"$name\""
done
grep -q 'service=direct action=accept' "$LOG" &&
    fail "the service 'direct' (tcpmux = false) was reached through tcpmux"

# The target's own ACL applies through tcpmux too, and the client is
# told before "+Go".
mux 127.0.0.1 "$T/acl" 'locked\r\nsecret\n'
same "$T/acl" '-Service not available\r\n' "tcpmux to 'locked' (allow = 192.0.2.0/24) from 127.0.0.1"
wait_log "^conn=[0-9]+ service=(tcpmux|locked) action=refuse proto=tcp peer=127\\.0\\.0\\.1:$sp reason=acl( |\$)" ||
    fail "no 'action=refuse proto=tcp peer=127.0.0.1:$sp reason=acl' line for the tcpmux client refused by the ACL of 'locked'"
grep -q 'service=locked action=accept' "$LOG" &&
    fail "the service 'locked' accepted a client its ACL refuses"

# tcpmux_maxlen (256): a name of 256 characters is read whole (and not
# found), with LF or CRLF alike since the CR is optional; one of 257 is
# too long.
n256=$(printf 'a%.0s' $(seq 1 256))
mux 127.0.0.1 "$T/long" '%s\n' "$n256"
same "$T/long" '-Service not available\r\n' "a 256-character name with LF (tcpmux_maxlen = 256)"
mux 127.0.0.1 "$T/long" '%s\r\n' "$n256"
same "$T/long" '-Service not available\r\n' "a 256-character name with CRLF (tcpmux_maxlen = 256)"
refuse_logged "127\\.0\\.0\\.1:$sp" notfound "name=\"$n256\""
mux 127.0.0.1 "$T/long" '%sb\r\n' "$n256"
same "$T/long" '-Service name too long\r\n' "a 257-character name (tcpmux_maxlen = 256)"
refuse_logged "127\\.0\\.0\\.1:$sp" error
mux ::1 "$T/long" '%s%s\r\n' "$n256" "$n256"
same "$T/long" '-Service name too long\r\n' "a 512-character name on ::1"
refuse_logged "\\[::1\\]:$sp" error

# tcpmux_timeout (2s): no LF, the connection is closed after about 2s.
sp=$((sp + 1))
t0=$(date +%s%N)
exec 3<>/dev/tcp/127.0.0.1/1 || fail "cannot connect to tcpmux"
printf 'partial' >&3
c=''
read -r -t 8 -u 3 -N 1 c
rc=$?
t1=$(date +%s%N)
exec 3<&-
ms=$(((t1 - t0) / 1000000))
[ $rc = 1 ] || fail "tcpmux without a LF: read returned $rc after ${ms}ms, expected EOF (1) after tcpmux_timeout = 2s"
[ $ms -ge 1800 ] && [ $ms -le 5000 ] ||
    fail "tcpmux without a LF was closed after ${ms}ms, expected about 2000 (tcpmux_timeout = 2s)"
wait_log "service=tcpmux action=refuse proto=tcp peer=127\\.0\\.0\\.1:[0-9]+ reason=timeout( |\$)" ||
    fail "no 'service=tcpmux action=refuse ... reason=timeout' line"

# The direct service still answers on its own port.
timeout 5 socat -u TCP4:127.0.0.1:2013 - >"$T/direct" ||
    fail "the daytime service 'direct' on port 2013 does not answer"
[ "$(wc -c <"$T/direct")" = 26 ] ||
    fail "the daytime service 'direct' sent $(wc -c <"$T/direct") bytes"

ok
