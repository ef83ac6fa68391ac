#!/bin/bash
# Overload policy (DESIGN.md "Overload policy", keys per_source, rate,
# ban_factor, ban_time): a limit refuses the offending source group,
# never the service.  One source, 127.0.0.2, holds its per_source
# connections open and then floods the echo service from three parallel
# loops; meanwhile another source, 127.0.0.3, makes 30 ordinary
# connections and every one of them must be echoed: xinetd's cps and
# inetd -R disable a flooded service for everyone, which is what an
# attacker wants.  The flooder must be refused with reason=per_source,
# then reason=rate, banned at once when it goes above rate x ban_factor
# (action=ban reason=rate until=...Z), then refused with reason=banned;
# repeats are summarised with repeat=N instead of a line per connection,
# at most one line a second per reason however the reasons interleave.
# After ban_time (10s) the ban ends with action=unban and the flooder is
# served again.  Every connection attempt must be logged (DESIGN.md
# "Logging"), as a line of its own or in a repeat= count: after a last
# burst of refusals across a reload, and a stop right after it, the
# lines and counts for 127.0.0.2 must add up to the connections it made.
. "$(dirname "$0")/lib.sh"

conf=$T/flood.conf
cat >"$conf" <<EOF
stop_grace = 1s
ban_time   = 10s

service echo {
  protocol   = tcp
  address    = {127.0.0.1}
  port       = 7
  builtin    = echo
  per_source = 2
  rate       = 3/1s
  ban_factor = 2
  ban_after  = 100000/1m
}
EOF

FLOODER=127.0.0.2
GOOD=127.0.0.3

# echo_from SRC WORD: one connection from SRC sends WORD and must get
# it back.
echo_from()
{
	local got

	got=$(printf '%s\n' "$2" | timeout 5 socat -t3 - \
	    "TCP4:127.0.0.1:7,bind=$1" 2>/dev/null)
	[ "$got" = "$2" ]
}

start_daemon "$conf"
wait_listen 7 127.0.0.1 || fail "nothing listens on 127.0.0.1:7"
echo_from $GOOD warmup || fail "echo does not answer $GOOD"

# per_source: two connections of the flooder held open (socat reads
# until the server closes), the third is refused.
holders=()
for i in 1 2; do
	timeout 60 socat -u "TCP4:127.0.0.1:7,bind=$FLOODER" /dev/null \
	    2>/dev/null &
	holders+=($!)
	PIDS+=($!)
done
for i in $(seq 1 100); do
	[ "$(log_count "action=accept proto=tcp peer=$FLOODER:")" -ge 2 ] &&
	    break
	sleep 0.05
done
[ "$(log_count "action=accept proto=tcp peer=$FLOODER:")" -ge 2 ] ||
    fail "the two holding connections of $FLOODER were not accepted"
echo_from $FLOODER third &&
    fail "per_source = 2: a third connection from $FLOODER was served"
wait_log "^conn=[0-9]+ service=echo action=refuse proto=tcp peer=$FLOODER:[0-9]+ reason=per_source\$" ||
    fail "no 'conn=N service=echo action=refuse proto=tcp peer=$FLOODER:PORT reason=per_source' line"
echo_from $GOOD notlimited ||
    fail "$FLOODER holds its per_source connections: $GOOD must still be served"

# The good client: 20 connections, each at least 0.6s after the one
# before, below its rate of 3/1s however slow the machine; each must be
# echoed.  The rate and the flood threshold (rate x ban_factor, 6/1s)
# are low so that three loops of socat exceed it on any machine.
N=20
(
	for i in $(seq 1 $N); do
		sleep 0.6
		echo_from $GOOD "good$i" ||
		    echo "connection $i from $GOOD was not echoed" \
			>>"$T/failures"
		put "$T/progress" "$i"
	done
	: >"$T/gooddone"
) &
good=$!
PIDS+=("$good")

# The flood: three loops of at most 3000 connections each from the
# flooder, until told to stop.
flood_start=$(date +%s%N)
flooders=()
for f in 1 2 3; do
	(
		ok=0 bad=0
		for i in $(seq 1 3000); do
			[ -e "$T/stopflood" ] && break
			if timeout 3 socat -u /dev/null \
			    "TCP4:127.0.0.1:7,bind=$FLOODER" 2>/dev/null; then
				ok=$((ok + 1))
			else
				bad=$((bad + 1))
			fi
		done
		echo "$ok $bad" >"$T/flood.$f"
	) &
	flooders+=($!)
	PIDS+=($!)
done

wait_log "^action=ban peer=$FLOODER/32 reason=rate until=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\$" 15 ||
    fail "the flooder was not banned: no 'action=ban peer=$FLOODER/32 reason=rate until=YYYY-MM-DDTHH:MM:SSZ' line"
banned_at=$(date +%s)
until=$(field "$(grep -m 1 "^action=ban peer=$FLOODER/32 " "$LOG")" until)
until_s=$(date -u -d "${until%Z} UTC" +%s) ||
    fail "until=$until is not a date"
# The ban was logged before the test saw it: it ends within ban_time of
# that moment, never later.
[ "$until_s" -le $((banned_at + 11)) ] ||
    fail "the ban lasts until $until, more than ban_time (10s) after it was logged"

# The flood goes on into the ban for about 2s, while the good client
# runs, then stops, each loop after the attempt it is making (at most
# 3s): well before the ban ends, since a flood after it would start
# another one.
for i in $(seq 1 40); do
	[ -e "$T/gooddone" ] && break
	sleep 0.05
done
: >"$T/stopflood"
for p in "${flooders[@]}"; do
	wait_exit "$p" 10 || fail "a flood loop did not stop within 10s"
done
flood_s=$(( ($(date +%s%N) - flood_start) / 1000000000 + 1 ))
# How many refusal lines the flood wrote, of its own or as summaries.
flood_lines=$(grep -cE "action=refuse proto=tcp peer=($FLOODER:|$FLOODER/32 )" "$LOG")
echo_from $FLOODER whilebanned &&
    fail "$FLOODER was served while banned"
wait_log "^(conn=[0-9]+ service=echo action=refuse proto=tcp peer=$FLOODER:[0-9]+|service=echo action=refuse proto=tcp peer=$FLOODER/32) reason=banned( |\$)" ||
    fail "no refusal with reason=banned for $FLOODER"
[ "$(log_count '^action=ban ')" = 1 ] ||
    fail "one ban expected, the log has: $(grep '^action=ban ' "$LOG")"

# Let the good client finish (bounded).
for i in $(seq 1 300); do
	[ -e "$T/gooddone" ] && break
	sleep 0.1
done
[ -e "$T/gooddone" ] ||
    fail "the good client stopped at $(cat "$T/progress" 2>/dev/null || echo 0)/$N"
wait $good
[ -s "$T/failures" ] &&
    fail "$(wc -l <"$T/failures") of $N connections of $GOOD failed while $FLOODER flooded: $(head -n 5 "$T/failures")"
grep -q "action=refuse .*peer=${GOOD}[:/]" "$LOG" &&
    fail "$GOOD was refused: $(grep -m 3 "action=refuse .*peer=${GOOD}[:/]" "$LOG")"

# What the log must show of the flood.
wait_log "^conn=[0-9]+ service=echo action=refuse proto=tcp peer=$FLOODER:[0-9]+ reason=rate\$" ||
    fail "no 'conn=N service=echo action=refuse proto=tcp peer=$FLOODER:PORT reason=rate' line"
wait_log "^service=echo action=refuse proto=tcp peer=$FLOODER/32 reason=(rate|banned) repeat=[0-9]+\$" 3 ||
    fail "no summary 'service=echo action=refuse proto=tcp peer=$FLOODER/32 reason=rate|banned repeat=N'"
# However the reasons interleave (per_source, rate, banned), a source
# group gets at most one line a second per reason: the lines before the
# flood stopped are bounded by its duration, not by its connections.
# The bound holds on a slow machine and a fast one alike.
floods=$(log_count "action=refuse proto=tcp peer=$FLOODER:")
attempts=$(awk -v g=" action=refuse proto=tcp peer=$FLOODER/32 " 'index($0, g) {
    sub(/.* repeat=/, ""); n += $1 } END { print n + 0 }' "$LOG")
max_lines=$((3 * (flood_s + 2) + 1))
say "$floods refusal lines and $attempts summarised repeats for $FLOODER; $flood_lines refusal lines in the ${flood_s}s of the flood (at most $max_lines)"
[ "$flood_lines" -le "$max_lines" ] ||
    fail "repeats are not summarised: $flood_lines refusal lines for $FLOODER in ${flood_s}s of flood, more than one a second per reason ($max_lines)"

# The ban ends after ban_time, not before, and the flooder is served
# again once its held connections are gone.
for p in "${holders[@]}"; do
	kill -TERM "$p" 2>/dev/null
done
wait_log "^action=unban peer=$FLOODER/32\$" 20 ||
    fail "no 'action=unban peer=$FLOODER/32' line within 20s (ban_time = 10s)"
unbanned_at=$(date +%s)
# Not before its end (the log has whole seconds).
[ "$unbanned_at" -ge $((until_s - 1)) ] ||
    fail "the ban ended at $(date -u -d "@$unbanned_at" +%FT%TZ), before until=$until"
echo_from $FLOODER afterban ||
    fail "$FLOODER is not served after action=unban"
say "ban until $until, unban seen at $(date -u -d "@$unbanned_at" +%FT%TZ)"

# A last burst: two held connections, five refused, a reload, five
# more refused, and stop at once.
n=$(log_count "action=accept proto=tcp peer=$FLOODER:")
for i in 1 2; do
	timeout 60 socat -u "TCP4:127.0.0.1:7,bind=$FLOODER" /dev/null \
	    2>/dev/null &
	PIDS+=($!)
done
for i in $(seq 1 100); do
	[ "$(log_count "action=accept proto=tcp peer=$FLOODER:")" -ge $((n + 2)) ] &&
	    break
	sleep 0.05
done
[ "$(log_count "action=accept proto=tcp peer=$FLOODER:")" -ge $((n + 2)) ] ||
    fail "the two holding connections of the last burst were not accepted"
# burst WORD: five refused connections of the flooder.
burst()
{
	local i

	for i in 1 2 3 4 5; do
		echo_from $FLOODER "$1$i" &&
		    fail "per_source = 2: a third connection from $FLOODER was served"
	done
}
burst before-reload
kill -HUP "$MONPID"
wait_log '^action=reload generation=2 ' 10 ||
    fail "no 'action=reload generation=2' line after SIGHUP"
burst after-reload
stop_daemon

# Every attempt of the flooder is in the log: 2 + 1 before the flood,
# the flood, 1 while banned, 1 after, 2 + 5 + 5 in the last burst.
read -r fok fbad < <(cat "$T"/flood.* | awk '{ a += $1; b += $2 } END { print a + 0, b + 0 }')
made=$((2 + 1 + fok + 1 + 1 + 2 + 5 + 5))
logged=$(awk -v p="peer=$FLOODER:" -v g="peer=$FLOODER/32" '
	index($0, " action=accept ") && index($0, p) { n++ }
	index($0, " action=refuse proto=tcp ") && index($0, p) { n++ }
	$1 == "service=echo" && index($0, " action=refuse proto=tcp " g " ") {
		sub(/.* repeat=/, ""); n += $1
	}
	END { print n + 0 }' "$LOG")
say "$FLOODER made $made connections (and $fbad flood attempts failed), the log accounts for $logged"
[ "$logged" -ge "$made" ] && [ "$logged" -le $((made + fbad)) ] ||
    fail "$FLOODER made $made connections (+ $fbad failed attempts), the log accounts for $logged (accept and refuse lines, repeat= counts): $((made - logged)) attempts never logged (refusals counted for a summary when the daemon reloaded or stopped?)"

ok
