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

/* The monitor's knock windows and kernel firewall (mongate.c). */

#ifndef MONGATE_H
#define MONGATE_H

#include <stddef.h>
#include <stdint.h>

#include "portmuxd.h"

struct nft;
struct msg_knock;

struct mongate {
	struct nft		*nft;		/* NULL: firewall = none */
	char			 table[33];	/* its name, for the log */
	struct knockwin		*wins;
	size_t			 nwins;
};

int			 mongate_start(struct mongate *, const struct conf *,
			    char *, size_t);
void			 mongate_reload(struct mongate *, const struct conf *,
			    const struct conf *, const struct bantab *);
void			 mongate_ban(struct mongate *, const struct srckey *,
			    uint64_t);
int			 mongate_knock(struct mongate *, const struct conf *,
			    uint64_t, const struct msg_knock *);
const struct knockwin	*mongate_windows(struct mongate *, size_t *);
void			 mongate_stop(struct mongate *);

#endif /* MONGATE_H */
