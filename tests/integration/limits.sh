#!/bin/bash
# Per-service OS limits (DESIGN.md "Child processes", "Processes"): the
# monitor applies rlimit_nofile, rlimit_cpu, rlimit_as, rlimit_nproc
# (soft and hard alike), nice, umask and chroot in the child before it
# drops privileges and execs, so the program cannot undo them and an
# admin can contain a service the way xinetd and systemd units do.  The
# program reports what it really got, from /proc.  A service without
# rlimit_nofile gets the soft limit portmuxd was started with, not the
# raised one the monitor itself runs with (select()-based programs break
# above 1024).  Under chroot, `server' is the path inside the chroot and
# nothing outside it is visible.  Needs root: chroot and a negative nice.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd ldd stat

# The program: its umask (and a file created under it), nice value and
# limits, as seen by the kernel.
out=$T/out
mkdir -m 1777 "$out" || fail "cannot create $out"
cat >"$T/report" <<'EOF'
#!/bin/sh
echo "umask=$(umask)"
f=$1/$PORTMUX_CONN
: >"$f" && echo "filemode=$(stat -c %a "$f")"
awk '{ sub(/^.*\) /, ""); print "nice=" $17 }' /proc/$$/stat
awk '/^Max open files/ { print "nofile=" $4 "/" $5 }
    /^Max cpu time/ { print "cpu=" $4 "/" $5 }
    /^Max address space/ { print "as=" $4 "/" $5 }
    /^Max processes/ { print "nproc=" $3 "/" $4 }' /proc/$$/limits
EOF
chmod 755 "$T/report"

# A minimal chroot: dash and the libraries ldd names, and a script that
# reports what it sees with shell builtins only.
root=$T/root
mkdir -p "$root/bin" || fail "cannot create $root"
cp -L /bin/sh "$root/bin/sh" || fail "cannot copy /bin/sh"
for lib in $(ldd /bin/sh | awk '{ for (i = 1; i <= NF; i++)
    if ($i ~ /^\//) print $i }'); do
	mkdir -p "$root$(dirname "$lib")" &&
	    cp -L "$lib" "$root$lib" || fail "cannot copy $lib into $root"
done
echo inside >"$root/marker"
cat >"$root/bin/check" <<EOF
#!/bin/sh
echo "pwd=\$(pwd)"
read -r m </marker && echo "marker=\$m"
if [ -e "$T" ]; then echo "host=visible"; else echo "host=hidden"; fi
echo "root=" /*
EOF
chmod 755 "$root/bin/check"
"$root/bin/sh" -c 'echo ok' >/dev/null 2>&1 ||
    fail "the copy of /bin/sh does not run"
chroot "$root" /bin/check >/dev/null 2>&1 ||
    fail "$root is not a working chroot: $(chroot "$root" /bin/check 2>&1)"

conf=$T/limits.conf
cat >"$conf" <<EOF
stop_grace = 2s

defaults {
  protocol = tcp
  address  = {127.0.0.1}
}

service lim {
  port          = 2100
  server        = $T/report
  args          = {report, $out}
  rlimit_nofile = 77
  rlimit_cpu    = 2m
  rlimit_as     = 512M
  rlimit_nproc  = 500
  nice          = 7
  umask         = 027
}

service plain {
  port   = 2101
  server = $T/report
  args   = {report, $out}
}

service neg {
  port   = 2102
  server = $T/report
  args   = {report, $out}
  nice   = -4
}

service jail {
  port   = 2103
  chroot = $root
  server = /bin/check
}
EOF

# The monitor raises its soft RLIMIT_NOFILE to the hard limit; start it
# with a soft limit below the hard one so that the difference shows.
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && fail "RLIMIT_NOFILE hard limit is unlimited"
soft=$((hard > 1000 ? 1000 : hard - 1))
[ "$soft" -ge 64 ] || skip "RLIMIT_NOFILE hard limit $hard is too low"
ulimit -Sn "$soft" || fail "cannot set the soft RLIMIT_NOFILE to $soft"
start_daemon "$conf"
for p in 2100 2101 2102 2103; do
	wait_listen $p || fail "nothing listens on port $p"
done

# ask PORT OUT: everything the program on PORT writes.
ask()
{
	timeout 10 socat -u "TCP4:127.0.0.1:$1" - >"$2" 2>"$2.err" ||
	    fail "client of port $1 failed: $(cat "$2.err")"
	[ -s "$2" ] || fail "the program on port $1 wrote nothing"
}

# has OUT LINE WHAT
has()
{
	grep -qxF -- "$2" "$1" ||
	    fail "$3: expected '$2', the program reported: $(tr '\n' ' ' <"$1")"
}

ask 2100 "$T/lim"
has "$T/lim" "nofile=77/77" "rlimit_nofile = 77"
has "$T/lim" "cpu=120/120" "rlimit_cpu = 2m"
has "$T/lim" "as=536870912/536870912" "rlimit_as = 512M"
has "$T/lim" "nproc=500/500" "rlimit_nproc = 500"
has "$T/lim" "nice=7" "nice = 7"
has "$T/lim" "umask=0027" "umask = 027"
has "$T/lim" "filemode=640" "umask = 027, a file created with mode 0666"

ask 2101 "$T/plain"
has "$T/plain" "nofile=$soft/$hard" \
    "no rlimit_nofile: the soft limit portmuxd started with ($soft), not the monitor's raised one ($hard)"
has "$T/plain" "nice=$(awk '{ sub(/^.*\) /, ""); print $17 }' /proc/$$/stat)" \
    "no nice: the niceness portmuxd started with"
grep -Eq "^action=start .*nofile=$hard( |\$)" "$LOG" ||
    fail "the start line does not log the raised nofile=$hard: $(grep '^action=start' "$LOG")"

ask 2102 "$T/neg"
has "$T/neg" "nice=-4" "nice = -4"

ask 2103 "$T/jail"
has "$T/jail" "pwd=/" "chroot: the working directory"
has "$T/jail" "marker=inside" "chroot: /marker inside $root"
has "$T/jail" "host=hidden" "chroot: $T must not be visible"
has "$T/jail" "root= /bin /lib /lib64 /marker" "chroot: the contents of /"
wait_log "^conn=[0-9]+ service=jail action=exit pid=[0-9]+ status=0 " ||
    fail "no 'service=jail action=exit ... status=0' line"

ok
