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
 * Datagram services and wait services in the engine.  UDP builtins answer
 * from here, but only sources that can be real clients (no reflection
 * loops with another echo or chargen, including this daemon's own UDP
 * builtins on any port (localsrc.c), no amplification towards a spoofed
 * victim) and at most udp_reply_rate per source group, from the address
 * the datagram was sent to; since sources are spoofable, nothing here
 * starts a ban, a refusal that needs no per source state takes no
 * source table entry, and the log gets one info line per source group
 * and second for what a group did (answers, its reply rate), one per
 * service, reason and second for refusals before the group is looked up
 * (a forger picks a new source for each datagram), the rest at debug.
 * Wait services get their listening socket handed to the program; for
 * UDP the datagram that woke it is only peeked at, to check and export
 * its source.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "builtin.h"
#include "engine.h"
#include "log.h"
#include "portmuxd.h"
#include "proto.h"
#include "udpaddr.h"

#define UDP_BATCH	64		/* datagrams per wakeup, then yield */
#define UDP_BUF		65536

/*
 * Log an event about a source group: at info if it had no info line this
 * second (with how many went to debug since), else at debug.
 */
static void
udp_log(struct srcent *se, uint64_t id, const struct service *svc,
    uint64_t now, const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;
	int	 pri = LOG_DEBUG;
	uint32_t repeat = 0;

	if (now - se->logged_ms >= 1000) {
		pri = LOG_INFO;
		repeat = se->unlogged;
		se->logged_ms = now;
		se->unlogged = 0;
	} else
		se->unlogged++;
	if (pri > log_getlevel())
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (repeat > 0)
		log_conn(pri, id, svc->name, "%s repeat=%u", msg, repeat);
	else
		log_conn(pri, id, svc->name, "%s", msg);
}

/*
 * The refusals of a UDP builtin that come before any source group
 * state, each with its udprefusal slot.
 */
enum udp_why {
	UDP_BADSRC,
	UDP_BANNED,
	UDP_ACL,
	UDP_KNOCK,
	UDP_OVERLOAD,
};

static const int udp_reasons[UDP_NREFUSAL] = {
	[UDP_BADSRC] = REASON_BADSRC,
	[UDP_BANNED] = REASON_BANNED,
	[UDP_ACL] = REASON_ACL,
	[UDP_KNOCK] = REASON_KNOCK,
	[UDP_OVERLOAD] = REASON_OVERLOAD,
};

static const char *const udp_whys[UDP_NREFUSAL] = {
	[UDP_BADSRC] = "badsrc",
	[UDP_BANNED] = "banned",
	[UDP_ACL] = "acl",
	[UDP_KNOCK] = "knock",
	[UDP_OVERLOAD] = "overload",
};

/*
 * A datagram dropped before its group's state is known.  Its source may
 * be forged, and a forger picks a new one for each datagram, so the
 * bound is the service's, not the group's: one line a
 * second per reason, counting (repeat=K) the refusals since the last
 * line, which went to debug.  A full source table is the daemon's
 * trouble, not the source's: a warning.
 */
static void
udp_refuse(struct engine *e, size_t idx, uint64_t id, const char *peer,
    enum udp_why why, uint64_t now)
{
	const struct service	*svc = &e->conf->services[idx];
	struct udprefusal	*r = &e->udpref[idx][why];
	const char		*msg = why == UDP_OVERLOAD ?
	    " msg=\"source table full\"" : "";
	int			 pri = why == UDP_OVERLOAD ? LOG_WARNING :
	    LOG_INFO;

	engine_count_refusal(e, (long)idx, udp_reasons[why]);
	if (r->logged_ms != 0 && now - r->logged_ms < 1000) {
		r->unlogged++;
		log_conn(LOG_DEBUG, id, svc->name, "action=refuse proto=udp "
		    "peer=%s reason=%s%s", peer, udp_whys[why], msg);
		return;
	}
	if (r->unlogged > 0)
		log_conn(pri, id, svc->name, "action=refuse proto=udp peer=%s "
		    "reason=%s%s repeat=%u", peer, udp_whys[why], msg,
		    r->unlogged);
	else
		log_conn(pri, id, svc->name, "action=refuse proto=udp peer=%s "
		    "reason=%s%s", peer, udp_whys[why], msg);
	r->logged_ms = now != 0 ? now : 1;
	r->unlogged = 0;
}

/*
 * One datagram.  What can be refused without knowing the source group's
 * state is refused before the group is looked up: a forged source must
 * not cost a source table entry, which TCP sources' rate buckets and
 * counts need.
 */
static void
udp_one(struct engine *e, struct elistener *el, const struct service *svc,
    const unsigned char *buf, size_t n, struct sockaddr_storage *ss,
    socklen_t sslen, const struct udpdest *dst)
{
	static unsigned char	 out[UDP_BUF];
	const struct sockaddr	*sa = (struct sockaddr *)ss;
	size_t			 idx = el->l->service;
	char			 peer[80];
	struct srckey		 key;
	struct srcent		*se = NULL;
	int			 why = -1;
	uint64_t		 id = engine_next_id(e), now = mono_ms();
	long			 r;

	(void)sa_fmt(sa, peer, sizeof(peer));
	if (!builtin_udp_source_ok(sa) ||
	    localsrc_loop(&e->loopsrc, sa, now))
		why = UDP_BADSRC;
	else if (ban_find(&e->bans, sa, wall_ms()) != NULL)
		why = UDP_BANNED;
	else if (!acl_permit(e->conf, svc, sa))
		why = UDP_ACL;
	else if (!gk_knocked(e, idx, sa))
		why = UDP_KNOCK;
	else {
		limit_group(sa, svc->source_prefix4, svc->source_prefix6,
		    &key);
		/* NULL: every entry it could take is live; drop, say so. */
		if ((se = srctab_get(&e->src, e->svc_hash[idx], &key,
		    now)) == NULL)
			why = UDP_OVERLOAD;
	}
	if (why != -1) {
		udp_refuse(e, idx, id, peer, why, now);
		return;
	}
	/* Past its reply rate: the group exists, its line is its own. */
	if (!limit_take(&se->reply, &svc->udp_reply_rate, now)) {
		udp_log(se, id, svc, now, "action=refuse proto=udp peer=%s "
		    "reason=rate", peer);
		engine_count_refusal(e, (long)idx, REASON_RATE);
		srcent_put(se);
		return;
	}
	r = builtin_udp_reply(svc->builtin, buf, n, out, sizeof(out),
	    time(NULL), arc4random());
	if (r >= 0 && udpaddr_send(el->l->fd, out, (size_t)r, sa, sslen,
	    dst) == -1) {
		/* A full socket buffer drops the reply, as UDP may. */
		log_conn(LOG_DEBUG, id, svc->name, "action=warn peer=%s "
		    "msg=\"sendmsg\" error=\"%s\"", peer, strerror(errno));
		r = -1;
	}
	udp_log(se, id, svc, now, "action=accept proto=udp peer=%s "
	    "bytes_in=%zu bytes_out=%ld", peer, n, r < 0 ? 0 : r);
	engine_count_accept(e, (long)idx);
	engine_count_bytes(e, (long)idx, n, r < 0 ? 0 : (uint64_t)r);
	srcent_put(se);
}

/*
 * Datagrams to a UDP builtin.  On a wildcard socket each says where it
 * went (udpaddr.c), so that the reply leaves from that address.
 */
void
udp_builtin_cb(evutil_socket_t fd __unused, short ev __unused, void *arg)
{
	struct elistener	*el = arg;
	struct engine		*e = el->e;
	const struct service	*svc = &e->conf->services[el->l->service];
	static unsigned char	 buf[UDP_BUF];
	struct sockaddr_storage	 ss;
	struct udpdest		 dst;
	socklen_t		 fromlen;
	ssize_t			 n;
	int			 i;

	for (i = 0; i < UDP_BATCH; i++) {
		if ((n = udpaddr_recv(el, svc->name, buf, sizeof(buf), &ss,
		    &fromlen, &dst)) == -1)
			return;
		if (fromlen == 0)
			continue;
		udp_one(e, el, svc, buf, (size_t)n, &ss, fromlen, &dst);
	}
}

/* Hand the listener of a wait service to its program. */
static void
wait_handover(struct elistener *el, const struct sockaddr *sa,
    socklen_t salen, const char *peer)
{
	struct engine		*e = el->e;
	size_t			 idx = el->l->service;
	const struct service	*svc = &e->conf->services[idx];
	uint64_t		 id;
	char			 local[128];
	int			 fd;

	/*
	 * The engine's own copy stays; the monitor gets a duplicate.  Out
	 * of descriptors the socket stays readable: pause, do not spin.
	 */
	if ((fd = fcntl(el->l->fd, F_DUPFD_CLOEXEC, 3)) == -1) {
		engine_wait_pause(el, "dup", errno);
		return;
	}
	el->dup_delay_ms = 0;
	id = engine_next_id(e);
	(void)event_del(el->ev);
	el->busy = true;
	if (svc->proto == PROTO_UNIX)
		(void)snprintf(local, sizeof(local), "%s", svc->path);
	else
		(void)sa_fmt((const struct sockaddr *)&el->l->addr.ss, local,
		    sizeof(local));
	log_conn(LOG_INFO, id, svc->name, "action=accept proto=%s peer=%s "
	    "local=%s wait=1", conf_proto_name(svc->proto), peer, local);
	e->active[idx]++;
	priv_spawn(e, idx, fd, id, SPAWN_WAIT, sa, salen, el, NULL);
}

/*
 * A datagram woke a UDP wait service.  Its source is peeked at (the
 * datagram stays for the program); a denied one is drained and the
 * socket stays ours.
 */
void
udp_wait_cb(evutil_socket_t fd, short ev __unused, void *arg)
{
	struct elistener	*el = arg;
	struct engine		*e = el->e;
	const struct service	*svc = &e->conf->services[el->l->service];
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	unsigned char		 head[WAKE_HEAD];
	char			 peer[80], b;
	const char		*why;
	struct srckey		 key;
	struct srcent		*se;
	uint64_t		 now;
	ssize_t			 n;
	int			 i;

	for (i = 0; i < UDP_BATCH && !el->busy && !el->dup_paused; i++) {
		sslen = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		/* Its length and first bytes too, to know it at the exit. */
		if ((n = recvfrom(fd, head, sizeof(head), MSG_PEEK | MSG_TRUNC |
		    MSG_DONTWAIT, (struct sockaddr *)&ss, &sslen)) == -1)
			return;
		sa_normalize(&ss, &sslen);
		(void)sa_fmt((struct sockaddr *)&ss, peer, sizeof(peer));
		why = ban_find(&e->bans, (struct sockaddr *)&ss, wall_ms()) !=
		    NULL ? "banned" : !acl_permit(e->conf, svc,
		    (struct sockaddr *)&ss) ? "acl" : NULL;
		if (why == NULL) {
			el->wake_ss = ss;
			el->wake_len = sslen;
			el->wake_bytes = n;
			el->wake_nhead = (size_t)n < sizeof(head) ? (size_t)n :
			    sizeof(head);
			memcpy(el->wake_head, head, el->wake_nhead);
			wait_handover(el, (struct sockaddr *)&ss, sslen, peer);
			return;
		}
		/* Drain the denied datagram: 1 byte read discards it all. */
		(void)recv(fd, &b, 1, MSG_DONTWAIT);
		engine_count_refusal(e, (long)el->l->service,
		    why[0] == 'b' ? REASON_BANNED : REASON_ACL);
		now = mono_ms();
		limit_group((struct sockaddr *)&ss, svc->source_prefix4,
		    svc->source_prefix6, &key);
		se = srctab_get(&e->src, e->svc_hash[el->l->service], &key,
		    now);
		if (se != NULL) {
			udp_log(se, engine_next_id(e), svc, now, "action=refuse "
			    "proto=udp peer=%s reason=%s", peer, why);
			srcent_put(se);
		}
	}
}

/*
 * A connection is waiting on a TCP or unix wait service: the program
 * accepts it itself, so no peer is known before the handover.
 */
void
stream_wait_cb(evutil_socket_t fd __unused, short ev __unused, void *arg)
{
	struct elistener	*el = arg;

	if (!el->busy && !el->dup_paused)
		wait_handover(el, NULL, 0, "unknown");
}
