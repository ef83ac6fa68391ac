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
 * A connection the engine serves itself.  conn_free() is the single
 * place a connection ends: it logs the close line with the byte counts,
 * releases the service's instance slot and frees everything.
 */

#include "config.h"

#include <sys/types.h>

#include <stdlib.h>
#include <syslog.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "engine.h"
#include "log.h"
#include "portmuxd.h"

/* se: the per_source slot the connection holds, released with it. */
struct conn *
conn_new(struct engine *e, size_t svc, uint64_t id, struct srcent *se)
{
	struct conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->e = e;
	c->id = id;
	c->svc = svc;
	c->se = se;
	c->service = &e->conf->services[svc];
	c->start_ms = mono_ms();
	TAILQ_INSERT_TAIL(&e->conns, c, entry);
	e->nconns++;
	return c;
}

/* End c; reason is NULL for a normal close, else "timeout", "error"... */
void
conn_free(struct conn *c, const char *reason)
{
	struct engine	*e = c->e;
	uint64_t	 out = c->bytes_out;

	if (c->ctl_lines != NULL)
		evbuffer_free(c->ctl_lines);
	if (c->bev != NULL) {
		/* Count only what reached the socket. */
		size_t	 pending = evbuffer_get_length(
		    bufferevent_get_output(c->bev));

		out = out > pending ? out - pending : 0;
		bufferevent_free(c->bev);
	}
	engine_count_bytes(e, (long)c->svc, c->bytes_in, out);
	log_conn(LOG_INFO, c->id, c->service->name, "action=close "
	    "bytes_in=%llu bytes_out=%llu duration_ms=%llu%s%s",
	    (unsigned long long)c->bytes_in, (unsigned long long)out,
	    (unsigned long long)(mono_ms() - c->start_ms),
	    reason != NULL ? " reason=" : "", reason != NULL ? reason : "");
	if (e->active[c->svc] > 0)
		e->active[c->svc]--;
	if (c->se != NULL)
		srcent_release(c->se);
	TAILQ_REMOVE(&e->conns, c, entry);
	e->nconns--;
	free(c);
	engine_check_done(e);
}

/*
 * Send what is queued, then close: c's write callback calls
 * conn_write_done() once the output is empty.  The write low-water
 * mark goes to 0 so that the callback comes only then.
 */
void
conn_finish(struct conn *c)
{
	c->closing = true;
	(void)bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c, NULL);
}

/* A write callback's first step: true if c is gone or closing. */
bool
conn_write_done(struct conn *c)
{
	if (!c->closing)
		return false;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c, NULL);
	return true;
}
