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
 * Unit tests of limit.c, against DESIGN.md ("Keys and defaults",
 * "Overload policy"): sources are grouped by source_prefix4/6, with an
 * IPv4-mapped peer grouped as the IPv4 address it is; each group has a
 * token bucket of N per window that starts full and refills in integer
 * steps without drift; and the table of groups never grows, recycling
 * the entry seen longest ago in a full probe window.  limit.c is pure:
 * the time is passed in, so every case here is exact.  The table's seed
 * is 0, which makes the hash, and so every test, deterministic.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "portmuxd.h"
#include "race.h"

#define SA(ss)	((const struct sockaddr *)(ss))

/* The probe window of get(), as DESIGN.md's table is built. */
#define PROBE	8

/* A lookup done with: the entry, unpinned as its user would leave it. */
static struct srcent *
get(struct srctab *t, uint32_t svc, const struct srckey *k, uint64_t now)
{
	struct srcent	*e = srctab_get(t, svc, k, now);

	if (e != NULL)
		srcent_put(e);
	return e;
}

static void
sa_set(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
}

/* The group of ip, with a port that must not matter. */
static struct srckey
group_of(const char *ip, unsigned int p4, unsigned int p6)
{
	struct sockaddr_storage	 ss;
	struct srckey		 k;

	sa_set(&ss, ip, 40000);
	memset(&k, 0xa5, sizeof(k));
	limit_group(SA(&ss), p4, p6, &k);
	return k;
}

/* ip grouped by (p4, p6) is the network want, with the given prefix. */
static void
group_is(const char *ip, unsigned int p4, unsigned int p6, const char *want,
    unsigned int prefix)
{
	struct srckey	 k = group_of(ip, p4, p6);
	uint8_t		 a[16];

	memset(a, 0, sizeof(a));
	if (strchr(want, ':') != NULL) {
		assert_int_equal(inet_pton(AF_INET6, want, a), 1);
		assert_int_equal(k.family, AF_INET6);
	} else {
		assert_int_equal(inet_pton(AF_INET, want, a), 1);
		assert_int_equal(k.family, AF_INET);
	}
	assert_int_equal(k.prefix, prefix);
	/* All 16 bytes: an IPv4 key has nothing behind its 4 bytes. */
	assert_memory_equal(k.addr, a, sizeof(a));
}

static void
test_limit_group_v4_prefixes(void **state)
{
	(void)state;
	group_is("192.0.2.77", 32, 64, "192.0.2.77", 32);
	group_is("192.0.2.77", 24, 64, "192.0.2.0", 24);
	group_is("198.51.100.255", 16, 64, "198.51.0.0", 16);
	group_is("203.0.113.200", 8, 64, "203.0.0.0", 8);
	group_is("203.0.113.200", 0, 64, "0.0.0.0", 0);
}

/* Prefixes that end inside a byte clear only the bits past them. */
static void
test_limit_group_v4_odd_prefixes(void **state)
{
	(void)state;
	/* 100 = 0110 0100: a /20 keeps 0110 of the third byte. */
	group_is("198.51.100.255", 20, 64, "198.51.96.0", 20);
	group_is("192.0.2.255", 31, 64, "192.0.2.254", 31);
	group_is("192.0.2.255", 25, 64, "192.0.2.128", 25);
	group_is("200.1.2.3", 1, 64, "128.0.0.0", 1);
	group_is("127.255.255.255", 1, 64, "0.0.0.0", 1);
	group_is("10.255.0.1", 9, 64, "10.128.0.0", 9);
}

static void
test_limit_group_v6_prefixes(void **state)
{
	(void)state;
	group_is("2001:db8:1:2:3:4:5:6", 32, 64, "2001:db8:1:2::", 64);
	group_is("2001:db8:1:2:3:4:5:6", 32, 128, "2001:db8:1:2:3:4:5:6",
	    128);
	group_is("2001:db8:1:2:3:4:5:6", 32, 48, "2001:db8:1::", 48);
	group_is("2001:db8:1:2:3:4:5:6", 32, 0, "::", 0);
	/* 02ff: a /57 keeps the top bit of the eighth byte, 0xff. */
	group_is("2001:db8:1:2ff::1", 32, 57, "2001:db8:1:280::", 57);
	group_is("2001:db8::ffff", 32, 127, "2001:db8::fffe", 127);
	group_is("ffff::1", 32, 1, "8000::", 1);
	group_is("::1", 32, 64, "::", 64);
}

/* Every address of one /64 is one group; the next /64 is another. */
static void
test_limit_group_v6_same_64(void **state)
{
	struct srckey	 a, b, c;

	(void)state;
	a = group_of("2001:db8:0:1::1", 32, 64);
	b = group_of("2001:db8:0:1:ffff:ffff:ffff:ffff", 32, 64);
	c = group_of("2001:db8:0:2::1", 32, 64);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_memory_not_equal(&a, &c, sizeof(a));
}

/* The port is no part of the group. */
static void
test_limit_group_ignores_port(void **state)
{
	struct sockaddr_storage	 s1, s2;
	struct srckey		 a, b;

	(void)state;
	sa_set(&s1, "192.0.2.7", 1);
	sa_set(&s2, "192.0.2.7", 65535);
	limit_group(SA(&s1), 32, 64, &a);
	limit_group(SA(&s2), 32, 64, &b);
	assert_memory_equal(&a, &b, sizeof(a));
	sa_set(&s1, "2001:db8::1", 1);
	sa_set(&s2, "2001:db8::1", 2);
	((struct sockaddr_in6 *)&s2)->sin6_flowinfo = htonl(0x12345);
	limit_group(SA(&s1), 32, 64, &a);
	limit_group(SA(&s2), 32, 64, &b);
	assert_memory_equal(&a, &b, sizeof(a));
}

/*
 * A dual-stack socket sees IPv4 clients as ::ffff:a.b.c.d.  They are
 * grouped by source_prefix4, as the IPv4 address they are, or one IPv4
 * client would share a /64 group with every IPv4 client.
 */
static void
test_limit_group_mapped_as_v4(void **state)
{
	struct srckey	 m, v4;

	(void)state;
	group_is("::ffff:192.0.2.77", 24, 64, "192.0.2.0", 24);
	group_is("::ffff:192.0.2.77", 32, 0, "192.0.2.77", 32);
	group_is("::ffff:192.0.2.77", 0, 128, "0.0.0.0", 0);
	m = group_of("::ffff:198.51.100.9", 32, 64);
	v4 = group_of("198.51.100.9", 32, 64);
	assert_memory_equal(&m, &v4, sizeof(m));
	m = group_of("::ffff:198.51.100.9", 32, 64);
	v4 = group_of("::ffff:198.51.100.10", 32, 64);
	assert_memory_not_equal(&m, &v4, sizeof(m));
}

/* A prefix wider than the family keeps the whole address. */
static void
test_limit_group_prefix_clamped(void **state)
{
	(void)state;
	group_is("192.0.2.77", 33, 64, "192.0.2.77", 32);
	group_is("192.0.2.77", 255, 64, "192.0.2.77", 32);
	group_is("2001:db8::77", 32, 129, "2001:db8::77", 128);
}

/* Another family yields a zeroed key, never stack garbage. */
static void
test_limit_group_other_family(void **state)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&ss;
	struct srckey		 k, zero;

	(void)state;
	memset(&ss, 0, sizeof(ss));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, "/run/x.sock", 12);
	memset(&k, 0xa5, sizeof(k));
	memset(&zero, 0, sizeof(zero));
	limit_group(SA(&ss), 32, 64, &k);
	assert_memory_equal(&k, &zero, sizeof(k));
}

static struct rate
rate(uint32_t count, uint32_t window_ms)
{
	struct rate	 r;

	r.count = count;
	r.window_ms = window_ms;
	return r;
}

/* How many of n takes at time now succeed. */
static unsigned int
takes(struct bucket *b, const struct rate *r, uint64_t now, unsigned int n)
{
	unsigned int	 ok = 0;

	while (n-- > 0)
		if (limit_take(b, r, now))
			ok++;
	return ok;
}

/* DESIGN.md's udp_reply_rate default, 10/1s, at its exact edges. */
static void
test_limit_take_boundary(void **state)
{
	struct bucket	 b;
	struct rate	 r = rate(10, 1000);
	unsigned int	 i;

	(void)state;
	memset(&b, 0, sizeof(b));
	/* Starts full: 10 at once, then none. */
	for (i = 0; i < 10; i++)
		assert_true(limit_take(&b, &r, 0));
	assert_false(limit_take(&b, &r, 0));
	/* One token per 100 ms: not at 99 ms, exactly one at 100 ms. */
	assert_false(limit_take(&b, &r, 99));
	assert_true(limit_take(&b, &r, 100));
	assert_false(limit_take(&b, &r, 100));
	assert_false(limit_take(&b, &r, 199));
	assert_true(limit_take(&b, &r, 200));
	/* 250 ms later: two tokens and a half, so two. */
	assert_int_equal(takes(&b, &r, 450, 5), 2);
	/* The half token was kept: 50 ms more make it whole. */
	assert_true(limit_take(&b, &r, 500));
	assert_false(limit_take(&b, &r, 500));
}

/* A refused take does not lose the partial token accrued so far. */
static void
test_limit_take_refusals_keep_credit(void **state)
{
	struct bucket	 b;
	struct rate	 r = rate(10, 1000);
	uint64_t	 t;

	(void)state;
	memset(&b, 0, sizeof(b));
	assert_int_equal(takes(&b, &r, 5000, 20), 10);
	for (t = 5001; t < 5100; t++)
		assert_false(limit_take(&b, &r, t));
	assert_true(limit_take(&b, &r, 5100));
}

/* A long idle fills the bucket to count, never beyond. */
static void
test_limit_take_idle_caps(void **state)
{
	struct bucket	 b;
	struct rate	 r = rate(10, 1000);

	(void)state;
	memset(&b, 0, sizeof(b));
	assert_int_equal(takes(&b, &r, 0, 10), 10);
	assert_int_equal(takes(&b, &r, 3600ULL * 1000, 100), 10);
	/* A year. */
	assert_int_equal(takes(&b, &r, 366ULL * 86400 * 1000, 100), 10);
	/* A bucket never emptied does not grow past count either. */
	memset(&b, 0, sizeof(b));
	assert_true(limit_take(&b, &r, 1000));
	assert_int_equal(takes(&b, &r, 1000000, 100), 10);
}

/* The bucket starts full whatever the clock reads at first use. */
static void
test_limit_take_starts_full(void **state)
{
	struct bucket	 b;
	struct rate	 r = rate(3, 10000);

	(void)state;
	memset(&b, 0, sizeof(b));
	assert_int_equal(takes(&b, &r, 123456789ULL, 10), 3);
	memset(&b, 0, sizeof(b));
	assert_int_equal(takes(&b, &r, UINT64_MAX - 1, 10), 3);
	r = rate(1, 60000);
	memset(&b, 0, sizeof(b));
	assert_true(limit_take(&b, &r, 7));
	assert_false(limit_take(&b, &r, 7));
	assert_false(limit_take(&b, &r, 60006));
	assert_true(limit_take(&b, &r, 60007));
}

/* count = 0 is "unlimited": every take succeeds. */
static void
test_limit_take_unlimited(void **state)
{
	struct bucket	 b;
	struct rate	 r = rate(0, 0);
	unsigned int	 i;

	(void)state;
	memset(&b, 0, sizeof(b));
	for (i = 0; i < 100000; i++)
		assert_true(limit_take(&b, &r, 5));
	r = rate(0, 1000);
	for (i = 0; i < 1000; i++)
		assert_true(limit_take(&b, &r, i / 10));
}

/*
 * Integer refill without drift: taking greedily once per millisecond,
 * the number granted by time t is exactly count + floor(t * count /
 * window), also when window is no multiple of count (3 per second is
 * one token every 333.33 ms).
 */
static void
test_limit_take_no_drift(void **state)
{
	static const struct {
		uint32_t	 count, window_ms;
	} cases[] = {
		{ 3, 1000 }, { 10, 1000 }, { 7, 60000 }, { 30, 10000 },
		{ 1000, 1000 }, { 2, 3 },
	};
	struct bucket	 b;
	struct rate	 r;
	uint64_t	 t, granted, want;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = rate(cases[i].count, cases[i].window_ms);
		memset(&b, 0, sizeof(b));
		granted = 0;
		for (t = 0; t <= 20000; t++) {
			/* As many as it grants at t, and one more refused. */
			while (limit_take(&b, &r, t))
				granted++;
			want = r.count + t * r.count / r.window_ms;
			if (granted != want)
				fail_msg("%u/%ums at t=%llu: granted %llu, "
				    "want %llu", r.count, r.window_ms,
				    (unsigned long long)t,
				    (unsigned long long)granted,
				    (unsigned long long)want);
		}
	}
}

/* A clock that steps back refills nothing and breaks nothing. */
static void
test_limit_take_clock_back(void **state)
{
	struct bucket	 b;
	struct rate	 r = rate(10, 1000);

	(void)state;
	memset(&b, 0, sizeof(b));
	assert_int_equal(takes(&b, &r, 5000, 10), 10);
	assert_false(limit_take(&b, &r, 4000));
	assert_false(limit_take(&b, &r, 0));
	assert_false(limit_take(&b, &r, 5099));
	assert_true(limit_take(&b, &r, 5100));
}

/* The largest rate conf.c accepts, and a long window, work exactly. */
static void
test_limit_take_large_rates(void **state)
{
	struct bucket	 b;
	struct rate	 r = rate(UINT32_MAX, UINT32_MAX);

	(void)state;
	memset(&b, 0, sizeof(b));
	assert_int_equal(takes(&b, &r, 0, 1000), 1000);
	/* 1 per 49.7 days. */
	r = rate(1, UINT32_MAX);
	memset(&b, 0, sizeof(b));
	assert_true(limit_take(&b, &r, 0));
	assert_false(limit_take(&b, &r, (uint64_t)UINT32_MAX - 1));
	assert_true(limit_take(&b, &r, UINT32_MAX));
	assert_false(limit_take(&b, &r, UINT32_MAX));
}

/*
 * conf.c accepts any count up to 2^32-1 per window.  A source group
 * that stays idle long enough must find its bucket full again, however
 * large the count: here 2^31 per second and an idle of 2^33 ms (99
 * days), whose product is 2^64.  The bucket is set up by hand as it
 * would be after being emptied at t = 0.
 */
static void
test_limit_take_idle_no_overflow(void **state)
{
	struct bucket	 b;
	struct rate	 r = rate(1U << 31, 1000);

	(void)state;
	memset(&b, 0, sizeof(b));
	b.init = true;
	b.tokens = 0;
	b.last_ms = 0;
	assert_false(limit_take(&b, &r, 0));
	if (!limit_take(&b, &r, 1ULL << 33))
		fail_msg("a take is refused after 99 days idle at 2^31/1s: "
		    "the refill (now - last_ms) * count overflows");
}

static struct srckey
key_n(uint32_t n)
{
	struct sockaddr_in	 sin;
	struct srckey		 k;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x0a000000U + n);	/* 10.0.0.0 + n */
	limit_group((const struct sockaddr *)&sin, 32, 64, &k);
	return k;
}

static void
tab_init(struct srctab *t, size_t size)
{
	memset(t, 0, sizeof(*t));
	assert_int_equal(srctab_init(t, size, false), 0);
	t->seed = 0;
}

/* e as a new entry of a table, live, as srctab_get() makes it. */
static void
entry_new(struct srcent *e)
{
	struct srctab	 t = { .v = e, .size = 1 };
	struct srckey	 k;

	memset(e, 0, sizeof(*e));
	memset(&k, 0, sizeof(k));
	assert_ptr_equal(get(&t, 0, &k, 1), e);
	assert_true(srcent_live(e));
}

static size_t
slot_of(const struct srctab *t, const struct srcent *e)
{
	assert_non_null(e);
	assert_true(e >= t->v && e < t->v + t->size);
	return (size_t)(e - t->v);
}

/* The size is a power of two, at least the one asked for, and fixed. */
static void
test_limit_srctab_init_size(void **state)
{
	static const size_t	 asks[] = { 0, 1, 16, 17, 1000, 4096, 4097 };
	struct srctab		 t;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
		tab_init(&t, asks[i]);
		assert_non_null(t.v);
		assert_true(t.size >= asks[i]);
		assert_true(t.size >= PROBE);
		assert_int_equal(t.size & (t.size - 1), 0);
		assert_true(t.size < 2 * asks[i] || t.size <= 16);
		srctab_clear(&t);
		assert_null(t.v);
		assert_int_equal(t.size, 0);
		/* Clearing twice is harmless. */
		srctab_clear(&t);
	}
}

/* The same key finds the same entry, with its state; others do not. */
static void
test_limit_srctab_same_key(void **state)
{
	struct srctab	 t;
	struct srckey	 a = group_of("192.0.2.7", 24, 64);
	struct srckey	 a2 = group_of("192.0.2.200", 24, 64);
	struct srckey	 b = group_of("2001:db8::1", 32, 64);
	struct srckey	 c = group_of("::ffff:192.0.2.9", 24, 64);
	struct srcent	*ea, *eb;

	(void)state;
	tab_init(&t, 1024);
	ea = get(&t, 0, &a, 10);
	assert_non_null(ea);
	assert_true(srcent_live(ea));
	assert_memory_equal(&ea->key, &a, sizeof(a));
	assert_int_equal(ea->seen_ms, 10);
	/* A new entry starts with an empty bucket and no log state. */
	assert_false(ea->reply.init);
	assert_int_equal(ea->logged_ms, 0);
	assert_int_equal(ea->unlogged, 0);
	ea->unlogged = 77;
	ea->reply.init = true;

	eb = get(&t, 0, &b, 11);
	assert_ptr_not_equal(eb, ea);
	assert_int_equal(eb->unlogged, 0);
	eb->unlogged = 88;

	/* Another address of a's /24, even mapped, is a's group. */
	assert_ptr_equal(get(&t, 0, &a2, 20), ea);
	assert_ptr_equal(get(&t, 0, &c, 30), ea);
	assert_int_equal(ea->seen_ms, 30);
	assert_int_equal(ea->unlogged, 77);
	assert_true(ea->reply.init);
	assert_ptr_equal(get(&t, 0, &b, 40), eb);
	assert_int_equal(eb->unlogged, 88);
	assert_int_equal(eb->seen_ms, 40);
	srctab_clear(&t);
}

/* Distinct keys, far fewer than the table holds, all keep their entry. */
static void
test_limit_srctab_distinct_keys(void **state)
{
	struct srctab	 t;
	struct srcent	*e[64];
	struct srckey	 k;
	uint32_t	 i, j;

	(void)state;
	tab_init(&t, 1024);
	for (i = 0; i < 64; i++) {
		k = key_n(i);
		e[i] = get(&t, 0, &k, i);
		(void)slot_of(&t, e[i]);
		e[i]->unlogged = i + 1;
		for (j = 0; j < i; j++)
			assert_ptr_not_equal(e[i], e[j]);
	}
	for (i = 0; i < 64; i++) {
		k = key_n(i);
		assert_ptr_equal(get(&t, 0, &k, 100 + i), e[i]);
		assert_int_equal(e[i]->unlogged, i + 1);
	}
	srctab_clear(&t);
}

/*
 * Where key k lands in an empty table of t's size and seed: its home
 * slot, the start of its probe window.
 */
static size_t
home_of(struct srctab *t, const struct srckey *k)
{
	memset(t->v, 0, t->size * sizeof(*t->v));
	return slot_of(t, get(t, 0, k, 1));
}

/*
 * n keys that share one home slot of t, so one probe window; t is left
 * empty.  Returns that slot.
 */
static size_t
same_home(struct srctab *t, struct srckey *k, size_t n)
{
	size_t		 home = 0, found = 0;
	uint32_t	 cand;

	for (cand = 0; found < n && cand < 100000; cand++) {
		struct srckey	 c = key_n(cand);
		size_t		 h = home_of(t, &c);

		if (found == 0)
			home = h;
		if (h == home)
			k[found++] = c;
	}
	assert_int_equal(found, n);
	memset(t->v, 0, t->size * sizeof(*t->v));
	return home;
}

/*
 * A full probe window recycles the entry seen longest ago, and only it:
 * an entry seen recently survives while older ones go, oldest first.
 */
static void
test_limit_srctab_recycles_lru(void **state)
{
	struct srctab	 t;
	struct srckey	 k[PROBE + 3];
	struct srcent	*e[PROBE + 3], *n;
	size_t		 home, i;

	(void)state;
	tab_init(&t, 16);
	/* PROBE + 3 keys that share a home slot, so one probe window. */
	home = same_home(&t, k, PROBE + 3);

	/* Fill the window: k[i] seen at 10 * (i + 1), marked i + 1. */
	for (i = 0; i < PROBE; i++) {
		e[i] = get(&t, 0, &k[i], 10 * (i + 1));
		assert_int_equal(slot_of(&t, e[i]), (home + i) % t.size);
		e[i]->unlogged = (uint32_t)i + 1;
	}
	/* k[0] is the oldest, but is seen again now; k[1] is the oldest. */
	assert_ptr_equal(get(&t, 0, &k[0], 100), e[0]);

	n = get(&t, 0, &k[PROBE], 110);
	assert_ptr_equal(n, e[1]);
	assert_memory_equal(&n->key, &k[PROBE], sizeof(k[PROBE]));
	assert_int_equal(n->unlogged, 0);	/* a fresh entry */
	assert_int_equal(n->seen_ms, 110);
	n->unlogged = 100;

	/* Next oldest: k[2], then k[3]; k[0] survives both. */
	assert_ptr_equal(get(&t, 0, &k[PROBE + 1], 120), e[2]);
	assert_ptr_equal(get(&t, 0, &k[PROBE + 2], 130), e[3]);
	assert_ptr_equal(get(&t, 0, &k[0], 140), e[0]);
	assert_int_equal(e[0]->unlogged, 1);
	for (i = 4; i < PROBE; i++) {
		assert_ptr_equal(get(&t, 0, &k[i], 150), e[i]);
		assert_int_equal(e[i]->unlogged, i + 1);
	}
	assert_ptr_equal(get(&t, 0, &k[PROBE], 160), e[1]);
	assert_int_equal(e[1]->unlogged, 100);
	srctab_clear(&t);
}

/*
 * 100000 distinct sources (a spoofed flood): the table never grows nor
 * moves, every get returns an entry of it holding that key, and the
 * number of used entries never passes the size.
 */
static void
test_limit_srctab_flood_bounded(void **state)
{
	struct srctab	 t;
	struct srcent	*v, *e;
	struct srckey	 k;
	size_t		 size, used = 0, i;
	uint32_t	 n;

	(void)state;
	tab_init(&t, 4096);
	v = t.v;
	size = t.size;
	for (n = 0; n < 100000; n++) {
		k = key_n(n);
		e = get(&t, 0, &k, 1000 + n);
		assert_non_null(e);
		(void)slot_of(&t, e);
		assert_true(srcent_live(e));
		assert_memory_equal(&e->key, &k, sizeof(k));
		assert_ptr_equal(t.v, v);
		assert_int_equal(t.size, size);
	}
	for (i = 0; i < t.size; i++)
		if (srcent_live(&t.v[i]))
			used++;
	assert_true(used <= size);
	/* Most of the table is in use: recycling, not refusing. */
	assert_true(used > size / 2);
	srctab_clear(&t);
}

/*
 * Two engines on one shared table (a reload's draining engine and the
 * new one): two processes, 64 groups each, into a table of 16.  From
 * srctab_get() to srcent_put() an entry must stay the caller's, with
 * its key and its count, however the other process recycles; at the
 * end no pin or open count is left and every live entry holds a key
 * one of them asked for.  Without the claim and the pins, the other
 * process rewrote entries in use within a few thousand lookups.
 */
#define RACE_KEYS	64
#define RACE_ROUNDS	300000

static int
race_run(void *arg, uint32_t who)
{
	struct srctab	*t = arg;
	struct srckey	 k;
	struct srcent	*e;
	uint32_t	 i, got = 0, bad = 0;

	for (i = 0; i < RACE_ROUNDS; i++) {
		k = key_n(who * 0x10000U + i % RACE_KEYS);
		if ((e = srctab_get(t, 7, &k, 1000 + i)) == NULL)
			continue;
		got++;
		if (memcmp(&e->key, &k, sizeof(k)) != 0 || e->svc != 7)
			bad++;
		srcent_hold(e);
		if (memcmp(&e->key, &k, sizeof(k)) != 0 ||
		    __atomic_load_n(&e->active, __ATOMIC_RELAXED) == 0)
			bad++;
		srcent_release(e);
		if (memcmp(&e->key, &k, sizeof(k)) != 0)
			bad++;
		srcent_put(e);
	}
	if (bad != 0) {
		(void)fprintf(stderr, "process %u: %u of %u lookups saw "
		    "their entry taken\n", who, bad, got);
		return 1;
	}
	/* Mostly served, not refused: recycling, not a full table. */
	return got > RACE_ROUNDS / 2 ? 0 : 3;
}

static void
test_limit_srctab_shared_race(void **state)
{
	struct srctab	 t;
	int		 live = 0;
	uint32_t	 n, who;
	struct srckey	 k;
	bool		 known;
	size_t		 j;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(srctab_init(&t, 16, true), 0);
	assert_int_equal(t.size, 16);
	race2(race_run, &t);
	for (j = 0; j < t.size; j++) {
		assert_int_equal(t.v[j].pins, 0);
		assert_int_equal(t.v[j].active, 0);
		if (!srcent_live(&t.v[j]))
			continue;
		live++;
		known = false;
		for (who = 1; who <= 2 && !known; who++)
			for (n = 0; n < RACE_KEYS && !known; n++) {
				k = key_n(who * 0x10000U + n);
				known = memcmp(&t.v[j].key, &k,
				    sizeof(k)) == 0;
			}
		assert_true(known);
	}
	assert_true(live > 0);
	srctab_clear(&t);
}

/*
 * A source seen recently survives a flood of new ones: 16 groups, each
 * seen again every 256 new sources, keep their entry (and its state)
 * through 100000 distinct sources into a table of 4096.  With seed 0
 * this is deterministic; at most 1% of the checks may find the entry
 * recycled.
 */
static void
test_limit_srctab_recent_survives(void **state)
{
	struct srctab	 t;
	struct srckey	 hot[16];
	struct srcent	*e;
	char		 ip[64];
	uint64_t	 now = 1;
	unsigned int	 checks = 0, lost = 0, h;
	uint32_t	 n;

	(void)state;
	tab_init(&t, 4096);
	for (h = 0; h < 16; h++) {
		(void)snprintf(ip, sizeof(ip), "2001:db8:%x::1", h + 1);
		hot[h] = group_of(ip, 32, 64);
		e = get(&t, 0, &hot[h], now);
		e->unlogged = 0xbeef;
	}
	for (n = 0; n < 100000; n++) {
		struct srckey	 k = key_n(n);

		(void)get(&t, 0, &k, ++now);
		if (n % 256 != 255)
			continue;
		now++;
		for (h = 0; h < 16; h++) {
			e = get(&t, 0, &hot[h], now);
			checks++;
			if (e->unlogged != 0xbeef) {
				lost++;
				e->unlogged = 0xbeef;
			}
		}
	}
	if (lost * 100 > checks)
		fail_msg("%u of %u recently seen groups were recycled", lost,
		    checks);
	srctab_clear(&t);
}

/* Refusal summaries: what the emit callback of srcent_summaries() saw. */
struct seen {
	uint32_t	 lines[SRC_NSUMMARY];	/* summary lines by slot */
	uint64_t	 counted[SRC_NSUMMARY];	/* refusals they stand for */
	uint64_t	 last_ms[SRC_NSUMMARY];	/* when the last line came */
	uint64_t	 now;
	bool		 spaced;		/* lines >= 1 s apart */
};

static void
seen_line(struct seen *sn, unsigned int r, uint32_t n)
{
	if (sn->lines[r] > 0 && sn->now - sn->last_ms[r] < 1000)
		sn->spaced = false;
	sn->lines[r]++;
	sn->counted[r] += n;
	sn->last_ms[r] = sn->now;
}

static void
seen_emit(struct srcent *e, unsigned int r, uint32_t n, void *arg)
{
	(void)e;
	assert_true(r < SRC_NSUMMARY);
	assert_true(n > 0);
	seen_line(arg, r, n);
}

/* One refusal of slot r at now, as guard.c handles it. */
static void
refuse_at(struct srcent *e, struct seen *sn, unsigned int r, uint64_t now)
{
	uint32_t	 n;

	sn->now = now;
	switch (srcent_refusal(e, r, now, &n)) {
	case REFUSAL_LOG:
		assert_int_equal(n, 0);
		seen_line(sn, r, 1);
		break;
	case REFUSAL_SUMMARY:
		assert_true(n >= 2);
		seen_line(sn, r, n);
		break;
	case REFUSAL_COUNT:
		break;
	}
}

/*
 * A source alternating two reasons, 1000 refusals within one second:
 * the first of each reason is logged, the rest are counted, and the
 * sweep a second later writes one summary per reason.  The old code
 * logged each refusal whose reason differed from the one before, and
 * so a line per connection.
 */
static void
test_limit_summary_interleaved(void **state)
{
	struct srcent	 e;
	struct seen	 sn;
	unsigned int	 i;

	(void)state;
	entry_new(&e);
	memset(&sn, 0, sizeof(sn));
	sn.spaced = true;
	for (i = 0; i < 1000; i++)
		refuse_at(&e, &sn, i % 2 == 0 ? 3 : 1, 5000 + i / 2);
	assert_int_equal(sn.lines[3], 1);
	assert_int_equal(sn.lines[1], 1);
	assert_true(srcent_unlogged(&e));
	/* Too early: nothing is due yet. */
	sn.now = 5999;
	assert_true(srcent_summaries(&e, 5999, false, seen_emit, &sn));
	assert_int_equal(sn.lines[3] + sn.lines[1], 2);
	sn.now = 6000;
	assert_false(srcent_summaries(&e, 6000, false, seen_emit, &sn));
	assert_int_equal(sn.lines[3], 2);
	assert_int_equal(sn.lines[1], 2);
	assert_int_equal(sn.counted[3], 500);
	assert_int_equal(sn.counted[1], 500);
	assert_false(srcent_unlogged(&e));
	assert_true(sn.spaced);
}

/*
 * Ten seconds of a flood mixing three reasons, a refusal every 3 ms,
 * with a sweep that runs late by up to 30 ms: every line of a reason
 * comes at least a second after the one before, and the lines add up
 * to every refusal made.  Then a stop logs what is left at once.
 */
static void
test_limit_summary_flood(void **state)
{
	static const unsigned int reasons[] = { 0, 3, 1, 3, 5, 3 };
	struct srcent	 e;
	struct seen	 sn;
	uint64_t	 now, sweep = 1000, made = 0, total = 0;
	unsigned int	 i, r, k = 0;

	(void)state;
	entry_new(&e);
	memset(&sn, 0, sizeof(sn));
	sn.spaced = true;
	for (now = 1; now < 10000; now += 3) {
		refuse_at(&e, &sn, reasons[k++ % 6], now);
		made++;
		if (now >= sweep) {
			sn.now = now;
			(void)srcent_summaries(&e, now, false, seen_emit, &sn);
			sweep += 1000 + (now * 7) % 31;
		}
	}
	assert_true(sn.spaced);
	for (i = 0; i < 6; i++) {
		r = reasons[i];
		/* About one line a second, never more. */
		assert_true(sn.lines[r] <= 11);
		assert_true(sn.lines[r] >= 5);
	}
	sn.now = now;
	assert_false(srcent_summaries(&e, now, true, seen_emit, &sn));
	for (r = 0; r < SRC_NSUMMARY; r++)
		total += sn.counted[r];
	assert_int_equal(total, made);
	assert_false(srcent_unlogged(&e));
}

/*
 * After a quiet second the next refusal is logged on its own; one that
 * finds counts older than a second logs the summary, counting itself.
 * A slot past the summarised reasons is always logged.
 */
static void
test_limit_summary_due_at_refusal(void **state)
{
	struct srcent	 e;
	uint32_t	 n;

	(void)state;
	entry_new(&e);
	assert_int_equal(srcent_refusal(&e, 2, 100, &n), REFUSAL_LOG);
	assert_int_equal(srcent_refusal(&e, 2, 600, &n), REFUSAL_COUNT);
	assert_int_equal(srcent_refusal(&e, 2, 1099, &n), REFUSAL_COUNT);
	assert_int_equal(srcent_refusal(&e, 2, 1100, &n), REFUSAL_SUMMARY);
	assert_int_equal(n, 3);
	assert_false(srcent_unlogged(&e));
	assert_int_equal(srcent_refusal(&e, 2, 2100, &n), REFUSAL_LOG);
	assert_int_equal(srcent_refusal(&e, SRC_NSUMMARY, 2101, &n),
	    REFUSAL_LOG);
	assert_int_equal(srcent_refusal(&e, SRC_NSUMMARY, 2102, &n),
	    REFUSAL_LOG);
}

/*
 * An entry whose refusals wait for their summary is never recycled,
 * however old: recycling would lose them.
 */
static void
test_limit_srctab_keeps_unlogged(void **state)
{
	struct srctab	 t;
	struct srckey	 k[PROBE + 1];
	struct srcent	*e[PROBE], *n;
	size_t		 i;
	uint32_t	 rep;

	(void)state;
	tab_init(&t, 16);
	(void)same_home(&t, k, PROBE + 1);
	for (i = 0; i < PROBE; i++)
		e[i] = get(&t, 0, &k[i], 10 * (i + 1));
	/* The oldest, k[0], has a counted refusal. */
	assert_int_equal(srcent_refusal(e[0], 1, 100, &rep), REFUSAL_LOG);
	assert_int_equal(srcent_refusal(e[0], 1, 200, &rep), REFUSAL_COUNT);
	n = get(&t, 0, &k[PROBE], 300);
	assert_ptr_equal(n, e[1]);
	assert_memory_equal(&e[0]->key, &k[0], sizeof(k[0]));
	assert_true(srcent_unlogged(e[0]));
	srctab_clear(&t);
}

/*
 * Only an entry back to its initial state is recycled: a window of
 * entries that each carry some state (an open connection, a spent
 * rate, flood, ban_after or reply bucket, a refusal waiting for its
 * summary) refuses a new key rather than recycle one of them, however
 * old they are; once a bucket has refilled, its entry may go.
 */
static void
test_limit_srctab_keeps_live(void **state)
{
	struct srctab	 t;
	struct srckey	 k[PROBE + 2];
	struct srcent	*e[PROBE], *n;
	struct rate	 r = { .count = 2, .window_ms = 1000 };
	size_t		 i;
	uint32_t	 rep;

	(void)state;
	tab_init(&t, 16);
	(void)same_home(&t, k, PROBE + 2);
	for (i = 0; i < PROBE; i++)
		e[i] = get(&t, 0, &k[i], 10 + i);
	srcent_hold(e[0]);
	assert_true(limit_take(&e[1]->rate, &r, 20));
	assert_true(limit_take(&e[2]->flood, &r, 20));
	assert_true(limit_take(&e[3]->refused, &r, 20));
	assert_true(limit_take(&e[4]->reply, &r, 20));
	assert_int_equal(srcent_refusal(e[5], 1, 20, &rep), REFUSAL_LOG);
	assert_int_equal(srcent_refusal(e[5], 1, 21, &rep), REFUSAL_COUNT);
	srcent_hold(e[6]);
	/* Spent to nothing: refilled to 2 only 1000 ms on. */
	assert_true(limit_take(&e[7]->rate, &r, 20));
	assert_true(limit_take(&e[7]->rate, &r, 20));
	assert_false(limit_take(&e[7]->rate, &r, 20));

	/* An hour later, the window is still all live but for nothing. */
	assert_null(get(&t, 0, &k[PROBE], 30));
	for (i = 0; i < PROBE; i++)
		assert_memory_equal(&e[i]->key, &k[i], sizeof(k[i]));

	/* One token refills in 500 ms: e[1] is full at 520, not before. */
	assert_null(get(&t, 0, &k[PROBE], 519));
	n = get(&t, 0, &k[PROBE], 520);
	assert_non_null(n);
	/* e[1..4] are all full again by then; e[1] is the oldest. */
	assert_ptr_equal(n, e[1]);
	assert_false(n->rate.init);
	/* e[7] refills at 1020: e[2], e[3], e[4] go first. */
	assert_ptr_equal(get(&t, 0, &k[PROBE + 1], 521), e[2]);
	assert_memory_equal(&e[7]->key, &k[7], sizeof(k[7]));
	assert_memory_equal(&e[0]->key, &k[0], sizeof(k[0]));
	assert_memory_equal(&e[5]->key, &k[5], sizeof(k[5]));
	srctab_clear(&t);
}

/*
 * A source that spent its rate stays refused through a flood of
 * 100000 new sources within the minute (spoofed datagrams, each taking
 * a reply): its entry, bucket and all, is never recycled for one of
 * them; the flood is partly refused instead, and partly recycles the
 * entries of flood sources whose reply bucket refilled.
 */
static void
test_limit_srctab_rate_survives_flood(void **state)
{
	struct srctab	 t;
	struct srckey	 victim = group_of("192.0.2.7", 32, 64), k;
	struct srcent	*e, *f;
	struct rate	 tcp = { .count = 2, .window_ms = 60000 };
	struct rate	 udp = { .count = 10, .window_ms = 1000 };
	uint64_t	 start = 1000, now = 1000;
	unsigned int	 refused = 0;
	uint32_t	 n;

	(void)state;
	tab_init(&t, 4096);
	e = get(&t, 1, &victim, now);
	assert_true(limit_take(&e->rate, &tcp, now));
	assert_true(limit_take(&e->rate, &tcp, now));
	assert_false(limit_take(&e->rate, &tcp, now));
	/* 100000 sources in 25 s, 4 a millisecond. */
	for (n = 0; n < 100000; n++) {
		k = key_n(n);
		now = start + n / 4;
		if ((f = get(&t, 2, &k, now)) == NULL) {
			refused++;
			continue;
		}
		assert_memory_equal(&f->key, &k, sizeof(k));
		assert_true(limit_take(&f->reply, &udp, now));
	}
	assert_true(refused < 100000 / 2);
	e = get(&t, 1, &victim, now);
	assert_non_null(e);
	assert_true(e->rate.init);
	assert_false(limit_take(&e->rate, &tcp, now));
	srctab_clear(&t);
}

/*
 * Groups that differ only in the high bits of their bytes, which an
 * attacker who owns a v6 /48 picks at will, spread over the slots: the
 * tables take the low bits of the hash.
 */
static void
test_limit_hash_spread(void **state __unused)
{
	struct srckey	 k;
	bool		 used[64];
	unsigned int	 i, n = 0;

	memset(used, 0, sizeof(used));
	for (i = 0; i < 256; i++) {
		memset(&k, 0, sizeof(k));
		k.family = AF_INET6;
		k.prefix = 64;
		k.addr[6] = (uint8_t)(i & 0xf0);
		k.addr[7] = (uint8_t)((i & 0x0f) << 4);
		used[hash_bytes(&k, sizeof(k), 12345) & 63] = true;
	}
	for (i = 0; i < 64; i++)
		n += used[i];
	assert_true(n >= 48);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_group_v4_prefixes),
		cmocka_unit_test(test_limit_group_v4_odd_prefixes),
		cmocka_unit_test(test_limit_group_v6_prefixes),
		cmocka_unit_test(test_limit_group_v6_same_64),
		cmocka_unit_test(test_limit_group_ignores_port),
		cmocka_unit_test(test_limit_group_mapped_as_v4),
		cmocka_unit_test(test_limit_group_prefix_clamped),
		cmocka_unit_test(test_limit_group_other_family),
		cmocka_unit_test(test_limit_take_boundary),
		cmocka_unit_test(test_limit_take_refusals_keep_credit),
		cmocka_unit_test(test_limit_take_idle_caps),
		cmocka_unit_test(test_limit_take_starts_full),
		cmocka_unit_test(test_limit_take_unlimited),
		cmocka_unit_test(test_limit_take_no_drift),
		cmocka_unit_test(test_limit_take_clock_back),
		cmocka_unit_test(test_limit_take_large_rates),
		cmocka_unit_test(test_limit_take_idle_no_overflow),
		cmocka_unit_test(test_limit_srctab_init_size),
		cmocka_unit_test(test_limit_srctab_same_key),
		cmocka_unit_test(test_limit_srctab_distinct_keys),
		cmocka_unit_test(test_limit_srctab_recycles_lru),
		cmocka_unit_test(test_limit_srctab_flood_bounded),
		cmocka_unit_test(test_limit_srctab_shared_race),
		cmocka_unit_test(test_limit_srctab_recent_survives),
		cmocka_unit_test(test_limit_srctab_keeps_unlogged),
		cmocka_unit_test(test_limit_srctab_keeps_live),
		cmocka_unit_test(test_limit_srctab_rate_survives_flood),
		cmocka_unit_test(test_limit_summary_interleaved),
		cmocka_unit_test(test_limit_summary_flood),
		cmocka_unit_test(test_limit_summary_due_at_refusal),
		cmocka_unit_test(test_limit_hash_spread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
