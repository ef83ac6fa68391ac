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
 * inetd_conf = "/etc/inetd.conf": Debian's packages register their
 * services with update-inetd, which edits that file.  With the key set,
 * every load (the start and each reload) reads it too, converted by
 * inetd_convert() into one service section per line on the same line,
 * so that the sections go through the same validation as the config's
 * own and every problem is reported at the inetd.conf's own line.  The
 * pre-pass (conflex.c) finds the key and splices the text in after the
 * main file.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "inetd.h"
#include "log.h"

/* The problems of the conversion, as the load's own, at their lines. */
static void
report_problems(struct loadctx *ctx, const char *file,
    const struct iout_problems *pr)
{
	size_t	 i;

	for (i = 0; i < pr->n; i++) {
		switch (pr->v[i].level) {
		case IOUT_NOTE:
			break;
		case IOUT_WARN:
			conf_report(ctx, LVL_WARN, file, pr->v[i].line, "%s",
			    pr->v[i].msg);
			break;
		case IOUT_ERROR:
			conf_report(ctx, LVL_ERR, file, pr->v[i].line, "%s",
			    pr->v[i].msg);
			break;
		}
	}
	if (pr->nomem)
		conf_report(ctx, LVL_ERR, file, 1, "out of memory while "
		    "converting it");
}

/*
 * The portmux.conf text of the inetd.conf at path (interned), named by
 * the key at kfile:kline; NULL when there is none to splice in.  A file
 * that does not exist is no error: on a Debian host it appears with the
 * first package that registers a service.
 */
char *
confinetd_text(struct loadctx *ctx, const char *path, const char *kfile,
    int kline, size_t *lenp)
{
	struct iout_problems	 pr;
	struct fileid		 id;
	struct stat		 st;
	char			*buf, *text;
	size_t			 len;

	if (stat(path, &st) == -1 && errno == ENOENT) {
		conf_report(ctx, LVL_WARN, kfile, kline, "inetd_conf '%s' "
		    "does not exist: no services from it", conf_vis(path));
		return NULL;
	}
	if (conflex_read_conf(ctx, path, NULL, 0, &buf, &len, &id) == -1)
		return NULL;
	iout_problems_init(&pr);
	text = inetd_convert(path, buf, len, 0, &pr);
	free(buf);
	if (text == NULL) {
		conf_report(ctx, LVL_ERR, path, 1, "cannot convert it: %s",
		    strerror(errno));
		iout_problems_clear(&pr);
		return NULL;
	}
	report_problems(ctx, path, &pr);
	iout_problems_clear(&pr);
	*lenp = strlen(text);
	if (conflex_check_text(ctx, path, text, *lenp) == -1) {
		free(text);
		return NULL;
	}
	return text;
}
