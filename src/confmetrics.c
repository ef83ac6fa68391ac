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
 * metrics = "address:port": the Prometheus endpoint.  It becomes a
 * service of its own, named "metrics", with builtin = metrics (which a
 * service section may also use, say on a unix socket), so that the
 * monitor binds it as any port, the engine serves it, and it has the
 * logging, limits and bans of every service.  Its ACL is metrics_allow,
 * loopback by default: the counters tell what the host serves and to
 * whom.  The section is built here before the services are read, with
 * its keys placed at the metrics line, so every message about it points
 * there.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <confuse.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "portmuxd.h"

static const char *const default_allow[] = { "127.0.0.0/8", "::1/128",
    NULL };

/* A key of a section built here, as if written at file:line. */
void
conf_key_add(struct secinfo *si, const char *key, const char *file, int line)
{
	struct keyline	*kl;

	si->keys = conf_ereallocarray(si->keys, si->nkeys + 1,
	    sizeof(*si->keys));
	kl = &si->keys[si->nkeys++];
	memset(kl, 0, sizeof(*kl));
	kl->key = keydef_find(key)->name;
	kl->file = file;
	kl->line = line;
	kl->nassign = 1;
}

struct secinfo *
conf_metrics(struct loadctx *ctx, cfg_t *root, struct secinfo *gsi)
{
	struct keyline	*kl = key_find(gsi, "metrics");
	const char	*v = cfg_getstr(root, "metrics"), *a;
	char		 host[256], port[32];
	struct bindaddr	 ba;
	struct secinfo	*si;
	uint16_t	 pn;
	cfg_t		*sec;
	unsigned int	 i, n;

	if (v == NULL || kl == NULL || kl->bad)
		return NULL;
	if (confval_split_hostport(v, host, sizeof(host), port,
	    sizeof(port)) == -1)
		return NULL;		/* reported by the value check */
	if (conf_parse_port(port, PROTO_TCP, &pn) == -1) {
		conf_report(ctx, LVL_ERR, kl->file, kl->line, "metrics '%s': "
		    "port '%s' is neither 1 to 65535 nor a tcp service of "
		    "/etc/services", conf_vis(v), conf_vis(port));
		return NULL;
	}
	if (cfg_size(root, "metrics_allow") == 0 &&
	    key_find(gsi, "metrics_allow") != NULL) {
		kl = key_find(gsi, "metrics_allow");
		conf_report(ctx, LVL_ERR, kl->file, kl->line, "metrics_allow "
		    "= {} would let anyone read the metrics; to mean that, "
		    "write {0.0.0.0/0, ::/0}");
		return NULL;
	}
	if (confval_parse_addr(host, &ba) == -1) {
		conf_report(ctx, LVL_ERR, kl->file, kl->line, "metrics '%s': "
		    "'%s' is not an IP address (names are not accepted)",
		    conf_vis(v), conf_vis(host));
		return NULL;
	}
	if (cfg_gettsec(root, "service", "metrics") != NULL) {
		conf_report(ctx, LVL_ERR, kl->file, kl->line, "metrics: a "
		    "service is named 'metrics' already; remove one, or "
		    "give that service builtin = metrics");
		return NULL;
	}
	if ((sec = cfg_addtsec(root, "service", "metrics")) == NULL ||
	    cfg_setstr(sec, "builtin", "metrics") != 0 ||
	    cfg_setstr(sec, "port", port) != 0 ||
	    cfg_setnstr(sec, "address", host, 0) != 0)
		fatalx("conf: metrics section");
	n = cfg_size(root, "metrics_allow");
	for (i = 0; i < n || (n == 0 && default_allow[i] != NULL); i++) {
		a = n > 0 ? cfg_getnstr(root, "metrics_allow", i) :
		    default_allow[i];
		if (cfg_setnstr(sec, "allow", a, i) != 0)
			fatalx("conf: metrics section");
	}
	/* Creating the section ran sec_cb(), which noted it already. */
	if (ctx->nsecs > 0 && ctx->secs[ctx->nsecs - 1]->sec == sec)
		si = ctx->secs[ctx->nsecs - 1];
	else
		si = conf_sec_add(ctx, sec, kl->file, kl->line);
	si->file = kl->file;
	si->line = kl->line;
	conf_key_add(si, "builtin", kl->file, kl->line);
	conf_key_add(si, "port", kl->file, kl->line);
	conf_key_add(si, "address", kl->file, kl->line);
	if ((kl = key_find(gsi, "metrics_allow")) == NULL)
		kl = key_find(gsi, "metrics");
	conf_key_add(si, "allow", kl->file, kl->line);
	return si;
}
