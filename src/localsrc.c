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
 * A spoofed datagram to a UDP builtin whose source is another UDP builtin
 * of this host (echo on 21007 "from" daytime on 127.0.0.1:21013) makes
 * the two answer each other for ever, each reply a new request.  The
 * fixed list of bad source ports in builtin.c cannot know the ports a
 * configuration chose, so the engine also drops datagrams from any of the
 * host's own addresses on a port where it serves a UDP builtin itself.
 *
 * The address list comes from getifaddrs(3), which needs no privilege,
 * and is fetched only when a datagram's source port is one of those
 * ports and its address is not loopback: the common datagram costs a bit
 * test.  It is refreshed at most once per second, so an address added
 * later is known a second later, and a flood cannot make the engine ask
 * the kernel per packet.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <ifaddrs.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "localsrc.h"
#include "log.h"
#include "portmuxd.h"

#define REFRESH_MS	1000

void
localsrc_init(struct localsrc *ls, const struct conf *conf)
{
	const struct service	*svc;
	size_t			 i;

	memset(ls, 0, sizeof(*ls));
	for (i = 0; i < conf->nservices; i++) {
		svc = &conf->services[i];
		if (svc->proto != PROTO_UDP || svc->builtin == BUILTIN_NONE)
			continue;
		ls->ports[svc->port / 8] |= 1U << (svc->port % 8);
		ls->any = true;
	}
}

void
localsrc_free(struct localsrc *ls)
{
	free(ls->addrs);
	ls->addrs = NULL;
	ls->naddrs = 0;
}

bool
localsrc_port(const struct localsrc *ls, uint16_t port)
{
	return (ls->ports[port / 8] & (1U << (port % 8))) != 0;
}

static uint16_t
sa_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
}

/* sa is normalized: an IPv4-mapped address arrives as IPv4. */
bool
localsrc_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr)
		    >> 24) == 127;
	return sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

/* Whether the address of sa (port and scope aside) is one of addrs. */
bool
localsrc_in(const struct sockaddr *sa, const struct sockaddr_storage *addrs,
    size_t n)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;
	size_t				 i;

	for (i = 0; i < n; i++) {
		if (addrs[i].ss_family != sa->sa_family)
			continue;
		if (sa->sa_family == AF_INET) {
			a4 = (const struct sockaddr_in *)sa;
			b4 = (const struct sockaddr_in *)&addrs[i];
			if (a4->sin_addr.s_addr == b4->sin_addr.s_addr)
				return true;
		} else {
			a6 = (const struct sockaddr_in6 *)sa;
			b6 = (const struct sockaddr_in6 *)&addrs[i];
			if (IN6_ARE_ADDR_EQUAL(&a6->sin6_addr, &b6->sin6_addr))
				return true;
		}
	}
	return false;
}

/*
 * Fetch the host's addresses.  On failure the old list stays, and the
 * failure is logged once per refresh period at most, by the caller's
 * rate: a host whose list cannot be read still has loopback covered.
 */
static void
refresh(struct localsrc *ls)
{
	struct ifaddrs		*ifa, *p;
	struct sockaddr_storage	*addrs;
	socklen_t		 len;
	size_t			 n = 0;

	if (getifaddrs(&ifa) == -1) {
		log_warn("action=warn msg=\"getifaddrs: the host's "
		    "addresses\"");
		return;
	}
	for (p = ifa; p != NULL; p = p->ifa_next)
		if (p->ifa_addr != NULL && (p->ifa_addr->sa_family == AF_INET ||
		    p->ifa_addr->sa_family == AF_INET6))
			n++;
	if ((addrs = calloc(n + 1, sizeof(*addrs))) == NULL) {
		log_warn("action=warn msg=\"calloc: the host's addresses\"");
		freeifaddrs(ifa);
		return;
	}
	n = 0;
	for (p = ifa; p != NULL; p = p->ifa_next) {
		if (p->ifa_addr == NULL)
			continue;
		if (p->ifa_addr->sa_family == AF_INET)
			len = sizeof(struct sockaddr_in);
		else if (p->ifa_addr->sa_family == AF_INET6)
			len = sizeof(struct sockaddr_in6);
		else
			continue;
		memcpy(&addrs[n], p->ifa_addr, len);
		sa_normalize(&addrs[n], &len);
		n++;
	}
	freeifaddrs(ifa);
	free(ls->addrs);
	ls->addrs = addrs;
	ls->naddrs = n;
}

/* Whether sa (normalized) is an address of this host; now as below. */
bool
localsrc_is_local(struct localsrc *ls, const struct sockaddr *sa,
    uint64_t now)
{
	if (localsrc_is_loopback(sa))
		return true;
	if (!ls->fetched || now - ls->fetched_ms >= REFRESH_MS) {
		refresh(ls);
		ls->fetched = true;
		ls->fetched_ms = now;
	}
	return localsrc_in(sa, ls->addrs, ls->naddrs);
}

/*
 * Whether a datagram from sa would start a loop between builtins.  now
 * is the monotonic clock in ms.
 */
bool
localsrc_loop(struct localsrc *ls, const struct sockaddr *sa, uint64_t now)
{
	struct sockaddr_storage	 ss;

	if (!ls->any || sa_copy_norm(sa, &ss) == -1 ||
	    !localsrc_port(ls, sa_port((struct sockaddr *)&ss)))
		return false;
	return localsrc_is_local(ls, (struct sockaddr *)&ss, now);
}
