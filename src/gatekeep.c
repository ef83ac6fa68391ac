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
 * The engine's gatekeeper: knocks and SYNs read from the packet socket
 * the monitor opened, knocked services, traps and scan detection.  The
 * packet socket sees what no listener does: knock ports stay closed,
 * and a half-open SYN scan never reaches accept().  Everything read
 * from it is checked by pkt.c; only packets to this host's own
 * addresses count, so that a host that routes traffic does not take
 * its clients' packets for knocks.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "engine.h"
#include "knock.h"
#include "log.h"
#include "pkt.h"
#include "portmuxd.h"
#include "proto.h"
#include "scan.h"

#define GK_BATCH	64		/* packets read per wakeup */
#define SCAN_MAX	4096		/* sources tracked by scan detection */

static void	 sniff_cb(evutil_socket_t, short, void *);
static void	 gk_packet(struct engine *, const struct pkt *);
static void	 scan_seen(struct engine *, const struct sockaddr *, uint16_t,
		    bool);

static uint64_t
seed64(void)
{
	uint64_t	 s;

	if (getrandom(&s, sizeof(s), 0) != (ssize_t)sizeof(s))
		s = mono_ms() ^ (uint64_t)getpid() << 32;
	return s;
}

static bool
any_knock(const struct conf *conf)
{
	size_t	 i;

	for (i = 0; i < conf->nservices; i++)
		if (conf->services[i].nknock > 0)
			return true;
	return false;
}

/*
 * A window another engine opened (a reload's old one, or one before a
 * crash, kept by the monitor): open here too, for a service of the same
 * name that has a knock, until the same time.
 */
void
gk_window(struct engine *e, const struct knockwin *w)
{
	const struct conf	*conf = e->conf;
	struct srckey		 k;
	uint64_t		 now = mono_ms(), wall = wall_ms();
	size_t			 j;

	if (e->knocks.max == 0 || w->until <= wall)
		return;
	for (j = 0; j < conf->nservices; j++)
		if (conf->services[j].nknock > 0 && strncmp(
		    conf->services[j].name, w->service, sizeof(w->service)) == 0)
			break;
	if (j == conf->nservices)
		return;
	k = w->key;
	(void)knock_set_open(&e->knocks, (uint32_t)j, &k,
	    now + (w->until - wall));
}

/*
 * The tables, the windows a previous engine opened (kept by the
 * monitor, in wall clock time) and the packet socket.
 */
int
gk_init(struct engine *e, const struct engine_init *ei)
{
	const struct conf	*conf = e->conf;
	size_t			 i;

	e->sniff_fd = -1;
	if (any_knock(conf) && knock_init(&e->knocks, conf->knock_max,
	    seed64()) == -1)
		return -1;
	if (conf->scan_ports > 0 && scan_init(&e->scans, SCAN_MAX, seed64()) ==
	    -1)
		return -1;
	for (i = 0; i < ei->nknocks; i++)
		gk_window(e, &ei->knocks[i]);
	if ((e->sniff_fd = ei->sniff_fd) == -1)
		return 0;
	e->sniff_ev = event_new(e->base, e->sniff_fd, EV_READ | EV_PERSIST,
	    sniff_cb, e);
	if (e->sniff_ev == NULL || event_add(e->sniff_ev, NULL) == -1)
		return -1;
	return 0;
}

/* A stopping engine lets the next one read the knocks. */
void
gk_stop(struct engine *e)
{
	if (e->sniff_ev != NULL) {
		event_free(e->sniff_ev);
		e->sniff_ev = NULL;
	}
	if (e->sniff_fd != -1) {
		close(e->sniff_fd);
		e->sniff_fd = -1;
	}
}

void
gk_free(struct engine *e)
{
	gk_stop(e);
	if (e->knocks.max > 0)
		knock_free(&e->knocks);
	if (e->scans.max > 0)
		scan_free(&e->scans);
}

/* Once a second, from the sweep of guard.c. */
void
gk_sweep(struct engine *e)
{
	uint64_t	 now = mono_ms();

	if (e->knocks.max > 0)
		(void)knock_expire(&e->knocks, now);
	if (e->scans.max > 0)
		(void)scan_expire(&e->scans, now, e->conf->scan_window_ms);
}

/* Whether sa may use service idx: no knock, or its window is open. */
bool
gk_knocked(struct engine *e, size_t idx, const struct sockaddr *sa)
{
	const struct service	*svc = &e->conf->services[idx];
	struct srckey		 k;

	if (svc->nknock == 0)
		return true;
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return false;
	limit_group(sa, svc->source_prefix4, svc->source_prefix6, &k);
	return knock_is_open(&e->knocks, (uint32_t)idx, &k, mono_ms());
}

/*
 * A refused TCP connection: a source refused by a service's ACL or its
 * knock has no business there, and counts towards a connect scan.
 */
void
gk_refused(struct engine *e, size_t idx, const struct sockaddr *sa,
    int reason)
{
	const struct service	*svc = &e->conf->services[idx];

	if (svc->proto == PROTO_TCP && svc->port != 0 &&
	    (reason == REASON_ACL || reason == REASON_KNOCK))
		scan_seen(e, sa, svc->port, false);
}

/*
 * A connection to a trap: no honest client knows the port.  Closed at
 * once with nothing sent, and its source banned.
 */
void
gk_trap(struct engine *e, size_t idx, int fd, uint64_t id,
    const struct sockaddr *sa, const char *peer)
{
	const struct service	*svc = &e->conf->services[idx];
	struct srckey		 k;

	close(fd);
	engine_count_refusal(e, (long)idx, REASON_TRAP);
	log_conn(LOG_INFO, id, svc->name, "action=refuse proto=tcp peer=%s "
	    "reason=trap", peer);
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return;
	/* Counted first: the ban would hide the scan it is part of. */
	scan_seen(e, sa, svc->port, false);
	limit_group(sa, svc->source_prefix4, svc->source_prefix6, &k);
	guard_ban(e, &k, BAN_TRAP);
}

/*
 * One more port touched by sa.  The scanner is logged with every port
 * it touched, then banned, for scan_ban_time when SYNs alone told.
 */
static void
scan_seen(struct engine *e, const struct sockaddr *sa, uint16_t port,
    bool syn)
{
	uint16_t	 ports[SCAN_PORTS_MAX];
	char		 list[SCAN_PORTS_MAX * 6 + 1], addr[INET6_ADDRSTRLEN];
	struct srckey	 k;
	size_t		 n, i, off = 0;
	uint16_t	 sport;

	/* A banned scanner goes on scanning; it was told once. */
	if (e->scans.max == 0 || ban_find(&e->bans, sa, wall_ms()) != NULL)
		return;
	limit_group(sa, SCAN_PREFIX4, SCAN_PREFIX6, &k);
	n = scan_note(&e->scans, &k, port, mono_ms(), e->conf->scan_window_ms,
	    e->conf->scan_ports, ports);
	if (n == 0)
		return;
	list[0] = '\0';
	for (i = 0; i < n && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%u",
		    i > 0 ? "," : "", ports[i]);
	if (sa_ntop(sa, addr, sizeof(addr), &sport) == -1)
		(void)snprintf(addr, sizeof(addr), "unknown");
	log_info("action=scan peer=%s kind=%s ports=%s", addr,
	    syn ? "syn" : "connect", list);
	if (e->st.proc != NULL)
		stats_add(&e->st.proc->scans, 1);
	guard_ban(e, &k, syn ? BAN_SYNSCAN : BAN_SCAN);
}

static void
sa_from_pkt(const struct pkt *p, const uint8_t *addr, uint16_t port,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	socklen_t		 len;

	memset(ss, 0, sizeof(*ss));
	if (p->family == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, addr, 4);
		sin->sin_port = htons(port);
		len = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, addr, 16);
		sin6->sin6_port = htons(port);
		len = sizeof(*sin6);
	}
	/* An IPv4-mapped source is IPv4, as everywhere else. */
	sa_normalize(ss, &len);
}

/*
 * Whether the service listens on dst: a gate, which binds nothing,
 * takes every address of the host.
 */
static bool
svc_listens(const struct service *svc, const struct sockaddr *dst)
{
	const struct bindaddr	*ba;
	size_t			 i;

	if (svc->naddrs == 0)
		return true;
	for (i = 0; i < svc->naddrs; i++) {
		ba = &svc->addrs[i];
		if (ba->wildcard && (ba->ss.ss_family == dst->sa_family ||
		    (ba->ss.ss_family == AF_INET6 && !svc->v6only)))
			return true;
		if (!ba->wildcard && localsrc_in(dst, &ba->ss, 1))
			return true;
	}
	return false;
}

static bool
in_sequence(const struct service *svc, const struct knock_step *hit)
{
	size_t	 i;

	for (i = 0; i < svc->nknock; i++)
		if (svc->knock[i].proto == hit->proto &&
		    svc->knock[i].port == hit->port)
			return true;
	return false;
}

static void
knock_opened(struct engine *e, size_t idx, const struct srckey *k)
{
	const struct service	*svc = &e->conf->services[idx];
	struct msg_knock	 mk;
	char			 g[80];

	guard_group_fmt(k, g, sizeof(g));
	log_info("service=%s action=knock peer=%s open=%us", svc->name, g,
	    (svc->knock_open_ms + 999) / 1000);
	if (e->st.proc != NULL)
		stats_add(&e->st.proc->knocks, 1);
	memset(&mk, 0, sizeof(mk));
	mk.key = *k;
	mk.service = (uint32_t)idx;
	mk.generation = e->generation;
	mk.until = wall_ms() + svc->knock_open_ms;
	engine_send(e, MSG_KNOCK_NEW, 0, &mk, sizeof(mk), -1);
}

/* One knock from src to a port of service idx. */
static void
knock_seen(struct engine *e, size_t idx, const struct sockaddr *src,
    const struct knock_step *hit, uint64_t now)
{
	const struct service	*svc = &e->conf->services[idx];
	struct srckey		 k;
	char			 g[80];

	limit_group(src, svc->source_prefix4, svc->source_prefix6, &k);
	switch (knock_hit(&e->knocks, (uint32_t)idx, &k, svc->knock,
	    svc->nknock, hit, svc->knock_timeout_ms, svc->knock_open_ms,
	    now)) {
	case KNOCK_OPENED:
		knock_opened(e, idx, &k);
		break;
	case KNOCK_FULL:
		if (now - e->knock_full_logged < 1000)
			break;
		e->knock_full_logged = now;
		guard_group_fmt(&k, g, sizeof(g));
		log_warnx("service=%s action=warn peer=%s msg=\"knock table "
		    "full (knock_max %u) of open windows: knock ignored\"",
		    svc->name, g, e->conf->knock_max);
		break;
	case KNOCK_STEP:
	case KNOCK_RESET:
	case KNOCK_IGNORED:
		if (log_getlevel() >= LOG_DEBUG) {
			guard_group_fmt(&k, g, sizeof(g));
			log_debug("service=%s action=knock peer=%s port=%s:%u",
			    svc->name, g, hit->proto == IPPROTO_TCP ? "tcp" :
			    "udp", hit->port);
		}
		break;
	}
}

static void
gk_packet(struct engine *e, const struct pkt *p)
{
	struct sockaddr_storage	 src, dst;
	struct knock_step	 hit;
	uint64_t		 now = mono_ms();
	size_t			 i;
	bool			 syn = pkt_is_syn(p), knock = false;

	/* Only a SYN opens a connection; the rest of one is no knock. */
	if (p->proto == IPPROTO_TCP && !syn)
		return;
	sa_from_pkt(p, p->src, p->sport, &src);
	sa_from_pkt(p, p->dst, p->dport, &dst);
	if (!localsrc_is_local(&e->loopsrc, (struct sockaddr *)&dst, now))
		return;
	hit.proto = p->proto;
	hit.port = p->dport;
	for (i = 0; e->knocks.max > 0 && i < e->conf->nservices; i++)
		if (e->conf->services[i].nknock > 0 &&
		    in_sequence(&e->conf->services[i], &hit) &&
		    svc_listens(&e->conf->services[i],
		    (struct sockaddr *)&dst)) {
			knock_seen(e, i, (struct sockaddr *)&src, &hit, now);
			knock = true;
		}
	/* A knock touches several closed ports by design: no scan. */
	if (syn && !knock && e->conf->scan_detect == SCAN_SYN)
		scan_seen(e, (struct sockaddr *)&src, p->dport, true);
}

/*
 * Packets from the packet socket: MSG_TRUNC gives the length on the
 * wire, which the parser checks the headers against.  Outgoing copies
 * (loopback shows each packet twice) are dropped by the filter already;
 * the check here costs nothing.
 */
static void
sniff_cb(evutil_socket_t fd, short ev __unused, void *arg)
{
	struct engine		*e = arg;
	struct sockaddr_ll	 sll;
	socklen_t		 sl;
	uint8_t			 buf[PKT_SNAPLEN];
	struct pkt		 p;
	ssize_t			 n;
	size_t			 cap;
	uint64_t		 now;
	int			 i;

	for (i = 0; i < GK_BATCH; i++) {
		sl = sizeof(sll);
		n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC | MSG_DONTWAIT,
		    (struct sockaddr *)&sll, &sl);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* An interface went down, or the queue overflowed. */
			now = mono_ms();
			if (now - e->sniff_err_logged >= 10000) {
				e->sniff_err_logged = now;
				log_warn("action=warn msg=\"packet socket\"");
			}
			if (errno == ENETDOWN || errno == ENOBUFS)
				continue;
			return;
		}
		if (sl < offsetof(struct sockaddr_ll, sll_addr) ||
		    sll.sll_pkttype == PACKET_OUTGOING)
			continue;
		cap = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf);
		if (pkt_parse(buf, cap, (size_t)n, ntohs(sll.sll_protocol),
		    &p) == PKT_OK)
			gk_packet(e, &p);
	}
}
