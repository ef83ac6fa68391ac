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
 * The caps of the configuration pre-pass (conflex.c): includes that fan
 * out through globs stop at a number of files or of bytes read, a file
 * already on the include chain is a loop named by its chain, and the
 * pre-pass stops after a bounded number of errors, so that neither the
 * time of a load nor its output can blow up.  Each test builds its
 * files in a temporary directory of its own and loads them through the
 * real conf_load().
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "log.h"
#include "portmuxd.h"
#include "conf.h"
#include "confmsg.h"

/* The caps conflex.c documents (portmux.conf(5), include). */
#define MAX_FILES	256
#define MAX_ERRORS	50

#define SERVICE		"service echo {\n\tport = 10007\n\tbuiltin = echo\n}\n"

struct tdir {
	char	 dir[64];
};

static int
tdir_setup(void **state)
{
	struct tdir	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	(void)snprintf(t->dir, sizeof(t->dir), "/tmp/test_conflex.XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == -1 ? -1 : 0;
}

static int
tdir_teardown(void **state)
{
	struct tdir	*t = *state;
	int		 r;

	r = nftw(t->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
	return r == -1 ? -1 : 0;
}

/* Write a file under the test's directory; rel may hold a subdirectory. */
static void
put(const struct tdir *t, const char *rel, const char *fmt, ...)
{
	char	 path[PATH_MAX];
	FILE	*f;
	va_list	 ap;

	(void)snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	va_start(ap, fmt);
	assert_true(vfprintf(f, fmt, ap) >= 0);
	va_end(ap);
	assert_int_equal(fclose(f), 0);
}

static void
mkdir_in(const struct tdir *t, const char *rel)
{
	char	 path[PATH_MAX];

	(void)snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static size_t
count_lines(const char *m)
{
	size_t	 n = 0;

	for (; *m != '\0'; m++)
		if (*m == '\n')
			n++;
	return n;
}

/* Load the test's main.conf: it must fail; the messages are returned. */
static char *
load_fails(const struct tdir *t)
{
	char		 path[PATH_MAX];
	struct conf	*conf;
	char		*m;

	(void)snprintf(path, sizeof(path), "%s/main.conf", t->dir);
	conf = msgs_load_file(path, CONF_AS_USER, &m);
	if (conf != NULL) {
		conf_free(conf);
		print_error("main.conf loaded, with:\n%s", m);
		free(m);
		fail();
	}
	return m;
}

/*
 * Ten files that each include "*.conf" of their own directory: every
 * one includes every other, and without caps the load ran for a minute
 * and printed 767k lines.  Each self-inclusion is a loop, named by its
 * chain; after MAX_ERRORS errors the pre-pass stops, with one line
 * saying so.
 */
static void
test_conflex_fanout_loops(void **state)
{
	struct tdir	*t = *state;
	char		 name[32], want[512];
	char		*m;
	int		 i;

	mkdir_in(t, "d");
	for (i = 0; i < 10; i++) {
		(void)snprintf(name, sizeof(name), "d/f%d.conf", i);
		put(t, name, "include(\"*.conf\")\n");
	}
	put(t, "main.conf", "include(\"d/*.conf\")\n" SERVICE);
	m = load_fails(t);
	assert_msg(m, "", "too many errors");
	(void)snprintf(want, sizeof(want), "include loop: %s/d/f0.conf -> "
	    "%s/d/f0.conf", t->dir, t->dir);
	assert_msg(m, "", want);
	if (count_lines(m) > MAX_ERRORS + 2) {
		print_error("%zu lines:\n%s", count_lines(m), m);
		fail();
	}
	free(m);
}

/*
 * A tree without loops that fans out to more than MAX_FILES files:
 * seven files, each including the seven of the next level, three
 * levels (7 + 49 + 343).  One error, at the include that would open the
 * first file past the cap, and nothing else.
 */
static void
test_conflex_fanout_files(void **state)
{
	struct tdir	*t = *state;
	char		 name[32];
	char		*m;
	int		 lvl, i;

	for (lvl = 0; lvl < 3; lvl++) {
		(void)snprintf(name, sizeof(name), "l%d", lvl);
		mkdir_in(t, name);
		for (i = 0; i < 7; i++) {
			(void)snprintf(name, sizeof(name), "l%d/f%d.conf", lvl,
			    i);
			if (lvl < 2)
				put(t, name, "# level %d\ninclude(\"../l%d/"
				    "*.conf\")\n", lvl, lvl + 1);
			else
				put(t, name, "# a leaf\n");
		}
	}
	put(t, "main.conf", "include(\"l0/*.conf\")\n" SERVICE);
	m = load_fails(t);
	assert_msg(m, "", "include: more than 256 files");
	assert_int_equal(count_lines(m), 1);
	assert_msg(m, t->dir, "/l1/f");
	free(m);
}

/* The same tree with five files a level (5 + 25 + 125) loads. */
static void
test_conflex_fanout_under_cap(void **state)
{
	struct tdir	*t = *state;
	struct conf	*conf;
	char		 name[32], path[PATH_MAX];
	char		*m;
	int		 lvl, i;

	for (lvl = 0; lvl < 3; lvl++) {
		(void)snprintf(name, sizeof(name), "l%d", lvl);
		mkdir_in(t, name);
		for (i = 0; i < 5; i++) {
			(void)snprintf(name, sizeof(name), "l%d/f%d.conf", lvl,
			    i);
			if (lvl < 2)
				put(t, name, "include(\"../l%d/*.conf\")\n",
				    lvl + 1);
			else
				put(t, name, "# a leaf\n");
		}
	}
	put(t, "main.conf", "include(\"l0/*.conf\")\n" SERVICE);
	(void)snprintf(path, sizeof(path), "%s/main.conf", t->dir);
	conf = msgs_load_file(path, CONF_AS_USER, &m);
	if (conf == NULL) {
		print_error("155 included files do not load:\n%s", m);
		fail();
	}
	conf_free(conf);
	free(m);
}

/*
 * Seventeen includes of one file just under 1 MiB (each file is within
 * its own cap) pass the 16 MiB the whole load may read: one error at the
 * include that passes it.
 */
static void
test_conflex_total_bytes(void **state)
{
	struct tdir	*t = *state;
	char		 path[PATH_MAX], line[1024], want[PATH_MAX + 64];
	char		*m;
	FILE		*f;
	size_t		 n;
	int		 i;

	(void)snprintf(path, sizeof(path), "%s/big.conf", t->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	memset(line, 'x', sizeof(line) - 1);
	line[0] = '#';
	line[sizeof(line) - 1] = '\n';
	/* 1023 KiB: sixteen of them and main.conf stay within 16 MiB. */
	for (n = 0; n + 2 * sizeof(line) <= 1024 * 1024; n += sizeof(line))
		assert_int_equal(fwrite(line, sizeof(line), 1, f), 1);
	assert_int_equal(fclose(f), 0);
	(void)snprintf(path, sizeof(path), "%s/main.conf", t->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (i = 0; i < 17; i++)
		assert_true(fprintf(f, "include(\"big.conf\")\n") > 0);
	assert_true(fprintf(f, SERVICE) > 0);
	assert_int_equal(fclose(f), 0);
	m = load_fails(t);
	(void)snprintf(want, sizeof(want), "%s/main.conf:17: ", t->dir);
	assert_msg(m, want, "include: more than 16777216 bytes in all files");
	assert_int_equal(count_lines(m), 1);
	free(m);
}

/* A loop through two files is named by its chain. */
static void
test_conflex_loop_chain(void **state)
{
	struct tdir	*t = *state;
	char		 pfx[PATH_MAX], want[3 * PATH_MAX];
	char		*m;

	put(t, "main.conf", "include(\"a.conf\")\n" SERVICE);
	put(t, "a.conf", "# a\ninclude(\"b.conf\")\n");
	put(t, "b.conf", "# b\n\ninclude(\"a.conf\")\n");
	m = load_fails(t);
	(void)snprintf(pfx, sizeof(pfx), "%s/b.conf:3: ", t->dir);
	(void)snprintf(want, sizeof(want), "include '%s/a.conf': include "
	    "loop: %s/a.conf -> %s/b.conf -> %s/a.conf", t->dir, t->dir, t->dir,
	    t->dir);
	assert_msg(m, pfx, want);
	assert_int_equal(count_lines(m), 1);
	free(m);
}

/* Errors of one file alone stop at the cap too. */
static void
test_conflex_error_cap(void **state)
{
	struct tdir	*t = *state;
	char		 path[PATH_MAX];
	char		*m;
	FILE		*f;
	int		 i;

	(void)snprintf(path, sizeof(path), "%s/main.conf", t->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (i = 0; i < 500; i++)
		assert_true(fprintf(f, "pidfile = ${PMX_TEST_NO_SUCH_VAR}\n") >
		    0);
	assert_int_equal(fclose(f), 0);
	m = load_fails(t);
	assert_msg(m, "", "undefined variable 'PMX_TEST_NO_SUCH_VAR'");
	assert_msg(m, "", "too many errors");
	assert_int_equal(count_lines(m), MAX_ERRORS + 1);
	free(m);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, tdir_setup, tdir_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_conflex_fanout_loops),
		T(test_conflex_fanout_files),
		T(test_conflex_fanout_under_cap),
		T(test_conflex_total_bytes),
		T(test_conflex_loop_chain),
		T(test_conflex_error_cap),
	};

	(void)unsetenv("PMX_TEST_NO_SUCH_VAR");
	log_init(1, LOG_DEBUG, LOG_DAEMON);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
