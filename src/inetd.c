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
 * inetd.conf to portmux.conf, one section per service line (inetd.h has
 * the contract).  The text is read in three passes: the lines are
 * classified and each service line parsed into a struct svc; then the
 * lines are looked at together (section names, tcp/tcp6 pairs, binds
 * that overlap, a tcpmux service without the tcpmux builtin); then the
 * output is written, line for line or pretty.  inetd(8) of OpenBSD and
 * of Debian's openbsd-inetd, and the inetd of GNU inetutils, document
 * the syntax:
 *
 *   [addr,...:]service socktype proto[,sndbuf=N][,rcvbuf=N]
 *       wait|nowait[.max] user[.group|:group] server [argv0 args...]
 *
 * Pure: no lookup of users, services or hosts, since the result must
 * not depend on who converts it; portmuxd -n checks those.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "importout.h"
#include "inetd.h"

/* What portmux.conf says for "*": both wildcard addresses. */
#define WILD4	"0.0.0.0"
#define WILD6	"::"

/* Debian's tcpd looks for a daemon named without a path here. */
#define TCPD_DIR	"/usr/sbin"

enum proto {
	P_TCP,
	P_UDP,
	P_UNIX,
};

/* Which addresses a tcp or udp line binds by default. */
enum fam {
	F_BOTH,		/* tcp, udp: IPv4 and IPv6, as Debian reads them */
	F_V4,		/* tcp4 */
	F_V6,		/* tcp6 */
	F_V46,		/* tcp46: IPv6 with IPv4 mapped */
};

enum lkind {
	L_BLANK,
	L_COMMENT,	/* also a commented-out service line, svc set */
	L_ENTRY,	/* a service line, svc set */
	L_CONT,		/* continues the entry above */
	L_DEFADDR,	/* "127.0.0.1:" */
};

struct msg {
	enum iout_level	 level;
	char		*text;		/* pooled */
};

struct svc {
	int		 line;		/* first line, from 1 */
	const char	*text;		/* all its lines, in the input */
	size_t		 textlen;
	bool		 off;		/* from a commented-out line */
	bool		 error;		/* not converted */
	enum proto	 proto;
	enum fam	 fam;
	char		*port;		/* tcp and udp, as written */
	char		*path;		/* unix */
	char		*mux;		/* tcpmux/NAME */
	bool		 muxplus;	/* tcpmux/+NAME */
	bool		 hosts;		/* addrs given, on the line or above */
	char		**addrs;	/* numeric */
	size_t		 naddrs;
	bool		 v4pair;	/* tcp beside a tcp6 line: IPv4 only */
	const char	*builtin;
	char		*server;
	char		**args;
	size_t		 nargs;
	char		*user;
	char		*group;
	bool		 wait;
	long		 max;		/* nowait.max; 0: none */
	char		*title;
	struct msg	*msgs;
	size_t		 nmsgs;
};

struct pline {
	const char	*p;
	size_t		 len;
	enum lkind	 kind;
	size_t		 svc;		/* L_ENTRY, L_COMMENT: index, or -1 */
};

struct ctx {
	const char		*name;	/* for problems and comments */
	int			 flags;
	struct iout_problems	*ps;
	bool			 nomem;
	char			**pool;	/* every string made here */
	size_t			 npool;
	size_t			 poolsize;
	char			**defaddrs; /* from an "addr:" line */
	size_t			 ndefaddrs;
	bool			 defhosts;
	struct pline		*lines;
	size_t			 nlines;
	struct svc		*svcs;
	size_t			 nsvcs;
	struct iout_names	 names;
};

/* The builtins of inetd, by name and by port (services(5)). */
static const struct {
	const char	*name;
	const char	*port;
} builtins[] = {
	{ "echo", "7" }, { "discard", "9" }, { "daytime", "13" },
	{ "chargen", "19" }, { "time", "37" }, { "tcpmux", "1" },
};

static char	*keep(struct ctx *, char *);
static char	*sdup(struct ctx *, const char *);
static char	*sndup(struct ctx *, const char *, size_t);
static void	 say(struct ctx *, struct svc *, enum iout_level,
		    const char *, ...)
		    __attribute__((__format__(__printf__, 4, 5)));
static bool	 split_lines(struct ctx *, const char *, size_t);
static void	 classify(struct ctx *);
static size_t	 new_svc(struct ctx *);
static size_t	 fields(struct ctx *, const char *, size_t, char ***);
static bool	 looks_like_entry(char **, size_t);
static void	 parse_entry(struct ctx *, struct svc *, char **, size_t);
static void	 parse_defaddr(struct ctx *, const char *, int);
static bool	 parse_hosts(struct ctx *, struct svc *, const char *,
		    char ***, size_t *);
static bool	 parse_service(struct ctx *, struct svc *, char *);
static bool	 parse_proto(struct ctx *, struct svc *, const char *,
		    const char *);
static bool	 parse_wait(struct ctx *, struct svc *, const char *);
static bool	 parse_user(struct ctx *, struct svc *, const char *);
static bool	 parse_server(struct ctx *, struct svc *, char **, size_t);
static bool	 check_addrs(struct ctx *, struct svc *);
static bool	 expand_wild(struct ctx *, struct svc *);
static bool	 valid_account(const char *);
static const char *builtin_of(const char *);
static bool	 active(const struct svc *);
static void	 pair_tcp6(struct ctx *);
static void	 find_overlaps(struct ctx *);
static bool	 overlap(const struct svc *, const struct svc *);
static void	 check_tcpmux(struct ctx *);
static void	 name_all(struct ctx *);
static void	 no_service(struct ctx *);
static void	 name_one(struct ctx *, struct svc *);
static const char *suffix_of(const struct svc *);
static int	 pass_of(const struct svc *);
static void	 render_lines(struct ctx *, struct iout_buf *);
static void	 render_pretty(struct ctx *, struct iout_buf *);
static void	 render_section(struct ctx *, struct iout_buf *,
		    const struct svc *, bool, const char *);
static void	 render_msgs(struct iout_buf *, const struct svc *,
		    const char *);
static void	 key(struct iout_buf *, bool, const char *, const char *);
static void	 key_list(struct iout_buf *, bool, const char *, const char *,
		    char **, size_t);
static void	 ctx_clear(struct ctx *);

char *
inetd_convert(const char *name, const char *buf, size_t len, int flags,
    struct iout_problems *ps)
{
	struct ctx	 ctx;
	struct iout_buf	 out;
	char		*res;
	size_t		 first;

	memset(&ctx, 0, sizeof(ctx));
	ctx.name = name;
	ctx.flags = flags;
	ctx.ps = ps;
	iout_names_init(&ctx.names);
	iout_buf_init(&out);

	first = ps != NULL ? ps->n : 0;
	if (split_lines(&ctx, buf, len)) {
		classify(&ctx);
		pair_tcp6(&ctx);
		find_overlaps(&ctx);
		check_tcpmux(&ctx);
		name_all(&ctx);
		no_service(&ctx);
		if (flags & INETD_PRETTY)
			render_pretty(&ctx, &out);
		else
			render_lines(&ctx, &out);
	}
	if (ps != NULL)
		iout_problems_sort(ps, first, NULL, 0);
	if (ctx.nomem || ctx.names.failed || (ps != NULL && ps->nomem))
		out.failed = true;
	ctx_clear(&ctx);
	res = iout_buf_take(&out);
	return res;
}

static void
ctx_clear(struct ctx *ctx)
{
	size_t	 i;

	for (i = 0; i < ctx->npool; i++)
		free(ctx->pool[i]);
	free(ctx->pool);
	for (i = 0; i < ctx->nsvcs; i++)
		free(ctx->svcs[i].msgs);
	free(ctx->svcs);
	free(ctx->lines);
	free(ctx->defaddrs);
	iout_names_clear(&ctx->names);
}

/*
 * Strings live in one pool freed with the conversion.  Out of memory,
 * the conversion goes on with "" in place (nomem makes it fail at the
 * end), so that no caller needs a branch.
 */
static char *
keep(struct ctx *ctx, char *s)
{
	static char	 empty[1];
	char		**np;
	size_t		 nsize;

	if (s == NULL) {
		ctx->nomem = true;
		return empty;
	}
	if (ctx->npool == ctx->poolsize) {
		nsize = ctx->poolsize == 0 ? 64 : ctx->poolsize * 2;
		if ((np = reallocarray(ctx->pool, nsize, sizeof(*np))) ==
		    NULL) {
			free(s);
			ctx->nomem = true;
			return empty;
		}
		ctx->pool = np;
		ctx->poolsize = nsize;
	}
	ctx->pool[ctx->npool++] = s;
	return s;
}

static char *
sdup(struct ctx *ctx, const char *s)
{
	return keep(ctx, strdup(s));
}

static char *
sndup(struct ctx *ctx, const char *s, size_t n)
{
	return keep(ctx, strndup(s, n));
}

/*
 * A problem of svc: kept for its comment and, unless the line is
 * commented out (and so serves nothing), reported at its line.  An
 * error means the line is not converted.
 */
static void
say(struct ctx *ctx, struct svc *svc, enum iout_level level,
    const char *fmt, ...)
{
	struct msg	*nm;
	va_list		 ap;
	char		*text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) == -1)
		text = NULL;
	va_end(ap);
	text = keep(ctx, text);
	if (level == IOUT_ERROR)
		svc->error = true;
	nm = reallocarray(svc->msgs, svc->nmsgs + 1, sizeof(*nm));
	if (nm == NULL) {
		ctx->nomem = true;
		return;
	}
	svc->msgs = nm;
	nm[svc->nmsgs].level = level;
	nm[svc->nmsgs].text = text;
	svc->nmsgs++;
	if (!svc->off)
		iout_problem(ctx->ps, ctx->name, svc->line, level, "%s", text);
}

/* Every line, the last one too when no newline ends it. */
static bool
split_lines(struct ctx *ctx, const char *buf, size_t len)
{
	const char	*p = buf, *end = buf + len, *nl;
	size_t		 n = 0, size = 0;
	struct pline	*np;

	while (p < end) {
		if (n == size) {
			size = size == 0 ? 64 : size * 2;
			np = reallocarray(ctx->lines, size, sizeof(*np));
			if (np == NULL) {
				ctx->nomem = true;
				return false;
			}
			ctx->lines = np;
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		ctx->lines[n].p = p;
		ctx->lines[n].len = (size_t)((nl != NULL ? nl : end) - p);
		if (ctx->lines[n].len > 0 && p[ctx->lines[n].len - 1] == '\r')
			ctx->lines[n].len--;
		ctx->lines[n].kind = L_BLANK;
		ctx->lines[n].svc = (size_t)-1;
		n++;
		p = nl != NULL ? nl + 1 : end;
	}
	ctx->nlines = n;
	return true;
}

static size_t
new_svc(struct ctx *ctx)
{
	struct svc	*ns;

	ns = reallocarray(ctx->svcs, ctx->nsvcs + 1, sizeof(*ns));
	if (ns == NULL) {
		ctx->nomem = true;
		return (size_t)-1;
	}
	ctx->svcs = ns;
	memset(&ns[ctx->nsvcs], 0, sizeof(*ns));
	return ctx->nsvcs++;
}

static bool
blank(int c)
{
	return c == ' ' || c == '\t';
}

/*
 * The lines of an entry and what they are.  A line that starts with a
 * blank continues the entry above it, as BSD inetd reads its file; a
 * line whose first non-blank byte is '#' is a comment wherever it is.
 */
static void
classify(struct ctx *ctx)
{
	struct pline	*l;
	struct svc	*svc;
	const char	*p, *b;
	char		**f;
	size_t		 i, j, n, k, idx, len;
	bool		 entry = false;

	for (i = 0; i < ctx->nlines; i++) {
		l = &ctx->lines[i];
		for (j = 0; j < l->len && (blank(l->p[j]) || l->p[j] == '\r');
		    j++)
			;
		if (j == l->len) {
			l->kind = entry ? L_CONT : L_BLANK;
			continue;
		}
		if (l->p[j] == '#') {
			l->kind = L_COMMENT;
			entry = false;
			/* "#<off># " is update-inetd's, "#" the admin's. */
			p = l->p + j;
			len = l->len - j;
			if (len >= 7 && memcmp(p, "#<off>#", 7) == 0)
				b = p + 7;
			else
				b = p + 1;
			n = fields(ctx, b, len - (size_t)(b - p), &f);
			if (!looks_like_entry(f, n))
				continue;
			if ((idx = new_svc(ctx)) == (size_t)-1)
				return;
			svc = &ctx->svcs[idx];
			svc->off = true;
			svc->line = (int)i + 1;
			svc->text = l->p;
			svc->textlen = l->len;
			l->svc = idx;
			parse_entry(ctx, svc, f, n);
			continue;
		}
		if (j > 0 && entry) {
			l->kind = L_CONT;
			continue;
		}
		/* An entry, with the continuation lines that follow. */
		for (k = i + 1; k < ctx->nlines; k++) {
			const struct pline *c = &ctx->lines[k];
			size_t	 m;

			if (c->len == 0 || !blank(c->p[0]))
				break;
			for (m = 0; m < c->len && blank(c->p[m]); m++)
				;
			if (m < c->len && c->p[m] == '#')
				break;
		}
		len = (size_t)(ctx->lines[k - 1].p + ctx->lines[k - 1].len -
		    (l->p + j));
		n = fields(ctx, l->p + j, len, &f);
		if (n == 1 && f[0][0] != '\0' && f[0][strlen(f[0]) - 1] ==
		    ':' && memchr(l->p, '\0', len + j) == NULL) {
			l->kind = L_DEFADDR;
			parse_defaddr(ctx, f[0], (int)i + 1);
			entry = true;
			continue;
		}
		if ((idx = new_svc(ctx)) == (size_t)-1)
			return;
		svc = &ctx->svcs[idx];
		svc->line = (int)i + 1;
		svc->text = l->p;
		svc->textlen = (size_t)(ctx->lines[k - 1].p +
		    ctx->lines[k - 1].len - l->p);
		l->kind = L_ENTRY;
		l->svc = idx;
		entry = true;
		if (memchr(l->p + j, '\0', len) != NULL)
			say(ctx, svc, IOUT_ERROR, "a NUL byte in the entry: "
			    "not converted");
		else
			parse_entry(ctx, svc, f, n);
		if (k > i + 1)
			say(ctx, svc, IOUT_NOTE, "line%s %zu%s%.0zu continue%s "
			    "this entry, as BSD inetd reads a line that "
			    "starts with a blank", k > i + 2 ? "s" : "",
			    i + 2, k > i + 2 ? " to " : "",
			    k > i + 2 ? k : 0, k > i + 2 ? "" : "s");
	}
}

/* The blank-separated fields of len bytes, in the pool. */
static size_t
fields(struct ctx *ctx, const char *p, size_t len, char ***fp)
{
	const char	*end = p + len, *w;
	char		**f = NULL, **nf;
	size_t		 n = 0;

	for (;;) {
		while (p < end && (blank(*p) || *p == '\r' || *p == '\n'))
			p++;
		if (p == end)
			break;
		for (w = p; w < end && !blank(*w) && *w != '\r' && *w != '\n';
		    w++)
			;
		nf = reallocarray(f, n + 2, sizeof(*nf));
		if (nf == NULL) {
			ctx->nomem = true;
			break;
		}
		f = nf;
		f[n++] = sndup(ctx, p, (size_t)(w - p));
		f[n] = NULL;
		p = w;
	}
	if (f == NULL) {
		f = reallocarray(NULL, 1, sizeof(*f));
		if (f == NULL) {
			ctx->nomem = true;
			*fp = NULL;
			return 0;
		}
		f[0] = NULL;
	}
	(void)keep(ctx, (char *)f);
	*fp = f;
	return n;
}

/*
 * A commented-out service line rather than prose: six fields at least,
 * a socket type, a protocol and a wait field.
 */
static bool
looks_like_entry(char **f, size_t n)
{
	if (n < 6)
		return false;
	if (strcmp(f[1], "stream") != 0 && strcmp(f[1], "dgram") != 0)
		return false;
	if (strncmp(f[2], "tcp", 3) != 0 && strncmp(f[2], "udp", 3) != 0 &&
	    strcmp(f[2], "unix") != 0 && strncmp(f[2], "rpc/", 4) != 0)
		return false;
	return strncmp(f[3], "wait", 4) == 0 || strncmp(f[3], "nowait", 6) == 0;
}

/* "127.0.0.1,::1:" alone: the addresses of the lines below. */
static void
parse_defaddr(struct ctx *ctx, const char *field, int line)
{
	struct svc	 tmp;
	char		*hosts, **addrs;
	size_t		 naddrs, i;

	memset(&tmp, 0, sizeof(tmp));
	tmp.line = line;
	hosts = sndup(ctx, field, strlen(field) - 1);
	if (strcmp(hosts, "*") == 0) {
		free(ctx->defaddrs);
		ctx->defaddrs = NULL;
		ctx->ndefaddrs = 0;
		ctx->defhosts = false;
		return;
	}
	if (!parse_hosts(ctx, &tmp, hosts, &addrs, &naddrs)) {
		/*
		 * The lines below must not bind every address instead:
		 * they inherit the error.
		 */
		free(ctx->defaddrs);
		ctx->defaddrs = NULL;
		ctx->ndefaddrs = 0;
		ctx->defhosts = true;
	} else {
		free(ctx->defaddrs);
		ctx->defaddrs = addrs;
		ctx->ndefaddrs = naddrs;
		ctx->defhosts = true;
	}
	for (i = 0; i < tmp.nmsgs; i++)
		if (tmp.msgs[i].level == IOUT_ERROR)
			iout_problem(ctx->ps, ctx->name, line, IOUT_NOTE,
			    "the lines below that name no address of their "
			    "own are not converted");
	free(tmp.msgs);
}

/*
 * The numeric addresses of "a,b,c" (brackets allowed around IPv6 ones),
 * "*" as both wildcards; *addrs is malloc'd, its strings pooled.
 * "localhost" is 127.0.0.1 and ::1, a warning; any other name is an
 * error, since portmuxd resolves no name.
 */
static bool
parse_hosts(struct ctx *ctx, struct svc *svc, const char *list,
    char ***addrs, size_t *naddrs)
{
	char		 buf[INET6_ADDRSTRLEN], *copy, *tok, *save, **v = NULL,
			**nv;
	unsigned char	 bin[sizeof(struct in6_addr)];
	size_t		 n = 0, tl;
	const char	*add[2];
	int		 nadd, i;
	bool		 ok = true;

	copy = sdup(ctx, list);
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		tl = strlen(tok);
		if (tl >= 2 && tok[0] == '[' && tok[tl - 1] == ']') {
			tok[tl - 1] = '\0';
			tok++;
		}
		nadd = 0;
		if (strcmp(tok, "*") == 0) {
			add[nadd++] = "*";	/* check_addrs() expands it */
		} else if (inet_pton(AF_INET, tok, bin) == 1 &&
		    inet_ntop(AF_INET, bin, buf, sizeof(buf)) != NULL) {
			add[nadd++] = buf;
		} else if (inet_pton(AF_INET6, tok, bin) == 1 &&
		    inet_ntop(AF_INET6, bin, buf, sizeof(buf)) != NULL) {
			add[nadd++] = buf;
		} else if (strcmp(tok, "localhost") == 0) {
			say(ctx, svc, IOUT_WARN, "localhost is taken as "
			    "127.0.0.1 and ::1: portmuxd binds numeric "
			    "addresses and resolves no name");
			add[nadd++] = "127.0.0.1";
			add[nadd++] = "::1";
		} else {
			say(ctx, svc, IOUT_ERROR, "the host name '%s' is "
			    "not converted: portmuxd binds numeric addresses "
			    "only and resolves no name; write the address "
			    "it stands for", tok);
			ok = false;
			continue;
		}
		for (i = 0; i < nadd; i++) {
			nv = reallocarray(v, n + 1, sizeof(*nv));
			if (nv == NULL) {
				ctx->nomem = true;
				break;
			}
			v = nv;
			v[n++] = sdup(ctx, add[i]);
		}
	}
	if (!ok || n == 0) {
		if (ok)
			say(ctx, svc, IOUT_ERROR, "no address in '%s'", list);
		free(v);
		return false;
	}
	*addrs = v;
	*naddrs = n;
	return true;
}

/* One service line, in fields; errors mark svc as not converted. */
static void
parse_entry(struct ctx *ctx, struct svc *svc, char **f, size_t n)
{
	if (n < 6) {
		say(ctx, svc, IOUT_ERROR, "an inetd.conf line has at least 6 "
		    "fields (service, socket type, protocol, wait, user, "
		    "server), this one %zu", n);
		return;
	}
	if (!parse_proto(ctx, svc, f[1], f[2]))
		return;
	if (!parse_service(ctx, svc, f[0]))
		return;
	if (!parse_wait(ctx, svc, f[3]))
		return;
	if (!parse_user(ctx, svc, f[4]))
		return;
	if (!parse_server(ctx, svc, f + 5, n - 5))
		return;
	if (!check_addrs(ctx, svc))
		return;
	if (svc->max == 0)
		return;
	if (svc->builtin != NULL && svc->proto == P_UDP)
		say(ctx, svc, IOUT_WARN, "%s: the maximum is dropped: a udp "
		    "builtin answers each source group at most "
		    "udp_reply_rate (10/1s) times instead", f[3]);
	else if (svc->wait && svc->builtin == NULL)
		say(ctx, svc, IOUT_WARN, "%s: the maximum is dropped: a wait "
		    "service runs one program at a time, and portmuxd has no "
		    "limit on how often it starts one", f[3]);
	else
		say(ctx, svc, IOUT_WARN, "%s becomes rate = %ld/60s, which "
		    "differs: inetd counts the connections of everyone and, "
		    "past %ld in a minute, stops the service for everyone "
		    "for 10 minutes; portmuxd counts each source group "
		    "apart and refuses only the connections of a group past "
		    "its rate (banning one past %ld a minute, ban_factor "
		    "4), while the others are still served", f[3], svc->max,
		    svc->max, svc->max * 4);
}

static bool
parse_proto(struct ctx *ctx, struct svc *svc, const char *socktype,
    const char *protofield)
{
	static const struct {
		const char	*word;
		enum proto	 proto;
		enum fam	 fam;
	} protos[] = {
		{ "tcp", P_TCP, F_BOTH }, { "tcp4", P_TCP, F_V4 },
		{ "tcp6", P_TCP, F_V6 }, { "tcp46", P_TCP, F_V46 },
		{ "udp", P_UDP, F_BOTH }, { "udp4", P_UDP, F_V4 },
		{ "udp6", P_UDP, F_V6 }, { "udp46", P_UDP, F_V46 },
		{ "unix", P_UNIX, F_BOTH },
	};
	const char	*comma;
	char		*proto;
	size_t		 i;

	if (strncmp(protofield, "rpc/", 4) == 0) {
		say(ctx, svc, IOUT_ERROR, "RPC services (%s) are not "
		    "supported: portmuxd registers nothing with the "
		    "portmapper", protofield);
		return false;
	}
	comma = strchr(protofield, ',');
	proto = sndup(ctx, protofield, comma != NULL ?
	    (size_t)(comma - protofield) : strlen(protofield));
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strcmp(proto, protos[i].word) == 0)
			break;
	if (i == sizeof(protos) / sizeof(protos[0])) {
		say(ctx, svc, IOUT_ERROR, "protocol '%s' is not supported: "
		    "portmuxd serves tcp, udp and unix (stream)", proto);
		return false;
	}
	svc->proto = protos[i].proto;
	svc->fam = protos[i].fam;
	if (strcmp(socktype, "stream") != 0 && strcmp(socktype, "dgram")
	    != 0) {
		say(ctx, svc, IOUT_ERROR, "socket type '%s' is not "
		    "supported: portmuxd serves stream and dgram", socktype);
		return false;
	}
	if ((strcmp(socktype, "dgram") == 0) != (svc->proto == P_UDP)) {
		say(ctx, svc, IOUT_ERROR, "socket type %s does not go with "
		    "protocol %s%s", socktype, proto, svc->proto == P_UNIX ?
		    ": portmuxd's unix sockets are stream sockets" : "");
		return false;
	}
	if (comma != NULL)
		say(ctx, svc, IOUT_WARN, "'%s' is dropped: portmuxd sets no "
		    "socket buffer size, the kernel's defaults apply",
		    comma + 1);
	return true;
}

/*
 * The first field: [hosts:]service, tcpmux/[+]NAME, or for unix the
 * socket's path.
 */
static bool
parse_service(struct ctx *ctx, struct svc *svc, char *field)
{
	char	*colon, *name = field;

	if (svc->proto == P_UNIX) {
		if (field[0] != '/') {
			say(ctx, svc, IOUT_ERROR, "unix socket path '%s' is "
			    "not absolute", field);
			return false;
		}
		if (strlen(field) >= sizeof(((struct sockaddr_un *)0)->
		    sun_path)) {
			say(ctx, svc, IOUT_ERROR, "unix socket path '%s' is "
			    "longer than a socket address holds", field);
			return false;
		}
		svc->path = field;
		return true;
	}
	if (strncmp(field, "tcpmux/", 7) == 0) {
		name = field + 7;
		if (*name == '+') {
			svc->muxplus = true;
			name++;
		}
		if (*name == '\0') {
			say(ctx, svc, IOUT_ERROR, "tcpmux/ names no service");
			return false;
		}
		if (svc->proto != P_TCP) {
			say(ctx, svc, IOUT_ERROR, "a tcpmux service is tcp");
			return false;
		}
		svc->mux = name;
		if (!svc->muxplus)
			say(ctx, svc, IOUT_WARN, "tcpmux/%s: inetd leaves the "
			    "'+' reply to the program, portmuxd always sends "
			    "'+Go' itself, as for tcpmux/+%s; a program that "
			    "sends its own reply must stop doing so", name,
			    name);
		return true;
	}
	if ((colon = strrchr(field, ':')) != NULL) {
		*colon = '\0';
		name = colon + 1;
		if (!parse_hosts(ctx, svc, field, &svc->addrs, &svc->naddrs))
			return false;
		(void)keep(ctx, (char *)svc->addrs);
		svc->hosts = true;
	} else if (ctx->defhosts) {
		if (ctx->defaddrs == NULL) {
			say(ctx, svc, IOUT_ERROR, "the default address "
			    "above this line was not converted");
			return false;
		}
		svc->addrs = reallocarray(NULL, ctx->ndefaddrs,
		    sizeof(*svc->addrs));
		if (svc->addrs == NULL) {
			ctx->nomem = true;
			return false;
		}
		memcpy(svc->addrs, ctx->defaddrs, ctx->ndefaddrs *
		    sizeof(*svc->addrs));
		svc->naddrs = ctx->ndefaddrs;
		(void)keep(ctx, (char *)svc->addrs);
		svc->hosts = true;
	}
	if (*name == '\0') {
		say(ctx, svc, IOUT_ERROR, "no service name after the "
		    "address");
		return false;
	}
	if (strchr(name, '/') != NULL) {
		say(ctx, svc, IOUT_ERROR, "'%s' looks like an RPC service "
		    "(name/version), which portmuxd does not support", name);
		return false;
	}
	svc->port = name;
	return true;
}

/* wait | nowait, with .max: how many programs inetd starts a minute. */
static bool
parse_wait(struct ctx *ctx, struct svc *svc, const char *field)
{
	const char	*dot = strchr(field, '.');
	size_t		 wl = dot != NULL ? (size_t)(dot - field) :
			    strlen(field);
	char		*end;
	long		 max;

	if (wl == 4 && strncmp(field, "wait", 4) == 0)
		svc->wait = true;
	else if (wl == 6 && strncmp(field, "nowait", 6) == 0)
		svc->wait = false;
	else {
		say(ctx, svc, IOUT_ERROR, "'%s' is neither wait nor nowait",
		    field);
		return false;
	}
	if (dot != NULL) {
		errno = 0;
		max = strtol(dot + 1, &end, 10);
		if (dot[1] < '0' || dot[1] > '9' || *end != '\0' ||
		    errno != 0 || max < 1 || max > INT_MAX) {
			say(ctx, svc, IOUT_ERROR, "'%s': the maximum after "
			    "the dot is not a positive number", field);
			return false;
		}
		svc->max = max;
	}
	return true;
}

/* user, user.group or user:group, names as portmux.conf(5) takes them. */
static bool
parse_user(struct ctx *ctx, struct svc *svc, const char *field)
{
	char	*user = sdup(ctx, field), *sep;

	if ((sep = strrchr(user, ':')) == NULL)
		sep = strrchr(user, '.');
	if (sep != NULL) {
		*sep = '\0';
		svc->group = sep + 1;
	}
	svc->user = user;
	if (!valid_account(user) || (svc->group != NULL &&
	    !valid_account(svc->group))) {
		say(ctx, svc, IOUT_ERROR, "'%s' is no user[.group] of "
		    "letters, digits and ._- (at most 32 each)", field);
		return false;
	}
	return true;
}

static bool
valid_account(const char *s)
{
	size_t	 n = strlen(s);

	return n > 0 && n <= 32 && s[0] != '-' && strspn(s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n;
}

/* echo, discard, ... by name or port; NULL for no builtin of ours. */
static const char *
builtin_of(const char *port)
{
	size_t	 i;

	for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strcmp(port, builtins[i].name) == 0 ||
		    strcmp(port, builtins[i].port) == 0)
			return builtins[i].name;
	return NULL;
}

/* The server field and argv, argv[0] first; "internal" is a builtin. */
static bool
parse_server(struct ctx *ctx, struct svc *svc, char **f, size_t n)
{
	const char	*base;
	char		*real;

	if (strcmp(f[0], "internal") == 0) {
		if (svc->mux != NULL || svc->proto == P_UNIX) {
			say(ctx, svc, IOUT_ERROR, "an internal service on %s "
			    "has no builtin here", svc->mux != NULL ?
			    "tcpmux" : "a unix socket");
			return false;
		}
		svc->builtin = builtin_of(svc->port);
		if (svc->builtin == NULL) {
			say(ctx, svc, IOUT_ERROR, "inetd's internal '%s' has "
			    "no builtin here: portmuxd has echo, discard, "
			    "daytime, chargen, time and tcpmux", svc->port);
			return false;
		}
		if (strcmp(svc->builtin, "tcpmux") == 0 &&
		    svc->proto != P_TCP) {
			say(ctx, svc, IOUT_ERROR, "the tcpmux builtin is tcp "
			    "only");
			return false;
		}
		if (svc->wait && svc->proto != P_UDP)
			say(ctx, svc, IOUT_NOTE, "wait is dropped: a builtin "
			    "serves every connection itself");
		return true;
	}
	if (f[0][0] != '/') {
		say(ctx, svc, IOUT_ERROR, "server '%s' is not an absolute "
		    "path", f[0]);
		return false;
	}
	svc->server = f[0];
	svc->args = f + 1;
	svc->nargs = n - 1;
	base = strrchr(svc->server, '/') + 1;
	if (strcmp(base, "tcpd") == 0 && svc->nargs > 0) {
		/*
		 * tcpd(8) execs argv[0], from its directory when it has
		 * no path, with the argv it got: the same argv here.
		 */
		if (svc->args[0][0] == '/')
			real = svc->args[0];
		else if (asprintf(&real, "%s/%s", TCPD_DIR, svc->args[0]) ==
		    -1)
			real = keep(ctx, NULL);
		else
			real = keep(ctx, real);
		say(ctx, svc, IOUT_WARN, "tcpd is dropped and %s run "
		    "directly: portmuxd reads no hosts.allow or hosts.deny, "
		    "write their rules as allow and deny (numeric networks "
		    "only); every connection is logged", real);
		svc->server = real;
	}
	if (svc->proto == P_UDP && !svc->wait) {
		say(ctx, svc, IOUT_WARN, "udp nowait becomes wait = true: "
		    "portmuxd starts a udp program with the socket and "
		    "waits for it to exit, where inetd starts one for each "
		    "datagram");
		svc->wait = true;
	}
	if (svc->wait && svc->mux != NULL) {
		say(ctx, svc, IOUT_ERROR, "a tcpmux service cannot wait");
		return false;
	}
	return true;
}

/* The addresses a line names must be of the family of its protocol. */
static bool
check_addrs(struct ctx *ctx, struct svc *svc)
{
	size_t	 i;
	bool	 v6;

	if (svc->proto == P_UNIX || svc->mux != NULL) {
		if (svc->hosts && svc->mux != NULL)
			say(ctx, svc, IOUT_NOTE, "the address is dropped: a "
			    "tcpmux service is reached through the tcpmux "
			    "port");
		svc->hosts = false;
		svc->naddrs = 0;
		return true;
	}
	if (!expand_wild(ctx, svc))
		return true;
	for (i = 0; i < svc->naddrs; i++) {
		v6 = strchr(svc->addrs[i], ':') != NULL;
		if (svc->fam == F_V4 && v6) {
			say(ctx, svc, IOUT_ERROR, "%s is an IPv6 address on "
			    "an IPv4 (%s4) line", svc->addrs[i],
			    svc->proto == P_TCP ? "tcp" : "udp");
			return false;
		}
		if ((svc->fam == F_V6 || svc->fam == F_V46) && !v6) {
			say(ctx, svc, IOUT_ERROR, "%s is an IPv4 address on "
			    "an IPv6 (%s6) line", svc->addrs[i],
			    svc->proto == P_TCP ? "tcp" : "udp");
			return false;
		}
	}
	return true;
}

/*
 * "*" is every address of the line's family.  A list of "*" alone is
 * the default, and written as none; false then.
 */
static bool
expand_wild(struct ctx *ctx, struct svc *svc)
{
	char	**v;
	size_t	  i, n = 0;
	bool	  other = false;

	for (i = 0; i < svc->naddrs; i++)
		if (strcmp(svc->addrs[i], "*") != 0)
			other = true;
	if (!other) {
		svc->hosts = false;
		svc->naddrs = 0;
		return false;
	}
	v = reallocarray(NULL, svc->naddrs * 2, sizeof(*v));
	if (v == NULL) {
		ctx->nomem = true;
		return false;
	}
	(void)keep(ctx, (char *)v);
	for (i = 0; i < svc->naddrs; i++) {
		if (strcmp(svc->addrs[i], "*") != 0) {
			v[n++] = svc->addrs[i];
			continue;
		}
		if (svc->fam == F_BOTH || svc->fam == F_V4)
			v[n++] = sdup(ctx, WILD4);
		if (svc->fam != F_V4)
			v[n++] = sdup(ctx, WILD6);
	}
	svc->addrs = v;
	svc->naddrs = n;
	return true;
}

static bool
active(const struct svc *svc)
{
	return !svc->off && !svc->error;
}

/*
 * OpenBSD's own inetd takes tcp for IPv4 alone, and its stock file
 * pairs each tcp line with a tcp6 one; Debian's openbsd-inetd and this
 * converter take tcp for both.  Where a file has the pair, its tcp line
 * is IPv4 only, or the two would bind the same IPv6 port.
 */
static void
pair_tcp6(struct ctx *ctx)
{
	struct svc	*a, *b;
	size_t		 i, j;

	for (i = 0; i < ctx->nsvcs; i++) {
		a = &ctx->svcs[i];
		if (a->error || a->fam != F_BOTH || a->hosts ||
		    a->port == NULL)
			continue;
		for (j = 0; j < ctx->nsvcs; j++) {
			b = &ctx->svcs[j];
			if (b->error || b->off != a->off || b->fam != F_V6 ||
			    b->hosts || b->port == NULL ||
			    b->proto != a->proto ||
			    strcmp(b->port, a->port) != 0)
				continue;
			a->v4pair = true;
			say(ctx, a, IOUT_NOTE, "with the %s6 line %d for the "
			    "same service, this line is IPv4 only, as %s is "
			    "in OpenBSD's inetd", a->proto == P_TCP ? "tcp" :
			    "udp", b->line, a->proto == P_TCP ? "tcp" : "udp");
			break;
		}
	}
}

/* The addresses a line binds: the given ones, or its protocol's. */
static size_t
binds(const struct svc *svc, const char **v)
{
	if (svc->hosts) {
		size_t	 i;

		for (i = 0; i < svc->naddrs && i < 16; i++)
			v[i] = svc->addrs[i];
		return i;
	}
	if (svc->fam == F_V4 || svc->v4pair) {
		v[0] = WILD4;
		return 1;
	}
	if (svc->fam == F_V6 || svc->fam == F_V46) {
		v[0] = WILD6;
		return 1;
	}
	v[0] = WILD4;
	v[1] = WILD6;
	return 2;
}

static bool
overlap(const struct svc *a, const struct svc *b)
{
	const char	*va[16], *vb[16];
	size_t		 na, nb, i, j;
	bool		 a6, b6;

	if (a->proto != b->proto)
		return false;
	if (a->proto == P_UNIX)
		return strcmp(a->path, b->path) == 0;
	if (a->port == NULL || b->port == NULL || strcmp(a->port, b->port))
		return false;
	na = binds(a, va);
	nb = binds(b, vb);
	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++) {
			a6 = strchr(va[i], ':') != NULL;
			b6 = strchr(vb[j], ':') != NULL;
			if (a6 != b6)
				continue;
			if (strcmp(va[i], vb[j]) == 0 ||
			    strcmp(va[i], a6 ? WILD6 : WILD4) == 0 ||
			    strcmp(vb[j], b6 ? WILD6 : WILD4) == 0)
				return true;
		}
	return false;
}

/*
 * Two lines that bind the same port and address cannot both be served
 * (inetd fails to bind the second): the later one is not converted, so
 * that the file still loads.
 */
static void
find_overlaps(struct ctx *ctx)
{
	struct svc	*a, *b;
	size_t		 i, j;

	for (i = 0; i < ctx->nsvcs; i++) {
		b = &ctx->svcs[i];
		if (!active(b) || b->mux != NULL)
			continue;
		for (j = 0; j < i; j++) {
			a = &ctx->svcs[j];
			if (!active(a) || a->mux != NULL || !overlap(a, b))
				continue;
			say(ctx, b, IOUT_ERROR, "binds %s %s as line %d does: "
			    "only one of them can be served", b->proto ==
			    P_UNIX ? "the socket" : b->proto == P_TCP ?
			    "tcp port" : "udp port", b->proto == P_UNIX ?
			    b->path : b->port, a->line);
			break;
		}
	}
}

/* portmuxd reaches a tcpmux name only through a tcpmux builtin. */
static void
check_tcpmux(struct ctx *ctx)
{
	struct svc	*s;
	size_t		 i;

	for (i = 0; i < ctx->nsvcs; i++) {
		s = &ctx->svcs[i];
		if (active(s) && s->builtin != NULL &&
		    strcmp(s->builtin, "tcpmux") == 0)
			return;
	}
	for (i = 0; i < ctx->nsvcs; i++) {
		s = &ctx->svcs[i];
		if (!active(s) || s->mux == NULL)
			continue;
		say(ctx, s, IOUT_WARN, "no line serves tcpmux itself: add "
		    "'tcpmux stream tcp nowait root internal', or no client "
		    "can reach %s", s->mux);
		return;
	}
}

static const char *
suffix_of(const struct svc *svc)
{
	static const char *const sfx[2][4] = {
		{ "tcp", "tcp4", "tcp6", "tcp46" },
		{ "udp", "udp4", "udp6", "udp46" },
	};

	if (svc->proto == P_UNIX)
		return "unix";
	return sfx[svc->proto == P_UDP][svc->fam];
}

static void
name_one(struct ctx *ctx, struct svc *svc)
{
	char	*t;

	t = iout_names_unique(&ctx->names, svc->path != NULL ?
	    svc->path : svc->port, suffix_of(svc));
	svc->title = keep(ctx, t);
}

/* tcp and unix, then tcp6, then udp, then udp6. */
static int
pass_of(const struct svc *s)
{
	bool	 v6 = s->fam == F_V6 || s->fam == F_V46;

	return (s->proto == P_UDP) * 2 + v6;
}

/*
 * Section names: a tcpmux name first and as it is, since clients ask
 * for it; then the tcp and unix lines by their service (a unix path
 * made a name), IPv4 and dual ones before IPv6 ones, then udp, so that
 * the tcp line keeps "echo", the tcp6 one gets "echo-tcp6" and the udp
 * one "echo-udp"; commented-out lines last, so that they take no name
 * from a line that serves.
 */
static void
name_all(struct ctx *ctx)
{
	struct svc	*s;
	size_t		 i;
	int		 pass;

	for (i = 0; i < ctx->nsvcs; i++) {
		s = &ctx->svcs[i];
		if (!active(s) || s->mux == NULL)
			continue;
		if (!iout_name_valid(s->mux)) {
			say(ctx, s, IOUT_ERROR, "tcpmux name '%s' cannot be "
			    "a service name here (at most %d letters, digits "
			    "and -_.+)", s->mux, IOUT_MAX_NAME);
			continue;
		}
		if (iout_names_has(&ctx->names, s->mux)) {
			say(ctx, s, IOUT_ERROR, "tcpmux name '%s' is given "
			    "twice (names are compared without case)",
			    s->mux);
			continue;
		}
		(void)iout_names_add(&ctx->names, s->mux);
		s->title = s->mux;
	}
	for (pass = 0; pass < 5; pass++)
		for (i = 0; i < ctx->nsvcs; i++) {
			s = &ctx->svcs[i];
			if (s->error || s->title != NULL)
				continue;
			if (pass < 4 && (s->off || pass_of(s) != pass))
				continue;
			if (s->mux != NULL) {
				if (iout_name_valid(s->mux) &&
				    !iout_names_has(&ctx->names, s->mux) &&
				    iout_names_add(&ctx->names, s->mux))
					s->title = s->mux;
				else
					s->title = keep(ctx,
					    iout_names_unique(&ctx->names,
					    s->mux, NULL));
				continue;
			}
			name_one(ctx, s);
		}
}

/*
 * portmuxd refuses a file without a section, as a fresh Debian
 * inetd.conf is, all comments: say so at its first line.
 */
static void
no_service(struct ctx *ctx)
{
	size_t	 i;

	for (i = 0; i < ctx->nsvcs; i++)
		if (active(&ctx->svcs[i]) && ctx->svcs[i].title != NULL)
			return;
	iout_problem(ctx->ps, ctx->name, 1, IOUT_WARN, "no service line is "
	    "converted, and portmuxd refuses a file without a service "
	    "section");
}

/* "key = value" as a line of a section, or on one line after a blank. */
static void
key(struct iout_buf *b, bool pretty, const char *k, const char *v)
{
	iout_add(b, pretty ? "\t" : " ");
	iout_add(b, k);
	iout_add(b, " = ");
	iout_value(b, v);
	if (pretty)
		iout_add(b, "\n");
}

static void
key_list(struct iout_buf *b, bool pretty, const char *k, const char *first,
    char **v, size_t n)
{
	size_t	 i;

	iout_add(b, pretty ? "\t" : " ");
	iout_add(b, k);
	iout_add(b, " = {");
	if (first != NULL) {
		iout_value(b, first);
		if (n > 0)
			iout_add(b, ", ");
	}
	for (i = 0; i < n; i++) {
		if (i > 0)
			iout_add(b, ", ");
		iout_value(b, v[i]);
	}
	iout_add(b, "}");
	if (pretty)
		iout_add(b, "\n");
}

/*
 * The section of svc: on one line, or one key a line, each line opened
 * by pre ("# " for a commented-out one) in pretty mode.
 */
static void
render_section(struct ctx *ctx, struct iout_buf *b, const struct svc *svc,
    bool pretty, const char *pre)
{
	struct iout_buf	 body;
	const char	*proto[] = { "tcp", "udp", "unix" };
	char		 rate[32];
	const char	*p, *nl;

	iout_buf_init(&body);
	key(&body, pretty, "protocol", proto[svc->proto]);
	if (svc->path != NULL)
		key(&body, pretty, "path", svc->path);
	else if (svc->port != NULL)
		key(&body, pretty, "port", svc->port);
	if (svc->hosts) {
		char	*v[16];
		size_t	 i, n = 0;

		for (i = 0; i < svc->naddrs && n < 16; i++)
			v[n++] = svc->addrs[i];
		key_list(&body, pretty, "address", NULL, v, n);
	} else if (svc->port != NULL && (svc->fam != F_BOTH || svc->v4pair)) {
		char	 w[sizeof(WILD4)], *wp = w;

		(void)strcpy(w, svc->fam == F_V4 || svc->v4pair ? WILD4 :
		    WILD6);
		key_list(&body, pretty, "address", NULL, &wp, 1);
	}
	if (svc->fam == F_V46 && svc->port != NULL)
		key(&body, pretty, "v6only", "false");
	if (svc->builtin != NULL) {
		key(&body, pretty, "builtin", svc->builtin);
	} else {
		key(&body, pretty, "server", svc->server);
		if (svc->nargs > 0)
			key_list(&body, pretty, "args", NULL, svc->args,
			    svc->nargs);
		key(&body, pretty, "user", svc->user);
		if (svc->group != NULL)
			key(&body, pretty, "group", svc->group);
		if (svc->wait)
			key(&body, pretty, "wait", "true");
	}
	if (svc->mux != NULL)
		key(&body, pretty, "tcpmux", "true");
	if (svc->max > 0 && svc->proto != P_UDP && (!svc->wait ||
	    svc->builtin != NULL)) {
		(void)snprintf(rate, sizeof(rate), "%ld/60s", svc->max);
		key(&body, pretty, "rate", rate);
	}
	if (body.failed)
		ctx->nomem = true;

	if (!pretty) {
		iout_add(b, "service ");
		iout_title(b, svc->title);
		iout_add(b, " {");
		iout_add(b, body.p != NULL ? body.p : "");
		iout_add(b, " }\n");
		iout_buf_clear(&body);
		return;
	}
	iout_add(b, pre);
	iout_add(b, "service ");
	iout_title(b, svc->title);
	iout_add(b, " {\n");
	for (p = body.p; p != NULL && *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		iout_add(b, pre);
		iout_addn(b, p, (size_t)(nl - p + 1));
	}
	iout_add(b, pre);
	iout_add(b, "}\n");
	iout_buf_clear(&body);
}

/* The differences of a line, above its section. */
static void
render_msgs(struct iout_buf *b, const struct svc *svc, const char *pre)
{
	char	 lead[32];
	size_t	 i;

	for (i = 0; i < svc->nmsgs; i++) {
		(void)snprintf(lead, sizeof(lead), "%s: ",
		    iout_level_name(svc->msgs[i].level));
		iout_wrap(b, pre, lead, svc->msgs[i].text);
	}
}

/* Line for line: what the daemon parses in place of the inetd.conf. */
static void
render_lines(struct ctx *ctx, struct iout_buf *b)
{
	const struct pline	*l;
	const struct svc	*svc;
	size_t			 i;

	for (i = 0; i < ctx->nlines; i++) {
		l = &ctx->lines[i];
		switch (l->kind) {
		case L_BLANK:
			iout_add(b, "\n");
			break;
		case L_COMMENT:
			iout_comment(b, "", l->p, l->len);
			break;
		case L_CONT:
		case L_DEFADDR:
			iout_comment(b, "#", l->p, l->len);
			break;
		case L_ENTRY:
			svc = &ctx->svcs[l->svc];
			if (svc->error || svc->title == NULL)
				iout_comment(b, "# ", l->p, l->len);
			else
				render_section(ctx, b, svc, false, "");
			break;
		}
	}
}

static void
render_pretty(struct ctx *ctx, struct iout_buf *b)
{
	const struct pline	*l;
	const struct svc	*svc;
	const char		*name = ctx->name != NULL ? ctx->name :
				    "inetd.conf";
	char			 lead[64];
	size_t			 i;

	iout_printf(b, "# portmux.conf(5) converted from %s by "
	    "portmuxd-import(8).\n# Check it with portmuxd -n -f FILE "
	    "before you stop inetd.\n\n", name);
	for (i = 0; i < ctx->nlines; i++) {
		l = &ctx->lines[i];
		switch (l->kind) {
		case L_BLANK:
			iout_add(b, "\n");
			break;
		case L_COMMENT:
			iout_comment(b, "", l->p, l->len);
			if (l->svc == (size_t)-1)
				break;
			svc = &ctx->svcs[l->svc];
			render_msgs(b, svc, "# ");
			if (svc->error || svc->title == NULL)
				iout_add(b, "# (commented out, and would not "
				    "be converted)\n");
			else
				render_section(ctx, b, svc, true, "# ");
			break;
		case L_CONT:
			break;
		case L_DEFADDR:
			iout_comment(b, "#", l->p, l->len);
			iout_add(b, "# (the address of the lines below that "
			    "name none)\n");
			break;
		case L_ENTRY:
			svc = &ctx->svcs[l->svc];
			(void)snprintf(lead, sizeof(lead), "# %s:%d: ", name,
			    svc->line);
			iout_comment(b, lead, svc->text, svc->textlen);
			render_msgs(b, svc, "# ");
			if (svc->error || svc->title == NULL)
				iout_add(b, "# (not converted)\n");
			else
				render_section(ctx, b, svc, true, "");
			break;
		}
	}
}
