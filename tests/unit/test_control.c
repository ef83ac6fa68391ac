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
 * Unit tests of builtin = control (control.c), the socket portmuxctl
 * talks to, in an engine of the test's own (enginefix.h).  The fixture
 * opens no listener, so the test gives the engine a table of them by
 * hand, as test_status.c does (e->lsn over listeners with fd -1), and
 * counters of its own (stats_init(), as the monitor makes them), so
 * that status and stats have rows to show.
 *
 * A control connection is one end of a socketpair served through
 * engine_serve_admitted(), so builtin.c starts it as the daemon would;
 * the test holds the other end.  Most requests are given straight to
 * control_request() with the uid to test, and the answer read from the
 * connection's output buffer before the loop runs (evbuffer_copyout(),
 * which leaves it there); a few go through the socket, read_cb() and
 * SO_PEERCRED included, and are read back from the test's end until
 * the engine closes it.
 *
 * The fixture has no monitor channel (chan -1, on which engine_send()
 * would be fatal).  The simplest sound way to see what unban and reload
 * send is to give the engine a real one: a SOCK_SEQPACKET socketpair
 * like the monitor's (monitor.c), the engine's end in e->chan, and the
 * test reading the monitor's end with msg_recv(), the monitor's own
 * reader.  engine_send() flushes at once, so each message is there as
 * soon as control_request() returns, and e->q stays empty.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "control.h"
#include "engine.h"
#include "log.h"
#include "portmuxd.h"
#include "proto.h"
#include "stats.h"
#include "status.h"
#include "enginefix.h"

#define WAIT_MS		3000	/* the longest one wait of a test */
#define CTL_PATH	"/tmp/pmx-ctltest.sock"
#define DAY_PATH	"/tmp/pmx ctl day.sock"	/* quoted in a status row */
#define NLSN		4
#define GENERATION	7

static const char ctl_conf[] =
    "control = \"" CTL_PATH "\"\n"
    "service echo {\n"
    "  protocol = tcp\n  address = {127.0.0.1}\n  port = 10007\n"
    "  builtin = echo\n  instances = 10\n}\n"
    "service hello {\n"
    "  protocol = tcp\n  address = {127.0.0.1}\n  port = 10008\n"
    "  server = /bin/echo\n}\n"
    "service day {\n"
    "  protocol = unix\n  path = \"" DAY_PATH "\"\n"
    "  builtin = daytime\n}\n";

/* What the test adds to the fixture's engine. */
struct ctl {
	struct stats		 st;
	struct listener		 l[NLSN];
	struct elistener	 el[NLSN];
	int			 mon;		/* the monitor's end of e->chan */
};

static struct ctl	 ctl;

static void	 ctl_start(struct enginefix *);
static void	 ctl_stop(struct enginefix *);
static size_t	 svc_index(const struct conf *, const char *);
static struct conn *conn_find(struct engine *, uint64_t);
static struct conn *ctl_conn(struct enginefix *, int *);
static char	*out_text(struct conn *);
static char	*request(struct enginefix *, const char *, uint32_t, int *);
static char	*read_to_eof(struct enginefix *, int);
static char	*ask(struct enginefix *, const char *);
static void	 assert_no_msg_sent(void);
static void	 recv_msg(struct msg_hdr *, void *, size_t);
static void	 assert_quiet(struct enginefix *, int);
static void	 assert_error(const char *, const char *, const char *);

/* The engine over ctl_conf, with listeners, counters and a channel. */
static void
ctl_start(struct enginefix *f)
{
	struct engine		*e = &f->e;
	struct sockaddr_in	*sin;
	const struct service	*svc;
	int			 sv[2];
	size_t			 i;

	memset(&ctl, 0, sizeof(ctl));
	ef_start(f, "%s", ctl_conf);
	assert_int_equal(e->conf->nservices, NLSN);
	e->generation = GENERATION;
	assert_int_equal(stats_init(&ctl.st), 0);
	e->st = ctl.st;
	assert_non_null(e->svcst = calloc(e->conf->nservices,
	    sizeof(*e->svcst)));
	for (i = 0; i < e->conf->nservices; i++) {
		svc = &e->conf->services[i];
		assert_int_equal(stats_claim(&ctl.st, svc->name), 0);
		assert_non_null(e->svcst[i] = stats_service(&ctl.st,
		    svc->name));
		ctl.l[i].service = i;
		ctl.l[i].proto = svc->proto;
		ctl.l[i].fd = -1;
		if (svc->proto == PROTO_UNIX)
			ctl.l[i].path = svc->path;
		else {
			sin = (struct sockaddr_in *)&ctl.l[i].addr.ss;
			sin->sin_family = AF_INET;
			sin->sin_port = htons(svc->port);
			assert_int_equal(inet_pton(AF_INET, "127.0.0.1",
			    &sin->sin_addr), 1);
			ctl.l[i].addr.len = sizeof(*sin);
		}
		ctl.el[i].e = e;
		ctl.el[i].l = &ctl.l[i];
	}
	e->lsn = ctl.el;
	e->nlsn = e->conf->nservices;
	/* The channel, as monitor.c makes it. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0, sv), 0);
	e->chan = sv[0];
	ctl.mon = sv[1];
}

/* Undo ctl_start(): every connection, the channel, the counters. */
static void
ctl_stop(struct enginefix *f)
{
	struct engine	*e = &f->e;
	struct conn	*c;

	while ((c = TAILQ_FIRST(&e->conns)) != NULL)
		conn_free(c, NULL);
	assert_int_equal(e->q.queued, 0);
	(void)close(e->chan);
	(void)close(ctl.mon);
	e->chan = -1;
	e->lsn = NULL;
	e->nlsn = 0;
	free(e->svcst);
	e->svcst = NULL;
	memset(&e->st, 0, sizeof(e->st));
	stats_clear(&ctl.st);
	ef_stop(f);
}

static size_t
svc_index(const struct conf *conf, const char *name)
{
	size_t	 i;

	for (i = 0; i < conf->nservices; i++)
		if (strcmp(conf->services[i].name, name) == 0)
			return i;
	fail_msg("no service %s", name);
	return 0;
}

static struct conn *
conn_find(struct engine *e, uint64_t id)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &e->conns, entry)
		if (c->id == id)
			return c;
	return NULL;
}

/* A connection to the control service; *cli the test's end. */
static struct conn *
ctl_conn(struct enginefix *f, int *cli)
{
	struct engine	*e = &f->e;
	struct conn	*c;
	uint64_t	 id;
	int		 sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv), 0);
	id = engine_next_id(e);
	engine_serve_admitted(e, svc_index(e->conf, "control"), sv[0], id,
	    "uid:0", NULL, NULL, NULL);
	assert_non_null(c = conn_find(e, id));
	assert_non_null(c->bev);
	assert_int_equal(c->service->builtin, BUILTIN_CONTROL);
	*cli = sv[1];
	return c;
}

/*
 * What c's output holds, as a string; the buffer keeps it.  The start
 * of a bufferevent's output is frozen (evbuffer_copyout() refuses it),
 * so its chains are peeked at instead.
 */
static char *
out_text(struct conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	struct evbuffer_iovec v[16];
	size_t		 n = evbuffer_get_length(out), off = 0;
	char		*s;
	int		 i, nv;

	assert_non_null(s = calloc(1, n + 1));
	nv = evbuffer_peek(out, -1, NULL, v, 16);
	assert_true(nv >= 0 && nv <= 16);
	for (i = 0; i < nv; i++) {
		memcpy(s + off, v[i].iov_base, v[i].iov_len);
		off += v[i].iov_len;
	}
	assert_int_equal(off, n);
	assert_null(memchr(s, '\0', n));
	return s;
}

/*
 * control_request() of line from uid on a new connection, which must
 * answer at once; the answer.  *rc gets what it returned.
 */
static char *
request(struct enginefix *f, const char *line, uint32_t uid, int *cli)
{
	struct conn	*c = ctl_conn(f, cli);
	char		*s;

	assert_int_equal(control_request(c, line, uid), 1);
	assert_false(c->ctl_wait);
	s = out_text(c);
	conn_free(c, NULL);
	(void)close(*cli);
	return s;
}

/* Read cli while the engine runs, until it closes (WAIT_MS at most). */
static char *
read_to_eof(struct enginefix *f, int cli)
{
	uint64_t	 end = ef_now() + WAIT_MS;
	char		*buf;
	size_t		 got = 0, size = 65536;
	ssize_t		 r;

	assert_non_null(buf = calloc(1, size));
	for (;;) {
		if (ef_now() >= end)
			fail_msg("no close after %zu bytes: %s", got, buf);
		ef_step(f);
		r = recv(cli, buf + got, size - 1 - got, MSG_DONTWAIT);
		if (r == 0)
			break;
		if (r == -1) {
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR);
			continue;
		}
		got += (size_t)r;
		assert_true(got < size - 1);
	}
	buf[got] = '\0';
	return buf;
}

/* line sent through the socket, as portmuxctl sends it; the answer. */
static char *
ask(struct enginefix *f, const char *line)
{
	size_t	 before = f->e.nconns, len = strlen(line);
	char	*s;
	int	 cli;

	(void)ctl_conn(f, &cli);
	assert_int_equal(send(cli, line, len, MSG_NOSIGNAL), (ssize_t)len);
	assert_int_equal(send(cli, "\n", 1, MSG_NOSIGNAL), 1);
	s = read_to_eof(f, cli);
	(void)close(cli);
	/* Answered, then closed and forgotten. */
	assert_int_equal(f->e.nconns, before);
	return s;
}

/* The monitor has been sent nothing. */
static void
assert_no_msg_sent(void)
{
	char	 c;

	assert_int_equal(recv(ctl.mon, &c, 1, MSG_DONTWAIT | MSG_PEEK), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

/* The one message the monitor has been sent. */
static void
recv_msg(struct msg_hdr *hdr, void *buf, size_t size)
{
	int	 fd = -1;

	assert_int_equal(msg_recv(ctl.mon, hdr, buf, size, &fd), 1);
	assert_int_equal(fd, -1);
	assert_no_msg_sent();
}

/* Nothing comes on cli, and the connection stays, while the loop runs. */
static void
assert_quiet(struct enginefix *f, int cli)
{
	size_t	 n = f->e.nconns;
	char	 c;
	int	 i;

	for (i = 0; i < 20; i++) {
		ef_step(f);
		assert_int_equal(recv(cli, &c, 1, MSG_DONTWAIT | MSG_PEEK),
		    -1);
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	}
	assert_int_equal(f->e.nconns, n);
}

/* got is exactly the error answer code with msg (unquoted). */
static void
assert_error(const char *got, const char *code, const char *msg)
{
	char	 q[512], want[640];

	(void)log_quote(q, sizeof(q), msg, strlen(msg));
	(void)snprintf(want, sizeof(want), "portmuxd/1 error code=%s msg=%s\n"
	    "end\n", code, q);
	assert_string_equal(got, want);
}

/*
 * status: a row per listener, "service=NAME" and then status_fields()
 * of the row, as the log's dump writes them; the values themselves are
 * checked on the echo and day rows.
 */
static void
test_control_status(void **state)
{
	struct enginefix	*f = *state;
	struct engine		*e = &f->e;
	struct status_row	 r;
	char			 fields[512], want[4096], *got, *p;
	size_t			 i, echo;
	int			 n;

	ctl_start(f);
	echo = svc_index(e->conf, "echo");
	stats_add(&e->svcst[echo]->accepted, 5);
	stats_refused(e->svcst[echo], REASON_RATE);
	got = ask(f, "portmuxctl/1 status");
	assert_true(strncmp(got, "portmuxd/1 ok\n", 14) == 0);
	/*
	 * The rows as status_fields() makes them now; the control row's
	 * active count is 0 again, as its connection is gone, and its
	 * accepted count (1) came before the answer was made.
	 */
	n = snprintf(want, sizeof(want), "portmuxd/1 ok\n");
	for (i = 0; i < e->nlsn; i++) {
		status_row(e, &e->lsn[i], &r);
		if (strcmp(r.service, "control") == 0)
			r.active = 1;	/* while it answered */
		(void)status_fields(&r, fields, sizeof(fields));
		n += snprintf(want + n, sizeof(want) - (size_t)n,
		    "service=%s %s\n", r.service, fields);
	}
	(void)snprintf(want + n, sizeof(want) - (size_t)n, "end\n");
	assert_string_equal(got, want);
	/* And what they say. */
	assert_non_null(strstr(got, "\nservice=echo proto=tcp "
	    "local=127.0.0.1:10007 state=listen kind=builtin:echo active=0 "
	    "limit=10 accepted=5 refused=1 last_refusal=rate\n"));
	assert_non_null(strstr(got, "\nservice=hello proto=tcp "
	    "local=127.0.0.1:10008 state=listen kind=exec active=0 "
	    "limit=64 accepted=0 refused=0 last_refusal=-\n"));
	assert_non_null(strstr(got, "\nservice=day proto=unix "
	    "local=\"" DAY_PATH "\" state=listen kind=builtin:daytime "
	    "active=0 limit=64 accepted=0 refused=0 last_refusal=-\n"));
	assert_non_null(p = strstr(got, "\nservice=control proto=unix "
	    "local=" CTL_PATH " state=listen kind=builtin:control active=1 "));
	assert_non_null(strstr(p, " accepted=1 refused=0 last_refusal=-\n"));
	free(got);
	ctl_stop(f);
}

/* stats: one record, the engine's counters. */
static void
test_control_stats(void **state)
{
	struct enginefix	*f = *state;
	struct engine		*e = &f->e;
	struct srckey		 k;
	char			*got;
	uint64_t		 now = wall_ms();

	ctl_start(f);
	stats_add(&e->st.proc->reloads, 2);
	stats_add(&e->st.proc->restarts, 1);
	stats_add(&e->st.proc->knocks, 4);
	stats_add(&e->st.proc->scans, 3);
	stats_add(&e->svcst[svc_index(e->conf, "echo")]->accepted, 10);
	stats_refused(e->svcst[svc_index(e->conf, "hello")], REASON_ACL);
	memset(&k, 0, sizeof(k));
	k.family = AF_INET;
	k.prefix = 32;
	assert_int_equal(inet_pton(AF_INET, "192.0.2.7", k.addr), 1);
	assert_int_equal(ban_add(&e->bans, &k, now + 60000, BAN_TRAP, now),
	    0);
	got = ask(f, "portmuxctl/1 stats");
	/* The control connection itself: accepted, and open meanwhile. */
	assert_string_equal(got, "portmuxd/1 ok\n"
	    "generation=7 reloads=2 restarts=1 services=4 listeners=4 "
	    "connections=1 children=0 bans=1 knocks=4 scans=3 accepted=11 "
	    "refused=1\nend\n");
	free(got);
	ctl_stop(f);
}

/*
 * bans: a record per live ban; an expired one is not shown.  remaining_s
 * rounds up, so a ban of 60 s reads 60 unless a second went by.
 */
static void
test_control_bans(void **state)
{
	struct enginefix	*f = *state;
	struct engine		*e = &f->e;
	struct srckey		 k4, k6, old;
	char			 l4[80], l6[80], want[256], *got, *p;
	uint64_t		 now = wall_ms(), rem4, rem6;
	int			 cli;

	ctl_start(f);
	got = ask(f, "portmuxctl/1 bans");
	assert_string_equal(got, "portmuxd/1 ok\nend\n");
	free(got);
	memset(&k4, 0, sizeof(k4));
	k4.family = AF_INET;
	k4.prefix = 32;
	assert_int_equal(inet_pton(AF_INET, "192.0.2.7", k4.addr), 1);
	memset(&k6, 0, sizeof(k6));
	k6.family = AF_INET6;
	k6.prefix = 64;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:1:2::", k6.addr), 1);
	memset(&old, 0, sizeof(old));
	old.family = AF_INET;
	old.prefix = 32;
	assert_int_equal(inet_pton(AF_INET, "198.51.100.1", old.addr), 1);
	assert_int_equal(ban_add(&e->bans, &k4, now + 60000, BAN_TRAP, now),
	    0);
	assert_int_equal(ban_add(&e->bans, &k6, now + 300000, BAN_RATE, now),
	    0);
	assert_int_equal(ban_add(&e->bans, &old, now - 1, BAN_SCAN, now - 10),
	    0);
	got = request(f, "portmuxctl/1 bans", 1234, &cli);
	assert_true(strncmp(got, "portmuxd/1 ok\n", 14) == 0);
	assert_non_null(p = strstr(got, "\naddr=192.0.2.7/32 remaining_s="));
	rem4 = ef_num(p + 1, "remaining_s");
	assert_true(rem4 == 60 || rem4 == 59);
	assert_non_null(p = strstr(got, "\naddr=2001:db8:1:2::/64 "
	    "remaining_s="));
	rem6 = ef_num(p + 1, "remaining_s");
	assert_true(rem6 == 300 || rem6 == 299);
	/* Exactly these two records, in the table's order, then end. */
	(void)snprintf(l4, sizeof(l4), "addr=192.0.2.7/32 remaining_s=%llu "
	    "reason=trap\n", (unsigned long long)rem4);
	(void)snprintf(l6, sizeof(l6), "addr=2001:db8:1:2::/64 "
	    "remaining_s=%llu reason=rate\n", (unsigned long long)rem6);
	(void)snprintf(want, sizeof(want), "portmuxd/1 ok\n%s%send\n",
	    strstr(got, l4) < strstr(got, l6) ? l4 : l6,
	    strstr(got, l4) < strstr(got, l6) ? l6 : l4);
	assert_string_equal(got, want);
	assert_null(strstr(got, "198.51.100.1"));
	free(got);
	ctl_stop(f);
}

/* connections: the builtin connections, the asking one included. */
static void
test_control_connections(void **state)
{
	struct enginefix	*f = *state;
	struct engine		*e = &f->e;
	struct sockaddr_in	 lsin, csin, asin;
	socklen_t		 len;
	struct conn		*c;
	char			 want[512], *got;
	uint64_t		 echo_id, ctl_id;
	int			 lfd, tcli, tfd, cli;

	ctl_start(f);
	/* An echo connection over TCP, admitted as the engine would. */
	lfd = ef_tcp_listen("127.0.0.1", 4, &lsin);
	tcli = ef_tcp_connect(&lsin);
	assert_true((tfd = ef_accept(f, lfd, WAIT_MS)) != -1);
	len = sizeof(csin);
	assert_int_equal(getsockname(tcli, (struct sockaddr *)&csin, &len),
	    0);
	len = sizeof(asin);
	assert_int_equal(getsockname(tfd, (struct sockaddr *)&asin, &len), 0);
	echo_id = engine_next_id(e);
	engine_serve_admitted(e, svc_index(e->conf, "echo"), tfd, echo_id,
	    "127.0.0.1", NULL, NULL, NULL);
	assert_non_null(conn_find(e, echo_id));
	c = ctl_conn(f, &cli);
	ctl_id = c->id;
	c->bytes_in = 25;		/* as read_cb() counts the line */
	assert_int_equal(control_request(c, "portmuxctl/1 connections", 0), 1);
	got = out_text(c);
	(void)snprintf(want, sizeof(want), "portmuxd/1 ok\n"
	    "conn=%llu service=echo peer=127.0.0.1:%u local=127.0.0.1:%u "
	    "pid=- age_s=0 bytes_in=0 bytes_out=0 state=builtin\n"
	    "conn=%llu service=control peer=uid:%u/pid:%ld local=" CTL_PATH
	    " pid=- age_s=0 bytes_in=25 bytes_out=0 state=builtin\n"
	    "end\n", (unsigned long long)echo_id, ntohs(csin.sin_port),
	    ntohs(asin.sin_port), (unsigned long long)ctl_id,
	    (unsigned)geteuid(), (long)getpid());
	assert_string_equal(got, want);
	free(got);
	(void)close(cli);
	(void)close(tcli);
	(void)close(lfd);
	ctl_stop(f);
}

/* Each malformed request: its code, its message, and nothing waits. */
static void
test_control_errors(void **state)
{
	struct enginefix	*f = *state;
	static const struct {
		const char	*line;
		const char	*code;
		const char	*msg;
	} bad[] = {
		{ "portmuxctl/2 status", "version",
		    "this portmuxd speaks version 1" },
		{ "portmuxctl/10 reload", "version",
		    "this portmuxd speaks version 1" },
		{ "status", "usage", "expected \"portmuxctl/1 COMMAND [ARG]\"" },
		{ "portmuxd/1 status", "usage",
		    "expected \"portmuxctl/1 COMMAND [ARG]\"" },
		{ "portmuxctl/1", "usage",
		    "expected \"portmuxctl/1 COMMAND [ARG]\"" },
		{ "", "usage", "expected \"portmuxctl/1 COMMAND [ARG]\"" },
		{ "portmuxctl/1 frobnicate", "usage", "unknown command; "
		    "expected status, connections, bans, stats, unban, "
		    "reload or reopen" },
		{ "portmuxctl/1 STATUS", "usage", "unknown command; "
		    "expected status, connections, bans, stats, unban, "
		    "reload or reopen" },
		{ "portmuxctl/1 unban", "usage",
		    "unban takes one address or prefix" },
		{ "portmuxctl/1 unban 192.0.2.1 192.0.2.2", "usage",
		    "unban takes one address or prefix" },
		{ "portmuxctl/1 unban 192.0.2.300", "usage",
		    "unban: not an address nor a CIDR prefix" },
		{ "portmuxctl/1 unban example.com", "usage",
		    "unban: not an address nor a CIDR prefix" },
		{ "portmuxctl/1 unban 192.0.2.1/33", "usage",
		    "unban: not an address nor a CIDR prefix" },
		{ "portmuxctl/1 status now", "usage", "too many arguments" },
		{ "portmuxctl/1 stats -v", "usage", "too many arguments" },
		{ "portmuxctl/1 reload now", "usage", "too many arguments" },
		{ "portmuxctl/1 bans 192.0.2.1", "usage",
		    "too many arguments" },
	};
	char		*got;
	size_t		 i;
	int		 cli;

	ctl_start(f);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		got = request(f, bad[i].line, 0, &cli);
		if (strstr(got, bad[i].code) == NULL)
			print_error("request \"%s\"\n", bad[i].line);
		assert_error(got, bad[i].code, bad[i].msg);
		free(got);
	}
	/* The exact bytes of one, the quoting of its message included. */
	got = request(f, "status", 0, &cli);
	assert_string_equal(got, "portmuxd/1 error code=usage "
	    "msg=\"expected \\\"portmuxctl/1 COMMAND [ARG]\\\"\"\nend\n");
	free(got);
	assert_no_msg_sent();
	/* Through the socket: answered, and closed. */
	got = ask(f, "portmuxctl/2 status");
	assert_string_equal(got, "portmuxd/1 error code=version "
	    "msg=\"this portmuxd speaks version 1\"\nend\n");
	free(got);
	ctl_stop(f);
}

/*
 * unban and reload change state: root only when portmuxd started as
 * root (conf->as_root, which CONF_AS_USER clears in the fixture's load,
 * so the test sets it as a root start would have), else also the user
 * portmuxd runs as.  A refusal sends the monitor nothing.
 */
static void
test_control_denied(void **state)
{
	struct enginefix	*f = *state;
	static const char	*const lines[] = { "portmuxctl/1 unban 192.0.2.7",
	    "portmuxctl/1 reload" };
	char			*got, *l;
	size_t			 i;
	int			 cli;

	ctl_start(f);
	f->e.conf->as_root = true;
	for (i = 0; i < 2; i++) {
		got = request(f, lines[i], 1234, &cli);
		assert_string_equal(got, "portmuxd/1 error code=denied "
		    "msg=\"only root may run this command\"\nend\n");
		free(got);
		assert_no_msg_sent();
	}
	l = ef_expect(f, "action=refuse reason=acl uid=1234 command=unban",
	    NULL, 0);
	free(l);
	l = ef_expect(f, "action=refuse reason=acl uid=1234 command=reload",
	    NULL, 0);
	free(l);
	/* As root, even the engine's own uid is refused, unless it is 0. */
	if (getuid() != 0) {
		got = request(f, "portmuxctl/1 reload", (uint32_t)getuid(),
		    &cli);
		assert_error(got, "denied", "only root may run this command");
		free(got);
	}
	/* The read commands are anyone's. */
	got = request(f, "portmuxctl/1 stats", 1234, &cli);
	assert_true(strncmp(got, "portmuxd/1 ok\ngeneration=7 ", 27) == 0);
	free(got);
	/* Not started by root: its own user may, another may not. */
	f->e.conf->as_root = false;
	if (getuid() + 1 != 0) {
		got = request(f, "portmuxctl/1 reload", (uint32_t)getuid() + 1,
		    &cli);
		assert_error(got, "denied", "only root may run this command");
		free(got);
	}
	assert_no_msg_sent();
	ctl_stop(f);
}

/*
 * unban from root: the monitor is sent MSG_CTL_UNBAN with the key of
 * the address or prefix, id the connection, and the connection waits,
 * answering nothing, until control_done() says how many bans went.
 */
static void
test_control_unban(void **state)
{
	struct enginefix	*f = *state;
	struct engine		*e = &f->e;
	struct msg_ctl_done	 d;
	struct msg_unban	 mu, zero;
	struct msg_hdr		 hdr;
	struct conn		*c;
	uint8_t			 want[16];
	char			*got, *l;
	uint64_t		 id;
	size_t			 n;
	int			 cli;

	ctl_start(f);
	memset(&zero, 0, sizeof(zero));
	/* An IPv4 prefix. */
	c = ctl_conn(f, &cli);
	id = c->id;
	n = e->nconns;
	assert_int_equal(control_request(c, "portmuxctl/1 unban 192.0.2.0/24",
	    0), 0);
	assert_true(c->ctl_wait);
	assert_true(c->ctl_unban);
	assert_false(c->closing);
	assert_int_equal(evbuffer_get_length(bufferevent_get_output(c->bev)),
	    0);
	memset(&mu, 0xa5, sizeof(mu));
	recv_msg(&hdr, &mu, sizeof(mu));
	assert_int_equal(hdr.type, MSG_CTL_UNBAN);
	assert_int_equal(hdr.id, id);
	assert_int_equal(hdr.len, sizeof(mu));
	assert_int_equal(mu.key.family, AF_INET);
	assert_int_equal(mu.key.prefix, 24);
	memset(want, 0, sizeof(want));
	assert_int_equal(inet_pton(AF_INET, "192.0.2.0", want), 1);
	assert_memory_equal(mu.key.addr, want, sizeof(want));
	assert_memory_equal(mu.pad, zero.pad, sizeof(mu.pad));
	assert_int_equal(e->q.queued, 0);
	l = ef_expect(f, "action=control uid=0 command=unban "
	    "peer=192.0.2.0/24", NULL, 0);
	free(l);
	/* It waits: no answer, no close, while the loop runs. */
	assert_quiet(f, cli);
	assert_non_null(conn_find(e, id));
	/* An answer for another id, or a line, changes nothing. */
	memset(&d, 0, sizeof(d));
	d.ok = 1;
	d.count = 9;
	control_done(e, id + 100, &d);
	assert_true(c->ctl_wait);
	assert_int_equal(evbuffer_get_length(bufferevent_get_output(c->bev)),
	    0);
	/* The monitor's answer: three bans lifted. */
	d.count = 3;
	control_done(e, id, &d);
	assert_false(c->ctl_wait);
	got = read_to_eof(f, cli);
	assert_string_equal(got, "portmuxd/1 ok\nremoved=3\nend\n");
	free(got);
	(void)close(cli);
	assert_null(conn_find(e, id));
	assert_int_equal(e->nconns, n - 1);
	/* A second answer to a conn gone: ignored. */
	control_done(e, id, &d);
	/* An IPv6 address: prefix 128. */
	c = ctl_conn(f, &cli);
	assert_int_equal(control_request(c, "portmuxctl/1 unban 2001:db8::1",
	    0), 0);
	recv_msg(&hdr, &mu, sizeof(mu));
	assert_int_equal(hdr.type, MSG_CTL_UNBAN);
	assert_int_equal(hdr.id, c->id);
	assert_int_equal(mu.key.family, AF_INET6);
	assert_int_equal(mu.key.prefix, 128);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", want), 1);
	assert_memory_equal(mu.key.addr, want, sizeof(want));
	(void)close(cli);
	/* An IPv4 address alone: prefix 32. */
	c = ctl_conn(f, &cli);
	assert_int_equal(control_request(c, "portmuxctl/1 unban 203.0.113.9",
	    0), 0);
	recv_msg(&hdr, &mu, sizeof(mu));
	assert_int_equal(mu.key.family, AF_INET);
	assert_int_equal(mu.key.prefix, 32);
	memset(want, 0, sizeof(want));
	assert_int_equal(inet_pton(AF_INET, "203.0.113.9", want), 1);
	assert_memory_equal(mu.key.addr, want, sizeof(want));
	(void)close(cli);
	ctl_stop(f);
}

/* While the engine stops, unban and reload are refused: failed. */
static void
test_control_stopping(void **state)
{
	struct enginefix	*f = *state;
	char			*got;
	int			 cli;

	ctl_start(f);
	f->e.stopping = true;
	got = request(f, "portmuxctl/1 reload", 0, &cli);
	assert_error(got, "failed", "portmuxd is stopping or reloading; ask "
	    "again");
	free(got);
	assert_no_msg_sent();
	f->e.stopping = false;
	ctl_stop(f);
}

/*
 * reload: MSG_CTL_RELOAD without payload; refused, the answer is code
 * failed and the problems the monitor sent, one problem= each, in their
 * order and quoted as the log quotes; accepted, the new generation.
 */
static void
test_control_reload(void **state)
{
	struct enginefix	*f = *state;
	struct engine		*e = &f->e;
	struct msg_ctl_done	 d;
	struct msg_hdr		 hdr;
	struct conn		*c;
	char			 buf[MSG_MAXPAYLOAD], *got, *l;
	uint64_t		 id;
	int			 cli;

	ctl_start(f);
	c = ctl_conn(f, &cli);
	id = c->id;
	assert_int_equal(control_request(c, "portmuxctl/1 reload", 0), 0);
	assert_true(c->ctl_wait);
	assert_false(c->ctl_unban);
	recv_msg(&hdr, buf, sizeof(buf));
	assert_int_equal(hdr.type, MSG_CTL_RELOAD);
	assert_int_equal(hdr.id, id);
	assert_int_equal(hdr.len, 0);
	l = ef_expect(f, "action=control uid=0 command=reload", NULL, 0);
	free(l);
	assert_quiet(f, cli);
	control_line(e, id, "t.conf:3: service 'echo': port 'x' is bad");
	control_line(e, id, "t.conf:9: path \"/tmp/a b\" too long");
	/* A line for no waiting conn is dropped. */
	control_line(e, id + 100, "t.conf:1: not this one");
	memset(&d, 0, sizeof(d));
	d.ok = 0;
	d.generation = GENERATION;
	control_done(e, id, &d);
	got = read_to_eof(f, cli);
	assert_string_equal(got, "portmuxd/1 error code=failed "
	    "msg=\"reload refused, generation 7 kept\"\n"
	    "problem=\"t.conf:3: service 'echo': port 'x' is bad\"\n"
	    "problem=\"t.conf:9: path \\\"/tmp/a b\\\" too long\"\n"
	    "end\n");
	free(got);
	(void)close(cli);
	assert_null(conn_find(e, id));
	/* Refused without a line: the answer alone. */
	c = ctl_conn(f, &cli);
	id = c->id;
	assert_int_equal(control_request(c, "portmuxctl/1 reload", 0), 0);
	recv_msg(&hdr, buf, sizeof(buf));
	control_done(e, id, &d);
	got = read_to_eof(f, cli);
	assert_string_equal(got, "portmuxd/1 error code=failed "
	    "msg=\"reload refused, generation 7 kept\"\nend\n");
	free(got);
	(void)close(cli);
	/* Accepted: the generation now running. */
	c = ctl_conn(f, &cli);
	id = c->id;
	assert_int_equal(control_request(c, "portmuxctl/1 reload", 0), 0);
	recv_msg(&hdr, buf, sizeof(buf));
	d.ok = 1;
	d.generation = GENERATION + 1;
	control_done(e, id, &d);
	got = read_to_eof(f, cli);
	assert_string_equal(got, "portmuxd/1 ok\ngeneration=8\nend\n");
	free(got);
	(void)close(cli);
	ctl_stop(f);
}

/*
 * The whole path through the socket: read_cb() reads the line, asks
 * SO_PEERCRED (the test's own uid: root, or the engine's user, since
 * the fixture's load is not a root start), and the connection waits on
 * the monitor; more input meanwhile is ignored.
 */
static void
test_control_socket_reload(void **state)
{
	struct enginefix	*f = *state;
	struct engine		*e = &f->e;
	struct msg_ctl_done	 d;
	struct msg_hdr		 hdr;
	struct conn		*c;
	char			 buf[MSG_MAXPAYLOAD], *got;
	uint64_t		 end;
	int			 cli, r = -1, fd = -1;

	ctl_start(f);
	c = ctl_conn(f, &cli);
	assert_int_equal(send(cli, "portmuxctl/1 reload\n", 20, MSG_NOSIGNAL),
	    20);
	for (end = ef_now() + WAIT_MS; ef_now() < end; ) {
		ef_step(f);
		if ((r = msg_recv(ctl.mon, &hdr, buf, sizeof(buf), &fd)) >= 0)
			break;
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	}
	assert_true(r >= 0);
	assert_int_equal(hdr.type, MSG_CTL_RELOAD);
	assert_int_equal(hdr.id, c->id);
	assert_true(c->ctl_wait);
	assert_int_equal(c->bytes_in, 20);
	assert_int_equal(send(cli, "portmuxctl/1 stats\n", 19, MSG_NOSIGNAL),
	    19);
	assert_quiet(f, cli);
	assert_no_msg_sent();
	memset(&d, 0, sizeof(d));
	d.ok = 1;
	d.generation = 12;
	control_done(e, c->id, &d);
	got = read_to_eof(f, cli);
	assert_string_equal(got, "portmuxd/1 ok\ngeneration=12\nend\n");
	free(got);
	(void)close(cli);
	assert_int_equal(e->nconns, 0);
	ctl_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_control_status,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_control_stats,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_control_bans,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_control_connections,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_control_errors,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_control_denied,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_control_unban,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_control_stopping,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_control_reload,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_control_socket_reload,
		    ef_setup, ef_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
