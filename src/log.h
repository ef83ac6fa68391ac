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
 * Logging in the style of OpenBSD ntpd: one line per event, to syslog or
 * to stderr, and fatal()/fatalx() for what the daemon cannot survive.
 */

#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifndef __dead
#define __dead __attribute__((__noreturn__))
#endif

void	log_init(int, int, int);
void	log_sandboxed(void (*)(void *), void *);
void	log_syslog_fd(int);
int	log_syslog_connect(void);
void	log_setlevel(int);
int	log_getlevel(void);
void	log_procname(const char *);
void	log_warn(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_err(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_errx(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	logit(int, const char *, ...) __attribute__((__format__(printf, 2, 3)));
void	vlog(int, const char *, va_list) __attribute__((__format__(printf, 2, 0)));
void	log_conn(int, uint64_t, const char *, const char *, ...)
	    __attribute__((__format__(printf, 4, 5)));
void	log_exit(uint64_t, const char *, long, int, uint64_t, const char *);
__dead void fatal(const char *, ...) __attribute__((__format__(printf, 1, 2)));
__dead void fatalx(const char *, ...) __attribute__((__format__(printf, 1, 2)));
__dead void fatalc(int, const char *, ...)
	    __attribute__((__format__(printf, 2, 3)));
size_t	log_quote(char *, size_t, const void *, size_t);
void	log_capture(void (*)(int, const char *, void *), void *);
int	log_batch(void (*)(void *), void *);
void	log_flush(void);
void	log_tee(int);
void	log_file_mode(int);
int	log_file_open(const char *);

#endif /* LOG_H */
