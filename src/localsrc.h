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
 * Datagrams that would make two UDP builtins of this daemon answer each
 * other: a source that is one of the host's own addresses and a port on
 * which this configuration serves a UDP builtin.
 */

#ifndef LOCALSRC_H
#define LOCALSRC_H

#include <sys/socket.h>
#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;

struct localsrc {
	uint8_t			 ports[65536 / 8];	/* UDP builtin ports */
	bool			 any;
	/* The host's addresses, refreshed at most once per second. */
	struct sockaddr_storage	*addrs;
	size_t			 naddrs;
	uint64_t		 fetched_ms;
	bool			 fetched;
};

void	localsrc_init(struct localsrc *, const struct conf *);
void	localsrc_free(struct localsrc *);
bool	localsrc_port(const struct localsrc *, uint16_t);
bool	localsrc_is_loopback(const struct sockaddr *);
bool	localsrc_in(const struct sockaddr *, const struct sockaddr_storage *,
	    size_t);
bool	localsrc_is_local(struct localsrc *, const struct sockaddr *,
	    uint64_t);
bool	localsrc_loop(struct localsrc *, const struct sockaddr *, uint64_t);

#endif /* LOCALSRC_H */
