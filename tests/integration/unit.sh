#!/bin/bash
# The systemd unit (contrib/portmuxd.service.in), checked with systemd's
# own tools where no systemd runs as PID 1:
# - systemd-analyze verify takes it (Type=notify, ExecReload, hardening
#   options all known to this systemd), and the path unit that reloads
#   it when /etc/inetd.conf changes;
# - systemd-analyze security scores it as its comment says (the figure
#   recorded there is the one measured here);
# - the daemon, started inside the unit's CapabilityBoundingSet (setpriv
#   applies the same bounding set systemd would), still binds a port
#   below 1024, starts a program as another user and one in a chroot, and
#   reloads through the unit's ExecReload command.
# The file-system and system-call options need systemd itself to apply
# them; portmuxd's own system calls are those of the test suite.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd systemd-analyze setpriv socat ldd
CTL=$top_builddir/src/portmuxctl
[ -x "$CTL" ] || fail "no $CTL"

in=$top_srcdir/contrib/portmuxd.service.in
unit=$T/portmuxd.service
sed -e "s|@SBINDIR[@]|$top_builddir/src|g" -e "s|@RUNSTATEDIR[@]|$T|g" \
    -e "s|@SYSCONFDIR[@]|$T|g" "$in" >"$unit" || fail "cannot make $unit"

# With the watch on /etc/inetd.conf that reloads it (inetd_conf), which
# verify checks against the unit it starts and the one it is part of.
for u in portmuxd-inetd.path portmuxd-inetd.service; do
	cp "$top_srcdir/contrib/$u" "$T/$u" || fail "cannot copy $u"
done
out=$(systemd-analyze verify --man=no "$unit" "$T/portmuxd-inetd.path" \
    "$T/portmuxd-inetd.service" 2>&1) ||
    fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify complains: $out"
grep -qx 'PathChanged=/etc/inetd.conf' "$T/portmuxd-inetd.path" ||
    fail "portmuxd-inetd.path does not watch /etc/inetd.conf"
grep -qx 'ExecStart=systemctl try-reload-or-restart portmuxd.service' \
    "$T/portmuxd-inetd.service" ||
    fail "portmuxd-inetd.service does not reload portmuxd.service"

score=$(systemd-analyze security --offline=true "$unit" 2>&1 |
    sed -n 's/.*Overall exposure level for portmuxd.service: \([0-9.]*\) .*/\1/p')
[ -n "$score" ] || fail "no score from systemd-analyze security"
recorded=$(sed -n 's/^#   with them: *\([0-9.]*\) .*/\1/p' "$in")
[ "$score" = "$recorded" ] ||
    fail "systemd-analyze security says $score, the unit's comment $recorded"
awk -v s="$score" 'BEGIN { exit !(s <= 4.5) }' ||
    fail "exposure $score: more than 4.5"
say "systemd-analyze security: $score"

# The calls portmuxd itself makes that a group of the deny list holds
# (chroot is in @mount) must be taken back out by a later allow line:
# systemd would make them fail with EPERM, and the engine's chroot with
# them.  Its sandbox's own calls must not be denied either.
deny=$(sed -n 's/^SystemCallFilter=~//p; /^SystemCallFilter=~/,/[^\\]$/{/^ /p}' "$unit" |
    tr -d '\\')
allow=$(sed -n 's/^SystemCallFilter=\([^~].*\)/\1/p' "$unit")
denied=$T/denied
: >"$denied"
for g in $deny; do
	case "$g" in
	@*) systemd-analyze syscall-filter "$g" 2>/dev/null |
	    awk '/^ +[a-z_0-9]+$/ { print $1 }' >>"$denied" ;;
	*) echo "$g" >>"$denied" ;;
	esac
done
[ -s "$denied" ] || fail "no system calls in the unit's deny list"
for c in chroot seccomp prctl landlock_create_ruleset landlock_restrict_self \
    setresuid setgroups setrlimit; do
	grep -qx "$c" "$denied" || continue
	grep -qw "$c" <<<"$allow" ||
	    fail "the unit's SystemCallFilter denies $c, which portmuxd makes"
done

# The bounding set, as setpriv spells it: -all,+net_bind_service,...
caps=$(awk '/^CapabilityBoundingSet=/ { on = 1 }
    on { line = line " " $0; if ($0 !~ /\\$/) on = 0 }
    END { gsub(/CapabilityBoundingSet=|\\/, "", line); print line }' "$unit")
[ -n "$caps" ] || fail "no CapabilityBoundingSet in the unit"
bset=-all
for c in $caps; do
	c=${c#CAP_}
	bset="$bset,+${c,,}"
done

# A minimal chroot, as in limits.sh: dash, its libraries and a script.
root=$T/root
mkdir -p "$root/bin" && cp -L /bin/sh "$root/bin/sh" ||
    fail "cannot copy /bin/sh into $root"
for lib in $(ldd /bin/sh | awk '{ for (i = 1; i <= NF; i++)
    if ($i ~ /^\//) print $i }'); do
	mkdir -p "$root$(dirname "$lib")" &&
	    cp -L "$lib" "$root$lib" || fail "cannot copy $lib into $root"
done
echo inside >"$root/marker"
printf '#!/bin/sh\nread -r m </marker && echo "marker=$m"\n' >"$root/bin/check"
chmod 755 "$root/bin/check"

conf=$T/portmux.conf
cat >"$conf" <<EOF
stop_grace = 1s
control    = "$T/portmuxd.sock"

service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 7
  builtin  = echo
}

service id {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2501
  server   = /usr/bin/id
  user     = daemon
}

service jail {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2502
  server   = /bin/check
  chroot   = "$root"
}
EOF

setpriv --bounding-set "$bset" -- "$PORTMUXD" -F -f "$conf" >>"$LOG" 2>&1 &
MONPID=$!
PIDS+=("$MONPID")
wait_log 'action=start ' 10 || fail "portmuxd did not start inside the bounding set $bset"
grep -q '^CapBnd:' "/proc/$MONPID/status" || fail "no CapBnd for $MONPID"
bnd=$(awk '/^CapBnd:/ { print $2 }' "/proc/$MONPID/status")
full=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
[ "$bnd" != "$full" ] || fail "setpriv did not narrow the bounding set ($bnd)"

got=$(printf 'low\n' | timeout 5 socat -t 2 - TCP:127.0.0.1:7)
[ "$got" = low ] || fail "echo on port 7: '$got'"
got=$(timeout 5 socat -t 2 - TCP:127.0.0.1:2501 </dev/null)
[[ $got == "uid=$(id -u daemon)(daemon) "* ]] || fail "id as daemon: '$got'"
got=$(timeout 5 socat -t 2 - TCP:127.0.0.1:2502 </dev/null)
[ "$got" = marker=inside ] || fail "the chroot service: '$got'"

# ExecReload, as the unit runs it.
reload=$(sed -n 's/^ExecReload=//p' "$unit")
[ "$reload" = "$top_builddir/src/portmuxctl reload" ] ||
    fail "ExecReload is '$reload'"
$reload -s "$T/portmuxd.sock" >"$T/reload.out" 2>&1 ||
    fail "ExecReload failed: $(cat "$T/reload.out")"
wait_log 'action=reload generation=2 ' 5 || fail "no reload through ExecReload"
ok "exposure $score"
