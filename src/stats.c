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
 * that moves it in the file.  The monitor names the entries of a
 * generation before its engine starts; engines only look them up, and
 * add with atomics (the draining engine and the new one may both be
 * counting).  Entries are never freed; a service renamed or removed
 * keeps its counts and its entry.  Nothing in the table is used
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
 * The slot of name: its entry, or the first free slot of its probe if
 * it has none (free set), NULL if neither.  Only the monitor ever writes
 * a name, so there is no race for a slot; an engine that scribbles on
 * names (a broken one) can only hide counters from lookups.
 */
static struct svcstat *
stats_slot(struct stats *s, const char *name, bool *free)
{
	size_t		 i, n, len = strlen(name);
	struct svcstat	*v;

	*free = false;
	if (s->v == NULL || len >= STATS_NAMELEN)
		return NULL;
	i = (size_t)hash_bytes(name, len, 0) % s->size;
	for (n = 0; n < s->size; n++, i = (i + 1) % s->size) {
		v = &s->v[i];
		if (__atomic_load_n(&v->state, __ATOMIC_ACQUIRE) != ST_LIVE) {
			*free = true;
			return v;
		}
		if (name_is(v, name))
			return v;
	}
	return NULL;
}

/* The entry of the service called name; NULL: it has none. */
struct svcstat *
stats_service(struct stats *s, const char *name)
{
	struct svcstat	*v;
	bool		 free;

	v = stats_slot(s, name, &free);
	return free ? NULL : v;
}

/*
 * The monitor: give name an entry, before any engine looks for it.
 * -1: the table is full (or the name too long), and it counts nothing.
 */
int
stats_claim(struct stats *s, const char *name)
{
	struct svcstat	*v;
	bool		 free;

	if ((v = stats_slot(s, name, &free)) == NULL)
		return -1;
	if (free) {
		memset(v, 0, sizeof(*v));
		memcpy(v->name, name, strlen(name));
		__atomic_store_n(&v->state, ST_LIVE, __ATOMIC_RELEASE);
	}
	return 0;
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
