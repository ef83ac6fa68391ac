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
 * The knock table: a pool of knock_max entries allocated once, hashed by
 * (service, source group) with separate chaining through the pool, and
 * a list of the entries in progress, oldest sequence first, from which a
 * new source evicts.  Knocks come in raw packets that anyone can spoof,
 * so nothing on the hit path scans the table, and a source that only
 * hits wrong ports never takes an entry.
 *
 * An entry whose window is open is never on the in-progress list, and
 * the list is the only place eviction looks: a flood of spoofed first
 * knocks can push out other sources' half-done sequences (they just
 * knock again) but never close a window already earned.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "knock.h"

/*
 * "tcp:N" or "udp:N", lowercase as the config is written, N decimal in
 * 1..65535 with at most five digits.  No strtol: it takes signs, spaces
 * and hex, none of which a port in a knock sequence has.
 */
int
knock_parse_step(const char *s, struct knock_step *st)
{
	uint8_t		 proto;
	uint32_t	 port = 0;
	size_t		 n;

	if (s == NULL)
		return -1;
	if (strncmp(s, "tcp:", 4) == 0)
		proto = IPPROTO_TCP;
	else if (strncmp(s, "udp:", 4) == 0)
		proto = IPPROTO_UDP;
	else
		return -1;
	s += 4;
	for (n = 0; s[n] >= '0' && s[n] <= '9'; n++) {
		if (n == 5)
			return -1;
		port = port * 10 + (uint32_t)(s[n] - '0');
	}
	if (n == 0 || s[n] != '\0' || port < 1 || port > UINT16_MAX)
		return -1;
	st->proto = proto;
	st->port = (uint16_t)port;
	return 0;
}

int
knock_init(struct knocktab *t, size_t max, uint64_t seed)
{
	size_t	 i;

	memset(t, 0, sizeof(*t));
	if ((t->buckets = hash_heads(max, &t->nbuckets)) == NULL)
		return -1;
	if ((t->v = calloc(max, sizeof(*t->v))) == NULL) {
		knock_free(t);
		return -1;
	}
	for (i = 0; i < max; i++) {
		t->v[i].hnext = i + 1 < max ? (uint32_t)(i + 1) : KNOCK_NIL;
		t->v[i].prev = t->v[i].next = KNOCK_NIL;
	}
	t->max = max;
	t->seed = seed;
	t->free = 0;
	t->head = t->tail = KNOCK_NIL;
	return 0;
}

void
knock_free(struct knocktab *t)
{
	free(t->v);
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

static uint32_t
knock_bucket(const struct knocktab *t, uint32_t svc, const struct srckey *k)
{
	uint8_t	 b[sizeof(svc) + sizeof(*k)];

	memcpy(b, &svc, sizeof(svc));
	memcpy(b + sizeof(svc), k, sizeof(*k));
	return (uint32_t)(hash_bytes(b, sizeof(b), t->seed) &
	    (t->nbuckets - 1));
}

static uint32_t
knock_find(const struct knocktab *t, uint32_t svc, const struct srckey *k,
    uint32_t *bp)
{
	uint32_t	 b, i;

	b = knock_bucket(t, svc, k);
	if (bp != NULL)
		*bp = b;
	for (i = t->buckets[b]; i != KNOCK_NIL; i = t->v[i].hnext)
		if (t->v[i].svc == svc &&
		    memcmp(&t->v[i].key, k, sizeof(*k)) == 0)
			return i;
	return KNOCK_NIL;
}

static void
knock_unlist(struct knocktab *t, uint32_t i)
{
	struct knock_ent	*e = &t->v[i];

	if (!e->listed)
		return;
	if (e->prev != KNOCK_NIL)
		t->v[e->prev].next = e->next;
	else
		t->head = e->next;
	if (e->next != KNOCK_NIL)
		t->v[e->next].prev = e->prev;
	else
		t->tail = e->prev;
	e->prev = e->next = KNOCK_NIL;
	e->listed = false;
}

/* Put i at the tail: its sequence is the one that started last. */
static void
knock_list(struct knocktab *t, uint32_t i)
{
	struct knock_ent	*e = &t->v[i];

	knock_unlist(t, i);
	e->prev = t->tail;
	e->next = KNOCK_NIL;
	if (t->tail != KNOCK_NIL)
		t->v[t->tail].next = i;
	else
		t->head = i;
	t->tail = i;
	e->listed = true;
}

/* Return entry i to the free list. */
static void
knock_release(struct knocktab *t, uint32_t i)
{
	struct knock_ent	*e = &t->v[i];
	uint32_t		*pp;

	knock_unlist(t, i);
	pp = &t->buckets[knock_bucket(t, e->svc, &e->key)];
	while (*pp != i)
		pp = &t->v[*pp].hnext;
	*pp = e->hnext;
	memset(e, 0, sizeof(*e));
	e->prev = e->next = KNOCK_NIL;
	e->hnext = t->free;
	t->free = i;
	t->count--;
}

/*
 * A new entry for (svc, k) in bucket b, at step 0 and closed.  A full
 * table gives up the sequence that started first; listed entries are
 * never open, so this can't close a window.  KNOCK_NIL if nothing is in
 * progress: the table is all open windows (and dead entries that
 * knock_expire has yet to sweep).
 */
static uint32_t
knock_alloc(struct knocktab *t, uint32_t b, uint32_t svc,
    const struct srckey *k)
{
	struct knock_ent	*e;
	uint32_t		 i;

	if (t->free == KNOCK_NIL) {
		if (t->head == KNOCK_NIL)
			return KNOCK_NIL;
		knock_release(t, t->head);
	}
	i = t->free;
	e = &t->v[i];
	t->free = e->hnext;
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->svc = svc;
	e->key = *k;
	e->prev = e->next = KNOCK_NIL;
	e->hnext = t->buckets[b];
	t->buckets[b] = i;
	t->count++;
	return i;
}

static bool
knock_step_eq(const struct knock_step *a, const struct knock_step *b)
{
	return a->proto == b->proto && a->port == b->port;
}

/*
 * Source k knocked at hit, for service svc whose sequence is seq.  A
 * repeat of the step just matched is taken for a retransmitted SYN or a
 * duplicated datagram and ignored, unless the sequence itself repeats
 * it next (tcp:1,tcp:1): then it counts, as a retransmit can't be told
 * from the next knock.  Out of order, the source starts over, and a hit
 * on the first port is that new start: it returns KNOCK_RESET because
 * progress was lost, but leaves the entry at step 1.  A sequence must
 * be done within timeout_ms of its first hit.
 */
enum knock_event
knock_hit(struct knocktab *t, uint32_t svc, const struct srckey *k,
    const struct knock_step *seq, size_t nseq, const struct knock_step *hit,
    uint32_t timeout_ms, uint32_t open_ms, uint64_t now)
{
	struct knock_ent	*e = NULL;
	uint32_t		 b, i;
	size_t			 step = 0;

	if (t->v == NULL || nseq == 0 || nseq > KNOCK_STEPS_MAX)
		return KNOCK_IGNORED;
	if ((i = knock_find(t, svc, k, &b)) != KNOCK_NIL) {
		e = &t->v[i];
		/* Too late, or the sequence got shorter in a reload. */
		if (e->step > 0 && (now >= e->deadline || e->step >= nseq)) {
			e->step = 0;
			knock_unlist(t, i);
		}
		step = e->step;
	}

	if (knock_step_eq(hit, &seq[step])) {
		if (e == NULL) {
			if ((i = knock_alloc(t, b, svc, k)) == KNOCK_NIL)
				return KNOCK_FULL;
			e = &t->v[i];
		}
		if (step == 0)
			e->deadline = now + timeout_ms;
		if (++step == nseq) {
			e->step = 0;
			e->open_until = now + open_ms;
			knock_unlist(t, i);
			return KNOCK_OPENED;
		}
		e->step = (uint8_t)step;
		/*
		 * Listed at its first step; or now, if the window it was
		 * re-knocking under has closed since (it goes to the tail,
		 * and until this hit it could not be evicted: at most
		 * timeout_ms).
		 */
		if (e->open_until <= now && (step == 1 || !e->listed))
			knock_list(t, i);
		return KNOCK_STEP;
	}
	if (step > 0 && knock_step_eq(hit, &seq[step - 1]))
		return KNOCK_IGNORED;
	if (e == NULL)
		return KNOCK_RESET;
	if (step > 0 && knock_step_eq(hit, &seq[0])) {
		e->step = 1;
		e->deadline = now + timeout_ms;
		if (e->open_until <= now)
			knock_list(t, i);
		else
			knock_unlist(t, i);
		return KNOCK_RESET;
	}
	e->step = 0;
	knock_unlist(t, i);
	/* Nothing left to remember: as if it had never knocked. */
	if (e->open_until <= now)
		knock_release(t, i);
	return KNOCK_RESET;
}

bool
knock_is_open(const struct knocktab *t, uint32_t svc, const struct srckey *k,
    uint64_t now)
{
	uint32_t	 i;

	if (t->v == NULL)
		return false;
	if ((i = knock_find(t, svc, k, NULL)) == KNOCK_NIL)
		return false;
	return t->v[i].open_until > now;
}

/*
 * Open (svc, k) until `until`, keeping a later end it has already: the
 * windows an engine had, handed to its successor.  There is no `now`
 * here, so an entry still in progress leaves the list whenever its end
 * moves (the caller only carries windows that are open).  -1 if the
 * table is full of open windows.
 */
int
knock_set_open(struct knocktab *t, uint32_t svc, const struct srckey *k,
    uint64_t until)
{
	uint32_t	 b, i;

	if (t->v == NULL)
		return -1;
	if ((i = knock_find(t, svc, k, &b)) == KNOCK_NIL) {
		if ((i = knock_alloc(t, b, svc, k)) == KNOCK_NIL)
			return -1;
		t->v[i].open_until = until;
		return 0;
	}
	if (until > t->v[i].open_until) {
		t->v[i].open_until = until;
		knock_unlist(t, i);
	}
	return 0;
}

/*
 * Free the entries neither open nor in progress at now; a sequence that
 * timed out under an open window goes back to step 0.  Returns how many
 * were freed.
 */
size_t
knock_expire(struct knocktab *t, uint64_t now)
{
	struct knock_ent	*e;
	uint32_t		*pp, i;
	size_t			 b, n = 0;

	if (t->v == NULL || t->count == 0)
		return 0;
	for (b = 0; b < t->nbuckets; b++) {
		pp = &t->buckets[b];
		while ((i = *pp) != KNOCK_NIL) {
			e = &t->v[i];
			if (e->step > 0 && now >= e->deadline) {
				e->step = 0;
				knock_unlist(t, i);
			}
			if (e->step > 0 || e->open_until > now) {
				pp = &e->hnext;
				continue;
			}
			*pp = e->hnext;
			memset(e, 0, sizeof(*e));
			e->prev = e->next = KNOCK_NIL;
			e->hnext = t->free;
			t->free = i;
			t->count--;
			n++;
		}
	}
	return n;
}
