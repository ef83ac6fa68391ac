#!/bin/bash
# log = file: the daemon (not -F) writes every line of the monitor and
# the engine to log_file in rsyslog's file format; logrotate with
# contrib/logrotate/portmuxd renames it and portmuxctl reopen moves the
# daemon to a new file, losing no line; SIGUSR2 does the same; a reload
# that changes log_file moves the log; a log file that cannot be opened
# stops the start with a message on stderr and exit 71.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd socat logrotate
CTL=$top_builddir/src/portmuxctl
[ -x "$CTL" ] || fail "no $CTL"

flog=$T/portmuxd.log
conf=$T/logfile.conf
write_conf()	# write_conf LOG_FILE
{
	cat >"$conf" <<EOF
log        = file
log_file   = "$1"
pidfile    = "$T/portmuxd.pid"
control    = "$T/ctl.sock"
stop_grace = 1s

service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 7241
  builtin  = echo
}
EOF
}


echo_n()	# echo_n N: N echo connections, each checked
{
	local i got

	for i in $(seq 1 "$1"); do
		got=$(printf 'x%s\n' "$i" | timeout 5 socat -t 2 - TCP:127.0.0.1:7241)
		[ "$got" = "x$i" ] || fail "echo $i: '$got'"
	done
}

write_conf "$flog"
"$PORTMUXD" -f "$conf" >"$T/start.out" 2>&1 || fail "start: $(cat "$T/start.out")"
MONPID=$(cat "$T/portmuxd.pid")
PIDS+=("$MONPID")
[ -s "$T/start.out" ] && fail "a start with log = file wrote to the terminal: $(cat "$T/start.out")"
host=$(hostname)
stamp='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}[+-][0-9]{2}:[0-9]{2}'
wait_file "$flog" "^$stamp $host portmuxd\[$MONPID\]: action=start pid=$MONPID " ||
    fail "no start line in the file format: $(cat "$flog")"
echo_n 3
eng=$(pgrep -n -P "$MONPID" -x portmuxd-engine)
wait_file "$flog" "^$stamp $host portmuxd\[$eng\]: conn=[0-9]+ service=echo action=close " 3 ||
    fail "the engine's lines are not in the file: $(cat "$flog")"
bad=$(grep -Evc "^$stamp $host portmuxd\[[0-9]+\]: " "$flog")
[ "$bad" = 0 ] || fail "$bad lines without the prefix: $(cat "$flog")"

# logrotate with the shipped snippet, its paths made the test's.
sed -e "s|/var/log/portmuxd.log|$flog|" \
    -e "s|/usr/sbin/portmuxctl reopen|$CTL -s $T/ctl.sock reopen|" \
    -e "s|/run/portmuxd.pid|$T/portmuxd.pid|g" \
    -e 's|create 0640 root adm|create 0640 root root|' \
    "$top_srcdir/contrib/logrotate/portmuxd" >"$T/logrotate.conf"
logrotate -s "$T/logrotate.state" -f "$T/logrotate.conf" >"$T/lr.out" 2>&1 ||
    fail "logrotate: $(cat "$T/lr.out")"
[ -s "$flog.1" ] || fail "logrotate did not rotate: $(ls -l "$T")"
wait_file "$flog" "action=reopen path=$flog" || fail "no reopen line in the new file"
echo_n 4
wait_file "$flog" 'service=echo action=close ' 4 ||
    fail "the new file does not get the connections: $(cat "$flog")"
after=$(grep -c 'service=echo action=close ' "$flog.1")
[ "$after" = 3 ] || fail "$after echo lines in the rotated file, not 3"

# SIGUSR2 reopens as well.
mv "$flog" "$flog.usr2"
kill -USR2 "$MONPID"
wait_file "$flog" "action=reopen path=$flog" || fail "SIGUSR2 did not reopen"
echo_n 2
wait_file "$flog" 'service=echo action=close ' 2 || fail "nothing logged after SIGUSR2"

# A reload that moves log_file.
write_conf "$T/moved.log"
"$CTL" -s "$T/ctl.sock" reload >"$T/ctl.out" 2>&1 || fail "reload: $(cat "$T/ctl.out")"
wait_file "$T/moved.log" "action=reopen path=$T/moved.log" || fail "log_file change not followed"
echo_n 1
wait_file "$T/moved.log" 'service=echo action=close ' 1 || fail "nothing in the moved log"

# A reopen that fails keeps the old file and says so to portmuxctl.
write_conf "$T/nodir/x.log"
"$CTL" -s "$T/ctl.sock" reload >"$T/ctl.out" 2>&1 || fail "reload: $(cat "$T/ctl.out")"
wait_file "$T/moved.log" "cannot reopen the log file, the old one stays in use" ||
    fail "a failed reopen does not say so"
"$CTL" -s "$T/ctl.sock" reopen >"$T/ctl.out" 2>&1 &&
    fail "portmuxctl reopen succeeded on a missing directory"
grep -q 'the log file was not reopened' "$T/ctl.out" || fail "reopen reply: $(cat "$T/ctl.out")"
echo_n 1
wait_file "$T/moved.log" 'service=echo action=close ' 2 || fail "the old file stopped taking lines"

kill -TERM "$MONPID"
wait_exit "$MONPID" 10 || fail "no stop"
MONPID=

# A log file that cannot be opened: the start fails, on stderr.
write_conf "$T/nodir/x.log"
"$PORTMUXD" -f "$conf" >"$T/start.out" 2>&1
rc=$?
[ "$rc" = 71 ] || fail "exit $rc for an unopenable log file, not 71"
grep -q "action=error path=$T/nodir/x.log msg=\"cannot open the log file\"" "$T/start.out" ||
    fail "the start error is not on stderr: $(cat "$T/start.out")"
ok
