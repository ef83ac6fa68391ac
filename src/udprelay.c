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
 * UDP forwarding.  A client (its address and port, and the address it
 * sent to) gets a session: a socket connected to the target, so that
 * the kernel routes the target's answers to it and drops datagrams from
 * anyone else.  Answers go back through the service's own socket, from
 * the address the client wrote to, also on a wildcard socket
 * (IP_PKTINFO), since a client that connected its socket would drop an
 * answer from any other.  A session is admitted like a connection
 * (bans, ACLs, knocks, rate, per_source, instances count sessions),
 * ends after udp_session_timeout of silence both ways, and the table of
 * a service holds at most udp_sessions: when it is full new clients are
 * refused, and the log summarises them once a second.  Sources are
 * spoofable, so nothing here bans, and a source that cannot be a client
 * (or is a port of a service that answers anything: a loop) is refused.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "builtin.h"
#include "engine.h"
#include "log.h"
#include "portmuxd.h"
#include "udpaddr.h"

#define UDP_BATCH	64		/* datagrams per wakeup, then yield */
#define UDP_BUF		65536

struct usess {
	struct usess		*hnext;
	TAILQ_ENTRY(usess)	 lru;		/* oldest activity first */
	struct udpfwd		*f;
	struct elistener	*el;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	struct udpdest		 local;	/* where the client sent */
	int			 fd;		/* connected to the target */
	struct event		*ev;
	struct srcent		*se;
	uint64_t		 id;
	uint64_t		 start_ms;
	uint64_t		 last_ms;
	uint64_t		 bytes_in, bytes_out;
	uint64_t		 dgrams_in, dgrams_out;
	size_t			 target;
	int			 err;		/* last one the target caused */
	uint32_t		 hash;
};

/* The sessions of one UDP redirect service. */
struct udpfwd {
	struct engine		*e;
	size_t			 svc;
	struct usess		**heads;
	size_t			 mask;
	size_t			 n;
	TAILQ_HEAD(, usess)	 lru;
	struct event		*expire;
	uint64_t		 seed;
	uint64_t		 full_logged;
	uint32_t		 full_unlogged;
};

static void	 sess_end(struct usess *, const char *);

static const struct service *
fsvc(const struct udpfwd *f)
{
	return &f->e->conf->services[f->svc];
}

static uint32_t
sess_hash(const struct udpfwd *f, const struct elistener *el,
    const struct sockaddr_storage *peer, socklen_t peerlen,
    const struct sockaddr_storage *local, socklen_t locallen)
{
	uint64_t	 h;

	h = hash_bytes(peer, peerlen, f->seed ^ (uint64_t)(uintptr_t)el);
	if (locallen > 0)
		h ^= hash_bytes(local, locallen, f->seed + 1);
	return (uint32_t)(h ^ (h >> 32));
}

static struct usess *
sess_find(struct udpfwd *f, struct elistener *el, uint32_t h,
    const struct sockaddr_storage *peer, socklen_t peerlen,
    const struct sockaddr_storage *local, socklen_t locallen)
{
	struct usess	*s;

	for (s = f->heads[h & f->mask]; s != NULL; s = s->hnext)
		if (s->hash == h && s->el == el && s->peerlen == peerlen &&
		    memcmp(&s->peer, peer, peerlen) == 0 &&
		    s->local.len == locallen &&
		    memcmp(&s->local.ss, local, locallen) == 0)
			return s;
	return NULL;
}

/* The timer is set for the oldest session: one timer for them all. */
static void
expire_arm(struct udpfwd *f, uint64_t now)
{
	struct usess	*s = TAILQ_FIRST(&f->lru);
	uint64_t	 tmo = fsvc(f)->udp_session_timeout_ms, due;
	struct timeval	 tv;

	if (s == NULL) {
		(void)event_del(f->expire);
		return;
	}
	due = s->last_ms + tmo;
	ms_timeval(&tv, due > now ? due - now : 0);
	(void)evtimer_add(f->expire, &tv);
}

static void
expire_cb(evutil_socket_t fd __unused, short ev __unused, void *arg)
{
	struct udpfwd	*f = arg;
	uint64_t	 tmo = fsvc(f)->udp_session_timeout_ms, now = mono_ms();
	struct usess	*s;

	while ((s = TAILQ_FIRST(&f->lru)) != NULL && now - s->last_ms >= tmo)
		sess_end(s, NULL);
	expire_arm(f, now);
}

static void
sess_touch(struct usess *s, uint64_t now)
{
	s->last_ms = now;
	if (TAILQ_NEXT(s, lru) != NULL) {
		TAILQ_REMOVE(&s->f->lru, s, lru);
		TAILQ_INSERT_TAIL(&s->f->lru, s, lru);
	}
}

/*
 * The close line.  reason NULL: the session went quiet.  A target that
 * refused every datagram (ICMP port unreachable) and never answered is
 * reason=connect, as for TCP.
 */
static void
sess_end(struct usess *s, const char *reason)
{
	struct udpfwd		*f = s->f;
	struct engine		*e = f->e;
	const struct service	*svc = fsvc(f);
	struct usess		**pp;
	char			 target[128], errmsg[160] = "";
	int			 pri = LOG_INFO;

	if (reason == NULL && s->dgrams_out == 0 && s->err != 0) {
		reason = "connect";
		pri = LOG_WARNING;
	}
	if (s->err != 0)
		(void)snprintf(errmsg, sizeof(errmsg), " error=\"%s\"",
		    strerror(s->err));
	relay_target_fmt(svc, s->target, target, sizeof(target));
	engine_count_bytes(f->e, (long)f->svc, s->bytes_in, s->bytes_out);
	log_conn(pri, s->id, svc->name, "action=close proto=udp bytes_in=%llu "
	    "bytes_out=%llu datagrams_in=%llu datagrams_out=%llu "
	    "duration_ms=%llu%s%s target=%s%s",
	    (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out,
	    (unsigned long long)s->dgrams_in,
	    (unsigned long long)s->dgrams_out,
	    (unsigned long long)(mono_ms() - s->start_ms),
	    reason != NULL ? " reason=" : "", reason != NULL ? reason : "",
	    target, errmsg);
	for (pp = &f->heads[s->hash & f->mask]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == s) {
			*pp = s->hnext;
			break;
		}
	TAILQ_REMOVE(&f->lru, s, lru);
	f->n--;
	if (s->ev != NULL)
		event_free(s->ev);
	if (s->fd != -1)
		(void)close(s->fd);
	if (e->active[f->svc] > 0)
		e->active[f->svc]--;
	if (s->se != NULL)
		srcent_release(s->se);
	free(s);
}

/* An answer to the client, from the address it wrote to. */
static void
reply(struct usess *s, const unsigned char *buf, size_t n)
{
	if (udpaddr_send(s->el->l->fd, buf, n,
	    (const struct sockaddr *)&s->peer, s->peerlen, &s->local) == -1) {
		/* A full socket buffer drops the answer, as UDP may. */
		log_conn(LOG_DEBUG, s->id, fsvc(s->f)->name, "action=warn "
		    "msg=\"sendmsg\" error=\"%s\"", strerror(errno));
		return;
	}
	s->bytes_out += n;
	s->dgrams_out++;
}

/* The target answered (or an ICMP error came back for it). */
static void
upstream_cb(evutil_socket_t fd, short ev __unused, void *arg)
{
	static unsigned char	 buf[UDP_BUF];
	struct usess		*s = arg;
	ssize_t			 n;
	int			 i;

	for (i = 0; i < UDP_BATCH; i++) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return;
			/* ECONNREFUSED and the like: reported once each. */
			s->err = errno;
			continue;
		}
		sess_touch(s, mono_ms());
		reply(s, buf, (size_t)n);
	}
}

/* A connected socket to the first target that takes one. */
static int
upstream_open(struct usess *s)
{
	const struct service	*svc = fsvc(s->f);
	const struct bindaddr	*t;
	int			 fd;

	for (; s->target < svc->ntargets; s->target++) {
		t = &svc->targets[s->target];
		fd = socket(t->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1) {
			s->err = errno;
			return -1;
		}
		if (relay_bind(svc, fd, SOCK_DGRAM) == -1) {
			s->err = errno;
			(void)close(fd);
			continue;
		}
		if (connect(fd, (const struct sockaddr *)&t->ss, t->len) ==
		    0) {
			s->fd = fd;
			return 0;
		}
		s->err = errno;
		(void)close(fd);
	}
	return -1;
}

/*
 * Table full: one line a second per service, counting the refusals
 * since the last one.
 */
static void
full_log(struct udpfwd *f, uint64_t id, const char *peer, uint64_t now)
{
	const struct service	*svc = fsvc(f);

	engine_count_refusal(f->e, (long)f->svc, REASON_OVERLOAD);
	if (f->full_logged != 0 && now - f->full_logged < 1000) {
		f->full_unlogged++;
		return;
	}
	if (f->full_unlogged > 0)
		log_conn(LOG_WARNING, id, svc->name, "action=refuse proto=udp "
		    "peer=%s reason=overload msg=\"udp_sessions %u full\" "
		    "repeat=%u", peer, svc->udp_sessions, f->full_unlogged);
	else
		log_conn(LOG_WARNING, id, svc->name, "action=refuse proto=udp "
		    "peer=%s reason=overload msg=\"udp_sessions %u full\"",
		    peer, svc->udp_sessions);
	f->full_logged = now;
	f->full_unlogged = 0;
}

static bool
source_ok(struct engine *e, const struct sockaddr *sa, uint64_t now)
{
	uint16_t	 port;

	/* Those answer anything: a loop with the target's answers. */
	if (!udp_source_real(sa, &port) || port == 7 || port == 13 ||
	    port == 19 || port == 37)
		return false;
	return !localsrc_loop(&e->loopsrc, sa, now);
}

/* A datagram from a client without a session: admit it, or not. */
static struct usess *
sess_new(struct udpfwd *f, struct elistener *el, uint32_t h,
    const struct sockaddr_storage *peer, socklen_t peerlen,
    const struct udpdest *local, uint64_t now)
{
	struct engine		*e = f->e;
	const struct service	*svc = fsvc(f);
	const struct sockaddr	*sa = (const struct sockaddr *)peer;
	struct srcent		*se;
	struct usess		*s;
	char			 pbuf[80], lbuf[128];
	uint64_t		 id = engine_next_id(e);
	int			 why;

	(void)sa_fmt(sa, pbuf, sizeof(pbuf));
	why = guard_admit(e, f->svc, sa, -1, &se);
	if (why == 0 && !source_ok(e, sa, now))
		why = REASON_BADSRC;
	if (why == 0 && f->n >= svc->udp_sessions) {
		srcent_release(se);
		srcent_put(se);
		full_log(f, id, pbuf, now);
		return NULL;
	}
	if (why != 0) {
		if (why == REASON_BADSRC)
			srcent_release(se);
		if (se != NULL) {
			guard_refuse(e, f->svc, se, why, id, pbuf);
			srcent_put(se);
		} else {	/* the source table is full: no summary */
			engine_count_refusal(e, (long)f->svc, why);
			log_conn(LOG_DEBUG, id, svc->name, "action=refuse "
			    "proto=udp peer=%s reason=%s", pbuf,
			    guard_reason(why));
		}
		return NULL;
	}
	/* Admitted: its open session keeps the entry from being recycled. */
	srcent_put(se);
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		srcent_release(se);
		engine_count_refusal(e, (long)f->svc, REASON_ERROR);
		log_conn(LOG_WARNING, id, svc->name, "action=refuse proto=udp "
		    "peer=%s reason=error error=\"%s\"", pbuf,
		    strerror(errno));
		return NULL;
	}
	s->f = f;
	s->el = el;
	memcpy(&s->peer, peer, peerlen);
	s->peerlen = peerlen;
	s->local = *local;
	s->fd = -1;
	s->se = se;
	s->id = id;
	s->hash = h;
	s->start_ms = s->last_ms = now;
	s->hnext = f->heads[h & f->mask];
	f->heads[h & f->mask] = s;
	TAILQ_INSERT_TAIL(&f->lru, s, lru);
	if (f->n++ == 0)
		expire_arm(f, now);
	e->active[f->svc]++;
	(void)sa_fmt(local->len > 0 ? (const struct sockaddr *)&local->ss :
	    (const struct sockaddr *)&el->l->addr.ss, lbuf, sizeof(lbuf));
	log_conn(LOG_INFO, id, svc->name, "action=accept proto=udp peer=%s "
	    "local=%s", pbuf, lbuf);
	engine_count_accept(e, (long)f->svc);
	if (upstream_open(s) == -1) {
		sess_end(s, "connect");
		return NULL;
	}
	if ((s->ev = event_new(e->base, s->fd, EV_READ | EV_PERSIST,
	    upstream_cb, s)) == NULL || event_add(s->ev, NULL) == -1) {
		s->err = errno != 0 ? errno : ENOMEM;
		sess_end(s, "error");
		return NULL;
	}
	return s;
}

static void
from_client(struct udpfwd *f, struct elistener *el, const unsigned char *buf,
    size_t n, const struct sockaddr_storage *peer, socklen_t peerlen,
    const struct udpdest *local)
{
	struct engine	*e = f->e;
	uint64_t	 now = mono_ms();
	uint32_t	 h;
	struct usess	*s;

	h = sess_hash(f, el, peer, peerlen, &local->ss, local->len);
	if ((s = sess_find(f, el, h, peer, peerlen, &local->ss, local->len)) !=
	    NULL) {
		/* A ban cuts a session, as it would not let it start. */
		if (ban_find(&e->bans, (const struct sockaddr *)peer,
		    wall_ms()) != NULL) {
			sess_end(s, "banned");
			return;
		}
	} else if ((s = sess_new(f, el, h, peer, peerlen, local, now)) == NULL)
		return;
	sess_touch(s, now);
	s->bytes_in += n;
	s->dgrams_in++;
	if (send(s->fd, buf, n, MSG_DONTWAIT) == -1 && errno != EAGAIN &&
	    errno != EWOULDBLOCK)
		/* ECONNREFUSED: an earlier datagram met a closed port. */
		s->err = errno;
}

/* Datagrams to a UDP redirect service. */
void
udp_redirect_cb(evutil_socket_t fd __unused, short ev __unused,
    void *arg)
{
	static unsigned char	 buf[UDP_BUF];
	struct elistener	*el = arg;
	struct engine		*e = el->e;
	struct udpfwd		*f = &e->fwd[el->l->service];
	struct sockaddr_storage	 peer;
	struct udpdest		 local;
	socklen_t		 fromlen;
	ssize_t			 n;
	int			 i;

	for (i = 0; i < UDP_BATCH; i++) {
		if ((n = udpaddr_recv(el, fsvc(f)->name, buf, sizeof(buf), &peer,
		    &fromlen, &local)) == -1)
			return;
		if (fromlen == 0)
			continue;
		from_client(f, el, buf, (size_t)n, &peer, fromlen, &local);
	}
}

int
udprelay_init(struct engine *e)
{
	const struct service	*svc;
	struct udpfwd		*f;
	size_t			 i, m;

	if ((e->fwd = calloc(e->conf->nservices + 1, sizeof(*e->fwd))) ==
	    NULL)
		return -1;
	for (i = 0; i < e->conf->nservices; i++) {
		svc = &e->conf->services[i];
		f = &e->fwd[i];
		f->e = e;
		f->svc = i;
		TAILQ_INIT(&f->lru);
		if (svc->redirect == NULL || svc->proto != PROTO_UDP)
			continue;
		/* About one session per chain at the bound. */
		for (m = 1; m < svc->udp_sessions; m <<= 1)
			;
		if ((f->heads = calloc(m, sizeof(*f->heads))) == NULL ||
		    (f->expire = evtimer_new(e->base, expire_cb, f)) == NULL)
			return -1;
		f->mask = m - 1;
		f->seed = ((uint64_t)arc4random() << 32) | arc4random();
	}
	return 0;
}

/* Stopping: the service's socket closes, so its sessions end now. */
void
udprelay_stop_all(struct engine *e)
{
	struct usess	*s;
	size_t		 i;

	if (e->fwd == NULL)
		return;
	for (i = 0; i < e->conf->nservices; i++)
		while ((s = TAILQ_FIRST(&e->fwd[i].lru)) != NULL)
			sess_end(s, "stop");
}

void
udprelay_free(struct engine *e)
{
	size_t	 i;

	if (e->fwd == NULL)
		return;
	udprelay_stop_all(e);
	for (i = 0; i < e->conf->nservices; i++) {
		free(e->fwd[i].heads);
		if (e->fwd[i].expire != NULL)
			event_free(e->fwd[i].expire);
	}
	free(e->fwd);
	e->fwd = NULL;
}
