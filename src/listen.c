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
 * Listening sockets: open and bind them (monitor, as root), and decide
 * on reload which sockets keep their identity and so stay open, so that
 * a reload never refuses a connection to an unchanged service.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "portmuxd.h"

/*
 * Open, bind and listen on one address of a service.  Returns the socket,
 * nonblocking and close-on-exec, or -1 with errno set.
 */
int
listen_open(const struct service *svc, const struct bindaddr *ba)
{
	int	 fd, on = 1, v6only = svc->v6only ? 1 : 0;
	int	 family = ba->ss.ss_family, saved;

	if (svc->proto != PROTO_TCP) {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	/* Set explicitly: the sysctl default differs between hosts. */
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
	    &v6only, sizeof(v6only)) == -1)
		goto fail;
	if (svc->freebind && setsockopt(fd, family == AF_INET6 ? IPPROTO_IPV6 :
	    IPPROTO_IP, family == AF_INET6 ? IPV6_FREEBIND : IP_FREEBIND, &on,
	    sizeof(on)) == -1)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&ba->ss, ba->len) == -1)
		goto fail;
	if (listen(fd, svc->backlog) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * DESIGN.md's identity of a socket: protocol, address, port and, for
 * IPv6 only, v6only.  freebind matters only at bind time, so it is no
 * part of it (a socket cannot be rebound while the old one holds the
 * port anyway).
 */
static bool
same_identity(const struct listener *l, const struct service *svc,
    const struct bindaddr *ba)
{
	if (l->fd == -1 || l->proto != svc->proto || l->addr.len != ba->len ||
	    memcmp(&l->addr.ss, &ba->ss, ba->len) != 0)
		return false;
	return ba->ss.ss_family != AF_INET6 || l->v6only == svc->v6only;
}

static void
bind_error(const struct service *svc, const struct bindaddr *ba)
{
	char		 a[64];
	uint16_t	 port;

	if (sa_ntop((const struct sockaddr *)&ba->ss, a, sizeof(a), &port) ==
	    -1)
		(void)snprintf(a, sizeof(a), "unknown");
	log_warn("action=warn service=%s address=%s port=%u msg=\"cannot "
	    "bind\"", svc->name, a, svc->port);
}

/*
 * Open every listener of conf.  A socket whose identity (protocol,
 * address, port, v6only) matches one of old is taken over from old
 * (old[i].fd becomes -1) and only its backlog is updated.  All or
 * nothing: on the first bind failure everything opened here is closed,
 * old is left as it was, and -1 is returned.
 */
int
listen_open_all(const struct conf *conf, struct listener *old, size_t nold,
    struct listener **out, size_t *nout)
{
	struct listener	*ls = NULL;
	size_t		 n = 0, cap = 0, i, j, k;
	int		*taken = NULL;

	if (nold > 0 && (taken = calloc(nold, sizeof(*taken))) == NULL)
		return -1;
	for (i = 0; i < conf->nservices; i++) {
		const struct service *svc = &conf->services[i];

		for (j = 0; j < svc->naddrs; j++) {
			const struct bindaddr *ba = &svc->addrs[j];
			struct listener	*l;
			int		 fd = -1;

			if (n == cap) {
				size_t	 ncap = cap ? cap * 2 : 8;
				void	*p = reallocarray(ls, ncap, sizeof(*ls));

				if (p == NULL)
					goto fail;
				ls = p;
				cap = ncap;
			}
			for (k = 0; k < nold; k++) {
				if (!taken[k] && same_identity(&old[k], svc,
				    ba)) {
					taken[k] = 1;
					fd = old[k].fd;
					break;
				}
			}
			if (fd != -1 && old[k].backlog != svc->backlog &&
			    listen(fd, svc->backlog) == -1) {
				bind_error(svc, ba);
				goto fail;
			}
			if (fd == -1 && (fd = listen_open(svc, ba)) == -1) {
				if (ba->implicit && (errno == EAFNOSUPPORT ||
				    errno == EADDRNOTAVAIL)) {
					log_warn("action=warn service=%s "
					    "msg=\"skipping an address family "
					    "this host lacks\"", svc->name);
					continue;
				}
				bind_error(svc, ba);
				goto fail;
			}
			l = &ls[n++];
			memset(l, 0, sizeof(*l));
			l->fd = fd;
			l->service = i;
			l->addr = *ba;
			l->proto = svc->proto;
			l->v6only = svc->v6only;
			l->backlog = svc->backlog;
			l->reused = k < nold && taken[k] && old[k].fd == fd;
		}
	}
	/* Commit: the taken-over sockets now belong to the new table. */
	for (k = 0; k < nold; k++)
		if (taken[k])
			old[k].fd = -1;
	free(taken);
	*out = ls;
	*nout = n;
	return 0;
fail:
	for (i = 0; i < n; i++)
		if (!ls[i].reused)
			close(ls[i].fd);
	free(ls);
	free(taken);
	return -1;
}

void
listen_close_all(struct listener *ls, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (ls[i].fd != -1)
			close(ls[i].fd);
		ls[i].fd = -1;
	}
}
