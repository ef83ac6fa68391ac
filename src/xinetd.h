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
 * The xinetd.conf converter (xinetd.c), for portmuxd-import.
 *
 * xinetd_convert(name, buf, len, root, &problems) turns an xinetd.conf
 * (text of len bytes, called name) into one portmux.conf: the files that
 * its include and includedir lines name are read in place, as xinetd
 * reads them, and their services written there under a comment naming
 * the file.  root, when not NULL, is put before every absolute path that
 * the files name, for a configuration copied from another host.  The
 * defaults section is folded into each service, so that each section
 * says all that differs from portmuxd's own defaults; a disabled service
 * gets disable = true, so that portmuxd -n still checks it.  A service
 * that cannot be converted is written as comments, with an IOUT_ERROR
 * problem; each attribute that maps with a difference gets an IOUT_WARN
 * one, and a remark an IOUT_NOTE one, each at its file and line.
 *
 * xinetd_convert_file() reads path first.  Both return a NUL-terminated
 * string the caller frees, or NULL with errno set: ENOMEM, or for
 * xinetd_convert_file() why path could not be read (the problems then
 * hold none).  A missing included file is a problem, not a failure.
 */

#ifndef XINETD_H
#define XINETD_H

#include <stddef.h>

#include "importout.h"

/* xinetd.c */
char	*xinetd_convert(const char *, const char *, size_t, const char *,
	    struct iout_problems *);
char	*xinetd_convert_file(const char *, const char *,
	    struct iout_problems *);

#endif /* XINETD_H */
