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
 * Shared structures of portmuxd and the prototypes of every file, grouped
 * by file.  A loaded struct conf is immutable: a reload builds a new one.
 */

#ifndef PORTMUXD_H
#define PORTMUXD_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef __dead
#define __dead __attribute__((__noreturn__))
#endif
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif

#define PORTMUX_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Limits use UINT32_MAX for the explicit "unlimited". */
#define LIMIT_UNLIMITED UINT32_MAX

enum proto {
	PROTO_TCP,
	PROTO_UDP,
	PROTO_UNIX,
};

enum builtin {
	BUILTIN_NONE,
	BUILTIN_ECHO,
	BUILTIN_DISCARD,
	BUILTIN_DAYTIME,
	BUILTIN_CHARGEN,
	BUILTIN_TIME,
	BUILTIN_TCPMUX,
	BUILTIN_TRAP,		/* close at once, ban the source */
	BUILTIN_METRICS,	/* Prometheus text over HTTP (metrics.c) */
	BUILTIN_CONTROL,	/* the control socket (control.c) */
};

enum scan_detect {
	SCAN_CONNECT,		/* traps and refused services */
	SCAN_SYN,		/* and every SYN to this host */
};

enum firewall {
	FIREWALL_NONE,
	FIREWALL_NFTABLES,
};

enum stderr_mode {
	STDERR_LOG,
	STDERR_CLIENT,
	STDERR_NULL,
};

enum log_dest {
	LOG_TO_SYSLOG,
	LOG_TO_STDERR,
	LOG_TO_FILE,
};

/* An address block: family AF_INET or AF_INET6, network byte order. */
struct knock_step;		/* knock.h */

struct cidr {
	int		 family;
	uint8_t		 addr[16];
	unsigned int	 prefix;
};

struct acl {
	struct cidr	*v;
	size_t		 n;
};

/* N events per window; count == 0 means unlimited. */
struct rate {
	uint32_t	 count;
	uint32_t	 window_ms;
};

/* An rlimit setting: set == false keeps the inherited (original) limit. */
struct rlim {
	bool		 set;
	rlim_t		 value;		/* RLIM_INFINITY for "unlimited" */
};

/* One address a service binds. */
struct timeval;

struct bindaddr {
	struct sockaddr_storage ss;	/* port filled in */
	socklen_t	 len;
	bool		 wildcard;	/* 0.0.0.0 or :: */
	bool		 implicit;	/* from the default address list */
};

struct service {
	char		*name;
	char		*file;		/* where the section starts */
	int		 line;
	enum proto	 proto;
	uint16_t	 port;		/* host order; 0: tcpmux only */
	struct bindaddr	*addrs;		/* tcp/udp; none for unix, tcpmux only */
	size_t		 naddrs;

	enum builtin	 builtin;
	char		*server;	/* absolute path (inside chroot) */
	char		**args;		/* argv, NULL-terminated, never NULL */
	char		**env;		/* "K=V", NULL-terminated, never NULL */
	char		**passenv;	/* names, NULL-terminated, never NULL */
	char		*user;		/* resolved at load; NULL for builtins */
	char		*group;
	uid_t		 uid;		/* (uid_t)-1 when unknown */
	gid_t		 gid;
	gid_t		*groups;	/* supplementary, from getgrouplist */
	int		 ngroups;	/* 0 when not started as root */
	bool		 user_known;	/* false only under -n (a warning) */

	bool		 wait;
	uint32_t	 instances;	/* LIMIT_UNLIMITED or > 0; 1 if wait */
	uint32_t	 per_source;
	struct rate	 rate;
	unsigned int	 source_prefix4;
	unsigned int	 source_prefix6;
	struct acl	 allow;
	struct acl	 deny;
	uint32_t	 timeout_ms;
	uint32_t	 tcpmux_timeout_ms;
	uint32_t	 tcpmux_maxlen;
	struct rate	 udp_reply_rate;
	struct rate	 ban_after;
	uint32_t	 ban_factor;

	struct rlim	 rlimit_nofile;
	struct rlim	 rlimit_cpu;
	struct rlim	 rlimit_as;
	struct rlim	 rlimit_nproc;
	bool		 nice_set;
	int		 nice;
	bool		 umask_set;
	mode_t		 umask;
	char		*chroot;
	enum stderr_mode stderr_mode;

	int		 backlog;
	bool		 v6only;
	bool		 keepalive;
	bool		 freebind;
	bool		 disable;
	bool		 host_bad;	/* a problem of this host: not served */
	bool		 accounting;
	bool		 tcpmux;

	/* Knocking (knock.c): refused until the source knocks. */
	struct knock_step *knock;	/* the sequence, NULL if none */
	size_t		 nknock;
	uint32_t	 knock_timeout_ms;
	uint32_t	 knock_open_ms;
	uint16_t	*gate;		/* TCP ports a knock opens, host order */
	size_t		 ngate;		/* > 0: a gate, which serves nothing */

	/*
	 * Forwarding (relay.c, udprelay.c): the addresses redirect names,
	 * resolved at load, tried in turn.
	 */
	char		*redirect;	/* as written, NULL: not a redirect */
	struct bindaddr	*targets;
	size_t		 ntargets;
	struct bindaddr	 redirect_source; /* len 0: the kernel chooses */
	uint32_t	 redirect_timeout_ms;
	unsigned int	 redirect_proxy;	/* PROXY_V1/V2 to the target */
	/* PROXY protocol in (proxyin.c): accepted versions, 0 if off. */
	unsigned int	 proxy_versions;
	struct acl	 trusted_proxies;
	uint32_t	 proxy_timeout_ms;
	uint32_t	 redirect_buffer;	/* bytes held per direction */
	uint32_t	 udp_session_timeout_ms;
	uint32_t	 udp_sessions;

	/* protocol = unix */
	char		*path;
	mode_t		 mode;		/* 0666 unless mode_set */
	bool		 mode_set;
	bool		 owner_set;
	uid_t		 owner_uid;
	gid_t		 owner_gid;
};

struct conf {
	char		*file;
	bool		 as_root;	/* loaded for a root start */
	char		*user;		/* engine account */
	char		*group;
	uid_t		 uid;
	gid_t		 gid;
	char		*pidfile;	/* NULL: none */
	bool		 pidfile_set;	/* given in the file */
	enum log_dest	 log_dest;
	char		*log_file;	/* log = file: its path */
	int		 log_facility;	/* LOG_DAEMON ... */
	int		 log_level;	/* LOG_ERR, LOG_WARNING, LOG_INFO... */
	uint32_t	 max_children;
	struct acl	 allow;
	struct acl	 deny;
	uint32_t	 ban_time_ms;
	uint32_t	 ban_max;
	uint32_t	 reload_grace_ms;
	uint32_t	 stop_grace_ms;

	uint32_t	 knock_max;
	uint32_t	 scan_ports;	/* 0: no scan detection */
	uint32_t	 scan_window_ms;
	enum scan_detect scan_detect;
	uint32_t	 scan_ban_time_ms;
	struct acl	 never_ban;
	enum firewall	 firewall;
	char		*nft_table;

	struct service	*services;	/* disabled ones excluded */
	size_t		 nservices;
};

/* A listening socket; the monitor owns it, each engine has a copy. */
struct listener {
	int		 fd;
	size_t		 service;	/* index in its generation's conf */
	struct bindaddr	 addr;
	enum proto	 proto;
	bool		 v6only;
	bool		 reused;	/* kept from the previous generation */
	bool		 passed;	/* the service manager's: never closed */
	int		 backlog;
	/* protocol = unix */
	char		*path;		/* owned; unlinked when closed */
	char		*tmp;		/* bound here until committed */
	dev_t		 dev;		/* the path's inode, to unlink only */
	ino_t		 ino;		/* our own socket */
	mode_t		 mode;
	bool		 owner_set;
	uid_t		 owner_uid;
	gid_t		 owner_gid;
};

/* A source group: an address with the bits past its prefix cleared. */
struct srckey {
	uint8_t		 family;
	uint8_t		 prefix;
	uint8_t		 addr[16];
};

/* A live exec'd child, as the monitor tracks it. */
struct child {
	TAILQ_ENTRY(child) entry;
	pid_t		 pid;
	uint64_t	 conn;
	char		 service[72];	/* MSG_NAMELEN */
	uint64_t	 start_ms;	/* monotonic */
	int		 stderr_fd;	/* read end, -1 if none; handed to engines */
	int		 listen_fd;	/* wait: the listener it holds, else -1 */
	ino_t		 listen_ino;	/* that listener's inode: fds get reused */
	bool		 wait;		/* a wait program (holds a port) */
	uid_t		 uid;
	struct srckey	 key;		/* its per_source group (family 0: none) */
};
TAILQ_HEAD(childq, child);

/* What the monitor checked and prepared for one spawn. */
struct spawn_req {
	int		 sock;		/* client socket, or listener (wait) */
	int		 listen_fd;	/* wait: the monitor's listener, else -1 */
	uint64_t	 conn;
	char		**envp;
	bool		 as_root;
	struct rlimit	 orig_nofile;
};

struct bucket {
	bool		 init;
	uint64_t	 tokens;	/* scaled by the rate's window_ms */
	uint64_t	 last_ms;
	uint64_t	 full_ms;	/* when it holds its cap again */
};

/*
 * Refusals of one reason from one source group, counted between the
 * lines that log them: at most one line a second stands for them all.
 */
#define SRC_NSUMMARY	10		/* reasons summarised per group */
struct refsum {
	uint64_t	 logged_ms;	/* the last line of this reason */
	uint32_t	 unlogged;	/* refusals since; atomic */
};

/* What srcent_refusal() says to do with a refusal. */
enum refusal_log {
	REFUSAL_LOG,			/* log its own line */
	REFUSAL_COUNT,			/* counted: a summary will tell */
	REFUSAL_SUMMARY,		/* log the summary, which counts it */
};

/*
 * What the engines remember of one source group of one service.  It
 * lives in memory shared by every engine generation (limit.c).
 */
struct srcent {
	/*
	 * Claimed with a compare-and-swap, never a lock: generation << 2 |
	 * SRC_FREE, SRC_BUSY (being written by one engine) or SRC_LIVE.
	 */
	uint32_t	 state;
	uint32_t	 pins;		/* lookups using it now; atomic */
	struct srckey	 key;
	uint32_t	 svc;		/* limit_svc_hash() of the name */
	uint32_t	 active;	/* open connections; atomic */
	uint64_t	 seen_ms;
	struct bucket	 rate;		/* rate */
	struct bucket	 flood;		/* rate x ban_factor: then a ban */
	struct bucket	 refused;	/* ban_after: then a ban */
	struct bucket	 reply;		/* udp_reply_rate */
	uint64_t	 logged_ms;	/* UDP: last info line about it */
	uint32_t	 unlogged;	/* UDP: datagrams since, at debug */
	/* TCP refusals by reason, and the engine that will summarise them. */
	struct refsum	 refused_log[SRC_NSUMMARY];
	uint64_t	 summary_owner;	/* an engine's token; 0: none */
};

struct srctab {
	struct srcent	*v;
	size_t		 size;		/* a power of two */
	uint64_t	 seed;
	bool		 shared;	/* mmap'ed, shared across engines */
};

/* A banned source group (ban.c). */
struct banent {
	bool		 used;
	uint8_t		 reason;	/* enum ban_reason */
	struct srckey	 key;		/* with its prefix */
	uint64_t	 until;		/* wall clock, ms since the epoch */
};

enum ban_reason {
	BAN_RATE = 1,			/* above rate x ban_factor */
	BAN_REFUSED,			/* refused ban_after times */
	BAN_TRAP,			/* connected to a trap */
	BAN_SCAN,			/* touched scan_ports ports */
	BAN_SYNSCAN,			/* the same, seen in SYNs only */
};

struct bantab {
	struct banent	*v;
	size_t		 size;		/* slots, a power of two */
	size_t		 count;
	size_t		 max;		/* ban_max */
	uint64_t	 seed;
	uint32_t	 pfx4[33];	/* bans per prefix length */
	uint32_t	 pfx6[129];
};

/* A knock window the monitor keeps, for the engines that come next. */
struct knockwin {
	char		 service[72];	/* MSG_NAMELEN */
	struct srckey	 key;
	uint64_t	 until;		/* wall clock ms */
};

/* The daemon's state, one instance in portmuxd.c. */
struct engine_init;
struct sdlisten;
struct sdnotify;

struct portmuxd {
	const char	*conf_path;
	struct conf	*conf;		/* current generation */
	bool		 foreground;
	bool		 debug;
	int		 ready_fd;	/* tell the waiting parent, then close */
	struct rlimit	 orig_nofile;	/* as inherited, for children */
	/* What a forked engine runs: engine_main; a stand-in in tests. */
	int		(*engine)(struct engine_init *);
	struct sdlisten	*passed;	/* sockets passed by systemd, or NULL */
	struct sdnotify	*notify;	/* its readiness socket, or NULL */
	int		 load_flags;	/* CONF_DAEMON or 0, for every load */
	char		*log_path;	/* log = file as a daemon: the file */
};

/* What a freshly forked engine starts from (all inherited by fork). */
struct engine_init {
	struct conf	*conf;
	uint64_t	 generation;
	struct listener	*ls;
	size_t		 nls;
	int		 chan;		/* engine end of the channel */
	struct childq	*children;	/* live children to adopt */
	uint64_t	*conn_ids;	/* shared connection id counter */
	struct srctab	*src;		/* shared source table */
	struct stats	*stats;		/* shared counters */
	struct bantab	*bans;		/* the monitor's bans, copied by fork */
	bool		 fresh;		/* after a crash: recount connections */
	bool		 debug;
	int		 sniff_fd;	/* the packet socket, -1: none */
	int		 trap_fd;	/* where a sandbox trap is told */
	const struct knockwin *knocks;	/* windows still open */
	size_t		 nknocks;
};

/* A queue of outgoing privsep messages (imsg.c). */
struct qmsg;
struct stats;
struct msgq {
	TAILQ_HEAD(, qmsg) head;
	size_t		 queued;
	size_t		 fds;		/* queued descriptors */
};

/* How conf_load() treats host-dependent problems. */
#define CONF_CHECK_ONLY	0x01	/* -n: unknown users etc. are warnings */
#define CONF_AS_USER	0x02	/* non-root rules even as root (tests) */
#define CONF_DAEMON	0x04	/* no -F: the default control socket */

/* ban.c */
int		 ban_init(struct bantab *, size_t, uint64_t);
void		 ban_clear(struct bantab *);
int		 ban_add(struct bantab *, const struct srckey *, uint64_t, int,
		    uint64_t);
const struct banent *ban_find(const struct bantab *, const struct sockaddr *,
		    uint64_t);
bool		 ban_key_canonical(const struct srckey *);
bool		 never_ban(const struct conf *, const struct srckey *);
size_t		 ban_expire(struct bantab *, uint64_t,
		    void (*)(const struct banent *, void *), void *);
bool		 ban_key_overlap(const struct srckey *, const struct srckey *);
size_t		 ban_remove_overlapping(struct bantab *, const struct srckey *,
		    void (*)(const struct banent *, void *), void *);

/* conf.c */
struct conf	*conf_load(const char *, int);
struct conf	*conf_load_buf(const char *, const char *, int);
void		 conf_free(struct conf *);
struct service	*conf_service(struct conf *, const char *);
const char	*conf_builtin_name(enum builtin);
const char	*conf_proto_name(enum proto);

/* confval.c */
int		 conf_parse_duration(const char *, uint32_t *);
int		 conf_parse_rate(const char *, struct rate *);
int		 conf_parse_cidr(const char *, struct cidr *);
int		 conf_parse_port(const char *, enum proto, uint16_t *);
int		 conf_parse_size(const char *, uint64_t *);

/* acl.c */
bool		 acl_match(const struct acl *, const struct sockaddr *);
bool		 acl_permit(const struct conf *, const struct service *,
		    const struct sockaddr *);
bool		 cidr_match(const struct cidr *, const struct sockaddr *);

/* engine.c */
int		 engine_main(struct engine_init *);

/* env.c */
struct ucred;
char		**env_build(const struct service *, const struct sockaddr *,
		    const struct sockaddr *, const struct ucred *, uint64_t,
		    char *const *);
void		 env_free(char **);

/* imsg.c */
struct msg_hdr;
void		 msgq_init(struct msgq *);
int		 msgq_add(struct msgq *, uint32_t, uint64_t, const void *,
		    size_t, int);
int		 msgq_flush(struct msgq *, int);
void		 msgq_clear(struct msgq *);
int		 msg_recv(int, struct msg_hdr *, void *, size_t, int *);

/* limit.c */
void		 limit_group(const struct sockaddr *, unsigned int,
		    unsigned int, struct srckey *);
bool		 limit_take(struct bucket *, const struct rate *, uint64_t);
uint32_t	 limit_svc_hash(const char *);
int		 srctab_init(struct srctab *, size_t, bool);
void		 srctab_clear(struct srctab *);
struct srcent	*srctab_get(struct srctab *, uint32_t, const struct srckey *,
		    uint64_t);
void		 srctab_reset_active(struct srctab *);
bool		 srcent_live(const struct srcent *);
void		 srcent_put(struct srcent *);
void		 srcent_hold(struct srcent *);
void		 srcent_release(struct srcent *);
enum refusal_log srcent_refusal(struct srcent *, unsigned int, uint64_t,
		    uint32_t *);
bool		 srcent_summaries(struct srcent *, uint64_t, bool,
		    void (*)(struct srcent *, unsigned int, uint32_t, void *),
		    void *);
bool		 srcent_unlogged(const struct srcent *);

/* listen.c */
int		 listen_open_all(const struct conf *, struct listener *, size_t,
		    struct listener **, size_t *);
int		 listen_open_passed(const struct conf *, struct listener *,
		    size_t, const struct sdlisten *, struct listener **, size_t *);
void		 listen_close_all(struct listener *, size_t);

/* sniff.c */
int		 sniff_open(const struct conf *, int *);

/* monitor.c */
int		 monitor_run(struct portmuxd *, struct listener *, size_t);

/* spawn.c */
struct msg_spawn_fail;
int		 spawn_child(const struct service *, const struct spawn_req *,
		    struct child **, struct msg_spawn_fail *);
void		 child_free(struct child *);
const char	*spawn_stage_name(int);

/* util.c */
void		 sa_normalize(struct sockaddr_storage *, socklen_t *);
int		 sa_copy_norm(const struct sockaddr *,
		    struct sockaddr_storage *);
uint64_t	 hash_bytes(const void *, size_t, uint64_t);
uint32_t	*hash_heads(size_t, size_t *);
int		 sa_ntop(const struct sockaddr *, char *, size_t, uint16_t *);
size_t		 sa_fmt(const struct sockaddr *, char *, size_t);
void		 fd_peer_fmt(int, char *, size_t);
void		 fd_local_fmt(int, char *, size_t);
uint64_t	 mono_ms(void);
uint64_t	 mono_us(void);
void		 ms_timeval(struct timeval *, uint64_t);
uint64_t	 wall_ms(void);
int		 fd_nonblock(int, bool);

#endif /* PORTMUXD_H */
