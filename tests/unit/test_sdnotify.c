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
 * Unit tests of sdnotify.c, the sd_notify(3) datagram: each test binds
 * its own AF_UNIX datagram socket as the service manager would, at a
 * path in a directory of its own or at an abstract name of its own, and
 * reads what the monitor sends.  A manager that stops reading must never
 * stall the monitor: the full-queue test fills a receiver that never
 * reads and wants EAGAIN, with an alarm as the bound if a send blocks.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdnotify.h"

/* A manager's socket: where it is bound and what to remove after. */
struct manager {
	int	 fd;
	char	 dir[64];	/* "" for an abstract name */
	char	 value[96];	/* $NOTIFY_SOCKET */
};

/* Bind a datagram socket at a fresh path, as systemd's notify socket. */
static void
manager_path(struct manager *m)
{
	struct sockaddr_un	 sun;

	memset(m, 0, sizeof(*m));
	(void)snprintf(m->dir, sizeof(m->dir), "/tmp/sdnotify.XXXXXX");
	assert_non_null(mkdtemp(m->dir));
	(void)snprintf(m->value, sizeof(m->value), "%s/notify", m->dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", m->value);
	m->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(m->fd != -1);
	assert_int_equal(bind(m->fd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
}

/* The same at an abstract name: no NUL in the address, length exact. */
static void
manager_abstract(struct manager *m)
{
	struct sockaddr_un	 sun;
	size_t			 len;

	memset(m, 0, sizeof(*m));
	(void)snprintf(m->value, sizeof(m->value), "@portmuxd/test/%ld/%ld",
	    (long)getpid(), (long)time(NULL));
	len = strlen(m->value);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, m->value + 1, len - 1);
	m->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(m->fd != -1);
	assert_int_equal(bind(m->fd, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)), 0);
}

static void
manager_close(struct manager *m)
{
	char	 path[sizeof(m->value)];

	if (m->fd != -1)
		close(m->fd);
	m->fd = -1;
	if (m->dir[0] == '\0')
		return;
	(void)snprintf(path, sizeof(path), "%s/notify", m->dir);
	(void)unlink(path);
	assert_int_equal(rmdir(m->dir), 0);
	m->dir[0] = '\0';
}

/* The next datagram, which must be waiting already; its length. */
static size_t
manager_recv(struct manager *m, char *buf, size_t size)
{
	ssize_t	 n;

	n = recv(m->fd, buf, size - 1, MSG_TRUNC);
	assert_true(n >= 0);
	assert_true((size_t)n < size);
	buf[n] = '\0';
	return (size_t)n;
}

/* Nothing more waits on the manager's socket. */
static void
manager_empty(struct manager *m)
{
	char	 c;

	assert_int_equal(recv(m->fd, &c, 1, 0), -1);
	assert_int_equal(errno, EAGAIN);
}

/* Without a manager every call is a quiet no-op. */
static void
test_sdnotify_none(void **state)
{
	struct sdnotify	 n;

	(void)state;
	assert_int_equal(sdnotify_init(&n, NULL), 0);
	assert_int_equal(n.fd, -1);
	assert_int_equal(sdnotify_send(&n, "READY=1"), 0);
	sdnotify_close(&n);
	assert_int_equal(n.fd, -1);

	assert_int_equal(sdnotify_init(&n, ""), 0);
	assert_int_equal(n.fd, -1);
	assert_int_equal(sdnotify_send(&n, "STATUS=%s", "x"), 0);
	sdnotify_close(&n);
	assert_int_equal(n.fd, -1);
}

/* The manager receives exactly the bytes formatted, one datagram each. */
static void
test_sdnotify_path(void **state)
{
	struct manager	 m;
	struct sdnotify	 n;
	char		 buf[1024];
	int		 fl;

	(void)state;
	manager_path(&m);
	assert_int_equal(sdnotify_init(&n, m.value), 0);
	assert_true(n.fd != -1);
	/* Never inherited by the engine or a service; never blocking. */
	assert_true((fl = fcntl(n.fd, F_GETFD)) != -1);
	assert_true(fl & FD_CLOEXEC);
	assert_true((fl = fcntl(n.fd, F_GETFL)) != -1);
	assert_true(fl & O_NONBLOCK);

	assert_int_equal(sdnotify_send(&n, "READY=1\nSTATUS=%s: %d services",
	    "generation 1", 3), 0);
	assert_int_equal(sdnotify_send(&n, "STOPPING=1"), 0);
	assert_int_equal(manager_recv(&m, buf, sizeof(buf)),
	    strlen("READY=1\nSTATUS=generation 1: 3 services"));
	assert_string_equal(buf, "READY=1\nSTATUS=generation 1: 3 services");
	assert_int_equal(manager_recv(&m, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "STOPPING=1");
	manager_empty(&m);
	sdnotify_close(&n);
	manager_close(&m);
}

static void
test_sdnotify_abstract(void **state)
{
	struct manager	 m;
	struct sdnotify	 n;
	char		 buf[1024];

	(void)state;
	manager_abstract(&m);
	assert_int_equal(sdnotify_init(&n, m.value), 0);
	assert_true(n.fd != -1);
	/* The address is the name without '@' and without a terminator. */
	assert_int_equal(n.len, offsetof(struct sockaddr_un, sun_path) +
	    strlen(m.value));
	assert_int_equal(n.sun.sun_path[0], '\0');
	assert_int_equal(sdnotify_send(&n, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    12345ULL), 0);
	assert_int_equal(manager_recv(&m, buf, sizeof(buf)),
	    strlen("RELOADING=1\nMONOTONIC_USEC=12345"));
	assert_string_equal(buf, "RELOADING=1\nMONOTONIC_USEC=12345");
	manager_empty(&m);
	sdnotify_close(&n);
	manager_close(&m);
}

/* A value that cannot be an address: EINVAL, and nothing left open. */
static void
invalid_is(const char *value)
{
	struct sdnotify	 n;

	memset(&n, 0x55, sizeof(n));
	errno = 0;
	assert_int_equal(sdnotify_init(&n, value), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(n.fd, -1);
	assert_int_equal(sdnotify_send(&n, "READY=1"), 0);
	sdnotify_close(&n);
}

/* A value of len bytes: first, then 'a' up to len. */
static const char *
value_of(char *buf, size_t size, char first, size_t len)
{
	assert_true(len < size);
	memset(buf, 'a', len);
	buf[0] = first;
	buf[len] = '\0';
	return buf;
}

static void
test_sdnotify_invalid(void **state)
{
	struct sockaddr_un	 sun;
	char			 v[sizeof(sun.sun_path) + 8];
	struct sdnotify		 n;

	(void)state;
	invalid_is("run/systemd/notify");
	invalid_is("notify");
	invalid_is("@");
	invalid_is("/");
	invalid_is(" /run/systemd/notify");

	/* sun_path holds 108 bytes: 107 and a NUL is the longest path. */
	invalid_is(value_of(v, sizeof(v), '/', sizeof(sun.sun_path)));
	invalid_is(value_of(v, sizeof(v), '/', sizeof(sun.sun_path) + 7));
	assert_int_equal(sdnotify_init(&n, value_of(v, sizeof(v), '/',
	    sizeof(sun.sun_path) - 1)), 0);
	assert_true(n.fd != -1);
	assert_int_equal(n.len, sizeof(struct sockaddr_un));
	sdnotify_close(&n);
	/* Abstract names are held to the same bound, as libsystemd does. */
	invalid_is(value_of(v, sizeof(v), '@', sizeof(sun.sun_path)));
	assert_int_equal(sdnotify_init(&n, value_of(v, sizeof(v), '@',
	    sizeof(sun.sun_path) - 1)), 0);
	assert_int_equal(n.len, sizeof(struct sockaddr_un) - 1);
	sdnotify_close(&n);
}

/* 511 bytes fit in one message; 512 are refused whole, not cut. */
static void
test_sdnotify_size(void **state)
{
	struct manager	 m;
	struct sdnotify	 n;
	char		 big[600], buf[1024];

	(void)state;
	manager_path(&m);
	assert_int_equal(sdnotify_init(&n, m.value), 0);
	memset(big, 'x', sizeof(big));
	big[511 - strlen("STATUS=")] = '\0';
	assert_int_equal(sdnotify_send(&n, "STATUS=%s", big), 0);
	assert_int_equal(manager_recv(&m, buf, sizeof(buf)), 511);
	assert_memory_equal(buf, "STATUS=xxx", 10);

	big[511 - strlen("STATUS=")] = 'x';
	big[512 - strlen("STATUS=")] = '\0';
	errno = 0;
	assert_int_equal(sdnotify_send(&n, "STATUS=%s", big), -1);
	assert_int_equal(errno, EMSGSIZE);
	manager_empty(&m);
	sdnotify_close(&n);
	manager_close(&m);
}

static double
mono_now(void)
{
	struct timespec	 ts;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A manager that does not read: the queue fills, and the next message is
 * lost at once (EAGAIN) instead of stalling the monitor.  The alarm ends
 * the program if a send blocks; the clock bounds the whole fill.
 */
static void
test_sdnotify_full_queue(void **state)
{
	struct manager	 m;
	struct sdnotify	 n;
	double		 t0, t1;
	int		 i, rc = 0, sent = 0;

	(void)state;
	manager_path(&m);
	assert_int_equal(sdnotify_init(&n, m.value), 0);
	(void)alarm(20);
	t0 = mono_now();
	for (i = 0; i < 100000; i++) {
		if ((rc = sdnotify_send(&n, "STATUS=message %d", i)) == -1)
			break;
		sent++;
	}
	assert_int_equal(rc, -1);
	assert_int_equal(errno, EAGAIN);
	/* Still full: each further call fails at once too. */
	t1 = mono_now();
	for (i = 0; i < 100; i++) {
		assert_int_equal(sdnotify_send(&n, "READY=1"), -1);
		assert_int_equal(errno, EAGAIN);
	}
	assert_true(mono_now() - t1 < 1.0);
	assert_true(t1 - t0 < 10.0);
	(void)alarm(0);
	assert_true(sent > 0);
	sdnotify_close(&n);
	manager_close(&m);
}

/* A manager that went away: the message is lost and the caller told. */
static void
test_sdnotify_gone(void **state)
{
	struct manager	 m;
	struct sdnotify	 n;
	char		 path[sizeof(m.value)];

	(void)state;
	manager_path(&m);
	assert_int_equal(sdnotify_init(&n, m.value), 0);
	close(m.fd);
	m.fd = -1;
	/* The path still exists, but nobody is bound to it. */
	errno = 0;
	assert_int_equal(sdnotify_send(&n, "READY=1"), -1);
	assert_int_equal(errno, ECONNREFUSED);
	(void)snprintf(path, sizeof(path), "%s", m.value);
	assert_int_equal(unlink(path), 0);
	errno = 0;
	assert_int_equal(sdnotify_send(&n, "READY=1"), -1);
	assert_int_equal(errno, ENOENT);
	sdnotify_close(&n);
	manager_close(&m);
}

/* close() twice is harmless, and a closed one sends nothing. */
static void
test_sdnotify_close_twice(void **state)
{
	struct manager	 m;
	struct sdnotify	 n;
	int		 fd;

	(void)state;
	manager_path(&m);
	assert_int_equal(sdnotify_init(&n, m.value), 0);
	fd = n.fd;
	sdnotify_close(&n);
	assert_int_equal(n.fd, -1);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	sdnotify_close(&n);
	assert_int_equal(n.fd, -1);
	assert_int_equal(sdnotify_send(&n, "READY=1"), 0);
	manager_empty(&m);
	manager_close(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sdnotify_none),
		cmocka_unit_test(test_sdnotify_path),
		cmocka_unit_test(test_sdnotify_abstract),
		cmocka_unit_test(test_sdnotify_invalid),
		cmocka_unit_test(test_sdnotify_size),
		cmocka_unit_test(test_sdnotify_full_queue),
		cmocka_unit_test(test_sdnotify_gone),
		cmocka_unit_test(test_sdnotify_close_twice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
