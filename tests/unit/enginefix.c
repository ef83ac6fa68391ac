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
 * An engine in the test's own process (enginefix.h).  The setup follows
 * engine_main() step by step, leaving out what needs the monitor: the
 * privilege drop, the signals, the channel (chan is -1, so a ban, which
 * tells the monitor, would be fatal: no test here may earn one) and the
 * listeners, which each test opens and watches itself.  The log goes to
 * stderr (log_init(1, ...)), one write(2) per line since no batch is set
 * up, and stderr is a temporary file from the fixture's setup to its
 * teardown.  cmocka's own messages land there too, so a failed test gets
 * the whole file, its log and the failure in order, on the real stderr.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>

#include "engine.h"
#include "log.h"
#include "portmuxd.h"
#include "enginefix.h"

#define SRC_SLOTS	256	/* the source table: a few clients at most */
#define TICK_US		1000	/* the longest one pass of the loop waits */

static void	 tick_cb(evutil_socket_t, short, void *);
static void	 engine_clear(struct enginefix *);

static void
tick_cb(evutil_socket_t fd __unused, short ev __unused, void *arg __unused)
{
}

int
ef_setup(void **state)
{
	struct enginefix	*f;
	struct sigaction	 sa;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	/* As engine_signals(): a write to a closed peer is an EPIPE. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	log_init(1, LOG_DEBUG, LOG_DAEMON);
	fflush(stderr);
	if ((f->cap = tmpfile()) == NULL ||
	    (f->saved = dup(STDERR_FILENO)) == -1 ||
	    dup2(fileno(f->cap), STDERR_FILENO) == -1) {
		free(f);
		return -1;
	}
	f->nfds = ef_fds_open();
	*state = f;
	return 0;
}

int
ef_teardown(void **state)
{
	struct enginefix	*f = *state;
	const char		*log;

	if (f->started)
		engine_clear(f);
	fflush(stderr);
	log = ef_log(f);
	(void)dup2(f->saved, STDERR_FILENO);
	(void)close(f->saved);
	/* A failed test shows what the engine said, and where it failed. */
	if (!f->passed)
		fprintf(stderr, "--- stderr of the failed test ---\n%s"
		    "--- end ---\n", log);
	(void)fclose(f->cap);
	free(f->log);
	free(f);
	return 0;
}

/* Load text as t.conf and build the engine over it, as engine_main(). */
void
ef_start(struct enginefix *f, const char *fmt, ...)
{
	struct engine		*e = &f->e;
	struct engine_init	 ei;
	struct timeval		 tv = { 0, TICK_US };
	char			 text[8192];
	va_list			 ap;
	size_t			 i;
	int			 n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	memset(e, 0, sizeof(*e));
	/* CONF_CHECK_ONLY: the same load whoever runs the test. */
	e->conf = conf_load_buf(text, "t.conf", CONF_AS_USER |
	    CONF_CHECK_ONLY);
	if (e->conf == NULL) {
		print_error("config did not load:\n%s", text);
		fail();
	}
	f->started = true;
	e->generation = 1;
	e->chan = -1;
	e->conn_ids = &f->ids;
	e->sniff_fd = -1;
	msgq_init(&e->q);
	TAILQ_INIT(&e->conns);
	TAILQ_INIT(&e->tmuxes);
	TAILQ_INIT(&e->pxins);
	TAILQ_INIT(&e->relays);
	TAILQ_INIT(&e->children);
	assert_non_null(e->active = calloc(e->conf->nservices + 1,
	    sizeof(*e->active)));
	assert_non_null(e->base = event_base_new());
	assert_int_equal(srctab_init(&e->src, SRC_SLOTS, false), 0);
	assert_int_equal(ban_init(&e->bans, e->conf->ban_max,
	    ((uint64_t)arc4random() << 32) | arc4random()), 0);
	assert_non_null(e->svc_hash = calloc(e->conf->nservices + 1,
	    sizeof(*e->svc_hash)));
	for (i = 0; i < e->conf->nservices; i++)
		e->svc_hash[i] = limit_svc_hash(e->conf->services[i].name);
	localsrc_init(&e->loopsrc, e->conf);
	assert_int_equal(guard_init(e, false), 0);
	memset(&ei, 0, sizeof(ei));
	ei.conf = e->conf;
	ei.sniff_fd = -1;
	assert_int_equal(gk_init(e, &ei), 0);
	assert_int_equal(udprelay_init(e), 0);
	assert_non_null(f->tick = event_new(e->base, -1, EV_PERSIST, tick_cb,
	    NULL));
	assert_int_equal(event_add(f->tick, &tv), 0);
}

/* Undo ef_start(), in the order engine_main() ends. */
static void
engine_clear(struct enginefix *f)
{
	struct engine	*e = &f->e;

	f->started = false;
	relay_stop_all(e);
	gk_free(e);
	relay_pool_free(e);
	udprelay_free(e);
	localsrc_free(&e->loopsrc);
	if (e->sweep_ev != NULL)
		event_free(e->sweep_ev);
	free(e->pending);
	if (f->tick != NULL)
		event_free(f->tick);
	f->tick = NULL;
	ban_clear(&e->bans);
	srctab_clear(&e->src);
	free(e->svc_hash);
	free(e->active);
	msgq_clear(&e->q);
	event_base_free(e->base);
	conf_free(e->conf);
	memset(e, 0, sizeof(*e));
}

/*
 * The end of a test that passed: free the engine, which must leave no
 * fd open (the test has closed its own), and keep the log quiet.
 */
void
ef_stop(struct enginefix *f)
{
	if (f->started)
		engine_clear(f);
	if (ef_fds_open() != f->nfds) {
		print_error("%zu fds open, %zu at the start\n", ef_fds_open(),
		    f->nfds);
		fail();
	}
	f->passed = true;
}

/* One pass of the loop: what is ready runs; waits 1 ms at most. */
void
ef_step(struct enginefix *f)
{
	assert_int_not_equal(event_base_loop(f->e.base, EVLOOP_ONCE), -1);
}

uint64_t
ef_now(void)
{
	return mono_ms();
}

/* Everything logged so far. */
const char *
ef_log(struct enginefix *f)
{
	off_t	 size;
	int	 fd = fileno(f->cap);

	size = lseek(fd, 0, SEEK_END);
	assert_true(size >= 0);
	free(f->log);
	assert_non_null(f->log = calloc(1, (size_t)size + 1));
	assert_true(pread(fd, f->log, (size_t)size, 0) == size);
	return f->log;
}

/*
 * The nth line (from 0) that holds a and b (NULL: anything), into
 * *len; NULL if there is none.
 */
static const char *
nth_line(const char *log, const char *a, const char *b, size_t nth,
    size_t *len)
{
	const char	*p = log, *nl;
	size_t		 n;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (memmem(p, n, a, strlen(a)) != NULL && (b == NULL ||
		    memmem(p, n, b, strlen(b)) != NULL) && nth-- == 0) {
			*len = n;
			return p;
		}
		p += n + (nl != NULL);
	}
	return NULL;
}

/* The first line that holds a and b (b NULL: a alone), or NULL. */
char *
ef_line(struct enginefix *f, const char *a, const char *b)
{
	const char	*p;
	size_t		 len;

	if ((p = nth_line(ef_log(f), a, b, 0, &len)) == NULL)
		return NULL;
	return strndup(p, len);
}

size_t
ef_count(struct enginefix *f, const char *a, const char *b)
{
	const char	*log = ef_log(f);
	size_t		 n, len;

	for (n = 0; nth_line(log, a, b, n, &len) != NULL; n++)
		;
	return n;
}

/* Run the loop until such a line is logged, for ms at most. */
char *
ef_wait_line(struct enginefix *f, const char *a, const char *b,
    unsigned int ms)
{
	uint64_t	 end = ef_now() + ms;
	char		*l;

	while ((l = ef_line(f, a, b)) == NULL && ef_now() < end)
		ef_step(f);
	return l;
}

char *
ef_expect_at(struct enginefix *f, const char *a, const char *b,
    unsigned int ms, const char *file, int line)
{
	char	*l;

	if ((l = ef_wait_line(f, a, b, ms)) == NULL) {
		print_error("no line with \"%s\"%s%s%s within %u ms\n", a,
		    b != NULL ? " and \"" : "", b != NULL ? b : "",
		    b != NULL ? "\"" : "", ms);
		_fail(file, line);
	}
	return l;
}

/*
 * The number after "key=" at the start of line or after a space;
 * UINT64_MAX if there is none.
 */
uint64_t
ef_num(const char *line, const char *key)
{
	char		 k[64];
	const char	*p;
	char		*end;
	uint64_t	 v;

	(void)snprintf(k, sizeof(k), " %s=", key);
	if (strncmp(line, k + 1, strlen(k + 1)) == 0)
		p = line + strlen(k + 1);
	else if ((p = strstr(line, k)) != NULL)
		p += strlen(k);
	else
		return UINT64_MAX;
	errno = 0;
	v = strtoull(p, &end, 10);
	if (end == p || errno != 0)
		return UINT64_MAX;
	return v;
}

void
ef_sin(struct sockaddr_in *sin, const char *addr, uint16_t port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
}

/* A nonblocking TCP listener on addr, port 0: *out says which port. */
int
ef_tcp_listen(const char *addr, int backlog, struct sockaddr_in *out)
{
	socklen_t	 len = sizeof(*out);
	int		 fd;

	ef_sin(out, addr, 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	assert_int_equal(bind(fd, (struct sockaddr *)out, sizeof(*out)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)out, &len), 0);
	return fd;
}

/* A nonblocking connect to sin, in progress or done. */
int
ef_tcp_connect(const struct sockaddr_in *sin)
{
	int	 fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) == -1)
		assert_int_equal(errno, EINPROGRESS);
	return fd;
}

/* accept4() on lfd while the loop runs, for ms at most: -1 if none. */
int
ef_accept(struct enginefix *f, int lfd, unsigned int ms)
{
	uint64_t	 end = ef_now() + ms;
	int		 fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd != -1)
			return fd;
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR);
		if (ef_now() >= end)
			return -1;
		if (f->started)
			ef_step(f);
	}
}

/* A nonblocking UDP socket bound to addr, port 0. */
int
ef_udp(const char *addr, struct sockaddr_in *out)
{
	socklen_t	 len = sizeof(*out);
	int		 fd;

	ef_sin(out, addr, 0);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	assert_int_equal(bind(fd, (struct sockaddr *)out, sizeof(*out)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)out, &len), 0);
	return fd;
}

/*
 * A loopback port nothing listens on: one the kernel just gave out,
 * closed again.  The ephemeral range is large, and nothing else runs
 * here that could take it back in the meantime.
 */
uint16_t
ef_closed_port(int type)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd;

	ef_sin(&sin, "127.0.0.1", 0);
	assert_true((fd = socket(AF_INET, type | SOCK_CLOEXEC, 0)) != -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	(void)close(fd);
	return ntohs(sin.sin_port);
}

/* Walk /proc/self/fd: the highest fd, how many, and the pipes. */
static int
fd_walk(size_t *nfds, size_t *npipes)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[64], target[64];
	ssize_t		 n;
	int		 fd, max = -1;

	assert_non_null(d = opendir("/proc/self/fd"));
	*nfds = *npipes = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		fd = (int)strtol(de->d_name, NULL, 10);
		if (fd == dirfd(d))
			continue;
		if (fd > max)
			max = fd;
		(*nfds)++;
		(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 5 && strncmp(target, "pipe:", 5) == 0)
			(*npipes)++;
	}
	(void)closedir(d);
	return max;
}

int
ef_fd_max(void)
{
	size_t	 n, p;

	return fd_walk(&n, &p);
}

/* Descriptors open in this process. */
size_t
ef_fds_open(void)
{
	size_t	 n, p;

	(void)fd_walk(&n, &p);
	return n;
}

/* Pipe ends open in this process. */
size_t
ef_pipes_open(void)
{
	size_t	 n, p;

	(void)fd_walk(&n, &p);
	return p;
}
