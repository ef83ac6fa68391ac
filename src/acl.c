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
 * CIDR access lists.  A client is accepted only if it matches no deny
 * list (global or service) and, at each level whose allow list is not
 * empty, matches that allow list.  An IPv4-mapped IPv6 peer is matched
 * as the IPv4 address it is, so an IPv4 rule cannot be bypassed through
 * a dual-stack socket.  Pure: no I/O, no state.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <string.h>

#include "portmuxd.h"

bool
cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
	struct sockaddr_storage	 ss;
	const uint8_t		*a;
	unsigned int		 full, rest;

	if (sa_copy_norm(sa, &ss) == -1 || ss.ss_family != c->family)
		return false;
	if (ss.ss_family == AF_INET)
		a = (const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr;
	else
		a = ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr;
	full = c->prefix / 8;
	rest = c->prefix % 8;
	if (memcmp(a, c->addr, full) != 0)
		return false;
	if (rest != 0) {
		uint8_t	 mask = (uint8_t)(0xff << (8 - rest));

		if ((a[full] & mask) != (c->addr[full] & mask))
			return false;
	}
	return true;
}

bool
acl_match(const struct acl *acl, const struct sockaddr *sa)
{
	size_t	 i;

	for (i = 0; i < acl->n; i++)
		if (cidr_match(&acl->v[i], sa))
			return true;
	return false;
}

bool
acl_permit(const struct conf *conf, const struct service *svc,
    const struct sockaddr *sa)
{
	if (acl_match(&conf->deny, sa) || acl_match(&svc->deny, sa))
		return false;
	if (conf->allow.n > 0 && !acl_match(&conf->allow, sa))
		return false;
	if (svc->allow.n > 0 && !acl_match(&svc->allow, sa))
		return false;
	return true;
}
