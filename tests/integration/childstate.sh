#!/bin/bash
# A service gets only the process state the config sets, never the
# daemon's own (CVE-2001-1322: xinetd handed its umask to every service).
# portmuxd is started the way a careless admin or a unit file may start
# it: under umask 000, nice 5, the idle I/O class, OOM score 500, pinned
# to one CPU, SCHED_BATCH, with address randomisation off (setarch -R)
# and a session keyring holding a key.  The reporter, run by the daemon,
# must see umask 022, nice 0, the I/O class of a fresh process, OOM
# score 0, SCHED_OTHER, every CPU the test may use, randomisation on and
# a session keyring other than the daemon's.  A service that sets umask
# and nice gets exactly those.  Started as an ordinary user with an
# ambient capability (systemd's AmbientCapabilities=), the daemon keeps
# it but its services must not get it.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd socat nice ionice taskset chrt setarch keyctl setpriv
rep=$(reporter) || exit $?

cat >"$T/state.conf" <<EOF
stop_grace = 2s

service plain {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2000
  server   = $rep
}

service tuned {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2001
  server   = $rep
  umask    = 077
  nice     = 3
}
EOF

# ask PORT OUT: one connection to the reporter, its answer in OUT.
ask()
{
	printf 'ping\n' | timeout 10 socat -t5 - "TCP:127.0.0.1:$1" >"$2" ||
	    fail "client of port $1 failed"
	grep -qx 'got ping' "$2" ||
	    fail "port $1: no answer from the reporter: $(cat "$2")"
}

# val OUT KEY: the value of one key=value line of the reporter.
val()
{
	sed -n "s/^$2=//p" "$1" | head -n 1
}

# expect OUT KEY VALUE WHAT
expect()
{
	local got

	got=$(val "$1" "$2")
	[ "$got" = "$3" ] ||
	    fail "$4: $2=$got, expected $3 (the daemon's own leaked)"
}

# The state of a process started fresh from this test, with the I/O
# class reset the way the daemon resets it: what a service must see.
ionice -c 0 "$rep" </dev/null >"$T/fresh" 2>/dev/null
grep -q '^umask=' "$T/fresh" || fail "the reporter printed no state"

# The wrapper: every piece of state the daemon may be started with, and
# a report of the daemon's own state taken right before it execs.
cat >"$T/wrap" <<EOF
#!/bin/bash
echo 500 >/proc/self/oom_score_adj || exit 1
umask 000
exec keyctl session - nice -n 5 ionice -c 3 taskset -c 0 chrt --batch 0 \\
    setarch "\$(uname -m)" -R bash -c \\
    'keyctl add user pmx-secret hidden @s >/dev/null &&
     "\$0" </dev/null >"\$1" 2>/dev/null; d=\$2; shift 2; exec "\$d" "\$@"' \\
    "$rep" "$T/daemon-state" "$PORTMUXD" "\$@"
EOF
chmod 755 "$T/wrap"
PORTMUXD=$T/wrap start_daemon "$T/state.conf"
wait_listen 2000 || fail "nothing listens on port 2000"
wait_listen 2001 || fail "nothing listens on port 2001"

# The wrapper did what it claims, or the test proves nothing.
d=$T/daemon-state
[ "$(val "$d" umask)" = 0000 ] || fail "wrapper: umask $(val "$d" umask)"
[ "$(val "$d" nice)" = 5 ] || fail "wrapper: nice $(val "$d" nice)"
[ "$(val "$d" oom_score_adj)" = 500 ] || fail "wrapper: OOM score not set"
[ "$(val "$d" sched)" = 3 ] || fail "wrapper: not SCHED_BATCH"
[ "$(val "$d" cpus)" = 1 ] || fail "wrapper: not pinned to one CPU"
[ "$(val "$d" ioprio)" != "$(val "$T/fresh" ioprio)" ] ||
    fail "wrapper: the I/O class is that of a fresh process"
pers=$(val "$d" personality)
(( pers & 0x0040000 )) || fail "wrapper: randomisation is on ($pers)"

ask 2000 "$T/plain"
p=$T/plain
expect "$p" umask 0022 "service without umask"
expect "$p" nice 0 "service without nice"
expect "$p" ioprio "$(val "$T/fresh" ioprio)" "I/O priority"
expect "$p" oom_score_adj 0 "OOM score"
expect "$p" sched 0 "scheduling policy"
expect "$p" cpus "$(val "$T/fresh" cpus)" "CPU affinity"
pers=$(val "$p" personality)
(( pers & 0x0040000 )) &&
    fail "personality $pers: address randomisation is off (setarch -R leaked)"
[ "$(val "$p" session_keyring)" != "$(val "$d" session_keyring)" ] ||
    fail "the service shares the daemon's session keyring"
expect "$p" cwd / "working directory"

ask 2001 "$T/tuned"
expect "$T/tuned" umask 0077 "service with umask = 077"
expect "$T/tuned" nice 3 "service with nice = 3"
stop_daemon

# An ordinary user with an ambient capability: the daemon may bind port
# 80 with it, a service must not inherit it.
cat >"$T/amb.conf" <<EOF
stop_grace = 2s

service low {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 80
  server   = $rep
}
EOF
chmod 644 "$T/amb.conf"
cat >"$T/wrap" <<EOF
#!/bin/bash
exec setpriv --reuid=nobody --regid=nogroup --clear-groups \\
    --inh-caps=+net_bind_service --ambient-caps=+net_bind_service \\
    bash -c '"\$0" </dev/null >"\$1" 2>/dev/null; d=\$2; shift 2; exec "\$d" "\$@"' \\
    "$rep" "$T/daemon-state" "$PORTMUXD" "\$@"
EOF
: >"$LOG"
PORTMUXD=$T/wrap start_daemon "$T/amb.conf"
wait_listen 80 127.0.0.1 || fail "nothing listens on port 80"
[ "$(val "$d" capamb)" = 0000000000000400 ] ||
    fail "wrapper: no ambient CAP_NET_BIND_SERVICE ($(val "$d" capamb))"
ask 80 "$T/amb"
expect "$T/amb" capamb 0000000000000000 "ambient capabilities"
grep -q "^uid=$(id -u nobody) " "$T/amb" ||
    fail "the service does not run as nobody: $(grep '^uid=' "$T/amb")"
stop_daemon
ok
