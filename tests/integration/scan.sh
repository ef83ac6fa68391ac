#!/bin/bash
# Traps and scan detection (DESIGN.md keys builtin = trap, scan_ports,
# scan_window, scan_detect, scan_ban_time, never_ban; portmux.conf(5)
# "Traps and scans").  A connection to a trap is closed at once with
# nothing sent and bans its source (reason=trap); a source refused by
# scan_ports distinct services within scan_window is a connect scanner
# (action=scan kind=connect, then a ban reason=scan); with scan_detect =
# syn a half-open nmap -sS over closed ports, which never reaches
# accept(), is caught from the packet socket (kind=syn) and banned for
# scan_ban_time only, since SYNs can be forged.  never_ban exempts a
# network from every ban, and a client that scans nothing (127.0.0.3)
# is served throughout.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd nmap
need_cmd socat

# echo_from SRC PORT: a line sent from SRC to 127.0.0.1:PORT comes back.
echo_from()
{
	local out

	out=$(printf 'hello\n' | timeout 5 socat -t2 - \
	    "TCP4:127.0.0.1:$2,bind=$1" 2>/dev/null)
	[ "$out" = hello ]
}

# --- connect scans and the trap, scan_detect = connect (the default) ---
conf=$T/scan.conf
cat >"$conf" <<EOF
stop_grace  = 1s
ban_time    = 60s
scan_ports  = 3
scan_window = 10s
never_ban   = {127.0.0.6/32}

service web {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2280
  builtin  = echo
}
service trap {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2323
  builtin  = trap
}
EOF
for p in 2401 2402 2403; do
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
start_daemon "$conf"
wait_listen 2323 127.0.0.1 || fail "the trap is not listening"
echo_from 127.0.0.3 2280 || fail "web does not answer 127.0.0.3"

# A trap sends nothing and closes at once.
out=$(timeout 5 socat -t3 - TCP4:127.0.0.1:2323,bind=127.0.0.5 </dev/null 2>&1)
[ -z "$out" ] || fail "the trap sent '$out'"
wait_log "service=trap action=refuse proto=tcp peer=127.0.0.5:[0-9]+ reason=trap" ||
    fail "the trap did not log its refusal"
wait_log "action=ban peer=127.0.0.5/32 reason=trap until=" ||
    fail "the trap did not ban 127.0.0.5"

# nmap -sT over a range that holds the trap ends in a ban.
nmap -n -Pn -sT -S 127.0.0.2 -e lo -p 2300-2330 127.0.0.1 >"$T/nmap-st.out" 2>&1 ||
    fail "nmap -sT failed: $(cat "$T/nmap-st.out")"
wait_log "action=ban peer=127.0.0.2/32 reason=trap" ||
    fail "nmap -sT over the trap did not ban 127.0.0.2"
echo_from 127.0.0.2 2280 && fail "banned 127.0.0.2 is still served"
wait_log "service=web action=refuse proto=tcp peer=127.0.0.2:[0-9]+ reason=banned" ||
    fail "banned 127.0.0.2 was not refused with reason=banned"

# Three services that refuse 127.0.0.7 by ACL: a connect scan.
nmap -n -Pn -sT -S 127.0.0.7 -e lo -p 2401-2403 127.0.0.1 >"$T/nmap-acl.out" 2>&1 ||
    fail "nmap -sT failed: $(cat "$T/nmap-acl.out")"
wait_log "action=scan peer=127.0.0.7 kind=connect ports=240[123],240[123],240[123]" ||
    fail "no action=scan kind=connect line for 127.0.0.7"
wait_log "action=ban peer=127.0.0.7/32 reason=scan until=" ||
    fail "the connect scan did not ban 127.0.0.7"

# never_ban holds, for a trap and for a scan.
timeout 5 socat -t1 - TCP4:127.0.0.1:2323,bind=127.0.0.6 </dev/null >/dev/null 2>&1
wait_log "action=exempt peer=127.0.0.6/32 reason=trap" ||
    fail "never_ban: no action=exempt line for 127.0.0.6"
[ "$(log_count "action=ban peer=127.0.0.6/")" = 0 ] || fail "never_ban 127.0.0.6 was banned"
echo_from 127.0.0.6 2280 || fail "never_ban 127.0.0.6 is not served after the trap"
echo_from 127.0.0.3 2280 || fail "127.0.0.3 is not served after the scans"
stop_daemon

# --- a half-open SYN scan, scan_detect = syn ---
LOG=$T/syn.log
conf=$T/syn.conf
cat >"$conf" <<EOF
stop_grace    = 1s
ban_time      = 10m
scan_ports    = 5
scan_window   = 10s
scan_detect   = syn
scan_ban_time = 30s

service web {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2280
  builtin  = echo
}
service hidden {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2290
  builtin  = echo
  knock    = {"tcp:3101", "tcp:3102", "tcp:3103", "tcp:3104", "tcp:3105", "tcp:3106"}
}
EOF
start_daemon "$conf"
wait_listen 2280 127.0.0.1 || fail "web is not listening"
echo_from 127.0.0.3 2280 || fail "web does not answer 127.0.0.3"
nmap -n -Pn -sS -S 127.0.0.4 -e lo -p 3001-3010 127.0.0.1 >"$T/nmap-ss.out" 2>&1 ||
    fail "nmap -sS failed: $(cat "$T/nmap-ss.out")"
# nmap probes 3001-3010 in an order of its own: any of them may be first.
wait_log "action=scan peer=127.0.0.4 kind=syn ports=(300[1-9]|3010)(,|$)" ||
    fail "no action=scan kind=syn line for the SYN scan"
wait_log "action=ban peer=127.0.0.4/32 reason=scan until=" ||
    fail "the SYN scan did not ban 127.0.0.4"
line=$(grep -E "action=ban peer=127.0.0.4/32 reason=scan until=" "$LOG" | head -n 1)
until=$(field "$line" until)
left=$(( $(date -u -d "${until%Z} UTC" +%s) - $(date +%s) ))
[ "$left" -le 31 ] && [ "$left" -ge 20 ] ||
    fail "a SYN scan ban lasts scan_ban_time (30s), not ban_time: ${left}s left ($line)"
echo_from 127.0.0.4 2280 && fail "the SYN scanner is still served"
wait_log "service=web action=refuse proto=tcp peer=127.0.0.4:[0-9]+ reason=banned" ||
    fail "the SYN scanner was not refused with reason=banned"
echo_from 127.0.0.3 2280 || fail "127.0.0.3 is not served after the SYN scan"

# SYNs to knock ports are knocks, not a scan; a banned scanner that goes
# on is not logged again.  The packet socket is one queue: once the scan
# of 127.0.0.9, sent last, is logged, the SYNs before it were counted.
nmap -n -Pn -sS -S 127.0.0.8 -e lo -p 3101-3106 127.0.0.1 >"$T/nmap-knock.out" 2>&1 ||
    fail "nmap -sS failed: $(cat "$T/nmap-knock.out")"
nmap -n -Pn -sS -S 127.0.0.4 -e lo -p 3011-3020 127.0.0.1 >"$T/nmap-again.out" 2>&1 ||
    fail "nmap -sS failed: $(cat "$T/nmap-again.out")"
nmap -n -Pn -sS -S 127.0.0.9 -e lo -p 3201-3206 127.0.0.1 >"$T/nmap-last.out" 2>&1 ||
    fail "nmap -sS failed: $(cat "$T/nmap-last.out")"
wait_log "action=scan peer=127.0.0.9 kind=syn" ||
    fail "no action=scan kind=syn line for 127.0.0.9"
[ "$(log_count "action=scan peer=127.0.0.8 ")" = 0 ] ||
    fail "SYNs to the knock ports counted as a scan"
[ "$(log_count "action=scan peer=127.0.0.4 ")" = 1 ] ||
    fail "the banned scanner was logged again"
ok
