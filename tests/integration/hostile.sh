#!/bin/bash
# The monitor against a compromised engine: tests/integration/hostile.c
# runs the real monitor with a stand-in for the engine that forges unix
# credentials, leaves dozens of engines draining, stops reading its
# channel, sends bans no engine would make and claims PROXY clients the
# monitor must not believe.  Each scenario checks that
# the monitor refuses, bounds or kills, and keeps serving.
. "$(dirname "$0")/lib.sh"

need_root
HOSTILE=$top_builddir/tests/integration/hostile
[ -x "$HOSTILE" ] || fail "$HOSTILE is not built"

for s in unix ban poll queue proxy; do
	d=$T/$s
	mkdir -p "$d" && chmod 755 "$d" || fail "cannot create $d"
	out=$(timeout 150 "$HOSTILE" "$s" "$d" 2>&1)
	rc=$?
	say "$s: $out"
	if [ "$rc" -ne 0 ]; then
		sed 's/^/monitor: /' "$d/monitor.log" | tail -n 40
		fail "hostile engine, $s: $out"
	fi
done
ok
