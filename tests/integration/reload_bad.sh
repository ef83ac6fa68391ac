#!/bin/bash
# A reload with a broken config changes nothing (DESIGN.md "Reload" is
# all or nothing): the error is logged as file:line: pointing at the bad
# key, a warning says which generation is kept, the old services keep
# answering from the same engine and the daemon keeps running.  A later
# good reload must still work: a failed one must not wedge the monitor.
. "$(dirname "$0")/lib.sh"

conf=$T/portmux.conf
cat >"$conf" <<EOF
stop_grace = 2s

service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 7
  builtin  = echo
}

service discard {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 9
  builtin  = discard
}
EOF
start_daemon "$conf"
wait_port 7 || fail "echo does not answer"
wait_port 9 || fail "discard does not answer"
engine=$(engine_pid)
[ -n "$engine" ] || fail "no engine"

echo_works()
{
	local line=

	exec 3<>/dev/tcp/127.0.0.1/7 || return 1
	printf 'check\n' >&3
	read -r -t 3 -u 3 line
	exec 3<&-
	[ "$line" = check ]
}

# An unknown key on line 7 (and a new service that must not appear).
cat >"$T/bad.conf" <<EOF
stop_grace = 2s

service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 7
  no_such_key = 1
  builtin  = echo
}

service daytime {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 13
  builtin  = daytime
}
EOF
[ "$(sed -n 7p "$T/bad.conf")" = "  no_such_key = 1" ] ||
    fail "test bug: the bad key is not on line 7"
mv "$T/bad.conf" "$conf"
kill -HUP "$MONPID"
wait_log '^action=warn msg="reload failed, keeping generation [0-9]+"' 10 ||
    fail "no 'action=warn msg=\"reload failed, keeping generation N\"' line"
kept=$(sed -n 's/^action=warn msg="reload failed, keeping generation \([0-9]*\)".*/\1/p' \
    "$LOG" | head -n 1)
grep -Fq "$conf:7: " "$LOG" ||
    fail "no '$conf:7: ...' error naming the unknown key's line"
grep -Eq '^action=reload generation=' "$LOG" &&
    fail "a failed reload logged the success line action=reload generation="

proc_alive "$MONPID" || fail "the monitor died of a bad reload"
[ "$(engine_pid)" = "$engine" ] ||
    fail "the engine changed ($engine -> $(engine_pid)) on a failed reload"
echo_works || fail "echo stopped answering after the failed reload"
connect_ok 127.0.0.1 9 || fail "discard stopped answering after the failed reload"
refused 127.0.0.1 13 || fail "the daytime of the bad config answers"

# Now a good config: the reload goes through.
cat >"$T/good.conf" <<EOF
stop_grace = 2s

service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 7
  builtin  = echo
}

service daytime {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 13
  builtin  = daytime
}
EOF
mv "$T/good.conf" "$conf"
kill -HUP "$MONPID"
wait_log '^action=reload generation=[0-9]+ services=2( |$)' 10 ||
    fail "the good reload after a failed one did not log action=reload"
gen=$(sed -n 's/^action=reload generation=\([0-9]*\) .*/\1/p' "$LOG" |
    head -n 1)
[ "$gen" -gt "$kept" ] ||
    fail "generation $gen after the good reload, not above the kept $kept"
wait_port 13 || fail "daytime does not answer after the good reload"
echo_works || fail "echo does not answer after the good reload"
for i in $(seq 1 50); do
	refused 127.0.0.1 9 && break
	sleep 0.1
done
refused 127.0.0.1 9 || fail "discard still answers after the good reload"

ok
