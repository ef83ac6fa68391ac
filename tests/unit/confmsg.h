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
 * For the tests of conf.c: a load whose messages, written to stderr as
 * the daemon writes them, are read back into a string.  Include after
 * <cmocka.h>.
 */

#ifndef CONFMSG_H
#define CONFMSG_H

#include <stdbool.h>

struct conf;

struct conf	*msgs_load(const char *, int, char **);
struct conf	*msgs_load_file(const char *, int, char **);
bool		 msgs_has(const char *, const char *, const char *);
void		 msgs_load_fails(const char *, int, const char *,
		    const char *);
struct conf	*msgs_load_ok(const char *, int, char **);

/* A line of m starts with pfx and holds txt. */
#define assert_msg(m, pfx, txt) do {					\
	if (!msgs_has((m), (pfx), (txt))) {				\
		print_error("no line \"%s...%s\" in:\n%s", (pfx),	\
		    (txt), (m));					\
		fail();							\
	}								\
} while (0)

#define assert_no_msg(m, txt) do {					\
	if (strstr((m), (txt)) != NULL) {				\
		print_error("unexpected \"%s\" in:\n%s", (txt), (m));	\
		fail();							\
	}								\
} while (0)

#endif /* CONFMSG_H */
