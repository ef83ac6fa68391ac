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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <paths.h>
#include <stdbool.h>
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
 * What starts each stderr line: nothing on a terminal; the priority as
 * "<N>" when stderr is systemd's journal stream, so that the journal
 * keeps warnings and errors apart; a time stamp, the host and the
 * process for the daemon's own log file (log = file), as rsyslog's file
 * format writes them, so that tools reading syslog files read it too.
 */
enum line_prefix { PREFIX_NONE, PREFIX_JOURNAL, PREFIX_FILE };
#define PREFIX_MAX	(64 + HOST_NAME_MAX)
static enum line_prefix	 log_prefix_kind;
static char		 log_host[HOST_NAME_MAX + 1];
static bool		 stderr_is_journal(void);
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

/*
 * syslog(3) loses every line without a word when nothing listens on
 * /dev/log, so the socket is ours: while it cannot be reached, lines go
 * to the console (O_NONBLOCK: a slow serial console must not stall the
 * engine), and a reconnect is tried at most every SYSLOG_RETRY seconds.
 * The engine inherits the socket and the console through fork; it
 * retries as its own user, which a real /dev/log (mode 0666) allows.
 */
#define SYSLOG_RETRY	2

static int	 sys_fd = -1;
static int	 sys_type = SOCK_DGRAM;
static int	 sys_facility = LOG_DAEMON;
static int	 con_fd = -1;
static time_t	 sys_retry_at;
/* Sandboxed, the socket is asked for instead of made (log_sandboxed()). */
static void	(*sys_ask)(void *);
static void	*sys_ask_arg;
static unsigned long sys_lost;		/* lines not sent to syslog */

static time_t
mono_s(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return ts.tv_sec;
}

/*
 * A socket connected to _PATH_LOG, datagram first, as syslog(3) does,
 * its type in *type; or -1.
 */
static int
syslog_open(int *type)
{
	struct sockaddr_un	 sun;
	int			 fd, types[] = { SOCK_DGRAM, SOCK_STREAM };
	size_t			 i;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", _PATH_LOG);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if ((fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0)) == -1)
			return -1;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			*type = types[i];
			return fd;
		}
		(void)close(fd);
		if (errno != EPROTOTYPE)
			return -1;
	}
	return -1;
}

/* Our own syslog socket, connected again; 0 or -1. */
static int
sys_connect(void)
{
	int	 fd;

	if ((fd = syslog_open(&sys_type)) == -1)
		return -1;
	sys_fd = fd;
	return 0;
}

static void
con_write(const char *buf)
{
	char	 line[8192];
	int	 n;

	if (con_fd == -1)
		return;
	n = snprintf(line, sizeof(line), "portmuxd[%ld]: %s\r\n",
	    (long)getpid(), buf);
	if (n > 0)
		(void)write(con_fd, line, (size_t)n < sizeof(line) ?
		    (size_t)n : sizeof(line) - 1);
}

/* A socket connected to _PATH_LOG, for a sandboxed engine; or -1. */
int
log_syslog_connect(void)
{
	int	 type;

	return syslog_open(&type);
}

/* One line to the syslog socket, RFC 3164 framed as syslog(3) does. */
static int
sys_send(int pri, const char *buf)
{
	char		 line[8192 + 64], stamp[32];
	struct tm	 tm;
	time_t		 now = time(NULL);
	int		 n;
	ssize_t		 w;

	if (localtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm) == 0)
		stamp[0] = '\0';
	n = snprintf(line, sizeof(line), "<%d>%s portmuxd[%ld]: %s",
	    sys_facility | LOG_PRI(pri), stamp, (long)getpid(), buf);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	/* A stream socket takes the NUL as the end of the message. */
	if (sys_type == SOCK_STREAM)
		n++;
	do
		w = send(sys_fd, line, (size_t)n, MSG_NOSIGNAL);
	while (w == -1 && errno == EINTR);
	return w == n ? 0 : -1;
}

static void
sys_down(const char *why, int err)
{
	char	 buf[512];

	(void)snprintf(buf, sizeof(buf), "action=warn path=%s msg=\"%s, "
	    "logging to %s\" error=\"%s\"", _PATH_LOG, why, con_fd != -1 ?
	    "/dev/console" : "nowhere", strerror(err));
	con_write(buf);
	sys_retry_at = mono_s() + SYSLOG_RETRY;
}

static void
sys_back(void)
{
	char	 back[256];

	(void)snprintf(back, sizeof(back), "action=syslog path=%s "
	    "msg=\"syslog is reachable again\" lost=%lu", _PATH_LOG,
	    sys_lost);
	if (sys_send(LOG_INFO, back) == 0)
		sys_lost = 0;
}

/* A line for syslog: sent, or to the console while syslog is away. */
static void
sys_emit(int pri, const char *buf)
{
	if (sys_fd == -1 && mono_s() >= sys_retry_at) {
		sys_retry_at = mono_s() + SYSLOG_RETRY;
		/* Set first: asking may log. */
		if (sys_ask != NULL)
			sys_ask(sys_ask_arg);
		else if (sys_connect() == 0)
			sys_back();
	}
	if (sys_fd != -1) {
		int	 err;

		if (sys_send(pri, buf) == 0)
			return;
		err = errno;
		(void)close(sys_fd);
		sys_fd = -1;
		sys_down("lost the syslog socket", err);
	}
	sys_lost++;
	con_write(buf);
}

/*
 * In the engine's sandbox no socket reaches _PATH_LOG: a lost one is
 * asked for with ask(arg), at most every SYSLOG_RETRY seconds, and
 * comes back through log_syslog_fd().
 */
void
log_sandboxed(void (*ask)(void *), void *arg)
{
	sys_ask = ask;
	sys_ask_arg = arg;
}

/* The socket the monitor connected for us; taken over. */
void
log_syslog_fd(int fd)
{
	int		 type;
	socklen_t	 len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    (type != SOCK_DGRAM && type != SOCK_STREAM)) {
		(void)close(fd);
		return;
	}
	if (sys_fd != -1)
		(void)close(sys_fd);
	sys_fd = fd;
	sys_type = type;
	sys_back();
}

void
log_init(int to_stderr, int level, int facility)
{
	char	 buf[512];
	int	 err;

	log_stderr = to_stderr;
	log_level = level;
	sys_facility = facility;
	tzset();
	if (to_stderr && log_prefix_kind != PREFIX_FILE)
		log_prefix_kind = stderr_is_journal() ? PREFIX_JOURNAL :
		    PREFIX_NONE;
	if (to_stderr || sys_fd != -1)
		return;
	if (sys_connect() == 0)
		return;
	err = errno;
	/* The warning also reaches the caller's stderr through log_tee(). */
	if (con_fd == -1)
		con_fd = open(_PATH_CONSOLE, O_WRONLY | O_NOCTTY | O_CLOEXEC |
		    O_NONBLOCK);
	(void)snprintf(buf, sizeof(buf), "action=warn path=%s msg=\"cannot "
	    "reach syslog, logging to %s until it is back\" error=\"%s\"",
	    _PATH_LOG, con_fd != -1 ? _PATH_CONSOLE : "nowhere",
	    strerror(err));
	sys_retry_at = mono_s() + SYSLOG_RETRY;
	logit(LOG_WARNING, "%s", buf);
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

/*
 * Whether stderr is the stream $JOURNAL_STREAM ("DEVICE:INODE") names:
 * only then is it the journal, not something stderr was redirected to.
 */
static bool
stderr_is_journal(void)
{
	const char		*v = getenv("JOURNAL_STREAM");
	struct stat		 st;
	unsigned long long	 dev, ino;
	char			 c;

	if (v == NULL || sscanf(v, "%llu:%llu%c", &dev, &ino, &c) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) == -1)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

/*
 * stderr is the daemon's log file (on) or no longer is (off): lines get
 * the file prefix.  The host is looked up once, here.
 */
void
log_file_mode(int on)
{
	if (!on) {
		log_prefix_kind = stderr_is_journal() ? PREFIX_JOURNAL :
		    PREFIX_NONE;
		return;
	}
	if (gethostname(log_host, sizeof(log_host)) == -1)
		(void)snprintf(log_host, sizeof(log_host), "localhost");
	log_host[sizeof(log_host) - 1] = '\0';
	log_prefix_kind = PREFIX_FILE;
}

/* The daemon's log file (log = file), for appending; -1 with errno. */
int
log_file_open(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOCTTY, 0640);
}

/* "2026-12-07T16:47:14.123456+01:00 host portmuxd[123]: " */
static int
file_prefix(char *buf, size_t size)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 stamp[32];
	long		 off;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 ||
	    localtime_r(&ts.tv_sec, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return snprintf(buf, size, "- %s portmuxd[%ld]: ", log_host,
		    (long)getpid());
	off = tm.tm_gmtoff / 60;
	return snprintf(buf, size, "%s.%06ld%c%02ld:%02ld %s portmuxd[%ld]: ",
	    stamp, ts.tv_nsec / 1000, off < 0 ? '-' : '+',
	    (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60,
	    log_host, (long)getpid());
}

/* Write the prefix of a stderr line into buf; its length. */
static size_t
line_prefix(int pri, char *buf, size_t size)
{
	int	 n = 0;

	if (!log_stderr)
		return 0;
	switch (log_prefix_kind) {
	case PREFIX_NONE:
		return 0;
	case PREFIX_JOURNAL:
		n = snprintf(buf, size, "<%d>", LOG_PRI(pri));
		break;
	case PREFIX_FILE:
		n = file_prefix(buf, size);
		break;
	}
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/*
 * Emit the line at buf + off; buf holds its stderr prefix before off.
 * Syslog, the caller's stderr and capture see the bare line.
 */
static void
log_emit(int pri, char *buf, size_t off, size_t size)
{
	size_t	 n = off + strlen(buf + off);

	if (tee_fd != -1 && pri <= LOG_WARNING) {
		char	 line[8192];
		int	 len;

		len = snprintf(line, sizeof(line), "portmuxd: %s\n", buf + off);
		if (len > 0)
			(void)write(tee_fd, line, (size_t)len < sizeof(line) ?
			    (size_t)len : sizeof(line) - 1);
	}
	if (!log_stderr) {
		sys_emit(pri, buf + off);
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

/* Who also gets warnings and errors while set (log_capture()). */
static void	(*capture_cb)(int, const char *, void *);
static void	*capture_arg;

/*
 * Hand every warning and error to cb as well as to the log, until
 * called again with NULL: a reload asked for by portmuxctl tells it the
 * problems it logged.
 */
void
log_capture(void (*cb)(int, const char *, void *), void *arg)
{
	capture_cb = cb;
	capture_arg = arg;
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	int	 saved_errno = errno;
	char	 buf[8192 + PREFIX_MAX];
	size_t	 off;

	if (pri > log_level && (capture_cb == NULL || pri > LOG_WARNING))
		return;
	off = line_prefix(pri, buf, PREFIX_MAX);
	(void)vsnprintf(buf + off, sizeof(buf) - off, fmt, ap);
	if (capture_cb != NULL && pri <= LOG_WARNING)
		capture_cb(pri, buf + off, capture_arg);
	if (pri <= log_level)
		log_emit(pri, buf, off, sizeof(buf));
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

/* The line, then error= with errno's text; errno is kept. */
static void
vlog_errno(int pri, const char *fmt, va_list ap)
{
	int	 saved_errno = errno;
	char	 buf[4096];

	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	logit(pri, "%s error=\"%s\"", buf, strerror(saved_errno));
	errno = saved_errno;
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_errno(LOG_WARNING, fmt, ap);
	va_end(ap);
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
	va_list	 ap;

	va_start(ap, fmt);
	vlog_errno(LOG_ERR, fmt, ap);
	va_end(ap);
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
	char	 buf[8192 + PREFIX_MAX];
	size_t	 off;
	int	 n;
	va_list	 ap;

	if (pri > log_level)
		return;
	off = line_prefix(pri, buf, PREFIX_MAX);
	/* The prefix and the event in one buffer, formatted once. */
	if (id != 0)
		n = snprintf(buf + off, sizeof(buf) - off, "conn=%llu "
		    "service=%s ", (unsigned long long)id, service);
	else
		n = snprintf(buf + off, sizeof(buf) - off, "service=%s ",
		    service);
	if (n < 0 || (size_t)n >= sizeof(buf) - off)
		n = 0;
	va_start(ap, fmt);
	(void)vsnprintf(buf + off + n, sizeof(buf) - off - (size_t)n, fmt, ap);
	va_end(ap);
	log_emit(pri, buf, off, sizeof(buf));
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
