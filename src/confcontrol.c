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
 * control = "/path" | none, control_group: the socket portmuxctl talks
 * to.  Like metrics it becomes a service of its own, named "control", a
 * unix socket with builtin = control, so the monitor binds it (stale
 * socket, reload identity and all) and the engine serves it.  Who may
 * connect is the file's mode: 0600 owned by root, or 0660 with
 * control_group; the engine checks each peer's credentials again for
 * the commands that change state.  As a daemon the socket is there by
 * default; under -F only when the file asks for it, as with the
 * pidfile, so that foreground daemons side by side do not fight over
 * one path.
 */

#include "config.h"

#include <confuse.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "log.h"
#include "portmuxd.h"

#ifndef RUNSTATEDIR
#define RUNSTATEDIR	"/run"
#endif

struct cfg_t *
conf_control(struct loadctx *ctx, cfg_t *root, struct secinfo *gsi)
{
	struct keyline	*kl = key_find(gsi, "control");
	struct keyline	*gl = key_find(gsi, "control_group");
	const char	*v = cfg_getstr(root, "control");
	const char	*grp = cfg_getstr(root, "control_group");
	const char	*file = ctx->mainfile, *owner = NULL;
	char		 ownbuf[128];
	struct secinfo	*si;
	cfg_t		*sec;
	int		 line = 1;

	if ((kl != NULL && kl->bad) || (gl != NULL && gl->bad))
		return NULL;		/* reported by the value check */
	if (kl != NULL) {
		file = kl->file;
		line = kl->line;
	} else if (ctx->flags & CONF_DAEMON)
		v = RUNSTATEDIR "/portmuxd.sock";
	else
		v = "none";
	if (strcasecmp(v, "none") == 0) {
		if (gl != NULL)
			conf_report(ctx, LVL_ERR, gl->file, gl->line,
			    "control_group needs a control socket%s",
			    kl == NULL ? " (under -F, give control = "
			    "\"/path\")" : "");
		return NULL;
	}
	if (cfg_gettsec(root, "service", "control") != NULL) {
		conf_report(ctx, LVL_ERR, file, line, "control: a service is "
		    "named 'control' already; rename it%s", kl == NULL ?
		    ", or set control = none" : "");
		return NULL;
	}
	/* Root keeps the socket; the group, if any, gets read access. */
	if (ctx->as_root) {
		(void)snprintf(ownbuf, sizeof(ownbuf), "root%s%s",
		    grp != NULL ? ":" : "", grp != NULL ? grp : "");
		owner = ownbuf;
	} else if (grp != NULL) {
		(void)snprintf(ownbuf, sizeof(ownbuf), "%s:%s", ctx->uname,
		    grp);
		owner = ownbuf;
	}
	if ((sec = cfg_addtsec(root, "service", "control")) == NULL ||
	    cfg_setstr(sec, "protocol", "unix") != 0 ||
	    cfg_setstr(sec, "builtin", "control") != 0 ||
	    cfg_setstr(sec, "path", v) != 0 ||
	    cfg_setstr(sec, "mode", grp != NULL ? "0660" : "0600") != 0 ||
	    (owner != NULL && cfg_setstr(sec, "owner", owner) != 0))
		fatalx("conf: control section");
	/* Creating the section ran sec_cb(), which noted it already. */
	if (ctx->nsecs > 0 && ctx->secs[ctx->nsecs - 1]->sec == sec)
		si = ctx->secs[ctx->nsecs - 1];
	else
		si = conf_sec_add(ctx, sec, file, line);
	si->file = file;
	si->line = line;
	conf_key_add(si, "protocol", file, line);
	conf_key_add(si, "builtin", file, line);
	conf_key_add(si, "path", file, line);
	conf_key_add(si, "mode", file, line);
	if (owner != NULL)
		conf_key_add(si, "owner", gl != NULL ? gl->file : file,
		    gl != NULL ? gl->line : line);
	return sec;
}
