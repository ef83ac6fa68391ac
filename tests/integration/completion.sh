#!/bin/bash
# Bash completion (contrib/completion/): in a bash with bash-completion
# loaded, each command's completion function offers every option that
# the program's own usage line lists, portmuxctl's commands as its
# usage line names them, files after -f, and for unban the addresses
# that a running daemon has banned; with no daemon it offers none and
# returns at once.  make install puts the files where bash-completion
# loads them, by command name.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd socat timeout
BC=/usr/share/bash-completion/bash_completion
[ -r "$BC" ] || skip "$BC is missing (Debian package bash-completion)"
CTL=$top_builddir/src/portmuxctl
IMPORT=$top_builddir/src/portmuxd-import
[ -x "$CTL" ] && [ -x "$IMPORT" ] || fail "portmuxctl or portmuxd-import not built"
DIR=$top_srcdir/contrib/completion
export PATH=$top_builddir/src:$PATH	# the completion runs portmuxctl by name

# complete FILE WORD...: what the completion of FILE offers for the last
# WORD of the command line, one per line, sorted.
complete_line()
{
	local file=$1
	shift
	timeout 10 bash -c '
	    file=$1; shift; words=("$@")
	    . "$0" && . "$file" || exit 1
	    set -- "${words[@]}"
	    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
	    COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
	    spec=$(complete -p "$1") || exit 1
	    fn=${spec#*-F }; fn=${fn%% *}
	    "$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
	    printf "%s\n" "${COMPREPLY[@]}"' "$BC" "$file" "$@" | sort
}

# usage_opts PROGRAM: the single-letter options its usage line names.
usage_opts()
{
	"$@" -Z 2>&1 | tr -s ' \n' ' ' | grep -o '\[-[A-Za-z]\+\]\|\[-[A-Za-z] ' |
	    tr -d '[] -' | fold -w1 | sort -u | sed 's/^/-/'
}

check_opts()
{
	local name=$1 file=$2 want got
	shift 2
	want=$(usage_opts "$@")
	[ -n "$want" ] || fail "$name: no options in its usage line"
	got=$(complete_line "$file" "$name" -)
	[ "$got" = "$want" ] ||
	    fail "$name -<TAB> offers '$(echo $got)', its usage names '$(echo $want)'"
	say "$name: options $(echo $got)"
}
check_opts portmuxd "$DIR/portmuxd" "$PORTMUXD"
check_opts portmuxctl "$DIR/portmuxctl" "$CTL"
check_opts portmuxd-import "$DIR/portmuxd" "$IMPORT"

# portmuxctl's commands: those its usage line lists.
want=$("$CTL" -Z 2>&1 | grep -v 'invalid option' | tr -s ' \n|' '\n' | grep -x '[a-z]\+' | grep -vx 'usage\|portmuxctl\|socket\|seconds\|address' | sort -u)
got=$(complete_line "$DIR/portmuxctl" portmuxctl -j '')
[ -n "$want" ] && [ "$got" = "$want" ] ||
    fail "portmuxctl <TAB> offers '$(echo $got)', its usage names '$(echo $want)'"
say "portmuxctl: commands $(echo $got)"

# A file after -f.
: >"$T/compl-test.conf"
got=$(cd "$T" && complete_line "$DIR/portmuxd" portmuxd -f compl-test)
[ "$got" = compl-test.conf ] || fail "portmuxd -f <TAB> offers '$got'"
got=$(complete_line "$DIR/portmuxd" portmuxd-import -t '')
[ "$(echo $got)" = "inetd xinetd" ] || fail "portmuxd-import -t <TAB> offers '$got'"

# unban with no daemon: nothing, within the timeout.
got=$(complete_line "$DIR/portmuxctl" portmuxctl -s "$T/none.sock" unban '')
[ -z "$got" ] || fail "unban <TAB> without a daemon offers '$got'"

# A banned source, then its address is offered.
conf=$T/compl.conf
cat >"$conf" <<CONF
control = "$T/ctl.sock"
ban_time = 5m
service trap {
	port = 7999
	address = {127.0.0.1}
	builtin = trap
}
CONF
start_daemon "$conf"
socat -u /dev/null TCP:127.0.0.1:7999,bind=127.0.0.9 2>/dev/null
wait_log '^action=ban peer=127\.0\.0\.9' 10 || fail "no ban of 127.0.0.9"
got=$(complete_line "$DIR/portmuxctl" portmuxctl -s "$T/ctl.sock" unban 127.)
[ "$got" = 127.0.0.9/32 ] || fail "unban <TAB> offers '$got', not 127.0.0.9/32 ($("$CTL" -s "$T/ctl.sock" bans 2>&1))"
stop_daemon

# Installed by command name, portmuxd-import included.
make -s -C "$top_builddir" install-data DESTDIR="$T/inst" >"$T/inst.log" 2>&1 ||
    fail "make install-data failed: $(tail -5 "$T/inst.log")"
for c in portmuxd portmuxctl portmuxd-import; do
	n=$(find "$T/inst" -path "*/bash-completion/completions/$c" | wc -l)
	[ "$n" = 1 ] || fail "make install put no completion file for $c"
done
ok
