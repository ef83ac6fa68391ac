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
 * Engine side of exec'd services: ask the monitor to spawn, follow the
 * answer and the exit, and log what the child writes on stderr.  Each
 * stderr line is quoted, cut at XCHILD_LINE bytes and rate-limited, so a
 * chatty or hostile program cannot flood the log.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <linux/tcp.h>	/* tcp_info with byte counts */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "control.h"
#include "engine.h"
#include "log.h"
#include "portmuxd.h"
#include "proto.h"
#include "status.h"

static void	 stderr_cb(evutil_socket_t, short, void *);
static bool	 acct_read(int, struct tcp_info *, int *);
static void	 acct_fmt(struct xchild *, const struct tcp_info *, uint64_t,
		    char *, size_t);

static struct xchild *
xchild_new(struct engine *e, uint64_t id, long svc, const char *name)
{
	struct xchild	*x;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	x->e = e;
	x->id = id;
	x->svc = svc;
	x->stderr_fd = -1;
	x->acct_fd = -1;
	x->start_us = mono_us();
	(void)snprintf(x->service, sizeof(x->service), "%s", name);
	TAILQ_INSERT_TAIL(&e->children, x, entry);
	return x;
}

static struct xchild *
xchild_find(struct engine *e, uint64_t id)
{
	struct xchild	*x;

	TAILQ_FOREACH(x, &e->children, entry)
		if (x->id == id)
			return x;
	return NULL;
}

static void
stderr_close(struct xchild *x)
{
	if (x->stderr_ev != NULL)
		event_free(x->stderr_ev);
	x->stderr_ev = NULL;
	if (x->stderr_fd != -1)
		close(x->stderr_fd);
	x->stderr_fd = -1;
}

/* Forget x once both its exit and its stderr's end are seen. */
static void
xchild_release(struct xchild *x, bool force)
{
	struct engine	*e = x->e;

	if (!force && (!x->exited || x->stderr_fd != -1))
		return;
	stderr_close(x);
	TAILQ_REMOVE(&e->children, x, entry);
	free(x);
	engine_check_done(e);
}

static void
stderr_watch(struct xchild *x, int fd)
{
	x->stderr_fd = fd;
	if (fd_nonblock(fd, true) == -1 || (x->stderr_ev = event_new(
	    x->e->base, fd, EV_READ | EV_PERSIST, stderr_cb, x)) == NULL ||
	    event_add(x->stderr_ev, NULL) == -1) {
		log_conn(LOG_WARNING, x->id, x->service, "action=warn "
		    "msg=\"cannot watch stderr\"");
		stderr_close(x);
	}
}

static void
stderr_emit(struct xchild *x)
{
	uint64_t	 now = mono_ms();
	char		 q[XCHILD_LINE * 4 + 3];

	if (now - x->win_start >= 1000) {
		if (x->dropped > 0)
			log_conn(LOG_WARNING, x->id, x->service, "action=stderr "
			    "pid=%ld dropped=%u", (long)x->pid, x->dropped);
		x->win_start = now;
		x->win_lines = 0;
		x->dropped = 0;
	}
	if (x->win_lines >= XCHILD_LINES_PER_SEC) {
		x->dropped++;
		return;
	}
	x->win_lines++;
	(void)log_quote(q, sizeof(q), x->line, x->llen);
	log_conn(LOG_INFO, x->id, x->service, "action=stderr pid=%ld line=%s%s",
	    (long)x->pid, q, x->cut ? " truncated=1" : "");
}

/* Split what arrived into lines; a line longer than the buffer is cut. */
static void
stderr_feed(struct xchild *x, const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (!x->cut || x->llen > 0)
				stderr_emit(x);
			x->llen = 0;
			x->cut = false;
			continue;
		}
		if (x->llen == sizeof(x->line)) {
			if (!x->cut) {
				x->cut = true;
				stderr_emit(x);
			}
			x->llen = 0;
			continue;
		}
		if (!x->cut)
			x->line[x->llen++] = p[i];
	}
}

/* Read what is there; returns false at EOF or error (pipe closed). */
static bool
stderr_drain(struct xchild *x)
{
	char	 buf[4096];
	ssize_t	 n;
	int	 rounds;

	/* Bounded, so one child cannot starve the loop. */
	for (rounds = 0; rounds < 16; rounds++) {
		n = read(x->stderr_fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0) {
			if (x->llen > 0) {
				stderr_emit(x);
				x->llen = 0;
			}
			if (x->dropped > 0)
				log_conn(LOG_WARNING, x->id, x->service,
				    "action=stderr pid=%ld dropped=%u",
				    (long)x->pid, x->dropped);
			x->dropped = 0;
			return false;
		}
		stderr_feed(x, buf, (size_t)n);
	}
	return true;
}

static void
stderr_cb(evutil_socket_t fd __unused, short ev __unused, void *arg)
{
	struct xchild	*x = arg;

	if (!stderr_drain(x)) {
		stderr_close(x);
		xchild_release(x, false);
	}
}

/*
 * Hand a socket to the monitor to spawn service idx on: an accepted
 * connection, or for a wait service (el set) a duplicate of its listener
 * and, for UDP, the peeked source.  fd now belongs to the queue.
 */
void
priv_spawn(struct engine *e, size_t idx, int fd, uint64_t id, uint32_t flags,
    const struct sockaddr *peer, socklen_t peerlen, struct elistener *el,
    struct srcent *se)
{
	const struct service	*svc = &e->conf->services[idx];
	struct msg_spawn	 ms;
	struct xchild		*x;

	if ((x = xchild_new(e, id, (long)idx, svc->name)) == NULL) {
		engine_drop(e, idx, id, se, fd);
		if (el != NULL) {
			el->busy = true;	/* so that rearm applies */
			engine_rearm(el, 0);
		}
		return;
	}
	x->wait_lsn = el;
	x->se = se;
	if (peer != NULL)
		(void)sa_fmt(peer, x->peer, sizeof(x->peer));
	else if (el == NULL)
		fd_peer_fmt(fd, x->peer, sizeof(x->peer));
	fd_local_fmt(fd, x->local, sizeof(x->local));
	/*
	 * accounting: keep a copy to read TCP_INFO at the exit; never read
	 * or written, since the child shares its file description.
	 */
	if (svc->accounting && svc->proto == PROTO_TCP && !svc->wait &&
	    (x->acct_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1)
		log_conn(LOG_WARNING, id, svc->name, "action=warn "
		    "msg=\"no accounting\" error=\"%s\"", strerror(errno));
	memset(&ms, 0, sizeof(ms));
	ms.generation = e->generation;
	ms.service = (uint32_t)idx;
	ms.flags = flags;
	if (peer != NULL && peerlen <= sizeof(ms.peer)) {
		memcpy(&ms.peer, peer, peerlen);
		ms.peer_len = peerlen;
	}
	engine_send(e, MSG_SPAWN, id, &ms, sizeof(ms), fd);
}

/* The enum reason of a spawn the monitor refused. */
static int
fail_reason(int reason)
{
	switch (reason) {
	case SPAWN_FAIL_INSTANCES:
		return REASON_INSTANCES;
	case SPAWN_FAIL_MAX_CHILDREN:
		return REASON_MAX_CHILDREN;
	case SPAWN_FAIL_FORK:
		return REASON_FORK;
	case SPAWN_FAIL_EXEC:
		return REASON_EXEC;
	case SPAWN_FAIL_BADSRC:
		return REASON_BADSRC;
	case SPAWN_FAIL_OVERLOAD:
		return REASON_OVERLOAD;
	default:
		return REASON_ERROR;
	}
}

static void
child_done(struct xchild *x)
{
	struct engine	*e = x->e;

	if (x->svc >= 0 && e->active[x->svc] > 0)
		e->active[x->svc]--;
	x->exited = true;
	if (x->se != NULL)
		srcent_release(x->se);
	x->se = NULL;
	if (x->acct_fd != -1)
		close(x->acct_fd);
	x->acct_fd = -1;
	if (x->wait_lsn != NULL && !e->stopping)
		engine_rearm(x->wait_lsn, (mono_us() - x->start_us) / 1000);
	x->wait_lsn = NULL;
}

static void
on_spawned(struct engine *e, uint64_t id, const void *p, int fd)
{
	struct msg_spawned	 ok;
	struct xchild		*x;
	const char		*user;

	memcpy(&ok, p, sizeof(ok));
	if ((x = xchild_find(e, id)) == NULL || x->pid != 0) {
		if (fd != -1)
			close(fd);
		return;
	}
	x->pid = ok.pid;
	stats_spawned(engine_stat(e, x->svc), mono_us() - x->start_us);
	user = x->svc >= 0 ? e->conf->services[x->svc].user : NULL;
	if (user != NULL)
		log_conn(LOG_INFO, id, x->service, "action=spawn pid=%ld "
		    "user=%s", (long)ok.pid, user);
	else
		log_conn(LOG_INFO, id, x->service, "action=spawn pid=%ld "
		    "uid=%lu", (long)ok.pid, (unsigned long)ok.uid);
	if (fd != -1) {
		if (e->stopping && e->stop_reason == STOP_RELOAD)
			close(fd);
		else
			stderr_watch(x, fd);
	}
}

static void
on_spawn_fail(struct engine *e, uint64_t id, const void *p)
{
	struct msg_spawn_fail	 f;
	struct xchild		*x;

	memcpy(&f, p, sizeof(f));
	if ((x = xchild_find(e, id)) == NULL)
		return;
	engine_count_refusal(e, x->svc, fail_reason(f.reason));
	if (f.reason == SPAWN_FAIL_EXEC)
		log_conn(LOG_WARNING, id, x->service, "action=refuse "
		    "reason=exec stage=%s error=\"%s\"",
		    spawn_stage_name(f.stage), strerror(f.error));
	else if (f.error != 0)
		log_conn(LOG_WARNING, id, x->service, "action=refuse "
		    "reason=%s error=\"%s\"",
		    guard_reason(fail_reason(f.reason)), strerror(f.error));
	else
		log_conn(LOG_INFO, id, x->service, "action=refuse reason=%s",
		    guard_reason(fail_reason(f.reason)));
	child_done(x);
	xchild_release(x, true);
}

/*
 * x exited but something it started still holds its stderr: the pipe is
 * read on, so that what a background process says is logged, but only
 * for the last XCHILD_LINGER programs of the service.  Each costs an
 * engine descriptor outside any instances limit, and a program that
 * leaves a process behind per connection would otherwise take them
 * all.  The oldest is let go; its writer gets EPIPE (or SIGPIPE).
 */
static void
linger_bound(struct engine *e, struct xchild *x)
{
	struct xchild	*y, *oldest = NULL;
	unsigned int	 n = 0;

	TAILQ_FOREACH(y, &e->children, entry)
		if (y->exited && y->stderr_fd != -1 &&
		    strcmp(y->service, x->service) == 0 && n++ == 0)
			oldest = y;
	if (n <= XCHILD_LINGER || oldest == NULL)
		return;
	log_conn(LOG_WARNING, oldest->id, oldest->service, "action=warn "
	    "pid=%ld msg=\"stderr held open after exit, no longer read: "
	    "%u such programs\"", (long)oldest->pid, n);
	stderr_close(oldest);
	/* x itself is the caller's to release. */
	if (oldest != x)
		xchild_release(oldest, false);
}

static void
on_child_exit(struct engine *e, uint64_t id, const void *p)
{
	struct msg_exit	 me;
	struct xchild	*x;
	struct tcp_info	 ti;
	char		 acct[64];
	int		 outq;

	memcpy(&me, p, sizeof(me));
	me.service[sizeof(me.service) - 1] = '\0';
	x = xchild_find(e, id);
	/* What it wrote before exiting is logged before its exit line. */
	if (x != NULL && x->stderr_fd != -1 && !stderr_drain(x))
		stderr_close(x);
	acct[0] = '\0';
	if (x != NULL && x->acct_fd != -1 && acct_read(x->acct_fd, &ti,
	    &outq))
		acct_fmt(x, &ti, (uint64_t)outq, acct, sizeof(acct));
	log_exit(id, x != NULL ? x->service : me.service, (long)me.pid,
	    me.status, me.duration_ms, acct);
	if (x == NULL)
		return;
	stats_exit(engine_stat(e, x->svc), me.status);
	child_done(x);
	if (x->stderr_fd != -1)
		linger_bound(e, x);
	xchild_release(x, false);
}

/*
 * TCP_INFO and what the program wrote that the client has not acked
 * yet (SIOCOUTQ), as one snapshot: an ack arriving between the two
 * reads would move bytes from the queue to bytes_acked unseen and lose
 * them from the sum, so the pair is taken again until bytes_acked is
 * the same on both sides of the queue read (it only grows).  The
 * program has exited, so nothing is added to the queue meanwhile.
 */
static bool
acct_read(int fd, struct tcp_info *ti, int *outq)
{
	struct tcp_info	 after;
	socklen_t	 len;
	int		 tries;

	len = sizeof(*ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len) == -1)
		return false;
	for (tries = 0; tries < 16; tries++) {
		if (ioctl(fd, SIOCOUTQ, outq) == -1 || *outq < 0)
			*outq = 0;
		len = sizeof(after);
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &after, &len) == -1)
			return false;
		if (after.tcpi_bytes_acked == ti->tcpi_bytes_acked &&
		    after.tcpi_state == ti->tcpi_state)
			return true;
		*ti = after;
	}
	/* Still moving: the last pair, off by what one ack moved. */
	return true;
}

/*
 * Byte counts from TCP_INFO.  The kernel counts a FIN in the sequence
 * space: once the peer's FIN is in (CLOSE_WAIT, LAST_ACK, CLOSING,
 * TIME_WAIT) bytes_received is one too many, and once our FIN is acked
 * (FIN_WAIT2, TIME_WAIT) so is bytes_acked.  States as in the kernel's
 * tcp_states.h, which no user header exports.  queued: what the program
 * wrote that the client has not acknowledged yet (SIOCOUTQ).  Counted
 * in x's service too.
 */
static void
acct_fmt(struct xchild *x, const struct tcp_info *ti, uint64_t queued,
    char *buf, size_t size)
{
	enum { FIN_WAIT2 = 5, TIME_WAIT = 6, CLOSE_WAIT = 8, LAST_ACK = 9,
	    CLOSING = 11 };
	uint64_t	 in = ti->tcpi_bytes_received, out = ti->tcpi_bytes_acked;
	int		 st = ti->tcpi_state;

	if (in > 0 && (st == CLOSE_WAIT || st == LAST_ACK || st == CLOSING ||
	    st == TIME_WAIT))
		in--;
	if (out > 0 && (st == FIN_WAIT2 || st == TIME_WAIT))
		out--;
	engine_count_bytes(x->e, x->svc, in, out + queued);
	(void)snprintf(buf, size, " bytes_in=%llu bytes_out=%llu",
	    (unsigned long long)in, (unsigned long long)(out + queued));
}

static long
service_index(struct engine *e, const char *name)
{
	size_t	 i;

	for (i = 0; i < e->conf->nservices; i++)
		if (strcmp(e->conf->services[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* The listener a running wait child holds, by the shared fd number. */
static struct elistener *
wait_listener(struct engine *e, int listen_fd)
{
	size_t	 i;

	if (listen_fd < 0)
		return NULL;
	for (i = 0; i < e->nlsn; i++)
		if (e->lsn[i].l->fd == listen_fd && e->lsn[i].ev != NULL)
			return &e->lsn[i];
	return NULL;
}

/*
 * Watch a child this engine did not spawn.  Its per_source slot is
 * counted again only by a fresh engine (after a crash the counts were
 * reset); after a reload the count is still there.
 */
static void
adopt(struct engine *e, uint64_t id, pid_t pid, const char *name, int fd,
    int listen_fd, const struct srckey *key, bool count)
{
	struct xchild	*x;

	if ((x = xchild_new(e, id, service_index(e, name), name)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	x->pid = pid;
	if (x->svc >= 0)
		e->active[x->svc]++;
	if (key->family != 0 && (x->se = srctab_get(&e->src,
	    limit_svc_hash(name), key, mono_ms())) != NULL) {
		if (count)
			srcent_hold(x->se);
		srcent_put(x->se);
	}
	if (fd != -1)
		stderr_watch(x, fd);
	/* Its listener is the child's until it exits. */
	if ((x->wait_lsn = wait_listener(e, listen_fd)) != NULL) {
		x->wait_lsn->busy = true;
		(void)event_del(x->wait_lsn->ev);
	}
}

static void
on_adopt(struct engine *e, uint64_t id, const void *p, int fd)
{
	struct msg_adopt	 ma;

	memcpy(&ma, p, sizeof(ma));
	ma.service[sizeof(ma.service) - 1] = '\0';
	adopt(e, id, ma.pid, ma.service, fd, ma.listen_fd, &ma.key, false);
}

/*
 * The children that were alive when this engine was forked: their
 * stderr pipes came with the fork (the monitor's copies).
 */
void
priv_adopt_inherited(struct engine *e, struct childq *cq, bool fresh)
{
	struct child	*c;

	TAILQ_FOREACH(c, cq, entry)
		adopt(e, c->conn, c->pid, c->service, c->stderr_fd,
		    c->listen_fd, &c->key, fresh);
}

static size_t
payload_len(uint32_t type)
{
	switch (type) {
	case MSG_SPAWNED:
		return sizeof(struct msg_spawned);
	case MSG_SPAWN_FAIL:
		return sizeof(struct msg_spawn_fail);
	case MSG_EXIT:
		return sizeof(struct msg_exit);
	case MSG_ADOPT:
		return sizeof(struct msg_adopt);
	case MSG_BAN:
		return sizeof(struct msg_ban);
	case MSG_KNOCK:
		return sizeof(struct knockwin);
	case MSG_UNBAN:
		return sizeof(struct msg_unban);
	case MSG_CTL_LINE:
		return sizeof(struct msg_ctl_line);
	case MSG_CTL_DONE:
		return sizeof(struct msg_ctl_done);
	default:
		return (size_t)-1;
	}
}

/*
 * The descriptor that came with a message from the monitor was lost, our
 * table being full (EMFILE from msg_recv): say what goes unwatched.  The
 * message itself is then dispatched without it; the child is tracked as
 * usual, only its stderr is not read.  The monitor keeps the read end,
 * so the program's stderr fills the pipe, and a program that writes
 * more than that blocks: better than an engine gone, and said here.
 */
void
priv_fd_lost(struct engine *e, const struct msg_hdr *hdr, const void *p)
{
	struct msg_spawned	 ok;
	struct msg_adopt	 ma;
	struct xchild		*x;

	if (hdr->type == MSG_SPAWNED && hdr->len == sizeof(ok)) {
		memcpy(&ok, p, sizeof(ok));
		x = xchild_find(e, hdr->id);
		log_conn(LOG_WARNING, hdr->id, x != NULL ? x->service :
		    "unknown", "action=warn pid=%ld msg=\"stderr not read: "
		    "descriptor lost\" error=\"%s\"", (long)ok.pid,
		    strerror(EMFILE));
	} else if (hdr->type == MSG_ADOPT && hdr->len == sizeof(ma)) {
		memcpy(&ma, p, sizeof(ma));
		ma.service[sizeof(ma.service) - 1] = '\0';
		log_conn(LOG_WARNING, hdr->id, ma.service, "action=warn "
		    "pid=%ld msg=\"adopted, stderr not read: descriptor "
		    "lost\" error=\"%s\"", (long)ma.pid, strerror(EMFILE));
	} else
		log_warnx("action=warn msg=\"a descriptor from the monitor "
		    "was lost\" type=%u error=\"%s\"", hdr->type,
		    strerror(EMFILE));
}

void
priv_dispatch(struct engine *e, struct msg_hdr *hdr, const void *p, int fd)
{
	bool	 fd_ok = hdr->type == MSG_SPAWNED || hdr->type == MSG_ADOPT;

	if (payload_len(hdr->type) != hdr->len || (fd != -1 && !fd_ok))
		fatalx("engine: bad message type %u length %u from the monitor",
		    hdr->type, hdr->len);
	switch (hdr->type) {
	case MSG_SPAWNED:
		on_spawned(e, hdr->id, p, fd);
		break;
	case MSG_SPAWN_FAIL:
		on_spawn_fail(e, hdr->id, p);
		break;
	case MSG_EXIT:
		on_child_exit(e, hdr->id, p);
		break;
	case MSG_ADOPT:
		on_adopt(e, hdr->id, p, fd);
		break;
	case MSG_BAN: {
		struct msg_ban	 mb;

		memcpy(&mb, p, sizeof(mb));
		guard_ban_relayed(e, &mb);
		break;
	}
	case MSG_UNBAN: {
		struct msg_unban	 mu;

		memcpy(&mu, p, sizeof(mu));
		/* The current engine logs each; a draining one only drops. */
		(void)ban_remove_overlapping(&e->bans, &mu.key,
		    e->stopping ? NULL : guard_unban_log, NULL);
		break;
	}
	case MSG_CTL_LINE: {
		struct msg_ctl_line	 ml;

		memcpy(&ml, p, sizeof(ml));
		ml.text[sizeof(ml.text) - 1] = '\0';
		control_line(e, hdr->id, ml.text);
		break;
	}
	case MSG_CTL_DONE: {
		struct msg_ctl_done	 md;

		memcpy(&md, p, sizeof(md));
		control_done(e, hdr->id, &md);
		break;
	}
	case MSG_KNOCK: {
		struct knockwin	 kw;

		memcpy(&kw, p, sizeof(kw));
		gk_window(e, &kw);
		break;
	}
	}
	engine_check_done(e);
}

/*
 * Stopping.  After a reload the next engine watches the children, so
 * this one lets go of them; on shutdown their stderr is still drained
 * until they close it or the grace period ends.
 */
void
priv_stop(struct engine *e, bool release)
{
	struct xchild	*x, *next;

	if (!release)
		return;
	for (x = TAILQ_FIRST(&e->children); x != NULL; x = next) {
		next = TAILQ_NEXT(x, entry);
		if (x->pid == 0)
			continue;	/* the spawn answer still comes here */
		if (x->stderr_fd != -1 && !stderr_drain(x))
			stderr_close(x);
		stderr_close(x);
		/* Its per_source slot stays counted: the next engine has it. */
		if (x->acct_fd != -1)
			close(x->acct_fd);
		TAILQ_REMOVE(&e->children, x, entry);
		free(x);
	}
}

size_t
priv_open_pipes(struct engine *e)
{
	struct xchild	*x;
	size_t		 n = 0;

	TAILQ_FOREACH(x, &e->children, entry)
		if (x->stderr_fd != -1 || x->pid == 0)
			n++;
	return n;
}

void
priv_dump(struct engine *e)
{
	struct conn	*c;
	struct xchild	*x;
	uint64_t	 now = mono_ms();

	log_info("action=dump engine=%ld generation=%llu conns=%zu",
	    (long)getpid(), (unsigned long long)e->generation, e->nconns);
	TAILQ_FOREACH(c, &e->conns, entry)
		log_conn(LOG_INFO, c->id, c->service->name, "action=dump "
		    "bytes_in=%llu bytes_out=%llu age_ms=%llu",
		    (unsigned long long)c->bytes_in,
		    (unsigned long long)c->bytes_out,
		    (unsigned long long)(now - c->start_ms));
	TAILQ_FOREACH(x, &e->children, entry)
		log_conn(LOG_INFO, x->id, x->service, "action=dump pid=%ld "
		    "stderr=%s", (long)x->pid, x->stderr_fd != -1 ? "open" :
		    "closed");
	status_log(e);
}
