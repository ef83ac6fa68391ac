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
 * One event per line, to syslog or stderr.  The line format is the
 * contract of DESIGN.md ("conn=ID service=NAME action=..."); log_conn()
 * writes that prefix, log_quote() makes bytes from the network safe to
 * print.  Every function leaves errno as it found it.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Process-wide by nature: syslog(3) itself is. */
static int	 log_stderr = 1;
static int	 log_level = LOG_INFO;
/*
 * The caller's stderr while a daemon starts (log_tee()): warnings and
 * errors are copied there until the daemon runs, so that a failed start
 * is never reported to syslog alone.
 */
static int	 tee_fd = -1;

/* Copy warning and error lines to fd (owned from now on) until -1. */
void
log_tee(int fd)
{
	if (tee_fd != -1)
		(void)close(tee_fd);
	tee_fd = fd;
}

void
log_init(int to_stderr, int level, int facility)
{
	log_stderr = to_stderr;
	log_level = level;
	if (!to_stderr)
		openlog("portmuxd", LOG_PID | LOG_NDELAY, facility);
	tzset();
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

/*
 * The engine may batch its stderr lines (log_batch()): a burst of events
 * costs one write() instead of one each.  Flushed in pieces of at most
 * PIPE_BUF bytes cut at line ends, so that lines of the monitor and the
 * engine never mix even on a pipe.
 */
#define BATCH_SIZE	65536

static char	*batch;
static size_t	 batch_len;
static void	(*batch_hook)(void *);
static void	*batch_arg;

void
log_flush(void)
{
	size_t	 off = 0, n;
	ssize_t	 w;

	while (off < batch_len) {
		n = batch_len - off;
		if (n > PIPE_BUF) {
			/* Cut after the last newline within PIPE_BUF. */
			n = PIPE_BUF;
			while (n > 1 && batch[off + n - 1] != '\n')
				n--;
		}
		w = write(STDERR_FILENO, batch + off, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	batch_len = 0;
}

/* Batch stderr lines; hook(arg) is called when the batch starts. */
int
log_batch(void (*hook)(void *), void *arg)
{
	if (!log_stderr)
		return 0;
	if (batch == NULL && (batch = malloc(BATCH_SIZE)) == NULL)
		return -1;
	batch_hook = hook;
	batch_arg = arg;
	return atexit(log_flush);
}

static void
log_emit(int pri, char *buf, size_t size)
{
	size_t	 n = strlen(buf);

	if (tee_fd != -1 && pri <= LOG_WARNING) {
		char	 line[8192];
		int	 len;

		len = snprintf(line, sizeof(line), "portmuxd: %s\n", buf);
		if (len > 0)
			(void)write(tee_fd, line, (size_t)len < sizeof(line) ?
			    (size_t)len : sizeof(line) - 1);
	}
	if (!log_stderr) {
		syslog(pri, "%s", buf);
		return;
	}
	if (n >= size - 1)
		n = size - 2;
	buf[n++] = '\n';
	if (batch == NULL) {
		/* One write per line, so the processes never interleave. */
		(void)write(STDERR_FILENO, buf, n);
		return;
	}
	if (batch_len + n > BATCH_SIZE)
		log_flush();
	memcpy(batch + batch_len, buf, n);
	if (batch_len == 0 && batch_hook != NULL)
		batch_hook(batch_arg);
	batch_len += n;
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	int	 saved_errno = errno;
	char	 buf[8192];

	if (pri > log_level)
		return;
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	log_emit(pri, buf, sizeof(buf));
	errno = saved_errno;
}

void
logit(int pri, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	int	 saved_errno = errno;
	char	 buf[4096];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	logit(LOG_WARNING, "%s error=\"%s\"", buf, strerror(saved_errno));
	errno = saved_errno;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

/* Like log_warn(), at error level: for what stops a start or a reload. */
void
log_err(const char *fmt, ...)
{
	int	 saved_errno = errno;
	char	 buf[4096];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	logit(LOG_ERR, "%s error=\"%s\"", buf, strerror(saved_errno));
	errno = saved_errno;
}

void
log_errx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
log_conn(int pri, uint64_t id, const char *service, const char *fmt, ...)
{
	int	 saved_errno = errno;
	char	 buf[8192];
	int	 n;
	va_list	 ap;

	if (pri > log_level)
		return;
	/* The prefix and the event in one buffer, formatted once. */
	if (id != 0)
		n = snprintf(buf, sizeof(buf), "conn=%llu service=%s ",
		    (unsigned long long)id, service);
	else
		n = snprintf(buf, sizeof(buf), "service=%s ", service);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	va_start(ap, fmt);
	(void)vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	log_emit(pri, buf, sizeof(buf));
	errno = saved_errno;
}

/*
 * The exit line of a child, from its wait status: logged by the engine,
 * or by the monitor when no engine is there to tell.  extra: more keys
 * (accounting), "" for none.
 */
void
log_exit(uint64_t id, const char *service, long pid, int status,
    uint64_t duration_ms, const char *extra)
{
	log_conn(LOG_INFO, id, service, "action=exit pid=%ld %s=%d "
	    "duration_ms=%llu%s", pid, WIFSIGNALED(status) ? "signal" :
	    "status", WIFSIGNALED(status) ? WTERMSIG(status) :
	    WEXITSTATUS(status), (unsigned long long)duration_ms, extra);
}

static __dead void
vfatalc(int code, int with_errno, const char *fmt, va_list ap)
{
	int	 saved_errno = errno;
	char	 buf[4096];

	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	if (with_errno)
		logit(LOG_CRIT, "action=fatal msg=\"%s\" error=\"%s\"", buf,
		    strerror(saved_errno));
	else
		logit(LOG_CRIT, "action=fatal msg=\"%s\"", buf);
	log_flush();
	exit(code);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vfatalc(EX_OSERR, 1, fmt, ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vfatalc(EX_OSERR, 0, fmt, ap);
}

/* Like fatalx() with the exit code of DESIGN.md (71, 78, ...). */
void
fatalc(int code, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vfatalc(code, 0, fmt, ap);
}

/*
 * Quote len bytes of src into dst as a double-quoted string, escaping
 * quotes, backslashes and every non-printable byte vis(3)-style (\n, \t,
 * \r, \xHH).  Truncates on a character boundary and always terminates.
 * Returns the length written, quotes included.
 */
size_t
log_quote(char *dst, size_t size, const void *src, size_t len)
{
	const unsigned char	*s = src;
	char			 esc[5];
	size_t			 o = 0, i, n;

	if (size < 3) {
		if (size > 0)
			dst[0] = '\0';
		return 0;
	}
	dst[o++] = '"';
	for (i = 0; i < len; i++) {
		unsigned char	 c = s[i];

		if (c == '"' || c == '\\')
			n = (size_t)snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c == '\n')
			n = (size_t)snprintf(esc, sizeof(esc), "\\n");
		else if (c == '\r')
			n = (size_t)snprintf(esc, sizeof(esc), "\\r");
		else if (c == '\t')
			n = (size_t)snprintf(esc, sizeof(esc), "\\t");
		else if (c < 0x20 || c >= 0x7f)
			n = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", c);
		else {
			esc[0] = (char)c;
			n = 1;
		}
		if (o + n + 2 > size)
			break;
		memcpy(dst + o, esc, n);
		o += n;
	}
	dst[o++] = '"';
	dst[o] = '\0';
	return o;
}
