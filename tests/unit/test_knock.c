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
 * The knock table (knock.c): the step parser, each rule of a sequence
 * (order, retransmits, repeated steps, the timeout from the first hit,
 * the window), eviction of the oldest sequence in progress and never of
 * an open window, expiry, and a random run against a model that does
 * the same with linear search.  The table's links are checked after
 * every operation of that run.
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

#include "knock.h"

#define TMO	10000		/* timeout_ms of the directed tests */
#define OPEN	60000		/* open_ms */

static const struct knock_step seq3[] = {
	{ IPPROTO_TCP, 1000 }, { IPPROTO_UDP, 2000 }, { IPPROTO_TCP, 3000 },
};
static const struct knock_step seq4[] = {
	{ IPPROTO_TCP, 1 }, { IPPROTO_TCP, 2 }, { IPPROTO_TCP, 3 },
	{ IPPROTO_TCP, 4 },
};
/* The same step twice in a row. */
static const struct knock_step seqrep[] = {
	{ IPPROTO_TCP, 1 }, { IPPROTO_TCP, 1 }, { IPPROTO_UDP, 2 },
};
static const struct knock_step wrong = { IPPROTO_TCP, 4444 };

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

/* Knock seq[i] of seq3 for (svc, k). */
static enum knock_event
hit3(struct knocktab *t, uint32_t svc, const struct srckey *k, size_t i,
    uint64_t now)
{
	return knock_hit(t, svc, k, seq3, 3, &seq3[i], TMO, OPEN, now);
}

/* Knock all of seq3 at now. */
static void
open3(struct knocktab *t, uint32_t svc, const struct srckey *k, uint64_t now)
{
	assert_int_equal(hit3(t, svc, k, 0, now), KNOCK_STEP);
	assert_int_equal(hit3(t, svc, k, 1, now), KNOCK_STEP);
	assert_int_equal(hit3(t, svc, k, 2, now), KNOCK_OPENED);
}

/*
 * The links agree with each other: chains reach count entries, each in
 * the bucket of its key, the free list the rest; the in-progress list
 * runs both ways, holds exactly the listed entries, and none of them is
 * open at now or at step 0.
 */
static void
check_links(const struct knocktab *t, uint64_t now)
{
	const struct knock_ent	*e;
	uint32_t		 i, prev;
	size_t			 b, n = 0, nfree = 0, nlisted = 0, nlist = 0;

	for (b = 0; b < t->nbuckets; b++)
		for (i = t->buckets[b]; i != KNOCK_NIL; i = t->v[i].hnext) {
			e = &t->v[i];
			assert_true(i < t->max);
			assert_true(e->used);
			assert_true(knock_is_open(t, e->svc, &e->key, now) ==
			    (e->open_until > now));
			n++;
			assert_true(n <= t->max);
			if (e->listed) {
				nlisted++;
				assert_true(e->step > 0);
				assert_true(e->open_until <= now);
			}
		}
	assert_int_equal(n, t->count);
	for (i = t->free; i != KNOCK_NIL; i = t->v[i].hnext) {
		assert_false(t->v[i].used);
		assert_false(t->v[i].listed);
		nfree++;
		assert_true(nfree <= t->max);
	}
	assert_int_equal(n + nfree, t->max);
	prev = KNOCK_NIL;
	for (i = t->head; i != KNOCK_NIL; i = t->v[i].next) {
		assert_true(t->v[i].listed);
		assert_int_equal(t->v[i].prev, prev);
		prev = i;
		nlist++;
		assert_true(nlist <= t->max);
	}
	assert_int_equal(t->tail, prev);
	assert_int_equal(nlist, nlisted);
}

static void
test_knock_parse_step(void **state __unused)
{
	static const struct {
		const char	*s;
		uint8_t		 proto;
		uint16_t	 port;
	} good[] = {
		{ "tcp:1", IPPROTO_TCP, 1 },
		{ "udp:1", IPPROTO_UDP, 1 },
		{ "tcp:22", IPPROTO_TCP, 22 },
		{ "udp:65535", IPPROTO_UDP, 65535 },
		{ "tcp:00022", IPPROTO_TCP, 22 },
		{ "udp:09999", IPPROTO_UDP, 9999 },
		{ "tcp:00001", IPPROTO_TCP, 1 },
	};
	static const char *bad[] = {
		"", "tcp", "tcp:", "udp:", "tcp:0", "udp:00000", "tcp:65536",
		"tcp:99999", "tcp:100000", "tcp:000022", "tcp:1x", "tcp:1 ",
		" tcp:1", "tcp: 1", "tcp:+1", "tcp:-1", "tcp:0x10", "tcp:1:2",
		"tcp:1.5", "TCP:1", "Tcp:1", "UDP:1", "sctp:1", "tcp=1",
		"tcp;1", "icmp:1", ":1", "tcp::1", "tcp:\t1", "tcp:1\n",
		"tcp:4294967297",
	};
	struct knock_step	 st;
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&st, 0, sizeof(st));
		assert_int_equal(knock_parse_step(good[i].s, &st), 0);
		assert_int_equal(st.proto, good[i].proto);
		assert_int_equal(st.port, good[i].port);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st.proto = 99;
		st.port = 7;
		if (knock_parse_step(bad[i], &st) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		/* A failure leaves the output alone. */
		assert_int_equal(st.proto, 99);
		assert_int_equal(st.port, 7);
	}
	assert_int_equal(knock_parse_step(NULL, &st), -1);
}

static void
test_knock_init(void **state __unused)
{
	struct knocktab	 t;
	struct srckey	 k = key4(192, 0, 2, 1);
	size_t		 sizes[] = { 1, 2, 3, 8, 9, 1000 };
	size_t		 i;

	assert_int_equal(knock_init(&t, 0, 1), -1);
	/* A failed init leaves a table that can be freed and used. */
	knock_free(&t);
	assert_false(knock_is_open(&t, 0, &k, 0));
	assert_int_equal(hit3(&t, 0, &k, 0, 0), KNOCK_IGNORED);
	assert_int_equal(knock_set_open(&t, 0, &k, 100), -1);
	assert_int_equal(knock_expire(&t, 0), 0);
	knock_free(&t);

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(knock_init(&t, sizes[i], 42), 0);
		assert_int_equal(t.max, sizes[i]);
		assert_int_equal(t.count, 0);
		assert_true(t.nbuckets >= sizes[i]);
		assert_int_equal(t.nbuckets & (t.nbuckets - 1), 0);
		check_links(&t, 0);
		knock_free(&t);
		assert_null(t.v);
		assert_null(t.buckets);
		assert_int_equal(t.max, 0);
	}
}

static void
test_knock_right_order_opens(void **state __unused)
{
	struct knocktab	 t;
	struct srckey	 k = key4(192, 0, 2, 1);

	assert_int_equal(knock_init(&t, 16, 1), 0);
	assert_false(knock_is_open(&t, 0, &k, 100));
	assert_int_equal(hit3(&t, 0, &k, 0, 100), KNOCK_STEP);
	assert_false(knock_is_open(&t, 0, &k, 100));
	assert_int_equal(hit3(&t, 0, &k, 1, 200), KNOCK_STEP);
	assert_false(knock_is_open(&t, 0, &k, 200));
	assert_int_equal(hit3(&t, 0, &k, 2, 300), KNOCK_OPENED);
	assert_true(knock_is_open(&t, 0, &k, 300));
	/* Open for exactly open_ms from the last knock. */
	assert_true(knock_is_open(&t, 0, &k, 300 + OPEN - 1));
	assert_false(knock_is_open(&t, 0, &k, 300 + OPEN));
	check_links(&t, 300);
	assert_int_equal(t.head, KNOCK_NIL);
	/* Only that service, and only that source. */
	assert_false(knock_is_open(&t, 1, &k, 300));
	k.addr[3]++;
	assert_false(knock_is_open(&t, 0, &k, 300));
	knock_free(&t);
}

static void
test_knock_single_step(void **state __unused)
{
	struct knocktab		 t;
	struct srckey		 k = key4(192, 0, 2, 1);
	struct knock_step	 one = { IPPROTO_UDP, 7 };

	assert_int_equal(knock_init(&t, 4, 1), 0);
	assert_int_equal(knock_hit(&t, 0, &k, &one, 1, &wrong, TMO, 100, 0),
	    KNOCK_RESET);
	assert_int_equal(t.count, 0);
	assert_int_equal(knock_hit(&t, 0, &k, &one, 1, &one, TMO, 100, 0),
	    KNOCK_OPENED);
	assert_true(knock_is_open(&t, 0, &k, 99));
	/* Each knock opens again, from its own time. */
	assert_int_equal(knock_hit(&t, 0, &k, &one, 1, &one, TMO, 100, 50),
	    KNOCK_OPENED);
	assert_true(knock_is_open(&t, 0, &k, 149));
	assert_false(knock_is_open(&t, 0, &k, 150));
	/* A wrong port while open does not close the window. */
	assert_int_equal(knock_hit(&t, 0, &k, &one, 1, &wrong, TMO, 100, 60),
	    KNOCK_RESET);
	assert_true(knock_is_open(&t, 0, &k, 149));
	check_links(&t, 60);
	knock_free(&t);
}

static void
test_knock_wrong_order_resets(void **state __unused)
{
	struct knocktab	 t;
	struct srckey	 k = key4(192, 0, 2, 1);

	assert_int_equal(knock_init(&t, 16, 1), 0);
	/* A wrong first port takes no entry. */
	assert_int_equal(hit3(&t, 0, &k, 1, 0), KNOCK_RESET);
	assert_int_equal(hit3(&t, 0, &k, 2, 0), KNOCK_RESET);
	assert_int_equal(knock_hit(&t, 0, &k, seq3, 3, &wrong, TMO, OPEN, 0),
	    KNOCK_RESET);
	assert_int_equal(t.count, 0);
	/* The third port right after the first. */
	assert_int_equal(hit3(&t, 0, &k, 0, 10), KNOCK_STEP);
	assert_int_equal(t.count, 1);
	assert_int_equal(hit3(&t, 0, &k, 2, 20), KNOCK_RESET);
	/* Back at step 0, and the entry is gone. */
	assert_int_equal(t.count, 0);
	assert_int_equal(hit3(&t, 0, &k, 1, 30), KNOCK_RESET);
	assert_int_equal(hit3(&t, 0, &k, 2, 40), KNOCK_RESET);
	assert_false(knock_is_open(&t, 0, &k, 40));
	/* Reverse order never opens. */
	assert_int_equal(hit3(&t, 0, &k, 2, 50), KNOCK_RESET);
	assert_int_equal(hit3(&t, 0, &k, 1, 50), KNOCK_RESET);
	assert_int_equal(hit3(&t, 0, &k, 0, 50), KNOCK_STEP);
	assert_false(knock_is_open(&t, 0, &k, 50));
	/* Then the right order still works. */
	assert_int_equal(hit3(&t, 0, &k, 1, 60), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &k, 2, 70), KNOCK_OPENED);
	assert_true(knock_is_open(&t, 0, &k, 70));
	check_links(&t, 70);
	knock_free(&t);
}

static void
test_knock_out_of_order_mid(void **state __unused)
{
	struct knocktab	 t;
	struct srckey	 k = key4(192, 0, 2, 1);

	assert_int_equal(knock_init(&t, 16, 1), 0);
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[0], TMO, OPEN, 0),
	    KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[1], TMO, OPEN, 1),
	    KNOCK_STEP);
	/* Skipping a step loses all progress... */
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[3], TMO, OPEN, 2),
	    KNOCK_RESET);
	/* ...so the step that was next no longer counts. */
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[2], TMO, OPEN, 3),
	    KNOCK_RESET);
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[3], TMO, OPEN, 4),
	    KNOCK_RESET);
	assert_false(knock_is_open(&t, 0, &k, 4));
	/* A port not in the sequence at all, at step 2. */
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[0], TMO, OPEN, 5),
	    KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[1], TMO, OPEN, 6),
	    KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &wrong, TMO, OPEN, 7),
	    KNOCK_RESET);
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[2], TMO, OPEN, 8),
	    KNOCK_RESET);
	/* The right port with the wrong protocol is a wrong port. */
	{
		struct knock_step	 udp2 = { IPPROTO_UDP, 2 };

		assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[0], TMO,
		    OPEN, 9), KNOCK_STEP);
		assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &udp2, TMO,
		    OPEN, 10), KNOCK_RESET);
		assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[2], TMO,
		    OPEN, 11), KNOCK_RESET);
	}
	assert_int_equal(t.count, 0);
	check_links(&t, 11);
	knock_free(&t);
}

/* The first port mid-sequence starts over: KNOCK_RESET, but at step 1. */
static void
test_knock_restart(void **state __unused)
{
	struct knocktab	 t;
	struct srckey	 k = key4(192, 0, 2, 1);

	assert_int_equal(knock_init(&t, 16, 1), 0);
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[0], TMO, OPEN, 0),
	    KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[1], TMO, OPEN, 1),
	    KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[2], TMO, OPEN, 2),
	    KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[0], TMO, OPEN,
	    5000), KNOCK_RESET);
	/* The restart moved the deadline: 5000 + TMO, not 0 + TMO. */
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[1], TMO, OPEN,
	    TMO + 1000), KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[2], TMO, OPEN,
	    TMO + 2000), KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[3], TMO, OPEN,
	    TMO + 3000), KNOCK_OPENED);
	assert_true(knock_is_open(&t, 0, &k, TMO + 3000));
	knock_free(&t);
}

static void
test_knock_duplicate_ignored(void **state __unused)
{
	struct knocktab	 t;
	struct srckey	 k = key4(192, 0, 2, 1);

	assert_int_equal(knock_init(&t, 16, 1), 0);
	assert_int_equal(hit3(&t, 0, &k, 0, 0), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &k, 0, 1), KNOCK_IGNORED);
	assert_int_equal(hit3(&t, 0, &k, 0, 2), KNOCK_IGNORED);
	assert_int_equal(hit3(&t, 0, &k, 1, 3), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &k, 1, 4), KNOCK_IGNORED);
	assert_int_equal(hit3(&t, 0, &k, 2, 5), KNOCK_OPENED);
	knock_free(&t);

	/* A duplicate does not extend the deadline. */
	assert_int_equal(knock_init(&t, 16, 1), 0);
	assert_int_equal(hit3(&t, 0, &k, 0, 0), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &k, 1, 100), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &k, 1, TMO - 1), KNOCK_IGNORED);
	assert_int_equal(hit3(&t, 0, &k, 2, TMO), KNOCK_RESET);
	assert_false(knock_is_open(&t, 0, &k, TMO));
	knock_free(&t);

	/* An older step than the last one is out of order. */
	assert_int_equal(knock_init(&t, 16, 1), 0);
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[0], TMO, OPEN, 0),
	    KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[1], TMO, OPEN, 1),
	    KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[2], TMO, OPEN, 2),
	    KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[1], TMO, OPEN, 3),
	    KNOCK_RESET);
	assert_int_equal(knock_hit(&t, 0, &k, seq4, 4, &seq4[3], TMO, OPEN, 4),
	    KNOCK_RESET);
	assert_false(knock_is_open(&t, 0, &k, 4));
	knock_free(&t);
}

static void
test_knock_repeated_steps(void **state __unused)
{
	struct knocktab		 t;
	struct srckey		 k = key4(192, 0, 2, 1);
	static const struct knock_step seqaba[] = {
		{ IPPROTO_TCP, 1 }, { IPPROTO_TCP, 2 }, { IPPROTO_TCP, 1 },
	};

	assert_int_equal(knock_init(&t, 16, 1), 0);
	/* tcp:1,tcp:1,udp:2: the second tcp:1 is the next step. */
	assert_int_equal(knock_hit(&t, 0, &k, seqrep, 3, &seqrep[0], TMO,
	    OPEN, 0), KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seqrep, 3, &seqrep[1], TMO,
	    OPEN, 1), KNOCK_STEP);
	/* A third is a retransmit of it. */
	assert_int_equal(knock_hit(&t, 0, &k, seqrep, 3, &seqrep[0], TMO,
	    OPEN, 2), KNOCK_IGNORED);
	assert_int_equal(knock_hit(&t, 0, &k, seqrep, 3, &seqrep[2], TMO,
	    OPEN, 3), KNOCK_OPENED);
	assert_true(knock_is_open(&t, 0, &k, 3));
	knock_free(&t);

	/* tcp:1 then udp:2 skipped the second tcp:1. */
	assert_int_equal(knock_init(&t, 16, 1), 0);
	assert_int_equal(knock_hit(&t, 0, &k, seqrep, 3, &seqrep[0], TMO,
	    OPEN, 0), KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seqrep, 3, &seqrep[2], TMO,
	    OPEN, 1), KNOCK_RESET);
	assert_int_equal(t.count, 0);
	assert_false(knock_is_open(&t, 0, &k, 1));
	knock_free(&t);

	/* tcp:1,tcp:2,tcp:1: the last step equals the first. */
	assert_int_equal(knock_init(&t, 16, 1), 0);
	assert_int_equal(knock_hit(&t, 0, &k, seqaba, 3, &seqaba[0], TMO,
	    OPEN, 0), KNOCK_STEP);
	/* At step 1, tcp:1 is a retransmit, not a restart. */
	assert_int_equal(knock_hit(&t, 0, &k, seqaba, 3, &seqaba[0], TMO,
	    OPEN, 1), KNOCK_IGNORED);
	assert_int_equal(knock_hit(&t, 0, &k, seqaba, 3, &seqaba[1], TMO,
	    OPEN, 2), KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seqaba, 3, &seqaba[2], TMO,
	    OPEN, 3), KNOCK_OPENED);
	assert_true(knock_is_open(&t, 0, &k, 3));
	knock_free(&t);
}

static void
test_knock_timeout(void **state __unused)
{
	struct knocktab	 t;
	struct srckey	 k = key4(192, 0, 2, 1);

	assert_int_equal(knock_init(&t, 16, 1), 0);
	/* Done one ms before the deadline: opens. */
	assert_int_equal(hit3(&t, 0, &k, 0, 1000), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &k, 1, 1000 + TMO - 2), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &k, 2, 1000 + TMO - 1), KNOCK_OPENED);
	knock_free(&t);

	/* The timeout runs from the first hit, not the last. */
	assert_int_equal(knock_init(&t, 16, 1), 0);
	assert_int_equal(hit3(&t, 0, &k, 0, 1000), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &k, 1, 1000 + TMO - 1), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &k, 2, 1000 + TMO), KNOCK_RESET);
	assert_false(knock_is_open(&t, 0, &k, 1000 + TMO));
	assert_int_equal(t.count, 0);
	/* Starting afresh after the timeout works. */
	open3(&t, 0, &k, 1000 + TMO + 1);
	assert_true(knock_is_open(&t, 0, &k, 1000 + TMO + 1));
	knock_free(&t);

	/* After the timeout the first port is a fresh start, not a reset. */
	assert_int_equal(knock_init(&t, 16, 1), 0);
	assert_int_equal(hit3(&t, 0, &k, 0, 0), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &k, 1, 1), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &k, 0, TMO), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &k, 1, TMO + 1), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &k, 2, 2 * TMO - 1), KNOCK_OPENED);
	knock_free(&t);

	/* After the timeout a repeat of the last step is not ignored. */
	assert_int_equal(knock_init(&t, 16, 1), 0);
	assert_int_equal(hit3(&t, 0, &k, 0, 0), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &k, 1, 1), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &k, 1, TMO), KNOCK_RESET);
	assert_int_equal(hit3(&t, 0, &k, 2, TMO), KNOCK_RESET);
	assert_false(knock_is_open(&t, 0, &k, TMO));
	knock_free(&t);

	/* Each service has its own timeout. */
	assert_int_equal(knock_init(&t, 16, 1), 0);
	assert_int_equal(knock_hit(&t, 0, &k, seq3, 3, &seq3[0], 100, OPEN, 0),
	    KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 1, &k, seq3, 3, &seq3[0], 1000, OPEN,
	    0), KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seq3, 3, &seq3[1], 100, OPEN,
	    500), KNOCK_RESET);
	assert_int_equal(knock_hit(&t, 1, &k, seq3, 3, &seq3[1], 1000, OPEN,
	    500), KNOCK_STEP);
	knock_free(&t);
}

static void
test_knock_window_closes(void **state __unused)
{
	struct knocktab	 t;
	struct srckey	 k = key4(192, 0, 2, 1);

	assert_int_equal(knock_init(&t, 16, 1), 0);
	assert_int_equal(knock_hit(&t, 0, &k, seq3, 3, &seq3[0], TMO, 5000,
	    100), KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seq3, 3, &seq3[1], TMO, 5000,
	    100), KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seq3, 3, &seq3[2], TMO, 5000,
	    100), KNOCK_OPENED);
	assert_true(knock_is_open(&t, 0, &k, 5099));
	assert_false(knock_is_open(&t, 0, &k, 5100));
	assert_false(knock_is_open(&t, 0, &k, 100000));
	/* open_ms 0 opens nothing. */
	k.addr[3]++;
	assert_int_equal(knock_hit(&t, 0, &k, seq3, 3, &seq3[0], TMO, 0, 100),
	    KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seq3, 3, &seq3[1], TMO, 0, 100),
	    KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seq3, 3, &seq3[2], TMO, 0, 100),
	    KNOCK_OPENED);
	assert_false(knock_is_open(&t, 0, &k, 100));
	knock_free(&t);
}

static void
test_knock_reknock_extends(void **state __unused)
{
	struct knocktab	 t;
	struct srckey	 k = key4(192, 0, 2, 1);

	assert_int_equal(knock_init(&t, 16, 1), 0);
	open3(&t, 0, &k, 0);
	/* Knocking again, the window stays open meanwhile. */
	assert_int_equal(hit3(&t, 0, &k, 0, OPEN - 100), KNOCK_STEP);
	assert_true(knock_is_open(&t, 0, &k, OPEN - 100));
	assert_int_equal(hit3(&t, 0, &k, 1, OPEN - 50), KNOCK_STEP);
	/* An open window is never on the in-progress list. */
	assert_int_equal(t.head, KNOCK_NIL);
	check_links(&t, OPEN - 50);
	assert_int_equal(hit3(&t, 0, &k, 2, OPEN - 10), KNOCK_OPENED);
	assert_true(knock_is_open(&t, 0, &k, OPEN));
	assert_true(knock_is_open(&t, 0, &k, 2 * OPEN - 11));
	assert_false(knock_is_open(&t, 0, &k, 2 * OPEN - 10));

	/* A botched re-knock does not close the window. */
	assert_int_equal(hit3(&t, 0, &k, 0, OPEN), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &k, 2, OPEN + 1), KNOCK_RESET);
	assert_true(knock_is_open(&t, 0, &k, OPEN + 1));
	assert_int_equal(t.count, 1);
	/* Nor does a timed-out one. */
	assert_int_equal(hit3(&t, 0, &k, 0, OPEN + 2), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &k, 1, OPEN + 2 + TMO), KNOCK_RESET);
	assert_true(knock_is_open(&t, 0, &k, OPEN + 2 + TMO));
	check_links(&t, OPEN + 2 + TMO);

	/*
	 * Completing again sets the end from open_ms, even an earlier
	 * end: a reload that shortened open_ms applies.
	 */
#define T	(OPEN + 3 + TMO)
	assert_int_equal(knock_hit(&t, 0, &k, seq3, 3, &seq3[0], TMO, 100, T),
	    KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seq3, 3, &seq3[1], TMO, 100, T),
	    KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &k, seq3, 3, &seq3[2], TMO, 100, T),
	    KNOCK_OPENED);
	assert_true(knock_is_open(&t, 0, &k, T + 99));
	assert_false(knock_is_open(&t, 0, &k, T + 100));
#undef T
	knock_free(&t);
}

/*
 * A re-knock started under an open window that closes before it is done
 * goes on the in-progress list at its next step, and may be evicted.
 */
static void
test_knock_reknock_outlives_window(void **state __unused)
{
	struct knocktab	 t;
	struct srckey	 a = key4(192, 0, 2, 1), b = key4(192, 0, 2, 2);
	struct srckey	 c = key4(192, 0, 2, 3), d = key4(192, 0, 2, 4);

	assert_int_equal(knock_init(&t, 2, 1), 0);
	assert_int_equal(knock_hit(&t, 0, &a, seq4, 4, &seq4[0], TMO, 100, 0),
	    KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &a, seq4, 4, &seq4[1], TMO, 100, 0),
	    KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &a, seq4, 4, &seq4[2], TMO, 100, 0),
	    KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &a, seq4, 4, &seq4[3], TMO, 100, 0),
	    KNOCK_OPENED);
	/* a re-knocks at 50, open until 100. */
	assert_int_equal(knock_hit(&t, 0, &a, seq4, 4, &seq4[0], TMO, 100, 50),
	    KNOCK_STEP);
	assert_int_equal(t.head, KNOCK_NIL);
	assert_int_equal(knock_hit(&t, 0, &b, seq4, 4, &seq4[0], TMO, 100, 60),
	    KNOCK_STEP);
	/* The window closed; a's next step lists it after b. */
	assert_int_equal(knock_hit(&t, 0, &a, seq4, 4, &seq4[1], TMO, 100,
	    200), KNOCK_STEP);
	assert_false(knock_is_open(&t, 0, &a, 200));
	check_links(&t, 200);
	/* c evicts b, the older on the list, then d evicts a. */
	assert_int_equal(knock_hit(&t, 0, &c, seq4, 4, &seq4[0], TMO, 100,
	    300), KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &b, seq4, 4, &seq4[1], TMO, 100,
	    300), KNOCK_RESET);
	assert_int_equal(knock_hit(&t, 0, &d, seq4, 4, &seq4[0], TMO, 100,
	    300), KNOCK_STEP);
	assert_int_equal(knock_hit(&t, 0, &a, seq4, 4, &seq4[2], TMO, 100,
	    300), KNOCK_RESET);
	assert_int_equal(knock_hit(&t, 0, &c, seq4, 4, &seq4[1], TMO, 100,
	    300), KNOCK_STEP);
	check_links(&t, 300);
	knock_free(&t);
}

static void
test_knock_independent(void **state __unused)
{
	struct knocktab	 t;
	struct srckey	 a = key4(192, 0, 2, 1), b = key4(192, 0, 2, 2);
	struct srckey	 a6;

	assert_int_equal(knock_init(&t, 16, 1), 0);
	/* Interleaved, two sources and two services do not mix. */
	assert_int_equal(hit3(&t, 0, &a, 0, 0), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &b, 0, 1), KNOCK_STEP);
	assert_int_equal(hit3(&t, 1, &a, 0, 2), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &a, 1, 3), KNOCK_STEP);
	/* b's wrong port resets b only. */
	assert_int_equal(hit3(&t, 0, &b, 2, 4), KNOCK_RESET);
	assert_int_equal(hit3(&t, 1, &a, 1, 5), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &a, 2, 6), KNOCK_OPENED);
	assert_true(knock_is_open(&t, 0, &a, 6));
	assert_false(knock_is_open(&t, 1, &a, 6));
	assert_false(knock_is_open(&t, 0, &b, 6));
	assert_int_equal(hit3(&t, 1, &a, 2, 7), KNOCK_OPENED);
	assert_true(knock_is_open(&t, 1, &a, 7));
	/* b's steps for svc 1 do not continue a's. */
	assert_int_equal(hit3(&t, 1, &b, 1, 8), KNOCK_RESET);
	assert_false(knock_is_open(&t, 1, &b, 8));

	/* The same bytes with another family or prefix are another key. */
	a6 = a;
	a6.family = AF_INET6;
	assert_false(knock_is_open(&t, 0, &a6, 8));
	a6 = a;
	a6.prefix = 24;
	assert_false(knock_is_open(&t, 0, &a6, 8));
	assert_int_equal(t.count, 2);
	check_links(&t, 8);
	knock_free(&t);
}

static void
test_knock_full_evicts_oldest(void **state __unused)
{
	struct knocktab	 t;
	struct srckey	 a = key4(10, 0, 0, 1), b = key4(10, 0, 0, 2);
	struct srckey	 c = key4(10, 0, 0, 3), d = key4(10, 0, 0, 4);

	assert_int_equal(knock_init(&t, 2, 7), 0);
	assert_int_equal(hit3(&t, 0, &a, 0, 0), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &b, 0, 1), KNOCK_STEP);
	/* a's later step does not make it younger. */
	assert_int_equal(hit3(&t, 0, &a, 1, 2), KNOCK_STEP);
	/* A wrong port from a new source evicts nothing. */
	assert_int_equal(hit3(&t, 0, &c, 1, 3), KNOCK_RESET);
	assert_int_equal(t.count, 2);
	/* c's first step evicts a, whose sequence started first. */
	assert_int_equal(hit3(&t, 0, &c, 0, 4), KNOCK_STEP);
	assert_int_equal(t.count, 2);
	assert_int_equal(hit3(&t, 0, &a, 2, 5), KNOCK_RESET);
	assert_int_equal(hit3(&t, 0, &b, 1, 6), KNOCK_STEP);
	check_links(&t, 6);

	/* A restart moves b to the tail: d then evicts c. */
	assert_int_equal(hit3(&t, 0, &b, 0, 7), KNOCK_RESET);
	assert_int_equal(hit3(&t, 0, &d, 0, 8), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &c, 1, 9), KNOCK_RESET);
	assert_int_equal(hit3(&t, 0, &b, 1, 10), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &b, 2, 11), KNOCK_OPENED);
	assert_int_equal(hit3(&t, 0, &d, 1, 12), KNOCK_STEP);
	check_links(&t, 12);
	knock_free(&t);

	/* A timed-out sequence restarting goes to the tail too. */
	assert_int_equal(knock_init(&t, 2, 7), 0);
	assert_int_equal(hit3(&t, 0, &a, 0, 0), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &b, 0, 1), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &a, 0, TMO), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &c, 0, TMO + 1), KNOCK_STEP);
	/* c evicted b, not a. */
	assert_int_equal(hit3(&t, 0, &a, 1, TMO + 2), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &c, 1, TMO + 2), KNOCK_STEP);
	check_links(&t, TMO + 3);
	knock_free(&t);
}

static void
test_knock_full_never_evicts_open(void **state __unused)
{
	struct knocktab	 t;
	struct srckey	 a = key4(10, 0, 0, 1), b = key4(10, 0, 0, 2);
	struct srckey	 c = key4(10, 0, 0, 3), d = key4(10, 0, 0, 4);
	struct srckey	 k;
	int		 i;

	assert_int_equal(knock_init(&t, 2, 7), 0);
	open3(&t, 0, &a, 0);
	assert_int_equal(hit3(&t, 0, &b, 0, 1), KNOCK_STEP);
	/* c evicts b, d evicts c; a stays open throughout. */
	assert_int_equal(hit3(&t, 0, &c, 0, 2), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &d, 0, 3), KNOCK_STEP);
	assert_true(knock_is_open(&t, 0, &a, 3));
	/* A flood of first knocks from new sources. */
	for (i = 0; i < 1000; i++) {
		k = key4(172, 16, (uint8_t)(i >> 8), (uint8_t)i);
		assert_int_equal(hit3(&t, 0, &k, 0, 4), KNOCK_STEP);
	}
	assert_true(knock_is_open(&t, 0, &a, 4));
	/* The last of them completes. */
	assert_int_equal(hit3(&t, 0, &k, 1, 5), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &k, 2, 6), KNOCK_OPENED);
	/* Full of open windows: a new source gets KNOCK_FULL, no change. */
	assert_int_equal(hit3(&t, 0, &b, 0, 7), KNOCK_FULL);
	assert_int_equal(hit3(&t, 1, &a, 0, 7), KNOCK_FULL);
	assert_int_equal(t.count, 2);
	assert_int_equal(hit3(&t, 0, &b, 1, 7), KNOCK_RESET);
	assert_true(knock_is_open(&t, 0, &a, 7));
	assert_true(knock_is_open(&t, 0, &k, 7));
	/* The sources that hold entries can still re-knock. */
	assert_int_equal(hit3(&t, 0, &a, 0, 8), KNOCK_STEP);
	/* Re-knocking while open is not evictable either. */
	assert_int_equal(hit3(&t, 0, &b, 0, 9), KNOCK_FULL);
	assert_int_equal(hit3(&t, 0, &a, 1, 9), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &a, 2, 9), KNOCK_OPENED);
	check_links(&t, 9);
	/* Once the windows close and expire runs, there is room. */
	assert_int_equal(knock_expire(&t, 9 + OPEN), 2);
	assert_int_equal(hit3(&t, 0, &b, 0, 9 + OPEN), KNOCK_STEP);
	check_links(&t, 9 + OPEN);
	knock_free(&t);
}

static void
test_knock_set_open(void **state __unused)
{
	struct knocktab	 t;
	struct srckey	 a = key4(10, 0, 0, 1), b = key4(10, 0, 0, 2);
	struct srckey	 c = key4(10, 0, 0, 3);

	assert_int_equal(knock_init(&t, 2, 7), 0);
	assert_int_equal(knock_set_open(&t, 0, &a, 1000), 0);
	assert_true(knock_is_open(&t, 0, &a, 999));
	assert_false(knock_is_open(&t, 0, &a, 1000));
	assert_false(knock_is_open(&t, 1, &a, 0));
	/* The later end wins, either way round. */
	assert_int_equal(knock_set_open(&t, 0, &a, 500), 0);
	assert_true(knock_is_open(&t, 0, &a, 999));
	assert_int_equal(knock_set_open(&t, 0, &a, 2000), 0);
	assert_true(knock_is_open(&t, 0, &a, 1999));
	assert_int_equal(t.count, 1);

	/* Full: set_open evicts a sequence in progress... */
	assert_int_equal(hit3(&t, 0, &b, 0, 0), KNOCK_STEP);
	assert_int_equal(knock_set_open(&t, 0, &c, 3000), 0);
	assert_int_equal(hit3(&t, 0, &b, 1, 1), KNOCK_RESET);
	assert_true(knock_is_open(&t, 0, &c, 2999));
	/* ...but never a window. */
	assert_int_equal(knock_set_open(&t, 0, &b, 3000), -1);
	assert_false(knock_is_open(&t, 0, &b, 0));
	assert_true(knock_is_open(&t, 0, &a, 1999));
	assert_true(knock_is_open(&t, 0, &c, 2999));
	/* On an existing entry it needs no room. */
	assert_int_equal(knock_set_open(&t, 0, &c, 4000), 0);
	assert_true(knock_is_open(&t, 0, &c, 3999));
	check_links(&t, 0);
	knock_free(&t);

	/* An entry in progress made open leaves the in-progress list. */
	assert_int_equal(knock_init(&t, 1, 7), 0);
	assert_int_equal(hit3(&t, 0, &a, 0, 0), KNOCK_STEP);
	assert_int_equal(knock_set_open(&t, 0, &a, 1000), 0);
	check_links(&t, 0);
	assert_int_equal(hit3(&t, 0, &b, 0, 1), KNOCK_FULL);
	/* And its sequence goes on. */
	assert_int_equal(hit3(&t, 0, &a, 1, 2), KNOCK_STEP);
	assert_int_equal(hit3(&t, 0, &a, 2, 3), KNOCK_OPENED);
	assert_true(knock_is_open(&t, 0, &a, 3 + OPEN - 1));
	knock_free(&t);
}

static void
test_knock_expire(void **state __unused)
{
	struct knocktab	 t;
	struct srckey	 prog = key4(10, 0, 0, 1), late = key4(10, 0, 0, 2);
	struct srckey	 win = key4(10, 0, 0, 3), both = key4(10, 0, 0, 4);
	struct srckey	 shut = key4(10, 0, 0, 5), k;

	assert_int_equal(knock_init(&t, 8, 3), 0);
	assert_int_equal(knock_expire(&t, 0), 0);
	/* In progress at 14000: deadline 5000 + TMO. */
	assert_int_equal(hit3(&t, 0, &prog, 0, 5000), KNOCK_STEP);
	/* Timed out at 14000. */
	assert_int_equal(hit3(&t, 0, &late, 0, 0), KNOCK_STEP);
	/* Open until 0 + OPEN. */
	open3(&t, 0, &win, 0);
	/* Open, its re-knock timed out. */
	open3(&t, 0, &both, 0);
	assert_int_equal(hit3(&t, 0, &both, 0, 1000), KNOCK_STEP);
	/* Closed at 14000. */
	assert_int_equal(knock_set_open(&t, 0, &shut, 2000), 0);
	assert_int_equal(t.count, 5);

	assert_int_equal(knock_expire(&t, 14000), 2);
	assert_int_equal(t.count, 3);
	check_links(&t, 14000);
	/* prog goes on. */
	assert_int_equal(hit3(&t, 0, &prog, 1, 14000), KNOCK_STEP);
	/* late and shut are gone (a wrong port finds no entry)... */
	assert_true(knock_is_open(&t, 0, &win, 14000));
	assert_true(knock_is_open(&t, 0, &both, 14000));
	assert_false(knock_is_open(&t, 0, &shut, 1999));
	/* ...both is back at step 0. */
	assert_int_equal(hit3(&t, 0, &both, 1, 14000), KNOCK_RESET);
	assert_true(knock_is_open(&t, 0, &both, 14000));
	assert_int_equal(hit3(&t, 0, &late, 1, 14000), KNOCK_RESET);
	assert_int_equal(t.count, 3);

	/* Nothing to do: nothing freed. */
	assert_int_equal(knock_expire(&t, 14000), 0);
	/* prog's deadline is exclusive, as in knock_hit. */
	assert_int_equal(knock_expire(&t, 5000 + TMO - 1), 0);
	assert_int_equal(knock_expire(&t, 5000 + TMO), 1);
	assert_int_equal(knock_expire(&t, OPEN - 1), 0);
	assert_int_equal(knock_expire(&t, OPEN), 2);
	assert_int_equal(t.count, 0);
	check_links(&t, OPEN);

	/* Every entry can be taken again. */
	for (k = key4(10, 1, 0, 0); k.addr[3] < 8; k.addr[3]++)
		open3(&t, 0, &k, OPEN);
	assert_int_equal(t.count, 8);
	assert_int_equal(hit3(&t, 0, &prog, 0, OPEN), KNOCK_FULL);
	assert_int_equal(knock_expire(&t, 2 * OPEN), 8);
	check_links(&t, 2 * OPEN);
	knock_free(&t);
}

/* Sources differing only in high bits of their bytes spread out. */
static void
test_knock_spread(void **state __unused)
{
	struct knocktab	 t;
	struct srckey	 k;
	uint32_t	 i, j, len, longest = 0;

	assert_int_equal(knock_init(&t, 64, 0x5eed), 0);
	for (i = 0; i < 64; i++) {
		k = key4(10, (uint8_t)((i & 3) << 6), (uint8_t)((i >> 2 & 3) <<
		    6), (uint8_t)((i >> 4 & 3) << 6));
		assert_int_equal(knock_set_open(&t, 0, &k, 1000), 0);
	}
	for (i = 0; i < t.nbuckets; i++) {
		len = 0;
		for (j = t.buckets[i]; j != KNOCK_NIL; j = t.v[j].hnext)
			len++;
		if (len > longest)
			longest = len;
	}
	/* Unmixed FNV-1a puts all 64 in one bucket. */
	assert_true(longest <= 10);
	for (i = 0; i < 64; i++) {
		k = key4(10, (uint8_t)((i & 3) << 6), (uint8_t)((i >> 2 & 3) <<
		    6), (uint8_t)((i >> 4 & 3) << 6));
		assert_true(knock_is_open(&t, 0, &k, 999));
	}
	knock_free(&t);
}

/*
 * The model: the same rules over an array searched linearly; the list
 * order is a counter stamped when an entry joins the list.
 */
#define M_MAX		8
#define M_SRCS		6
#define M_SVCS		3
#define M_TMO		1000

struct ment {
	bool		 used;
	uint32_t	 svc;
	int		 src;
	size_t		 step;
	uint64_t	 deadline;
	uint64_t	 open_until;
	bool		 listed;
	uint64_t	 order;
};

struct model {
	struct ment	 v[M_MAX];
	size_t		 count;
	uint64_t	 stamp;
};

static const struct knock_step m_seq0[] = {
	{ IPPROTO_TCP, 1 }, { IPPROTO_TCP, 1 }, { IPPROTO_UDP, 2 },
};
static const struct knock_step m_seq1[] = {
	{ IPPROTO_UDP, 5 }, { IPPROTO_TCP, 6 }, { IPPROTO_UDP, 5 },
	{ IPPROTO_TCP, 8 },
};
static const struct knock_step m_seq2[] = {
	{ IPPROTO_TCP, 42 },
};
static const struct {
	const struct knock_step	*seq;
	size_t			 n;
	uint32_t		 open_ms;
} m_svc[M_SVCS] = {
	{ m_seq0, 3, 2000 }, { m_seq1, 4, 1500 }, { m_seq2, 1, 700 },
};

static struct ment *
m_find(struct model *m, uint32_t svc, int src)
{
	size_t	 i;

	for (i = 0; i < M_MAX; i++)
		if (m->v[i].used && m->v[i].svc == svc && m->v[i].src == src)
			return &m->v[i];
	return NULL;
}

static void
m_list(struct model *m, struct ment *e)
{
	e->listed = true;
	e->order = ++m->stamp;
}

static struct ment *
m_alloc(struct model *m, uint32_t svc, int src)
{
	struct ment	*e = NULL;
	size_t		 i;

	if (m->count == M_MAX) {
		for (i = 0; i < M_MAX; i++)
			if (m->v[i].listed && (e == NULL ||
			    m->v[i].order < e->order))
				e = &m->v[i];
		if (e == NULL)
			return NULL;
		memset(e, 0, sizeof(*e));
		m->count--;
	}
	for (i = 0; i < M_MAX; i++)
		if (!m->v[i].used)
			break;
	e = &m->v[i];
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->svc = svc;
	e->src = src;
	m->count++;
	return e;
}

static bool
m_eq(const struct knock_step *a, const struct knock_step *b)
{
	return a->proto == b->proto && a->port == b->port;
}

static enum knock_event
m_hit(struct model *m, uint32_t svc, int src, const struct knock_step *hit,
    uint64_t now)
{
	const struct knock_step	*seq = m_svc[svc].seq;
	size_t			 nseq = m_svc[svc].n;
	struct ment		*e = m_find(m, svc, src);
	size_t			 step = 0;

	if (e != NULL) {
		if (e->step > 0 && now >= e->deadline) {
			e->step = 0;
			e->listed = false;
		}
		step = e->step;
	}
	if (m_eq(hit, &seq[step])) {
		if (e == NULL && (e = m_alloc(m, svc, src)) == NULL)
			return KNOCK_FULL;
		if (step == 0)
			e->deadline = now + M_TMO;
		if (++step == nseq) {
			e->step = 0;
			e->listed = false;
			e->open_until = now + m_svc[svc].open_ms;
			return KNOCK_OPENED;
		}
		e->step = step;
		if (e->open_until <= now && (step == 1 || !e->listed))
			m_list(m, e);
		return KNOCK_STEP;
	}
	if (step > 0 && m_eq(hit, &seq[step - 1]))
		return KNOCK_IGNORED;
	if (e == NULL)
		return KNOCK_RESET;
	e->listed = false;
	if (step > 0 && m_eq(hit, &seq[0])) {
		e->step = 1;
		e->deadline = now + M_TMO;
		if (e->open_until <= now)
			m_list(m, e);
		return KNOCK_RESET;
	}
	e->step = 0;
	if (e->open_until <= now) {
		memset(e, 0, sizeof(*e));
		m->count--;
	}
	return KNOCK_RESET;
}

static int
m_set_open(struct model *m, uint32_t svc, int src, uint64_t until)
{
	struct ment	*e = m_find(m, svc, src);

	if (e == NULL) {
		if ((e = m_alloc(m, svc, src)) == NULL)
			return -1;
		e->open_until = until;
		return 0;
	}
	if (until > e->open_until) {
		e->open_until = until;
		e->listed = false;
	}
	return 0;
}

static size_t
m_expire(struct model *m, uint64_t now)
{
	struct ment	*e;
	size_t		 i, n = 0;

	for (i = 0; i < M_MAX; i++) {
		e = &m->v[i];
		if (!e->used)
			continue;
		if (e->step > 0 && now >= e->deadline) {
			e->step = 0;
			e->listed = false;
		}
		if (e->step == 0 && e->open_until <= now) {
			memset(e, 0, sizeof(*e));
			m->count--;
			n++;
		}
	}
	return n;
}

static struct srckey
m_key(int src)
{
	/* Two families, and two groups sharing an address. */
	struct srckey	 k = key4(198, 51, 100, (uint8_t)(src / 2));

	if (src % 2)
		k.family = AF_INET6;
	return k;
}

static void
test_knock_model(void **state __unused)
{
	static const struct knock_step	 wrongs[] = {
		{ IPPROTO_UDP, 1 }, { IPPROTO_TCP, 2 }, { IPPROTO_TCP, 9 },
	};
	struct knocktab		 t;
	struct model		 m;
	struct ment		*e;
	struct srckey		 k;
	const struct knock_step	*hit;
	uint64_t		 now = 1;
	uint32_t		 svc, s2;
	unsigned int		 seed;
	int			 op, src, r2, got, i;

	for (seed = 1; seed <= 8; seed++) {
		srandom(seed);
		memset(&m, 0, sizeof(m));
		assert_int_equal(knock_init(&t, M_MAX, seed), 0);
		for (i = 0; i < 5000; i++) {
			now += (uint64_t)(random() % 4 == 0 ? random() % 400 :
			    random() % 40);
			svc = (uint32_t)(random() % M_SVCS);
			src = (int)(random() % M_SRCS);
			k = m_key(src);
			op = (int)(random() % 100);
			if (op < 90) {
				if (random() % 8 == 0)
					hit = &wrongs[random() % 3];
				else
					hit = &m_svc[svc].seq[random() %
					    m_svc[svc].n];
				assert_int_equal(knock_hit(&t, svc, &k,
				    m_svc[svc].seq, m_svc[svc].n, hit, M_TMO,
				    m_svc[svc].open_ms, now),
				    m_hit(&m, svc, src, hit, now));
			} else if (op < 94) {
				uint64_t until = now + (uint64_t)(random() %
				    3000);

				assert_int_equal(knock_set_open(&t, svc, &k,
				    until), m_set_open(&m, svc, src, until));
			} else
				assert_int_equal(knock_expire(&t, now),
				    m_expire(&m, now));
			assert_int_equal(t.count, m.count);
			for (s2 = 0; s2 < M_SVCS; s2++)
				for (r2 = 0; r2 < M_SRCS; r2++) {
					e = m_find(&m, s2, r2);
					k = m_key(r2);
					got = knock_is_open(&t, s2, &k, now);
					assert_int_equal(got, e != NULL &&
					    e->open_until > now);
				}
			check_links(&t, now);
		}
		knock_free(&t);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_knock_parse_step),
		cmocka_unit_test(test_knock_init),
		cmocka_unit_test(test_knock_right_order_opens),
		cmocka_unit_test(test_knock_single_step),
		cmocka_unit_test(test_knock_wrong_order_resets),
		cmocka_unit_test(test_knock_out_of_order_mid),
		cmocka_unit_test(test_knock_restart),
		cmocka_unit_test(test_knock_duplicate_ignored),
		cmocka_unit_test(test_knock_repeated_steps),
		cmocka_unit_test(test_knock_timeout),
		cmocka_unit_test(test_knock_window_closes),
		cmocka_unit_test(test_knock_reknock_extends),
		cmocka_unit_test(test_knock_reknock_outlives_window),
		cmocka_unit_test(test_knock_independent),
		cmocka_unit_test(test_knock_full_evicts_oldest),
		cmocka_unit_test(test_knock_full_never_evicts_open),
		cmocka_unit_test(test_knock_set_open),
		cmocka_unit_test(test_knock_expire),
		cmocka_unit_test(test_knock_spread),
		cmocka_unit_test(test_knock_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
