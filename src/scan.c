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
 * The scan table: a pool of scan_max entries allocated once, hashed by
 * source group with separate chaining through the pool, and a recency
 * list, least recently touched first.  It is fed from raw packets that
 * anyone can spoof, so a touch costs O(1) apart from the entry's own
 * port array, and a full table evicts the head of the list instead of
 * looking for a victim.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"

int
scan_init(struct scantab *t, size_t max, uint64_t seed)
{
	size_t	 i;

	memset(t, 0, sizeof(*t));
	if ((t->buckets = hash_heads(max, &t->nbuckets)) == NULL)
		return -1;
	if ((t->v = calloc(max, sizeof(*t->v))) == NULL) {
		scan_free(t);
		return -1;
	}
	for (i = 0; i < max; i++) {
		t->v[i].hnext = i + 1 < max ? (uint32_t)(i + 1) : SCAN_NIL;
		t->v[i].prev = t->v[i].next = SCAN_NIL;
	}
	t->max = max;
	t->seed = seed;
	t->free = 0;
	t->head = t->tail = SCAN_NIL;
	return 0;
}

void
scan_free(struct scantab *t)
{
	free(t->v);
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

static uint32_t
scan_bucket(const struct scantab *t, const struct srckey *k)
{
	return (uint32_t)(hash_bytes(k, sizeof(*k), t->seed) &
	    (t->nbuckets - 1));
}

static uint32_t
scan_find(const struct scantab *t, const struct srckey *k, uint32_t *bp)
{
	uint32_t	 b, i;

	b = scan_bucket(t, k);
	if (bp != NULL)
		*bp = b;
	for (i = t->buckets[b]; i != SCAN_NIL; i = t->v[i].hnext)
		if (memcmp(&t->v[i].key, k, sizeof(*k)) == 0)
			return i;
	return SCAN_NIL;
}

static void
scan_unlist(struct scantab *t, uint32_t i)
{
	struct scan_ent	*e = &t->v[i];

	if (e->prev != SCAN_NIL)
		t->v[e->prev].next = e->next;
	else
		t->head = e->next;
	if (e->next != SCAN_NIL)
		t->v[e->next].prev = e->prev;
	else
		t->tail = e->prev;
	e->prev = e->next = SCAN_NIL;
}

static void
scan_append(struct scantab *t, uint32_t i)
{
	struct scan_ent	*e = &t->v[i];

	e->prev = t->tail;
	e->next = SCAN_NIL;
	if (t->tail != SCAN_NIL)
		t->v[t->tail].next = i;
	else
		t->head = i;
	t->tail = i;
}

/* Return entry i, which is on the list, to the free list. */
static void
scan_release(struct scantab *t, uint32_t i)
{
	struct scan_ent	*e = &t->v[i];
	uint32_t	*pp;

	scan_unlist(t, i);
	pp = &t->buckets[scan_bucket(t, &e->key)];
	while (*pp != i)
		pp = &t->v[*pp].hnext;
	*pp = e->hnext;
	e->used = false;
	e->nports = 0;
	e->hnext = t->free;
	t->free = i;
	t->count--;
}

/* A new, empty entry for k in bucket b, at the tail of the list. */
static uint32_t
scan_alloc(struct scantab *t, uint32_t b, const struct srckey *k)
{
	struct scan_ent	*e;
	uint32_t	 i;

	/* Full: a scan may go unseen, but no one is wrongly banned. */
	if (t->free == SCAN_NIL)
		scan_release(t, t->head);
	i = t->free;
	e = &t->v[i];
	t->free = e->hnext;
	e->used = true;
	e->key = *k;
	e->nports = 0;
	e->last = 0;
	e->hnext = t->buckets[b];
	t->buckets[b] = i;
	scan_append(t, i);
	t->count++;
	return i;
}

/*
 * Source group k touched port at now.  Ports stay in the order they
 * were last touched, so the oldest is first; one touched again moves to
 * the end.  When threshold distinct ports were touched within window_ms
 * they are copied to ports_out (SCAN_PORTS_MAX of room), oldest first,
 * the entry is dropped so that a ban that ends does not count them
 * again, and their number is returned.  Otherwise 0.
 */
size_t
scan_note(struct scantab *t, const struct srckey *k, uint16_t port,
    uint64_t now, uint32_t window_ms, uint32_t threshold, uint16_t *ports_out)
{
	struct scan_ent	*e;
	uint64_t	 since;
	uint32_t	 b, i;
	size_t		 j, n, o;

	if (t->v == NULL)
		return 0;
	/* The array holds SCAN_PORTS_MAX: a larger threshold never fires. */
	if (threshold < 2)
		threshold = 2;
	else if (threshold > SCAN_PORTS_MAX)
		threshold = SCAN_PORTS_MAX;

	if ((i = scan_find(t, k, &b)) == SCAN_NIL)
		i = scan_alloc(t, b, k);
	else {
		scan_unlist(t, i);
		scan_append(t, i);
	}
	e = &t->v[i];
	e->last = now;

	since = now > window_ms ? now - window_ms : 0;
	for (j = o = 0; j < e->nports; j++) {
		if (e->seen[j] < since || e->ports[j] == port)
			continue;
		e->ports[o] = e->ports[j];
		e->seen[o] = e->seen[j];
		o++;
	}
	/*
	 * There is room: an entry reaching threshold (at most
	 * SCAN_PORTS_MAX) is dropped below, so at rest it has fewer.
	 */
	e->ports[o] = port;
	e->seen[o] = now;
	n = o + 1;
	e->nports = (uint8_t)n;

	if (n < threshold)
		return 0;
	memcpy(ports_out, e->ports, n * sizeof(e->ports[0]));
	scan_release(t, i);
	return n;
}

/*
 * Free the groups touched last more than window_ms before now.  The
 * clock is monotonic, so the list is in order of last touch and the
 * sweep stops at the first group still in its window.  Returns how many
 * were freed.
 */
size_t
scan_expire(struct scantab *t, uint64_t now, uint32_t window_ms)
{
	uint64_t	 since = now > window_ms ? now - window_ms : 0;
	size_t		 n = 0;

	if (t->v == NULL)
		return 0;
	while (t->head != SCAN_NIL && t->v[t->head].last < since) {
		scan_release(t, t->head);
		n++;
	}
	return n;
}
