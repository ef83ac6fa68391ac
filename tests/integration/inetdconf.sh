#!/bin/bash
# inetd_conf: portmuxd reads an inetd.conf as Debian's packages keep it,
# at start and at every reload, each line as a service section.  Debian's
# own update-inetd edits a test copy (--add, --disable, --enable,
# --remove), and a reload serves what the file says: the added services
# answer, a disabled one stops, a removed one is gone; a line that does
# not validate refuses the reload with its problem at the inetd.conf's
# own line, and the running services stay.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd socat update-inetd

icf=$T/inetd.conf
# The head of the file as Debian's openbsd-inetd creates it.
cat >"$icf" <<'EOF'
# /etc/inetd.conf:  see inetd(8) for further informations.
#
# Internet superserver configuration database
#
#
# Lines starting with "#:LABEL:" or "#<off>#" should not
# be changed unless you know what you are doing!
#
# If you want to disable an entry so it isn't touched during
# package updates just comment it out with a single '#' character.
#
# Packages should modify this file by using update-inetd(8)
#
# <service_name> <sock_type> <proto> <flags> <user> <server_path> <args>
#
#:INTERNAL: Internal services
#discard		stream	tcp	nowait	root	internal
#discard		dgram	udp	wait	root	internal
#daytime		stream	tcp	nowait	root	internal
#time		stream	tcp	nowait	root	internal

#:STANDARD: These are standard services.

#:BSD: Shell, login, exec and talk are BSD protocols.

#:MAIL: Mail, news and uucp services.

#:INFO: Info services

#:BOOT: TFTP service is provided primarily for booting.  Most sites
#       run this only on machines acting as "boot servers."

#:RPC: RPC based services

#:HAM-RADIO: amateur-radio services

#:OTHER: Other services

EOF

conf=$T/portmux.conf
cat >"$conf" <<EOF
stop_grace = 1s
inetd_conf = "$icf"

service own {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 7261
  builtin  = echo
}
EOF

upd()	# upd ARGS...: Debian's update-inetd on the test's copy
{
	DEBIAN_FRONTEND=noninteractive UPDATE_INETD_FAKE_IT=1 \
	    update-inetd --file "$icf" "$@" >>"$T/update-inetd.out" 2>&1 ||
	    fail "update-inetd $*: $(cat "$T/update-inetd.out")"
}

gen=1
reload_to()	# reload_to: SIGHUP, wait for the next generation
{
	gen=$((gen + 1))
	kill -HUP "$MONPID"
	wait_log "action=reload generation=$gen " 10 ||
	    fail "reload to generation $gen not done"
}

echo7()		# echo7: the inetd.conf's echo answers on port 7
{
	[ "$(printf 'seven\n' | timeout 5 socat -t 2 - TCP:127.0.0.1:7)" = seven ]
}

answers()	# answers PORT: something answers there on 127.0.0.1
{
	timeout 5 socat -t 2 - TCP:127.0.0.1:"$1" </dev/null 2>/dev/null
}

refused()	# refused PORT: nothing listens there
{
	! timeout 5 socat -t 1 - TCP:127.0.0.1:"$1" </dev/null >/dev/null 2>&1
}

"$PORTMUXD" -n -f "$conf" >"$T/check.out" 2>&1 ||
    fail "portmuxd -n on Debian's empty inetd.conf: $(cat "$T/check.out")"
start_daemon "$conf"
wait_log 'action=start .* services=1 ' 5 || fail "services other than echo at the start"
refused 13 || fail "daytime answers while the file has it commented out"
refused 7 || fail "echo answers on port 7 before update-inetd added it"

# A package adds its service.
upd --group OTHER --add 'echo\tstream\ttcp\tnowait\troot\tinternal'
upd --group OTHER --add '7262\tstream\ttcp\tnowait\tdaemon\t/usr/bin/id\tid'
grep -q '^echo' "$icf" || fail "update-inetd did not add echo: $(cat "$icf")"
reload_to
echo7 || fail "the added echo does not answer"
id=$(answers 7262)
[[ $id == "uid=$(id -u daemon)(daemon) "* ]] || fail "added id service: '$id'"
[ "$(printf 'e\n' | timeout 5 socat -t 2 - TCP:127.0.0.1:7261)" = e ] ||
    fail "the config's own echo stopped"
line=$(grep -n '^7262' "$icf" | cut -d: -f1)
grep -q "conn=[0-9]* service=7262 action=spawn " "$LOG" ||
    fail "the inetd.conf service is not named by its line's service"

# --disable comments it out (#<off>#): the reload stops it.
upd --disable echo
grep -q '^#<off># echo' "$icf" || fail "update-inetd did not disable echo"
reload_to
refused 7 || fail "a disabled echo still answers"
upd --enable echo
reload_to
echo7 || fail "a re-enabled echo does not answer"

# --remove: gone.
upd --remove 7262
grep -q '7262' "$icf" && fail "update-inetd did not remove 7262"
reload_to
refused 7262 || fail "a removed service still answers"

# A line that does not validate: the reload is refused at its line.
printf 'bogus\tstream\ttcp\tnowait\tnosuchuser\t/bin/cat\tcat\n' >>"$icf"
bad=$(grep -n '^bogus' "$icf" | cut -d: -f1)
kill -HUP "$MONPID"
wait_log 'reload failed, keeping generation' 10 || fail "a broken inetd.conf line did not refuse the reload"
grep -q "$icf:$bad: service 'bogus': " "$LOG" ||
    fail "the problem is not reported at $icf:$bad"
echo7 || fail "echo stopped after a refused reload"
say "update-inetd add/disable/enable/remove followed; bogus refused at line $bad (line $line was 7262)"
ok
