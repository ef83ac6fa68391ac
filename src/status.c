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
 * The status table: a row per listener, what netstat -a shows of it and
 * what only the engine knows (its service's kind, state, limits and
 * counters).  Written to the log on SIGUSR1; the same rows are what a
 * control client will be given.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "engine.h"
#include "log.h"
#include "portmuxd.h"
#include "stats.h"
#include "status.h"

static const char *
row_state(const struct elistener *el)
{
	if (el->busy)
		return "waiting";	/* its wait program holds it */
	if (el->dup_paused || (el->backoff != NULL &&
	    evtimer_pending(el->backoff, NULL)))
		return "paused";
	return "listen";
}

static void
row_kind(const struct service *svc, char *buf, size_t size)
{
	if (svc->builtin == BUILTIN_TRAP)
		(void)snprintf(buf, size, "trap");
	else if (svc->builtin != BUILTIN_NONE)
		(void)snprintf(buf, size, "builtin:%s",
		    conf_builtin_name(svc->builtin));
	else if (svc->redirect != NULL)
		(void)snprintf(buf, size, "redirect");
	else if (svc->wait)
		(void)snprintf(buf, size, "wait");
	else
		(void)snprintf(buf, size, "exec");
}

void
status_row(struct engine *e, const struct elistener *el,
    struct status_row *r)
{
	const struct listener	*l = el->l;
	const struct service	*svc = &e->conf->services[l->service];
	const struct svcstat	*st = engine_stat(e, (long)l->service);
	unsigned int		 last;

	memset(r, 0, sizeof(*r));
	r->service = svc->name;
	r->proto = conf_proto_name(svc->proto);
	if (l->proto == PROTO_UNIX)
		(void)snprintf(r->local, sizeof(r->local), "%s",
		    l->path != NULL ? l->path : svc->path);
	else
		(void)sa_fmt((const struct sockaddr *)&l->addr.ss, r->local,
		    sizeof(r->local));
	r->state = row_state(el);
	row_kind(svc, r->kind, sizeof(r->kind));
	r->knock = svc->knock != NULL;
	r->active = e->active[l->service];
	r->limit = svc->instances;
	r->last = "-";
	if (st == NULL)
		return;
	r->counted = true;
	r->accepted = stats_read(&st->accepted);
	r->refused = stats_refused_total(st);
	last = __atomic_load_n(&st->last_reason, __ATOMIC_RELAXED);
	if (r->refused > 0)
		r->last = guard_reason((int)last);
}

/*
 * The fields of r after its service, as the log and the control socket
 * write them; a unix path that needs it is quoted.
 */
size_t
status_fields(const struct status_row *r, char *buf, size_t size)
{
	char	 lim[16], local[2 * sizeof(r->local) + 3];
	int	 n;

	if (r->limit == LIMIT_UNLIMITED)
		(void)snprintf(lim, sizeof(lim), "unlimited");
	else
		(void)snprintf(lim, sizeof(lim), "%u", r->limit);
	if (r->local[strcspn(r->local, " \"\\=")] != '\0' ||
	    r->local[0] == '\0')
		(void)log_quote(local, sizeof(local), r->local,
		    strlen(r->local));
	else
		(void)snprintf(local, sizeof(local), "%s", r->local);
	n = snprintf(buf, size, "proto=%s local=%s state=%s kind=%s%s "
	    "active=%u limit=%s accepted=%llu refused=%llu last_refusal=%s",
	    r->proto, local, r->state, r->kind, r->knock ? " gate=knock" : "",
	    r->active, lim, (unsigned long long)r->accepted,
	    (unsigned long long)r->refused, r->last);
	return n < 0 ? 0 : (size_t)n;
}

/* A connection the engine holds by its socket fd, as a row. */
void
conn_row_fill(struct conn_row *r, uint64_t id, const char *service, int fd,
    uint64_t start_ms, const char *state)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->service = service;
	fd_peer_fmt(fd, r->peer, sizeof(r->peer));
	fd_local_fmt(fd, r->local, sizeof(r->local));
	r->age_ms = mono_ms() - start_ms;
	r->state = state;
}

/* SIGUSR1: the table in the log, a line per listener. */
void
status_log(struct engine *e)
{
	struct status_row	 r;
	char			 f[512];
	size_t			 i;

	for (i = 0; i < e->nlsn; i++) {
		status_row(e, &e->lsn[i], &r);
		(void)status_fields(&r, f, sizeof(f));
		log_info("service=%s action=dump %s", r.service, f);
	}
}
