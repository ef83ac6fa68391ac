#!/bin/bash
# Unix stream services (DESIGN.md "Config", "Child processes", "Logging"):
# the socket appears at `path' with its `mode' and `owner', so the file
# system decides who may connect (a client outside the owner's group is
# refused by the kernel); a stale socket left by a crash (nothing
# listening) is replaced, so a restart after a crash just works; but a
# regular file, a socket someone still serves, and a stale socket in a
# directory writable by others (someone else could have put it there)
# are never touched, the start fails with exit 71 naming the service and
# the path.  The peer is identified by SO_PEERCRED: the log writes
# peer=uid:U/pid:P, a program gets PROTO=UNIX and UNIXREMOTEUID,
# UNIXREMOTEGID, UNIXREMOTEPID, and nothing of TCP or UDP.  The socket is
# removed at stop.  Needs root: owners and client users are switched.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd perl setpriv stat

rep=$(reporter) || exit $?
run=$T/run
mkdir -m 755 "$run" || fail "cannot create $run"

# mksock PATH: leave a stale socket at PATH (its listener has exited).
mksock()
{
	perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Local => $ARGV[0],
	    Listen => 1) or die "cannot bind $ARGV[0]: $!\n"' "$1" ||
	    fail "cannot create a socket at $1"
	[ -S "$1" ] || fail "$1 is not a socket after perl bound it"
}

# as USER CMD...: run CMD as USER (its uid, primary gid, no groups).
as()
{
	local u=$1

	shift
	setpriv --reuid="$(id -u "$u")" --regid="$(id -g "$u")" \
	    --clear-groups -- "$@"
}

conf=$T/unix.conf
cat >"$conf" <<EOF
stop_grace = 2s

service uxecho {
  protocol = unix
  path     = $run/echo.sock
  mode     = 0660
  owner    = daemon:daemon
  builtin  = echo
}

service uxrep {
  protocol = unix
  path     = $run/rep.sock
  server   = $rep
  args     = {rep, unix}
}
EOF

# A stale socket where uxrep's goes, with mode 0700 and an old mtime
# (an inode number may be reused at once): it must be replaced.
mksock "$run/rep.sock"
chmod 700 "$run/rep.sock" && touch -d @978307200 "$run/rep.sock" ||
    fail "cannot set the mode and mtime of $run/rep.sock"
timeout 5 socat -u "UNIX-CONNECT:$run/rep.sock" - >/dev/null 2>&1 &&
    fail "the stale socket $run/rep.sock accepts connections"

start_daemon "$conf"
for s in echo rep; do
	[ -S "$run/$s.sock" ] ||
	    fail "$run/$s.sock is not a socket after start: $(ls -l "$run")"
done
[ "$(stat -c %Y "$run/rep.sock")" -gt 978307200 ] ||
    fail "the stale socket $run/rep.sock was not replaced: its mtime is still $(stat -c %y "$run/rep.sock")"
m=$(stat -c '%a %U:%G' "$run/echo.sock")
[ "$m" = "660 daemon:daemon" ] ||
    fail "$run/echo.sock has mode and owner '$m', expected '660 daemon:daemon' (mode = 0660, owner = daemon:daemon)"
m=$(stat -c %a "$run/rep.sock")
[ "$m" = 666 ] || fail "$run/rep.sock has mode $m, expected the default 666"

# echo as root: the bytes come back, the log names the peer's uid and
# pid and the path.
printf 'hello unix\n' >"$T/echo.in"
timeout 10 socat -t5 - "UNIX-CONNECT:$run/echo.sock" <"$T/echo.in" \
    >"$T/echo.out" 2>"$T/echo.err" ||
    fail "socat to $run/echo.sock failed: $(cat "$T/echo.err")"
cmp -s "$T/echo.in" "$T/echo.out" ||
    fail "echo over $run/echo.sock returned '$(cat "$T/echo.out")'"
wait_log "^conn=[0-9]+ service=uxecho action=accept proto=unix peer=uid:0/pid:[0-9]+ local=$run/echo\\.sock( |\$)" ||
    fail "no 'service=uxecho action=accept proto=unix peer=uid:0/pid:N local=$run/echo.sock' line"
wait_log "^conn=[0-9]+ service=uxecho action=close bytes_in=11 bytes_out=11 " ||
    fail "no 'service=uxecho action=close bytes_in=11 bytes_out=11' line"

# mode and owner are enforced by the kernel: daemon may connect, nobody
# may not.
printf 'as daemon\n' | as daemon timeout 10 socat -t5 - \
    "UNIX-CONNECT:$run/echo.sock" >"$T/daemon.out" 2>"$T/daemon.err" ||
    fail "user daemon cannot use $run/echo.sock (owner daemon, mode 0660): $(cat "$T/daemon.err")"
[ "$(cat "$T/daemon.out")" = "as daemon" ] ||
    fail "echo for user daemon returned '$(cat "$T/daemon.out")'"
if printf 'x\n' | as nobody timeout 10 socat -t5 - \
    "UNIX-CONNECT:$run/echo.sock" >"$T/nobody.out" 2>"$T/nobody.err"; then
	fail "user nobody could connect to $run/echo.sock (owner daemon:daemon, mode 0660)"
fi
grep -q 'Permission denied' "$T/nobody.err" ||
    fail "nobody's connect to $run/echo.sock failed, but not with EACCES: $(cat "$T/nobody.err")"

# A program, with nobody as the client: SO_PEERCRED reaches the log and
# the environment.  The client records its pid, kept through both execs.
uid=$(id -u nobody)
gid=$(id -g nobody)
# shellcheck disable=SC2016
printf 'ping unix\n' | timeout 10 bash -c 'echo $$ >"$0"; exec setpriv \
    --reuid="$1" --regid="$2" --clear-groups -- socat -t5 - \
    "UNIX-CONNECT:$3"' "$T/client.pid" "$uid" "$gid" "$run/rep.sock" \
    >"$T/rep.out" 2>"$T/rep.err" ||
    fail "nobody's client of $run/rep.sock failed: $(cat "$T/rep.err")"
cpid=$(cat "$T/client.pid")
grep -qx "got ping unix" "$T/rep.out" ||
    fail "the reporter on $run/rep.sock did not echo the line: $(cat "$T/rep.out")"
grep -qx "fds=0,1,2" "$T/rep.out" ||
    fail "the reporter on a unix socket has fds $(grep '^fds=' "$T/rep.out"), expected 0,1,2"
grep -qx "fd0=socket" "$T/rep.out" || fail "fd 0 of the reporter is not a socket"
for v in PROTO=UNIX UNIXREMOTEUID=$uid UNIXREMOTEGID=$gid \
    UNIXREMOTEPID=$cpid PORTMUX_SERVICE=uxrep; do
	grep -qx "env $v" "$T/rep.out" ||
	    fail "no $v in the environment of the unix service: $(grep '^env' "$T/rep.out" | tr '\n' ' ')"
done
grep -Eq '^env (TCP|UDP)' "$T/rep.out" &&
    fail "TCP or UDP variables in the environment of a unix service: $(grep -E '^env (TCP|UDP)' "$T/rep.out")"
id=$(awk -v p=" peer=uid:$uid/pid:$cpid " 'index($0, " service=uxrep action=accept proto=unix") &&
    index($0 " ", p) { sub(/^conn=/, "", $1); print $1; exit }' "$LOG")
[ -n "$id" ] ||
    fail "no 'service=uxrep action=accept proto=unix peer=uid:$uid/pid:$cpid local=$run/rep.sock' line"
grep -q "^conn=$id service=uxrep action=accept proto=unix peer=uid:$uid/pid:$cpid local=$run/rep\\.sock\( \|$\)" "$LOG" ||
    fail "the accept line of conn $id does not say local=$run/rep.sock: $(grep "^conn=$id " "$LOG")"
wait_log "^conn=$id service=uxrep action=exit pid=[0-9]+ status=0 " ||
    fail "no 'conn=$id service=uxrep action=exit ... status=0' line"

# Stop removes both sockets.
stop_daemon
[ "$DAEMON_RC" = 0 ] || fail "portmuxd exited $DAEMON_RC on SIGTERM"
for s in echo rep; do
	[ -e "$run/$s.sock" ] && fail "$run/$s.sock is still there after stop"
done

# start_fails DIR: a config whose one unix service has path DIR/x.sock
# must not start: exit 71, a message naming service and path.
start_fails()
{
	local dir=$1 why=$2 c=$T/fail.conf out=$T/fail.log pid

	cat >"$c" <<EOF
service uxbad {
  protocol = unix
  path     = $dir/x.sock
  builtin  = echo
}
EOF
	: >"$out"
	"$PORTMUXD" -F -f "$c" >"$out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_exit "$pid" 10 ||
	    fail "portmuxd started although $why at $dir/x.sock: $(cat "$out")"
	[ "$DAEMON_RC" = 71 ] ||
	    fail "with $why at $dir/x.sock portmuxd exited $DAEMON_RC, expected 71: $(cat "$out")"
	grep -q "uxbad" "$out" && grep -qF "$dir/x.sock" "$out" ||
	    fail "with $why at $dir/x.sock the error does not name the service uxbad and the path: $(cat "$out")"
}

# A regular file: left alone.
mkdir -m 755 "$T/file" || fail "cannot create $T/file"
echo precious >"$T/file/x.sock"
start_fails "$T/file" "a regular file"
[ "$(cat "$T/file/x.sock")" = precious ] ||
    fail "portmuxd changed the regular file $T/file/x.sock"

# A socket that someone serves: left alone, still served.  (The
# listener ignores SIGPIPE: portmuxd's probe may connect and close before
# it writes.)
mkdir -m 755 "$T/live" || fail "cannot create $T/live"
perl -MIO::Socket::UNIX -e '$SIG{PIPE} = "IGNORE";
    $s = IO::Socket::UNIX->new(Local => $ARGV[0], Listen => 5) or
    die "cannot bind: $!\n"; while (1) { $c = $s->accept or next;
    print $c "live\n"; close $c }' "$T/live/x.sock" 2>"$T/live.err" &
live_pid=$!
PIDS+=("$live_pid")
for _ in $(seq 1 50); do
	[ -S "$T/live/x.sock" ] && break
	sleep 0.1
done
[ -S "$T/live/x.sock" ] || fail "the perl listener did not create $T/live/x.sock: $(cat "$T/live.err")"
start_fails "$T/live" "a live socket"
proc_alive "$live_pid" ||
    fail "the listener of $T/live/x.sock died: $(cat "$T/live.err")"
[ "$(timeout 5 socat -u "UNIX-CONNECT:$T/live/x.sock" - 2>&1)" = live ] ||
    fail "the live socket $T/live/x.sock no longer reaches its listener after portmuxd tried to start: $(ls -l "$T/live")"

# A stale socket in a directory writable by others: left alone.
mkdir -m 755 "$T/open" || fail "cannot create $T/open"
chmod 1777 "$T/open"
mksock "$T/open/x.sock"
chmod 700 "$T/open/x.sock" && touch -d @978307200 "$T/open/x.sock" ||
    fail "cannot set the mode and mtime of $T/open/x.sock"
start_fails "$T/open" "a stale socket in a directory writable by others"
[ -S "$T/open/x.sock" ] &&
    [ "$(stat -c '%a %Y' "$T/open/x.sock")" = "700 978307200" ] ||
    fail "portmuxd replaced or removed the stale socket $T/open/x.sock in a world-writable directory: $(ls -l --full-time "$T/open")"

ok
