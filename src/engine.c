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
 * The engine: the unprivileged, network-facing half.  Right after the
 * fork it drops to the engine account for good, then runs the libevent
 * loop: it accepts, checks the ACLs and limits, serves builtins itself and
 * asks the monitor to spawn everything else.  A lost monitor ends it.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "engine.h"
#include "log.h"
#include "portmuxd.h"
#include "proto.h"
#include "sandbox.h"
#include "udpaddr.h"

#define BACKOFF_MIN_MS	50
#define BACKOFF_MAX_MS	2000
#define WAIT_BACKOFF_MAX_MS 5000

static int	 drop_privileges(const struct conf *);
static void	 engine_sandbox(struct engine *, const struct engine_init *,
		    int);
static void	 chan_read_cb(evutil_socket_t, short, void *);
static void	 chan_write_cb(evutil_socket_t, short, void *);
static void	 accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	 accept_error_cb(struct evconnlistener *, void *);
static void	 backoff_cb(evutil_socket_t, short, void *);
static void	 rearm_cb(evutil_socket_t, short, void *);
static void	 term_cb(evutil_socket_t, short, void *);
static void	 grace_cb(evutil_socket_t, short, void *);
static void	 engine_stop(struct engine *, int, uint32_t);
static void	 flush_cb(evutil_socket_t, short, void *);
static void	 flush_schedule(void *);

static void
flush_cb(evutil_socket_t fd __unused, short ev __unused, void *arg __unused)
{
	log_flush();
}

/* The first line of a batch: flush after the events now running. */
static void
flush_schedule(void *arg)
{
	struct engine	*e = arg;

	event_active(e->flush_ev, EV_TIMEOUT, 0);
}

/* Verify that no way back to root is left: uids, capabilities. */
static void
verify_dropped(uid_t uid)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[2];
	uid_t				 r, e, s;

	if (setuid(0) != -1 || seteuid(0) != -1)
		fatalx("engine: could regain root after dropping privileges");
	if (getresuid(&r, &e, &s) == -1 || r != uid || e != uid || s != uid)
		fatalx("engine: uids not all %lu", (unsigned long)uid);
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1)
		fatal("engine: capget");
	if (data[0].effective || data[1].effective || data[0].permitted ||
	    data[1].permitted)
		fatalx("engine: capabilities left after dropping privileges");
}

/* 1 if the root is now an empty directory (sandbox.c), else 0. */
static int
drop_privileges(const struct conf *conf)
{
	int	 rooted;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("engine: PR_SET_NO_NEW_PRIVS");
	if (!conf->as_root)
		return 0;
	/* Only root may chroot; see sandbox.c for the directory. */
	if ((rooted = sandbox_chroot()) == -1)
		fatal("engine: chroot to an empty directory");
	if (setgroups(0, NULL) == -1)
		fatal("engine: setgroups");
	if (setresgid(conf->gid, conf->gid, conf->gid) == -1)
		fatal("engine: setresgid %lu", (unsigned long)conf->gid);
	if (setresuid(conf->uid, conf->uid, conf->uid) == -1)
		fatal("engine: setresuid %lu", (unsigned long)conf->uid);
	verify_dropped(conf->uid);
	return rooted;
}

/* Syslog is lost: the monitor connects a socket and sends it. */
static void
syslog_ask(void *arg)
{
	struct engine	*e = arg;

	engine_send(e, MSG_SYSLOG, 0, NULL, 0, -1);
}

/*
 * Set up, the engine gives up every call its loop does not make.  Syslog
 * cannot be reached from the empty root, nor a socket of its family made
 * under the filter: the monitor makes it.
 */
static void
engine_sandbox(struct engine *e, const struct engine_init *ei, int rooted)
{
	const char	*why;
	int		 abi;

	log_sandboxed(syslog_ask, e);
	if ((abi = sandbox_landlock()) == -1)
		fatal("engine: Landlock ruleset");
	if (sandbox_filter(ei->trap_fd) == -1)
		fatal("engine: seccomp filter");
	if ((why = sandbox_relaxed()) != NULL)
		log_debug("action=sandbox engine=%ld msg=\"relaxed: %s\"",
		    (long)getpid(), why);
	else
		log_debug("action=sandbox engine=%ld root=%s landlock=%d "
		    "seccomp=on", (long)getpid(), rooted ? "empty" : "kept",
		    abi);
	/* Not after a crash: the engine the monitor starts then must live. */
	if (!ei->fresh && getenv(SANDBOX_SELFTEST_ENV) != NULL)
		sandbox_selftest();
}

/*
 * The monitor handles HUP and INT (a terminal's ^C reaches the whole
 * process group); TERM sent to the engine alone stops it gracefully.
 */
static void
engine_signals(void)
{
	struct sigaction	 sa;
	sigset_t		 set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGUSR1, &sa, NULL);
	(void)sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&set);
	(void)sigprocmask(SIG_SETMASK, &set, NULL);
}

static void
listeners_start(struct engine *e, struct listener *ls, size_t nls)
{
	size_t	 i;

	if (nls == 0)
		return;
	if ((e->lsn = calloc(nls, sizeof(*e->lsn))) == NULL)
		fatal("engine: listeners");
	for (i = 0; i < nls; i++) {
		struct elistener	*el = &e->lsn[i];
		const struct service	*svc = &e->conf->services[ls[i].service];
		event_callback_fn	 cb = NULL;

		el->e = e;
		el->l = &ls[i];
		el->delay_ms = BACKOFF_MIN_MS;
		el->dup_delay_ms = BACKOFF_MIN_MS;
		if (svc->wait)
			cb = svc->proto == PROTO_UDP ? udp_wait_cb :
			    stream_wait_cb;
		else if (svc->proto == PROTO_UDP) {
			cb = svc->redirect != NULL ? udp_redirect_cb :
			    udp_builtin_cb;
			/* Answers leave from where the datagram went. */
			if (udpaddr_listener(el) == -1)
				log_warn("service=%s action=warn msg=\"pktinfo: "
				    "answers leave from the kernel's choice of "
				    "address\"", svc->name);
		}
		if (cb != NULL) {
			el->ev = event_new(e->base, ls[i].fd, EV_READ |
			    EV_PERSIST, cb, el);
			el->backoff = evtimer_new(e->base, rearm_cb, el);
			if (el->ev == NULL || el->backoff == NULL ||
			    event_add(el->ev, NULL) == -1)
				fatalx("engine: listener event");
			continue;
		}
		/* Backlog 0: the monitor already called listen(). */
		el->evl = evconnlistener_new(e->base, accept_cb, el,
		    LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_CLOSE_ON_FREE, 0, ls[i].fd);
		if (el->evl == NULL)
			fatalx("engine: evconnlistener_new");
		evconnlistener_set_error_cb(el->evl, accept_error_cb);
		if ((el->backoff = evtimer_new(e->base, backoff_cb, el)) ==
		    NULL)
			fatalx("engine: evtimer_new");
	}
	e->nlsn = nls;
}

static void
listeners_stop(struct engine *e)
{
	size_t	 i;

	for (i = 0; i < e->nlsn; i++) {
		struct elistener *el = &e->lsn[i];

		if (el->evl != NULL)
			evconnlistener_free(el->evl);	/* closes the fd */
		else if (el->l->fd != -1)
			close(el->l->fd);
		if (el->ev != NULL)
			event_free(el->ev);
		if (el->backoff != NULL)
			event_free(el->backoff);
		el->evl = NULL;
		el->ev = NULL;
		el->backoff = NULL;
		el->l->fd = -1;
	}
}

static void
rearm_now(struct elistener *el)
{
	if (el->ev == NULL || el->l->fd == -1)
		return;
	/* The child cleared O_NONBLOCK on the shared file description. */
	if (fd_nonblock(el->l->fd, true) == -1)
		log_warn("service=%s action=warn msg=\"O_NONBLOCK\"",
		    el->e->conf->services[el->l->service].name);
	if (event_add(el->ev, NULL) == -1)
		log_warnx("service=%s action=warn msg=\"cannot watch the "
		    "listener again\"", el->e->conf->services[el->l->service].name);
}

/*
 * The timer of a wait listener: the end of a delay after a quick exit,
 * or of a pause after a failed dup (the only one with a resume line:
 * the pause was a warning).
 */
static void
rearm_cb(evutil_socket_t fd __unused, short ev __unused, void *arg)
{
	struct elistener	*el = arg;

	if (el->dup_paused) {
		el->dup_paused = false;
		log_info("service=%s action=resume",
		    el->e->conf->services[el->l->service].name);
	}
	rearm_now(el);
}

/*
 * A wait listener could not be handed over: what (dup) failed with err,
 * out of descriptors most likely.  The socket stays readable, so stop
 * watching it and retry from the timer with a growing delay instead of
 * spinning: one warning per pause.  A successful handover resets it.
 */
void
engine_wait_pause(struct elistener *el, const char *what, int err)
{
	struct timeval	 tv;

	if (el->dup_delay_ms < BACKOFF_MIN_MS)
		el->dup_delay_ms = BACKOFF_MIN_MS;
	(void)event_del(el->ev);
	el->dup_paused = true;
	log_warnx("service=%s action=pause reason=overload msg=\"%s: %s\" "
	    "retry_ms=%u", el->e->conf->services[el->l->service].name, what,
	    strerror(err), el->dup_delay_ms);
	ms_timeval(&tv, el->dup_delay_ms);
	if (evtimer_add(el->backoff, &tv) == -1) {
		el->dup_paused = false;
		rearm_now(el);
	}
	el->dup_delay_ms = el->dup_delay_ms * 2 > BACKOFF_MAX_MS ?
	    BACKOFF_MAX_MS : el->dup_delay_ms * 2;
}

/*
 * Is what woke the wait program still waiting on its socket?  Stream:
 * any pending connection.  UDP: the very datagram handed over still
 * heads the queue (same source, length and first bytes), so that the
 * next datagram of a busy service does not count against a program that
 * read its own; with no datagram known (an adopted child), any.
 */
static bool
wake_pending(struct elistener *el)
{
	struct pollfd		 pfd;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	unsigned char		 head[WAKE_HEAD];
	ssize_t			 n;

	if (el->l->proto != PROTO_UDP || el->wake_len == 0) {
		pfd.fd = el->l->fd;
		pfd.events = POLLIN;
		return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
	}
	memset(&ss, 0, sizeof(ss));
	n = recvfrom(el->l->fd, head, sizeof(head), MSG_PEEK | MSG_TRUNC |
	    MSG_DONTWAIT, (struct sockaddr *)&ss, &sslen);
	if (n == -1)
		return false;
	sa_normalize(&ss, &sslen);
	return n == el->wake_bytes && sslen == el->wake_len &&
	    memcmp(&ss, &el->wake_ss, sslen) == 0 &&
	    memcmp(head, el->wake_head, el->wake_nhead) == 0;
}

/*
 * A wait child gave its listener back after ran_ms: watch it again.  A
 * program that exits at once without accepting or reading, or cannot be
 * started, leaves its connection or datagram pending and would be
 * started again and again: for UDP one spoofable datagram is enough.  A
 * child that lived under a second and left its wake-up pending delays
 * the re-arm, doubling up to 5 s; the first delay of a series is a
 * warning, the next ones debug, the end of the series a resume.  A UDP
 * program that read its datagram (one per datagram is what tftpd and
 * the like do under load) gets no delay.
 */
void
engine_rearm(struct elistener *el, uint64_t ran_ms)
{
	const char	*name = el->e->conf->services[el->l->service].name;
	struct timeval	 tv;

	if (!el->busy)
		return;
	el->busy = false;
	if (ran_ms >= 1000 || el->backoff == NULL || el->l->fd == -1 ||
	    !wake_pending(el)) {
		if (el->delay_ms > BACKOFF_MIN_MS)
			log_info("service=%s action=resume", name);
		el->delay_ms = BACKOFF_MIN_MS;
		rearm_now(el);
		return;
	}
	ms_timeval(&tv, el->delay_ms);
	if (evtimer_add(el->backoff, &tv) == -1) {
		rearm_now(el);
		return;
	}
	if (el->delay_ms == BACKOFF_MIN_MS)
		log_warnx("service=%s action=pause reason=overload msg=\"the "
		    "program exited within a second and left its %s pending\" "
		    "retry_ms=%u", name, el->l->proto == PROTO_UDP ? "datagram" :
		    "connection", el->delay_ms);
	else
		log_debug("service=%s action=pause reason=overload retry_ms=%u",
		    name, el->delay_ms);
	el->delay_ms = el->delay_ms * 2 > WAIT_BACKOFF_MAX_MS ?
	    WAIT_BACKOFF_MAX_MS : el->delay_ms * 2;
}

/* Connection ids are unique across engines: the counter is shared. */
uint64_t
engine_next_id(struct engine *e)
{
	return __atomic_add_fetch(e->conn_ids, 1, __ATOMIC_RELAXED);
}

/* The counters of service idx of this generation; NULL: none. */
struct svcstat *
engine_stat(struct engine *e, long idx)
{
	if (idx < 0 || (size_t)idx >= e->conf->nservices || e->svcst == NULL)
		return NULL;
	return e->svcst[idx];
}

void
engine_count_accept(struct engine *e, long idx)
{
	struct svcstat	*st = engine_stat(e, idx);

	if (st != NULL)
		stats_add(&st->accepted, 1);
}

/* A refusal of service idx, reason an enum reason. */
void
engine_count_refusal(struct engine *e, long idx, int reason)
{
	stats_refused(engine_stat(e, idx), reason > 0 ? (unsigned)reason : 0);
}

void
engine_count_bytes(struct engine *e, long idx, uint64_t in, uint64_t out)
{
	struct svcstat	*st = engine_stat(e, idx);

	if (st == NULL)
		return;
	stats_add(&st->bytes_in, in);
	stats_add(&st->bytes_out, out);
}

int
engine_main(struct engine_init *ei)
{
	struct engine	 e;
	size_t		 i;
	int		 rooted;

	(void)prctl(PR_SET_NAME, "portmuxd-engine", 0, 0, 0);
	rooted = drop_privileges(ei->conf);
	/* After the drop: changing credentials clears the death signal. */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	engine_signals();

	memset(&e, 0, sizeof(e));
	e.conf = ei->conf;
	e.generation = ei->generation;
	e.chan = ei->chan;
	e.conn_ids = ei->conn_ids;
	msgq_init(&e.q);
	TAILQ_INIT(&e.conns);
	TAILQ_INIT(&e.tmuxes);
	TAILQ_INIT(&e.pxins);
	TAILQ_INIT(&e.relays);
	TAILQ_INIT(&e.children);
	if ((e.active = calloc(e.conf->nservices + 1, sizeof(*e.active))) ==
	    NULL)
		fatal("engine: calloc");
	if ((e.base = event_base_new()) == NULL)
		fatalx("engine: event_base_new");
	e.chan_rev = event_new(e.base, e.chan, EV_READ | EV_PERSIST,
	    chan_read_cb, &e);
	e.chan_wev = event_new(e.base, e.chan, EV_WRITE | EV_PERSIST,
	    chan_write_cb, &e);
	e.term_ev = evsignal_new(e.base, SIGTERM, term_cb, &e);
	e.grace_ev = evtimer_new(e.base, grace_cb, &e);
	if (e.chan_rev == NULL || e.chan_wev == NULL || e.term_ev == NULL ||
	    e.grace_ev == NULL || event_add(e.chan_rev, NULL) == -1 ||
	    event_add(e.term_ev, NULL) == -1)
		fatalx("engine: events");
	/* Shared with the other engine generations, through the monitor. */
	e.src = *ei->src;
	e.bans = *ei->bans;		/* our own copy, since the fork */
	if ((e.svc_hash = calloc(e.conf->nservices + 1,
	    sizeof(*e.svc_hash))) == NULL)
		fatal("engine: calloc");
	for (i = 0; i < e.conf->nservices; i++)
		e.svc_hash[i] = limit_svc_hash(e.conf->services[i].name);
	if ((e.svcst = calloc(e.conf->nservices + 1, sizeof(*e.svcst))) ==
	    NULL)
		fatal("engine: calloc");
	if (ei->stats != NULL)
		e.st = *ei->stats;
	/* Named by the monitor; none: it said so. */
	for (i = 0; i < e.conf->nservices; i++)
		e.svcst[i] = stats_service(&e.st, e.conf->services[i].name);
	if ((e.udpref = calloc(e.conf->nservices + 1, sizeof(*e.udpref))) ==
	    NULL)
		fatal("engine: calloc");
	localsrc_init(&e.loopsrc, e.conf);
	if (ei->fresh)
		srctab_reset_active(&e.src);
	if (guard_init(&e, ei->fresh) == -1)
		fatalx("engine: refusal summaries");
	if (gk_init(&e, ei) == -1)
		fatal("engine: knock and scan tables");
	if (udprelay_init(&e) == -1)
		fatal("engine: UDP session tables");
	/* A burst of events, one write: flushed once the burst is done. */
	if ((e.flush_ev = event_new(e.base, -1, 0, flush_cb, NULL)) == NULL ||
	    log_batch(flush_schedule, &e) == -1)
		fatalx("engine: log batch");
	listeners_start(&e, ei->ls, ei->nls);
	priv_adopt_inherited(&e, ei->children, ei->fresh);
	engine_sandbox(&e, ei, rooted);
	/* The monitor tells the service manager (READY=1). */
	engine_send(&e, MSG_READY, 0, NULL, 0, -1);

	if (event_base_dispatch(e.base) == -1)
		fatalx("engine: event loop failed");
	log_debug("action=stop engine=%ld", (long)getpid());
	log_flush();
	gk_free(&e);
	relay_pool_free(&e);
	udprelay_free(&e);
	localsrc_free(&e.loopsrc);
	return 0;
}

void
engine_send(struct engine *e, uint32_t type, uint64_t id, const void *p,
    size_t len, int fd)
{
	if (msgq_add(&e->q, type, id, p, len, fd) == -1)
		fatal("engine: queueing a message");
	if (msgq_flush(&e->q, e->chan) == -1)
		fatal("engine: monitor channel");
	if (e->q.queued > 0)
		(void)event_add(e->chan_wev, NULL);
}

static void
chan_write_cb(evutil_socket_t fd __unused, short ev __unused, void *arg)
{
	struct engine	*e = arg;

	if (msgq_flush(&e->q, e->chan) == -1)
		fatal("engine: monitor channel");
	if (e->q.queued == 0)
		(void)event_del(e->chan_wev);
}

static void
chan_read_cb(evutil_socket_t fd __unused, short ev __unused, void *arg)
{
	struct engine	*e = arg;
	struct msg_hdr	 hdr;
	unsigned char	 buf[MSG_MAXPAYLOAD];
	struct msg_stop	 ms;
	bool		 lost;
	int		 r, pfd;

	for (;;) {
		r = msg_recv(e->chan, &hdr, buf, sizeof(buf), &pfd);
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r == -1 && errno == EPROTO)
			fatalx("engine: malformed message from the monitor");
		if (r == -1 && errno == EMFILE) {
			/*
			 * Our descriptor table is full and the kernel dropped
			 * the descriptor that came with a well-formed message:
			 * that message goes on without it (a child's stderr
			 * is then not read); the monitor is still there.
			 */
			lost = true;
			pfd = -1;
			r = 1;
		} else
			lost = false;
		if (r <= 0) {
			/* The monitor is gone: nobody can spawn or reap. */
			log_warnx("action=warn msg=\"monitor gone, engine %ld "
			    "exits\"", (long)getpid());
			exit(EX_OSERR);
		}
		switch (hdr.type) {
		case MSG_STOP:
			if (hdr.len != sizeof(ms) || pfd != -1)
				fatalx("engine: bad stop message");
			memcpy(&ms, buf, sizeof(ms));
			engine_stop(e, (int)ms.reason, ms.grace_ms);
			break;
		case MSG_DUMP:
			if (hdr.len != 0 || pfd != -1)
				fatalx("engine: bad dump message");
			priv_dump(e);
			break;
		case MSG_LOGFD:
			/* log = file, reopened: what is batched goes first. */
			if (hdr.len != 0 || pfd == -1)
				fatalx("engine: bad log file message");
			log_flush();
			if (dup2(pfd, STDERR_FILENO) == -1)
				log_warn("action=warn msg=\"taking the reopened "
				    "log file\"");
			close(pfd);
			break;
		case MSG_SYSLOGFD:
			if (hdr.len != 0 || pfd == -1)
				fatalx("engine: bad syslog socket message");
			log_syslog_fd(pfd);
			break;
		default:
			priv_dispatch(e, &hdr, buf, pfd);
			break;
		}
		/* After the message's own line: what went unwatched. */
		if (lost)
			priv_fd_lost(e, &hdr, buf);
	}
}

/* The peer as the log shows it; a unix peer by its credentials. */
static void
peer_fmt(int fd, const struct sockaddr *sa, char *buf, size_t size)
{
	struct ucred	 uc;
	socklen_t	 len = sizeof(uc);

	if (sa->sa_family != AF_UNIX) {
		(void)sa_fmt(sa, buf, size);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1)
		(void)snprintf(buf, size, "unknown");
	else
		(void)snprintf(buf, size, "uid:%lu/pid:%ld",
		    (unsigned long)uc.uid, (long)uc.pid);
}

/* A service by its name's hash; NULL for an older generation's. */
const struct service *
engine_svc_by_hash(struct engine *e, uint32_t h)
{
	size_t	 i;

	for (i = 0; i < e->conf->nservices; i++)
		if (e->svc_hash[i] == h)
			return &e->conf->services[i];
	return NULL;
}

/*
 * Serve an admitted stream connection as service idx: a builtin,
 * tcpmux or a spawn.  se is the per_source slot it holds; ba the
 * listener's address, if known; o, if not NULL: the client named the
 * service through tcpmux (and got "+Go"), or came through a proxy.
 */
void
engine_serve_admitted(struct engine *e, size_t idx, int fd, uint64_t id,
    const char *peer, struct srcent *se, const struct bindaddr *ba,
    const struct origin *o)
{
	const struct service	*svc = &e->conf->services[idx];
	struct sockaddr_storage	 local;
	socklen_t		 llen = sizeof(local);
	char			 lbuf[128];
	const char		*via = o == NULL ? NULL : o->tcpmux ? "tcpmux" :
	    o->proxy;
	struct conn		*c;

	if (svc->proto == PROTO_UNIX)
		(void)snprintf(lbuf, sizeof(lbuf), "%s", svc->path);
	else if (ba != NULL && !ba->wildcard)
		/* A specific address: no getsockname() needed. */
		(void)sa_fmt((const struct sockaddr *)&ba->ss, lbuf,
		    sizeof(lbuf));
	else if (getsockname(fd, (struct sockaddr *)&local, &llen) == -1)
		(void)snprintf(lbuf, sizeof(lbuf), "unknown");
	else
		(void)sa_fmt((struct sockaddr *)&local, lbuf, sizeof(lbuf));
	log_conn(LOG_INFO, id, svc->name, "action=accept proto=%s peer=%s "
	    "local=%s%s%s", conf_proto_name(svc->proto), peer, lbuf,
	    via != NULL ? " via=" : "", via != NULL ? via : "");
	engine_count_accept(e, (long)idx);
	e->active[idx]++;
	if (svc->builtin == BUILTIN_TCPMUX) {
		tcpmux_start(e, idx, fd, id, se);
		return;
	}
	if (svc->redirect != NULL) {
		relay_start(e, idx, fd, id, se, o != NULL ? o->client : NULL);
		return;
	}
	if (svc->builtin == BUILTIN_NONE) {
		if (o != NULL && o->client != NULL)
			priv_spawn(e, idx, fd, id, SPAWN_PROXY, o->client,
			    o->clientlen, NULL, se);
		else
			priv_spawn(e, idx, fd, id, o != NULL && o->tcpmux ?
			    SPAWN_TCPMUX : 0, NULL, 0, NULL, se);
		return;
	}
	if ((c = conn_new(e, idx, id, se)) == NULL) {
		engine_drop(e, idx, id, se, fd);
		return;
	}
	if (builtin_start(c, fd) == -1)
		conn_free(c, "error");
}

/*
 * Out of memory for an admitted connection: refuse it alone, giving
 * back its instance and per_source slots.
 */
void
engine_drop(struct engine *e, size_t idx, uint64_t id, struct srcent *se,
    int fd)
{
	if (e->active[idx] > 0)
		e->active[idx]--;
	if (se != NULL)
		srcent_release(se);
	engine_count_refusal(e, (long)idx, REASON_ERROR);
	log_conn(LOG_WARNING, id, e->conf->services[idx].name,
	    "action=refuse reason=error msg=\"out of memory\"");
	close(fd);
}

/*
 * A new stream connection: admitted by guard.c, or refused at once.  sa
 * is the client: the socket's peer, or what a trusted proxy's header
 * says (o).
 */
void
engine_serve(struct engine *e, size_t idx, int fd, uint64_t id,
    const struct sockaddr *sa, const char *peer, const struct bindaddr *ba,
    const struct origin *o)
{
	struct srcent	*se;
	char		 via[200];
	const char	*who = peer;
	int		 r;

	/* A refusal line names the proxy too, as the accept line would. */
	if (o != NULL && o->proxy != NULL) {
		(void)snprintf(via, sizeof(via), "%s via=%s", peer, o->proxy);
		who = via;
	}
	r = guard_admit(e, idx, sa, fd, &se);
	/* A trap catches whoever is not banned yet, whatever the limits. */
	if (e->conf->services[idx].builtin == BUILTIN_TRAP &&
	    r != REASON_BANNED) {
		if (r == 0)
			srcent_release(se);
		gk_trap(e, idx, fd, id, sa, who);
	} else if (r != 0) {
		guard_refuse(e, idx, se, r, id, who);
		gk_refused(e, idx, sa, r);
		close(fd);
	} else
		engine_serve_admitted(e, idx, fd, id, peer, se, ba, o);
	if (se != NULL)
		srcent_put(se);
}

static void
accept_cb(struct evconnlistener *evl __unused, evutil_socket_t fd,
    struct sockaddr *sa, int salen __unused, void *arg)
{
	struct elistener	*el = arg;
	struct engine		*e = el->e;
	char			 peer[80];

	el->delay_ms = BACKOFF_MIN_MS;
	peer_fmt(fd, sa, peer, sizeof(peer));
	if (e->conf->services[el->l->service].proxy_versions != 0)
		proxyin_start(e, el->l->service, fd, engine_next_id(e), sa,
		    peer, &el->l->addr);
	else
		engine_serve(e, el->l->service, fd, engine_next_id(e), sa,
		    peer, &el->l->addr, NULL);
}

/*
 * accept() failed.  Out of descriptors or memory: stop accepting on this
 * listener and retry from a timer with a growing delay, instead of
 * spinning on a socket that stays readable.
 */
static void
accept_error_cb(struct evconnlistener *evl, void *arg)
{
	struct elistener	*el = arg;
	const struct service	*svc = &el->e->conf->services[el->l->service];
	int			 err = EVUTIL_SOCKET_ERROR();
	struct timeval		 tv;

	if (err != EMFILE && err != ENFILE && err != ENOBUFS &&
	    err != ENOMEM) {
		log_warnx("service=%s action=warn msg=\"accept: %s\"",
		    svc->name, strerror(err));
		return;
	}
	evconnlistener_disable(evl);
	log_warnx("service=%s action=pause reason=overload msg=\"accept: %s\" "
	    "retry_ms=%u", svc->name, strerror(err), el->delay_ms);
	ms_timeval(&tv, el->delay_ms);
	(void)evtimer_add(el->backoff, &tv);
	el->delay_ms = el->delay_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    el->delay_ms * 2;
}

static void
backoff_cb(evutil_socket_t fd __unused, short ev __unused, void *arg)
{
	struct elistener	*el = arg;

	if (el->evl == NULL)
		return;
	log_info("service=%s action=resume",
	    el->e->conf->services[el->l->service].name);
	evconnlistener_enable(el->evl);
}

static void
term_cb(evutil_socket_t fd __unused, short ev __unused, void *arg)
{
	struct engine	*e = arg;

	engine_stop(e, STOP_SHUTDOWN, e->conf->stop_grace_ms);
}

/*
 * Stop accepting; let builtin connections finish within the grace
 * period.  On a shutdown the children's stderr is drained too; on a
 * reload the next engine has taken the children over.
 */
static void
engine_stop(struct engine *e, int reason, uint32_t grace_ms)
{
	struct timeval	 tv;

	if (e->stopping && reason == e->stop_reason)
		return;
	e->stopping = true;
	e->stop_reason = reason;
	guard_flush_all(e);
	udprelay_stop_all(e);
	listeners_stop(e);
	gk_stop(e);
	priv_stop(e, reason == STOP_RELOAD);
	ms_timeval(&tv, grace_ms);
	(void)evtimer_add(e->grace_ev, &tv);
	engine_check_done(e);
}

static void
grace_cb(evutil_socket_t fd __unused, short ev __unused, void *arg)
{
	struct engine	*e = arg;
	struct conn	*c;

	while ((c = TAILQ_FIRST(&e->conns)) != NULL)
		conn_free(c, "stop");
	tcpmux_stop_all(e);
	proxyin_stop_all(e);
	relay_stop_all(e);
	priv_stop(e, true);
	event_base_loopexit(e->base, NULL);
}

/* When stopping, exit as soon as nothing is left to serve or drain. */
void
engine_check_done(struct engine *e)
{
	if (e->stopping && e->nconns == 0 && priv_open_pipes(e) == 0 &&
	    e->q.queued == 0)
		event_base_loopexit(e->base, NULL);
}
