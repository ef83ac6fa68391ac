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
 * TCPMUX (RFC 1078): the client names a service on port 1 and is handed
 * to it.  The name line is read without consuming a byte after its LF
 * (peek, then read exactly up to it), so whatever the client sent next
 * reaches the service.  The read is capped by tcpmux_maxlen and
 * tcpmux_timeout.  Only services with tcpmux = true are reachable or
 * listed, and the target runs as its own user with its own ACL and
 * limits: tcpmux grants nothing a direct connection would not get.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "engine.h"
#include "status.h"
#include "log.h"
#include "portmuxd.h"
#include "proto.h"

/* A client of the tcpmux service, while its name line is read. */
struct tmux {
	TAILQ_ENTRY(tmux)	 entry;
	struct engine		*e;
	size_t			 svc;
	uint64_t		 id;
	int			 fd;
	struct event		*ev;
	struct event		*deadline;	/* tcpmux_timeout, in all */
	struct sockaddr_storage	 peer;
	char			 peerstr[80];
	struct srcent		*se;		/* tcpmux's per_source slot */
	uint64_t		 start_ms;
	size_t			 have;
	char			 name[];	/* tcpmux_maxlen + CRLF + NUL */
};

static void	 tmux_read_cb(evutil_socket_t, short, void *);
static void	 tmux_timeout_cb(evutil_socket_t, short, void *);

/*
 * Where the name line ends in buf: the index of its LF, or -1 if it
 * does not end within len bytes.  Pure.
 */
long
tcpmux_line_end(const char *buf, size_t len)
{
	const char	*lf = memchr(buf, '\n', len);

	return lf == NULL ? -1 : (long)(lf - buf);
}

/*
 * Trim the name line in place: the LF and an optional CR before it.
 * Returns the name's length.  Pure.
 */
size_t
tcpmux_trim(char *name, size_t len)
{
	if (len > 0 && name[len - 1] == '\n')
		len--;
	if (len > 0 && name[len - 1] == '\r')
		len--;
	name[len] = '\0';
	return len;
}

/*
 * Whether the len bytes of a trimmed name line can name a service: not
 * with a NUL in them, which would cut the name short for every string
 * function ("hello\0junk" is not "hello").  Pure.
 */
bool
tcpmux_name_ok(const char *name, size_t len)
{
	return memchr(name, '\0', len) == NULL;
}

/* The service a name reaches through tcpmux, or -1; case-insensitive. */
long
tcpmux_lookup(const struct conf *conf, const char *name)
{
	size_t	 i;

	for (i = 0; i < conf->nservices; i++)
		if (conf->services[i].tcpmux &&
		    strcasecmp(conf->services[i].name, name) == 0)
			return (long)i;
	return -1;
}

static void
tmux_free(struct tmux *t, bool close_fd)
{
	struct engine	*e = t->e;

	if (t->ev != NULL)
		event_free(t->ev);
	if (t->deadline != NULL)
		event_free(t->deadline);
	if (close_fd && t->fd != -1)
		close(t->fd);
	if (t->se != NULL)
		srcent_release(t->se);
	if (e->active[t->svc] > 0)
		e->active[t->svc]--;
	TAILQ_REMOVE(&e->tmuxes, t, entry);
	e->nconns--;
	free(t);
	engine_check_done(e);
}

/* Best effort: a reply of a few bytes on a fresh socket. */
static void
tmux_say(struct tmux *t, const char *s)
{
	(void)send(t->fd, s, strlen(s), MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void
tmux_refuse(struct tmux *t, int reason, const char *reply,
    const char *detail)
{
	const struct service	*svc = &t->e->conf->services[t->svc];

	if (reply != NULL)
		tmux_say(t, reply);
	engine_count_refusal(t->e, (long)t->svc, reason);
	log_conn(LOG_INFO, t->id, svc->name, "action=refuse proto=tcp peer=%s "
	    "reason=%s%s%s", t->peerstr, guard_reason(reason),
	    detail != NULL ? " " : "", detail != NULL ? detail : "");
	tmux_free(t, true);
}

static void
tmux_help(struct tmux *t)
{
	const struct conf	*conf = t->e->conf;
	char			 line[128];
	size_t			 i;

	for (i = 0; i < conf->nservices; i++) {
		if (!conf->services[i].tcpmux)
			continue;
		(void)snprintf(line, sizeof(line), "%s\r\n",
		    conf->services[i].name);
		tmux_say(t, line);
	}
	log_conn(LOG_INFO, t->id, conf->services[t->svc].name, "action=close "
	    "name=\"HELP\" duration_ms=0");
	tmux_free(t, true);
}

/* The whole name is in: HELP, a service, or nothing. */
static void
tmux_done(struct tmux *t, size_t len)
{
	struct engine	*e = t->e;
	char		 q[1100], d[1200], peer[80];
	struct srcent	*se;
	long		 target;
	uint64_t	 id = t->id;
	int		 fd = t->fd, r;

	/* The name line is trimmed already (tmux_read_cb). */
	if (!tcpmux_name_ok(t->name, len)) {
		(void)log_quote(q, sizeof(q), t->name, len);
		(void)snprintf(d, sizeof(d), "name=%s msg=\"NUL in the name\"",
		    q);
		tmux_refuse(t, REASON_NOTFOUND, "-Service not available\r\n", d);
		return;
	}
	if (strcasecmp(t->name, "HELP") == 0) {
		tmux_help(t);
		return;
	}
	(void)log_quote(q, sizeof(q), t->name, strlen(t->name));
	if ((target = tcpmux_lookup(e->conf, t->name)) == -1) {
		(void)snprintf(d, sizeof(d), "name=%s", q);
		tmux_refuse(t, REASON_NOTFOUND, "-Service not available\r\n", d);
		return;
	}
	/*
	 * The target's own bans, ACL and limits decide, before "+Go": a
	 * refused client gets a tcpmux negative reply.
	 */
	if ((r = guard_admit(e, (size_t)target, (struct sockaddr *)&t->peer,
	    fd, &se)) != 0) {
		tmux_say(t, "-Service not available\r\n");
		guard_refuse(e, (size_t)target, se, r, id, t->peerstr);
		if (se != NULL)
			srcent_put(se);
		tmux_free(t, true);
		return;
	}
	log_conn(LOG_DEBUG, id, e->conf->services[t->svc].name,
	    "action=close name=%s via=tcpmux", q);
	/* RFC 1078: the server answers "+" before the service speaks. */
	tmux_say(t, "+Go\r\n");
	memcpy(peer, t->peerstr, sizeof(peer));
	t->fd = -1;
	/*
	 * Served before t is freed: a draining engine whose last client
	 * this was would otherwise see nothing left and exit before the
	 * program's spawn is even asked for.
	 */
	engine_serve_admitted(e, (size_t)target, fd, id, peer, se, NULL,
	    &(struct origin){ .tcpmux = true });
	srcent_put(se);
	tmux_free(t, false);
}

static void
tmux_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tmux		*t = arg;
	const struct service	*svc = &t->e->conf->services[t->svc];
	/* The cap is on the name: its CR and LF come on top. */
	size_t			 room = svc->tcpmux_maxlen + 2 - t->have;
	long			 end;
	ssize_t			 n;
	size_t			 len;

	(void)what;
	n = recv(fd, t->name + t->have, room, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		tmux_refuse(t, REASON_ERROR, NULL, n == 0 ? "msg=\"closed before "
		    "the name line\"" : "msg=\"recv\"");
		return;
	}
	/* Consume through the LF only, or all of it if there is none. */
	end = tcpmux_line_end(t->name + t->have, (size_t)n);
	if (end >= 0)
		n = end + 1;
	if (recv(fd, t->name + t->have, (size_t)n, MSG_DONTWAIT) != n) {
		tmux_refuse(t, REASON_ERROR, NULL, "msg=\"recv\"");
		return;
	}
	t->have += (size_t)n;
	if (end >= 0 && (len = tcpmux_trim(t->name, t->have)) <=
	    svc->tcpmux_maxlen) {
		tmux_done(t, len);
		return;
	}
	if (end >= 0 || t->have >= svc->tcpmux_maxlen + 2)
		tmux_refuse(t, REASON_ERROR, "-Service name too long\r\n",
		    "msg=\"name too long\"");
}

/*
 * The engine's grace period is over: the clients still sending their
 * name line are closed, each with a line, as the builtins' connections.
 */
void
tcpmux_stop_all(struct engine *e)
{
	struct tmux	*t;

	while ((t = TAILQ_FIRST(&e->tmuxes)) != NULL) {
		log_conn(LOG_INFO, t->id, e->conf->services[t->svc].name,
		    "action=close bytes_in=%zu bytes_out=0 duration_ms=%llu "
		    "reason=stop", t->have,
		    (unsigned long long)(mono_ms() - t->start_ms));
		tmux_free(t, true);
	}
}

/* The whole name line must arrive within tcpmux_timeout. */
static void
tmux_timeout_cb(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	tmux_refuse(arg, REASON_TIMEOUT, NULL, NULL);
}

/* A new client of the tcpmux builtin; instance slot already taken. */
void
tcpmux_start(struct engine *e, size_t idx, int fd, uint64_t id,
    struct srcent *se)
{
	const struct service	*svc = &e->conf->services[idx];
	struct timeval		 tv;
	struct tmux		*t;
	socklen_t		 len;

	if ((t = calloc(1, sizeof(*t) + svc->tcpmux_maxlen + 3)) == NULL) {
		engine_drop(e, idx, id, se, fd);
		return;
	}
	TAILQ_INSERT_TAIL(&e->tmuxes, t, entry);
	e->nconns++;
	t->e = e;
	t->start_ms = mono_ms();
	t->svc = idx;
	t->id = id;
	t->fd = fd;
	t->se = se;
	len = sizeof(t->peer);
	if (getpeername(fd, (struct sockaddr *)&t->peer, &len) == -1) {
		tmux_refuse(t, REASON_ERROR, NULL, "msg=\"getpeername\"");
		return;
	}
	(void)sa_fmt((struct sockaddr *)&t->peer, t->peerstr,
	    sizeof(t->peerstr));
	ms_timeval(&tv, svc->tcpmux_timeout_ms);
	if ((t->ev = event_new(e->base, fd, EV_READ | EV_PERSIST,
	    tmux_read_cb, t)) == NULL || event_add(t->ev, NULL) == -1 ||
	    (t->deadline = evtimer_new(e->base, tmux_timeout_cb, t)) == NULL ||
	    evtimer_add(t->deadline, &tv) == -1) {
		tmux_refuse(t, REASON_ERROR, NULL, "msg=\"event\"");
		return;
	}
}

/* Each connection still sending its service name, as a row. */
void
tcpmux_rows(struct engine *e, void (*cb)(const struct conn_row *, void *),
    void *arg)
{
	struct conn_row	 row;
	struct tmux	*t;

	TAILQ_FOREACH(t, &e->tmuxes, entry) {
		conn_row_fill(&row, t->id, e->conf->services[t->svc].name,
		    t->fd, t->start_ms, "tcpmux-name");
		row.counted = true;
		row.bytes_in = t->have;
		cb(&row, arg);
	}
}
