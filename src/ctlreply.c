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
 * The control socket's answer: lines of key=value pairs in the log's
 * format (a value bare, or quoted with \" \\ \n \r \t \xHH), between a
 * "portmuxd/1 ok|error" line and "end".  Everything is checked: a
 * reply is a daemon's, but a wrong or truncated one must be an error,
 * not a half table.  Printing: aligned columns for people, JSON for
 * scripts, where a canonical decimal is a number and anything else a
 * string.
 */

#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ctlreply.h"

static void *
xrealloc(void *p, size_t n, size_t size)
{
	void	*q;

	if (size != 0 && n > (size_t)-1 / size)
		q = NULL;
	else
		q = realloc(p, n * size);
	if (q == NULL) {
		fprintf(stderr, "portmuxctl: out of memory\n");
		exit(EX_OSERR);
	}
	return q;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One value at s (len bytes left); its length consumed, or -1. */
static long
value_parse(const char *s, size_t len, char **out)
{
	char	*v = xrealloc(NULL, len + 1, 1);
	size_t	 i = 0, o = 0;
	int	 h, l;

	if (len > 0 && s[0] == '"') {
		for (i = 1; i < len && s[i] != '"'; i++) {
			if ((unsigned char)s[i] < 0x20)
				goto bad;
			if (s[i] != '\\') {
				v[o++] = s[i];
				continue;
			}
			if (++i >= len)
				goto bad;
			switch (s[i]) {
			case '"': case '\\':
				v[o++] = s[i];
				break;
			case 'n':
				v[o++] = '\n';
				break;
			case 'r':
				v[o++] = '\r';
				break;
			case 't':
				v[o++] = '\t';
				break;
			case 'x':
				if (i + 2 >= len || (h = hexval(s[i + 1])) ==
				    -1 || (l = hexval(s[i + 2])) == -1 ||
				    h * 16 + l == 0)
					goto bad;
				v[o++] = (char)(h * 16 + l);
				i += 2;
				break;
			default:
				goto bad;
			}
		}
		if (i >= len)
			goto bad;	/* unterminated */
		i++;
	} else {
		for (i = 0; i < len && s[i] != ' '; i++) {
			if ((unsigned char)s[i] <= 0x20 ||
			    (unsigned char)s[i] >= 0x7f || s[i] == '"' ||
			    s[i] == '\\')
				goto bad;
			v[o++] = s[i];
		}
		if (i == 0)
			goto bad;	/* empty: written "" */
	}
	v[o] = '\0';
	*out = v;
	return (long)i;
bad:
	free(v);
	return -1;
}

/* A line of key=value pairs (no LF) into rec; -1 with why in err. */
int
reply_parse_line(const char *s, size_t len, struct record *rec, char *err,
    size_t errlen)
{
	struct field	 f;
	size_t		 i = 0, k;
	long		 n;

	memset(rec, 0, sizeof(*rec));
	if (len == 0) {
		(void)snprintf(err, errlen, "an empty line");
		return -1;
	}
	while (i < len) {
		for (k = i; k < len && ((s[k] >= 'a' && s[k] <= 'z') ||
		    s[k] == '_'); k++)
			;
		if (k == i || k >= len || s[k] != '=') {
			(void)snprintf(err, errlen, "expected key=value at "
			    "'%.*s'", (int)(len - i < 20 ? len - i : 20),
			    s + i);
			goto bad;
		}
		f.key = xrealloc(NULL, k - i + 1, 1);
		memcpy(f.key, s + i, k - i);
		f.key[k - i] = '\0';
		if ((n = value_parse(s + k + 1, len - k - 1, &f.val)) == -1) {
			(void)snprintf(err, errlen, "bad value of %s", f.key);
			free(f.key);
			goto bad;
		}
		rec->f = xrealloc(rec->f, rec->n + 1, sizeof(*rec->f));
		rec->f[rec->n++] = f;
		i = k + 1 + (size_t)n;
		if (i < len) {
			if (s[i] != ' ' || i + 1 == len) {
				(void)snprintf(err, errlen, "expected one "
				    "space after %s", f.key);
				goto bad;
			}
			i++;
		}
	}
	return 0;
bad:
	reply_record_free(rec);
	return -1;
}

/* The whole answer, buf[len] a NUL; -1 with why in err. */
int
reply_parse(const char *buf, size_t len, struct reply *r, char *err,
    size_t errlen)
{
	const char	*p = buf, *nl, *end = buf + len;
	struct record	 rec;
	size_t		 l, lineno = 0;
	bool		 done = false;
	static const char	 ok[] = "portmuxd/1 ok", er[] = "portmuxd/1 error ";

	memset(r, 0, sizeof(*r));
	if (memchr(buf, '\0', len) != NULL) {
		(void)snprintf(err, errlen, "a NUL byte");
		return -1;
	}
	while (p < end) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			(void)snprintf(err, errlen, "line %zu: no end of line "
			    "(truncated)", lineno);
			goto bad;
		}
		l = (size_t)(nl - p);
		if (l + 1 > REPLY_LINE_MAX) {
			(void)snprintf(err, errlen, "line %zu: longer than %d "
			    "bytes", lineno, REPLY_LINE_MAX);
			goto bad;
		}
		if (done) {
			(void)snprintf(err, errlen, "line %zu: after end",
			    lineno);
			goto bad;
		}
		if (lineno == 1) {
			if (l == sizeof(ok) - 1 && memcmp(p, ok, l) == 0)
				r->ok = true;
			else if (l > sizeof(er) - 1 &&
			    memcmp(p, er, sizeof(er) - 1) == 0) {
				if (reply_parse_line(p + sizeof(er) - 1,
				    l - (sizeof(er) - 1), &r->head, err,
				    errlen) == -1)
					goto bad;
				if (reply_get(&r->head, "code") == NULL) {
					(void)snprintf(err, errlen, "an error "
					    "without code=");
					goto bad;
				}
			} else {
				(void)snprintf(err, errlen, "not a portmuxd/1 "
				    "answer: '%.*s'", (int)(l < 40 ? l : 40), p);
				goto bad;
			}
		} else if (l == 3 && memcmp(p, "end", 3) == 0)
			done = true;
		else {
			if (reply_parse_line(p, l, &rec, err, errlen) == -1)
				goto bad;
			r->rec = xrealloc(r->rec, r->nrec + 1,
			    sizeof(*r->rec));
			r->rec[r->nrec++] = rec;
		}
		p = nl + 1;
	}
	if (!done) {
		(void)snprintf(err, errlen, "%s", lineno == 0 ? "empty answer" :
		    "no end line (truncated)");
		goto bad;
	}
	return 0;
bad:
	reply_free(r);
	return -1;
}

const char *
reply_get(const struct record *rec, const char *key)
{
	size_t	 i;

	for (i = 0; i < rec->n; i++)
		if (strcmp(rec->f[i].key, key) == 0)
			return rec->f[i].val;
	return NULL;
}

/* 0, or up to 19 digits without a leading zero: a JSON number. */
bool
reply_is_number(const char *s)
{
	size_t	 n = strspn(s, "0123456789");

	return n > 0 && s[n] == '\0' && n <= 19 && (s[0] != '0' || n == 1);
}

void
reply_json_string(FILE *out, const char *s)
{
	const unsigned char	*p;

	fputc('"', out);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else if (*p >= 0x80)
			fprintf(out, "\\u%04x", *p);	/* bytes, not UTF-8 */
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void
reply_json_record(FILE *out, const struct record *rec)
{
	size_t	 i;

	fputc('{', out);
	for (i = 0; i < rec->n; i++) {
		if (i > 0)
			fputs(", ", out);
		reply_json_string(out, rec->f[i].key);
		fputs(": ", out);
		if (reply_is_number(rec->f[i].val))
			fputs(rec->f[i].val, out);
		else
			reply_json_string(out, rec->f[i].val);
	}
	fputc('}', out);
}

/* Short headers for the wide columns, so that a table fits 80 columns. */
static const char *
header(const char *key)
{
	static const char *const alias[][2] = {
		{ "accepted", "accepted" }, { "refused", "refused" },
		{ "last_refusal", "last" }, { "bytes_in", "in" },
		{ "bytes_out", "out" }, { "remaining_s", "remaining" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (strcmp(key, alias[i][0]) == 0)
			return alias[i][1];
	return key;
}

/*
 * Records as aligned columns (headers: header()): the keys of the first record in order,
 * then any a later one adds; "-" where a record has none; numbers to
 * the right.
 */
void
reply_table(FILE *out, const struct record *rec, size_t n)
{
	const char	**keys = NULL, *v, *h;
	size_t		 *w = NULL, nk = 0, i, j, k, len;
	bool		 *num = NULL;

	for (i = 0; i < n; i++)
		for (j = 0; j < rec[i].n; j++) {
			for (k = 0; k < nk; k++)
				if (strcmp(keys[k], rec[i].f[j].key) == 0)
					break;
			if (k < nk)
				continue;
			keys = xrealloc(keys, nk + 1, sizeof(*keys));
			w = xrealloc(w, nk + 1, sizeof(*w));
			num = xrealloc(num, nk + 1, sizeof(*num));
			keys[nk] = rec[i].f[j].key;
			w[nk] = strlen(header(keys[nk]));
			num[nk] = false;
			nk++;
		}
	for (i = 0; i < n; i++)
		for (k = 0; k < nk; k++) {
			v = reply_get(&rec[i], keys[k]);
			len = v != NULL ? strlen(v) : 1;
			if (len > w[k])
				w[k] = len;
			if (v != NULL && reply_is_number(v))
				num[k] = true;
		}
	/* A column is numeric when its values are numbers or "-". */
	for (i = 0; i < n; i++)
		for (k = 0; k < nk; k++) {
			v = reply_get(&rec[i], keys[k]);
			if (v != NULL && !reply_is_number(v) &&
			    strcmp(v, "-") != 0)
				num[k] = false;
		}
	for (k = 0; k < nk; k++) {
		h = header(keys[k]);
		for (j = 0; h[j] != '\0'; j++)
			fputc(h[j] >= 'a' && h[j] <= 'z' ? h[j] - 'a' + 'A' :
			    h[j], out);
		if (k + 1 < nk)
			fprintf(out, "%*s", (int)(w[k] - j + 2), "");
	}
	fputc('\n', out);
	for (i = 0; i < n; i++) {
		for (k = 0; k < nk; k++) {
			if ((v = reply_get(&rec[i], keys[k])) == NULL)
				v = "-";
			if (num[k])
				fprintf(out, "%*s", (int)w[k], v);
			else if (k + 1 < nk)
				fprintf(out, "%-*s", (int)w[k], v);
			else
				fputs(v, out);
			if (k + 1 < nk)
				fputs("  ", out);
		}
		fputc('\n', out);
	}
	free(keys);
	free(w);
	free(num);
}

static int
print_error(const struct reply *r, bool json, FILE *out, FILE *err)
{
	const char	*code = reply_get(&r->head, "code");
	const char	*msg = reply_get(&r->head, "msg"), *p;
	size_t		 i, np = 0;

	if (msg == NULL)
		msg = code;
	fprintf(err, "portmuxctl: %s\n", msg);
	for (i = 0; i < r->nrec; i++)
		if ((p = reply_get(&r->rec[i], "problem")) != NULL)
			fprintf(err, "%s\n", p);
	if (json) {
		fputs("{\"error\": ", out);
		reply_json_string(out, code);
		fputs(", \"msg\": ", out);
		reply_json_string(out, msg);
		fputs(", \"problems\": [", out);
		for (i = 0; i < r->nrec; i++)
			if ((p = reply_get(&r->rec[i], "problem")) != NULL) {
				if (np++ > 0)
					fputs(", ", out);
				reply_json_string(out, p);
			}
		fputs("]}\n", out);
	}
	return strcmp(code, "denied") == 0 ? EX_NOPERM : 1;
}

/* Print an answer to cmd; the exit code portmuxctl(8) gives it. */
int
reply_print(const struct reply *r, const char *cmd, bool json, FILE *out,
    FILE *err)
{
	static const struct record	 none;
	const struct record		*one = r->nrec > 0 ? &r->rec[0] : &none;
	const char			*v;
	size_t				 i, w = 0;
	bool				 table = strcmp(cmd, "status") == 0 ||
	    strcmp(cmd, "connections") == 0 || strcmp(cmd, "bans") == 0;

	if (!r->ok)
		return print_error(r, json, out, err);
	if (json && table) {
		fputc('[', out);
		for (i = 0; i < r->nrec; i++) {
			fputs(i > 0 ? ",\n " : "", out);
			reply_json_record(out, &r->rec[i]);
		}
		fputs("]\n", out);
	} else if (json) {
		reply_json_record(out, one);
		fputc('\n', out);
	} else if (table) {
		if (r->nrec == 0)
			fputs("(none)\n", out);
		else
			reply_table(out, r->rec, r->nrec);
	} else if (strcmp(cmd, "reload") == 0) {
		v = reply_get(one, "generation");
		fprintf(out, "reloaded: generation %s\n", v != NULL ? v : "?");
	} else if (strcmp(cmd, "reopen") == 0) {
		fprintf(out, "log file reopened\n");
	} else if (strcmp(cmd, "unban") == 0) {
		v = reply_get(one, "removed");
		fprintf(out, "unbanned %s\n", v != NULL ? v : "?");
	} else {
		for (i = 0; i < one->n; i++)
			if (strlen(one->f[i].key) > w)
				w = strlen(one->f[i].key);
		for (i = 0; i < one->n; i++)
			fprintf(out, "%-*s  %s\n", (int)w, one->f[i].key,
			    one->f[i].val);
	}
	return 0;
}

void
reply_record_free(struct record *rec)
{
	size_t	 i;

	for (i = 0; i < rec->n; i++) {
		free(rec->f[i].key);
		free(rec->f[i].val);
	}
	free(rec->f);
	memset(rec, 0, sizeof(*rec));
}

void
reply_free(struct reply *r)
{
	size_t	 i;

	reply_record_free(&r->head);
	for (i = 0; i < r->nrec; i++)
		reply_record_free(&r->rec[i]);
	free(r->rec);
	memset(r, 0, sizeof(*r));
}
