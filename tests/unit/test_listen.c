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
 * UDP sockets are bound without SO_REUSEADDR.  Unix sockets follow
 * DESIGN.md ("Value syntax"): a stale socket is replaced only if lstat()
 * shows a socket and connect() is refused, and never in a directory
 * writable by others; each unix test works in a directory of its own.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
 * The backlog a TCP socket listens with, as the kernel has it: Linux
 * reports it in tcpi_sacked for a listening socket (ss shows it as
 * Send-Q).
 */
static int
tcp_backlog(int fd)
{
	struct tcp_info	 ti;
	socklen_t	 len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	return (int)ti.tcpi_sacked;
}

/*
 * A reload that goes through gives the kept socket the new backlog and
 * SO_KEEPALIVE (which accepted sockets inherit), on the socket itself.
 */
static void
test_listen_all_reload_options(void **state)
{
	struct fixture	 fx1, fx2;
	struct listener	*ls1 = NULL, *ls2 = NULL;
	size_t		 n1 = 0, n2 = 0;
	uint16_t	 port = free_port("127.0.0.1");

	(void)state;
	fx_init(&fx1, 1);
	fx_addr(&fx1, 0, "127.0.0.1", port);
	fx1.svc[0].keepalive = false;
	fx1.svc[0].backlog = 16;
	assert_int_equal(listen_open_all(&fx1.conf, NULL, 0, &ls1, &n1), 0);
	assert_int_equal(sockopt(ls1[0].fd, SOL_SOCKET, SO_KEEPALIVE), 0);
	assert_int_equal(tcp_backlog(ls1[0].fd), 16);

	fx_init(&fx2, 1);
	fx_addr(&fx2, 0, "127.0.0.1", port);
	fx2.svc[0].keepalive = true;
	fx2.svc[0].backlog = 64;
	assert_int_equal(listen_open_all(&fx2.conf, ls1, n1, &ls2, &n2), 0);
	assert_true(ls2[0].reused);
	assert_int_not_equal(sockopt(ls2[0].fd, SOL_SOCKET, SO_KEEPALIVE), 0);
	assert_int_equal(tcp_backlog(ls2[0].fd), 64);
	assert_int_equal(ls2[0].backlog, 64);

	/* And back: keepalive off, a smaller backlog. */
	listen_close_all(ls1, n1);
	free(ls1);
	fx2.svc[0].keepalive = false;
	fx2.svc[0].backlog = 8;
	assert_int_equal(listen_open_all(&fx2.conf, ls2, n2, &ls1, &n1), 0);
	assert_int_equal(sockopt(ls1[0].fd, SOL_SOCKET, SO_KEEPALIVE), 0);
	assert_int_equal(tcp_backlog(ls1[0].fd), 8);
	assert_serves(ls1[0].fd);
	listen_close_all(ls2, n2);
	listen_close_all(ls1, n1);
	free(ls1);
	free(ls2);
}

/*
 * A reload that fails to bind a later socket leaves the kept one as the
 * running generation configured it: its backlog and keepalive are only
 * changed once every socket of the new generation is bound.
 */
static void
test_listen_all_failure_keeps_options(void **state)
{
	struct fixture	 fx1, fx2;
	struct listener	*ls1 = NULL, *ls2 = NULL;
	size_t		 n1 = 0, n2 = 0;
	uint16_t	 port = free_port("127.0.0.1");
	int		 own, c, a;

	(void)state;
	fx_init(&fx1, 1);
	fx_addr(&fx1, 0, "127.0.0.1", port);
	fx1.svc[0].keepalive = false;
	fx1.svc[0].backlog = 16;
	assert_int_equal(listen_open_all(&fx1.conf, NULL, 0, &ls1, &n1), 0);
	own = own_socket("127.0.0.1", true);

	fx_init(&fx2, 2);
	fx_addr(&fx2, 0, "127.0.0.1", port);		/* kept */
	fx2.svc[0].keepalive = true;
	fx2.svc[0].backlog = 64;
	fx_addr(&fx2, 1, "127.0.0.1", sock_port(own));	/* conflicts */
	assert_int_equal(listen_open_all(&fx2.conf, ls1, n1, &ls2, &n2), -1);
	assert_true(fd_is_open(ls1[0].fd));
	assert_int_equal(sockopt(ls1[0].fd, SOL_SOCKET, SO_KEEPALIVE), 0);
	assert_int_equal(tcp_backlog(ls1[0].fd), 16);
	assert_int_equal(ls1[0].backlog, 16);

	/* A connection accepted now does not get keepalive either. */
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c != -1);
	assert_int_equal(connect(c, (struct sockaddr *)&fx1.addrs[0][0].ss,
	    fx1.addrs[0][0].len), 0);
	a = accept4(ls1[0].fd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(a != -1);
	assert_int_equal(sockopt(a, SOL_SOCKET, SO_KEEPALIVE), 0);
	close(a);
	close(c);

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

/* The flags of a UDP listener: a bound datagram socket, not shared. */
static void
assert_udp(int fd)
{
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(sockopt(fd, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
	assert_int_equal(sockopt(fd, SOL_SOCKET, SO_ACCEPTCONN), 0);
	/* SO_REUSEADDR would let another socket take its datagrams. */
	assert_int_equal(sockopt(fd, SOL_SOCKET, SO_REUSEADDR), 0);
	assert_true(sock_port(fd) != 0);
}

/* A datagram sent from a client of family af reaches the listener. */
static void
assert_udp_serves_from(int lfd, int af)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct pollfd		 pfd;
	char			 buf[16];
	int			 c;

	assert_int_equal(getsockname(lfd, (struct sockaddr *)&ss, &len), 0);
	if (af == AF_INET && ss.ss_family == AF_INET6) {
		struct sockaddr_in	 sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = ((struct sockaddr_in6 *)&ss)->sin6_port;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		memcpy(&ss, &sin, sizeof(sin));
		len = sizeof(sin);
	}
	c = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(c != -1);
	assert_int_equal(sendto(c, "ping", 4, 0, (struct sockaddr *)&ss, len),
	    4);
	pfd.fd = lfd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_int_equal(recv(lfd, buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "ping", 4);
	close(c);
}

static void
test_listen_udp_v4(void **state)
{
	struct fixture	 fx;
	struct listener	*ls = NULL;
	size_t		 n = 0;

	(void)state;
	fx_init(&fx, 1);
	fx.svc[0].proto = PROTO_UDP;
	fx.svc[0].wait = true;
	fx_addr(&fx, 0, "127.0.0.1", 0);
	assert_int_equal(listen_open_all(&fx.conf, NULL, 0, &ls, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ls[0].proto, PROTO_UDP);
	assert_false(ls[0].reused);
	assert_null(ls[0].path);
	assert_udp(ls[0].fd);
	assert_udp_serves_from(ls[0].fd, AF_INET);
	listen_close_all(ls, n);
	assert_int_equal(ls[0].fd, -1);
	free(ls);
}

static void
test_listen_udp_v6_v6only(void **state)
{
	struct fixture	 fx;
	int		 fd;

	(void)state;
	if (!have_ipv6_loopback())
		skip();
	fx_init(&fx, 1);
	fx.svc[0].proto = PROTO_UDP;
	fx.svc[0].v6only = true;
	fx_addr(&fx, 0, "::1", 0);
	fd = listen_open(&fx.svc[0], &fx.addrs[0][0]);
	assert_udp(fd);
	assert_int_equal(sockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	assert_udp_serves_from(fd, AF_INET6);
	close(fd);
}

/* v6only = false on UDP: IPv4 clients' datagrams arrive, mapped. */
static void
test_listen_udp_v6_dual(void **state)
{
	struct fixture	 fx;
	int		 fd;

	(void)state;
	if (!have_ipv6())
		skip();
	fx_init(&fx, 1);
	fx.svc[0].proto = PROTO_UDP;
	fx.svc[0].v6only = false;
	fx_addr(&fx, 0, "::ffff:127.0.0.1", 0);
	fd = listen_open(&fx.svc[0], &fx.addrs[0][0]);
	assert_udp(fd);
	assert_int_equal(sockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY), 0);
	assert_udp_serves_from(fd, AF_INET);
	close(fd);

	/* And v6only = true is set before bind(), as for TCP. */
	fx.svc[0].v6only = true;
	errno = 0;
	assert_int_equal(listen_open(&fx.svc[0], &fx.addrs[0][0]), -1);
	assert_int_equal(errno, EINVAL);
}

/* Someone else's UDP socket on ip and port, with SO_REUSEADDR; or -1. */
static int
udp_reuse_socket(const char *ip, uint16_t port)
{
	struct bindaddr	 ba;
	int		 fd, on = 1;

	ba_set(&ba, ip, port);
	fd = socket(ba.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)), 0);
	if (bind(fd, (struct sockaddr *)&ba.ss, ba.len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Without SO_REUSEADDR nobody shares a UDP port with us: a socket that
 * asks for sharing can neither bind our port nor make us bind its.
 */
static void
test_listen_udp_not_shared(void **state)
{
	struct fixture	 fx;
	struct listener	*ls = NULL;
	size_t		 n = 0;
	int		 other, before;

	(void)state;
	fx_init(&fx, 1);
	fx.svc[0].proto = PROTO_UDP;
	fx_addr(&fx, 0, "127.0.0.1", 0);
	assert_int_equal(listen_open_all(&fx.conf, NULL, 0, &ls, &n), 0);
	errno = 0;
	other = udp_reuse_socket("127.0.0.1", sock_port(ls[0].fd));
	if (other != -1)
		close(other);
	assert_int_equal(other, -1);
	assert_int_equal(errno, EADDRINUSE);
	listen_close_all(ls, n);
	free(ls);

	other = udp_reuse_socket("127.0.0.1", 0);
	assert_true(other != -1);
	fx_init(&fx, 1);
	fx.svc[0].proto = PROTO_UDP;
	fx_addr(&fx, 0, "127.0.0.1", sock_port(other));
	before = count_fds();
	ls = NULL;
	errno = 0;
	assert_int_equal(listen_open_all(&fx.conf, NULL, 0, &ls, &n), -1);
	assert_int_equal(errno, EADDRINUSE);
	assert_null(ls);
	assert_int_equal(count_fds(), before);
	close(other);
}

/* TCP and UDP on one port are two sockets that do not collide. */
static void
test_listen_udp_tcp_same_port(void **state)
{
	struct fixture	 fx;
	struct listener	*ls = NULL;
	size_t		 n = 0;
	uint16_t	 port = free_port("127.0.0.1");

	(void)state;
	fx_init(&fx, 2);
	fx_addr(&fx, 0, "127.0.0.1", port);
	fx.svc[1].proto = PROTO_UDP;
	fx_addr(&fx, 1, "127.0.0.1", port);
	assert_int_equal(listen_open_all(&fx.conf, NULL, 0, &ls, &n), 0);
	assert_int_equal(n, 2);
	assert_listener(ls[0].fd);
	assert_udp(ls[1].fd);
	assert_int_equal(sock_port(ls[0].fd), port);
	assert_int_equal(sock_port(ls[1].fd), port);
	listen_close_all(ls, n);
	free(ls);
}

/*
 * A UDP socket keeps its identity across a reload, a backlog change
 * included (listen() does not apply to it); a TCP socket on the same
 * address and port is no UDP socket's identity.
 */
static void
test_listen_udp_reload_identity(void **state)
{
	struct fixture	 fx1, fx2;
	struct listener	*ls1 = NULL, *ls2 = NULL;
	size_t		 n1 = 0, n2 = 0;
	uint16_t	 port = free_port("127.0.0.1");
	int		 tcp_fd, udp_fd;

	(void)state;
	fx_init(&fx1, 2);
	fx_addr(&fx1, 0, "127.0.0.1", port);
	fx1.svc[1].proto = PROTO_UDP;
	fx_addr(&fx1, 1, "127.0.0.1", port);
	assert_int_equal(listen_open_all(&fx1.conf, NULL, 0, &ls1, &n1), 0);
	tcp_fd = ls1[0].fd;
	udp_fd = ls1[1].fd;

	/* The UDP service stays, with another backlog; TCP becomes UDP. */
	fx_init(&fx2, 1);
	fx2.svc[0].proto = PROTO_UDP;
	fx2.svc[0].backlog = 99;
	fx_addr(&fx2, 0, "127.0.0.1", port);
	assert_int_equal(listen_open_all(&fx2.conf, ls1, n1, &ls2, &n2), 0);
	assert_int_equal(n2, 1);
	assert_true(ls2[0].reused);
	assert_int_equal(ls2[0].fd, udp_fd);
	assert_udp(ls2[0].fd);
	assert_int_equal(ls1[1].fd, -1);
	assert_int_equal(ls1[0].fd, tcp_fd);
	assert_true(fd_is_open(tcp_fd));
	listen_close_all(ls1, n1);
	listen_close_all(ls2, n2);
	free(ls1);
	free(ls2);

	/* A TCP listener is not taken for a UDP service of its port. */
	fx_init(&fx1, 1);
	fx_addr(&fx1, 0, "127.0.0.1", port);
	ls1 = ls2 = NULL;
	assert_int_equal(listen_open_all(&fx1.conf, NULL, 0, &ls1, &n1), 0);
	tcp_fd = ls1[0].fd;
	fx_init(&fx2, 1);
	fx2.svc[0].proto = PROTO_UDP;
	fx_addr(&fx2, 0, "127.0.0.1", port);
	assert_int_equal(listen_open_all(&fx2.conf, ls1, n1, &ls2, &n2), 0);
	assert_false(ls2[0].reused);
	assert_int_not_equal(ls2[0].fd, tcp_fd);
	assert_udp(ls2[0].fd);
	assert_int_equal(ls1[0].fd, tcp_fd);
	assert_listener(tcp_fd);
	listen_close_all(ls1, n1);
	listen_close_all(ls2, n2);
	free(ls1);
	free(ls2);
}

/*
 * Unix sockets live in a directory of their own per test, mode 0755 as
 * /run is, under /tmp so that paths stay well below sun_path's size.
 */
struct udir {
	char	 dir[64];
	char	 path[128];		/* dir/sock */
};

static int
udir_setup(void **state)
{
	struct udir	*u;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return -1;
	(void)snprintf(u->dir, sizeof(u->dir), "/tmp/test_listen.XXXXXX");
	if (mkdtemp(u->dir) == NULL || chmod(u->dir, 0755) == -1) {
		free(u);
		return -1;
	}
	(void)snprintf(u->path, sizeof(u->path), "%s/sock", u->dir);
	*state = u;
	return 0;
}

static int
udir_teardown(void **state)
{
	struct udir	*u = *state;
	DIR		*d;
	struct dirent	*de;
	char		 p[512];

	(void)chmod(u->dir, 0755);
	if ((d = opendir(u->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			(void)snprintf(p, sizeof(p), "%s/%s", u->dir,
			    de->d_name);
			(void)unlink(p);
		}
		closedir(d);
	}
	(void)rmdir(u->dir);
	free(u);
	return 0;
}

/* How many entries dir holds: no temporary name may be left behind. */
static int
dir_count(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
fx_unix(struct fixture *fx, size_t i, const char *path, mode_t mode)
{
	struct service	*svc = &fx->svc[i];

	svc->proto = PROTO_UNIX;
	svc->port = 0;
	svc->naddrs = 0;
	svc->path = (char *)path;
	svc->mode = mode;
	svc->mode_set = true;
}

static void
sun_set(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sun->sun_path));
	memcpy(sun->sun_path, path, strlen(path) + 1);
}

/* A unix socket of ours at path; listening (live) or closed (stale). */
static int
unix_socket_at(const char *path, bool live, int backlog)
{
	struct sockaddr_un	 sun;
	int			 fd;

	sun_set(&sun, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	if (!live) {
		close(fd);
		return -1;
	}
	assert_int_equal(listen(fd, backlog), 0);
	return fd;
}

/* A client connected to path, or -1 with errno set. */
static int
unix_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd, saved;

	sun_set(&sun, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(fd != -1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* A client of path is accepted on lfd: lfd serves the path. */
static void
assert_unix_serves(int lfd, const char *path)
{
	int	 c, a;

	c = unix_connect(path);
	assert_true(c != -1);
	a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	assert_true(a != -1);
	close(a);
	close(c);
}

static void
write_file(const char *path, const char *text)
{
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
assert_file_is(const char *path, const char *text)
{
	struct stat	 st;
	char		 buf[256];
	ssize_t		 n;
	int		 fd;

	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd != -1);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(n, (ssize_t)strlen(text));
	assert_memory_equal(buf, text, (size_t)n);
}

/* One unix service at path; -1 or 0 as listen_open_all() returns. */
static int
unix_open_one(const char *path, mode_t mode, struct listener **ls,
    size_t *n)
{
	struct fixture	 fx;

	fx_init(&fx, 1);
	fx_unix(&fx, 0, path, mode);
	*ls = NULL;
	*n = 0;
	return listen_open_all(&fx.conf, NULL, 0, ls, n);
}

/*
 * A unix listener: a listening stream socket at path with the mode
 * asked for, the listener remembering the path and its inode, and no
 * temporary name left beside it.
 */
static void
test_listen_unix_open(void **state)
{
	struct udir	*u = *state;
	struct listener	*ls;
	struct stat	 st;
	size_t		 n;

	assert_int_equal(unix_open_one(u->path, 0600, &ls, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ls[0].proto, PROTO_UNIX);
	assert_false(ls[0].reused);
	assert_null(ls[0].tmp);
	assert_non_null(ls[0].path);
	assert_string_equal(ls[0].path, u->path);
	assert_true(fcntl(ls[0].fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(ls[0].fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(sockopt(ls[0].fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
	assert_int_equal(sockopt(ls[0].fd, SOL_SOCKET, SO_ACCEPTCONN), 1);
	assert_int_equal(sockopt(ls[0].fd, SOL_SOCKET, SO_DOMAIN), AF_UNIX);

	assert_int_equal(lstat(u->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(ls[0].dev, st.st_dev);
	assert_int_equal(ls[0].ino, st.st_ino);
	assert_int_equal(ls[0].mode, 0600);
	assert_int_equal(dir_count(u->dir), 1);
	assert_unix_serves(ls[0].fd, u->path);

	listen_close_all(ls, n);
	assert_int_equal(ls[0].fd, -1);
	assert_null(ls[0].path);
	/* Ours, so removed. */
	assert_int_equal(lstat(u->path, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(dir_count(u->dir), 0);
	free(ls);
}

/* The mode is applied as configured, whatever the umask; and the owner. */
static void
test_listen_unix_mode_owner(void **state)
{
	struct udir	*u = *state;
	struct fixture	 fx;
	struct listener	*ls = NULL;
	struct stat	 st;
	size_t		 n = 0;
	mode_t		 old;
	uid_t		 uid = geteuid() == 0 ? 65534 : geteuid();
	gid_t		 gid = geteuid() == 0 ? 65534 : getegid();

	old = umask(077);
	assert_int_equal(unix_open_one(u->path, 0666, &ls, &n), 0);
	(void)umask(old);
	assert_int_equal(lstat(u->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0666);
	listen_close_all(ls, n);
	free(ls);

	fx_init(&fx, 1);
	fx_unix(&fx, 0, u->path, 0660);
	fx.svc[0].owner_set = true;
	fx.svc[0].owner_uid = uid;
	fx.svc[0].owner_gid = gid;
	ls = NULL;
	assert_int_equal(listen_open_all(&fx.conf, NULL, 0, &ls, &n), 0);
	assert_int_equal(lstat(u->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_uid, uid);
	assert_int_equal(st.st_gid, gid);
	assert_true(ls[0].owner_set);
	assert_int_equal(ls[0].owner_uid, uid);
	assert_int_equal(ls[0].owner_gid, gid);
	listen_close_all(ls, n);
	free(ls);
	assert_int_equal(dir_count(u->dir), 0);
}

/* A stale socket (nobody listens) at the path is replaced. */
static void
test_listen_unix_stale_replaced(void **state)
{
	struct udir	*u = *state;
	struct listener	*ls;
	struct stat	 st;
	size_t		 n;

	(void)unix_socket_at(u->path, false, 0);
	errno = 0;
	assert_int_equal(unix_connect(u->path), -1);
	assert_int_equal(errno, ECONNREFUSED);

	assert_int_equal(unix_open_one(u->path, 0600, &ls, &n), 0);
	assert_int_equal(lstat(u->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(ls[0].ino, st.st_ino);
	assert_unix_serves(ls[0].fd, u->path);
	assert_int_equal(dir_count(u->dir), 1);
	listen_close_all(ls, n);
	free(ls);
}

/* A regular file at the path is no stale socket: fail, keep the file. */
static void
test_listen_unix_regular_file_kept(void **state)
{
	struct udir	*u = *state;
	struct listener	*ls;
	size_t		 n;
	int		 before;

	write_file(u->path, "precious\n");
	before = count_fds();
	assert_int_equal(unix_open_one(u->path, 0600, &ls, &n), -1);
	assert_null(ls);
	assert_int_equal(count_fds(), before);
	assert_file_is(u->path, "precious\n");
	assert_int_equal(dir_count(u->dir), 1);
}

/* Nor is a symbolic link, even to a stale socket. */
static void
test_listen_unix_symlink_kept(void **state)
{
	struct udir	*u = *state;
	struct listener	*ls;
	struct stat	 st;
	char		 target[160], got[160];
	size_t		 n;
	ssize_t		 len;

	(void)snprintf(target, sizeof(target), "%s/target", u->dir);
	(void)unix_socket_at(target, false, 0);
	assert_int_equal(symlink(target, u->path), 0);
	assert_int_equal(unix_open_one(u->path, 0600, &ls, &n), -1);
	assert_int_equal(lstat(u->path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	len = readlink(u->path, got, sizeof(got) - 1);
	assert_int_equal(len, (ssize_t)strlen(target));
	got[len] = '\0';
	assert_string_equal(got, target);
	assert_int_equal(lstat(target, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(dir_count(u->dir), 2);
}

/* A live socket (someone listens) at the path: fail, and it still serves. */
static void
test_listen_unix_live_kept(void **state)
{
	struct udir	*u = *state;
	struct listener	*ls;
	struct stat	 st, st2;
	size_t		 n;
	int		 live, before, a;

	live = unix_socket_at(u->path, true, 16);
	assert_int_equal(lstat(u->path, &st), 0);
	before = count_fds();
	assert_int_equal(unix_open_one(u->path, 0600, &ls, &n), -1);
	assert_null(ls);
	assert_int_equal(count_fds(), before);
	assert_int_equal(lstat(u->path, &st2), 0);
	assert_int_equal(st2.st_ino, st.st_ino);
	assert_int_equal(dir_count(u->dir), 1);
	/*
	 * The probe may have left one connection in the queue: drain it,
	 * then check that the path still reaches the live socket.
	 */
	(void)fd_nonblock(live, true);
	while ((a = accept4(live, NULL, NULL, SOCK_CLOEXEC)) != -1)
		close(a);
	assert_unix_serves(live, u->path);
	close(live);
}

/*
 * A live socket whose accept queue is full (its server is busy) is
 * still live: listen_open_all() must fail at once, not block the
 * monitor in connect() until that server accepts.  Run in a child so a
 * hang is caught and killed after 3 seconds.
 */
static void
test_listen_unix_live_busy_no_hang(void **state)
{
	struct udir	*u = *state;
	struct listener	*ls;
	size_t		 n;
	pid_t		 pid;
	int		 live, c, status, i, r = -1;

	live = unix_socket_at(u->path, true, 0);
	/* Backlog 0 takes one pending connection; the queue is now full. */
	c = unix_connect(u->path);
	assert_true(c != -1);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0)
		_exit(unix_open_one(u->path, 0600, &ls, &n) == -1 ? 0 : 1);
	for (i = 0; i < 300; i++) {
		if ((r = waitpid(pid, &status, WNOHANG)) != 0)
			break;
		usleep(10000);
	}
	if (r == 0) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
		close(c);
		close(live);
		fail_msg("listen_open_all() blocks on a busy live socket at "
		    "the path (unix_may_replace: blocking connect)");
	}
	assert_int_equal(r, pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(c);
	close(live);
}

/*
 * A stale socket in a directory others may write is not ours to
 * remove (someone else could have put it there): fail, keep it.
 */
static void
test_listen_unix_stale_world_writable(void **state)
{
	struct udir	*u = *state;
	struct listener	*ls;
	struct stat	 st, st2;
	size_t		 n;
	int		 before;

	(void)unix_socket_at(u->path, false, 0);
	assert_int_equal(lstat(u->path, &st), 0);
	assert_int_equal(chmod(u->dir, 0777), 0);
	before = count_fds();
	assert_int_equal(unix_open_one(u->path, 0600, &ls, &n), -1);
	assert_int_equal(count_fds(), before);
	assert_int_equal(lstat(u->path, &st2), 0);
	assert_true(S_ISSOCK(st2.st_mode));
	assert_int_equal(st2.st_ino, st.st_ino);
	assert_int_equal(dir_count(u->dir), 1);
	/* The sticky bit does not make it ours either. */
	assert_int_equal(chmod(u->dir, 01777), 0);
	assert_int_equal(unix_open_one(u->path, 0600, &ls, &n), -1);
	assert_int_equal(lstat(u->path, &st2), 0);
	assert_int_equal(st2.st_ino, st.st_ino);
	/* Group-writable is the admin's choice: that one is replaced. */
	assert_int_equal(chmod(u->dir, 0775), 0);
	assert_int_equal(unix_open_one(u->path, 0600, &ls, &n), 0);
	listen_close_all(ls, n);
	free(ls);
}

/*
 * All or nothing with unix sockets too: when one path cannot be used,
 * the socket already prepared for another service is removed, leaving
 * neither its path nor a temporary name.
 */
static void
test_listen_unix_all_or_nothing(void **state)
{
	struct udir	*u = *state;
	struct fixture	 fx;
	struct listener	*ls = NULL;
	struct stat	 st;
	char		 a[160];
	size_t		 n = 0;
	int		 before;

	(void)snprintf(a, sizeof(a), "%s/a.sock", u->dir);
	write_file(u->path, "keep");
	fx_init(&fx, 3);
	fx_unix(&fx, 0, a, 0600);
	fx_addr(&fx, 1, "127.0.0.1", 0);
	fx_unix(&fx, 2, u->path, 0600);
	before = count_fds();
	assert_int_equal(listen_open_all(&fx.conf, NULL, 0, &ls, &n), -1);
	assert_null(ls);
	assert_int_equal(count_fds(), before);
	assert_int_equal(lstat(a, &st), -1);
	assert_file_is(u->path, "keep");
	assert_int_equal(dir_count(u->dir), 1);
}

/*
 * listen_close_all() removes the path only while it is still our
 * socket: a file put there since (here renamed over it) survives.
 */
static void
test_listen_unix_close_not_others(void **state)
{
	struct udir	*u = *state;
	struct listener	*ls;
	char		 other[160];
	size_t		 n;

	assert_int_equal(unix_open_one(u->path, 0600, &ls, &n), 0);
	(void)snprintf(other, sizeof(other), "%s/other", u->dir);
	write_file(other, "not yours");
	assert_int_equal(rename(other, u->path), 0);
	listen_close_all(ls, n);
	assert_int_equal(ls[0].fd, -1);
	assert_file_is(u->path, "not yours");
	free(ls);

	/* A path already gone is no error either. */
	assert_int_equal(unlink(u->path), 0);
	assert_int_equal(unix_open_one(u->path, 0600, &ls, &n), 0);
	assert_int_equal(unlink(u->path), 0);
	listen_close_all(ls, n);
	assert_int_equal(dir_count(u->dir), 0);
	free(ls);
}

/*
 * A reload with the same path, mode and owner keeps the very socket: a
 * client queued before it is accepted after it, and closing the old
 * generation leaves the path alone.
 */
static void
test_listen_unix_reload_same(void **state)
{
	struct udir	*u = *state;
	struct fixture	 fx1, fx2;
	struct listener	*ls1 = NULL, *ls2 = NULL;
	struct stat	 st, st2;
	size_t		 n1 = 0, n2 = 0;
	int		 fd1, c, a;

	fx_init(&fx1, 1);
	fx_unix(&fx1, 0, u->path, 0600);
	assert_int_equal(listen_open_all(&fx1.conf, NULL, 0, &ls1, &n1), 0);
	fd1 = ls1[0].fd;
	assert_int_equal(lstat(u->path, &st), 0);
	c = unix_connect(u->path);
	assert_true(c != -1);

	fx_init(&fx2, 2);
	fx_addr(&fx2, 0, "127.0.0.1", 0);
	fx_unix(&fx2, 1, u->path, 0600);
	fx2.svc[1].backlog = 3;
	assert_int_equal(listen_open_all(&fx2.conf, ls1, n1, &ls2, &n2), 0);
	assert_int_equal(n2, 2);
	assert_true(ls2[1].reused);
	assert_int_equal(ls2[1].fd, fd1);
	assert_int_equal(ls2[1].service, 1);
	assert_non_null(ls2[1].path);
	assert_string_equal(ls2[1].path, u->path);
	assert_int_equal(ls1[0].fd, -1);
	assert_null(ls1[0].path);
	assert_int_equal(lstat(u->path, &st2), 0);
	assert_int_equal(st2.st_ino, st.st_ino);
	assert_int_equal(dir_count(u->dir), 1);

	listen_close_all(ls1, n1);
	assert_int_equal(lstat(u->path, &st2), 0);
	a = accept4(fd1, NULL, NULL, SOCK_CLOEXEC);
	assert_true(a != -1);
	close(a);
	close(c);
	assert_unix_serves(fd1, u->path);
	listen_close_all(ls2, n2);
	assert_int_equal(dir_count(u->dir), 0);
	free(ls1);
	free(ls2);
}

/*
 * A mode change is a new identity: the reload puts a new socket with
 * the new mode at the path, in place of the old generation's own (live)
 * socket; closing the old generation then leaves the new one's path.
 */
static void
test_listen_unix_reload_mode_change(void **state)
{
	struct udir	*u = *state;
	struct fixture	 fx1, fx2;
	struct listener	*ls1 = NULL, *ls2 = NULL;
	struct stat	 st;
	size_t		 n1 = 0, n2 = 0;
	int		 fd1, r;

	fx_init(&fx1, 1);
	fx_unix(&fx1, 0, u->path, 0600);
	assert_int_equal(listen_open_all(&fx1.conf, NULL, 0, &ls1, &n1), 0);
	fd1 = ls1[0].fd;

	fx_init(&fx2, 1);
	fx_unix(&fx2, 0, u->path, 0660);
	r = listen_open_all(&fx2.conf, ls1, n1, &ls2, &n2);
	if (r == -1) {
		listen_close_all(ls1, n1);
		free(ls1);
		fail_msg("reload fails when only the mode of a unix socket "
		    "changed: the old generation's live socket at the path "
		    "is refused as someone else's");
	}
	assert_int_equal(n2, 1);
	assert_false(ls2[0].reused);
	assert_int_not_equal(ls2[0].fd, fd1);
	assert_int_equal(ls2[0].mode, 0660);
	assert_int_equal(lstat(u->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(ls2[0].ino, st.st_ino);
	assert_int_not_equal(ls1[0].ino, st.st_ino);
	assert_true(fd_is_open(fd1));
	assert_int_equal(dir_count(u->dir), 1);

	/* The old generation closes: the path is no longer its socket. */
	listen_close_all(ls1, n1);
	assert_int_equal(lstat(u->path, &st), 0);
	assert_int_equal(ls2[0].ino, st.st_ino);
	assert_unix_serves(ls2[0].fd, u->path);
	listen_close_all(ls2, n2);
	assert_int_equal(dir_count(u->dir), 0);
	free(ls1);
	free(ls2);
}

/* A config of one unix service at path, as conf.c loads it, or NULL. */
static struct conf *
unix_conf(const char *path)
{
	char		 text[512];
	struct conf	*conf;
	int		 saved, null;

	(void)snprintf(text, sizeof(text), "service u {\n\tprotocol = unix\n"
	    "\tpath = %s\n\tmode = 0600\n\tbuiltin = echo\n}\n", path);
	/* Its complaints go to stderr; keep the output clean. */
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved != -1);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	assert_true(null != -1);
	assert_true(dup2(null, STDERR_FILENO) != -1);
	close(null);
	conf = conf_load_buf(text, "t.conf", CONF_AS_USER | CONF_CHECK_ONLY);
	assert_true(dup2(saved, STDERR_FILENO) != -1);
	close(saved);
	return conf;
}

/*
 * Every path conf.c accepts can be bound, the longest included: its
 * temporary name beside the path must fit in sun_path too.  The longest
 * accepted path is searched for from sizeof(sun_path) - 1 down.
 */
static void
test_listen_unix_longest_path(void **state)
{
	struct udir		*u = *state;
	struct listener		*ls = NULL;
	struct sockaddr_un	 sun;
	struct conf		*conf = NULL;
	char			 path[sizeof(sun.sun_path)];
	size_t			 n = 0, len, want;
	int			 r;

	len = strlen(u->dir);
	for (want = sizeof(sun.sun_path) - 1; want > len + 2; want--) {
		memcpy(path, u->dir, len);
		path[len] = '/';
		memset(path + len + 1, 's', want - len - 1);
		path[want] = '\0';
		if ((conf = unix_conf(path)) != NULL)
			break;
	}
	assert_non_null(conf);
	assert_int_equal(conf->nservices, 1);
	assert_string_equal(conf->services[0].path, path);
	r = listen_open_all(conf, NULL, 0, &ls, &n);
	if (r == -1) {
		conf_free(conf);
		fail_msg("a %zu-byte path, which conf.c accepts, cannot be "
		    "bound: %s", want, strerror(errno));
	}
	assert_unix_serves(ls[0].fd, path);
	listen_close_all(ls, n);
	free(ls);
	conf_free(conf);
	assert_int_equal(dir_count(u->dir), 0);
}

#define UNIX_TEST(f)	cmocka_unit_test_setup_teardown(f, udir_setup, \
			    udir_teardown)

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
		cmocka_unit_test(test_listen_all_reload_options),
		cmocka_unit_test(test_listen_all_failure_keeps_options),
		cmocka_unit_test(test_listen_all_implicit_skip),
		cmocka_unit_test(test_listen_all_v4_ignores_v6only),
		cmocka_unit_test(test_listen_udp_v4),
		cmocka_unit_test(test_listen_udp_v6_v6only),
		cmocka_unit_test(test_listen_udp_v6_dual),
		cmocka_unit_test(test_listen_udp_not_shared),
		cmocka_unit_test(test_listen_udp_tcp_same_port),
		cmocka_unit_test(test_listen_udp_reload_identity),
		UNIX_TEST(test_listen_unix_open),
		UNIX_TEST(test_listen_unix_mode_owner),
		UNIX_TEST(test_listen_unix_stale_replaced),
		UNIX_TEST(test_listen_unix_regular_file_kept),
		UNIX_TEST(test_listen_unix_symlink_kept),
		UNIX_TEST(test_listen_unix_live_kept),
		UNIX_TEST(test_listen_unix_live_busy_no_hang),
		UNIX_TEST(test_listen_unix_stale_world_writable),
		UNIX_TEST(test_listen_unix_all_or_nothing),
		UNIX_TEST(test_listen_unix_close_not_others),
		UNIX_TEST(test_listen_unix_reload_same),
		UNIX_TEST(test_listen_unix_reload_mode_change),
		UNIX_TEST(test_listen_unix_longest_path),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
