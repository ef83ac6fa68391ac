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

#include "config.h"

#include <sys/types.h>

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

#include "portmuxd.h"
#include "confmsg.h"

struct capture {
	FILE	*tmp;
	int	 saved;
};

/* stderr goes to a temporary file until cap_end(). */
static void
cap_begin(struct capture *c)
{
	fflush(stderr);
	c->tmp = tmpfile();
	assert_non_null(c->tmp);
	c->saved = dup(STDERR_FILENO);
	assert_true(c->saved != -1);
	assert_true(dup2(fileno(c->tmp), STDERR_FILENO) != -1);
}

static char *
cap_end(struct capture *c)
{
	off_t	 size;
	char	*buf;
	int	 fd = fileno(c->tmp);

	assert_true(dup2(c->saved, STDERR_FILENO) != -1);
	(void)close(c->saved);
	size = lseek(fd, 0, SEEK_END);
	assert_true(size >= 0);
	buf = calloc(1, (size_t)size + 1);
	assert_non_null(buf);
	assert_true(pread(fd, buf, (size_t)size, 0) == size);
	(void)fclose(c->tmp);
	return buf;
}

/* text, as file "t.conf"; *msgs gets what the load said. */
struct conf *
msgs_load(const char *text, int flags, char **msgs)
{
	struct capture	 c;
	struct conf	*conf;

	cap_begin(&c);
	conf = conf_load_buf(text, "t.conf", flags);
	*msgs = cap_end(&c);
	return conf;
}

struct conf *
msgs_load_file(const char *path, int flags, char **msgs)
{
	struct capture	 c;
	struct conf	*conf;

	cap_begin(&c);
	conf = conf_load(path, flags);
	*msgs = cap_end(&c);
	return conf;
}

/* A line of msgs that starts with prefix and contains text. */
bool
msgs_has(const char *msgs, const char *prefix, const char *text)
{
	const char	*p = msgs, *nl;
	size_t		 len, plen = strlen(prefix);

	while (*p != '\0') {
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (len >= plen && strncmp(p, prefix, plen) == 0 &&
		    memmem(p, len, text, strlen(text)) != NULL)
			return true;
		p += len + (nl != NULL);
	}
	return false;
}

/* The load of text fails, and says why at prefix ("t.conf:LINE: "). */
void
msgs_load_fails(const char *text, int flags, const char *prefix, const char *why)
{
	struct conf	*conf;
	char		*m;

	conf = msgs_load(text, flags, &m);
	if (conf != NULL) {
		print_error("loaded:\n%s\nwith:\n%s", text, m);
		conf_free(conf);
		free(m);
		fail();
	}
	assert_msg(m, prefix, why);
	free(m);
}

/*
 * The load of text succeeds (else the test fails, saying why); *m gets
 * what it said.
 */
struct conf *
msgs_load_ok(const char *text, int flags, char **m)
{
	struct conf	*conf;

	conf = msgs_load(text, flags, m);
	if (conf == NULL) {
		print_error("failed:\n%s\nwith:\n%s", text, *m);
		free(*m);
		fail();
	}
	return conf;
}
