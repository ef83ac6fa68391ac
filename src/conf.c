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
 * The configuration file: the libconfuse schema and its callbacks, the
 * conversion of cfg_t into struct conf and the validation of the result.
 * Only this file, confsrc.c (the key getters of a section) and
 * confgate.c (the gatekeeper's keys) include <confuse.h>.  libconfuse never sees the files
 * themselves: the pre-pass in conflex.c reads them, splices include()s in
 * and keeps a line map, and libconfuse parses the combined text, each of
 * its messages placed through that map.  The syntax of single values is
 * confval.c's.
 *
 * Every problem is reported, each at the line of the key that causes it:
 * the parse callbacks record where each key was set.  Only a syntax error
 * stops libconfuse, so those come one at a time.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <confuse.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "portmuxd.h"
#include "scan.h"

#ifndef RUNSTATEDIR
#define RUNSTATEDIR	"/run"
#endif

/* The caps on the input are in conf.h; this one is on getgrouplist(3). */
#define CONF_MAX_GROUPS	65536			/* supplementary groups */

#define ENGINE_USER	"_portmuxd"
#define SERVICE_USER	"nobody"

/* A bind of a service, for the overlap check. */
struct bindref {
	enum proto	 proto;
	uint16_t	 port;
	size_t		 svc;		/* index of the service */
	size_t		 addr;		/* index in its addrs */
};

/* lists_scan()'s view of the combined text. */
enum {
	T_EOF = -1,
	T_STR = 256,		/* a word or a quoted string */
	T_APPEND,		/* "+=" */
	T_OTHER,
};
struct scan {
	const char	*p;
	const char	*end;
	int		 cline;		/* line of p */
	int		 tline;		/* line of the last token */
	const char	*word;		/* the last T_STR, as written */
	size_t		 wlen;
};

static const char *at(const char *, const char *, int);
static void	 vreport(struct loadctx *, enum level, const char *, int,
		    const char *, va_list)
		    __attribute__((__format__(printf, 5, 0)));

static int	 report_cmp(const void *, const void *);
static void	 reports_flush(struct loadctx *);

static struct secinfo *sec_get(struct loadctx *, const cfg_t *);
static const char *prefix(const cfg_t *);
static int	 opt_cb(cfg_t *, cfg_opt_t *, const char *, void *);
static int	 sec_cb(cfg_t *, cfg_opt_t *, const char *, void *);
static size_t	 token_at(const struct loadctx *, int, const char *);
static void	 errfn(cfg_t *, const char *, va_list)
		    __attribute__((__format__(printf, 2, 0)));
static int	 scan_next(struct scan *);
static void	 list_assign(struct loadctx *, struct secinfo *, const char *,
		    int, bool);
static void	 lists_scan(struct loadctx *);
static cfg_t	*parse(struct loadctx *);


static long	 read_long(const char *, long);
static void	 host_init(struct loadctx *);
static char	*group_name(gid_t);
static void	 conf_global(struct loadctx *, cfg_t *, struct conf *);
static void	 conf_engine(struct src *, struct conf *);
static void	 conf_services(struct loadctx *, cfg_t *, struct conf *);
static void	 svc_build(struct src *, const struct conf *);
static void	 svc_port(struct src *);
static const char *base_name(const char *);
static void	 svc_exec(struct src *);
static void	 svc_limits(struct src *);
static void	 svc_child(struct src *);
static void	 svc_socket(struct src *);
static bool	 svc_tcpmux(struct src *);
static void	 svc_addrs(struct src *);
static void	 check_exec(struct src *);
static void	 check_proto(struct src *);
static void	 check_wait(struct src *);
static void	 check_env(struct src *);
static void	 svc_creds(struct src *, const struct conf *);
static void	 svc_groups(struct service *);
static void	 svc_owner(struct src *);
static void	 svc_files(struct src *);
static void	 svc_host(struct src *);
static bool	 may_exec(const struct service *, const struct stat *);
static void	 check_server(struct src *);
static bool	 binds_overlap(const struct service *, const struct bindaddr *,
		    const struct service *, const struct bindaddr *);
static const char *addr_str(const struct bindaddr *);
static int	 bindref_cmp(const void *, const void *);
static void	 overlap_msg(struct src *, const struct bindref *,
		    const struct bindref *);
static void	 check_overlaps(struct src *, size_t);
static int	 name_cmp(const void *, const void *);
static void	 check_names(struct src *, size_t);
static void	 check_tcpmux(struct src *, size_t);
static void	 svc_clear(struct service *);
static void	 strv_free(char **);
static struct conf *load_finish(struct loadctx *);
static void	 ctx_init(struct loadctx *, const char *, int);
static void	 ctx_clear(struct loadctx *);

/*
 * libconfuse calls back without a user pointer, so the load in progress
 * is reached through this.  Loading is not reentrant, which suits the
 * monitor: it loads at start and on SIGHUP, from its event loop.
 */
static struct loadctx	*cur;

/* Nor has qsort(3)'s comparison. */
static struct src	*sort_srcs;

static const char *const proto_words[] = { "tcp", "udp", "unix", NULL };
/* In the order of enum builtin, after BUILTIN_NONE. */
static const char *const builtin_words[] = {
	"echo", "discard", "daytime", "chargen", "time", "tcpmux", "trap",
	"metrics", "control", NULL
};
static const char *const none_words[] = { "none", NULL };
static const char *const stderr_words[] = { "log", "client", "null", NULL };
static const char *const logdest_words[] = { "syslog", "stderr", "file",
    NULL };
static const char *const scan_words[] = { "connect", "syn", NULL };
static const char *const firewall_words[] = { "none", "nftables", NULL };
static const char *const proxy_words[] = { "off", "v1", "v2", "any", NULL };
static const char *const proxy_out_words[] = { "off", "v1", "v2", NULL };
static const char *const level_words[] = {
	"error", "warn", "info", "debug", NULL
};
static const int level_values[] = {
	LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG
};
static const char *const facility_words[] = {
	"daemon", "local0", "local1", "local2", "local3", "local4", "local5",
	"local6", "local7", "user", "auth", "authpriv", NULL
};
static const int facility_values[] = {
	LOG_DAEMON, LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3,
	LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7, LOG_USER, LOG_AUTH,
	LOG_AUTHPRIV
};

/*
 * Every key, global and per service; "user", "group", "allow" and "deny"
 * exist at both levels with the same syntax.  Limits keep values sane:
 * tcpmux_maxlen bounds a buffer the engine fills from the network.
 */
static const struct keydef keydefs[] = {
	{ "user",		K_ACCOUNT,	0, 0, NULL },
	{ "group",		K_ACCOUNT,	0, 0, NULL },
	{ "pidfile",		K_PATH,		0, 0, NULL },
	{ "log",		K_ENUM,		0, 0, logdest_words },
	{ "log_file",		K_PATH,		0, 0, NULL },
	{ "inetd_conf",		K_PATH,		0, 0, NULL },
	{ "log_facility",	K_ENUM,		0, 0, facility_words },
	{ "log_level",		K_ENUM,		0, 0, level_words },
	{ "max_children",	K_LIMIT,	0, 0, NULL },
	{ "ban_time",		K_DURATION,	1, 0, NULL },
	{ "ban_max",		K_UINT,		1, 1048576, NULL },
	{ "reload_grace",	K_DURATION,	0, 0, NULL },
	{ "stop_grace",		K_DURATION,	0, 0, NULL },
	{ "knock_max",		K_UINT,		1, 1048576, NULL },
	{ "scan_ports",		K_UINT,		0, SCAN_PORTS_MAX, NULL },
	{ "scan_window",	K_DURATION,	1, 0, NULL },
	{ "scan_detect",	K_ENUM,		0, 0, scan_words },
	{ "scan_ban_time",	K_DURATION,	1, 0, NULL },
	{ "firewall",		K_ENUM,		0, 0, firewall_words },
	{ "nft_table",		K_TABLE,	0, 0, NULL },
	{ "never_ban",		K_CIDR,		0, 0, NULL },
	{ "metrics",		K_HOSTPORT,	0, 0, NULL },
	{ "metrics_allow",	K_CIDR,		0, 0, NULL },
	{ "control",		K_SOCKPATH,	0, 0, none_words },
	{ "control_group",	K_ACCOUNT,	0, 0, NULL },
	{ "protocol",		K_ENUM,		0, 0, proto_words },
	{ "port",		K_PORT,		0, 0, NULL },
	{ "builtin",		K_ENUM,		0, 0, builtin_words },
	{ "server",		K_PATH,		0, 0, NULL },
	{ "wait",		K_BOOL,		0, 0, NULL },
	{ "instances",		K_LIMIT,	0, 0, NULL },
	{ "per_source",		K_LIMIT,	0, 0, NULL },
	{ "source_prefix4",	K_UINT,		0, 32, NULL },
	{ "source_prefix6",	K_UINT,		0, 128, NULL },
	{ "rate",		K_RATE,		0, 0, NULL },
	{ "timeout",		K_DURATION,	1, 0, NULL },
	{ "tcpmux_timeout",	K_DURATION,	1, 0, NULL },
	{ "tcpmux_maxlen",	K_UINT,		1, 4096, NULL },
	{ "udp_reply_rate",	K_RATE,		0, 0, NULL },
	{ "ban_after",		K_RATE,		0, 0, NULL },
	{ "ban_factor",		K_UINT,		1, 1000, NULL },
	{ "rlimit_nofile",	K_RLIM_COUNT,	0, 0, NULL },
	{ "rlimit_nproc",	K_RLIM_COUNT,	0, 0, NULL },
	{ "rlimit_cpu",		K_RLIM_TIME,	0, 0, NULL },
	{ "rlimit_as",		K_RLIM_SIZE,	0, 0, NULL },
	{ "nice",		K_INT,		-20, 19, NULL },
	{ "umask",		K_OCTAL,	0, 0777, NULL },
	{ "chroot",		K_PATH,		0, 0, NULL },
	{ "stderr",		K_ENUM,		0, 0, stderr_words },
	{ "keepalive",		K_BOOL,		0, 0, NULL },
	{ "tcpmux",		K_BOOL,		0, 0, NULL },
	{ "backlog",		K_UINT,		1, 65535, NULL },
	{ "v6only",		K_BOOL,		0, 0, NULL },
	{ "freebind",		K_BOOL,		0, 0, NULL },
	{ "disable",		K_BOOL,		0, 0, NULL },
	{ "accounting",		K_BOOL,		0, 0, NULL },
	{ "path",		K_SOCKPATH,	0, 0, NULL },
	{ "mode",		K_OCTAL,	0, 0777, NULL },
	{ "owner",		K_OWNER,	0, 0, NULL },
	{ "allow",		K_CIDR,		0, 0, NULL },
	{ "deny",		K_CIDR,		0, 0, NULL },
	{ "address",		K_ADDR,		0, 0, NULL },
	{ "env",		K_ENV,		0, 0, NULL },
	{ "passenv",		K_ENVNAME,	0, 0, NULL },
	{ "args",		K_ARG,		0, 0, NULL },
	{ "knock",		K_KNOCK,	0, 0, NULL },
	{ "knock_timeout",	K_DURATION,	1, 0, NULL },
	{ "knock_open",		K_DURATION,	1, 0, NULL },
	{ "gate",		K_TCPPORT,	0, 0, NULL },
	{ "redirect",		K_HOSTPORT,	0, 0, NULL },
	{ "redirect_source",	K_IP,		0, 0, NULL },
	{ "redirect_timeout",	K_DURATION,	1, 0, NULL },
	{ "redirect_buffer",	K_SIZE,		4096, 1048576, NULL },
	{ "udp_session_timeout", K_DURATION,	1, 0, NULL },
	{ "udp_sessions",	K_UINT,		1, 1048576, NULL },
	{ "proxy_protocol",	K_ENUM,		0, 0, proxy_words },
	{ "redirect_proxy",	K_ENUM,		0, 0, proxy_out_words },
	{ "proxy_timeout",	K_DURATION,	1, 0, NULL },
	{ "trusted_proxies",	K_CIDR,		0, 0, NULL },
};

/* Keys only an exec'd service uses: an error on a builtin. */
const char *const exec_keys[] = {
	"args", "user", "group", "env", "passenv", "rlimit_nofile",
	"rlimit_nproc", "rlimit_cpu", "rlimit_as", "nice", "umask", "chroot",
	"stderr", "accounting", NULL
};

#define SCALAR(n)	CFG_STR_CB(n, NULL, CFGF_NODEFAULT, opt_cb)
#define LIST(n)		CFG_STR_LIST_CB(n, NULL, CFGF_NODEFAULT, opt_cb)

/*
 * A hidden option whose default value libconfuse parses when it creates
 * a section, calling sec_cb() at the line of the section's opening brace:
 * the only moment that line is known, since cfg_t.line moves on with the
 * parse.  The name cannot be written without quotes, and sec_cb() rejects
 * it when it is.
 */
#define SEC_HOOK	"{start}"
static char		 sec_hook_default[] = "x";

static cfg_opt_t service_opts[] = {
	CFG_PTR_CB(SEC_HOOK, sec_hook_default, CFGF_NONE, sec_cb, NULL),
	SCALAR("protocol"), SCALAR("port"), LIST("address"),
	SCALAR("builtin"), SCALAR("server"), LIST("args"),
	SCALAR("user"), SCALAR("group"), SCALAR("wait"),
	SCALAR("instances"), SCALAR("per_source"),
	SCALAR("source_prefix4"), SCALAR("source_prefix6"),
	SCALAR("rate"), SCALAR("timeout"), SCALAR("tcpmux_timeout"),
	SCALAR("tcpmux_maxlen"), SCALAR("udp_reply_rate"),
	SCALAR("ban_after"), SCALAR("ban_factor"),
	LIST("allow"), LIST("deny"), LIST("env"), LIST("passenv"),
	SCALAR("rlimit_nofile"), SCALAR("rlimit_nproc"),
	SCALAR("rlimit_cpu"), SCALAR("rlimit_as"),
	SCALAR("nice"), SCALAR("umask"), SCALAR("chroot"), SCALAR("stderr"),
	SCALAR("keepalive"), SCALAR("tcpmux"), SCALAR("backlog"),
	SCALAR("v6only"), SCALAR("freebind"), SCALAR("disable"),
	SCALAR("accounting"), SCALAR("path"), SCALAR("mode"), SCALAR("owner"),
	LIST("knock"), SCALAR("knock_timeout"), SCALAR("knock_open"),
	LIST("gate"), SCALAR("redirect"), SCALAR("redirect_source"),
	SCALAR("redirect_timeout"), SCALAR("redirect_buffer"),
	SCALAR("udp_session_timeout"), SCALAR("udp_sessions"),
	SCALAR("proxy_protocol"), SCALAR("proxy_timeout"),
	SCALAR("redirect_proxy"),
	LIST("trusted_proxies"),
	CFG_END()
};

/* include() is not here: the pre-pass has already spliced it in. */
static cfg_opt_t root_opts[] = {
	SCALAR("user"), SCALAR("group"), SCALAR("pidfile"), SCALAR("log"),
	SCALAR("log_file"), SCALAR("inetd_conf"),
	SCALAR("log_facility"), SCALAR("log_level"), SCALAR("max_children"),
	LIST("allow"), LIST("deny"), SCALAR("ban_time"), SCALAR("ban_max"),
	SCALAR("reload_grace"), SCALAR("stop_grace"),
	SCALAR("knock_max"), SCALAR("scan_ports"), SCALAR("scan_window"),
	SCALAR("scan_detect"), SCALAR("scan_ban_time"), LIST("never_ban"),
	SCALAR("metrics"), LIST("metrics_allow"),
	SCALAR("control"), SCALAR("control_group"),
	SCALAR("firewall"), SCALAR("nft_table"),
	/* MULTI, so that a second one is seen rather than merged. */
	CFG_SEC("defaults", service_opts, CFGF_MULTI),
	CFG_SEC("service", service_opts,
	    CFGF_TITLE | CFGF_MULTI | CFGF_NO_TITLE_DUPES),
	CFG_END()
};

/* Out of memory while loading is fatal (STYLE.md 3.4). */
void *
conf_ecalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		fatal("conf: calloc");
	return p;
}

void *
conf_ereallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		fatalx("conf: reallocarray overflow");
	if ((p = realloc(p, n * size == 0 ? 1 : n * size)) == NULL)
		fatal("conf: realloc");
	return p;
}

char *
conf_estrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("conf: strdup");
	return p;
}

/*
 * A value as it may appear in a message: at most 64 bytes, so that one
 * absurd value cannot drown the rest.  Four rotating buffers let one
 * message quote several values.  conf_report() replaces control characters.
 */
const char *
conf_vis(const char *s)
{
	static char	 buf[4][72];
	static int	 n;
	char		*b = buf[n++ % 4];
	size_t		 len = strlen(s);

	if (len <= 64)
		memcpy(b, s, len + 1);
	else {
		memcpy(b, s, 61);
		memcpy(b + 61, "...", 4);
	}
	return b;
}

/* "line N" for a place in file, else "FILE:N"; rotating buffers. */
static const char *
at(const char *file, const char *where_file, int line)
{
	static char	 buf[2][PATH_MAX + 32];
	static int	 n;
	char		*b = buf[n++ % 2];

	if (strcmp(file, where_file) == 0)
		(void)snprintf(b, sizeof(buf[0]), "line %d", line);
	else
		(void)snprintf(b, sizeof(buf[0]), "%s:%d", where_file, line);
	return b;
}

void
conf_report(struct loadctx *ctx, enum level lvl, const char *file, int line,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vreport(ctx, lvl, file, line, fmt, ap);
	va_end(ap);
}

/*
 * Keeps "file:line: msg" (ntpd's parse.y format, which -n prints and
 * editors understand) with control characters made '?', since a quoted
 * value may hold a newline that would split the log line.  The problems
 * are printed when the load ends, in the order of the text: they are
 * found key by key, section by section, and then file-wide.
 *
 * A problem of the host rather than of the file (LVL_HOST: an unknown
 * user, a missing program) is an error when -n checks the host it runs
 * on, as root, and a warning when -n runs as another user, who may not
 * see the host as the daemon will.  At start and on reload, src_msg()
 * makes one in a service LVL_SVC: that service alone is not served.
 */
static void
vreport(struct loadctx *ctx, enum level lvl, const char *file, int line,
    const char *fmt, va_list ap)
{
	struct report	*r;
	char		 msg[1024], *p;

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	for (p = msg; *p != '\0'; p++)
		if (iscntrl((unsigned char)*p))
			*p = '?';
	if (lvl == LVL_HOST)
		lvl = !(ctx->flags & CONF_CHECK_ONLY) || ctx->as_root ?
		    LVL_ERR : LVL_WARN;
	if (lvl == LVL_WARN)
		ctx->nwarn++;
	else if (lvl == LVL_ERR)
		ctx->nerr++;
	if (ctx->nreports == CONF_MAX_REPORTS) {
		ctx->nlost++;
		return;
	}
	if (ctx->nreports % 64 == 0)
		ctx->reports = conf_ereallocarray(ctx->reports,
		    ctx->nreports + 64, sizeof(*ctx->reports));
	r = &ctx->reports[ctx->nreports];
	r->file = file;
	r->line = line;
	r->seq = ctx->nreports++;
	r->error = lvl != LVL_WARN;
	if (asprintf(&r->text, "%s:%d: %s%s", file, line, lvl == LVL_WARN ?
	    "warning: " : "", msg) == -1)
		fatal("conf: asprintf");
}

static int
report_cmp(const void *a, const void *b)
{
	const struct report	*x = a, *y = b;

	if (x->cline != y->cline)
		return x->cline < y->cline ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Print the problems in the order of the text.  One the line map cannot
 * place (the pre-pass stopped before it) keeps its place after the one
 * before it.
 */
static void
reports_flush(struct loadctx *ctx)
{
	struct report	*r;
	size_t		 i;
	int		 last = 0;

	for (i = 0; i < ctx->nreports; i++) {
		r = &ctx->reports[i];
		if ((r->cline = conflex_cline(ctx, r->file, r->line)) == 0)
			r->cline = last;
		last = r->cline;
	}
	if (ctx->nreports > 0)
		qsort(ctx->reports, ctx->nreports, sizeof(*ctx->reports),
		    report_cmp);
	for (i = 0; i < ctx->nreports; i++) {
		r = &ctx->reports[i];
		if (r->error)
			log_errx("%s", r->text);
		else
			log_warnx("%s", r->text);
		free(r->text);
	}
	if (ctx->nlost > 0)
		log_warnx("%s: %zu more problems not shown", ctx->mainfile,
		    ctx->nlost);
	free(ctx->reports);
	ctx->reports = NULL;
	ctx->nreports = ctx->nlost = 0;
}

const struct keydef *
keydef_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(keydefs) / sizeof(keydefs[0]); i++)
		if (strcmp(keydefs[i].name, name) == 0)
			return &keydefs[i];
	return NULL;
}

/*
 * The section's record.  The parse asks for the last one, the conversion
 * for each in turn, so both cost one comparison, not a scan.
 */
static struct secinfo *
sec_get(struct loadctx *ctx, const cfg_t *sec)
{
	size_t	 i;

	if (ctx->sechint < ctx->nsecs && ctx->secs[ctx->sechint]->sec == sec)
		return ctx->secs[ctx->sechint++];
	for (i = ctx->nsecs; i > 0; i--)
		if (ctx->secs[i - 1]->sec == sec) {
			ctx->sechint = i;
			return ctx->secs[i - 1];
		}
	return NULL;
}

struct secinfo *
conf_sec_add(struct loadctx *ctx, const cfg_t *sec, const char *file,
    int line)
{
	struct secinfo	*si;

	si = conf_ecalloc(1, sizeof(*si));
	si->sec = sec;
	si->file = file;
	si->line = line;
	ctx->secs = conf_ereallocarray(ctx->secs, ctx->nsecs + 1,
	    sizeof(*ctx->secs));
	ctx->secs[ctx->nsecs++] = si;
	return si;
}

/* "service 'x': " or "defaults: " before a message about a section. */
static const char *
prefix(const cfg_t *cfg)
{
	static char	 buf[CONF_MAX_NAME * 2 + 32];

	if (cfg == NULL || cfg->name == NULL || strcmp(cfg->name, "root") == 0)
		return "";
	if (cfg->title != NULL)
		(void)snprintf(buf, sizeof(buf), "%s '%s': ", cfg->name,
		    conf_vis(cfg->title));
	else
		(void)snprintf(buf, sizeof(buf), "%s: ", cfg->name);
	return buf;
}

/*
 * Every key goes through here as libconfuse reads it: the value's syntax
 * is checked while cfg->line is still the key's line, and that line is
 * recorded for the checks after the parse.  Returning 0 even for a bad
 * value lets the parse go on, so one run reports every problem; the bad
 * mark keeps the value out of the result.
 */
static int
opt_cb(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	struct loadctx		*ctx = cur;
	const struct keydef	*k;
	struct secinfo		*si;
	struct keyline		*kl;
	const char		*file;
	char			 why[256];
	int			 line;
	bool			 list;

	*(const char **)result = value;
	if (value == NULL || (k = keydef_find(opt->name)) == NULL ||
	    (si = sec_get(ctx, cfg)) == NULL)
		return 0;
	list = k->kind >= K_LIST;
	conflex_where(ctx, cfg->line, &file, &line);
	if ((kl = key_find(si, k->name)) == NULL) {
		si->keys = conf_ereallocarray(si->keys, si->nkeys + 1,
		    sizeof(*si->keys));
		kl = &si->keys[si->nkeys++];
		memset(kl, 0, sizeof(*kl));
		kl->key = k->name;
		kl->file = file;
		kl->line = line;
	} else if (!list) {
		/* A list's are lists_scan()'s: "{}" calls nothing here. */
		conf_report(ctx, LVL_ERR, file, line, "%skey '%s' given twice "
		    "(first at %s)", prefix(cfg), k->name,
		    at(file, kl->file, kl->line));
		kl->bad = true;
	}
	if (confval_check_value(k, value, why, sizeof(why)) == -1) {
		conf_report(ctx, LVL_ERR, file, line, "%s%s '%s': %s",
		    prefix(cfg), k->name, conf_vis(value), why);
		kl->bad = true;
	} else if (k->kind == K_CIDR && confhint_cidr(k->name, value, why,
	    sizeof(why)))
		/* Valid, but not what an xinetd habit meant. */
		conf_report(ctx, LVL_WARN, file, line, "%s%s", prefix(cfg),
		    why);
	return 0;
}

/* Called when libconfuse creates a section; see SEC_HOOK. */
static int
sec_cb(cfg_t *cfg, cfg_opt_t *opt __unused, const char *value __unused,
    void *result)
{
	struct loadctx	*ctx = cur;
	const char	*file;
	int		 line;

	*(void **)result = NULL;
	conflex_where(ctx, cfg->line, &file, &line);
	/* Written by hand, it can only be in the section being parsed. */
	if (ctx->nsecs > 0 && ctx->secs[ctx->nsecs - 1]->sec == cfg) {
		conf_report(ctx, LVL_ERR, file, line, "%sunknown key '%s'",
		    prefix(cfg), SEC_HOOK);
		return 0;
	}
	(void)conf_sec_add(ctx, cfg, file, line);
	if (cfg->title == NULL)
		return 0;
	if (!confval_valid_svcname(cfg->title))
		conf_report(ctx, LVL_ERR, file, line, "service '%s': invalid "
		    "name: use at most %d letters, digits and -_.+",
		    conf_vis(cfg->title), CONF_MAX_NAME);
	return 0;
}

/*
 * Where token is on line cline of the combined text: for an '=', one
 * stuck to a word (a value cut in two), else the first.  SIZE_MAX if
 * it is not there.
 */
static size_t
token_at(const struct loadctx *ctx, int cline, const char *token)
{
	const char	*p = ctx->out, *end = ctx->out + ctx->outlen, *nl, *t;
	size_t		 tl = strlen(token), found = SIZE_MAX;
	int		 n;

	if (p == NULL || tl == 0)
		return SIZE_MAX;
	for (n = 1; n < cline && p < end; n++)
		if ((p = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return SIZE_MAX;
		else
			p++;
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		nl = end;
	for (t = p; t + tl <= nl; t++) {
		if (memcmp(t, token, tl) != 0)
			continue;
		if (strcmp(token, "=") != 0)
			return (size_t)(t - ctx->out);
		if (t > p && !isspace((unsigned char)t[-1]) && t[-1] != '+' &&
		    t + 1 < nl && !isspace((unsigned char)t[1]))
			found = (size_t)(t - ctx->out);
	}
	return found;
}

/*
 * libconfuse's own messages, placed through the line map and, for the
 * ones a user meets most, reworded in this file's terms with a hint of
 * what to write instead (confhint.c).
 */
static void
errfn(cfg_t *cfg, const char *fmt, va_list ap)
{
	struct loadctx	*ctx = cur;
	struct secinfo	*si = NULL;
	const char	*file, *arg, *hint;
	char		 msg[512], why[256];
	size_t		 i, off;
	int		 line;

	conflex_where(ctx, cfg != NULL ? cfg->line : 0, &file, &line);
	if (strcmp(fmt, "no such option '%s'") == 0) {
		arg = va_arg(ap, const char *);
		hint = confhint_key(arg);
		(void)snprintf(msg, sizeof(msg), "%sunknown key '%s'%s%s",
		    prefix(cfg), conf_vis(arg), hint != NULL ? ": " : "",
		    hint != NULL ? hint : "");
	} else if (strcmp(fmt, "unexpected token '%s'") == 0) {
		arg = va_arg(ap, const char *);
		if ((off = token_at(ctx, cfg != NULL ? cfg->line : 0, arg)) ==
		    SIZE_MAX || !confhint_token(ctx->out, ctx->outlen, off, arg,
		    why, sizeof(why)))
			why[0] = '\0';
		(void)snprintf(msg, sizeof(msg), "unexpected '%s'%s%s",
		    conf_vis(arg), why[0] != '\0' ? ": " : "", why);
	} else if (strcmp(fmt, "missing equal sign after option '%s'") == 0) {
		arg = va_arg(ap, const char *);
		(void)snprintf(msg, sizeof(msg), "%skey '%s' needs '=' before "
		    "its value: %s = value", prefix(cfg), conf_vis(arg),
		    conf_vis(arg));
	} else if (strcmp(fmt, "found duplicate title '%s'") == 0) {
		arg = va_arg(ap, const char *);
		for (i = 1; i < ctx->nsecs && si == NULL; i++)
			if (ctx->secs[i]->sec->title != NULL &&
			    strcmp(ctx->secs[i]->sec->title, arg) == 0)
				si = ctx->secs[i];
		(void)snprintf(msg, sizeof(msg), "service '%s' defined twice "
		    "(first at %s)", conf_vis(arg), si != NULL ?
		    at(file, si->file, si->line) : "?");
	} else
		(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	conf_report(ctx, LVL_ERR, file, line, "%s", msg);
}

/*
 * The tokens of the combined text that lists_scan() tells apart, as
 * libconfuse's lexer (lexer.l) cuts them; the pre-pass has blanked the
 * comments out already.
 */
static int
scan_next(struct scan *sc)
{
	static const char	 delim[] = " \t\r\n\"'={}()+,#";
	char			 q;

	for (;;) {
		for (; sc->p < sc->end && isspace((unsigned char)*sc->p);
		    sc->p++)
			if (*sc->p == '\n')
				sc->cline++;
		if (sc->p >= sc->end)
			return T_EOF;
		sc->tline = sc->cline;
		sc->word = sc->p;
		switch (*sc->p) {
		case '{':
		case '}':
		case '=':
			return *sc->p++;
		case '+':
			if (++sc->p < sc->end && *sc->p == '=') {
				sc->p++;
				return T_APPEND;
			}
			continue;	/* libconfuse eats a lone '+' */
		case '"':
		case '\'':
			for (q = *sc->p++; sc->p < sc->end && *sc->p != q;
			    sc->p++) {
				if (*sc->p == '\\' && sc->p + 1 < sc->end)
					sc->p++;
				if (*sc->p == '\n')
					sc->cline++;
			}
			sc->wlen = (size_t)(sc->p - sc->word) + 1;
			if (sc->p < sc->end)
				sc->p++;
			return T_STR;
		}
		if (sc->p + 1 < sc->end && sc->p[0] == '$' && sc->p[1] == '{')
			while (sc->p < sc->end && *sc->p++ != '}')
				;
		else if (*sc->p == '\0' || strchr(delim, *sc->p) != NULL) {
			sc->p++;	/* "(),": no key, no brace */
			return T_OTHER;
		} else
			while (sc->p < sc->end && *sc->p != '\0' &&
			    strchr(delim, *sc->p) == NULL)
				sc->p++;
		sc->wlen = (size_t)(sc->p - sc->word);
		return T_STR;
	}
}

/*
 * One "key = {...}" or "key += {...}" of a list, in section si: the
 * line of its first assignment is the key's, even for "{}", which
 * calls no callback; and "=" again drops what was there, empty or not.
 */
static void
list_assign(struct loadctx *ctx, struct secinfo *si, const char *key,
    int cline, bool append)
{
	struct keyline	*kl;
	const char	*file;
	int		 line;

	conflex_where(ctx, cline, &file, &line);
	if ((kl = key_find(si, key)) == NULL) {
		si->keys = conf_ereallocarray(si->keys, si->nkeys + 1,
		    sizeof(*si->keys));
		kl = &si->keys[si->nkeys++];
		memset(kl, 0, sizeof(*kl));
		kl->key = key;
	}
	if (kl->nassign++ == 0) {
		kl->file = file;
		kl->line = line;
	} else if (!append) {
		conf_report(ctx, LVL_ERR, file, line, "%skey '%s' given twice "
		    "(first at %s); use += to add to a list", prefix(si->sec),
		    key, at(file, kl->file, kl->line));
		kl->bad = true;
	}
}

/*
 * Every assignment of a list key, from the text: libconfuse says
 * nothing of an empty list but that it was modified.  The sections
 * open in the order sec_cb() recorded them; a parse that succeeded
 * leaves only keys, values, lists and sections to find.
 */
static void
lists_scan(struct loadctx *ctx)
{
	struct scan		 sc;
	const struct keydef	*k = NULL;
	struct secinfo		*si = ctx->secs[0];
	size_t			 next = 1, off;
	char			 key[CONF_MAX_NAME];
	int			 t, state = 0, kline = 0;
	bool			 append = false;

	memset(&sc, 0, sizeof(sc));
	sc.p = ctx->out;
	sc.end = ctx->out + ctx->outlen;
	sc.cline = 1;
	while (sc.p != NULL && (t = scan_next(&sc)) != T_EOF) {
		switch (state) {
		case 0:		/* a key, a section's name, or its end */
			if (t == T_STR) {
				/* A key may be quoted too. */
				off = sc.word[0] == '"' || sc.word[0] == '\'';
				(void)snprintf(key, sizeof(key), "%.*s",
				    (int)(sc.wlen - 2 * off), sc.word + off);
				k = keydef_find(key);
				kline = sc.tline;
				state = 1;
			} else if (t == '}')
				si = ctx->secs[0];
			break;
		case 1:		/* "=", "+=", or a section's title and brace */
			if (t == '=' || t == T_APPEND) {
				append = t == T_APPEND;
				state = 2;
			} else if (t == '{') {
				if (next < ctx->nsecs)
					si = ctx->secs[next++];
				state = 0;
			} else if (t != T_STR)
				state = 0;
			break;
		case 2:		/* the value: a list may be one word */
			if (k != NULL && k->kind >= K_LIST &&
			    (t == '{' || t == T_STR))
				list_assign(ctx, si, k->name, kline, append);
			state = t == '{' ? 3 : 0;
			break;
		default:	/* a list's values */
			if (t == '}')
				state = 0;
			break;
		}
	}
}

/*
 * libconfuse parses the combined text.  cfg_parse_buf() would name the
 * file "[buf]"; names come from the line map anyway, so the stream is
 * handed over directly.
 */
static cfg_t *
parse(struct loadctx *ctx)
{
	cfg_t	*cfg;
	FILE	*fp;
	int	 rc;

	if ((cfg = cfg_init(root_opts, CFGF_NONE)) == NULL)
		fatal("conf: cfg_init");
	(void)cfg_set_error_function(cfg, errfn);
	(void)conf_sec_add(ctx, cfg, ctx->mainfile, 1);
	if (ctx->outlen == 0)
		return cfg;
	if ((fp = fmemopen(ctx->out, ctx->outlen, "r")) == NULL)
		fatal("conf: fmemopen");
	rc = cfg_parse_fp(cfg, fp);
	(void)fclose(fp);
	if (rc != CFG_SUCCESS) {
		if (ctx->nerr == 0)
			conf_report(ctx, LVL_ERR, ctx->mainfile, 1,
			    "syntax error");
		(void)cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

static long
read_long(const char *path, long def)
{
	FILE	*fp;
	long	 v;

	if ((fp = fopen(path, "re")) == NULL)
		return def;
	if (fscanf(fp, "%ld", &v) != 1)
		v = def;
	(void)fclose(fp);
	return v;
}

/*
 * Who starts portmuxd decides the rules: root may name any account, and
 * anyone else runs everything as itself.  CONF_AS_USER applies the
 * second set as root too, so that tests give one result under both.
 */
static void
host_init(struct loadctx *ctx)
{
	struct passwd		*pw;
	unsigned long long	 caps;
	char			 buf[256];
	FILE			*fp;

	ctx->uid = geteuid();
	ctx->gid = getegid();
	ctx->as_root = ctx->uid == 0 && !(ctx->flags & CONF_AS_USER);
	if ((pw = getpwuid(ctx->uid)) != NULL)
		ctx->uname = conf_estrdup(pw->pw_name);
	else {
		(void)snprintf(buf, sizeof(buf), "%u", (unsigned int)ctx->uid);
		ctx->uname = conf_estrdup(buf);
	}
	ctx->gname = group_name(ctx->gid);
	ctx->portmin = (int)read_long(
	    "/proc/sys/net/ipv4/ip_unprivileged_port_start", 1024);
	/* CAP_NET_BIND_SERVICE (bit 10) lifts the limit without root. */
	if (!(ctx->flags & CONF_AS_USER) &&
	    (fp = fopen("/proc/self/status", "re")) != NULL) {
		while (fgets(buf, sizeof(buf), fp) != NULL)
			if (sscanf(buf, "CapEff: %llx", &caps) == 1 &&
			    (caps & (1ULL << 10)) != 0)
				ctx->portmin = 0;
		(void)fclose(fp);
	}
	ctx->somaxconn = read_long("/proc/sys/net/core/somaxconn", 4096);
	ctx->eph_lo = ctx->eph_hi = 0;
	if ((fp = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re")) !=
	    NULL) {
		if (fscanf(fp, "%ld %ld", &ctx->eph_lo, &ctx->eph_hi) != 2)
			ctx->eph_lo = ctx->eph_hi = 0;
		(void)fclose(fp);
	}
}

static char *
group_name(gid_t gid)
{
	struct group	*gr;
	char		 buf[32];

	if ((gr = getgrgid(gid)) != NULL)
		return conf_estrdup(gr->gr_name);
	(void)snprintf(buf, sizeof(buf), "%u", (unsigned int)gid);
	return conf_estrdup(buf);
}

/*
 * log = file writes to log_file, which the monitor opens (at start, as
 * root) and reopens on SIGUSR2 or portmuxctl reopen.
 */
static void
conf_logfile(struct src *s, struct conf *conf)
{
	const char	*v = src_str(s, "log_file");

	if (conf->log_dest != LOG_TO_FILE) {
		if (v != NULL)
			src_msg(s, LVL_WARN, "log_file", "log_file is used "
			    "only with log = file");
		return;
	}
	if (v == NULL) {
		src_msg(s, LVL_ERR, "log", "log = file needs log_file = "
		    "\"/path\"");
		return;
	}
	conf->log_file = conf_estrdup(v);
}

static void
conf_global(struct loadctx *ctx, cfg_t *root, struct conf *conf)
{
	struct src	 s;
	const char	*v;

	memset(&s, 0, sizeof(s));
	s.ctx = ctx;
	s.sec = root;
	s.si = ctx->secs[0];
	if ((v = src_str(&s, "pidfile")) != NULL) {
		conf->pidfile = conf_estrdup(v);
		conf->pidfile_set = true;
	} else
		conf->pidfile = conf_estrdup(RUNSTATEDIR "/portmuxd.pid");
	conf->log_dest = (enum log_dest)src_enum(&s, "log", LOG_TO_SYSLOG);
	conf_logfile(&s, conf);
	conf->log_facility = facility_values[src_enum(&s, "log_facility", 0)];
	conf->log_level = level_values[src_enum(&s, "log_level", 2)];
	conf->max_children = src_limit(&s, "max_children", 512);
	src_acl(&s, "allow", &conf->allow);
	src_acl(&s, "deny", &conf->deny);
	ctx->global_acl = conf->allow.n > 0 || conf->deny.n > 0;
	conf->ban_time_ms = src_dur(&s, "ban_time", 10 * 60 * 1000);
	conf->ban_max = (uint32_t)src_num(&s, "ban_max", 4096);
	conf->reload_grace_ms = src_dur(&s, "reload_grace", 5000);
	conf->stop_grace_ms = src_dur(&s, "stop_grace", 5000);
	conf_engine(&s, conf);
	conf_gatekeeper(&s, conf);
}

/*
 * The engine's account.  As root it must exist, and not be root itself:
 * the engine reads the network, and privilege separation is its point.
 */
static void
conf_engine(struct src *s, struct conf *conf)
{
	struct loadctx	*ctx = s->ctx;
	const char	*user = src_str(s, "user");
	const char	*group = src_str(s, "group");
	struct passwd	*pw;
	struct group	*gr;

	conf->uid = (uid_t)-1;
	conf->gid = (gid_t)-1;
	if (!ctx->as_root) {
		if (user != NULL && strcmp(user, ctx->uname) != 0)
			src_msg(s, LVL_HOST, "user", "user '%s': without "
			    "root, portmuxd runs as '%s' and cannot change "
			    "user", conf_vis(user), conf_vis(ctx->uname));
		if (group != NULL && strcmp(group, ctx->gname) != 0)
			src_msg(s, LVL_HOST, "group", "group '%s': without "
			    "root, portmuxd runs with group '%s' and cannot "
			    "change group", conf_vis(group),
			    conf_vis(ctx->gname));
		conf->user = conf_estrdup(ctx->uname);
		conf->group = conf_estrdup(ctx->gname);
		conf->uid = ctx->uid;
		conf->gid = ctx->gid;
		return;
	}
	conf->user = conf_estrdup(user != NULL ? user : ENGINE_USER);
	if ((pw = getpwnam(conf->user)) == NULL)
		src_msg(s, LVL_HOST, "user", "user '%s' does not exist; "
		    "create it: useradd --system --no-create-home --home-dir "
		    "/nonexistent --shell /usr/sbin/nologin %s",
		    conf_vis(conf->user), conf_vis(conf->user));
	else {
		conf->uid = pw->pw_uid;
		conf->gid = pw->pw_gid;
		if (pw->pw_uid == 0)
			src_msg(s, LVL_ERR, "user", "user '%s' has uid 0; the "
			    "engine must run as an unprivileged account",
			    conf_vis(conf->user));
	}
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL)
			src_msg(s, LVL_HOST, "group", "group '%s' does not "
			    "exist", conf_vis(group));
		else
			conf->gid = gr->gr_gid;
		conf->group = conf_estrdup(group);
	} else
		conf->group = conf->gid != (gid_t)-1 ? group_name(conf->gid) :
		    conf_estrdup("");
}

static void
conf_services(struct loadctx *ctx, cfg_t *root, struct conf *conf)
{
	unsigned int	 i, n = cfg_size(root, "service");
	unsigned int	 nd = cfg_size(root, "defaults");
	struct secinfo	*di = NULL, *d2;
	struct service	*all;
	struct src	*srcs;
	cfg_t		*def = NULL;
	bool		 own;
	size_t		 nen = 0;

	if (nd > 0 && (di = sec_get(ctx, cfg_getnsec(root, "defaults", 0))) !=
	    NULL)
		def = cfg_getnsec(root, "defaults", 0);
	if (nd > 1 && di != NULL &&
	    (d2 = sec_get(ctx, cfg_getnsec(root, "defaults", 1))) != NULL)
		conf_report(ctx, LVL_ERR, d2->file, d2->line, "section "
		    "'defaults' given twice (first at %s)", at(d2->file,
		    di->file, di->line));
	all = conf_ecalloc(n, sizeof(*all));
	srcs = conf_ecalloc(n, sizeof(*srcs));
	for (i = 0; i < n; i++) {
		srcs[i].ctx = ctx;
		srcs[i].sec = cfg_getnsec(root, "service", i);
		if ((srcs[i].si = sec_get(ctx, srcs[i].sec)) == NULL)
			srcs[i].si = conf_sec_add(ctx, srcs[i].sec, ctx->mainfile,
			    1);
		/* The daemon's own endpoints take no defaults. */
		own = srcs[i].sec == ctx->metrics_sec ||
		    srcs[i].sec == ctx->control_sec;
		srcs[i].def = own ? NULL : def;
		srcs[i].di = own ? NULL : di;
		srcs[i].svc = &all[i];
		srcs[i].own_exec = key_find(srcs[i].si, "server") != NULL ||
		    key_find(srcs[i].si, "builtin") != NULL ||
		    key_find(srcs[i].si, "redirect") != NULL;
		svc_build(&srcs[i], conf);
		if (!all[i].disable)
			nen++;
	}
	check_names(srcs, n);
	check_overlaps(srcs, n);
	check_knock_ports(srcs, n);
	check_tcpmux(srcs, n);
	for (i = 0; i < n; i++)
		if (all[i].host_bad) {
			src_msg(&srcs[i], LVL_SVC, NULL, "not served until the "
			    "problems of this host below are fixed and portmuxd "
			    "reloads; the other services are served");
			nen--;
		}
	/* The control socket alone serves nothing. */
	if (n == (ctx->control_sec != NULL ? 1U : 0U))
		conf_report(ctx, LVL_ERR, ctx->mainfile, 1,
		    "no service defined");
	else if (nen == 0)
		conf_report(ctx, LVL_WARN, ctx->mainfile, 1, "no service to "
		    "serve (%u disabled or not served): portmuxd runs and "
		    "serves none until a reload enables one", n);
	conf->services = conf_ecalloc(nen, sizeof(*conf->services));
	for (i = 0; i < n; i++) {
		if (all[i].disable || all[i].host_bad)
			svc_clear(&all[i]);
		else	/* conf takes over the service's memory */
			conf->services[conf->nservices++] = all[i];
	}
	free(all);
	free(srcs);
}

/* Disabled services are built and checked too, then dropped. */
static void
svc_build(struct src *s, const struct conf *conf)
{
	struct service	*svc = s->svc;

	svc->name = conf_estrdup(cfg_title(s->sec));
	svc->file = conf_estrdup(s->si->file);
	svc->line = s->si->line;
	svc->uid = svc->owner_uid = (uid_t)-1;
	svc->gid = svc->owner_gid = (gid_t)-1;
	svc->user_known = true;
	svc->proto = (enum proto)src_enum(s, "protocol", PROTO_TCP);
	svc->disable = src_bool(s, "disable", false);
	s->soft = svc->disable;
	svc_exec(s);
	svc_limits(s);
	svc_child(s);
	svc_socket(s);
	svc_port(s);
	svc_addrs(s);
	svc_knock(s);
	svc_redirect(s);
	svc_proxy(s);
	src_acl(s, "allow", &svc->allow);
	src_acl(s, "deny", &svc->deny);
	check_exec(s);
	check_gate(s, conf);
	check_redirect(s);
	check_proxy(s);
	check_proto(s);
	check_wait(s);
	check_env(s);
	svc_creds(s, conf);
	svc_owner(s);
	svc_files(s);
	svc_host(s);
}

static void
svc_port(struct src *s)
{
	struct service	*svc = s->svc;
	const char	*v = src_str(s, "port");

	if (v == NULL || svc->proto == PROTO_UNIX)
		return;
	if (conf_parse_port(v, svc->proto, &svc->port) == -1)
		src_msg(s, LVL_ERR, "port", "port '%s': not a %s port in "
		    "/etc/services", conf_vis(v), conf_proto_name(svc->proto));
}

static const char *
base_name(const char *path)
{
	const char	*base = strrchr(path, '/');

	return base != NULL ? base + 1 : path;
}

static void
svc_exec(struct src *s)
{
	struct service	*svc = s->svc;
	const char	*v;

	if ((v = src_str(s, "builtin")) != NULL)
		svc->builtin = (enum builtin)(confval_parse_enum(builtin_words,
		    v) + 1);
	if ((v = src_str(s, "server")) != NULL)
		svc->server = conf_estrdup(v);
	if (src_from(s, "args") != NULL || svc->server == NULL)
		svc->args = src_strv(s, "args");
	else {
		/* argv[0] defaults to the program's name, as inetd's did. */
		svc->args = conf_ecalloc(2, sizeof(*svc->args));
		svc->args[0] = conf_estrdup(base_name(svc->server));
	}
	if (src_from(s, "args") != NULL && svc->args[0] == NULL)
		src_msg(s, LVL_ERR, "args", "args is empty; it needs argv[0] "
		    "at least");
	/* xinetd's server_args, pasted without the program's name. */
	else if (svc->server != NULL && svc->args[0] != NULL &&
	    svc->args[0][0] == '-')
		src_msg(s, LVL_WARN, "args", "args starts with '%s', which the "
		    "program gets as its name, argv[0]: args is the whole argv "
		    "(xinetd's server_args leaves argv[0] out); write "
		    "args = {%s, %s, ...}", conf_vis(svc->args[0]),
		    conf_vis(base_name(svc->server)), conf_vis(svc->args[0]));
}

static void
svc_limits(struct src *s)
{
	struct service	*svc = s->svc;

	svc->wait = src_bool(s, "wait", false);
	svc->instances = src_limit(s, "instances", 64);
	svc->per_source = src_limit(s, "per_source", 16);
	src_rate(s, "rate", 0, 0, &svc->rate);
	svc->source_prefix4 = (unsigned int)src_num(s, "source_prefix4", 32);
	svc->source_prefix6 = (unsigned int)src_num(s, "source_prefix6", 64);
	svc->timeout_ms = src_dur(s, "timeout", 5 * 60 * 1000);
	svc->tcpmux_timeout_ms = src_dur(s, "tcpmux_timeout", 10 * 1000);
	svc->tcpmux_maxlen = (uint32_t)src_num(s, "tcpmux_maxlen", 256);
	src_rate(s, "udp_reply_rate", 10, 1000, &svc->udp_reply_rate);
	src_rate(s, "ban_after", 20, 60 * 1000, &svc->ban_after);
	svc->ban_factor = (uint32_t)src_num(s, "ban_factor", 4);
	if (svc->wait) {
		/*
		 * One child owns the listening socket until it exits, so
		 * the limits inherited from defaults have nothing to count.
		 */
		svc->instances = 1;
		svc->per_source = LIMIT_UNLIMITED;
		svc->rate.count = 0;
		svc->rate.window_ms = 0;
	}
}

static void
svc_child(struct src *s)
{
	struct service	*svc = s->svc;
	const char	*v;

	svc->env = src_strv(s, "env");
	svc->passenv = src_strv(s, "passenv");
	src_rlim(s, "rlimit_nofile", &svc->rlimit_nofile);
	src_rlim(s, "rlimit_nproc", &svc->rlimit_nproc);
	src_rlim(s, "rlimit_cpu", &svc->rlimit_cpu);
	src_rlim(s, "rlimit_as", &svc->rlimit_as);
	if (src_from(s, "nice") != NULL) {
		svc->nice_set = true;
		svc->nice = (int)src_num(s, "nice", 0);
	}
	if (src_from(s, "umask") != NULL) {
		svc->umask_set = true;
		svc->umask = (mode_t)src_num(s, "umask", 022);
	}
	if ((v = src_str(s, "chroot")) != NULL)
		svc->chroot = conf_estrdup(v);
	svc->stderr_mode = (enum stderr_mode)src_enum(s, "stderr", STDERR_LOG);
}

static void
svc_socket(struct src *s)
{
	struct service	*svc = s->svc;
	const char	*v;

	svc->backlog = (int)src_num(s, "backlog", 1024);
	svc->v6only = src_bool(s, "v6only", true);
	svc->keepalive = src_bool(s, "keepalive", true);
	svc->freebind = src_bool(s, "freebind", false);
	svc->accounting = src_bool(s, "accounting", false);
	svc->tcpmux = svc_tcpmux(s);
	if ((v = src_str(s, "path")) != NULL)
		svc->path = conf_estrdup(v);
	svc->mode_set = src_from(s, "mode") != NULL;
	svc->mode = (mode_t)src_num(s, "mode", 0666);
}

/*
 * tcpmux hands a TCP connection to a program or builtin that serves it:
 * from defaults, tcpmux = true reaches only such services, as the limits
 * of defaults go only to the services they can count.  A service's own
 * tcpmux where it cannot apply is an error at the key (check_proto(),
 * check_wait(), check_exec()).
 */
static bool
svc_tcpmux(struct src *s)
{
	const struct service	*svc = s->svc;

	if (s->def != NULL && src_from(s, "tcpmux") == s->def &&
	    (svc->proto != PROTO_TCP || svc->wait ||
	    svc->builtin == BUILTIN_TRAP))
		return false;
	return src_bool(s, "tcpmux", false);
}

/*
 * The binds of a tcp or udp service.  The default is every address of
 * both families, marked implicit so that listen.c may skip a family the
 * host lacks; with v6only = false one :: socket takes both.
 */
static void
svc_addrs(struct src *s)
{
	struct service		*svc = s->svc;
	struct bindaddr		*ba;
	cfg_t			*from;
	unsigned int		 i, n;

	if (svc->proto == PROTO_UNIX || svc->port == 0)
		return;
	if ((from = src_from(s, "address")) != NULL) {
		if ((n = cfg_size(from, "address")) == 0) {
			src_msg(s, LVL_ERR, "address",
			    "address list is empty");
			return;
		}
		svc->addrs = conf_ecalloc(n, sizeof(*svc->addrs));
		for (i = 0; i < n; i++)
			if (confval_parse_addr(cfg_getnstr(from, "address", i),
			    &svc->addrs[svc->naddrs]) == 0)
				svc->naddrs++;
	} else {
		svc->addrs = conf_ecalloc(2, sizeof(*svc->addrs));
		if (svc->v6only)
			(void)confval_parse_addr("0.0.0.0",
			    &svc->addrs[svc->naddrs++]);
		(void)confval_parse_addr("::", &svc->addrs[svc->naddrs++]);
		for (i = 0; i < svc->naddrs; i++)
			svc->addrs[i].implicit = true;
	}
	for (i = 0; i < svc->naddrs; i++) {
		ba = &svc->addrs[i];
		if (ba->ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ba->ss)->sin_port =
			    htons(svc->port);
		else
			((struct sockaddr_in6 *)&ba->ss)->sin6_port =
			    htons(svc->port);
	}
}

static void
check_exec(struct src *s)
{
	struct service	*svc = s->svc;
	int		 i;

	if (src_given(s, "server") && src_given(s, "builtin"))
		src_msg(s, LVL_ERR, "server", "both server and builtin given; "
		    "a service is one or the other");
	else if (!src_given(s, "server") && !src_given(s, "builtin") &&
	    s->svc->ngate == 0 && !src_given(s, "redirect"))
		src_msg(s, LVL_ERR, NULL, "no server, builtin or redirect "
		    "given");
	if (svc->builtin == BUILTIN_NONE)
		return;
	for (i = 0; exec_keys[i] != NULL; i++)
		if (sec_has(s->sec, s->si, exec_keys[i]))
			src_msg(s, LVL_ERR, exec_keys[i], "%s does not apply "
			    "to a builtin service", exec_keys[i]);
	if (svc->wait)
		src_msg(s, LVL_ERR, "wait",
		    "a builtin cannot use wait = true");
	if (svc->builtin == BUILTIN_TCPMUX && svc->proto != PROTO_TCP)
		src_msg(s, LVL_ERR, "builtin", "builtin tcpmux needs protocol "
		    "tcp");
	if (svc->builtin == BUILTIN_METRICS && svc->proto == PROTO_UDP)
		src_msg(s, LVL_ERR, "builtin", "builtin metrics needs "
		    "protocol tcp or unix: it answers HTTP requests");
	if (svc->builtin == BUILTIN_CONTROL && s->sec != s->ctx->control_sec)
		src_msg(s, LVL_ERR, "builtin", "builtin control is the control "
		    "socket's; set control = \"/path\" at the top level");
	/* A UDP source is forged at will: a UDP trap would ban anyone. */
	if (svc->builtin == BUILTIN_TRAP && svc->proto != PROTO_TCP)
		src_msg(s, LVL_ERR, "builtin", "builtin trap needs protocol "
		    "tcp%s", svc->proto == PROTO_UDP ? ": a udp source "
		    "address can be forged" : "");
	if (svc->builtin == BUILTIN_TRAP && svc->tcpmux)
		src_msg(s, LVL_ERR, "tcpmux", "a trap cannot be reached "
		    "through tcpmux");
}

static void
check_proto(struct src *s)
{
	static const char *const unix_only[] = { "path", "mode", "owner",
	    NULL };
	static const char *const inet_only[] = { "port", "address", "allow",
	    "deny", "tcpmux", "v6only", "freebind", NULL };
	struct service	*svc = s->svc;
	const char	*k;
	int		 i;

	if (svc->proto == PROTO_UNIX) {
		for (i = 0; (k = inet_only[i]) != NULL; i++)
			if (sec_has(s->sec, s->si, k))
				src_msg(s, LVL_ERR, k, "%s does not apply to "
				    "protocol unix%s", k, k[0] == 'a' ||
				    k[0] == 'd' ? "; its peers are known by "
				    "uid, not address" : "");
		if (!src_given(s, "path"))
			src_msg(s, LVL_ERR, "protocol", "protocol unix needs "
			    "a path");
		return;
	}
	for (i = 0; (k = unix_only[i]) != NULL; i++)
		if (sec_has(s->sec, s->si, k))
			src_msg(s, LVL_ERR, k, "%s applies only to protocol "
			    "unix", k);
	if (!src_given(s, "port") && svc->ngate == 0) {
		if (svc->proto != PROTO_TCP || !svc->tcpmux)
			src_msg(s, LVL_ERR, NULL, "port is required%s",
			    svc->proto == PROTO_TCP ? " (or tcpmux = true "
			    "for a service reached only through tcpmux)" : "");
		else if (sec_has(s->sec, s->si, "address"))
			src_msg(s, LVL_ERR, "address", "address needs a port; "
			    "without one the service is reached only "
			    "through tcpmux");
	}
	if (svc->proto == PROTO_UDP && svc->tcpmux)
		src_msg(s, LVL_ERR, "tcpmux", "tcpmux needs protocol tcp");
	if (svc->proto == PROTO_UDP && svc->server != NULL && !svc->wait)
		src_msg(s, LVL_ERR, src_given(s, "wait") ? "wait" : "protocol",
		    "a udp server with wait = false is not supported; use "
		    "wait = true");
}

static void
check_wait(struct src *s)
{
	static const char *const keys[] = { "instances", "per_source",
	    "rate", NULL };
	int	 i;

	if (!s->svc->wait)
		return;
	for (i = 0; keys[i] != NULL; i++)
		if (sec_has(s->sec, s->si, keys[i]))
			src_msg(s, LVL_ERR, keys[i], "%s does not apply to a "
			    "wait service: its one child owns the listening "
			    "socket", keys[i]);
	if (s->svc->tcpmux)
		src_msg(s, LVL_ERR, "tcpmux", "a wait service cannot be "
		    "reached through tcpmux");
}

/* A variable set twice would leave the child's value to chance. */
static void
check_env(struct src *s)
{
	char	**env = s->svc->env, **pass = s->svc->passenv;
	size_t	 i, j, n;

	for (i = 0; env[i] != NULL; i++) {
		n = strcspn(env[i], "=");
		for (j = 0; j < i; j++)
			if (strncmp(env[j], env[i], n + 1) == 0)
				break;
		if (j < i) {
			src_msg(s, LVL_ERR, "env", "variable '%.*s' given "
			    "twice", (int)n, env[i]);
			continue;
		}
		for (j = 0; pass[j] != NULL; j++)
			if (strlen(pass[j]) == n &&
			    strncmp(pass[j], env[i], n) == 0)
				src_msg(s, LVL_ERR, "passenv", "variable '%s' "
				    "in both env and passenv",
				    conf_vis(pass[j]));
	}
	for (i = 0; pass[i] != NULL; i++)
		for (j = 0; j < i; j++)
			if (strcmp(pass[i], pass[j]) == 0)
				src_msg(s, LVL_ERR, "passenv", "variable '%s' "
				    "given twice", conf_vis(pass[i]));
}

/*
 * The account an exec'd service runs as, resolved now: the monitor must
 * not look users up in the middle of serving, and a typo should stop the
 * load rather than a connection.
 */
static void
svc_creds(struct src *s, const struct conf *conf)
{
	struct service	*svc = s->svc;
	struct loadctx	*ctx = s->ctx;
	const char	*user = src_str(s, "user");
	const char	*group = src_str(s, "group");
	struct passwd	*pw;
	struct group	*gr;

	if (svc->builtin != BUILTIN_NONE || svc->ngate > 0 ||
	    svc->redirect != NULL)
		return;
	if (!ctx->as_root) {
		if (user != NULL && strcmp(user, ctx->uname) != 0)
			src_msg(s, LVL_HOST, "user", "user '%s': without "
			    "root, portmuxd runs every service as '%s'",
			    conf_vis(user), conf_vis(ctx->uname));
		if (group != NULL && strcmp(group, ctx->gname) != 0)
			src_msg(s, LVL_HOST, "group", "group '%s': without "
			    "root, portmuxd runs every service with group "
			    "'%s'", conf_vis(group), conf_vis(ctx->gname));
		svc->user = conf_estrdup(ctx->uname);
		svc->group = conf_estrdup(ctx->gname);
		svc->uid = ctx->uid;
		svc->gid = ctx->gid;
		return;
	}
	svc->user = conf_estrdup(user != NULL ? user : SERVICE_USER);
	if ((pw = getpwnam(svc->user)) == NULL) {
		src_msg(s, LVL_HOST, "user", "user '%s' does not exist",
		    conf_vis(svc->user));
		svc->user_known = false;
	} else {
		svc->uid = pw->pw_uid;
		svc->gid = pw->pw_gid;
	}
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL)
			src_msg(s, LVL_HOST, "group", "group '%s' does not "
			    "exist", conf_vis(group));
		else
			svc->gid = gr->gr_gid;
		svc->group = conf_estrdup(group);
	} else
		svc->group = svc->gid != (gid_t)-1 ? group_name(svc->gid) :
		    conf_estrdup("");
	/* Else a compromised service could signal the engine, or ptrace it. */
	if (strcmp(svc->user, conf->user) == 0 ||
	    (svc->uid != (uid_t)-1 && svc->uid == conf->uid))
		src_msg(s, LVL_ERR, "user", "user '%s' is the engine's "
		    "account; a service must run as another",
		    conf_vis(svc->user));
	if (svc->user_known && svc->gid != (gid_t)-1)
		svc_groups(svc);
}

/* The supplementary groups initgroups(3) would set, fixed at load. */
static void
svc_groups(struct service *svc)
{
	gid_t	*groups = NULL;
	int	 n = 32, m;

	for (;;) {
		groups = conf_ereallocarray(groups, (size_t)n,
		    sizeof(*groups));
		m = n;
		if (getgrouplist(svc->user, svc->gid, groups, &m) != -1) {
			n = m;
			break;
		}
		if (m <= n || m > CONF_MAX_GROUPS) {
			/* Cannot happen with glibc; fall back to the gid. */
			groups[0] = svc->gid;
			n = 1;
			break;
		}
		n = m;
	}
	svc->groups = groups;
	svc->ngroups = n;
}

/* owner = user[:group] of a unix socket. */
static void
svc_owner(struct src *s)
{
	struct service	*svc = s->svc;
	struct loadctx	*ctx = s->ctx;
	const char	*v = src_str(s, "owner"), *group;
	char		 user[40];
	struct passwd	*pw;
	struct group	*gr;
	size_t		 n;

	if (svc->proto != PROTO_UNIX || v == NULL)
		return;
	svc->owner_set = true;
	n = strcspn(v, ":");
	(void)snprintf(user, sizeof(user), "%.*s", (int)n, v);
	group = v[n] == ':' ? v + n + 1 : NULL;
	if (!ctx->as_root) {
		if (strcmp(user, ctx->uname) != 0 ||
		    (group != NULL && strcmp(group, ctx->gname) != 0))
			src_msg(s, LVL_HOST, "owner", "owner '%s': without "
			    "root, portmuxd runs as '%s' and cannot give the "
			    "socket away", conf_vis(v), conf_vis(ctx->uname));
		svc->owner_uid = ctx->uid;
		svc->owner_gid = ctx->gid;
		return;
	}
	if ((pw = getpwnam(user)) == NULL)
		src_msg(s, LVL_HOST, "owner", "user '%s' does not exist",
		    conf_vis(user));
	else {
		svc->owner_uid = pw->pw_uid;
		svc->owner_gid = pw->pw_gid;
	}
	if (group != NULL && (gr = getgrnam(group)) == NULL)
		src_msg(s, LVL_HOST, "owner", "group '%s' does not exist",
		    conf_vis(group));
	else if (group != NULL)
		svc->owner_gid = gr->gr_gid;
}

/*
 * The server must be an executable file where the child will exec it,
 * inside the chroot when there is one.  That depends on the host, so -n
 * only warns.
 */
static void
svc_files(struct src *s)
{
	struct service	*svc = s->svc;
	struct stat	 st;

	if (svc->chroot != NULL) {
		if (!s->ctx->as_root)
			src_msg(s, LVL_HOST, "chroot", "chroot needs portmuxd "
			    "to start as root");
		else if (stat(svc->chroot, &st) == -1)
			src_msg(s, LVL_HOST, "chroot", "chroot '%s': %s",
			    conf_vis(svc->chroot), strerror(errno));
		else if (!S_ISDIR(st.st_mode))
			src_msg(s, LVL_HOST, "chroot", "chroot '%s': not a "
			    "directory", conf_vis(svc->chroot));
	}
	if (svc->server != NULL)
		check_server(s);
}

/*
 * Whether the service's account may execute the file, or search the
 * directory, that st describes: the owner's, the group's or the others'
 * x bit, the first class the account is in, as the kernel decides.
 * Root searches any directory and executes a file with any x bit.
 * ACLs are not read: they only ever narrow what the bits show here.
 */
static bool
may_exec(const struct service *svc, const struct stat *st)
{
	int	 i;

	if (svc->uid == 0)
		return S_ISDIR(st->st_mode) ||
		    (st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0;
	if (st->st_uid == svc->uid)
		return (st->st_mode & S_IXUSR) != 0;
	for (i = 0; i < svc->ngroups; i++)
		if (svc->groups[i] == st->st_gid)
			break;
	if (st->st_gid == svc->gid || i < svc->ngroups)
		return (st->st_mode & S_IXGRP) != 0;
	return (st->st_mode & S_IXOTH) != 0;
}

/*
 * The server as the child will exec it, after chroot and setuid: a
 * regular file inside the chroot, each directory from the child's "/"
 * down searchable by the service's account and the file executable by
 * it.  The monitor is root, so access(2) would answer for root; an exec
 * refused only at spawn fails every connection, and a UDP wait service
 * respawns in a loop.  Without root the service runs as portmuxd's own
 * account, which access(2) checks, directories included.
 */
static void
check_server(struct src *s)
{
	struct service	*svc = s->svc;
	const char	*root = svc->chroot != NULL &&
	    strcmp(svc->chroot, "/") != 0 ? svc->chroot : "";
	const char	*user = svc->user != NULL ? svc->user : s->ctx->uname;
	char		 path[PATH_MAX], dir[PATH_MAX];
	struct stat	 st, dst;
	size_t		 i;

	(void)snprintf(path, sizeof(path), "%s%s", root, svc->server);
	if (stat(path, &st) == -1) {
		src_msg(s, LVL_HOST, "server", "server '%s': %s",
		    conf_vis(path), strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		src_msg(s, LVL_HOST, "server", "server '%s': not a regular "
		    "file", conf_vis(path));
		return;
	}
	if (!s->ctx->as_root || svc->uid == (uid_t)-1) {
		if (!s->ctx->as_root && access(path, X_OK) == -1)
			src_msg(s, LVL_HOST, "server", "server '%s': not "
			    "executable by user '%s': %s", conf_vis(path),
			    conf_vis(user), strerror(errno));
		return;
	}
	/* The chroot's own parents are crossed as root, before setuid. */
	for (i = strlen(root); path[i] != '\0'; i++) {
		if (path[i] != '/')
			continue;
		(void)snprintf(dir, sizeof(dir), "%.*s", i == 0 ? 1 : (int)i,
		    path);
		if (stat(dir, &dst) == 0 && !may_exec(svc, &dst)) {
			src_msg(s, LVL_HOST, "server", "server '%s': not "
			    "executable by user '%s': no search permission on "
			    "'%s'", conf_vis(path), conf_vis(user),
			    conf_vis(dir));
			return;
		}
	}
	if (!may_exec(svc, &st))
		src_msg(s, LVL_HOST, "server", "server '%s': not executable "
		    "by user '%s' (mode %04o, owner %u:%u)", conf_vis(path),
		    conf_vis(user), (unsigned int)(st.st_mode & 07777),
		    (unsigned int)st.st_uid, (unsigned int)st.st_gid);
}

/* What the starting user may do, and what the kernel will grant. */
static void
svc_host(struct src *s)
{
	struct service	*svc = s->svc;
	struct loadctx	*ctx = s->ctx;
	cfg_t		*from;

	if (svc->nice_set && svc->nice < 0 && !ctx->as_root)
		src_msg(s, LVL_HOST, "nice", "nice %d: a negative nice needs "
		    "portmuxd to start as root", svc->nice);
	/*
	 * Only a warning under -n: at start the bind itself fails, and
	 * exits 71 naming service, address, port and errno (DESIGN.md).
	 */
	if (svc->proto != PROTO_UNIX && svc->port != 0 && !ctx->as_root &&
	    svc->port < ctx->portmin && (ctx->flags & CONF_CHECK_ONLY))
		src_msg(s, LVL_WARN, "port", "port %u: binding a port below "
		    "%d needs root", svc->port, ctx->portmin);
	/*
	 * The kernel hands ports of this range to outgoing connections: one
	 * may hold the port when portmuxd starts, and the bind then fails.
	 */
	if (svc->proto != PROTO_UNIX && svc->port != 0 &&
	    svc->port >= ctx->eph_lo && svc->port <= ctx->eph_hi)
		src_msg(s, LVL_WARN, "port", "port %u lies in the ephemeral "
		    "port range %ld-%ld (net.ipv4.ip_local_port_range): an "
		    "outgoing connection may hold it", svc->port, ctx->eph_lo,
		    ctx->eph_hi);
	/* Socket permissions guard a unix socket; CIDRs mean nothing. */
	if (svc->proto == PROTO_UNIX && ctx->global_acl &&
	    s->sec != ctx->control_sec)
		src_msg(s, LVL_WARN, "protocol", "the global allow and deny "
		    "lists do not apply to a unix service: its path's mode "
		    "and owner decide who connects");
	/* TCP and unix wait programs accept themselves: no peer to check. */
	if (svc->wait && svc->proto != PROTO_UDP && (svc->allow.n > 0 ||
	    svc->deny.n > 0 || ctx->global_acl))
		src_msg(s, LVL_WARN, "wait", "allow and deny cannot apply to a "
		    "%s wait service: its program accepts the connections "
		    "itself", conf_proto_name(svc->proto));
	if (svc->accounting && (svc->proto != PROTO_TCP || svc->wait ||
	    svc->builtin != BUILTIN_NONE))
		src_msg(s, LVL_WARN, "accounting", "accounting applies only to "
		    "programs of TCP services without wait: ignored here");
	/* listen(2) silently caps the backlog at net.core.somaxconn. */
	from = src_from(s, "backlog");
	if (from != NULL && svc->backlog > ctx->somaxconn &&
	    (from == s->sec || !ctx->backlog_warned)) {
		if (from != s->sec)
			ctx->backlog_warned = true;
		src_msg(s, LVL_WARN, "backlog", "backlog %d is above "
		    "net.core.somaxconn (%ld), which the kernel uses instead",
		    svc->backlog, ctx->somaxconn);
	}
}

/*
 * Two binds overlap when the kernel would refuse the second: the same
 * protocol and port, and the same address, or a wildcard and anything of
 * its family.  A :: socket with v6only = false also takes IPv4.
 */
static bool
binds_overlap(const struct service *a, const struct bindaddr *x,
    const struct service *b, const struct bindaddr *y)
{
	int	 fx = x->ss.ss_family, fy = y->ss.ss_family;

	if (a->proto != b->proto || a->port != b->port)
		return false;
	if (fx == fy) {
		if (x->wildcard || y->wildcard)
			return true;
		if (fx == AF_INET)
			return memcmp(&((const struct sockaddr_in *)&x->ss)->
			    sin_addr, &((const struct sockaddr_in *)&y->ss)->
			    sin_addr, sizeof(struct in_addr)) == 0;
		return memcmp(&((const struct sockaddr_in6 *)&x->ss)->
		    sin6_addr, &((const struct sockaddr_in6 *)&y->ss)->
		    sin6_addr, sizeof(struct in6_addr)) == 0;
	}
	return (fx == AF_INET6 && x->wildcard && !a->v6only) ||
	    (fy == AF_INET6 && y->wildcard && !b->v6only);
}

static const char *
addr_str(const struct bindaddr *ba)
{
	static char	 buf[2][INET6_ADDRSTRLEN];
	static int	 n;
	char		*b = buf[n++ % 2];
	const void	*a;

	if (ba->ss.ss_family == AF_INET)
		a = &((const struct sockaddr_in *)&ba->ss)->sin_addr;
	else
		a = &((const struct sockaddr_in6 *)&ba->ss)->sin6_addr;
	if (inet_ntop(ba->ss.ss_family, a, b, INET6_ADDRSTRLEN) == NULL)
		(void)snprintf(b, INET6_ADDRSTRLEN, "?");
	return b;
}

/* By protocol and port, then in the order of the file. */
static int
bindref_cmp(const void *a, const void *b)
{
	const struct bindref	*x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->svc != y->svc)
		return x->svc < y->svc ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Bind x overlaps the earlier bind y. */
static void
overlap_msg(struct src *srcs, const struct bindref *x,
    const struct bindref *y)
{
	struct src		*s = &srcs[x->svc], *t = &srcs[y->svc];
	const struct service	*a = s->svc, *b = t->svc;
	const char		*key, *tkey, *file, *tfile;
	int			 line, tline;

	key = src_from(s, "address") != NULL ? "address" : "port";
	if (x->svc == y->svc) {
		src_msg(s, LVL_ERR, key, "address %s overlaps %s of the same "
		    "service", addr_str(&a->addrs[x->addr]),
		    addr_str(&b->addrs[y->addr]));
		return;
	}
	tkey = src_from(t, "address") != NULL ? "address" : "port";
	src_line(s, key, &file, &line);
	src_line(t, tkey, &tfile, &tline);
	src_msg(s, LVL_ERR, key, "%s port %u on %s overlaps service '%s' on "
	    "%s (%s)", conf_proto_name(a->proto), a->port,
	    addr_str(&a->addrs[x->addr]), conf_vis(b->name),
	    addr_str(&b->addrs[y->addr]), at(file, tfile, tline));
}

/*
 * Binds of enabled services, each reported once, at the later one.
 * Sorting by port keeps this near linear: only binds of one protocol
 * and port are compared with each other.
 */
static void
check_overlaps(struct src *srcs, size_t n)
{
	struct bindref		*refs;
	const struct service	*a, *b;
	size_t			 i, j, g, e, nrefs = 0;

	for (i = 0; i < n; i++)
		if (!srcs[i].svc->disable)
			nrefs += srcs[i].svc->naddrs;
	refs = conf_ecalloc(nrefs, sizeof(*refs));
	for (i = 0, nrefs = 0; i < n; i++)
		for (j = 0; !srcs[i].svc->disable && j < srcs[i].svc->naddrs;
		    j++, nrefs++) {
			refs[nrefs].proto = srcs[i].svc->proto;
			refs[nrefs].port = srcs[i].svc->port;
			refs[nrefs].svc = i;
			refs[nrefs].addr = j;
		}
	qsort(refs, nrefs, sizeof(*refs), bindref_cmp);
	for (g = 0; g < nrefs; g = e) {
		for (e = g; e < nrefs && refs[e].proto == refs[g].proto &&
		    refs[e].port == refs[g].port; e++)
			;
		for (i = g + 1; i < e; i++) {
			a = srcs[refs[i].svc].svc;
			for (j = g; j < i; j++) {
				b = srcs[refs[j].svc].svc;
				if (!binds_overlap(a, &a->addrs[refs[i].addr],
				    b, &b->addrs[refs[j].addr]))
					continue;
				overlap_msg(srcs, &refs[i], &refs[j]);
				break;
			}
		}
	}
	free(refs);
	for (i = 0; i < n; i++) {
		a = srcs[i].svc;
		for (j = 0; j < i && a->path != NULL && !a->disable; j++) {
			b = srcs[j].svc;
			if (!b->disable && b->path != NULL &&
			    strcmp(a->path, b->path) == 0)
				src_msg(&srcs[i], LVL_ERR, "path", "path '%s' "
				    "is also used by service '%s'",
				    conf_vis(a->path), conf_vis(b->name));
		}
	}
}

/* By name without case, then in the order of the file. */
static int
name_cmp(const void *a, const void *b)
{
	size_t	 x = *(const size_t *)a, y = *(const size_t *)b;
	int	 rc;

	if ((rc = strcasecmp(sort_srcs[x].svc->name,
	    sort_srcs[y].svc->name)) != 0)
		return rc;
	return x < y ? -1 : x > y;
}

/*
 * libconfuse rejects two sections of one name; tcpmux compares names
 * without case (RFC 1078), so "Echo" after "echo" is a duplicate too.
 */
/* tcpmux = true reaches nothing without a tcpmux builtin to ask. */
static void
check_tcpmux(struct src *srcs, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!srcs[i].svc->disable &&
		    srcs[i].svc->builtin == BUILTIN_TCPMUX)
			return;
	for (i = 0; i < n; i++)
		if (!srcs[i].svc->disable && srcs[i].svc->tcpmux)
			src_msg(&srcs[i], LVL_WARN, "tcpmux", "no enabled "
			    "service has builtin = tcpmux: this service is "
			    "not reachable by name");
}

static void
check_names(struct src *srcs, size_t n)
{
	struct secinfo	*si, *first;
	size_t		*idx, i, f;

	idx = conf_ecalloc(n, sizeof(*idx));
	for (i = 0; i < n; i++)
		idx[i] = i;
	sort_srcs = srcs;
	qsort(idx, n, sizeof(*idx), name_cmp);
	sort_srcs = NULL;
	for (i = 1, f = 0; i < n; i++) {
		if (strcasecmp(srcs[idx[i]].svc->name,
		    srcs[idx[f]].svc->name) != 0) {
			f = i;
			continue;
		}
		si = srcs[idx[i]].si;
		first = srcs[idx[f]].si;
		conf_report(srcs[0].ctx, LVL_ERR, si->file, si->line,
		    "service '%s' defined twice (first at %s as '%s'); names "
		    "are compared without case",
		    conf_vis(srcs[idx[i]].svc->name),
		    at(si->file, first->file, first->line),
		    conf_vis(srcs[idx[f]].svc->name));
	}
	free(idx);
}

static void
strv_free(char **v)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static void
svc_clear(struct service *svc)
{
	free(svc->name);
	free(svc->file);
	free(svc->addrs);
	free(svc->server);
	strv_free(svc->args);
	strv_free(svc->env);
	strv_free(svc->passenv);
	free(svc->user);
	free(svc->group);
	free(svc->groups);
	free(svc->allow.v);
	free(svc->deny.v);
	free(svc->trusted_proxies.v);
	free(svc->chroot);
	free(svc->path);
	free(svc->knock);
	free(svc->gate);
	free(svc->redirect);
	free(svc->targets);
}

void
conf_free(struct conf *conf)
{
	size_t	 i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->nservices; i++)
		svc_clear(&conf->services[i]);
	free(conf->services);
	free(conf->file);
	free(conf->user);
	free(conf->group);
	free(conf->pidfile);
	free(conf->log_file);
	free(conf->allow.v);
	free(conf->deny.v);
	free(conf->never_ban.v);
	free(conf->nft_table);
	free(conf);
}

/* Case-insensitive, as tcpmux names are (RFC 1078). */
struct service *
conf_service(struct conf *conf, const char *name)
{
	size_t	 i;

	for (i = 0; i < conf->nservices; i++)
		if (strcasecmp(conf->services[i].name, name) == 0)
			return &conf->services[i];
	return NULL;
}

const char *
conf_builtin_name(enum builtin b)
{
	if (b == BUILTIN_NONE)
		return "none";
	if (b < BUILTIN_NONE || b > BUILTIN_CONTROL)
		return "unknown";
	return builtin_words[b - 1];
}

const char *
conf_proto_name(enum proto p)
{
	if (p < PROTO_TCP || p > PROTO_UNIX)
		return "unknown";
	return proto_words[p];
}

static void
ctx_init(struct loadctx *ctx, const char *name, int flags)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->flags = flags;
	ctx->cline = 1;
	ctx->mainfile = conflex_intern(ctx, name);
	host_init(ctx);
}

static void
ctx_clear(struct loadctx *ctx)
{
	size_t	 i;

	free(ctx->out);
	free(ctx->segs);
	for (i = 0; i < ctx->nfiles; i++)
		free(ctx->files[i]);
	free(ctx->files);
	for (i = 0; i < ctx->nsecs; i++) {
		free(ctx->secs[i]->keys);
		free(ctx->secs[i]);
	}
	free(ctx->secs);
	free(ctx->uname);
	free(ctx->gname);
}

/*
 * After the pre-pass: parse, convert and validate, unless the pre-pass
 * failed (an include missing, a variable undefined: what follows would
 * only be noise).  After a syntax error the parse is incomplete, so the
 * semantic checks are skipped too.
 */
static struct conf *
load_finish(struct loadctx *ctx)
{
	struct conf	*conf = NULL;
	cfg_t		*cfg;

	cur = ctx;
	if (ctx->nerr == 0 && (cfg = parse(ctx)) != NULL) {
		lists_scan(ctx);
		conf = conf_ecalloc(1, sizeof(*conf));
		conf->file = conf_estrdup(ctx->mainfile);
		conf->as_root = ctx->as_root;
		conf_global(ctx, cfg, conf);
		if (conf_metrics(ctx, cfg, ctx->secs[0]) != NULL)
			ctx->metrics_sec = cfg_gettsec(cfg, "service",
			    "metrics");
		else if (key_find(ctx->secs[0], "metrics") == NULL &&
		    key_find(ctx->secs[0], "metrics_allow") != NULL)
			conf_report(ctx, LVL_ERR, key_find(ctx->secs[0],
			    "metrics_allow")->file, key_find(ctx->secs[0],
			    "metrics_allow")->line, "metrics_allow needs "
			    "metrics = \"address:port\"");
		ctx->control_sec = conf_control(ctx, cfg, ctx->secs[0]);
		conf_services(ctx, cfg, conf);
		(void)cfg_free(cfg);
	}
	cur = NULL;
	reports_flush(ctx);
	if (ctx->nerr > 0) {
		conf_free(conf);
		conf = NULL;
	}
	ctx_clear(ctx);
	return conf;
}

struct conf *
conf_load(const char *path, int flags)
{
	struct loadctx	 ctx;
	struct fileid	 id;
	char		*buf;
	size_t		 len;

	ctx_init(&ctx, path, flags);
	if (conflex_read_conf(&ctx, path, NULL, 0, &buf, &len, &id) == 0) {
		ctx.chain[0] = id;
		if (conflex_check_text(&ctx, ctx.mainfile, buf, len) == 0)
			conflex_prep(&ctx, ctx.mainfile, buf, len,
			    conflex_dir_of(path));
		free(buf);
	}
	return load_finish(&ctx);
}

/* Relative includes are taken from the cwd; name is used in messages. */
struct conf *
conf_load_buf(const char *buf, const char *name, int flags)
{
	struct loadctx	 ctx;
	size_t		 len = strlen(buf);

	ctx_init(&ctx, name, flags);
	if (len > CONF_MAX_FILE) {
		log_warnx("%s: file too big (%zu bytes; at most %d)", name,
		    len, CONF_MAX_FILE);
		ctx.nerr++;
	} else if (conflex_check_text(&ctx, ctx.mainfile, buf, len) == 0)
		conflex_prep(&ctx, ctx.mainfile, buf, len, NULL);
	return load_finish(&ctx);
}
