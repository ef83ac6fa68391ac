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

#ifndef SDNOTIFY_H
#define SDNOTIFY_H

#include <sys/socket.h>
#include <sys/un.h>

#include <stdbool.h>

/* Where the service manager listens ($NOTIFY_SOCKET), if anywhere. */
struct sdnotify {
	int			 fd;	/* -1: not started by a manager */
	struct sockaddr_un	 sun;
	socklen_t		 len;
};

int	 sdnotify_init(struct sdnotify *, const char *);
int	 sdnotify_send(struct sdnotify *, const char *, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
void	 sdnotify_close(struct sdnotify *);

#endif
