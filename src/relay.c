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
 * TCP forwarding: a client of a redirect service, relayed to the first
 * target that accepts.  Each direction moves bytes with splice(2)
 * through a pipe, so they never enter user space; a pipe is taken from
 * a pool only while bytes are in flight, so an idle relay holds two
 * sockets and no pipe.  Where splice cannot be used (EINVAL) a direction
 * falls back to a buffer, taken the same way.  Either way at most
 * redirect_buffer bytes per direction are held: while they cannot be
 * written, the source is not read, and its sender feels the back
 * pressure through TCP.  A half-close is passed on (EOF from one side
 * becomes shutdown(SHUT_WR) on the other), and the relay ends when both
 * directions are done, when either side fails, or after timeout of
 * silence.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "engine.h"
#include "log.h"
#include "portmuxd.h"
#include "proxy.h"
#include "status.h"

#define POOL_MAX	256	/* empty pipes kept for later relays */
#define PUMP_ROUNDS	4	/* fill and drain per wakeup, then yield */

/* One direction: from fd[i] to fd[!i]. */
struct half {
	struct relay	*r;
	int		 i;
	struct event	*rev;		/* the source is readable */
	struct event	*wev;		/* the destination is writable */
	struct rpipe	 p;		/* fd[0] -1: no pipe held */
	char		*buf;		/* the fallback, NULL: none held */
	uint32_t	 off;		/* in buf */
	uint32_t	 held;		/* bytes in the pipe or buf */
	uint64_t	 bytes;		/* delivered to the destination */
	bool		 eof;		/* the source is done */
	bool		 shut;		/* the destination was shut */
	bool		 nosplice;
};

struct relay {
	TAILQ_ENTRY(relay)	 entry;
	struct engine		*e;
	uint64_t		 id;
	size_t			 svc;
	struct srcent		*se;
	int			 fd[2];		/* client, target */
	struct half		 h[2];		/* h[0]: client to target */
	struct event		*tmo;		/* connect, then idle */
	struct event		*cev;		/* connect in progress */
	uint64_t		 start_ms;
	uint64_t		 last_ms;	/* last byte moved */
	size_t			 target;	/* index being tried */
	int			 err;		/* of the last attempt */
	/* redirect_proxy: the header the target gets first. */
	unsigned char		 hdr[PROXY_OUT_MAX];
	size_t			 hdrlen;
};

static void	 relay_end(struct relay *, const char *, int);
static void	 read_cb(evutil_socket_t, short, void *);
static void	 write_cb(evutil_socket_t, short, void *);
static void	 tmo_cb(evutil_socket_t, short, void *);
static void	 connect_cb(evutil_socket_t, short, void *);

static const struct service *
rsvc(const struct relay *r)
{
	return &r->e->conf->services[r->svc];
}

/*
 * A pipe of the pool, sized to want if the kernel allows: past
 * fs.pipe-max-size, or a user's pipe quota, the pipe keeps the size it
 * has, which bounds what is held all the same.
 */
static int
pipe_take(struct engine *e, uint32_t want, struct rpipe *p)
{
	int	 sz;

	if (e->npipes > 0)
		*p = e->pipes[--e->npipes];
	else {
		if (pipe2(p->fd, O_NONBLOCK | O_CLOEXEC) == -1)
			return -1;
		p->size = 0;
	}
	if (p->size != want) {
		(void)fcntl(p->fd[0], F_SETPIPE_SZ, (int)want);
		if ((sz = fcntl(p->fd[0], F_GETPIPE_SZ)) > 0)
			p->size = (uint32_t)sz;
		else
			p->size = want;
	}
	return 0;
}

static void
pipe_put(struct engine *e, struct rpipe *p)
{
	struct rpipe	*v;

	if (p->fd[0] == -1)
		return;
	if (e->npipes < POOL_MAX && !e->stopping) {
		if (e->pipes == NULL && (v = calloc(POOL_MAX,
		    sizeof(*v))) != NULL)
			e->pipes = v;
		if (e->pipes != NULL) {
			e->pipes[e->npipes++] = *p;
			p->fd[0] = p->fd[1] = -1;
			return;
		}
	}
	(void)close(p->fd[0]);
	(void)close(p->fd[1]);
	p->fd[0] = p->fd[1] = -1;
}

void
relay_pool_free(struct engine *e)
{
	while (e->npipes > 0) {
		e->npipes--;
		(void)close(e->pipes[e->npipes].fd[0]);
		(void)close(e->pipes[e->npipes].fd[1]);
	}
	free(e->pipes);
	e->pipes = NULL;
}

/* Nothing in flight: what held the bytes goes back. */
static void
half_release(struct engine *e, struct half *h)
{
	pipe_put(e, &h->p);
	free(h->buf);
	h->buf = NULL;
	h->off = 0;
}

/* How much one read of direction i asks for. */
static uint32_t
half_room(const struct relay *r, int i)
{
	const struct half	*h = &r->h[i];
	uint32_t		 size = rsvc(r)->redirect_buffer;

	return h->p.fd[0] != -1 && h->p.size < size ? h->p.size : size;
}

/*
 * Read from the source into the pipe or the buffer: bytes read, 0 at
 * EOF, -1 with errno (EAGAIN: nothing now).
 */
static ssize_t
half_fill(struct relay *r, int i)
{
	struct engine	*e = r->e;
	struct half	*h = &r->h[i];
	uint32_t	 size = rsvc(r)->redirect_buffer;
	ssize_t		 n;
	uint64_t	 now;

	if (!h->nosplice && h->p.fd[0] == -1 &&
	    pipe_take(e, size, &h->p) == -1) {
		now = mono_ms();
		if (now - e->pipe_err_logged >= 1000) {
			e->pipe_err_logged = now;
			log_warn("service=%s action=warn msg=\"pipe2, relaying "
			    "through a buffer\"", rsvc(r)->name);
		}
		h->p.fd[0] = h->p.fd[1] = -1;
		h->nosplice = true;
	}
	if (!h->nosplice) {
		n = splice(r->fd[i], NULL, h->p.fd[1], NULL, half_room(r, i),
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n >= 0 || errno != EINVAL)
			return n;
		/* This pair of sockets cannot splice: copy instead. */
		pipe_put(e, &h->p);
		h->nosplice = true;
	}
	if (h->buf == NULL && (h->buf = malloc(size)) == NULL)
		return -1;
	return read(r->fd[i], h->buf, size);
}

/* Write what is held to the destination: -1 with errno, else 0. */
static int
half_drain(struct relay *r, int i)
{
	struct half	*h = &r->h[i];
	ssize_t		 n;

	while (h->held > 0) {
		if (h->buf != NULL)
			n = send(r->fd[!i], h->buf + h->off, h->held,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		else
			n = splice(h->p.fd[0], NULL, r->fd[!i], NULL, h->held,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0)		/* a pipe that lost what it held */
			errno = EIO;
		if (n <= 0)
			return -1;
		h->held -= (uint32_t)n;
		h->off += (uint32_t)n;
		h->bytes += (uint64_t)n;
	}
	h->off = 0;
	return 0;
}

static bool
fatal_errno(int err)
{
	return err != EAGAIN && err != EWOULDBLOCK && err != EINTR;
}

static const char *
err_reason(int err)
{
	return err == ECONNRESET || err == EPIPE ? "reset" : "error";
}

/* The source of h is done and all it sent is delivered. */
static void
half_shut(struct relay *r, int i)
{
	struct half	*h = &r->h[i];

	h->shut = true;
	(void)event_del(h->rev);
	(void)event_del(h->wev);
	half_release(r->e, h);
	if (shutdown(r->fd[!i], SHUT_WR) == -1 && errno != ENOTCONN) {
		relay_end(r, err_reason(errno), errno);
		return;
	}
	if (r->h[!i].shut)
		relay_end(r, NULL, 0);
}

/* Move bytes of direction i until one side would block. */
static void
half_pump(struct relay *r, int i)
{
	struct half	*h = &r->h[i];
	ssize_t		 n = 0;
	bool		 drained = false;
	int		 round;

	for (round = 0; round < PUMP_ROUNDS && !drained; round++) {
		if (h->held == 0 && !h->eof) {
			n = half_fill(r, i);
			if (n == -1) {
				if (fatal_errno(errno))
					relay_end(r, err_reason(errno), errno);
				else	/* idle: hold no pipe */
					half_release(r->e, h);
				return;
			}
			if (n == 0)
				h->eof = true;
			else {
				h->held = (uint32_t)n;
				r->last_ms = mono_ms();
				/*
				 * Less than asked for: the socket is empty, and
				 * one more read would only say EAGAIN.
				 */
				drained = (uint32_t)n < half_room(r, i);
			}
		}
		if (half_drain(r, i) == -1) {
			if (fatal_errno(errno)) {
				relay_end(r, err_reason(errno), errno);
				return;
			}
			/* Hold it; read no more until it is written. */
			(void)event_del(h->rev);
			(void)event_add(h->wev, NULL);
			return;
		}
		if (h->eof) {
			half_shut(r, i);
			return;
		}
		half_release(r->e, h);
	}
}

static void
read_cb(evutil_socket_t fd __unused, short ev __unused, void *arg)
{
	struct half	*h = arg;

	half_pump(h->r, h->i);
}

/* The destination drained: deliver the rest, then read again. */
static void
write_cb(evutil_socket_t fd __unused, short ev __unused, void *arg)
{
	struct half	*h = arg;
	struct relay	*r = h->r;

	if (half_drain(r, h->i) == -1) {
		if (fatal_errno(errno))
			relay_end(r, err_reason(errno), errno);
		return;
	}
	r->last_ms = mono_ms();
	(void)event_del(h->wev);
	if (h->eof) {
		half_shut(r, h->i);
		return;
	}
	half_release(r->e, h);
	(void)event_add(h->rev, NULL);
	half_pump(r, h->i);
}

/* Connecting: redirect_timeout is over.  Relaying: timeout of silence. */
static void
tmo_cb(evutil_socket_t fd __unused, short ev __unused, void *arg)
{
	struct relay	*r = arg;
	const struct service *svc = rsvc(r);
	uint64_t	 now = mono_ms(), idle = now - r->last_ms;
	struct timeval	 tv;

	if (r->cev != NULL) {
		r->err = ETIMEDOUT;
		relay_end(r, "connect", ETIMEDOUT);
		return;
	}
	if (idle >= svc->timeout_ms) {
		relay_end(r, "timeout", 0);
		return;
	}
	/* Rearmed only when it fires, not at every byte. */
	ms_timeval(&tv, svc->timeout_ms - idle);
	(void)evtimer_add(r->tmo, &tv);
}

static int
half_init(struct relay *r, int i)
{
	struct event_base	*base = r->e->base;
	struct half		*h = &r->h[i];

	h->r = r;
	h->i = i;
	h->rev = event_new(base, r->fd[i], EV_READ | EV_PERSIST, read_cb, h);
	h->wev = event_new(base, r->fd[!i], EV_WRITE | EV_PERSIST, write_cb,
	    h);
	return h->rev == NULL || h->wev == NULL ||
	    event_add(h->rev, NULL) == -1 ? -1 : 0;
}

/* The target accepted: relay both ways. */
static void
relay_go(struct relay *r)
{
	struct timeval	 tv;

	event_free(r->cev);
	r->cev = NULL;
	r->last_ms = mono_ms();
	if (half_init(r, 0) == -1 || half_init(r, 1) == -1) {
		relay_end(r, "error", errno);
		return;
	}
	ms_timeval(&tv, rsvc(r)->timeout_ms);
	(void)evtimer_add(r->tmo, &tv);
}

/*
 * Bind fd, a socket of type, to the service's redirect_source if it has
 * one: -1 with errno if that fails.
 */
int
relay_bind(const struct service *svc, int fd, int type)
{
	const struct bindaddr	*src = &svc->redirect_source;
	struct sockaddr_storage	 ss;
	int			 one = 1;

	if (src->len == 0)
		return 0;
	/*
	 * The port is chosen at connect(), for this target: bound first, a
	 * busy relay would run out of ephemeral ports.
	 */
	if (type == SOCK_STREAM)
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
	memcpy(&ss, &src->ss, src->len);
	return bind(fd, (struct sockaddr *)&ss, src->len);
}

/*
 * Start a connect to the next target: 0 when one is in progress (or
 * done), -1 when none is left, r->err saying why the last failed.
 */
static int
connect_next(struct relay *r)
{
	const struct service	*svc = rsvc(r);
	const struct bindaddr	*t;
	int			 fd, one = 1;

	for (; r->target < svc->ntargets; r->target++) {
		t = &svc->targets[r->target];
		fd = socket(t->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1) {
			r->err = errno;
			return -1;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if (relay_bind(svc, fd, SOCK_STREAM) == -1) {
			r->err = errno;
			(void)close(fd);
			continue;
		}
		if (connect(fd, (const struct sockaddr *)&t->ss, t->len) ==
		    0 || errno == EINPROGRESS) {
			r->fd[1] = fd;
			if (r->cev != NULL)
				event_free(r->cev);
			if ((r->cev = event_new(r->e->base, fd, EV_WRITE,
			    connect_cb, r)) == NULL ||
			    event_add(r->cev, NULL) == -1) {
				r->err = errno != 0 ? errno : ENOMEM;
				return -1;
			}
			return 0;
		}
		r->err = errno;
		(void)close(fd);
	}
	return -1;
}

static void
connect_cb(evutil_socket_t fd, short ev __unused, void *arg)
{
	struct relay	*r = arg;
	socklen_t	 len = sizeof(r->err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &r->err, &len) == -1)
		r->err = errno;
	/*
	 * The header before any byte of the client's: a new connection's
	 * send buffer takes it whole, so a short send is an error.
	 */
	if (r->err == 0 && r->hdrlen > 0 && send(fd, r->hdr, r->hdrlen,
	    MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)r->hdrlen)
		r->err = errno != 0 ? errno : EAGAIN;
	if (r->err == 0) {
		relay_go(r);
		return;
	}
	(void)close(r->fd[1]);
	r->fd[1] = -1;
	r->target++;
	if (connect_next(r) == -1)
		relay_end(r, "connect", r->err);
}

/*
 * The PROXY header for the target: the client (as a PROXY header in
 * named it, or the socket's peer) and the address it connected to.
 */
static void
relay_header(struct relay *r, int fd, const struct sockaddr *client)
{
	struct sockaddr_storage	 peer, local;
	socklen_t		 len = sizeof(peer);

	memset(&peer, 0, sizeof(peer));
	memset(&local, 0, sizeof(local));
	if (client == NULL && getpeername(fd, (struct sockaddr *)&peer,
	    &len) == 0)
		client = (struct sockaddr *)&peer;
	len = sizeof(local);
	if (getsockname(fd, (struct sockaddr *)&local, &len) == -1)
		local.ss_family = AF_UNSPEC;
	r->hdrlen = proxy_build(rsvc(r)->redirect_proxy, client,
	    (struct sockaddr *)&local, r->hdr, sizeof(r->hdr));
}

/* client: the client a PROXY header named, or NULL: the socket's peer. */
void
relay_start(struct engine *e, size_t idx, int fd, uint64_t id,
    struct srcent *se, const struct sockaddr *client)
{
	const struct service	*svc = &e->conf->services[idx];
	struct relay		*r;
	struct timeval		 tv;
	int			 one = 1;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		engine_drop(e, idx, id, se, fd);
		return;
	}
	r->e = e;
	r->id = id;
	r->svc = idx;
	r->se = se;
	r->fd[0] = fd;
	r->fd[1] = -1;
	r->h[0].p.fd[0] = r->h[0].p.fd[1] = -1;
	r->h[1].p.fd[0] = r->h[1].p.fd[1] = -1;
	r->start_ms = r->last_ms = mono_ms();
	TAILQ_INSERT_TAIL(&e->relays, r, entry);
	e->nconns++;
	/* Accepted by the engine's listeners with SOCK_NONBLOCK already. */
	if (svc->proto == PROTO_TCP)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	if ((r->tmo = evtimer_new(e->base, tmo_cb, r)) == NULL) {
		relay_end(r, "error", errno);
		return;
	}
	if (svc->redirect_proxy != 0) {
		relay_header(r, fd, client);
		if (r->hdrlen == 0) {
			relay_end(r, "error", EINVAL);
			return;
		}
	}
	ms_timeval(&tv, svc->redirect_timeout_ms);
	(void)evtimer_add(r->tmo, &tv);
	if (connect_next(r) == -1)
		relay_end(r, "connect", r->err);
}

/* Target i of svc for the log; past the last, the last one tried. */
void
relay_target_fmt(const struct service *svc, size_t i, char *buf,
    size_t size)
{
	if (svc->ntargets == 0)
		(void)snprintf(buf, size, "none");
	else
		(void)sa_fmt((const struct sockaddr *)&svc->targets[i <
		    svc->ntargets ? i : svc->ntargets - 1].ss, buf, size);
}

/*
 * The single place a relay ends: the close line, with the bytes each
 * way that reached their destination and, for a failed connect, the
 * target and errno.
 */
static void
relay_end(struct relay *r, const char *reason, int err)
{
	struct engine		*e = r->e;
	const struct service	*svc = rsvc(r);
	char			 target[128], errmsg[160] = "";
	struct linger		 lg = { .l_onoff = 1, .l_linger = 0 };
	bool			 reset;
	int			 i;

	relay_target_fmt(svc, r->target, target, sizeof(target));
	engine_count_bytes(e, (long)r->svc, r->h[0].bytes, r->h[1].bytes);
	if (err != 0)
		(void)snprintf(errmsg, sizeof(errmsg), " error=\"%s\"",
		    strerror(err));
	log_conn(reason != NULL && strcmp(reason, "connect") == 0 ?
	    LOG_WARNING : LOG_INFO, r->id, svc->name, "action=close "
	    "bytes_in=%llu bytes_out=%llu duration_ms=%llu%s%s target=%s%s",
	    (unsigned long long)r->h[0].bytes,
	    (unsigned long long)r->h[1].bytes,
	    (unsigned long long)(mono_ms() - r->start_ms),
	    reason != NULL ? " reason=" : "", reason != NULL ? reason : "",
	    target, errmsg);
	reset = reason != NULL && strcmp(reason, "reset") == 0;
	for (i = 0; i < 2; i++) {
		/*
		 * A reset is passed on, so that the other side does not take
		 * a stream cut short for a whole one.
		 */
		if (reset && r->fd[i] != -1)
			(void)setsockopt(r->fd[i], SOL_SOCKET, SO_LINGER, &lg,
			    sizeof(lg));
		if (r->h[i].rev != NULL)
			event_free(r->h[i].rev);
		if (r->h[i].wev != NULL)
			event_free(r->h[i].wev);
		/* Bytes still in a pipe are lost with the relay: close it. */
		if (r->h[i].held > 0 && r->h[i].p.fd[0] != -1) {
			(void)close(r->h[i].p.fd[0]);
			(void)close(r->h[i].p.fd[1]);
			r->h[i].p.fd[0] = -1;
		}
		half_release(e, &r->h[i]);
		if (r->fd[i] != -1)
			(void)close(r->fd[i]);
	}
	if (r->cev != NULL)
		event_free(r->cev);
	if (r->tmo != NULL)
		event_free(r->tmo);
	if (e->active[r->svc] > 0)
		e->active[r->svc]--;
	if (r->se != NULL)
		srcent_release(r->se);
	TAILQ_REMOVE(&e->relays, r, entry);
	e->nconns--;
	free(r);
	engine_check_done(e);
}

/* The grace after a stop or a reload is over. */
void
relay_stop_all(struct engine *e)
{
	struct relay	*r;

	while ((r = TAILQ_FIRST(&e->relays)) != NULL)
		relay_end(r, "stop", 0);
}

/* Each relay as a row of portmuxctl connections. */
void
relay_rows(struct engine *e, void (*cb)(const struct conn_row *, void *),
    void *arg)
{
	struct conn_row		 row;
	struct relay		*r;

	TAILQ_FOREACH(r, &e->relays, entry) {
		conn_row_fill(&row, r->id, rsvc(r)->name, r->fd[0], r->start_ms,
		    r->cev != NULL ? "connecting" : "relay");
		row.counted = true;
		row.bytes_in = r->h[0].bytes;
		row.bytes_out = r->h[1].bytes;
		cb(&row, arg);
	}
}
