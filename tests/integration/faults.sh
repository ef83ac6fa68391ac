#!/bin/bash
# Spawn failures (DESIGN.md "Overload policy": fork failure refuses that
# one connection and logs it; reason=exec and reason=fork in
# "Logging").  A service program that disappears after the start (a
# package upgrade, a typo fixed in the wrong place) and a fork that
# fails (RLIMIT_NPROC, a full process table) must each cost only the
# connection at hand: it is closed at once without data, logged with
# its reason (exec: stage=exec error="No such file or directory"), and
# the daemon keeps serving everything else, and that service again once
# the cause is gone.
#
# exec: the server is a copy of /bin/cat in $T, removed after the start.
# fork: a root monitor is not bound by RLIMIT_NPROC, so a second daemon
# runs as an unused uid (no account, no process) under a soft
# RLIMIT_NPROC of 2, the monitor and the engine: the fork of a service
# program fails with EAGAIN.  Started by an ordinary user, portmuxd
# runs everything as that user, hence high ports and no `user'.
. "$(dirname "$0")/lib.sh"

need_cmd setpriv prlimit

# ask PORT WORD: what the echoing service on PORT answers WORD.
ask()
{
	printf '%s\n' "$2" | timeout 5 socat -t3 - "TCP4:127.0.0.1:$1" \
	    2>/dev/null
}

# refused_at PORT SERVICE REASON_RE WHAT: closed at once, no data, and
# the refusal is logged.
refused_at()
{
	local got t0 t1

	t0=$(date +%s%N)
	got=$(ask "$1" hello)
	t1=$(date +%s%N)
	[ -z "$got" ] || fail "$4: service $2 answered '$got'"
	[ $(( (t1 - t0) / 1000000 )) -lt 2000 ] ||
	    fail "$4: the connection was not closed at once ($(( (t1 - t0) / 1000000 ))ms)"
	wait_log "^conn=[0-9]+ service=$2 action=refuse $3\$" ||
	    fail "$4: no 'conn=N service=$2 action=refuse $3' line"
}

# --- exec failure, with the daemon as root (services as nobody) or as
# the user running the test.
cp /bin/cat "$T/srv" && chmod 755 "$T/srv" || fail "cannot copy /bin/cat"
conf=$T/exec.conf
cat >"$conf" <<EOF
stop_grace = 1s

defaults {
  protocol = tcp
  address  = {127.0.0.1}
}

service gone {
  port   = 2000
  server = $T/srv
}

service cat {
  port   = 2001
  server = /bin/cat
}

service echo {
  port    = 2002
  builtin = echo
}
EOF
start_daemon "$conf"
for p in 2000 2001 2002; do
	wait_listen $p 127.0.0.1 || fail "nothing listens on port $p"
done
[ "$(ask 2000 before)" = before ] || fail "service gone does not answer before its program is removed"
rm -f "$T/srv" || fail "cannot remove $T/srv"
refused_at 2000 gone 'reason=exec stage=exec error="No such file or directory"' \
    "exec of a removed program"
[ "$(log_count '^conn=[0-9]+ service=gone action=refuse reason=exec ')" = 1 ] ||
    fail "one failed exec, $(log_count '^conn=[0-9]+ service=gone action=refuse reason=exec ') refuse lines"
proc_alive "$MONPID" || fail "the monitor died after a failed exec"
[ "$(ask 2001 cat)" = cat ] || fail "service cat is not served after the failed exec"
[ "$(ask 2002 echo)" = echo ] || fail "echo is not served after the failed exec"
cp /bin/cat "$T/srv" && chmod 755 "$T/srv" || fail "cannot copy /bin/cat"
[ "$(ask 2000 back)" = back ] || fail "service gone is not served once its program is back"
stop_daemon
say "exec failure: refused and logged, the daemon kept serving"

# --- fork failure, as an unused uid under RLIMIT_NPROC.
# Running portmuxd as another uid needs real root.
need_root
uid=
for u in $(seq 4000100 4000200); do
	getent passwd "$u" >/dev/null && continue
	[ -z "$(pgrep -U "$u")" ] && { uid=$u; break; }
done
[ -n "$uid" ] || fail "no unused uid in 4000100-4000200"
nproc=$(( $(pgrep -U "$uid" | wc -l) + 2 ))
hard=$(ulimit -Hu)
[ "$hard" = unlimited ] || [ "$hard" -gt $((nproc + 10)) ] ||
    fail "the hard RLIMIT_NPROC ($hard) leaves no room to lift the soft one"

conf=$T/fork.conf
cat >"$conf" <<EOF
stop_grace = 1s

defaults {
  protocol = tcp
  address  = {127.0.0.1}
}

service forkcat {
  port   = 2101
  server = /bin/cat
}

service forkecho {
  port    = 2102
  builtin = echo
}
EOF
chmod 644 "$conf"
real=$PORTMUXD
PORTMUXD=$T/portmuxd-nproc
cat >"$PORTMUXD" <<EOF
#!/bin/sh
exec prlimit --nproc=$nproc:$hard -- setpriv --reuid=$uid --regid=$uid \
    --clear-groups -- "$real" "\$@"
EOF
chmod 755 "$PORTMUXD"
start_daemon "$conf"
for p in 2101 2102; do
	wait_listen $p 127.0.0.1 || fail "nothing listens on port $p (portmuxd as uid $uid)"
done
engine=$(engine_pid)
[ -n "$engine" ] || fail "no engine (portmuxd as uid $uid)"
[ "$(awk '/^Uid:/ { print $2 }' "/proc/$MONPID/status")" = "$uid" ] ||
    fail "the monitor does not run as uid $uid"
[ "$(awk '/^Max processes/ { print $3 }' "/proc/$MONPID/limits")" = "$nproc" ] ||
    fail "the monitor's RLIMIT_NPROC is not $nproc"

refused_at 2101 forkcat 'reason=fork( .*)?' "fork under RLIMIT_NPROC = $nproc"
grep -Eq '^conn=[0-9]+ service=forkcat action=spawn ' "$LOG" &&
    fail "a program of forkcat was spawned under RLIMIT_NPROC = $nproc"
proc_alive "$MONPID" || fail "the monitor died after a failed fork"
[ "$(engine_pid)" = "$engine" ] || fail "the engine changed after a failed fork"
[ "$(ask 2102 echo)" = echo ] || fail "echo is not served after the failed fork"
[ -z "$(ask 2101 second)" ] ||
    fail "a second connection to forkcat was served under RLIMIT_NPROC = $nproc"

# Lift the limit (up to the hard limit, as that uid: root may lack
# CAP_SYS_RESOURCE in a container): the service works again.
setpriv --reuid="$uid" --regid="$uid" --clear-groups -- \
    prlimit --pid "$MONPID" --nproc="$hard:$hard" ||
    fail "cannot raise RLIMIT_NPROC of the monitor"
[ "$(ask 2101 again)" = again ] ||
    fail "forkcat is not served once RLIMIT_NPROC is lifted"
[ "$(ask 2102 echo)" = echo ] || fail "echo is not served at the end"
say "fork failure: refused and logged, the daemon kept serving"

ok
