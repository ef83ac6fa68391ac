#!/bin/bash
# portmuxd under systemd, with systemd's own tools where they exist:
# - Type=notify: a listener on a NOTIFY_SOCKET of the test's own gets
#   READY=1 (naming the running engine, its services answering),
#   RELOADING=1 with MONOTONIC_USEC then READY=1 around a reload (also a
#   refused one, which says so), STOPPING=1 at the stop; the service
#   programs see neither NOTIFY_SOCKET nor LISTEN_*;
# - socket activation with systemd-socket-activate: the passed TCP, unix
#   and UDP sockets serve their services (ss shows portmuxd holding fd 3),
#   a service without one binds its own, a reload that drops and restores
#   a passed socket's service finds it again, and a passed socket no
#   service matches is an error naming it (exit 78);
# - JOURNAL_STREAM naming stderr gives every line its <N> priority.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd socat python3 systemd-socket-activate ss
CTL=$top_builddir/src/portmuxctl
[ -x "$CTL" ] || fail "no $CTL"

NSOCK=$T/notify.sock
NLOG=$T/notify.log

# A notify listener: each datagram one line, its newlines shown as " | ".
python3 - "$NSOCK" "$NLOG" <<'PYEOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        m = s.recv(4096).decode()
        f.write(m.replace("\n", " | ") + "\n")
        f.flush()
PYEOF
PIDS+=($!)
for i in $(seq 1 100); do
	[ -S "$NSOCK" ] && break
	sleep 0.05
done
[ -S "$NSOCK" ] || fail "the notify listener did not start"
: >"$NLOG"

# wait_notify REGEX N: until N notify messages match.
wait_notify()
{
	wait_file "$NLOG" "$1" "$2"
}

echo_ok()	# echo_ok ADDRESS...: the echo service there answers
{
	local got

	got=$(printf 'ping\n' | timeout 5 socat -t 2 - "$@" 2>/dev/null)
	[ "$got" = ping ]
}

# 1. Type=notify.
conf=$T/notify.conf
good_conf()
{
	cat >"$conf" <<EOF
stop_grace = 1s
control    = "$T/ctl.sock"

service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 7201
  builtin  = echo
}

service env {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 7202
  server   = /usr/bin/env
  user     = daemon
}
EOF
}
good_conf
export NOTIFY_SOCKET=$NSOCK
start_daemon "$conf"
unset NOTIFY_SOCKET
wait_notify '^READY=1 \| STATUS=running: generation 1, 3 services, engine [0-9]+$' 1 ||
    fail "no READY=1 with the status: $(cat "$NLOG")"
eng=$(engine_pid)
grep -q "engine $eng\$" "$NLOG" ||
    fail "READY=1 names another engine than $eng: $(cat "$NLOG")"
[ "$(grep -c . "$NLOG")" = 1 ] || fail "more than READY=1 at start: $(cat "$NLOG")"
echo_ok TCP:127.0.0.1:7201 || fail "echo does not answer after READY=1"

env_out=$(timeout 5 socat -t 2 - TCP:127.0.0.1:7202 </dev/null) ||
    fail "the env service did not answer"
grep -q '^PORTMUX_SERVICE=env$' <<<"$env_out" ||
    fail "not the service's environment: $env_out"
if grep -E '^(NOTIFY_SOCKET|LISTEN_[A-Z]+|JOURNAL_STREAM)=' <<<"$env_out"; then
	fail "a service program sees the service manager's variables"
fi

# A reload: RELOADING=1 with the monotonic clock, then READY=1.
kill -HUP "$MONPID"
wait_notify '^READY=1 \| STATUS=running: generation 2, ' 1 ||
    fail "no READY=1 after the reload: $(cat "$NLOG")"
line=$(grep -n '^RELOADING=1' "$NLOG" | head -n 1)
[ -n "$line" ] || fail "no RELOADING=1: $(cat "$NLOG")"
[[ $line =~ ^2:RELOADING=1\ \|\ MONOTONIC_USEC=([0-9]+)\ \|\ STATUS=reloading ]] ||
    fail "RELOADING=1 not the second message, or without MONOTONIC_USEC: $(cat "$NLOG")"
usec=${BASH_REMATCH[1]}
read -r up _ </proc/uptime
now=$(( ${up%.*} * 1000000 ))
# CLOCK_MONOTONIC and the uptime differ by the time the host slept.
[ "$usec" -le "$((now + 5000000))" ] ||
    fail "MONOTONIC_USEC=$usec is ahead of the uptime ($now us)"

# A refused reload: RELOADING=1, then READY=1 saying it was refused.
printf 'service broken {\n  protocol = tcp\n  port = 99999\n  builtin = echo\n}\n' >>"$conf"
kill -HUP "$MONPID"
wait_notify '^READY=1 \| STATUS=reload failed, the previous configuration runs: generation 2, ' 1 ||
    fail "a refused reload is not reported: $(cat "$NLOG")"
[ "$(grep -c '^RELOADING=1' "$NLOG")" = 2 ] || fail "not two RELOADING=1: $(cat "$NLOG")"
echo_ok TCP:127.0.0.1:7201 || fail "echo stopped after a refused reload"
# What ExecReload runs: portmuxctl reload, failing for a refused file.
"$CTL" -s "$T/ctl.sock" reload >"$T/ctl.out" 2>&1 &&
    fail "portmuxctl reload succeeded on a broken file: $(cat "$T/ctl.out")"
good_conf
"$CTL" -s "$T/ctl.sock" reload >"$T/ctl.out" 2>&1 ||
    fail "portmuxctl reload failed: $(cat "$T/ctl.out")"
wait_notify '^READY=1 \| STATUS=running: generation 3, ' 1 ||
    fail "no READY=1 for generation 3: $(cat "$NLOG")"

stop_daemon
wait_notify '^STOPPING=1 \| STATUS=stopping' 1 || fail "no STOPPING=1: $(cat "$NLOG")"
MONPID=

# 2. Socket activation.  systemd-socket-activate binds, waits for the
# first client and execs portmuxd with the sockets; that client is then
# served by portmuxd.
sconf=$T/activate.conf
act_conf()	# act_conf [with_daytime]
{
	cat >"$sconf" <<EOF
stop_grace = 1s

service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 7211
  builtin  = echo
}

service own {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 7212
  builtin  = echo
}

service uecho {
  protocol = unix
  path     = "$T/u.sock"
  builtin  = echo
}
EOF
	[ "${1:-}" = with_daytime ] || return 0
	cat >>"$sconf" <<EOF

service daytime {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 7213
  builtin  = daytime
}
EOF
}

# activate ARGS...: systemd-socket-activate with ARGS, then portmuxd -F.
activate()
{
	: >"$LOG"
	systemd-socket-activate "$@" -E PATH "$PORTMUXD" -F -f "$sconf" \
	    >>"$LOG" 2>&1 &
	MONPID=$!
	PIDS+=("$MONPID")
	for i in $(seq 1 100); do
		grep -q 'Listening on 127.0.0.1:7211' "$LOG" && return 0
		sleep 0.05
	done
	fail "systemd-socket-activate did not listen"
}

act_conf with_daytime
activate -l 127.0.0.1:7211 -l "$T/u.sock" -l 127.0.0.1:7213 \
    --fdname=echo:unix:daytime
echo_ok TCP:127.0.0.1:7211 || fail "the first client of a passed socket was not served"
wait_log 'action=start .* passed=3$' 10 || fail "portmuxd did not start with 3 passed sockets"
ss -ltnp 'sport = :7211' | grep -q "(\"portmuxd\",pid=$MONPID,fd=3)" ||
    fail "portmuxd does not hold the passed socket as fd 3: $(ss -ltnp 'sport = :7211')"
echo_ok TCP:127.0.0.1:7212 || fail "a service without a passed socket does not answer"
echo_ok UNIX-CONNECT:"$T/u.sock" || fail "the passed unix socket does not answer"
day=$(timeout 5 socat -t 2 - TCP:127.0.0.1:7213 </dev/null)
[[ $day =~ [0-9]{2}:[0-9]{2}:[0-9]{2} ]] || fail "daytime on a passed socket: '$day'"

# Drop daytime: its socket stays open (a warning names it), then comes
# back with the service, without a bind of its own.
act_conf
kill -HUP "$MONPID"
wait_log 'action=warn fd=5 name=daytime proto=tcp address=127.0.0.1 port=7213 msg="passed by the service manager, no service of this generation uses it; kept open"' 10 ||
    fail "a reload without the service of a passed socket does not say so"
wait_log 'action=reload generation=2 ' 5 || fail "reload 2 not done"
act_conf with_daytime
kill -HUP "$MONPID"
wait_log 'action=reload generation=3 ' 10 || fail "reload 3 not done"
day=$(timeout 5 socat -t 2 - TCP:127.0.0.1:7213 </dev/null)
[[ $day =~ [0-9]{2}:[0-9]{2}:[0-9]{2} ]] ||
    fail "daytime does not answer on its passed socket after coming back: '$day'"
echo_ok UNIX-CONNECT:"$T/u.sock" || fail "the unix socket stopped answering after reloads"
grep -q 'cannot bind' "$LOG" && fail "a reload tried to bind a passed socket's address"
stop_daemon
[ -S "$T/u.sock" ] || fail "the stop removed the unix socket the service manager owns"
MONPID=
rm -f "$T/u.sock"

# A passed socket that no service has: an error naming it, exit 78.
act_conf
activate -l 127.0.0.1:7211 -l 127.0.0.1:7219 -l "$T/u.sock"
(printf 'x\n' | timeout 5 socat -t 1 - TCP:127.0.0.1:7211 >/dev/null 2>&1) || true
wait_exit "$MONPID" 10 || fail "portmuxd runs with a passed socket it cannot use"
[ "$DAEMON_RC" = 78 ] || fail "exit $DAEMON_RC for an unmatched passed socket, not 78"
grep -q 'action=error fd=4 proto=tcp address=127.0.0.1 port=7219 msg="passed by the service manager, but no service listens there"' "$LOG" ||
    fail "the unmatched passed socket is not named"
MONPID=
rm -f "$T/u.sock"

# UDP: the datagram that woke systemd-socket-activate is answered.
cat >"$sconf" <<EOF
service uecho {
  protocol = udp
  address  = {127.0.0.1}
  port     = 7211
  builtin  = echo
}
EOF
: >"$LOG"
systemd-socket-activate -d -l 127.0.0.1:7211 -E PATH "$PORTMUXD" -F \
    -f "$sconf" >>"$LOG" 2>&1 &
MONPID=$!
PIDS+=("$MONPID")
for i in $(seq 1 100); do
	grep -q 'Listening on 127.0.0.1:7211' "$LOG" && break
	sleep 0.05
done
got=$(printf 'dgram\n' | timeout 5 socat -t 3 - UDP:127.0.0.1:7211,sourceport=40001)
[ "$got" = dgram ] || fail "the passed UDP socket did not answer: '$got'"
wait_log 'action=start .* passed=1$' 5 || fail "no start with the passed UDP socket"
stop_daemon
MONPID=

# 3. The journal's priorities, only when stderr is JOURNAL_STREAM.
: >"$LOG"
JOURNAL_STREAM=$(stat -c '%d:%i' "$LOG") start_daemon "$conf"
printf 'service broken {\n  protocol = tcp\n  port = 99999\n  builtin = echo\n}\n' >>"$conf"
kill -HUP "$MONPID"
wait_log '^<4>action=warn msg="reload failed' 10 ||
    fail "no <4> before a warning under JOURNAL_STREAM"
grep -q '^<6>action=start ' "$LOG" || fail "no <6> before the start line"
grep -q '^<3>' "$LOG" || fail "no <3> before the reload's errors"
echo_ok TCP:127.0.0.1:7201 || fail "echo under JOURNAL_STREAM"
wait_log '^<6>conn=[0-9]+ service=echo action=close ' 5 || fail "no <6> before a connection line"
grep -Ev '^<[0-7]>' "$LOG" | grep -q . && fail "a line without its priority under JOURNAL_STREAM"
stop_daemon
MONPID=
good_conf
: >"$LOG"
JOURNAL_STREAM=$(stat -c '%d:%i' "$NLOG") start_daemon "$conf"
grep -q '^action=start ' "$LOG" ||
    fail "priorities written when stderr is not the JOURNAL_STREAM"
ok
