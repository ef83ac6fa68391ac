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
 * Unit tests of log.c: log_quote() (the only thing between network bytes
 * and the log), the "conn=ID service=NAME " prefix of log_conn(), level
 * filtering, log_warn()'s error= suffix and errno preservation.  Lines
 * logged to stderr are captured by putting a pipe on fd 2 around each
 * call; fd 2 is restored before any assertion, so cmocka's own messages
 * still reach the terminal.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

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
#include <sysexits.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

#define CAPMAX	16384

static int	 saved_stderr = -1;
static int	 cap_rd = -1;

/* Put a pipe on fd 2; the pipe is big enough for any one log line. */
static void
cap_start(void)
{
	int	 p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_not_equal(fcntl(p[1], F_SETPIPE_SZ, 65536), -1);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(saved_stderr != -1);
	assert_int_equal(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	close(p[1]);
	cap_rd = p[0];
}

/* Restore fd 2 and return what was written to it, NUL-terminated. */
static size_t
cap_stop(char *buf, size_t size)
{
	size_t	 o = 0;
	ssize_t	 n;

	(void)dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	for (;;) {
		n = read(cap_rd, buf + o, size - 1 - o);
		if (n <= 0)
			break;
		o += (size_t)n;
	}
	close(cap_rd);
	cap_rd = -1;
	buf[o] = '\0';
	return o;
}

static int
setup(void **state)
{
	(void)state;
	log_init(1, LOG_INFO, LOG_DAEMON);
	return 0;
}

/* Quote src into a roomy buffer and compare with the expected text. */
static void
quote_is(const void *src, size_t len, const char *want)
{
	char	 buf[256];
	size_t	 n;

	memset(buf, 'X', sizeof(buf));
	n = log_quote(buf, sizeof(buf), src, len);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void
test_log_quote_plain(void **state)
{
	(void)state;
	quote_is("echo", 4, "\"echo\"");
	quote_is("", 0, "\"\"");
	quote_is("a b~", 4, "\"a b~\"");
	/* len, not the NUL, ends the input. */
	quote_is("abcdef", 3, "\"abc\"");
}

static void
test_log_quote_escapes(void **state)
{
	(void)state;
	quote_is("\"", 1, "\"\\\"\"");
	quote_is("\\", 1, "\"\\\\\"");
	quote_is("a\nb", 3, "\"a\\nb\"");
	quote_is("\r\n", 2, "\"\\r\\n\"");
	quote_is("\t", 1, "\"\\t\"");
	quote_is("say \"hi\\\"", 9, "\"say \\\"hi\\\\\\\"\"");
}

static void
test_log_quote_nonprintable(void **state)
{
	const unsigned char	 nul[] = { 'a', 0x00, 'b' };
	const unsigned char	 hi[] = { 0x7f, 0x80, 0xff, 0x1b, 0x01 };
	char			 buf[64];
	size_t			 n;

	(void)state;
	quote_is(nul, sizeof(nul), "\"a\\x00b\"");
	n = log_quote(buf, sizeof(buf), hi, sizeof(hi));
	assert_int_equal(n, 2 + 5 * 4);
	assert_int_equal(strcasecmp(buf, "\"\\x7f\\x80\\xff\\x1b\\x01\""), 0);
}

/* Every byte value comes out printable, so nothing can forge a line. */
static void
test_log_quote_all_bytes(void **state)
{
	unsigned char	 src[256];
	char		 buf[2048];
	size_t		 i, n;

	(void)state;
	for (i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)i;
	n = log_quote(buf, sizeof(buf), src, sizeof(src));
	assert_int_equal(n, strlen(buf));
	assert_int_equal(buf[0], '"');
	assert_int_equal(buf[n - 1], '"');
	for (i = 0; i < n; i++)
		assert_true(buf[i] >= 0x20 && buf[i] < 0x7f);
}

/* The escape units of "a\"\x01b\n", in order, for the truncation test. */
static const char *const units[] = { "a", "\\\"", "\\x01", "b", "\\n" };

/*
 * At every buffer size the output is terminated, fits, returns its
 * length, is closed by a quote and holds a whole number of escape units:
 * a truncated escape (a lone backslash) could join the closing quote.
 */
static void
test_log_quote_truncate_boundary(void **state)
{
	const char	 src[] = "a\"\001b\n";
	char		 buf[64], want[64];
	size_t		 size, n, u, o;

	(void)state;
	for (size = 3; size < 20; size++) {
		memset(buf, 'X', sizeof(buf));
		n = log_quote(buf, size, src, sizeof(src) - 1);
		assert_true(n < size);
		assert_int_equal(buf[n], '\0');
		assert_int_equal(strlen(buf), n);
		assert_int_equal(buf[size], 'X');
		/* The longest run of whole units that fits with 2 quotes. */
		o = 0;
		want[o++] = '"';
		for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
			if (o + strlen(units[u]) + 2 > size)
				break;
			memcpy(want + o, units[u], strlen(units[u]));
			o += strlen(units[u]);
		}
		want[o++] = '"';
		want[o] = '\0';
		assert_string_equal(buf, want);
	}
	/* Exactly enough room for everything, then one byte short. */
	n = log_quote(buf, 13, src, sizeof(src) - 1);
	assert_string_equal(buf, "\"a\\\"\\x01b\\n\"");
	assert_int_equal(n, 12);
	n = log_quote(buf, 12, src, sizeof(src) - 1);
	assert_string_equal(buf, "\"a\\\"\\x01b\"");
	assert_int_equal(n, 10);
}

static void
test_log_quote_tiny_buffers(void **state)
{
	char	 buf[4];
	size_t	 n;

	(void)state;
	memcpy(buf, "XXX", 4);
	assert_int_equal(log_quote(buf, 0, "abc", 3), 0);
	assert_int_equal(buf[0], 'X');
	assert_int_equal(log_quote(buf, 1, "abc", 3), 0);
	assert_int_equal(buf[0], '\0');
	memcpy(buf, "XXX", 4);
	assert_int_equal(log_quote(buf, 2, "abc", 3), 0);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'X');
	/* Room for the quotes only. */
	n = log_quote(buf, 3, "abc", 3);
	assert_int_equal(n, 2);
	assert_string_equal(buf, "\"\"");
	n = log_quote(buf, 4, "abc", 3);
	assert_int_equal(n, 3);
	assert_string_equal(buf, "\"a\"");
}

static void
test_log_conn_prefix(void **state)
{
	char	 out[CAPMAX];

	(void)state;
	cap_start();
	log_conn(LOG_INFO, 42, "echo", "action=accept proto=%s peer=%s",
	    "tcp", "192.0.2.7:53422");
	cap_stop(out, sizeof(out));
	assert_string_equal(out, "conn=42 service=echo action=accept "
	    "proto=tcp peer=192.0.2.7:53422\n");

	cap_start();
	log_conn(LOG_WARNING, UINT64_MAX, "shell", "action=exit pid=%d", 7);
	cap_stop(out, sizeof(out));
	assert_string_equal(out, "conn=18446744073709551615 service=shell "
	    "action=exit pid=7\n");
}

/* Events without a connection carry no conn= at all. */
static void
test_log_conn_no_id(void **state)
{
	char	 out[CAPMAX];

	(void)state;
	cap_start();
	log_conn(LOG_INFO, 0, "shell", "action=refuse peer=%s reason=rate "
	    "repeat=%d", "198.51.100.9", 412);
	cap_stop(out, sizeof(out));
	assert_string_equal(out, "service=shell action=refuse "
	    "peer=198.51.100.9 reason=rate repeat=412\n");
}

static void
test_log_level_filter(void **state)
{
	char	 out[CAPMAX];

	(void)state;
	log_setlevel(LOG_WARNING);
	assert_int_equal(log_getlevel(), LOG_WARNING);
	cap_start();
	log_info("action=start");
	log_debug("action=debug");
	log_conn(LOG_INFO, 1, "echo", "action=accept");
	logit(LOG_NOTICE, "action=notice");
	log_warnx("action=warn msg=one");
	log_conn(LOG_ERR, 2, "echo", "action=close");
	cap_stop(out, sizeof(out));
	assert_string_equal(out, "action=warn msg=one\n"
	    "conn=2 service=echo action=close\n");

	log_setlevel(LOG_DEBUG);
	cap_start();
	log_debug("action=debug n=%d", 3);
	log_conn(LOG_DEBUG, 5, "time", "action=reply");
	cap_stop(out, sizeof(out));
	assert_string_equal(out, "action=debug n=3\n"
	    "conn=5 service=time action=reply\n");

	log_init(1, LOG_ERR, LOG_DAEMON);
	assert_int_equal(log_getlevel(), LOG_ERR);
	cap_start();
	log_warnx("action=warn");
	cap_stop(out, sizeof(out));
	assert_string_equal(out, "");
	log_setlevel(LOG_INFO);
}

static void
test_log_warn_strerror(void **state)
{
	char	 out[CAPMAX], want[256];

	(void)state;
	(void)snprintf(want, sizeof(want), "action=warn service=echo "
	    "msg=\"cannot bind\" error=\"%s\"\n", strerror(EADDRINUSE));
	cap_start();
	errno = EADDRINUSE;
	log_warn("action=warn service=%s msg=\"cannot bind\"", "echo");
	cap_stop(out, sizeof(out));
	assert_string_equal(out, want);

	/* log_warnx adds nothing. */
	cap_start();
	errno = ENOENT;
	log_warnx("action=warn msg=%s", "x");
	cap_stop(out, sizeof(out));
	assert_string_equal(out, "action=warn msg=x\n");
}

/* Every log function leaves errno as it found it, filtered or not. */
static void
test_log_errno_preserved(void **state)
{
	char	 out[CAPMAX];

	(void)state;
	cap_start();
	errno = EACCES;
	log_info("a");
	assert_int_equal(errno, EACCES);
	errno = EMFILE;
	log_warn("b");
	assert_int_equal(errno, EMFILE);
	errno = EINTR;
	log_warnx("c");
	assert_int_equal(errno, EINTR);
	errno = ENOSPC;
	log_debug("filtered");
	assert_int_equal(errno, ENOSPC);
	errno = EPIPE;
	log_conn(LOG_INFO, 9, "echo", "d");
	assert_int_equal(errno, EPIPE);
	cap_stop(out, sizeof(out));
	assert_int_not_equal(strlen(out), 0);
}

/*
 * A line longer than the buffer is cut, not split: still one line, with
 * a single newline, at the end.
 */
static void
test_log_long_line_one_write(void **state)
{
	char	*big, out[CAPMAX];
	size_t	 n;

	(void)state;
	big = malloc(10000);
	assert_non_null(big);
	memset(big, 'a', 9999);
	big[9999] = '\0';
	cap_start();
	log_info("msg=%s", big);
	n = cap_stop(out, sizeof(out));
	free(big);
	assert_true(n > 4096);
	assert_true(n < 10000);
	assert_int_equal(out[n - 1], '\n');
	assert_ptr_equal(strchr(out, '\n'), out + n - 1);
	assert_memory_equal(out, "msg=aaaa", 8);
}

/* fatalx() logs one action=fatal line and exits 70 (EX_SOFTWARE). */
static void
test_log_fatalx_exit(void **state)
{
	char	 out[CAPMAX];
	pid_t	 pid;
	int	 status;

	(void)state;
	cap_start();
	pid = fork();
	if (pid == 0)
		fatalx("engine: bad %s", "message");
	status = -1;
	if (pid > 0)
		(void)waitpid(pid, &status, 0);
	cap_stop(out, sizeof(out));
	assert_true(pid > 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), EX_OSERR);
	assert_string_equal(out,
	    "action=fatal msg=\"engine: bad message\"\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_quote_plain),
		cmocka_unit_test(test_log_quote_escapes),
		cmocka_unit_test(test_log_quote_nonprintable),
		cmocka_unit_test(test_log_quote_all_bytes),
		cmocka_unit_test(test_log_quote_truncate_boundary),
		cmocka_unit_test(test_log_quote_tiny_buffers),
		cmocka_unit_test(test_log_conn_prefix),
		cmocka_unit_test(test_log_conn_no_id),
		cmocka_unit_test(test_log_level_filter),
		cmocka_unit_test(test_log_warn_strerror),
		cmocka_unit_test(test_log_errno_preserved),
		cmocka_unit_test(test_log_long_line_one_write),
		cmocka_unit_test(test_log_fatalx_exit),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
