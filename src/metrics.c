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
 * builtin = metrics: the counters of stats.c in the Prometheus text
 * format (version 0.0.4), over the least of HTTP/1.x a scraper needs:
 * one request, GET or HEAD /metrics, answered and closed.  The request
 * is bounded (METRICS_REQ_MAX bytes, METRICS_REQ_MS or the service's
 * timeout if shorter); anything else gets 400, 404 or 405.  Names
 * follow the Prometheus conventions: portmuxd_ prefix, _total counters,
 * bytes and seconds.
 */

#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "engine.h"
#include "metrics.h"
#include "portmuxd.h"
#include "stats.h"

#define METRICS_REQ_MAX	4096		/* a request line and its headers */
#define METRICS_REQ_MS	10000

static const char *const exit_classes[STATS_NEXIT] = {
	[STATS_EXIT_OK] = "success",
	[STATS_EXIT_FAIL] = "failure",
	[STATS_EXIT_SIGNAL] = "signal",
};

static void
head(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	(void)evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name,
	    help, name, type);
}

/* Whether service i runs programs: only those have spawns and exits. */
static bool
runs_programs(const struct service *svc)
{
	return svc->builtin == BUILTIN_NONE && svc->redirect == NULL &&
	    svc->ngate == 0;
}

/* Service names are [A-Za-z0-9._-]; escaped anyway, as the format says. */
static void
label(struct evbuffer *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			(void)evbuffer_add_printf(b, "\\%c", *v);
		else if (*v == '\n')
			(void)evbuffer_add(b, "\\n", 2);
		else
			(void)evbuffer_add(b, v, 1);
	}
}

/* The start of a sample: name{service="S" (the caller closes it). */
static void
series(struct evbuffer *b, const char *name, const char *service)
{
	(void)evbuffer_add_printf(b, "%s{service=\"", name);
	label(b, service);
	(void)evbuffer_add(b, "\"", 1);
}

/* name{service="S"} value, for every service with counters. */
static void
per_service(struct evbuffer *b, struct engine *e, const char *name,
    size_t off, bool programs_only)
{
	const struct service	*svc;
	struct svcstat		*st;
	size_t			 i;

	for (i = 0; i < e->conf->nservices; i++) {
		svc = &e->conf->services[i];
		if ((st = engine_stat(e, (long)i)) == NULL ||
		    (programs_only && !runs_programs(svc)))
			continue;
		series(b, name, svc->name);
		(void)evbuffer_add_printf(b, "} %llu\n", (unsigned long long)
		    stats_read((const uint64_t *)((const char *)st + off)));
	}
}

static void
refused(struct evbuffer *b, struct engine *e)
{
	struct svcstat	*st;
	size_t		 i;
	int		 r;

	head(b, "portmuxd_refused_total", "counter", "Connections, "
	    "datagrams and spawns refused, by reason, since the start.");
	for (i = 0; i < e->conf->nservices; i++) {
		if ((st = engine_stat(e, (long)i)) == NULL)
			continue;
		for (r = 1; r <= REASON_PROXY; r++) {
			series(b, "portmuxd_refused_total",
			    e->conf->services[i].name);
			/* A reason not known (slot 0) counts as an error. */
			(void)evbuffer_add_printf(b, ",reason=\"%s\"} %llu\n",
			    guard_reason(r), (unsigned long long)
			    (stats_read(&st->refused[r]) + (r == REASON_ERROR ?
			    stats_read(&st->refused[0]) : 0)));
		}
	}
}

static void
exits(struct evbuffer *b, struct engine *e)
{
	struct svcstat	*st;
	size_t		 i, c;

	head(b, "portmuxd_exits_total", "counter", "Service programs that "
	    "ended, by how: exit status 0, another status, or a signal.");
	for (i = 0; i < e->conf->nservices; i++) {
		if ((st = engine_stat(e, (long)i)) == NULL ||
		    !runs_programs(&e->conf->services[i]))
			continue;
		for (c = 0; c < STATS_NEXIT; c++) {
			series(b, "portmuxd_exits_total",
			    e->conf->services[i].name);
			(void)evbuffer_add_printf(b, ",class=\"%s\"} %llu\n",
			    exit_classes[c],
			    (unsigned long long)stats_read(&st->exits[c]));
		}
	}
}

static void
latency(struct evbuffer *b, struct engine *e)
{
	struct svcstat	*st;
	uint64_t	 sum;
	size_t		 i, k;

	head(b, "portmuxd_spawn_duration_seconds", "histogram", "From the "
	    "engine's request to the monitor's answer that a program "
	    "runs.");
	for (i = 0; i < e->conf->nservices; i++) {
		if ((st = engine_stat(e, (long)i)) == NULL ||
		    !runs_programs(&e->conf->services[i]))
			continue;
		for (sum = 0, k = 0; k <= STATS_LAT; k++) {
			sum += stats_read(&st->lat[k]);
			series(b, "portmuxd_spawn_duration_seconds_bucket",
			    e->conf->services[i].name);
			if (k < STATS_LAT)
				(void)evbuffer_add_printf(b, ",le=\"%g\"} "
				    "%llu\n", (double)stats_lat_bounds[k] / 1e6,
				    (unsigned long long)sum);
			else
				(void)evbuffer_add_printf(b, ",le=\"+Inf\"} "
				    "%llu\n", (unsigned long long)sum);
		}
		series(b, "portmuxd_spawn_duration_seconds_sum",
		    e->conf->services[i].name);
		(void)evbuffer_add_printf(b, "} %.6f\n",
		    (double)stats_read(&st->lat_sum_us) / 1e6);
		series(b, "portmuxd_spawn_duration_seconds_count",
		    e->conf->services[i].name);
		(void)evbuffer_add_printf(b, "} %llu\n",
		    (unsigned long long)sum);
	}
}

static void
active(struct evbuffer *b, struct engine *e)
{
	size_t	 i;

	head(b, "portmuxd_active", "gauge", "Open connections and running "
	    "programs of the current engine, per service.");
	for (i = 0; i < e->conf->nservices; i++) {
		series(b, "portmuxd_active", e->conf->services[i].name);
		(void)evbuffer_add_printf(b, "} %u\n", e->active[i]);
	}
}

/* A metric of the daemon as a whole: one sample, no labels. */
static void
scalar(struct evbuffer *b, const char *name, const char *type,
    const char *help, uint64_t v)
{
	head(b, name, type, help);
	(void)evbuffer_add_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void
process(struct evbuffer *b, struct engine *e)
{
	const struct procstat	*p = e->st.proc;
	const struct xchild	*x;
	size_t			 children = 0, bans = 0, i;
	uint64_t		 now = wall_ms();

	TAILQ_FOREACH(x, &e->children, entry)
		if (x->pid != 0 && !x->exited)
			children++;
	for (i = 0; i < e->bans.size; i++)
		if (e->bans.v[i].used && e->bans.v[i].until > now)
			bans++;
	scalar(b, "portmuxd_children", "gauge", "Service programs running.",
	    children);
	scalar(b, "portmuxd_bans", "gauge", "Source groups banned now.", bans);
	if (p == NULL)
		return;
	scalar(b, "portmuxd_knocks_opened_total", "counter", "Knock sequences "
	    "completed, each opening a window.", stats_read(&p->knocks));
	scalar(b, "portmuxd_scans_detected_total", "counter", "Port scans "
	    "detected.", stats_read(&p->scans));
	scalar(b, "portmuxd_reloads_total", "counter", "Configurations "
	    "reloaded and taken.", stats_read(&p->reloads));
	scalar(b, "portmuxd_config_generation", "gauge", "The generation of "
	    "the configuration served, 1 at the start.",
	    stats_read(&p->generation));
	scalar(b, "portmuxd_engine_restarts_total", "counter", "Engines "
	    "started again after one died.", stats_read(&p->restarts));
}

/* The whole exposition, into b. */
void
metrics_render(struct engine *e, struct evbuffer *b)
{
	head(b, "portmuxd_accepted_total", "counter", "Connections admitted "
	    "(datagrams answered by a UDP builtin, sessions of a UDP "
	    "redirect), since the start.");
	per_service(b, e, "portmuxd_accepted_total",
	    offsetof(struct svcstat, accepted), false);
	refused(b, e);
	active(b, e);
	head(b, "portmuxd_received_bytes_total", "counter", "Bytes from "
	    "clients, of builtin, relayed and accounted connections.");
	per_service(b, e, "portmuxd_received_bytes_total",
	    offsetof(struct svcstat, bytes_in), false);
	head(b, "portmuxd_sent_bytes_total", "counter", "Bytes to clients, "
	    "of builtin, relayed and accounted connections.");
	per_service(b, e, "portmuxd_sent_bytes_total",
	    offsetof(struct svcstat, bytes_out), false);
	head(b, "portmuxd_spawned_total", "counter", "Service programs "
	    "started.");
	per_service(b, e, "portmuxd_spawned_total",
	    offsetof(struct svcstat, spawned), true);
	exits(b, e);
	latency(b, e);
	process(b, e);
}

/*
 * The answer to one request: the request line of in, its headers
 * ignored.  Returns the status sent.
 */
static int
respond(struct conn *c, const char *line, struct evbuffer *out)
{
	struct evbuffer	*body;
	const char	*status = "200 OK", *q, *path, *version, *method = line;
	int		 code = 200;
	bool		 head_only = false;
	size_t		 len, mlen = 0, plen = 0;

	if ((body = evbuffer_new()) == NULL)
		return -1;
	/* METHOD SP PATH SP HTTP/1.x, whatever their lengths. */
	if ((path = strchr(line, ' ')) != NULL) {
		mlen = (size_t)(path - line);
		path++;
		if ((version = strchr(path, ' ')) != NULL) {
			plen = (size_t)(version - path);
			version++;
		}
	} else
		version = NULL;
	if (path == NULL || version == NULL || mlen == 0 || plen == 0 ||
	    strncmp(version, "HTTP/1.", 7) != 0 || strlen(version) != 8) {
		code = 400;
		status = "400 Bad Request";
	} else if ((mlen != 3 || strncmp(method, "GET", 3) != 0) &&
	    (mlen != 4 || strncmp(method, "HEAD", 4) != 0)) {
		code = 405;
		status = "405 Method Not Allowed";
	} else {
		head_only = mlen == 4;
		len = (q = memchr(path, '?', plen)) != NULL ?
		    (size_t)(q - path) : plen;
		if (len != strlen("/metrics") ||
		    strncmp(path, "/metrics", len) != 0) {
			code = 404;
			status = "404 Not Found";
		}
	}
	if (code == 200)
		metrics_render(c->e, body);
	else
		(void)evbuffer_add_printf(body, "%s\n", status + 4);
	len = evbuffer_get_length(body);
	(void)evbuffer_add_printf(out, "HTTP/1.0 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n%sConnection: close\r\n\r\n", status,
	    code == 200 ? "text/plain; version=0.0.4; charset=utf-8" :
	    "text/plain; charset=utf-8", len,
	    code == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!head_only)
		(void)evbuffer_add_buffer(out, body);
	evbuffer_free(body);
	return code;
}

static void
metrics_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer		*out = bufferevent_get_output(bev);
	struct evbuffer_ptr	 end;
	size_t			 before = evbuffer_get_length(out), n;
	char			*line;

	if (c->closing) {
		(void)evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	/* The headers end at an empty line; a bare LF one is taken too. */
	end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (end.pos == -1)
		end = evbuffer_search(in, "\n\n", 2, NULL);
	if (end.pos == -1) {
		if (evbuffer_get_length(in) > METRICS_REQ_MAX) {
			c->bytes_in += evbuffer_get_length(in);
			(void)evbuffer_add_printf(out, "HTTP/1.0 431 Request "
			    "Header Fields Too Large\r\nContent-Length: 0\r\n"
			    "Connection: close\r\n\r\n");
			c->bytes_out += evbuffer_get_length(out) - before;
			conn_finish(c);
		}
		return;
	}
	n = evbuffer_get_length(in);
	line = evbuffer_readln(in, NULL, EVBUFFER_EOL_CRLF);
	if (line == NULL || respond(c, line, out) == -1) {
		free(line);
		conn_free(c, "error");
		return;
	}
	free(line);
	(void)evbuffer_drain(in, evbuffer_get_length(in));
	c->bytes_in += n;
	c->bytes_out += evbuffer_get_length(out) - before;
	conn_finish(c);
}

static void
metrics_write_cb(struct bufferevent *bev __unused, void *arg)
{
	(void)conn_write_done(arg);
}

static void
metrics_event_cb(struct bufferevent *bev __unused, short what, void *arg)
{
	struct conn	*c = arg;

	if (what & BEV_EVENT_TIMEOUT)
		conn_free(c, "timeout");
	else if (what & BEV_EVENT_ERROR)
		conn_free(c, "error");
	else if (what & BEV_EVENT_EOF)
		conn_free(c, NULL);	/* gone before or while we answered */
}

/* Serve a scraper on c's bufferevent (builtin.c made it). */
int
metrics_start(struct conn *c)
{
	struct timeval	 tv;
	uint32_t	 ms = c->service->timeout_ms < METRICS_REQ_MS ?
	    c->service->timeout_ms : METRICS_REQ_MS;

	bufferevent_setcb(c->bev, metrics_read_cb, metrics_write_cb,
	    metrics_event_cb, c);
	ms_timeval(&tv, ms);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	return bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}
