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
 * portmuxd-import: write a portmux.conf from an inetd.conf or an
 * xinetd.conf (with the files it includes), and say on standard error
 * each thing that did not map exactly, as "file:line: level: message".
 * The conversions are inetd.c's and xinetd.c's; this file only picks
 * the input, reads it and writes the result.  Exit status: 0, or 1 when
 * something did not map exactly (the result is written all the same),
 * 64 usage, 66 no input, 73 the output cannot be written.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "importout.h"
#include "inetd.h"
#include "xinetd.h"

#define XINETD_CONF	"/etc/xinetd.conf"
#define INETD_CONF	"/etc/inetd.conf"
#define MAX_INPUT	(16 * 1024 * 1024)

enum flavour {
	T_DETECT,
	T_INETD,
	T_XINETD,
};

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr, "usage: portmuxd-import [-o out.conf] [-r root] "
	    "[-t inetd|xinetd] [file]\n");
	exit(EX_USAGE);
}

/* All of fd, at most MAX_INPUT bytes; -1 with errno set. */
static int
read_fd(int fd, char **bufp, size_t *lenp)
{
	char	*buf = NULL, *nb;
	size_t	 len = 0, size = 0;
	ssize_t	 r;

	for (;;) {
		if (len == size) {
			if (size >= MAX_INPUT) {
				free(buf);
				errno = EFBIG;
				return -1;
			}
			size = size == 0 ? 65536 : size * 2;
			if ((nb = realloc(buf, size + 1)) == NULL) {
				free(buf);
				return -1;
			}
			buf = nb;
		}
		r = read(fd, buf + len, size - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			int	 saved = errno;

			free(buf);
			errno = saved;
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

static bool
starts_word(const char *p, const char *w)
{
	size_t	 n = strlen(w);

	return strncmp(p, w, n) == 0 && (p[n] == '\0' || p[n] == ' ' ||
	    p[n] == '\t' || p[n] == '\n' || p[n] == '\r');
}

/*
 * xinetd.conf if a line outside comments opens with service, defaults,
 * include or includedir, or is a lone brace; inetd.conf otherwise.
 */
static enum flavour
detect(const char *buf)
{
	const char	*p = buf;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '#' && (starts_word(p, "service") ||
		    starts_word(p, "defaults") || starts_word(p, "include") ||
		    starts_word(p, "includedir") || starts_word(p, "{")))
			return T_XINETD;
		if ((p = strchr(p, '\n')) == NULL)
			break;
		p++;
	}
	return T_INETD;
}

/* out, written whole under a temporary name, then renamed over path. */
static int
write_out(const char *path, const char *text)
{
	char	*tmp;
	size_t	 len = strlen(text), off = 0;
	ssize_t	 w;
	int	 fd, saved;

	if (path == NULL) {
		if (fputs(text, stdout) == EOF || fflush(stdout) == EOF)
			return -1;
		return 0;
	}
	if (asprintf(&tmp, "%s.tmpXXXXXX", path) == -1)
		return -1;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		saved = errno;
		free(tmp);
		errno = saved;
		return -1;
	}
	while (off < len) {
		w = write(fd, text + off, len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			goto fail;
		off += (size_t)w;
	}
	if (fchmod(fd, 0644) == -1 || fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		(void)close(fd);
	(void)unlink(tmp);
	free(tmp);
	errno = saved;
	return -1;
}

int
main(int argc, char *argv[])
{
	struct iout_problems	 ps;
	enum flavour		 t = T_DETECT;
	const char		*out = NULL, *root = NULL, *in = NULL;
	char			*buf = NULL, *res;
	size_t			 len = 0, i;
	int			 ch, fd;

	while ((ch = getopt(argc, argv, "o:r:t:")) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'r':
			root = optarg;
			break;
		case 't':
			if (strcmp(optarg, "inetd") == 0)
				t = T_INETD;
			else if (strcmp(optarg, "xinetd") == 0)
				t = T_XINETD;
			else
				usage();
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		usage();
	if (argc == 1)
		in = argv[0];
	else if (t == T_INETD)
		in = INETD_CONF;
	else if (t == T_XINETD)
		in = XINETD_CONF;
	else {
		char	*x = NULL;

		/* The default files, under root when given. */
		if (asprintf(&x, "%s%s", root != NULL ? root : "",
		    XINETD_CONF) == -1) {
			perror("portmuxd-import");
			return EX_OSERR;
		}
		in = access(x, F_OK) == 0 ? XINETD_CONF : INETD_CONF;
		free(x);
	}

	if (strcmp(in, "-") == 0)
		fd = STDIN_FILENO;
	else {
		char	*path = NULL;

		if (asprintf(&path, "%s%s", root != NULL && in[0] == '/' ?
		    root : "", in) == -1) {
			perror("portmuxd-import");
			return EX_OSERR;
		}
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd == -1) {
			fprintf(stderr, "portmuxd-import: %s: %s\n", path,
			    strerror(errno));
			free(path);
			return EX_NOINPUT;
		}
		free(path);
	}
	if (read_fd(fd, &buf, &len) == -1) {
		fprintf(stderr, "portmuxd-import: %s: %s\n", in,
		    strerror(errno));
		return EX_NOINPUT;
	}
	if (fd != STDIN_FILENO)
		(void)close(fd);
	if (t == T_DETECT)
		t = detect(buf);

	iout_problems_init(&ps);
	if (t == T_INETD)
		res = inetd_convert(in, buf, len, INETD_PRETTY, &ps);
	else
		res = xinetd_convert(in, buf, len, root, &ps);
	free(buf);
	if (res == NULL) {
		fprintf(stderr, "portmuxd-import: %s: %s\n", in,
		    strerror(errno));
		iout_problems_clear(&ps);
		return EX_OSERR;
	}
	for (i = 0; i < ps.n; i++)
		fprintf(stderr, "%s:%d: %s: %s\n", ps.v[i].file != NULL ?
		    ps.v[i].file : in, ps.v[i].line,
		    iout_level_name(ps.v[i].level), ps.v[i].msg);
	if (write_out(out, res) == -1) {
		fprintf(stderr, "portmuxd-import: %s: %s\n", out != NULL ?
		    out : "standard output", strerror(errno));
		free(res);
		iout_problems_clear(&ps);
		return EX_CANTCREAT;
	}
	free(res);
	ch = iout_problems_worst(&ps) > IOUT_NOTE ? 1 : 0;
	iout_problems_clear(&ps);
	return ch;
}
