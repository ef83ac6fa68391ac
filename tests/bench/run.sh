#!/bin/bash
# The benchmark runner (tests/bench/README), what `make bench' runs:
#
#   run.sh [--install] [--quick] [--out DIR]
#
# It serves the same services under portmuxd, the peers (xinetd, OpenBSD
# inetd, GNU inetutils inetd, tcpserver) and two ceilings built here
# (ceilings.c: a bare accept-fork-exec loop and a bare epoll server),
# then forwards TCP through portmuxd's redirect and through rinetd,
# socat, haproxy and systemd-socket-proxyd to a sink and an echo
# (ceilings.c again), drives each with loadgen.c, and writes
# DIR/latest.md, latest.csv, exec.png and redirect.png (default DIR:
# tests/bench/results in the source tree).
#
#   --install  as root, first fetch what is missing: the three inetds
#              conflict as Debian packages, so they are downloaded with
#              apt-get download and unpacked, each into its own directory
#              under $BENCH_CACHE (default /var/tmp/portmuxd-bench);
#              ucspi-tcp, rinetd, socat, haproxy, gnuplot-nox and the
#              inetds' libraries are installed normally, with a
#              policy-rc.d that starts nothing.
#   --quick    a smoke run of under 3 minutes (also BENCH_QUICK=1).
#
# BENCH_ONLY=redirect runs the ceilings and the redirect scenario alone
# (for work on it; its results are then those of that scenario only).
#
# Everything runs as root inside a private network namespace holding
# only `lo' (the script re-executes itself under unshare --net, with a
# PID namespace of its own so that nothing it started can outlive it),
# so no packet leaves the machine and no DNS lookup can wait on the
# network.
# Every server gets its own loopback address and the same minimal
# environment (env -i PATH=...): a locale variable alone makes each
# exec'd program load locale files.  Every load run is bounded in time
# and count, and every process is stopped by PID.

[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

set -u

PATH_MIN=/usr/sbin:/usr/bin:/sbin:/bin
POLICY=/usr/sbin/policy-rc.d
NS_MARK=PORTMUXD_BENCH_NS

say()
{
	printf 'bench: %s\n' "$*" >&2
}

die()
{
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

usage()
{
	echo "usage: $0 [--install] [--quick] [--out DIR]" >&2
	exit 64
}

install=0
quick=${BENCH_QUICK:-0}
BENCH_ONLY=${BENCH_ONLY:-}
case "$BENCH_ONLY" in
"" | redirect) ;;
*) echo "$0: BENCH_ONLY is empty or redirect" >&2; exit 64 ;;
esac
out=
args=("$@")
while [ $# -gt 0 ]; do
	case "$1" in
	--install) install=1 ;;
	--quick) quick=1 ;;
	--out)
		[ $# -ge 2 ] || usage
		out=$2
		shift
		;;
	--out=*) out=${1#--out=} ;;
	-h | --help) usage ;;
	*) usage ;;
	esac
	shift
done
[ "$quick" = 1 ] || quick=0

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
CACHE=${BENCH_CACHE:-/var/tmp/portmuxd-bench}
PEERS=$CACHE/peers
RESULTS=${out:-$top_srcdir/tests/bench/results}
PORTMUXD=$top_builddir/src/portmuxd

[ "$(id -u)" = 0 ] ||
    die "run me as root: the servers drop to nobody and _portmuxd, and the" \
	"runner needs its own network namespace"
[ -x "$PORTMUXD" ] || die "$PORTMUXD is not built (run make first)"

# --- installing the peers (outside the namespace: it needs the network) ---

POLICY_BACKUP=
restore_policy()
{
	if [ -n "$POLICY_BACKUP" ]; then
		mv -f "$POLICY_BACKUP" "$POLICY"
		POLICY_BACKUP=
	else
		rm -f "$POLICY"
	fi
}

missing_packages()
{
	local p st

	for p in "$@"; do
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) ||
		    st=
		[ "$st" = installed ] || echo "$p"
	done
}

install_peers()
{
	local missing p deb

	if ! command -v apt-get >/dev/null 2>&1 ||
	    ! command -v dpkg-deb >/dev/null 2>&1; then
		die "--install needs apt-get and dpkg-deb"
	fi
	if ! getent passwd _portmuxd >/dev/null; then
		say "creating the system account _portmuxd"
		useradd --system --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin _portmuxd ||
		    die "useradd _portmuxd failed"
	fi
	say "apt-get update"
	apt-get update >/dev/null || die "apt-get update failed"

	# Normal installs: tcpserver, the relays of the redirect scenario
	# (rinetd, socat, haproxy: their daemons are kept from starting),
	# gnuplot and the inetds' libraries.
	missing=$(missing_packages ucspi-tcp rinetd socat haproxy gnuplot-nox \
	    libwrap0 libtirpc3 libbsd0 libevent-2.1-7 libselinux1 \
	    libsystemd0 | tr '\n' ' ')
	if [ -n "${missing// /}" ]; then
		if [ -e "$POLICY" ] || [ -L "$POLICY" ]; then
			POLICY_BACKUP=$(mktemp "$POLICY.bench.XXXXXX")
			mv -f "$POLICY" "$POLICY_BACKUP"
		fi
		trap restore_policy EXIT
		trap 'exit 130' INT TERM HUP
		printf '#!/bin/sh\n# tests/bench/run.sh: start no daemon\nexit 101\n' \
		    >"$POLICY"
		chmod 755 "$POLICY"
		say "installing: $missing"
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive apt-get install -y \
		    --no-install-recommends $missing >/dev/null ||
		    say "apt-get install failed: some peers will be skipped"
		restore_policy
		trap - EXIT INT TERM HUP
	fi

	# The inetds conflict with each other: unpack, never install.
	mkdir -p "$CACHE/debs" "$PEERS" || die "cannot create $CACHE"
	for p in xinetd openbsd-inetd inetutils-inetd; do
		rm -f "$CACHE/debs/${p}_"*.deb
		if ! (cd "$CACHE/debs" &&
		    apt-get download "$p" >/dev/null 2>&1); then
			say "apt-get download $p failed: skipping it"
			continue
		fi
		deb=$(find "$CACHE/debs" -name "${p}_*.deb" | head -n 1)
		[ -n "$deb" ] || continue
		rm -rf "${PEERS:?}/$p"
		mkdir -p "$PEERS/$p"
		dpkg-deb -x "$deb" "$PEERS/$p" ||
		    die "dpkg-deb -x $deb failed"
		dpkg-deb -f "$deb" Version >"$PEERS/$p/VERSION"
		say "unpacked $p $(cat "$PEERS/$p/VERSION") in $PEERS/$p"
	done
}

# --- into the namespace -----------------------------------------------

if [ "${!NS_MARK:-}" != 1 ]; then
	[ $install = 1 ] && install_peers
	command -v unshare >/dev/null 2>&1 || die "unshare (util-linux) needed"
	command -v ip >/dev/null 2>&1 || die "ip (iproute2) needed"
	export "$NS_MARK=1"
	# A PID namespace too: this script is its init, so whatever a
	# server leaves behind (a daemonized inetd) dies with the run.
	exec unshare --net --pid --fork --mount-proc -- \
	    bash "$0" ${args[@]+"${args[@]}"}
fi

# Inside: lo only, up.  Anything else means we are not where we think.
[ "$(ip -o link show | wc -l)" = 1 ] ||
    die "not in a private network namespace: refusing to run"
ip link set lo up || die "ip link set lo up failed"
# Per-namespace settings: room for the ephemeral ports of a closed loop
# (the servers listen below 10000), TIME_WAIT reuse on loopback, and a
# SYN queue as deep as somaxconn.
sysctl -qw net.ipv4.ip_local_port_range="10000 65535" \
    net.ipv4.tcp_tw_reuse=1 net.core.somaxconn=4096 \
    net.ipv4.tcp_max_syn_backlog=4096 2>/dev/null ||
    say "could not tune the namespace's sysctls (results may suffer)"

WORK=$(mktemp -d /tmp/portmuxd-bench.XXXXXX) || die "mktemp failed"
chmod 755 "$WORK"
RAW=$WORK/raw.txt
: >"$RAW"
NOTES=$WORK/notes.txt
: >"$NOTES"
T0=$(date +%s)

declare -A SPID		# server -> PID of its main process
declare -A SPID2	# server -> a second process of its own, if any
declare -A SBASE	# server -> processes of its own when idle
declare -A SADDR	# server -> loopback address
declare -A SLOG		# server -> log file
declare -A SVER		# server -> version string
declare -A RSS_START	# server -> KiB right after start
declare -A PROC_START	# portmuxd -> engine and monitor KiB at start
ALL_PIDS=()		# everything started here, by PID

note()
{
	say "note: $*"
	echo "$*" >>"$NOTES"
}

proc_alive()
{
	local state

	[ -n "${1:-}" ] || return 1
	state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" \
	    2>/dev/null) || return 1
	case "$state" in
	"" | Z | X | x) return 1 ;;
	esac
	return 0
}

descendants()
{
	local p c

	for p in "$@"; do
		for c in $(pgrep -P "$p" 2>/dev/null); do
			echo "$c"
			descendants "$c"
		done
	done
}

# Stop one process we started and what it started, by PID.
stop_tree()
{
	local root=$1 all p alive

	all=$(descendants "$root")
	kill -TERM "$root" 2>/dev/null
	for _ in $(seq 1 50); do
		alive=0
		for p in "$root" $all; do
			proc_alive "$p" && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "$root" $all; do
		proc_alive "$p" && kill -KILL "$p" 2>/dev/null
	done
	wait "$root" 2>/dev/null
	return 0
}

cleanup()
{
	local rc=$? p

	trap - EXIT INT TERM
	for p in ${ALL_PIDS[@]+"${ALL_PIDS[@]}"}; do
		proc_alive "$p" && stop_tree "$p"
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		say "keeping $WORK"
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the tools ---------------------------------------------------------

command -v cc >/dev/null 2>&1 || die "cc not found (build-essential)"
cc -O2 -Wall -o "$WORK/loadgen" "$here/loadgen.c" ||
    die "cannot build loadgen.c"
cc -O2 -Wall -o "$WORK/ceilings" "$here/ceilings.c" ||
    die "cannot build ceilings.c"
LOADGEN=$WORK/loadgen

if [ "$quick" = 1 ]; then
	DUR=1
	REP=1
	REP_DUR=1
	EXEC_CONC="1 16"
	BUILTIN_CONC="16 256"
	HOLD_N=1000
	WARMUP=0
	RDR_BULK_CONC="1 16"
	RDR_SHORT_CONC="16 64"
else
	DUR=${BENCH_SECONDS:-3}
	# Throughput is measured in REP interleaved rounds over the servers
	# and reported by the median run: the box may be shared.
	REP=${BENCH_REPEAT:-3}
	REP_DUR=${BENCH_SECONDS:-2}
	EXEC_CONC="1 16 64"
	BUILTIN_CONC="1 16 64 256"
	HOLD_N=10000
	WARMUP=1
	RDR_BULK_CONC="1 16"
	RDR_SHORT_CONC="16 64"
fi
RDR_SIZE=1024		# redirect-short: bytes each way
HOLD_FORK_N=200		# peers that fork per connection
HOLD_DUR=3		# seconds held, time enough to sample
UDP_CONC=16

# Sum of VmRSS (KiB) over the given PIDs.
rss_of()
{
	local p sum=0 v

	for p in "$@"; do
		v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" \
		    2>/dev/null)
		sum=$((sum + ${v:-0}))
	done
	echo $sum
}

# tree_pids ROOT [pmx]: ROOT and all its descendants, from one ps
# snapshot, so that it is quick and consistent even with hundreds of
# forked children.  With pmx, only ROOT (the portmuxd monitor) and its
# engine: not the programs it exec'd.
tree_pids()
{
	ps -e -o pid=,ppid=,comm= | awk -v root="$1" -v pmx="${2:-}" '
	{ pp[$1] = $2; comm[$1] = $3 }
	END {
		for (p in pp) {
			if (pmx != "") {
				in_ = p == root || (pp[p] == root &&
				    comm[p] == "portmuxd-engine")
			} else {
				in_ = 0
				for (q = p; q > 1; q = (q in pp) ? pp[q] : 0)
					if (q == root) {
						in_ = 1
						break
					}
			}
			if (in_)
				print p
		}
	}'
}

# tree_stat ROOT [pmx]: "COUNT RSS_KIB" of tree_pids.
tree_stat()
{
	# shellcheck disable=SC2046
	set -- $(tree_pids "$@")
	echo $# "$(rss_of "$@")"
}

# Sum of Pss (KiB): shared pages divided among the processes sharing
# them, the fair measure for a daemon and its forked children.
pss_of()
{
	local p f=()

	for p in "$@"; do
		f+=("/proc/$p/smaps_rollup")
	done
	[ ${#f[@]} -gt 0 ] || {
		echo 0
		return
	}
	cat "${f[@]}" 2>/dev/null | awk '/^Pss:/ { s += $2 }
	    END { print s + 0 }'
}

# The memory of a server: portmuxd's monitor and engine, or a peer and
# every process it forked.
daemon_rss()
{
	local s=$1

	case "$s" in
	portmuxd*) tree_stat "${SPID[$s]}" pmx | awk '{ print $2 }' ;;
	*) tree_stat "${SPID[$s]}" | awk '{ print $2 }' ;;
	esac
}

daemon_pss()
{
	local s=$1

	# shellcheck disable=SC2046
	case "$s" in
	portmuxd*) pss_of $(tree_pids "${SPID[$s]}" pmx) ;;
	*) pss_of $(tree_pids "${SPID[$s]}") ;;
	esac
}

# Wait (at most 10s) until the server has nothing running but itself:
# the exec'd programs of the last run have exited.
settle()
{
	local s=$1 n

	for _ in $(seq 1 100); do
		n=$(tree_stat "${SPID[$s]}" | awk '{ print $1 }')
		[ -n "${SPID2[$s]:-}" ] &&
		    n=$((n + $(tree_stat "${SPID2[$s]}" | awk '{ print $1 }')))
		[ "$n" -le "${SBASE[$s]}" ] && return 0
		sleep 0.1
	done
	note "$s: $((n - SBASE[$s])) children still running 10s after a run"
}

# wait_tcp ADDR PORT: until something listens there (at most 10s).
wait_tcp()
{
	for _ in $(seq 1 100); do
		ss -ltnH "( sport = :$2 )" 2>/dev/null | awk -v a="$1:$2" \
		    '$4 == a { f = 1 } END { exit !f }' && return 0
		sleep 0.1
	done
	return 1
}

# started NAME PID ADDR PORT BASE: record a server and wait for it.
started()
{
	local s=$1 pid=$2 addr=$3 port=$4 base=$5

	ALL_PIDS+=("$pid")
	SPID[$s]=$pid
	SADDR[$s]=$addr
	if ! wait_tcp "$addr" "$port" || ! proc_alive "$pid"; then
		note "$s did not start; skipped (log: $(tail -n 3 \
		    "${SLOG[$s]}" 2>/dev/null | tr '\n' ' '))"
		proc_alive "$pid" && stop_tree "$pid"
		unset "SPID[$s]"
		return 1
	fi
	sleep 0.2
	SBASE[$s]=$base
	[ "$s" = portmuxd ] || [ "$s" = portmuxd-defaults ] ||
	    SBASE[$s]=$(tree_stat "$pid" | awk '{ print $1 }')
	RSS_START[$s]=$(daemon_rss "$s")
	case "$s" in
	portmuxd*)
		PROC_START[$s]="engine_start_kib=$(rss_of "$(pgrep -P "$pid" \
		    -x portmuxd-engine)") monitor_start_kib=$(rss_of "$pid")"
		;;
	esac
	return 0
}

# --- the servers ---------------------------------------------------------
#
# Address plan: one loopback address per server, the same ports
# everywhere (cat 5001, echo 5007 tcp and udp, daytime 5013), except
# that both inetds find their builtins by service name, so those sit on
# 7 and 13.  The *-defaults variants run on 127.0.1.x with the peer's
# default rate limits, for the one row that shows their effect.

start_portmuxd()
{
	local s=$1 addr=$2 limits=$3 conf=$WORK/$1.conf

	{
		echo "log = stderr"
		echo "log_level = info"
		echo "stop_grace = 1s"
		[ "$limits" = lifted ] && echo "max_children = unlimited"
		echo "defaults {"
		echo "	protocol = tcp"
		echo "	address  = {$addr}"
		if [ "$limits" = lifted ]; then
			echo "	instances  = unlimited"
			echo "	per_source = unlimited"
		fi
		echo "}"
		echo "service cat {"
		echo "	port   = 5001"
		echo "	server = /bin/cat"
		echo "}"
		echo "service echo {"
		echo "	port    = 5007"
		echo "	builtin = echo"
		echo "}"
		echo "service daytime {"
		echo "	port    = 5013"
		echo "	builtin = daytime"
		echo "}"
		echo "service echo-udp {"
		echo "	protocol = udp"
		echo "	port     = 5007"
		echo "	builtin  = echo"
		[ "$limits" = lifted ] && echo "	udp_reply_rate = unlimited"
		echo "}"
	} >"$conf"
	getent passwd _portmuxd >/dev/null ||
	    die "no _portmuxd account: run with --install, or useradd" \
		"--system --no-create-home --home-dir /nonexistent" \
		"--shell /usr/sbin/nologin _portmuxd"
	SLOG[$s]=$WORK/$s.log
	env -i PATH=$PATH_MIN "$PORTMUXD" -F -f "$conf" \
	    >"${SLOG[$s]}" 2>&1 &
	SVER[$s]=$("$PORTMUXD" -V 2>&1 | head -n 1)
	started "$s" $! "$addr" 5001 2
}

start_ceilings()
{
	local c=$WORK/ceilings

	SLOG[ceiling-fork]=$WORK/ceiling-fork.log
	env -i PATH=$PATH_MIN "$c" fork -a 127.0.0.2 -p 5001 -u nobody \
	    -- /bin/cat >"${SLOG[ceiling-fork]}" 2>&1 &
	SVER[ceiling-fork]="ceilings.c fork"
	started ceiling-fork $! 127.0.0.2 5001 1
	SLOG[ceiling-epoll]=$WORK/ceiling-epoll.log
	env -i PATH=$PATH_MIN "$c" epoll -a 127.0.0.2 -e 5007 -t 5013 \
	    -U 5007 >"${SLOG[ceiling-epoll]}" 2>&1 &
	SVER[ceiling-epoll]="ceilings.c epoll"
	started ceiling-epoll $! 127.0.0.2 5007 1
}

peer_version()
{
	if [ -f "$PEERS/$1/VERSION" ]; then
		cat "$PEERS/$1/VERSION"
	else
		dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"
	fi
}

start_xinetd()
{
	local s=$1 addr=$2 limits=$3 bin conf=$WORK/$1.conf

	bin=$PEERS/xinetd/usr/sbin/xinetd
	[ -x "$bin" ] || bin=$(command -v xinetd 2>/dev/null)
	if [ -z "$bin" ]; then
		note "xinetd is not available (run with --install): skipped"
		return 1
	fi
	SLOG[$s]=$WORK/$s.log
	{
		echo "defaults"
		echo "{"
		# Logging like portmuxd's info level: start and exit of each.
		echo "	log_type       = FILE $WORK/$s.svc.log"
		echo "	log_on_success = PID HOST EXIT DURATION"
		echo "	log_on_failure = HOST"
		if [ "$limits" = lifted ]; then
			# cps = 0 switches the rate check off (access.c).
			echo "	cps        = 0 0"
			echo "	instances  = UNLIMITED"
			echo "	per_source = UNLIMITED"
		fi
		echo "}"
		printf 'service cat\n{\n\ttype = UNLISTED\n'
		printf '\tsocket_type = stream\n\tprotocol = tcp\n\twait = no\n'
		printf '\tuser = nobody\n\tbind = %s\n\tport = 5001\n' "$addr"
		printf '\tserver = /bin/cat\n}\n'
		printf 'service echo\n{\n\ttype = INTERNAL UNLISTED\n'
		printf '\tid = echo-stream\n\tsocket_type = stream\n'
		printf '\tprotocol = tcp\n\twait = no\n\tuser = nobody\n'
		printf '\tbind = %s\n\tport = 5007\n}\n' "$addr"
		printf 'service daytime\n{\n\ttype = INTERNAL UNLISTED\n'
		printf '\tid = daytime-stream\n\tsocket_type = stream\n'
		printf '\tprotocol = tcp\n\twait = no\n\tuser = nobody\n'
		printf '\tbind = %s\n\tport = 5013\n}\n' "$addr"
		printf 'service echo\n{\n\ttype = INTERNAL UNLISTED\n'
		printf '\tid = echo-dgram\n\tsocket_type = dgram\n'
		printf '\tprotocol = udp\n\twait = yes\n\tuser = nobody\n'
		printf '\tbind = %s\n\tport = 5007\n}\n' "$addr"
	} >"$conf"
	env -i PATH=$PATH_MIN "$bin" -dontfork -f "$conf" \
	    -pidfile "$WORK/$s.pid" >"${SLOG[$s]}" 2>&1 &
	SVER[$s]="xinetd $(peer_version xinetd)"
	started "$s" $! "$addr" 5001 1
}

# obsd|gnu NAME ADDR lifted|default
start_inetd()
{
	local kind=$1 s=$2 addr=$3 limits=$4 bin conf=$WORK/$2.conf pid
	local pkg

	case $kind in
	obsd)
		pkg=openbsd-inetd
		bin=$PEERS/$pkg/usr/sbin/inetd
		;;
	gnu)
		pkg=inetutils-inetd
		bin=$PEERS/$pkg/usr/sbin/inetutils-inetd
		;;
	esac
	if [ ! -x "$bin" ]; then
		note "$pkg is not available (run with --install): skipped"
		return 1
	fi
	{
		printf '%s:5001\tstream\ttcp\tnowait\tnobody\t/bin/cat\tcat\n' \
		    "$addr"
		printf '%s:echo\tstream\ttcp\tnowait\tnobody\tinternal\n' \
		    "$addr"
		printf '%s:daytime\tstream\ttcp\tnowait\tnobody\tinternal\n' \
		    "$addr"
		printf '%s:echo\tdgram\tudp\twait\tnobody\tinternal\n' "$addr"
	} >"$conf"
	SLOG[$s]=$WORK/$s.log
	SVER[$s]="$pkg $(peer_version $pkg)"
	if [ "$kind" = obsd ]; then
		if [ "$limits" = lifted ]; then
			env -i PATH=$PATH_MIN "$bin" -i -R 1000000000 \
			    -q 1024 "$conf" >"${SLOG[$s]}" 2>&1 &
		else
			env -i PATH=$PATH_MIN "$bin" -i "$conf" \
			    >"${SLOG[$s]}" 2>&1 &
		fi
		started "$s" $! "$addr" 5001 1
		return
	fi
	# inetutils inetd has no foreground mode but -d, which traces
	# every connection: let it daemonize and take its PID from the
	# pidfile.
	rm -f "$WORK/$s.pid"
	if [ "$limits" = lifted ]; then
		env -i PATH=$PATH_MIN "$bin" -R 1000000000 \
		    --pidfile="$WORK/$s.pid" "$conf" >"${SLOG[$s]}" 2>&1
	else
		env -i PATH=$PATH_MIN "$bin" --pidfile="$WORK/$s.pid" \
		    "$conf" >"${SLOG[$s]}" 2>&1
	fi
	pid=
	for _ in $(seq 1 50); do
		pid=$(cat "$WORK/$s.pid" 2>/dev/null)
		[ -n "$pid" ] && break
		sleep 0.1
	done
	if [ -z "$pid" ]; then
		note "$s wrote no pidfile: skipped"
		return 1
	fi
	started "$s" "$pid" "$addr" 5001 1
}

start_tcpserver()
{
	local s=$1 addr=$2 limits=$3 bin

	bin=$(command -v tcpserver 2>/dev/null)
	if [ -z "$bin" ]; then
		note "tcpserver (ucspi-tcp) is not installed: skipped"
		return 1
	fi
	SLOG[$s]=$WORK/$s.log
	SVER[$s]="ucspi-tcp $(peer_version ucspi-tcp)"
	# -v logs each connection (like portmuxd's info level); -H -R -l0:
	# no DNS and no ident lookups.  -c/-b lift the limit of 40
	# concurrent connections and the backlog of 20.
	if [ "$limits" = lifted ]; then
		env -i PATH=$PATH_MIN "$bin" -v -HR -l 0 -c 1000000 -b 1024 \
		    -u 65534 -g 65534 "$addr" 5001 /bin/cat \
		    >"${SLOG[$s]}" 2>&1 &
	else
		env -i PATH=$PATH_MIN "$bin" -v -HR -l 0 -u 65534 -g 65534 \
		    "$addr" 5001 /bin/cat >"${SLOG[$s]}" 2>&1 &
	fi
	started "$s" $! "$addr" 5001 1
}

# --- the relays of the redirect scenario ------------------------------
#
# Each relay forwards port 5080 to the echo of ceilings epoll
# (127.0.0.2:5007) and port 5090 to ceilings sink (127.0.0.2:5009, its
# counters on 5010), on an address of its own:
#
#   127.0.0.1   portmuxd (a fresh instance: only the two redirects)
#   127.0.0.7   rinetd          127.0.0.8   socat (one per port)
#   127.0.0.9   haproxy         127.0.0.10  systemd-socket-proxyd
#
# "direct" is no relay at all: loadgen talks to the backends.

# RDR_NOFILE: the descriptor limit the relays run with.  Ten thousand
# relayed connections need two sockets each (socket-proxyd: two pipes
# more), so the hard limit is raised when we may (CAP_SYS_RESOURCE);
# where we may not, the held counts are cut to what fits (rdr_hold_n).
rdr_nofile()
{
	local want=$((6 * HOLD_N + 4096)) got

	got=$( (ulimit -Hn "$want" 2>/dev/null; ulimit -Hn) )
	case "$got" in
	unlimited) got=$want ;;
	"" | *[!0-9]*) got=1024 ;;
	esac
	[ "$got" -gt "$want" ] && got=$want
	echo "$got"
}

# rdr_hold_n FDS_PER_CONN: HOLD_N, or the most (in thousands, at least
# 100) that fits in RDR_NOFILE with 1024 descriptors to spare.
rdr_hold_n()
{
	local n=$(((RDR_NOFILE - 1024) / $1))

	if [ "$n" -ge "$HOLD_N" ]; then
		echo "$HOLD_N"
		return
	fi
	[ "$n" -ge 1000 ] && n=$((n / 1000 * 1000))
	[ "$n" -lt 100 ] && n=100
	echo "$n"
}

# rdr_run CMD...: run CMD (exec'd, so the PID is $!) with the relays'
# descriptor limit, soft and hard, and the minimal environment.
rdr_run()
{
	ulimit -Hn "$RDR_NOFILE" 2>/dev/null
	ulimit -Sn "$RDR_NOFILE" 2>/dev/null || ulimit -Sn "$(ulimit -Hn)"
	exec env -i PATH=$PATH_MIN "$@"
}

# started2 NAME PID ADDR PORT: a second process of server NAME (the
# listener of its other port), counted with it when settling.
started2()
{
	local s=$1 pid=$2 addr=$3 port=$4

	ALL_PIDS+=("$pid")
	if ! wait_tcp "$addr" "$port" || ! proc_alive "$pid"; then
		note "$s did not start on $addr:$port; skipped (log: $(tail \
		    -n 3 "${SLOG[$s]}" 2>/dev/null | tr '\n' ' '))"
		stop_tree "$pid"
		[ -n "${SPID[$s]:-}" ] && stop_tree "${SPID[$s]}"
		unset "SPID[$s]"
		return 1
	fi
	SPID2[$s]=$pid
	SBASE[$s]=$((SBASE[$s] + $(tree_stat "$pid" | awk '{ print $1 }')))
	return 0
}

start_backends()
{
	local c=$WORK/ceilings

	SLOG[direct]=$WORK/sink.log
	# The sink is "direct"'s process; the echo is ceiling-epoll's.
	(rdr_run "$c" sink -a 127.0.0.2 -p 5009 -k 5010) \
	    >"${SLOG[direct]}" 2>&1 &
	SVER[direct]="no relay: ceilings.c sink and epoll echo"
	started direct $! 127.0.0.2 5009 1 || return 1
	wait_tcp 127.0.0.2 5010
}

start_portmuxd_redirect()
{
	local s=portmuxd addr=127.0.0.1 conf=$WORK/portmuxd-redirect.conf

	{
		echo "log = stderr"
		echo "log_level = info"
		echo "stop_grace = 1s"
		echo "max_children = unlimited"
		echo "defaults {"
		echo "	protocol   = tcp"
		echo "	address    = {$addr}"
		echo "	instances  = unlimited"
		echo "	per_source = unlimited"
		echo "}"
		echo "service fwd-echo {"
		echo "	port     = 5080"
		echo "	redirect = \"127.0.0.2:5007\""
		echo "}"
		echo "service fwd-sink {"
		echo "	port     = 5090"
		echo "	redirect = \"127.0.0.2:5009\""
		echo "}"
	} >"$conf"
	SLOG[$s]=$WORK/portmuxd-redirect.log
	(rdr_run "$PORTMUXD" -F -f "$conf") >"${SLOG[$s]}" 2>&1 &
	SVER[$s]=$("$PORTMUXD" -V 2>&1 | head -n 1)
	started "$s" $! "$addr" 5080 2 && wait_tcp "$addr" 5090
}

start_rinetd()
{
	local s=rinetd addr=127.0.0.7 bin conf=$WORK/rinetd.conf

	bin=$(command -v rinetd 2>/dev/null)
	if [ -z "$bin" ]; then
		note "rinetd is not installed (run with --install): skipped"
		return 1
	fi
	{
		# Two lines per connection (opened, done), like portmuxd.
		echo "logfile $WORK/rinetd.svc.log"
		echo "$addr 5080 127.0.0.2 5007"
		echo "$addr 5090 127.0.0.2 5009"
	} >"$conf"
	SLOG[$s]=$WORK/rinetd.log
	SVER[$s]="rinetd $(peer_version rinetd)"
	(rdr_run "$bin" -f -c "$conf") >"${SLOG[$s]}" 2>&1 &
	started "$s" $! "$addr" 5080 1 && wait_tcp "$addr" 5090
}

start_socat()
{
	local s=socat addr=127.0.0.8 bin

	bin=$(command -v socat 2>/dev/null)
	if [ -z "$bin" ]; then
		note "socat is not installed (run with --install): skipped"
		return 1
	fi
	SLOG[$s]=$WORK/socat.log
	SVER[$s]="socat $(peer_version socat)"
	# One listener per port, forking a process per connection; no log.
	(rdr_run "$bin" "TCP-LISTEN:5080,bind=$addr,reuseaddr,fork,backlog=1024" \
	    TCP:127.0.0.2:5007) >"${SLOG[$s]}" 2>&1 &
	started "$s" $! "$addr" 5080 1 || return 1
	(rdr_run "$bin" "TCP-LISTEN:5090,bind=$addr,reuseaddr,fork,backlog=1024" \
	    TCP:127.0.0.2:5009) >>"${SLOG[$s]}" 2>&1 &
	started2 "$s" $! "$addr" 5090
}

start_haproxy()
{
	local s=haproxy addr=127.0.0.9 bin conf=$WORK/haproxy.cfg maxconn

	bin=$(command -v haproxy 2>/dev/null)
	if [ -z "$bin" ]; then
		note "haproxy is not installed (run with --install): skipped"
		return 1
	fi
	# Room for every held connection; haproxy wants 2 descriptors per
	# connection and 2 per pipe, and refuses to start if they do not fit.
	maxconn=$(($(rdr_hold_n 2) + 256))
	{
		echo "global"
		echo "	maxconn $maxconn"
		echo "	maxpipes 256"
		# One thread, like portmuxd's engine: see the README.
		echo "	nbthread 1"
		# One line per connection, on stderr, to a file.
		echo "	log stderr format raw local0 info"
		echo "defaults"
		echo "	mode tcp"
		echo "	log global"
		echo "	option tcplog"
		echo "	option splice-auto"
		echo "	maxconn $maxconn"
		echo "	timeout connect 5s"
		echo "	timeout client 5m"
		echo "	timeout server 5m"
		echo "frontend fwd-echo"
		echo "	bind $addr:5080"
		echo "	default_backend echo"
		echo "frontend fwd-sink"
		echo "	bind $addr:5090"
		echo "	default_backend sink"
		echo "backend echo"
		echo "	server echo 127.0.0.2:5007"
		echo "backend sink"
		echo "	server sink 127.0.0.2:5009"
	} >"$conf"
	SLOG[$s]=$WORK/haproxy.log
	SVER[$s]="haproxy $(peer_version haproxy)"
	(rdr_run "$bin" -db -f "$conf") >"${SLOG[$s]}" 2>&1 &
	started "$s" $! "$addr" 5080 1 && wait_tcp "$addr" 5090
}

start_socket_proxyd()
{
	local s=socket-proxyd addr=127.0.0.10 bin=/lib/systemd/systemd-socket-proxyd
	local act

	act=$(command -v systemd-socket-activate 2>/dev/null)
	if [ ! -x "$bin" ] || [ -z "$act" ]; then
		note "systemd-socket-proxyd or systemd-socket-activate is" \
		    "missing (package systemd): skipped"
		return 1
	fi
	SLOG[$s]=$WORK/socket-proxyd.log
	SVER[$s]="systemd-socket-proxyd $(peer_version systemd)"
	# socket-activate binds, then execs the proxy (same PID) with the
	# socket as fd 3; one proxy per target.  It logs nothing per
	# connection.  Its default of 256 connections is lifted.
	(rdr_run "$act" -l "$addr:5080" "$bin" --connections-max=65536 \
	    127.0.0.2:5007) >"${SLOG[$s]}" 2>&1 &
	started "$s" $! "$addr" 5080 1 || return 1
	(rdr_run "$act" -l "$addr:5090" "$bin" --connections-max=65536 \
	    127.0.0.2:5009) >>"${SLOG[$s]}" 2>&1 &
	started2 "$s" $! "$addr" 5090
}

# rport SERVER echo|sink: the port to load for a server.
rport()
{
	case "$1:$2" in
	direct:echo) echo 5007 ;;
	direct:sink) echo 5009 ;;
	*:echo) echo 5080 ;;
	*:sink) echo 5090 ;;
	esac
}

# --- measuring --------------------------------------------------------

# measure SCENARIO SERVER CLIENTS MODE PORT [LOADGEN ARGS...]: one run
# of $MDUR seconds (default $DUR), appended to $RAW.
measure()
{
	local scen=$1 s=$2 conc=$3 mode=$4 port=$5 res d=${MDUR:-$DUR}

	shift 5
	[ -n "${SPID[$s]:-}" ] || return 0
	if ! proc_alive "${SPID[$s]}"; then
		note "$s died before $scen/$conc"
		unset "SPID[$s]"
		return 0
	fi
	settle "$s"
	res=$(timeout $((d + 60)) "$LOADGEN" -m "$mode" -a "${SADDR[$s]}" \
	    -p "$port" -c "$conc" -d "$d" -l "$scen" "$@")
	if [ -z "$res" ]; then
		note "$s: loadgen failed in $scen/$conc"
		return 0
	fi
	echo "scenario=$scen server=$s conc=$conc $res" >>"$RAW"
	say "$(printf '%-8s %-17s c=%-4s' "$scen" "$s" "$conc")" \
	    "$(echo "$res" | awk '{ for (i = 1; i <= NF; i++)
		if ($i ~ /^(ops_per_s|p50_us|p99_us|errors|bulk_gbytes_per_s|bytes_lost)=/)
		    printf "%s ", $i }')"
}

warmup()
{
	local s=$1 mode=$2 port=$3

	shift 3
	[ $WARMUP = 1 ] && [ -n "${SPID[$s]:-}" ] || return 0
	timeout 30 "$LOADGEN" -m "$mode" -a "${SADDR[$s]}" -p "$port" \
	    -c 4 -d 0.3 "$@" >/dev/null
}

# The port of a builtin on a server: the inetds use the standard ones.
bport()
{
	case "$1" in
	openbsd-inetd* | inetutils-inetd*) echo "$2" ;;
	*) echo "$3" ;;
	esac
}

# hold SERVER COUNT PORT: COUNT idle connections, the daemon's memory.
hold()
{
	local s=$1 n=$2 port=$3 ready=$WORK/ready.$1 pid est rss0 rss1
	local pss0 pss1 res eng

	[ -n "${SPID[$s]:-}" ] || return 0
	settle "$s"
	rss0=$(daemon_rss "$s")
	pss0=$(daemon_pss "$s")
	rm -f "$ready"
	timeout $((HOLD_DUR + 180)) "$LOADGEN" -m hold -a "${SADDR[$s]}" \
	    -p "$port" -c "$n" -d "$HOLD_DUR" -l hold -r "$ready" \
	    >"$WORK/hold.$s" &
	pid=$!
	for _ in $(seq 1 1500); do
		[ -f "$ready" ] && break
		proc_alive $pid || break
		sleep 0.1
	done
	est=$(sed -n 's/^established=//p' "$ready" 2>/dev/null)
	# A moment for the server to finish with the last ones.
	sleep 0.2
	rss1=$(daemon_rss "$s")
	pss1=$(daemon_pss "$s")
	eng=
	if [ "$s" = portmuxd ]; then
		eng=$(pgrep -P "${SPID[$s]}" -x portmuxd-engine)
		eng=" engine_kib=$(rss_of "$eng") monitor_kib=$(rss_of \
		    "${SPID[$s]}") ${PROC_START[$s]}"
	fi
	wait $pid
	res=$(cat "$WORK/hold.$s")
	echo "scenario=${HSCEN:-hold} server=$s conc=$n" \
	    "rss_start_kib=${RSS_START[$s]}" \
	    "rss_idle_kib=$rss0 rss_held_kib=$rss1 pss_idle_kib=$pss0" \
	    "pss_held_kib=$pss1$eng $res" >>"$RAW"
	say "$(printf '%-8s %-17s n=%-5s' "${HSCEN:-hold}" "$s" "$n")" \
	    "established=${est:-0} rss ${rss0} -> ${rss1} KiB," \
	    "pss ${pss0} -> ${pss1} KiB$eng"
}

# --- the run -------------------------------------------------------------

say "results to $RESULTS; throughput: $REP x ${REP_DUR}s, hold and" \
    "defaults ${DUR}s$([ "$quick" = 1 ] && echo ', quick')"
mkdir -p "$RESULTS" || die "cannot create $RESULTS"

# BENCH_ONLY=redirect (for work on that scenario): the ceilings and
# the redirect scenario alone.
if [ "$BENCH_ONLY" != redirect ]; then
	start_portmuxd portmuxd 127.0.0.1 lifted ||
	    die "portmuxd did not start: $(tail -n 5 "$WORK/portmuxd.log")"
fi
start_ceilings
if [ "$BENCH_ONLY" != redirect ]; then
	start_inetd obsd openbsd-inetd 127.0.0.3 lifted
	start_inetd gnu inetutils-inetd 127.0.0.4 lifted
	start_xinetd xinetd 127.0.0.5 lifted
	start_tcpserver tcpserver 127.0.0.6 lifted

	EXEC_SERVERS="portmuxd ceiling-fork xinetd openbsd-inetd inetutils-inetd
	tcpserver"
	BUILTIN_SERVERS="portmuxd ceiling-epoll xinetd openbsd-inetd
	inetutils-inetd"

	# exec'd /bin/cat: one line echoed by a fresh process per connection.
	for s in $EXEC_SERVERS; do
		warmup "$s" echo 5001
	done
	for c in $EXEC_CONC; do
		for _ in $(seq 1 "$REP"); do
			for s in $EXEC_SERVERS; do
				MDUR=$REP_DUR measure exec "$s" "$c" echo 5001
			done
		done
	done

	# Builtin echo and daytime: no process per connection where the
	# server has builtins that do not fork.
	for s in $BUILTIN_SERVERS; do
		warmup "$s" echo "$(bport "$s" 7 5007)"
	done
	for c in $BUILTIN_CONC; do
		for _ in $(seq 1 "$REP"); do
			for s in $BUILTIN_SERVERS; do
				MDUR=$REP_DUR measure echo "$s" "$c" echo \
				    "$(bport "$s" 7 5007)"
			done
		done
	done
	for c in $BUILTIN_CONC; do
		for _ in $(seq 1 "$REP"); do
			for s in $BUILTIN_SERVERS; do
				MDUR=$REP_DUR measure daytime "$s" "$c" eof \
				    "$(bport "$s" 13 5013)"
			done
		done
	done

	# UDP echo: one datagram and its answer, 1s timeout per request.
	for _ in $(seq 1 "$REP"); do
		for s in $BUILTIN_SERVERS; do
			MDUR=$REP_DUR measure udp "$s" $UDP_CONC udp \
			    "$(bport "$s" 7 5007)" -t 1000
		done
	done

	# Idle held connections: builtin echo (tcpserver: /bin/cat), each
	# connection checked with one echo round trip, then left idle.
	hold portmuxd "$HOLD_N" 5007
	hold ceiling-epoll "$HOLD_N" 5007
	for s in xinetd openbsd-inetd inetutils-inetd; do
		hold "$s" $HOLD_FORK_N "$(bport "$s" 7 5007)"
	done
	hold tcpserver $HOLD_FORK_N 5001

	# Their default limits: one run each, on a fresh instance, since a
	# tripped limit disables the service for up to 10 minutes.
	for s in $EXEC_SERVERS; do
		[ -n "${SPID[$s]:-}" ] && [ "$s" != ceiling-fork ] &&
		    stop_tree "${SPID[$s]}"
	done
	run_defaults()
	{
		local s=$1

		shift
		# No warm-up: it would trip the limits before the measurement.
		"$@" || return 0
		measure exec-defaults "$s" 16 echo 5001
		stop_tree "${SPID[$s]}"
	}
	run_defaults portmuxd-defaults start_portmuxd portmuxd-defaults \
	    127.0.1.1 default
	run_defaults openbsd-inetd-defaults start_inetd obsd \
	    openbsd-inetd-defaults 127.0.1.3 default
	run_defaults inetutils-inetd-defaults start_inetd gnu \
	    inetutils-inetd-defaults 127.0.1.4 default
	run_defaults xinetd-defaults start_xinetd xinetd-defaults 127.0.1.5 \
	    default
	run_defaults tcpserver-defaults start_tcpserver tcpserver-defaults \
	    127.0.1.6 default
fi

# --- redirect: TCP forwarding ------------------------------------------
#
# Bulk throughput into the sink, short connections to the echo, and
# idle relayed connections, through each relay and with none (direct).
RDR_NOFILE=$(rdr_nofile)
if [ "$(rdr_hold_n 2)" -lt "$HOLD_N" ]; then
	note "the descriptor limit is $RDR_NOFILE and cannot be raised (no" \
	    "CAP_SYS_RESOURCE): relays that need 2 per connection hold" \
	    "$(rdr_hold_n 2) connections instead of $HOLD_N," \
	    "systemd-socket-proxyd (6 per connection) $(rdr_hold_n 6)"
fi
start_backends || note "the sink did not start: no bulk runs"
start_portmuxd_redirect ||
    note "portmuxd did not start with the redirect services: $(tail \
	-n 3 "$WORK/portmuxd-redirect.log" | tr '\n' ' ')"
start_rinetd
start_socat
start_haproxy
start_socket_proxyd

RDR_SERVERS="direct portmuxd rinetd socat haproxy socket-proxyd"
for s in $RDR_SERVERS; do
	warmup "$s" echo "$(rport "$s" echo)" -s $RDR_SIZE
done
for c in $RDR_BULK_CONC; do
	for _ in $(seq 1 "$REP"); do
		for s in $RDR_SERVERS; do
			MDUR=$REP_DUR measure redirect-bulk "$s" "$c" bulk \
			    "$(rport "$s" sink)" -S 127.0.0.2:5010
		done
	done
done
for c in $RDR_SHORT_CONC; do
	for _ in $(seq 1 "$REP"); do
		for s in $RDR_SERVERS; do
			MDUR=$REP_DUR measure redirect-short "$s" "$c" echo \
			    "$(rport "$s" echo)" -s $RDR_SIZE
		done
	done
done
# Idle relayed connections to the echo, each checked with a round trip.
HSCEN=redirect-hold
hold portmuxd "$(rdr_hold_n 2)" 5080
hold rinetd "$(rdr_hold_n 2)" 5080
hold haproxy "$(rdr_hold_n 2)" 5080
hold socket-proxyd "$(rdr_hold_n 6)" 5080
hold socat $HOLD_FORK_N 5080
HSCEN=hold
for s in $RDR_SERVERS; do
	[ -n "${SPID[$s]:-}" ] && stop_tree "${SPID[$s]}"
	[ -n "${SPID2[$s]:-}" ] && stop_tree "${SPID2[$s]}"
done

ELAPSED=$(($(date +%s) - T0))

# --- the report ------------------------------------------------------------

{
	for s in "${!SVER[@]}"; do
		printf '%s\t%s\n' "$s" "${SVER[$s]}"
	done
} >"$WORK/versions"
{
	for s in "${!RSS_START[@]}"; do
		printf '%s\t%s\n' "$s" "${RSS_START[$s]}"
	done
} >"$WORK/rss_start"

CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
GITREV=$(git -C "$top_srcdir" describe --always --dirty 2>/dev/null ||
    echo "?")
DISTRO=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# A line of text for the report, never run.
CMD="make bench"
# shellcheck disable=SC2089,SC2090
[ ${#args[@]} -gt 0 ] && CMD="make bench BENCH_FLAGS=\"${args[*]}\""
NPROC=$(nproc)
KERNEL=$(uname -r)

SPAWN_C=${EXEC_CONC##* }
# shellcheck disable=SC2090
export CPU GITREV DISTRO DATE CMD ELAPSED DUR quick NPROC KERNEL SPAWN_C \
    REP REP_DUR RDR_SIZE
cat >"$WORK/report.awk" <<'EOF'
BEGIN {
	FS = "\t"
}
# Repeated runs of one scenario, server and concurrency are kept whole;
# END reports the median run by conns/s, and the range.
FILENAME == ARGV[1] {
	parse($0)
	k = r["scenario"] SUBSEP r["server"] SUBSEP r["conc"]
	if (!(k in nrep))
		rows[++nrows] = k
	rec[k, ++nrep[k]] = $0
	next
}
FILENAME == ARGV[2] { ver[$1] = $2; next }
FILENAME == ARGV[3] { notes[++nnotes] = $0; next }
function parse(line,   n, i, p, kv) {
	n = split(line, kv, " ")
	delete r
	for (i = 1; i <= n; i++) {
		p = index(kv[i], "=")
		r[substr(kv[i], 1, p - 1)] = substr(kv[i], p + 1)
	}
}
# Pick the median run of k (lower middle when even), load it into v.
function pick(k,   n, i, j, t, idx, cps, f) {
	n = nrep[k]
	for (i = 1; i <= n; i++) {
		parse(rec[k, i])
		cps[i] = r["ops_per_s"] + 0
		idx[i] = i
	}
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && cps[idx[j - 1]] > cps[idx[j]]; j--) {
			t = idx[j]; idx[j] = idx[j - 1]; idx[j - 1] = t
		}
	vmin[k] = cps[idx[1]]
	vmax[k] = cps[idx[n]]
	parse(rec[k, idx[int((n + 1) / 2)]])
	for (f in r)
		v[k, f] = r[f]
}
function num(x) { return x == "" ? 0 : x + 0 }
function ispeer(s) {
	return s == "xinetd" || s == "openbsd-inetd" ||
	    s == "inetutils-inetd" || s == "tcpserver"
}
# The relays the redirect scenario compares portmuxd with.
function isrpeer(s) {
	return s == "rinetd" || s == "socat" || s == "haproxy" ||
	    s == "socket-proxyd"
}
function isrdr(sc) {
	return sc ~ /^redirect-/
}
function gb(x) {
	return x == "" ? "-" : sprintf("%.2f", x / 1e9)
}
# KiB per connection over the idle figure.
function kper(held, idle, est) {
	return est > 0 ? sprintf("%.2f", (held - idle) / est) : "-"
}
function ratio(a, b) {
	if (b == "" || b + 0 <= 0 || a == "")
		return "-"
	return sprintf("%.2fx", a / b)
}
function nratio(a, b) {
	if (b == "" || b + 0 <= 0 || a == "")
		return ""
	return sprintf("%.3f", a / b)
}
function errs(k,   s, t) {
	t = num(v[k, "errors"])
	if (t == 0)
		return "0"
	s = ""
	if (num(v[k, "err_refused"])) s = s " refused " v[k, "err_refused"]
	if (num(v[k, "err_reset"])) s = s " reset " v[k, "err_reset"]
	if (num(v[k, "err_timeout"])) s = s " timeout " v[k, "err_timeout"]
	if (num(v[k, "err_closed"])) s = s " closed " v[k, "err_closed"]
	if (num(v[k, "err_other"])) s = s " other " v[k, "err_other"]
	return t " (" substr(s, 2) ")"
}
# The redirect scenario: bulk, short connections, idle held ones.
function redirect_report(   i, j, k, a, b, n, cps, per, pper, est, rng,
    ph, phn, ph2, ok, top, tname, bpc, pbpc) {
	n = 0
	for (i = 1; i <= nrows; i++) {
		split(rows[i], a, SUBSEP)
		if (isrdr(a[1]))
			n++
	}
	if (n == 0)
		return
	print ""
	print "## Redirect (TCP forwarding)"
	print ""
	print "Each relay forwards one port to a discarding sink and one to " \
	    "the epoll echo (ceilings.c), on its own loopback address; " \
	    "\"direct\" is loadgen talking to the same backends with no " \
	    "relay, the ceiling (\"vs direct\"). \"vs best peer\" is over " \
	    "rinetd, socat, haproxy and systemd-socket-proxyd."
	print ""
	print "### Bulk throughput"
	print ""
	print "Each connection writes 128 KiB buffers for " ENVIRON["REP_DUR"] \
	    " s, then shuts its write side and waits for the close. GB/s is " \
	    "10^9 bytes counted by the sink, over the time from the first " \
	    "byte it received to the last; \"lost\" is what the client " \
	    "wrote that the sink never received."
	print ""
	print "| server | conns | GB/s | vs direct | vs best peer | " \
	    "written GB | lost bytes | errors |"
	print "|---|---:|---:|---:|---:|---:|---:|---|"
	for (i = 1; i <= nrows; i++) {
		k = rows[i]
		split(k, a, SUBSEP)
		if (a[1] != "redirect-bulk")
			continue
		cps = v[k, "ops_per_s"]
		rng = nrep[k] > 1 ? sprintf(" (%s-%s)", gb(vmin[k]),
		    gb(vmax[k])) : ""
		printf "| %s | %s | %s%s | %s | %s | %.2f | %s | %s |\n",
		    a[2], a[3], gb(cps), rng, ratio(cps, ceil[a[1], a[3]]),
		    ratio(cps, best[a[1], a[3]]), v[k, "bytes_written"] / 1e9,
		    num(v[k, "bytes_lost"]), errs(k)
		printf "%s,%s,%s,,,,,%s,%s,%s,%s,%s,%s,%s,%s,,,,,,,,,%d,,," \
		    "%.3f,%.3f,%.3f,%s\n", a[1], a[2], a[3],
		    num(v[k, "errors"]), num(v[k, "err_refused"]),
		    num(v[k, "err_reset"]), num(v[k, "err_timeout"]),
		    num(v[k, "err_closed"]), num(v[k, "err_other"]),
		    nratio(cps, ceil[a[1], a[3]]),
		    nratio(cps, best[a[1], a[3]]), nrep[k], cps / 1e9,
		    vmin[k] / 1e9, vmax[k] / 1e9, num(v[k, "bytes_lost"]) > csv
		printf "bulk %s %s %.3f\n", a[2], a[3], cps / 1e9 > rdat
	}
	print ""
	print "### Short connections"
	print ""
	print "Connect, send " ENVIRON["RDR_SIZE"] " bytes, read them back " \
	    "from the echo behind the relay, close; a closed loop of N " \
	    "clients, latencies connect to close."
	print ""
	print "| server | clients | conns/s | p50 µs | p99 µs | max µs | " \
	    "errors | vs direct | vs best peer |"
	print "|---|---:|---:|---:|---:|---:|---|---:|---:|"
	for (i = 1; i <= nrows; i++) {
		k = rows[i]
		split(k, a, SUBSEP)
		if (a[1] != "redirect-short")
			continue
		cps = v[k, "ops_per_s"]
		rng = nrep[k] > 1 ? sprintf(" (%.0f-%.0f)", vmin[k],
		    vmax[k]) : ""
		printf "| %s | %s | %.0f%s | %s | %s | %s | %s | %s | %s |\n",
		    a[2], a[3], cps, rng, v[k, "p50_us"], v[k, "p99_us"],
		    v[k, "max_us"], errs(k), ratio(cps, ceil[a[1], a[3]]),
		    ratio(cps, best[a[1], a[3]])
		printf "%s,%s,%s,%.1f,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s," \
		    ",,,,,,,,%d,%.1f,%.1f,,,,\n", a[1], a[2], a[3], cps,
		    v[k, "p50_us"], v[k, "p99_us"], v[k, "max_us"],
		    num(v[k, "errors"]), num(v[k, "err_refused"]),
		    num(v[k, "err_reset"]), num(v[k, "err_timeout"]),
		    num(v[k, "err_closed"]), num(v[k, "err_other"]),
		    nratio(cps, ceil[a[1], a[3]]),
		    nratio(cps, best[a[1], a[3]]), nrep[k], vmin[k],
		    vmax[k] > csv
		printf "short %s %s %.1f\n", a[2], a[3], cps > rdat
	}
	print ""
	print "### Idle relayed connections"
	print ""
	print "Connections to the echo through the relay, opened 64 at a " \
	    "time, each checked with one round trip, then held idle for " \
	    ENVIRON["DUR"] " s while the relay's memory is sampled: the " \
	    "sum of VmRSS (and of PSS) over its processes (portmuxd: " \
	    "monitor + engine; socat: the listener and every process it " \
	    "forked), against the figure just before connecting. The " \
	    "sockets' kernel buffers are not in either."
	print ""
	print "| server | held | established | RSS before KiB | " \
	    "RSS held KiB | KiB/conn (RSS) | PSS before KiB | PSS held KiB " \
	    "| KiB/conn (PSS) |"
	print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for (i = 1; i <= nrows; i++) {
		k = rows[i]
		split(k, a, SUBSEP)
		if (a[1] != "redirect-hold")
			continue
		est = num(v[k, "established"])
		per = kper(v[k, "rss_held_kib"], v[k, "rss_idle_kib"], est)
		pper = kper(v[k, "pss_held_kib"], v[k, "pss_idle_kib"], est)
		if (a[2] == "portmuxd") {
			ph = per
			phn = est
		}
		printf "| %s | %s | %d | %s | %s | %s | %s | %s | %s |\n",
		    a[2], a[3], est, v[k, "rss_idle_kib"],
		    v[k, "rss_held_kib"], per, v[k, "pss_idle_kib"],
		    v[k, "pss_held_kib"], pper
		bpc = pbpc = ""
		if (est > 0) {
			bpc = v[k, "rss_held_kib"] - v[k, "rss_idle_kib"]
			bpc = sprintf("%.0f", bpc * 1024 / est)
			pbpc = v[k, "pss_held_kib"] - v[k, "pss_idle_kib"]
			pbpc = sprintf("%.0f", pbpc * 1024 / est)
		}
		printf "%s,%s,%s,,,,,%s,%s,%s,%s,%s,%s,,,%d,%s,%s,%s,%s," \
		    "%s,%s,%s,%d,,,,,,\n", a[1], a[2], a[3],
		    num(v[k, "errors"]), num(v[k, "err_refused"]),
		    num(v[k, "err_reset"]), num(v[k, "err_timeout"]),
		    num(v[k, "err_closed"]), num(v[k, "err_other"]), est,
		    v[k, "rss_start_kib"], v[k, "rss_idle_kib"],
		    v[k, "rss_held_kib"], bpc, v[k, "pss_idle_kib"],
		    v[k, "pss_held_kib"], pbpc, 1 > csv
	}

	# portmuxd against the goals set for it.
	print ""
	print "### portmuxd against its goals"
	print ""
	print "| goal | figure | met |"
	print "|---|---|---|"
	for (i = 1; i <= nrows; i++) {
		k = rows[i]
		split(k, a, SUBSEP)
		if (a[2] != "portmuxd" || (a[1] != "redirect-bulk" &&
		    a[1] != "redirect-short"))
			continue
		# Numbers, not strings: awk compares the fields as text.
		cps = v[k, "ops_per_s"] + 0
		if (a[1] == "redirect-bulk") {
			ph2 = ""
			for (j = 1; j <= nrows; j++) {
				split(rows[j], b, SUBSEP)
				if (b[1] == a[1] && b[2] == "haproxy" &&
				    b[3] == a[3])
					ph2 = v[rows[j], "ops_per_s"]
			}
			ok = ceil[a[1], a[3]] + 0 > 0 &&
			    cps >= 0.9 * ceil[a[1], a[3]]
			printf "| bulk, %s conns: >= 0.9x direct | %s GB/s, " \
			    "%s | %s |\n", a[3], gb(cps),
			    ratio(cps, ceil[a[1], a[3]]), ok ? "yes" : "**no**"
			if (ph2 != "")
				printf "| bulk, %s conns: ahead of haproxy | " \
				    "%s vs %s GB/s | %s |\n", a[3], gb(cps),
				    gb(ph2), (cps > ph2 + 0) ? "yes" : "**no**"
		} else {
			tname = ""
			top = ""
			for (j = 1; j <= nrows; j++) {
				split(rows[j], b, SUBSEP)
				if (b[1] == a[1] && isrpeer(b[2]) &&
				    b[3] == a[3] && (top == "" ||
				    v[rows[j], "ops_per_s"] + 0 > top + 0)) {
					top = v[rows[j], "ops_per_s"]
					tname = b[2]
				}
			}
			if (tname != "")
				printf "| short, %s clients: ahead of every " \
				    "peer | %.0f/s vs %.0f/s (best peer: %s) | " \
				    "%s |\n", a[3], cps, top, tname,
				    (cps > top + 0) ? "yes" : "**no**"
		}
	}
	if (ph != "")
		printf "| idle relayed connections: < 4 KiB each | %s KiB " \
		    "(RSS, %d held) | %s |\n", ph, phn,
		    (ph + 0 < 4) ? "yes" : "**no**"
}
END {
	for (i = 1; i <= nrows; i++)
		pick(rows[i])
	# Ceilings and best peers per scenario and concurrency.
	for (i = 1; i <= nrows; i++) {
		k = rows[i]
		split(k, a, SUBSEP)
		sc = a[1]; s = a[2]; c = a[3]
		cps = v[k, "ops_per_s"]
		if (s == "ceiling-fork" || s == "ceiling-epoll" ||
		    s == "direct")
			ceil[sc, c] = cps
		if ((ispeer(s) || isrpeer(s)) && (!((sc, c) in best) ||
		    cps + 0 > best[sc, c] + 0)) {
			best[sc, c] = cps
			bestp99[sc, c] = v[k, "p99_us"]
			bestname[sc, c] = s
		}
	}
	print "# portmuxd benchmark: latest results"
	print ""
	printf "- date: %s, run took %ss (throughput: median of %s " \
	    "interleaved runs of %ss, range of conns/s in parentheses; " \
	    "hold and defaults: one run of %ss%s)\n", ENVIRON["DATE"],
	    ENVIRON["ELAPSED"], ENVIRON["REP"], ENVIRON["REP_DUR"],
	    ENVIRON["DUR"], ENVIRON["quick"] == 1 ? ", --quick" : ""
	printf "- command: `%s` (as root)\n", ENVIRON["CMD"]
	printf "- machine: %s cores, %s; kernel %s; %s\n", ENVIRON["NPROC"],
	    ENVIRON["CPU"], ENVIRON["KERNEL"], ENVIRON["DISTRO"]
	printf "- portmuxd: %s (git %s), log_level info to a file\n",
	    ver["portmuxd"], ENVIRON["GITREV"]
	printf "- peers:"
	sep = " "
	npl = split("xinetd openbsd-inetd inetutils-inetd tcpserver rinetd " \
	    "socat haproxy socket-proxyd", pl, " ")
	for (i = 1; i <= npl; i++)
		if (pl[i] in ver) {
			printf "%s%s", sep, ver[pl[i]]
			sep = ", "
		}
	print ""
	print "- ceilings: tests/bench/ceilings.c (bare accept-fork-exec " \
	    "loop, bare single-threaded epoll server, and for redirect a " \
	    "discarding sink: \"direct\" is loadgen to the backends with " \
	    "no relay)"
	print ""
	print "conns/s is completed operations per second in a closed loop; " \
	    "latencies are per operation (connect to close), in " \
	    "microseconds. \"vs ceiling\" divides conns/s by the ceiling's " \
	    "(fork loop for exec, epoll server otherwise) at the same " \
	    "concurrency, \"vs best peer\" by the best of xinetd, both " \
	    "inetds and tcpserver."
	print ""
	print "## Throughput and latency"
	print ""
	print "| scenario | server | clients | conns/s | p50 µs | p99 µs | " \
	    "max µs | errors | vs ceiling | vs best peer |"
	print "|---|---|---:|---:|---:|---:|---:|---|---:|---:|"
	print "scenario,server,clients,conns_per_s,p50_us,p99_us,max_us," \
	    "errors,err_refused,err_reset,err_timeout,err_closed,err_other," \
	    "vs_ceiling,vs_best_peer,established,rss_start_kib," \
	    "rss_idle_kib,rss_held_kib,bytes_per_conn,pss_idle_kib," \
	    "pss_held_kib,pss_bytes_per_conn,runs,conns_per_s_min," \
	    "conns_per_s_max,gbytes_per_s,gbytes_per_s_min," \
	    "gbytes_per_s_max,bytes_lost" > csv
	for (i = 1; i <= nrows; i++) {
		k = rows[i]
		split(k, a, SUBSEP)
		sc = a[1]; s = a[2]; c = a[3]
		if (sc == "hold" || isrdr(sc))
			continue
		cps = v[k, "ops_per_s"]
		rc = ratio(cps, ceil[sc, c])
		rb = ratio(cps, best[sc, c])
		nrc = nratio(cps, ceil[sc, c])
		nrb = nratio(cps, best[sc, c])
		if (sc == "exec-defaults") {
			rc = ratio(cps, ceil["exec", 16])
			nrc = nratio(cps, ceil["exec", 16])
			rb = "-"
			nrb = ""
		}
		range = ""
		if (nrep[k] > 1)
			range = sprintf(" (%.0f-%.0f)", vmin[k], vmax[k])
		if (sc != "exec-defaults")
			printf "| %s | %s | %s | %.0f%s | %s | %s | %s | %s | " \
			    "%s | %s |\n", sc, s, c, cps, range,
			    v[k, "p50_us"], v[k, "p99_us"], v[k, "max_us"],
			    errs(k), rc, rb
		printf "%s,%s,%s,%.1f,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s," \
		    ",,,,,,,,%d,%.1f,%.1f,,,,\n",
		    sc, s, c, cps, v[k, "p50_us"], v[k, "p99_us"],
		    v[k, "max_us"], num(v[k, "errors"]),
		    num(v[k, "err_refused"]), num(v[k, "err_reset"]),
		    num(v[k, "err_timeout"]), num(v[k, "err_closed"]),
		    num(v[k, "err_other"]), nrc, nrb, nrep[k], vmin[k],
		    vmax[k] > csv
		if (sc == "exec")
			printf "%s %s %.1f\n", s, c, cps > dat
	}

	print ""
	print "## Rate limits at their defaults (exec'd /bin/cat, 16 clients)"
	print ""
	print "Each server once more, on a fresh instance with its default " \
	    "limits (xinetd cps 50/s then 10s off; OpenBSD inetd 256 " \
	    "spawns/min, GNU inetd 40/min, then 10 minutes off; tcpserver " \
	    "-c 40 -b 20; portmuxd instances 64, per_source 16)."
	print ""
	print "| server | conns/s | p50 µs | p99 µs | max µs | errors | " \
	    "vs lifted ceiling |"
	print "|---|---:|---:|---:|---:|---|---:|"
	for (i = 1; i <= nrows; i++) {
		k = rows[i]
		split(k, a, SUBSEP)
		if (a[1] != "exec-defaults")
			continue
		printf "| %s | %.0f | %s | %s | %s | %s | %s |\n", a[2],
		    v[k, "ops_per_s"], v[k, "p50_us"], v[k, "p99_us"],
		    v[k, "max_us"], errs(k),
		    ratio(v[k, "ops_per_s"], ceil["exec", 16])
	}

	print ""
	sc64 = ENVIRON["SPAWN_C"]
	print "## p99 spawn latency (exec'd /bin/cat, " sc64 " clients)"
	print ""
	print "The p99 of connect-to-close for a fresh /bin/cat per " \
	    "connection, from the exec rows above; lower is better."
	print ""
	print "| server | p99 µs | vs fork ceiling |"
	print "|---|---:|---:|"
	cc = ""
	for (i = 1; i <= nrows; i++) {
		k = rows[i]
		split(k, a, SUBSEP)
		if (a[1] == "exec" && a[2] == "ceiling-fork" && a[3] == sc64)
			cc = v[k, "p99_us"]
	}
	for (i = 1; i <= nrows; i++) {
		k = rows[i]
		split(k, a, SUBSEP)
		if (a[1] != "exec" || a[3] != sc64)
			continue
		printf "| %s | %s | %s |\n", a[2], v[k, "p99_us"],
		    ratio(v[k, "p99_us"], cc)
	}

	print ""
	print "## Idle held connections"
	print ""
	print "Connections opened 64 at a time, each checked with one echo " \
	    "round trip, then held idle. RSS is the sum of VmRSS over the " \
	    "daemon's processes (portmuxd: monitor + engine; the others: " \
	    "the daemon and every child it forked), sampled once all were " \
	    "established. Peers that fork per connection are capped at " \
	    "200 connections."
	print ""
	print "| server | service | held | established | RSS at start KiB | " \
	    "RSS before KiB | RSS held KiB | bytes/conn (RSS) | " \
	    "PSS before KiB | PSS held KiB | bytes/conn (PSS) |"
	print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for (i = 1; i <= nrows; i++) {
		k = rows[i]
		split(k, a, SUBSEP)
		if (a[1] != "hold")
			continue
		est = num(v[k, "established"])
		per = est > 0 ? sprintf("%.0f", (v[k, "rss_held_kib"] - \
		    v[k, "rss_idle_kib"]) * 1024 / est) : "-"
		pper = est > 0 ? sprintf("%.0f", (v[k, "pss_held_kib"] - \
		    v[k, "pss_idle_kib"]) * 1024 / est) : "-"
		svc = a[2] == "tcpserver" ? "/bin/cat" : "builtin echo"
		extra = ""
		if (v[k, "engine_kib"] != "")
			extra = sprintf(" (engine %s, monitor %s)",
			    v[k, "engine_kib"], v[k, "monitor_kib"])
		start = v[k, "rss_start_kib"]
		if (v[k, "engine_start_kib"] != "")
			start = sprintf("%s (engine %s, monitor %s)", start,
			    v[k, "engine_start_kib"], v[k, "monitor_start_kib"])
		printf "| %s | %s | %s | %d | %s | %s | %s%s | %s | %s | %s " \
		    "| %s |\n", a[2], svc, a[3], est, start,
		    v[k, "rss_idle_kib"], v[k, "rss_held_kib"], extra, per,
		    v[k, "pss_idle_kib"], v[k, "pss_held_kib"], pper
		printf "hold,%s,%s,,,,,%s,%s,%s,%s,%s,%s,,,%d,%s,%s,%s,%s," \
		    "%s,%s,%s,%d,%s,%s,,,,\n", a[2], a[3], num(v[k, "errors"]),
		    num(v[k, "err_refused"]), num(v[k, "err_reset"]),
		    num(v[k, "err_timeout"]), num(v[k, "err_closed"]),
		    num(v[k, "err_other"]), est, v[k, "rss_start_kib"],
		    v[k, "rss_idle_kib"], v[k, "rss_held_kib"], per,
		    v[k, "pss_idle_kib"], v[k, "pss_held_kib"], pper, 1, "",
		    "" > csv
	}
	redirect_report()
	print ""
	print "## How the peers behave here"
	print ""
	print "- xinetd and both inetds fork a process per connection for " \
	    "the stream echo builtin (hence the cap of 200 held " \
	    "connections) and answer daytime in-process; tcpserver has no " \
	    "builtins."
	if ("xinetd" in ver)
		print "- xinetd answers one datagram per wakeup of a UDP " \
		    "builtin, then drains the socket (svc_request() calls " \
		    "drain()): concurrent UDP clients lose most requests and " \
		    "wait out the 1 s timeout."
	if ("openbsd-inetd" in ver)
		print "- OpenBSD inetd drops datagrams from 127.0.0.0/8 " \
		    "(dg_badinput()), so on loopback its UDP builtins never " \
		    "answer."
	if ("inetutils-inetd" in ver)
		print "- GNU inetutils inetd sleeps 1 s whenever select() is " \
		    "interrupted by SIGCHLD (strace: clock_nanosleep of 1 s " \
		    "after EINTR), which caps its exec'd rate and makes its " \
		    "1 s maxima; its listen backlog is 10."
	if ("rinetd" in ver || "socat" in ver || "haproxy" in ver ||
	    "socket-proxyd" in ver) {
		print "- Relays (redirect): portmuxd and systemd-socket-proxyd " \
		    "splice(2) through pipes, haproxy splices when it sees a " \
		    "stream (option splice-auto), rinetd and socat copy " \
		    "through user-space buffers; socat forks a process per " \
		    "connection (hence 200 held), the others are one process " \
		    "with one thread (haproxy: nbthread 1). rinetd closes " \
		    "both sides when one ends instead of passing the " \
		    "half-close on; the sink's count shows whether bytes " \
		    "were lost. systemd-socket-proxyd takes two pipes per " \
		    "connection when it is established (6 descriptors each)."
		print "- Relay logging: portmuxd logs accept and close at info " \
		    "to a file, rinetd logs opened and done to a file, haproxy " \
		    "logs one tcplog line per connection to a file; socat " \
		    "and systemd-socket-proxyd log nothing per connection."
	}
	print "- Logging: portmuxd logs accept/spawn/exit at info to a file, " \
	    "xinetd logs PID HOST EXIT DURATION to a file, tcpserver runs " \
	    "with -v to a file; both inetds have no per-connection log " \
	    "without syslog or debug mode, so they log nothing."
	if (nnotes > 0) {
		print ""
		print "## Notes from this run"
		print ""
		for (i = 1; i <= nnotes; i++)
			print "- " notes[i]
	}
}
EOF
awk -v csv="$WORK/body.csv" -v dat="$WORK/exec.dat" \
    -v rdat="$WORK/redirect.dat" -f "$WORK/report.awk" \
    "$RAW" "$WORK/versions" "$NOTES" >"$RESULTS/latest.md" ||
    die "the report failed"

# The CSV's header: the same facts as the markdown's, as comments.
{
	echo "# portmuxd benchmark, $DATE, $(nproc) cores, kernel $(uname -r)"
	echo "# $CMD; throughput: median of $REP runs of ${REP_DUR}s;" \
	    "hold and defaults: ${DUR}s; run took ${ELAPSED}s"
	sort "$WORK/versions" | while IFS=$'\t' read -r s v; do
		echo "# version $s: $v"
	done
	cat "$WORK/body.csv"
} >"$RESULTS/latest.csv"

# The chart: connections/s by concurrency for the exec'd service.
if command -v gnuplot >/dev/null 2>&1 && [ -s "$WORK/exec.dat" ]; then
	plot=
	for s in $(awk '!seen[$1]++ { print $1 }' "$WORK/exec.dat"); do
		awk -v s="$s" '$1 == s { print $2, $3 }' "$WORK/exec.dat" \
		    >"$WORK/exec.$s.dat"
		style="lw 2"
		case "$s" in
		ceiling-*) style="lw 2 dt 2 lc rgb 'black'" ;;
		portmuxd) style="lw 3 lc rgb 'red'" ;;
		esac
		plot="$plot${plot:+, }'$WORK/exec.$s.dat' using 1:2 with"
		plot="$plot linespoints $style title '$s'"
	done
	xmax=$((${EXEC_CONC##* } * 2))
	tics=$(echo "$EXEC_CONC" | tr ' ' ',')
	term="pngcairo size 800,500"
	gnuplot -e "set terminal $term" -e "quit" >/dev/null 2>&1 ||
	    term="png size 800,500"
	gnuplot <<EOF || note "gnuplot failed: no chart"
set terminal $term
set output '$RESULTS/exec.png'
set title "exec'd /bin/cat echo: connections/s by concurrency ($(nproc) cores, $(uname -r))"
set xlabel 'concurrent clients'
set ylabel 'connections/s'
set logscale x 2
set xrange [0.7:$xmax]
set xtics ($tics)
set yrange [0:*]
set key outside right
set grid
plot $plot
EOF
else
	command -v gnuplot >/dev/null 2>&1 ||
	    say "no gnuplot (run with --install): no chart"
fi

# The redirect chart: bulk GB/s and short connections/s per relay, as
# clustered bars, one cluster per server.
if command -v gnuplot >/dev/null 2>&1 && [ -s "$WORK/redirect.dat" ]; then
	for kind in bulk short; do
		awk -v k="$kind" '$1 == k {
			if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 }
			if (!($3 in cseen)) { cseen[$3] = 1; cols[++m] = $3 }
			val[$2, $3] = $4
		}
		END {
			printf "server"
			for (j = 1; j <= m; j++)
				printf " %s", cols[j]
			printf "\n"
			for (i = 1; i <= n; i++) {
				printf "%s", order[i]
				for (j = 1; j <= m; j++) {
					x = 0
					if ((order[i], cols[j]) in val)
						x = val[order[i], cols[j]]
					printf " %s", x
				}
				printf "\n"
			}
		}' "$WORK/redirect.dat" >"$WORK/redirect.$kind.dat"
	done
	nb=$(head -n 1 "$WORK/redirect.bulk.dat" | awk '{ print NF }')
	ns=$(head -n 1 "$WORK/redirect.short.dat" | awk '{ print NF }')
	term="pngcairo size 1000,450"
	gnuplot -e "set terminal $term" -e "quit" >/dev/null 2>&1 ||
	    term="png size 1000,450"
	gnuplot <<EOF || note "gnuplot failed: no redirect chart"
set terminal $term
set output '$RESULTS/redirect.png'
set multiplot layout 1,2 title "TCP redirect, each relay on loopback ($(nproc) cores, $(uname -r)); direct: no relay"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set key top right
set grid ytics
set yrange [0:*]
set xtics rotate by -30
set title 'bulk into a sink: GB/s (10^9 bytes/s)'
set ylabel 'GB/s'
plot for [i=2:$nb] '$WORK/redirect.bulk.dat' using i:xtic(1) title columnheader(i).' conns'
set title 'connect, 1 KiB echo, close: connections/s'
set ylabel 'connections/s'
plot for [i=2:$ns] '$WORK/redirect.short.dat' using i:xtic(1) title columnheader(i).' clients'
unset multiplot
EOF
fi

say "done in ${ELAPSED}s: $RESULTS/latest.md"
cat "$RESULTS/latest.md"
