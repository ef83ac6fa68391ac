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
 * Unit tests of proxyin.c, the PROXY protocol reader, on real loopback
 * sockets in an engine built in this process (enginefix.c).  Each test
 * plays the proxy: it connects to a listener of its own, hands the
 * accepted socket to proxyin_start() as accept_cb() does, and sends a
 * header.  The service is builtin = echo, so what comes back is exactly
 * what the reader left in the socket after the header: a header byte
 * that leaks through, or a payload byte that the reader swallowed,
 * shows in the echo.  The log says whom the engine believed (peer=)
 * and who sent the header (via=).  Durations in the config are whole
 * seconds, so the timeout case waits about one second.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/tcp.h>

#include <errno.h>
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

/* One echo service (index 0) behind a proxy: versions, CIDRs, timeout. */
#define SVC	"service px {\n\tport = 10080\n\taddress = {127.0.0.1}\n" \
		"\tbuiltin = echo\n\tproxy_protocol = %s\n" \
		"\ttrusted_proxies = {%s}\n\tproxy_timeout = %s\n}\n"

#define WAIT_MS		3000	/* for what should take milliseconds */
#define EARLY_MS	500	/* of a 1 s proxy_timeout: not yet */

/* How a read from the client ended. */
enum end {
	END_NONE,		/* still open when the wait was over */
	END_EOF,
	END_RESET,		/* ECONNRESET: closed with bytes unread */
};

/* One connection from the proxy, as the test sees it. */
struct pconn {
	int		 cli;		/* the proxy's end */
	int		 fd;		/* the engine's, while it reads */
	uint64_t	 id;
	uint16_t	 port;		/* the proxy's source port */
	char		 conn[32];	/* "conn=ID ": its lines */
};

static int	 connect_from(const char *, const struct sockaddr_in *);
static void	 px_open(struct enginefix *, int, const struct sockaddr_in *,
		    const char *, struct pconn *);
static void	 px_send(int, const void *, size_t);
static size_t	 px_read(struct enginefix *, int, char *, size_t, size_t,
		    enum end *);
static void	 px_consumed(struct enginefix *, const struct pconn *,
		    uint64_t);
static void	 wait_nconns(struct enginefix *, size_t);
static void	 has_field(const char *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
static void	 expect_echo(struct enginefix *, int, const char *);
static void	 v2_header(unsigned char *, int, int, const char *,
		    const char *, uint16_t, uint16_t);
static void	 finish(struct enginefix *, int, size_t);
static void	 expect_accept(struct enginefix *, const struct pconn *,
		    const struct sockaddr_in *, const char *);
static void	 expect_refuse(struct enginefix *, const struct pconn *,
		    const char *, const char *);
static void	 expect_no_reply(struct enginefix *, const struct pconn *,
		    bool);

/* A nonblocking connect to sin from src, port 0 (src NULL: any). */
static int
connect_from(const char *src, const struct sockaddr_in *sin)
{
	struct sockaddr_in	 from;
	int			 fd, one = 1;

	if (src == NULL)
		fd = ef_tcp_connect(sin);
	else {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		assert_true(fd != -1);
		ef_sin(&from, src, 0);
		assert_int_equal(bind(fd, (struct sockaddr *)&from,
		    sizeof(from)), 0);
		if (connect(fd, (const struct sockaddr *)sin,
		    sizeof(*sin)) == -1)
			assert_int_equal(errno, EINPROGRESS);
	}
	/* One send, one segment: the byte-at-a-time case needs it. */
	assert_int_equal(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)), 0);
	return fd;
}

/*
 * A connection from src (NULL: 127.0.0.1) to lfd, accepted there and
 * handed to proxyin_start() with its peer as accept_cb() would: no
 * listener address (ba NULL), so local= comes from getsockname().
 */
static void
px_open(struct enginefix *f, int lfd, const struct sockaddr_in *lsin,
    const char *src, struct pconn *pc)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 peer[80];

	memset(pc, 0, sizeof(*pc));
	pc->cli = connect_from(src, lsin);
	pc->fd = ef_accept(f, lfd, WAIT_MS);
	assert_true(pc->fd != -1);
	assert_int_equal(getpeername(pc->fd, (struct sockaddr *)&ss, &len),
	    0);
	assert_int_equal(ss.ss_family, AF_INET);
	pc->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	(void)sa_fmt((struct sockaddr *)&ss, peer, sizeof(peer));
	pc->id = engine_next_id(&f->e);
	(void)snprintf(pc->conn, sizeof(pc->conn), "conn=%llu ",
	    (unsigned long long)pc->id);
	proxyin_start(&f->e, 0, pc->fd, pc->id, (struct sockaddr *)&ss, peer,
	    NULL);
}

static void
px_send(int cli, const void *buf, size_t len)
{
	assert_int_equal(send(cli, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

/*
 * Read from cli while the engine runs, until want bytes came or the
 * connection ended, WAIT_MS at most.  Returns how many came, *end how
 * it ended.
 */
static size_t
px_read(struct enginefix *f, int cli, char *buf, size_t size, size_t want,
    enum end *end)
{
	uint64_t	 until = ef_now() + WAIT_MS;
	size_t		 got = 0;
	ssize_t		 r;

	*end = END_NONE;
	while (ef_now() < until && got < want && got < size) {
		ef_step(f);
		r = recv(cli, buf + got, size - got, MSG_DONTWAIT);
		if (r == 0) {
			*end = END_EOF;
			break;
		}
		if (r == -1 && errno == ECONNRESET) {
			*end = END_RESET;
			break;
		}
		if (r == -1) {
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR);
			continue;
		}
		got += (size_t)r;
	}
	return got;
}

/*
 * Until the engine's socket has received total bytes from the proxy
 * and none is left unread in it: the reader took each as it came.
 */
static void
px_consumed(struct enginefix *f, const struct pconn *pc, uint64_t total)
{
	uint64_t	 until = ef_now() + WAIT_MS;
	struct tcp_info	 ti;
	socklen_t	 len;
	int		 unread;

	for (;;) {
		len = sizeof(ti);
		memset(&ti, 0, sizeof(ti));
		assert_int_equal(getsockopt(pc->fd, IPPROTO_TCP, TCP_INFO,
		    &ti, &len), 0);
		assert_int_equal(ioctl(pc->fd, FIONREAD, &unread), 0);
		if (ti.tcpi_bytes_received == total && unread == 0)
			return;
		if (ef_now() >= until)
			fail_msg("%s: %llu of %llu bytes in, %d unread after "
			    "%d ms", pc->conn,
			    (unsigned long long)ti.tcpi_bytes_received,
			    (unsigned long long)total, unread, WAIT_MS);
		ef_step(f);
	}
}

/* Until the engine holds n connections, WAIT_MS at most. */
static void
wait_nconns(struct enginefix *f, size_t n)
{
	uint64_t	 until = ef_now() + WAIT_MS;

	while (f->e.nconns != n && ef_now() < until)
		ef_step(f);
	assert_int_equal(f->e.nconns, n);
}

/* line has the field, whole: after a space, then a space or the end. */
static void
has_field(const char *line, const char *fmt, ...)
{
	char		 want[256];
	const char	*p;
	size_t		 n;
	va_list		 ap;

	va_start(ap, fmt);
	(void)vsnprintf(want + 1, sizeof(want) - 1, fmt, ap);
	va_end(ap);
	want[0] = ' ';
	n = strlen(want);
	for (p = line; (p = strstr(p, want)) != NULL; p++)
		if (p[n] == ' ' || p[n] == '\0')
			return;
	fail_msg("no '%s' in: %s", want + 1, line);
}

/* The client shuts its side: echo sends back exactly want, then EOF. */
static void
expect_echo(struct enginefix *f, int cli, const char *want)
{
	char		 buf[256];
	size_t		 got;
	enum end	 end;

	assert_int_equal(shutdown(cli, SHUT_WR), 0);
	got = px_read(f, cli, buf, sizeof(buf), sizeof(buf), &end);
	if (end != END_EOF || got != strlen(want) ||
	    memcmp(buf, want, got) != 0)
		fail_msg("echo gave %zu bytes '%.*s' then %s, expected '%s' "
		    "then EOF", got, (int)got, buf, end == END_EOF ? "EOF" :
		    end == END_RESET ? "a reset" : "nothing", want);
}

/*
 * A v2 header (proxy-protocol.txt 2.2) into out: the signature, then
 * version 2 with cmd, family fam and the length; for TCP over IPv4
 * (0x11) the two addresses and ports follow, 28 bytes in all, and
 * otherwise there is nothing after the 16-byte head.
 */
static void
v2_header(unsigned char *out, int cmd, int fam, const char *src,
    const char *dst, uint16_t sport, uint16_t dport)
{
	static const unsigned char	 sig[12] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
		0x54, 0x0a
	};
	uint16_t			 len = fam == 0x11 ? 12 : 0;

	memcpy(out, sig, sizeof(sig));
	out[12] = (unsigned char)(0x20 | cmd);
	out[13] = (unsigned char)fam;
	out[14] = (unsigned char)(len >> 8);
	out[15] = (unsigned char)len;
	if (fam != 0x11)
		return;
	assert_int_equal(inet_pton(AF_INET, src, out + 16), 1);
	assert_int_equal(inet_pton(AF_INET, dst, out + 20), 1);
	out[24] = (unsigned char)(sport >> 8);
	out[25] = (unsigned char)sport;
	out[26] = (unsigned char)(dport >> 8);
	out[27] = (unsigned char)dport;
}

/*
 * The end of a test: its clients are closed, so the engine must come
 * back to no connection and to the descriptors it had before the
 * first one (nfds), whichever way each of them ended.
 */
static void
finish(struct enginefix *f, int lfd, size_t nfds)
{
	wait_nconns(f, 0);
	assert_int_equal(ef_fds_open(), nfds);
	(void)close(lfd);
	ef_stop(f);
}

/* The accept line of pc: served as peer, sent by the proxy pc. */
static void
expect_accept(struct enginefix *f, const struct pconn *pc,
    const struct sockaddr_in *lsin, const char *peer)
{
	char	*l;

	l = ef_expect(f, pc->conn, "action=accept", WAIT_MS);
	has_field(l, "proto=tcp");
	has_field(l, "peer=%s", peer);
	has_field(l, "local=127.0.0.1:%u", ntohs(lsin->sin_port));
	has_field(l, "via=127.0.0.1:%u", pc->port);
	free(l);
	assert_null(ef_line(f, pc->conn, "action=refuse"));
}

/* The refusal of pc, with reason=proxy and msg; nothing served. */
static void
expect_refuse(struct enginefix *f, const struct pconn *pc, const char *src,
    const char *msg)
{
	char	*l;

	l = ef_expect(f, pc->conn, "action=refuse", WAIT_MS);
	has_field(l, "proto=tcp");
	has_field(l, "peer=%s:%u", src, pc->port);
	has_field(l, "reason=proxy");
	has_field(l, "msg=\"%s\"", msg);
	free(l);
	assert_null(ef_line(f, pc->conn, "action=accept"));
	assert_int_equal(ef_count(f, pc->conn, NULL), 1);
}

/* The proxy gets no byte and the connection ends; eof: with a FIN. */
static void
expect_no_reply(struct enginefix *f, const struct pconn *pc, bool eof)
{
	char		 buf[64];
	size_t		 got;
	enum end	 end;

	got = px_read(f, pc->cli, buf, sizeof(buf), sizeof(buf), &end);
	if (got != 0 || end == END_NONE || (eof && end != END_EOF))
		fail_msg("%s: the proxy got %zu bytes, then %s", pc->conn,
		    got, end == END_EOF ? "EOF" : end == END_RESET ?
		    "a reset" : "nothing");
}

#define V1_HDR		"PROXY TCP4 203.0.113.9 192.0.2.1 51234 80\r\n"
#define V1_PEER		"203.0.113.9:51234"

/*
 * A v1 header and the client's first bytes in one segment, as a proxy
 * sends them once the client spoke first: the reader takes the header
 * and leaves "hello\n" to echo, which sends back that and nothing else.
 * The engine believes the header's source and names the proxy in via=.
 */
static void
test_proxyin_v1_same_send(void **state)
{
	static const char	 msg[] = V1_HDR "hello\n";
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin;
	struct pconn		 pc;
	char			*l;
	size_t			 nfds;
	int			 lfd;

	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, "v1", "127.0.0.1/32", "5s");
	nfds = ef_fds_open();
	px_open(f, lfd, &lsin, NULL, &pc);
	px_send(pc.cli, msg, sizeof(msg) - 1);
	expect_echo(f, pc.cli, "hello\n");
	expect_accept(f, &pc, &lsin, V1_PEER);
	/* The header was the reader's: echo counts the payload only. */
	l = ef_expect(f, pc.conn, "action=close", WAIT_MS);
	assert_int_equal(ef_num(l, "bytes_in"), 6);
	free(l);
	(void)close(pc.cli);
	finish(f, lfd, nfds);
}

/*
 * The same bytes one segment each, the engine taking every one before
 * the next is sent: each read sees a strict prefix, so the header is
 * put together across reads.  A byte kept twice or dropped would break
 * the header (a refusal) or reach echo.
 */
static void
test_proxyin_v1_byte_per_send(void **state)
{
	static const char	 msg[] = V1_HDR "hello\n";
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin;
	struct pconn		 pc;
	size_t			 nfds, i, hlen = sizeof(V1_HDR) - 1;
	int			 lfd;

	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, "v1", "127.0.0.1/32", "5s");
	nfds = ef_fds_open();
	px_open(f, lfd, &lsin, NULL, &pc);
	for (i = 0; i + 1 < hlen; i++) {
		px_send(pc.cli, msg + i, 1);
		px_consumed(f, &pc, i + 1);
		if (ef_line(f, pc.conn, "action=") != NULL)
			fail_msg("%s logged after %zu of %zu header bytes",
			    pc.conn, i + 1, hlen);
		assert_int_equal(f->e.nconns, 1);
	}
	/* The LF ends the header; the payload follows as bytes too. */
	for (; i < sizeof(msg) - 1; i++) {
		px_send(pc.cli, msg + i, 1);
		ef_step(f);
	}
	expect_echo(f, pc.cli, "hello\n");
	expect_accept(f, &pc, &lsin, V1_PEER);
	(void)close(pc.cli);
	finish(f, lfd, nfds);
}

/* A v2 PROXY header over TCP4, then the payload, in one segment. */
static void
test_proxyin_v2_tcp4(void **state)
{
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin;
	struct pconn		 pc;
	unsigned char		 buf[64];
	size_t			 nfds;
	int			 lfd;

	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, "v2", "127.0.0.1/32", "5s");
	nfds = ef_fds_open();
	px_open(f, lfd, &lsin, NULL, &pc);
	v2_header(buf, 0x1, 0x11, "198.51.100.23", "192.0.2.10", 40001, 443);
	memcpy(buf + 28, "v2 payload\n", 11);
	px_send(pc.cli, buf, 28 + 11);
	expect_echo(f, pc.cli, "v2 payload\n");
	expect_accept(f, &pc, &lsin, "198.51.100.23:40001");
	(void)close(pc.cli);
	finish(f, lfd, nfds);
}

/*
 * A v2 LOCAL header and a v1 "PROXY UNKNOWN" name no client: the
 * proxy's own connection (a health check), served as its socket's peer,
 * still through the proxy.
 */
static void
test_proxyin_local(void **state)
{
	static const char	 unknown[] = "PROXY UNKNOWN\r\npong\n";
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin;
	struct pconn		 pc;
	unsigned char		 buf[64];
	char			 self[32];
	size_t			 nfds;
	int			 lfd;

	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, "any", "127.0.0.1/32", "5s");
	nfds = ef_fds_open();

	px_open(f, lfd, &lsin, NULL, &pc);
	v2_header(buf, 0x0, 0x00, NULL, NULL, 0, 0);
	memcpy(buf + 16, "ping\n", 5);
	px_send(pc.cli, buf, 16 + 5);
	expect_echo(f, pc.cli, "ping\n");
	(void)snprintf(self, sizeof(self), "127.0.0.1:%u", pc.port);
	expect_accept(f, &pc, &lsin, self);
	(void)close(pc.cli);
	wait_nconns(f, 0);

	px_open(f, lfd, &lsin, NULL, &pc);
	px_send(pc.cli, unknown, sizeof(unknown) - 1);
	expect_echo(f, pc.cli, "pong\n");
	(void)snprintf(self, sizeof(self), "127.0.0.1:%u", pc.port);
	expect_accept(f, &pc, &lsin, self);
	(void)close(pc.cli);
	finish(f, lfd, nfds);
}

/*
 * 127.0.0.3 is no trusted proxy: refused at once, before a byte is
 * read, and the socket closed.  127.0.0.1, in trusted_proxies, is
 * served by the same engine, so it is the source that was refused.
 */
static void
test_proxyin_untrusted(void **state)
{
	static const char	 msg[] = V1_HDR "hello\n";
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin;
	struct pconn		 pc;
	size_t			 nfds;
	int			 lfd;

	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, "v1", "127.0.0.1/32", "5s");
	nfds = ef_fds_open();
	px_open(f, lfd, &lsin, "127.0.0.3", &pc);
	assert_int_equal(f->e.nconns, 0);
	expect_refuse(f, &pc, "127.0.0.3", "not a trusted proxy");
	expect_no_reply(f, &pc, true);
	assert_int_equal(f->e.active[0], 0);
	(void)close(pc.cli);

	px_open(f, lfd, &lsin, "127.0.0.1", &pc);
	px_send(pc.cli, msg, sizeof(msg) - 1);
	expect_echo(f, pc.cli, "hello\n");
	expect_accept(f, &pc, &lsin, V1_PEER);
	(void)close(pc.cli);
	finish(f, lfd, nfds);
}

/*
 * A leading zero in a port: refused with the parser's reason, and the
 * proxy gets no byte.  The reader refuses on a peek, so the bytes from
 * the bad one on are unread when the socket closes, and the kernel
 * answers with a reset rather than a FIN (RFC 2525, 2.17): the end is
 * a reset or an EOF.  Sent a byte at a time from another proxy, the
 * line is refused on the '1' of "01", the first byte no valid header
 * can have there, not at its CRLF or the timeout.
 */
static void
test_proxyin_malformed(void **state)
{
	static const char	 bad[] =
	    "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n";
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin;
	struct pconn		 pc;
	size_t			 nfds, i, upto = sizeof(bad) - 1 - 5;
	int			 lfd;

	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, "v1", "127.0.0.0/8", "5s");
	nfds = ef_fds_open();
	px_open(f, lfd, &lsin, NULL, &pc);
	px_send(pc.cli, bad, sizeof(bad) - 1);
	expect_refuse(f, &pc, "127.0.0.1", "bad v1 source port");
	expect_no_reply(f, &pc, false);
	(void)close(pc.cli);

	/* Its own source: a second refusal of 127.0.0.1 is summarised. */
	px_open(f, lfd, &lsin, "127.0.0.4", &pc);
	assert_int_equal(bad[upto - 1], '0');
	for (i = 0; i < upto; i++) {
		px_send(pc.cli, bad + i, 1);
		px_consumed(f, &pc, i + 1);
	}
	assert_null(ef_line(f, pc.conn, "action="));
	px_send(pc.cli, bad + upto, 1);
	expect_refuse(f, &pc, "127.0.0.4", "bad v1 source port");
	expect_no_reply(f, &pc, false);
	assert_null(ef_line(f, "peer=1.2.3.4", NULL));
	(void)close(pc.cli);
	finish(f, lfd, nfds);
}

/* A header of the version the service does not take. */
static void
test_proxyin_version_not_accepted(void **state)
{
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin;
	struct pconn		 pc;
	size_t			 nfds;
	int			 lfd;

	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, "v2", "127.0.0.1/32", "5s");
	nfds = ef_fds_open();
	px_open(f, lfd, &lsin, NULL, &pc);
	px_send(pc.cli, V1_HDR, sizeof(V1_HDR) - 1);
	expect_refuse(f, &pc, "127.0.0.1", "v1 header but only v2 accepted");
	expect_no_reply(f, &pc, false);
	(void)close(pc.cli);
	finish(f, lfd, nfds);
}

/*
 * A proxy that sends nothing: refused when proxy_timeout (1 s) is up,
 * not before, and within WAIT_MS of the connection.
 */
static void
test_proxyin_timeout(void **state)
{
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin;
	struct pconn		 pc;
	uint64_t		 start, took;
	char			*l;
	size_t			 nfds;
	int			 lfd;

	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, "v1", "127.0.0.1/32", "1s");
	nfds = ef_fds_open();
	start = ef_now();
	px_open(f, lfd, &lsin, NULL, &pc);
	while (ef_now() < start + EARLY_MS)
		ef_step(f);
	assert_null(ef_line(f, pc.conn, "action="));
	assert_int_equal(f->e.nconns, 1);
	l = ef_wait_line(f, pc.conn, "msg=\"no header in time\"", WAIT_MS);
	took = ef_now() - start;
	if (l == NULL)
		fail_msg("no refusal %llu ms after a silent connection",
		    (unsigned long long)took);
	free(l);
	/* libevent may time on a coarse clock, a tick (4-10 ms) behind. */
	if (took < 950 || took > WAIT_MS)
		fail_msg("refused after %llu ms, proxy_timeout is 1000",
		    (unsigned long long)took);
	expect_refuse(f, &pc, "127.0.0.1", "no header in time");
	expect_no_reply(f, &pc, true);
	(void)close(pc.cli);
	finish(f, lfd, nfds);
}

/* The proxy shuts its side after part of a header. */
static void
test_proxyin_closed_early(void **state)
{
	static const char	 part[] = "PROXY TCP4 1.2";
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin;
	struct pconn		 pc;
	size_t			 nfds;
	int			 lfd;

	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, "v1", "127.0.0.1/32", "5s");
	nfds = ef_fds_open();
	px_open(f, lfd, &lsin, NULL, &pc);
	px_send(pc.cli, part, sizeof(part) - 1);
	px_consumed(f, &pc, sizeof(part) - 1);
	assert_null(ef_line(f, pc.conn, "action="));
	assert_int_equal(shutdown(pc.cli, SHUT_WR), 0);
	expect_refuse(f, &pc, "127.0.0.1", "closed before the header");
	expect_no_reply(f, &pc, true);
	assert_int_equal(f->e.nconns, 0);
	(void)close(pc.cli);
	finish(f, lfd, nfds);
}

/*
 * A proxy that resets in the middle of its header: the refusal is still
 * the proxy's, by the address accept gave (getpeername() fails on a
 * reset socket), and says what recv said.
 */
static void
test_proxyin_reset(void **state)
{
	static const char	 part[] = "PROXY ";
	struct enginefix	*f = *state;
	struct linger		 lg = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_in	 lsin;
	struct pconn		 pc;
	size_t			 nfds;
	int			 lfd;

	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, "v1", "127.0.0.1/32", "5s");
	nfds = ef_fds_open();
	px_open(f, lfd, &lsin, NULL, &pc);
	px_send(pc.cli, part, sizeof(part) - 1);
	px_consumed(f, &pc, sizeof(part) - 1);
	assert_int_equal(setsockopt(pc.cli, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	(void)close(pc.cli);
	expect_refuse(f, &pc, "127.0.0.1", "recv: Connection reset by peer");
	assert_int_equal(f->e.nconns, 0);
	finish(f, lfd, nfds);
}

/*
 * The grace period is over (grace_cb()): a connection still waiting for
 * its header is closed with reason=stop and the bytes it took, and its
 * count given back.  One already served is not the reader's to close.
 */
static void
test_proxyin_stop_all(void **state)
{
	static const char	 part[] = "PROXY TCP4 ";
	static const char	 msg[] = V1_HDR "a\n";
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin;
	struct pconn		 served, pc;
	char			 buf[8], *l;
	size_t			 nfds, got, before;
	enum end		 end;
	int			 lfd;

	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, SVC, "any", "127.0.0.1/32", "5s");
	nfds = ef_fds_open();
	px_open(f, lfd, &lsin, NULL, &served);
	px_send(served.cli, msg, sizeof(msg) - 1);
	got = px_read(f, served.cli, buf, sizeof(buf), 2, &end);
	assert_int_equal(got, 2);
	assert_memory_equal(buf, "a\n", 2);
	before = f->e.nconns;
	assert_int_equal(before, 1);

	px_open(f, lfd, &lsin, NULL, &pc);
	px_send(pc.cli, part, sizeof(part) - 1);
	px_consumed(f, &pc, sizeof(part) - 1);
	assert_int_equal(f->e.nconns, before + 1);
	proxyin_stop_all(&f->e);
	assert_int_equal(f->e.nconns, before);
	l = ef_line(f, pc.conn, "action=close");
	assert_non_null(l);
	has_field(l, "bytes_in=%zu", sizeof(part) - 1);
	has_field(l, "bytes_out=0");
	has_field(l, "reason=stop");
	assert_true(ef_num(l, "duration_ms") < WAIT_MS);
	free(l);
	assert_int_equal(ef_count(f, pc.conn, NULL), 1);
	expect_no_reply(f, &pc, true);
	/* Nothing left to close: a second call logs nothing. */
	proxyin_stop_all(&f->e);
	assert_int_equal(ef_count(f, "reason=stop", NULL), 1);
	(void)close(pc.cli);

	assert_null(ef_line(f, served.conn, "action=close"));
	expect_echo(f, served.cli, "");
	expect_accept(f, &served, &lsin, V1_PEER);
	(void)close(served.cli);
	finish(f, lfd, nfds);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_proxyin_v1_same_send,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_proxyin_v1_byte_per_send,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_proxyin_v2_tcp4,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_proxyin_local,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_proxyin_untrusted,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_proxyin_malformed,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(
		    test_proxyin_version_not_accepted, ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_proxyin_timeout,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_proxyin_closed_early,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_proxyin_reset,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_proxyin_stop_all,
		    ef_setup, ef_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
