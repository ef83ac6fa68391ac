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
 * redirect: a service that forwards its connections (relay.c) or its
 * datagrams (udprelay.c) to another address instead of running a
 * program.  The target's name is resolved here, once per load: never per
 * connection, so that a slow resolver never holds a client, and a reload
 * takes a changed address.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <confuse.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "portmuxd.h"
#include "proxy.h"

#define TARGETS_MAX	8	/* addresses of one name, tried in turn */

static bool
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
		    &((const struct sockaddr_in *)b)->sin_addr,
		    sizeof(struct in_addr)) == 0;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr,
	    sizeof(struct in6_addr)) == 0;
}

static uint16_t
addr_port(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ?
	    ((const struct sockaddr_in *)ss)->sin_port :
	    ((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* Only what redirect_source can reach, each address once. */
static void
target_add(struct service *svc, const struct addrinfo *ai)
{
	struct bindaddr	*t;
	size_t		 i;

	if (ai->ai_addrlen > sizeof(t->ss) || (ai->ai_family != AF_INET &&
	    ai->ai_family != AF_INET6) || svc->ntargets == TARGETS_MAX)
		return;
	if (svc->redirect_source.len > 0 &&
	    svc->redirect_source.ss.ss_family != ai->ai_family)
		return;
	t = &svc->targets[svc->ntargets];
	memset(t, 0, sizeof(*t));
	memcpy(&t->ss, ai->ai_addr, ai->ai_addrlen);
	t->len = (socklen_t)ai->ai_addrlen;
	for (i = 0; i < svc->ntargets; i++)
		if (same_addr(&svc->targets[i].ss, &t->ss))
			return;
	svc->ntargets++;
}

static void
resolve(struct src *s, const char *host, uint16_t port)
{
	struct service	*svc = s->svc;
	struct addrinfo	 hints, *res, *ai;
	struct bindaddr	 lit;
	char		 pstr[8];
	int		 r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = svc->proto == PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	/* An address is taken as it is, with no resolver asked. */
	if (confval_parse_addr(host, &lit) == 0) {
		hints.ai_flags |= AI_NUMERICHOST;
		if (lit.wildcard) {
			src_msg(s, LVL_ERR, "redirect", "redirect '%s': %s is "
			    "no address to connect to", conf_vis(svc->redirect),
			    conf_vis(host));
			return;
		}
	}
	(void)snprintf(pstr, sizeof(pstr), "%u", port);
	if ((r = getaddrinfo(host, pstr, &hints, &res)) != 0) {
		src_msg(s, LVL_HOST, "redirect", "redirect '%s': cannot "
		    "resolve %s: %s", conf_vis(svc->redirect), conf_vis(host),
		    gai_strerror(r));
		return;
	}
	svc->targets = conf_ecalloc(TARGETS_MAX, sizeof(*svc->targets));
	for (ai = res; ai != NULL; ai = ai->ai_next)
		target_add(svc, ai);
	freeaddrinfo(res);
	if (svc->ntargets == 0)
		src_msg(s, svc->redirect_source.len > 0 ? LVL_ERR : LVL_HOST,
		    svc->redirect_source.len > 0 ? "redirect_source" :
		    "redirect", "redirect '%s': %s has no %s address%s",
		    conf_vis(svc->redirect), conf_vis(host),
		    svc->redirect_source.len == 0 ? "IPv4 or IPv6" :
		    svc->redirect_source.ss.ss_family == AF_INET ? "IPv4" :
		    "IPv6", svc->redirect_source.len > 0 ? ", the family of "
		    "redirect_source" : "");
}

/* redirect, redirect_source, redirect_timeout, redirect_buffer, udp_*. */
void
svc_redirect(struct src *s)
{
	struct service	*svc = s->svc;
	const char	*v;
	char		 host[256], port[32];
	uint16_t	 pn;

	svc->redirect_timeout_ms = src_dur(s, "redirect_timeout", 5 * 1000);
	svc->redirect_buffer = (uint32_t)src_size(s, "redirect_buffer",
	    64 * 1024);
	svc->udp_session_timeout_ms = src_dur(s, "udp_session_timeout",
	    30 * 1000);
	svc->udp_sessions = (uint32_t)src_num(s, "udp_sessions", 4096);
	/* The words are off, v1, v2: their index is the version's bit. */
	_Static_assert(PROXY_V1 == 1 && PROXY_V2 == 2, "redirect_proxy words");
	svc->redirect_proxy = (unsigned int)src_enum(s, "redirect_proxy", 0);
	if ((v = src_str(s, "redirect_source")) != NULL &&
	    confval_parse_addr(v, &svc->redirect_source) == 0 &&
	    svc->redirect_source.wildcard)
		memset(&svc->redirect_source, 0, sizeof(svc->redirect_source));
	if ((v = src_str(s, "redirect")) == NULL)
		return;
	svc->redirect = conf_estrdup(v);
	/*
	 * A UDP client may start a session per request (a resolver's
	 * random source ports): the stream defaults of instances (64) and
	 * per_source (16) would starve it, so udp_sessions is the bound
	 * unless they are given.
	 */
	if (svc->proto == PROTO_UDP && !src_given(s, "instances"))
		svc->instances = LIMIT_UNLIMITED;
	if (svc->proto == PROTO_UDP && !src_given(s, "per_source"))
		svc->per_source = LIMIT_UNLIMITED;
	if (confval_split_hostport(v, host, sizeof(host), port,
	    sizeof(port)) == -1)
		return;		/* reported by the parse */
	if (conf_parse_port(port, svc->proto == PROTO_UDP ? PROTO_UDP :
	    PROTO_TCP, &pn) == -1) {
		src_msg(s, LVL_ERR, "redirect", "redirect '%s': port '%s' is "
		    "neither 1 to 65535 nor a %s service of /etc/services",
		    conf_vis(v), conf_vis(port), svc->proto == PROTO_UDP ?
		    "udp" : "tcp");
		return;
	}
	resolve(s, host, pn);
}

/* A target that is the service's own bound address would loop. */
static bool
is_own_bind(const struct service *svc, const struct bindaddr *t)
{
	const struct bindaddr	*b;
	size_t			 i;

	if (addr_port(&t->ss) != svc->port)
		return false;
	for (i = 0; i < svc->naddrs; i++) {
		b = &svc->addrs[i];
		if (same_addr(&b->ss, &t->ss))
			return true;
		/* A wildcard takes loopback too, whatever the family. */
		if (b->wildcard && ((t->ss.ss_family == AF_INET &&
		    (ntohl(((const struct sockaddr_in *)&t->ss)->sin_addr.
		    s_addr) >> 24) == 127) || (t->ss.ss_family == AF_INET6 &&
		    IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)
		    &t->ss)->sin6_addr))))
			return true;
	}
	return false;
}

/* A redirect runs no program, and its keys mean nothing without one. */
void
check_redirect(struct src *s)
{
	static const char *const keys[] = { "redirect_source",
	    "redirect_timeout", "redirect_buffer", "redirect_proxy", NULL };
	static const char *const udp_keys[] = { "udp_session_timeout",
	    "udp_sessions", NULL };
	struct service	*svc = s->svc;
	size_t		 i;

	if (svc->redirect == NULL) {
		for (i = 0; keys[i] != NULL; i++)
			if (own_key(s, keys[i]))
				src_msg(s, LVL_ERR, keys[i], "%s needs "
				    "redirect = \"host:port\"", keys[i]);
	}
	for (i = 0; udp_keys[i] != NULL; i++)
		if (own_key(s, udp_keys[i]) && (svc->redirect == NULL ||
		    svc->proto != PROTO_UDP))
			src_msg(s, LVL_ERR, udp_keys[i], "%s applies only to "
			    "a redirect with protocol udp", udp_keys[i]);
	if (svc->redirect == NULL)
		return;
	if (src_given(s, "server") || src_given(s, "builtin"))
		src_msg(s, LVL_ERR, "redirect", "both redirect and %s given; "
		    "a service forwards, or runs a program, or is a builtin",
		    src_given(s, "server") ? "server" : "builtin");
	for (i = 0; exec_keys[i] != NULL; i++)
		if (sec_has(s->sec, s->si, exec_keys[i]))
			src_msg(s, LVL_ERR, exec_keys[i], "%s does not apply "
			    "to a redirect, which runs no program",
			    exec_keys[i]);
	if (svc->wait)
		src_msg(s, LVL_ERR, "wait", "a redirect cannot use wait = "
		    "true: the engine itself serves every client");
	if (svc->redirect_proxy != 0 && svc->proto == PROTO_UDP) {
		if (own_key(s, "redirect_proxy"))
			src_msg(s, LVL_ERR, "redirect_proxy", "redirect_proxy "
			    "applies only to a redirect with protocol tcp or "
			    "unix");
		svc->redirect_proxy = 0;
	}
	for (i = 0; i < svc->ntargets; i++)
		if (is_own_bind(svc, &svc->targets[i])) {
			src_msg(s, LVL_ERR, "redirect", "redirect '%s' reaches "
			    "this service's own address: it would forward to "
			    "itself", conf_vis(svc->redirect));
			break;
		}
}
