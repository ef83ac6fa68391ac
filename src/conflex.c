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
 * The pre-pass over the configuration text, which conf.c runs before
 * libconfuse: libconfuse 3.3 cannot be given the raw text.  Its lexer
 * adds two to the line counter for every one-line comment and one for
 * every block comment, so every later message would point at the wrong
 * line; it fails on a comment inside a list; it turns an undefined ${VAR}
 * into an empty string without a word; and its own include() keeps at
 * most ten files open at once, which a glob of a conf.d directory easily
 * exceeds.  So the pre-pass reads every file itself, refusing a file over
 * 1 MiB or a line over 4096 bytes before anything else looks at it,
 * blanks out comments, checks each ${VAR}, splices include()d files in
 * place and keeps a map from the lines of the combined text back to
 * file:line.  libconfuse parses the combined text and every message, its
 * own included, goes through that map (conflex_where()).
 *
 * Globs let a few small files multiply: ten files that each include
 * "*.conf" of their own directory would be read millions of times.  So
 * one load reads at most CONFLEX_MAX_FILES included files and
 * CONF_MAX_TOTAL bytes, a file already on the include chain is a loop,
 * and the pre-pass stops at the first cap it passes or after
 * CONFLEX_MAX_ERRORS errors, so that both the time and the output stay
 * bounded.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

#define CONFLEX_MAX_FILES	256	/* files included by one load */
#define CONFLEX_MAX_ERRORS	50	/* then the pre-pass stops */

/* One file being read by the pre-pass. */
struct lex {
	struct loadctx	*ctx;
	const char	*file;		/* interned */
	char		*dir;		/* for relative includes; NULL: cwd */
	const char	*p;		/* next byte */
	const char	*end;
	int		 line;
	int		 braces;	/* open braces */
	int		 braceline;	/* line of the outermost one */
	bool		 inword;	/* p follows an unquoted word's byte */
};

static void	 out_put(struct loadctx *, char);
static void	 seg_push(struct loadctx *, const char *, int);
static int	 lex_file(struct lex *);
static void	 lex_copy(struct lex *);
static void	 lex_blank(struct lex *);
static bool	 lex_stop(struct lex *);
static bool	 wordc(int);
static int	 lex_string(struct lex *);
static int	 lex_comment(struct lex *);
static int	 lex_var(struct lex *, bool);
static bool	 lex_isinclude(const struct lex *);
static void	 lex_inetd_peek(struct lex *);
static void	 lex_inetd_splice(struct loadctx *);
static int	 lex_include(struct lex *);
static int	 lex_incarg(struct lex *, char *, size_t);
static void	 lex_skipws(struct lex *);
static void	 include_path(struct lex *, const char *, int);
static void	 loop_chain(const struct loadctx *, int, const char *,
		    char *, size_t);
static void	 include_one(struct lex *, const char *, int);
static int	 glob_errfn(const char *, int);
static int	 strcmp_p(const void *, const void *);

/*
 * glob(3)'s error callback has no user pointer, so it leaves the first
 * error here.  Loading is not reentrant (conf.c), so neither is this.
 */
static int		 glob_errno;
static char		 glob_errpath[PATH_MAX];

/*
 * The state of the load's pre-pass, reset by conflex_prep(): the files
 * included so far, whether it stopped, and the names of the files on the
 * include chain (those of ctx->chain), for the message of a loop.
 */
static size_t		 lex_nincluded;
static bool		 lex_stopped;
static const char	*lex_chain[CONF_MAX_DEPTH + 1];

/* File names live as long as the load; messages point into them. */
const char *
conflex_intern(struct loadctx *ctx, const char *name)
{
	ctx->files = conf_ereallocarray(ctx->files, ctx->nfiles + 1,
	    sizeof(*ctx->files));
	return ctx->files[ctx->nfiles++] = conf_estrdup(name);
}

static void
out_put(struct loadctx *ctx, char c)
{
	if (ctx->outlen + 1 >= ctx->outsize) {
		ctx->outsize = ctx->outsize == 0 ? 65536 : ctx->outsize * 2;
		ctx->out = conf_ereallocarray(ctx->out, ctx->outsize, 1);
	}
	ctx->out[ctx->outlen++] = c;
	if (c == '\n')
		ctx->cline++;
}

/* From the current line of the combined text on, lines come from here. */
static void
seg_push(struct loadctx *ctx, const char *file, int line)
{
	ctx->segs = conf_ereallocarray(ctx->segs, ctx->nsegs + 1,
	    sizeof(*ctx->segs));
	ctx->segs[ctx->nsegs].cline = ctx->cline;
	ctx->segs[ctx->nsegs].file = file;
	ctx->segs[ctx->nsegs].line = line;
	ctx->nsegs++;
}

/*
 * The file and line of line cline of the combined text: the last segment
 * starting at or before it.  An empty included file leaves a segment that
 * the next one, starting at the same line, overrides.
 */
void
conflex_where(const struct loadctx *ctx, int cline, const char **file,
    int *line)
{
	size_t	 lo = 0, hi = ctx->nsegs, mid;

	if (cline < 1)
		cline = 1;
	if (ctx->nsegs == 0) {
		*file = ctx->mainfile;
		*line = cline;
		return;
	}
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (ctx->segs[mid].cline <= cline)
			lo = mid;
		else
			hi = mid;
	}
	*file = ctx->segs[lo].file;
	*line = ctx->segs[lo].line + (cline - ctx->segs[lo].cline);
}

/*
 * The reverse: the line of the combined text where line of file is, so
 * that problems can be printed in reading order; 0 if it is in none
 * (the pre-pass stopped before it).
 */
int
conflex_cline(const struct loadctx *ctx, const char *file, int line)
{
	size_t	 i;
	int	 len;

	for (i = 0; i < ctx->nsegs; i++) {
		if (strcmp(ctx->segs[i].file, file) != 0 ||
		    line < ctx->segs[i].line)
			continue;
		len = i + 1 < ctx->nsegs ? ctx->segs[i + 1].cline -
		    ctx->segs[i].cline : INT_MAX;
		if (line - ctx->segs[i].line < len)
			return ctx->segs[i].cline + (line - ctx->segs[i].line);
	}
	return 0;
}

/*
 * A file over CONF_MAX_FILE is refused unread, but one whose first line
 * is already too long (a runaway single line) is named by that line: a
 * bounded pread of CONF_MAX_LINE + 1 bytes tells.
 */
static int
big_file(int fd, const struct stat *st, char *msg, size_t size)
{
	char	 head[CONF_MAX_LINE + 1];
	ssize_t	 n;

	n = pread(fd, head, sizeof(head), 0);
	if (n == (ssize_t)sizeof(head) && memchr(head, '\n', sizeof(head)) ==
	    NULL) {
		(void)snprintf(msg, size, "line too long (over %d bytes; the "
		    "file has %lld)", CONF_MAX_LINE, (long long)st->st_size);
		return 1;
	}
	(void)snprintf(msg, size, "file too big (%lld bytes; at most %d)",
	    (long long)st->st_size, CONF_MAX_FILE);
	return 0;
}

/*
 * Reads a whole file, refusing one over CONF_MAX_FILE: the fstat() comes
 * first, so a huge file costs one system call, and the read stops at the
 * cap for what fstat() cannot size (a pipe).  Problems are reported as
 * "path: msg", or at the include() that named the file.
 */
int
conflex_read_conf(struct loadctx *ctx, const char *path, const char *ifile,
    int iline, char **bufp, size_t *lenp, struct fileid *id)
{
	struct stat	 st;
	char		*buf = NULL, msg[128];
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, mline = 0;
	bool		 total = false;

	msg[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, &st) == -1)
		(void)snprintf(msg, sizeof(msg), "%s", strerror(errno));
	else if (S_ISDIR(st.st_mode))
		(void)snprintf(msg, sizeof(msg), "%s", strerror(EISDIR));
	else if (S_ISREG(st.st_mode) && st.st_size > CONF_MAX_FILE)
		mline = big_file(fd, &st, msg, sizeof(msg));
	else {
		buf = conf_ecalloc(CONF_MAX_FILE + 2, 1);
		while (len <= CONF_MAX_FILE && (n = read(fd, buf + len,
		    CONF_MAX_FILE + 1 - len)) != 0) {
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1) {
				(void)snprintf(msg, sizeof(msg), "%s",
				    strerror(errno));
				break;
			}
			len += (size_t)n;
		}
		if (msg[0] == '\0' && len > CONF_MAX_FILE)
			(void)snprintf(msg, sizeof(msg), "file too big "
			    "(at most %d bytes)", CONF_MAX_FILE);
		else if (msg[0] == '\0' &&
		    (ctx->total += len) > CONF_MAX_TOTAL)
			total = true;
	}
	if (fd != -1)
		(void)close(fd);
	if (total) {
		/* A cap of the whole load: nothing more is read. */
		free(buf);
		conf_report(ctx, LVL_ERR, ifile != NULL ? ifile : path,
		    ifile != NULL ? iline : 1, "include: more than %d bytes "
		    "in all files", CONF_MAX_TOTAL);
		lex_stopped = true;
		return -1;
	}
	if (msg[0] != '\0') {
		free(buf);
		if (ifile == NULL && mline > 0) {
			log_warnx("%s:%d: %s", path, mline, msg);
			ctx->nerr++;
		} else if (ifile == NULL) {
			log_warnx("%s: %s", path, msg);
			ctx->nerr++;
		} else
			conf_report(ctx, LVL_ERR, ifile, iline,
			    "include '%s': %s", conf_vis(path), msg);
		return -1;
	}
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	*bufp = buf;
	*lenp = len;
	return 0;
}

/*
 * Refuses a line over CONF_MAX_LINE and a NUL byte (which would cut the
 * text short in libconfuse) before the lexer sees the file.
 */
int
conflex_check_text(struct loadctx *ctx, const char *file, const char *buf,
    size_t len)
{
	const char	*p = buf, *end = buf + len, *nl;
	size_t		 n;
	int		 line;

	for (line = 1;; line++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if (n > CONF_MAX_LINE) {
			conf_report(ctx, LVL_ERR, file, line, "line too long "
			    "(%zu bytes; at most %d)", n, CONF_MAX_LINE);
			return -1;
		}
		if (memchr(p, '\0', n) != NULL) {
			conf_report(ctx, LVL_ERR, file, line, "NUL byte");
			return -1;
		}
		if (nl == NULL)
			return 0;
		p = nl + 1;
	}
}

/* The directory part of path, for the includes it names; NULL: cwd. */
char *
conflex_dir_of(const char *path)
{
	const char	*slash = strrchr(path, '/');
	char		*dir;

	if (slash == NULL)
		return NULL;
	if (slash == path)
		return conf_estrdup("/");
	dir = conf_estrdup(path);
	dir[slash - path] = '\0';
	return dir;
}

/* The top file or buffer; dir (owned, freed here) NULL for the cwd. */
void
conflex_prep(struct loadctx *ctx, const char *file, const char *buf,
    size_t len, char *dir)
{
	struct lex	 l;

	lex_nincluded = 0;
	lex_stopped = false;
	lex_chain[0] = file;
	memset(&l, 0, sizeof(l));
	l.ctx = ctx;
	l.file = file;
	l.dir = dir;
	l.p = buf;
	l.end = buf + len;
	l.line = 1;
	seg_push(ctx, file, 1);
	if (lex_file(&l) == 0 && !lex_stopped)
		lex_inetd_splice(ctx);
	free(dir);
}

/*
 * inetd_conf = "path" at the top of a file: noted for
 * lex_inetd_splice(), and left in the text for libconfuse, which checks
 * its value like any other.  The pre-pass needs the path before the
 * parse, so it takes only a plain quoted one.
 */
static void
lex_inetd_peek(struct lex *l)
{
	const char	*p = l->p + 10, *v;
	char		 q, path[PATH_MAX];
	size_t		 n;

	if (l->end - l->p < 11 || memcmp(l->p, "inetd_conf", 10) != 0 ||
	    wordc(*p))
		return;
	while (p < l->end && strchr(" \t", *p) != NULL)
		p++;
	if (p == l->end || *p++ != '=')
		return;
	while (p < l->end && strchr(" \t", *p) != NULL)
		p++;
	if (p == l->end || (*p != '"' && *p != '\''))
		return;		/* libconfuse reports what it is */
	q = *p++;
	for (v = p; p < l->end && *p != q && *p != '\n'; p++)
		if (*p == '\\' || *p == '$') {
			conf_report(l->ctx, LVL_ERR, l->file, l->line,
			    "inetd_conf: give the path plainly, without '\\' "
			    "or '$'");
			return;
		}
	n = (size_t)(p - v);
	if (p == l->end || *p != q || n == 0 || n >= sizeof(path))
		return;
	memcpy(path, v, n);
	path[n] = '\0';
	l->ctx->inetd_path = conflex_intern(l->ctx, path);
	l->ctx->inetd_file = l->file;
	l->ctx->inetd_line = l->line;
}

/* After the main file: the sections converted from inetd_conf. */
static void
lex_inetd_splice(struct loadctx *ctx)
{
	struct lex	 l;
	char		*text;
	size_t		 len;

	if (ctx->inetd_path == NULL || ctx->inetd_path[0] != '/')
		return;
	if ((text = confinetd_text(ctx, ctx->inetd_path, ctx->inetd_file,
	    ctx->inetd_line, &len)) == NULL)
		return;
	if (ctx->outlen > 0 && ctx->out[ctx->outlen - 1] != '\n')
		out_put(ctx, '\n');
	memset(&l, 0, sizeof(l));
	l.ctx = ctx;
	l.file = ctx->inetd_path;
	l.p = text;
	l.end = text + len;
	l.line = 1;
	seg_push(ctx, l.file, 1);
	(void)lex_file(&l);
	free(text);
}

/*
 * Has the pre-pass stopped, at a cap or after too many errors?  Past
 * CONFLEX_MAX_ERRORS the load fails anyway and more of the same would
 * only drown the first ones; the last line says so, at the place where
 * reading stopped.
 */
static bool
lex_stop(struct lex *l)
{
	if (lex_stopped)
		return true;
	if (l->ctx->nerr < CONFLEX_MAX_ERRORS)
		return false;
	conf_report(l->ctx, LVL_ERR, l->file, l->line, "too many errors (at "
	    "most %d are reported): the rest of the configuration is not "
	    "read", CONFLEX_MAX_ERRORS);
	lex_stopped = true;
	return true;
}

/*
 * Copies a file to the combined text as libconfuse's lexer would read
 * it, with comments blanked (their newlines kept, so lines still count
 * right) and include() replaced by the included text.  Returns -1 after
 * a problem that leaves the rest of the file unreadable.
 */
static int
lex_file(struct lex *l)
{
	char	 c, n;

	while (l->p < l->end) {
		if (lex_stop(l))
			return -1;
		c = *l->p;
		n = l->p + 1 < l->end ? l->p[1] : '\0';
		if (c == 'i' && !l->inword && l->braces == 0)
			lex_inetd_peek(l);
		if (c == '"' || c == '\'') {
			if (lex_string(l) == -1)
				return -1;
		} else if (c == '#' || (c == '/' && !l->inword &&
		    (n == '/' || n == '*'))) {
			if (lex_comment(l) == -1)
				return -1;
		} else if (c == '$' && n == '{') {
			if (lex_var(l, false) == -1)
				return -1;
		} else if (lex_isinclude(l)) {
			if (lex_include(l) == -1)
				return -1;
		} else {
			/* libconfuse's lexer drops these without a word. */
			if (c == '*' || (c == '+' && n != '='))
				conf_report(l->ctx, LVL_ERR, l->file, l->line,
				    "'%c' must be inside quotes", c);
			if (c == '{' && l->braces++ == 0)
				l->braceline = l->line;
			else if (c == '}' && l->braces > 0)
				l->braces--;
			l->inword = wordc(c);
			lex_copy(l);
		}
	}
	/* Each file must stand alone, or messages would blame another. */
	if (l->braces > 0) {
		conf_report(l->ctx, LVL_ERR, l->file, l->braceline,
		    "'{' is not closed in this file");
		return -1;
	}
	return 0;
}

static void
lex_copy(struct lex *l)
{
	if (*l->p == '\n')
		l->line++;
	out_put(l->ctx, *l->p++);
}

static void
lex_blank(struct lex *l)
{
	if (*l->p == '\n') {
		l->line++;
		out_put(l->ctx, '\n');
	} else
		out_put(l->ctx, ' ');
	l->p++;
}

/* A byte libconfuse's lexer takes into an unquoted word. */
static bool
wordc(int c)
{
	return c != '\0' && strchr(" \t\r\n#\"'={}()+,*", c) == NULL;
}

/* A quoted string; only "..." expands ${VAR}, as in libconfuse. */
static int
lex_string(struct lex *l)
{
	char	 q = *l->p;
	int	 line = l->line;

	lex_copy(l);
	while (l->p < l->end) {
		if (*l->p == '\\' && l->p + 1 < l->end) {
			lex_copy(l);
			lex_copy(l);
		} else if (*l->p == q) {
			lex_copy(l);
			l->inword = false;
			return 0;
		} else if (q == '"' && *l->p == '$' && l->p + 1 < l->end &&
		    l->p[1] == '{') {
			if (lex_var(l, true) == -1)
				return -1;
		} else
			lex_copy(l);
	}
	conf_report(l->ctx, LVL_ERR, l->file, line, "unterminated string");
	return -1;
}

/* #, // and C comments, as whitespace. */
static int
lex_comment(struct lex *l)
{
	int	 line = l->line;

	if (*l->p != '/' || l->p[1] != '*') {
		while (l->p < l->end && *l->p != '\n')
			lex_blank(l);
		l->inword = false;
		return 0;
	}
	lex_blank(l);
	lex_blank(l);
	while (l->p < l->end) {
		if (*l->p == '*' && l->p + 1 < l->end && l->p[1] == '/') {
			lex_blank(l);
			lex_blank(l);
			l->inword = false;
			return 0;
		}
		lex_blank(l);
	}
	conf_report(l->ctx, LVL_ERR, l->file, line, "unterminated comment");
	return -1;
}

/*
 * ${NAME} or ${NAME:-default}, which libconfuse expands: an undefined
 * NAME without a default is an error here, where libconfuse would
 * silently substitute nothing.  Unquoted, libconfuse only expands a
 * reference that is a whole word: "a${X}" or "${X}b" would be misread.
 */
static int
lex_var(struct lex *l, bool quoted)
{
	const char	*s = l->p + 2, *e, *dflt;
	char		 name[256];
	size_t		 n;

	for (e = s; e < l->end && *e != '}' && *e != '\n'; e++)
		;
	if (e == l->end || *e != '}') {
		conf_report(l->ctx, LVL_ERR, l->file, l->line,
		    "unterminated '${'");
		return -1;
	}
	dflt = memmem(s, (size_t)(e - s), ":-", 2);
	n = (size_t)((dflt != NULL ? dflt : e) - s);
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, s, n);
	name[n] = '\0';
	if (dflt == NULL && getenv(name) == NULL)
		conf_report(l->ctx, LVL_ERR, l->file, l->line,
		    "undefined variable '%s'", conf_vis(name));
	if (!quoted && (l->inword || (e + 1 < l->end && wordc(e[1]))))
		conf_report(l->ctx, LVL_ERR, l->file, l->line, "'${%s}' must "
		    "be a whole value or inside double quotes",
		    conf_vis(name));
	while (l->p <= e)
		lex_copy(l);
	l->inword = false;
	return 0;
}

/* include, at the top level and at the start of a word, then "(". */
static bool
lex_isinclude(const struct lex *l)
{
	const char	*p = l->p + 7;

	if (l->inword || l->braces > 0 || l->end - l->p < 8 ||
	    memcmp(l->p, "include", 7) != 0 || wordc(*p))
		return false;
	while (p < l->end && strchr(" \t\r\n", *p) != NULL)
		p++;
	return p < l->end && *p == '(';
}

/*
 * include("path"), blanked in place; the included text follows on lines
 * of its own, and the rest of this line after them, so each keeps its
 * own place in the line map.
 */
static int
lex_include(struct lex *l)
{
	char	 path[PATH_MAX];
	int	 line = l->line, i, rc;

	for (i = 0; i < 7; i++)
		lex_blank(l);
	lex_skipws(l);
	lex_blank(l);			/* ( */
	lex_skipws(l);
	if ((rc = lex_incarg(l, path, sizeof(path))) == -1)
		return -1;
	lex_skipws(l);
	if (l->p == l->end || *l->p != ')') {
		conf_report(l->ctx, LVL_ERR, l->file, line,
		    "include takes one path: include(\"path\")");
		return -1;
	}
	lex_blank(l);
	out_put(l->ctx, '\n');
	if (rc == 0)
		include_path(l, path, line);
	if (l->ctx->outlen > 0 && l->ctx->out[l->ctx->outlen - 1] != '\n')
		out_put(l->ctx, '\n');
	seg_push(l->ctx, l->file, l->line);
	l->inword = false;
	return 0;
}

static void
lex_skipws(struct lex *l)
{
	while (l->p < l->end && strchr(" \t\r\n", *l->p) != NULL)
		lex_blank(l);
}

/*
 * The path of an include(): quoted ("..." with \ escapes and ${VAR}, or
 * '...' taken as is) or a bare word, which here may hold a glob's '*'.
 * Returns 1 after an undefined variable: the include is skipped but the
 * rest of the file is still read, for its own problems.
 */
static int
lex_incarg(struct lex *l, char *buf, size_t size)
{
	const char	*v, *e, *dflt;
	char		 q = 0, name[256];
	size_t		 n = 0, vl;
	int		 rc = 0;

	if (l->p < l->end && (*l->p == '"' || *l->p == '\'')) {
		q = *l->p;
		lex_blank(l);
	}
	while (l->p < l->end && n + 1 < size) {
		if (q != 0 ? *l->p == q : strchr(" \t\r\n)\"'#,", *l->p) !=
		    NULL)
			break;
		if (*l->p == '\n')
			break;
		/* As libconfuse: '...' knows only \\ and \', "..." any \. */
		if (*l->p == '\\' && l->p + 1 < l->end && (q == '"' ||
		    (q == '\'' && (l->p[1] == '\\' || l->p[1] == '\'')))) {
			lex_blank(l);
			buf[n++] = *l->p;
			lex_blank(l);
		} else if (*l->p == '$' && q != '\'' && l->p + 1 < l->end &&
		    l->p[1] == '{' && (e = memchr(l->p, '}',
		    (size_t)(l->end - l->p))) != NULL) {
			dflt = memmem(l->p + 2, (size_t)(e - l->p - 2), ":-",
			    2);
			vl = (size_t)((dflt != NULL ? dflt : e) - l->p - 2);
			vl = vl < sizeof(name) ? vl : sizeof(name) - 1;
			memcpy(name, l->p + 2, vl);
			name[vl] = '\0';
			if ((v = getenv(name)) == NULL && dflt != NULL) {
				vl = (size_t)(e - dflt - 2);
				(void)snprintf(name, sizeof(name), "%.*s",
				    (int)vl, dflt + 2);
				v = name;
			}
			if (v == NULL) {
				conf_report(l->ctx, LVL_ERR, l->file, l->line,
				    "undefined variable '%s'", conf_vis(name));
				v = "";
				rc = 1;
			}
			for (; *v != '\0' && n + 1 < size; v++)
				buf[n++] = *v;
			while (l->p <= e)
				lex_blank(l);
		} else {
			buf[n++] = *l->p;
			lex_blank(l);
		}
	}
	buf[n] = '\0';
	if (q != 0 && (l->p == l->end || *l->p != q)) {
		conf_report(l->ctx, LVL_ERR, l->file, l->line,
		    "unterminated include path");
		return -1;
	}
	if (q != 0)
		lex_blank(l);
	if (rc == 1)
		return 1;
	if (n == 0 || n + 1 >= size) {
		conf_report(l->ctx, LVL_ERR, l->file, l->line,
		    n == 0 ? "include: empty path" : "include: path too long");
		return -1;
	}
	return rc;
}

/*
 * A relative path is taken from the including file's directory, so that
 * a conf.d works wherever the tree is installed.  A glob is read in the
 * byte order of the names, whatever the locale.
 */
static void
include_path(struct lex *l, const char *arg, int line)
{
	char	 path[PATH_MAX];
	glob_t	 g;
	size_t	 i;
	int	 rc;

	if (arg[0] == '/' || l->dir == NULL)
		rc = snprintf(path, sizeof(path), "%s", arg);
	else
		rc = snprintf(path, sizeof(path), "%s/%s", l->dir, arg);
	if (rc < 0 || (size_t)rc >= sizeof(path)) {
		conf_report(l->ctx, LVL_ERR, l->file, line,
		    "include: path too long");
		return;
	}
	if (l->ctx->depth >= CONF_MAX_DEPTH) {
		conf_report(l->ctx, LVL_ERR, l->file, line, "include '%s': "
		    "includes nested too deeply (at most %d)", conf_vis(path),
		    CONF_MAX_DEPTH);
		return;
	}
	if (strpbrk(arg, "*?[") == NULL) {
		include_one(l, path, line);
		return;
	}
	glob_errno = 0;
	rc = glob(path, GLOB_NOSORT, glob_errfn, &g);
	if (rc == GLOB_NOSPACE)
		fatalx("conf: glob: out of memory");
	if (glob_errno != 0)
		conf_report(l->ctx, LVL_ERR, l->file, line,
		    "include '%s': %s: %s", conf_vis(path),
		    conf_vis(glob_errpath), strerror(glob_errno));
	else if (rc == 0) {
		qsort(g.gl_pathv, g.gl_pathc, sizeof(char *), strcmp_p);
		for (i = 0; i < g.gl_pathc && !lex_stop(l); i++)
			include_one(l, g.gl_pathv[i], line);
	}
	if (rc == 0)
		globfree(&g);
}

static int
strcmp_p(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A directory the glob cannot read is an error; a missing one, no match. */
static int
glob_errfn(const char *path, int err)
{
	if (err == ENOENT || err == ENOTDIR)
		return 0;
	if (glob_errno == 0) {
		glob_errno = err;
		(void)snprintf(glob_errpath, sizeof(glob_errpath), "%s", path);
	}
	return 0;
}

/*
 * The loop, for its message: the files of the include chain from the
 * one included again (chain entry from) down to path, its repetition,
 * as "a.conf -> b.conf -> a.conf".  Long names are cut to their last
 * bytes and a chain too long for buf ends in "...", since one message
 * holds at most 1024 bytes.
 */
static void
loop_chain(const struct loadctx *ctx, int from, const char *path, char *buf,
    size_t size)
{
	const char	*name;
	size_t		 len = 0, nl;
	int		 i, r;

	buf[0] = '\0';
	for (i = from; i <= ctx->depth + 1; i++) {
		name = i <= ctx->depth ? lex_chain[i] : path;
		if (name == NULL)
			name = "?";
		nl = strlen(name);
		r = snprintf(buf + len, size - len, "%s%s%s", i > from ?
		    " -> " : "", nl > 60 ? "..." : "", nl > 60 ? name + nl -
		    57 : name);
		if (r < 0 || (size_t)r >= size - len) {
			(void)snprintf(buf + (size > 4 ? size - 4 : 0),
			    size > 4 ? 4 : size, "...");
			return;
		}
		len += (size_t)r;
	}
}

static void
include_one(struct lex *parent, const char *path, int line)
{
	struct loadctx	*ctx = parent->ctx;
	struct lex	 l;
	struct fileid	 id;
	char		*buf, chain[768];
	size_t		 len;
	int		 i;

	/* Counted before it is opened: the cap bounds the work too. */
	if (++lex_nincluded > CONFLEX_MAX_FILES) {
		conf_report(ctx, LVL_ERR, parent->file, line, "include: more "
		    "than %d files", CONFLEX_MAX_FILES);
		lex_stopped = true;
		return;
	}
	if (conflex_read_conf(ctx, path, parent->file, line, &buf, &len,
	    &id) == -1)
		return;
	for (i = 0; i <= ctx->depth; i++)
		if (ctx->chain[i].dev == id.dev &&
		    ctx->chain[i].ino == id.ino) {
			loop_chain(ctx, i, path, chain, sizeof(chain));
			conf_report(ctx, LVL_ERR, parent->file, line,
			    "include '%s': include loop: %s", conf_vis(path),
			    chain);
			free(buf);
			return;
		}
	memset(&l, 0, sizeof(l));
	l.ctx = ctx;
	l.file = conflex_intern(ctx, path);
	if (conflex_check_text(ctx, l.file, buf, len) == 0) {
		l.dir = conflex_dir_of(path);
		l.p = buf;
		l.end = buf + len;
		l.line = 1;
		ctx->chain[++ctx->depth] = id;
		lex_chain[ctx->depth] = l.file;
		seg_push(ctx, l.file, 1);
		(void)lex_file(&l);
		ctx->depth--;
		free(l.dir);
	}
	free(buf);
}
