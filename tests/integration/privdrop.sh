#!/bin/bash
# The process that holds client connections is the unprivileged engine,
# and only the monitor keeps root (DESIGN.md "Processes"): while a discard
# connection is open, the socket's owner must be the monitor's child
# portmuxd-engine, with every uid and gid that of _portmuxd, no
# supplementary groups, no capability at all and no_new_privs set, so a
# bug in code that parses network bytes cannot become root.  Needs real
# root: in a user namespace the drop proves nothing.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd getent

conf=$(conf_copy builtins.conf) || exit $?
start_daemon "$conf"
wait_port 9 || fail "discard on port 9 does not answer"

uid=$(id -u _portmuxd)
gid=$(id -g _portmuxd)

# Hold one connection open from this shell: no extra client process.
exec 3<>/dev/tcp/127.0.0.1/9 || fail "cannot connect to discard"
printf 'hold\n' >&3

# The server side of that connection: local port 9, established.
holder=
for i in $(seq 1 50); do
	holder=$(ss -tnpH state established '( sport = :9 )' |
	    grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u)
	[ -n "$holder" ] && break
	sleep 0.1
done
[ -n "$holder" ] || fail "ss shows no process holding the connection"
[ "$(echo "$holder" | wc -l)" = 1 ] ||
    fail "more than one process holds the connection: $(echo $holder)"

engine=$(engine_pid)
[ -n "$engine" ] || fail "the monitor $MONPID has no portmuxd-engine child"
[ "$holder" = "$engine" ] ||
    fail "pid $holder ($(cat /proc/$holder/comm)) holds the connection, not the engine $engine"
[ "$(cat "/proc/$engine/comm")" = portmuxd-engine ] ||
    fail "engine comm is $(cat "/proc/$engine/comm")"

st=/proc/$engine/status
status_field()
{
	awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ +/, ""); print; exit }' "$2"
}
[ "$(status_field Uid "$st")" = "$uid $uid $uid $uid" ] ||
    fail "engine Uid: $(status_field Uid "$st"), expected $uid (_portmuxd) four times"
[ "$(status_field Gid "$st")" = "$gid $gid $gid $gid" ] ||
    fail "engine Gid: $(status_field Gid "$st"), expected $gid four times"
[ -z "$(status_field Groups "$st")" ] ||
    fail "engine supplementary groups: $(status_field Groups "$st"), expected none"
for c in CapInh CapPrm CapEff CapBnd CapAmb; do
	v=$(status_field $c "$st")
	case $c in
	CapBnd)
		# The bounding set may stay full: with no permitted
		# capability and no_new_privs nothing can be gained.
		;;
	*)
		[ "$v" = 0000000000000000 ] ||
		    fail "engine $c: $v, expected 0000000000000000"
		;;
	esac
done
[ "$(status_field NoNewPrivs "$st")" = 1 ] ||
    fail "engine NoNewPrivs: $(status_field NoNewPrivs "$st"), expected 1"

# The monitor stays root: it binds, spawns and reaps.
mst=/proc/$MONPID/status
[ "$(status_field Uid "$mst")" = "0 0 0 0" ] ||
    fail "monitor Uid: $(status_field Uid "$mst"), expected root"

# The connection still works after all this looking.
printf 'still here\n' >&3 || fail "the held discard connection broke"
exec 3<&-

ok
