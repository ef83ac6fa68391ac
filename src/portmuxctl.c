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
 * portmuxctl: ask a running portmuxd over its control socket (the
 * protocol is in portmuxctl(8)) and print the answer as a table or, with
 * -j, as JSON.  The reply is read whole and checked before anything is
 * printed, so a truncated answer prints nothing but an error.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "ctlreply.h"

#ifndef RUNSTATEDIR
#define RUNSTATEDIR	"/run"
#endif

#define REPLY_MAX	(64 * 1024 * 1024)	/* a sane bound on any table */

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr, "usage: portmuxctl [-jV] [-s socket] [-t seconds] "
	    "status | connections | bans | stats | reload | reopen |\n"
	    "                  unban address\n");
	exit(EX_USAGE);
}

static int
ms_left(const struct timespec *end)
{
	struct timespec	 now;
	long long	 ms;

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return 0;
	ms = (long long)(end->tv_sec - now.tv_sec) * 1000 +
	    (end->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > 1000000 ? 1000000 : (int)ms;
}

/* Send req, read until EOF; exit codes as portmuxctl(8) lists them. */
static char *
ask(const char *path, const char *req, int secs, size_t *lenp)
{
	struct sockaddr_un	 sun;
	struct timespec		 end;
	struct pollfd		 pfd;
	char			*buf = NULL;
	size_t			 len = 0, cap = 0, off = 0, reqlen = strlen(req);
	ssize_t			 n;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "portmuxctl: %s: path too long\n", path);
		exit(EX_USAGE);
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "portmuxctl: socket: %s\n", strerror(errno));
		exit(EX_OSERR);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int	 e = errno;

		fprintf(stderr, "portmuxctl: %s: %s\n", path, strerror(e));
		exit(e == EACCES || e == EPERM ? EX_NOPERM : EX_UNAVAILABLE);
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += secs;
	pfd.fd = fd;
	for (;;) {
		pfd.events = off < reqlen ? POLLOUT | POLLIN : POLLIN;
		n = poll(&pfd, 1, ms_left(&end));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "portmuxctl: %s: %s\n", path, n == 0 ?
			    "no answer in time" : strerror(errno));
			exit(EX_UNAVAILABLE);
		}
		if (off < reqlen && (pfd.revents & POLLOUT)) {
			n = send(fd, req + off, reqlen - off, MSG_NOSIGNAL);
			if (n == -1 && errno != EINTR && errno != EAGAIN) {
				fprintf(stderr, "portmuxctl: %s: sending: %s\n",
				    path, strerror(errno));
				exit(EX_UNAVAILABLE);
			}
			if (n > 0)
				off += (size_t)n;
			continue;
		}
		if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (len + 4096 + 1 > cap) {
			if (cap >= REPLY_MAX) {
				fprintf(stderr, "portmuxctl: %s: answer too "
				    "long\n", path);
				exit(EX_PROTOCOL);
			}
			cap = cap == 0 ? 65536 : cap * 2;
			if ((buf = realloc(buf, cap)) == NULL) {
				fprintf(stderr, "portmuxctl: out of memory\n");
				exit(EX_OSERR);
			}
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "portmuxctl: %s: reading: %s\n", path,
			    strerror(errno));
			exit(EX_UNAVAILABLE);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	(void)close(fd);
	if (buf == NULL && (buf = malloc(1)) == NULL)
		exit(EX_OSERR);
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

int
main(int argc, char *argv[])
{
	const char	*path = RUNSTATEDIR "/portmuxd.sock", *cmd;
	struct reply	 r;
	char		 req[1024], err[256] = "", *buf;
	bool		 json = false;
	size_t		 len;
	long		 secs = 10;
	char		*ep;
	int		 ch, rc;

	while ((ch = getopt(argc, argv, "js:t:V")) != -1) {
		switch (ch) {
		case 'j':
			json = true;
			break;
		case 's':
			path = optarg;
			break;
		case 't':
			errno = 0;
			secs = strtol(optarg, &ep, 10);
			if (errno != 0 || *ep != '\0' || secs < 1 ||
			    secs > 3600)
				usage();
			break;
		case 'V':
			printf("portmuxctl %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	cmd = argv[0];
	if (strcmp(cmd, "unban") == 0 ? argc != 2 : argc != 1)
		usage();
	if (strcmp(cmd, "status") != 0 && strcmp(cmd, "connections") != 0 &&
	    strcmp(cmd, "bans") != 0 && strcmp(cmd, "stats") != 0 &&
	    strcmp(cmd, "reload") != 0 && strcmp(cmd, "unban") != 0 &&
	    strcmp(cmd, "reopen") != 0)
		usage();
	if (argc == 2 && (strlen(argv[1]) > 128 ||
	    strcspn(argv[1], " \t\r\n") != strlen(argv[1])))
		usage();
	(void)snprintf(req, sizeof(req), "portmuxctl/1 %s%s%s\n", cmd,
	    argc == 2 ? " " : "", argc == 2 ? argv[1] : "");
	buf = ask(path, req, (int)secs, &len);
	if (reply_parse(buf, len, &r, err, sizeof(err)) == -1) {
		fprintf(stderr, "portmuxctl: %s: malformed answer: %s\n", path,
		    err);
		free(buf);
		return EX_PROTOCOL;
	}
	rc = reply_print(&r, cmd, json, stdout, stderr);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "portmuxctl: writing: %s\n", strerror(errno));
		rc = EX_IOERR;
	}
	reply_free(&r);
	free(buf);
	return rc;
}
