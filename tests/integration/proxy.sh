#!/bin/bash
# PROXY protocol in (portmux.conf(5) proxy_protocol, trusted_proxies,
# proxy_timeout), behind a real haproxy with send-proxy (v1) and
# send-proxy-v2:
#  - the exec'd program sees the client's address in TCPREMOTEIP and
#    TCPREMOTEPORT, not haproxy's; the accept line says peer=CLIENT and
#    via=PROXY;
#  - per_source counts the client's address: a second connection of one
#    client is refused, another client's is not;
#  - an ACL applies to the client's address;
#  - the bytes after the header reach the service (an echo);
#  - a header from outside trusted_proxies, a malformed header, and none
#    within proxy_timeout are refused with reason=proxy;
#  - redirect_proxy = v1|v2 sends the first client to a redirect's target
#    (this daemon's own proxy_protocol services, and a plain listener
#    that sees the v1 line exactly).
. "$(dirname "$0")/lib.sh"

need_root
need_cmd haproxy socat

conf=$T/proxy.conf
cat >"$conf" <<EOF
stop_grace = 1s

service pv1 {
  protocol        = tcp
  address         = {127.0.0.1}
  port            = 2410
  proxy_protocol  = v1
  trusted_proxies = {127.0.0.1/32}
  proxy_timeout   = 1s
  server          = /bin/sh
  args            = {sh, -c, "echo ip=\$TCPREMOTEIP port=\$TCPREMOTEPORT; read x"}
  user            = daemon
  per_source      = 1
  deny            = {127.0.0.4/32}
}

service pv2 {
  protocol        = tcp
  address         = {127.0.0.1}
  port            = 2411
  proxy_protocol  = v2
  trusted_proxies = {127.0.0.1/32}
  server          = /bin/sh
  args            = {sh, -c, "echo ip=\$TCPREMOTEIP port=\$TCPREMOTEPORT"}
  user            = daemon
}

service pecho {
  protocol        = tcp
  address         = {127.0.0.1}
  port            = 2412
  proxy_protocol  = any
  trusted_proxies = {127.0.0.1/32}
  builtin         = echo
}

# PROXY out: redirects that tell their target who the client is.
service fwd2 {
  protocol       = tcp
  address        = {127.0.0.1}
  port           = 2420
  redirect       = "127.0.0.1:2411"
  redirect_proxy = v2
}

service fwd1 {
  protocol       = tcp
  address        = {127.0.0.1}
  port           = 2421
  redirect       = "127.0.0.1:2412"
  redirect_proxy = v1
}

service fwdraw {
  protocol       = tcp
  address        = {127.0.0.1}
  port           = 2422
  redirect       = "127.0.0.1:2430"
  redirect_proxy = v1
}
EOF

hcfg=$T/haproxy.cfg
cat >"$hcfg" <<EOF
global
  maxconn 100
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend f1
  bind 127.0.0.1:2400
  default_backend b1
backend b1
  server s1 127.0.0.1:2410 send-proxy
frontend f2
  bind 127.0.0.1:2401
  default_backend b2
backend b2
  server s2 127.0.0.1:2411 send-proxy-v2
frontend f3
  bind 127.0.0.1:2402
  default_backend b3
backend b3
  server s3 127.0.0.1:2412 send-proxy-v2
EOF

start_daemon "$conf"
for p in 2410 2411 2412 2420 2421 2422; do
	wait_listen $p 127.0.0.1 || fail "nothing listens on 127.0.0.1:$p"
done
haproxy -f "$hcfg" -db >"$T/haproxy.log" 2>&1 &
PIDS+=($!)
for p in 2400 2401 2402; do
	wait_listen $p 127.0.0.1 || fail "haproxy does not listen on $p"
done

# via SRC PORT: a connection from SRC to haproxy's PORT, what comes back
# within 5 s (stdin: what to send).
via()
{
	timeout 5 socat -t 2 - "TCP4:127.0.0.1:$2,bind=$1" 2>/dev/null
}

# v1: the program sees the client, and holds the connection.
exec 5< <(sleep 6 | via 127.0.0.2 2400)
read -r -t 5 line <&5 || fail "pv1: nothing from the program"
case "$line" in
"ip=127.0.0.2 port="[0-9]*) ;;
*) fail "pv1: the program saw '$line', not the client 127.0.0.2" ;;
esac
cport=${line#*port=}
wait_log "^conn=[0-9]+ service=pv1 action=accept proto=tcp peer=127.0.0.2:$cport local=127.0.0.1:2410 via=127.0.0.1:[0-9]+\$" 5 ||
    fail "pv1: no accept line with peer=127.0.0.2:$cport and via=haproxy"
say "v1: $line"

# per_source = 1 counts the client: the same client again is refused...
out=$(echo | via 127.0.0.2 2400)
[ -z "$out" ] || fail "pv1: a second connection of 127.0.0.2 was served: $out"
wait_log ' service=pv1 action=refuse proto=tcp peer=127.0.0.2:[0-9]+ via=127.0.0.1:[0-9]+ reason=per_source' 5 ||
    fail "pv1: no per_source refusal for 127.0.0.2"
# ... another client is not.
out=$(echo | via 127.0.0.3 2400)
case "$out" in
"ip=127.0.0.3 port="*) ;;
*) fail "pv1: 127.0.0.3 got '$out'" ;;
esac
# The ACL judges the client too.
out=$(echo | via 127.0.0.4 2400)
[ -z "$out" ] || fail "pv1: denied 127.0.0.4 was served: $out"
wait_log ' service=pv1 action=refuse proto=tcp peer=127.0.0.4:[0-9]+ via=127.0.0.1:[0-9]+ reason=acl' 5 ||
    fail "pv1: no acl refusal for 127.0.0.4"
exec 5<&-

# v2, binary header.
out=$(echo | via 127.0.0.6 2401)
case "$out" in
"ip=127.0.0.6 port="[0-9]*) ;;
*) fail "pv2: the program saw '$out', not the client 127.0.0.6" ;;
esac
say "v2: $out"

# The bytes after the header are the client's.
out=$(printf 'hello through the proxy\n' | via 127.0.0.7 2402)
[ "$out" = "hello through the proxy" ] ||
    fail "pecho: echo gave '$out'"

# Refused: a header from outside trusted_proxies...
out=$(printf 'PROXY TCP4 10.1.2.3 127.0.0.1 1234 2410\r\n' |
    timeout 5 socat -t 2 - TCP4:127.0.0.1:2410,bind=127.0.0.5 2>/dev/null)
[ -z "$out" ] || fail "an untrusted source's header was served: $out"
wait_log ' service=pv1 action=refuse proto=tcp peer=127.0.0.5:[0-9]+ reason=proxy msg="not a trusted proxy"' 5 ||
    fail "no reason=proxy refusal for the untrusted 127.0.0.5"
grep -q 'peer=10.1.2.3' "$LOG" && fail "the untrusted header's address was believed"
# ... a malformed one from a trusted address...
out=$(printf 'PROXY TCP4 10.1.2.3 127.0.0.1 01234 2410\r\n' |
    timeout 5 socat -t 2 - TCP4:127.0.0.1:2410,bind=127.0.0.1 2>/dev/null)
[ -z "$out" ] || fail "a malformed header was served: $out"
wait_log ' service=pv1 action=refuse proto=tcp peer=127.0.0.1:[0-9]+ reason=proxy msg="bad v1 source port"' 5 ||
    fail "no reason=proxy refusal for the malformed header"
# ... and none at all within proxy_timeout (1 s).
exec 6< <(sleep 4 | timeout 5 socat -t 1 - TCP4:127.0.0.1:2410,bind=127.0.0.1 2>/dev/null)
wait_log ' service=pv1 action=refuse proto=tcp peer=127.0.0.1:[0-9]+ reason=proxy msg="no header in time"' 3 ||
    fail "no reason=proxy refusal within 3 s of a silent connection (proxy_timeout 1s)"
exec 6<&-

# PROXY out, v2 into a proxy_protocol = v2 service: its program sees
# the first client, not the redirect.
out=$(echo | via 127.0.0.8 2420)
case "$out" in
"ip=127.0.0.8 port="[0-9]*) ;;
*) fail "fwd2 -> pv2: the program saw '$out', not 127.0.0.8" ;;
esac
# v1 into the echo: the header is consumed there, the bytes come back.
out=$(printf 'through two\n' | via 127.0.0.9 2421)
[ "$out" = "through two" ] || fail "fwd1 -> pecho: echo gave '$out'"
wait_log ' service=pecho action=accept proto=tcp peer=127.0.0.9:[0-9]+ local=127.0.0.1:2412 via=127.0.0.1:[0-9]+$' 5 ||
    fail "fwd1 -> pecho: no accept line with peer=127.0.0.9"
# The v1 line as the spec spells it, seen by a plain listener.
socat -u TCP4-LISTEN:2430,bind=127.0.0.1,reuseaddr "OPEN:$T/raw,creat,trunc" &
PIDS+=($!)
wait_listen 2430 127.0.0.1 || fail "the raw listener is not up"
printf 'x' | timeout 5 socat -u - TCP4:127.0.0.1:2422,bind=127.0.0.10:40123,reuseaddr ||
    fail "cannot connect to fwdraw"
for i in $(seq 1 100); do
	[ -s "$T/raw" ] && grep -q 'x$' "$T/raw" && break
	sleep 0.05
done
want=$(printf 'PROXY TCP4 127.0.0.10 127.0.0.1 40123 2422\r\nx')
[ "$(cat "$T/raw")" = "$want" ] ||
    fail "fwdraw sent '$(od -c "$T/raw" | head -3)', not the v1 line then x"
say "PROXY out: v2 and v1 understood, v1 line exact"

proc_alive "$MONPID" || fail "portmuxd died"
stop_daemon
ok
