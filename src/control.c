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
 * The control socket (portmuxctl(8) has the protocol): one request line
 * per connection, "portmuxctl/1 COMMAND [ARG]", answered with
 * "portmuxd/1 ok" or "portmuxd/1 error code=.. msg=..", records of
 * key=value pairs in the log's format, and "end".  Everything is built
 * in memory from the engine's own tables, so no request waits on
 * anything but unban and reload, which the monitor answers by message
 * (the engine never blocks on it).  The socket's mode decides who may
 * connect; the peer's credentials, read for each request, decide who
 * may change state: root, or the user portmuxd runs as when it was not
 * started by root.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "control.h"
#include "engine.h"
#include "log.h"
#include "portmuxd.h"
#include "proto.h"
#include "stats.h"
#include "status.h"

/* A reply waiting on the monitor holds the client this long at most. */
#define CONTROL_WAIT_MS	30000


static void
reply_error(struct evbuffer *out, const char *code, const char *msg)
{
	char	 q[512];

	(void)log_quote(q, sizeof(q), msg, strlen(msg));
	(void)evbuffer_add_printf(out, "portmuxd/%d error code=%s msg=%s\n"
	    "end\n", CONTROL_VERSION, code, q);
}

static void
reply_ok(struct evbuffer *out)
{
	(void)evbuffer_add_printf(out, "portmuxd/%d ok\n", CONTROL_VERSION);
}

static void
rows_status(struct engine *e, struct evbuffer *out)
{
	struct status_row	 r;
	char			 f[512];
	size_t			 i;

	for (i = 0; i < e->nlsn; i++) {
		status_row(e, &e->lsn[i], &r);
		(void)status_fields(&r, f, sizeof(f));
		(void)evbuffer_add_printf(out, "service=%s %s\n", r.service, f);
	}
}

static void
conn_row_out(const struct conn_row *r, void *arg)
{
	struct evbuffer	*out = arg;
	char		 pid[24], in[24], o[24];

	(void)snprintf(pid, sizeof(pid), r->pid > 0 ? "%ld" : "-", r->pid);
	(void)snprintf(in, sizeof(in), r->counted ? "%llu" : "-",
	    (unsigned long long)r->bytes_in);
	(void)snprintf(o, sizeof(o), r->counted ? "%llu" : "-",
	    (unsigned long long)r->bytes_out);
	(void)evbuffer_add_printf(out, "conn=%llu service=%s peer=%s "
	    "local=%s pid=%s age_s=%llu bytes_in=%s bytes_out=%s state=%s\n",
	    (unsigned long long)r->id, r->service,
	    r->peer[0] != '\0' ? r->peer : "-",
	    r->local[0] != '\0' ? r->local : "-", pid,
	    (unsigned long long)(r->age_ms / 1000), in, o, r->state);
}

/* A builtin connection's addresses, from its socket. */
static void
conn_addrs(struct conn *c, struct conn_row *r)
{
	int	 fd = (int)bufferevent_getfd(c->bev);

	fd_peer_fmt(fd, r->peer, sizeof(r->peer));
	fd_local_fmt(fd, r->local, sizeof(r->local));
	if (r->local[0] == '\0' && c->service->proto == PROTO_UNIX &&
	    c->service->path != NULL)
		(void)snprintf(r->local, sizeof(r->local), "%s",
		    c->service->path);
}

static void
rows_connections(struct engine *e, struct evbuffer *out)
{
	struct conn_row	 r;
	struct conn	*c;
	struct xchild	*x;
	uint64_t	 now = mono_ms(), now_us = mono_us();

	TAILQ_FOREACH(c, &e->conns, entry) {
		if (c->bev == NULL)
			continue;
		memset(&r, 0, sizeof(r));
		r.id = c->id;
		r.service = c->service->name;
		conn_addrs(c, &r);
		r.age_ms = now - c->start_ms;
		r.counted = true;
		r.bytes_in = c->bytes_in;
		r.bytes_out = c->bytes_out;
		r.state = c->closing ? "closing" : "builtin";
		conn_row_out(&r, out);
	}
	relay_rows(e, conn_row_out, out);
	tcpmux_rows(e, conn_row_out, out);
	proxyin_rows(e, conn_row_out, out);
	TAILQ_FOREACH(x, &e->children, entry) {
		if (x->exited)
			continue;
		memset(&r, 0, sizeof(r));
		r.id = x->id;
		r.service = x->service;
		(void)snprintf(r.peer, sizeof(r.peer), "%s", x->peer);
		(void)snprintf(r.local, sizeof(r.local), "%s", x->local);
		r.pid = (long)x->pid;
		r.age_ms = (now_us - x->start_us) / 1000;
		r.state = x->pid == 0 ? "spawning" : x->wait_lsn != NULL ?
		    "wait" : "exec";
		conn_row_out(&r, out);
	}
}

static void
rows_bans(struct engine *e, struct evbuffer *out)
{
	const struct banent	*b;
	uint64_t		 now = wall_ms();
	char			 g[80];
	size_t			 i;

	for (i = 0; i < e->bans.size && e->bans.count > 0; i++) {
		b = &e->bans.v[i];
		if (!b->used || b->until <= now)
			continue;
		guard_group_fmt(&b->key, g, sizeof(g));
		(void)evbuffer_add_printf(out, "addr=%s remaining_s=%llu "
		    "reason=%s\n", g,
		    (unsigned long long)((b->until - now + 999) / 1000),
		    guard_ban_reason(b->reason));
	}
}

static void
rows_stats(struct engine *e, struct evbuffer *out)
{
	const struct procstat	*ps = e->st.proc;
	const struct svcstat	*st;
	uint64_t		 acc = 0, ref = 0, bans = 0, now = wall_ms();
	size_t			 i, nchildren = 0;
	struct xchild		*x;

	for (i = 0; i < e->conf->nservices; i++)
		if ((st = engine_stat(e, (long)i)) != NULL) {
			acc += stats_read(&st->accepted);
			ref += stats_refused_total(st);
		}
	TAILQ_FOREACH(x, &e->children, entry)
		if (!x->exited)
			nchildren++;
	for (i = 0; i < e->bans.size && e->bans.count > 0; i++)
		if (e->bans.v[i].used && e->bans.v[i].until > now)
			bans++;
	(void)evbuffer_add_printf(out, "generation=%llu reloads=%llu "
	    "restarts=%llu services=%zu listeners=%zu connections=%zu "
	    "children=%zu bans=%llu knocks=%llu scans=%llu accepted=%llu "
	    "refused=%llu\n", (unsigned long long)e->generation,
	    (unsigned long long)(ps != NULL ? stats_read(&ps->reloads) : 0),
	    (unsigned long long)(ps != NULL ? stats_read(&ps->restarts) : 0),
	    e->conf->nservices, e->nlsn, e->nconns, nchildren,
	    (unsigned long long)bans,
	    (unsigned long long)(ps != NULL ? stats_read(&ps->knocks) : 0),
	    (unsigned long long)(ps != NULL ? stats_read(&ps->scans) : 0),
	    (unsigned long long)acc, (unsigned long long)ref);
}

/* An address or a CIDR prefix, as the ban key whose bans it lifts. */
static int
unban_key(const char *arg, struct srckey *k)
{
	struct cidr	 c;

	if (conf_parse_cidr(arg, &c) == -1)
		return -1;
	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)c.family;
	k->prefix = (uint8_t)c.prefix;
	memcpy(k->addr, c.addr, sizeof(k->addr));
	return 0;
}

/* Root, or the user a portmuxd not started by root runs as. */
static bool
peer_admin(const struct conn *c, uid_t uid)
{
	return uid == 0 || (!c->e->conf->as_root && uid == getuid());
}

/*
 * Answer one request line; 1 when the answer is complete, 0 when it
 * waits on the monitor.  uid is the peer's.
 */
int
control_request(struct conn *c, const char *line, uint32_t uid)
{
	struct evbuffer		*out = bufferevent_get_output(c->bev);
	struct msg_unban	 mu;
	char			 cmd[32], arg[128], extra[2], ver[32];
	int			 n;

	n = sscanf(line, "%31s %31s %127s %1s", ver, cmd, arg, extra);
	if (n < 2 || strncmp(ver, "portmuxctl/", 11) != 0) {
		reply_error(out, "usage", "expected \"portmuxctl/1 COMMAND "
		    "[ARG]\"");
		return 1;
	}
	if (strcmp(ver + 11, "1") != 0) {
		reply_error(out, "version", "this portmuxd speaks version 1");
		return 1;
	}
	if (strcmp(cmd, "unban") == 0 ? n != 3 : n != 2) {
		reply_error(out, "usage", strcmp(cmd, "unban") == 0 ?
		    "unban takes one address or prefix" :
		    "too many arguments");
		return 1;
	}
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "connections") == 0 ||
	    strcmp(cmd, "bans") == 0 || strcmp(cmd, "stats") == 0) {
		reply_ok(out);
		if (strcmp(cmd, "status") == 0)
			rows_status(c->e, out);
		else if (strcmp(cmd, "connections") == 0)
			rows_connections(c->e, out);
		else if (strcmp(cmd, "bans") == 0)
			rows_bans(c->e, out);
		else
			rows_stats(c->e, out);
		(void)evbuffer_add_printf(out, "end\n");
		return 1;
	}
	if (strcmp(cmd, "unban") != 0 && strcmp(cmd, "reload") != 0 &&
	    strcmp(cmd, "reopen") != 0) {
		reply_error(out, "usage", "unknown command; expected status, "
		    "connections, bans, stats, unban, reload or reopen");
		return 1;
	}
	if (!peer_admin(c, (uid_t)uid)) {
		log_conn(LOG_NOTICE, c->id, c->service->name, "action=refuse "
		    "reason=acl uid=%u command=%s", uid, cmd);
		reply_error(out, "denied", "only root may run this command");
		return 1;
	}
	if (c->e->stopping) {
		reply_error(out, "failed", "portmuxd is stopping or reloading; "
		    "ask again");
		return 1;
	}
	if (strcmp(cmd, "unban") == 0) {
		memset(&mu, 0, sizeof(mu));
		if (unban_key(arg, &mu.key) == -1) {
			reply_error(out, "usage", "unban: not an address nor a "
			    "CIDR prefix");
			return 1;
		}
		log_conn(LOG_INFO, c->id, c->service->name, "action=control "
		    "uid=%u command=unban peer=%s", uid, arg);
		c->ctl_unban = true;
		engine_send(c->e, MSG_CTL_UNBAN, c->id, &mu, sizeof(mu), -1);
	} else if (strcmp(cmd, "reopen") == 0) {
		log_conn(LOG_INFO, c->id, c->service->name, "action=control "
		    "uid=%u command=reopen", uid);
		c->ctl_reopen = true;
		engine_send(c->e, MSG_CTL_REOPEN, c->id, NULL, 0, -1);
	} else {
		log_conn(LOG_INFO, c->id, c->service->name, "action=control "
		    "uid=%u command=reload", uid);
		engine_send(c->e, MSG_CTL_RELOAD, c->id, NULL, 0, -1);
	}
	c->ctl_wait = true;
	return 0;
}

static struct conn *
waiting_conn(struct engine *e, uint64_t id)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &e->conns, entry)
		if (c->id == id && c->ctl_wait && c->bev != NULL)
			return c;
	return NULL;
}

/* A problem the monitor found in a reload; the answer follows. */
void
control_line(struct engine *e, uint64_t id, const char *text)
{
	struct conn	*c;
	char		 q[2 * MSG_CTL_TEXT + 3];

	if ((c = waiting_conn(e, id)) == NULL)
		return;		/* gone meanwhile */
	(void)log_quote(q, sizeof(q), text, strlen(text));
	if (c->ctl_lines == NULL && (c->ctl_lines = evbuffer_new()) == NULL)
		return;
	(void)evbuffer_add_printf(c->ctl_lines, "problem=%s\n", q);
}

void
control_done(struct engine *e, uint64_t id, const struct msg_ctl_done *d)
{
	struct conn	*c;
	struct evbuffer	*out;

	if ((c = waiting_conn(e, id)) == NULL)
		return;
	out = bufferevent_get_output(c->bev);
	c->ctl_wait = false;
	if (d->ok) {
		reply_ok(out);
		if (c->ctl_unban)
			(void)evbuffer_add_printf(out, "removed=%u\n",
			    d->count);
		else if (!c->ctl_reopen)
			(void)evbuffer_add_printf(out, "generation=%llu\n",
			    (unsigned long long)d->generation);
	} else if (c->ctl_reopen) {
		(void)evbuffer_add_printf(out, "portmuxd/%d error code=failed "
		    "msg=\"the log file was not reopened\"\n",
		    CONTROL_VERSION);
		if (c->ctl_lines != NULL)
			(void)evbuffer_add_buffer(out, c->ctl_lines);
	} else {
		(void)evbuffer_add_printf(out, "portmuxd/%d error code=failed "
		    "msg=\"reload refused, generation %llu kept\"\n",
		    CONTROL_VERSION, (unsigned long long)d->generation);
		if (c->ctl_lines != NULL)
			(void)evbuffer_add_buffer(out, c->ctl_lines);
	}
	(void)evbuffer_add_printf(out, "end\n");
	c->bytes_out = evbuffer_get_length(out);
	conn_finish(c);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct conn		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer		*out = bufferevent_get_output(bev);
	struct evbuffer_ptr	 eol;
	struct ucred		 cr;
	struct timeval		 tv;
	socklen_t		 len = sizeof(cr);
	size_t			 n = evbuffer_get_length(in);
	char			*line;

	if (c->closing || c->ctl_wait) {
		/* One request per connection: more is ignored. */
		(void)evbuffer_drain(in, n);
		return;
	}
	eol = evbuffer_search(in, "\n", 1, NULL);
	if (eol.pos == -1 || eol.pos >= CONTROL_REQ_MAX) {
		if (n >= CONTROL_REQ_MAX) {
			c->bytes_in += n;
			(void)evbuffer_drain(in, n);
			reply_error(out, "usage", "request too long");
			c->bytes_out += evbuffer_get_length(out);
			conn_finish(c);
		}
		return;
	}
	c->bytes_in += (uint64_t)eol.pos + 1;
	if ((line = evbuffer_readln(in, NULL, EVBUFFER_EOL_LF)) == NULL) {
		conn_free(c, "error");
		return;
	}
	if (getsockopt((int)bufferevent_getfd(bev), SOL_SOCKET, SO_PEERCRED,
	    &cr, &len) == -1) {
		log_conn(LOG_WARNING, c->id, c->service->name, "action=warn "
		    "msg=\"SO_PEERCRED\" error=\"%s\"", strerror(errno));
		reply_error(out, "failed", "cannot tell who is asking");
		free(line);
		conn_finish(c);
		return;
	}
	if (control_request(c, line, (uint32_t)cr.uid) == 0) {
		free(line);
		ms_timeval(&tv, CONTROL_WAIT_MS);
		bufferevent_set_timeouts(bev, &tv, &tv);
		return;
	}
	free(line);
	c->bytes_out += evbuffer_get_length(out);
	conn_finish(c);
}

static void
write_cb(struct bufferevent *bev __unused, void *arg)
{
	(void)conn_write_done(arg);
}

static void
event_cb(struct bufferevent *bev __unused, short what, void *arg)
{
	struct conn	*c = arg;

	if (what & BEV_EVENT_TIMEOUT)
		conn_free(c, "timeout");
	else if (what & BEV_EVENT_ERROR)
		conn_free(c, "error");
	else if (what & BEV_EVENT_EOF) {
		/* Half-closed after its request: the answer still goes. */
		if (c->ctl_wait || (c->closing && evbuffer_get_length(
		    bufferevent_get_output(c->bev)) > 0))
			return;
		conn_free(c, NULL);
	}
}

/* Serve portmuxctl on c's bufferevent (builtin.c made it). */
int
control_start(struct conn *c)
{
	struct timeval	 tv;
	uint32_t	 ms = c->service->timeout_ms < CONTROL_REQ_MS ?
	    c->service->timeout_ms : CONTROL_REQ_MS;

	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	ms_timeval(&tv, ms);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	return bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}
