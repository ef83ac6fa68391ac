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
 * Port knocking: per (service, source group), how far the source has got
 * through the service's knock sequence, and until when a completed
 * sequence opens the service to it.  The table is bounded (knock_max);
 * a new source evicts the in-progress source whose sequence started
 * first, never a source whose window is open.  Pure: the time
 * (monotonic ms) is passed in.
 */

#ifndef KNOCK_H
#define KNOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portmuxd.h"

#define KNOCK_STEPS_MAX	16		/* ports in one sequence */

/* One knock: a TCP SYN or a UDP datagram to a port. */
struct knock_step {
	uint8_t		 proto;		/* IPPROTO_TCP, IPPROTO_UDP */
	uint16_t	 port;		/* host order, 1..65535 */
};

#define KNOCK_NIL	UINT32_MAX	/* no entry, in the index links */

struct knock_ent {
	bool		 used;
	uint32_t	 svc;		/* the service's index */
	struct srckey	 key;
	uint8_t		 step;		/* steps matched so far, 0: none */
	uint64_t	 deadline;	/* in progress: first hit + timeout */
	uint64_t	 open_until;	/* 0: never opened */
	uint32_t	 hnext;		/* hash chain */
	uint32_t	 prev;		/* the in-progress list, oldest first */
	uint32_t	 next;
	bool		 listed;	/* on the in-progress list */
};

struct knocktab {
	struct knock_ent *v;		/* max entries */
	size_t		 max;
	size_t		 count;
	uint32_t	*buckets;	/* nbuckets heads, KNOCK_NIL if empty */
	size_t		 nbuckets;	/* a power of two */
	uint64_t	 seed;
	uint32_t	 free;		/* free entries, linked by hnext */
	uint32_t	 head;		/* in-progress list */
	uint32_t	 tail;
};

enum knock_event {
	KNOCK_IGNORED,		/* a repeat of the last step (retransmit) */
	KNOCK_STEP,		/* the next step of the sequence */
	KNOCK_RESET,		/* out of order: the sequence starts over */
	KNOCK_OPENED,		/* the last step: the window opens */
	KNOCK_FULL,		/* a new source, and no entry may be evicted */
};

int		 knock_parse_step(const char *, struct knock_step *);
int		 knock_init(struct knocktab *, size_t, uint64_t);
void		 knock_free(struct knocktab *);
enum knock_event knock_hit(struct knocktab *, uint32_t, const struct srckey *,
		    const struct knock_step *, size_t, const struct knock_step *,
		    uint32_t, uint32_t, uint64_t);
bool		 knock_is_open(const struct knocktab *, uint32_t,
		    const struct srckey *, uint64_t);
int		 knock_set_open(struct knocktab *, uint32_t,
		    const struct srckey *, uint64_t);
size_t		 knock_expire(struct knocktab *, uint64_t);

#endif /* KNOCK_H */
