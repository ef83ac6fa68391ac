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
 * Per-source accounting: sources are grouped by prefix (an IPv6 client
 * controls a whole /64, so limiting single addresses would be useless),
 * each group has a token bucket, and a fixed-size table holds the
 * groups of each service.  The table never grows: when a probe window is
 * full, the idle group seen longest ago is replaced, so a flood of
 * spoofed sources costs memory once and only recycles entries.  Only a
 * group back in its initial state is idle: recycling one with a bucket
 * not yet refilled, open connections or refusals not yet logged would
 * hand its source a fresh start (a flood of new sources would reset a
 * rate limit), so when none is idle the new group is refused instead.
 * Pure: the time is passed in.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "portmuxd.h"

#define PROBE	8

/*
 * The group of sa: its address with everything past the prefix cleared.
 * An IPv4-mapped IPv6 address groups as the IPv4 address it is.
 */
void
limit_group(const struct sockaddr *sa, unsigned int p4, unsigned int p6,
    struct srckey *key)
{
	struct sockaddr_storage	 ss;
	unsigned int		 prefix, i;
	const uint8_t		*a;
	size_t			 alen;

	memset(key, 0, sizeof(*key));
	if (sa_copy_norm(sa, &ss) == -1)
		return;
	key->family = (uint8_t)ss.ss_family;
	if (ss.ss_family == AF_INET) {
		a = (const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr;
		alen = 4;
		prefix = p4 > 32 ? 32 : p4;
	} else {
		a = ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr;
		alen = 16;
		prefix = p6 > 128 ? 128 : p6;
	}
	memcpy(key->addr, a, alen);
	for (i = prefix; i < alen * 8; i++)
		key->addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	key->prefix = (uint8_t)prefix;
}

/*
 * Token bucket holding up to r->count tokens, refilled at r->count per
 * r->window_ms.  Tokens are kept scaled by window_ms so that the
 * arithmetic stays in integers.  An unlimited rate always grants.
 */
/*
 * When b will hold cap again, at count tokens (scaled) per ms: what
 * srctab_get() asks before it recycles an entry.
 */
static void
bucket_due(struct bucket *b, uint64_t cap, uint32_t count, uint64_t now)
{
	b->full_ms = b->tokens >= cap ? now :
	    now + (cap - b->tokens + count - 1) / count;
}

bool
limit_take(struct bucket *b, const struct rate *r, uint64_t now)
{
	uint64_t	 cap, unit;

	if (r->count == 0)
		return true;
	unit = r->window_ms > 0 ? r->window_ms : 1;
	cap = (uint64_t)r->count * unit;
	if (!b->init) {
		b->init = true;
		b->tokens = cap;
		b->last_ms = now;
	} else if (now > b->last_ms) {
		/* A whole window refills it: no multiplication to overflow. */
		uint64_t dt = now - b->last_ms;
		uint64_t add = dt >= unit ? cap : dt * r->count;

		b->tokens = b->tokens >= cap || add >= cap - b->tokens ? cap :
		    b->tokens + add;
		b->last_ms = now;
	}
	/* A reload may have lowered the rate below what the bucket holds. */
	if (b->tokens > cap)
		b->tokens = cap;
	if (b->tokens < unit) {
		bucket_due(b, cap, r->count, now);
		return false;
	}
	b->tokens -= unit;
	bucket_due(b, cap, r->count, now);
	return true;
}

/* Whether b holds its cap by now: untouched, or refilled since. */
static bool
bucket_full(const struct bucket *b, uint64_t now)
{
	return !b->init || now >= b->full_ms;
}

/*
 * Whether e is back to what a new entry would be, as far as any limit
 * can tell: no lookup using it, no open connection, every bucket full
 * again, no refusal waiting for its line.  Only such an entry may be
 * recycled.
 */
static bool
srcent_idle(const struct srcent *e, uint64_t now)
{
	return __atomic_load_n(&e->pins, __ATOMIC_SEQ_CST) == 0 &&
	    __atomic_load_n(&e->active, __ATOMIC_SEQ_CST) == 0 &&
	    !srcent_unlogged(e) && bucket_full(&e->rate, now) &&
	    bucket_full(&e->flood, now) && bucket_full(&e->refused, now) &&
	    bucket_full(&e->reply, now);
}

/*
 * The table lives in memory shared by every engine the monitor starts
 * (shared = true): rate buckets and connection counts outlive a reload
 * or an engine restart.  Nothing in it is ever used as an index or a
 * pointer, so whatever a broken engine left there can only skew limits.
 */
int
srctab_init(struct srctab *t, size_t size, bool shared)
{
	size_t	 n = 16;
	void	*p;

	while (n < size)
		n <<= 1;
	if (shared) {
		p = mmap(NULL, n * sizeof(*t->v), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -1;
	} else if ((p = calloc(n, sizeof(*t->v))) == NULL)
		return -1;
	t->v = p;
	t->size = n;
	t->shared = shared;
	return 0;
}

void
srctab_clear(struct srctab *t)
{
	if (t->shared && t->v != NULL)
		(void)munmap(t->v, t->size * sizeof(*t->v));
	else
		free(t->v);
	t->v = NULL;
	t->size = 0;
}

static uint64_t
key_hash(uint32_t svc, const struct srckey *k, uint64_t seed)
{
	return hash_bytes(&svc, sizeof(svc), hash_bytes(k, sizeof(*k), seed));
}

/* A service's key in the table: a hash of its name, stable across reloads. */
uint32_t
limit_svc_hash(const char *name)
{
	uint32_t	 h = 2166136261U;

	for (; *name != '\0'; name++) {
		h ^= (uint8_t)*name;
		h *= 16777619U;
	}
	return h;
}

/*
 * Two engines (the draining one of a reload and the new) share the
 * table, so an entry is claimed with a compare-and-swap on its state
 * before it is written, and the state's generation changes with every
 * claim: a lookup that read an entry's key trusts it only if the state
 * is still the one it read first.  No lock: an engine stopped or
 * killed in the middle holds nothing the others wait for (a claim it
 * never finished costs one entry until the next fresh engine).
 */
#define SRC_FREE	0U
#define SRC_BUSY	1U
#define SRC_LIVE	2U
#define SRC_PHASE(st)	((st) & 3U)
#define SRC_NEXT(st, p)	((((st) >> 2) + 1) << 2 | (p))
#define SRC_TRIES	4

static uint32_t
state_load(const struct srcent *e)
{
	return __atomic_load_n(&e->state, __ATOMIC_SEQ_CST);
}

bool
srcent_live(const struct srcent *e)
{
	return SRC_PHASE(state_load(e)) == SRC_LIVE;
}

/*
 * Keep e from being recycled while it is used.  The pin is taken
 * before the state is read again, and a recycler claims the state
 * before it reads the pins (both sequentially consistent): either the
 * recycler sees the pin and leaves e alone, or this sees the claim and
 * lets go.
 */
static bool
srcent_pin(struct srcent *e, uint32_t st)
{
	__atomic_add_fetch(&e->pins, 1, __ATOMIC_SEQ_CST);
	if (state_load(e) == st)
		return true;
	srcent_put(e);
	return false;
}

/* Never below zero: a count reset after a crash may meet a late put. */
static void
count_down(uint32_t *n)
{
	uint32_t	 v = __atomic_load_n(n, __ATOMIC_RELAXED);

	while (v > 0 && !__atomic_compare_exchange_n(n, &v, v - 1,
	    false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		;
}

void
srcent_put(struct srcent *e)
{
	count_down(&e->pins);
}

/*
 * Make victim, read in state st, the entry of (svc, key), pinned.
 * false: another engine got there first, or began to use it.
 */
static bool
srcent_claim(struct srcent *v, uint32_t st, uint32_t svc,
    const struct srckey *key, uint64_t now)
{
	uint32_t	 busy = SRC_NEXT(st, SRC_BUSY);

	if (!__atomic_compare_exchange_n(&v->state, &st, busy, false,
	    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return false;
	/* Its pins are read after the claim: see srcent_pin(). */
	if (SRC_PHASE(st) == SRC_LIVE && !srcent_idle(v, now)) {
		__atomic_store_n(&v->state, st, __ATOMIC_SEQ_CST);
		return false;
	}
	/* Not the state, nor the pins: lookups that lost may still put. */
	memset(&v->key, 0, sizeof(*v) - offsetof(struct srcent, key));
	v->svc = svc;
	v->key = *key;
	v->seen_ms = now;
	__atomic_add_fetch(&v->pins, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&v->state, SRC_NEXT(st, SRC_LIVE), __ATOMIC_SEQ_CST);
	return true;
}

/*
 * The entry of (svc, key), created or recycled if missing, pinned:
 * srcent_put() when done with it.  Only an idle, unpinned entry is
 * recycled (srcent_idle(): an open connection's count must come down
 * where it went up, a spent bucket must not refill at once, counted
 * refusals must be logged); if the whole probe window holds live
 * entries, NULL: the caller refuses the source as an overload.  NULL
 * too if other engines keep winning the race for the window.
 */
struct srcent *
srctab_get(struct srctab *t, uint32_t svc, const struct srckey *key,
    uint64_t now)
{
	size_t		 mask = t->size - 1, i, idx;
	struct srcent	*e, *victim;
	uint32_t	 st, vst;
	uint64_t	 seen, vseen;
	int		 tries;

	idx = (size_t)key_hash(svc, key, t->seed) & mask;
	for (tries = 0; tries < SRC_TRIES; tries++) {
		victim = NULL;
		vst = SRC_FREE;
		vseen = 0;
		for (i = 0; i < PROBE; i++) {
			e = &t->v[(idx + i) & mask];
			st = state_load(e);
			if (SRC_PHASE(st) == SRC_BUSY)
				continue;
			if (SRC_PHASE(st) == SRC_FREE) {
				if (victim == NULL ||
				    SRC_PHASE(vst) == SRC_LIVE) {
					victim = e;
					vst = st;
				}
				continue;
			}
			if (e->svc == svc &&
			    memcmp(&e->key, key, sizeof(*key)) == 0) {
				if (!srcent_pin(e, st))
					break;
				__atomic_store_n(&e->seen_ms, now,
				    __ATOMIC_RELAXED);
				return e;
			}
			if (!srcent_idle(e, now))
				continue;
			seen = __atomic_load_n(&e->seen_ms, __ATOMIC_RELAXED);
			if (victim == NULL || (SRC_PHASE(vst) == SRC_LIVE &&
			    seen < vseen)) {
				victim = e;
				vst = st;
				vseen = seen;
			}
		}
		if (i == PROBE && victim == NULL)
			return NULL;
		if (i == PROBE && srcent_claim(victim, vst, svc, key, now))
			return victim;
	}
	return NULL;
}

/*
 * Forget every open connection and pin, and every claim left half
 * done: a new engine after a crash recounts.
 */
void
srctab_reset_active(struct srctab *t)
{
	size_t		 i;
	uint32_t	 st;

	for (i = 0; i < t->size; i++) {
		__atomic_store_n(&t->v[i].active, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&t->v[i].pins, 0, __ATOMIC_RELAXED);
		st = state_load(&t->v[i]);
		if (SRC_PHASE(st) == SRC_BUSY)
			(void)__atomic_compare_exchange_n(&t->v[i].state, &st,
			    SRC_NEXT(st, SRC_FREE), false, __ATOMIC_SEQ_CST,
			    __ATOMIC_SEQ_CST);
	}
}

void
srcent_hold(struct srcent *e)
{
	__atomic_add_fetch(&e->active, 1, __ATOMIC_RELAXED);
}

void
srcent_release(struct srcent *e)
{
	count_down(&e->active);
}

/*
 * Refusal summaries.  The first refusal of a reason from a group is
 * logged in full; the ones that follow within a second are only
 * counted, and a summary line (repeat=N) stands for them.  Each reason
 * has its own second, so that a source mixing reasons cannot get a
 * line per connection, and at most one line a second is written per
 * group and reason however they interleave.  Counts are taken with an
 * atomic exchange: two engines (the old one of a reload and the new)
 * may summarise one group, and each refusal is counted in exactly one
 * line.
 */
enum refusal_log
srcent_refusal(struct srcent *e, unsigned int r, uint64_t now,
    uint32_t *repeat)
{
	struct refsum	*s;
	uint32_t	 n;

	*repeat = 0;
	if (r >= SRC_NSUMMARY)
		return REFUSAL_LOG;
	s = &e->refused_log[r];
	if (s->logged_ms != 0 && now - s->logged_ms < 1000) {
		__atomic_add_fetch(&s->unlogged, 1, __ATOMIC_RELAXED);
		return REFUSAL_COUNT;
	}
	/* A second has passed: this line is the one for this second. */
	s->logged_ms = now != 0 ? now : 1;
	n = __atomic_exchange_n(&s->unlogged, 0, __ATOMIC_RELAXED);
	if (n == 0)
		return REFUSAL_LOG;
	*repeat = n == UINT32_MAX ? n : n + 1;
	return REFUSAL_SUMMARY;
}

/*
 * Hand emit() the counts whose second is over (all: every count, the
 * engine is stopping).  Returns whether counts are left for later.
 * Pinned meanwhile, so that the key emit() reads is the one counted;
 * an entry another engine is claiming is tried again later (the claim
 * fails if counts are left).
 */
bool
srcent_summaries(struct srcent *e, uint64_t now, bool all,
    void (*emit)(struct srcent *, unsigned int, uint32_t, void *), void *arg)
{
	struct refsum	*s;
	unsigned int	 r;
	uint32_t	 n, st = state_load(e);
	bool		 left = false;

	if (SRC_PHASE(st) == SRC_FREE)
		return false;
	if (SRC_PHASE(st) == SRC_BUSY || !srcent_pin(e, st))
		return true;
	for (r = 0; r < SRC_NSUMMARY; r++) {
		s = &e->refused_log[r];
		if (__atomic_load_n(&s->unlogged, __ATOMIC_RELAXED) == 0)
			continue;
		if (!all && s->logged_ms != 0 && now - s->logged_ms < 1000) {
			left = true;
			continue;
		}
		if ((n = __atomic_exchange_n(&s->unlogged, 0,
		    __ATOMIC_RELAXED)) == 0)
			continue;
		s->logged_ms = now != 0 ? now : 1;
		emit(e, r, n, arg);
	}
	srcent_put(e);
	return left;
}

/* Whether some refusal of the group waits for its summary. */
bool
srcent_unlogged(const struct srcent *e)
{
	unsigned int	 r;

	for (r = 0; r < SRC_NSUMMARY; r++)
		if (__atomic_load_n(&e->refused_log[r].unlogged,
		    __ATOMIC_RELAXED) != 0)
			return true;
	return false;
}
