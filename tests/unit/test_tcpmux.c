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
 * Unit tests of tcpmux.c's pure helpers, against DESIGN.md ("Builtins",
 * RFC 1078): the name line ends at its first LF, nothing after it is
 * part of the name, the CR before the LF is optional, and names are
 * compared case-insensitively against the services with tcpmux = true
 * only.  The socket half is exercised by the integration tests.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine.h"
#include "portmuxd.h"
#include "enginefix.h"

#define WAIT_MS	3000		/* the longest one wait of a test */

/* tcpmux_line_end() on a string literal, without its NUL. */
static long
line_end(const char *s)
{
	return tcpmux_line_end(s, strlen(s));
}

static void
test_tcpmux_line_end_found(void **state)
{
	(void)state;
	assert_int_equal(line_end("echo\n"), 4);
	assert_int_equal(line_end("echo\r\n"), 5);
	assert_int_equal(line_end("\n"), 0);
	assert_int_equal(line_end("\r\n"), 1);
	/* The first LF ends the line: what follows is the service's. */
	assert_int_equal(line_end("echo\nGET / HTTP/1.0\r\n"), 4);
	assert_int_equal(line_end("a\nb\n"), 1);
}

static void
test_tcpmux_line_end_not_yet(void **state)
{
	(void)state;
	assert_int_equal(tcpmux_line_end("", 0), -1);
	assert_int_equal(line_end("echo"), -1);
	assert_int_equal(line_end("echo\r"), -1);
	/* A LF past len is not seen. */
	assert_int_equal(tcpmux_line_end("echo\n", 4), -1);
	assert_int_equal(tcpmux_line_end("echo\n", 5), 4);
}

/* Binary input: a NUL does not end the search, a LF after it is found. */
static void
test_tcpmux_line_end_binary(void **state)
{
	static const char	 buf[] = { 'a', '\0', 'b', '\r', '\n', 'c' };
	static const char	 nolf[] = { '\0', '\0', '\xff', '\r' };

	(void)state;
	assert_int_equal(tcpmux_line_end(buf, sizeof(buf)), 4);
	assert_int_equal(tcpmux_line_end(nolf, sizeof(nolf)), -1);
}

/* trim on a copy of s, with room for the NUL; returns the new length. */
static size_t
trim(char *buf, size_t size, const char *s)
{
	size_t	 len = strlen(s);

	assert_true(len < size);
	memset(buf, 'X', size);
	memcpy(buf, s, len);
	return tcpmux_trim(buf, len);
}

static void
test_tcpmux_trim(void **state)
{
	char	 buf[64];

	(void)state;
	assert_int_equal(trim(buf, sizeof(buf), "echo\r\n"), 4);
	assert_string_equal(buf, "echo");
	assert_int_equal(trim(buf, sizeof(buf), "echo\n"), 4);
	assert_string_equal(buf, "echo");
	assert_int_equal(trim(buf, sizeof(buf), "HELP\r\n"), 4);
	assert_string_equal(buf, "HELP");
	/* An empty name, with and without CR. */
	assert_int_equal(trim(buf, sizeof(buf), "\r\n"), 0);
	assert_string_equal(buf, "");
	assert_int_equal(trim(buf, sizeof(buf), "\n"), 0);
	assert_string_equal(buf, "");
}

/* Only the one optional CR goes; anything else stays in the name. */
static void
test_tcpmux_trim_only_crlf(void **state)
{
	char	 buf[64];

	(void)state;
	assert_int_equal(trim(buf, sizeof(buf), "echo\r\r\n"), 5);
	assert_string_equal(buf, "echo\r");
	assert_int_equal(trim(buf, sizeof(buf), "echo\n\n"), 5);
	assert_string_equal(buf, "echo\n");
	assert_int_equal(trim(buf, sizeof(buf), "my service\r\n"), 10);
	assert_string_equal(buf, "my service");
}

/* A line without its LF (cut at tcpmux_maxlen) keeps its bytes. */
static void
test_tcpmux_trim_no_lf(void **state)
{
	char	 buf[64];

	(void)state;
	assert_int_equal(trim(buf, sizeof(buf), "echo"), 4);
	assert_string_equal(buf, "echo");
	assert_int_equal(trim(buf, sizeof(buf), ""), 0);
	assert_string_equal(buf, "");
}

/* The NUL replaces the CR; nothing past the line is touched. */
static void
test_tcpmux_trim_bounds(void **state)
{
	char	 buf[8];

	(void)state;
	memset(buf, 'X', sizeof(buf));
	memcpy(buf, "ab\r\n", 4);
	assert_int_equal(tcpmux_trim(buf, 4), 2);
	assert_memory_equal(buf, "ab\0\nXXXX", 8);
}

static char	*no_strings[] = { NULL };

#define NSVC	6

struct fixture {
	struct conf	 conf;
	struct service	 svc[NSVC];
};

/*
 * A configuration built by hand, as conf.c leaves it (disabled services
 * already dropped): only some services are reachable through tcpmux.
 */
static void
fx_init(struct fixture *fx)
{
	static const struct {
		const char	*name;
		bool		 tcpmux;
		enum builtin	 builtin;
	} def[NSVC] = {
		{ "tcpmux", false, BUILTIN_TCPMUX },
		{ "echo", true, BUILTIN_ECHO },
		{ "Shell", true, BUILTIN_NONE },
		{ "secret", false, BUILTIN_NONE },
		{ "daytime", true, BUILTIN_DAYTIME },
		{ "chargen", false, BUILTIN_CHARGEN },
	};
	size_t	 i;

	memset(fx, 0, sizeof(*fx));
	fx->conf.services = fx->svc;
	fx->conf.nservices = NSVC;
	for (i = 0; i < NSVC; i++) {
		fx->svc[i].name = (char *)def[i].name;
		fx->svc[i].proto = PROTO_TCP;
		fx->svc[i].tcpmux = def[i].tcpmux;
		fx->svc[i].builtin = def[i].builtin;
		fx->svc[i].args = no_strings;
		fx->svc[i].env = no_strings;
		fx->svc[i].passenv = no_strings;
	}
}

static void
test_tcpmux_lookup_found(void **state)
{
	struct fixture	 fx;

	(void)state;
	fx_init(&fx);
	assert_int_equal(tcpmux_lookup(&fx.conf, "echo"), 1);
	assert_int_equal(tcpmux_lookup(&fx.conf, "Shell"), 2);
	assert_int_equal(tcpmux_lookup(&fx.conf, "daytime"), 4);
}

static void
test_tcpmux_lookup_case_insensitive(void **state)
{
	struct fixture	 fx;

	(void)state;
	fx_init(&fx);
	assert_int_equal(tcpmux_lookup(&fx.conf, "ECHO"), 1);
	assert_int_equal(tcpmux_lookup(&fx.conf, "eChO"), 1);
	assert_int_equal(tcpmux_lookup(&fx.conf, "shell"), 2);
	assert_int_equal(tcpmux_lookup(&fx.conf, "SHELL"), 2);
	assert_int_equal(tcpmux_lookup(&fx.conf, "DayTime"), 4);
}

/* tcpmux = false hides a service, whatever its name or kind. */
static void
test_tcpmux_lookup_only_tcpmux_services(void **state)
{
	struct fixture	 fx;

	(void)state;
	fx_init(&fx);
	assert_int_equal(tcpmux_lookup(&fx.conf, "secret"), -1);
	assert_int_equal(tcpmux_lookup(&fx.conf, "SECRET"), -1);
	assert_int_equal(tcpmux_lookup(&fx.conf, "chargen"), -1);
	/* Not itself either, unless asked for. */
	assert_int_equal(tcpmux_lookup(&fx.conf, "tcpmux"), -1);
	/* Turning the flag on makes it reachable. */
	fx.svc[3].tcpmux = true;
	assert_int_equal(tcpmux_lookup(&fx.conf, "Secret"), 3);
	fx.svc[1].tcpmux = false;
	assert_int_equal(tcpmux_lookup(&fx.conf, "echo"), -1);
}

/* Whole names only: no prefixes, no trailing bytes, nothing empty. */
static void
test_tcpmux_lookup_exact(void **state)
{
	struct fixture	 fx;

	(void)state;
	fx_init(&fx);
	assert_int_equal(tcpmux_lookup(&fx.conf, ""), -1);
	assert_int_equal(tcpmux_lookup(&fx.conf, "ech"), -1);
	assert_int_equal(tcpmux_lookup(&fx.conf, "echo2"), -1);
	assert_int_equal(tcpmux_lookup(&fx.conf, "echo "), -1);
	assert_int_equal(tcpmux_lookup(&fx.conf, " echo"), -1);
	assert_int_equal(tcpmux_lookup(&fx.conf, "echo\r"), -1);
	assert_int_equal(tcpmux_lookup(&fx.conf, "nosuch"), -1);
	/* HELP is answered by tcpmux itself, not looked up. */
	assert_int_equal(tcpmux_lookup(&fx.conf, "HELP"), -1);
}

/* A name read from the wire, trimmed, finds its service. */
static void
test_tcpmux_line_to_service(void **state)
{
	struct fixture	 fx;
	char		 line[] = "ECHO\r\nhello";
	long		 end;

	(void)state;
	fx_init(&fx);
	end = tcpmux_line_end(line, strlen(line));
	assert_int_equal(end, 4 + 1);
	assert_int_equal(tcpmux_trim(line, (size_t)end + 1), 4);
	assert_int_equal(tcpmux_lookup(&fx.conf, line), 1);
}

static void
test_tcpmux_lookup_empty_conf(void **state)
{
	struct conf	 conf;

	(void)state;
	memset(&conf, 0, sizeof(conf));
	assert_int_equal(tcpmux_lookup(&conf, "echo"), -1);
	assert_int_equal(tcpmux_lookup(&conf, ""), -1);
}

/* A NUL anywhere in the trimmed name makes it no name at all. */
static void
test_tcpmux_name_ok(void **state)
{
	(void)state;
	assert_true(tcpmux_name_ok("hello", 5));
	assert_true(tcpmux_name_ok("", 0));
	assert_false(tcpmux_name_ok("hello\0junk", 10));
	assert_false(tcpmux_name_ok("\0hello", 6));
	assert_false(tcpmux_name_ok("hello\0", 6));
	assert_false(tcpmux_name_ok("HELP\0", 5));
}

#define MUX_SVCS \
	"service tcpmux {\n\tport = 10001\n\taddress = {127.0.0.1}\n" \
	"\tbuiltin = tcpmux\n}\n" \
	"service hello {\n\tport = 10007\n\taddress = {127.0.0.1}\n" \
	"\tbuiltin = echo\n\ttcpmux = true\n}\n"

/*
 * A client of the tcpmux service (index 0) in an engine of the test's
 * own: it connects to lfd, the socket accepted there is admitted and
 * served as engine_serve() would, and the client sends line.
 */
static int
mux_client(struct enginefix *f, int lfd, const struct sockaddr_in *lsin,
    const char *line, size_t len, uint64_t *id)
{
	struct engine		*e = &f->e;
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	struct srcent		*se;
	int			 cli, fd;

	cli = ef_tcp_connect(lsin);
	fd = ef_accept(f, lfd, WAIT_MS);
	assert_true(fd != -1);
	assert_int_equal(getpeername(fd, (struct sockaddr *)&ss, &sl), 0);
	assert_int_equal(guard_admit(e, 0, (struct sockaddr *)&ss, fd, &se),
	    0);
	*id = engine_next_id(e);
	engine_serve_admitted(e, 0, fd, *id, "127.0.0.1", se, NULL, NULL);
	assert_int_equal(send(cli, line, len, MSG_NOSIGNAL), (ssize_t)len);
	return cli;
}

/* What cli gets within WAIT_MS, up to want bytes or EOF. */
static size_t
mux_read(struct enginefix *f, int cli, char *buf, size_t size, size_t want)
{
	uint64_t	 end = ef_now() + WAIT_MS;
	size_t		 got = 0;
	ssize_t		 r;

	while (ef_now() < end && got < want && got < size) {
		ef_step(f);
		r = recv(cli, buf + got, size - got, MSG_DONTWAIT);
		if (r == 0)
			break;
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
 * "hello\0junk\r\n" does not reach service hello: the NUL would cut the
 * name short.  The client gets RFC 1078's negative reply and the log a
 * refusal with its reason; "hello\r\n" still gets "+Go".
 */
static void
test_tcpmux_nul_in_name(void **state)
{
	static const char	 bad[] = "hello\0junk\r\n";
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin;
	char			 buf[128], conn[32], *l;
	uint64_t		 id, end;
	size_t			 got;
	int			 lfd, cli;

	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, MUX_SVCS);
	cli = mux_client(f, lfd, &lsin, bad, sizeof(bad) - 1, &id);
	got = mux_read(f, cli, buf, sizeof(buf), sizeof(buf));
	buf[got < sizeof(buf) ? got : sizeof(buf) - 1] = '\0';
	if (strncmp(buf, "-", 1) != 0)
		fail_msg("a name with a NUL got '%s', expected a '-' reply",
		    buf);
	(void)snprintf(conn, sizeof(conn), "conn=%llu ",
	    (unsigned long long)id);
	l = ef_expect(f, conn, "action=refuse", WAIT_MS);
	assert_non_null(strstr(l, " reason=notfound"));
	assert_non_null(strstr(l, "name=\"hello\\x00junk\""));
	assert_null(ef_line(f, conn, "via=tcpmux"));
	free(l);
	(void)close(cli);

	cli = mux_client(f, lfd, &lsin, "hello\r\n", 7, &id);
	got = mux_read(f, cli, buf, sizeof(buf), 5);
	assert_int_equal(got, 5);
	assert_memory_equal(buf, "+Go\r\n", 5);
	(void)close(cli);
	end = ef_now() + WAIT_MS;
	while (f->e.nconns > 0 && ef_now() < end)
		ef_step(f);
	assert_int_equal(f->e.nconns, 0);
	(void)close(lfd);
	ef_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcpmux_line_end_found),
		cmocka_unit_test(test_tcpmux_line_end_not_yet),
		cmocka_unit_test(test_tcpmux_line_end_binary),
		cmocka_unit_test(test_tcpmux_trim),
		cmocka_unit_test(test_tcpmux_trim_only_crlf),
		cmocka_unit_test(test_tcpmux_trim_no_lf),
		cmocka_unit_test(test_tcpmux_trim_bounds),
		cmocka_unit_test(test_tcpmux_lookup_found),
		cmocka_unit_test(test_tcpmux_lookup_case_insensitive),
		cmocka_unit_test(test_tcpmux_lookup_only_tcpmux_services),
		cmocka_unit_test(test_tcpmux_lookup_exact),
		cmocka_unit_test(test_tcpmux_line_to_service),
		cmocka_unit_test(test_tcpmux_lookup_empty_conf),
		cmocka_unit_test(test_tcpmux_name_ok),
		cmocka_unit_test_setup_teardown(test_tcpmux_nul_in_name,
		    ef_setup, ef_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
