#!/bin/bash
# A gate (DESIGN.md key gate; portmux.conf(5) "Knocking"): a service with
# a knock and gate = {2222}, and neither server nor builtin, opens TCP
# port 2222 of this host, served by another daemon (socat here), in the
# kernel firewall to a source that knocked, for knock_open, with no
# shell command in between.  Before the knock and after the window the
# port is dropped for that source; a connection opened in the window
# survives its end.  The knock comes from 127.0.0.5: a local route in
# the test's own namespace makes the kernel pick that source for the
# knock client, which has no option to choose it.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd knock
need_cmd nft
need_cmd socat

nft list tables >/dev/null 2>&1 || skip "nf_tables is not available here"
ip route add local 127.0.0.5/32 dev lo src 127.0.0.5 table local ||
    fail "cannot add the local route for 127.0.0.5"

socat TCP4-LISTEN:2222,reuseaddr,fork EXEC:cat >/dev/null 2>&1 &
PIDS+=("$!")
wait_listen 2222 || fail "the socat listener did not start"

# reach SRC: a line sent from SRC to port 2222 comes back.
reach()
{
	local out

	out=$(printf 'gate\n' | timeout 3 socat -t1 - \
	    "TCP4:127.0.0.1:2222,bind=$1,connect-timeout=1" 2>/dev/null)
	[ "$out" = gate ]
}

conf=$T/gate.conf
cat >"$conf" <<EOF
stop_grace = 1s
firewall   = nftables

service ssh-gate {
  knock      = {"tcp:7101", "udp:7102"}
  knock_open = 3s
  gate       = {2222}
}
EOF
start_daemon "$conf"
for i in $(seq 1 50); do
	nft list set inet portmux gateports 2>/dev/null | grep -q 2222 && break
	sleep 0.1
done
nft list set inet portmux gateports 2>/dev/null | grep -q 2222 ||
    fail "port 2222 is not gated: $(nft list table inet portmux 2>&1)"
[ -z "$(ss -Hltnu '( sport = :7101 or sport = :7102 )')" ] ||
    fail "a knock port is bound"

reach 127.0.0.5 && fail "127.0.0.5 reaches the gated port before knocking"
knock 127.0.0.5 7101:tcp 7102:udp >/dev/null || fail "knock failed"
wait_log "service=ssh-gate action=knock peer=127.0.0.5/32 open=3s" ||
    fail "the knock did not open the gate"
for i in $(seq 1 30); do reach 127.0.0.5 && break; sleep 0.1; done
reach 127.0.0.5 || fail "127.0.0.5 cannot reach the gated port after its knock"
reach 127.0.0.6 && fail "127.0.0.6, which did not knock, reaches the gated port"

# A connection opened in the window outlives it.
coproc HELD { socat - TCP4:127.0.0.1:2222,bind=127.0.0.5 2>/dev/null; }
PIDS+=("$HELD_PID")
echo first >&"${HELD[1]}"
read -r -t 5 line <&"${HELD[0]}" || fail "no echo on the held connection"

# The window closes: new connections from 127.0.0.5 are dropped again.
for i in $(seq 1 100); do reach 127.0.0.5 || break; sleep 0.1; done
reach 127.0.0.5 && fail "the gate did not close within 10s+"
echo second >&"${HELD[1]}"
read -r -t 5 line <&"${HELD[0]}" || fail "the held connection was cut when the gate closed"
[ "$line" = second ] || fail "held connection echoed '$line'"
ok
