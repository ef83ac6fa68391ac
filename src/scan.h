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
 * Scan detection: the distinct ports each source group touched within
 * the last scan_window.  A group that reaches scan_ports distinct ports
 * is a scanner: the caller bans it.  The table is bounded; a new group
 * evicts the one touched least recently, which at worst lets a scan go
 * unseen, never bans anyone.  Pure: the time (monotonic ms) is passed in.
 */

#ifndef SCAN_H
#define SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portmuxd.h"

#define SCAN_PORTS_MAX	64		/* the largest scan_ports */
#define SCAN_NIL	UINT32_MAX
#define SCAN_PREFIX4	32		/* a scanner's group, for its ban too */
#define SCAN_PREFIX6	64

struct scan_ent {
	bool		 used;
	struct srckey	 key;
	uint8_t		 nports;
	uint16_t	 ports[SCAN_PORTS_MAX];	/* distinct, oldest first */
	uint64_t	 seen[SCAN_PORTS_MAX];	/* when each was last touched */
	uint64_t	 last;		/* any port */
	uint32_t	 hnext;		/* hash chain */
	uint32_t	 prev;		/* recency list, least recent first */
	uint32_t	 next;
};

struct scantab {
	struct scan_ent	*v;
	size_t		 max;
	size_t		 count;
	uint32_t	*buckets;
	size_t		 nbuckets;	/* a power of two */
	uint64_t	 seed;
	uint32_t	 free;
	uint32_t	 head;		/* least recently touched */
	uint32_t	 tail;
};

int		 scan_init(struct scantab *, size_t, uint64_t);
void		 scan_free(struct scantab *);
size_t		 scan_note(struct scantab *, const struct srckey *, uint16_t,
		    uint64_t, uint32_t, uint32_t, uint16_t *);
size_t		 scan_expire(struct scantab *, uint64_t, uint32_t);

#endif /* SCAN_H */
