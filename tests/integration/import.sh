#!/bin/bash
# portmuxd-import's conversions are configs portmuxd accepts, and serve
# what the source declared.  Converted here: Debian's own xinetd.conf with
# its xinetd.d (tests/import/debian, unpacked by contrib/quickstart), an
# inetd.conf as Debian's openbsd-inetd creates it (its preinst's file)
# and as the real update-inetd then edits it (#<off># lines), and every
# file of tests/import/corpus.  Each output must pass `portmuxd -n' (run
# as nobody, so that what belongs to the host, programs and users that
# this machine lacks, is a warning; a file without any service, as a
# fresh Debian inetd.conf is, must fail with "no service defined").
# Then the round trip: the daemon started on the conversion of an
# xinetd.conf and of an inetd.conf listens on exactly the tcp and udp
# ports their sources declare (ss -ltnu), and their builtins and /bin/cat
# answer.
. "$(dirname "$0")/lib.sh"

need_cmd update-inetd setpriv
IMPORT=$top_builddir/src/portmuxd-import
[ -x "$IMPORT" ] || skip "$IMPORT is not built"
CORPUS=$top_srcdir/tests/import/corpus
DEBIAN=$top_srcdir/tests/import/debian
[ -f "$DEBIAN/xinetd/etc/xinetd.conf" ] ||
    skip "$DEBIAN/xinetd is missing: contrib/quickstart run unpacks it"

# check_conf FILE [no-service]: portmuxd -n accepts FILE; with
# no-service, refuses it for having no service and for nothing else.
check_conf()
{
	local f=$1 rc

	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
		    timeout 10 "$PORTMUXD" -n -f "$f" >"$T/check.out" 2>&1
	else
		timeout 10 "$PORTMUXD" -n -f "$f" >"$T/check.out" 2>&1
	fi
	rc=$?
	if [ "${2:-}" = no-service ]; then
		[ $rc = 78 ] && grep -q 'no service defined' "$T/check.out" ||
		    fail "portmuxd -n -f $f: exit $rc, not 78 for no service:" \
		    "$(cat "$T/check.out")"
		[ "$(grep -vc -e warning -e '^portmuxd: checking' \
		    "$T/check.out")" = 1 ] ||
		    fail "portmuxd -n -f $f: more than no service:" \
		    "$(cat "$T/check.out")"
		return 0
	fi
	[ $rc = 0 ] || fail "portmuxd -n -f $f: exit $rc: $(cat "$T/check.out")"
}

# convert WANT_RC OUT ARGS...: portmuxd-import exits WANT_RC.
convert()
{
	local want=$1 out=$2 rc

	shift 2
	"$IMPORT" -o "$out" "$@" 2>"$out.err"
	rc=$?
	[ $rc = "$want" ] ||
	    fail "portmuxd-import $*: exit $rc, not $want: $(cat "$out.err")"
	[ -s "$out" ] || fail "portmuxd-import $*: empty output"
}

# has FILE TEXT: the output holds TEXT (a fixed string).
has()
{
	grep -qF -- "$2" "$1" || fail "$1 lacks '$2':"$'\n'"$(cat "$1")"
}

# Usage and missing input.
"$IMPORT" -t nope >/dev/null 2>&1
[ $? = 64 ] || fail "portmuxd-import -t nope: not exit 64"
"$IMPORT" "$T/none.conf" >/dev/null 2>&1
[ $? = 66 ] || fail "portmuxd-import of a missing file: not exit 66"

# Debian's xinetd.conf and xinetd.d, as /etc/xinetd.conf under -r: its
# servers and services internals have no builtin here (exit 1).
convert 1 "$T/debian-xinetd.conf" -r "$DEBIAN/xinetd"
check_conf "$T/debian-xinetd.conf"
n=$(grep -c '^service ' "$T/debian-xinetd.conf")
[ "$n" = 15 ] || fail "Debian's xinetd.d gave $n sections, not 15"
[ "$(grep -c $'^\tdisable = true' "$T/debian-xinetd.conf")" = 15 ] ||
    fail "Debian's services are off, and must stay disabled"
has "$T/debian-xinetd.conf" "# ---- /etc/xinetd.d/echo-udp ----"
has "$T/debian-xinetd.conf" "service echo-dgram-2 {"
has "$T/debian-xinetd.conf.err" \
    "/etc/xinetd.d/servers:6: error: xinetd's internal 'servers'"
say "Debian's xinetd.conf: 15 sections, all disabled, as shipped"

# Debian's inetd.conf as openbsd-inetd's preinst writes it: all comments.
convert 1 "$T/debian-base.conf" "$CORPUS/debian-openbsd-inetd.conf"
check_conf "$T/debian-base.conf" no-service
has "$T/debian-base.conf" "#<off>#"
has "$T/debian-base.conf" "# service echo {"

# Then as update-inetd edits it, for packages and for the admin.
cp "$CORPUS/debian-openbsd-inetd.conf" "$T/inetd.conf"
export UPDATE_INETD_FAKE_IT=1 DEBIAN_FRONTEND=noninteractive
ui()
{
	update-inetd --file "$T/inetd.conf" "$@" >>"$T/update-inetd.log" \
	    2>&1 || fail "update-inetd $*: $(cat "$T/update-inetd.log")"
}
ui --group STANDARD --add \
    'telnet\t\tstream\ttcp\tnowait\troot\t/usr/sbin/tcpd\t/usr/sbin/in.telnetd'
ui --group INFO --add \
    'finger\t\tstream\ttcp\tnowait\tnobody\t/usr/sbin/tcpd\t/usr/sbin/in.fingerd'
ui --group BOOT --add \
    'tftp\t\tdgram\tudp4\twait\troot\t/usr/sbin/in.tftpd\t/usr/sbin/in.tftpd --secure /srv/tftp'
ui --disable telnet
grep -q '^#<off># telnet' "$T/inetd.conf" ||
    fail "update-inetd --disable wrote no #<off># line: $(cat "$T/inetd.conf")"
convert 1 "$T/debian-inetd.conf" "$T/inetd.conf"
check_conf "$T/debian-inetd.conf"
has "$T/debian-inetd.conf" "#<off># telnet"
has "$T/debian-inetd.conf" "# service telnet {"
has "$T/debian-inetd.conf" $'\tserver = /usr/sbin/in.fingerd\n'
has "$T/debian-inetd.conf" $'\taddress = {0.0.0.0}\n'
has "$T/debian-inetd.conf.err" "warning: tcpd is dropped"
[ "$(grep -c '^service ' "$T/debian-inetd.conf")" = 2 ] ||
    fail "update-inetd's file gave other than finger and tftp"
say "Debian's inetd.conf, created and edited by update-inetd: ok"

# Every corpus file, with the exit status its problems call for.
declare -A want=(
	[debian-openbsd-inetd]=1 [debian-update-inetd]=1
	[inetutils-inetd]=1 [openbsd-addresses]=1 [openbsd-inetd]=1
	[roundtrip-inetd]=1 [roundtrip-xinetd]=1 [unix-continued]=0
	[unsupported-inetd]=1 [xinetd-programs]=1 [xinetd-redirect]=0
	[xinetd-sensor]=1 [xinetd-tcpmux]=1
)
n=0
for f in "$CORPUS"/*.conf; do
	b=$(basename "$f" .conf)
	[ -n "${want[$b]:-}" ] || fail "corpus file $b.conf has no expected status"
	convert "${want[$b]}" "$T/$b.out" "$f"
	if grep -q 'portmuxd refuses a file without a service' "$T/$b.out.err"
	then
		check_conf "$T/$b.out" no-service
	else
		check_conf "$T/$b.out"
	fi
	n=$((n + 1))
done
convert 1 "$T/xinetd-rhel.out" -r "$CORPUS/xinetd-rhel"
check_conf "$T/xinetd-rhel.out"
grep -q 'cvspserver' "$T/xinetd-rhel.out" &&
    fail "includedir read cvs.rpmsave, whose name has a dot"
[ "$(grep -c '^service rsync ' "$T/xinetd-rhel.out")" = 1 ] ||
    fail "includedir read rsync~"
n=$((n + 1))
[ $n -ge 12 ] || fail "only $n corpus configurations"
say "$n corpus configurations converted and accepted"

# The listening sockets of the daemon, one "proto address:port" a line.
sockets()
{
	ss -Hltnu 2>/dev/null | awk '{ print $1, $5 }' | sort
}

# round_trip NAME EXPECTED: start the daemon on the conversion and
# compare its sockets with EXPECTED, sorted lines as sockets() prints.
round_trip()
{
	local conv=$T/$1.out want i

	want=$(printf '%s\n' "$2" | sort)
	start_daemon "$conv"
	for i in $(seq 1 50); do
		[ "$(sockets)" = "$want" ] && break
		sleep 0.1
	done
	[ "$(sockets)" = "$want" ] ||
	    fail "$1: listening on"$'\n'"$(sockets)"$'\n'"not"$'\n'"$want"
}

round_trip roundtrip-xinetd "tcp 0.0.0.0:21007
tcp *:21013
tcp 0.0.0.0:21100
tcp 127.0.0.1:21101
udp 0.0.0.0:21007
udp 0.0.0.0:21037"
[ "$(printf 'hello\n' | timeout 5 socat -t2 - TCP4:127.0.0.1:21007)" = hello ] ||
    fail "xinetd's echo-stream does not echo"
[ "$(printf 'dgram\n' | timeout 5 socat -t2 - UDP4:127.0.0.1:21007)" = dgram ] ||
    fail "xinetd's echo-dgram does not echo"
day=$(timeout 5 socat -u TCP6:[::1]:21013 - </dev/null)
[[ $day =~ ^[A-Z][a-z][a-z]\ [A-Z][a-z][a-z]\ [\ 0-9][0-9]\ [0-9:]{8}\ [0-9]{4}$'\r'$ ]] ||
    fail "daytime over IPv6 said '$day'"
[ "$(printf 'x' | timeout 5 socat -t2 - UDP4:127.0.0.1:21037 | od -An -tx1 |
    wc -w)" = 4 ] || fail "xinetd's udp time sent no 4 bytes"
[ "$(printf 'cat\n' | timeout 5 socat -t5 - TCP4:127.0.0.1:21100)" = cat ] ||
    fail "/bin/cat on 21100 does not answer"
wait_log 'service=cat action=exit' 5 || fail "cat's exit was not logged"
stop_daemon
say "xinetd round trip: the declared ports, and they answer"

round_trip roundtrip-inetd "tcp 0.0.0.0:7
tcp [::]:7
tcp 0.0.0.0:21200
tcp [::]:21200
tcp 127.0.0.1:21201
tcp [::]:21202
udp 0.0.0.0:13
udp [::]:13
udp 0.0.0.0:21203
udp [::]:21203"
[ "$(printf 'inetd\n' | timeout 5 socat -t2 - TCP6:[::1]:7)" = inetd ] ||
    fail "inetd's internal echo does not echo"
day=$(printf 'x' | timeout 5 socat -t2 - UDP4:127.0.0.1:13)
[[ $day =~ ^[A-Z][a-z][a-z]\ .*[0-9]{4}$'\r'$ ]] ||
    fail "inetd's udp daytime said '$day'"
[ "$(printf 'u\n' | timeout 5 socat -t5 - TCP4:127.0.0.1:21201)" = u ] ||
    fail "cat -u on 127.0.0.1:21201 does not answer"
stop_daemon
say "inetd round trip: the declared ports, and they answer"

ok
