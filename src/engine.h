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
 * The engine's internal state, shared by the files of the unprivileged
 * process only (engine.c, priv.c, conn.c, builtin.c).
 */

#ifndef ENGINE_H
#define ENGINE_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>

#include "portmuxd.h"
#include "proto.h"

#include <event2/util.h>

struct event;
struct event_base;
struct evconnlistener;
struct bufferevent;

struct engine;

/* A listener as the engine watches it. */
struct elistener {
	struct engine		*e;
	struct listener		*l;
	struct evconnlistener	*evl;		/* stream, nowait */
	struct event		*ev;		/* UDP, or any wait service */
	struct event		*backoff;	/* re-enable after EMFILE */
	unsigned int		 delay_ms;
	bool			 busy;		/* a wait child holds it */
};

/* A connection served by a builtin; owned by e->conns. */
struct conn {
	TAILQ_ENTRY(conn)	 entry;
	struct engine		*e;
	uint64_t		 id;
	size_t			 svc;
	const struct service	*service;
	struct bufferevent	*bev;
	uint64_t		 start_ms;
	uint64_t		 bytes_in;
	uint64_t		 bytes_out;	/* queued for output */
	uint64_t		 chargen_line;
	bool			 closing;	/* flush, then close */
};

#define XCHILD_LINE	1024		/* a stderr line is cut here */
#define XCHILD_LINES_PER_SEC 50		/* then lines are counted, not logged */

/* An exec'd connection: a pending spawn, then a running child. */
struct xchild {
	TAILQ_ENTRY(xchild)	 entry;
	struct engine		*e;
	uint64_t		 id;
	long			 svc;		/* index, -1: not this gen's */
	char			 service[MSG_NAMELEN];
	pid_t			 pid;		/* 0 while pending */
	uint64_t		 start_ms;
	bool			 exited;
	struct elistener	*wait_lsn;	/* wait: re-armed at exit */
	int			 stderr_fd;
	struct event		*stderr_ev;
	char			 line[XCHILD_LINE];
	size_t			 llen;
	bool			 cut;		/* dropping a too long line */
	uint64_t		 win_start;
	unsigned int		 win_lines;
	unsigned int		 dropped;
};

struct engine {
	struct event_base	*base;
	struct conf		*conf;
	uint64_t		 generation;
	int			 chan;
	struct event		*chan_rev;
	struct event		*chan_wev;
	struct msgq		 q;
	struct elistener	*lsn;
	size_t			 nlsn;
	uint32_t		*active;	/* per service index */
	TAILQ_HEAD(, conn)	 conns;
	size_t			 nconns;
	TAILQ_HEAD(, xchild)	 children;
	uint64_t		*conn_ids;
	struct srctab		 src;		/* per source group state */
	bool			 stopping;
	int			 stop_reason;
	struct event		*grace_ev;
	struct event		*term_ev;
};

/* engine.c */
uint64_t	 engine_next_id(struct engine *);
const char	*engine_admit(struct engine *, size_t,
		    const struct sockaddr *);
void		 engine_serve(struct engine *, size_t, int, uint64_t,
		    const struct sockaddr *, const char *, bool);
void		 engine_rearm(struct elistener *, uint64_t);
void		 engine_send(struct engine *, uint32_t, uint64_t, const void *,
		    size_t, int);
void		 engine_check_done(struct engine *);
void		 engine_refuse_log(struct engine *, uint64_t,
		    const struct service *, const char *, const char *);

/* priv.c */
void		 priv_spawn(struct engine *, size_t, int, uint64_t, uint32_t,
		    const struct sockaddr *, socklen_t, struct elistener *);
void		 priv_dispatch(struct engine *, struct msg_hdr *, const void *,
		    int);
void		 priv_adopt_inherited(struct engine *, struct childq *);
void		 priv_stop(struct engine *, bool);
size_t		 priv_open_pipes(struct engine *);
void		 priv_dump(struct engine *);

/* conn.c */
struct conn	*conn_new(struct engine *, size_t, uint64_t);
void		 conn_free(struct conn *, const char *);

/* builtin.c */
int		 builtin_start(struct conn *, int);

/* tcpmux.c */
long		 tcpmux_line_end(const char *, size_t);
size_t		 tcpmux_trim(char *, size_t);
long		 tcpmux_lookup(const struct conf *, const char *);
void		 tcpmux_start(struct engine *, size_t, int, uint64_t,
		    const struct sockaddr *);

/* udp.c */
void		 udp_builtin_cb(evutil_socket_t, short, void *);
void		 udp_wait_cb(evutil_socket_t, short, void *);
void		 stream_wait_cb(evutil_socket_t, short, void *);

#endif /* ENGINE_H */
