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
 * The service manager's readiness protocol (sd_notify(3)): one datagram
 * of newline-separated KEY=VALUE assignments to the AF_UNIX socket named
 * by $NOTIFY_SOCKET, a path or, with a leading '@', an abstract name.
 * Written here rather than linked from libsystemd: the protocol is
 * these few lines, stable and documented, and portmuxd then runs the
 * same with or without systemd on the host.  Only the monitor holds the
 * socket; the engine and the services never see it (the variable is
 * removed from the environment once read).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sdnotify.h"

/*
 * Take the address from value (NULL or "": no manager).  -1 with errno
 * for an address that cannot be one (too long, not absolute nor
 * abstract) or a socket that cannot be made; the caller says so.
 */
int
sdnotify_init(struct sdnotify *n, const char *value)
{
	size_t	 len;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	if (value == NULL || *value == '\0')
		return 0;
	len = strlen(value);
	if ((value[0] != '/' && value[0] != '@') || len < 2 ||
	    len >= sizeof(n->sun.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	n->sun.sun_family = AF_UNIX;
	memcpy(n->sun.sun_path, value, len);
	if (value[0] == '@')
		n->sun.sun_path[0] = '\0';	/* abstract: no terminator */
	n->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    (value[0] == '@' ? 0 : 1));
	if ((n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		return -1;
	return 0;
}

/*
 * Send one message; 0 without a manager.  Non-blocking: a manager that
 * does not read must not stall the monitor, so a full queue loses the
 * message (-1, EAGAIN) and the caller logs it.
 */
int
sdnotify_send(struct sdnotify *n, const char *fmt, ...)
{
	char	 buf[512];
	va_list	 ap;
	int	 len;
	ssize_t	 w;

	if (n->fd == -1)
		return 0;
	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(buf)) {
		errno = EMSGSIZE;
		return -1;
	}
	do
		w = sendto(n->fd, buf, (size_t)len, MSG_NOSIGNAL,
		    (struct sockaddr *)&n->sun, n->len);
	while (w == -1 && errno == EINTR);
	return w == len ? 0 : -1;
}

void
sdnotify_close(struct sdnotify *n)
{
	if (n->fd != -1)
		close(n->fd);
	n->fd = -1;
}
