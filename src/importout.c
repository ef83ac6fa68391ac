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
 * The writer the inetd.conf and xinetd.conf converters share: problems,
 * a text buffer, the quoting of portmux.conf values and section titles,
 * and unique section names.  Out of memory is remembered in the buffer
 * (failed) or the list (nomem), so that a converter checks once, at the
 * end, and returns NULL with errno ENOMEM.
 */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "importout.h"

/* What conf.c accepts in a section title (confval_valid_svcname()). */
static const char name_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.+";

/*
 * What portmux.conf(5) lets a value hold without quotes; conflex.c takes
 * "//" and "/ *" for comments, so those are quoted too.
 */
static const char bare_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    "-_./:@%~[]";

static bool	 grow(struct iout_buf *, size_t);

void
iout_problems_init(struct iout_problems *ps)
{
	memset(ps, 0, sizeof(*ps));
}

void
iout_problems_clear(struct iout_problems *ps)
{
	size_t	 i;

	if (ps == NULL)
		return;
	for (i = 0; i < ps->n; i++) {
		free(ps->v[i].file);
		free(ps->v[i].msg);
	}
	free(ps->v);
	memset(ps, 0, sizeof(*ps));
}

void
iout_problem(struct iout_problems *ps, const char *file, int line,
    enum iout_level level, const char *fmt, ...)
{
	struct iout_problem	*p, *nv;
	va_list			 ap;
	size_t			 nsize;
	int			 r;

	if (ps == NULL)
		return;
	if (ps->n == ps->size) {
		nsize = ps->size == 0 ? 16 : ps->size * 2;
		nv = reallocarray(ps->v, nsize, sizeof(*nv));
		if (nv == NULL) {
			ps->nomem = true;
			return;
		}
		ps->v = nv;
		ps->size = nsize;
	}
	p = &ps->v[ps->n];
	memset(p, 0, sizeof(*p));
	p->line = line;
	p->level = level;
	if (file != NULL && (p->file = strdup(file)) == NULL) {
		ps->nomem = true;
		return;
	}
	va_start(ap, fmt);
	r = vasprintf(&p->msg, fmt, ap);
	va_end(ap);
	if (r == -1) {
		free(p->file);
		ps->nomem = true;
		return;
	}
	ps->n++;
}

/*
 * The problems from index from on in the order of their files (as the
 * nfiles names of files give it, in reading order; NULL: one file) and
 * of their lines, those of one line in the order they came: a converter
 * finds some only when it looks at all lines together.  Insertion sort:
 * stable, and the lists are short.
 */
static size_t
file_rank(const struct iout_problem *p, const char *const *files,
    size_t nfiles)
{
	size_t	 i;

	for (i = 0; i < nfiles; i++)
		if (p->file != NULL && strcmp(p->file, files[i]) == 0)
			return i;
	return nfiles;
}

static bool
before(const struct iout_problem *a, const struct iout_problem *b,
    const char *const *files, size_t nfiles)
{
	size_t	 ra = file_rank(a, files, nfiles), rb = file_rank(b, files,
		    nfiles);

	return ra < rb || (ra == rb && a->line < b->line);
}

void
iout_problems_sort(struct iout_problems *ps, size_t from,
    const char *const *files, size_t nfiles)
{
	struct iout_problem	 t;
	size_t			 i, j;

	for (i = from + 1; i < ps->n; i++) {
		t = ps->v[i];
		for (j = i; j > from && before(&t, &ps->v[j - 1], files,
		    nfiles); j--)
			ps->v[j] = ps->v[j - 1];
		ps->v[j] = t;
	}
}

/* The most serious level in the list; IOUT_NOTE for an empty one. */
enum iout_level
iout_problems_worst(const struct iout_problems *ps)
{
	enum iout_level	 worst = IOUT_NOTE;
	size_t		 i;

	for (i = 0; i < ps->n; i++)
		if (ps->v[i].level > worst)
			worst = ps->v[i].level;
	return worst;
}

const char *
iout_level_name(enum iout_level level)
{
	switch (level) {
	case IOUT_NOTE:
		return "note";
	case IOUT_WARN:
		return "warning";
	case IOUT_ERROR:
		return "error";
	}
	return "?";
}

void
iout_buf_init(struct iout_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
iout_buf_clear(struct iout_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/*
 * The text, which the caller now owns (an empty string for an empty
 * buffer), or NULL with errno ENOMEM if any append failed.
 */
char *
iout_buf_take(struct iout_buf *b)
{
	char	*p;

	if (!b->failed && b->p == NULL)
		(void)grow(b, 1);
	if (b->failed) {
		iout_buf_clear(b);
		errno = ENOMEM;
		return NULL;
	}
	p = b->p;
	memset(b, 0, sizeof(*b));
	return p;
}

static bool
grow(struct iout_buf *b, size_t more)
{
	size_t	 nsize;
	char	*np;

	if (b->failed)
		return false;
	if (b->len + more + 1 <= b->size)
		return true;
	nsize = b->size == 0 ? 256 : b->size;
	while (nsize < b->len + more + 1) {
		if (nsize > SIZE_MAX / 2) {
			b->failed = true;
			return false;
		}
		nsize *= 2;
	}
	if ((np = realloc(b->p, nsize)) == NULL) {
		b->failed = true;
		return false;
	}
	if (b->p == NULL)
		np[0] = '\0';
	b->p = np;
	b->size = nsize;
	return true;
}

void
iout_addn(struct iout_buf *b, const char *s, size_t n)
{
	if (!grow(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
iout_add(struct iout_buf *b, const char *s)
{
	iout_addn(b, s, strlen(s));
}

void
iout_printf(struct iout_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 r;

	if (b->failed)
		return;
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r == -1) {
		b->failed = true;
		return;
	}
	iout_addn(b, s, (size_t)r);
	free(s);
}

/*
 * A value as portmux.conf reads it back unchanged: bare when it can be,
 * else in double quotes, or in single quotes, where nothing is expanded,
 * when it holds a '$' (double quotes expand ${NAME}), a backslash or a
 * double quote.
 */
void
iout_value(struct iout_buf *b, const char *s)
{
	size_t	 n = strlen(s);
	char	 q;

	if (n > 0 && strspn(s, bare_chars) == n && strstr(s, "//") == NULL) {
		iout_addn(b, s, n);
		return;
	}
	q = strpbrk(s, "$\\\"") != NULL ? '\'' : '"';
	iout_addn(b, &q, 1);
	for (; *s != '\0'; s++) {
		if (q == '\'' && (*s == '\'' || *s == '\\'))
			iout_add(b, "\\");
		iout_addn(b, s, 1);
	}
	iout_addn(b, &q, 1);
}

/* A section title, quoted when it holds a '+' as portmux.conf(5) asks. */
void
iout_title(struct iout_buf *b, const char *name)
{
	if (strchr(name, '+') != NULL)
		iout_printf(b, "\"%s\"", name);
	else
		iout_add(b, name);
}

/*
 * text (len bytes, several lines perhaps) as comment lines, each opened
 * by prefix ("# " or "\t# "); a NUL or other control byte, which the
 * configuration reader refuses even in a comment, is shown as '?'.
 */
void
iout_comment(struct iout_buf *b, const char *prefix, const char *text,
    size_t len)
{
	const char	*p = text, *end = text + len, *nl;
	size_t		 n, i;
	char		 c;

	do {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		iout_add(b, prefix);
		for (i = 0; i < n; i++) {
			c = p[i];
			if ((unsigned char)c < 0x20 && c != '\t')
				c = '?';
			iout_addn(b, &c, 1);
		}
		iout_add(b, "\n");
		p = nl != NULL ? nl + 1 : end;
	} while (p < end);
}

/*
 * A comment of prefix, then lead, then text, folded at blanks so that
 * lines stay within 78 columns; the lines after the first are indented
 * by two more blanks.  A word longer than a line is not cut.
 */
void
iout_wrap(struct iout_buf *b, const char *prefix, const char *lead,
    const char *text)
{
	const char	*p = text, *w;
	size_t		 col, n;
	bool		 first = true;

	iout_add(b, prefix);
	iout_add(b, lead);
	col = strlen(prefix) + strlen(lead);
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		for (w = p; *w != '\0' && *w != ' '; w++)
			;
		n = (size_t)(w - p);
		if (!first && col + 1 + n > 78) {
			iout_add(b, "\n");
			iout_add(b, prefix);
			iout_add(b, "  ");
			col = strlen(prefix) + 2;
		} else if (!first) {
			iout_add(b, " ");
			col++;
		}
		iout_addn(b, p, n);
		col += n;
		first = false;
		p = w;
	}
	iout_add(b, "\n");
}

void
iout_names_init(struct iout_names *t)
{
	memset(t, 0, sizeof(*t));
}

void
iout_names_clear(struct iout_names *t)
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* Names are unique without regard to case, as conf.c compares them. */
bool
iout_names_has(const struct iout_names *t, const char *name)
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		if (strcasecmp(t->v[i], name) == 0)
			return true;
	return false;
}

bool
iout_names_add(struct iout_names *t, const char *name)
{
	char	**nv;
	size_t	  nsize;

	if (t->n == t->size) {
		nsize = t->size == 0 ? 16 : t->size * 2;
		if ((nv = reallocarray(t->v, nsize, sizeof(*nv))) == NULL) {
			t->failed = true;
			return false;
		}
		t->v = nv;
		t->size = nsize;
	}
	if ((t->v[t->n] = strdup(name)) == NULL) {
		t->failed = true;
		return false;
	}
	t->n++;
	return true;
}

bool
iout_name_valid(const char *s)
{
	size_t	 n = strlen(s);

	return n > 0 && n <= IOUT_MAX_NAME && strspn(s, name_chars) == n;
}

/*
 * A valid section name made from s: every other byte, a '/' of a unix
 * path included, becomes '-', runs of '-' become one, leading and
 * trailing ones go, and the result is cut to IOUT_MAX_NAME bytes.
 * "service" if nothing is left.  NULL when out of memory.
 */
char *
iout_name_clean(const char *s)
{
	char	*r, *w;

	if ((r = malloc(strlen(s) + sizeof("service"))) == NULL)
		return NULL;
	w = r;
	for (; *s != '\0'; s++) {
		if (strchr(name_chars, *s) != NULL)
			*w++ = *s;
		else if (w > r && w[-1] != '-')
			*w++ = '-';
	}
	while (w > r && w[-1] == '-')
		w--;
	*w = '\0';
	if ((size_t)(w - r) > IOUT_MAX_NAME)
		r[IOUT_MAX_NAME] = '\0';
	if (r[0] == '\0')
		strcpy(r, "service");
	return r;
}

/*
 * A name for a new section, recorded in t: base made valid, or when that
 * is taken base-suffix (suffix may be NULL), then base-2, base-3 and so
 * on, each cut so that it fits.  The caller frees it.  NULL when out of
 * memory.
 */
char *
iout_names_unique(struct iout_names *t, const char *base,
    const char *suffix)
{
	char	*clean, *cand = NULL;
	size_t	 cut;
	int	 i;

	if ((clean = iout_name_clean(base)) == NULL) {
		t->failed = true;
		return NULL;
	}
	for (i = 0; i < 100000; i++) {
		free(cand);
		cand = NULL;
		if (i == 0) {
			cand = strdup(clean);
		} else if (i == 1) {
			if (suffix == NULL)
				continue;
			cut = IOUT_MAX_NAME - 1 - strlen(suffix);
			if (asprintf(&cand, "%.*s-%s", (int)cut, clean,
			    suffix) == -1)
				cand = NULL;
		} else {
			cut = IOUT_MAX_NAME - 1 - (size_t)snprintf(NULL, 0,
			    "%d", i);
			if (asprintf(&cand, "%.*s-%d", (int)cut, clean,
			    i) == -1)
				cand = NULL;
		}
		if (cand == NULL)
			break;
		if (!iout_names_has(t, cand))
			break;
	}
	free(clean);
	if (cand == NULL || !iout_names_add(t, cand)) {
		free(cand);
		t->failed = true;
		return NULL;
	}
	return cand;
}
