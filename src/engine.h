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

#include "knock.h"
#include "localsrc.h"
#include "portmuxd.h"
#include "proto.h"
#include "scan.h"
#include "stats.h"

#include <event2/util.h>

struct event;
struct event_base;
struct evconnlistener;
struct bufferevent;
struct evbuffer;

struct engine;

#define WAKE_HEAD	64	/* bytes of a UDP wake-up kept to recognise it */

/* A listener as the engine watches it. */
struct elistener {
	struct engine		*e;
	struct listener		*l;
	struct evconnlistener	*evl;		/* stream, nowait */
	struct event		*ev;		/* UDP, or any wait service */
	struct event		*backoff;	/* re-enable after EMFILE */
	unsigned int		 delay_ms;
	bool			 busy;		/* a wait child holds it */
	/* Wait: handovers paused, dup failed (EMFILE); its own delay. */
	bool			 dup_paused;
	unsigned int		 dup_delay_ms;
	/*
	 * UDP wait: the datagram handed over, as a peek saw it, to tell at
	 * the exit whether the program read it; wake_len 0: none known.
	 */
	struct sockaddr_storage	 wake_ss;
	socklen_t		 wake_len;
	ssize_t			 wake_bytes;	/* its length */
	size_t			 wake_nhead;
	unsigned char		 wake_head[WAKE_HEAD];
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
	struct srcent		*se;		/* per_source slot held */
	bool			 closing;	/* flush, then close */
	/* The control socket: an answer the monitor is to give. */
	bool			 ctl_wait;
	bool			 ctl_unban;
	bool			 ctl_reopen;
	struct evbuffer		*ctl_lines;	/* reload problems so far */
};

/* The reason= vocabulary of refusals (DESIGN.md, Logging). */
enum reason {
	REASON_ACL = 1,
	REASON_PER_SOURCE,
	REASON_INSTANCES,
	REASON_RATE,
	REASON_MAX_CHILDREN,
	REASON_BANNED,
	REASON_OVERLOAD,
	REASON_TIMEOUT,
	REASON_BADSRC,
	REASON_FORK,
	REASON_EXEC,
	REASON_NOTFOUND,
	REASON_ERROR,
	REASON_KNOCK,
	REASON_TRAP,
	REASON_PROXY,
};

#define XCHILD_LINE	1024		/* a stderr line is cut here */
#define XCHILD_LINES_PER_SEC 50		/* then lines are counted, not logged */
#define XCHILD_LINGER	16		/* exited, stderr still read: per service */

/* An exec'd connection: a pending spawn, then a running child. */
struct xchild {
	TAILQ_ENTRY(xchild)	 entry;
	struct engine		*e;
	uint64_t		 id;
	long			 svc;		/* index, -1: not this gen's */
	char			 service[MSG_NAMELEN];
	pid_t			 pid;		/* 0 while pending */
	uint64_t		 start_us;	/* the spawn asked for */
	char			 peer[64];	/* for portmuxctl; "" unknown */
	char			 local[64];
	bool			 exited;
	struct elistener	*wait_lsn;	/* wait: re-armed at exit */
	struct srcent		*se;		/* per_source slot held */
	int			 acct_fd;	/* accounting: our copy, or -1 */
	int			 stderr_fd;
	struct event		*stderr_ev;
	char			 line[XCHILD_LINE];
	size_t			 llen;
	bool			 cut;		/* dropping a too long line */
	uint64_t		 win_start;
	unsigned int		 win_lines;
	unsigned int		 dropped;
};

/*
 * Refusals of a UDP builtin for one reason, counted between the lines
 * that log them (udp.c): sources are spoofable, so refusals that take
 * no source group entry are bounded per service, not per group.
 */
struct udprefusal {
	uint64_t		 logged_ms;
	uint32_t		 unlogged;
};
#define UDP_NREFUSAL	5		/* udp.c's reasons */

struct tmux;	/* a tcpmux client reading its name line (tcpmux.c) */
struct pxin;	/* a connection whose PROXY header is read (proxyin.c) */

/*
 * Where a stream connection came from, beyond its socket: named
 * through tcpmux, or sent by a trusted proxy whose header named the
 * client (client NULL: a LOCAL header, the proxy's own connection).
 */
struct origin {
	bool			 tcpmux;
	const struct sockaddr	*client;
	socklen_t		 clientlen;
	const char		*proxy;		/* its address, for via= */
};
struct relay;	/* a connection forwarded to a redirect target (relay.c) */
struct udpfwd;	/* the sessions of a UDP redirect service (udprelay.c) */

/* An empty pipe kept for the next relay that has bytes in flight. */
struct rpipe {
	int		 fd[2];
	uint32_t	 size;		/* its capacity, F_GETPIPE_SZ */
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
	TAILQ_HEAD(, tmux)	 tmuxes;
	TAILQ_HEAD(, pxin)	 pxins;
	TAILQ_HEAD(, relay)	 relays;
	size_t			 nconns;	/* conns, tmuxes, pxins, relays */
	struct rpipe		*pipes;		/* the pool, relay.c */
	size_t			 npipes;
	uint64_t		 pipe_err_logged;
	struct udpfwd		*fwd;		/* per service, udprelay.c */
	TAILQ_HEAD(, xchild)	 children;
	uint64_t		*conn_ids;
	struct srctab		 src;		/* per source group state */
	struct stats		 st;		/* shared counters, stats.c */
	struct svcstat		**svcst;	/* per service index, or NULL */
	uint32_t		*svc_hash;	/* limit_svc_hash() per service */
	/* UDP builtin refusals per service and reason (udp.c). */
	struct udprefusal	(*udpref)[UDP_NREFUSAL];
	struct localsrc		 loopsrc;	/* sources of builtin loops */
	struct bantab		 bans;
	uint64_t		 ban_full_logged;
	struct event		*sweep_ev;
	/* Groups with refusals counted but not logged yet (guard.c). */
	struct srcent		**pending;	/* room for e->src.size */
	size_t			 npending;
	uint64_t		 summary_token;	/* marks our pending entries */
	bool			 stopping;
	int			 stop_reason;
	struct event		*grace_ev;
	struct event		*term_ev;
	struct event		*flush_ev;	/* batched log lines */
	/* Knocking and scan detection (gatekeep.c). */
	struct knocktab		 knocks;
	struct scantab		 scans;
	int			 sniff_fd;
	struct event		*sniff_ev;
	uint64_t		 knock_full_logged;
	uint64_t		 sniff_err_logged;
};

/* engine.c */
uint64_t	 engine_next_id(struct engine *);
struct svcstat	*engine_stat(struct engine *, long);
void		 engine_count_accept(struct engine *, long);
void		 engine_count_refusal(struct engine *, long, int);
void		 engine_count_bytes(struct engine *, long, uint64_t, uint64_t);
const struct service *engine_svc_by_hash(struct engine *, uint32_t);
void		 engine_serve(struct engine *, size_t, int, uint64_t,
		    const struct sockaddr *, const char *,
		    const struct bindaddr *, const struct origin *);
void		 engine_drop(struct engine *, size_t, uint64_t, struct srcent *,
		    int);
void		 engine_serve_admitted(struct engine *, size_t, int, uint64_t,
		    const char *, struct srcent *, const struct bindaddr *,
		    const struct origin *);
void		 engine_rearm(struct elistener *, uint64_t);
void		 engine_wait_pause(struct elistener *, const char *, int);
void		 engine_send(struct engine *, uint32_t, uint64_t, const void *,
		    size_t, int);
void		 engine_check_done(struct engine *);

/* guard.c */
const char	*guard_reason(int);
const char	*guard_ban_reason(int);
void		 guard_group_fmt(const struct srckey *, char *, size_t);
int		 guard_admit(struct engine *, size_t, const struct sockaddr *,
		    int, struct srcent **);
void		 guard_refuse(struct engine *, size_t, struct srcent *, int,
		    uint64_t, const char *);
void		 guard_refuse_msg(struct engine *, size_t, struct srcent *, int,
		    uint64_t, const char *, const char *);
void		 guard_ban(struct engine *, const struct srckey *, int);
void		 guard_ban_relayed(struct engine *, const struct msg_ban *);
void		 guard_unban_log(const struct banent *, void *);
void		 guard_flush_all(struct engine *);
int		 guard_init(struct engine *, bool);

/* gatekeep.c */
int		 gk_init(struct engine *, const struct engine_init *);
void		 gk_window(struct engine *, const struct knockwin *);
void		 gk_free(struct engine *);
bool		 gk_knocked(struct engine *, size_t, const struct sockaddr *);
void		 gk_refused(struct engine *, size_t, const struct sockaddr *,
		    int);
void		 gk_trap(struct engine *, size_t, int, uint64_t,
		    const struct sockaddr *, const char *);
void		 gk_sweep(struct engine *);
void		 gk_stop(struct engine *);

/* priv.c */
void		 priv_spawn(struct engine *, size_t, int, uint64_t, uint32_t,
		    const struct sockaddr *, socklen_t, struct elistener *,
		    struct srcent *);
void		 priv_dispatch(struct engine *, struct msg_hdr *, const void *,
		    int);
void		 priv_fd_lost(struct engine *, const struct msg_hdr *,
		    const void *);
void		 priv_adopt_inherited(struct engine *, struct childq *, bool);
void		 priv_stop(struct engine *, bool);
size_t		 priv_open_pipes(struct engine *);
void		 priv_dump(struct engine *);

/* conn.c */
struct conn	*conn_new(struct engine *, size_t, uint64_t, struct srcent *);
void		 conn_free(struct conn *, const char *);
void		 conn_finish(struct conn *);
bool		 conn_write_done(struct conn *);

/* builtin.c */
int		 builtin_start(struct conn *, int);

/* tcpmux.c */
long		 tcpmux_line_end(const char *, size_t);
size_t		 tcpmux_trim(char *, size_t);
bool		 tcpmux_name_ok(const char *, size_t);
long		 tcpmux_lookup(const struct conf *, const char *);
void		 tcpmux_stop_all(struct engine *);

/* proxyin.c */
void		 proxyin_start(struct engine *, size_t, int, uint64_t,
		    const struct sockaddr *, const char *,
		    const struct bindaddr *);
void		 proxyin_stop_all(struct engine *);
void		 tcpmux_start(struct engine *, size_t, int, uint64_t,
		    struct srcent *);

/* relay.c */
struct conn_row;
void		 relay_rows(struct engine *,
		    void (*)(const struct conn_row *, void *), void *);
void		 tcpmux_rows(struct engine *,
		    void (*)(const struct conn_row *, void *), void *);
void		 proxyin_rows(struct engine *,
		    void (*)(const struct conn_row *, void *), void *);
void		 relay_start(struct engine *, size_t, int, uint64_t,
		    struct srcent *, const struct sockaddr *);
void		 relay_stop_all(struct engine *);
void		 relay_pool_free(struct engine *);
int		 relay_bind(const struct service *, int, int);
void		 relay_target_fmt(const struct service *, size_t, char *,
		    size_t);

/* udprelay.c */
void		 udp_redirect_cb(evutil_socket_t, short, void *);
int		 udprelay_init(struct engine *);
void		 udprelay_stop_all(struct engine *);
void		 udprelay_free(struct engine *);

/* udp.c */
void		 udp_builtin_cb(evutil_socket_t, short, void *);
void		 udp_wait_cb(evutil_socket_t, short, void *);
void		 stream_wait_cb(evutil_socket_t, short, void *);

#endif /* ENGINE_H */
