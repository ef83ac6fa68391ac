#!/bin/bash
# A new engine after a crash starts from the monitor's live children: the
# per_source slots that running programs hold are counted again, so a
# crash cannot be used to get past per_source, a program's exit after
# the crash gives its slot back, and the slots of the builtin connections
# that died with the engine are free again (DESIGN.md, Processes).
. "$(dirname "$0")/lib.sh"

conf=$T/recount.conf
cat >"$conf" <<CONF
stop_grace = 1s
service hold {
  protocol   = tcp
  address    = {127.0.0.1}
  port       = 2010
  server     = /bin/sleep
  args       = {sleep, 30}
  per_source = 2
  ban_after  = unlimited
}
service disc {
  protocol   = tcp
  address    = {127.0.0.1}
  port       = 2011
  builtin    = discard
  per_source = 1
  ban_after  = unlimited
}
CONF
start_daemon "$conf"
wait_listen 2010 127.0.0.1 || fail "nothing listens on port 2010"

# hold N: a connection from 127.0.0.2 kept open (the program holds it).
held=()
hold()
{
	socat -u TCP:127.0.0.1:2010,bind=127.0.0.2 /dev/null &
	held+=($!)
	PIDS+=($!)
}

# One discard connection holds the only slot of disc.
exec 7<>/dev/tcp/127.0.0.1/2011 || fail "cannot connect to disc"
wait_log "service=disc action=accept " 5 || fail "disc did not accept"

hold
hold
wait_log "service=hold action=spawn .*" 5 || fail "no spawn"
for i in $(seq 1 50); do
	[ "$(log_count 'service=hold action=spawn ')" = 2 ] && break
	sleep 0.1
done
[ "$(log_count 'service=hold action=spawn ')" = 2 ] ||
    fail "the two held connections did not both spawn"

# A third from the same source: refused, per_source.
socat -u TCP:127.0.0.1:2010,bind=127.0.0.2 /dev/null 2>/dev/null
wait_log "service=hold action=refuse proto=tcp peer=127\.0\.0\.2:[0-9]+ reason=per_source" 5 ||
    fail "a third connection from 127.0.0.2 was not refused for per_source"

# Crash the engine.
old=$(engine_pid)
[ -n "$old" ] || fail "no engine"
kill -KILL "$old"
wait_log "^action=start pid=$MONPID engine=[0-9]+ .*reason=restart" 5 ||
    fail "no engine restart after SIGKILL"
wait_listen 2010 127.0.0.1 || fail "port 2010 gone after the restart"

# The new engine counted the two running programs: still refused.
before=$(log_count 'reason=per_source')
socat -u TCP:127.0.0.1:2010,bind=127.0.0.2 /dev/null 2>/dev/null
for i in $(seq 1 50); do
	[ "$(log_count 'reason=per_source')" -gt "$before" ] && break
	sleep 0.1
done
[ "$(log_count 'reason=per_source')" -gt "$before" ] ||
    fail "after the engine crash, a third connection was not refused: per_source was not recounted"
# The discard connection died with the engine: its slot is free again.
exec 7<&-
n=$(log_count 'service=disc action=accept ')
exec 7<>/dev/tcp/127.0.0.1/2011 || fail "cannot connect to disc again"
for i in $(seq 1 50); do
	[ "$(log_count 'service=disc action=accept ')" -gt "$n" ] && break
	sleep 0.1
done
[ "$(log_count 'service=disc action=accept ')" -gt "$n" ] ||
    fail "after the engine crash the builtin's per_source slot stayed taken"
exec 7<&-
# Another source is not affected.
socat -u TCP:127.0.0.1:2010,bind=127.0.0.3 /dev/null &
PIDS+=($!)
wait_log "service=hold action=accept proto=tcp peer=127\.0\.0\.3:" 5 ||
    fail "127.0.0.3 was not served after the restart"

# One program exits: its slot comes back, a new one is served.
pid=$(sed -n 's/.*service=hold action=spawn pid=\([0-9]*\) .*/\1/p' "$LOG" |
    head -1)
[ -n "$pid" ] || fail "no spawn pid"
kill -TERM "$pid"
wait_log "service=hold action=exit pid=$pid signal=15" 5 ||
    fail "the exit of pid $pid after the restart was not logged"
n=$(log_count 'service=hold action=accept proto=tcp peer=127\.0\.0\.2:')
socat -u TCP:127.0.0.1:2010,bind=127.0.0.2 /dev/null &
PIDS+=($!)
for i in $(seq 1 50); do
	[ "$(log_count 'service=hold action=accept proto=tcp peer=127\.0\.0\.2:')" -gt "$n" ] && break
	sleep 0.1
done
[ "$(log_count 'service=hold action=accept proto=tcp peer=127\.0\.0\.2:')" -gt "$n" ] ||
    fail "after a program exited, 127.0.0.2 was still refused: its slot was not given back"

ok
