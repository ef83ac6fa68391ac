#!/bin/sh
# The automake log compiler of the integration tests (SH_LOG_COMPILER):
# run one test script in its own mount, UTS and network namespace with
# only `lo', up.  There the test is free to bind any port, below 1024
# too, without clashing with services of the host, and no packet can
# leave the machine (DESIGN.md "Tests").  A log compiler runs inside the
# test driver, so its exit status is the test's: 77 skips, 99 is a hard
# error.  Under CI=true a skip counts as a failure, so that CI never
# passes by testing nothing.
#
# usage: run.sh SCRIPT [ARGS...]

if [ $# -lt 1 ]; then
	echo "usage: $0 SCRIPT [ARGS...]" >&2
	exit 99
fi

skip()
{
	if [ "${CI:-}" = true ]; then
		echo "SKIP is a failure under CI=true: $*" >&2
		exit 99
	fi
	echo "SKIP: $*" >&2
	exit 77
}

command -v unshare >/dev/null 2>&1 || skip "unshare(1) not found (util-linux)"
command -v ip >/dev/null 2>&1 || skip "ip(8) not found (iproute2)"

# Inside the namespace: bring up loopback, then replace the shell with
# bash running the test.  $0 of the inner sh is "bash", $@ the script and
# its arguments.
inner='ip link set lo up && exec "$0" "$@"'

if [ "$(id -u)" = 0 ]; then
	unshare -mun true 2>/dev/null ||
	    skip "unshare -mun does not work here (no CAP_SYS_ADMIN?)"
	exec unshare -mun -- sh -c "$inner" bash "$@"
fi

# An ordinary user gets a user namespace mapped from /etc/subuid and
# /etc/subgid, where it is root over its own network namespace.
user=$(id -un)
if ! grep -q "^$user:" /etc/subuid 2>/dev/null &&
    ! grep -q "^$(id -u):" /etc/subuid 2>/dev/null; then
	skip "not root and no /etc/subuid entry for $user"
fi
unshare -mrun --map-auto true 2>/dev/null ||
    skip "unshare -mrun --map-auto does not work for $user (newuidmap from the uidmap package?)"
exec unshare -mrun --map-auto -- sh -c "$inner" bash "$@"
