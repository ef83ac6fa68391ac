#!/bin/bash
# What portmuxd(8) says of programs a stop leaves running: SIGPIPE stays
# at its default, so the next write to a stderr pipe that nobody reads
# any more ends them, while a program with stderr = null writes on.  Two
# services run the same program; a client of each keeps it running
# across the daemon's stop; then both are told to write a line on fd 2
# and to leave a mark after it.
. "$(dirname "$0")/lib.sh"

need_root

d=$T/sp
mkdir -m 1777 "$d"
cat >"$d/prog.sh" <<EOF
#!/bin/sh
echo \$\$ >$d/pid.\$PORTMUX_SERVICE
i=0
while [ ! -e $d/go ] && [ \$i -lt 600 ]; do
	sleep 0.05
	i=\$((i + 1))
done
echo "after the stop" >&2
echo written >$d/mark.\$PORTMUX_SERVICE
EOF
chmod 755 "$d/prog.sh"

conf=$T/stopsigpipe.conf
cat >"$conf" <<EOF
stop_grace = 1s

service logged {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2110
  server   = $d/prog.sh
  user     = daemon
}

service quiet {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2111
  server   = $d/prog.sh
  user     = daemon
  stderr   = null
}
EOF

start_daemon "$conf"
wait_listen 2110 127.0.0.1 || fail "logged does not listen"
wait_listen 2111 127.0.0.1 || fail "quiet does not listen"
exec 3<>/dev/tcp/127.0.0.1/2110 4<>/dev/tcp/127.0.0.1/2111 ||
    fail "cannot connect"
for s in logged quiet; do
	for i in $(seq 1 100); do
		[ -s "$d/pid.$s" ] && break
		sleep 0.05
	done
	[ -s "$d/pid.$s" ] || fail "the $s program did not start"
	PIDS+=("$(cat "$d/pid.$s")")
done
plog=$(cat "$d/pid.logged")
pquiet=$(cat "$d/pid.quiet")

stop_daemon
proc_alive "$plog" || fail "the stop ended the logged program"
proc_alive "$pquiet" || fail "the stop ended the quiet program"

touch "$d/go"
for p in $plog $pquiet; do
	for i in $(seq 1 100); do
		proc_alive "$p" || break
		sleep 0.05
	done
	proc_alive "$p" && fail "program $p did not finish"
done
[ -e "$d/mark.logged" ] &&
    fail "the logged program wrote to its unread stderr pipe and went on (SIGPIPE ignored?)"
[ -e "$d/mark.quiet" ] ||
    fail "the stderr = null program did not go on after its write"
say "stderr = log: ended by its write after the stop; stderr = null: went on"
exec 3<&- 4<&-
ok
