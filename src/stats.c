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
 * Counters since the start, shared by the engine generations.  A
 * service's entry is found by its name, so that it outlives a reload
 * that moves it in the file, and claimed with a compare-and-swap, as
 * the source table's entries are: the draining engine and the new one
 * may both be counting.  Entries are never freed; a service renamed or
 * removed keeps its counts and its entry.  Nothing in the table is used
 * as a pointer or an index, so what a broken engine writes there skews
 * counts and nothing else.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <string.h>

#include "portmuxd.h"
#include "stats.h"

#define ST_FREE		0U
#define ST_BUSY		1U
#define ST_LIVE		2U

/* 1 ms to 1 s, as a spawn takes: a fork, an exec, maybe a chroot. */
const uint64_t stats_lat_bounds[STATS_LAT] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000
};

int
stats_init(struct stats *s)
{
	size_t	 len = sizeof(*s->proc) + STATS_SERVICES * sizeof(*s->v);
	void	*p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return -1;
	s->proc = p;
	s->v = (struct svcstat *)(s->proc + 1);
	s->size = STATS_SERVICES;
	return 0;
}

void
stats_clear(struct stats *s)
{
	if (s->proc != NULL)
		(void)munmap(s->proc, sizeof(*s->proc) +
		    s->size * sizeof(*s->v));
	s->proc = NULL;
	s->v = NULL;
	s->size = 0;
}

static bool
name_is(const struct svcstat *v, const char *name)
{
	return strncmp(v->name, name, sizeof(v->name)) == 0 &&
	    v->name[sizeof(v->name) - 1] == '\0';
}

/*
 * The entry of the service called name, claimed if it has none.  NULL:
 * the table is full (or name too long), and the service counts nothing.
 * Called once per service when an engine starts, so a linear probe is
 * cheap enough.
 */
struct svcstat *
stats_service(struct stats *s, const char *name)
{
	size_t		 i, n, idx, len = strlen(name);
	struct svcstat	*v;
	uint32_t	 st;
	unsigned int	 spins;

	if (s->v == NULL || len >= STATS_NAMELEN)
		return NULL;
	idx = (size_t)hash_bytes(name, len, 0) % s->size;
	for (n = 0; n < s->size; n++) {
		i = (idx + n) % s->size;
		v = &s->v[i];
		/*
		 * Another engine naming it is done within a few stores; one
		 * that stopped half-way (killed, or broken) is not waited
		 * for: the next entry will do.
		 */
		for (spins = 0; spins < 10000; spins++) {
			st = __atomic_load_n(&v->state, __ATOMIC_ACQUIRE);
			if (st == ST_LIVE) {
				if (name_is(v, name))
					return v;
				break;
			}
			if (st != ST_FREE)
				continue;
			if (!__atomic_compare_exchange_n(&v->state, &st,
			    ST_BUSY, false, __ATOMIC_ACQ_REL,
			    __ATOMIC_ACQUIRE))
				continue;
			memset(v->name, 0, sizeof(v->name));
			memcpy(v->name, name, len);
			__atomic_store_n(&v->state, ST_LIVE,
			    __ATOMIC_RELEASE);
			return v;
		}
	}
	return NULL;
}

void
stats_add(uint64_t *c, uint64_t n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

uint64_t
stats_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* A refusal for reason r (enum reason); v may be NULL. */
void
stats_refused(struct svcstat *v, unsigned int r)
{
	if (v == NULL)
		return;
	if (r == 0 || r >= STATS_REASONS)
		r = 0;			/* counted, reason unknown */
	stats_add(&v->refused[r], 1);
	__atomic_store_n(&v->last_reason, r, __ATOMIC_RELAXED);
}

uint64_t
stats_refused_total(const struct svcstat *v)
{
	uint64_t	 n = 0;
	size_t		 r;

	for (r = 0; r < STATS_REASONS; r++)
		n += stats_read(&v->refused[r]);
	return n;
}

/* A program's end, from its wait status. */
void
stats_exit(struct svcstat *v, int status)
{
	if (v == NULL)
		return;
	if (WIFSIGNALED(status))
		stats_add(&v->exits[STATS_EXIT_SIGNAL], 1);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		stats_add(&v->exits[STATS_EXIT_OK], 1);
	else
		stats_add(&v->exits[STATS_EXIT_FAIL], 1);
}

/* A program started, us after the engine asked for it. */
void
stats_spawned(struct svcstat *v, uint64_t us)
{
	size_t	 b;

	if (v == NULL)
		return;
	for (b = 0; b < STATS_LAT && us > stats_lat_bounds[b]; b++)
		;
	stats_add(&v->spawned, 1);
	stats_add(&v->lat[b], 1);
	stats_add(&v->lat_sum_us, us);
}
