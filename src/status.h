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

#ifndef PORTMUXD_STATUS_H
#define PORTMUXD_STATUS_H

#include <stdbool.h>
#include <stdint.h>

struct engine;
struct elistener;

/* One listener as the status table shows it (status.c). */
struct status_row {
	const char	*service;
	const char	*proto;
	char		 local[128];	/* address:port, or the unix path */
	const char	*state;		/* listen, paused, waiting */
	char		 kind[32];	/* builtin:NAME, exec, wait, redirect, trap */
	bool		 knock;		/* behind a knock sequence */
	uint32_t	 active;
	uint32_t	 limit;		/* instances; LIMIT_UNLIMITED */
	bool		 counted;	/* the counters below are known */
	uint64_t	 accepted;
	uint64_t	 refused;
	const char	*last;		/* reason of the last refusal, or "-" */
};

/* One open connection as portmuxctl connections shows it. */
struct conn_row {
	uint64_t	 id;
	const char	*service;
	char		 peer[64];	/* "" unknown */
	char		 local[64];
	long		 pid;		/* exec'd program, or 0 */
	uint64_t	 age_ms;
	bool		 counted;	/* the bytes below are known */
	uint64_t	 bytes_in;	/* from the client */
	uint64_t	 bytes_out;	/* to the client */
	const char	*state;
};

void	 status_row(struct engine *, const struct elistener *,
	    struct status_row *);
size_t	 status_fields(const struct status_row *, char *, size_t);
void	 conn_row_fill(struct conn_row *, uint64_t, const char *, int,
	    uint64_t, const char *);
void	 status_log(struct engine *);

#endif
