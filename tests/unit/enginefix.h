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
 * For the tests of the engine's forwarding (relay.c, udprelay.c): an
 * engine built in this process as engine_main() builds one, as far as
 * admission and forwarding need, over a config given as text; its event
 * loop run a pass at a time between the test's own nonblocking socket
 * calls; and its log read back from stderr, which is a file for the
 * whole test.  Every wait is bounded by a deadline.
 */

#ifndef ENGINEFIX_H
#define ENGINEFIX_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h"

struct event;

struct enginefix {
	struct engine	 e;
	bool		 started;	/* ef_start() built e */
	bool		 passed;	/* ef_stop() ran: keep the log quiet */
	uint64_t	 ids;		/* e.conn_ids points here */
	struct event	*tick;		/* bounds each pass of the loop */
	FILE		*cap;		/* fd 2 while the test runs */
	int		 saved;		/* the real stderr */
	char		*log;		/* what cap holds, read by ef_log() */
	size_t		 nfds;		/* open at the start of the test */
};

/* cmocka fixtures: the state is a struct enginefix. */
int		 ef_setup(void **);
int		 ef_teardown(void **);

void		 ef_start(struct enginefix *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
void		 ef_stop(struct enginefix *);
void		 ef_step(struct enginefix *);
uint64_t	 ef_now(void);

const char	*ef_log(struct enginefix *);
char		*ef_line(struct enginefix *, const char *, const char *);
size_t		 ef_count(struct enginefix *, const char *, const char *);
char		*ef_wait_line(struct enginefix *, const char *, const char *,
		    unsigned int);
uint64_t	 ef_num(const char *, const char *);

int		 ef_tcp_listen(const char *, int, struct sockaddr_in *);
int		 ef_tcp_connect(const struct sockaddr_in *);
int		 ef_accept(struct enginefix *, int, unsigned int);
int		 ef_udp(const char *, struct sockaddr_in *);
uint16_t	 ef_closed_port(int);
void		 ef_sin(struct sockaddr_in *, const char *, uint16_t);
int		 ef_fd_max(void);
size_t		 ef_fds_open(void);
size_t		 ef_pipes_open(void);

/* A line with a and b: a copy, or the test fails and shows the log. */
#define ef_expect(f, a, b, ms) ef_expect_at((f), (a), (b), (ms), \
	__FILE__, __LINE__)
char		*ef_expect_at(struct enginefix *, const char *, const char *,
		    unsigned int, const char *, int);

#endif /* ENGINEFIX_H */
