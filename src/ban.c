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
 * The ban table: source groups refused at once on every service until
 * their ban ends.  It holds at most ban_max entries; when it is full a
 * new ban is refused (and logged by the caller) and no existing one is
 * ever evicted, so an attacker cannot unban himself by getting many
 * others banned.  Open addressing with backward-shift deletion; a group
 * is stored with its prefix, and lookups try each prefix in use.  Pure:
 * the time is passed in.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "portmuxd.h"

int
ban_init(struct bantab *t, size_t max, uint64_t seed)
{
	size_t	 n = 16;

	memset(t, 0, sizeof(*t));
	while (n < max * 2)
		n <<= 1;
	if ((t->v = calloc(n, sizeof(*t->v))) == NULL)
		return -1;
	t->size = n;
	t->max = max;
	t->seed = seed;
	return 0;
}

void
ban_clear(struct bantab *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static size_t
ban_slot(const struct bantab *t, const struct srckey *k)
{
	return (size_t)hash_bytes(k, sizeof(*k), t->seed) & (t->size - 1);
}

static struct banent *
ban_lookup(const struct bantab *t, const struct srckey *k)
{
	size_t	 i, mask = t->size - 1, s;

	for (i = 0, s = ban_slot(t, k); i < t->size; i++, s = (s + 1) & mask) {
		if (!t->v[s].used)
			return NULL;
		if (memcmp(&t->v[s].key, k, sizeof(*k)) == 0)
			return &t->v[s];
	}
	return NULL;
}

static void
prefix_mark(struct bantab *t, const struct srckey *k)
{
	if (k->family == AF_INET && k->prefix <= 32)
		t->pfx4[k->prefix]++;
	else if (k->family == AF_INET6 && k->prefix <= 128)
		t->pfx6[k->prefix]++;
}

static void
prefix_unmark(struct bantab *t, const struct srckey *k)
{
	if (k->family == AF_INET && k->prefix <= 32 && t->pfx4[k->prefix] > 0)
		t->pfx4[k->prefix]--;
	else if (k->family == AF_INET6 && k->prefix <= 128 &&
	    t->pfx6[k->prefix] > 0)
		t->pfx6[k->prefix]--;
}

/*
 * Ban k until `until`.  Returns 0 for a new ban (a ban over at now but
 * not yet swept counts as new), 1 if k is banned already (its end is
 * pushed out if later), -1 if the table is full.
 */
int
ban_add(struct bantab *t, const struct srckey *k, uint64_t until, int reason,
    uint64_t now)
{
	struct banent	*b;
	size_t		 s, mask = t->size - 1;

	if ((b = ban_lookup(t, k)) != NULL) {
		bool	 over = b->until <= now;

		if (until > b->until)
			b->until = until;
		if (over)
			b->reason = (uint8_t)reason;
		return over ? 0 : 1;
	}
	if (t->count >= t->max)
		return -1;
	for (s = ban_slot(t, k); t->v[s].used; s = (s + 1) & mask)
		;
	b = &t->v[s];
	memset(b, 0, sizeof(*b));
	b->used = true;
	b->key = *k;
	b->until = until;
	b->reason = (uint8_t)reason;
	t->count++;
	prefix_mark(t, k);
	return 0;
}

/*
 * Whether k is a group key as limit_group() makes them: a known family,
 * a prefix the family can have, and no bit set past the prefix.  The
 * monitor takes bans from an engine it does not trust: a key with host
 * bits set would be stored under one group and match another.
 */
bool
ban_key_canonical(const struct srckey *k)
{
	unsigned int	 bits, i;

	if (k->family == AF_INET)
		bits = 32;
	else if (k->family == AF_INET6)
		bits = 128;
	else
		return false;
	if (k->prefix > bits)
		return false;
	for (i = k->prefix; i < sizeof(k->addr) * 8; i++)
		if (k->addr[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

/* Remove the entry at slot s, shifting later ones of the run back. */
static void
ban_remove_slot(struct bantab *t, size_t s)
{
	size_t	 mask = t->size - 1, j = s, home;

	prefix_unmark(t, &t->v[s].key);
	t->v[s].used = false;
	t->count--;
	for (;;) {
		j = (j + 1) & mask;
		if (!t->v[j].used)
			return;
		home = ban_slot(t, &t->v[j].key);
		/* Can the entry at j move to the hole at s? */
		if (((j - home) & mask) >= ((j - s) & mask)) {
			t->v[s] = t->v[j];
			t->v[j].used = false;
			s = j;
		}
	}
}

/*
 * The ban that covers sa, if any and not over at now: the address is
 * grouped with each prefix a ban in the table uses.
 */
const struct banent *
ban_find(const struct bantab *t, const struct sockaddr *sa, uint64_t now)
{
	struct srckey		 k;
	const struct banent	*b;
	unsigned int		 p;

	if (t->count == 0)
		return NULL;
	limit_group(sa, 32, 128, &k);
	for (p = 0; p <= (k.family == AF_INET ? 32U : 128U); p++) {
		if (k.family == AF_INET ? t->pfx4[p] == 0 : t->pfx6[p] == 0)
			continue;
		limit_group(sa, p, p, &k);
		if ((b = ban_lookup(t, &k)) != NULL && b->until > now)
			return b;
	}
	return NULL;
}

/*
 * Remove the bans over at now, calling cb on each before it goes.
 * Returns how many ended.
 */
size_t
ban_expire(struct bantab *t, uint64_t now,
    void (*cb)(const struct banent *, void *), void *arg)
{
	size_t	 i, n = 0;

	/* Nothing to scan: do not even touch the (lazily mapped) table. */
	if (t->count == 0)
		return 0;
	for (i = 0; i < t->size; ) {
		if (t->v[i].used && t->v[i].until <= now) {
			if (cb != NULL)
				cb(&t->v[i], arg);
			ban_remove_slot(t, i);
			n++;
			/* The slot may hold a shifted entry: look again. */
			continue;
		}
		i++;
	}
	return n;
}

/* Whether a and b share addresses: one of the two contains the other. */
bool
ban_key_overlap(const struct srckey *a, const struct srckey *b)
{
	unsigned int	 p = a->prefix < b->prefix ? a->prefix : b->prefix;
	unsigned int	 bytes = p / 8, bits = p % 8;
	uint8_t		 mask;

	if (a->family != b->family)
		return false;
	if (memcmp(a->addr, b->addr, bytes) != 0)
		return false;
	if (bits == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - bits));
	return (a->addr[bytes] & mask) == (b->addr[bytes] & mask);
}

/*
 * portmuxctl unban: remove every ban that covers an address of k or
 * lies inside it, calling cb on each before it goes.  Returns how many.
 */
size_t
ban_remove_overlapping(struct bantab *t, const struct srckey *k,
    void (*cb)(const struct banent *, void *), void *arg)
{
	size_t	 i, n = 0;

	if (t->count == 0)
		return 0;
	for (i = 0; i < t->size; ) {
		if (t->v[i].used && ban_key_overlap(&t->v[i].key, k)) {
			if (cb != NULL)
				cb(&t->v[i], arg);
			ban_remove_slot(t, i);
			n++;
			continue;	/* the slot may hold a shifted entry */
		}
		i++;
	}
	return n;
}
