#!/bin/bash
# Prometheus metrics (portmux.conf(5) metrics, metrics_allow): GET
# /metrics on the metrics address answers the text format, which
# promtool check metrics accepts before and after traffic; the counters
# move as connections are accepted, refused and served by programs, and
# keep their values over a reload; other paths get 404, other methods
# 405, a malformed request 400, an endless one 431; a client outside
# metrics_allow is refused (reason=acl); a service of the file named
# metrics is an error next to metrics =.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd promtool socat

conf=$T/metrics.conf
cat >"$conf" <<EOF
stop_grace    = 1s
metrics       = "127.0.0.1:2501"
metrics_allow = {127.0.0.1/32}

service echo {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2502
  builtin  = echo
}

service hello {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2503
  server   = /bin/echo
  args     = {echo, hello}
  user     = daemon
}

service denied {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2504
  builtin  = discard
  deny     = {127.0.0.0/8}
}
EOF

start_daemon "$conf"
for p in 2501 2502 2503 2504; do
	wait_listen $p 127.0.0.1 || fail "nothing listens on 127.0.0.1:$p"
done

# get PATH [METHOD]: the whole HTTP answer from the metrics endpoint.
get()
{
	printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: t\r\n\r\n' \
	    "${2:-GET}" "$1" | timeout 5 socat -t 2 - TCP4:127.0.0.1:2501 \
	    2>/dev/null
}

# scrape NAME: GET /metrics, the body in $T/NAME.prom, checked by
# promtool.
scrape()
{
	local out=$T/$1.http

	get /metrics >"$out"
	head -n 1 "$out" | grep -q '^HTTP/1.0 200 OK' ||
	    fail "scrape $1: $(head -n 1 "$out")"
	grep -qi '^Content-Type: text/plain; version=0.0.4' "$out" ||
	    fail "scrape $1: no text format Content-Type"
	sed '1,/^\r$/d' "$out" >"$T/$1.prom"
	[ "$(wc -c <"$T/$1.prom")" = "$(sed -n 's/^Content-Length: \([0-9]*\)\r$/\1/p' "$out")" ] ||
	    fail "scrape $1: Content-Length is not the body's length"
	promtool check metrics <"$T/$1.prom" >"$T/$1.promtool" 2>&1 ||
	    fail "scrape $1: promtool check metrics: $(cat "$T/$1.promtool")"
}

# value NAME SERIES: the value of a series ('name{labels}') in scrape NAME.
value()
{
	awk -v s="$2" '$1 == s { print $2; exit }' "$T/$1.prom"
}

# expect NAME SERIES VALUE
expect()
{
	local v

	v=$(value "$1" "$2")
	[ "$v" = "$3" ] || fail "scrape $1: $2 is '$v', not $3"
}

scrape before
expect before 'portmuxd_accepted_total{service="echo"}' 0
expect before 'portmuxd_spawned_total{service="hello"}' 0
expect before 'portmuxd_config_generation' 1
expect before 'portmuxd_reloads_total' 0
say "before traffic: promtool check metrics passes"

for i in 1 2 3; do
	[ "$(echo ping | timeout 5 socat -t 2 - TCP4:127.0.0.1:2502)" = ping ] ||
	    fail "echo did not answer"
done
[ "$(timeout 5 socat -t 2 - TCP4:127.0.0.1:2503 </dev/null)" = hello ] ||
    fail "hello did not answer"
for i in 1 2; do
	timeout 5 socat -t 2 - TCP4:127.0.0.1:2504 </dev/null >/dev/null 2>&1
done
wait_count ' service=echo action=close ' 3 || fail "not 3 echo closes"
wait_log ' service=hello action=exit ' 5 || fail "hello did not exit"

scrape after
expect after 'portmuxd_accepted_total{service="echo"}' 3
expect after 'portmuxd_received_bytes_total{service="echo"}' 15
expect after 'portmuxd_sent_bytes_total{service="echo"}' 15
expect after 'portmuxd_accepted_total{service="hello"}' 1
expect after 'portmuxd_spawned_total{service="hello"}' 1
expect after 'portmuxd_exits_total{service="hello",class="success"}' 1
expect after 'portmuxd_spawn_duration_seconds_count{service="hello"}' 1
expect after 'portmuxd_spawn_duration_seconds_bucket{service="hello",le="+Inf"}' 1
expect after 'portmuxd_refused_total{service="denied",reason="acl"}' 2
expect after 'portmuxd_accepted_total{service="denied"}' 0
expect after 'portmuxd_active{service="echo"}' 0
# Builtins run no programs: no spawn series for them.
grep -q 'portmuxd_spawned_total{service="echo"}' "$T/after.prom" &&
    fail "a spawn counter for the echo builtin"
say "after traffic: counters moved, promtool still passes"

# Not a scrape.
get /other | head -n 1 | grep -q '^HTTP/1.0 404 ' || fail "/other is not 404"
get /metrics POST | head -n 1 | grep -q '^HTTP/1.0 405 ' ||
    fail "POST is not 405"
printf 'hello\r\n\r\n' | timeout 5 socat -t 2 - TCP4:127.0.0.1:2501 |
    head -n 1 | grep -q '^HTTP/1.0 400 ' || fail "garbage is not 400"
head -c 6000 /dev/zero | tr '\0' 'a' | timeout 5 socat -t 2 - TCP4:127.0.0.1:2501 |
    head -n 1 | grep -q '^HTTP/1.0 431 ' || fail "an endless request is not 431"
get /metrics HEAD >"$T/head.http"
[ "$(sed '1,/^\r$/d' "$T/head.http" | wc -c)" = 0 ] ||
    fail "HEAD got a body"
# metrics_allow: 127.0.0.1 only.
out=$(printf 'GET /metrics HTTP/1.0\r\n\r\n' |
    timeout 5 socat -t 2 - TCP4:127.0.0.1:2501,bind=127.0.0.3 2>/dev/null)
[ -z "$out" ] || fail "127.0.0.3, outside metrics_allow, got an answer"
wait_log ' service=metrics action=refuse proto=tcp peer=127.0.0.3:[0-9]+ reason=acl' 5 ||
    fail "no acl refusal of 127.0.0.3 by the metrics service"

# A reload keeps the counters, and says so.
kill -HUP "$MONPID"
wait_log '^action=reload generation=2 ' 10 || fail "no reload"
scrape reloaded
expect reloaded 'portmuxd_accepted_total{service="echo"}' 3
expect reloaded 'portmuxd_config_generation' 2
expect reloaded 'portmuxd_reloads_total' 1
stop_daemon

# metrics = next to a service of that name.
cat >"$T/clash.conf" <<EOF
metrics = "127.0.0.1:2501"
service metrics {
  address = {127.0.0.1}
  port    = 2505
  builtin = echo
}
EOF
"$PORTMUXD" -n -f "$T/clash.conf" >"$T/clash.out" 2>&1 &&
    fail "metrics = next to a service named metrics loaded"
grep -q "clash.conf:1: metrics: a service is named 'metrics' already" "$T/clash.out" ||
    fail "no clash message: $(cat "$T/clash.out")"
ok
