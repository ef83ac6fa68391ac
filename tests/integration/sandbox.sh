#!/bin/bash
# The engine's sandbox (portmuxd(8) "Sandbox"): an empty root that no
# longer exists, PR_SET_NO_NEW_PRIVS and a seccomp allow list.  With
# PORTMUXD_SANDBOX_SELFTEST set, the first engine tries execve(2) once
# its filter is on, as an intruder would: the kernel kills it, the
# monitor logs the call by number and name and starts a new engine.
# That engine (a restart, which the self-test spares) then serves every
# kind of service with the filter on, builtins TCP and UDP, exec, wait,
# tcpmux, redirect, knock, control and metrics, and is still the same
# process at the end: nothing it did was forbidden.
. "$(dirname "$0")/lib.sh"

need_cmd socat
need_cmd knock
need_cmd perl

CTL=$top_builddir/src/portmuxctl

cat >"$T/udpwait.pl" <<'EOF'
use strict;
use warnings;

alarm 30;
open(my $s, '+<&=', 0) or die "fd 0: $!\n";
my $from = recv($s, my $buf, 65536, 0);
defined($from) or die "recv: $!\n";
defined(send($s, "wait:$buf", 0, $from)) or die "send: $!\n";
EOF
chmod 644 "$T/udpwait.pl"

conf=$T/sandbox.conf
cat >"$conf" <<EOF
stop_grace    = 1s
log_level     = debug
control       = "$T/ctl.sock"
metrics       = "127.0.0.1:2690"
metrics_allow = {127.0.0.1/32}

defaults {
  address = {127.0.0.1}
}
service echo {
  protocol = tcp
  port     = 2601
  builtin  = echo
}
service daytime {
  protocol = tcp
  port     = 2602
  builtin  = daytime
}
service uecho {
  protocol = udp
  port     = 2603
  builtin  = echo
}
service cat {
  protocol = tcp
  port     = 2604
  server   = /bin/cat
}
service uwait {
  protocol = udp
  port     = 2605
  server   = /usr/bin/perl
  args     = {perl, $T/udpwait.pl}
  wait     = true
}
service tcpmux {
  protocol = tcp
  port     = 2606
  builtin  = tcpmux
}
service MyEcho {
  protocol = tcp
  builtin  = echo
  tcpmux   = true
}
service fwd {
  protocol = tcp
  port     = 2607
  redirect = "127.0.0.1:2601"
}
service secret {
  protocol   = tcp
  port       = 2608
  builtin    = echo
  knock      = {"udp:7611"}
  knock_open = 5m
}
EOF

export PORTMUXD_SANDBOX_SELFTEST=1
start_daemon "$conf"
first=$(sed -n "s/^action=start pid=$MONPID engine=\([0-9]*\) .*/\1/p" \
    "$LOG" | head -n 1)
[ -n "$first" ] || fail "no start line naming the first engine"
wait_log "^action=warn msg=\"engine $first killed by its sandbox: forbidden system call\" syscall=[0-9]+ name=execve\$" 10 ||
    fail "the monitor did not log the trapped execve of engine $first"
wait_log "^action=start pid=$MONPID engine=[0-9]+ .*reason=restart" 10 ||
    fail "no engine restart after the trapped call"
eng=$(sed -n "s/^action=start pid=$MONPID engine=\([0-9]*\) .*reason=restart.*/\1/p" \
    "$LOG" | tail -n 1)
[ "$(engine_pid)" = "$eng" ] || fail "the engine is $(engine_pid), the log says $eng"
grep -q "killed by signal" "$LOG" &&
    fail "the trapped engine was logged twice: $(grep 'killed by signal' "$LOG")"
wait_listen 2601 127.0.0.1 || fail "echo does not listen after the restart"

# The sandbox as the kernel sees it.
st=/proc/$eng/status
grep -Eq '^Seccomp:[[:space:]]+2$' "$st" || fail "engine $eng has no seccomp filter: $(grep Seccomp "$st")"
grep -Eq '^NoNewPrivs:[[:space:]]+1$' "$st" || fail "engine $eng lacks no_new_privs"
if grep -q "action=sandbox engine=$eng msg=\"relaxed: " "$LOG"; then
	say "relaxed sandbox in this build: $(grep "action=sandbox engine=$eng" "$LOG")"
else
	root=$(readlink "/proc/$eng/root")
	case "$root" in
	/tmp/portmuxd-engine.*" (deleted)") ;;
	*) fail "engine $eng's root is '$root', not a removed empty directory" ;;
	esac
	[ -z "$(ls -A "/proc/$eng/root/" 2>/dev/null)" ] ||
	    fail "engine $eng's root is not empty"
	ls -d /tmp/portmuxd-engine.* >/dev/null 2>&1 &&
	    fail "an engine root directory was left behind: $(ls -d /tmp/portmuxd-engine.*)"
	grep -Eq "^action=sandbox engine=$eng root=empty landlock=[0-9]+ seccomp=on\$" "$LOG" ||
	    fail "no action=sandbox line for engine $eng: $(grep 'action=sandbox' "$LOG")"
fi

# tcp_line PORT TEXT: what a line sent to PORT brings back (first line).
tcp_line()
{
	printf '%s\n' "$2" | timeout 5 socat -t 2 - "TCP4:127.0.0.1:$1" \
	    2>/dev/null | head -n 1 | tr -d '\r'
}

[ "$(tcp_line 2601 one)" = one ] || fail "builtin echo"
out=$(timeout 5 socat -u TCP4:127.0.0.1:2602 - 2>/dev/null)
[[ "$out" =~ [0-9]{2}:[0-9]{2}:[0-9]{2} ]] || fail "builtin daytime: '$out'"
out=$(printf 'two' | timeout 5 socat -t 2 - UDP4:127.0.0.1:2603 2>/dev/null)
[ "$out" = two ] || fail "UDP echo: '$out'"
[ "$(tcp_line 2604 three)" = three ] || fail "exec /bin/cat"
out=$(printf 'four' | timeout 10 socat -t 5 - UDP4:127.0.0.1:2605 2>/dev/null)
[ "$out" = wait:four ] || fail "UDP wait service: '$out'"
out=$(printf 'MyEcho\r\nfive\r\n' | timeout 5 socat -t 2 - TCP4:127.0.0.1:2606 \
    2>/dev/null | tr -d '\r' | tr '\n' ' ')
[ "$out" = "+Go five " ] || fail "tcpmux: '$out'"
[ "$(tcp_line 2607 six)" = six ] || fail "redirect"
[ -z "$(tcp_line 2608 shut)" ] || fail "the knock service answered before a knock"
knock -u 127.0.0.1 7611 >/dev/null || fail "knock failed"
wait_log "service=secret action=knock peer=127.0.0.1/32 open=" 5 ||
    fail "the knock was not counted"
[ "$(tcp_line 2608 seven)" = seven ] || fail "knocked service"
"$CTL" -s "$T/ctl.sock" status >"$T/status.out" 2>"$T/status.err" ||
    fail "portmuxctl status: $(cat "$T/status.err")"
grep -q 'secret' "$T/status.out" || fail "portmuxctl status lacks the services"
out=$(printf 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' |
    timeout 5 socat -t 2 - TCP4:127.0.0.1:2690 2>/dev/null)
grep -q '^portmuxd_' <<<"$out" || fail "metrics: $(head -c 200 <<<"$out")"

# Everything above ran in the one engine the restart started.
[ "$(engine_pid)" = "$eng" ] || fail "engine $eng was replaced by $(engine_pid)"
[ "$(log_count 'killed by')" = 1 ] ||
    fail "an engine died again: $(grep 'killed by' "$LOG")"
proc_alive "$MONPID" || fail "the monitor died"
stop_daemon
ok
