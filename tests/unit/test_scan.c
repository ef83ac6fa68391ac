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
 * The scan table (scan.c): the threshold, the sliding window, repeats
 * of a port, the fresh count after a report, eviction of the group
 * touched least recently, expiry, and a random run against a model that
 * does the same with linear search.  The table's links are checked
 * after every operation of that run.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scan.h"

#define WIN	1000		/* window_ms of the directed tests */

static struct srckey
key4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct srckey	 k;

	memset(&k, 0, sizeof(k));
	k.family = AF_INET;
	k.prefix = 32;
	k.addr[0] = a;
	k.addr[1] = b;
	k.addr[2] = c;
	k.addr[3] = d;
	return k;
}

static size_t
note(struct scantab *t, const struct srckey *k, uint16_t port, uint64_t now,
    uint32_t threshold, uint16_t *out)
{
	return scan_note(t, k, port, now, WIN, threshold, out);
}

static void
assert_ports(const uint16_t *got, size_t n, const uint16_t *want)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (got[i] != want[i])
			fail_msg("port %zu: %u, want %u", i, got[i], want[i]);
}

/*
 * The links agree with each other: chains reach count entries, each
 * findable and in the bucket of its key, the free list the rest; the
 * recency list runs both ways over exactly the used entries, in order
 * of last touch.
 */
static void
check_links(const struct scantab *t)
{
	const struct scan_ent	*e;
	uint32_t		 i, prev;
	size_t			 b, j, n = 0, nfree = 0, nlist = 0;

	for (b = 0; b < t->nbuckets; b++)
		for (i = t->buckets[b]; i != SCAN_NIL; i = t->v[i].hnext) {
			e = &t->v[i];
			assert_true(i < t->max);
			assert_true(e->used);
			assert_true(e->nports > 0);
			assert_true(e->nports < SCAN_PORTS_MAX);
			for (j = 1; j < e->nports; j++)
				assert_true(e->seen[j - 1] <= e->seen[j]);
			assert_true(e->seen[e->nports - 1] == e->last);
			n++;
			assert_true(n <= t->max);
		}
	assert_int_equal(n, t->count);
	for (i = t->free; i != SCAN_NIL; i = t->v[i].hnext) {
		assert_false(t->v[i].used);
		nfree++;
		assert_true(nfree <= t->max);
	}
	assert_int_equal(n + nfree, t->max);
	prev = SCAN_NIL;
	for (i = t->head; i != SCAN_NIL; i = t->v[i].next) {
		assert_true(t->v[i].used);
		assert_int_equal(t->v[i].prev, prev);
		if (prev != SCAN_NIL)
			assert_true(t->v[prev].last <= t->v[i].last);
		prev = i;
		nlist++;
		assert_true(nlist <= t->max);
	}
	assert_int_equal(t->tail, prev);
	assert_int_equal(nlist, n);
}

static void
test_scan_init(void **state __unused)
{
	struct scantab	 t;
	struct srckey	 k = key4(192, 0, 2, 1);
	uint16_t	 out[SCAN_PORTS_MAX];
	size_t		 sizes[] = { 1, 2, 3, 8, 9, 1000 };
	size_t		 i;

	assert_int_equal(scan_init(&t, 0, 1), -1);
	/* A failed init leaves a table that can be freed and used. */
	scan_free(&t);
	assert_int_equal(note(&t, &k, 22, 0, 2, out), 0);
	assert_int_equal(scan_expire(&t, 0, WIN), 0);
	scan_free(&t);

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(scan_init(&t, sizes[i], 42), 0);
		assert_int_equal(t.max, sizes[i]);
		assert_int_equal(t.count, 0);
		assert_true(t.nbuckets >= sizes[i]);
		assert_int_equal(t.nbuckets & (t.nbuckets - 1), 0);
		check_links(&t);
		scan_free(&t);
		assert_null(t.v);
		assert_null(t.buckets);
		assert_int_equal(t.max, 0);
	}
}

static void
test_scan_threshold(void **state __unused)
{
	struct scantab	 t;
	struct srckey	 k = key4(192, 0, 2, 1);
	uint16_t	 out[SCAN_PORTS_MAX];
	static const uint16_t want[] = { 22, 23, 80 };

	assert_int_equal(scan_init(&t, 16, 1), 0);
	assert_int_equal(note(&t, &k, 22, 0, 3, out), 0);
	assert_int_equal(note(&t, &k, 23, 10, 3, out), 0);
	assert_int_equal(note(&t, &k, 80, 20, 3, out), 3);
	assert_ports(out, 3, want);
	/* The group was dropped: a fresh count. */
	assert_int_equal(t.count, 0);
	assert_int_equal(note(&t, &k, 22, 30, 3, out), 0);
	assert_int_equal(note(&t, &k, 23, 40, 3, out), 0);
	assert_int_equal(note(&t, &k, 80, 50, 3, out), 3);
	check_links(&t);

	/* The smallest threshold. */
	assert_int_equal(note(&t, &k, 1, 60, 2, out), 0);
	assert_int_equal(note(&t, &k, 1, 60, 2, out), 0);
	assert_int_equal(note(&t, &k, 2, 60, 2, out), 2);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 2);
	scan_free(&t);
}

static void
test_scan_threshold_max(void **state __unused)
{
	struct scantab	 t;
	struct srckey	 k = key4(192, 0, 2, 1);
	uint16_t	 out[SCAN_PORTS_MAX + 1], p;

	assert_int_equal(scan_init(&t, 4, 1), 0);
	out[SCAN_PORTS_MAX] = 0xdead;
	for (p = 1; p < SCAN_PORTS_MAX; p++)
		assert_int_equal(note(&t, &k, p, p, SCAN_PORTS_MAX, out), 0);
	check_links(&t);
	assert_int_equal(note(&t, &k, 9999, 100, SCAN_PORTS_MAX, out),
	    SCAN_PORTS_MAX);
	for (p = 1; p < SCAN_PORTS_MAX; p++)
		assert_int_equal(out[p - 1], p);
	assert_int_equal(out[SCAN_PORTS_MAX - 1], 9999);
	/* Not a port more than SCAN_PORTS_MAX. */
	assert_int_equal(out[SCAN_PORTS_MAX], 0xdead);

	/* A threshold past the array's size fires at its size. */
	for (p = 1; p < SCAN_PORTS_MAX; p++)
		assert_int_equal(note(&t, &k, p, 200, 1000, out), 0);
	assert_int_equal(note(&t, &k, 9999, 200, 1000, out), SCAN_PORTS_MAX);
	assert_int_equal(out[SCAN_PORTS_MAX], 0xdead);
	assert_int_equal(t.count, 0);

	/* A threshold lowered in a reload fires at the next touch. */
	for (p = 1; p <= 10; p++)
		assert_int_equal(note(&t, &k, p, 300, 20, out), 0);
	assert_int_equal(note(&t, &k, 5, 301, 4, out), 10);
	assert_int_equal(out[9], 5);
	scan_free(&t);
}

static void
test_scan_duplicates(void **state __unused)
{
	struct scantab	 t;
	struct srckey	 k = key4(192, 0, 2, 1);
	uint16_t	 out[SCAN_PORTS_MAX];
	static const uint16_t want[] = { 23, 22, 80 };
	int		 i;

	assert_int_equal(scan_init(&t, 16, 1), 0);
	/* One port many times is not a scan. */
	for (i = 0; i < 100; i++)
		assert_int_equal(note(&t, &k, 22, (uint64_t)i, 3, out), 0);
	assert_int_equal(t.v[t.head].nports, 1);
	assert_int_equal(note(&t, &k, 23, 100, 3, out), 0);
	/* A repeat moves to the end: ports are in order of last touch. */
	assert_int_equal(note(&t, &k, 22, 110, 3, out), 0);
	assert_int_equal(note(&t, &k, 23, 120, 3, out), 0);
	assert_int_equal(note(&t, &k, 22, 130, 3, out), 0);
	assert_int_equal(t.v[t.head].nports, 2);
	check_links(&t);
	assert_int_equal(note(&t, &k, 80, 140, 3, out), 3);
	/* 23 (120), 22 (130), 80 (140). */
	assert_ports(out, 3, want);
	scan_free(&t);
}

static void
test_scan_window(void **state __unused)
{
	struct scantab	 t;
	struct srckey	 k = key4(192, 0, 2, 1);
	uint16_t	 out[SCAN_PORTS_MAX];
	static const uint16_t want1[] = { 23, 80, 81 };
	static const uint16_t want2[] = { 1, 2, 3 };
	static const uint16_t want3[] = { 22, 23, 80 };

	assert_int_equal(scan_init(&t, 16, 1), 0);
	/* 22 at 0 is out of the window at 1001... */
	assert_int_equal(note(&t, &k, 22, 0, 3, out), 0);
	assert_int_equal(note(&t, &k, 23, 500, 3, out), 0);
	assert_int_equal(note(&t, &k, 80, 1001, 3, out), 0);
	assert_int_equal(t.v[t.head].nports, 2);
	/* ...and 23 still in at 1500. */
	assert_int_equal(note(&t, &k, 81, 1500, 3, out), 3);
	assert_ports(out, 3, want1);
	check_links(&t);

	/* A port seen exactly window_ms ago is still in. */
	assert_int_equal(note(&t, &k, 1, 10000, 3, out), 0);
	assert_int_equal(note(&t, &k, 2, 10000, 3, out), 0);
	assert_int_equal(note(&t, &k, 3, 10000 + WIN, 3, out), 3);
	assert_ports(out, 3, want2);

	/* A touch keeps a port in the window. */
	assert_int_equal(note(&t, &k, 22, 20000, 3, out), 0);
	assert_int_equal(note(&t, &k, 22, 20900, 3, out), 0);
	assert_int_equal(note(&t, &k, 23, 21500, 3, out), 0);
	assert_int_equal(note(&t, &k, 80, 21600, 3, out), 3);
	assert_ports(out, 3, want3);

	/* All gone at once: the port just touched counts alone. */
	assert_int_equal(note(&t, &k, 1, 30000, 3, out), 0);
	assert_int_equal(note(&t, &k, 2, 30000, 3, out), 0);
	assert_int_equal(note(&t, &k, 3, 40000, 3, out), 0);
	assert_int_equal(t.v[t.head].nports, 1);
	assert_int_equal(t.v[t.head].ports[0], 3);
	check_links(&t);

	/* Early in the clock nothing underflows. */
	scan_free(&t);
	assert_int_equal(scan_init(&t, 16, 1), 0);
	assert_int_equal(scan_note(&t, &k, 1, 0, UINT32_MAX, 2, out), 0);
	assert_int_equal(scan_note(&t, &k, 2, 5, UINT32_MAX, 2, out), 2);
	/* A window of 0 keeps only the ports of this ms. */
	assert_int_equal(scan_note(&t, &k, 1, 10, 0, 2, out), 0);
	assert_int_equal(scan_note(&t, &k, 2, 11, 0, 2, out), 0);
	assert_int_equal(scan_note(&t, &k, 3, 11, 0, 2, out), 2);
	scan_free(&t);
}

static void
test_scan_independent(void **state __unused)
{
	struct scantab	 t;
	struct srckey	 a = key4(192, 0, 2, 1), b = key4(192, 0, 2, 2);
	struct srckey	 a6 = a;
	uint16_t	 out[SCAN_PORTS_MAX];

	a6.family = AF_INET6;
	assert_int_equal(scan_init(&t, 16, 1), 0);
	assert_int_equal(note(&t, &a, 1, 0, 3, out), 0);
	assert_int_equal(note(&t, &b, 2, 0, 3, out), 0);
	assert_int_equal(note(&t, &a6, 3, 0, 3, out), 0);
	assert_int_equal(note(&t, &b, 4, 0, 3, out), 0);
	assert_int_equal(note(&t, &a, 5, 0, 3, out), 0);
	assert_int_equal(t.count, 3);
	assert_int_equal(note(&t, &b, 6, 0, 3, out), 3);
	assert_int_equal(out[0], 2);
	assert_int_equal(out[1], 4);
	assert_int_equal(out[2], 6);
	assert_int_equal(note(&t, &a, 7, 0, 3, out), 3);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 5);
	assert_int_equal(out[2], 7);
	assert_int_equal(t.count, 1);
	check_links(&t);
	scan_free(&t);
}

static void
test_scan_lru(void **state __unused)
{
	struct scantab	 t;
	struct srckey	 a = key4(10, 0, 0, 1), b = key4(10, 0, 0, 2);
	struct srckey	 c = key4(10, 0, 0, 3), d = key4(10, 0, 0, 4);
	uint16_t	 out[SCAN_PORTS_MAX];

	assert_int_equal(scan_init(&t, 2, 9), 0);
	assert_int_equal(note(&t, &a, 1, 0, 3, out), 0);
	assert_int_equal(note(&t, &b, 1, 1, 3, out), 0);
	/* a is touched again: b is now the least recent. */
	assert_int_equal(note(&t, &a, 2, 2, 3, out), 0);
	assert_int_equal(note(&t, &c, 1, 3, 3, out), 0);
	assert_int_equal(t.count, 2);
	/* a kept its two ports; b lost its one. */
	assert_int_equal(note(&t, &a, 3, 4, 3, out), 3);
	assert_int_equal(note(&t, &b, 2, 5, 3, out), 0);
	assert_int_equal(note(&t, &b, 3, 6, 3, out), 0);
	check_links(&t);
	/* Touching a port already seen counts as a touch too: d evicts b. */
	assert_int_equal(note(&t, &c, 1, 7, 3, out), 0);
	assert_int_equal(note(&t, &d, 1, 8, 3, out), 0);
	/* b has lost 2 and 3 (else this is its third port); c goes. */
	assert_int_equal(note(&t, &b, 4, 9, 3, out), 0);
	assert_int_equal(t.v[t.tail].nports, 1);
	assert_int_equal(note(&t, &c, 2, 10, 3, out), 0);
	assert_int_equal(t.v[t.tail].nports, 1);
	/* d was the least recent then, and went: b has 4 still. */
	assert_int_equal(note(&t, &b, 5, 11, 3, out), 0);
	assert_int_equal(t.v[t.tail].nports, 2);
	check_links(&t);
	scan_free(&t);

	/* A table of one. */
	assert_int_equal(scan_init(&t, 1, 9), 0);
	assert_int_equal(note(&t, &a, 1, 0, 2, out), 0);
	assert_int_equal(note(&t, &b, 2, 0, 2, out), 0);
	assert_int_equal(note(&t, &a, 2, 0, 2, out), 0);
	assert_int_equal(note(&t, &a, 3, 0, 2, out), 2);
	check_links(&t);
	scan_free(&t);
}

static void
test_scan_expire(void **state __unused)
{
	struct scantab	 t;
	struct srckey	 k;
	uint16_t	 out[SCAN_PORTS_MAX];
	uint8_t		 i;

	assert_int_equal(scan_init(&t, 8, 5), 0);
	assert_int_equal(scan_expire(&t, 0, WIN), 0);
	for (i = 0; i < 8; i++) {
		k = key4(10, 0, 0, i);
		assert_int_equal(note(&t, &k, 1, 100 * (uint64_t)i, 3, out),
		    0);
	}
	/* Group 0 touched again: last touch, not first, counts. */
	k = key4(10, 0, 0, 0);
	assert_int_equal(note(&t, &k, 2, 750, 3, out), 0);
	/* At 1000 + 350, the groups touched before 350 go: 1, 2, 3. */
	assert_int_equal(scan_expire(&t, 1350, WIN), 3);
	assert_int_equal(t.count, 5);
	check_links(&t);
	/* Exactly window_ms ago is still in. */
	assert_int_equal(scan_expire(&t, 1400, WIN), 0);
	assert_int_equal(scan_expire(&t, 1401, WIN), 1);
	assert_int_equal(t.count, 4);
	/* Group 0 stays (port 1 slid out, 2 is in), group 1 is new. */
	assert_int_equal(note(&t, &k, 3, 1401, 3, out), 0);
	assert_int_equal(t.v[t.tail].nports, 2);
	k = key4(10, 0, 0, 1);
	assert_int_equal(note(&t, &k, 2, 1401, 3, out), 0);
	assert_int_equal(t.v[t.tail].nports, 1);
	assert_int_equal(t.count, 5);
	/* Each call passes its own window: 5, 6 and 7 go. */
	assert_int_equal(scan_expire(&t, 1401, 0), 3);
	assert_int_equal(scan_expire(&t, 100000, WIN), 2);
	assert_int_equal(t.count, 0);
	check_links(&t);
	scan_free(&t);
}

/* Groups differing only in high bits of their bytes spread out. */
static void
test_scan_spread(void **state __unused)
{
	struct scantab	 t;
	struct srckey	 k;
	uint16_t	 out[SCAN_PORTS_MAX];
	uint32_t	 i, j, len, longest = 0;

	assert_int_equal(scan_init(&t, 64, 0x5eed), 0);
	for (i = 0; i < 64; i++) {
		k = key4(10, (uint8_t)((i & 3) << 6), (uint8_t)((i >> 2 & 3) <<
		    6), (uint8_t)((i >> 4 & 3) << 6));
		assert_int_equal(note(&t, &k, 1, 0, 2, out), 0);
	}
	assert_int_equal(t.count, 64);
	for (i = 0; i < t.nbuckets; i++) {
		len = 0;
		for (j = t.buckets[i]; j != SCAN_NIL; j = t.v[j].hnext)
			len++;
		if (len > longest)
			longest = len;
	}
	/* Unmixed FNV-1a puts all 64 in one bucket. */
	assert_true(longest <= 10);
	scan_free(&t);
}

/*
 * The model: the same rules over an array searched linearly, recency a
 * counter stamped at each touch.
 */
#define M_MAX		8
#define M_SRCS		14
#define M_WIN		500

struct ment {
	bool		 used;
	int		 src;
	size_t		 n;
	uint16_t	 ports[SCAN_PORTS_MAX];
	uint64_t	 seen[SCAN_PORTS_MAX];
	uint64_t	 last;
	uint64_t	 stamp;
};

struct model {
	struct ment	 v[M_MAX];
	size_t		 count;
	uint64_t	 stamp;
};

static void
m_drop(struct model *m, struct ment *e)
{
	memset(e, 0, sizeof(*e));
	m->count--;
}

static size_t
m_note(struct model *m, int src, uint16_t port, uint64_t now,
    uint32_t threshold, uint16_t *out)
{
	struct ment	*e = NULL, *lru = NULL;
	size_t		 i, j, n;

	for (i = 0; i < M_MAX; i++)
		if (m->v[i].used && m->v[i].src == src)
			e = &m->v[i];
	if (e == NULL) {
		if (m->count == M_MAX) {
			for (i = 0; i < M_MAX; i++)
				if (lru == NULL || m->v[i].stamp < lru->stamp)
					lru = &m->v[i];
			m_drop(m, lru);
		}
		for (i = 0; m->v[i].used; i++)
			;
		e = &m->v[i];
		e->used = true;
		e->src = src;
		m->count++;
	}
	e->stamp = ++m->stamp;
	e->last = now;
	/* Remove the stale ports and this one, then append it. */
	for (i = 0; i < e->n; ) {
		if (e->seen[i] + M_WIN < now || e->ports[i] == port) {
			for (j = i + 1; j < e->n; j++) {
				e->ports[j - 1] = e->ports[j];
				e->seen[j - 1] = e->seen[j];
			}
			e->n--;
		} else
			i++;
	}
	e->ports[e->n] = port;
	e->seen[e->n] = now;
	e->n++;
	if (e->n < threshold)
		return 0;
	n = e->n;
	memcpy(out, e->ports, n * sizeof(out[0]));
	m_drop(m, e);
	return n;
}

static size_t
m_expire(struct model *m, uint64_t now)
{
	size_t	 i, n = 0;

	for (i = 0; i < M_MAX; i++)
		if (m->v[i].used && m->v[i].last + M_WIN < now) {
			m_drop(m, &m->v[i]);
			n++;
		}
	return n;
}

static struct srckey
m_key(int src)
{
	struct srckey	 k = key4(203, 0, 113, (uint8_t)(src / 2));

	if (src % 2)
		k.prefix = 24;
	return k;
}

/* The table holds what the model holds, port for port. */
static void
m_compare(const struct scantab *t, const struct model *m)
{
	const struct ment	*e;
	const struct scan_ent	*s;
	struct srckey		 k;
	size_t			 i, j;
	bool			 found;

	assert_int_equal(t->count, m->count);
	for (i = 0; i < M_MAX; i++) {
		e = &m->v[i];
		if (!e->used)
			continue;
		k = m_key(e->src);
		found = false;
		for (j = 0; j < t->max; j++) {
			s = &t->v[j];
			if (!s->used || memcmp(&s->key, &k, sizeof(k)) != 0)
				continue;
			assert_false(found);
			found = true;
			assert_int_equal(s->nports, e->n);
			assert_memory_equal(s->ports, e->ports,
			    e->n * sizeof(e->ports[0]));
			assert_memory_equal(s->seen, e->seen,
			    e->n * sizeof(e->seen[0]));
			assert_int_equal(s->last, e->last);
		}
		assert_true(found);
	}
}

static void
test_scan_model(void **state __unused)
{
	struct scantab	 t;
	struct model	 m;
	struct srckey	 k;
	uint16_t	 out[SCAN_PORTS_MAX], mout[SCAN_PORTS_MAX], port;
	uint64_t	 now = 1;
	uint32_t	 threshold;
	unsigned int	 seed;
	size_t		 n;
	int		 i, src;

	for (seed = 1; seed <= 8; seed++) {
		srandom(seed);
		memset(&m, 0, sizeof(m));
		assert_int_equal(scan_init(&t, M_MAX, seed), 0);
		/* Small thresholds fire often, large ones fill the array. */
		threshold = seed % 2 ? 2 + (uint32_t)(random() % 5) :
		    SCAN_PORTS_MAX;
		for (i = 0; i < 5000; i++) {
			now += (uint64_t)(random() % 8 == 0 ? random() % 600 :
			    random() % 30);
			src = (int)(random() % M_SRCS);
			if (random() % 20 == 0) {
				assert_int_equal(scan_expire(&t, now, M_WIN),
				    m_expire(&m, now));
			} else {
				k = m_key(src);
				port = threshold == SCAN_PORTS_MAX ?
				    (uint16_t)(1 + random() % 100) :
				    (uint16_t)(1 + random() % 8);
				n = m_note(&m, src, port, now, threshold,
				    mout);
				assert_int_equal(scan_note(&t, &k, port, now,
				    M_WIN, threshold, out), n);
				if (n > 0)
					assert_memory_equal(out, mout,
					    n * sizeof(out[0]));
			}
			m_compare(&t, &m);
			check_links(&t);
		}
		scan_free(&t);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_init),
		cmocka_unit_test(test_scan_threshold),
		cmocka_unit_test(test_scan_threshold_max),
		cmocka_unit_test(test_scan_duplicates),
		cmocka_unit_test(test_scan_window),
		cmocka_unit_test(test_scan_independent),
		cmocka_unit_test(test_scan_lru),
		cmocka_unit_test(test_scan_expire),
		cmocka_unit_test(test_scan_spread),
		cmocka_unit_test(test_scan_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
