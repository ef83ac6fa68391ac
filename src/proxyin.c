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
 * PROXY protocol in: a service with proxy_protocol reads the header a
 * trusted proxy sends first, before anything else, and from then on the
 * client it names is the connection's peer for bans, ACLs, limits,
 * knocks, the log and the program's environment.  A connection from
 * outside trusted_proxies is refused unread.  The header is consumed
 * exactly (peeked, parsed by proxy.c, then read up to its end only), so
 * what the client sent after it reaches the service; every byte read
 * before the end of a header is part of it, so nothing is lost.  The
 * read is capped by PROXY_MAX and proxy_timeout.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "engine.h"
#include "status.h"
#include "log.h"
#include "portmuxd.h"
#include "proxy.h"

struct pxin {
	TAILQ_ENTRY(pxin)	 entry;
	struct engine		*e;
	size_t			 svc;
	uint64_t		 id;
	int			 fd;
	struct event		*ev;
	struct event		*deadline;
	const struct bindaddr	*ba;
	struct sockaddr_storage	 sa;		/* the socket's peer */
	char			 proxy[80];
	uint64_t		 start_ms;
	size_t			 have;
	unsigned char		 buf[PROXY_MAX];
};

static void
pxin_free(struct pxin *p, bool close_fd)
{
	struct engine	*e = p->e;

	if (p->ev != NULL)
		event_free(p->ev);
	if (p->deadline != NULL)
		event_free(p->deadline);
	if (close_fd && p->fd != -1)
		close(p->fd);
	TAILQ_REMOVE(&e->pxins, p, entry);
	e->nconns--;
	free(p);
	engine_check_done(e);
}

/*
 * A refusal before the client is known: logged under the proxy's
 * address, which the refusal summaries count by.
 */
static void
proxy_refuse(struct engine *e, size_t idx, uint64_t id,
    const struct sockaddr *sa, const char *peer, const char *msg)
{
	const struct service	*svc = &e->conf->services[idx];
	struct srckey		 k;
	struct srcent		*se;

	limit_group(sa, svc->source_prefix4, svc->source_prefix6, &k);
	se = srctab_get(&e->src, e->svc_hash[idx], &k, mono_ms());
	guard_refuse_msg(e, idx, se, REASON_PROXY, id, peer, msg);
	if (se != NULL)
		srcent_put(se);
}

/* Counted under the address accept gave: a reset peer has no name. */
static void
pxin_refuse(struct pxin *p, const char *msg)
{
	proxy_refuse(p->e, p->svc, p->id, (struct sockaddr *)&p->sa,
	    p->proxy, msg);
	pxin_free(p, true);
}

/* The header is in: serve the connection as the client's. */
static void
pxin_done(struct pxin *p, const struct proxy_hdr *h)
{
	struct engine		*e = p->e;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct origin		 o;
	char			 peer[80];
	int			 fd = p->fd;

	memset(&o, 0, sizeof(o));
	o.proxy = p->proxy;
	if (h->local)
		ss = p->sa;	/* the proxy's own connection, a health check */
	else {
		ss = h->src;
		len = h->srclen;
		sa_normalize(&ss, &len);
		o.client = (const struct sockaddr *)&ss;
		o.clientlen = len;
	}
	(void)sa_fmt((const struct sockaddr *)&ss, peer, sizeof(peer));
	/* Served before p is freed, as tcpmux's: see tmux_done(). */
	p->fd = -1;
	engine_serve(e, p->svc, fd, p->id, (const struct sockaddr *)&ss, peer,
	    p->ba, &o);
	pxin_free(p, false);
}

static void
pxin_read_cb(evutil_socket_t fd, short what __unused, void *arg)
{
	struct pxin		*p = arg;
	const struct service	*svc = &p->e->conf->services[p->svc];
	struct proxy_hdr	 h;
	enum proxy_result	 r;
	char			 msg[96];
	ssize_t			 n;
	size_t			 take;

	n = recv(fd, p->buf + p->have, sizeof(p->buf) - p->have,
	    MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n == 0) {
		pxin_refuse(p, "closed before the header");
		return;
	}
	if (n == -1) {
		(void)snprintf(msg, sizeof(msg), "recv: %s", strerror(errno));
		pxin_refuse(p, msg);
		return;
	}
	r = proxy_parse(p->buf, p->have + (size_t)n, svc->proxy_versions, &h);
	if (r == PROXY_BAD) {
		pxin_refuse(p, h.why);
		return;
	}
	/* All of a strict prefix is header; of a whole one, up to its end. */
	take = r == PROXY_DONE ? h.len - p->have : (size_t)n;
	if (recv(fd, p->buf + p->have, take, MSG_DONTWAIT) != (ssize_t)take) {
		pxin_refuse(p, "recv");
		return;
	}
	p->have += take;
	if (r == PROXY_DONE)
		pxin_done(p, &h);
	else if (p->have >= sizeof(p->buf))
		pxin_refuse(p, "header too long");	/* proxy.c says BAD first */
}

static void
pxin_timeout_cb(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	pxin_refuse(arg, "no header in time");
}

/*
 * A new connection to a proxy_protocol service from sa (the proxy, if
 * trusted): read its header first.
 */
void
proxyin_start(struct engine *e, size_t idx, int fd, uint64_t id,
    const struct sockaddr *sa, const char *peer, const struct bindaddr *ba)
{
	const struct service	*svc = &e->conf->services[idx];
	struct timeval		 tv;
	struct pxin		*p;

	if (!acl_match(&svc->trusted_proxies, sa)) {
		proxy_refuse(e, idx, id, sa, peer, "not a trusted proxy");
		close(fd);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		engine_count_refusal(e, (long)idx, REASON_ERROR);
		log_conn(LOG_WARNING, id, svc->name, "action=refuse proto=tcp "
		    "peer=%s reason=error msg=\"out of memory\"", peer);
		close(fd);
		return;
	}
	TAILQ_INSERT_TAIL(&e->pxins, p, entry);
	e->nconns++;
	p->e = e;
	p->svc = idx;
	p->id = id;
	p->fd = fd;
	p->ba = ba;
	if (sa_copy_norm(sa, &p->sa) == -1)
		p->sa.ss_family = AF_UNSPEC;
	p->start_ms = mono_ms();
	(void)snprintf(p->proxy, sizeof(p->proxy), "%s", peer);
	ms_timeval(&tv, svc->proxy_timeout_ms);
	if ((p->ev = event_new(e->base, fd, EV_READ | EV_PERSIST,
	    pxin_read_cb, p)) == NULL || event_add(p->ev, NULL) == -1 ||
	    (p->deadline = evtimer_new(e->base, pxin_timeout_cb, p)) == NULL ||
	    evtimer_add(p->deadline, &tv) == -1)
		pxin_refuse(p, "event");
}

/* The grace period is over: headers still awaited are cut, each logged. */
void
proxyin_stop_all(struct engine *e)
{
	struct pxin	*p;

	while ((p = TAILQ_FIRST(&e->pxins)) != NULL) {
		log_conn(LOG_INFO, p->id, e->conf->services[p->svc].name,
		    "action=close bytes_in=%zu bytes_out=0 duration_ms=%llu "
		    "reason=stop", p->have,
		    (unsigned long long)(mono_ms() - p->start_ms));
		pxin_free(p, true);
	}
}

/* Each connection still sending its PROXY header, as a row. */
void
proxyin_rows(struct engine *e, void (*cb)(const struct conn_row *, void *),
    void *arg)
{
	struct conn_row	 row;
	struct pxin	*t;

	TAILQ_FOREACH(t, &e->pxins, entry) {
		conn_row_fill(&row, t->id, e->conf->services[t->svc].name,
		    t->fd, t->start_ms, "proxy-header");
		row.counted = true;
		row.bytes_in = t->have;
		cb(&row, arg);
	}
}
