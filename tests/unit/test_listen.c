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
 * Unit tests of listen.c on loopback only: the flags of a listening
 * socket, and the reload rules of DESIGN.md ("Reload"): a socket whose
 * identity is unchanged is kept (so a reload never refuses a connection
 * to an unchanged service), a changed one is opened anew, and a bind
 * failure leaves the old generation as it was.  Ports are ephemeral; where
 * two calls must agree on a port, one is learned by binding port 0 first.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "portmuxd.h"

static int	 listen_open(const struct service *, const struct bindaddr *);

/*
 * One socket of one address, through the real listen_open_all(): the
 * per-socket opener is static in listen.c.  Returns the fd or -1.
 */
static int
listen_open(const struct service *svc, const struct bindaddr *ba)
{
	struct conf	 c;
	struct service	 one = *svc;
	struct listener	*ls = NULL;
	size_t		 n = 0;
	int		 fd;

	memset(&c, 0, sizeof(c));
	one.addrs = (struct bindaddr *)ba;
	one.naddrs = 1;
	c.services = &one;
	c.nservices = 1;
	if (listen_open_all(&c, NULL, 0, &ls, &n) == -1)
		return -1;
	if (n == 0) {
		free(ls);
		errno = EAFNOSUPPORT;
		return -1;
	}
	fd = ls[0].fd;
	free(ls);
	return fd;
}

#define MAXADDRS	4
#define MAXSVC		4

struct fixture {
	struct conf	 conf;
	struct service	 svc[MAXSVC];
	struct bindaddr	 addrs[MAXSVC][MAXADDRS];
};

static char	*no_strings[] = { NULL };

static void
fx_init(struct fixture *fx, size_t nsvc)
{
	size_t	 i;

	memset(fx, 0, sizeof(*fx));
	fx->conf.services = fx->svc;
	fx->conf.nservices = nsvc;
	for (i = 0; i < MAXSVC; i++) {
		fx->svc[i].name = (char *)"svc";
		fx->svc[i].proto = PROTO_TCP;
		fx->svc[i].backlog = 16;
		fx->svc[i].v6only = true;
		fx->svc[i].addrs = fx->addrs[i];
		fx->svc[i].args = no_strings;
		fx->svc[i].env = no_strings;
		fx->svc[i].passenv = no_strings;
	}
}

static void
ba_set(struct bindaddr *ba, const char *ip, uint16_t port)
{
	memset(ba, 0, sizeof(*ba));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ba->ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
		ba->len = sizeof(*s6);
	} else {
		struct sockaddr_in	*s4 = (struct sockaddr_in *)&ba->ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
		ba->len = sizeof(*s4);
	}
}

/* Add an address to service i of fx. */
static void
fx_addr(struct fixture *fx, size_t i, const char *ip, uint16_t port)
{
	struct service	*svc = &fx->svc[i];

	assert_true(svc->naddrs < MAXADDRS);
	ba_set(&svc->addrs[svc->naddrs++], ip, port);
	svc->port = port;
}

static uint16_t
sock_port(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/*
 * A socket of ours bound to ip, port 0, without SO_REUSEADDR; listening
 * if asked, so that nobody else can bind its port.
 */
static int
own_socket(const char *ip, bool listening)
{
	struct bindaddr	 ba;
	int		 fd;

	ba_set(&ba, ip, 0);
	fd = socket(ba.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&ba.ss, ba.len), 0);
	if (listening)
		assert_int_equal(listen(fd, 1), 0);
	return fd;
}

/* A port that was free a moment ago. */
static uint16_t
free_port(const char *ip)
{
	int		 fd = own_socket(ip, false);
	uint16_t	 port = sock_port(fd);

	close(fd);
	return port;
}

static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	d = opendir("/proc/self/fd");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static bool
fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static int
sockopt(int fd, int level, int name)
{
	int		 v = -1;
	socklen_t	 len = sizeof(v);

	assert_int_equal(getsockopt(fd, level, name, &v, &len), 0);
	return v;
}

/* The flags DESIGN.md and STYLE.md 3.7 ask of every listener. */
static void
assert_listener(int fd)
{
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(sockopt(fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
	assert_int_equal(sockopt(fd, SOL_SOCKET, SO_ACCEPTCONN), 1);
	assert_int_not_equal(sockopt(fd, SOL_SOCKET, SO_REUSEADDR), 0);
}

/* Connect to the listener and accept: it really serves. */
static void
assert_serves(int lfd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	int			 c, a;

	assert_int_equal(getsockname(lfd, (struct sockaddr *)&ss, &len), 0);
	c = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c != -1);
	assert_int_equal(connect(c, (struct sockaddr *)&ss, len), 0);
	a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(a != -1);
	close(a);
	close(c);
}

static bool
have_ipv6_loopback(void)
{
	struct bindaddr	 ba;
	int		 fd, ok;

	if ((fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return false;
	ba_set(&ba, "::1", 0);
	ok = bind(fd, (struct sockaddr *)&ba.ss, ba.len) == 0;
	close(fd);
	return ok;
}

static int
group_setup(void **state)
{
	(void)state;
	/* bind failures are logged as warnings; keep the output clean. */
	log_init(1, LOG_ERR, LOG_DAEMON);
	return 0;
}

static void
test_listen_open_v4(void **state)
{
	struct fixture	 fx;
	int		 fd;

	(void)state;
	fx_init(&fx, 1);
	fx_addr(&fx, 0, "127.0.0.1", 0);
	fd = listen_open(&fx.svc[0], &fx.addrs[0][0]);
	assert_listener(fd);
	assert_true(sock_port(fd) != 0);
	/* Nonblocking: nothing pending is EAGAIN, not a hang. */
	errno = 0;
	assert_int_equal(accept(fd, NULL, NULL), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	assert_serves(fd);
	close(fd);
}

static bool
have_ipv6(void)
{
	int	 fd;

	if ((fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return false;
	close(fd);
	return true;
}

/*
 * Linux forces IPV6_V6ONLY on at bind() to a specific IPv6 address such
 * as ::1, so ::1 shows only v6only = true.
 */
static void
test_listen_open_v6_v6only(void **state)
{
	struct fixture	 fx;
	int		 fd;

	(void)state;
	if (!have_ipv6_loopback())
		skip();
	fx_init(&fx, 1);
	fx.svc[0].v6only = true;
	fx_addr(&fx, 0, "::1", 0);
	fd = listen_open(&fx.svc[0], &fx.addrs[0][0]);
	assert_listener(fd);
	assert_int_equal(sockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	assert_serves(fd);
	close(fd);
}

/*
 * v6only = false shows on a v4-mapped address, which stays on loopback
 * and keeps the option as set: the socket takes IPv4 clients.
 */
static void
test_listen_open_v6_dual(void **state)
{
	struct fixture		 fx;
	struct sockaddr_in	 sin;
	int			 fd, c, a;

	(void)state;
	if (!have_ipv6())
		skip();
	fx_init(&fx, 1);
	fx.svc[0].v6only = false;
	fx_addr(&fx, 0, "::ffff:127.0.0.1", 0);
	fd = listen_open(&fx.svc[0], &fx.addrs[0][0]);
	assert_listener(fd);
	assert_int_equal(sockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(sock_port(fd));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c != -1);
	assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	a = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(a != -1);
	close(a);
	close(c);
	close(fd);
}

/* v6only = true is set before bind(): a v4-mapped address is refused. */
static void
test_listen_open_v6only_before_bind(void **state)
{
	struct fixture	 fx;
	int		 before;

	(void)state;
	if (!have_ipv6())
		skip();
	fx_init(&fx, 1);
	fx.svc[0].v6only = true;
	fx_addr(&fx, 0, "::ffff:127.0.0.1", 0);
	before = count_fds();
	errno = 0;
	assert_int_equal(listen_open(&fx.svc[0], &fx.addrs[0][0]), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(count_fds(), before);
}

static void
test_listen_open_in_use(void **state)
{
	struct fixture	 fx;
	int		 own, before;

	(void)state;
	own = own_socket("127.0.0.1", true);
	fx_init(&fx, 1);
	fx_addr(&fx, 0, "127.0.0.1", sock_port(own));
	before = count_fds();
	errno = 0;
	assert_int_equal(listen_open(&fx.svc[0], &fx.addrs[0][0]), -1);
	assert_int_equal(errno, EADDRINUSE);
	assert_int_equal(count_fds(), before);
	close(own);
}

static void
test_listen_all_fresh(void **state)
{
	struct fixture	 fx;
	struct listener	*ls = NULL;
	size_t		 n = 0, i;

	(void)state;
	fx_init(&fx, 2);
	fx_addr(&fx, 0, "127.0.0.1", 0);
	fx_addr(&fx, 0, "127.0.0.2", 0);
	fx_addr(&fx, 1, "127.0.0.1", 0);
	fx.svc[1].backlog = 5;
	assert_int_equal(listen_open_all(&fx.conf, NULL, 0, &ls, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ls[0].service, 0);
	assert_int_equal(ls[1].service, 0);
	assert_int_equal(ls[2].service, 1);
	assert_int_equal(ls[2].backlog, 5);
	for (i = 0; i < n; i++) {
		assert_listener(ls[i].fd);
		assert_false(ls[i].reused);
		assert_int_equal(ls[i].proto, PROTO_TCP);
		assert_int_equal(ls[i].addr.len, sizeof(struct sockaddr_in));
	}
	assert_memory_equal(&ls[1].addr.ss, &fx.addrs[0][1].ss,
	    sizeof(struct sockaddr_in));
	listen_close_all(ls, n);
	for (i = 0; i < n; i++)
		assert_int_equal(ls[i].fd, -1);
	free(ls);
}

/*
 * An unchanged service keeps its very socket across a reload, even when
 * it moves in the service list and its backlog changes: a connection
 * queued before the reload is accepted after it.
 */
static void
test_listen_all_keeps_identity(void **state)
{
	struct fixture	 fx1, fx2;
	struct listener	*ls1 = NULL, *ls2 = NULL;
	size_t		 n1 = 0, n2 = 0;
	uint16_t	 port = free_port("127.0.0.1");
	struct sockaddr_in sin;		/* of the kept listener */
	int		 fd1, c, a;

	(void)state;
	fx_init(&fx1, 1);
	fx_addr(&fx1, 0, "127.0.0.1", port);
	assert_int_equal(listen_open_all(&fx1.conf, NULL, 0, &ls1, &n1), 0);
	assert_int_equal(n1, 1);
	fd1 = ls1[0].fd;
	assert_int_equal(sock_port(fd1), port);

	/* A client connects before the reload. */
	memcpy(&sin, &fx1.addrs[0][0].ss, sizeof(sin));
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c != -1);
	assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);

	fx_init(&fx2, 2);
	fx_addr(&fx2, 0, "127.0.0.1", 0);
	fx_addr(&fx2, 1, "127.0.0.1", port);
	fx2.svc[1].backlog = 64;
	assert_int_equal(listen_open_all(&fx2.conf, ls1, n1, &ls2, &n2), 0);
	assert_int_equal(n2, 2);
	/* The old table gave its socket away... */
	assert_int_equal(ls1[0].fd, -1);
	/* ...to the new one, same descriptor, now service #1. */
	assert_int_equal(ls2[1].fd, fd1);
	assert_true(ls2[1].reused);
	assert_int_equal(ls2[1].service, 1);
	assert_int_equal(ls2[1].backlog, 64);
	assert_listener(ls2[1].fd);
	/* The other service got a socket of its own. */
	assert_false(ls2[0].reused);
	assert_int_not_equal(ls2[0].fd, fd1);
	assert_listener(ls2[0].fd);

	a = accept4(ls2[1].fd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(a != -1);
	close(a);
	close(c);
	/* Closing the old table must not touch the kept socket. */
	listen_close_all(ls1, n1);
	assert_true(fd_is_open(fd1));
	listen_close_all(ls2, n2);
	free(ls1);
	free(ls2);
}

/* A changed address gets a new socket; the caller closes the old one. */
static void
test_listen_all_changed_address(void **state)
{
	struct fixture	 fx1, fx2;
	struct listener	*ls1 = NULL, *ls2 = NULL;
	size_t		 n1 = 0, n2 = 0;
	uint16_t	 p1 = free_port("127.0.0.1"), p2;
	int		 fd1;

	(void)state;
	do {
		p2 = free_port("127.0.0.1");
	} while (p2 == p1);
	fx_init(&fx1, 1);
	fx_addr(&fx1, 0, "127.0.0.1", p1);
	assert_int_equal(listen_open_all(&fx1.conf, NULL, 0, &ls1, &n1), 0);
	fd1 = ls1[0].fd;

	fx_init(&fx2, 1);
	fx_addr(&fx2, 0, "127.0.0.1", p2);
	assert_int_equal(listen_open_all(&fx2.conf, ls1, n1, &ls2, &n2), 0);
	assert_int_equal(n2, 1);
	assert_false(ls2[0].reused);
	assert_int_not_equal(ls2[0].fd, fd1);
	assert_int_equal(sock_port(ls2[0].fd), p2);
	assert_listener(ls2[0].fd);
	/* The old socket is still the old table's. */
	assert_int_equal(ls1[0].fd, fd1);
	assert_true(fd_is_open(fd1));
	assert_int_equal(sock_port(fd1), p1);

	listen_close_all(ls1, n1);
	assert_int_equal(ls1[0].fd, -1);
	assert_listener(ls2[0].fd);
	listen_close_all(ls2, n2);
	free(ls1);
	free(ls2);
}

/* Two services cannot take over the same old socket. */
static void
test_listen_all_one_owner(void **state)
{
	struct fixture	 fx1, fx2;
	struct listener	*ls1 = NULL, *ls2 = NULL;
	size_t		 n1 = 0, n2 = 0;
	uint16_t	 port = free_port("127.0.0.1");

	(void)state;
	fx_init(&fx1, 1);
	fx_addr(&fx1, 0, "127.0.0.1", port);
	assert_int_equal(listen_open_all(&fx1.conf, NULL, 0, &ls1, &n1), 0);
	/* The same address twice: the second must fail to bind. */
	fx_init(&fx2, 2);
	fx_addr(&fx2, 0, "127.0.0.1", port);
	fx_addr(&fx2, 1, "127.0.0.1", port);
	assert_int_equal(listen_open_all(&fx2.conf, ls1, n1, &ls2, &n2), -1);
	assert_true(fd_is_open(ls1[0].fd));
	assert_listener(ls1[0].fd);
	listen_close_all(ls1, n1);
	free(ls1);
}

/*
 * All or nothing: when one bind fails, what was opened is closed, the
 * kept sockets go back to the old table untouched, and out is not set.
 */
static void
test_listen_all_bind_failure(void **state)
{
	struct fixture	 fx1, fx2;
	struct listener	*ls1 = NULL, *ls2, saved;
	size_t		 n1 = 0, n2;
	uint16_t	 port = free_port("127.0.0.1");
	int		 own, before;

	(void)state;
	fx_init(&fx1, 1);
	fx_addr(&fx1, 0, "127.0.0.1", port);
	assert_int_equal(listen_open_all(&fx1.conf, NULL, 0, &ls1, &n1), 0);
	saved = ls1[0];
	own = own_socket("127.0.0.1", true);

	fx_init(&fx2, 3);
	fx_addr(&fx2, 0, "127.0.0.1", port);		/* kept */
	fx_addr(&fx2, 1, "127.0.0.1", 0);		/* new, opens */
	fx_addr(&fx2, 2, "127.0.0.1", sock_port(own));	/* conflicts */
	ls2 = (struct listener *)(uintptr_t)0x1;
	n2 = 4242;
	before = count_fds();
	assert_int_equal(listen_open_all(&fx2.conf, ls1, n1, &ls2, &n2), -1);
	assert_int_equal(count_fds(), before);
	assert_ptr_equal(ls2, (struct listener *)(uintptr_t)0x1);
	assert_int_equal(n2, 4242);
	assert_memory_equal(&ls1[0], &saved, sizeof(saved));
	assert_true(fd_is_open(ls1[0].fd));
	assert_listener(ls1[0].fd);
	assert_serves(ls1[0].fd);

	close(own);
	listen_close_all(ls1, n1);
	free(ls1);
}

/*
 * A default (implicit) address the host lacks is skipped with a warning;
 * an explicit one is an error.  192.0.2.1 (TEST-NET-1) is on no
 * interface, and bind() sends nothing.
 */
static void
test_listen_all_implicit_skip(void **state)
{
	struct fixture	 fx;
	struct listener	*ls = NULL;
	size_t		 n = 0;
	struct bindaddr	 ba;
	int		 fd, r;

	(void)state;
	/* With ip_nonlocal_bind the host "has" every address. */
	ba_set(&ba, "192.0.2.1", 0);
	assert_true((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) !=
	    -1);
	r = bind(fd, (struct sockaddr *)&ba.ss, ba.len);
	close(fd);
	if (r == 0)
		skip();

	fx_init(&fx, 1);
	fx_addr(&fx, 0, "127.0.0.1", 0);
	fx_addr(&fx, 0, "192.0.2.1", 0);
	fx.addrs[0][1].implicit = true;
	assert_int_equal(listen_open_all(&fx.conf, NULL, 0, &ls, &n), 0);
	assert_int_equal(n, 1);
	assert_listener(ls[0].fd);
	listen_close_all(ls, n);
	free(ls);

	fx.addrs[0][1].implicit = false;
	ls = NULL;
	assert_int_equal(listen_open_all(&fx.conf, NULL, 0, &ls, &n), -1);
	assert_null(ls);
}

/*
 * v6only is no property of an IPv4 socket: flipping it in the config must
 * not make an unchanged IPv4 listener "new", or the reload would rebind
 * a port that the old socket still holds, and fail.
 */
static void
test_listen_all_v4_ignores_v6only(void **state)
{
	struct fixture	 fx1, fx2;
	struct listener	*ls1 = NULL, *ls2 = NULL;
	size_t		 n1 = 0, n2 = 0;
	uint16_t	 port = free_port("127.0.0.1");
	int		 fd1, r;

	(void)state;
	fx_init(&fx1, 1);
	fx_addr(&fx1, 0, "127.0.0.1", port);
	fx1.svc[0].v6only = true;
	assert_int_equal(listen_open_all(&fx1.conf, NULL, 0, &ls1, &n1), 0);
	fd1 = ls1[0].fd;

	fx2 = fx1;
	fx2.conf.services = fx2.svc;
	fx2.svc[0].addrs = fx2.addrs[0];
	fx2.svc[0].v6only = false;
	r = listen_open_all(&fx2.conf, ls1, n1, &ls2, &n2);
	if (r == -1) {
		listen_close_all(ls1, n1);
		free(ls1);
		fail_msg("reload fails when only v6only changed on an IPv4 "
		    "listener");
	}
	assert_int_equal(n2, 1);
	assert_int_equal(ls2[0].fd, fd1);
	assert_true(ls2[0].reused);
	listen_close_all(ls1, n1);
	listen_close_all(ls2, n2);
	free(ls1);
	free(ls2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_open_v4),
		cmocka_unit_test(test_listen_open_v6_v6only),
		cmocka_unit_test(test_listen_open_v6_dual),
		cmocka_unit_test(test_listen_open_v6only_before_bind),
		cmocka_unit_test(test_listen_open_in_use),
		cmocka_unit_test(test_listen_all_fresh),
		cmocka_unit_test(test_listen_all_keeps_identity),
		cmocka_unit_test(test_listen_all_changed_address),
		cmocka_unit_test(test_listen_all_one_owner),
		cmocka_unit_test(test_listen_all_bind_failure),
		cmocka_unit_test(test_listen_all_implicit_skip),
		cmocka_unit_test(test_listen_all_v4_ignores_v6only),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
