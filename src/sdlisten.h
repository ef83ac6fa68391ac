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

#ifndef SDLISTEN_H
#define SDLISTEN_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>

struct service;
struct bindaddr;
struct listener;

/* The first descriptor the service manager passes (SD_LISTEN_FDS_START). */
#define SDLISTEN_FIRST	3
/* More than any unit would pass: a bound on a value read from outside. */
#define SDLISTEN_MAX	4096

/* A listening socket passed by the service manager. */
struct sdpassed {
	int			 fd;
	int			 domain;
	int			 type;
	struct sockaddr_storage	 ss;	/* getsockname() */
	socklen_t		 len;
	bool			 v6only;
	char			 name[64];	/* from LISTEN_FDNAMES, or "" */
};

/* Every socket passed at start; kept, open, for the daemon's life. */
struct sdlisten {
	struct sdpassed		*v;
	size_t			 n;
};

int	 sdlisten_count(const char *, const char *, long, size_t *, char *,
	    size_t);
int	 sdlisten_take(struct sdlisten *, char *, size_t);
int	 sdlisten_match(const struct sdlisten *, const struct service *,
	    const struct bindaddr *);
void	 sdlisten_describe(const struct sdpassed *, char *, size_t);
size_t	 sdlisten_unmatched(const struct sdlisten *, const struct listener *,
	    size_t, bool);
void	 sdlisten_free(struct sdlisten *);

#endif
