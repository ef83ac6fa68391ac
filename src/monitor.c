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
 * The monitor: the privileged half.  It owns the configuration and the
 * listening sockets, forks the engine (and replaces it when it dies),
 * spawns service programs on the engine's request after checking the
 * socket it was given, reaps them, and reloads on SIGHUP.  It never reads
 * a byte from the network.  It uses a plain poll() loop rather than
 * libevent: the engine is forked from it, and a forked libevent base
 * would share its epoll instance with the child.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/keyctl.h>

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mongate.h"
#include "nft.h"
#include "portmuxd.h"
#include "proto.h"
#include "sandbox.h"
#include "sdlisten.h"
#include "sdnotify.h"
#include "scan.h"
#include "stats.h"

#define RESTART_MAX	5		/* engine restarts ... */
#define RESTART_WINDOW	60000		/* ... per minute, then exit 71 */
#define KILL_SLACK_MS	2000		/* after a grace period ends */
#define SRCTAB_SIZE	16384		/* source groups the engines track */
#define MON_BATCH	4		/* messages per engine and wakeup */
#define STOP_POLL_MS	100		/* rechecks of stopped wait programs */
/*
 * What the monitor holds for an engine that does not read its channel:
 * past QUEUE_FDS descriptors its spawn requests are refused (each reply
 * would hold a stderr pipe), past QUEUE_MAX messages it is killed.  A
 * working engine reads them within a loop turn: even thousands of
 * children exiting at once stay well below.
 */
#define QUEUE_FDS	256
#define QUEUE_MAX	16384

extern char **environ;

/* The monitor's view of one engine process. */
struct eproc {
	TAILQ_ENTRY(eproc) entry;
	pid_t		 pid;
	int		 fd;		/* our end of the channel, -1 at EOF */
	struct msgq	 q;
	struct conf	*conf;		/* the generation it serves */
	bool		 own_conf;	/* conf is freed with this eproc */
	uint64_t	 generation;
	bool		 draining;
	uint64_t	 kill_at;	/* monotonic ms, 0: none */
	uint64_t	 stall_logged;	/* monotonic ms of the last warning */
	bool		 ready;		/* said MSG_READY */
	int		 trap_fd;	/* what its sandbox trapped, or -1 */
	uint64_t	 syslog_at;	/* monotonic ms of its last syslog socket */
};

struct monitor {
	struct portmuxd	*pmx;
	struct conf	*conf;
	uint64_t	 generation;
	struct listener	*ls;
	size_t		 nls;
	TAILQ_HEAD(, eproc) engines;
	struct eproc	*current;
	struct childq	 children;
	size_t		 nchildren;
	int		 sigfd;
	uint64_t	 restarts[RESTART_MAX];
	size_t		 nrestarts;
	uint64_t	 restart_at;	/* pending engine restart, 0: none */
	struct rlimit	 orig_nofile;
	uint64_t	*conn_ids;	/* shared with every engine */
	struct srctab	 src;		/* shared with every engine */
	struct stats	 stats;		/* counters, shared likewise */
	struct bantab	 bans;		/* copied into each new engine */
	struct mongate	 gate;		/* knock windows, the firewall */
	bool		 stopping;
	/*
	 * A stop ends the wait programs, since each holds a listener that
	 * the next start must bind: their process groups, until none is
	 * left, KILL at stop_kill_at, giving up at stop_giveup_at.
	 */
	pid_t		*stop_pgs;
	size_t		 nstop_pgs;
	uint64_t	 stop_kill_at;
	uint64_t	 stop_giveup_at;
};

static void	 mon_loop(struct monitor *);
static void	 mon_tell(struct monitor *, const char *, const char *);
static void	 mon_syslog(struct eproc *);
static bool	 msg_bare(struct monitor *, struct eproc *,
		    const struct msg_hdr *, int, const char *);
static int	 poll_grow(struct pollfd **, struct eproc ***, size_t *, size_t);
static int	 engine_start(struct monitor *, const char *, bool);
static void	 stats_names(struct monitor *, const struct conf *);
static void	 mon_ban(struct monitor *, struct eproc *, struct msg_hdr *,
		    const void *, int);
static void	 mon_knock(struct monitor *, struct eproc *, struct msg_hdr *,
		    const void *, int);
static void	 spawn_refuse(struct eproc *, uint64_t, int, int);
static void	 engine_gone(struct monitor *, struct eproc *, int);
static void	 mon_signal(struct monitor *);
static void	 mon_read(struct monitor *, struct eproc *);
static void	 mon_spawn(struct monitor *, struct eproc *, struct msg_hdr *,
		    const void *, int);
static void	 mon_reap(struct monitor *);
static void	 mon_ctl(struct monitor *, struct eproc *, uint64_t,
		    int (*)(struct monitor *));
static int	 mon_reload_run(struct monitor *);
static int	 mon_reopen(struct monitor *);
static void	 mon_unban(struct monitor *, struct eproc *, struct msg_hdr *,
		    const void *, int);
static void	 wait_listeners_check(struct monitor *);
static void	 mon_stop(struct monitor *);
static void	 mon_dump(struct monitor *);
static void	 eproc_send(struct eproc *, uint32_t, uint64_t, const void *,
		    size_t, int);
static void	 eproc_kill(struct monitor *, struct eproc *, const char *);
static void	 stop_wait_programs(struct monitor *);
static size_t	 stop_groups_left(struct monitor *);
static void	 stop_groups_timer(struct monitor *, uint64_t);

/*
 * Signals: a signal ignored by whoever started us (nohup ignores HUP, a
 * shell may ignore INT) would never reach the signalfd, and an ignored
 * disposition survives exec into every service program.  So all go back
 * to the default but SIGPIPE, which the monitor ignores itself and each
 * child resets; then the ones the loop handles are blocked and read from
 * a signalfd.
 */
static int
signals_block(void)
{
	sigset_t		 set;
	struct sigaction	 sa, old;
	int			 sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGPIPE && sigaction(sig, NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			(void)sigaction(sig, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/*
 * Run the monitor on a loaded configuration whose listeners are already
 * open.  Returns only to exit the daemon, with the exit code.
 */
int
monitor_run(struct portmuxd *pmx, struct listener *ls, size_t nls)
{
	struct monitor	 mon;
	struct rlimit	 rl;
	struct child	*c;
	char		 err[512];

	memset(&mon, 0, sizeof(mon));
	mon.pmx = pmx;
	mon.conf = pmx->conf;
	mon.generation = 1;
	mon.ls = ls;
	mon.nls = nls;
	TAILQ_INIT(&mon.engines);
	TAILQ_INIT(&mon.children);
	mon.orig_nofile = pmx->orig_nofile;
	if ((mon.sigfd = signals_block()) == -1)
		fatal("signalfd");
	/*
	 * A session keyring of our own, empty: the one inherited from the
	 * login that started us may hold its keys, and every service would
	 * possess them, whatever user it runs as.
	 */
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) == -1 &&
	    errno != ENOSYS)
		log_warn("action=warn msg=\"a session keyring of its own\"");
	mon.conn_ids = mmap(NULL, sizeof(*mon.conn_ids), PROT_READ |
	    PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mon.conn_ids == MAP_FAILED)
		fatal("mmap");
	*mon.conn_ids = 0;
	if (srctab_init(&mon.src, SRCTAB_SIZE, true) == -1)
		fatal("source table");
	if (stats_init(&mon.stats) == -1)
		fatal("counters");
	mon.stats.proc->generation = mon.generation;
	stats_names(&mon, mon.conf);
	if (getrandom(&mon.src.seed, sizeof(mon.src.seed), 0) !=
	    (ssize_t)sizeof(mon.src.seed))
		mon.src.seed = mono_ms() ^ (uint64_t)getpid() << 32;
	if (ban_init(&mon.bans, mon.conf->ban_max, mon.src.seed) == -1)
		fatal("ban table");
	if (mongate_start(&mon.gate, mon.conf, err, sizeof(err)) == -1)
		fatalc(EX_OSERR, "firewall = nftables: %s", err);
	if (engine_start(&mon, NULL, false) == -1) {
		mongate_stop(&mon.gate);
		fatal("cannot start the engine");
	}
	(void)getrlimit(RLIMIT_NOFILE, &rl);
	log_info("action=start pid=%ld engine=%ld user=%s services=%zu "
	    "nofile=%llu passed=%zu", (long)getpid(), (long)mon.current->pid,
	    mon.conf->user, mon.conf->nservices,
	    (unsigned long long)rl.rlim_cur,
	    pmx->passed != NULL ? pmx->passed->n : 0);
	if (pmx->ready_fd != -1) {
		(void)write(pmx->ready_fd, "", 1);
		close(pmx->ready_fd);
		pmx->ready_fd = -1;
		log_tee(-1);	/* started: the caller's stderr is let go */
	}
	mon_loop(&mon);
	/* Only a stop gets here.  Running children are left running. */
	while ((c = TAILQ_FIRST(&mon.children)) != NULL) {
		TAILQ_REMOVE(&mon.children, c, entry);
		child_free(c);
	}
	listen_close_all(mon.ls, mon.nls);
	free(mon.ls);
	close(mon.sigfd);
	mongate_stop(&mon.gate);
	ban_clear(&mon.bans);
	srctab_clear(&mon.src);
	stats_clear(&mon.stats);
	log_debug("action=stop msg=\"monitor exits\"");
	return 0;
}

static uint64_t
next_deadline(struct monitor *mon)
{
	struct eproc	*e;
	uint64_t	 t = mon->restart_at;

	TAILQ_FOREACH(e, &mon->engines, entry)
		if (e->kill_at != 0 && (t == 0 || e->kill_at < t))
			t = e->kill_at;
	/* Their members need not be our children: no SIGCHLD tells. */
	if (mon->nstop_pgs > 0) {
		uint64_t	 poll_at = mono_ms() + STOP_POLL_MS;

		if (t == 0 || poll_at < t)
			t = poll_at;
	}
	return t;
}

static void
mon_timers(struct monitor *mon, uint64_t now)
{
	struct eproc	*e;

	TAILQ_FOREACH(e, &mon->engines, entry) {
		if (e->kill_at != 0 && now >= e->kill_at) {
			e->kill_at = 0;
			eproc_kill(mon, e, "grace period over");
		}
	}
	/*
	 * A reload may have started the engine in the meantime: a second
	 * one for the same generation would be orphaned, never drained, and
	 * keep a configuration that its sibling frees.
	 */
	if (mon->restart_at != 0 && mon->current != NULL)
		mon->restart_at = 0;
	if (mon->restart_at != 0 && now >= mon->restart_at &&
	    !mon->stopping) {
		mon->restart_at = 0;
		if (engine_start(mon, "restart", true) == -1) {
			log_warn("action=warn msg=\"engine restart failed\"");
			mon->restart_at = now + 1000;
		}
	}
	stop_groups_timer(mon, now);
}

static void
mon_loop(struct monitor *mon)
{
	struct pollfd	*pfd = NULL;
	struct eproc	**ep = NULL, *e, *next;
	size_t		 n, i, cap = 0, want;
	uint64_t	 now, dl;
	int		 timeout, r;

	for (;;) {
		if (mon->stopping && TAILQ_EMPTY(&mon->engines) &&
		    stop_groups_left(mon) == 0)
			break;
		/*
		 * Every engine, however many reloads left draining: one the
		 * array had no room for would never be read.
		 */
		want = 1;
		TAILQ_FOREACH(e, &mon->engines, entry)
			want++;
		if (want > cap && poll_grow(&pfd, &ep, &cap, want) == -1)
			fatal("poll array of %zu engines", want - 1);
		n = 0;
		pfd[n].fd = mon->sigfd;
		pfd[n].events = POLLIN;
		ep[n++] = NULL;
		TAILQ_FOREACH(e, &mon->engines, entry) {
			if (e->fd == -1)
				continue;
			pfd[n].fd = e->fd;
			pfd[n].events = POLLIN | (e->q.queued ? POLLOUT : 0);
			ep[n++] = e;
		}
		now = mono_ms();
		dl = next_deadline(mon);
		timeout = dl == 0 ? -1 : dl <= now ? 0 : (int)(dl - now);
		r = poll(pfd, n, timeout);
		if (r == -1 && errno != EINTR)
			fatal("poll");
		if (r > 0 && (pfd[0].revents & POLLIN))
			mon_signal(mon);
		for (i = 1; r > 0 && i < n; i++) {
			e = ep[i];
			/* A signal handled above may have reaped it. */
			TAILQ_FOREACH(next, &mon->engines, entry)
				if (next == e)
					break;
			if (next == NULL || e->fd == -1)
				continue;
			if (e->fd != -1 && (pfd[i].revents & POLLOUT) &&
			    msgq_flush(&e->q, e->fd) == -1)
				eproc_kill(mon, e, "channel write failed");
			if (e->fd == -1 || !(pfd[i].revents & (POLLIN |
			    POLLHUP | POLLERR)))
				continue;
			mon_read(mon, e);
			/*
			 * Reap after every batch of requests, whether SIGCHLD
			 * was read or not: a busy stream of spawns must not
			 * leave exited children holding their slots.  One
			 * WNOHANG call; it may free e (an engine that exited).
			 */
			mon_reap(mon);
		}
		mon_timers(mon, mono_ms());
	}
	free(pfd);
	free(ep);
}

static int
poll_grow(struct pollfd **pfd, struct eproc ***ep, size_t *cap, size_t want)
{
	struct pollfd	*np;
	struct eproc	**ne;
	size_t		 n = *cap == 0 ? 8 : *cap;

	while (n < want)
		n *= 2;
	if ((np = reallocarray(*pfd, n, sizeof(*np))) == NULL)
		return -1;
	*pfd = np;
	if ((ne = reallocarray(*ep, n, sizeof(*ne))) == NULL)
		return -1;
	*ep = ne;
	*cap = n;
	return 0;
}

static void
mon_signal(struct monitor *mon)
{
	struct signalfd_siginfo	 si;
	ssize_t			 n;

	for (;;) {
		n = read(mon->sigfd, &si, sizeof(si));
		if (n == -1 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(si))
			return;
		switch (si.ssi_signo) {
		case SIGCHLD:
			mon_reap(mon);
			break;
		case SIGHUP:
			mon_ctl(mon, NULL, 0, mon_reload_run);
			break;
		case SIGTERM:
		case SIGINT:
			mon_stop(mon);
			break;
		case SIGUSR1:
			mon_dump(mon);
			break;
		case SIGUSR2:
			mon_ctl(mon, NULL, 0, mon_reopen);
			break;
		}
	}
}

/* Entries for the counters of conf's services, before its engine. */
static void
stats_names(struct monitor *mon, const struct conf *conf)
{
	size_t	 i;

	for (i = 0; i < conf->nservices; i++)
		if (stats_claim(&mon->stats, conf->services[i].name) == -1)
			log_warnx("service=%s action=warn msg=\"no room for "
			    "its counters: more than %d services since the "
			    "start\"", conf->services[i].name,
			    STATS_SERVICES);
}

/*
 * Fork a new engine for the current generation.  The child inherits,
 * through fork, the configuration, the listeners and the table of live
 * children (their stderr pipes included): nothing needs serialising.
 */
static int
engine_start(struct monitor *mon, const char *reason, bool fresh)
{
	struct eproc		*e, *o;
	struct engine_init	 ei;
	int			 sp[2], tp[2], sfd;
	pid_t			 pid;

	/*
	 * The packet socket of this generation.  Without it the first
	 * engine does not start; a later one runs blind to knocks, which
	 * then never open anything, and says so.
	 */
	if (sniff_open(mon->conf, &sfd) == -1) {
		if (mon->current == NULL) {
			log_warn("action=error msg=\"packet socket (knock, "
			    "scan_detect = syn)\"");
			return -1;
		}
		log_warn("action=warn msg=\"packet socket (knock, scan_detect "
		    "= syn): knocks and SYN scans go unseen\"");
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		goto fail;
	/* The new engine starts from the bans still running. */
	(void)ban_expire(&mon->bans, wall_ms(), NULL, NULL);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0, sp) == -1)
		goto fail;
	if (pipe2(tp, O_CLOEXEC | O_NONBLOCK) == -1) {
		close(sp[0]);
		close(sp[1]);
		goto fail;
	}
	if ((pid = fork()) == -1) {
		close(sp[0]);
		close(sp[1]);
		close(tp[0]);
		close(tp[1]);
		goto fail;
	}
	if (pid == 0) {
		/* The engine keeps none of the monitor's own descriptors. */
		close(sp[0]);
		close(tp[0]);
		close(mon->sigfd);
		if (mon->pmx->ready_fd != -1)
			close(mon->pmx->ready_fd);
		if (mon->pmx->notify != NULL)
			sdnotify_close(mon->pmx->notify);
		log_tee(-1);	/* the caller's stderr stays with the monitor */
		/* Nor the firewall's netlink socket, opened as root. */
		if (nft_fd(mon->gate.nft) != -1)
			close(nft_fd(mon->gate.nft));
		TAILQ_FOREACH(o, &mon->engines, entry) {
			if (o->fd != -1)
				close(o->fd);
			if (o->trap_fd != -1)
				close(o->trap_fd);
		}
		memset(&ei, 0, sizeof(ei));
		ei.conf = mon->conf;
		ei.generation = mon->generation;
		ei.ls = mon->ls;
		ei.nls = mon->nls;
		ei.chan = sp[1];
		ei.children = &mon->children;
		ei.conn_ids = mon->conn_ids;
		ei.src = &mon->src;
		ei.stats = &mon->stats;
		ei.bans = &mon->bans;
		ei.fresh = fresh;
		ei.debug = mon->pmx->debug;
		ei.sniff_fd = sfd;
		ei.trap_fd = tp[1];
		ei.knocks = mongate_windows(&mon->gate, &ei.nknocks);
		_exit(mon->pmx->engine != NULL ? mon->pmx->engine(&ei) :
		    engine_main(&ei));
	}
	close(sp[1]);
	close(tp[1]);
	if (sfd != -1)
		close(sfd);
	e->pid = pid;
	e->fd = sp[0];
	e->trap_fd = tp[0];
	msgq_init(&e->q);
	e->conf = mon->conf;
	e->generation = mon->generation;
	TAILQ_INSERT_TAIL(&mon->engines, e, entry);
	mon->current = e;
	if (fresh)
		stats_add(&mon->stats.proc->restarts, 1);
	if (reason != NULL)
		log_info("action=start pid=%ld engine=%ld user=%s services=%zu "
		    "reason=%s", (long)getpid(), (long)pid, mon->conf->user,
		    mon->conf->nservices, reason);
	return 0;
fail:
	free(e);
	if (sfd != -1)
		close(sfd);
	return -1;
}

static void
eproc_send(struct eproc *e, uint32_t type, uint64_t id, const void *p,
    size_t len, int fd)
{
	if (e->fd == -1) {
		if (fd != -1)
			close(fd);
		return;
	}
	if (e->q.queued >= QUEUE_MAX) {
		if (fd != -1)
			close(fd);
		eproc_kill(NULL, e, "it does not read its channel");
		return;
	}
	if (msgq_add(&e->q, type, id, p, len, fd) == -1) {
		log_warn("action=warn msg=\"queueing a message to engine %ld\"",
		    (long)e->pid);
		return;
	}
	/* A full channel is retried when poll() says POLLOUT. */
	(void)msgq_flush(&e->q, e->fd);
}

static void
eproc_kill(struct monitor *mon __unused, struct eproc *e, const char *why)
{
	log_warnx("action=warn msg=\"killing engine %ld: %s\"", (long)e->pid,
	    why);
	(void)kill(e->pid, SIGKILL);
	if (e->fd != -1) {
		close(e->fd);
		e->fd = -1;
	}
	msgq_clear(&e->q);
}

/*
 * Killed by SIGSYS: the sandbox said which call on the trap pipe, before
 * it died (sandbox.c); logged even for an engine that was on its way out.
 */
static void
engine_trapped(struct eproc *e)
{
	struct sandbox_trap	 t;
	char			 name[64];

	if (read(e->trap_fd, &t, sizeof(t)) != (ssize_t)sizeof(t)) {
		log_warnx("action=warn msg=\"engine %ld killed by SIGSYS, "
		    "no system call reported\"", (long)e->pid);
		return;
	}
	log_warnx("action=warn msg=\"engine %ld killed by its sandbox: "
	    "forbidden system call\" syscall=%ld name=%s", (long)e->pid,
	    (long)t.nr, sandbox_syscall_name(&t, name, sizeof(name)));
}

/* The engine process exited (reaped with status st). */
static void
engine_gone(struct monitor *mon, struct eproc *e, int st)
{
	uint64_t	 now = mono_ms();
	bool		 was_current = e == mon->current;
	bool		 trapped = WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
	size_t		 i, recent = 0;

	if (e->fd != -1)
		close(e->fd);
	if (trapped)
		engine_trapped(e);
	close(e->trap_fd);
	msgq_clear(&e->q);
	TAILQ_REMOVE(&mon->engines, e, entry);
	if (e->own_conf)
		conf_free(e->conf);
	if (was_current)
		mon->current = NULL;
	if (!was_current || mon->stopping) {
		log_debug("action=stop engine=%ld status=%d", (long)e->pid, st);
		free(e);
		return;
	}
	if (trapped)
		;	/* said above, with the call */
	else if (WIFSIGNALED(st))
		log_warnx("action=warn msg=\"engine %ld killed by signal %d\"",
		    (long)e->pid, WTERMSIG(st));
	else
		log_warnx("action=warn msg=\"engine %ld exited with status "
		    "%d\"", (long)e->pid, WEXITSTATUS(st));
	free(e);

	for (i = 0; i < mon->nrestarts; i++)
		if (now - mon->restarts[i] < RESTART_WINDOW)
			recent++;
	if (recent >= RESTART_MAX) {
		log_warnx("action=warn msg=\"engine died %d times within a "
		    "minute, giving up\"", RESTART_MAX);
		exit(EX_OSERR);
	}
	memmove(mon->restarts + 1, mon->restarts,
	    (RESTART_MAX - 1) * sizeof(mon->restarts[0]));
	mon->restarts[0] = now;
	if (mon->nrestarts < RESTART_MAX)
		mon->nrestarts++;
	if (engine_start(mon, "restart", true) == -1) {
		log_warn("action=warn msg=\"engine restart failed\"");
		mon->restart_at = now + 1000;
	}
}

static void
report_exit(struct monitor *mon, struct child *c, int st)
{
	struct msg_exit	 me;

	memset(&me, 0, sizeof(me));
	me.pid = c->pid;
	me.status = st;
	me.duration_ms = mono_ms() - c->start_ms;
	(void)snprintf(me.service, sizeof(me.service), "%s", c->service);
	if (mon->current != NULL && mon->current->fd != -1 && !mon->stopping)
		eproc_send(mon->current, MSG_EXIT, c->conn, &me, sizeof(me),
		    -1);
	else
		/* No engine to tell: log it here so nothing is lost. */
		log_exit(c->conn, c->service, (long)c->pid, st,
		    me.duration_ms, "");
}

static void
mon_reap(struct monitor *mon)
{
	struct eproc	*e;
	struct child	*c;
	pid_t		 pid;
	int		 st;

	for (;;) {
		pid = waitpid(-1, &st, WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		TAILQ_FOREACH(e, &mon->engines, entry)
			if (e->pid == pid)
				break;
		if (e != NULL) {
			engine_gone(mon, e, st);
			continue;
		}
		TAILQ_FOREACH(c, &mon->children, entry)
			if (c->pid == pid)
				break;
		if (c == NULL)
			continue;
		TAILQ_REMOVE(&mon->children, c, entry);
		mon->nchildren--;
		report_exit(mon, c, st);
		child_free(c);
	}
}

/*
 * Read the waiting messages of one engine, a bounded batch at a time:
 * under a steady stream of spawn requests the loop must still get back
 * to poll() and reap the children that exited, or their slots stay
 * taken.
 */
static void
mon_read(struct monitor *mon, struct eproc *e)
{
	struct msg_hdr	 hdr;
	unsigned char	 buf[MSG_MAXPAYLOAD];
	int		 fd, r, n;

	for (n = 0; e->fd != -1 && n < MON_BATCH; n++) {
		r = msg_recv(e->fd, &hdr, buf, sizeof(buf), &fd);
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r == -1 && errno == EMFILE) {
			/* Out of descriptors: refuse that one connection. */
			if (hdr.type == MSG_SPAWN)
				spawn_refuse(e, hdr.id, SPAWN_FAIL_OVERLOAD,
				    EMFILE);
			continue;
		}
		if (r == -1 && errno == EPROTO) {
			eproc_kill(mon, e, "malformed message");
			return;
		}
		if (r <= 0) {
			/* EOF: it is exiting; SIGCHLD does the rest. */
			close(e->fd);
			e->fd = -1;
			msgq_clear(&e->q);
			return;
		}
		switch (hdr.type) {
		case MSG_SPAWN:
			mon_spawn(mon, e, &hdr, buf, fd);
			break;
		case MSG_BAN_NEW:
			mon_ban(mon, e, &hdr, buf, fd);
			break;
		case MSG_KNOCK_NEW:
			mon_knock(mon, e, &hdr, buf, fd);
			break;
		case MSG_CTL_RELOAD:
		case MSG_CTL_REOPEN:
			if (!msg_bare(mon, e, &hdr, fd, "bad control message"))
				return;
			mon_ctl(mon, e, hdr.id, hdr.type == MSG_CTL_RELOAD ?
			    mon_reload_run : mon_reopen);
			break;
		case MSG_CTL_UNBAN:
			mon_unban(mon, e, &hdr, buf, fd);
			break;
		case MSG_SYSLOG:
			if (!msg_bare(mon, e, &hdr, fd, "bad syslog message"))
				return;
			mon_syslog(e);
			break;
		case MSG_READY:
			if (!msg_bare(mon, e, &hdr, fd, "bad ready message"))
				return;
			if (e == mon->current && !e->ready) {
				e->ready = true;
				mon_tell(mon, "READY=1", "running");
			}
			break;
		default:
			if (fd != -1)
				close(fd);
			eproc_kill(mon, e, "unknown message type");
			return;
		}
	}
}

/*
 * A message that must carry neither payload nor descriptor: true if so;
 * else the engine is killed for it, with any descriptor closed.
 */
static bool
msg_bare(struct monitor *mon, struct eproc *e, const struct msg_hdr *hdr,
    int fd, const char *why)
{
	if (hdr->len == 0 && fd == -1)
		return true;
	if (fd != -1)
		close(fd);
	eproc_kill(mon, e, why);
	return false;
}

/*
 * The engine lost its syslog socket and cannot make one in its sandbox.
 * At most one a second, whatever it asks: each is a connect to syslog.
 * If syslog is still away, no answer; the engine asks again later.
 */
static void
mon_syslog(struct eproc *e)
{
	uint64_t	 now = mono_ms();
	int		 fd;

	if (e->syslog_at != 0 && now - e->syslog_at < 1000)
		return;
	e->syslog_at = now;
	if ((fd = log_syslog_connect()) == -1) {
		log_debug("action=syslog engine=%ld msg=\"syslog is still "
		    "away\" error=\"%s\"", (long)e->pid, strerror(errno));
		return;
	}
	eproc_send(e, MSG_SYSLOGFD, 0, NULL, 0, fd);
}

/*
 * A ban key the engine's generation could have made: a group of a
 * prefix its services (or the scan detector) use, no host bits, outside
 * never_ban.  An engine that sends another one, say 0.0.0.0/0, would
 * lock everyone out through the monitor: it is killed instead.
 */
static bool
ban_key_allowed(const struct conf *conf, const struct msg_ban *mb)
{
	const struct srckey	*k = &mb->key;
	bool			 v4 = k->family == AF_INET;
	unsigned int		 p;
	size_t			 i;

	if (!ban_key_canonical(k) || never_ban(conf, k))
		return false;
	if (mb->reason == BAN_SCAN || mb->reason == BAN_SYNSCAN)
		return k->prefix == (v4 ? SCAN_PREFIX4 : SCAN_PREFIX6);
	for (i = 0; i < conf->nservices; i++) {
		p = v4 ? conf->services[i].source_prefix4 :
		    conf->services[i].source_prefix6;
		if (p > (v4 ? 32U : 128U))
			p = v4 ? 32 : 128;
		if (k->prefix == p)
			return true;
	}
	return false;
}

/*
 * An engine banned a source group: keep it, so that bans outlive the
 * engine, and tell the current engine if another one made it.
 */
static void
mon_ban(struct monitor *mon, struct eproc *e, struct msg_hdr *hdr,
    const void *buf, int fd)
{
	struct msg_ban	 mb;
	uint64_t	 now = wall_ms();

	if (hdr->len != sizeof(mb) || fd != -1) {
		if (fd != -1)
			close(fd);
		eproc_kill(mon, e, "bad ban message");
		return;
	}
	memcpy(&mb, buf, sizeof(mb));
	if ((mb.key.family != AF_INET && mb.key.family != AF_INET6) ||
	    mb.key.prefix > (mb.key.family == AF_INET ? 32 : 128) ||
	    mb.reason < BAN_RATE || mb.reason > BAN_SYNSCAN ||
	    mb.until > now + (uint64_t)(mb.reason == BAN_SYNSCAN ?
	    e->conf->scan_ban_time_ms : e->conf->ban_time_ms) + 60000 ||
	    !ban_key_allowed(e->conf, &mb)) {
		eproc_kill(mon, e, "bad ban message");
		return;
	}
	if (ban_add(&mon->bans, &mb.key, mb.until, mb.reason, now) == -1)
		return;		/* full: the engine logged it */
	mongate_ban(&mon->gate, &mb.key, mb.until);
	if (mon->current != NULL && mon->current != e)
		eproc_send(mon->current, MSG_BAN, 0, &mb, sizeof(mb), -1);
}

/*
 * portmuxctl unban through engine e: lift every ban the prefix
 * overlaps, here, in the firewall and in every engine, and say how many.
 */
static void
mon_unban(struct monitor *mon, struct eproc *e, struct msg_hdr *hdr,
    const void *buf, int fd)
{
	struct msg_unban	 mu;
	struct msg_ctl_done	 md;
	struct eproc		*x;
	size_t			 n;

	if (hdr->len != sizeof(mu) || fd != -1) {
		if (fd != -1)
			close(fd);
		eproc_kill(mon, e, "bad unban message");
		return;
	}
	memcpy(&mu, buf, sizeof(mu));
	if ((mu.key.family != AF_INET && mu.key.family != AF_INET6) ||
	    mu.key.prefix > (mu.key.family == AF_INET ? 32 : 128)) {
		eproc_kill(mon, e, "bad unban message");
		return;
	}
	n = ban_remove_overlapping(&mon->bans, &mu.key, NULL, NULL);
	if (n > 0)
		mongate_reload(&mon->gate, mon->conf, mon->conf, &mon->bans);
	TAILQ_FOREACH(x, &mon->engines, entry)
		if (x->fd != -1)
			eproc_send(x, MSG_UNBAN, 0, &mu, sizeof(mu), -1);
	memset(&md, 0, sizeof(md));
	md.ok = 1;
	md.count = (uint32_t)n;
	md.generation = mon->generation;
	eproc_send(e, MSG_CTL_DONE, hdr->id, &md, sizeof(md), -1);
}

/* A knock opened a service: keep the window, open its gates. */
static void
mon_knock(struct monitor *mon, struct eproc *e, struct msg_hdr *hdr,
    const void *buf, int fd)
{
	struct msg_knock	 mk;
	struct knockwin		 kw;

	if (hdr->len != sizeof(mk) || fd != -1) {
		if (fd != -1)
			close(fd);
		eproc_kill(mon, e, "bad knock message");
		return;
	}
	memcpy(&mk, buf, sizeof(mk));
	if (mongate_knock(&mon->gate, e->conf, e->generation, &mk) == -1) {
		eproc_kill(mon, e, "bad knock message");
		return;
	}
	/*
	 * The old engine of a reload knocked after the new one was
	 * forked with the windows known then: tell the new one.
	 */
	if (mon->current != NULL && mon->current != e) {
		memset(&kw, 0, sizeof(kw));
		(void)snprintf(kw.service, sizeof(kw.service), "%s",
		    e->conf->services[mk.service].name);
		kw.key = mk.key;
		kw.until = mk.until;
		eproc_send(mon->current, MSG_KNOCK, 0, &kw, sizeof(kw), -1);
	}
}

static void
spawn_refuse(struct eproc *e, uint64_t id, int reason, int error)
{
	struct msg_spawn_fail	 f;

	memset(&f, 0, sizeof(f));
	f.reason = reason;
	f.error = error;
	eproc_send(e, MSG_SPAWN_FAIL, id, &f, sizeof(f), -1);
}

/* What the monitor learnt about the socket of a spawn request. */
struct sockinfo {
	struct sockaddr_storage	 peer;
	struct sockaddr_storage	 local;
	struct ucred		 cred;
	bool			 has_peer;
	bool			 has_local;
	bool			 has_cred;
};

static bool
sock_is(int fd, int domain, int type)
{
	struct stat	 st;
	int		 v;
	socklen_t	 sl = sizeof(v);

	if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode))
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &sl) == -1 ||
	    (domain == AF_INET ? v != AF_INET && v != AF_INET6 : v != domain))
		return false;
	sl = sizeof(v);
	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &sl) == 0 && v == type;
}

static uint16_t
local_port(const struct sockinfo *si)
{
	char		 ip[INET6_ADDRSTRLEN];
	uint16_t	 port;

	if (sa_ntop((const struct sockaddr *)&si->local, ip, sizeof(ip),
	    &port) == -1)
		return 0;
	return port;
}

/* Is port the port of a tcpmux builtin of conf? */
static bool
tcpmux_port(const struct conf *conf, uint16_t port)
{
	size_t	 i;

	for (i = 0; i < conf->nservices; i++)
		if (conf->services[i].builtin == BUILTIN_TCPMUX &&
		    conf->services[i].port == port)
			return true;
	return false;
}

/*
 * A unix connection: SO_PEERCRED is only the client's on the accepted
 * end.  On the client end of a connection it is the listener's owner,
 * the monitor itself: an engine that connected to the listener and
 * passed its own end would have the service run for "uid 0".  So the
 * socket must be an accepted one of the service's own listener (named
 * by its path, not listening itself), and its client not the engine.
 */
static int
check_unix(const struct eproc *e, const struct service *svc, int fd,
    struct sockinfo *si)
{
	struct sockaddr_un	 un;
	socklen_t		 len = sizeof(un);
	int			 v;
	socklen_t		 vl = sizeof(v);
	size_t			 plen = strlen(svc->path);

	errno = EPERM;
	if (!sock_is(fd, AF_UNIX, SOCK_STREAM))
		return -1;
	memset(&un, 0, sizeof(un));
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == -1 ||
	    v != 0 || getsockname(fd, (struct sockaddr *)&un, &len) == -1 ||
	    plen >= sizeof(un.sun_path) ||
	    len < offsetof(struct sockaddr_un, sun_path) + plen ||
	    memcmp(un.sun_path, svc->path, plen) != 0 ||
	    un.sun_path[plen] != '\0') {
		errno = EPERM;
		return -1;
	}
	len = sizeof(si->cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &si->cred, &len) == -1)
		return -1;
	if (si->cred.pid == e->pid) {
		errno = EPERM;
		return -1;
	}
	si->has_cred = true;
	return 0;
}

/*
 * Check an accepted connection the engine passed: a connected stream
 * socket of the service's kind, whose local port is the service's (or
 * tcpmux's).  The addresses come from the kernel, not from the engine.
 */
/*
 * A connection whose client a PROXY header named: the engine says who,
 * but only for a service that takes headers, on a connection that comes
 * from one of its trusted proxies, so an engine can never make a
 * program see an address no trusted proxy could have sent.
 */
static int
check_proxied(const struct service *svc, const struct msg_spawn *ms,
    struct sockinfo *si)
{
	if (svc->proxy_versions == 0 || !acl_match(&svc->trusted_proxies,
	    (const struct sockaddr *)&si->peer))
		return -1;
	if (!((ms->peer.ss_family == AF_INET && ms->peer_len ==
	    sizeof(struct sockaddr_in)) || (ms->peer.ss_family == AF_INET6 &&
	    ms->peer_len == sizeof(struct sockaddr_in6))))
		return -1;
	memcpy(&si->peer, &ms->peer, ms->peer_len);
	return 0;
}

static int
check_conn(const struct eproc *e, const struct service *svc, int fd,
    const struct msg_spawn *ms, struct sockinfo *si)
{
	const struct conf	*conf = e->conf;
	uint32_t		 flags = ms->flags;
	socklen_t		 len;

	if (svc->proto == PROTO_UNIX)
		return check_unix(e, svc, fd, si);
	if (svc->proto != PROTO_TCP || !sock_is(fd, AF_INET, SOCK_STREAM))
		return -1;
	len = sizeof(si->peer);
	if (getpeername(fd, (struct sockaddr *)&si->peer, &len) == -1)
		return -1;
	len = sizeof(si->local);
	if (getsockname(fd, (struct sockaddr *)&si->local, &len) == -1)
		return -1;
	si->has_peer = si->has_local = true;
	if (flags & SPAWN_TCPMUX)
		return svc->tcpmux && tcpmux_port(conf, local_port(si)) ? 0 :
		    -1;
	if (local_port(si) != svc->port)
		return -1;
	if (flags & SPAWN_PROXY)
		return check_proxied(svc, ms, si);
	return 0;
}

/*
 * A wait service: the engine passed a duplicate of a listener.  It must
 * be the very socket the monitor opened for that service (same inode);
 * the child gets the monitor's own descriptor.  Returns it, or -1.
 */
static int
check_wait(struct monitor *mon, const struct msg_spawn *ms, int fd,
    struct sockinfo *si)
{
	struct stat	 a, b;
	socklen_t	 len;
	size_t		 i;

	if (fstat(fd, &a) == -1 || !S_ISSOCK(a.st_mode))
		return -1;
	for (i = 0; i < mon->nls; i++) {
		if (mon->ls[i].service != ms->service || mon->ls[i].fd == -1 ||
		    fstat(mon->ls[i].fd, &b) == -1 || a.st_ino != b.st_ino ||
		    a.st_dev != b.st_dev)
			continue;
		len = sizeof(si->local);
		if (mon->ls[i].proto != PROTO_UNIX && getsockname(
		    mon->ls[i].fd, (struct sockaddr *)&si->local, &len) == 0)
			si->has_local = true;
		/* The peeked source of a UDP wake-up: checked, not trusted. */
		if (mon->ls[i].proto == PROTO_UDP && ((ms->peer.ss_family ==
		    AF_INET && ms->peer_len == sizeof(struct sockaddr_in)) ||
		    (ms->peer.ss_family == AF_INET6 && ms->peer_len ==
		    sizeof(struct sockaddr_in6)))) {
			memcpy(&si->peer, &ms->peer, ms->peer_len);
			si->has_peer = true;
		}
		return mon->ls[i].fd;
	}
	return -1;
}

static size_t
service_children(struct monitor *mon, const char *name)
{
	struct child	*c;
	size_t		 n = 0;

	TAILQ_FOREACH(c, &mon->children, entry)
		if (strcmp(c->service, name) == 0)
			n++;
	return n;
}

static void
spawn_reply(struct monitor *mon, struct eproc *e, uint64_t id,
    struct child *c)
{
	struct msg_spawned	 ok;
	struct msg_adopt	 ad;
	int			 efd = -1;

	memset(&ok, 0, sizeof(ok));
	ok.pid = c->pid;
	ok.uid = (uint32_t)c->uid;
	if (c->stderr_fd != -1 && !e->draining &&
	    (efd = fcntl(c->stderr_fd, F_DUPFD_CLOEXEC, 3)) == -1)
		log_warn("conn=%llu service=%s action=warn msg=\"dup stderr\"",
		    (unsigned long long)c->conn, c->service);
	eproc_send(e, MSG_SPAWNED, id, &ok, sizeof(ok), efd);
	if (e->draining && mon->current != NULL && mon->current != e) {
		/* The new generation's engine watches it from now on. */
		memset(&ad, 0, sizeof(ad));
		ad.pid = c->pid;
		ad.listen_fd = -1;
		ad.key = c->key;
		memcpy(ad.service, c->service, sizeof(ad.service));
		efd = c->stderr_fd == -1 ? -1 :
		    fcntl(c->stderr_fd, F_DUPFD_CLOEXEC, 3);
		eproc_send(mon->current, MSG_ADOPT, c->conn, &ad, sizeof(ad),
		    efd);
	}
}

static void
mon_spawn(struct monitor *mon, struct eproc *e, struct msg_hdr *hdr,
    const void *buf, int fd)
{
	struct msg_spawn	 ms;
	struct msg_spawn_fail	 fail;
	struct spawn_req	 req;
	struct sockinfo		 si;
	const struct service	*svc, *cur = NULL;
	struct child		*c;
	struct stat		 st;
	uint64_t		 now;
	int			 sock;

	if (hdr->len != sizeof(ms) || fd == -1) {
		if (fd != -1)
			close(fd);
		eproc_kill(mon, e, "bad spawn request");
		return;
	}
	memcpy(&ms, buf, sizeof(ms));
	if (ms.generation != e->generation ||
	    ms.service >= e->conf->nservices ||
	    e->conf->services[ms.service].builtin != BUILTIN_NONE ||
	    (ms.flags & ~(SPAWN_WAIT | SPAWN_TCPMUX | SPAWN_PROXY)) != 0 ||
	    (ms.flags & SPAWN_PROXY && ms.flags & (SPAWN_WAIT | SPAWN_TCPMUX)) ||
	    ms.peer_len > sizeof(ms.peer) ||
	    !(ms.flags & SPAWN_WAIT) != !e->conf->services[ms.service].wait) {
		close(fd);
		eproc_kill(mon, e, "spawn request for an unknown service");
		return;
	}
	svc = &e->conf->services[ms.service];
	memset(&si, 0, sizeof(si));
	/*
	 * A draining engine finishes what it accepted before the reload
	 * (a tcpmux client that names its service late), but never starts
	 * the program of a service the reload removed or made a builtin,
	 * nor a wait program: the new engine owns the listener now.
	 */
	if (e != mon->current)
		cur = conf_service(mon->conf, svc->name);
	if (mon->stopping || (e != mon->current && (svc->wait ||
	    cur == NULL || cur->builtin != BUILTIN_NONE))) {
		close(fd);
		spawn_refuse(e, hdr->id, SPAWN_FAIL_ERROR, ESHUTDOWN);
		return;
	}
	if (e->q.fds >= QUEUE_FDS) {
		/* Its replies pile up unread: no more pipes held for it. */
		close(fd);
		now = mono_ms();
		if (now - e->stall_logged >= 1000) {
			e->stall_logged = now;
			log_warnx("service=%s action=warn msg=\"engine %ld "
			    "leaves %zu replies unread, spawns refused\"",
			    svc->name, (long)e->pid, e->q.queued);
		}
		spawn_refuse(e, hdr->id, SPAWN_FAIL_OVERLOAD, ENOBUFS);
		return;
	}
	sock = svc->wait ? check_wait(mon, &ms, fd, &si) :
	    check_conn(e, svc, fd, &ms, &si) == 0 ? fd : -1;
	if (sock == -1) {
		close(fd);
		spawn_refuse(e, hdr->id, SPAWN_FAIL_BADSRC, errno);
		return;
	}
	if (svc->instances != LIMIT_UNLIMITED &&
	    service_children(mon, svc->name) >= svc->instances) {
		close(fd);
		spawn_refuse(e, hdr->id, SPAWN_FAIL_INSTANCES, 0);
		return;
	}
	if (mon->conf->max_children != LIMIT_UNLIMITED &&
	    mon->nchildren >= mon->conf->max_children) {
		close(fd);
		spawn_refuse(e, hdr->id, SPAWN_FAIL_MAX_CHILDREN, 0);
		return;
	}
	memset(&req, 0, sizeof(req));
	req.sock = sock;
	req.listen_fd = svc->wait ? sock : -1;
	req.conn = hdr->id;
	req.as_root = e->conf->as_root;
	req.orig_nofile = mon->orig_nofile;
	req.envp = env_build(svc, si.has_peer ? (struct sockaddr *)&si.peer :
	    NULL, si.has_local ? (struct sockaddr *)&si.local : NULL,
	    si.has_cred ? &si.cred : NULL, hdr->id, environ);
	if (req.envp == NULL) {
		close(fd);
		spawn_refuse(e, hdr->id, SPAWN_FAIL_ERROR, errno);
		return;
	}
	if (spawn_child(svc, &req, &c, &fail) == -1) {
		env_free(req.envp);
		close(fd);
		eproc_send(e, MSG_SPAWN_FAIL, hdr->id, &fail, sizeof(fail), -1);
		return;
	}
	env_free(req.envp);
	close(fd);		/* the child has it (or the listener) now */
	if (c->wait && fstat(sock, &st) == 0)
		c->listen_ino = st.st_ino;
	/* Its group, so that a new engine can count it after a crash. */
	if (si.has_cred) {
		c->key.family = AF_UNIX;
		memcpy(c->key.addr, &si.cred.uid, sizeof(si.cred.uid));
	} else if (si.has_peer && !svc->wait)
		limit_group((struct sockaddr *)&si.peer, svc->source_prefix4,
		    svc->source_prefix6, &c->key);
	TAILQ_INSERT_TAIL(&mon->children, c, entry);
	mon->nchildren++;
	spawn_reply(mon, e, hdr->id, c);
}

/* ban_max changed: the running bans move to a table of the new size. */
static void
bans_resize(struct monitor *mon, size_t max)
{
	struct bantab	 nb;
	size_t		 i;

	if (ban_init(&nb, max, mon->bans.seed) == -1) {
		log_warn("action=warn msg=\"ban_max %zu: keeping %zu\"", max,
		    mon->bans.max);
		return;
	}
	for (i = 0; i < mon->bans.size; i++)
		if (mon->bans.v[i].used && ban_add(&nb, &mon->bans.v[i].key,
		    mon->bans.v[i].until, mon->bans.v[i].reason, wall_ms()) ==
		    -1)
			log_warnx("action=warn msg=\"ban_max lowered: a running "
			    "ban was dropped\"");
	ban_clear(&mon->bans);
	mon->bans = nb;
}

/*
 * After a reload: a wait program whose service is gone holds a listener
 * the monitor closed, and its descriptor number may now be a new
 * listener's.  The engines find a wait program's listener by that
 * number, so it must name the socket the program holds or nothing: a
 * new service would otherwise be taken for busy and never answer.
 */
static void
wait_listeners_check(struct monitor *mon)
{
	struct child	*c;
	struct stat	 st;
	size_t		 i;

	TAILQ_FOREACH(c, &mon->children, entry) {
		if (c->listen_fd == -1)
			continue;
		for (i = 0; i < mon->nls; i++)
			if (mon->ls[i].fd == c->listen_fd &&
			    fstat(mon->ls[i].fd, &st) == 0 &&
			    st.st_ino == c->listen_ino)
				break;
		if (i == mon->nls)
			c->listen_fd = -1;
	}
}

/*
 * A reload may move the log file (log_file); where the log goes (log)
 * is chosen at start, when the daemon leaves the terminal.
 */
static void
reload_log_file(struct monitor *mon, const struct conf *nconf)
{
	char	*p;

	if (mon->pmx->log_path == NULL || nconf->log_dest != LOG_TO_FILE) {
		if ((mon->pmx->log_path != NULL) !=
		    (nconf->log_dest == LOG_TO_FILE) && !mon->pmx->foreground)
			log_warnx("action=warn msg=\"a change of log takes "
			    "effect at the next start\"");
		return;
	}
	if (strcmp(nconf->log_file, mon->pmx->log_path) == 0)
		return;
	if ((p = strdup(nconf->log_file)) == NULL) {
		log_warn("action=warn msg=\"log_file: strdup\"");
		return;
	}
	free(mon->pmx->log_path);
	mon->pmx->log_path = p;
	(void)mon_reopen(mon);
}

/*
 * SIGHUP: all or nothing.  A new configuration that fails to load or to
 * bind leaves the running generation untouched.
 */
static int
mon_reload_run(struct monitor *mon)
{
	struct conf	*nconf;
	struct listener	*nls;
	size_t		 nn;
	struct eproc	*old;
	struct msg_stop	 ms;
	struct timespec	 ts;
	char		 state[64];

	if (mon->stopping)
		return -1;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	(void)snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
	mon_tell(mon, state, "reloading");
	if ((nconf = conf_load(mon->pmx->conf_path,
	    mon->pmx->load_flags)) == NULL) {
		log_warnx("action=warn msg=\"reload failed, keeping generation "
		    "%llu\"", (unsigned long long)mon->generation);
		mon_tell(mon, "READY=1", "reload failed, the previous "
		    "configuration runs");
		return -1;
	}
	if (listen_open_passed(nconf, mon->ls, mon->nls, mon->pmx->passed, &nls,
	    &nn) == -1) {
		log_warnx("action=warn msg=\"reload failed, keeping generation "
		    "%llu\"", (unsigned long long)mon->generation);
		mon_tell(mon, "READY=1", "reload failed, the previous "
		    "configuration runs");
		conf_free(nconf);
		return -1;
	}
	(void)sdlisten_unmatched(mon->pmx->passed, nls, nn, false);
	listen_close_all(mon->ls, mon->nls);
	free(mon->ls);
	mon->ls = nls;
	mon->nls = nn;
	wait_listeners_check(mon);

	old = mon->current;
	if (old != NULL)
		old->own_conf = true;	/* it keeps serving its generation */
	else
		conf_free(mon->conf);
	mon->conf = nconf;
	mon->pmx->conf = nconf;
	mon->generation++;
	stats_add(&mon->stats.proc->reloads, 1);
	stats_names(mon, nconf);
	__atomic_store_n(&mon->stats.proc->generation, mon->generation,
	    __ATOMIC_RELAXED);
	if (nconf->ban_max != mon->bans.max)
		bans_resize(mon, nconf->ban_max);
	mongate_reload(&mon->gate, old != NULL ? old->conf : nconf, nconf,
	    &mon->bans);
	if (!mon->pmx->debug)
		log_setlevel(nconf->log_level);
	reload_log_file(mon, nconf);
	if (engine_start(mon, NULL, false) == -1) {
		log_warn("action=warn msg=\"starting the engine of generation "
		    "%llu\"", (unsigned long long)mon->generation);
		mon->restart_at = mono_ms() + 1000;
		mon_tell(mon, "READY=1", "reloaded, the engine did not start: "
		    "retrying");
	} else
		mon->restart_at = 0;	/* a pending restart is done too */
	if (old != NULL) {
		old->draining = true;
		ms.reason = STOP_RELOAD;
		ms.grace_ms = nconf->reload_grace_ms;
		eproc_send(old, MSG_STOP, 0, &ms, sizeof(ms), -1);
		old->kill_at = mono_ms() + nconf->reload_grace_ms +
		    KILL_SLACK_MS;
	}
	log_info("action=reload generation=%llu services=%zu engine=%ld",
	    (unsigned long long)mon->generation, nconf->nservices,
	    mon->current != NULL ? (long)mon->current->pid : -1L);
	return 0;
}

/*
 * log = file: open the log file again (logrotate moved it away) and give
 * every engine the new one.  On a failure the old file stays in use.
 */
static int
mon_reopen(struct monitor *mon)
{
	const char	*path = mon->pmx->log_path;
	struct eproc	*e;
	int		 fd, d;

	if (path == NULL) {
		log_warnx("action=warn msg=\"reopen: the log is not a file "
		    "(log = file, without -F)\"");
		return -1;
	}
	if ((fd = log_file_open(path)) == -1) {
		log_warn("action=warn path=%s msg=\"cannot reopen the log "
		    "file, the old one stays in use\"", path);
		return -1;
	}
	log_flush();
	if (dup2(fd, STDERR_FILENO) == -1) {
		log_warn("action=warn path=%s msg=\"cannot reopen the log "
		    "file, the old one stays in use\"", path);
		close(fd);
		return -1;
	}
	TAILQ_FOREACH(e, &mon->engines, entry) {
		if (e->fd == -1)
			continue;
		if ((d = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1) {
			log_warn("action=warn msg=\"the reopened log file for "
			    "engine %ld\"", (long)e->pid);
			continue;
		}
		eproc_send(e, MSG_LOGFD, 0, NULL, 0, d);
	}
	close(fd);
	log_info("action=reopen path=%s", path);
	return 0;
}

/* A reload problem for the portmuxctl that asked (log_capture()). */
#define CTL_MAX_LINES	50
struct reload_req {
	struct eproc	*e;
	uint64_t	 id;
	unsigned int	 lines;
};

static void
reload_line(int pri __unused, const char *line, void *arg)
{
	struct reload_req	*rq = arg;
	struct msg_ctl_line	 ml;

	if (rq->lines++ >= CTL_MAX_LINES || rq->e->fd == -1)
		return;
	memset(&ml, 0, sizeof(ml));
	(void)snprintf(ml.text, sizeof(ml.text), "%s", line);
	eproc_send(rq->e, MSG_CTL_LINE, rq->id, &ml, sizeof(ml), -1);
}

/*
 * A reload or a reopen of the log file: asked by a signal, or by
 * portmuxctl through engine e (then id is its connection, told the
 * problems and the outcome).
 */
static void
mon_ctl(struct monitor *mon, struct eproc *e, uint64_t id,
    int (*fn)(struct monitor *))
{
	struct reload_req	 rq = { e, id, 0 };
	struct msg_ctl_done	 md;
	int			 rc;

	if (e != NULL)
		log_capture(reload_line, &rq);
	rc = fn(mon);
	log_capture(NULL, NULL);
	if (e == NULL || e->fd == -1)
		return;
	memset(&md, 0, sizeof(md));
	md.ok = rc == 0;
	md.generation = mon->generation;
	eproc_send(e, MSG_CTL_DONE, id, &md, sizeof(md), -1);
}

static void
mon_stop(struct monitor *mon)
{
	struct eproc	*e;
	struct msg_stop	 ms;

	if (mon->stopping)
		return;
	mon->stopping = true;
	mon->restart_at = 0;
	mon_tell(mon, "STOPPING=1", "stopping");
	log_info("action=stop pid=%ld grace_ms=%u", (long)getpid(),
	    mon->conf->stop_grace_ms);
	listen_close_all(mon->ls, mon->nls);
	ms.reason = STOP_SHUTDOWN;
	ms.grace_ms = mon->conf->stop_grace_ms;
	TAILQ_FOREACH(e, &mon->engines, entry) {
		eproc_send(e, MSG_STOP, 0, &ms, sizeof(ms), -1);
		e->kill_at = mono_ms() + mon->conf->stop_grace_ms +
		    KILL_SLACK_MS;
	}
	stop_wait_programs(mon);
}

/*
 * A wait program holds its service's listener: left running after a
 * stop, it keeps the port bound and the next start fails (EADDRINUSE)
 * for as long as it lingers.  So a stop sends TERM to the process group
 * of each (spawn gives every child a session of its own, so that group
 * is the program and what it forked), KILL after stop_grace to what is
 * left, and waits for the groups to be empty.  Other service programs
 * hold only their connection and are left running.
 */
static void
stop_wait_programs(struct monitor *mon)
{
	struct child	*c;
	size_t		 n = 0;

	TAILQ_FOREACH(c, &mon->children, entry)
		if (c->wait)
			n++;
	if (n == 0)
		return;
	if ((mon->stop_pgs = calloc(n, sizeof(*mon->stop_pgs))) == NULL) {
		log_warn("action=warn msg=\"cannot track %zu wait programs, "
		    "stopping them without waiting\"", n);
		n = 0;
	}
	TAILQ_FOREACH(c, &mon->children, entry) {
		if (!c->wait)
			continue;
		if (killpg(c->pid, SIGTERM) == -1 && errno != ESRCH) {
			log_conn(LOG_WARNING, c->conn, c->service, "action=warn "
			    "pid=%ld msg=\"cannot signal the wait program\" "
			    "error=\"%s\"", (long)c->pid, strerror(errno));
			continue;
		}
		log_conn(LOG_INFO, c->conn, c->service, "action=stop "
		    "pid=%ld signal=TERM msg=\"a wait program holds the "
		    "listener\"", (long)c->pid);
		if (mon->nstop_pgs < n)
			mon->stop_pgs[mon->nstop_pgs++] = c->pid;
	}
	mon->stop_kill_at = mono_ms() + mon->conf->stop_grace_ms;
}

/* Drops the groups with no process left; returns how many remain. */
static size_t
stop_groups_left(struct monitor *mon)
{
	size_t	 i, n = 0;

	for (i = 0; i < mon->nstop_pgs; i++)
		if (kill(-mon->stop_pgs[i], 0) == 0 || errno != ESRCH)
			mon->stop_pgs[n++] = mon->stop_pgs[i];
	mon->nstop_pgs = n;
	if (n == 0) {
		free(mon->stop_pgs);
		mon->stop_pgs = NULL;
	}
	return n;
}

static void
stop_groups_timer(struct monitor *mon, uint64_t now)
{
	size_t	 i;

	if (stop_groups_left(mon) == 0)
		return;
	if (mon->stop_kill_at != 0 && now >= mon->stop_kill_at) {
		mon->stop_kill_at = 0;
		mon->stop_giveup_at = now + KILL_SLACK_MS;
		for (i = 0; i < mon->nstop_pgs; i++) {
			log_info("action=stop pgid=%ld signal=KILL "
			    "msg=\"a wait program outlived stop_grace\"",
			    (long)mon->stop_pgs[i]);
			if (killpg(mon->stop_pgs[i], SIGKILL) == -1 &&
			    errno != ESRCH)
				log_warn("action=warn pgid=%ld msg=\"cannot "
				    "kill the wait program\"",
				    (long)mon->stop_pgs[i]);
		}
	} else if (mon->stop_giveup_at != 0 && now >= mon->stop_giveup_at) {
		for (i = 0; i < mon->nstop_pgs; i++)
			log_warnx("action=warn pgid=%ld msg=\"a wait program "
			    "survived KILL, its port may stay bound\"",
			    (long)mon->stop_pgs[i]);
		mon->nstop_pgs = 0;
		free(mon->stop_pgs);
		mon->stop_pgs = NULL;
	}
}

/*
 * Tell the service manager that started the daemon (Type=notify) a
 * state change, with what runs as STATUS=.  Nothing without one; a
 * message it did not take is logged, the daemon goes on.
 */
static void
mon_tell(struct monitor *mon, const char *state, const char *what)
{
	struct sdnotify	*n = mon->pmx->notify;

	if (n == NULL || n->fd == -1)
		return;
	if (sdnotify_send(n, "%s\nSTATUS=%s: generation %llu, %zu services, "
	    "engine %ld", state, what, (unsigned long long)mon->generation,
	    mon->conf->nservices, mon->current != NULL ?
	    (long)mon->current->pid : -1L) == -1)
		log_warn("action=warn msg=\"telling the service manager %s\"",
		    state);
}

static void
mon_dump(struct monitor *mon)
{
	struct eproc	*e;
	struct child	*c;

	log_info("action=dump generation=%llu engine=%ld children=%zu "
	    "listeners=%zu", (unsigned long long)mon->generation,
	    mon->current != NULL ? (long)mon->current->pid : -1L,
	    mon->nchildren, mon->nls);
	TAILQ_FOREACH(c, &mon->children, entry)
		log_conn(LOG_INFO, c->conn, c->service, "action=dump pid=%ld "
		    "uid=%lu age_ms=%llu", (long)c->pid, (unsigned long)c->uid,
		    (unsigned long long)(mono_ms() - c->start_ms));
	TAILQ_FOREACH(e, &mon->engines, entry)
		if (e == mon->current)
			eproc_send(e, MSG_DUMP, 0, NULL, 0, -1);
}
