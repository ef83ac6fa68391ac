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
 * The environment of a service program: clean, with only PATH, the UCSPI
 * variables (so programs written for tcpserver run unchanged), our own
 * PORTMUX_* and what the service's env and passenv add.  The monitor
 * builds it from addresses it took from the socket itself, never from
 * strings the engine sent.  Pure: the daemon's environment is passed in.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portmuxd.h"

struct envb {
	char	**v;
	size_t	  n;
	size_t	  cap;
};

/* Add or replace NAME=VALUE: a later definition wins. */
static int
env_put(struct envb *e, const char *kv)
{
	size_t	 nl = strcspn(kv, "="), i;
	char	*s;

	if ((s = strdup(kv)) == NULL)
		return -1;
	for (i = 0; i < e->n; i++) {
		if (strncmp(e->v[i], kv, nl) == 0 && e->v[i][nl] == '=') {
			free(e->v[i]);
			e->v[i] = s;
			return 0;
		}
	}
	if (e->n + 2 > e->cap) {
		size_t	 ncap = e->cap ? e->cap * 2 : 24;
		char	**p = reallocarray(e->v, ncap, sizeof(*p));

		if (p == NULL) {
			free(s);
			return -1;
		}
		e->v = p;
		e->cap = ncap;
	}
	e->v[e->n++] = s;
	e->v[e->n] = NULL;
	return 0;
}

static int
env_putf(struct envb *e, const char *name, const char *value)
{
	char	 buf[1024];
	int	 n;

	n = snprintf(buf, sizeof(buf), "%s=%s", name, value);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return env_put(e, buf);
}

/* The daemon's own "NAME=VALUE" entry, whatever its length. */
static const char *
env_lookup(char *const *src, const char *name)
{
	size_t	 nl = strlen(name);

	for (; src != NULL && *src != NULL; src++)
		if (strncmp(*src, name, nl) == 0 && (*src)[nl] == '=')
			return *src;
	return NULL;
}

static int
env_addr(struct envb *e, const char *prefix, const char *what,
    const struct sockaddr *sa)
{
	char		 ip[INET6_ADDRSTRLEN], name[64], port[8];
	uint16_t	 p;

	if (sa_ntop(sa, ip, sizeof(ip), &p) == -1)
		return -1;
	(void)snprintf(port, sizeof(port), "%u", p);
	(void)snprintf(name, sizeof(name), "%s%sIP", prefix, what);
	if (env_putf(e, name, ip) == -1)
		return -1;
	(void)snprintf(name, sizeof(name), "%s%sPORT", prefix, what);
	return env_putf(e, name, port);
}

static int
env_num(struct envb *e, const char *name, unsigned long long v)
{
	char	 buf[24];

	(void)snprintf(buf, sizeof(buf), "%llu", v);
	return env_putf(e, name, buf);
}

/* The UCSPI variables of the connection, by protocol. */
static int
env_ucspi(struct envb *e, const struct service *svc,
    const struct sockaddr *peer, const struct sockaddr *local,
    const struct ucred *cred)
{
	const char	*proto = svc->proto == PROTO_UDP ? "UDP" :
			    svc->proto == PROTO_UNIX ? "UNIX" : "TCP";
	char		 ip[INET6_ADDRSTRLEN];
	uint16_t	 port;

	if (env_putf(e, "PROTO", proto) == -1)
		return -1;
	if (svc->proto == PROTO_UNIX) {
		if (cred == NULL)
			return 0;
		return env_num(e, "UNIXREMOTEUID", cred->uid) == -1 ||
		    env_num(e, "UNIXREMOTEGID", cred->gid) == -1 ||
		    env_num(e, "UNIXREMOTEPID", (unsigned long long)cred->pid) ==
		    -1 ? -1 : 0;
	}
	/* A TCP wait service hands over its listener: no peer yet. */
	if (peer != NULL && (env_addr(e, proto, "REMOTE", peer) == -1 ||
	    sa_ntop(peer, ip, sizeof(ip), &port) == -1 ||
	    env_putf(e, "REMOTE_HOST", ip) == -1))
		return -1;
	if (local != NULL && env_addr(e, proto, "LOCAL", local) == -1)
		return -1;
	return 0;
}

/*
 * Build the environment for one connection of svc.  peer and local are
 * the socket's addresses (getpeername/getsockname; either may be NULL
 * where there is none), cred the peer of a unix socket.  Returns a
 * NULL-terminated array to free with env_free(), or NULL on error.
 */
char **
env_build(const struct service *svc, const struct sockaddr *peer,
    const struct sockaddr *local, const struct ucred *cred, uint64_t conn,
    char *const *daemon_env)
{
	struct envb	 e = { NULL, 0, 0 };
	char *const	*p;
	const char	*v;

	if (env_putf(&e, "PATH", PORTMUX_PATH) == -1 ||
	    env_ucspi(&e, svc, peer, local, cred) == -1 ||
	    env_putf(&e, "PORTMUX_SERVICE", svc->name) == -1 ||
	    env_num(&e, "PORTMUX_CONN", conn) == -1)
		goto fail;
	for (p = svc->env; *p != NULL; p++)
		if (env_put(&e, *p) == -1)
			goto fail;
	for (p = svc->passenv; *p != NULL; p++)
		if ((v = env_lookup(daemon_env, *p)) != NULL &&
		    env_put(&e, v) == -1)
			goto fail;
	return e.v;
fail:
	env_free(e.v);
	return NULL;
}

void
env_free(char **v)
{
	char	**p;

	if (v == NULL)
		return;
	for (p = v; *p != NULL; p++)
		free(*p);
	free(v);
}
