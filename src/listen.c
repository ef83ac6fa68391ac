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
 * Listening sockets: open and bind them (monitor, as root), and decide
 * on reload which sockets keep their identity and so stay open, so that
 * a reload never refuses a connection to an unchanged service.
 *
 * A unix socket gets its mode through the umask at bind time, so the
 * path never has looser permissions than configured.  One that replaces
 * a live socket of the previous generation (its mode or owner changed)
 * is bound under a temporary name and renamed over the path only when
 * every socket of the new generation is ready, so a failed reload
 * leaves the old socket in place.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "portmuxd.h"
#include "sdlisten.h"

static int	 inet_open(const struct service *, const struct bindaddr *);
static int	 unix_open(const struct service *, bool, char *, size_t);
static int	 unix_record(struct listener *, const struct service *);

/*
 * Open and bind one address of a TCP or UDP service (and listen, for
 * TCP).  Returns the socket, nonblocking and close-on-exec, or -1 with
 * errno set.
 */
static int
inet_open(const struct service *svc, const struct bindaddr *ba)
{
	int	 fd, on = 1, v6only = svc->v6only ? 1 : 0;
	int	 family = ba->ss.ss_family, saved;
	int	 type = svc->proto == PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;

	fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/*
	 * TCP only: on UDP, SO_REUSEADDR would let another socket share
	 * the port and receive its datagrams.
	 */
	if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR,
	    &on, sizeof(on)) == -1)
		goto fail;
	/* Set explicitly: the sysctl default differs between hosts. */
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
	    &v6only, sizeof(v6only)) == -1)
		goto fail;
	if (svc->freebind && setsockopt(fd, family == AF_INET6 ? IPPROTO_IPV6 :
	    IPPROTO_IP, family == AF_INET6 ? IPV6_FREEBIND : IP_FREEBIND, &on,
	    sizeof(on)) == -1)
		goto fail;
	/* Accepted sockets inherit it: no setsockopt per connection. */
	if (type == SOCK_STREAM && svc->keepalive && setsockopt(fd,
	    SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == -1)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&ba->ss, ba->len) == -1)
		goto fail;
	if (type == SOCK_STREAM && listen(fd, svc->backlog) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * May a socket at path be replaced?  Nothing there: yes.  A socket that
 * refuses connections is stale: yes, unless its directory is writable by
 * others (someone else could have put it there).  Anything else: no.
 * The probe never blocks: a live server with a full queue says EAGAIN.
 */
static int
unix_may_replace(const char *path, bool *exists)
{
	struct stat		 st, dst;
	struct sockaddr_un	 sun;
	char			*dcopy, *dir;
	int			 fd, r, saved;

	*exists = false;
	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	*exists = true;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	if ((dcopy = strdup(path)) == NULL)
		return -1;
	dir = dirname(dcopy);
	r = stat(dir, &dst);
	saved = errno;
	free(dcopy);
	if (r == -1) {
		errno = saved;
		return -1;
	}
	if (dst.st_mode & S_IWOTH) {
		errno = EPERM;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	close(fd);
	if (r == 0 || saved == EAGAIN || saved == EINPROGRESS) {
		errno = EADDRINUSE;	/* someone serves it */
		return -1;
	}
	if (saved != ECONNREFUSED) {
		errno = saved;
		return -1;
	}
	return 0;
}

/*
 * A short temporary name beside path, for a socket that must replace a
 * live one of our own atomically; it must fit a sockaddr_un.
 */
static int
unix_tmpname(const char *path, char *tmp, size_t size)
{
	const char	*slash = strrchr(path, '/');
	int		 r;

	r = snprintf(tmp, size, "%.*s/.pmx%lx", (int)(slash - path), path,
	    (unsigned long)getpid());
	if (r < 0 || (size_t)r >= size ||
	    (size_t)r >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Bind a unix stream socket for svc, with its mode (through the umask,
 * so there is no chmod to race with) and owner, and listen.  Bound at
 * svc->path itself when the path is free or stale; when it is our own
 * live socket (a reload changing mode or owner), under a temporary name
 * returned in tmp, to be renamed over it at commit.
 */
static int
unix_open(const struct service *svc, bool ours, char *tmp, size_t tmpsize)
{
	struct sockaddr_un	 sun;
	const char		*where = svc->path;
	mode_t			 old;
	bool			 exists;
	int			 fd, r, saved;

	tmp[0] = '\0';
	if (ours) {
		if (unix_tmpname(svc->path, tmp, tmpsize) == -1)
			return -1;
		where = tmp;
		(void)unlink(tmp);
	} else {
		if (unix_may_replace(svc->path, &exists) == -1)
			return -1;
		if (exists && unlink(svc->path) == -1)
			return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(where) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	(void)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", where);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	old = umask(~svc->mode & 0777);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	(void)umask(old);
	if (r == -1)
		goto fail;
	if ((svc->owner_set && lchown(where, svc->owner_uid, svc->owner_gid) ==
	    -1) || listen(fd, svc->backlog) == -1) {
		saved = errno;
		(void)unlink(where);
		errno = saved;
		goto fail;
	}
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* Is path the socket of one of our old listeners (same inode)? */
static bool
unix_ours(const char *path, const struct listener *old, size_t nold)
{
	struct stat	 st;
	size_t		 k;

	if (lstat(path, &st) == -1)
		return false;
	for (k = 0; k < nold; k++)
		if (old[k].fd != -1 && old[k].path != NULL &&
		    strcmp(old[k].path, path) == 0 && old[k].dev == st.st_dev &&
		    old[k].ino == st.st_ino)
			return true;
	return false;
}

/*
 * DESIGN.md's identity of a socket: protocol, address, port and, for
 * IPv6 only, v6only; for a unix socket its path, mode and owner.
 * freebind matters only at bind time, so it is no part of it.
 */
static bool
same_identity(const struct listener *l, const struct service *svc,
    const struct bindaddr *ba)
{
	if (l->fd == -1 || l->proto != svc->proto)
		return false;
	if (svc->proto == PROTO_UNIX)
		return l->path != NULL && strcmp(l->path, svc->path) == 0 &&
		    l->mode == svc->mode && l->owner_set == svc->owner_set &&
		    (!svc->owner_set || (l->owner_uid == svc->owner_uid &&
		    l->owner_gid == svc->owner_gid));
	if (l->addr.len != ba->len || memcmp(&l->addr.ss, &ba->ss,
	    ba->len) != 0)
		return false;
	return ba->ss.ss_family != AF_INET6 || l->v6only == svc->v6only;
}

/*
 * At start (fatal) a bind failure ends the daemon, so it is an error; on
 * a reload the old generation keeps serving, so it is a warning.
 */
static void
bind_error(const struct service *svc, const struct bindaddr *ba, bool fatal)
{
	void		(*logf)(const char *, ...) = fatal ? log_err : log_warn;
	const char	*act = fatal ? "error" : "warn";
	char		 a[64];
	uint16_t	 port;

	if (svc->proto == PROTO_UNIX) {
		logf("action=%s service=%s path=%s msg=\"cannot bind\"", act,
		    svc->name, svc->path);
		return;
	}
	if (sa_ntop((const struct sockaddr *)&ba->ss, a, sizeof(a), &port) ==
	    -1)
		(void)snprintf(a, sizeof(a), "unknown");
	logf("action=%s service=%s proto=%s address=%s port=%u "
	    "msg=\"cannot bind\"", act, svc->name, conf_proto_name(svc->proto), a,
	    svc->port);
}

/*
 * The socket the service manager passed for svc at ba, if there is one
 * and no listener built so far took it: l then uses it as it is, and
 * gets the generation's backlog and keepalive as a kept socket does.
 */
static bool
open_passed(const struct service *svc, const struct bindaddr *ba,
    const struct sdlisten *passed, const struct listener *built,
    size_t nbuilt, struct listener *l)
{
	size_t	 k;
	int	 i;

	if ((i = sdlisten_match(passed, svc, ba)) == -1)
		return false;
	for (k = 0; k < nbuilt; k++)
		if (built[k].fd == passed->v[i].fd)
			return false;
	l->fd = passed->v[i].fd;
	l->passed = true;
	l->backlog = -1;	/* unknown: reused_apply() sets it */
	if (svc->proto == PROTO_UNIX && unix_record(l, svc) == -1) {
		l->fd = -1;
		return false;
	}
	return true;
}

/* One listener of svc (ba is NULL for unix): reuse one of old or open. */
static int
open_one(const struct service *svc, const struct bindaddr *ba,
    struct listener *old, size_t nold, int *taken,
    const struct sdlisten *passed, const struct listener *built,
    size_t nbuilt, struct listener *l)
{
	static const struct bindaddr none;
	size_t	 k;
	char	 tmp[sizeof(((struct sockaddr_un *)0)->sun_path) + 32];

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->proto = svc->proto;
	l->v6only = svc->v6only;
	l->backlog = svc->backlog;
	l->addr = ba != NULL ? *ba : none;
	for (k = 0; k < nold; k++) {
		if (taken[k] || !same_identity(&old[k], svc, &l->addr))
			continue;
		taken[k] = 1;
		l->fd = old[k].fd;
		l->reused = true;
		l->passed = old[k].passed;
		l->path = old[k].path;
		l->dev = old[k].dev;
		l->ino = old[k].ino;
		l->mode = old[k].mode;
		l->owner_set = old[k].owner_set;
		l->owner_uid = old[k].owner_uid;
		l->owner_gid = old[k].owner_gid;
		/*
		 * The live socket keeps serving the running generation
		 * until the reload is known to succeed: the new options
		 * wait for reused_apply().
		 */
		l->backlog = old[k].backlog;
		break;
	}
	if (l->fd != -1 || open_passed(svc, ba != NULL ? &l->addr : NULL,
	    passed, built, nbuilt, l))
		return 0;
	if (svc->proto != PROTO_UNIX)
		return (l->fd = inet_open(svc, ba)) == -1 ? -1 : 0;
	if ((l->fd = unix_open(svc, unix_ours(svc->path, old, nold), tmp,
	    sizeof(tmp))) == -1)
		return -1;
	if ((tmp[0] != '\0' && (l->tmp = strdup(tmp)) == NULL) ||
	    (tmp[0] == '\0' && unix_record(l, svc) == -1)) {
		(void)unlink(tmp[0] != '\0' ? tmp : svc->path);
		close(l->fd);
		l->fd = -1;
		return -1;
	}
	return 0;
}

static int
grow(struct listener **ls, size_t n, size_t *cap)
{
	size_t	 ncap;
	void	*p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	if ((p = reallocarray(*ls, ncap, sizeof(**ls))) == NULL)
		return -1;
	*ls = p;
	*cap = ncap;
	return 0;
}

/* Remember the path of a bound unix socket and what it was made with. */
static int
unix_record(struct listener *l, const struct service *svc)
{
	struct stat	 st;

	if (lstat(svc->path, &st) == -1 || (l->path = strdup(svc->path)) ==
	    NULL)
		return -1;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	l->mode = svc->mode;
	l->owner_set = svc->owner_set;
	l->owner_uid = svc->owner_uid;
	l->owner_gid = svc->owner_gid;
	return 0;
}

/* Put the replacing unix sockets at their paths; -1 if one cannot be. */
static int
unix_commit(const struct conf *conf, struct listener *ls, size_t n)
{
	const struct service	*svc;
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (ls[i].tmp == NULL)
			continue;
		svc = &conf->services[ls[i].service];
		if (rename(ls[i].tmp, svc->path) == -1) {
			bind_error(svc, NULL, false);
			return -1;
		}
		free(ls[i].tmp);
		ls[i].tmp = NULL;
		if (unix_record(&ls[i], svc) == -1)
			return -1;
	}
	return 0;
}

/*
 * The settings of a reused socket that a generation may change, as they
 * were before reused_apply(), so that a reload failing after it can put
 * them back.
 */
struct prevopt {
	bool	 backlog_set;	/* listen() was called with the new one */
	int	 backlog;
	bool	 keepalive_set;	/* SO_KEEPALIVE was changed */
	int	 keepalive;
};

/* A socket option of a live listener cannot be set: name it and why. */
static void
opt_error(const struct service *svc, const struct bindaddr *ba,
    const char *what)
{
	char		 a[64];
	uint16_t	 port;

	if (svc->proto == PROTO_UNIX) {
		log_warn("action=warn service=%s path=%s msg=\"cannot set %s\"",
		    svc->name, svc->path, what);
		return;
	}
	if (sa_ntop((const struct sockaddr *)&ba->ss, a, sizeof(a), &port) ==
	    -1)
		(void)snprintf(a, sizeof(a), "unknown");
	log_warn("action=warn service=%s proto=%s address=%s port=%u "
	    "msg=\"cannot set %s\"", svc->name, conf_proto_name(svc->proto), a,
	    svc->port, what);
}

/*
 * Put back what reused_apply() changed on the first n listeners, on a
 * reload that fails after it.  A failure here cannot be undone either;
 * it is logged.
 */
static void
reused_restore(const struct conf *conf, struct listener *ls,
    const struct prevopt *prev, size_t n)
{
	const struct service	*svc;
	size_t			 i;

	for (i = 0; i < n; i++) {
		svc = &conf->services[ls[i].service];
		if (prev[i].backlog_set) {
			if (listen(ls[i].fd, prev[i].backlog) == -1)
				opt_error(svc, &ls[i].addr,
				    "the previous backlog back");
			else
				ls[i].backlog = prev[i].backlog;
		}
		if (prev[i].keepalive_set && setsockopt(ls[i].fd, SOL_SOCKET,
		    SO_KEEPALIVE, &prev[i].keepalive, sizeof(int)) == -1)
			opt_error(svc, &ls[i].addr,
			    "the previous keepalive back");
	}
}

/*
 * Give the sockets taken over from the running generation the options
 * of the new one: the backlog (listen() again) and, for TCP,
 * SO_KEEPALIVE, which accepted sockets inherit.  Only called once every
 * socket of the new generation is bound, since until the reload is
 * known to succeed these sockets serve the running generation as it was
 * configured.  The other options inet_open() sets are part of the
 * socket's identity (v6only) or matter only at bind time (SO_REUSEADDR,
 * freebind).  On a failure, logged, what was changed is put back.
 */
static int
reused_apply(const struct conf *conf, struct listener *ls,
    struct prevopt *prev, size_t n)
{
	const struct service	*svc;
	socklen_t		 len;
	size_t			 i;
	int			 ka;

	for (i = 0; i < n; i++) {
		memset(&prev[i], 0, sizeof(prev[i]));
		if (!ls[i].reused && !ls[i].passed)
			continue;
		svc = &conf->services[ls[i].service];
		if (svc->proto != PROTO_UDP && ls[i].backlog != svc->backlog) {
			if (listen(ls[i].fd, svc->backlog) == -1) {
				opt_error(svc, &ls[i].addr, "the backlog");
				goto fail;
			}
			prev[i].backlog_set = true;
			prev[i].backlog = ls[i].backlog;
			ls[i].backlog = svc->backlog;
		}
		if (svc->proto != PROTO_TCP)
			continue;
		ka = svc->keepalive ? 1 : 0;
		len = sizeof(prev[i].keepalive);
		if (getsockopt(ls[i].fd, SOL_SOCKET, SO_KEEPALIVE,
		    &prev[i].keepalive, &len) == -1) {
			opt_error(svc, &ls[i].addr, "keepalive");
			goto fail;
		}
		if ((prev[i].keepalive != 0) == (ka != 0))
			continue;
		if (setsockopt(ls[i].fd, SOL_SOCKET, SO_KEEPALIVE, &ka,
		    sizeof(ka)) == -1) {
			opt_error(svc, &ls[i].addr, "keepalive");
			goto fail;
		}
		prev[i].keepalive_set = true;
	}
	return 0;
fail:
	reused_restore(conf, ls, prev, i + 1);
	return -1;
}

/*
 * Open every listener of conf.  A socket whose identity matches one of
 * old is taken over from old (old[i].fd becomes -1) and gets the new
 * backlog and keepalive, but only once every other socket is bound.  All
 * or nothing: on the first failure everything opened here is closed,
 * old is left as it was, options included, and -1 is returned.
 */
int
listen_open_all(const struct conf *conf, struct listener *old, size_t nold,
    struct listener **out, size_t *nout)
{
	return listen_open_passed(conf, old, nold, NULL, out, nout);
}

/*
 * listen_open_all(), and where the service manager passed a socket for
 * a listener (passed, NULL: none), that socket instead of a new one.
 */
int
listen_open_passed(const struct conf *conf, struct listener *old,
    size_t nold, const struct sdlisten *passed, struct listener **out,
    size_t *nout)
{
	struct listener	*ls = NULL;
	struct prevopt	*prev = NULL;
	size_t		 n = 0, cap = 0, i, j, k, na;
	int		*taken = NULL;

	if (nold > 0 && (taken = calloc(nold, sizeof(*taken))) == NULL)
		return -1;
	for (i = 0; i < conf->nservices; i++) {
		const struct service *svc = &conf->services[i];

		na = svc->proto == PROTO_UNIX ? 1 : svc->naddrs;
		for (j = 0; j < na; j++) {
			const struct bindaddr *ba = svc->proto == PROTO_UNIX ?
			    NULL : &svc->addrs[j];

			if (grow(&ls, n, &cap) == -1)
				goto fail;
			if (open_one(svc, ba, old, nold, taken, passed, ls, n,
			    &ls[n]) == 0) {
				ls[n++].service = i;
				continue;
			}
			if (ba != NULL && ba->implicit && (errno ==
			    EAFNOSUPPORT || errno == EADDRNOTAVAIL)) {
				log_warn("action=warn service=%s msg=\"skipping "
				    "an address family this host lacks\"",
				    svc->name);
				continue;
			}
			/* The start passes no old table; a reload does. */
			bind_error(svc, ba, old == NULL);
			goto fail;
		}
	}
	/* Everything is bound: only now may the live sockets change. */
	if (n > 0 && (prev = calloc(n, sizeof(*prev))) == NULL)
		goto fail;
	if (reused_apply(conf, ls, prev, n) == -1)
		goto fail;
	if (unix_commit(conf, ls, n) == -1) {
		reused_restore(conf, ls, prev, n);
		goto fail;
	}
	free(prev);
	/* Commit: the taken-over sockets now belong to the new table. */
	for (k = 0; k < nold; k++) {
		if (!taken[k])
			continue;
		old[k].fd = -1;
		old[k].path = NULL;
	}
	free(taken);
	*out = ls;
	*nout = n;
	return 0;
fail:
	for (i = 0; i < n; i++) {
		if (ls[i].reused)
			continue;
		if (ls[i].passed) {
			/* The socket stays the manager's. */
			free(ls[i].path);
			continue;
		}
		if (ls[i].tmp != NULL)
			(void)unlink(ls[i].tmp);
		free(ls[i].tmp);
		if (ls[i].path != NULL) {
			/* Renamed already: the path was stale or free. */
			(void)unlink(ls[i].path);
			free(ls[i].path);
		}
		close(ls[i].fd);
	}
	free(prev);
	free(ls);
	free(taken);
	return -1;
}

/*
 * Close listeners.  A unix socket's path is removed if it is still the
 * one this daemon made (the same inode), never someone else's.
 */
void
listen_close_all(struct listener *ls, size_t n)
{
	struct stat	 st;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (ls[i].passed) {
			/* The manager's: bound for as long as it says. */
			free(ls[i].path);
			ls[i].path = NULL;
			ls[i].fd = -1;
			continue;
		}
		if (ls[i].path != NULL) {
			if (ls[i].fd != -1 && lstat(ls[i].path, &st) == 0 &&
			    st.st_dev == ls[i].dev && st.st_ino == ls[i].ino)
				(void)unlink(ls[i].path);
			free(ls[i].path);
			ls[i].path = NULL;
		}
		if (ls[i].fd != -1)
			close(ls[i].fd);
		ls[i].fd = -1;
	}
}
