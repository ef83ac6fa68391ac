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
 * What the configuration loader's three files share and nothing else
 * includes: the load in progress, whose combined text and line map the
 * pre-pass (conflex.c) fills in for conf.c, the kinds of value a key
 * takes, which the parsers (confval.c) check, and the prototypes each
 * file lends the other two.  The loader's public interface is in
 * portmuxd.h.
 */

#ifndef CONF_H
#define CONF_H

#include <sys/types.h>
#include <sys/resource.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Caps on the input, so that no file can stall or bloat the monitor. */
#define CONF_MAX_FILE	(1024 * 1024)		/* bytes in one file */
#define CONF_MAX_TOTAL	(16 * 1024 * 1024)	/* bytes in all files */
#define CONF_MAX_LINE	4096			/* bytes in one line */
#define CONF_MAX_DEPTH	16			/* nested includes */
#define CONF_MAX_NAME	64			/* bytes in a service name */
#define CONF_MAX_TABLE	32			/* bytes in nft_table */

/* How a value is checked; the list kinds come last. */
enum kind {
	K_ACCOUNT,		/* user or group name */
	K_PATH,			/* absolute path */
	K_SOCKPATH,		/* absolute path that fits in sun_path */
	K_ENUM,
	K_BOOL,
	K_UINT,
	K_INT,
	K_LIMIT,		/* a positive count or "unlimited" */
	K_DURATION,
	K_RATE,
	K_PORT,
	K_OCTAL,
	K_RLIM_COUNT,
	K_RLIM_TIME,
	K_RLIM_SIZE,
	K_OWNER,		/* user[:group] */
	K_TABLE,		/* an nftables table name */
	K_SIZE,			/* bytes, or with K, M, G */
	K_HOSTPORT,		/* host:port, [v6]:port */
	K_IP,			/* one IPv4 or IPv6 address */
	K_CIDR,
	K_ADDR,
	K_ENV,			/* "K=V" */
	K_ENVNAME,
	K_ARG,
	K_KNOCK,		/* "tcp:7000" */
	K_TCPPORT,		/* a port number, in a list */
};
#define K_LIST	K_CIDR

struct keydef {
	const char		*name;
	enum kind		 kind;
	long long		 min;
	long long		 max;
	const char *const	*words;		/* K_ENUM */
};

enum level {
	LVL_ERR,
	LVL_WARN,
	LVL_HOST,		/* host-dependent, see conf_report() */
	LVL_SVC,		/* an error that disables its service alone */
};

#define CONF_MAX_REPORTS 1000		/* problems kept to print sorted */

/* A problem found while loading, printed when the load ends. */
struct report {
	const char	*file;		/* interned */
	int		 line;
	size_t		 seq;		/* order of arrival */
	int		 cline;		/* its line in the combined text */
	bool		 error;
	char		*text;		/* "file:line: [warning: ]msg" */
};

/* Lines from cline on in the combined text come from file:line on. */
struct seg {
	int		 cline;
	const char	*file;
	int		 line;
};

struct fileid {
	dev_t		 dev;
	ino_t		 ino;
};

struct bindaddr;
struct cidr;
struct secinfo;			/* below, one per section */

/*
 * The load in progress.  conf.c owns it; the pre-pass in conflex.c
 * builds the combined text and its line map, which conf.c then reads.
 */
struct loadctx {
	int		 flags;
	bool		 as_root;
	int		 nerr;
	int		 nwarn;

	/* Problems, printed in the order of the text when the load ends. */
	struct report	*reports;
	size_t		 nreports;
	size_t		 nlost;		/* beyond CONF_MAX_REPORTS */
	const char	*mainfile;	/* interned */

	/* The pre-pass: the combined text and its line map. */
	char		*out;
	size_t		 outlen;
	size_t		 outsize;
	int		 cline;		/* current line of out, from 1 */
	struct seg	*segs;
	size_t		 nsegs;
	char		**files;	/* interned file names */
	size_t		 nfiles;
	struct fileid	 chain[CONF_MAX_DEPTH + 1]; /* files being read */
	int		 depth;
	size_t		 total;		/* bytes read from all files */

	/* The parse: sections and keys; secs[0] is the root. */
	struct secinfo	**secs;
	size_t		 nsecs;
	size_t		 sechint;	/* where sec_get() looks first */
	const struct cfg_t *metrics_sec; /* made by conf_metrics(), or NULL */
	const struct cfg_t *control_sec; /* made by conf_control(), or NULL */

	/* The host: who starts portmuxd and what that allows. */
	uid_t		 uid;
	gid_t		 gid;
	char		*uname;
	char		*gname;
	int		 portmin;	/* lowest port bindable as non-root */
	long		 somaxconn;
	bool		 global_acl;	/* a global allow or deny is set */
	long		 eph_lo;	/* net.ipv4.ip_local_port_range */
	long		 eph_hi;
	bool		 backlog_warned;

	/* inetd_conf, as the pre-pass found it (confinetd.c). */
	const char	*inetd_path;	/* interned, NULL: none */
	const char	*inetd_file;	/* where the key is */
	int		 inetd_line;
};

/* conf.c */
/*
 * The section records of the parse, and a section being converted, for
 * conf.c and the files that convert its keys (confsrc.c, confgate.c).
 * struct cfg_t is libconfuse's cfg_t.
 */
struct cfg_t;
struct service;
struct conf;
struct rate;
struct rlim;
struct acl;

/* Where a key was set in a section. */
struct keyline {
	const char	*key;		/* the keydef's name */
	const char	*file;		/* interned */
	int		 line;
	unsigned int	 nassign;	/* a list's "=" and "+=", lists_scan() */
	bool		 bad;		/* reported: use the default instead */
};


/* Where a section starts and where its keys are. */
struct secinfo {
	const struct cfg_t *sec;
	const char	*file;
	int		 line;
	struct keyline	*keys;
	size_t		 nkeys;
};


/* A section being converted, with the defaults it inherits. */
struct src {
	struct loadctx	*ctx;
	struct cfg_t	*sec;
	struct secinfo	*si;
	struct cfg_t	*def;		/* NULL: no defaults section */
	struct secinfo	*di;
	struct service	*svc;		/* NULL for the global section */
	bool		 own_exec;	/* sec sets server or builtin */
	bool		 soft;		/* disabled: host problems only warn */
};

extern const char *const exec_keys[];	/* the keys of a program */
const struct keydef *keydef_find(const char *);

/* confsrc.c: a key of a service, from its section or the defaults. */
struct keyline	*key_find(const struct secinfo *, const char *);
bool		 sec_has(struct cfg_t *, const struct secinfo *,
		    const char *);
bool		 exec_pair(const char *);
struct cfg_t	*src_from(struct src *, const char *);
bool		 src_given(struct src *, const char *);
bool		 own_key(struct src *, const char *);
const char	*src_str(struct src *, const char *);
void		 src_line(struct src *, const char *, const char **, int *);
void		 src_msg(struct src *, enum level, const char *, const char *,
		    ...) __attribute__((__format__(printf, 4, 5)));
bool		 src_bool(struct src *, const char *, bool);
long long	 src_num(struct src *, const char *, long long);
uint32_t	 src_limit(struct src *, const char *, uint32_t);
uint32_t	 src_dur(struct src *, const char *, uint32_t);
uint64_t	 src_size(struct src *, const char *, uint64_t);
void		 src_rate(struct src *, const char *, uint32_t, uint32_t,
		    struct rate *);
int		 src_enum(struct src *, const char *, int);
void		 src_rlim(struct src *, const char *, struct rlim *);
char		**src_strv(struct src *, const char *);
void		 src_acl(struct src *, const char *, struct acl *);
void		 needs_root(struct src *, const char *, const char *);

/* confredir.c: redirect and its keys. */
void		 svc_redirect(struct src *);
void		 check_redirect(struct src *);

/* confcontrol.c: control = "/path" | none, control_group. */
struct cfg_t	*conf_control(struct loadctx *, struct cfg_t *,
		    struct secinfo *);

/* confmetrics.c: metrics = "address:port", metrics_allow. */
void		 conf_key_add(struct secinfo *, const char *, const char *,
		    int);
struct secinfo	*conf_metrics(struct loadctx *, struct cfg_t *,
		    struct secinfo *);
struct secinfo	*conf_sec_add(struct loadctx *, const struct cfg_t *,
		    const char *, int);

/* confproxy.c: proxy_protocol, trusted_proxies, proxy_timeout. */
void		 svc_proxy(struct src *);
void		 check_proxy(struct src *);

/* confgate.c: knocking, gates, scan detection and the firewall. */
void		 conf_gatekeeper(struct src *, struct conf *);
void		 svc_knock(struct src *);
void		 check_gate(struct src *, const struct conf *);
void		 check_knock_ports(struct src *, size_t);

void		*conf_ecalloc(size_t, size_t);
void		*conf_ereallocarray(void *, size_t, size_t);
char		*conf_estrdup(const char *);
const char	*conf_vis(const char *);
void		 conf_report(struct loadctx *, enum level, const char *, int,
		    const char *, ...)
		    __attribute__((__format__(printf, 5, 6)));

/* conflex.c */
/* confhint.c */
const char	*confhint_key(const char *);
bool		 confhint_cidr(const char *, const char *, char *, size_t);
bool		 confhint_token(const char *, size_t, size_t, const char *,
		    char *, size_t);

const char	*conflex_intern(struct loadctx *, const char *);
void		 conflex_where(const struct loadctx *, int, const char **,
		    int *);
int		 conflex_cline(const struct loadctx *, const char *, int);
int		 conflex_read_conf(struct loadctx *, const char *,
		    const char *, int, char **, size_t *, struct fileid *);
char		*confinetd_text(struct loadctx *, const char *, const char *,
		    int, size_t *);
int		 conflex_check_text(struct loadctx *, const char *,
		    const char *, size_t);
char		*conflex_dir_of(const char *);
void		 conflex_prep(struct loadctx *, const char *, const char *,
		    size_t, char *);

/* confval.c */
int		 confval_parse_num(const char *, long long, long long,
		    long long *);
int		 confval_parse_bool(const char *, bool *);
int		 confval_parse_enum(const char *const *, const char *);
int		 confval_parse_octal(const char *, long long, long long *);
int		 confval_parse_limit(const char *, uint32_t *);
int		 confval_parse_rlim(enum kind, const char *, rlim_t *);
int		 confval_parse_cidr(const char *, struct cidr *);
int		 confval_parse_addr(const char *, struct bindaddr *);
int		 confval_split_hostport(const char *, char *, size_t, char *,
		    size_t);
bool		 confval_valid_svcname(const char *);
bool		 confval_valid_table(const char *);
int		 confval_check_value(const struct keydef *, const char *,
		    char *, size_t);

#endif /* CONF_H */
