#!/bin/bash
# ACLs (DESIGN.md "ACLs", "Overload policy"): a client is served only if
# it matches no deny, global or service, and, at each level whose allow
# is non-empty, matches that allow; deny wins over allow; a service's
# lists replace those of `defaults', never the global ones.  A refused
# client is closed at once without data and logged with reason=acl and
# its peer.  IPv6 (::1) lists work like IPv4 ones, and on a `::' socket
# with v6only = false, IPv4 clients arrive mapped (::ffff:a.b.c.d): an
# IPv4 deny or allow rule must still match them, and the log shows them
# as IPv4.  Otherwise `deny = {192.0.2.0/24}' silently stops working the
# day an admin switches a service to a dual-stack socket.
. "$(dirname "$0")/lib.sh"

conf=$T/acl.conf
cat >"$conf" <<EOF
stop_grace = 1s
allow = {127.0.0.0/16, ::1/128}
deny  = {127.0.0.66/32}

defaults {
  protocol  = tcp
  builtin   = echo
  ban_after = 100000/1m
  deny      = {127.0.0.9/32}
}

# allow and deny in one service: deny wins.
service mixed {
  address = {127.0.0.1}
  port    = 2001
  allow   = {127.0.0.0/30}
  deny    = {127.0.0.3/32}
}

# no lists of its own: the defaults' deny and the global lists.
service plain {
  address = {127.0.0.1}
  port    = 2002
}

# its own deny replaces the defaults' one; its allow cannot widen the
# global allow.
service own {
  address = {127.0.0.1}
  port    = 2003
  allow   = {127.0.0.0/8}
  deny    = {127.0.0.10/32}
}

service v6deny {
  address = {::1}
  port    = 2004
  deny    = {::1/128}
}

service v6allow {
  address = {::1}
  port    = 2005
  allow   = {::1/128}
}

service v6other {
  address = {::1}
  port    = 2006
  allow   = {2001:db8::/32}
}

# dual-stack sockets: IPv4 clients arrive mapped.
service mapdeny {
  address = {::}
  v6only  = false
  port    = 2007
  deny    = {127.0.0.2/32}
}

service mapallow {
  address = {::}
  v6only  = false
  port    = 2008
  allow   = {127.0.0.0/8}
}
EOF

# client SRC PORT: the socat address of a connection from SRC (an IPv4
# address bound on lo, or ::1) to 127.0.0.1:PORT or [::1]:PORT.
client()
{
	case "$1" in
	*:*) echo "TCP6:[::1]:$2" ;;
	*) echo "TCP4:127.0.0.1:$2,bind=$1" ;;
	esac
}

# peer_re SRC: a regex for SRC as the log writes a peer, before :PORT.
peer_re()
{
	case "$1" in
	*:*) echo "\\[$1\\]" ;;
	*) echo "${1//./\\.}" ;;
	esac
}

# served SRC PORT SERVICE: the line sent comes back, and the accept
# line shows the client's address as the log must write it.
served()
{
	local word=w$RANDOM got

	got=$(printf '%s\n' "$word" | timeout 5 socat -t3 - \
	    "$(client "$1" "$2")" 2>/dev/null)
	[ "$got" = "$word" ] ||
	    fail "service $3 (port $2) did not serve $1 (got '$got')"
	grep -Eq "^conn=[0-9]+ service=$3 action=accept proto=tcp peer=$(peer_re "$1"):[0-9]+ " "$LOG" ||
	    fail "no accept line of service $3 for peer $(addr_port "$1" PORT)"
}

# denied SRC PORT SERVICE: closed at once without data, logged with
# reason=acl and the peer as IPv4 or [IPv6].
denied()
{
	local got

	got=$(printf 'hello\n' | timeout 5 socat -t3 - \
	    "$(client "$1" "$2")" 2>/dev/null)
	[ -z "$got" ] ||
	    fail "service $3 (port $2) must refuse $1 by its ACL, it answered '$got'"
	wait_log "^conn=[0-9]+ service=$3 action=refuse proto=tcp peer=$(peer_re "$1"):[0-9]+ reason=acl\$" ||
	    fail "no 'conn=N service=$3 action=refuse proto=tcp peer=$(addr_port "$1" PORT) reason=acl' line"
}

start_daemon "$conf"
for p in 2001 2002 2003; do
	wait_listen $p 127.0.0.1 || fail "nothing listens on 127.0.0.1:$p"
done
for p in 2004 2005 2006; do
	wait_listen $p ::1 || fail "nothing listens on [::1]:$p"
done
for p in 2007 2008; do
	wait_listen $p || fail "nothing listens on port $p"
done
ss -ltnH "( sport = :2007 )" | awk '{ print $4 }' | grep -qx '\[::\]:2007\|\*:2007' ||
    fail "service mapdeny is not one :: socket: $(ss -ltnH "( sport = :2007 )")"

# allow and deny in one service.
served 127.0.0.2 2001 mixed
denied 127.0.0.3 2001 mixed		# in the allow, but denied
denied 127.0.0.4 2001 mixed		# not in the allow

# the defaults' deny and the global lists.
served 127.0.0.2 2002 plain
denied 127.0.0.9 2002 plain		# defaults' deny
denied 127.0.0.66 2002 plain		# global deny
denied 127.1.0.2 2002 plain		# outside the global allow

# a service's own lists replace the defaults', not the global ones.
served 127.0.0.9 2003 own		# the defaults' deny is replaced
denied 127.0.0.10 2003 own
denied 127.0.0.66 2003 own		# global deny still applies
denied 127.1.0.2 2003 own		# global allow still applies

# IPv6.
denied ::1 2004 v6deny
served ::1 2005 v6allow
denied ::1 2006 v6other

# IPv4 clients on dual-stack sockets.
denied 127.0.0.2 2007 mapdeny		# an IPv4 deny matches a mapped peer
served 127.0.0.3 2007 mapdeny
served ::1 2007 mapdeny
denied 127.0.0.66 2007 mapdeny		# the global IPv4 deny too
served 127.0.0.3 2008 mapallow		# an IPv4 allow matches a mapped peer
denied ::1 2008 mapallow
grep -q 'peer=\[::ffff:' "$LOG" &&
    fail "a mapped IPv4 peer is logged in its IPv6 form: $(grep -m 1 'peer=\[::ffff:' "$LOG")"

ok
