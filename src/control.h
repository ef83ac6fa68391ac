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

#ifndef PORTMUXD_CONTROL_H
#define PORTMUXD_CONTROL_H

#include <stdint.h>

struct conn;
struct engine;
struct msg_ctl_done;

#define CONTROL_VERSION	1
#define CONTROL_REQ_MAX	1024		/* a request line, its LF included */
#define CONTROL_REQ_MS	5000		/* to send it in */

/* control.c: builtin = control, the socket portmuxctl talks to. */
int	 control_start(struct conn *);
int	 control_request(struct conn *, const char *, uint32_t);
void	 control_line(struct engine *, uint64_t, const char *);
void	 control_done(struct engine *, uint64_t, const struct msg_ctl_done *);

#endif
