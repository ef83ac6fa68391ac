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
 * The monitor's side of knocking and the kernel firewall.  It keeps the
 * knock windows the engines opened, so that the next engine (a reload,
 * a restart after a crash) honours them, and mirrors the ban table and
 * the gates into an nftables table of its own (nft.c).  What an engine
 * sends is checked here against its generation's configuration before
 * anything is kept or reaches the kernel: binary addresses and indices
 * only, never a string.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mongate.h"
#include "nft.h"
#include "portmuxd.h"
#include "proto.h"

#define WINDOW_SLACK_MS	60000		/* clock skew between engine and us */

static bool
key_valid(const struct srckey *k)
{
	return (k->family == AF_INET && k->prefix <= 32) ||
	    (k->family == AF_INET6 && k->prefix <= 128);
}

static void
fw_error(struct mongate *g, const char *what)
{
	log_warnx("action=warn msg=\"firewall: %s: %s\"", what,
	    nft_error(g->nft));
}

/* The TCP ports every gate of conf opens. */
static int
gate_ports(struct mongate *g, const struct conf *conf)
{
	uint16_t	*ports = NULL, *np;
	size_t		 i, j, n = 0;
	int		 rc;

	for (i = 0; i < conf->nservices; i++) {
		if (conf->services[i].ngate == 0)
			continue;
		np = reallocarray(ports, n + conf->services[i].ngate,
		    sizeof(*ports));
		if (np == NULL) {
			free(ports);
			return -1;
		}
		ports = np;
		for (j = 0; j < conf->services[i].ngate; j++)
			ports[n++] = conf->services[i].gate[j];
	}
	rc = nft_gate_ports(g->nft, ports, n);
	free(ports);
	return rc;
}

static const struct service *
service_named(const struct conf *conf, const char *name)
{
	size_t	 i;

	for (i = 0; i < conf->nservices; i++)
		if (strcmp(conf->services[i].name, name) == 0)
			return &conf->services[i];
	return NULL;
}

static void
gate_open(struct mongate *g, const struct service *svc,
    const struct srckey *k, uint64_t until, uint64_t now)
{
	size_t	 i;

	if (g->nft == NULL || until <= now)
		return;
	for (i = 0; i < svc->ngate; i++)
		if (nft_gate_open(g->nft, k, svc->gate[i], until - now) == -1)
			fw_error(g, "opening a gate");
}

/*
 * Make the kernel's sets what the ban table and the windows say: after
 * a start, a reload, or a failed command that may have left them
 * behind.  Elements expire in the kernel on their own.
 */
static void
fw_sync(struct mongate *g, const struct conf *conf,
    const struct bantab *bans)
{
	const struct service	*svc;
	uint64_t		 now = wall_ms();
	size_t			 i;

	if (g->nft == NULL)
		return;
	if (gate_ports(g, conf) == -1)
		fw_error(g, "the gated ports");
	if (nft_flush(g->nft) == -1)
		fw_error(g, "emptying the sets");
	for (i = 0; i < bans->size; i++)
		if (bans->v[i].used && bans->v[i].until > now &&
		    nft_ban(g->nft, &bans->v[i].key, bans->v[i].until - now) ==
		    -1)
			fw_error(g, "a ban");
	for (i = 0; i < g->nwins; i++)
		if ((svc = service_named(conf, g->wins[i].service)) != NULL)
			gate_open(g, svc, &g->wins[i].key, g->wins[i].until,
			    now);
}

static void
fw_close(struct mongate *g, const char *table)
{
	char	 err[512];

	if (nft_close(g->nft, err, sizeof(err)) == -1)
		log_warnx("action=warn msg=\"firewall: removing table inet %s: "
		    "%s\"", table, err);
	else
		log_info("action=firewall table=%s msg=\"removed\"", table);
	g->nft = NULL;
}

int
mongate_start(struct mongate *g, const struct conf *conf, char *err,
    size_t errlen)
{
	memset(g, 0, sizeof(*g));
	if (conf->firewall != FIREWALL_NFTABLES)
		return 0;
	if ((g->nft = nft_open(conf->nft_table, err, errlen)) == NULL)
		return -1;
	(void)snprintf(g->table, sizeof(g->table), "%s", conf->nft_table);
	if (gate_ports(g, conf) == -1) {
		(void)snprintf(err, errlen, "%s", nft_error(g->nft));
		(void)nft_close(g->nft, NULL, 0);
		g->nft = NULL;
		return -1;
	}
	return 0;
}

/* A new generation: the firewall may be turned on, off or renamed. */
void
mongate_reload(struct mongate *g, const struct conf *old,
    const struct conf *conf, const struct bantab *bans)
{
	char	 err[512];

	if (g->nft != NULL && (conf->firewall != FIREWALL_NFTABLES ||
	    strcmp(old->nft_table, conf->nft_table) != 0)) {
		fw_close(g, old->nft_table);
	}
	if (g->nft == NULL && conf->firewall == FIREWALL_NFTABLES) {
		if ((g->nft = nft_open(conf->nft_table, err, sizeof(err))) ==
		    NULL) {
			log_warnx("action=warn msg=\"firewall: %s\"", err);
			return;
		}
		(void)snprintf(g->table, sizeof(g->table), "%s",
		    conf->nft_table);
		log_info("action=firewall table=%s msg=\"created\"",
		    conf->nft_table);
	}
	fw_sync(g, conf, bans);
}

void
mongate_ban(struct mongate *g, const struct srckey *k, uint64_t until)
{
	uint64_t	 now = wall_ms();

	if (g->nft != NULL && until > now && nft_ban(g->nft, k, until - now) ==
	    -1)
		fw_error(g, "a ban");
}

/* Windows that ended make room; the kernel expires their elements. */
static void
wins_expire(struct mongate *g, uint64_t now)
{
	size_t	 i;

	for (i = 0; i < g->nwins; )
		if (g->wins[i].until <= now)
			g->wins[i] = g->wins[--g->nwins];
		else
			i++;
}

/*
 * An engine of generation conf says a knock opened a service.  Returns
 * -1 if the message contradicts that configuration: the engine is not
 * to be trusted any more.
 */
int
mongate_knock(struct mongate *g, const struct conf *conf,
    uint64_t generation, const struct msg_knock *mk)
{
	const struct service	*svc;
	struct knockwin		*w, *nw;
	uint64_t		 now = wall_ms();
	size_t			 i;

	if (mk->generation != generation || mk->service >= conf->nservices ||
	    !key_valid(&mk->key))
		return -1;
	svc = &conf->services[mk->service];
	if (svc->nknock == 0 || mk->until > now + svc->knock_open_ms +
	    WINDOW_SLACK_MS || mk->key.prefix != (mk->key.family == AF_INET ?
	    svc->source_prefix4 : svc->source_prefix6))
		return -1;
	wins_expire(g, now);
	for (i = 0; i < g->nwins; i++)
		if (strcmp(g->wins[i].service, svc->name) == 0 &&
		    memcmp(&g->wins[i].key, &mk->key, sizeof(mk->key)) == 0)
			break;
	if (i == g->nwins) {
		if (g->nwins >= conf->knock_max) {
			log_warnx("service=%s action=warn msg=\"knock windows "
			    "full (knock_max %u): the next engine will not "
			    "know this one\"", svc->name, conf->knock_max);
			gate_open(g, svc, &mk->key, mk->until, now);
			return 0;
		}
		nw = reallocarray(g->wins, g->nwins + 1, sizeof(*g->wins));
		if (nw == NULL) {
			log_warn("action=warn msg=\"knock windows\"");
			gate_open(g, svc, &mk->key, mk->until, now);
			return 0;
		}
		g->wins = nw;
		w = &g->wins[g->nwins++];
		memset(w, 0, sizeof(*w));
		(void)snprintf(w->service, sizeof(w->service), "%s",
		    svc->name);
		w->key = mk->key;
	} else
		w = &g->wins[i];
	w->until = mk->until;
	gate_open(g, svc, &mk->key, mk->until, now);
	return 0;
}

/* The windows still open, for a new engine. */
const struct knockwin *
mongate_windows(struct mongate *g, size_t *n)
{
	wins_expire(g, wall_ms());
	*n = g->nwins;
	return g->wins;
}

void
mongate_stop(struct mongate *g)
{
	if (g->nft != NULL)
		fw_close(g, g->table);
	free(g->wins);
	g->wins = NULL;
	g->nwins = 0;
}
