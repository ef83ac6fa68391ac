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
 * xinetd.conf to portmux.conf (xinetd.h has the contract).  First every
 * file is read into a list of items, comments and sections, in the order
 * xinetd reads them (include and includedir in place, a directory's files
 * in C-locale order, without those whose names hold a '.' or end in
 * '~'); then each service is converted with the defaults section folded
 * in, as xinetd's service_fill() does; then the items are written out.
 * xinetd.conf(5) documents the syntax and attributes:
 *
 *   service NAME            defaults              include FILE
 *   {                       {                     includedir DIR
 *       attr = value ...        attr = value ...
 *       attr += value ...   }
 *   }
 *
 * '=' replaces, '+=' adds to and '-=' removes from the value of a list
 * attribute (only_from, no_access, passenv, env, log_on_*), which a
 * service starts from the defaults' value; in defaults '=' adds.  Any
 * other attribute given twice keeps its first value, as in xinetd.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "importout.h"
#include "xinetd.h"

#define X_MAX_FILE	(4 * 1024 * 1024)	/* bytes in one file */
#define X_MAX_DEPTH	16			/* nested includes */
#define X_MAX_FILES	1024			/* files in one conversion */

enum xop {
	OP_SET,
	OP_ADD,
	OP_DEL,
};

struct xattr {
	char		*name;
	enum xop	 op;
	char		**v;
	size_t		 n;
	int		 line;
	bool		 used;		/* looked at by the conversion */
};

struct xsec {
	bool		 defaults;
	bool		 bad;		/* xinetd would drop it whole */
	char		*name;		/* service NAME */
	const char	*file;
	int		 line;
	struct xattr	*a;
	size_t		 na;
	char		**comments;	/* inside the braces */
	size_t		 ncomments;
	char		*why;		/* when bad */
};

enum ikind {
	I_TEXT,		/* a comment or blank line outside sections */
	I_FILE,		/* the files of an include start here */
	I_SECTION,
	I_NOTE,		/* a remark of the conversion, as a comment */
};

struct item {
	enum ikind	 kind;
	char		*text;		/* I_TEXT, I_FILE, I_NOTE */
	struct xsec	*sec;
	struct xsvc	*svc;		/* I_SECTION, once converted */
};

struct msg {
	enum iout_level	 level;
	const char	*file;
	int		 line;
	char		*text;
};

struct kv {
	const char	*key;
	char		*val;		/* rendered */
};

/* A service as converted. */
struct xsvc {
	struct xsec	*sec;
	char		*title;
	bool		 error;
	bool		 disabled;
	bool		 udp;
	char		*port;
	char		*bind;		/* one address, or NULL: wildcard */
	int		 fam;		/* 4 or 6 */
	bool		 mux;
	struct msg	*msgs;
	size_t		 nmsgs;
	struct kv	*kv;
	size_t		 nkv;
};

struct ctx {
	const char		*root;
	struct iout_problems	*ps;
	bool			 nomem;
	char			**pool;
	size_t			 npool;
	size_t			 poolsize;
	struct item		*items;
	size_t			 nitems;
	struct xsec		*defaults;	/* the first one */
	char			**files;	/* read so far, in order */
	size_t			 nfiles;
	const char		*chain[X_MAX_DEPTH + 1];
	int			 depth;
	struct iout_names	 names;
	struct iout_buf		 globals;	/* from the defaults' log_type */
};

static char	*keep(struct ctx *, char *);
static char	*sdup(struct ctx *, const char *);
static void	*pkeep(struct ctx *, void *);
static void	 problem(struct ctx *, const char *, int, enum iout_level,
		    const char *, ...)
		    __attribute__((__format__(__printf__, 5, 6)));
static void	 say(struct ctx *, struct xsvc *, const struct xattr *,
		    enum iout_level, const char *, ...)
		    __attribute__((__format__(__printf__, 5, 6)));
static void	 add_file(struct ctx *, const char *);
static struct xattr *find_attr(struct xsec *, const char *);
static bool	 from_defaults(const struct ctx *, const struct xattr *);
static struct item *add_item(struct ctx *, enum ikind, char *);
static char	*rooted(struct ctx *, const char *);
static int	 read_whole(const char *, char **, size_t *);
static void	 parse_file(struct ctx *, const char *, const char *, size_t);
static void	 parse_include(struct ctx *, const char *, int, const char *);
static void	 parse_includedir(struct ctx *, const char *, int,
		    const char *);
static size_t	 words(struct ctx *, const char *, size_t, char ***);
static bool	 parse_attr(struct ctx *, struct xsec *, const char *,
		    size_t, int);
static struct xattr *attr(struct ctx *, struct xsvc *, struct xsec *,
		    const char *);
static struct xattr *attr_any(struct ctx *, struct xsvc *, const char *);
static size_t	 attr_list(struct ctx *, struct xsvc *, const char *,
		    char ***);
static void	 convert(struct ctx *, struct xsvc *);
static void	 convert_defaults(struct ctx *, struct xsec *);
static bool	 conv_kind(struct ctx *, struct xsvc *, bool *, const char **,
		    bool *, bool *);
static void	 conv_program(struct ctx *, struct xsvc *, bool *);
static void	 conv_address(struct ctx *, struct xsvc *);
static void	 conv_acl(struct ctx *, struct xsvc *);
static void	 conv_limits(struct ctx *, struct xsvc *, bool, bool);
static void	 conv_rlimits(struct ctx *, struct xsvc *, bool);
static void	 conv_env(struct ctx *, struct xsvc *, bool);
static void	 conv_rest(struct ctx *, struct xsvc *, bool);
static bool	 cidr_of(struct ctx *, const char *, char ***, size_t *,
		    char *, size_t);
static void	 kv(struct ctx *, struct xsvc *, const char *, const char *);
static void	 kv_raw(struct ctx *, struct xsvc *, const char *,
		    const char *);
static void	 kv_list(struct ctx *, struct xsvc *, const char *, char **,
		    size_t);
static bool	 parse_count(const char *, long, long, long *);
static void	 name_all(struct ctx *);
static void	 check_overlaps(struct ctx *);
static void	 no_service(struct ctx *, const char *);
static void	 render(struct ctx *, struct iout_buf *, const char *);
static void	 render_svc(struct iout_buf *, const struct xsvc *);
static void	 ctx_clear(struct ctx *);

/* The builtins that xinetd and portmuxd share. */
static const char *const builtins[] = {
	"echo", "discard", "daytime", "chargen", "time", "tcpmux", NULL
};

/* The variables portmuxd sets itself, which env cannot set. */
static const char *const own_env[] = {
	"PROTO", "REMOTE_HOST", "TCP", "UDP", "UNIX", "PORTMUX_", NULL
};

char *
xinetd_convert(const char *name, const char *buf, size_t len,
    const char *root, struct iout_problems *ps)
{
	struct ctx	 ctx;
	struct iout_buf	 out;
	size_t		 i, first;

	memset(&ctx, 0, sizeof(ctx));
	ctx.root = root;
	ctx.ps = ps;
	iout_names_init(&ctx.names);
	iout_buf_init(&ctx.globals);
	iout_buf_init(&out);
	first = ps != NULL ? ps->n : 0;

	ctx.chain[0] = name;
	ctx.depth = 1;
	add_file(&ctx, name);
	parse_file(&ctx, sdup(&ctx, name), buf, len);
	if (ctx.defaults != NULL)
		convert_defaults(&ctx, ctx.defaults);
	for (i = 0; i < ctx.nitems; i++) {
		struct item	*it = &ctx.items[i];

		if (it->kind != I_SECTION || it->sec->defaults)
			continue;
		it->svc = pkeep(&ctx, calloc(1, sizeof(*it->svc)));
		if (it->svc == NULL)
			break;
		it->svc->sec = it->sec;
		convert(&ctx, it->svc);
	}
	name_all(&ctx);
	check_overlaps(&ctx);
	no_service(&ctx, name);
	render(&ctx, &out, name);

	if (ps != NULL)
		iout_problems_sort(ps, first, (const char *const *)ctx.files,
		    ctx.nfiles);
	if (ctx.nomem || ctx.names.failed || ctx.globals.failed ||
	    (ps != NULL && ps->nomem))
		out.failed = true;
	ctx_clear(&ctx);
	return iout_buf_take(&out);
}

char *
xinetd_convert_file(const char *path, const char *root,
    struct iout_problems *ps)
{
	char	*buf, *res, *full;
	size_t	 len;
	int	 saved;

	if (root != NULL && path[0] == '/') {
		if (asprintf(&full, "%s%s", root, path) == -1)
			return NULL;
	} else if ((full = strdup(path)) == NULL)
		return NULL;
	if (read_whole(full, &buf, &len) == -1) {
		saved = errno;
		free(full);
		errno = saved;
		return NULL;
	}
	free(full);
	res = xinetd_convert(path, buf, len, root, ps);
	saved = errno;
	free(buf);
	errno = saved;
	return res;
}

static void
ctx_clear(struct ctx *ctx)
{
	size_t	 i;

	for (i = 0; i < ctx->npool; i++)
		free(ctx->pool[i]);
	free(ctx->pool);
	free(ctx->items);
	iout_names_clear(&ctx->names);
	iout_buf_clear(&ctx->globals);
}

/* One pool, as in inetd.c: out of memory leaves "" and nomem set. */
static char *
keep(struct ctx *ctx, char *s)
{
	static char	 empty[1];

	if (pkeep(ctx, s) == NULL)
		return empty;
	return s;
}

static void *
pkeep(struct ctx *ctx, void *p)
{
	char	**np;
	size_t	  nsize;

	if (p == NULL) {
		ctx->nomem = true;
		return NULL;
	}
	if (ctx->npool == ctx->poolsize) {
		nsize = ctx->poolsize == 0 ? 256 : ctx->poolsize * 2;
		if ((np = reallocarray(ctx->pool, nsize, sizeof(*np))) ==
		    NULL) {
			free(p);
			ctx->nomem = true;
			return NULL;
		}
		ctx->pool = np;
		ctx->poolsize = nsize;
	}
	ctx->pool[ctx->npool++] = p;
	return p;
}

static char *
sdup(struct ctx *ctx, const char *s)
{
	return keep(ctx, strdup(s));
}

/* Grows a pooled array by one element; NULL when out of memory. */
static void *
grow1(struct ctx *ctx, void *v, size_t n, size_t size)
{
	void	*nv;

	if ((nv = reallocarray(NULL, n + 1, size)) == NULL) {
		ctx->nomem = true;
		return NULL;
	}
	if (n > 0)
		memcpy(nv, v, n * size);
	/* The old copy stays in the pool until the end; lists are short. */
	return pkeep(ctx, nv);
}

static void
problem(struct ctx *ctx, const char *file, int line, enum iout_level lvl,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) == -1)
		text = NULL;
	va_end(ap);
	if (text == NULL) {
		ctx->nomem = true;
		return;
	}
	iout_problem(ctx->ps, file, line, lvl, "%s", text);
	free(text);
}

/*
 * A problem of a service, at the line of attribute a (the section's
 * line when a is NULL), kept for its comment and reported.
 */
static void
say(struct ctx *ctx, struct xsvc *svc, const struct xattr *a,
    enum iout_level lvl, const char *fmt, ...)
{
	struct msg	*nm;
	va_list		 ap;
	char		*text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) == -1)
		text = NULL;
	va_end(ap);
	text = keep(ctx, text);
	if (lvl == IOUT_ERROR)
		svc->error = true;
	nm = grow1(ctx, svc->msgs, svc->nmsgs, sizeof(*nm));
	if (nm == NULL)
		return;
	svc->msgs = nm;
	nm[svc->nmsgs].level = lvl;
	nm[svc->nmsgs].file = svc->sec->file;
	nm[svc->nmsgs].line = a != NULL ? a->line : svc->sec->line;
	if (from_defaults(ctx, a)) {
		/* Said of each service, at its own line. */
		nm[svc->nmsgs].line = svc->sec->line;
		if (asprintf(&text, "%s (from the defaults, %s:%d)", text,
		    ctx->defaults->file, a->line) == -1)
			text = NULL;
		text = keep(ctx, text);
	}
	nm[svc->nmsgs].text = text;
	iout_problem(ctx->ps, svc->sec->file, nm[svc->nmsgs].line, lvl, "%s",
	    text);
	svc->nmsgs++;
}

static bool
from_defaults(const struct ctx *ctx, const struct xattr *a)
{
	return a != NULL && ctx->defaults != NULL && a >= ctx->defaults->a &&
	    a < ctx->defaults->a + ctx->defaults->na;
}

static struct item *
add_item(struct ctx *ctx, enum ikind kind, char *text)
{
	struct item	*ni;

	ni = reallocarray(ctx->items, ctx->nitems + 1, sizeof(*ni));
	if (ni == NULL) {
		ctx->nomem = true;
		return NULL;
	}
	ctx->items = ni;
	memset(&ni[ctx->nitems], 0, sizeof(*ni));
	ni[ctx->nitems].kind = kind;
	ni[ctx->nitems].text = text;
	return &ni[ctx->nitems++];
}

/* A path as the files name it, under root when one is given. */
static char *
rooted(struct ctx *ctx, const char *path)
{
	char	*s;

	if (ctx->root == NULL || path[0] != '/')
		return sdup(ctx, path);
	if (asprintf(&s, "%s%s", ctx->root, path) == -1)
		s = NULL;
	return keep(ctx, s);
}

/* A regular file of at most X_MAX_FILE bytes, whole. */
static int
read_whole(const char *path, char **bufp, size_t *lenp)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 r;
	size_t		 len = 0;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	if (st.st_size > X_MAX_FILE) {
		errno = EFBIG;
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	for (;;) {
		r = read(fd, buf + len, (size_t)st.st_size + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			saved = errno;
			free(buf);
			errno = saved;
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > (size_t)st.st_size) {
			free(buf);
			errno = EFBIG;
			goto fail;
		}
	}
	(void)close(fd);
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
fail:
	saved = errno;
	(void)close(fd);
	errno = saved;
	return -1;
}

static bool
blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The blank-separated words of len bytes, pooled. */
static size_t
words(struct ctx *ctx, const char *p, size_t len, char ***wp)
{
	const char	*end = p + len, *w;
	char		**v = NULL, **nv;
	size_t		 n = 0;

	for (;;) {
		while (p < end && blank(*p))
			p++;
		if (p == end)
			break;
		for (w = p; w < end && !blank(*w); w++)
			;
		if ((nv = grow1(ctx, v, n, sizeof(*nv))) == NULL)
			break;
		v = nv;
		v[n++] = keep(ctx, strndup(p, (size_t)(w - p)));
		p = w;
	}
	*wp = v;
	return n;
}

/* "name op values": false when xinetd could not parse the line. */
static bool
parse_attr(struct ctx *ctx, struct xsec *sec, const char *p, size_t len,
    int line)
{
	const char	*end = p + len, *q = p;
	struct xattr	*na, a;

	memset(&a, 0, sizeof(a));
	a.line = line;
	while (q < end && (isalnum((unsigned char)*q) || *q == '_'))
		q++;
	if (q == p)
		return false;
	a.name = keep(ctx, strndup(p, (size_t)(q - p)));
	while (q < end && blank(*q))
		q++;
	if (q < end && *q == '=') {
		a.op = OP_SET;
		q++;
	} else if (end - q >= 2 && q[1] == '=' && (*q == '+' || *q == '-')) {
		a.op = *q == '+' ? OP_ADD : OP_DEL;
		q += 2;
	} else
		return false;
	a.n = words(ctx, q, (size_t)(end - q), &a.v);
	if ((na = grow1(ctx, sec->a, sec->na, sizeof(*na))) == NULL)
		return true;
	sec->a = na;
	na[sec->na++] = a;
	return true;
}

static bool
only_char(const char *p, size_t len, char c)
{
	bool	 seen = false;
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (blank(p[i]))
			continue;
		if (p[i] != c || seen)
			return false;
		seen = true;
	}
	return seen;
}

/*
 * The items of one file: its comments, its sections, and the items of
 * the files it includes, in place.
 */
static void
parse_file(struct ctx *ctx, const char *file, const char *buf, size_t len)
{
	const char	*p = buf, *end = buf + len, *nl, *s;
	struct xsec	*sec = NULL;
	struct item	*it;
	char		**w, **nc;
	size_t		 n, ll, j;
	int		 line = 0;
	enum { TOP, BRACE, IN, SKIP } st = TOP;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = (size_t)((nl != NULL ? nl : end) - p);
		line++;
		s = p;
		p = nl != NULL ? nl + 1 : end;
		for (j = 0; j < ll && blank(s[j]); j++)
			;
		if (j == ll || s[j] == '#') {
			if (st == IN && j < ll) {
				nc = grow1(ctx, sec->comments, sec->ncomments,
				    sizeof(*nc));
				if (nc != NULL) {
					sec->comments = nc;
					nc[sec->ncomments++] = keep(ctx,
					    strndup(s + j, ll - j));
				}
			} else if (st == TOP)
				(void)add_item(ctx, I_TEXT, keep(ctx,
				    strndup(s, ll)));
			continue;
		}
		if (memchr(s, '\0', ll) != NULL) {
			problem(ctx, file, line, IOUT_ERROR, "a NUL byte: "
			    "this line is ignored");
			continue;
		}
		switch (st) {
		case SKIP:
			if (only_char(s, ll, '}'))
				st = TOP;
			continue;
		case BRACE:
			if (only_char(s, ll, '{')) {
				st = IN;
				continue;
			}
			problem(ctx, file, sec->line, IOUT_ERROR, "%s: no '{' "
			    "on the line after it: xinetd skips this entry, "
			    "so is it here", sec->defaults ? "defaults" :
			    sec->name);
			sec->bad = true;
			st = SKIP;
			continue;
		case IN:
			if (only_char(s, ll, '}')) {
				st = TOP;
				continue;
			}
			if (!parse_attr(ctx, sec, s + j, ll - j, line)) {
				sec->bad = true;
				if (sec->why == NULL)
					sec->why = keep(ctx, strndup(s + j,
					    ll - j));
				problem(ctx, file, line, IOUT_ERROR, "not an "
				    "attribute line (name = values): xinetd "
				    "drops the whole %s", sec->defaults ?
				    "defaults section" : "service");
			}
			continue;
		case TOP:
			break;
		}
		n = words(ctx, s, ll, &w);
		if (n >= 1 && (strcmp(w[0], "include") == 0 ||
		    strcmp(w[0], "includedir") == 0)) {
			if (n != 2) {
				problem(ctx, file, line, IOUT_ERROR, "%s takes "
				    "one path", w[0]);
				continue;
			}
			if (w[0][7] == '\0')
				parse_include(ctx, file, line, w[1]);
			else
				parse_includedir(ctx, file, line, w[1]);
			continue;
		}
		if (n >= 1 && (strcmp(w[0], "service") == 0 ||
		    strcmp(w[0], "defaults") == 0)) {
			bool	 dflt = w[0][0] == 'd';
			bool	 brace = n == (dflt ? 2u : 3u) &&
			    strcmp(w[n - 1], "{") == 0;

			if ((!dflt && n < 2) || (n > (dflt ? 1u : 2u) &&
			    !brace)) {
				problem(ctx, file, line, IOUT_ERROR, "'%.*s' "
				    "is not 'service NAME' nor 'defaults'",
				    (int)ll, s);
				continue;
			}
			sec = pkeep(ctx, calloc(1, sizeof(*sec)));
			if (sec == NULL)
				return;
			sec->defaults = dflt;
			sec->name = dflt ? NULL : w[1];
			sec->file = file;
			sec->line = line;
			if ((it = add_item(ctx, I_SECTION, NULL)) != NULL)
				it->sec = sec;
			if (dflt) {
				if (ctx->defaults != NULL)
					problem(ctx, file, line, IOUT_ERROR,
					    "a second defaults section: "
					    "xinetd ignores it, so is it "
					    "here");
				else
					ctx->defaults = sec;
			}
			if (brace) {
				problem(ctx, file, line, IOUT_WARN, "'{' on "
				    "the line of '%s': xinetd wants it on a "
				    "line of its own and skips this entry; it "
				    "is converted here", dflt ? "defaults" :
				    sec->name);
				st = IN;
			} else
				st = BRACE;
			continue;
		}
		problem(ctx, file, line, IOUT_ERROR, "'%.*s' is not a "
		    "service, defaults, include or includedir line: ignored "
		    "as xinetd ignores it", (int)ll, s);
	}
	if (st == IN || st == BRACE) {
		problem(ctx, file, sec->line, IOUT_ERROR, "%s: the file ends "
		    "before its '}': xinetd drops it, so is it here",
		    sec->defaults ? "defaults" : sec->name);
		sec->bad = true;
		if (sec->why == NULL)
			sec->why = sdup(ctx, "no closing '}'");
	}
}

static void
add_file(struct ctx *ctx, const char *path)
{
	char	**nf;

	if ((nf = grow1(ctx, ctx->files, ctx->nfiles, sizeof(*nf))) == NULL)
		return;
	ctx->files = nf;
	nf[ctx->nfiles++] = sdup(ctx, path);
}

static bool
on_chain(struct ctx *ctx, const char *path)
{
	int	 i;

	for (i = 0; i < ctx->depth; i++)
		if (strcmp(ctx->chain[i], path) == 0)
			return true;
	return false;
}

static void
parse_path(struct ctx *ctx, const char *file, int line, const char *path)
{
	char	*buf, *text;
	size_t	 len;

	if (ctx->depth > X_MAX_DEPTH || ctx->nfiles >= X_MAX_FILES ||
	    on_chain(ctx, path)) {
		problem(ctx, file, line, IOUT_ERROR, "%s: %s", path,
		    on_chain(ctx, path) ? "includes itself" :
		    "too many files or includes too deep");
		return;
	}
	if (read_whole(rooted(ctx, path), &buf, &len) == -1) {
		problem(ctx, file, line, IOUT_ERROR, "cannot read %s%s: %s",
		    ctx->root != NULL && path[0] == '/' ? ctx->root : "",
		    path, strerror(errno));
		return;
	}
	add_file(ctx, path);
	if (asprintf(&text, "%s", path) == -1)
		text = NULL;
	(void)add_item(ctx, I_FILE, keep(ctx, text));
	ctx->chain[ctx->depth++] = path;
	parse_file(ctx, sdup(ctx, path), buf, len);
	ctx->depth--;
	free(buf);
}

static void
parse_include(struct ctx *ctx, const char *file, int line, const char *path)
{
	parse_path(ctx, file, line, path);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file of dir but those with a '.' or a trailing '~', sorted. */
static void
parse_includedir(struct ctx *ctx, const char *file, int line,
    const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		**v = NULL, **nv, *path;
	size_t		 n = 0, i, l;

	if ((d = opendir(rooted(ctx, dir))) == NULL) {
		problem(ctx, file, line, IOUT_ERROR, "cannot read the "
		    "directory %s%s: %s", ctx->root != NULL && dir[0] == '/' ?
		    ctx->root : "", dir, strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (strchr(de->d_name, '.') != NULL || l == 0 ||
		    de->d_name[l - 1] == '~')
			continue;
		if ((nv = reallocarray(v, n + 1, sizeof(*nv))) == NULL) {
			ctx->nomem = true;
			break;
		}
		v = nv;
		if (asprintf(&path, "%s%s%s", dir, dir[strlen(dir) - 1] ==
		    '/' ? "" : "/", de->d_name) == -1) {
			ctx->nomem = true;
			break;
		}
		v[n++] = keep(ctx, path);
	}
	(void)closedir(d);
	qsort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++) {
		if (stat(rooted(ctx, v[i]), &st) == 0 && !S_ISREG(st.st_mode))
			continue;
		parse_path(ctx, file, line, v[i]);
	}
	free(v);
}

/*
 * A non-list attribute of sec by name: the first one, as xinetd keeps
 * it, marked used; a repeat or a '+='/'-=' gets a warning.  NULL if
 * absent.
 */
static struct xattr *
attr(struct ctx *ctx, struct xsvc *svc, struct xsec *sec, const char *name)
{
	struct xattr	*first = NULL;
	size_t		 i;

	if (sec == NULL)
		return NULL;
	for (i = 0; i < sec->na; i++) {
		struct xattr	*a = &sec->a[i];

		if (strcmp(a->name, name) != 0)
			continue;
		if (first == NULL) {
			first = a;
			if (!a->used && a->op != OP_SET && svc != NULL)
				say(ctx, svc, a, IOUT_WARN, "%s takes only "
				    "'=': xinetd ignores this line, so is it "
				    "here", name);
		} else if (!a->used && svc != NULL)
			say(ctx, svc, a, IOUT_WARN, "%s is given again: "
			    "xinetd keeps the first one, line %d", name,
			    first->line);
		a->used = true;
	}
	if (first != NULL && first->op != OP_SET)
		return NULL;
	return first;
}

/* The service's attribute, or else that of the defaults section. */
static struct xattr *
attr_any(struct ctx *ctx, struct xsvc *svc, const char *name)
{
	struct xattr	*a;

	if ((a = attr(ctx, svc, svc->sec, name)) != NULL)
		return a;
	return attr(ctx, NULL, ctx->defaults, name);
}

/* The first line of a list attribute in sec, whatever its operator. */
static struct xattr *
find_attr(struct xsec *sec, const char *name)
{
	size_t	 i;

	for (i = 0; sec != NULL && i < sec->na; i++)
		if (strcmp(sec->a[i].name, name) == 0)
			return &sec->a[i];
	return NULL;
}

static bool
in_list(char **v, size_t n, const char *s)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/*
 * A list attribute: the defaults' values ('=' adds there), then the
 * service's lines in order, '=' replacing, '+=' adding, '-=' removing.
 * The count; *vp is pooled.  (size_t)-1 when neither gives it.
 */
static size_t
attr_list(struct ctx *ctx, struct xsvc *svc, const char *name, char ***vp)
{
	struct xsec	*secs[2] = { ctx->defaults, svc->sec };
	char		**v = NULL, **nv;
	size_t		 n = 0, i, j, k, m;
	bool		 given = false;
	int		 s;

	for (s = 0; s < 2; s++) {
		if (secs[s] == NULL || (s == 0 && secs[0] == svc->sec))
			continue;
		for (i = 0; i < secs[s]->na; i++) {
			struct xattr	*a = &secs[s]->a[i];

			if (strcmp(a->name, name) != 0)
				continue;
			a->used = true;
			given = true;
			if (a->op == OP_SET && s == 1)
				n = 0;
			for (j = 0; j < a->n; j++) {
				if (a->op == OP_DEL) {
					for (k = 0, m = 0; k < n; k++)
						if (strcmp(v[k], a->v[j]) != 0)
							v[m++] = v[k];
					n = m;
					continue;
				}
				if (in_list(v, n, a->v[j]))
					continue;
				nv = grow1(ctx, v, n, sizeof(*nv));
				if (nv == NULL)
					break;
				v = nv;
				v[n++] = a->v[j];
			}
		}
	}
	*vp = v;
	return given ? n : (size_t)-1;
}

/* A "key = value" of the section, its value rendered now. */
static void
kv(struct ctx *ctx, struct xsvc *svc, const char *key, const char *val)
{
	struct iout_buf	 b;
	struct kv	*nk;

	iout_buf_init(&b);
	iout_value(&b, val);
	if ((nk = grow1(ctx, svc->kv, svc->nkv, sizeof(*nk))) == NULL) {
		iout_buf_clear(&b);
		return;
	}
	svc->kv = nk;
	nk[svc->nkv].key = key;
	nk[svc->nkv].val = keep(ctx, iout_buf_take(&b));
	svc->nkv++;
}

/* A value already in portmux.conf syntax. */
static void
kv_raw(struct ctx *ctx, struct xsvc *svc, const char *key, const char *val)
{
	struct kv	*nk;

	if ((nk = grow1(ctx, svc->kv, svc->nkv, sizeof(*nk))) == NULL)
		return;
	svc->kv = nk;
	nk[svc->nkv].key = key;
	nk[svc->nkv].val = sdup(ctx, val);
	svc->nkv++;
}

static void
kv_list(struct ctx *ctx, struct xsvc *svc, const char *key, char **v,
    size_t n)
{
	struct iout_buf	 b;
	struct kv	*nk;
	size_t		 i;

	iout_buf_init(&b);
	iout_add(&b, "{");
	for (i = 0; i < n; i++) {
		if (i > 0)
			iout_add(&b, ", ");
		iout_value(&b, v[i]);
	}
	iout_add(&b, "}");
	if ((nk = grow1(ctx, svc->kv, svc->nkv, sizeof(*nk))) == NULL) {
		iout_buf_clear(&b);
		return;
	}
	svc->kv = nk;
	nk[svc->nkv].key = key;
	nk[svc->nkv].val = keep(ctx, iout_buf_take(&b));
	svc->nkv++;
}

static bool
parse_count(const char *s, long min, long max, long *out)
{
	char	*end;
	long	 v;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool
is_word(const char *s, const char *w)
{
	return strcmp(s, w) == 0;
}

/*
 * Only log_type of the defaults has a global equivalent; the rest of
 * its attributes are folded into each service by convert().
 */
static void
convert_defaults(struct ctx *ctx, struct xsec *d)
{
	static const char *const facilities[] = {
		"daemon", "user", "auth", "authpriv", "local0", "local1",
		"local2", "local3", "local4", "local5", "local6", "local7",
		NULL
	};
	static const char *const known[] = {
		"log_type", "log_on_success", "log_on_failure", "disabled",
		"no_access", "only_from", "instances", "passenv", "banner",
		"bind", "interface", "per_source", "groups", "banner_success",
		"banner_fail", "cps", "enabled", "max_load", "v6only",
		"umask", "mdns", NULL
	};
	struct xattr	*a;
	size_t		 i, j;

	for (i = 0; i < d->na; i++) {
		a = &d->a[i];
		for (j = 0; known[j] != NULL; j++)
			if (strcmp(a->name, known[j]) == 0)
				break;
		if (known[j] == NULL)
			problem(ctx, d->file, a->line, IOUT_WARN, "%s does not "
			    "belong in defaults: xinetd ignores it, so is it "
			    "here", a->name);
		if (strcmp(a->name, "log_type") != 0)
			continue;
		if (a->n >= 2 && is_word(a->v[0], "SYSLOG")) {
			for (j = 0; facilities[j] != NULL; j++)
				if (strcmp(a->v[1], facilities[j]) == 0)
					break;
			if (facilities[j] == NULL) {
				problem(ctx, d->file, a->line, IOUT_WARN,
				    "log_type SYSLOG %s: portmuxd logs to "
				    "daemon, user, auth, authpriv or local0 "
				    "to local7; the default, daemon, is kept",
				    a->v[1]);
				iout_add(&ctx->globals, "log = syslog\n");
			} else
				iout_printf(&ctx->globals, "log = syslog\n"
				    "log_facility = %s\n", a->v[1]);
			if (a->n >= 3)
				problem(ctx, d->file, a->line, IOUT_NOTE,
				    "log_type's level %s is dropped: "
				    "portmuxd logs each event at its own "
				    "level, connections at info", a->v[2]);
		} else if (a->n >= 2 && is_word(a->v[0], "FILE"))
			problem(ctx, d->file, a->line, IOUT_WARN, "log_type "
			    "FILE %s has no equivalent: portmuxd logs to "
			    "syslog, or to standard error (log = stderr) "
			    "for a supervisor to write where it wants",
			    a->v[1]);
		else
			problem(ctx, d->file, a->line, IOUT_WARN, "log_type: "
			    "not SYSLOG facility or FILE path: ignored");
	}
}

/* The service, into svc->kv and its problems. */
static void
convert(struct ctx *ctx, struct xsvc *svc)
{
	struct xsec	*sec = svc->sec;
	struct xattr	*a;
	const char	*builtin = NULL;
	char		**v;
	size_t		 n;
	bool		 wait = false, redirect = false, trap = false;

	if (sec->bad) {
		say(ctx, svc, NULL, IOUT_ERROR, "xinetd drops this service: "
		    "%s", sec->why != NULL ? sec->why : "it does not parse");
		return;
	}
	if ((a = attr(ctx, svc, sec, "disable")) != NULL && a->n == 1 &&
	    is_word(a->v[0], "yes"))
		svc->disabled = true;
	else if (a != NULL && !(a->n == 1 && is_word(a->v[0], "no")))
		say(ctx, svc, a, IOUT_WARN, "disable takes yes or no");
	if (ctx->defaults != NULL) {
		n = attr_list(ctx, svc, "disabled", &v);
		if (n != (size_t)-1 && (in_list(v, n, sec->name) ||
		    ((a = attr(ctx, NULL, sec, "id")) != NULL && a->n == 1 &&
		    in_list(v, n, a->v[0]))))
			svc->disabled = true;
		n = attr_list(ctx, svc, "enabled", &v);
		a = attr(ctx, NULL, sec, "id");
		if (n != (size_t)-1 && !in_list(v, n, a != NULL && a->n == 1 ?
		    a->v[0] : sec->name))
			svc->disabled = true;
	}
	if (!conv_kind(ctx, svc, &wait, &builtin, &redirect, &trap))
		return;
	conv_address(ctx, svc);
	if (svc->error)
		return;
	if (builtin != NULL)
		kv(ctx, svc, "builtin", builtin);
	if (!redirect && builtin == NULL)
		conv_program(ctx, svc, &wait);
	if (svc->error)
		return;
	if (svc->mux)
		kv(ctx, svc, "tcpmux", "true");
	if (!trap) {
		conv_acl(ctx, svc);
		conv_limits(ctx, svc, wait, builtin != NULL);
	} else if (attr_any(ctx, svc, "only_from") != NULL ||
	    attr_any(ctx, svc, "no_access") != NULL)
		say(ctx, svc, NULL, IOUT_NOTE, "only_from and no_access are "
		    "dropped: a trap bans whoever connects (exempt networks "
		    "with the global never_ban)");
	conv_rlimits(ctx, svc, builtin != NULL || redirect || trap);
	conv_env(ctx, svc, builtin != NULL || redirect || trap);
	conv_rest(ctx, svc, builtin == NULL && !redirect && !trap);
	if (svc->disabled)
		kv(ctx, svc, "disable", "true");
}

/*
 * What serves the client: protocol, port, builtin or trap or redirect
 * or a program, and whether it waits.  false when the service cannot be
 * converted.
 */
static bool
conv_kind(struct ctx *ctx, struct xsvc *svc, bool *waitp,
    const char **builtinp, bool *redirectp, bool *trapp)
{
	struct xsec	*sec = svc->sec;
	struct xattr	*st, *pr, *wa, *ty, *po, *re, *fl;
	bool		 internal = false, unlisted = false, rpc = false;
	bool		 plus = false, stream;
	long		 port;
	size_t		 i;
	char		 buf[300];

	if ((ty = attr(ctx, svc, sec, "type")) != NULL)
		for (i = 0; i < ty->n; i++) {
			if (is_word(ty->v[i], "INTERNAL"))
				internal = true;
			else if (is_word(ty->v[i], "UNLISTED"))
				unlisted = true;
			else if (is_word(ty->v[i], "RPC"))
				rpc = true;
			else if (is_word(ty->v[i], "TCPMUX"))
				svc->mux = true;
			else if (is_word(ty->v[i], "TCPMUXPLUS")) {
				svc->mux = true;
				plus = true;
			} else
				say(ctx, svc, ty, IOUT_WARN, "type %s is "
				    "unknown: xinetd drops the service",
				    ty->v[i]);
		}
	if (rpc || attr(ctx, svc, sec, "rpc_version") != NULL ||
	    attr(ctx, svc, sec, "rpc_number") != NULL) {
		say(ctx, svc, ty, IOUT_ERROR, "RPC services are not "
		    "supported: portmuxd registers nothing with the "
		    "portmapper");
		return false;
	}
	if ((fl = attr_any(ctx, svc, "flags")) != NULL)
		for (i = 0; i < fl->n; i++)
			if (is_word(fl->v[i], "SENSOR"))
				*trapp = true;
	st = attr(ctx, svc, sec, "socket_type");
	pr = attr(ctx, svc, sec, "protocol");
	wa = attr(ctx, svc, sec, "wait");
	if (st == NULL || st->n != 1 || (!is_word(st->v[0], "stream") &&
	    !is_word(st->v[0], "dgram"))) {
		if (st == NULL)
			say(ctx, svc, NULL, IOUT_ERROR, "no socket_type: "
			    "xinetd drops the service");
		else
			say(ctx, svc, st, IOUT_ERROR, "socket_type %s is not "
			    "supported: portmuxd serves stream (tcp) and "
			    "dgram (udp)", st->n > 0 ? st->v[0] : "");
		return false;
	}
	stream = is_word(st->v[0], "stream");
	if (pr != NULL && (pr->n != 1 || !is_word(pr->v[0], stream ? "tcp" :
	    "udp"))) {
		say(ctx, svc, pr, IOUT_ERROR, "protocol %s with socket_type "
		    "%s is not supported: portmuxd serves tcp streams and "
		    "udp datagrams", pr->n > 0 ? pr->v[0] : "", st->v[0]);
		return false;
	}
	svc->udp = !stream;
	if (wa == NULL || wa->n != 1 || (!is_word(wa->v[0], "yes") &&
	    !is_word(wa->v[0], "no"))) {
		say(ctx, svc, wa, IOUT_ERROR, "wait must be yes or no: xinetd "
		    "drops the service without it");
		return false;
	}
	*waitp = is_word(wa->v[0], "yes");
	kv(ctx, svc, "protocol", stream ? "tcp" : "udp");

	if (svc->mux) {
		if (!stream || *waitp) {
			say(ctx, svc, ty, IOUT_ERROR, "a TCPMUX service is a "
			    "tcp stream that does not wait");
			return false;
		}
		if (!plus)
			say(ctx, svc, ty, IOUT_WARN, "type TCPMUX leaves the "
			    "'+' reply to the program; portmuxd always sends "
			    "'+Go' itself, as for TCPMUXPLUS: a program that "
			    "sends its own reply must stop doing so");
		if (!unlisted)
			say(ctx, svc, ty, IOUT_NOTE, "xinetd wants UNLISTED "
			    "with TCPMUX; not needed here");
	} else {
		po = attr(ctx, svc, sec, "port");
		if (po != NULL && (po->n != 1 || !parse_count(po->v[0], 1,
		    65535, &port))) {
			say(ctx, svc, po, IOUT_ERROR, "port must be a number "
			    "from 1 to 65535");
			return false;
		}
		if (po == NULL && unlisted) {
			say(ctx, svc, ty, IOUT_ERROR, "an UNLISTED service "
			    "needs a port: xinetd drops it");
			return false;
		}
		svc->port = po != NULL ? po->v[0] : sec->name;
		kv(ctx, svc, "port", svc->port);
		if (po != NULL && !unlisted)
			say(ctx, svc, po, IOUT_NOTE, "xinetd checks port "
			    "against services(5) for '%s'; portmuxd takes "
			    "the number as it is", sec->name);
	}

	re = attr(ctx, svc, sec, "redirect");
	if (*trapp) {
		if (svc->mux) {
			say(ctx, svc, fl, IOUT_ERROR, "flags SENSOR on a "
			    "TCPMUX service: portmuxd's trap has a port of "
			    "its own");
			return false;
		}
		if (!stream) {
			say(ctx, svc, fl, IOUT_ERROR, "flags SENSOR on udp: "
			    "portmuxd's trap is tcp only, since a datagram's "
			    "source is easily forged");
			return false;
		}
		*builtinp = "trap";
		say(ctx, svc, fl, IOUT_NOTE, "flags SENSOR is builtin = "
		    "trap: a client is banned from every service for the "
		    "global ban_time, not deny_time");
		return true;
	}
	if (re != NULL) {
		if (re->n != 2 || !stream || *waitp) {
			say(ctx, svc, re, IOUT_ERROR, "redirect takes a host "
			    "and a port, on a tcp service that does not wait");
			return false;
		}
		/* Quoted, as portmux.conf(5) writes it. */
		(void)snprintf(buf, sizeof(buf), strchr(re->v[0], ':') !=
		    NULL ? "\"[%s]:%s\"" : "\"%s:%s\"", re->v[0], re->v[1]);
		kv_raw(ctx, svc, "redirect", buf);
		*redirectp = true;
		if (attr(ctx, svc, sec, "server") != NULL ||
		    attr(ctx, svc, sec, "user") != NULL ||
		    attr(ctx, svc, sec, "group") != NULL)
			say(ctx, svc, re, IOUT_NOTE, "server, user and group "
			    "are dropped: a redirect runs no program");
		if (strspn(re->v[0], "0123456789.:abcdefABCDEF") !=
		    strlen(re->v[0]))
			say(ctx, svc, re, IOUT_NOTE, "%s is resolved at each "
			    "load and reload, where xinetd resolved it once "
			    "at start", re->v[0]);
		return true;
	}
	if (internal) {
		for (i = 0; builtins[i] != NULL; i++)
			if (strcmp(sec->name, builtins[i]) == 0)
				break;
		if (builtins[i] == NULL) {
			say(ctx, svc, ty, IOUT_ERROR, "xinetd's internal '%s' "
			    "has no builtin here: portmuxd has echo, "
			    "discard, daytime, chargen, time and tcpmux "
			    "(see portmuxctl(8) for what servers and "
			    "services list)", sec->name);
			return false;
		}
		if (strcmp(builtins[i], "tcpmux") == 0 && !stream) {
			say(ctx, svc, st, IOUT_ERROR, "the tcpmux builtin is "
			    "tcp only");
			return false;
		}
		if (*waitp && stream)
			say(ctx, svc, wa, IOUT_NOTE, "wait is dropped: a "
			    "builtin serves every connection itself");
		*builtinp = builtins[i];
		(void)attr(ctx, NULL, sec, "user");
		(void)attr(ctx, NULL, sec, "group");
		(void)attr(ctx, NULL, sec, "server");
		return true;
	}
	return true;
}

/* server, server_args (with NAMEINARGS), user, group, wait. */
/* *waitp becomes true for a udp program, which portmuxd runs so. */
static void
conv_program(struct ctx *ctx, struct xsvc *svc, bool *waitp)
{
	struct xsec	*sec = svc->sec;
	struct xattr	*se, *sa, *us, *gr, *fl;
	struct passwd	*pw;
	struct group	*g;
	char		**args, *server, *real, num[32];
	size_t		 nargs = 0, i;
	bool		 nameinargs = false;
	long		 id;

	se = attr(ctx, svc, sec, "server");
	sa = attr(ctx, svc, sec, "server_args");
	us = attr(ctx, svc, sec, "user");
	gr = attr(ctx, svc, sec, "group");
	if ((fl = attr_any(ctx, svc, "flags")) != NULL)
		for (i = 0; i < fl->n; i++)
			if (is_word(fl->v[i], "NAMEINARGS"))
				nameinargs = true;
	if (se == NULL || se->n != 1 || se->v[0][0] != '/') {
		say(ctx, svc, se, IOUT_ERROR, se == NULL ? "no server: "
		    "xinetd drops the service" : "server must be one "
		    "absolute path");
		return;
	}
	if (us == NULL || us->n != 1) {
		say(ctx, svc, us, IOUT_ERROR, "no user: xinetd drops the "
		    "service without one");
		return;
	}
	server = se->v[0];
	if (nameinargs && (sa == NULL || sa->n == 0)) {
		say(ctx, svc, fl, IOUT_ERROR, "flags NAMEINARGS without "
		    "server_args: xinetd drops the service");
		return;
	}
	args = grow1(ctx, NULL, 0, sizeof(*args) * ((sa != NULL ? sa->n :
	    0) + 1));
	if (args == NULL)
		return;
	if (!nameinargs)
		args[nargs++] = strrchr(server, '/') + 1;
	for (i = 0; sa != NULL && i < sa->n; i++)
		args[nargs++] = sa->v[i];
	if (strcmp(strrchr(server, '/') + 1, "tcpd") == 0 && nameinargs) {
		/* tcpd(8) execs argv[0], from /usr/sbin if it has no path. */
		if (args[0][0] == '/')
			real = args[0];
		else if (asprintf(&real, "/usr/sbin/%s", args[0]) == -1)
			real = keep(ctx, NULL);
		else
			real = keep(ctx, real);
		say(ctx, svc, se, IOUT_WARN, "tcpd is dropped and %s run "
		    "directly: portmuxd reads no hosts.allow or hosts.deny, "
		    "write their rules as allow and deny (numeric networks "
		    "only); every connection is logged", real);
		server = real;
	}
	kv(ctx, svc, "server", server);
	if (sa != NULL || nameinargs)
		kv_list(ctx, svc, "args", args, nargs);

	if (parse_count(us->v[0], 0, INT_MAX, &id)) {
		if ((pw = getpwuid((uid_t)id)) != NULL) {
			say(ctx, svc, us, IOUT_NOTE, "user %s is %s on this "
			    "host, and portmuxd takes names only", us->v[0],
			    pw->pw_name);
			kv(ctx, svc, "user", sdup(ctx, pw->pw_name));
		} else {
			say(ctx, svc, us, IOUT_WARN, "user %s has no name on "
			    "this host, and portmuxd takes names only: "
			    "write the name it has where portmuxd runs",
			    us->v[0]);
			kv(ctx, svc, "user", us->v[0]);
		}
	} else
		kv(ctx, svc, "user", us->v[0]);
	if (gr != NULL && gr->n == 1) {
		if (parse_count(gr->v[0], 0, INT_MAX, &id) &&
		    (g = getgrgid((gid_t)id)) != NULL) {
			(void)snprintf(num, sizeof(num), "%s", gr->v[0]);
			say(ctx, svc, gr, IOUT_NOTE, "group %s is %s on this "
			    "host, and portmuxd takes names only", num,
			    g->gr_name);
			kv(ctx, svc, "group", sdup(ctx, g->gr_name));
		} else
			kv(ctx, svc, "group", gr->v[0]);
	}
	if (svc->udp && !*waitp) {
		say(ctx, svc, attr(ctx, NULL, sec, "wait"), IOUT_WARN, "udp "
		    "with wait = no becomes wait = true: portmuxd starts a "
		    "udp program with the socket and waits for it to exit");
		*waitp = true;
	}
	if (*waitp)
		kv(ctx, svc, "wait", "true");
}

/*
 * bind (interface), flags IPv4/IPv6 and v6only: xinetd binds 0.0.0.0
 * unless told otherwise, and an IPv6 socket without IPV6_V6ONLY.
 */
static void
conv_address(struct ctx *ctx, struct xsvc *svc)
{
	struct xattr	*b, *fl, *v6o;
	unsigned char	 bin[sizeof(struct in6_addr)];
	char		 buf[INET6_ADDRSTRLEN], *addr;
	bool		 f4 = false, f6 = false, v6only = false;
	size_t		 i;

	if ((b = attr(ctx, svc, svc->sec, "bind")) == NULL)
		b = attr(ctx, svc, svc->sec, "interface");
	if (b == NULL && (b = attr(ctx, NULL, ctx->defaults, "bind")) ==
	    NULL)
		b = attr(ctx, NULL, ctx->defaults, "interface");
	if ((fl = attr_any(ctx, svc, "flags")) != NULL)
		for (i = 0; i < fl->n; i++) {
			if (is_word(fl->v[i], "IPv4"))
				f4 = true;
			else if (is_word(fl->v[i], "IPv6"))
				f6 = true;
		}
	if ((v6o = attr_any(ctx, svc, "v6only")) != NULL && v6o->n == 1)
		v6only = is_word(v6o->v[0], "yes");
	if (svc->mux) {
		if (b != NULL)
			say(ctx, svc, b, IOUT_NOTE, "bind is dropped: a "
			    "TCPMUX service is reached through the tcpmux "
			    "port");
		return;
	}
	if (f4 && f6) {
		say(ctx, svc, fl, IOUT_ERROR, "flags IPv4 and IPv6 together: "
		    "xinetd drops the service");
		return;
	}
	if (b != NULL) {
		if (b->n != 1) {
			say(ctx, svc, b, IOUT_ERROR, "bind takes one address");
			return;
		}
		if (inet_pton(AF_INET, b->v[0], bin) == 1)
			svc->fam = 4;
		else if (inet_pton(AF_INET6, b->v[0], bin) == 1)
			svc->fam = 6;
		else {
			say(ctx, svc, b, IOUT_ERROR, "bind %s is not "
			    "converted: portmuxd binds numeric addresses "
			    "only and resolves no name; write the address it "
			    "stands for", b->v[0]);
			return;
		}
		if ((f4 && svc->fam == 6) || (f6 && svc->fam == 4)) {
			say(ctx, svc, fl, IOUT_ERROR, "flags %s with bind %s",
			    f4 ? "IPv4" : "IPv6", b->v[0]);
			return;
		}
		(void)inet_ntop(svc->fam == 4 ? AF_INET : AF_INET6, bin, buf,
		    sizeof(buf));
		addr = sdup(ctx, buf);
	} else {
		svc->fam = f6 ? 6 : 4;
		addr = sdup(ctx, f6 ? "::" : "0.0.0.0");
	}
	svc->bind = addr;
	kv_list(ctx, svc, "address", &addr, 1);
	if (svc->fam == 6 && !v6only)
		kv(ctx, svc, "v6only", "false");
}

/*
 * The networks of one xinetd address, CIDR-style: "a.b.c.0" is a /24,
 * "a.b.{c,d}" two /16, "a/n" with its host bits cleared.  false, with
 * why filled, for a form that has none (a host or network name).
 */
static bool
cidr_of(struct ctx *ctx, const char *s, char ***vp, size_t *np, char *why,
    size_t whylen)
{
	unsigned char	 bin[sizeof(struct in6_addr)];
	char		 buf[96], ip[INET6_ADDRSTRLEN],
			*slash, *brace, *copy, *tok, *save;
	unsigned int	 o[4];
	long		 bits;
	size_t		 k, i, z;
	int		 fam;

	*np = 0;
	*vp = NULL;
	why[0] = '\0';
	if ((brace = strchr(s, '{')) != NULL) {
		/* a.b.{x,y}: the listed parts end the address. */
		size_t		 plen = (size_t)(brace - s);
		unsigned int	 parts[4];

		if (s[strlen(s) - 1] != '}' || plen == 0 || s[plen - 1] !=
		    '.') {
			(void)snprintf(why, whylen, "a factorized address "
			    "ends with its {...} part");
			return false;
		}
		for (k = 0, i = 0; i < plen; k++) {
			if (k == 3 || sscanf(s + i, "%u", &parts[k]) != 1 ||
			    parts[k] > 255)
				goto badfactor;
			while (i < plen && s[i] != '.')
				i++;
			i++;
		}
		copy = keep(ctx, strndup(brace + 1, strlen(brace + 1) - 1));
		for (tok = strtok_r(copy, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			char	**nv;

			if (!parse_count(tok, 0, 255, &bits))
				goto badfactor;
			parts[k] = (unsigned int)bits;
			for (i = k + 1; i < 4; i++)
				parts[i] = 0;
			if (k == 3)
				(void)snprintf(buf, sizeof(buf), "%u.%u.%u.%u",
				    parts[0], parts[1], parts[2], parts[3]);
			else
				(void)snprintf(buf, sizeof(buf),
				    "%u.%u.%u.%u/%zu", parts[0], parts[1],
				    parts[2], parts[3], (k + 1) * 8);
			if ((nv = grow1(ctx, *vp, *np, sizeof(*nv))) == NULL)
				return false;
			*vp = nv;
			nv[(*np)++] = sdup(ctx, buf);
		}
		return *np > 0;
badfactor:
		(void)snprintf(why, whylen, "not a factorized address of "
		    "numbers from 0 to 255");
		*np = 0;
		return false;
	}
	copy = sdup(ctx, s);
	bits = -1;
	if ((slash = strchr(copy, '/')) != NULL) {
		*slash = '\0';
		if (!parse_count(slash + 1, 0, 128, &bits)) {
			(void)snprintf(why, whylen, "bad prefix length");
			return false;
		}
	}
	if (inet_pton(AF_INET, copy, bin) == 1)
		fam = AF_INET;
	else if (inet_pton(AF_INET6, copy, bin) == 1)
		fam = AF_INET6;
	else {
		(void)snprintf(why, whylen, "a host, domain or network name: "
		    "portmuxd's lists take numeric networks only and resolve "
		    "no name");
		return false;
	}
	if (fam == AF_INET && bits > 32) {
		(void)snprintf(why, whylen, "bad prefix length");
		return false;
	}
	if (bits == -1 && fam == AF_INET) {
		/* Trailing zero parts are wildcards in xinetd. */
		memcpy(o, (unsigned int[4]){ bin[0], bin[1], bin[2], bin[3] },
		    sizeof(o));
		for (z = 0; z < 4 && o[3 - z] == 0; z++)
			;
		bits = z == 0 ? -1 : (long)(32 - 8 * z);
	}
	if (bits >= 0) {
		size_t	 nbytes = fam == AF_INET ? 4 : 16;

		for (i = 0; i < nbytes; i++) {
			long	 keepbits = bits - (long)i * 8;

			if (keepbits <= 0)
				bin[i] = 0;
			else if (keepbits < 8)
				bin[i] &= (unsigned char)(0xff << (8 -
				    keepbits));
		}
	}
	(void)inet_ntop(fam, bin, ip, sizeof(ip));
	if (bits >= 0)
		(void)snprintf(buf, sizeof(buf), "%s/%ld", ip, bits);
	else
		(void)snprintf(buf, sizeof(buf), "%s", ip);
	if (slash != NULL && strncmp(buf, s, strlen(buf)) != 0)
		(void)snprintf(why, whylen, "has host bits set past its "
		    "prefix, which xinetd ignores: written %s", buf);
	*vp = grow1(ctx, NULL, 0, sizeof(**vp));
	if (*vp == NULL)
		return false;
	(*vp)[0] = sdup(ctx, buf);
	*np = 1;
	return true;
}

/* Does network a (CIDR or address) lie within b, b being wider? */
static bool
inside(const char *a, const char *b)
{
	unsigned char	 ba[16], bb[16];
	char		 ca[INET6_ADDRSTRLEN + 8], cb[INET6_ADDRSTRLEN + 8];
	char		*sa, *sb;
	long		 la, lb, i;
	int		 fa, fb;

	(void)snprintf(ca, sizeof(ca), "%s", a);
	(void)snprintf(cb, sizeof(cb), "%s", b);
	sa = strchr(ca, '/');
	sb = strchr(cb, '/');
	if (sa != NULL)
		*sa++ = '\0';
	if (sb != NULL)
		*sb++ = '\0';
	fa = strchr(ca, ':') != NULL ? AF_INET6 : AF_INET;
	fb = strchr(cb, ':') != NULL ? AF_INET6 : AF_INET;
	if (fa != fb || inet_pton(fa, ca, ba) != 1 || inet_pton(fb, cb, bb)
	    != 1)
		return false;
	la = sa != NULL ? strtol(sa, NULL, 10) : (fa == AF_INET ? 32 : 128);
	lb = sb != NULL ? strtol(sb, NULL, 10) : (fb == AF_INET ? 32 : 128);
	if (lb >= la)
		return false;
	for (i = 0; i < lb; i++)
		if (((ba[i / 8] ^ bb[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

/* only_from and no_access, defaults folded in, as allow and deny. */
static void
conv_acl(struct ctx *ctx, struct xsvc *svc)
{
	static const char *const names[2] = { "only_from", "no_access" };
	char		**v, **out[2] = { NULL, NULL }, **nets, **nv, why[200];
	size_t		 n, nout[2] = { 0, 0 }, i, j, k, nn;
	bool		 given[2] = { false, false }, dropped = false;
	struct xattr	*at;
	int		 l;

	for (l = 0; l < 2; l++) {
		n = attr_list(ctx, svc, names[l], &v);
		if (n == (size_t)-1)
			continue;
		given[l] = true;
		if ((at = find_attr(svc->sec, names[l])) == NULL)
			at = find_attr(ctx->defaults, names[l]);
		for (i = 0; i < n; i++) {
			if (!cidr_of(ctx, v[i], &nets, &nn, why,
			    sizeof(why))) {
				if (l == 1) {
					say(ctx, svc, at, IOUT_ERROR,
					    "no_access %s is not converted "
					    "(%s): without it the service "
					    "would let that host in", v[i],
					    why);
					return;
				}
				say(ctx, svc, at, IOUT_WARN, "only_from %s is "
				    "dropped (%s): that client is refused now",
				    v[i], why);
				dropped = true;
				continue;
			}
			if (why[0] != '\0')
				say(ctx, svc, at, IOUT_NOTE, "%s %s %s",
				    names[l], v[i], why);
			for (k = 0; k < nn; k++) {
				nv = grow1(ctx, out[l], nout[l], sizeof(*nv));
				if (nv == NULL)
					return;
				out[l] = nv;
				nv[nout[l]++] = nets[k];
			}
		}
	}
	/* An only_from with no value lets nobody in. */
	if (given[0] && nout[0] == 0) {
		say(ctx, svc, find_attr(svc->sec, "only_from") != NULL ?
		    find_attr(svc->sec, "only_from") : find_attr(ctx->defaults,
		    "only_from"), dropped ? IOUT_WARN : IOUT_NOTE, "only_from %s: nobody "
		    "may connect, written deny = {0.0.0.0/0, ::/0} since an "
		    "empty allow lets everyone in", dropped ? "has no "
		    "address left" : "is empty");
		nv = grow1(ctx, out[1], nout[1], sizeof(*nv));
		if (nv == NULL || (nv = grow1(ctx, nv, nout[1] + 1,
		    sizeof(*nv))) == NULL)
			return;
		nv[nout[1]++] = sdup(ctx, "0.0.0.0/0");
		nv[nout[1]++] = sdup(ctx, "::/0");
		out[1] = nv;
		given[1] = true;
	}
	for (i = 0; i < nout[0]; i++)
		for (j = 0; j < nout[1]; j++)
			if (inside(out[0][i], out[1][j]))
				say(ctx, svc, find_attr(svc->sec,
				    "no_access"), IOUT_WARN, "xinetd lets "
				    "%s in, since only_from's match is the "
				    "closer one; portmuxd's deny %s always "
				    "wins: leave it out of deny to keep it in",
				    out[0][i], out[1][j]);
	if (nout[0] > 0)
		kv_list(ctx, svc, "allow", out[0], nout[0]);
	if (given[1] && nout[1] > 0)
		kv_list(ctx, svc, "deny", out[1], nout[1]);
}

/* instances, per_source, cps: what bounds clients. */
static void
conv_limits(struct ctx *ctx, struct xsvc *svc, bool wait, bool builtin)
{
	static const char *const keys[2] = { "instances", "per_source" };
	struct xattr	*a;
	char		 buf[64];
	long		 v, w;
	int		 k;

	for (k = 0; k < 2; k++) {
		if ((a = attr_any(ctx, svc, keys[k])) == NULL)
			continue;
		if (a->n != 1) {
			say(ctx, svc, a, IOUT_WARN, "%s takes one value: "
			    "ignored", keys[k]);
			continue;
		}
		if (wait && !builtin) {
			/* portmuxd ignores these from defaults, as here. */
			if (!from_defaults(ctx, a))
				say(ctx, svc, a, IOUT_NOTE, "%s is dropped: a "
				    "wait service runs one program at a time",
				    keys[k]);
			continue;
		}
		if (is_word(a->v[0], "UNLIMITED")) {
			kv(ctx, svc, keys[k], "unlimited");
			continue;
		}
		if (!parse_count(a->v[0], 0, INT_MAX, &v)) {
			say(ctx, svc, a, IOUT_WARN, "%s %s is not a number: "
			    "xinetd drops the service", keys[k], a->v[0]);
			svc->disabled = true;
			continue;
		}
		if (v == 0) {
			say(ctx, svc, a, IOUT_WARN, "%s = 0 lets nobody in; "
			    "0 is no limit here: written disable = true",
			    keys[k]);
			svc->disabled = true;
			continue;
		}
		kv(ctx, svc, keys[k], a->v[0]);
	}
	if ((a = attr_any(ctx, svc, "cps")) == NULL)
		return;
	if (a->n != 2 || !parse_count(a->v[0], 0, INT_MAX, &v) ||
	    !parse_count(a->v[1], 0, INT_MAX, &w)) {
		say(ctx, svc, a, IOUT_WARN, "cps takes two numbers: ignored");
		return;
	}
	if (wait && !builtin) {
		if (!from_defaults(ctx, a))
			say(ctx, svc, a, IOUT_WARN, "cps %ld %ld is dropped: "
			    "a wait service runs one program at a time, and "
			    "portmuxd has no pause", v, w);
		return;
	}
	if (svc->udp && builtin) {
		say(ctx, svc, a, IOUT_WARN, "cps %ld %ld is dropped: a udp "
		    "builtin answers each source group at most "
		    "udp_reply_rate (10/1s) times instead", v, w);
		return;
	}
	if (v == 0) {
		say(ctx, svc, a, IOUT_WARN, "cps 0 is dropped: no rate here "
		    "is 0");
		return;
	}
	(void)snprintf(buf, sizeof(buf), "%ld/1s", v);
	kv(ctx, svc, "rate", buf);
	say(ctx, svc, a, IOUT_WARN, "cps %ld %ld becomes rate = %ld/1s, "
	    "which differs: past %ld connections a second from everyone "
	    "together xinetd stops the whole service for %ld seconds; "
	    "portmuxd counts each source group apart, refuses only the "
	    "connections of a group past its rate and bans one past %ld a "
	    "second (ban_factor 4), while the others are still served",
	    v, w, v, v, w, v * 4);
}

/* rlimit_as, rlimit_cpu, rlimit_files; the others have no equivalent. */
static void
conv_rlimits(struct ctx *ctx, struct xsvc *svc, bool noprog)
{
	static const struct {
		const char	*x;
		const char	*key;
		char		 unit;	/* 's', 'b' (size) or 'n' */
	} map[] = {
		{ "rlimit_as", "rlimit_as", 'b' },
		{ "rlimit_cpu", "rlimit_cpu", 's' },
		{ "rlimit_files", "rlimit_nofile", 'n' },
		{ "rlimit_data", NULL, 0 },
		{ "rlimit_rss", NULL, 0 },
		{ "rlimit_stack", NULL, 0 },
	};
	struct xattr	*a;
	char		 buf[64], *val, suf;
	size_t		 i, l;
	long		 v;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if ((a = attr(ctx, svc, svc->sec, map[i].x)) == NULL)
			continue;
		if (noprog) {
			say(ctx, svc, a, IOUT_NOTE, "%s is dropped: no "
			    "program runs", map[i].x);
			continue;
		}
		if (map[i].key == NULL) {
			say(ctx, svc, a, IOUT_WARN, "%s has no equivalent: "
			    "rlimit_as bounds the memory of the program",
			    map[i].x);
			continue;
		}
		if (a->n != 1) {
			say(ctx, svc, a, IOUT_WARN, "%s takes one value: "
			    "ignored", map[i].x);
			continue;
		}
		val = a->v[0];
		if (is_word(val, "UNLIMITED")) {
			kv(ctx, svc, map[i].key, "unlimited");
			continue;
		}
		l = strlen(val);
		suf = l > 0 ? (char)toupper((unsigned char)val[l - 1]) : 0;
		if (map[i].unit == 'b' && (suf == 'K' || suf == 'M')) {
			(void)snprintf(buf, sizeof(buf), "%.*s", (int)(l - 1),
			    val);
			if (!parse_count(buf, 1, LONG_MAX, &v))
				goto bad;
			(void)snprintf(buf, sizeof(buf), "%ld%c", v, suf);
		} else {
			if (!parse_count(val, 1, LONG_MAX, &v))
				goto bad;
			(void)snprintf(buf, sizeof(buf), "%ld%s", v,
			    map[i].unit == 's' ? "s" : "");
		}
		kv(ctx, svc, map[i].key, sdup(ctx, buf));
		continue;
bad:
		say(ctx, svc, a, IOUT_WARN, "%s %s is not a positive number "
		    "(K or M for a size): xinetd drops the service, written "
		    "disable = true", map[i].x, val);
		svc->disabled = true;
	}
}

static bool
own_var(const char *name, size_t len)
{
	size_t	 i, l;

	for (i = 0; own_env[i] != NULL; i++) {
		l = strlen(own_env[i]);
		if (own_env[i][l - 1] == '_' || strcmp(own_env[i], "TCP") == 0 ||
		    strcmp(own_env[i], "UDP") == 0 ||
		    strcmp(own_env[i], "UNIX") == 0) {
			if (len >= l && strncmp(name, own_env[i], l) == 0)
				return true;
		} else if (len == l && strncmp(name, own_env[i], l) == 0)
			return true;
	}
	return false;
}

/* env and passenv. */
static void
conv_env(struct ctx *ctx, struct xsvc *svc, bool noprog)
{
	char		**v, **keepv = NULL, **nv;
	size_t		 n, i, nk = 0;
	struct xattr	*a;
	const char	*eq;

	n = attr_list(ctx, svc, "env", &v);
	a = find_attr(svc->sec, "env");
	if (n != (size_t)-1 && noprog && n > 0) {
		if (a != NULL)
			say(ctx, svc, a, IOUT_NOTE, "env is dropped: no "
			    "program runs");
	}
	else if (n != (size_t)-1) {
		for (i = 0; i < n; i++) {
			eq = strchr(v[i], '=');
			if (eq == NULL || eq == v[i]) {
				say(ctx, svc, a, IOUT_WARN, "env %s has no "
				    "NAME=: dropped, as xinetd drops it",
				    v[i]);
				continue;
			}
			if (own_var(v[i], (size_t)(eq - v[i]))) {
				say(ctx, svc, a, IOUT_WARN, "env %.*s is "
				    "dropped: portmuxd sets it for each "
				    "connection itself", (int)(eq - v[i]),
				    v[i]);
				continue;
			}
			if ((nv = grow1(ctx, keepv, nk, sizeof(*nv))) == NULL)
				return;
			keepv = nv;
			keepv[nk++] = v[i];
		}
		if (nk > 0)
			kv_list(ctx, svc, "env", keepv, nk);
	}
	n = attr_list(ctx, svc, "passenv", &v);
	if (n == (size_t)-1 || n == 0)
		return;
	if (noprog) {
		/* Silent when it comes from defaults, as portmuxd's. */
		if (find_attr(svc->sec, "passenv") != NULL)
			say(ctx, svc, find_attr(svc->sec, "passenv"),
			    IOUT_NOTE, "passenv is dropped: no program runs");
		return;
	}
	kv_list(ctx, svc, "passenv", v, n);
}

/* The attributes left: nice, umask, flags, the ones with no equivalent. */
static void
conv_rest(struct ctx *ctx, struct xsvc *svc, bool prog)
{
	static const struct {
		const char	*name;
		enum iout_level	 level;
		const char	*what;
	} dropped[] = {
		{ "access_times", IOUT_WARN, "the service is available at "
		    "all times: portmuxd has no time windows" },
		{ "banner", IOUT_WARN, "portmuxd sends no banner" },
		{ "banner_success", IOUT_WARN, "portmuxd sends no banner" },
		{ "banner_fail", IOUT_WARN, "portmuxd sends nothing to a "
		    "refused client, it closes the connection" },
		{ "max_load", IOUT_WARN, "portmuxd does not look at the "
		    "load average" },
		{ "libwrap", IOUT_WARN, "portmuxd reads no hosts.allow or "
		    "hosts.deny: write their rules as allow and deny" },
		{ "mdns", IOUT_NOTE, "portmuxd registers nothing with mDNS" },
		{ "log_type", IOUT_WARN, "portmuxd's log is global: log and "
		    "log_facility outside sections" },
		{ "id", IOUT_NOTE, NULL },
		{ "enabled", IOUT_WARN, "it belongs in defaults: xinetd "
		    "ignores it here" },
		{ "disabled", IOUT_WARN, "it belongs in defaults: xinetd "
		    "ignores it here" },
	};
	static const char *const handled[] = {
		"disable", "type", "socket_type", "protocol", "wait", "user",
		"group", "server", "server_args", "port", "redirect", "bind",
		"interface", "flags", "v6only", "only_from", "no_access",
		"instances", "per_source", "cps", "rlimit_as", "rlimit_cpu",
		"rlimit_files", "rlimit_data", "rlimit_rss", "rlimit_stack",
		"env", "passenv", "nice", "umask", "groups", "log_on_success",
		"log_on_failure", "rpc_version", "rpc_number", "deny_time",
		NULL
	};
	struct xattr	*a;
	char		 buf[16];
	size_t		 i, j;
	long		 v;
	bool		 userid = false;

	if ((a = attr(ctx, svc, svc->sec, "nice")) != NULL && !prog)
		say(ctx, svc, a, IOUT_NOTE, "nice is dropped: no program "
		    "runs");
	else if (a != NULL) {
		if (a->n == 1 && (parse_count(a->v[0], 0, 19, &v) ||
		    (a->v[0][0] == '-' && parse_count(a->v[0] + 1, 0, 20,
		    &v))))
			kv(ctx, svc, "nice", a->v[0]);
		else
			say(ctx, svc, a, IOUT_WARN, "nice must be from -20 to "
			    "19: dropped");
	}
	if ((a = attr_any(ctx, svc, "umask")) != NULL && !prog) {
		if (!from_defaults(ctx, a))
			say(ctx, svc, a, IOUT_NOTE, "umask is dropped: no "
			    "program runs");
	} else if (a != NULL) {
		char	*end;

		errno = 0;
		v = a->n == 1 ? strtol(a->v[0], &end, 8) : -1;
		if (a->n == 1 && *end == '\0' && errno == 0 && v >= 0 &&
		    v <= 0777) {
			(void)snprintf(buf, sizeof(buf), "%03lo", v);
			kv(ctx, svc, "umask", buf);
		} else
			say(ctx, svc, a, IOUT_WARN, "umask must be octal, "
			    "from 0 to 0777: dropped");
	}
	if ((a = attr_any(ctx, svc, "groups")) != NULL && a->n == 1) {
		if (is_word(a->v[0], "no"))
			say(ctx, svc, a, IOUT_WARN, "groups = no: portmuxd "
			    "gives a program its user's supplementary groups, "
			    "always");
	}
	if ((a = attr_any(ctx, svc, "flags")) != NULL)
		for (i = 0; i < a->n; i++) {
			const char	*f = a->v[i];

			if (is_word(f, "KEEPALIVE"))
				kv(ctx, svc, "keepalive", "true");
			else if (is_word(f, "NODELAY"))
				say(ctx, svc, a, IOUT_WARN, "flags NODELAY "
				    "has no equivalent: portmuxd leaves Nagle "
				    "on");
			else if (is_word(f, "INTERCEPT"))
				say(ctx, svc, a, IOUT_WARN, "flags INTERCEPT "
				    "has no equivalent: a wait program's later "
				    "clients are not checked");
			else if (is_word(f, "IDONLY"))
				say(ctx, svc, a, IOUT_WARN, "flags IDONLY has "
				    "no equivalent: portmuxd asks no ident "
				    "server (RFC 1413)");
			else if (is_word(f, "LABELED"))
				say(ctx, svc, a, IOUT_WARN, "flags LABELED has "
				    "no equivalent: no SELinux context is set");
			else if (is_word(f, "NORETRY") ||
			    is_word(f, "NOLIBWRAP") || is_word(f, "REUSE"))
				say(ctx, svc, a, IOUT_NOTE, "flags %s is what "
				    "portmuxd does anyway", f);
			else if (!is_word(f, "IPv4") && !is_word(f, "IPv6") &&
			    !is_word(f, "SENSOR") && !is_word(f, "NAMEINARGS"))
				say(ctx, svc, a, IOUT_WARN, "flags %s is "
				    "unknown: dropped", f);
		}
	for (j = 0; j < 2; j++) {
		char	**lv;
		size_t	 n = attr_list(ctx, svc, j == 0 ? "log_on_success" :
			    "log_on_failure", &lv);

		for (i = 0; n != (size_t)-1 && i < n; i++)
			if (is_word(lv[i], "USERID"))
				userid = true;
	}
	if ((a = find_attr(svc->sec, "log_on_success")) == NULL)
		a = find_attr(svc->sec, "log_on_failure");
	if (userid)
		say(ctx, svc, a, IOUT_WARN, "USERID is not logged: portmuxd "
		    "asks no ident server (RFC 1413)");
	else if (a != NULL)
		say(ctx, svc, a, IOUT_NOTE, "log_on_success and "
		    "log_on_failure are dropped: portmuxd logs every "
		    "connection, refused ones too, with the peer, the pid, "
		    "the exit status and the duration");
	if ((a = attr(ctx, NULL, svc->sec, "deny_time")) != NULL && a->n == 1)
		say(ctx, svc, a, IOUT_NOTE, "deny_time is dropped: a trap "
		    "bans for the global ban_time; for the same, write "
		    "ban_time = %sm outside sections (FOREVER and NEVER have "
		    "no equivalent)", a->v[0]);
	for (i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++) {
		/* These may come from defaults too (xinetd.conf(5)). */
		if (strncmp(dropped[i].name, "banner", 6) == 0 ||
		    strcmp(dropped[i].name, "max_load") == 0 ||
		    strcmp(dropped[i].name, "mdns") == 0)
			a = attr_any(ctx, svc, dropped[i].name);
		else
			a = attr(ctx, NULL, svc->sec, dropped[i].name);
		if (a == NULL)
			continue;
		if (dropped[i].what != NULL)
			say(ctx, svc, a, dropped[i].level, "%s is dropped: %s",
			    dropped[i].name, dropped[i].what);
	}
	for (i = 0; i < svc->sec->na; i++) {
		a = &svc->sec->a[i];
		if (a->used)
			continue;
		for (j = 0; handled[j] != NULL; j++)
			if (strcmp(a->name, handled[j]) == 0)
				break;
		if (handled[j] != NULL)
			continue;
		say(ctx, svc, a, IOUT_WARN, "%s is no xinetd attribute: "
		    "xinetd ignores it, so is it here", a->name);
		a->used = true;
	}
}

/*
 * Section names: the id (default: the service name), a TCPMUX service
 * its name, since clients ask for it; a name already taken gets -2,
 * -3 and so on (ids such as echo-dgram say the protocol already).
 */
static void
name_all(struct ctx *ctx)
{
	struct xsvc	*s;
	struct xattr	*id;
	const char	*want;
	size_t		 i;
	int		 pass;

	for (pass = 0; pass < 3; pass++)
		for (i = 0; i < ctx->nitems; i++) {
			if ((s = ctx->items[i].svc) == NULL || s->title !=
			    NULL || s->error)
				continue;
			/* TCPMUX first, then enabled, then disabled. */
			if ((pass == 0) != s->mux || (pass == 1 &&
			    s->disabled) || (pass == 2 && !s->disabled))
				continue;
			id = attr(ctx, NULL, s->sec, "id");
			want = s->mux || id == NULL || id->n != 1 ?
			    s->sec->name : id->v[0];
			if (s->mux && (!iout_name_valid(want) ||
			    iout_names_has(&ctx->names, want))) {
				say(ctx, s, NULL, IOUT_ERROR, "TCPMUX name "
				    "'%s' %s", want, iout_name_valid(want) ?
				    "is given twice (names are compared "
				    "without case)" : "cannot be a service "
				    "name here (at most 64 letters, digits "
				    "and -_.+)");
				continue;
			}
			s->title = keep(ctx, iout_names_unique(&ctx->names,
			    want, NULL));
			if (strcmp(s->title, want) != 0)
				say(ctx, s, id, IOUT_NOTE, "named %s: '%s' is "
				    "%s", s->title, want,
				    iout_name_valid(want) ? "taken by another "
				    "service" : "no valid service name here");
		}
}

/*
 * xinetd serves only one of two enabled services on the same protocol,
 * port and address; portmuxd refuses the file.  The later one is
 * written disabled.
 */
static void
check_overlaps(struct ctx *ctx)
{
	struct xsvc	*a, *b;
	size_t		 i, j;

	for (i = 0; i < ctx->nitems; i++) {
		if ((b = ctx->items[i].svc) == NULL || b->error ||
		    b->disabled || b->port == NULL)
			continue;
		for (j = 0; j < i; j++) {
			if ((a = ctx->items[j].svc) == NULL || a->error ||
			    a->disabled || a->port == NULL ||
			    a->udp != b->udp || strcmp(a->port, b->port) != 0 ||
			    a->fam != b->fam)
				continue;
			if (strcmp(a->bind, b->bind) != 0 &&
			    strcmp(a->bind, a->fam == 4 ? "0.0.0.0" : "::") !=
			    0 && strcmp(b->bind, b->fam == 4 ? "0.0.0.0" :
			    "::") != 0)
				continue;
			say(ctx, b, NULL, IOUT_WARN, "binds %s port %s as %s "
			    "(%s:%d) does: xinetd serves only one of them; "
			    "written disable = true", b->udp ? "udp" : "tcp",
			    b->port, a->title != NULL ? a->title : "another",
			    a->sec->file, a->sec->line);
			b->disabled = true;
			kv(ctx, b, "disable", "true");
			break;
		}
	}
}

/* portmuxd refuses a file without a section: say so where it starts. */
static void
no_service(struct ctx *ctx, const char *name)
{
	size_t	 i;

	for (i = 0; i < ctx->nitems; i++)
		if (ctx->items[i].svc != NULL && ctx->items[i].svc->title !=
		    NULL && !ctx->items[i].svc->error)
			return;
	problem(ctx, name, 1, IOUT_WARN, "no service is converted, and "
	    "portmuxd refuses a file without a service section");
}

static void
render_svc(struct iout_buf *b, const struct xsvc *svc)
{
	const struct xsec	*sec = svc->sec;
	char			 lead[32];
	size_t			 i;

	iout_printf(b, "\n# %s:%d: service %s\n", sec->file, sec->line,
	    sec->name);
	for (i = 0; i < svc->nmsgs; i++) {
		(void)snprintf(lead, sizeof(lead), "%s: ",
		    iout_level_name(svc->msgs[i].level));
		iout_wrap(b, "# ", lead, svc->msgs[i].text);
	}
	if (svc->error || svc->title == NULL) {
		iout_add(b, "# (not converted) its attributes were:\n");
		for (i = 0; i < sec->na; i++) {
			size_t	 j;

			iout_printf(b, "#\t%s %s", sec->a[i].name,
			    sec->a[i].op == OP_SET ? "=" : sec->a[i].op ==
			    OP_ADD ? "+=" : "-=");
			for (j = 0; j < sec->a[i].n; j++)
				iout_printf(b, " %s", sec->a[i].v[j]);
			iout_add(b, "\n");
		}
		return;
	}
	iout_add(b, "service ");
	iout_title(b, svc->title);
	iout_add(b, " {\n");
	for (i = 0; i < sec->ncomments; i++)
		iout_comment(b, "\t", sec->comments[i],
		    strlen(sec->comments[i]));
	for (i = 0; i < svc->nkv; i++) {
		size_t	 j;

		/* check_overlaps() may add a second disable. */
		for (j = 0; j < i; j++)
			if (strcmp(svc->kv[j].key, svc->kv[i].key) == 0)
				break;
		if (j < i)
			continue;
		iout_printf(b, "\t%s = %s\n", svc->kv[i].key, svc->kv[i].val);
	}
	iout_add(b, "}\n");
}

static void
render(struct ctx *ctx, struct iout_buf *b, const char *name)
{
	const struct item	*it;
	size_t			 i, j;

	iout_printf(b, "# portmux.conf(5) converted from %s by "
	    "portmuxd-import(8).\n"
	    "# Check it with portmuxd -n -f FILE before you stop xinetd.\n"
	    "#\n"
	    "# Where xinetd.conf does not say, portmuxd's defaults are "
	    "not xinetd's:\n"
	    "# instances 64 and per_source 16 (xinetd: unlimited), no "
	    "rate (xinetd:\n"
	    "# cps 50 10), supplementary groups always (xinetd: groups = "
	    "no), and a\n"
	    "# program gets a clean environment (xinetd passes its own) "
	    "and its\n"
	    "# standard error goes to the log (xinetd: the client).  A "
	    "service without\n"
	    "# bind or flags = IPv6 is IPv4 only, as in xinetd: address "
	    "= {0.0.0.0}.\n\n",
	    name);
	if (ctx->globals.len > 0)
		iout_add(b, ctx->globals.p);
	for (i = 0; i < ctx->nitems; i++) {
		it = &ctx->items[i];
		switch (it->kind) {
		case I_TEXT:
			iout_comment(b, "", it->text, strlen(it->text));
			break;
		case I_FILE:
			iout_printf(b, "\n# ---- %s ----\n", it->text);
			break;
		case I_NOTE:
			iout_wrap(b, "# ", "", it->text);
			break;
		case I_SECTION:
			if (it->sec->defaults) {
				iout_printf(b, "# %s:%d: defaults: folded into "
				    "each service below\n", it->sec->file,
				    it->sec->line);
				for (j = 0; j < it->sec->ncomments; j++)
					iout_comment(b, "", it->sec->comments[j],
					    strlen(it->sec->comments[j]));
				break;
			}
			if (it->svc != NULL)
				render_svc(b, it->svc);
			break;
		}
	}
}
