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
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <time.h>
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

/*
 * Put a regular file on fd 2 (JOURNAL_STREAM names a stream by its
 * device and inode, so the file must stay the same one): its fd.
 */
static int
fcap_start(void)
{
	char	 path[] = "/tmp/test_log.XXXXXX";
	int	 fd;

	assert_true((fd = mkostemp(path, O_CLOEXEC)) != -1);
	assert_int_equal(unlink(path), 0);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(saved_stderr != -1);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	return fd;
}

/* Restore fd 2 and return what the file holds, NUL-terminated. */
static size_t
fcap_stop(int fd, char *buf, size_t size)
{
	ssize_t	 n;

	(void)dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	n = pread(fd, buf, size - 1, 0);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return (size_t)n;
}

/* "DEV:INO" of fd, as systemd writes $JOURNAL_STREAM. */
static void
journal_value(int fd, char *buf, size_t size)
{
	struct stat	 st;

	assert_int_equal(fstat(fd, &st), 0);
	(void)snprintf(buf, size, "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
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

/* The TZ the tests started with, put back after each that sets one. */
static char	*saved_tz;

static int
setup(void **state)
{
	const char	*tz = getenv("TZ");

	(void)state;
	/* A runner's journal must not prefix the lines captured here. */
	(void)unsetenv("JOURNAL_STREAM");
	if (tz != NULL && (saved_tz = strdup(tz)) == NULL)
		return -1;
	log_init(1, LOG_INFO, LOG_DAEMON);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	free(saved_tz);
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

/*
 * The lines logged while JOURNAL_STREAM is value (NULL: as the file
 * itself says) and stderr is a file: log_init() decides, at that point,
 * whether stderr is the journal.  Afterwards the prefix is reset with
 * stderr back on the terminal or pipe it was.
 */
static void
journal_lines(const char *value, char *out, size_t size)
{
	char	 jv[64];
	int	 fd;

	fd = fcap_start();
	journal_value(fd, jv, sizeof(jv));
	(void)setenv("JOURNAL_STREAM", value != NULL ? value : jv, 1);
	log_init(1, LOG_DEBUG, LOG_DAEMON);
	log_info("action=start gen=%d", 1);
	log_warnx("action=warn msg=%s", "w");
	log_errx("action=error msg=%s", "e");
	log_debug("action=debug");
	logit(LOG_NOTICE, "action=notice");
	log_conn(LOG_INFO, 7, "echo", "action=accept proto=tcp");
	log_conn(LOG_WARNING, 0, "echo", "action=refuse reason=rate");
	errno = EADDRINUSE;
	log_warn("action=warn msg=bind");
	fcap_stop(fd, out, size);
	(void)unsetenv("JOURNAL_STREAM");
	log_init(1, LOG_INFO, LOG_DAEMON);
}

/* The lines journal_lines() logs, each after its prefix (or none). */
static void
journal_want(char *buf, size_t size, bool prefixed)
{
	(void)snprintf(buf, size,
	    "%saction=start gen=1\n"
	    "%saction=warn msg=w\n"
	    "%saction=error msg=e\n"
	    "%saction=debug\n"
	    "%saction=notice\n"
	    "%sconn=7 service=echo action=accept proto=tcp\n"
	    "%sservice=echo action=refuse reason=rate\n"
	    "%saction=warn msg=bind error=\"%s\"\n",
	    prefixed ? "<6>" : "", prefixed ? "<4>" : "",
	    prefixed ? "<3>" : "", prefixed ? "<7>" : "",
	    prefixed ? "<5>" : "", prefixed ? "<6>" : "",
	    prefixed ? "<4>" : "", prefixed ? "<4>" : "",
	    strerror(EADDRINUSE));
}

/* stderr is the journal's stream: each line starts with its priority. */
static void
test_log_journal_prefix(void **state)
{
	char	 out[CAPMAX], want[1024];

	(void)state;
	journal_lines(NULL, out, sizeof(out));
	journal_want(want, sizeof(want), true);
	assert_string_equal(out, want);

	/* Back on a stream that is not the journal: no prefix. */
	cap_start();
	log_info("action=start");
	cap_stop(out, sizeof(out));
	assert_string_equal(out, "action=start\n");
}

/*
 * stderr was redirected somewhere else than the stream the variable
 * names, or the variable is not "DEV:INO": no prefix, the line as is.
 */
static void
test_log_journal_other(void **state)
{
	char		 out[CAPMAX], want[1024], jv[80];
	const char	*bad[] = { "1:2x", "abc", "", ":", "1:", "1:2:3" };
	char		 path[] = "/tmp/test_log.XXXXXX";
	size_t		 i;
	int		 fd;

	(void)state;
	journal_want(want, sizeof(want), false);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		journal_lines(bad[i], out, sizeof(out));
		assert_string_equal(out, want);
	}
	/* Another file's device and inode. */
	assert_true((fd = mkostemp(path, O_CLOEXEC)) != -1);
	journal_value(fd, jv, sizeof(jv));
	journal_lines(jv, out, sizeof(out));
	close(fd);
	assert_int_equal(unlink(path), 0);
	assert_string_equal(out, want);
}

/* The right stream with something after it is not the right stream. */
static void
test_log_journal_trailing(void **state)
{
	char	 out[CAPMAX], jv[80];
	int	 fd;

	(void)state;
	fd = fcap_start();
	journal_value(fd, jv, sizeof(jv) - 1);
	(void)strcat(jv, "x");
	(void)setenv("JOURNAL_STREAM", jv, 1);
	log_init(1, LOG_INFO, LOG_DAEMON);
	log_info("action=start");
	fcap_stop(fd, out, sizeof(out));
	(void)unsetenv("JOURNAL_STREAM");
	log_init(1, LOG_INFO, LOG_DAEMON);
	assert_string_equal(out, "action=start\n");
}

/* Whole seconds of the clock log.c reads (time() may lag behind it). */
static time_t
real_s(void)
{
	struct timespec	 ts;

	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
	return ts.tv_sec;
}

static void
tz_set(const char *tz)
{
	if (tz != NULL)
		assert_int_equal(setenv("TZ", tz, 1), 0);
	else
		assert_int_equal(unsetenv("TZ"), 0);
	tzset();
}

/*
 * Check one line of the log file format, "STAMP HOST portmuxd[PID]:
 * MESSAGE", that STAMP shows the offset off_want and that, read with
 * it, STAMP lies between t0 and t1.
 */
static void
assert_file_line(const char *line, const char *msg, time_t t0, time_t t1,
    const char *off_want)
{
	regex_t		 re;
	regmatch_t	 m[11];
	char		 host[HOST_NAME_MAX + 1], rest[512], off[32];
	struct tm	 tm;
	time_t		 t;
	long		 f[10];
	int		 i;

	assert_int_equal(regcomp(&re, "^([0-9]{4})-([0-9]{2})-([0-9]{2})T"
	    "([0-9]{2}):([0-9]{2}):([0-9]{2})\\.([0-9]{6})([+-])([0-9]{2}):"
	    "([0-9]{2}) ", REG_EXTENDED), 0);
	i = regexec(&re, line, 11, m, 0);
	regfree(&re);
	if (i != 0)
		fail_msg("not a log file line: \"%s\"", line);
	for (i = 0; i < 10; i++)
		f[i] = i == 7 ? 0 : strtol(line + m[i + 1].rm_so, NULL, 10);

	/* The rest: host, process and the message, nothing else. */
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	(void)snprintf(rest, sizeof(rest), "%s portmuxd[%ld]: %s", host,
	    (long)getpid(), msg);
	assert_string_equal(line + m[0].rm_eo, rest);

	(void)snprintf(off, sizeof(off), "%c%02ld:%02ld", line[m[8].rm_so],
	    f[8], f[9]);
	assert_string_equal(off, off_want);

	/* The local time, less its offset, is the time of the call. */
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)f[0] - 1900;
	tm.tm_mon = (int)f[1] - 1;
	tm.tm_mday = (int)f[2];
	tm.tm_hour = (int)f[3];
	tm.tm_min = (int)f[4];
	tm.tm_sec = (int)f[5];
	t = timegm(&tm) - (line[m[8].rm_so] == '-' ? -1 : 1) *
	    (f[8] * 3600 + f[9] * 60);
	assert_true(t >= t0 && t <= t1);
	assert_true(f[6] >= 0 && f[6] <= 999999);
}

/*
 * log_file_mode(1) lines in zone tz, checked, then the mode is off.
 * off_want: the offset they must show; "" for tm_gmtoff's now.
 */
static void
file_mode_in(const char *tz, const char *off_want)
{
	char		 out[CAPMAX], *nl, *second, off[32];
	struct tm	 now;
	time_t		 t0, t1;
	int		 m;

	tz_set(tz);
	log_file_mode(1);
	t0 = real_s();
	assert_non_null(localtime_r(&t0, &now));
	m = (int)(now.tm_gmtoff / 60);
	(void)snprintf(off, sizeof(off), "%c%02d:%02d", m < 0 ? '-' : '+',
	    abs(m) / 60, abs(m) % 60);
	if (off_want[0] == '\0')
		off_want = off;
	else
		assert_string_equal(off, off_want);
	cap_start();
	log_info("action=start gen=%d", 3);
	log_conn(LOG_WARNING, 9, "echo", "action=refuse reason=acl");
	/* A log_init() after (as a reload's) keeps the mode. */
	log_init(1, LOG_INFO, LOG_DAEMON);
	log_errx("action=error");
	cap_stop(out, sizeof(out));
	t1 = real_s();
	log_file_mode(0);
	tz_set(saved_tz);

	assert_non_null(nl = strchr(out, '\n'));
	*nl = '\0';
	assert_file_line(out, "action=start gen=3", t0, t1, off_want);
	second = nl + 1;
	assert_non_null(nl = strchr(second, '\n'));
	*nl = '\0';
	assert_file_line(second, "conn=9 service=echo action=refuse "
	    "reason=acl", t0, t1, off_want);
	second = nl + 1;
	assert_non_null(nl = strchr(second, '\n'));
	*nl = '\0';
	assert_file_line(second, "action=error", t0, t1, off_want);
	assert_string_equal(nl + 1, "");
}

static bool
have_zone(const char *name)
{
	char	 path[256];

	(void)snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
	return access(path, R_OK) == 0;
}

/* The daemon's own log file: rsyslog's file format, in local time. */
static void
test_log_file_mode(void **state)
{
	char	 out[CAPMAX];

	(void)state;
	/* POSIX zones need no zoneinfo: "<+0545>-5:45" is 5:45 east. */
	file_mode_in("UTC0", "+00:00");
	file_mode_in("<+0545>-5:45", "+05:45");
	file_mode_in("<-0330>3:30", "-03:30");
	file_mode_in("<-10>10", "-10:00");
	if (have_zone("UTC"))
		file_mode_in("UTC", "+00:00");
	if (have_zone("Asia/Kolkata"))
		file_mode_in("Asia/Kolkata", "+05:30");
	if (have_zone("America/St_Johns"))
		file_mode_in("America/St_Johns", "");
	file_mode_in(saved_tz, "");

	/* Off again: the bare line. */
	cap_start();
	log_info("action=start");
	cap_stop(out, sizeof(out));
	assert_string_equal(out, "action=start\n");
}

/* Leaving file mode on the journal's stream goes back to "<N>". */
static void
test_log_file_mode_journal(void **state)
{
	char	 out[CAPMAX], jv[64], *p;
	int	 fd;

	(void)state;
	fd = fcap_start();
	journal_value(fd, jv, sizeof(jv));
	(void)setenv("JOURNAL_STREAM", jv, 1);
	log_init(1, LOG_INFO, LOG_DAEMON);
	log_info("action=one");
	log_file_mode(1);
	log_info("action=two");
	log_file_mode(0);
	log_info("action=three");
	fcap_stop(fd, out, sizeof(out));
	(void)unsetenv("JOURNAL_STREAM");
	log_init(1, LOG_INFO, LOG_DAEMON);
	assert_memory_equal(out, "<6>action=one\n", 14);
	p = out + 14;
	assert_true(strlen(p) > 20);
	assert_memory_equal(p, "20", 2);
	assert_non_null(p = strstr(p, "]: action=two\n<6>action=three\n"));
	assert_string_equal(p, "]: action=two\n<6>action=three\n");
}

/* What log_capture() handed over. */
struct captured {
	int	 n;
	int	 pri[4];
	char	 line[4][256];
};

static void
capture_cb(int pri, const char *line, void *arg)
{
	struct captured	*c = arg;

	if (c->n >= 4)
		return;
	c->pri[c->n] = pri;
	(void)snprintf(c->line[c->n], sizeof(c->line[c->n]), "%s", line);
	c->n++;
	/* A callback may well fail a call of its own. */
	errno = EBADF;
}

/* Lines while capture and tee are on; stderr gets the prefix kind set. */
static void
capture_and_tee(struct captured *c, char *tee, size_t teesize)
{
	int	 p[2];
	ssize_t	 n;

	memset(c, 0, sizeof(*c));
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	log_capture(capture_cb, c);
	log_tee(p[1]);		/* owned by log.c from here */
	log_info("action=start");
	log_warnx("action=warn msg=%s", "w");
	log_errx("action=error msg=%s", "e");
	log_conn(LOG_WARNING, 4, "echo", "action=refuse reason=acl");
	log_tee(-1);
	log_capture(NULL, NULL);
	n = read(p[0], tee, teesize - 1);
	close(p[0]);
	assert_true(n >= 0);
	tee[n] = '\0';
}

static void
assert_bare(const struct captured *c, const char *tee)
{
	assert_int_equal(c->n, 2);
	assert_int_equal(c->pri[0], LOG_WARNING);
	assert_string_equal(c->line[0], "action=warn msg=w");
	assert_int_equal(c->pri[1], LOG_ERR);
	assert_string_equal(c->line[1], "action=error msg=e");
	assert_string_equal(tee, "portmuxd: action=warn msg=w\n"
	    "portmuxd: action=error msg=e\n"
	    "portmuxd: conn=4 service=echo action=refuse reason=acl\n");
}

/*
 * The reply to portmuxctl (log_capture()) and the caller's stderr
 * (log_tee()) get the bare line whatever prefix stderr's lines carry.
 */
static void
test_log_capture_tee_bare(void **state)
{
	struct captured	 c;
	char		 out[CAPMAX], tee[1024], jv[64];
	int		 fd;

	(void)state;
	fd = fcap_start();
	journal_value(fd, jv, sizeof(jv));
	(void)setenv("JOURNAL_STREAM", jv, 1);
	log_init(1, LOG_INFO, LOG_DAEMON);
	capture_and_tee(&c, tee, sizeof(tee));
	fcap_stop(fd, out, sizeof(out));
	(void)unsetenv("JOURNAL_STREAM");
	log_init(1, LOG_INFO, LOG_DAEMON);
	assert_bare(&c, tee);
	assert_string_equal(out, "<6>action=start\n<4>action=warn msg=w\n"
	    "<3>action=error msg=e\n"
	    "<4>conn=4 service=echo action=refuse reason=acl\n");

	cap_start();
	log_file_mode(1);
	capture_and_tee(&c, tee, sizeof(tee));
	log_file_mode(0);
	cap_stop(out, sizeof(out));
	assert_bare(&c, tee);
	assert_non_null(strstr(out, "]: action=warn msg=w\n"));
	/* Each stderr line starts with the stamp, not with the event. */
	assert_true(out[0] >= '0' && out[0] <= '9');
}

/*
 * A warning below the level still goes to the capture: errno must
 * come back as it was, even when the callback changed it.
 */
static void
test_log_capture_errno(void **state)
{
	struct captured	 c;
	char		 out[CAPMAX];
	int		 e1, e2;

	(void)state;
	memset(&c, 0, sizeof(c));
	log_setlevel(LOG_ERR);
	log_capture(capture_cb, &c);
	cap_start();
	errno = ENOENT;
	log_warnx("action=warn msg=filtered");
	e1 = errno;
	errno = EACCES;
	log_errx("action=error msg=shown");
	e2 = errno;
	cap_stop(out, sizeof(out));
	log_capture(NULL, NULL);
	log_setlevel(LOG_INFO);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.line[0], "action=warn msg=filtered");
	assert_string_equal(out, "action=error msg=shown\n");
	assert_int_equal(e2, EACCES);
	assert_int_equal(e1, ENOENT);
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
		cmocka_unit_test(test_log_journal_prefix),
		cmocka_unit_test(test_log_journal_other),
		cmocka_unit_test(test_log_journal_trailing),
		cmocka_unit_test(test_log_file_mode),
		cmocka_unit_test(test_log_file_mode_journal),
		cmocka_unit_test(test_log_capture_tee_bare),
		cmocka_unit_test(test_log_capture_errno),
	};

	return cmocka_run_group_tests(tests, setup, group_teardown);
}
