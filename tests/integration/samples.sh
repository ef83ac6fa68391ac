#!/bin/bash
# The configs we ship pass `portmuxd -n' (STYLE.md "etc/"): the commented
# production sample etc/portmux.conf and the quick start etc/demo.conf.
# A sample that the daemon rejects is the first thing a new user meets.
# Host-dependent problems are warnings under -n, so this holds on any
# machine.
. "$(dirname "$0")/lib.sh"

for f in etc/portmux.conf etc/demo.conf; do
	[ -f "$top_srcdir/$f" ] || fail "$top_srcdir/$f is missing"
	timeout 5 "$PORTMUXD" -n -f "$top_srcdir/$f" </dev/null \
	    >"$T/out" 2>&1
	rc=$?
	[ $rc = 0 ] || fail "portmuxd -n -f $f: exit $rc: $(cat "$T/out")"
	say "$f: ok, $(wc -l <"$T/out") lines of warnings"
	[ -s "$T/out" ] && cat "$T/out"
done

ok
