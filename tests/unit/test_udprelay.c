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
 * Unit tests of udprelay.c, UDP forwarding, on real loopback sockets in
 * an engine built in this process (enginefix.c).  The service's socket
 * is the test's own, watched with udp_redirect_cb() as
 * listeners_start() would; the target is an echo socket serviced in the
 * same event loop, which answers each datagram to its sender and notes
 * who sent it.  Every case checks what a client sees (which answers
 * arrive, and from where) and the lines the engine logs.  Durations in
 * the config are whole seconds, so the expiry cases wait about one
 * second each.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

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

#include <event2/event.h>

#include "engine.h"
#include "portmuxd.h"
#include "udpaddr.h"
#include "enginefix.h"

/* One UDP redirect service to 127.0.0.1:%u, with the keys of %s. */
#define SVC	"service u {\n\tprotocol = udp\n\tport = 10000\n" \
		"\taddress = {127.0.0.1}\n" \
		"\tredirect = \"127.0.0.1:%u\"\n%s}\n"

#define WAIT_MS		2000	/* for what should take milliseconds */
#define QUIET_PASSES	50	/* passes of the loop that bring nothing */
#define PEERS_MAX	8

/* The service's socket, as the engine would watch it. */
struct usvc {
	int			 fd;
	struct sockaddr_in	 sin;
	struct listener		 l;
	struct elistener	 el;
	struct event		*ev;
};

/* The target: it echoes, and remembers the sources it saw. */
struct echo {
	int			 fd;
	struct sockaddr_in	 sin;
	struct event		*ev;
	size_t			 n;		/* datagrams */
	struct sockaddr_in	 peers[PEERS_MAX];
	size_t			 npeers;
};

static void	 echo_cb(evutil_socket_t, short, void *);
static void	 echo_open(struct echo *);
static void	 echo_watch(struct enginefix *, struct echo *);
static void	 echo_close(struct echo *);
static void	 usvc_open(struct enginefix *, struct usvc *, const char *,
		    bool);
static void	 usvc_close(struct usvc *);
static void	 say(int, const struct sockaddr_in *, const char *);
static bool	 hear(struct enginefix *, int, const char *,
		    struct sockaddr_in *);
static void	 hear_nothing(struct enginefix *, int);
static uint64_t	 accept_id(struct enginefix *, const struct sockaddr_in *,
		    size_t);
static char	*close_of(struct enginefix *, uint64_t, unsigned int);
static bool	 same(const struct sockaddr_in *, const struct sockaddr_in *);

static bool
same(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_port == b->sin_port &&
	    a->sin_addr.s_addr == b->sin_addr.s_addr;
}

static void
echo_cb(evutil_socket_t fd, short ev __unused, void *arg)
{
	struct echo		*t = arg;
	struct sockaddr_in	 from;
	socklen_t		 len;
	char			 buf[2048];
	ssize_t			 n;
	size_t			 i;

	for (;;) {
		len = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &len);
		if (n == -1)
			return;
		t->n++;
		for (i = 0; i < t->npeers; i++)
			if (same(&t->peers[i], &from))
				break;
		if (i == t->npeers && t->npeers < PEERS_MAX)
			t->peers[t->npeers++] = from;
		(void)sendto(fd, buf, (size_t)n, MSG_DONTWAIT,
		    (struct sockaddr *)&from, len);
	}
}

/* Before the config, which names its port. */
static void
echo_open(struct echo *t)
{
	memset(t, 0, sizeof(*t));
	t->fd = ef_udp("127.0.0.1", &t->sin);
}

/* Once the engine's loop exists. */
static void
echo_watch(struct enginefix *f, struct echo *t)
{
	assert_non_null(t->ev = event_new(f->e.base, t->fd, EV_READ |
	    EV_PERSIST, echo_cb, t));
	assert_int_equal(event_add(t->ev, NULL), 0);
}

static void
echo_close(struct echo *t)
{
	if (t->ev != NULL)
		event_free(t->ev);
	(void)close(t->fd);
}

/*
 * The service's socket on addr, port 0, set up as listeners_start()
 * sets up a UDP redirect listener, udpaddr_listener() included.
 */
static void
usvc_open(struct enginefix *f, struct usvc *u, const char *addr,
    bool wildcard)
{
	memset(u, 0, sizeof(*u));
	u->fd = ef_udp(addr, &u->sin);
	u->l.fd = u->fd;
	u->l.service = 0;
	u->l.proto = PROTO_UDP;
	memcpy(&u->l.addr.ss, &u->sin, sizeof(u->sin));
	u->l.addr.len = sizeof(u->sin);
	u->l.addr.wildcard = wildcard;
	u->el.e = &f->e;
	u->el.l = &u->l;
	assert_int_equal(udpaddr_listener(&u->el), 0);
	assert_non_null(u->ev = event_new(f->e.base, u->fd, EV_READ |
	    EV_PERSIST, udp_redirect_cb, &u->el));
	assert_int_equal(event_add(u->ev, NULL), 0);
}

static void
usvc_close(struct usvc *u)
{
	event_free(u->ev);
	(void)close(u->fd);
}

static void
say(int fd, const struct sockaddr_in *to, const char *msg)
{
	ssize_t	 n;

	if (to != NULL)
		n = sendto(fd, msg, strlen(msg), 0,
		    (const struct sockaddr *)to, sizeof(*to));
	else
		n = send(fd, msg, strlen(msg), 0);
	assert_int_equal(n, (ssize_t)strlen(msg));
}

/*
 * The next datagram on fd is msg: false if none comes within WAIT_MS,
 * and the test fails if another comes.  *from: who sent it.
 */
static bool
hear(struct enginefix *f, int fd, const char *msg, struct sockaddr_in *from)
{
	struct sockaddr_in	 sin;
	socklen_t		 len;
	char			 buf[2048];
	uint64_t		 end = ef_now() + WAIT_MS;
	ssize_t			 n;

	for (;;) {
		len = sizeof(sin);
		n = recvfrom(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT,
		    (struct sockaddr *)&sin, &len);
		if (n >= 0)
			break;
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		if (ef_now() >= end)
			return false;
		ef_step(f);
	}
	buf[n] = '\0';
	if (strcmp(buf, msg) != 0) {
		print_error("heard \"%s\", not \"%s\"\n", buf, msg);
		fail();
	}
	if (from != NULL)
		*from = sin;
	return true;
}

/* Nothing (more) arrives on fd while the loop runs a while. */
static void
hear_nothing(struct enginefix *f, int fd)
{
	char	 buf[2048];
	ssize_t	 n;
	int	 i;

	for (i = 0; i < QUIET_PASSES; i++) {
		ef_step(f);
		n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n >= 0) {
			buf[n] = '\0';
			print_error("unexpected datagram \"%s\"\n", buf);
			fail();
		}
	}
}

/* The id of the nth session accepted from peer (from 0). */
static uint64_t
accept_id(struct enginefix *f, const struct sockaddr_in *peer, size_t nth)
{
	char		 want[64], ip[INET_ADDRSTRLEN], *l;
	uint64_t	 id = 0;
	const char	*p, *nl;

	assert_non_null(inet_ntop(AF_INET, &peer->sin_addr, ip, sizeof(ip)));
	(void)snprintf(want, sizeof(want), " peer=%s:%u ", ip,
	    ntohs(peer->sin_port));
	l = ef_expect(f, "action=accept proto=udp", want, WAIT_MS);
	free(l);
	for (p = ef_log(f); *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		l = strndup(p, (size_t)(nl - p));
		assert_non_null(l);
		if (strstr(l, "action=accept proto=udp") != NULL &&
		    strstr(l, want) != NULL && nth-- == 0)
			id = ef_num(l, "conn");
		free(l);
		if (id != 0)
			break;
	}
	assert_true(id != 0 && id != UINT64_MAX);
	return id;
}

static char *
close_of(struct enginefix *f, uint64_t id, unsigned int ms)
{
	char	 conn[32];

	(void)snprintf(conn, sizeof(conn), "conn=%llu ",
	    (unsigned long long)id);
	return ef_expect(f, conn, "action=close proto=udp", ms);
}

/* Two clients, each with its own session, each hear only their own. */
static void
test_udprelay_two_clients(void **state)
{
	struct enginefix	*f = *state;
	struct echo		 t;
	struct usvc		 u;
	struct sockaddr_in	 sa, sb, from;
	char			 msg[64], *l;
	uint64_t		 ida, idb;
	int			 a, b, i;

	echo_open(&t);
	ef_start(f, SVC, ntohs(t.sin.sin_port), "");
	echo_watch(f, &t);
	usvc_open(f, &u, "127.0.0.1", false);
	a = ef_udp("127.0.0.1", &sa);
	b = ef_udp("127.0.0.1", &sb);
	for (i = 0; i < 3; i++) {
		(void)snprintf(msg, sizeof(msg), "from a, %d", i);
		say(a, &u.sin, msg);
		(void)snprintf(msg, sizeof(msg), "from b, %d", i);
		say(b, &u.sin, msg);
	}
	for (i = 0; i < 3; i++) {
		(void)snprintf(msg, sizeof(msg), "from a, %d", i);
		assert_true(hear(f, a, msg, &from));
		assert_true(same(&from, &u.sin));
		(void)snprintf(msg, sizeof(msg), "from b, %d", i);
		assert_true(hear(f, b, msg, &from));
		assert_true(same(&from, &u.sin));
	}
	hear_nothing(f, a);
	hear_nothing(f, b);
	/* Two sessions, each with a socket of its own to the target. */
	ida = accept_id(f, &sa, 0);
	idb = accept_id(f, &sb, 0);
	assert_true(ida != idb);
	assert_int_equal(ef_count(f, "action=accept", NULL), 2);
	assert_int_equal(t.n, 6);
	assert_int_equal(t.npeers, 2);
	assert_false(same(&t.peers[0], &t.peers[1]));
	assert_int_equal(f->e.active[0], 2);
	udprelay_stop_all(&f->e);
	l = close_of(f, ida, 0);
	assert_int_equal(ef_num(l, "datagrams_in"), 3);
	assert_int_equal(ef_num(l, "datagrams_out"), 3);
	assert_int_equal(ef_num(l, "bytes_in"), 3 * strlen("from a, 0"));
	assert_int_equal(ef_num(l, "bytes_out"), 3 * strlen("from a, 0"));
	free(l);
	l = close_of(f, idb, 0);
	assert_int_equal(ef_num(l, "datagrams_in"), 3);
	assert_int_equal(ef_num(l, "datagrams_out"), 3);
	free(l);
	usvc_close(&u);
	echo_close(&t);
	(void)close(a);
	(void)close(b);
	ef_stop(f);
}

/*
 * A session ends after udp_session_timeout of silence, with its counts;
 * the client's next datagram starts a new one.
 */
static void
test_udprelay_expiry(void **state)
{
	struct enginefix	*f = *state;
	struct echo		 t;
	struct usvc		 u;
	struct sockaddr_in	 sc;
	uint64_t		 id, id2, quiet, took;
	char			 want[64], *l;
	int			 c;

	echo_open(&t);
	ef_start(f, SVC, ntohs(t.sin.sin_port),
	    "\tudp_session_timeout = 1s\n");
	echo_watch(f, &t);
	usvc_open(f, &u, "127.0.0.1", false);
	c = ef_udp("127.0.0.1", &sc);
	say(c, &u.sin, "one");
	assert_true(hear(f, c, "one", NULL));
	say(c, &u.sin, "two!");
	assert_true(hear(f, c, "two!", NULL));
	quiet = ef_now();
	id = accept_id(f, &sc, 0);
	assert_int_equal(f->e.active[0], 1);
	l = close_of(f, id, 3 * WAIT_MS);
	took = ef_now() - quiet;
	if (took < 950 || took > 2000) {
		print_error("ended %llu ms after the last datagram\n",
		    (unsigned long long)took);
		fail();
	}
	assert_null(strstr(l, "reason="));
	assert_null(strstr(l, "error="));
	assert_int_equal(ef_num(l, "datagrams_in"), 2);
	assert_int_equal(ef_num(l, "datagrams_out"), 2);
	assert_int_equal(ef_num(l, "bytes_in"), 7);
	assert_int_equal(ef_num(l, "bytes_out"), 7);
	(void)snprintf(want, sizeof(want), " target=127.0.0.1:%u",
	    ntohs(t.sin.sin_port));
	assert_non_null(strstr(l, want));
	free(l);
	assert_int_equal(f->e.active[0], 0);
	/* Later: a new session, a new id. */
	say(c, &u.sin, "three");
	assert_true(hear(f, c, "three", NULL));
	id2 = accept_id(f, &sc, 1);
	assert_true(id2 != id);
	assert_int_equal(f->e.active[0], 1);
	assert_int_equal(t.npeers, 2);
	usvc_close(&u);
	echo_close(&t);
	(void)close(c);
	ef_stop(f);
}

/*
 * udp_sessions = 1: while one session lives, a new client is refused,
 * and a burst of refusals is one line; the next line, a second later,
 * counts the refusals it did not log.
 */
static void
test_udprelay_sessions_full(void **state)
{
	struct enginefix	*f = *state;
	struct echo		 t;
	struct usvc		 u;
	struct sockaddr_in	 sa, sb;
	uint64_t		 first;
	char			 want[64], *l;
	int			 a, b, i;

	echo_open(&t);
	ef_start(f, SVC, ntohs(t.sin.sin_port), "\tudp_sessions = 1\n");
	echo_watch(f, &t);
	usvc_open(f, &u, "127.0.0.1", false);
	a = ef_udp("127.0.0.1", &sa);
	b = ef_udp("127.0.0.1", &sb);
	say(a, &u.sin, "a");
	assert_true(hear(f, a, "a", NULL));
	for (i = 0; i < 10; i++)
		say(b, &u.sin, "b");
	(void)snprintf(want, sizeof(want), " peer=127.0.0.1:%u ",
	    ntohs(sb.sin_port));
	l = ef_expect(f, "action=refuse proto=udp", want, WAIT_MS);
	first = ef_now();
	assert_non_null(strstr(l, " reason=overload"));
	assert_non_null(strstr(l, " msg=\"udp_sessions 1 full\""));
	assert_null(strstr(l, "repeat="));
	free(l);
	hear_nothing(f, b);
	assert_true(ef_now() - first < 1000);
	assert_int_equal(ef_count(f, "action=refuse", NULL), 1);
	assert_int_equal(ef_count(f, "action=accept", NULL), 1);
	assert_int_equal(t.npeers, 1);
	assert_int_equal(f->e.active[0], 1);
	/* The live session is not disturbed. */
	say(a, &u.sin, "a again");
	assert_true(hear(f, a, "a again", NULL));
	/* A second on, the next refusal tells of the other nine. */
	while (ef_now() - first < 1100)
		ef_step(f);
	say(b, &u.sin, "b");
	l = ef_expect(f, "action=refuse proto=udp", "repeat=", WAIT_MS);
	assert_non_null(strstr(l, " repeat=9"));
	assert_non_null(strstr(l, " msg=\"udp_sessions 1 full\""));
	free(l);
	assert_int_equal(ef_count(f, "action=refuse", NULL), 2);
	hear_nothing(f, b);
	usvc_close(&u);
	echo_close(&t);
	(void)close(a);
	(void)close(b);
	ef_stop(f);
}

/* A target port that is closed: the session says so when it ends. */
static void
test_udprelay_refused(void **state)
{
	struct enginefix	*f = *state;
	struct usvc		 u;
	struct sockaddr_in	 sc;
	uint16_t		 port = ef_closed_port(SOCK_DGRAM);
	uint64_t		 id;
	char			 want[64], *l;
	int			 c;

	ef_start(f, SVC, port, "\tudp_session_timeout = 1s\n");
	usvc_open(f, &u, "127.0.0.1", false);
	c = ef_udp("127.0.0.1", &sc);
	say(c, &u.sin, "anyone?");
	id = accept_id(f, &sc, 0);
	l = close_of(f, id, 3 * WAIT_MS);
	assert_non_null(strstr(l, " reason=connect"));
	assert_non_null(strstr(l, " error=\"Connection refused\""));
	(void)snprintf(want, sizeof(want), " target=127.0.0.1:%u", port);
	assert_non_null(strstr(l, want));
	assert_int_equal(ef_num(l, "datagrams_in"), 1);
	assert_int_equal(ef_num(l, "datagrams_out"), 0);
	free(l);
	hear_nothing(f, c);
	assert_int_equal(f->e.active[0], 0);
	usvc_close(&u);
	(void)close(c);
	ef_stop(f);
}

/*
 * A wildcard socket answers from the address each client wrote to: a
 * client connected to 127.0.0.2 drops anything from elsewhere, and
 * still gets its answer.
 */
static void
test_udprelay_wildcard(void **state)
{
	struct enginefix	*f = *state;
	struct echo		 t;
	struct usvc		 u;
	struct sockaddr_in	 to2, to1, from, sc;
	socklen_t		 len = sizeof(sc);
	char			 want[64], *l;
	int			 c, d;

	echo_open(&t);
	ef_start(f, SVC, ntohs(t.sin.sin_port), "");
	echo_watch(f, &t);
	usvc_open(f, &u, "0.0.0.0", true);
	ef_sin(&to2, "127.0.0.2", ntohs(u.sin.sin_port));
	ef_sin(&to1, "127.0.0.1", ntohs(u.sin.sin_port));
	c = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(c != -1);
	assert_int_equal(connect(c, (struct sockaddr *)&to2, sizeof(to2)), 0);
	assert_int_equal(getsockname(c, (struct sockaddr *)&sc, &len), 0);
	say(c, NULL, "to .2");
	assert_true(hear(f, c, "to .2", &from));
	assert_true(same(&from, &to2));
	l = ef_expect(f, "action=accept proto=udp", "local=127.0.0.2:",
	    WAIT_MS);
	(void)snprintf(want, sizeof(want), "local=127.0.0.2:%u",
	    ntohs(u.sin.sin_port));
	assert_non_null(strstr(l, want));
	free(l);
	/* The same socket answers another client from 127.0.0.1. */
	d = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(d != -1);
	assert_int_equal(connect(d, (struct sockaddr *)&to1, sizeof(to1)), 0);
	say(d, NULL, "to .1");
	assert_true(hear(f, d, "to .1", &from));
	assert_true(same(&from, &to1));
	hear_nothing(f, c);
	hear_nothing(f, d);
	udprelay_stop_all(&f->e);
	l = close_of(f, accept_id(f, &sc, 0), 0);
	assert_int_equal(ef_num(l, "datagrams_out"), 1);
	free(l);
	usvc_close(&u);
	echo_close(&t);
	(void)close(c);
	(void)close(d);
	ef_stop(f);
}

/*
 * udprelay_stop_all(): live sessions end with reason=stop, and give
 * back what they held: the instance count, the per_source slot and the
 * socket to the target.
 */
static void
test_udprelay_stop_all(void **state)
{
	struct enginefix	*f = *state;
	struct engine		*e = &f->e;
	const struct service	*svc;
	struct echo		 t;
	struct usvc		 u;
	struct sockaddr_in	 sa, sb;
	struct srckey		 k;
	struct srcent		*se;
	size_t			 fds;
	char			*l;
	int			 a, b;

	echo_open(&t);
	ef_start(f, SVC, ntohs(t.sin.sin_port), "");
	echo_watch(f, &t);
	usvc_open(f, &u, "127.0.0.1", false);
	a = ef_udp("127.0.0.1", &sa);
	b = ef_udp("127.0.0.1", &sb);
	fds = ef_fds_open();
	say(a, &u.sin, "a");
	say(b, &u.sin, "b");
	assert_true(hear(f, a, "a", NULL));
	assert_true(hear(f, b, "b", NULL));
	assert_int_equal(e->active[0], 2);
	assert_int_equal(ef_fds_open(), fds + 2);
	/* Both clients are of one source group, 127.0.0.1/32. */
	svc = &e->conf->services[0];
	limit_group((struct sockaddr *)&sa, svc->source_prefix4,
	    svc->source_prefix6, &k);
	assert_non_null(se = srctab_get(&e->src, e->svc_hash[0], &k,
	    mono_ms()));
	assert_int_equal(se->active, 2);
	srcent_put(se);
	udprelay_stop_all(e);
	l = close_of(f, accept_id(f, &sa, 0), 0);
	assert_non_null(strstr(l, " reason=stop"));
	assert_int_equal(ef_num(l, "datagrams_in"), 1);
	free(l);
	l = close_of(f, accept_id(f, &sb, 0), 0);
	assert_non_null(strstr(l, " reason=stop"));
	free(l);
	assert_int_equal(ef_count(f, "action=close", NULL), 2);
	assert_int_equal(e->active[0], 0);
	assert_int_equal(se->active, 0);
	assert_int_equal(ef_fds_open(), fds);
	/* Nothing is left to end, twice over. */
	udprelay_stop_all(e);
	assert_int_equal(ef_count(f, "action=close", NULL), 2);
	usvc_close(&u);
	echo_close(&t);
	(void)close(a);
	(void)close(b);
	ef_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_udprelay_two_clients,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_udprelay_expiry,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_udprelay_sessions_full,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_udprelay_refused,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_udprelay_wildcard,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_udprelay_stop_all,
		    ef_setup, ef_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
