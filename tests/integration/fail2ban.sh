#!/bin/bash
# The fail2ban filter (contrib/fail2ban/filter.d/portmuxd.conf) against
# what the real daemon logs, checked with fail2ban-regex.  Real clients
# on loopback, each from its own 127.0.0.N, are refused for every reason
# the filter counts: acl (127.0.0.11), rate and then banned once
# ban_after has banned it (.12), knock (.13), trap and then banned
# (.14), a connect scan of three ACL-refused ports (.15, its action=scan
# line), and an ACL refusal of the client that a trusted proxy's PROXY
# header names (192.0.2.77, via= the proxy 127.0.0.20).  Others must not
# count: per_source (.16; only with mode = aggressive), instances (.18,
# while .17 fills the service), a served connection (.19, and the
# proxied 127.0.0.30), a stranger on the proxy_protocol port
# (reason=proxy, .21), UDP refusals (proto=udp), the action=ban lines,
# and the once-a-second summary of a UDP redirect's refusals (.22,
# proto=udp).  A line of another daemon with the same text must not
# match either.
#
# The expected failures are counted in the daemon log with grep, line
# by line (a summary with repeat=N is one failure, whatever N), and
# fail2ban-regex must report exactly that many matches and exactly
# those hosts, as many times each.  It reads the events in the three
# forms the filter is for: a file written by rsyslog in its traditional
# format ("Dec  7 16:47:14 host portmuxd[PID]: MESSAGE"), the same in
# RSYSLOG_FileFormat ("2026-12-07T16:47:14.123456+00:00 host
# portmuxd[PID]: MESSAGE", as log = file will write), and the journal
# as fail2ban's systemd backend renders an entry ("host portmuxd[PID]:
# MESSAGE", logtype = journal).  The daemon runs with -F, whose stderr
# lines carry no timestamp: the test adds the prefix rsyslog would, with
# the time of the conversion.  fail2ban reads `before = common.conf'
# next to the filter, as in /etc/fail2ban/filter.d once installed, so
# the filter is copied next to fail2ban's own common.conf.
. "$(dirname "$0")/lib.sh"

need_root			# knock: a packet socket
need_cmd fail2ban-regex socat sort uniq

F2B_COMMON=${F2B_COMMON:-/etc/fail2ban/filter.d/common.conf}
[ -r "$F2B_COMMON" ] ||
    skip "$F2B_COMMON is missing (Debian package fail2ban)"
mkdir -p "$T/fail2ban/filter.d" &&
    cp "$F2B_COMMON" "$T/fail2ban/filter.d/common.conf" &&
    cp "$top_srcdir/contrib/fail2ban/filter.d/portmuxd.conf" \
    "$T/fail2ban/filter.d/portmuxd.conf" ||
    fail "cannot copy the filter and common.conf to $T/fail2ban"
FLT=$T/fail2ban/filter.d/portmuxd.conf

conf=$T/fail2ban.conf
cat >"$conf" <<EOF
stop_grace  = 1s
ban_time    = 5m
scan_ports  = 3
scan_window = 1m

service open {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2500
  builtin  = echo
}
service limited {
  protocol   = tcp
  address    = {127.0.0.1}
  port       = 2510
  builtin    = echo
  rate       = 2/1m
  ban_factor = 1000
  ban_after  = 3/1m
}
service held {
  protocol   = tcp
  address    = {127.0.0.1}
  port       = 2520
  builtin    = echo
  per_source = 1
}
service busy {
  protocol  = tcp
  address   = {127.0.0.1}
  port      = 2530
  builtin   = echo
  instances = 1
}
service secret {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2540
  builtin  = echo
  knock    = {"tcp:7001"}
}
service trap {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2550
  builtin  = trap
}
service proxied {
  protocol        = tcp
  address         = {127.0.0.1}
  port            = 2560
  builtin         = echo
  proxy_protocol  = v1
  trusted_proxies = {127.0.0.20/32}
  allow           = {127.0.0.0/8}
}
service dns-udp {
  protocol = udp
  address  = {127.0.0.1}
  port     = 2570
  redirect = "127.0.0.1:2571"
  deny     = {127.0.0.22/32}
}
EOF
for p in 2501 2502 2503; do
	cat >>"$conf" <<EOF
service private$p {
  protocol = tcp
  address  = {127.0.0.1}
  port     = $p
  builtin  = echo
  allow    = {127.0.0.3/32}
}
EOF
done

# tcp_from SRC PORT [DATA]: what 127.0.0.1:PORT answers a line (or
# DATA) sent from SRC; empty when refused.
tcp_from()
{
	printf '%b' "${3:-hello\n}" | timeout 5 socat -t2 - \
	    "TCP4:127.0.0.1:$2,bind=$1" 2>/dev/null
}

# refused_n SRC PORT N [DATA]: N connections, each refused.
refused_n()
{
	local i

	for i in $(seq 1 "$3"); do
		[ -z "$(tcp_from "$1" "$2" "${4:-}")" ] ||
		    fail "$1 was served on port $2, it must be refused"
	done
}

# hold SRC PORT SERVICE: a connection of SRC kept open, once accepted.
hold()
{
	local re="^conn=[0-9]+ service=$3 action=accept proto=tcp peer=${1//./\\.}:"

	timeout 60 socat -u "TCP4:127.0.0.1:$2,bind=$1" /dev/null \
	    2>/dev/null &
	PIDS+=($!)
	wait_log "$re" || fail "the held connection of $1 to $3 was not accepted"
}

# refusal_logged SERVICE SRC REASON: the full line of that refusal.
refusal_logged()
{
	wait_log "^conn=[0-9]+ service=$1 action=refuse proto=tcp peer=${2//./\\.}:[0-9]+ (via=[^ ]+ )?reason=$3( |\$)" ||
	    fail "no 'service=$1 action=refuse proto=tcp peer=$2:PORT reason=$3' line"
}

start_daemon "$conf"
for p in 2500 2501 2502 2503 2510 2520 2530 2540 2550 2560; do
	wait_listen $p 127.0.0.1 || fail "nothing listens on port $p"
done

# A served connection, accept and close: no failure.
[ "$(tcp_from 127.0.0.19 2500)" = hello ] || fail "open does not echo"
wait_log '^conn=[0-9]+ service=open action=close ' ||
    fail "no close line for the connection to open"

# acl: five refusals of one source by one service, the repeats within a
# second summarised.  One port only, so no scan.
refused_n 127.0.0.11 2501 5
refusal_logged private2501 127.0.0.11 acl

# rate: two served, then refused until ban_after (3/1m) bans it; then
# refused everywhere as banned.
for i in 1 2; do
	[ "$(tcp_from 127.0.0.12 2510)" = hello ] ||
	    fail "connection $i of 127.0.0.12 to limited (rate = 2/1m) was not served"
done
for i in $(seq 1 10); do
	refused_n 127.0.0.12 2510 1
	grep -q '^action=ban peer=127\.0\.0\.12/32 reason=refused ' "$LOG" &&
	    break
done
wait_log '^action=ban peer=127\.0\.0\.12/32 reason=refused until=' ||
    fail "10 rate refusals with ban_after = 3/1m did not ban 127.0.0.12"
refusal_logged limited 127.0.0.12 rate
refused_n 127.0.0.12 2500 5
refusal_logged open 127.0.0.12 banned

# knock: connections without a knock.
refused_n 127.0.0.13 2540 5
refusal_logged secret 127.0.0.13 knock

# trap: the connection bans its source; it comes back, banned.
refused_n 127.0.0.14 2550 1
wait_log '^action=ban peer=127\.0\.0\.14/32 reason=trap until=' ||
    fail "the trap did not ban 127.0.0.14"
refused_n 127.0.0.14 2550 3
refusal_logged trap 127.0.0.14 trap
refusal_logged trap 127.0.0.14 banned

# scan: three ports that refuse it by ACL within scan_window.
for p in 2501 2502 2503; do
	refused_n 127.0.0.15 $p 1
done
wait_log '^action=scan peer=127\.0\.0\.15 kind=connect ports=' ||
    fail "no 'action=scan peer=127.0.0.15 kind=connect' line"
wait_log '^action=ban peer=127\.0\.0\.15/32 reason=scan until=' ||
    fail "the scan did not ban 127.0.0.15"

# PROXY protocol: the trusted proxy names a client the ACL refuses; the
# line says peer=CLIENT via=PROXY, and the client is the one to ban.
hdr='PROXY TCP4 192.0.2.77 127.0.0.1 40123 2560\r\nhello\n'
refused_n 127.0.0.20 2560 3 "$hdr"
wait_log '^conn=[0-9]+ service=proxied action=refuse proto=tcp peer=192\.0\.2\.77:40123 via=127\.0\.0\.20:[0-9]+ reason=acl$' ||
    fail "no 'service=proxied action=refuse proto=tcp peer=192.0.2.77:40123 via=127.0.0.20:PORT reason=acl' line"
# ... a client it lets in, served ...
[ "$(tcp_from 127.0.0.20 2560 'PROXY TCP4 127.0.0.30 127.0.0.1 40124 2560\r\nhello\n')" = hello ] ||
    fail "the proxied client 127.0.0.30 was not served"
# ... and a stranger on the port, refused as reason=proxy: no failure.
refused_n 127.0.0.21 2560 2 "$hdr"
refusal_logged proxied 127.0.0.21 proxy

# per_source: .16 holds its one connection and tries three more.
hold 127.0.0.16 2520 held
refused_n 127.0.0.16 2520 3
refusal_logged held 127.0.0.16 per_source

# instances: .17 fills busy, .18 is refused.
hold 127.0.0.17 2530 busy
refused_n 127.0.0.18 2530 3
refusal_logged busy 127.0.0.18 instances

# A UDP redirect refusing a (forgeable) source by ACL, five times.
for i in $(seq 1 5); do
	printf 'x' | timeout 3 socat -u - "UDP4:127.0.0.1:2570,bind=127.0.0.22" \
	    2>/dev/null
done
wait_log '^conn=[0-9]+ service=dns-udp action=refuse proto=udp peer=127\.0\.0\.22:[0-9]+ reason=acl$' ||
    fail "no 'service=dns-udp action=refuse proto=udp peer=127.0.0.22:PORT reason=acl' line"

# The engine logs the summaries still pending when it stops.
stop_daemon

# --- what the log holds, counted with grep ---------------------------

# expected REASONS: one host per line that must match, as fail2ban
# names it (an address without port or brackets; a /32 group as the
# address), sorted.
expected()
{
	awk -v reasons="^($1)\$" '
	function host(p) {
		sub(/^\[/, "", p); sub(/\]?:[0-9]+$/, "", p)
		return p
	}
	/^conn=[0-9]+ service=[^ ]+ action=refuse proto=tcp peer=[^ ]+ (via=[^ ]+ )?reason=[a-z_]+( |$)/ {
		for (i = 1; i <= NF; i++)
			if ($i ~ /^reason=/) {
				r = substr($i, 8)
				break
			}
		if (r ~ reasons)
			print host(substr($5, 6))
		next
	}
	/^service=[^ ]+ action=refuse proto=tcp peer=[^ ]+ reason=[a-z_]+ repeat=[0-9]+$/ {
		r = substr($5, 8)
		if (r ~ reasons) {
			p = substr($4, 6)
			sub(/\/32$/, "", p)
			print p
		}
		next
	}
	/^action=scan peer=[^ ]+ kind=connect / {
		print substr($2, 6)
	}' "$LOG" | sort
}

NORMAL='acl|rate|banned|knock|trap'
expected "$NORMAL" >"$T/want.normal"
expected "$NORMAL|per_source" >"$T/want.aggressive"

# Every kind is there, and summaries too (a test of the summary
# regex): each line below must be in the log.
for re in \
    ' reason=acl$' ' reason=rate$' ' reason=banned$' ' reason=knock$' \
    ' reason=trap$' '^action=scan .* kind=connect ' \
    ' via=127\.0\.0\.20:[0-9]+ reason=acl$' \
    ' reason=per_source$' ' reason=instances$' ' reason=proxy ' \
    '^conn=[0-9]+ service=dns-udp action=refuse proto=udp ' \
    '^action=ban ' ' action=close ' ' repeat=[0-9]+$'; do
	grep -Eq -- "$re" "$LOG" || fail "no line matching '$re' in the log"
done
grep -Eq '^service=[^ ]+ action=refuse proto=tcp peer=[^ ]+ reason=[a-z]+ repeat=[0-9]+$' "$LOG" ||
    fail "no summary line (repeat=N) in the log"

# The hosts, exactly: the offenders, never the proxy, the stranger, the
# busy or per_source clients, nor anyone over UDP.
hosts=$(uniq "$T/want.normal" | paste -sd' ' -)
[ "$hosts" = "127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 127.0.0.15 192.0.2.77" ] ||
    fail "the log's failures are of '$hosts', expected 127.0.0.11 to .15 and 192.0.2.77"
hosts=$(uniq "$T/want.aggressive" | paste -sd' ' -)
[ "$hosts" = "127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 127.0.0.15 127.0.0.16 192.0.2.77" ] ||
    fail "mode = aggressive: the log's failures are of '$hosts'"

# --- the same events as fail2ban reads them -------------------------

pid=$MONPID
foreign='otherd[77]: conn=1 service=x action=refuse proto=tcp peer=203.0.113.9:1000 reason=acl'
syslog_stamp=$(LC_ALL=C date '+%b %e %H:%M:%S')
iso_stamp=$(date '+%Y-%m-%dT%H:%M:%S.%6N%:z')
# prefixed STAMP: each daemon line as "STAMP f2btest portmuxd[PID]: ",
# then one line of another daemon.
prefixed()
{
	awk -v pre="${1:+$1 }f2btest portmuxd[$pid]: " '{ print pre $0 }' "$LOG"
	echo "${1:+$1 }f2btest $foreign"
}
prefixed "$syslog_stamp" >"$T/syslog.log"
prefixed "$iso_stamp" >"$T/iso.log"
prefixed "" >"$T/journal.log"
lines=$(( $(wc -l <"$LOG") + 1 ))

# check FORM LOG FILTER WANT: fail2ban-regex matches exactly the lines
# counted, and reports the same hosts the same number of times.
check()
{
	local form=$1 log=$2 flt=$3 want=$4 out n m

	out=$(fail2ban-regex "$log" "$flt" 2>&1) ||
	    fail "$form: fail2ban-regex failed: $out"
	[[ $out =~ Lines:\ ([0-9]+)\ lines,\ ([0-9]+)\ ignored,\ ([0-9]+)\ matched,\ ([0-9]+)\ missed ]] ||
	    fail "$form: no 'Lines: ... matched' in fail2ban-regex's output: $out"
	[ "${BASH_REMATCH[1]}" = "$lines" ] ||
	    fail "$form: fail2ban-regex read ${BASH_REMATCH[1]} lines of $lines"
	n=$(wc -l <"$want")
	m=${BASH_REMATCH[3]}
	[ "$m" = "$n" ] ||
	    fail "$form: fail2ban-regex matched $m lines, the log has $n failures: $out"
	fail2ban-regex -o ip "$log" "$flt" 2>"$T/f2b.err" |
	    sort >"$T/got" || fail "$form: fail2ban-regex -o ip failed: $(cat "$T/f2b.err")"
	diff -u "$want" "$T/got" >"$T/hosts.diff" ||
	    fail "$form: the hosts fail2ban found differ (- expected, + found): $(cat "$T/hosts.diff")"
	say "$form: $m of $lines lines matched, hosts: $(uniq -c "$T/got" | awk '{ printf "%s%s x%s", s, $2, $1; s = ", " }')"
}

check "rsyslog traditional" "$T/syslog.log" "$FLT" "$T/want.normal"
check "RSYSLOG_FileFormat" "$T/iso.log" "$FLT" "$T/want.normal"
check "journal" "$T/journal.log" "${FLT}[logtype=journal]" "$T/want.normal"
check "rsyslog traditional, aggressive" "$T/syslog.log" \
    "${FLT}[mode=aggressive]" "$T/want.aggressive"

# The UDP redirect's summaries are there, and check() found that none
# of them matched.
grep -Eq '^service=dns-udp action=refuse proto=udp peer=127\.0\.0\.22/32 reason=acl repeat=[0-9]+$' "$LOG" ||
    fail "no summary 'service=dns-udp action=refuse proto=udp peer=127.0.0.22/32 reason=acl repeat=N'"

ok
