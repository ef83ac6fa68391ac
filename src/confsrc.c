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
 * The getters of conf.c's conversion: the value of a key for a section
 * being converted, from the section itself or, where it is silent, from
 * the defaults, and the line to blame for it.  Values were checked as
 * they were parsed, so a getter only converts; a bad one falls back to
 * the default, its error reported already.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <confuse.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "portmuxd.h"

struct keyline *
key_find(const struct secinfo *si, const char *key)
{
	size_t	 i;

	for (i = 0; i < si->nkeys; i++)
		if (strcmp(si->keys[i].key, key) == 0)
			return &si->keys[i];
	return NULL;
}

/* Whether sec sets key: a list once assigned, even {}; a scalar unless bad. */
bool
sec_has(cfg_t *sec, const struct secinfo *si, const char *key)
{
	const struct keydef	*k = keydef_find(key);
	const struct keyline	*kl;
	cfg_opt_t		*opt;

	if (sec == NULL || si == NULL || k == NULL)
		return false;
	if (k->kind >= K_LIST) {
		opt = cfg_getopt(sec, key);
		return opt != NULL && (opt->flags & CFGF_MODIFIED) != 0;
	}
	return (kl = key_find(si, key)) != NULL && !kl->bad;
}

bool
exec_pair(const char *key)
{
	return strcmp(key, "server") == 0 || strcmp(key, "builtin") == 0 ||
	    strcmp(key, "args") == 0 || strcmp(key, "redirect") == 0;
}

/*
 * The section a service takes key from: its own, else the defaults.  A
 * service that names its own server or builtin takes none of server,
 * builtin and args from the defaults: together they describe one program,
 * and mixing would give a service both, or another program's argv.
 */
cfg_t *
src_from(struct src *s, const char *key)
{
	if (sec_has(s->sec, s->si, key))
		return s->sec;
	if (s->def != NULL && !(s->own_exec && exec_pair(key)) &&
	    sec_has(s->def, s->di, key))
		return s->def;
	return NULL;
}

/* Whether key was written at all, even with a bad value. */
bool
src_given(struct src *s, const char *key)
{
	return key_find(s->si, key) != NULL || (s->di != NULL &&
	    !(s->own_exec && exec_pair(key)) && key_find(s->di, key) != NULL);
}

const char *
src_str(struct src *s, const char *key)
{
	cfg_t	*from = src_from(s, key);

	return from != NULL ? cfg_getstr(from, key) : NULL;
}

/* The line to blame for key: where it was set, else the section's brace. */
void
src_line(struct src *s, const char *key, const char **file, int *line)
{
	const struct keyline	*kl = NULL;

	if (key != NULL && (kl = key_find(s->si, key)) == NULL &&
	    s->di != NULL && !(s->own_exec && exec_pair(key)))
		kl = key_find(s->di, key);
	if (kl != NULL) {
		*file = kl->file;
		*line = kl->line;
	} else {
		*file = s->si->file;
		*line = s->si->line;
	}
}

void
src_msg(struct src *s, enum level lvl, const char *key, const char *fmt, ...)
{
	const char	*file;
	char		 msg[768];
	va_list		 ap;
	int		 line;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/*
	 * A disabled service may wait for its program to be installed.  At
	 * start and on reload, a problem of the host disables its service
	 * alone, as xinetd does: one missing program must not keep every
	 * other service down.
	 */
	if (lvl == LVL_HOST && s->soft)
		lvl = LVL_WARN;
	else if (lvl == LVL_HOST && s->svc != NULL &&
	    !(s->ctx->flags & CONF_CHECK_ONLY)) {
		lvl = LVL_SVC;
		s->svc->host_bad = true;
	}
	src_line(s, key, &file, &line);
	if (s->svc != NULL)
		conf_report(s->ctx, lvl, file, line, "service '%s': %s",
		    conf_vis(s->svc->name), msg);
	else
		conf_report(s->ctx, lvl, file, line, "%s", msg);
}

/* The getters fall back to def: a bad value has been reported already. */
bool
src_bool(struct src *s, const char *key, bool def)
{
	const char	*v = src_str(s, key);
	bool		 b;

	return v != NULL && confval_parse_bool(v, &b) == 0 ? b : def;
}

long long
src_num(struct src *s, const char *key, long long def)
{
	const struct keydef	*k = keydef_find(key);
	const char		*v = src_str(s, key);
	long long		 n;

	if (v == NULL)
		return def;
	if (k->kind == K_OCTAL)
		return confval_parse_octal(v, k->max, &n) == 0 ? n : def;
	return confval_parse_num(v, k->min, k->max, &n) == 0 ? n : def;
}

uint32_t
src_limit(struct src *s, const char *key, uint32_t def)
{
	const char	*v = src_str(s, key);
	uint32_t	 n;

	return v != NULL && confval_parse_limit(v, &n) == 0 ? n : def;
}

uint64_t
src_size(struct src *s, const char *key, uint64_t def)
{
	const struct keydef	*k = keydef_find(key);
	const char		*v = src_str(s, key);
	uint64_t		 n;

	return v != NULL && conf_parse_size(v, &n) == 0 &&
	    n >= (uint64_t)k->min && n <= (uint64_t)k->max ? n : def;
}

uint32_t
src_dur(struct src *s, const char *key, uint32_t def)
{
	const char	*v = src_str(s, key);
	uint32_t	 ms;

	return v != NULL && conf_parse_duration(v, &ms) == 0 ? ms : def;
}

void
src_rate(struct src *s, const char *key, uint32_t count, uint32_t window,
    struct rate *r)
{
	const char	*v = src_str(s, key);

	if (v == NULL || conf_parse_rate(v, r) == -1) {
		r->count = count;
		r->window_ms = window;
	}
}

int
src_enum(struct src *s, const char *key, int def)
{
	const struct keydef	*k = keydef_find(key);
	const char		*v = src_str(s, key);
	int			 i;

	return v != NULL && (i = confval_parse_enum(k->words, v)) != -1 ? i :
	    def;
}

void
src_rlim(struct src *s, const char *key, struct rlim *rl)
{
	const struct keydef	*k = keydef_find(key);
	const char		*v = src_str(s, key);

	rl->set = false;
	rl->value = 0;
	if (v != NULL && confval_parse_rlim(k->kind, v, &rl->value) == 0)
		rl->set = true;
}

char **
src_strv(struct src *s, const char *key)
{
	cfg_t		*from = src_from(s, key);
	unsigned int	 i, n = from != NULL ? cfg_size(from, key) : 0;
	char		**v;

	v = conf_ecalloc((size_t)n + 1, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = conf_estrdup(cfg_getnstr(from, key, i));
	return v;
}

void
src_acl(struct src *s, const char *key, struct acl *acl)
{
	cfg_t		*from = src_from(s, key);
	unsigned int	 i, n = from != NULL ? cfg_size(from, key) : 0;

	acl->v = NULL;
	acl->n = 0;
	if (n == 0)
		return;
	acl->v = conf_ecalloc(n, sizeof(*acl->v));
	for (i = 0; i < n; i++)
		if (confval_parse_cidr(cfg_getnstr(from, key, i),
		    &acl->v[acl->n]) == 0)
			acl->n++;
}

/* Whether the service's own section, not defaults, sets key. */
bool
own_key(struct src *s, const char *key)
{
	return key_find(s->si, key) != NULL;
}

/*
 * A packet socket and the kernel firewall need root (CAP_NET_RAW,
 * CAP_NET_ADMIN): without it a knock could never open and a ban never
 * reach the kernel, so this is an error, not a warning, unless -n
 * checks a file for another host.
 */
void
needs_root(struct src *s, const char *key, const char *what)
{
	if (s->ctx->as_root)
		return;
	src_msg(s, (s->ctx->flags & CONF_CHECK_ONLY) || s->soft ? LVL_WARN :
	    LVL_ERR, key,
	    "%s needs root, and portmuxd runs as '%s': start it as root",
	    what, conf_vis(s->ctx->uname));
}
