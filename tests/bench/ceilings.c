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
 * The two ceilings of the benchmark (tests/bench/README), the simplest
 * servers that do the same job as a superserver, with nothing else:
 *
 *   ceilings fork -a ADDR -p PORT [-u user] -- PROGRAM [ARG...]
 *	a blocking accept loop that forks for each connection; the child
 *	puts the socket on fd 0 and 1, drops to `user' when run as root
 *	(as every superserver does) and execs PROGRAM.  The parent closes
 *	its copy and accepts the next one; children are reaped by the
 *	kernel (SIGCHLD ignored).  No limits, no logging, no checks.
 *
 *   ceilings epoll -a ADDR [-e port] [-t port] [-U port]
 *	one thread, one epoll set: TCP echo on -e, TCP daytime on -t and
 *	UDP echo on -U.  Listeners are drained until EAGAIN; an idle
 *	connection costs only its socket and epoll entry, no buffer.
 *
 *   ceilings sink -a ADDR -p PORT [-k statsport]
 *	one thread, one epoll set: accepts on -p and discards whatever
 *	arrives, as fast as the kernel hands it over (recv with MSG_TRUNC:
 *	TCP drops the bytes without copying them out), closing on EOF.  It
 *	counts the bytes, the connections, and the CLOCK_MONOTONIC time of
 *	the first and the last byte.  A connection to -k gets one line,
 *	"sink_bytes=N sink_conns=N sink_first_us=T sink_last_us=T", and is
 *	closed; the counters start again from zero (loadgen -m bulk -S).
 *
 * All three run in the foreground until SIGTERM or SIGINT, and only on the
 * numeric address they are given.
 */

#define _GNU_SOURCE	/* accept4 */

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BACKLOG	1024

/* epoll data: the fd in the low bits, its kind in the high ones. */
#define KIND_ECHO_L	1ULL
#define KIND_DAYTIME_L	2ULL
#define KIND_UDP	3ULL
#define KIND_CONN	4ULL
#define KIND_SINK_L	5ULL
#define KIND_STATS_L	6ULL
#define KIND_SINK	7ULL
#define TAG(kind, fd)	(((uint64_t)(kind) << 32) | (uint32_t)(fd))

static volatile sig_atomic_t stop;

static void	usage(void) __attribute__((noreturn));
static void	die(const char *, ...)
		    __attribute__((noreturn, format(printf, 1, 2)));
static void	on_signal(int);
static int	port_arg(const char *);
static int	listen_on(const char *, int, int, int);
static int	run_fork(const char *, int, const char *, char **);
static void	add(int, int, uint64_t);
static size_t	daytime(char *, size_t);
static void	accept_all(int, int, bool);
static void	echo_conn(int);
static void	echo_udp(int);
static int	run_epoll(const char *, int, int, int);
static uint64_t	mono_us(void);
static void	sink_read(int);
static void	sink_stats(int);
static int	run_sink(const char *, int, int);
static void	raise_nofile(void);

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ceilings fork -a addr -p port [-u user] -- program "
	    "[arg ...]\n"
	    "       ceilings epoll -a addr [-e echoport] [-t daytimeport] "
	    "[-U udpechoport]\n"
	    "       ceilings sink -a addr -p port [-k statsport]\n");
	exit(64);
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ceilings: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
port_arg(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 65535)
		die("bad port %s", s);
	return (int)v;
}

/* A bound socket on a numeric address; listening when it is TCP. */
static int
listen_on(const char *addr, int port, int type, int flags)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, on = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		len = sizeof(*sin6);
	} else
		die("%s is not a numeric address", addr);
	fd = socket(ss.ss_family, type | flags | SOCK_CLOEXEC, 0);
	if (fd == -1)
		die("socket: %s", strerror(errno));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1)
		die("bind %s port %d: %s", addr, port, strerror(errno));
	if (type == SOCK_STREAM && listen(fd, BACKLOG) == -1)
		die("listen: %s", strerror(errno));
	return fd;
}

/*
 * The bare accept-fork-exec loop: what inetd does for a nowait service,
 * minus the config, the limits and the logging.
 */
static int
run_fork(const char *addr, int port, const char *user, char **argv)
{
	struct sigaction sa;
	struct passwd *pw = NULL;
	uid_t uid = 0;
	gid_t gid = 0;
	pid_t pid;
	int lfd, fd;

	if (user != NULL && geteuid() == 0) {
		if ((pw = getpwnam(user)) == NULL)
			die("unknown user %s", user);
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	lfd = listen_on(addr, port, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = SA_NOCLDWAIT;
	sigaction(SIGCHLD, &sa, NULL);
	/* No SA_RESTART: a signal ends the blocking accept. */
	sa.sa_handler = on_signal;
	sa.sa_flags = 0;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	while (!stop) {
		fd = accept4(lfd, NULL, NULL, 0);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				usleep(10000);
				continue;
			}
			die("accept: %s", strerror(errno));
		}
		pid = fork();
		if (pid == 0) {
			signal(SIGCHLD, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			if (dup2(fd, 0) == -1 || dup2(fd, 1) == -1)
				_exit(127);
			if (fd > 1)
				close(fd);
			if (pw != NULL && (setgroups(0, NULL) == -1 ||
			    setgid(gid) == -1 || setuid(uid) == -1))
				_exit(127);
			execv(argv[0], argv);
			_exit(127);
		}
		/* fork failure: drop this connection, keep serving. */
		close(fd);
	}
	return 0;
}

static void
add(int ep, int fd, uint64_t kind)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = TAG(kind, fd);
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		die("epoll_ctl: %s", strerror(errno));
}

/* RFC 867, ctime style in local time, rebuilt once a second. */
static size_t
daytime(char *buf, size_t size)
{
	static time_t last = -1;
	static char line[64];
	static size_t len;
	struct tm tm;
	time_t now = time(NULL);

	if (now != last) {
		localtime_r(&now, &tm);
		len = strftime(line, sizeof(line), "%a %b %e %H:%M:%S %Y\r\n",
		    &tm);
		last = now;
	}
	memcpy(buf, line, len < size ? len : size);
	return len;
}

static void
accept_all(int ep, int lfd, bool echo)
{
	char line[64];
	size_t len;
	int fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* EAGAIN, or EMFILE: try again on the next event. */
			return;
		}
		if (echo) {
			add(ep, fd, KIND_CONN);
			continue;
		}
		len = daytime(line, sizeof(line));
		(void)write(fd, line, len);
		close(fd);
	}
}

/*
 * Echo what is there; close on EOF or error.  No per-connection state:
 * the clients send one message (16 bytes to 1 KiB) and wait for it, so
 * the socket always has room for the answer.  Should it not, the rest
 * is written within a second with poll(), or the connection is closed.
 */
static void
echo_conn(int fd)
{
	struct pollfd pfd;
	char buf[16384];
	ssize_t n, w, off;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			for (off = 0; off < n; off += w) {
				w = write(fd, buf + off, n - off);
				if (w > 0)
					continue;
				pfd.fd = fd;
				pfd.events = POLLOUT;
				if (w == -1 && (errno == EAGAIN ||
				    errno == EINTR) && poll(&pfd, 1, 1000) == 1) {
					w = 0;
					continue;
				}
				close(fd);
				return;
			}
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		close(fd);
		return;
	}
}

static void
echo_udp(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[65536];
	ssize_t n;

	for (;;) {
		len = sizeof(ss);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss,
		    &len);
		if (n == -1)
			return;
		(void)sendto(fd, buf, n, 0, (struct sockaddr *)&ss, len);
	}
}

static int
run_epoll(const char *addr, int eport, int tport, int uport)
{
	struct epoll_event evs[256];
	struct sigaction sa;
	int ep, n, i, fd;
	uint64_t kind;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1: %s", strerror(errno));
	/* Non-blocking, so that the accept and recv loops end at EAGAIN. */
	if (eport > 0)
		add(ep, listen_on(addr, eport, SOCK_STREAM, SOCK_NONBLOCK),
		    KIND_ECHO_L);
	if (tport > 0)
		add(ep, listen_on(addr, tport, SOCK_STREAM, SOCK_NONBLOCK),
		    KIND_DAYTIME_L);
	if (uport > 0)
		add(ep, listen_on(addr, uport, SOCK_DGRAM, SOCK_NONBLOCK),
		    KIND_UDP);

	while (!stop) {
		n = epoll_wait(ep, evs, 256, -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		for (i = 0; i < n; i++) {
			kind = evs[i].data.u64 >> 32;
			fd = (int)(uint32_t)evs[i].data.u64;
			if (kind == KIND_ECHO_L)
				accept_all(ep, fd, true);
			else if (kind == KIND_DAYTIME_L)
				accept_all(ep, fd, false);
			else if (kind == KIND_UDP)
				echo_udp(fd);
			else
				echo_conn(fd);
		}
	}
	return 0;
}

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/*
 * Many idle connections: one fd each, and the default soft limit may be
 * 1024.  As much as the hard limit allows.
 */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static uint64_t	sink_bytes, sink_conns, sink_first, sink_last;

/* Discard what is there: MSG_TRUNC on TCP drops it without a copy. */
static void
sink_read(int fd)
{
	/* Big enough for what one recv() asks, should a kernel copy. */
	static char buf[1 << 20];
	ssize_t n;
	int i;

	/* Bounded, so that one busy connection does not starve the rest. */
	for (i = 0; i < 64; i++) {
		n = recv(fd, buf, sizeof(buf), MSG_TRUNC | MSG_DONTWAIT);
		if (n > 0) {
			if (sink_bytes == 0)
				sink_first = mono_us();
			sink_bytes += (uint64_t)n;
			sink_last = mono_us();
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		close(fd);
		return;
	}
}

static void
sink_stats(int lfd)
{
	char line[160];
	int fd, len;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) != -1) {
		len = snprintf(line, sizeof(line), "sink_bytes=%llu "
		    "sink_conns=%llu sink_first_us=%llu sink_last_us=%llu\n",
		    (unsigned long long)sink_bytes,
		    (unsigned long long)sink_conns,
		    (unsigned long long)sink_first,
		    (unsigned long long)sink_last);
		(void)write(fd, line, len);
		close(fd);
		sink_bytes = sink_conns = sink_first = sink_last = 0;
	}
}

static int
run_sink(const char *addr, int port, int kport)
{
	struct epoll_event evs[256];
	struct sigaction sa;
	int ep, n, i, fd, lfd;
	uint64_t kind;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1: %s", strerror(errno));
	lfd = listen_on(addr, port, SOCK_STREAM, SOCK_NONBLOCK);
	add(ep, lfd, KIND_SINK_L);
	if (kport > 0)
		add(ep, listen_on(addr, kport, SOCK_STREAM, SOCK_NONBLOCK),
		    KIND_STATS_L);
	while (!stop) {
		n = epoll_wait(ep, evs, 256, -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		for (i = 0; i < n; i++) {
			kind = evs[i].data.u64 >> 32;
			fd = (int)(uint32_t)evs[i].data.u64;
			if (kind == KIND_SINK_L) {
				while ((fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
					sink_conns++;
					add(ep, fd, KIND_SINK);
				}
			} else if (kind == KIND_STATS_L)
				sink_stats(fd);
			else
				sink_read(fd);
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *addr = NULL, *user = NULL, *cmd;
	int ch, port = 0, eport = 0, tport = 0, uport = 0, kport = 0;

	if (argc < 2)
		usage();
	cmd = argv[1];
	argc--;
	argv++;
	while ((ch = getopt(argc, argv, "a:e:k:p:t:U:u:")) != -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'e':
			eport = port_arg(optarg);
			break;
		case 'k':
			kport = port_arg(optarg);
			break;
		case 'p':
			port = port_arg(optarg);
			break;
		case 't':
			tport = port_arg(optarg);
			break;
		case 'U':
			uport = port_arg(optarg);
			break;
		case 'u':
			user = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (addr == NULL)
		usage();
	if (strcmp(cmd, "fork") == 0) {
		if (port == 0 || argc < 1 || argv[0][0] != '/')
			usage();
		return run_fork(addr, port, user, argv);
	}
	if (strcmp(cmd, "epoll") == 0) {
		if (argc != 0 || (eport == 0 && tport == 0 && uport == 0))
			usage();
		raise_nofile();
		return run_epoll(addr, eport, tport, uport);
	}
	if (strcmp(cmd, "sink") == 0) {
		if (argc != 0 || port == 0)
			usage();
		raise_nofile();
		return run_sink(addr, port, kport);
	}
	usage();
}
