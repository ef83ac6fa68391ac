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
 * proxy_protocol: a TCP service behind a load balancer that sends a
 * PROXY header first (proxyin.c).  The header names the client, so only
 * the proxies the admin lists may send one: without trusted_proxies any
 * client could claim any address and walk past every ACL, limit and ban.
 */

#include "config.h"

#include <sys/types.h>

#include <confuse.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "portmuxd.h"
#include "proxy.h"

void
svc_proxy(struct src *s)
{
	/* In the order of the words: off, v1, v2, any. */
	static const unsigned int	 masks[] = { 0, PROXY_V1, PROXY_V2,
	    PROXY_V1 | PROXY_V2 };
	struct service			*svc = s->svc;

	svc->proxy_timeout_ms = src_dur(s, "proxy_timeout", 5 * 1000);
	src_acl(s, "trusted_proxies", &svc->trusted_proxies);
	/* A bad word, already reported, is off. */
	svc->proxy_versions = masks[src_enum(s, "proxy_protocol", 0)];
}

/*
 * From defaults, proxy_protocol reaches only the services it can apply
 * to; in a service's own section a misplaced key is an error.
 */
void
check_proxy(struct src *s)
{
	static const char *const keys[] = { "trusted_proxies",
	    "proxy_timeout", NULL };
	struct service	*svc = s->svc;
	const char	*why = NULL, *v = src_str(s, "proxy_protocol");
	struct cfg_t	*from;
	size_t		 i;

	if (svc->proto != PROTO_TCP)
		why = "applies only to protocol tcp";
	else if (svc->wait)
		why = "cannot apply to a wait service: its program accepts "
		    "the connections, so nothing reads their header";
	else if (svc->builtin == BUILTIN_TCPMUX)
		why = "is not supported with builtin = tcpmux: a target "
		    "would be judged by the proxy's address";
	else if (svc->port == 0)
		why = "needs a port of the service's own: a connection "
		    "through tcpmux has no header read";
	if (why != NULL && svc->proxy_versions != 0) {
		if (own_key(s, "proxy_protocol"))
			src_msg(s, LVL_ERR, "proxy_protocol", "proxy_protocol "
			    "%s", why);
		svc->proxy_versions = 0;
	}
	/* Written but misplaced or misspelt: that is the one message. */
	if (svc->proxy_versions == 0 && own_key(s, "proxy_protocol") &&
	    (v == NULL || strcmp(v, "off") != 0))
		return;
	if (svc->proxy_versions == 0) {
		for (i = 0; keys[i] != NULL; i++)
			if (own_key(s, keys[i]))
				src_msg(s, LVL_ERR, keys[i], "%s needs "
				    "proxy_protocol = v1, v2 or any",
				    keys[i]);
		return;
	}
	/* Entries written and all refused are reported at their line. */
	from = src_from(s, "trusted_proxies");
	if (svc->trusted_proxies.n == 0 && (from == NULL ||
	    cfg_size(from, "trusted_proxies") == 0))
		src_msg(s, LVL_ERR, "proxy_protocol", "proxy_protocol needs "
		    "trusted_proxies: without them any client could send a "
		    "header naming any address");
}
