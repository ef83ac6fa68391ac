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
 * Unit tests of relay.c, TCP forwarding, on real loopback sockets in an
 * engine built in this process (enginefix.c).  Each test plays both the
 * client and the target with nonblocking sockets, and accepts the
 * client's connection on a listener of its own, handing the socket to
 * guard_admit() and relay_start() as engine_serve() would.  Bytes follow
 * a pattern that no shift or reordering can keep, and every case checks
 * what a user sees: the bytes, the EOFs, and the close line.  Durations
 * in the config are whole seconds (conf_parse_duration(): s, m, h), so
 * the timeout cases wait about one second each.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/sockios.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "engine.h"
#include "portmuxd.h"
#include "enginefix.h"

/* One redirect service to 127.0.0.1:%u, with the keys of %s. */
#define SVC	"service r {\n\tport = 10000\n\taddress = {127.0.0.1}\n" \
		"\tredirect = \"127.0.0.1:%u\"\n%s}\n"

#define CHUNK		65536
#define WAIT_MS		2000	/* for what should take milliseconds */
#define STALL_MS	200	/* no progress this long: stalled */

/* The two byte streams: client to target, and target to client. */
#define UP	1
#define DOWN	2

/* One relayed connection, as the test sees it. */
struct tconn {
	int		 cli;		/* the client */
	int		 rfd;		/* the relay's socket from it */
	int		 srv;		/* the target's end; -1: not yet */
	uint64_t	 id;
	char		 conn[32];	/* "conn=ID ", to find its lines */
};

/* One end's traffic: a stream out, a stream in, checked byte by byte. */
struct pump {
	int		 fd;
	unsigned int	 sout, sin;
	size_t		 nout, sent;
	size_t		 nin, got;
	bool		 bad;		/* a byte off the pattern */
	size_t		 bad_at;
	bool		 eof;
};

static uint8_t	 pat(unsigned int, size_t);
static void	 relay_open(struct enginefix *, int,
		    const struct sockaddr_in *, struct tconn *);
static void	 target_accept(struct enginefix *, int, struct tconn *);
static bool	 pump_io(struct pump *);
static void	 exchange(struct enginefix *, struct tconn *, size_t, size_t);
static bool	 wait_eof(struct enginefix *, int, unsigned int);
static void	 finish(struct enginefix *, struct tconn *);
static char	*close_line(struct enginefix *, const struct tconn *,
		    unsigned int);
static int	 fd_by_local(const struct sockaddr_in *);
static int	 qlen(int, unsigned long);
static int	 nofile_teardown(void **);

/* The fd limit as it was, while a test has lowered it. */
static struct rlimit	 nofile;
static bool		 nofile_low;

/*
 * Byte i of stream s: a multiplicative hash of the 32-bit word it is in,
 * so that a lost, repeated or misplaced chunk of any size shows.
 */
static uint8_t
pat(unsigned int s, size_t i)
{
	uint32_t	 w = (uint32_t)(i / 4) * 2654435761U + s * 40503U;

	return (uint8_t)(w >> (8 * (i % 4)));
}

/*
 * A client connects to the service's listener lfd; the socket accepted
 * there goes to the relay, admitted and counted as
 * engine_serve_admitted() does.
 */
static void
relay_open(struct enginefix *f, int lfd, const struct sockaddr_in *lsin,
    struct tconn *t)
{
	struct engine		*e = &f->e;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct srcent		*se;

	memset(t, 0, sizeof(*t));
	t->srv = -1;
	t->cli = ef_tcp_connect(lsin);
	t->rfd = ef_accept(f, lfd, WAIT_MS);
	assert_true(t->rfd != -1);
	assert_int_equal(getpeername(t->rfd, (struct sockaddr *)&ss, &len),
	    0);
	assert_int_equal(guard_admit(e, 0, (struct sockaddr *)&ss, t->rfd,
	    &se), 0);
	assert_non_null(se);
	e->active[0]++;
	t->id = engine_next_id(e);
	(void)snprintf(t->conn, sizeof(t->conn), "conn=%llu ",
	    (unsigned long long)t->id);
	relay_start(e, 0, t->rfd, t->id, se, NULL);
}

static void
target_accept(struct enginefix *f, int tl, struct tconn *t)
{
	t->srv = ef_accept(f, tl, WAIT_MS);
	if (t->srv == -1) {
		print_error("the relay did not reach the target\n");
		fail();
	}
}

/* One nonblocking round each way; whether anything moved. */
static bool
pump_io(struct pump *p)
{
	unsigned char	 buf[CHUNK];
	size_t		 n, i;
	ssize_t		 r;
	bool		 moved = false;

	while (p->sent < p->nout) {
		n = p->nout - p->sent < CHUNK ? p->nout - p->sent : CHUNK;
		for (i = 0; i < n; i++)
			buf[i] = pat(p->sout, p->sent + i);
		r = send(p->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r == -1) {
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR);
			break;
		}
		p->sent += (size_t)r;
		moved = true;
	}
	while (!p->eof) {
		r = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r == -1) {
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR);
			break;
		}
		if (r == 0) {
			p->eof = true;
			break;
		}
		for (i = 0; i < (size_t)r; i++)
			if (!p->bad && buf[i] != pat(p->sin, p->got + i)) {
				p->bad = true;
				p->bad_at = p->got + i;
			}
		p->got += (size_t)r;
		moved = true;
	}
	return moved;
}

/* up bytes from the client, down from the target, at the same time. */
static void
exchange(struct enginefix *f, struct tconn *t, size_t up, size_t down)
{
	struct pump	 c = { .fd = t->cli, .sout = UP, .sin = DOWN,
			    .nout = up, .nin = down };
	struct pump	 s = { .fd = t->srv, .sout = DOWN, .sin = UP,
			    .nout = down, .nin = up };
	uint64_t	 end = ef_now() + 4 * WAIT_MS;

	while ((c.got < c.nin || s.got < s.nin) && ef_now() < end) {
		(void)pump_io(&c);
		(void)pump_io(&s);
		ef_step(f);
	}
	if (c.got != down || s.got != up || c.bad || s.bad || c.eof ||
	    s.eof) {
		print_error("target got %zu of %zu (bad %d at %zu, eof %d), "
		    "client got %zu of %zu (bad %d at %zu, eof %d)\n", s.got,
		    up, s.bad, s.bad_at, s.eof, c.got, down, c.bad, c.bad_at,
		    c.eof);
		fail();
	}
}

/* Read fd to its EOF while the loop runs: false if none within ms. */
static bool
wait_eof(struct enginefix *f, int fd, unsigned int ms)
{
	unsigned char	 buf[CHUNK];
	uint64_t	 end = ef_now() + ms;
	ssize_t		 r;

	for (;;) {
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r == 0)
			return true;
		if (r == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return true;	/* a reset ends it as well */
		if (r > 0)
			continue;
		if (ef_now() >= end)
			return false;
		ef_step(f);
	}
}

/*
 * Read fd into buf until its EOF while the loop runs, within WAIT_MS:
 * how many bytes came.
 */
static size_t
read_to_eof(struct enginefix *f, int fd, char *buf, size_t size)
{
	uint64_t	 end = ef_now() + WAIT_MS;
	size_t		 got = 0;
	ssize_t		 r;

	for (;;) {
		r = recv(fd, buf + got, size - got, MSG_DONTWAIT);
		if (r == 0)
			return got;
		if (r > 0)
			got += (size_t)r;
		else
			assert_true(errno == EAGAIN);
		assert_true(ef_now() < end);
		ef_step(f);
	}
}

/* Read exactly n bytes of fd into buf, no EOF before, within WAIT_MS. */
static void
read_exactly(struct enginefix *f, int fd, char *buf, size_t n)
{
	uint64_t	 end = ef_now() + WAIT_MS;
	size_t		 got = 0;
	ssize_t		 r;

	while (got < n) {
		r = recv(fd, buf + got, n - got, MSG_DONTWAIT);
		assert_true(r != 0);
		if (r > 0)
			got += (size_t)r;
		else
			assert_true(errno == EAGAIN);
		assert_true(ef_now() < end);
		ef_step(f);
	}
}

/*
 * The orderly end: the client is done writing, the target reads that
 * EOF and closes, the client reads EOF.
 */
static void
finish(struct enginefix *f, struct tconn *t)
{
	assert_int_equal(shutdown(t->cli, SHUT_WR), 0);
	assert_true(wait_eof(f, t->srv, WAIT_MS));
	assert_int_equal(close(t->srv), 0);
	t->srv = -1;
	assert_true(wait_eof(f, t->cli, WAIT_MS));
	assert_int_equal(close(t->cli), 0);
	t->cli = -1;
}

static char *
close_line(struct enginefix *f, const struct tconn *t, unsigned int ms)
{
	return ef_expect(f, t->conn, "action=close", ms);
}

/* The stream socket of this process bound to sin. */
static int
fd_by_local(const struct sockaddr_in *sin)
{
	struct sockaddr_in	 a;
	socklen_t		 len;
	int			 fd, max = ef_fd_max(), type;

	for (fd = 0; fd <= max; fd++) {
		len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
		    type != SOCK_STREAM)
			continue;
		len = sizeof(a);
		if (getsockname(fd, (struct sockaddr *)&a, &len) == 0 &&
		    a.sin_family == AF_INET && a.sin_port == sin->sin_port &&
		    a.sin_addr.s_addr == sin->sin_addr.s_addr)
			return fd;
	}
	return -1;
}

/* SIOCINQ or SIOCOUTQ of a TCP socket. */
static int
qlen(int fd, unsigned long req)
{
	int	 n;

	assert_int_equal(ioctl(fd, req, &n), 0);
	return n;
}

/* A few hundred KiB each way, intact, and counted on the close line. */
static void
test_relay_bytes(void **state)
{
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin, tsin;
	struct tconn		 t;
	char			*l, want[64];
	int			 lfd, tl;

	tl = ef_tcp_listen("127.0.0.1", 16, &tsin);
	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, ntohs(tsin.sin_port), "");
	relay_open(f, lfd, &lsin, &t);
	target_accept(f, tl, &t);
	exchange(f, &t, 384 * 1024, 320 * 1024 + 7);
	finish(f, &t);
	l = close_line(f, &t, WAIT_MS);
	assert_int_equal(ef_num(l, "bytes_in"), 384 * 1024);
	assert_int_equal(ef_num(l, "bytes_out"), 320 * 1024 + 7);
	(void)snprintf(want, sizeof(want), " target=127.0.0.1:%u",
	    ntohs(tsin.sin_port));
	assert_non_null(strstr(l, want));
	assert_null(strstr(l, "reason="));
	assert_null(strstr(l, "error="));
	assert_int_equal(ef_count(f, t.conn, "action=close"), 1);
	assert_int_equal(f->e.nconns, 0);
	assert_int_equal(f->e.active[0], 0);
	assert_true(TAILQ_EMPTY(&f->e.relays));
	free(l);
	(void)close(lfd);
	(void)close(tl);
	ef_stop(f);
}

/*
 * A half-close passes through and keeps the other direction open: the
 * client's EOF reaches the target, whose answer still reaches the
 * client; only the target's close ends the relay.
 */
static void
test_relay_half_close(void **state)
{
	static const char	 reply[] = "an answer after your EOF";
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin, tsin;
	struct tconn		 t;
	char			 buf[128], *l;
	size_t			 got;
	int			 lfd, tl, i;

	tl = ef_tcp_listen("127.0.0.1", 16, &tsin);
	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, ntohs(tsin.sin_port), "");
	relay_open(f, lfd, &lsin, &t);
	target_accept(f, tl, &t);
	assert_int_equal(send(t.cli, "hello", 5, MSG_NOSIGNAL), 5);
	assert_int_equal(shutdown(t.cli, SHUT_WR), 0);
	/* The target reads "hello", then EOF. */
	got = read_to_eof(f, t.srv, buf, sizeof(buf));
	assert_int_equal(got, 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(f->e.nconns, 1);
	/* Its answer reaches the client, with no EOF after it yet. */
	assert_int_equal(send(t.srv, reply, sizeof(reply) - 1, MSG_NOSIGNAL),
	    sizeof(reply) - 1);
	read_exactly(f, t.cli, buf, sizeof(reply) - 1);
	assert_memory_equal(buf, reply, sizeof(reply) - 1);
	for (i = 0; i < 20; i++) {
		ef_step(f);
		assert_int_equal(recv(t.cli, buf, sizeof(buf), MSG_DONTWAIT),
		    -1);
		assert_int_equal(errno, EAGAIN);
	}
	assert_int_equal(f->e.nconns, 1);
	assert_int_equal(ef_count(f, t.conn, "action=close"), 0);
	/* The target closes: the client reads EOF, the relay ends. */
	assert_int_equal(close(t.srv), 0);
	assert_true(wait_eof(f, t.cli, WAIT_MS));
	l = close_line(f, &t, WAIT_MS);
	assert_int_equal(ef_num(l, "bytes_in"), 5);
	assert_int_equal(ef_num(l, "bytes_out"), sizeof(reply) - 1);
	assert_null(strstr(l, "reason="));
	assert_int_equal(f->e.nconns, 0);
	assert_int_equal(f->e.active[0], 0);
	free(l);
	(void)close(t.cli);
	(void)close(lfd);
	(void)close(tl);
	ef_stop(f);
}

/*
 * The mirror: the target sends a banner and shuts its write side; the
 * client reads it to EOF and only then sends, and the target gets it.
 */
static void
test_relay_half_close_target(void **state)
{
	static const char	 banner[] = "banner, then EOF";
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin, tsin;
	struct tconn		 t;
	char			 buf[128], *l;
	size_t			 got;
	int			 lfd, tl;

	tl = ef_tcp_listen("127.0.0.1", 16, &tsin);
	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, ntohs(tsin.sin_port), "");
	relay_open(f, lfd, &lsin, &t);
	target_accept(f, tl, &t);
	assert_int_equal(send(t.srv, banner, sizeof(banner) - 1,
	    MSG_NOSIGNAL), sizeof(banner) - 1);
	assert_int_equal(shutdown(t.srv, SHUT_WR), 0);
	got = read_to_eof(f, t.cli, buf, sizeof(buf));
	assert_int_equal(got, sizeof(banner) - 1);
	assert_memory_equal(buf, banner, got);
	assert_int_equal(f->e.nconns, 1);
	/* After its EOF, the client still talks to the target. */
	assert_int_equal(send(t.cli, "late", 4, MSG_NOSIGNAL), 4);
	read_exactly(f, t.srv, buf, 4);
	assert_memory_equal(buf, "late", 4);
	assert_int_equal(close(t.cli), 0);
	assert_true(wait_eof(f, t.srv, WAIT_MS));
	l = close_line(f, &t, WAIT_MS);
	assert_int_equal(ef_num(l, "bytes_in"), 4);
	assert_int_equal(ef_num(l, "bytes_out"), sizeof(banner) - 1);
	assert_null(strstr(l, "reason="));
	assert_int_equal(f->e.nconns, 0);
	free(l);
	(void)close(t.srv);
	(void)close(lfd);
	(void)close(tl);
	ef_stop(f);
}

/*
 * Back pressure: while the target reads nothing, the relay holds at
 * most redirect_buffer bytes and leaves the rest in the kernel, in its
 * socket from the client; once the target reads, every byte arrives.
 */
static void
test_relay_back_pressure(void **state)
{
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin, tsin, peer;
	struct tconn		 t;
	struct pump		 c, s;
	socklen_t		 len = sizeof(peer);
	uint64_t		 end, still;
	size_t			 last = 0;
	long			 held;
	int			 lfd, tl, rt, inq;
	char			*l;

	tl = ef_tcp_listen("127.0.0.1", 16, &tsin);
	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, ntohs(tsin.sin_port), "\tredirect_buffer = 16K\n");
	relay_open(f, lfd, &lsin, &t);
	target_accept(f, tl, &t);
	memset(&c, 0, sizeof(c));
	c.fd = t.cli;
	c.sout = UP;
	c.nout = 256U * 1024 * 1024;	/* far more than the kernel holds */
	/* Write until nothing moves for STALL_MS, the loop running. */
	end = ef_now() + 5 * WAIT_MS;
	still = ef_now();
	while (ef_now() - still < STALL_MS) {
		(void)pump_io(&c);
		ef_step(f);
		if (c.sent != last) {
			last = c.sent;
			still = ef_now();
		}
		assert_true(ef_now() < end);
	}
	assert_true(c.sent < c.nout);
	/* The relay stopped reading: bytes wait in its socket's queue. */
	inq = qlen(t.rfd, SIOCINQ);
	assert_true(inq > 0);
	/*
	 * All that was sent is acknowledged by now, so it is in one of the
	 * kernel's queues or held by the relay, which may hold 16K.
	 */
	assert_int_equal(getpeername(t.srv, (struct sockaddr *)&peer, &len),
	    0);
	assert_true((rt = fd_by_local(&peer)) != -1);
	held = (long)c.sent - qlen(t.cli, SIOCOUTQ) - inq -
	    qlen(rt, SIOCOUTQ) - qlen(t.srv, SIOCINQ);
	if (held < 0 || held > 16 * 1024) {
		print_error("sent %zu, the relay holds %ld\n", c.sent, held);
		fail();
	}
	/* The target reads: every byte, in order. */
	memset(&s, 0, sizeof(s));
	s.fd = t.srv;
	s.sin = UP;
	end = ef_now() + 5 * WAIT_MS;
	while (s.got < c.sent && !s.bad && !s.eof && ef_now() < end) {
		(void)pump_io(&s);
		ef_step(f);
	}
	if (s.got != c.sent || s.bad) {
		print_error("target got %zu of %zu, bad %d at %zu\n", s.got,
		    c.sent, s.bad, s.bad_at);
		fail();
	}
	finish(f, &t);
	l = close_line(f, &t, WAIT_MS);
	assert_int_equal(ef_num(l, "bytes_in"), c.sent);
	assert_int_equal(ef_num(l, "bytes_out"), 0);
	assert_null(strstr(l, "reason="));
	free(l);
	(void)close(lfd);
	(void)close(tl);
	ef_stop(f);
}

/* A target that refuses: the client is closed at once, and told why. */
static void
test_relay_refused(void **state)
{
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin;
	struct tconn		 t;
	uint16_t		 port = ef_closed_port(SOCK_STREAM);
	uint64_t		 t0;
	char			*l, want[64];
	int			 lfd;

	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, port, "");
	t0 = ef_now();
	relay_open(f, lfd, &lsin, &t);
	assert_true(wait_eof(f, t.cli, 500));
	assert_true(ef_now() - t0 < 500);
	l = close_line(f, &t, WAIT_MS);
	assert_non_null(strstr(l, " reason=connect"));
	assert_non_null(strstr(l, " error=\"Connection refused\""));
	(void)snprintf(want, sizeof(want), " target=127.0.0.1:%u", port);
	assert_non_null(strstr(l, want));
	assert_int_equal(ef_num(l, "bytes_in"), 0);
	assert_int_equal(ef_num(l, "bytes_out"), 0);
	assert_int_equal(f->e.nconns, 0);
	assert_int_equal(f->e.active[0], 0);
	free(l);
	(void)close(t.cli);
	(void)close(lfd);
	ef_stop(f);
}

/*
 * A target that never answers the SYN: a listener with backlog 0 and
 * its accept queue full drops every SYN (Linux: tcp_conn_request(), the
 * ListenOverflows counter), so the connect can only time out, after
 * redirect_timeout.  The queue is filled until the listener's TCP_INFO
 * says so: tcpi_unacked is its queue, tcpi_sacked its backlog.
 */
static void
test_relay_connect_timeout(void **state)
{
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin, tsin;
	struct tcp_info		 ti;
	struct pollfd		 pfd;
	struct tconn		 t;
	socklen_t		 len;
	uint64_t		 t0, took;
	char			*l, want[64];
	int			 lfd, tl, fill[4], nfill = 0, i;

	tl = ef_tcp_listen("127.0.0.1", 0, &tsin);
	for (;;) {
		len = sizeof(ti);
		assert_int_equal(getsockopt(tl, IPPROTO_TCP, TCP_INFO, &ti,
		    &len), 0);
		if (ti.tcpi_unacked > ti.tcpi_sacked)
			break;
		assert_true(nfill < 4);
		fill[nfill] = ef_tcp_connect(&tsin);
		pfd.fd = fill[nfill++];
		pfd.events = POLLOUT;
		assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
	}
	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, ntohs(tsin.sin_port), "\tredirect_timeout = 1s\n");
	t0 = ef_now();
	relay_open(f, lfd, &lsin, &t);
	l = close_line(f, &t, 3 * WAIT_MS);
	took = ef_now() - t0;
	assert_non_null(strstr(l, " reason=connect"));
	assert_non_null(strstr(l, " error=\"Connection timed out\""));
	(void)snprintf(want, sizeof(want), " target=127.0.0.1:%u",
	    ntohs(tsin.sin_port));
	assert_non_null(strstr(l, want));
	if (took < 950 || took > 2000 || ef_num(l, "duration_ms") < 950) {
		print_error("closed after %llu ms: %s\n",
		    (unsigned long long)took, l);
		fail();
	}
	assert_true(wait_eof(f, t.cli, WAIT_MS));
	assert_int_equal(f->e.nconns, 0);
	for (i = 0; i < nfill; i++)
		(void)close(fill[i]);
	free(l);
	(void)close(t.cli);
	(void)close(lfd);
	(void)close(tl);
	ef_stop(f);
}

/* A relay where nothing moves ends after timeout, and both sides see it. */
static void
test_relay_idle_timeout(void **state)
{
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin, tsin;
	struct tconn		 t;
	uint64_t		 quiet, took;
	char			*l;
	int			 lfd, tl;

	tl = ef_tcp_listen("127.0.0.1", 16, &tsin);
	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, ntohs(tsin.sin_port), "\ttimeout = 1s\n");
	relay_open(f, lfd, &lsin, &t);
	target_accept(f, tl, &t);
	exchange(f, &t, 100, 200);
	quiet = ef_now();
	l = close_line(f, &t, 3 * WAIT_MS);
	took = ef_now() - quiet;
	assert_non_null(strstr(l, " reason=timeout"));
	assert_null(strstr(l, "error="));
	assert_int_equal(ef_num(l, "bytes_in"), 100);
	assert_int_equal(ef_num(l, "bytes_out"), 200);
	if (took < 950 || took > 2000) {
		print_error("closed %llu ms after the last byte\n",
		    (unsigned long long)took);
		fail();
	}
	assert_true(wait_eof(f, t.cli, WAIT_MS));
	assert_true(wait_eof(f, t.srv, WAIT_MS));
	assert_int_equal(f->e.nconns, 0);
	assert_int_equal(f->e.active[0], 0);
	free(l);
	(void)close(t.cli);
	(void)close(t.srv);
	(void)close(lfd);
	(void)close(tl);
	ef_stop(f);
}

/*
 * An idle relay holds no pipe: after a transfer every pipe open in this
 * process is in the pool, which the next transfer takes from, and which
 * relay_pool_free() empties.
 */
static void
test_relay_pipe_pool(void **state)
{
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin, tsin;
	struct tconn		 t;
	size_t			 base, pooled;
	char			*l;
	int			 lfd, tl, i;

	tl = ef_tcp_listen("127.0.0.1", 16, &tsin);
	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, ntohs(tsin.sin_port), "");
	base = ef_pipes_open();
	assert_int_equal(f->e.npipes, 0);
	relay_open(f, lfd, &lsin, &t);
	target_accept(f, tl, &t);
	exchange(f, &t, 256 * 1024, 256 * 1024);
	for (i = 0; i < 10; i++)
		ef_step(f);
	pooled = f->e.npipes;
	assert_true(pooled > 0 && pooled <= 2);
	assert_int_equal(ef_pipes_open(), base + 2 * pooled);
	assert_int_equal(f->e.nconns, 1);
	/* Again: taken from the pool and given back, none made. */
	exchange(f, &t, 256 * 1024, 256 * 1024);
	for (i = 0; i < 10; i++)
		ef_step(f);
	assert_true(f->e.npipes >= pooled && f->e.npipes <= 2);
	assert_int_equal(ef_pipes_open(), base + 2 * f->e.npipes);
	finish(f, &t);
	l = close_line(f, &t, WAIT_MS);
	assert_int_equal(ef_num(l, "bytes_in"), 512 * 1024);
	assert_int_equal(ef_num(l, "bytes_out"), 512 * 1024);
	free(l);
	/* The relay is gone; its pipes stay pooled for the next one. */
	assert_true(f->e.npipes > 0);
	assert_int_equal(ef_pipes_open(), base + 2 * f->e.npipes);
	relay_pool_free(&f->e);
	assert_int_equal(f->e.npipes, 0);
	assert_null(f->e.pipes);
	assert_int_equal(ef_pipes_open(), base);
	(void)close(lfd);
	(void)close(tl);
	ef_stop(f);
}

/*
 * No pipe to be had (pipe2 fails with EMFILE): both directions fall
 * back to a buffer, the bytes arrive all the same, and the warning is
 * logged once.  Once the relay is connected, the soft RLIMIT_NOFILE is
 * set to the lowest free fd, so that no new fd can be made at all.
 * Not "one above the highest open fd": a test runner may leave an fd
 * open far above the rest, and the holes below it would take a pipe;
 * fds above the limit go on working.
 */
static void
test_relay_buffer_fallback(void **state)
{
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin, tsin;
	struct tconn		 t;
	struct rlimit		 low;
	size_t			 pipes;
	int			 lfd, tl, fd, p[2];
	char			*l;

	tl = ef_tcp_listen("127.0.0.1", 16, &tsin);
	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, ntohs(tsin.sin_port), "");
	relay_open(f, lfd, &lsin, &t);
	target_accept(f, tl, &t);
	assert_int_equal(f->e.npipes, 0);
	pipes = ef_pipes_open();
	/* The lowest free fd: every fd below it is taken. */
	assert_true((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) != -1);
	assert_int_equal(close(fd), 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &nofile), 0);
	low = nofile;
	low.rlim_cur = (rlim_t)fd;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	nofile_low = true;
	/* Nothing may open an fd now: not this test, not the relay. */
	assert_int_equal(pipe2(p, O_CLOEXEC), -1);
	assert_int_equal(errno, EMFILE);
	exchange(f, &t, 300 * 1024, 200 * 1024);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &nofile), 0);
	nofile_low = false;
	assert_int_equal(f->e.npipes, 0);
	assert_int_equal(ef_pipes_open(), pipes);
	assert_int_equal(ef_count(f, "action=warn", "pipe2, relaying "
	    "through a buffer"), 1);
	l = ef_line(f, "action=warn", "pipe2, relaying through a buffer");
	assert_non_null(strstr(l, "service=r "));
	assert_non_null(strstr(l, " error=\"Too many open files\""));
	free(l);
	finish(f, &t);
	l = close_line(f, &t, WAIT_MS);
	assert_int_equal(ef_num(l, "bytes_in"), 300 * 1024);
	assert_int_equal(ef_num(l, "bytes_out"), 200 * 1024);
	assert_null(strstr(l, "reason="));
	free(l);
	(void)close(lfd);
	(void)close(tl);
	ef_stop(f);
}

/* A failed test_relay_buffer_fallback must not leave the limit low. */
static int
nofile_teardown(void **state)
{
	if (nofile_low)
		(void)setrlimit(RLIMIT_NOFILE, &nofile);
	nofile_low = false;
	return ef_teardown(state);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_relay_bytes, ef_setup,
		    ef_teardown),
		cmocka_unit_test_setup_teardown(test_relay_half_close,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_relay_half_close_target,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_relay_back_pressure,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_relay_refused, ef_setup,
		    ef_teardown),
		cmocka_unit_test_setup_teardown(test_relay_connect_timeout,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_relay_idle_timeout,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_relay_pipe_pool,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_relay_buffer_fallback,
		    ef_setup, nofile_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
