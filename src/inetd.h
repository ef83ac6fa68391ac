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
 * The inetd.conf converter (inetd.c), for portmuxd-import and for the
 * daemon, which can read an inetd.conf as its configuration.
 *
 * inetd_convert(name, buf, len, 0, &problems) turns the len bytes of an
 * inetd.conf (OpenBSD, Debian's openbsd-inetd or GNU inetutils syntax)
 * into portmux.conf text with exactly one output line for each input
 * line, so that conf_load_buf() on the result reports every problem at
 * the line of the inetd.conf it comes from:
 *
 *   - a blank line stays blank, a comment stays the same comment;
 *   - a service line becomes one `service NAME { ... }' section on that
 *     line, and the lines that continue it (BSD inetd: a line starting
 *     with a blank) become comments;
 *   - a line that sets the default address of the lines below
 *     (`127.0.0.1:') becomes a comment and applies to them;
 *   - a line that cannot be mapped (RPC, a host name, ...) becomes a
 *     comment, with an IOUT_ERROR problem at its line.
 *
 * Every line that maps with a difference gets an IOUT_WARN problem, and
 * a remark an IOUT_NOTE one, in the order of the lines; problems carry
 * name as their file.  No global state: the caller owns buf, the result
 * and the problem list.  An output line is longer than its input line:
 * apply CONF_MAX_LINE to the result, or to the input with some margin.
 *
 * INETD_PRETTY writes what portmuxd-import prints instead: a header,
 * multi-line sections under a comment with the original line and its
 * problems, and each commented-out service line (`#<off># ...' as
 * Debian's update-inetd writes it, or `#telnet stream ...') followed by
 * its section, commented out too.
 *
 * The result is a NUL-terminated string the caller frees, or NULL with
 * errno set (ENOMEM).
 */

#ifndef INETD_H
#define INETD_H

#include <stddef.h>

#include "importout.h"

#define INETD_PRETTY	0x01

/* inetd.c */
char	*inetd_convert(const char *, const char *, size_t, int,
	    struct iout_problems *);

#endif /* INETD_H */
