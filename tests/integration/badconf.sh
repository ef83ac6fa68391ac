#!/bin/bash
# Broken configs are refused cleanly (DESIGN.md "Validation", "Command
# line"): with -n and at start (-F), each of random bytes, an empty file,
# a 10 MB single line, a 5000-byte line, a missing file, a key given
# twice and include() of a missing file exits 78 with a message on stderr
# naming the file and the line ("file:line: message"; just "file:" where
# there is no line), and never crashes (exit >= 128) nor hangs.  The huge
# file must be refused before parsing, within a second.  Also: -n on a
# good file exits 0, -V prints the version and exits 0, an unknown option
# exits 64.
. "$(dirname "$0")/lib.sh"

# run_pmx OUT ARGS...: portmuxd with a 5s limit; sets RC and MS.
run_pmx()
{
	local out=$1 t0 t1

	shift
	t0=$(date +%s%N)
	timeout 5 "$PORTMUXD" "$@" </dev/null >"$out" 2>&1
	RC=$?
	t1=$(date +%s%N)
	MS=$(((t1 - t0) / 1000000))
	[ $RC = 124 ] && fail "portmuxd $* hangs (killed after 5s)"
	[ $RC -ge 128 ] &&
	    fail "portmuxd $* crashed (exit $RC): $(head -c 2000 "$out")"
	return 0
}

# bad NAME FILE REGEX [MAX_MS]: both -n and -F exit 78 and print a line
# matching REGEX (extended; the file name is prefixed by the caller).
bad()
{
	local name=$1 file=$2 re=$3 max=${4:-} mode

	for mode in -n -F; do
		run_pmx "$T/out" "$mode" -f "$file"
		[ $RC = 78 ] ||
		    fail "$name ($mode): exit $RC, expected 78: $(head -c 2000 "$T/out")"
		grep -Eq -- "$re" "$T/out" ||
		    fail "$name ($mode): no message matching '$re' in: $(head -c 2000 "$T/out")"
		if [ -n "$max" ] && [ "$MS" -gt "$max" ]; then
			fail "$name ($mode): took $MS ms, expected under $max ms"
		fi
		say "$name ($mode): exit 78 in $MS ms: $(grep -E -m 1 -- "$re" "$T/out")"
	done
}

# A fixed string as an extended regex.
re_quote()
{
	printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'
}

good=$T/good.conf
cat >"$good" <<EOF
service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 7
  builtin  = echo
}
EOF

# Random bytes, several times; a failing input is kept in the log.
for n in 1 2 3; do
	f=$T/random$n.conf
	head -c 4096 /dev/urandom >"$f"
	fq=$(re_quote "$f")
	for mode in -n -F; do
		run_pmx "$T/out" "$mode" -f "$f"
		if [ $RC != 78 ] || ! grep -Eq "^$fq:[0-9]+: " "$T/out"; then
			echo "the input, base64:" >&2
			base64 "$f" >&2
			fail "random bytes ($mode): exit $RC, expected 78 and '$f:LINE: ...': $(head -c 2000 "$T/out")"
		fi
	done
done
say "random bytes: exit 78 with file:line:, 3 inputs"

# An empty file: no service at all.
f=$T/empty.conf
: >"$f"
bad "empty file" "$f" "^$(re_quote "$f"):([0-9]+:)? .*[Nn]o service"

# A 10 MB single line: refused before parsing, fast, and named as the
# over-long line 1 (a pread of its head; the rest is never read).
f=$T/huge.conf
head -c 10485760 /dev/zero | tr '\0' a >"$f"
bad "10 MB line" "$f" "^$(re_quote "$f"):1: line too long" 1000

# A 5000-byte line in a small file: line too long, on line 2.
f=$T/longline.conf
{
	echo '# the next line is too long'
	printf 'log_level = "%s"\n' "$(head -c 5000 /dev/zero | tr '\0' b)"
	cat "$good"
} >"$f"
bad "5000-byte line" "$f" "^$(re_quote "$f"):2: .*line too long"

# A missing file.
f=$T/missing.conf
bad "missing file" "$f" "^$(re_quote "$f"): "

# A key given twice: the message points at one of its two lines.
f=$T/twice.conf
cat >"$f" <<EOF
service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 7
  port     = 8
  builtin  = echo
}
EOF
bad "key given twice" "$f" "^$(re_quote "$f"):(4|5): "

# include() of a missing literal file: an error naming the include line
# (or the missing file itself).
f=$T/include.conf
{
	cat "$good"
	echo 'include("missing.conf")'
} >"$f"
bad "include(missing)" "$f" \
    "(^$(re_quote "$f"):7: .*missing\\.conf|^$(re_quote "$T/missing.conf"): |^missing\\.conf: )"

# The good file passes -n.
run_pmx "$T/out" -n -f "$good"
[ $RC = 0 ] || fail "-n on a good file: exit $RC: $(cat "$T/out")"

# -V: the version, exit 0.
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' \
    "$top_builddir/config.h")
[ -n "$version" ] || fail "no PACKAGE_VERSION in $top_builddir/config.h"
run_pmx "$T/out" -V
[ $RC = 0 ] || fail "-V: exit $RC: $(cat "$T/out")"
grep -Fq "$version" "$T/out" || fail "-V prints '$(cat "$T/out")', not $version"

# An unknown option: usage, exit 64.
run_pmx "$T/out" -Z -f "$good"
[ $RC = 64 ] || fail "unknown option -Z: exit $RC, expected 64: $(cat "$T/out")"
[ -s "$T/out" ] || fail "unknown option -Z: no usage message"

ok
