#!/bin/bash
# The installed man pages name the paths this build uses, not the
# defaults of another prefix (issue 9, item 10: after ./configure
# --sysconfdir=/etc the pages still said /usr/local/etc/portmux.conf).
# The distribution of this tree is configured with Debian's paths in a
# scratch directory and its pages installed under a DESTDIR; they must
# name /etc/portmux.conf and /run/portmuxd.pid and nothing of
# /usr/local/etc, /usr/local/var or an unsubstituted @NAME@.  The pages
# of this build must be substituted too, and uninstall must remove them.
. "$(dirname "$0")/lib.sh"

need_cmd realpath

# check_page FILE CONF PIDFILE: FILE names CONF and PIDFILE, no other
# default and no placeholder.
check_page()
{
	local f=$1 conf=$2 pid=$3 bad

	[ -s "$f" ] || fail "no man page $f"
	bad=$(grep -nE '@[A-Z_]+@' "$f" | head -n 3)
	[ -z "$bad" ] || fail "$f keeps placeholders: $bad"
	grep -Fq "$conf" "$f" || fail "$f does not name $conf"
	grep -Fq "$pid" "$f" || fail "$f does not name $pid"
	if [ "$conf" != /usr/local/etc/portmux.conf ]; then
		bad=$(grep -nE '/usr/local/(etc|var)' "$f" | head -n 3)
		[ -z "$bad" ] || fail "$f names the paths of another prefix: $bad"
	fi
}

# This build's pages.
for p in portmux.conf.5 portmuxd.8; do
	f=$top_builddir/man/$p
	[ -s "$f" ] || fail "$f was not built"
	grep -nE '@[A-Z_]+@' "$f" >/dev/null && fail "$f keeps placeholders"
done

# The distribution, configured as Debian installs it.
rel=$(realpath --relative-to="$top_builddir" "$T/dist") ||
    fail "no relative path from $top_builddir to $T/dist"
make -s -C "$top_builddir" distdir distdir="$rel" >"$T/distdir.log" 2>&1 ||
    fail "make distdir failed: $(tail -n 20 "$T/distdir.log")"
(cd "$T/dist" && ./configure --prefix=/usr --sysconfdir=/etc \
    --localstatedir=/var --runstatedir=/run) >"$T/configure.log" 2>&1 ||
    fail "configure of the distribution failed: $(tail -n 20 "$T/configure.log")"
make -s -C "$T/dist/man" install DESTDIR="$T/inst" >"$T/install.log" 2>&1 ||
    fail "make install of the man pages failed: $(cat "$T/install.log")"
check_page "$T/inst/usr/share/man/man5/portmux.conf.5" /etc/portmux.conf \
    /run/portmuxd.pid
check_page "$T/inst/usr/share/man/man8/portmuxd.8" /etc/portmux.conf \
    /run/portmuxd.pid
make -s -C "$T/dist/man" uninstall DESTDIR="$T/inst" >"$T/uninstall.log" 2>&1 ||
    fail "make uninstall of the man pages failed: $(cat "$T/uninstall.log")"
left=$(find "$T/inst" -type f | head -n 3)
[ -z "$left" ] || fail "make uninstall left $left"

ok
