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
 * The shared counters (stats.c): an entry per service name, found again
 * by any engine, never two for one name even when two processes claim
 * at once, and counts that add up across processes.
 */

#include "config.h"

#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "portmuxd.h"
#include "race.h"
#include "stats.h"

static void
test_stats_same_name_same_entry(void **state)
{
	struct stats	 s;
	struct svcstat	*a, *b;

	(void)state;
	assert_int_equal(stats_init(&s), 0);
	assert_int_equal(s.size, STATS_SERVICES);
	/* Only what the monitor named is found. */
	assert_null(stats_service(&s, "echo"));
	assert_int_equal(stats_claim(&s, "echo"), 0);
	assert_int_equal(stats_claim(&s, "daytime"), 0);
	a = stats_service(&s, "echo");
	b = stats_service(&s, "daytime");
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_string_equal(a->name, "echo");
	assert_ptr_equal(stats_service(&s, "echo"), a);
	/* Named again (a reload): the same entry, its counts kept. */
	stats_add(&a->accepted, 3);
	assert_int_equal(stats_claim(&s, "echo"), 0);
	assert_ptr_equal(stats_service(&s, "echo"), a);
	assert_int_equal(stats_read(&a->accepted), 3);
	stats_add(&a->accepted, (uint64_t)-3);
	/* A new table starts at zero. */
	assert_int_equal(stats_read(&a->accepted), 0);
	assert_int_equal(stats_refused_total(a), 0);
	assert_int_equal(s.proc->reloads, 0);
	stats_clear(&s);
	assert_null(s.v);
	stats_clear(&s);
}

/* Every slot taken: the next name gets none, the known ones still do. */
static void
test_stats_full_and_long(void **state)
{
	struct stats	 s;
	char		 name[32], lng[STATS_NAMELEN + 8];
	size_t		 i;

	(void)state;
	assert_int_equal(stats_init(&s), 0);
	for (i = 0; i < STATS_SERVICES; i++) {
		(void)snprintf(name, sizeof(name), "svc%zu", i);
		assert_int_equal(stats_claim(&s, name), 0);
		assert_non_null(stats_service(&s, name));
	}
	assert_int_equal(stats_claim(&s, "one-too-many"), -1);
	assert_null(stats_service(&s, "one-too-many"));
	assert_non_null(stats_service(&s, "svc0"));
	assert_non_null(stats_service(&s, "svc1023"));
	stats_clear(&s);

	assert_int_equal(stats_init(&s), 0);
	memset(lng, 'x', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	assert_int_equal(stats_claim(&s, lng), -1);
	assert_null(stats_service(&s, lng));
	lng[STATS_NAMELEN - 1] = '\0';		/* the longest that fits */
	assert_int_equal(stats_claim(&s, lng), 0);
	assert_non_null(stats_service(&s, lng));
	assert_ptr_equal(stats_service(&s, lng), stats_service(&s, lng));
	stats_clear(&s);
}

static void
test_stats_refusals_and_exits(void **state)
{
	struct stats	 s;
	struct svcstat	*v;

	(void)state;
	assert_int_equal(stats_init(&s), 0);
	assert_int_equal(stats_claim(&s, "shell"), 0);
	v = stats_service(&s, "shell");
	stats_refused(v, 4);
	stats_refused(v, 4);
	stats_refused(v, 1);
	assert_int_equal(v->refused[4], 2);
	assert_int_equal(v->refused[1], 1);
	assert_int_equal(v->last_reason, 1);
	/* Out of range: still counted, as reason 0. */
	stats_refused(v, 99);
	assert_int_equal(v->refused[0], 1);
	assert_int_equal(v->last_reason, 0);
	assert_int_equal(stats_refused_total(v), 4);
	stats_refused(NULL, 4);

	stats_exit(v, 0);			/* exit 0 */
	stats_exit(v, 3 << 8);			/* exit 3 */
	stats_exit(v, 9);			/* SIGKILL */
	stats_exit(v, 0);
	assert_int_equal(v->exits[STATS_EXIT_OK], 2);
	assert_int_equal(v->exits[STATS_EXIT_FAIL], 1);
	assert_int_equal(v->exits[STATS_EXIT_SIGNAL], 1);
	stats_exit(NULL, 0);
	stats_clear(&s);
}

/* A spawn goes to the first bucket whose bound it does not pass. */
static void
test_stats_latency_buckets(void **state)
{
	struct stats	 s;
	struct svcstat	*v;
	size_t		 b;

	(void)state;
	assert_int_equal(stats_init(&s), 0);
	assert_int_equal(stats_claim(&s, "shell"), 0);
	v = stats_service(&s, "shell");
	for (b = 0; b < STATS_LAT; b++) {
		stats_spawned(v, stats_lat_bounds[b]);
		stats_spawned(v, stats_lat_bounds[b] + 1);
	}
	stats_spawned(v, 0);
	assert_int_equal(v->lat[0], 2);
	for (b = 1; b < STATS_LAT; b++)
		assert_int_equal(v->lat[b], 2);
	assert_int_equal(v->lat[STATS_LAT], 1);	/* past 1 s */
	assert_int_equal(v->spawned, 2 * STATS_LAT + 1);
	for (b = 1; b < STATS_LAT; b++)
		assert_true(stats_lat_bounds[b] > stats_lat_bounds[b - 1]);
	stats_spawned(NULL, 5);
	stats_clear(&s);
}

/*
 * Two engines at once (a reload): the monitor named 200 services, two
 * processes look them up and count into them.  One entry per name, and
 * every count in.
 */
#define RACE_NAMES	200
#define RACE_ADDS	20000

static int
race_run(void *arg, uint32_t who)
{
	struct stats	*s = arg;
	char		 name[32];
	struct svcstat	*v[RACE_NAMES];
	size_t		 i, n;

	(void)who;
	for (i = 0; i < RACE_NAMES; i++) {
		(void)snprintf(name, sizeof(name), "service-%zu", i);
		if ((v[i] = stats_service(s, name)) == NULL)
			return 3;
	}
	for (n = 0; n < RACE_ADDS; n++)
		stats_add(&v[n % RACE_NAMES]->accepted, 1);
	return 0;
}

static void
test_stats_two_processes(void **state)
{
	struct stats	 s;
	size_t		 j, live = 0;
	uint64_t	 total = 0;
	char		 name[32];

	(void)state;
	assert_int_equal(stats_init(&s), 0);
	for (j = 0; j < RACE_NAMES; j++) {
		(void)snprintf(name, sizeof(name), "service-%zu", j);
		assert_int_equal(stats_claim(&s, name), 0);
	}
	race2(race_run, &s);
	for (j = 0; j < s.size; j++) {
		if (s.v[j].name[0] == '\0')
			continue;
		live++;
		total += s.v[j].accepted;
	}
	assert_int_equal(live, RACE_NAMES);
	assert_int_equal(total, 2 * RACE_ADDS);
	assert_int_equal(stats_service(&s, "service-7")->accepted,
	    2 * RACE_ADDS / RACE_NAMES);
	stats_clear(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_same_name_same_entry),
		cmocka_unit_test(test_stats_full_and_long),
		cmocka_unit_test(test_stats_refusals_and_exits),
		cmocka_unit_test(test_stats_latency_buckets),
		cmocka_unit_test(test_stats_two_processes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
