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
 * Unit tests of sdlisten.c, socket activation as sd_listen_fds(3) hands
 * it over.  The take tests put real sockets on descriptors 3, 4, ... of
 * this process with dup2(), as the service manager's fork and exec would
 * leave them (FD_CLOEXEC clear, blocking), set LISTEN_PID to our own pid
 * and read back what sdlisten_take() made of them.  Whatever the test
 * runner left on those descriptors is closed first.  Every socket is on
 * loopback or in a directory of the test's own; the wildcard cases of
 * sdlisten_match() use hand-made entries, so nothing binds :: or
 * 0.0.0.0.  Services and addresses are built the way conf.c builds them.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
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
#include "sdlisten.h"

/* Descriptors 3 .. 3 + SLOTS - 1 are the manager's in these tests. */
#define SLOTS		6
/* Where a socket waits while the slots are cleared. */
#define HIGH_FD		64
#define CAPMAX		16384

static char	*no_strings[] = { NULL };

/* Lines logged to stderr, through a pipe on fd 2 (as test_log.c). */
static int	 saved_stderr = -1;
static int	 cap_rd = -1;

static void
cap_start(void)
{
	int	 p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_not_equal(fcntl(p[1], F_SETPIPE_SZ, 65536), -1);
	fflush(stderr);
	saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, HIGH_FD + SLOTS);
	assert_true(saved_stderr != -1);
	assert_int_equal(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	close(p[1]);
	cap_rd = p[0];
}

static void
cap_stop(char *buf, size_t size)
{
	size_t	 o = 0;
	ssize_t	 n;

	(void)dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	while ((n = read(cap_rd, buf + o, size - 1 - o)) > 0)
		o += (size_t)n;
	close(cap_rd);
	cap_rd = -1;
	buf[o] = '\0';
}

static bool
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* Close whatever sits on the slots: the runner's or a previous test's. */
static void
slots_clear(void)
{
	int	 fd;

	for (fd = SDLISTEN_FIRST; fd < SDLISTEN_FIRST + SLOTS; fd++)
		if (fd_open(fd))
			assert_int_equal(close(fd), 0);
}

/*
 * Put fds[i] on descriptor 3 + i, as the manager passes them: each is
 * first moved above the slots, so that a socket that was created on a
 * slot is not closed by the clearing.  fds[] is updated.
 */
static void
slots_place(int *fds, size_t n)
{
	size_t	 i;
	int	 hi;

	assert_true(n <= SLOTS);
	for (i = 0; i < n; i++) {
		hi = fcntl(fds[i], F_DUPFD_CLOEXEC, HIGH_FD);
		assert_true(hi >= HIGH_FD);
		assert_int_equal(close(fds[i]), 0);
		fds[i] = hi;
	}
	slots_clear();
	for (i = 0; i < n; i++) {
		assert_int_equal(dup2(fds[i], SDLISTEN_FIRST + (int)i),
		    SDLISTEN_FIRST + (int)i);
		assert_int_equal(close(fds[i]), 0);
		fds[i] = SDLISTEN_FIRST + (int)i;
	}
}

static void
env_set(const char *pid, const char *fds, const char *names)
{
	if (pid != NULL)
		assert_int_equal(setenv("LISTEN_PID", pid, 1), 0);
	else
		assert_int_equal(unsetenv("LISTEN_PID"), 0);
	if (fds != NULL)
		assert_int_equal(setenv("LISTEN_FDS", fds, 1), 0);
	else
		assert_int_equal(unsetenv("LISTEN_FDS"), 0);
	if (names != NULL)
		assert_int_equal(setenv("LISTEN_FDNAMES", names, 1), 0);
	else
		assert_int_equal(unsetenv("LISTEN_FDNAMES"), 0);
}

/* The variables as the manager sets them for this very process. */
static void
env_own(const char *fds, const char *names)
{
	char	 pid[32];

	(void)snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	env_set(pid, fds, names);
}

static void
assert_env_gone(void)
{
	assert_null(getenv("LISTEN_PID"));
	assert_null(getenv("LISTEN_FDS"));
	assert_null(getenv("LISTEN_FDNAMES"));
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
		ba->wildcard = IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);
	} else {
		struct sockaddr_in	*s4 = (struct sockaddr_in *)&ba->ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
		ba->len = sizeof(*s4);
		ba->wildcard = s4->sin_addr.s_addr == htonl(INADDR_ANY);
	}
}

/* A service as conf.c leaves it, at one address (or a unix path). */
struct svcfix {
	struct service	 svc;
	struct bindaddr	 ba;
};

static const struct service *
svc_inet(struct svcfix *f, enum proto proto, const char *ip, uint16_t port,
    bool v6only)
{
	memset(f, 0, sizeof(*f));
	f->svc.name = (char *)"svc";
	f->svc.proto = proto;
	f->svc.port = port;
	f->svc.v6only = v6only;
	f->svc.backlog = 16;
	f->svc.args = no_strings;
	f->svc.env = no_strings;
	f->svc.passenv = no_strings;
	ba_set(&f->ba, ip, port);
	f->svc.addrs = &f->ba;
	f->svc.naddrs = 1;
	return &f->svc;
}

static const struct service *
svc_unix(struct svcfix *f, const char *path)
{
	(void)svc_inet(f, PROTO_UNIX, "127.0.0.1", 0, true);
	f->svc.addrs = NULL;
	f->svc.naddrs = 0;
	f->svc.port = 0;
	f->svc.path = (char *)path;
	return &f->svc;
}

/* Match svc at its one address (or NULL for unix) against p. */
static int
match(const struct sdlisten *p, const struct service *svc)
{
	return sdlisten_match(p, svc, svc->proto == PROTO_UNIX ? NULL :
	    &svc->addrs[0]);
}

/* A blocking socket bound on loopback, listening if a stream; its fd. */
static int
inet_sock(int type, const char *ip, uint16_t port, int v6only)
{
	struct bindaddr	 ba;
	int		 fd, on = 1;

	ba_set(&ba, ip, port);
	fd = socket(ba.ss.ss_family, type | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	if (ba.ss.ss_family == AF_INET6)
		assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
		    &v6only, sizeof(v6only)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ba.ss, ba.len), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static uint16_t
port_of(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int
unix_sock(int type, const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 8), 0);
	return fd;
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

/* A directory of the test's own for unix sockets, removed by dir_rm. */
static void
dir_make(char *dir, size_t size)
{
	(void)snprintf(dir, size, "/tmp/sdlisten.XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void
dir_rm(const char *dir, const char *file)
{
	char	 path[128];

	(void)snprintf(path, sizeof(path), "%s/%s", dir, file);
	(void)unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

/* A hand-made passed entry, as inspect() would fill it. */
static void
sp_inet(struct sdpassed *sp, int fd, int type, const char *ip,
    uint16_t port, bool v6only, const char *name)
{
	struct bindaddr	 ba;

	memset(sp, 0, sizeof(*sp));
	ba_set(&ba, ip, port);
	sp->fd = fd;
	sp->domain = ba.ss.ss_family;
	sp->type = type;
	memcpy(&sp->ss, &ba.ss, ba.len);
	sp->len = ba.len;
	sp->v6only = sp->domain == AF_INET6 && v6only;
	(void)snprintf(sp->name, sizeof(sp->name), "%s", name);
}

static void
sp_unix(struct sdpassed *sp, int fd, int type, const char *path,
    const char *name)
{
	struct sockaddr_un	*sun = (struct sockaddr_un *)&sp->ss;

	memset(sp, 0, sizeof(*sp));
	sp->fd = fd;
	sp->domain = AF_UNIX;
	sp->type = type;
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, strlen(path));
	sp->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(path) + 1);
	(void)snprintf(sp->name, sizeof(sp->name), "%s", name);
}

static int
group_setup(void **state)
{
	(void)state;
	/* The capture pipe is no journal, whatever the runner's stderr is. */
	(void)unsetenv("JOURNAL_STREAM");
	log_init(1, LOG_INFO, LOG_DAEMON);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	slots_clear();
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
	return 0;
}

/* count(): -1 and a message that names the variable. */
static void
count_fails(const char *pid_s, const char *fds_s, long pid, const char *var)
{
	char	 err[256];
	size_t	 n = 99;

	err[0] = '\0';
	assert_int_equal(sdlisten_count(pid_s, fds_s, pid, &n, err,
	    sizeof(err)), -1);
	assert_int_equal(n, 0);
	assert_non_null(strstr(err, var));
}

static void
count_is(const char *pid_s, const char *fds_s, long pid, size_t want)
{
	char	 err[256];
	size_t	 n = 99;

	assert_int_equal(sdlisten_count(pid_s, fds_s, pid, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, want);
}

static void
test_sdlisten_count_unset(void **state)
{
	(void)state;
	count_is(NULL, NULL, 100, 0);
	count_is("", NULL, 100, 0);
	/* LISTEN_FDS alone is for nobody: LISTEN_PID says who. */
	count_is(NULL, "3", 100, 0);
}

/* The variables were meant for another process (our parent, say). */
static void
test_sdlisten_count_other_pid(void **state)
{
	(void)state;
	count_is("101", "3", 100, 0);
	count_is("101", NULL, 100, 0);
	count_is("101", "garbage", 100, 0);
}

static void
test_sdlisten_count_own(void **state)
{
	(void)state;
	count_is("100", "0", 100, 0);
	count_is("100", "1", 100, 1);
	count_is("100", "3", 100, 3);
	count_is("100", "4096", 100, SDLISTEN_MAX);
}

static void
test_sdlisten_count_bad_pid(void **state)
{
	(void)state;
	count_fails("abc", "1", 100, "LISTEN_PID");
	count_fails("100x", "1", 100, "LISTEN_PID");
	count_fails("-100", "1", 100, "LISTEN_PID");
	count_fails("0", "1", 100, "LISTEN_PID");
	count_fails("99999999999999999999999", "1", 100, "LISTEN_PID");
}

static void
test_sdlisten_count_bad_fds(void **state)
{
	(void)state;
	count_fails("100", NULL, 100, "LISTEN_FDS");
	count_fails("100", "", 100, "LISTEN_FDS");
	count_fails("100", "x", 100, "LISTEN_FDS");
	count_fails("100", "3x", 100, "LISTEN_FDS");
	count_fails("100", "-1", 100, "LISTEN_FDS");
	count_fails("100", "4097", 100, "LISTEN_FDS");
	count_fails("100", "99999999999999999999999", 100, "LISTEN_FDS");
}

/* What inspect() must have read from a real descriptor. */
static void
assert_passed(const struct sdpassed *sp, int fd, int domain, int type,
    bool v6only, const char *name)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	int			 fl;

	assert_int_equal(sp->fd, fd);
	assert_int_equal(sp->domain, domain);
	assert_int_equal(sp->type, type);
	assert_int_equal(sp->v6only, v6only);
	assert_string_equal(sp->name, name);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	assert_int_equal(sp->len, len);
	assert_memory_equal(&sp->ss, &ss, len);
	/* As the engine wants a listener, and never inherited by a child. */
	assert_true((fl = fcntl(fd, F_GETFL)) != -1);
	assert_true(fl & O_NONBLOCK);
	assert_true((fl = fcntl(fd, F_GETFD)) != -1);
	assert_true(fl & FD_CLOEXEC);
}

/* The manager's descriptors arrive blocking and inheritable. */
static void
assert_untouched(int fd)
{
	int	 fl;

	assert_true((fl = fcntl(fd, F_GETFL)) != -1);
	assert_false(fl & O_NONBLOCK);
	assert_true((fl = fcntl(fd, F_GETFD)) != -1);
	assert_false(fl & FD_CLOEXEC);
}

/*
 * TCP and UDP on 127.0.0.1, a unix stream socket and, where the host has
 * it, TCP on ::1: each is read as it is, flagged, named by position, and
 * found again by the service that would bind it.
 */
static void
test_sdlisten_take_sockets(void **state)
{
	struct sdlisten	 p;
	struct svcfix	 f;
	char		 dir[64], path[96], err[256], d[256], want[256];
	int		 fds[4];
	size_t		 n = 3, i;
	uint16_t	 tport, uport, v6port = 0;
	bool		 v6 = have_ipv6_loopback();

	(void)state;
	dir_make(dir, sizeof(dir));
	(void)snprintf(path, sizeof(path), "%s/ctl.sock", dir);
	fds[0] = inet_sock(SOCK_STREAM, "127.0.0.1", 0, 0);
	fds[1] = inet_sock(SOCK_DGRAM, "127.0.0.1", 0, 0);
	fds[2] = unix_sock(SOCK_STREAM, path);
	tport = port_of(fds[0]);
	uport = port_of(fds[1]);
	if (v6) {
		fds[3] = inet_sock(SOCK_STREAM, "::1", 0, 1);
		v6port = port_of(fds[3]);
		n = 4;
	}
	slots_place(fds, n);
	for (i = 0; i < n; i++)
		assert_untouched(fds[i]);
	env_own(v6 ? "4" : "3", "web:dns:ctl");

	assert_int_equal(sdlisten_take(&p, err, sizeof(err)), 0);
	assert_env_gone();
	assert_int_equal(p.n, n);
	assert_non_null(p.v);
	assert_passed(&p.v[0], 3, AF_INET, SOCK_STREAM, false, "web");
	assert_passed(&p.v[1], 4, AF_INET, SOCK_DGRAM, false, "dns");
	assert_passed(&p.v[2], 5, AF_UNIX, SOCK_STREAM, false, "ctl");
	if (v6)
		assert_passed(&p.v[3], 6, AF_INET6, SOCK_STREAM, true, "");

	sdlisten_describe(&p.v[0], d, sizeof(d));
	(void)snprintf(want, sizeof(want), "fd=3 name=web proto=tcp "
	    "address=127.0.0.1 port=%u", tport);
	assert_string_equal(d, want);
	sdlisten_describe(&p.v[1], d, sizeof(d));
	(void)snprintf(want, sizeof(want), "fd=4 name=dns proto=udp "
	    "address=127.0.0.1 port=%u", uport);
	assert_string_equal(d, want);
	sdlisten_describe(&p.v[2], d, sizeof(d));
	(void)snprintf(want, sizeof(want), "fd=5 name=ctl proto=unix path=%s",
	    path);
	assert_string_equal(d, want);

	/* What getsockname() gave is what conf.c builds for the same. */
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "127.0.0.1", tport,
	    true)), 0);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_UDP, "127.0.0.1", uport,
	    true)), 1);
	assert_int_equal(match(&p, svc_unix(&f, path)), 2);
	/* The two ephemeral ports may be the same number: then it shows. */
	assert_int_equal(match(&p, svc_inet(&f, PROTO_UDP, "127.0.0.1", tport,
	    true)), tport == uport ? 1 : -1);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "127.0.0.1", uport,
	    true)), tport == uport ? 0 : -1);
	if (v6) {
		sdlisten_describe(&p.v[3], d, sizeof(d));
		(void)snprintf(want, sizeof(want), "fd=6 proto=tcp "
		    "address=::1 port=%u", v6port);
		assert_string_equal(d, want);
		assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "::1",
		    v6port, true)), 3);
		assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP,
		    "127.0.0.1", v6port, true)), v6port == tport ? 0 : -1);
	}
	sdlisten_free(&p);
	assert_null(p.v);
	assert_int_equal(p.n, 0);
	/* The sockets stay the manager's: taking them closes none. */
	for (i = 0; i < n; i++)
		assert_true(fd_open(fds[i]));
	slots_clear();
	dir_rm(dir, "ctl.sock");
}

/*
 * Linux sets IPV6_V6ONLY itself when a socket binds a specific IPv6
 * address, whatever was asked: the manager's [::1] socket always says
 * v6only = 1.  A service at ::1 with v6only = false binds the very same
 * socket (listen.c gets the same forced flag), so it must take the
 * passed one instead of failing the start on an "unmatched" socket.
 */
static void
test_sdlisten_take_v6_specific(void **state)
{
	struct sdlisten	 p;
	struct svcfix	 f;
	char		 err[256];
	int		 fds[1];
	uint16_t	 port;

	(void)state;
	if (!have_ipv6_loopback())
		skip();
	fds[0] = inet_sock(SOCK_STREAM, "::1", 0, 0);
	port = port_of(fds[0]);
	slots_place(fds, 1);
	env_own("1", NULL);
	assert_int_equal(sdlisten_take(&p, err, sizeof(err)), 0);
	assert_int_equal(p.n, 1);
	assert_passed(&p.v[0], 3, AF_INET6, SOCK_STREAM, true, "");
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "::1", port,
	    true)), 0);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "::1", port,
	    false)), 0);
	sdlisten_free(&p);
	slots_clear();
}

/* Names go by position; an empty or missing one is "", a long one cut. */
static void
test_sdlisten_take_names(void **state)
{
	struct sdlisten	 p;
	char		 err[256], names[200], longname[100];
	int		 fds[4];
	size_t		 i;

	(void)state;
	for (i = 0; i < 4; i++)
		fds[i] = inet_sock(SOCK_DGRAM, "127.0.0.1", 0, 0);
	slots_place(fds, 4);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	(void)snprintf(names, sizeof(names), "a::%s", longname);
	env_own("4", names);
	assert_int_equal(sdlisten_take(&p, err, sizeof(err)), 0);
	assert_int_equal(p.n, 4);
	assert_string_equal(p.v[0].name, "a");
	assert_string_equal(p.v[1].name, "");
	assert_int_equal(strlen(p.v[2].name), sizeof(p.v[2].name) - 1);
	assert_memory_equal(p.v[2].name, longname, sizeof(p.v[2].name) - 1);
	assert_string_equal(p.v[3].name, "");
	sdlisten_free(&p);
	slots_clear();
}

/* A failed take: -1, err holds every word of want, nothing kept. */
static void
take_fails(const char *want1, const char *want2)
{
	struct sdlisten	 p;
	char		 err[256];

	err[0] = '\0';
	memset(&p, 0x55, sizeof(p));
	assert_int_equal(sdlisten_take(&p, err, sizeof(err)), -1);
	assert_null(p.v);
	assert_int_equal(p.n, 0);
	assert_env_gone();
	if (strstr(err, want1) == NULL || (want2 != NULL &&
	    strstr(err, want2) == NULL))
		fail_msg("err=\"%s\", wanted \"%s\" and \"%s\"", err, want1,
		    want2 != NULL ? want2 : "");
}

static void
test_sdlisten_take_pipe(void **state)
{
	int	 fds[2], pp[2];

	(void)state;
	assert_int_equal(pipe2(pp, O_CLOEXEC), 0);
	close(pp[1]);
	fds[0] = pp[0];
	slots_place(fds, 1);
	env_own("1", "web");
	take_fails("fd=3 name=web", "not a socket");

	/* The first is fine, the second is not: it names the second. */
	assert_int_equal(pipe2(pp, O_CLOEXEC), 0);
	close(pp[1]);
	fds[0] = inet_sock(SOCK_STREAM, "127.0.0.1", 0, 0);
	fds[1] = pp[0];
	slots_place(fds, 2);
	env_own("2", NULL);
	take_fails("fd=4 name=-", "not a socket");
	slots_clear();
}

/* Accept=yes units pass one connection, which portmuxd cannot serve. */
static void
test_sdlisten_take_accepted(void **state)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	int			 l, c, fds[1];

	(void)state;
	l = inet_sock(SOCK_STREAM, "127.0.0.1", 0, 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&ss, &len), 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c != -1);
	assert_int_equal(connect(c, (struct sockaddr *)&ss, len), 0);
	fds[0] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fds[0] != -1);
	/* The connection stays established without its listener. */
	close(l);
	close(c);
	slots_place(fds, 1);
	env_own("1", NULL);
	take_fails("fd=3", "Accept=yes");
	slots_clear();
}

/* Nothing at fd 3 although LISTEN_FDS says 1. */
static void
test_sdlisten_take_closed(void **state)
{
	(void)state;
	slots_clear();
	env_own("1", NULL);
	take_fails("fd=3", "not a socket");
}

static void
test_sdlisten_take_bad_env(void **state)
{
	(void)state;
	env_own("x", NULL);
	take_fails("LISTEN_FDS=x", NULL);
	env_own(NULL, NULL);
	take_fails("LISTEN_FDS", NULL);
	env_set("pid", "1", "web");
	take_fails("LISTEN_PID=pid", NULL);
}

/*
 * Variables for another process (a parent that did not unset them): no
 * descriptor is touched, and the variables go all the same, so that no
 * child sees them.
 */
static void
test_sdlisten_take_other_pid(void **state)
{
	struct sdlisten	 p;
	char		 err[256], pid[32];
	int		 fds[1];

	(void)state;
	fds[0] = inet_sock(SOCK_STREAM, "127.0.0.1", 0, 0);
	slots_place(fds, 1);
	(void)snprintf(pid, sizeof(pid), "%ld", (long)getppid());
	env_set(pid, "1", "web");
	assert_int_equal(sdlisten_take(&p, err, sizeof(err)), 0);
	assert_int_equal(p.n, 0);
	assert_null(p.v);
	assert_env_gone();
	assert_untouched(3);
	slots_clear();
}

static void
test_sdlisten_take_none(void **state)
{
	struct sdlisten	 p;
	char		 err[256];

	(void)state;
	env_set(NULL, NULL, NULL);
	assert_int_equal(sdlisten_take(&p, err, sizeof(err)), 0);
	assert_int_equal(p.n, 0);
	assert_null(p.v);
	env_own("0", "");
	assert_int_equal(sdlisten_take(&p, err, sizeof(err)), 0);
	assert_int_equal(p.n, 0);
	assert_null(p.v);
	assert_env_gone();
}

/* TCP never takes a UDP socket of the same port, nor UDP a TCP one. */
static void
test_sdlisten_match_proto(void **state)
{
	struct sdpassed	 v[2];
	struct sdlisten	 p = { v, 2 };
	struct svcfix	 f;

	(void)state;
	sp_inet(&v[0], 3, SOCK_DGRAM, "127.0.0.1", 5353, false, "");
	sp_inet(&v[1], 4, SOCK_STREAM, "127.0.0.1", 5353, false, "");
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "127.0.0.1", 5353,
	    true)), 1);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_UDP, "127.0.0.1", 5353,
	    true)), 0);
	p.n = 1;
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "127.0.0.1", 5353,
	    true)), -1);
	sp_inet(&v[0], 3, SOCK_STREAM, "127.0.0.1", 5353, false, "");
	assert_int_equal(match(&p, svc_inet(&f, PROTO_UDP, "127.0.0.1", 5353,
	    true)), -1);
	assert_int_equal(match(&p, svc_unix(&f, "/run/x.sock")), -1);
	/* A TCP service without an address is no match for anything. */
	assert_int_equal(sdlisten_match(&p, svc_inet(&f, PROTO_TCP,
	    "127.0.0.1", 5353, true), NULL), -1);
}

/* Another port, another address, a wildcard for a specific: no match. */
static void
test_sdlisten_match_address(void **state)
{
	struct sdpassed	 v[1];
	struct sdlisten	 p = { v, 1 };
	struct svcfix	 f;

	(void)state;
	sp_inet(&v[0], 3, SOCK_STREAM, "127.0.0.1", 8080, false, "");
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "127.0.0.1", 8080,
	    true)), 0);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "127.0.0.1", 8081,
	    true)), -1);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "127.0.0.2", 8080,
	    true)), -1);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "0.0.0.0", 8080,
	    true)), -1);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "::ffff:127.0.0.1",
	    8080, false)), -1);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "::1", 8080,
	    true)), -1);

	sp_inet(&v[0], 3, SOCK_STREAM, "0.0.0.0", 8080, false, "");
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "0.0.0.0", 8080,
	    true)), 0);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "127.0.0.1", 8080,
	    true)), -1);

	sp_inet(&v[0], 3, SOCK_DGRAM, "::1", 53, true, "");
	assert_int_equal(match(&p, svc_inet(&f, PROTO_UDP, "::1", 53, true)),
	    0);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_UDP, "::1", 54, true)),
	    -1);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_UDP, "::2", 53, true)),
	    -1);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_UDP, "127.0.0.1", 53,
	    true)), -1);
}

/* On the IPv6 wildcard v6only decides who is served: it must agree. */
static void
test_sdlisten_match_v6only(void **state)
{
	struct sdpassed	 v[2];
	struct sdlisten	 p = { v, 1 };
	struct svcfix	 f;

	(void)state;
	sp_inet(&v[0], 3, SOCK_STREAM, "::", 80, true, "");
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "::", 80, true)),
	    0);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "::", 80, false)),
	    -1);
	sp_inet(&v[0], 3, SOCK_STREAM, "::", 80, false, "");
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "::", 80, false)),
	    0);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "::", 80, true)),
	    -1);
	/* Both present: each service finds its own. */
	sp_inet(&v[1], 4, SOCK_STREAM, "::", 80, true, "");
	p.n = 2;
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "::", 80, false)),
	    0);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "::", 80, true)),
	    1);
	/* IPv4 has no such flag. */
	sp_inet(&v[0], 3, SOCK_DGRAM, "127.0.0.1", 69, false, "");
	p.n = 1;
	assert_int_equal(match(&p, svc_inet(&f, PROTO_UDP, "127.0.0.1", 69,
	    false)), 0);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_UDP, "127.0.0.1", 69,
	    true)), 0);
}

/* Unix sockets by their whole path, stream only. */
static void
test_sdlisten_match_unix(void **state)
{
	struct sdpassed	 v[2];
	struct sdlisten	 p = { v, 1 };
	struct svcfix	 f;
	struct sockaddr_un *sun = (struct sockaddr_un *)&v[0].ss;

	(void)state;
	sp_unix(&v[0], 3, SOCK_STREAM, "/run/portmux/ctl.sock", "");
	assert_int_equal(match(&p, svc_unix(&f, "/run/portmux/ctl.sock")), 0);
	assert_int_equal(match(&p, svc_unix(&f, "/run/portmux/ctl.soc")), -1);
	assert_int_equal(match(&p, svc_unix(&f, "/run/portmux/ctl.sock2")),
	    -1);
	assert_int_equal(match(&p, svc_unix(&f, "/run/portmux/other")), -1);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "127.0.0.1", 80,
	    true)), -1);
	/* Without the terminator in the length, as the kernel may say. */
	v[0].len--;
	assert_int_equal(match(&p, svc_unix(&f, "/run/portmux/ctl.sock")), 0);
	assert_int_equal(match(&p, svc_unix(&f, "/run/portmux/ctl.soc")), -1);
	assert_int_equal(match(&p, svc_unix(&f, "/run/portmux/ctl.sock2")),
	    -1);
	/* A datagram socket at the path is not the stream service's. */
	sp_unix(&v[0], 3, SOCK_DGRAM, "/run/portmux/ctl.sock", "");
	assert_int_equal(match(&p, svc_unix(&f, "/run/portmux/ctl.sock")), -1);
	/* An abstract or unbound socket has no path. */
	sp_unix(&v[0], 3, SOCK_STREAM, "", "");
	v[0].len = offsetof(struct sockaddr_un, sun_path);
	assert_int_equal(match(&p, svc_unix(&f, "")), -1);
	sp_unix(&v[0], 3, SOCK_STREAM, "x/run/portmux/ctl.sock", "");
	sun->sun_path[0] = '\0';
	assert_int_equal(match(&p, svc_unix(&f, "/run/portmux/ctl.sock")), -1);
	/* A TCP socket never takes a unix service, nor the reverse. */
	sp_inet(&v[0], 3, SOCK_STREAM, "127.0.0.1", 80, false, "");
	sp_unix(&v[1], 4, SOCK_STREAM, "/run/portmux/ctl.sock", "");
	p.n = 2;
	assert_int_equal(match(&p, svc_unix(&f, "/run/portmux/ctl.sock")), 1);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "127.0.0.1", 80,
	    true)), 0);
}

static void
test_sdlisten_match_empty(void **state)
{
	struct sdlisten	 p = { NULL, 0 };
	struct svcfix	 f;

	(void)state;
	assert_int_equal(match(NULL, svc_inet(&f, PROTO_TCP, "127.0.0.1", 80,
	    true)), -1);
	assert_int_equal(match(&p, svc_inet(&f, PROTO_TCP, "127.0.0.1", 80,
	    true)), -1);
	assert_int_equal(match(NULL, svc_unix(&f, "/run/x.sock")), -1);
}

static void
describe_is(const struct sdpassed *sp, const char *want)
{
	char	 d[256];

	sdlisten_describe(sp, d, sizeof(d));
	assert_string_equal(d, want);
}

static void
test_sdlisten_describe(void **state)
{
	struct sdpassed	 sp;
	char		 d[64];

	(void)state;
	sp_inet(&sp, 3, SOCK_STREAM, "127.0.0.1", 80, false, "web");
	describe_is(&sp, "fd=3 name=web proto=tcp address=127.0.0.1 port=80");
	sp_inet(&sp, 4, SOCK_DGRAM, "::1", 53, true, "");
	describe_is(&sp, "fd=4 proto=udp address=::1 port=53");
	sp_inet(&sp, 5, SOCK_STREAM, "::", 8080, false, "any");
	describe_is(&sp, "fd=5 name=any proto=tcp address=:: port=8080 "
	    "v6only=false");
	/* Mapped addresses are shown as IPv4, as everywhere in the log. */
	sp_inet(&sp, 5, SOCK_STREAM, "::ffff:127.0.0.1", 8080, false, "");
	describe_is(&sp, "fd=5 proto=tcp address=127.0.0.1 port=8080 "
	    "v6only=false");
	sp_unix(&sp, 6, SOCK_STREAM, "/run/portmux/ctl.sock", "ctl");
	describe_is(&sp, "fd=6 name=ctl proto=unix path=/run/portmux/ctl.sock");
	sp_unix(&sp, 7, SOCK_STREAM, "", "");
	sp.len = offsetof(struct sockaddr_un, sun_path);
	describe_is(&sp, "fd=7 proto=unix path=-");
	memset(&sp, 0, sizeof(sp));
	sp.fd = 8;
	sp.domain = AF_PACKET;
	sp.type = SOCK_RAW;
	sp.ss.ss_family = AF_PACKET;
	sp.len = sizeof(sp.ss);
	(void)snprintf(d, sizeof(d), "fd=8 family=%d type=%d", AF_PACKET,
	    SOCK_RAW);
	describe_is(&sp, d);
	/* Cut, never overrun. */
	sp_inet(&sp, 3, SOCK_STREAM, "127.0.0.1", 80, false, "web");
	memset(d, 'X', sizeof(d));
	sdlisten_describe(&sp, d, 8);
	assert_string_equal(d, "fd=3 na");
	assert_int_equal(d[8], 'X');
}

/*
 * Each passed socket no listener uses is one line naming it: an error
 * at start, a warning on a reload.
 */
static void
test_sdlisten_unmatched(void **state)
{
	struct sdpassed	 v[3];
	struct sdlisten	 p = { v, 3 };
	struct listener	 ls[3];
	char		 out[CAPMAX];
	size_t		 n[4];

	(void)state;
	sp_inet(&v[0], 3, SOCK_STREAM, "127.0.0.1", 80, false, "web");
	sp_inet(&v[1], 4, SOCK_DGRAM, "127.0.0.1", 53, false, "dns");
	sp_unix(&v[2], 5, SOCK_STREAM, "/run/portmux/ctl.sock", "");
	memset(ls, 0, sizeof(ls));
	ls[0].fd = 5;
	ls[1].fd = 9;

	cap_start();
	n[0] = sdlisten_unmatched(&p, ls, 2, true);
	cap_stop(out, sizeof(out));
	assert_int_equal(n[0], 2);
	assert_string_equal(out,
	    "action=error fd=3 name=web proto=tcp address=127.0.0.1 port=80 "
	    "msg=\"passed by the service manager, but no service listens "
	    "there\"\n"
	    "action=error fd=4 name=dns proto=udp address=127.0.0.1 port=53 "
	    "msg=\"passed by the service manager, but no service listens "
	    "there\"\n");

	ls[1].fd = 3;
	cap_start();
	n[0] = sdlisten_unmatched(&p, ls, 2, false);
	cap_stop(out, sizeof(out));
	assert_int_equal(n[0], 1);
	assert_string_equal(out,
	    "action=warn fd=4 name=dns proto=udp address=127.0.0.1 port=53 "
	    "msg=\"passed by the service manager, no service of this "
	    "generation uses it; kept open\"\n");

	/* Every one is used; no listener at all; nothing passed. */
	ls[2].fd = 4;
	cap_start();
	n[0] = sdlisten_unmatched(&p, ls, 3, true);
	p.n = 1;
	n[1] = sdlisten_unmatched(&p, ls, 0, false);
	n[2] = sdlisten_unmatched(NULL, ls, 2, true);
	p.n = 0;
	n[3] = sdlisten_unmatched(&p, NULL, 0, true);
	cap_stop(out, sizeof(out));
	assert_int_equal(n[0], 0);
	assert_int_equal(n[1], 1);
	assert_int_equal(n[2], 0);
	assert_int_equal(n[3], 0);
	assert_string_equal(out, "action=warn fd=3 name=web proto=tcp "
	    "address=127.0.0.1 port=80 msg=\"passed by the service manager, "
	    "no service of this generation uses it; kept open\"\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sdlisten_count_unset),
		cmocka_unit_test(test_sdlisten_count_other_pid),
		cmocka_unit_test(test_sdlisten_count_own),
		cmocka_unit_test(test_sdlisten_count_bad_pid),
		cmocka_unit_test(test_sdlisten_count_bad_fds),
		cmocka_unit_test_teardown(test_sdlisten_take_sockets,
		    teardown),
		cmocka_unit_test_teardown(test_sdlisten_take_v6_specific,
		    teardown),
		cmocka_unit_test_teardown(test_sdlisten_take_names, teardown),
		cmocka_unit_test_teardown(test_sdlisten_take_pipe, teardown),
		cmocka_unit_test_teardown(test_sdlisten_take_accepted,
		    teardown),
		cmocka_unit_test_teardown(test_sdlisten_take_closed, teardown),
		cmocka_unit_test_teardown(test_sdlisten_take_bad_env,
		    teardown),
		cmocka_unit_test_teardown(test_sdlisten_take_other_pid,
		    teardown),
		cmocka_unit_test_teardown(test_sdlisten_take_none, teardown),
		cmocka_unit_test(test_sdlisten_match_proto),
		cmocka_unit_test(test_sdlisten_match_address),
		cmocka_unit_test(test_sdlisten_match_v6only),
		cmocka_unit_test(test_sdlisten_match_unix),
		cmocka_unit_test(test_sdlisten_match_empty),
		cmocka_unit_test(test_sdlisten_describe),
		cmocka_unit_test(test_sdlisten_unmatched),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
