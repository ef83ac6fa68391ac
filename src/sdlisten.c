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
 * Socket activation (sd_listen_fds(3)): the service manager binds the
 * sockets and starts portmuxd with them as descriptors 3, 4, ...,
 * $LISTEN_FDS of them, for the process $LISTEN_PID, named by
 * $LISTEN_FDNAMES.  Each is matched to the listener of a service by
 * what it is (protocol, address and port, or unix path), never by its
 * name, so the same config works with and without the manager.  The
 * variables are removed once read: neither the engine nor a service
 * program ever sees them.  A passed socket is never closed: the manager
 * owns its address, and a reload that drops and later restores its
 * service finds it again.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "portmuxd.h"
#include "sdlisten.h"

/*
 * How many descriptors are passed to process pid: 0 when pid_s is unset
 * or names another process (the variables were meant for a parent).
 * -1 with a message for values that are not numbers in range.
 */
int
sdlisten_count(const char *pid_s, const char *fds_s, long pid, size_t *n,
    char *err, size_t errlen)
{
	char	*end;
	long	 v;

	*n = 0;
	if (pid_s == NULL || *pid_s == '\0')
		return 0;
	errno = 0;
	v = strtol(pid_s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0) {
		(void)snprintf(err, errlen, "LISTEN_PID=%s is not a pid",
		    pid_s);
		return -1;
	}
	if (v != pid)
		return 0;
	if (fds_s == NULL) {
		(void)snprintf(err, errlen, "LISTEN_PID without LISTEN_FDS");
		return -1;
	}
	errno = 0;
	v = strtol(fds_s, &end, 10);
	if (errno != 0 || *end != '\0' || end == fds_s || v < 0 ||
	    v > SDLISTEN_MAX) {
		(void)snprintf(err, errlen, "LISTEN_FDS=%s is not a count of "
		    "0 to %d descriptors", fds_s, SDLISTEN_MAX);
		return -1;
	}
	*n = (size_t)v;
	return 0;
}

/* The i-th name of the colon-separated list, or "". */
static void
name_at(const char *names, size_t i, char *out, size_t outlen)
{
	const char	*p = names, *q;
	size_t		 len;

	out[0] = '\0';
	if (p == NULL)
		return;
	while (i-- > 0) {
		if ((p = strchr(p, ':')) == NULL)
			return;
		p++;
	}
	q = strchr(p, ':');
	len = q != NULL ? (size_t)(q - p) : strlen(p);
	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, p, len);
	out[len] = '\0';
}

/* What sp is, for a message: "fd=3 name=web proto=tcp address=... */
void
sdlisten_describe(const struct sdpassed *sp, char *buf, size_t len)
{
	const struct sockaddr_un	*sun;
	char				 a[INET6_ADDRSTRLEN + 2];
	char				 nm[80];
	uint16_t			 port;

	nm[0] = '\0';
	if (sp->name[0] != '\0')
		(void)snprintf(nm, sizeof(nm), " name=%s", sp->name);
	if (sp->domain == AF_UNIX) {
		sun = (const struct sockaddr_un *)&sp->ss;
		(void)snprintf(buf, len, "fd=%d%s proto=unix path=%s", sp->fd,
		    nm, sp->len > offsetof(struct sockaddr_un, sun_path) &&
		    sun->sun_path[0] != '\0' ? sun->sun_path : "-");
		return;
	}
	if (sa_ntop((const struct sockaddr *)&sp->ss, a, sizeof(a), &port) ==
	    -1) {
		(void)snprintf(buf, len, "fd=%d%s family=%d type=%d", sp->fd,
		    nm, sp->domain, sp->type);
		return;
	}
	(void)snprintf(buf, len, "fd=%d%s proto=%s address=%s port=%u%s",
	    sp->fd, nm, sp->type == SOCK_DGRAM ? "udp" : "tcp", a, port,
	    sp->domain == AF_INET6 && !sp->v6only ? " v6only=false" : "");
}

/* Learn what descriptor fd is; -1 with a message if no usable socket. */
static int
inspect(struct sdpassed *sp, char *err, size_t errlen)
{
	struct stat	 st;
	socklen_t	 len;
	int		 v, flags;

	if (fstat(sp->fd, &st) == -1 || !S_ISSOCK(st.st_mode)) {
		(void)snprintf(err, errlen, "passed fd=%d name=%s is not a "
		    "socket", sp->fd, sp->name[0] ? sp->name : "-");
		return -1;
	}
	len = sizeof(sp->domain);
	if (getsockopt(sp->fd, SOL_SOCKET, SO_DOMAIN, &sp->domain, &len) ==
	    -1)
		goto sockerr;
	len = sizeof(sp->type);
	if (getsockopt(sp->fd, SOL_SOCKET, SO_TYPE, &sp->type, &len) == -1)
		goto sockerr;
	sp->len = sizeof(sp->ss);
	if (getsockname(sp->fd, (struct sockaddr *)&sp->ss, &sp->len) == -1)
		goto sockerr;
	if (sp->domain == AF_INET6) {
		len = sizeof(v);
		if (getsockopt(sp->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len) ==
		    -1)
			goto sockerr;
		sp->v6only = v != 0;
	}
	if (sp->type == SOCK_STREAM) {
		len = sizeof(v);
		if (getsockopt(sp->fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) ==
		    -1)
			goto sockerr;
		if (!v) {
			(void)snprintf(err, errlen, "passed fd=%d name=%s is "
			    "a connection, not a listening socket (Accept=yes "
			    "is not supported)", sp->fd,
			    sp->name[0] ? sp->name : "-");
			return -1;
		}
	}
	/* As the engine wants its listeners, and never a child. */
	if ((flags = fcntl(sp->fd, F_GETFL)) == -1 ||
	    fcntl(sp->fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
	    fcntl(sp->fd, F_SETFD, FD_CLOEXEC) == -1)
		goto sockerr;
	return 0;
sockerr:
	(void)snprintf(err, errlen, "passed fd=%d name=%s: %s", sp->fd,
	    sp->name[0] ? sp->name : "-", strerror(errno));
	return -1;
}

/*
 * Take the sockets passed to this process and clear the variables.  -1
 * with a message naming the variable or descriptor that is wrong.
 */
int
sdlisten_take(struct sdlisten *p, char *err, size_t errlen)
{
	const char	*names = getenv("LISTEN_FDNAMES");
	size_t		 n, i;
	int		 rc = 0;

	memset(p, 0, sizeof(*p));
	if (sdlisten_count(getenv("LISTEN_PID"), getenv("LISTEN_FDS"),
	    (long)getpid(), &n, err, errlen) == -1)
		rc = -1;
	else if (n > 0 && (p->v = calloc(n, sizeof(*p->v))) == NULL) {
		(void)snprintf(err, errlen, "%s", strerror(errno));
		rc = -1;
	}
	for (i = 0; rc == 0 && i < n; i++) {
		p->v[i].fd = SDLISTEN_FIRST + (int)i;
		name_at(names, i, p->v[i].name, sizeof(p->v[i].name));
		if (inspect(&p->v[i], err, errlen) == -1)
			rc = -1;
		else
			p->n++;
	}
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
	if (rc == -1)
		sdlisten_free(p);
	return rc;
}

/* Whether sp is the socket svc would bind at ba (NULL for unix). */
static bool
matches(const struct sdpassed *sp, const struct service *svc,
    const struct bindaddr *ba)
{
	const struct sockaddr_un	*sun;
	size_t				 off;

	off = offsetof(struct sockaddr_un, sun_path);
	switch (svc->proto) {
	case PROTO_UNIX:
		sun = (const struct sockaddr_un *)&sp->ss;
		return sp->domain == AF_UNIX && sp->type == SOCK_STREAM &&
		    sp->len > off && sun->sun_path[0] != '\0' &&
		    strncmp(sun->sun_path, svc->path, sp->len - off) == 0 &&
		    strlen(svc->path) == strnlen(sun->sun_path, sp->len - off);
	case PROTO_TCP:
	case PROTO_UDP:
		if (ba == NULL || sp->type != (svc->proto == PROTO_UDP ?
		    SOCK_DGRAM : SOCK_STREAM) ||
		    sp->domain != ba->ss.ss_family || sp->len != ba->len ||
		    memcmp(&sp->ss, &ba->ss, ba->len) != 0)
			return false;
		/*
		 * Linux sets IPV6_V6ONLY itself when a socket binds a
		 * specific IPv6 address, whatever was asked: the flag
		 * tells sockets apart only on the wildcard address.
		 */
		return sp->domain != AF_INET6 || !IN6_IS_ADDR_UNSPECIFIED(
		    &((const struct sockaddr_in6 *)&sp->ss)->sin6_addr) ||
		    sp->v6only == svc->v6only;
	}
	return false;
}

/* The passed socket for svc at ba, an index of p, or -1. */
int
sdlisten_match(const struct sdlisten *p, const struct service *svc,
    const struct bindaddr *ba)
{
	size_t	 i;

	for (i = 0; p != NULL && i < p->n; i++)
		if (matches(&p->v[i], svc, ba))
			return (int)i;
	return -1;
}

/*
 * Log each passed socket that no listener of ls uses: at start an error
 * (the unit and the config disagree), on a reload a warning (the socket
 * stays open, for a later generation).  Returns how many.
 */
size_t
sdlisten_unmatched(const struct sdlisten *p, const struct listener *ls,
    size_t nls, bool fatal)
{
	char	 d[256];
	size_t	 i, j, left = 0;

	for (i = 0; p != NULL && i < p->n; i++) {
		for (j = 0; j < nls; j++)
			if (ls[j].fd == p->v[i].fd)
				break;
		if (j < nls)
			continue;
		left++;
		sdlisten_describe(&p->v[i], d, sizeof(d));
		if (fatal)
			log_errx("action=error %s msg=\"passed by the service "
			    "manager, but no service listens there\"", d);
		else
			log_warnx("action=warn %s msg=\"passed by the service "
			    "manager, no service of this generation uses it; "
			    "kept open\"", d);
	}
	return left;
}

void
sdlisten_free(struct sdlisten *p)
{
	free(p->v);
	p->v = NULL;
	p->n = 0;
}
