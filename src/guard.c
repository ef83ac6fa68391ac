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
 * Admission in the engine: bans, ACLs, rate, per_source and instances,
 * in that order, and what follows a refusal.  A limit refuses the
 * offending source group, never the service: xinetd's cps and inetd's -R
 * answer a flood by disabling the service for everyone, which hands the
 * attacker exactly what he wanted.  A group above rate x ban_factor, or
 * refused ban_after times, is banned on every service for ban_time; only
 * completed TCP handshakes count, since UDP sources are spoofable.
 * Refusals are logged, repeats of the same refusal from one group at
 * most once a second with repeat=N.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "engine.h"
#include "log.h"
#include "portmuxd.h"
#include "proto.h"

#define SWEEP_MS	1000

static const char *const reasons[] = {
	[REASON_ACL] = "acl",
	[REASON_PER_SOURCE] = "per_source",
	[REASON_INSTANCES] = "instances",
	[REASON_RATE] = "rate",
	[REASON_MAX_CHILDREN] = "max_children",
	[REASON_BANNED] = "banned",
	[REASON_OVERLOAD] = "overload",
	[REASON_TIMEOUT] = "timeout",
	[REASON_BADSRC] = "badsrc",
	[REASON_FORK] = "fork",
	[REASON_EXEC] = "exec",
	[REASON_NOTFOUND] = "notfound",
	[REASON_ERROR] = "error",
	[REASON_KNOCK] = "knock",
	[REASON_TRAP] = "trap",
	[REASON_PROXY] = "proxy",
};

/* In the order of enum ban_reason; a SYN scan is a scan to the reader. */
static const char *const ban_reasons[] = {
	[BAN_RATE] = "rate",
	[BAN_REFUSED] = "refused",
	[BAN_TRAP] = "trap",
	[BAN_SCAN] = "scan",
	[BAN_SYNSCAN] = "scan",
};

const char *
guard_reason(int r)
{
	if (r <= 0 || (size_t)r >= sizeof(reasons) / sizeof(reasons[0]) ||
	    reasons[r] == NULL)
		return "error";
	return reasons[r];
}

/* "198.51.100.0/24", "2001:db8::/64" or "uid:1000". */
void
guard_group_fmt(const struct srckey *k, char *buf, size_t size)
{
	char	 ip[INET6_ADDRSTRLEN];

	if (k->family == AF_UNIX) {
		uint32_t uid;

		memcpy(&uid, k->addr, sizeof(uid));
		(void)snprintf(buf, size, "uid:%lu", (unsigned long)uid);
	} else if (inet_ntop(k->family, k->addr, ip, sizeof(ip)) != NULL)
		(void)snprintf(buf, size, "%s/%u", ip, k->prefix);
	else
		(void)snprintf(buf, size, "unknown");
}

/* The group of a peer: its address by prefix, or a unix peer's uid. */
static void
peer_group(const struct service *svc, const struct sockaddr *sa, int fd,
    struct srckey *k)
{
	struct ucred	 uc;
	socklen_t	 len = sizeof(uc);

	if (sa->sa_family != AF_UNIX) {
		limit_group(sa, svc->source_prefix4, svc->source_prefix6, k);
		return;
	}
	memset(k, 0, sizeof(*k));
	k->family = AF_UNIX;
	if (fd != -1 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) ==
	    0)
		memcpy(k->addr, &uc.uid, sizeof(uc.uid));
}

static void
iso_time(uint64_t ms, char *buf, size_t size)
{
	time_t		 t = (time_t)(ms / 1000);
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(buf, size, "%llu", (unsigned long long)t);
}

/*
 * Whether a never_ban block and the group overlap: banning a group that
 * holds an admin's address would lock the admin out too.
 */
bool
never_ban(const struct conf *conf, const struct srckey *k)
{
	const struct cidr	*c;
	unsigned int		 bits, i;
	size_t			 j;

	for (j = 0; j < conf->never_ban.n; j++) {
		c = &conf->never_ban.v[j];
		if (c->family != k->family)
			continue;
		bits = c->prefix < k->prefix ? c->prefix : k->prefix;
		for (i = 0; i < bits / 8; i++)
			if (c->addr[i] != k->addr[i])
				break;
		if (i < bits / 8)
			continue;
		if (bits % 8 == 0 || ((c->addr[i] ^ k->addr[i]) &
		    (0xff << (8 - bits % 8)) & 0xff) == 0)
			return true;
	}
	return false;
}

/*
 * Ban the group k (grouped as the offending service groups it), for
 * ban_time, or scan_ban_time when only SYNs, which anyone can forge,
 * gave it away.
 */
void
guard_ban(struct engine *e, const struct srckey *k, int reason)
{
	struct msg_ban	 mb;
	char		 g[80], until[32];
	uint64_t	 now_wall = wall_ms(), end;
	int		 r;

	if (k->family != AF_INET && k->family != AF_INET6)
		return;
	if (reason < BAN_RATE || reason > BAN_SYNSCAN)
		reason = BAN_REFUSED;
	end = now_wall + (reason == BAN_SYNSCAN ? e->conf->scan_ban_time_ms :
	    e->conf->ban_time_ms);
	guard_group_fmt(k, g, sizeof(g));
	if (never_ban(e->conf, k)) {
		log_info("action=exempt peer=%s reason=%s msg=\"never_ban\"",
		    g, ban_reasons[reason]);
		return;
	}
	r = ban_add(&e->bans, k, end, reason, now_wall);
	if (r == 1)
		return;
	if (r == -1) {
		uint64_t now = mono_ms();

		/* Full: refuse the ban, keep every existing one, say so. */
		if (now - e->ban_full_logged >= 1000) {
			e->ban_full_logged = now;
			log_warnx("action=warn peer=%s reason=%s msg=\"ban "
			    "table full (ban_max %u), ban refused\"", g,
			    ban_reasons[reason], e->conf->ban_max);
		}
		return;
	}
	iso_time(end, until, sizeof(until));
	log_info("action=ban peer=%s reason=%s until=%s", g,
	    ban_reasons[reason], until);
	memset(&mb, 0, sizeof(mb));
	mb.key = *k;
	mb.until = end;
	mb.reason = reason;
	engine_send(e, MSG_BAN_NEW, 0, &mb, sizeof(mb), -1);
}

/* A ban made by another engine generation, relayed by the monitor. */
void
guard_ban_relayed(struct engine *e, const struct msg_ban *mb)
{
	(void)ban_add(&e->bans, &mb->key, mb->until, mb->reason, wall_ms());
}

/*
 * The summary slot of a reason, or SRC_NSUMMARY: never summarised.  An
 * unknocked source hammering a knocked service is summarised too.
 */
static unsigned int
summary_slot(int reason)
{
	if (reason == REASON_KNOCK)
		return SRC_NSUMMARY - 2;
	if (reason == REASON_PROXY)
		return SRC_NSUMMARY - 1;
	return reason >= 1 && reason < SRC_NSUMMARY - 1 ?
	    (unsigned int)reason - 1 : SRC_NSUMMARY;
}

static int
slot_reason(unsigned int slot)
{
	if (slot == SRC_NSUMMARY - 2)
		return REASON_KNOCK;
	if (slot == SRC_NSUMMARY - 1)
		return REASON_PROXY;
	return (int)slot + 1;
}

static void
summary_log(struct engine *e, const struct srcent *se, int reason,
    uint32_t repeat)
{
	const struct service	*svc = engine_svc_by_hash(e, se->svc);
	char			 g[80];

	/*
	 * proto= as on the per-connection line, so that a filter can tell
	 * a UDP source (which may be forged) from a TCP one; "unknown"
	 * for a service that a reload removed.
	 */
	guard_group_fmt(&se->key, g, sizeof(g));
	log_info("service=%s action=refuse proto=%s peer=%s reason=%s "
	    "repeat=%u", svc != NULL ? svc->name : "unknown",
	    svc != NULL ? conf_proto_name(svc->proto) : "unknown", g,
	    guard_reason(reason), repeat);
}

static void
summary_emit(struct srcent *se, unsigned int slot, uint32_t n, void *arg)
{
	summary_log(arg, se, slot_reason(slot), n);
}

/*
 * Put se on this engine's list of groups with counted refusals, which
 * the sweep walks instead of the whole table.  An entry is on the list
 * of the engine whose token it holds; the list has room for every
 * entry of the table, so a full one only means stale duplicates: then
 * everything on it is logged at once.
 */
static void
pending_add(struct engine *e, struct srcent *se)
{
	if (__atomic_load_n(&se->summary_owner, __ATOMIC_RELAXED) ==
	    e->summary_token)
		return;
	if (e->npending == e->src.size)
		guard_flush_all(e);
	__atomic_store_n(&se->summary_owner, e->summary_token,
	    __ATOMIC_RELAXED);
	e->pending[e->npending++] = se;
}

/*
 * A refusal: log it (a repeat within a second only counts), and count
 * it towards a ban when it came over TCP.  se may be NULL (the source
 * table was full).
 */
void
guard_refuse(struct engine *e, size_t idx, struct srcent *se, int reason,
    uint64_t id, const char *peer)
{
	guard_refuse_msg(e, idx, se, reason, id, peer, NULL);
}

/* The same, with a msg= for the line when it is logged in full. */
void
guard_refuse_msg(struct engine *e, size_t idx, struct srcent *se,
    int reason, uint64_t id, const char *peer, const char *msg)
{
	const struct service	*svc = &e->conf->services[idx];
	uint64_t		 now = mono_ms();
	uint32_t		 repeat;

	engine_count_refusal(e, (long)idx, reason);
	/*
	 * Only a source that goes on above its rate earns a ban.  Not a
	 * per_source or instances refusal: retrying when every connection
	 * is busy is what honest clients do, and one address may be a
	 * whole office behind NAT.  Nor an ACL that bars it from this
	 * service alone.
	 */
	if (se != NULL && svc->proto == PROTO_TCP && reason == REASON_RATE &&
	    !limit_take(&se->refused, &svc->ban_after, now))
		guard_ban(e, &se->key, BAN_REFUSED);
	/* A stopping engine has logged its summaries: nothing may wait. */
	if (se != NULL && !e->stopping) {
		switch (srcent_refusal(se, summary_slot(reason), now,
		    &repeat)) {
		case REFUSAL_COUNT:
			pending_add(e, se);
			return;
		case REFUSAL_SUMMARY:
			summary_log(e, se, reason, repeat);
			return;
		case REFUSAL_LOG:
			break;
		}
	}
	log_conn(LOG_INFO, id, svc->name, "action=refuse proto=%s peer=%s "
	    "reason=%s%s%s%s", conf_proto_name(svc->proto), peer,
	    guard_reason(reason), msg != NULL ? " msg=\"" : "",
	    msg != NULL ? msg : "", msg != NULL ? "\"" : "");
}

/*
 * Decide on a new stream connection to service idx from sa (fd: the
 * socket, for a unix peer's credentials).  Returns 0 and holds a
 * per_source slot in *sep, or the reason to refuse (*sep may still be
 * set, for guard_refuse).  *sep, when set, is pinned (srctab_get()):
 * srcent_put() it once done with it.
 */
int
guard_admit(struct engine *e, size_t idx, const struct sockaddr *sa, int fd,
    struct srcent **sep)
{
	const struct service	*svc = &e->conf->services[idx];
	struct srckey		 k;
	struct srcent		*se;
	struct rate		 flood;
	uint64_t		 now = mono_ms();

	*sep = NULL;
	peer_group(svc, sa, fd, &k);
	se = srctab_get(&e->src, e->svc_hash[idx], &k, now);
	*sep = se;
	if (sa->sa_family != AF_UNIX && ban_find(&e->bans, sa, wall_ms()) !=
	    NULL)
		return REASON_BANNED;
	if (sa->sa_family != AF_UNIX && !acl_permit(e->conf, svc, sa))
		return REASON_ACL;
	if (!gk_knocked(e, idx, sa))
		return REASON_KNOCK;
	if (se == NULL)
		return REASON_OVERLOAD;
	if (svc->rate.count != 0) {
		/* Far above its rate: not a busy client but a flood. */
		flood = svc->rate;
		flood.count = svc->ban_factor > UINT32_MAX / flood.count ?
		    UINT32_MAX : flood.count * svc->ban_factor;
		if (svc->proto == PROTO_TCP && !limit_take(&se->flood, &flood,
		    now)) {
			guard_ban(e, &k, BAN_RATE);
			return REASON_RATE;
		}
		if (!limit_take(&se->rate, &svc->rate, now))
			return REASON_RATE;
	}
	if (svc->per_source != LIMIT_UNLIMITED &&
	    __atomic_load_n(&se->active, __ATOMIC_RELAXED) >= svc->per_source)
		return REASON_PER_SOURCE;
	if (svc->instances != LIMIT_UNLIMITED &&
	    e->active[idx] >= svc->instances)
		return REASON_INSTANCES;
	srcent_hold(se);
	return 0;
}

/*
 * Log every count of repeats still pending, whoever holds the entry
 * now: the engine is stopping (or its list is full).
 */
void
guard_flush_all(struct engine *e)
{
	uint64_t	 now = mono_ms();
	size_t		 i;

	for (i = 0; i < e->npending; i++) {
		(void)srcent_summaries(e->pending[i], now, true, summary_emit,
		    e);
		(void)__atomic_compare_exchange_n(&e->pending[i]->summary_owner,
		    &(uint64_t){ e->summary_token }, 0, false,
		    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	}
	e->npending = 0;
}

/*
 * Once a second: bans that ended, and refusal counts not yet logged.
 * An entry another engine has taken over (a reload) is that engine's
 * to summarise.
 */
static void
sweep_cb(evutil_socket_t fd __unused, short ev __unused, void *arg)
{
	struct engine	*e = arg;
	struct srcent	*se;
	uint64_t	 now = mono_ms();
	size_t		 i;

	if (e->stopping)
		return;
	(void)ban_expire(&e->bans, wall_ms(), guard_unban_log, NULL);
	gk_sweep(e);
	for (i = 0; i < e->npending; ) {
		se = e->pending[i];
		if (__atomic_load_n(&se->summary_owner, __ATOMIC_RELAXED) ==
		    e->summary_token && srcent_summaries(se, now, false,
		    summary_emit, e)) {
			i++;
			continue;
		}
		(void)__atomic_compare_exchange_n(&se->summary_owner,
		    &(uint64_t){ e->summary_token }, 0, false,
		    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		e->pending[i] = e->pending[--e->npending];
	}
}

const char *
guard_ban_reason(int r)
{
	if (r < BAN_RATE || r > BAN_SYNSCAN)
		return "unknown";
	return ban_reasons[r];
}

void
guard_unban_log(const struct banent *b, void *arg __unused)
{
	char	 g[80];

	guard_group_fmt(&b->key, g, sizeof(g));
	log_info("action=unban peer=%s", g);
}

/*
 * The sweep timer and the list of groups to summarise.  The token that
 * marks this engine's entries must differ from any other engine's, a
 * dead one's included.  After a crash (fresh), the counts the dead
 * engine left are adopted, so that they are still logged.
 */
int
guard_init(struct engine *e, bool fresh)
{
	struct timeval	 tv = { SWEEP_MS / 1000, (SWEEP_MS % 1000) * 1000 };
	size_t		 i;

	if ((e->pending = calloc(e->src.size, sizeof(*e->pending))) == NULL)
		return -1;
	if (getrandom(&e->summary_token, sizeof(e->summary_token), 0) !=
	    (ssize_t)sizeof(e->summary_token))
		e->summary_token = mono_ms() ^ (uint64_t)getpid() << 32;
	if (e->summary_token == 0)
		e->summary_token = 1;
	for (i = 0; fresh && i < e->src.size; i++)
		if (srcent_live(&e->src.v[i]) && srcent_unlogged(&e->src.v[i]))
			pending_add(e, &e->src.v[i]);
	e->sweep_ev = event_new(e->base, -1, EV_PERSIST, sweep_cb, e);
	if (e->sweep_ev == NULL || event_add(e->sweep_ev, &tv) == -1)
		return -1;
	return 0;
}
