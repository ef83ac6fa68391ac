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

#ifndef PORTMUXD_CTLREPLY_H
#define PORTMUXD_CTLREPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define REPLY_LINE_MAX	8192	/* a reply line, its LF included */

struct field {
	char		*key;
	char		*val;
};

struct record {
	struct field	*f;
	size_t		 n;
};

/* A control socket answer (portmuxctl(8), PROTOCOL), parsed. */
struct reply {
	bool		 ok;
	struct record	 head;		/* error: code= and msg= */
	struct record	*rec;
	size_t		 nrec;
};

/* ctlreply.c: parsing and printing, no I/O of its own. */
int		 reply_parse_line(const char *, size_t, struct record *,
		    char *, size_t);
int		 reply_parse(const char *, size_t, struct reply *, char *,
		    size_t);
const char	*reply_get(const struct record *, const char *);
bool		 reply_is_number(const char *);
void		 reply_json_string(FILE *, const char *);
void		 reply_json_record(FILE *, const struct record *);
void		 reply_table(FILE *, const struct record *, size_t);
int		 reply_print(const struct reply *, const char *, bool, FILE *,
		    FILE *);
void		 reply_record_free(struct record *);
void		 reply_free(struct reply *);

#endif
