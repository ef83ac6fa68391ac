/*
 * Copyright (c) 2026 The portmuxd authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/*
 * The benchmark's load generator (tests/bench/README): a closed loop of
 * N clients on one epoll set, each starting its next operation as soon as
 * the last one ends, for D seconds or M operations, whichever comes
 * first.  An operation is, by mode:
 *
 *   echo  connect, send the payload, read it back, close;
 *   eof   connect, read until the server closes (daytime, a program);
 *   hold  connect N clients (with an echo round trip when the payload
 *         is not empty, so that the daemon has really taken each one),
 *         then keep them idle for D seconds;
 *   udp   send the payload (tagged with a sequence number) on a
 *         connected datagram socket and wait for the same bytes back;
 *   bulk  not a loop of operations: N clients connect once and write a
 *         buffer of -s bytes (default 128 KiB) over and over for D
 *         seconds, as fast as the sockets take it; then each shuts its
 *         write side and waits (up to -t) for the server to close, which
 *         through a relay that passes the half-close on means that every
 *         byte reached the far end.  With -S ADDR:PORT (a ceilings sink's
 *         stats port) the sink's own count is asked before and after, and
 *         the rate reported is what the sink received, over the time from
 *         its first byte to its last; without -S, what was written, over
 *         the time from the start to the last close.  ops and ops_per_s
 *         are then bytes and bytes/s (bulk_gbytes_per_s: 10^9 bytes/s).
 *
 * Every operation has a deadline (-t), so nothing hangs, and the whole
 * run is bounded in time and count.  Latencies are kept in an array of
 * microseconds and sorted at the end, so p50/p99/max are exact.  The
 * result is one line of key=value pairs (or CSV with -o csv) on stdout.
 * Only numeric IPv4 and IPv6 addresses are accepted: no name lookups.
 */

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS	65536
#define MAX_COUNT	20000000	/* operations per run */
#define MAX_DURATION	3600		/* seconds */
#define MAX_PAYLOAD	65536
#define MAX_BULK_CHUNK	(4 << 20)	/* bulk: bytes per write */
#define BULK_CHUNK	(128 << 10)	/* bulk: default */
#define BULK_WRITES	16		/* bulk: writes per wakeup */
#define HOLD_INFLIGHT	64		/* hold: default connects in flight */
#define HOLD_SETUP_MAX	120		/* hold: seconds to establish */
#define ERROR_PAUSE_US	10000		/* a client rests after an error */
#define TICK_MS		10		/* deadline scan granularity */

enum mode {
	MODE_ECHO,
	MODE_EOF,
	MODE_HOLD,
	MODE_UDP,
	MODE_BULK
};

enum state {
	ST_IDLE,	/* no socket, waiting for its start time */
	ST_CONNECT,	/* connect in progress */
	ST_READ,	/* payload sent, reading the answer */
	ST_HELD,	/* hold: established, idle */
	ST_DONE,	/* hold, bulk: finished (failed or not started) */
	ST_WRITE,	/* bulk: writing */
	ST_DRAIN	/* bulk: write side shut, waiting for the close */
};

enum err {
	E_REFUSED,
	E_RESET,
	E_TIMEOUT,
	E_CLOSED,	/* EOF before the full answer, or no data at all */
	E_OTHER,
	E_MAX
};

static const char *err_names[E_MAX] = {
	"err_refused", "err_reset", "err_timeout", "err_closed", "err_other"
};

struct client {
	int		 fd;
	enum state	 st;
	uint64_t	 start;		/* µs, start of the operation */
	uint64_t	 deadline;	/* µs: timeout, or when to restart */
	size_t		 got;		/* bytes of the answer so far */
	uint32_t	 seq;		/* udp: sequence number expected */
	size_t		 off;		/* bulk: where the next write starts */
};

struct opts {
	enum mode	 mode;
	const char	*addr;
	int		 port;
	int		 conc;
	double		 duration;
	long		 count;
	size_t		 size;
	long		 timeout_ms;
	int		 inflight;
	const char	*label;
	const char	*ready;
	const char	*stats;		/* bulk: the sink's ADDR:PORT */
	bool		 csv;
	bool		 size_set;
};

static struct opts	 o;
static struct sockaddr_storage dst;
static socklen_t	 dstlen;
static struct client	*clients;
static int		 ep = -1;
static char		*payload;
static char		*rbuf;
static size_t		 rbufsz;

static uint32_t		*lat;		/* µs per completed operation */
static size_t		 nlat, latcap;
static long		 done, started;
static long		 errs[E_MAX];
static long		 established, dropped;
static uint64_t		 bulk_written, bulk_closed_us;
static long		 bulk_closed;
static volatile sig_atomic_t stop;

static uint64_t	now_us(void);
static void	usage(void) __attribute__((noreturn));
static void	die(const char *, ...)
		    __attribute__((noreturn, format(printf, 1, 2)));
static long	num(const char *, long, long, const char *);
static void	print_header(void);
static void	parse_args(int, char **);
static void	parse_addr(void);
static void	setup(void);
static void	record(uint32_t);
static enum err	classify(int);
static void	client_close(struct client *);
static bool	quota_left(void);
static bool	udp_send(struct client *, uint64_t);
static bool	client_start(struct client *, uint64_t);
static void	client_fail(struct client *, enum err, uint64_t);
static void	client_finish(struct client *, uint64_t);
static void	set_events(struct client *, uint32_t);
static void	on_connect(struct client *, uint64_t);
static void	on_read_stream(struct client *, uint64_t);
static void	on_read_udp(struct client *, uint64_t);
static void	client_event(struct client *, uint32_t, uint64_t);
static void	scan(uint64_t, bool);
static void	run_loop(uint64_t, bool);
static void	hold_ready(void);
static void	hold_setup(void);
static int	cmp_u32(const void *, const void *);
static uint32_t	pct(double);
static void	report(double);
static void	on_signal(int);
static void	bulk_write(struct client *, uint64_t);
static void	bulk_drain(struct client *, uint64_t);
static bool	sink_query(uint64_t *, uint64_t *, uint64_t *, uint64_t *);
static int	run_bulk(void);

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen -m echo|eof|hold|udp|bulk -a addr -p port "
	    "[-c clients]\n"
	    "               [-d seconds] [-n count] [-s bytes] "
	    "[-t timeout_ms]\n"
	    "               [-l label] [-r readyfile] [-w inflight] "
	    "[-S addr:port]\n"
	    "               [-o kv|csv]\n"
	    "       loadgen -H    (print the CSV header)\n");
	exit(64);
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "loadgen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static long
num(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		die("%s: %s is not a number from %ld to %ld", what, s, lo, hi);
	return v;
}

static void
print_header(void)
{
	printf("label,mode,clients,seconds,ops,ops_per_s,p50_us,p99_us,"
	    "max_us,errors,err_refused,err_reset,err_timeout,err_closed,"
	    "err_other,established,dropped\n");
}

static void
parse_args(int argc, char **argv)
{
	char *end;
	int ch;

	o.conc = 1;
	o.duration = 3;
	o.count = MAX_COUNT;
	o.size = 16;
	o.timeout_ms = 5000;
	o.inflight = HOLD_INFLIGHT;
	o.label = "-";
	o.port = -1;
	o.mode = -1;
	while ((ch = getopt(argc, argv, "a:c:d:Hl:m:n:o:p:r:S:s:t:w:")) !=
	    -1) {
		switch (ch) {
		case 'a':
			o.addr = optarg;
			break;
		case 'c':
			o.conc = num(optarg, 1, MAX_CLIENTS, "-c");
			break;
		case 'd':
			errno = 0;
			o.duration = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(o.duration > 0 && o.duration <= MAX_DURATION))
				die("-d: %s is not a duration in seconds "
				    "(0 < d <= %d)", optarg, MAX_DURATION);
			break;
		case 'H':
			print_header();
			exit(0);
		case 'l':
			o.label = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "echo") == 0)
				o.mode = MODE_ECHO;
			else if (strcmp(optarg, "eof") == 0)
				o.mode = MODE_EOF;
			else if (strcmp(optarg, "hold") == 0)
				o.mode = MODE_HOLD;
			else if (strcmp(optarg, "udp") == 0)
				o.mode = MODE_UDP;
			else if (strcmp(optarg, "bulk") == 0)
				o.mode = MODE_BULK;
			else
				die("-m: unknown mode %s", optarg);
			break;
		case 'n':
			o.count = num(optarg, 1, MAX_COUNT, "-n");
			break;
		case 'o':
			if (strcmp(optarg, "csv") == 0)
				o.csv = true;
			else if (strcmp(optarg, "kv") != 0)
				die("-o: kv or csv");
			break;
		case 'p':
			o.port = num(optarg, 1, 65535, "-p");
			break;
		case 'r':
			o.ready = optarg;
			break;
		case 'S':
			o.stats = optarg;
			break;
		case 's':
			o.size = num(optarg, 0, MAX_BULK_CHUNK, "-s");
			o.size_set = true;
			break;
		case 't':
			o.timeout_ms = num(optarg, 1, 600000, "-t");
			break;
		case 'w':
			o.inflight = num(optarg, 1, MAX_CLIENTS, "-w");
			break;
		default:
			usage();
		}
	}
	if (optind != argc || o.addr == NULL || o.port < 0 ||
	    (int)o.mode == -1)
		usage();
	if (o.mode == MODE_UDP && o.size < 12)
		die("-s: udp needs at least 12 bytes for the sequence tag");
	if (o.mode == MODE_ECHO && o.size == 0)
		die("-s: echo needs a payload");
	if (o.mode == MODE_BULK && !o.size_set)
		o.size = BULK_CHUNK;
	if (o.mode == MODE_BULK && o.size == 0)
		die("-s: bulk needs a buffer");
	if (o.mode != MODE_BULK && o.size > MAX_PAYLOAD)
		die("-s: at most %d bytes but in bulk mode", MAX_PAYLOAD);
	if (o.stats != NULL && o.mode != MODE_BULK)
		die("-S: bulk mode only");
	if (o.csv && o.mode == MODE_BULK)
		die("-o csv: not in bulk mode");
}

/* A numeric address only: a benchmark must never wait on DNS. */
static void
parse_addr(void)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&dst;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&dst;

	memset(&dst, 0, sizeof(dst));
	if (inet_pton(AF_INET, o.addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(o.port);
		dstlen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, o.addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(o.port);
		dstlen = sizeof(*sin6);
	} else
		die("-a: %s is not a numeric IPv4 or IPv6 address", o.addr);
}

static void
setup(void)
{
	struct rlimit rl;
	size_t i;
	int n;

	parse_addr();

	/* One fd per client plus a few: raise the soft limit if needed. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)o.conc + 64) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < (rlim_t)o.conc + 64)
			die("-c %d needs %d fds, the hard limit is %llu",
			    o.conc, o.conc + 64,
			    (unsigned long long)rl.rlim_max);
	}
	signal(SIGPIPE, SIG_IGN);

	/* The payload: printable, ending in a newline (a "line"). */
	if ((payload = malloc(o.size + 1)) == NULL)
		die("out of memory");
	for (i = 0; i < o.size; i++)
		payload[i] = 'a' + i % 26;
	if (o.size > 0)
		payload[o.size - 1] = '\n';
	rbufsz = o.size > 4096 ? o.size + 1 : 4096;
	if ((rbuf = malloc(rbufsz)) == NULL)
		die("out of memory");

	if ((clients = calloc(o.conc, sizeof(*clients))) == NULL)
		die("out of memory");
	for (n = 0; n < o.conc; n++)
		clients[n].fd = -1;

	/* Latencies: grown on demand, bounded by -n. */
	latcap = o.count < 65536 ? (size_t)o.count : 65536;
	if ((lat = malloc(latcap * sizeof(*lat))) == NULL)
		die("out of memory");

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1: %s", strerror(errno));
}

static void
record(uint32_t us)
{
	uint32_t *n;
	size_t cap;

	if (nlat == latcap) {
		cap = latcap * 2;
		if (cap > (size_t)o.count)
			cap = o.count;
		if (cap <= latcap)
			return;
		if ((n = realloc(lat, cap * sizeof(*lat))) == NULL)
			die("out of memory for %zu latencies", cap);
		lat = n;
		latcap = cap;
	}
	lat[nlat++] = us;
}

static enum err
classify(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return E_REFUSED;
	case ECONNRESET:
	case EPIPE:
		return E_RESET;
	case ETIMEDOUT:
		return E_TIMEOUT;
	default:
		return E_OTHER;
	}
}

static void
client_close(struct client *c)
{
	if (c->fd != -1) {
		/* close() also takes the fd out of the epoll set. */
		close(c->fd);
		c->fd = -1;
	}
}

static bool
quota_left(void)
{
	return started < o.count && !stop;
}

/*
 * One request: the payload, its first 11 bytes replaced by the
 * sequence number and a colon, so that a late answer to a request that
 * timed out is not taken for the answer to this one.
 */
static bool
udp_send(struct client *c, uint64_t now)
{
	char tag[12];

	c->seq++;
	snprintf(tag, sizeof(tag), "%010" PRIu32 ":", c->seq);
	memcpy(payload, tag, 11);
	if (send(c->fd, payload, o.size, 0) == -1) {
		client_fail(c, classify(errno), now);
		return false;
	}
	c->st = ST_READ;
	return true;
}

/*
 * Start one operation: a non-blocking connect (TCP) or a datagram.
 * Returns false when the client failed at once (already accounted).
 */
static bool
client_start(struct client *c, uint64_t now)
{
	struct epoll_event ev;
	int type, fd;

	c->start = now;
	c->deadline = now + (uint64_t)o.timeout_ms * 1000;
	c->got = 0;
	started++;

	/* The datagram socket is kept from one request to the next. */
	if (o.mode == MODE_UDP && c->fd != -1)
		return udp_send(c, now);

	type = o.mode == MODE_UDP ? SOCK_DGRAM : SOCK_STREAM;
	fd = socket(dst.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		client_fail(c, E_OTHER, now);
		return false;
	}
	c->fd = fd;
	if (connect(fd, (struct sockaddr *)&dst, dstlen) == -1 &&
	    errno != EINPROGRESS) {
		client_fail(c, classify(errno), now);
		return false;
	}
	memset(&ev, 0, sizeof(ev));
	ev.data.ptr = c;
	if (o.mode == MODE_UDP) {
		if (!udp_send(c, now))
			return false;
		ev.events = EPOLLIN;
	} else if (o.mode == MODE_EOF ||
	    (o.mode == MODE_HOLD && o.size == 0)) {
		/* Nothing to send: a refused connect shows up as EPOLLERR. */
		c->st = o.mode == MODE_EOF ? ST_READ : ST_CONNECT;
		ev.events = o.mode == MODE_EOF ? EPOLLIN : EPOLLOUT;
	} else {
		c->st = ST_CONNECT;
		ev.events = EPOLLOUT;
	}
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		die("epoll_ctl: %s", strerror(errno));
	return true;
}

static void
client_fail(struct client *c, enum err e, uint64_t now)
{
	errs[e]++;
	client_close(c);
	if (o.mode == MODE_HOLD || o.mode == MODE_BULK) {
		c->st = ST_DONE;
		return;
	}
	/*
	 * A refused connect fails in microseconds: rest a little, so that
	 * a dead server is not hammered and the error count stays a count
	 * of attempts a real client would make.
	 */
	c->st = ST_IDLE;
	c->deadline = now + ERROR_PAUSE_US;
}

static void
client_finish(struct client *c, uint64_t now)
{
	uint64_t us = now - c->start;

	done++;
	record(us > UINT32_MAX ? UINT32_MAX : (uint32_t)us);
	if (o.mode == MODE_HOLD) {
		established++;
		c->st = ST_HELD;
		c->deadline = UINT64_MAX;
		return;
	}
	if (o.mode != MODE_UDP)
		client_close(c);
	c->st = ST_IDLE;
	c->deadline = now;
	if (quota_left())
		client_start(c, now);
}

static void
set_events(struct client *c, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		die("epoll_ctl: %s", strerror(errno));
}

/* The connect completed (or failed): send the payload. */
static void
on_connect(struct client *c, uint64_t now)
{
	ssize_t n;
	int e = 0;
	socklen_t len = sizeof(e);

	if (o.mode == MODE_BULK) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
			e = errno;
		if (e != 0) {
			client_fail(c, classify(e), now);
			return;
		}
		c->st = ST_WRITE;
		bulk_write(c, now);
		return;
	}
	if (o.size == 0) {
		/* hold without a round trip: check the connect's result. */
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
			e = errno;
		if (e != 0) {
			client_fail(c, classify(e), now);
			return;
		}
		set_events(c, EPOLLIN | EPOLLRDHUP);
		client_finish(c, now);
		return;
	}
	/* A failed connect makes send() return its error. */
	n = send(c->fd, payload, o.size, MSG_NOSIGNAL);
	if (n == -1) {
		if (errno == EAGAIN)
			return;
		client_fail(c, classify(errno), now);
		return;
	}
	if ((size_t)n != o.size) {
		client_fail(c, E_OTHER, now);
		return;
	}
	c->st = ST_READ;
	set_events(c, EPOLLIN);
}

static void
on_read_stream(struct client *c, uint64_t now)
{
	ssize_t n;

	for (;;) {
		n = read(c->fd, rbuf, rbufsz);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			client_fail(c, classify(errno), now);
			return;
		}
		if (n == 0) {
			/* EOF: the end of an eof operation, else too early. */
			if (o.mode == MODE_EOF && c->got > 0)
				client_finish(c, now);
			else
				client_fail(c, E_CLOSED, now);
			return;
		}
		if (o.mode == MODE_EOF) {
			c->got += n;
			continue;
		}
		if (c->got + n > o.size ||
		    memcmp(rbuf, payload + c->got, n) != 0) {
			client_fail(c, E_OTHER, now);
			return;
		}
		c->got += n;
		if (c->got == o.size) {
			if (o.mode == MODE_HOLD)
				set_events(c, EPOLLIN | EPOLLRDHUP);
			client_finish(c, now);
			return;
		}
	}
}

static void
on_read_udp(struct client *c, uint64_t now)
{
	char want[12];
	ssize_t n;

	for (;;) {
		n = recv(c->fd, rbuf, rbufsz, 0);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* An ICMP port unreachable: ECONNREFUSED. */
			client_fail(c, classify(errno), now);
			return;
		}
		if ((size_t)n != o.size) {
			client_fail(c, E_OTHER, now);
			return;
		}
		snprintf(want, sizeof(want), "%010" PRIu32 ":", c->seq);
		if (memcmp(rbuf, want, 11) == 0) {
			client_finish(c, now);
			return;
		}
		/* A late answer to an earlier, timed-out request: skip it. */
	}
}

static void
client_event(struct client *c, uint32_t events, uint64_t now)
{
	switch (c->st) {
	case ST_CONNECT:
		on_connect(c, now);
		break;
	case ST_READ:
		if (o.mode == MODE_UDP)
			on_read_udp(c, now);
		else
			on_read_stream(c, now);
		break;
	case ST_WRITE:
		bulk_write(c, now);
		break;
	case ST_DRAIN:
		bulk_drain(c, now);
		break;
	case ST_HELD:
		/* Anything on a held connection means the server let go. */
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
			dropped++;
			client_close(c);
			c->st = ST_DONE;
		}
		break;
	default:
		break;
	}
}

/* Deadlines: time out operations, restart clients that rested. */
static void
scan(uint64_t now, bool starting)
{
	struct client *c;
	int i;

	for (i = 0; i < o.conc; i++) {
		c = &clients[i];
		if (c->deadline > now)
			continue;
		switch (c->st) {
		case ST_IDLE:
			if (starting && quota_left())
				client_start(c, now);
			break;
		case ST_CONNECT:
		case ST_READ:
		case ST_DRAIN:
			client_fail(c, E_TIMEOUT, now);
			break;
		default:
			break;
		}
	}
}

static void
run_loop(uint64_t end, bool starting)
{
	struct epoll_event evs[256];
	uint64_t now, next_scan = 0;
	int n, i, tmo;

	for (;;) {
		now = now_us();
		if (now >= end || stop)
			return;
		if (now >= next_scan) {
			scan(now, starting);
			next_scan = now + TICK_MS * 1000;
		}
		if (o.mode != MODE_HOLD && started >= o.count &&
		    done + errs[E_REFUSED] + errs[E_RESET] + errs[E_TIMEOUT] +
		    errs[E_CLOSED] + errs[E_OTHER] >= started)
			return;
		tmo = (int)((end - now) / 1000);
		if (tmo > TICK_MS)
			tmo = TICK_MS;
		n = epoll_wait(ep, evs, 256, tmo);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		now = now_us();
		for (i = 0; i < n; i++)
			client_event(evs[i].data.ptr, evs[i].events, now);
	}
}

/*
 * hold: tell the runner (through a file renamed into place) that every
 * client is established or has failed, so that it can sample the
 * daemon's memory while they idle.
 */
static void
hold_ready(void)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (o.ready == NULL)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", o.ready) >=
	    (int)sizeof(tmp))
		die("-r: path too long");
	if ((f = fopen(tmp, "w")) == NULL)
		die("%s: %s", tmp, strerror(errno));
	fprintf(f, "established=%ld\n", established);
	if (fclose(f) != 0 || rename(tmp, o.ready) == -1)
		die("%s: %s", o.ready, strerror(errno));
}

/*
 * hold: open the clients -w at a time, since a burst of 10,000 SYNs
 * would only measure the listen backlog.
 */
static void
hold_setup(void)
{
	struct epoll_event evs[256];
	uint64_t now, end;
	int next = 0, inflight, n, i;

	end = now_us() + (uint64_t)HOLD_SETUP_MAX * 1000000;
	for (;;) {
		now = now_us();
		inflight = 0;
		for (i = 0; i < next; i++)
			if (clients[i].st == ST_CONNECT ||
			    clients[i].st == ST_READ)
				inflight++;
		while (next < o.conc && inflight < o.inflight && !stop) {
			if (client_start(&clients[next++], now_us()))
				inflight++;
		}
		if ((next == o.conc && inflight == 0) || now >= end || stop)
			break;
		scan(now, false);
		n = epoll_wait(ep, evs, 256, TICK_MS);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		now = now_us();
		for (i = 0; i < n; i++)
			client_event(evs[i].data.ptr, evs[i].events, now);
	}
	/* Whatever is still connecting by now counts as timed out. */
	for (i = 0; i < o.conc; i++)
		if (clients[i].st == ST_CONNECT || clients[i].st == ST_READ)
			client_fail(&clients[i], E_TIMEOUT, now_us());
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank percentile of the sorted latencies. */
static uint32_t
pct(double p)
{
	size_t rank;

	if (nlat == 0)
		return 0;
	rank = (size_t)(p / 100.0 * nlat + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > nlat)
		rank = nlat;
	return lat[rank - 1];
}

static void
report(double secs)
{
	const char *modes[] = { "echo", "eof", "hold", "udp", "bulk" };
	long total = 0;
	int i;

	for (i = 0; i < E_MAX; i++)
		total += errs[i];
	qsort(lat, nlat, sizeof(*lat), cmp_u32);
	if (o.csv) {
		printf("%s,%s,%d,%.3f,%ld,%.1f,%" PRIu32 ",%" PRIu32
		    ",%" PRIu32 ",%ld", o.label, modes[o.mode], o.conc, secs,
		    done, done / secs, pct(50), pct(99),
		    nlat ? lat[nlat - 1] : 0, total);
		for (i = 0; i < E_MAX; i++)
			printf(",%ld", errs[i]);
		printf(",%ld,%ld\n", established, dropped);
		return;
	}
	printf("label=%s mode=%s clients=%d seconds=%.3f ops=%ld "
	    "ops_per_s=%.1f p50_us=%" PRIu32 " p99_us=%" PRIu32
	    " max_us=%" PRIu32 " errors=%ld", o.label, modes[o.mode], o.conc,
	    secs, done, done / secs, pct(50), pct(99),
	    nlat ? lat[nlat - 1] : 0, total);
	for (i = 0; i < E_MAX; i++)
		printf(" %s=%ld", err_names[i], errs[i]);
	if (o.mode == MODE_HOLD)
		printf(" established=%ld dropped=%ld", established, dropped);
	printf("\n");
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* bulk: as much as the socket takes, a bounded number of writes. */
static void
bulk_write(struct client *c, uint64_t now)
{
	ssize_t n;
	int i;

	for (i = 0; i < BULK_WRITES; i++) {
		n = send(c->fd, payload + c->off, o.size - c->off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			bulk_written += (uint64_t)n;
			c->off = (c->off + (size_t)n) % o.size;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		client_fail(c, n == -1 ? classify(errno) : E_OTHER, now);
		return;
	}
}

/* bulk: the write side is shut; read (and drop) until the close. */
static void
bulk_drain(struct client *c, uint64_t now)
{
	ssize_t n;

	for (;;) {
		n = read(c->fd, rbuf, rbufsz);
		if (n > 0)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == -1) {
			client_fail(c, classify(errno), now);
			return;
		}
		bulk_closed++;
		bulk_closed_us = now;
		record((uint32_t)((now - c->start) > UINT32_MAX ? UINT32_MAX :
		    now - c->start));
		client_close(c);
		c->st = ST_DONE;
		return;
	}
}

/*
 * The sink's counters since the last query (which resets them): a
 * blocking connect to the stats port, one line back.
 */
static bool
sink_query(uint64_t *bytes, uint64_t *conns, uint64_t *first,
    uint64_t *last)
{
	struct sockaddr_in sin;
	struct timeval tv = { 2, 0 };
	char addr[64], line[256], *colon;
	unsigned long long b, n, f, l;
	size_t got = 0;
	ssize_t r;
	int fd;

	if (strlen(o.stats) >= sizeof(addr))
		die("-S: %s is too long", o.stats);
	strcpy(addr, o.stats);
	if ((colon = strrchr(addr, ':')) == NULL)
		die("-S: ADDR:PORT, not %s", o.stats);
	*colon = '\0';
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(num(colon + 1, 1, 65535, "-S port"));
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		die("-S: %s is not a numeric IPv4 address", addr);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return false;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return false;
	}
	while (got < sizeof(line) - 1 &&
	    (r = read(fd, line + got, sizeof(line) - 1 - got)) > 0)
		got += (size_t)r;
	close(fd);
	line[got] = '\0';
	if (sscanf(line, "sink_bytes=%llu sink_conns=%llu sink_first_us=%llu "
	    "sink_last_us=%llu", &b, &n, &f, &l) != 4)
		return false;
	*bytes = b;
	*conns = n;
	*first = f;
	*last = l;
	return true;
}

static int
run_bulk(void)
{
	struct epoll_event evs[256];
	uint64_t t0, end, now, stop_at, sb = 0, sc = 0, sf = 0, sl = 0;
	uint64_t b, n, f, l, delivered;
	double secs, wsecs;
	bool sink = false;
	int i, k, nev, left;
	long total = 0;

	if (o.stats != NULL) {
		/* Zero the sink's counters. */
		if (!sink_query(&b, &n, &f, &l))
			die("-S %s: no answer from the sink", o.stats);
		sink = true;
	}
	t0 = now_us();
	end = t0 + (uint64_t)(o.duration * 1e6);
	for (i = 0; i < o.conc; i++)
		client_start(&clients[i], t0);
	run_loop(end, false);
	now = now_us();
	wsecs = (now - t0) / 1e6;

	/* Shut every write side; wait (-t at most) for the closes. */
	for (i = 0; i < o.conc; i++) {
		struct client *c = &clients[i];

		if (c->st == ST_CONNECT) {
			client_fail(c, E_TIMEOUT, now);
			continue;
		}
		if (c->st != ST_WRITE)
			continue;
		if (shutdown(c->fd, SHUT_WR) == -1) {
			client_fail(c, classify(errno), now);
			continue;
		}
		c->st = ST_DRAIN;
		c->start = now;
		c->deadline = now + (uint64_t)o.timeout_ms * 1000;
		set_events(c, EPOLLIN | EPOLLRDHUP);
	}
	stop_at = now + (uint64_t)o.timeout_ms * 1000 + 100000;
	for (;;) {
		left = 0;
		for (i = 0; i < o.conc; i++)
			if (clients[i].st == ST_DRAIN)
				left++;
		now = now_us();
		if (left == 0 || now >= stop_at || stop)
			break;
		scan(now, false);
		nev = epoll_wait(ep, evs, 256, TICK_MS);
		if (nev == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		now = now_us();
		for (k = 0; k < nev; k++)
			client_event(evs[k].data.ptr, evs[k].events, now);
	}
	for (i = 0; i < o.conc; i++)
		client_close(&clients[i]);

	/*
	 * The sink's count: asked until it stops growing (a relay may still
	 * be delivering what a client that timed out had written).
	 */
	if (sink) {
		for (k = 0; k < 20; k++) {
			if (!sink_query(&b, &n, &f, &l))
				die("-S %s: no answer from the sink", o.stats);
			if (b > 0) {
				if (sb == 0)
					sf = f;
				sb += b;
				sl = l;
			}
			sc += n;
			if (b == 0 && k > 0)
				break;
			usleep(100000);
		}
	}
	if (sink) {
		delivered = sb;
		secs = sl > sf ? (sl - sf) / 1e6 : 0;
	} else {
		delivered = bulk_written;
		secs = bulk_closed_us > t0 ? (bulk_closed_us - t0) / 1e6 : 0;
	}
	for (i = 0; i < E_MAX; i++)
		total += errs[i];
	qsort(lat, nlat, sizeof(*lat), cmp_u32);
	printf("label=%s mode=bulk clients=%d seconds=%.3f ops=%llu "
	    "ops_per_s=%.1f bulk_gbytes_per_s=%.3f bytes_written=%llu "
	    "bytes_delivered=%llu bytes_lost=%lld counted_by=%s "
	    "write_seconds=%.3f closed=%ld close_p50_us=%" PRIu32
	    " close_max_us=%" PRIu32 " p50_us=0 p99_us=0 max_us=0 errors=%ld",
	    o.label, o.conc, secs, (unsigned long long)delivered,
	    secs > 0 ? delivered / secs : 0.0,
	    secs > 0 ? delivered / secs / 1e9 : 0.0,
	    (unsigned long long)bulk_written, (unsigned long long)delivered,
	    (long long)bulk_written - (long long)delivered,
	    sink ? "sink" : "writer", wsecs, bulk_closed, pct(50),
	    nlat ? lat[nlat - 1] : 0, total);
	if (sink)
		printf(" sink_conns=%llu", (unsigned long long)sc);
	for (i = 0; i < E_MAX; i++)
		printf(" %s=%ld", err_names[i], errs[i]);
	printf("\n");
	return 0;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	uint64_t t0, end;
	int i;

	parse_args(argc, argv);
	setup();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (o.mode == MODE_BULK)
		return run_bulk();
	if (o.mode == MODE_HOLD) {
		hold_setup();
		hold_ready();
		t0 = now_us();
		run_loop(t0 + (uint64_t)(o.duration * 1e6), false);
		for (i = 0; i < o.conc; i++)
			client_close(&clients[i]);
		/* The latencies are those of establishing the clients. */
		report((now_us() - t0) / 1e6);
		return 0;
	}

	t0 = now_us();
	end = t0 + (uint64_t)(o.duration * 1e6);
	for (i = 0; i < o.conc && quota_left(); i++)
		client_start(&clients[i], t0);
	run_loop(end, true);
	/* Operations still in flight at the end are not counted. */
	for (i = 0; i < o.conc; i++)
		client_close(&clients[i]);
	report((now_us() - t0) / 1e6);
	return 0;
}
