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

#ifndef PORTMUXD_STATS_H
#define PORTMUXD_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Counters since the daemon started, per service and process-wide, in
 * memory shared by every engine generation (stats.c): a reload or an
 * engine restart keeps them.  Read by the engine for the status table
 * and metrics; the monitor only adds to the process-wide ones.
 */

#define STATS_NAMELEN	72	/* as MSG_NAMELEN */
#define STATS_SERVICES	1024	/* past that, a service counts nothing */
#define STATS_REASONS	24	/* enum reason (1..16), and room */
#define STATS_LAT	10	/* spawn latency buckets, then +Inf */

enum stats_exit {
	STATS_EXIT_OK,		/* status 0 */
	STATS_EXIT_FAIL,	/* another status */
	STATS_EXIT_SIGNAL,	/* killed by a signal */
	STATS_NEXIT
};

struct svcstat {
	uint32_t	 state;		/* live once the monitor named it */
	char		 name[STATS_NAMELEN];
	uint64_t	 accepted;
	uint64_t	 refused[STATS_REASONS];
	uint32_t	 last_reason;	/* enum reason of the last refusal */
	uint64_t	 spawned;
	uint64_t	 exits[STATS_NEXIT];
	uint64_t	 bytes_in;
	uint64_t	 bytes_out;
	uint64_t	 lat[STATS_LAT + 1];	/* spawns per bucket, not summed */
	uint64_t	 lat_sum_us;
};

struct procstat {
	uint64_t	 reloads;
	uint64_t	 generation;
	uint64_t	 restarts;	/* engines started again after a death */
	uint64_t	 knocks;	/* knock windows opened */
	uint64_t	 scans;		/* scans detected */
};

struct stats {
	struct procstat	*proc;
	struct svcstat	*v;
	size_t		 size;
};

/* The upper bounds of the spawn latency buckets, in microseconds. */
extern const uint64_t stats_lat_bounds[STATS_LAT];

int		 stats_init(struct stats *);
void		 stats_clear(struct stats *);
struct svcstat	*stats_service(struct stats *, const char *);
int		 stats_claim(struct stats *, const char *);
void		 stats_add(uint64_t *, uint64_t);
uint64_t	 stats_read(const uint64_t *);
void		 stats_refused(struct svcstat *, unsigned int);
void		 stats_exit(struct svcstat *, int);
void		 stats_spawned(struct svcstat *, uint64_t);
uint64_t	 stats_refused_total(const struct svcstat *);

#endif
