/*
 * Copyright (c) 2026 The portmuxd authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS.
 */

/*
 * hostile SCENARIO DIR: the real monitor against a compromised engine.
 * The monitor runs as in the daemon (its own code, listeners, children)
 * but forks a stand-in instead of the engine, one that speaks the wire
 * format on the channel and does what a subverted engine could.  The
 * stand-in reports on a pipe; this program, the monitor's parent, reads
 * the reports and the monitor's log, sends it signals and judges.
 * Prints "ok" or what went wrong; exit 0 or 1.  Run by hostile.sh inside
 * the integration tests' namespaces, as root.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "portmuxd.h"
#include "proto.h"

#define TCP_PORT	7001
#define POLL_GENS	70	/* more engines than a 64-entry poll array */
#define QUEUE_SPAWNS	2000
#define QUEUE_FLOOD	40000

/* The stand-in's script and its report pipe: fixed for the whole run. */
static const char	*scenario;
static int		 report_fd = -1;
static char		 dir[512];
static pid_t		 monitor_pid = -1;	/* to end it on a failure */

static void
die(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (monitor_pid > 0) {
		/* Its stand-in engines end when their channel does. */
		(void)kill(monitor_pid, SIGKILL);
		(void)waitpid(monitor_pid, NULL, 0);
	}
	exit(1);
}

static uint64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the engine stand-in ---- */

static void
report(const char *fmt, ...)
{
	char	 buf[256];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)write(report_fd, buf, (size_t)n);
}

/* Send one message, waiting for room (the monitor may be busy). */
static int
chan_send(int chan, uint32_t type, uint64_t id, const void *p, size_t len,
    int fd)
{
	struct msgq	 q;
	struct pollfd	 pfd;
	int		 tries;

	msgq_init(&q);
	if (msgq_add(&q, type, id, p, len, fd) == -1)
		return -1;
	for (tries = 0; tries < 1000; tries++) {
		if (msgq_flush(&q, chan) == -1) {
			msgq_clear(&q);
			return -1;
		}
		if (q.queued == 0)
			return 0;
		pfd.fd = chan;
		pfd.events = POLLOUT;
		(void)poll(&pfd, 1, 10);
	}
	msgq_clear(&q);
	return -1;
}

/*
 * The next reply to a spawn request within timeout_ms: its type, 0 on
 * timeout, -1 at EOF.  Other messages are skipped.
 */
static int
chan_reply(int chan, int timeout_ms)
{
	struct msg_hdr	 hdr;
	unsigned char	 buf[MSG_MAXPAYLOAD];
	struct pollfd	 pfd;
	uint64_t	 end = now_ms() + (uint64_t)timeout_ms;
	int		 fd, r;

	for (;;) {
		pfd.fd = chan;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, (int)(end > now_ms() ? end - now_ms() : 0));
		if (r <= 0)
			return 0;
		fd = -1;
		r = msg_recv(chan, &hdr, buf, sizeof(buf), &fd);
		if (fd != -1)
			close(fd);
		if (r == -1 && (errno == EAGAIN || errno == EMFILE))
			continue;
		if (r <= 0)
			return -1;
		if (hdr.type == MSG_SPAWNED || hdr.type == MSG_SPAWN_FAIL)
			return (int)hdr.type;
	}
}

static const char *
reply_name(int t)
{
	return t == MSG_SPAWNED ? "spawned" : t == MSG_SPAWN_FAIL ?
	    "refused" : t == 0 ? "timeout" : "eof";
}

static int
spawn_req(int chan, const struct engine_init *ei, uint64_t id, int fd)
{
	struct msg_spawn	 ms;

	memset(&ms, 0, sizeof(ms));
	ms.generation = ei->generation;
	ms.service = 0;
	return chan_send(chan, MSG_SPAWN, id, &ms, sizeof(ms), fd);
}

/* Until the channel ends or a stop for shutdown: a stop for reload is ignored. */
static int
idle(int chan)
{
	struct msg_hdr		 hdr;
	unsigned char		 buf[MSG_MAXPAYLOAD];
	struct msg_stop		 st;
	struct pollfd		 pfd;
	int			 fd, r;

	for (;;) {
		pfd.fd = chan;
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, 1000);
		fd = -1;
		r = msg_recv(chan, &hdr, buf, sizeof(buf), &fd);
		if (fd != -1)
			close(fd);
		if (r == -1 && (errno == EAGAIN || errno == EMFILE))
			continue;
		if (r <= 0)
			return 0;
		if (hdr.type == MSG_STOP && hdr.len == sizeof(st)) {
			memcpy(&st, buf, sizeof(st));
			if (st.reason == STOP_SHUTDOWN)
				return 0;
		}
	}
}

static int
listener_of(const struct engine_init *ei, size_t svc)
{
	size_t	 i;

	for (i = 0; i < ei->nls; i++)
		if (ei->ls[i].service == svc && ei->ls[i].fd != -1)
			return ei->ls[i].fd;
	return -1;
}

/* A real accepted TCP connection on service 0's listener. */
static int
tcp_accepted(const struct engine_init *ei, int *client)
{
	struct sockaddr_in	 sin;
	int			 lfd = listener_of(ei, 0), c, s;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(TCP_PORT);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd == -1 || (c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	if (connect(c, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    fcntl(lfd, F_SETFL, 0) == -1 ||
	    (s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		close(c);
		return -1;
	}
	*client = c;
	return s;
}

static int
unix_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 c;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(c, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(c);
		return -1;
	}
	return c;
}

/*
 * Forged peer credentials: the client end of a connection the engine
 * made, the listener itself, and the accepted end of the engine's own
 * connection must all be refused; the accepted end of another process's
 * connection is what a service is for.
 */
static void
engine_unix(const struct engine_init *ei)
{
	char	 path[PATH_MAX];
	int	 lfd = listener_of(ei, 0), c, s, r;
	pid_t	 pid;

	(void)snprintf(path, sizeof(path), "%s/u.sock", dir);
	if (lfd == -1 || fcntl(lfd, F_SETFL, 0) == -1) {
		report("error no unix listener");
		return;
	}
	if ((c = unix_connect(path)) == -1) {
		report("error connect %s", strerror(errno));
		return;
	}
	s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	(void)spawn_req(ei->chan, ei, 1, dup(c));
	r = chan_reply(ei->chan, 5000);
	report("client-end %s", reply_name(r));
	(void)spawn_req(ei->chan, ei, 2, dup(lfd));
	r = chan_reply(ei->chan, 5000);
	report("listener %s", reply_name(r));
	(void)spawn_req(ei->chan, ei, 3, s);
	r = chan_reply(ei->chan, 5000);
	report("own-connection %s", reply_name(r));
	close(c);
	if ((pid = fork()) == 0) {
		char	 b;

		if ((c = unix_connect(path)) == -1)
			_exit(1);
		while (read(c, &b, 1) > 0)
			;
		_exit(0);
	}
	if (pid == -1 || (s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		report("error other client");
		return;
	}
	(void)spawn_req(ei->chan, ei, 4, s);
	r = chan_reply(ei->chan, 5000);
	report("other-client %s", reply_name(r));
	(void)waitpid(pid, NULL, 0);
}

/*
 * A connection to service svc's listener (port) from src, accepted
 * here, and a spawn asked for it as a PROXY header's client 10.9.8.7.
 * The reply; *client: the client end, to read what the program says.
 */
static int
proxied(const struct engine_init *ei, uint64_t id, size_t svc, int port,
    const char *src, uint32_t flags, int *client)
{
	struct sockaddr_in	 sin, from, *claim;
	struct msg_spawn	 ms;
	int			 lfd = listener_of(ei, svc), c, s, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(&from, 0, sizeof(from));
	from.sin_family = AF_INET;
	if (lfd == -1 || inet_pton(AF_INET, src, &from.sin_addr) != 1 ||
	    (c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	(void)setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(c, (struct sockaddr *)&from, sizeof(from)) == -1 ||
	    connect(c, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    fcntl(lfd, F_SETFL, 0) == -1 ||
	    (s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		close(c);
		return -1;
	}
	memset(&ms, 0, sizeof(ms));
	ms.generation = ei->generation;
	ms.service = (uint32_t)svc;
	ms.flags = flags;
	claim = (struct sockaddr_in *)&ms.peer;
	claim->sin_family = AF_INET;
	claim->sin_port = htons(4321);
	(void)inet_pton(AF_INET, "10.9.8.7", &claim->sin_addr);
	ms.peer_len = sizeof(*claim);
	*client = c;
	if (chan_send(ei->chan, MSG_SPAWN, id, &ms, sizeof(ms), s) == -1)
		return -1;
	return chan_reply(ei->chan, 5000);
}

/*
 * Claimed clients: the monitor takes a PROXY header's client from the
 * engine only for a proxy_protocol service, on a connection from one of
 * its trusted_proxies; never with tcpmux.
 */
static void
engine_proxy(const struct engine_init *ei)
{
	char	 buf[64];
	ssize_t	 n;
	int	 c, r;

	r = proxied(ei, 1, 0, TCP_PORT, "127.0.0.5", SPAWN_PROXY, &c);
	report("untrusted %s", reply_name(r));
	close(c);
	r = proxied(ei, 2, 1, TCP_PORT + 1, "127.0.0.1", SPAWN_PROXY, &c);
	report("no-proxy-service %s", reply_name(r));
	close(c);
	r = proxied(ei, 3, 0, TCP_PORT, "127.0.0.1", SPAWN_PROXY, &c);
	memset(buf, 0, sizeof(buf));
	n = r == MSG_SPAWNED ? read(c, buf, sizeof(buf) - 1) : -1;
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	report("trusted %s %s", reply_name(r), n > 0 ? buf : "-");
	close(c);
	report("combined sent");
	r = proxied(ei, 4, 0, TCP_PORT, "127.0.0.1", SPAWN_PROXY |
	    SPAWN_TCPMUX, &c);
	report("combined %s", reply_name(r));
}

/* The engine of generation POLL_GENS asks for a spawn; the others idle. */
static void
engine_poll(const struct engine_init *ei)
{
	int	 c, s, r;

	if (ei->generation < POLL_GENS)
		return;
	if ((s = tcp_accepted(ei, &c)) == -1) {
		report("error tcp %s", strerror(errno));
		return;
	}
	(void)spawn_req(ei->chan, ei, 1, s);
	r = chan_reply(ei->chan, 10000);
	report("spawn %s", reply_name(r));
	close(c);
}

/* Spawn requests, never a reply read: what does the monitor hold? */
static void
engine_queue(const struct engine_init *ei)
{
	int	 c, s, i;

	if (ei->fresh)
		return;		/* the restart after the kill: just idle */
	if ((s = tcp_accepted(ei, &c)) == -1) {
		report("error tcp %s", strerror(errno));
		return;
	}
	for (i = 0; i < QUEUE_SPAWNS; i++)
		if (spawn_req(ei->chan, ei, (uint64_t)i + 1, dup(s)) == -1)
			break;
	report("sent %d", i);
	for (; i < QUEUE_FLOOD; i++)
		if (spawn_req(ei->chan, ei, (uint64_t)i + 1, dup(s)) == -1)
			break;
	report("flooded %d", i);
}

static void
engine_ban(const struct engine_init *ei)
{
	struct msg_ban	 mb;
	char		 path[PATH_MAX];
	const char	*what;
	FILE		*f;
	int		 n = 0;

	/* Which attack this engine makes: one more than the last one's. */
	(void)snprintf(path, sizeof(path), "%s/attack", dir);
	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%d", &n) != 1)
			n = 0;
		fclose(f);
	}
	if ((f = fopen(path, "w")) != NULL) {
		fprintf(f, "%d\n", n + 1);
		fclose(f);
	}
	memset(&mb, 0, sizeof(mb));
	mb.key.family = AF_INET;
	mb.reason = BAN_RATE;
	mb.until = (uint64_t)time(NULL) * 1000 + 30000;
	switch (n) {
	case 0:
		what = "everyone";	/* 0.0.0.0/0 */
		break;
	case 1:
		what = "host-bits";	/* 198.51.100.7/24 */
		mb.key.prefix = 24;
		memcpy(mb.key.addr, "\xc6\x33\x64\x07", 4);
		break;
	case 2:
		what = "never-ban";	/* 192.0.2.0/24 */
		mb.key.prefix = 24;
		memcpy(mb.key.addr, "\xc0\x00\x02\x00", 4);
		break;
	case 3:
		what = "prefix";	/* 198.51.0.0/16: no service's prefix */
		mb.key.prefix = 16;
		memcpy(mb.key.addr, "\xc6\x33\x00\x00", 4);
		break;
	case 4:
		what = "valid";		/* 198.51.100.0/24 */
		mb.key.prefix = 24;
		memcpy(mb.key.addr, "\xc6\x33\x64\x00", 4);
		break;
	default:
		report("bans %zu", ei->bans->count);
		return;
	}
	report("attack %s bans %zu", what, ei->bans->count);
	(void)chan_send(ei->chan, MSG_BAN_NEW, 0, &mb, sizeof(mb), -1);
}

static int
hostile_engine(struct engine_init *ei)
{
	report("start %llu %ld", (unsigned long long)ei->generation,
	    (long)getpid());
	if (strcmp(scenario, "unix") == 0)
		engine_unix(ei);
	else if (strcmp(scenario, "poll") == 0)
		engine_poll(ei);
	else if (strcmp(scenario, "queue") == 0)
		engine_queue(ei);
	else if (strcmp(scenario, "ban") == 0)
		engine_ban(ei);
	else if (strcmp(scenario, "proxy") == 0)
		engine_proxy(ei);
	return idle(ei->chan);
}

/* ---- the judge ---- */

static const char *
conf_text(void)
{
	static char	 buf[4096];
	const char	*common = "user = nobody\nstop_grace = 1s\n";

	if (strcmp(scenario, "unix") == 0)
		(void)snprintf(buf, sizeof(buf), "%sservice u {\n protocol = "
		    "unix\n path = %s/u.sock\n server = /bin/true\n user = daemon\n}\n",
		    common, dir);
	else if (strcmp(scenario, "ban") == 0)
		(void)snprintf(buf, sizeof(buf), "%snever_ban = "
		    "{\"192.0.2.0/24\"}\nservice t {\n protocol = tcp\n "
		    "address = {\"127.0.0.1\"}\n port = %d\n builtin = echo\n "
		    "source_prefix4 = 24\n}\n", common, TCP_PORT);
	else if (strcmp(scenario, "proxy") == 0)
		(void)snprintf(buf, sizeof(buf), "%sservice p {\n protocol = "
		    "tcp\n address = {\"127.0.0.1\"}\n port = %d\n server = "
		    "/bin/sh\n args = {sh, -c, \"echo $TCPREMOTEIP\"}\n user = "
		    "daemon\n proxy_protocol = v1\n trusted_proxies = "
		    "{127.0.0.1/32}\n}\nservice q {\n protocol = tcp\n "
		    "address = {\"127.0.0.1\"}\n port = %d\n server = /bin/true"
		    "\n user = daemon\n}\n", common, TCP_PORT, TCP_PORT + 1);
	else
		(void)snprintf(buf, sizeof(buf), "%sreload_grace = 300s\n"
		    "max_children = 100\nservice t {\n protocol = tcp\n "
		    "address = {\"127.0.0.1\"}\n port = %d\n server = /bin/true\n user = daemon\n"
		    " instances = unlimited\n per_source = unlimited\n}\n",
		    common, TCP_PORT);
	return buf;
}

static pid_t
monitor_start(int *rd)
{
	static struct portmuxd	 pmx;
	char			 path[PATH_MAX], logp[PATH_MAX];
	struct listener		*ls;
	size_t			 nls;
	FILE			*f;
	int			 p[2], lfd;
	pid_t			 pid;

	(void)snprintf(path, sizeof(path), "%s/portmux.conf", dir);
	(void)snprintf(logp, sizeof(logp), "%s/monitor.log", dir);
	if ((f = fopen(path, "w")) == NULL || fputs(conf_text(), f) == EOF ||
	    fclose(f) == EOF)
		die("cannot write %s", path);
	if (pipe2(p, O_CLOEXEC) == -1)
		die("pipe2");
	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		close(p[0]);
		report_fd = p[1];
		if ((lfd = open(logp, O_WRONLY | O_CREAT | O_APPEND |
		    O_CLOEXEC, 0644)) == -1 || dup2(lfd, 2) == -1)
			_exit(2);
		log_init(1, LOG_DEBUG, LOG_DAEMON);
		memset(&pmx, 0, sizeof(pmx));
		pmx.conf_path = strdup(path);
		pmx.foreground = true;
		pmx.ready_fd = -1;
		pmx.engine = hostile_engine;
		(void)getrlimit(RLIMIT_NOFILE, &pmx.orig_nofile);
		if ((pmx.conf = conf_load(path, 0)) == NULL ||
		    listen_open_all(pmx.conf, NULL, 0, &ls, &nls) == -1)
			_exit(3);
		_exit(monitor_run(&pmx, ls, nls));
	}
	close(p[1]);
	*rd = p[0];
	monitor_pid = pid;
	return pid;
}

/* The next report line within timeout_ms into buf; false on timeout. */
static bool
next_report(int rd, char *buf, size_t size, int timeout_ms)
{
	static char	 pend[65536];
	static size_t	 plen;
	struct pollfd	 pfd;
	uint64_t	 end = now_ms() + (uint64_t)timeout_ms;
	char		*nl;
	ssize_t		 n;
	size_t		 l;

	for (;;) {
		if ((nl = memchr(pend, '\n', plen)) != NULL) {
			l = (size_t)(nl - pend);
			(void)snprintf(buf, size, "%.*s", (int)l, pend);
			memmove(pend, nl + 1, plen - l - 1);
			plen -= l + 1;
			return true;
		}
		pfd.fd = rd;
		pfd.events = POLLIN;
		if (now_ms() >= end || poll(&pfd, 1, (int)(end - now_ms())) <= 0)
			return false;
		n = read(rd, pend + plen, sizeof(pend) - plen);
		if (n <= 0)
			return false;
		plen += (size_t)n;
	}
}

static void
expect_report(int rd, const char *prefix, char *buf, size_t size,
    int timeout_ms)
{
	char	 line[256];

	while (next_report(rd, line, sizeof(line), timeout_ms))
		if (strncmp(line, prefix, strlen(prefix)) == 0) {
			if (buf != NULL)
				(void)snprintf(buf, size, "%s", line);
			return;
		}
	die("no report \"%s\" within %d ms", prefix, timeout_ms);
}

/* How many lines of the monitor's log hold s. */
static int
log_count(const char *s)
{
	char	 path[PATH_MAX], line[1024];
	FILE	*f;
	int	 n = 0;

	(void)snprintf(path, sizeof(path), "%s/monitor.log", dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, s) != NULL)
			n++;
	fclose(f);
	return n;
}

/* Whether the log holds at least n lines with s, waiting up to timeout_ms. */
static bool
log_wait(const char *s, int n, int timeout_ms)
{
	uint64_t	 end = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		if (log_count(s) >= n)
			return true;
		if (now_ms() >= end)
			return false;
		(void)usleep(20000);
	}
}

static bool
log_has(const char *s, int timeout_ms)
{
	return log_wait(s, 1, timeout_ms);
}

static int
count_fds(pid_t pid)
{
	char		 path[64];
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	(void)snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
monitor_stop(pid_t pid)
{
	uint64_t	 end;
	int		 st;

	(void)kill(pid, SIGTERM);
	for (end = now_ms() + 20000; now_ms() < end; (void)usleep(20000))
		if (waitpid(pid, &st, WNOHANG) == pid) {
			monitor_pid = -1;
			return;
		}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &st, 0);
	die("the monitor did not stop within 20 s");
}

static void
judge_unix(pid_t mon, int rd)
{
	char	 r[256];

	expect_report(rd, "start ", NULL, 0, 10000);
	expect_report(rd, "client-end ", r, sizeof(r), 10000);
	if (strcmp(r, "client-end refused") != 0)
		die("the client end of the engine's own connection: %s "
		    "(it would run the service as the monitor's uid)", r);
	expect_report(rd, "listener ", r, sizeof(r), 10000);
	if (strcmp(r, "listener refused") != 0)
		die("the listener passed as a connection: %s", r);
	expect_report(rd, "own-connection ", r, sizeof(r), 10000);
	if (strcmp(r, "own-connection refused") != 0)
		die("the engine's own connection: %s", r);
	expect_report(rd, "other-client ", r, sizeof(r), 10000);
	if (strcmp(r, "other-client spawned") != 0)
		die("a real client's connection: %s", r);
	monitor_stop(mon);
}

static void
judge_poll(pid_t mon, int rd)
{
	char		 r[256], want[32];
	unsigned	 g;

	for (g = 1; g < POLL_GENS; g++) {
		(void)snprintf(want, sizeof(want), "start %u ", g);
		expect_report(rd, want, NULL, 0, 20000);
		(void)kill(mon, SIGHUP);
	}
	(void)snprintf(want, sizeof(want), "start %u ", POLL_GENS);
	expect_report(rd, want, NULL, 0, 20000);
	expect_report(rd, "spawn ", r, sizeof(r), 20000);
	if (strcmp(r, "spawn spawned") != 0)
		die("with %u engines alive the current one's request: %s",
		    POLL_GENS, r);
	monitor_stop(mon);
}

static void
judge_queue(pid_t mon, int rd)
{
	uint64_t	 end = now_ms() + 120000;
	int		 n, max = 0;
	bool		 killed = false;

	expect_report(rd, "start ", NULL, 0, 10000);
	while (now_ms() < end && !killed) {
		if ((n = count_fds(mon)) > max)
			max = n;
		killed = log_has("does not read its channel", 0);
		(void)usleep(20000);
	}
	if (!log_has("spawns refused", 0))
		die("no warning that spawns are refused (max %d fds)", max);
	if (!killed)
		die("the engine that reads nothing was not killed (max %d "
		    "fds)", max);
	/* 256 queued pipes, max_children live ones, the rest. */
	if (max > 256 + 100 + 64)
		die("the monitor held %d descriptors", max);
	expect_report(rd, "start ", NULL, 0, 10000);	/* restarted */
	printf("max fds %d\n", max);
	monitor_stop(mon);
}

static void
judge_ban(pid_t mon, int rd)
{
	const char	*attacks[] = { "everyone", "host-bits", "never-ban",
	    "prefix" };
	char		 r[256], want[64];
	size_t		 i;

	for (i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		(void)snprintf(want, sizeof(want), "attack %s bans 0",
		    attacks[i]);
		expect_report(rd, "attack ", r, sizeof(r), 10000);
		if (strcmp(r, want) != 0)
			die("expected \"%s\", got \"%s\"", want, r);
		if (!log_wait("bad ban message", (int)i + 1, 5000))
			die("ban %s: the engine was not killed", attacks[i]);
	}
	expect_report(rd, "attack valid bans 0", NULL, 0, 10000);
	/* Kept, and handed to the next generation's engine. */
	(void)kill(mon, SIGHUP);
	expect_report(rd, "bans ", r, sizeof(r), 10000);
	if (strcmp(r, "bans 1") != 0)
		die("after a valid ban and a reload: %s", r);
	if (log_count("bad ban message") != (int)i)
		die("the valid ban was taken for a bad one");
	monitor_stop(mon);
}

static void
judge_proxy(pid_t mon, int rd)
{
	char	 r[256];

	expect_report(rd, "start ", NULL, 0, 10000);
	expect_report(rd, "untrusted ", r, sizeof(r), 10000);
	if (strcmp(r, "untrusted refused") != 0)
		die("a claimed client on a connection from outside "
		    "trusted_proxies: %s", r);
	expect_report(rd, "no-proxy-service ", r, sizeof(r), 10000);
	if (strcmp(r, "no-proxy-service refused") != 0)
		die("a claimed client for a service without proxy_protocol: "
		    "%s", r);
	expect_report(rd, "trusted ", r, sizeof(r), 10000);
	if (strcmp(r, "trusted spawned 10.9.8.7") != 0)
		die("a claimed client from a trusted proxy: %s", r);
	expect_report(rd, "combined sent", NULL, 0, 10000);
	if (!log_has("spawn request for an unknown service", 10000))
		die("SPAWN_PROXY with SPAWN_TCPMUX: the engine was not killed");
	expect_report(rd, "start ", NULL, 0, 10000);	/* restarted */
	monitor_stop(mon);
}

int
main(int argc, char *argv[])
{
	pid_t	 mon;
	int	 rd;

	if (argc != 3)
		die("usage: hostile unix|poll|queue|ban|proxy DIR");
	scenario = argv[1];
	(void)snprintf(dir, sizeof(dir), "%s", argv[2]);
	(void)signal(SIGPIPE, SIG_IGN);
	mon = monitor_start(&rd);
	if (strcmp(scenario, "unix") == 0)
		judge_unix(mon, rd);
	else if (strcmp(scenario, "poll") == 0)
		judge_poll(mon, rd);
	else if (strcmp(scenario, "queue") == 0)
		judge_queue(mon, rd);
	else if (strcmp(scenario, "ban") == 0)
		judge_ban(mon, rd);
	else if (strcmp(scenario, "proxy") == 0)
		judge_proxy(mon, rd);
	else
		die("unknown scenario %s", scenario);
	printf("ok\n");
	return 0;
}
