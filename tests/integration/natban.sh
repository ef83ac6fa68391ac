#!/bin/bash
# The defaults never ban honest clients behind one address (portmux.conf(5)
# "Limits and bans"): 50 clients behind NAT share 127.0.0.9 and each uses
# an exec'd service normally (a request, two seconds of work, an answer),
# retrying when it is refused.  With per_source = 16 by default most of
# them are refused for per_source at first, many times over, far beyond
# ban_after (20/1m); since a refusal for per_source or instances is what
# a busy service gives an honest client, none of them may start a ban,
# and every client must be served in the end.  A rate refusal still
# counts (bans.sh).
. "$(dirname "$0")/lib.sh"

conf=$T/natban.conf
cat >"$conf" <<EOF
stop_grace = 1s

service work {
  protocol = tcp
  address  = {127.0.0.1}
  port     = 2000
  server   = /bin/sh
  args     = {sh, -c, "read line; sleep 2; echo done"}
}
EOF

NAT=127.0.0.9
CLIENTS=50
TRIES=100

start_daemon "$conf"
wait_listen 2000 127.0.0.1 || fail "nothing listens on port 2000"

# client I: one request until it is answered, at most TRIES attempts.
client()
{
	local got t

	for t in $(seq 1 $TRIES); do
		got=$(printf 'request %s\n' "$1" | timeout 10 socat -t5 - \
		    "TCP4:127.0.0.1:2000,bind=$NAT" 2>/dev/null)
		if [ "$got" = done ]; then
			echo "$t" >"$T/served.$1"
			return 0
		fi
		sleep 0.1
	done
	echo "client $1 not served in $TRIES attempts" >>"$T/failures"
}

clients=()
for i in $(seq 1 $CLIENTS); do
	client "$i" &
	clients+=($!)
	PIDS+=($!)
done
for p in "${clients[@]}"; do
	wait_exit "$p" 100 || fail "a client did not finish within 100s"
done

served=$(ls "$T"/served.* 2>/dev/null | wc -l)
refusals=$(awk -v p="peer=$NAT" '
	index($0, " action=refuse ") && index($0, p) &&
	    index($0, " reason=per_source") {
		if (match($0, / repeat=[0-9]+/))
			n += substr($0, RSTART + 8, RLENGTH - 8)
		else
			n++
	}
	END { print n + 0 }' "$LOG")
say "$served of $CLIENTS clients served, $refusals per_source refusals of $NAT"
grep -q '^action=ban ' "$LOG" &&
    fail "clients behind one address were banned with the defaults: $(grep -m 1 '^action=ban ' "$LOG")"
[ -s "$T/failures" ] &&
    fail "$(wc -l <"$T/failures") of $CLIENTS clients were never served: $(head -n 3 "$T/failures")"
[ "$served" = "$CLIENTS" ] || fail "only $served of $CLIENTS clients were served"
# Proof that the test reached ban_after's burst of 20 refusals.
[ "$refusals" -gt 20 ] ||
    fail "only $refusals per_source refusals: the clients never went past ban_after (20/1m), so this run proves nothing"
ok "$refusals per_source refusals, no ban"
