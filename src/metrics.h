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

#ifndef PORTMUXD_METRICS_H
#define PORTMUXD_METRICS_H

struct conn;
struct engine;
struct evbuffer;

/* metrics.c: builtin = metrics, Prometheus text over HTTP. */
void	 metrics_render(struct engine *, struct evbuffer *);
int	 metrics_start(struct conn *);

#endif
