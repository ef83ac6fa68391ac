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
 * main(): the command line, the -n check, binding every socket before
 * anything else can fail, daemonising, the pidfile; then the monitor.
 * Binding happens before the fork into the background so that a port
 * that cannot be bound is reported on the terminal with exit code 71.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "portmuxd.h"
#include "sdlisten.h"
#include "sdnotify.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

static struct portmuxd	 portmuxd;
static struct sdlisten	 passed;
static struct sdnotify	 notify = { .fd = -1 };

static __dead void
usage(void)
{
	fprintf(stderr, "usage: portmuxd [-FdnV] [-f file] [-p pidfile]\n");
	exit(EX_USAGE);
}

/*
 * -n says what it checks: as root, this host as the daemon will see it,
 * so its problems (a missing program, an unknown user) are errors; as
 * anyone else they are only warnings, since that user may not see the
 * host as root does.
 */
static void
check_mode(const char *path)
{
	if (geteuid() == 0)
		fprintf(stderr, "portmuxd: checking %s as root: problems of "
		    "this host are errors\n", path);
	else
		fprintf(stderr, "portmuxd: checking %s as uid %lu: problems "
		    "of this host (unknown users, missing programs, ports "
		    "below 1024) are warnings; run portmuxd -n as root to "
		    "check this host\n", path, (unsigned long)geteuid());
}

/* Descriptors 0-2 must exist, or the first socket would become one. */
static void
std_fds(void)
{
	int	 fd;

	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= 2)
		;
	if (fd == -1)
		fatal("/dev/null");
	close(fd);
}

/*
 * Create the missing directories above path, mode 0755, as mkdir -p
 * would: $runstatedir may not exist on a host where nothing installed
 * into it yet.  Existing directories are left as they are.
 */
static int
pidfile_mkdirs(const char *path)
{
	char	 dir[PATH_MAX];
	char	*p, *end;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((end = strrchr(dir, '/')) == NULL || end == dir)
		return 0;
	*end = '\0';
	for (p = dir + 1; p <= end; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			return -1;
		if (p != end)
			*p = '/';
	}
	return 0;
}

/* The control socket's directory is $runstatedir too, by default. */
static void
control_mkdirs(const struct conf *conf)
{
	size_t	 i;

	for (i = 0; i < conf->nservices; i++)
		if (conf->services[i].builtin == BUILTIN_CONTROL &&
		    conf->services[i].path != NULL &&
		    pidfile_mkdirs(conf->services[i].path) == -1)
			log_warn("action=warn service=%s path=%s msg=\"cannot "
			    "create its directory\"", conf->services[i].name,
			    conf->services[i].path);
}

static int
pidfile_write(const char *path)
{
	char	 buf[32];
	int	 fd, n;

	if (pidfile_mkdirs(path) == -1)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd == -1)
		return -1;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/*
 * Into the background.  The parent waits until the daemon reports that
 * it runs (a byte on ready) or exits, and exits with its status, so that
 * a failure after the fork still reaches the caller as exit code 71.
 * stderr stays open only if it is the log; otherwise a copy of it takes
 * the warnings and errors until the daemon runs (log_tee()), so that the
 * reason of a failed start reaches the caller too, not only syslog.
 */
static int
daemonize(bool keep_stderr)
{
	pid_t	 pid;
	int	 fd, p[2], st;
	char	 c;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid != 0) {
		close(p[1]);
		if (read(p[0], &c, 1) == 1)
			_exit(0);
		while (waitpid(pid, &st, 0) == -1)
			if (errno != EINTR)
				_exit(EX_OSERR);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : EX_OSERR);
	}
	close(p[0]);
	if (setsid() == -1)
		fatal("setsid");
	if (chdir("/") == -1)
		fatal("chdir /");
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		fatal("/dev/null");
	(void)dup2(fd, STDIN_FILENO);
	(void)dup2(fd, STDOUT_FILENO);
	if (!keep_stderr) {
		int	 tee;

		if ((tee = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)) == -1)
			fatal("dup stderr");
		log_tee(tee);
		(void)dup2(fd, STDERR_FILENO);
	}
	if (fd > 2)
		close(fd);
	return p[1];
}

/*
 * What systemd hands over: the sockets it bound (LISTEN_*) and its
 * readiness socket (NOTIFY_SOCKET).  Both are taken once, and removed
 * from the environment, so that no engine or program inherits them.
 */
static int
manager_take(struct portmuxd *pmx)
{
	char	 err[256];

	if (sdlisten_take(&passed, err, sizeof(err)) == -1) {
		log_errx("action=error msg=\"socket activation: %s\"", err);
		return -1;
	}
	pmx->passed = &passed;
	return 0;
}

/* After closefrom(): the socket must not be one of those it closes. */
static void
manager_notify(struct portmuxd *pmx)
{
	if (sdnotify_init(&notify, getenv("NOTIFY_SOCKET")) == -1)
		log_warn("action=warn msg=\"NOTIFY_SOCKET=%s: not telling the "
		    "service manager when ready\"", getenv("NOTIFY_SOCKET"));
	(void)unsetenv("NOTIFY_SOCKET");
	pmx->notify = &notify;
}

/*
 * log = file: opened as root before the daemon leaves the terminal, so
 * that a file that cannot be opened is a start error the caller sees.
 */
static int
log_file_start(struct portmuxd *pmx, int *fd)
{
	if ((*fd = log_file_open(pmx->conf->log_file)) == -1) {
		log_err("action=error path=%s msg=\"cannot open the log "
		    "file\"", pmx->conf->log_file);
		return -1;
	}
	if ((pmx->log_path = strdup(pmx->conf->log_file)) == NULL) {
		log_err("action=error msg=\"strdup\"");
		close(*fd);
		*fd = -1;
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct portmuxd	*pmx = &portmuxd;
	struct listener	*ls;
	size_t		 nls;
	const char	*pidfile_opt = NULL, *pidfile = NULL;
	bool		 check = false;
	int		 ch, rc, logfd = -1;
	struct rlimit	 rl;
	char		*conf_abs = NULL;

	pmx->conf_path = SYSCONFDIR "/portmux.conf";
	pmx->ready_fd = -1;
	while ((ch = getopt(argc, argv, "Fdf:np:V")) != -1) {
		switch (ch) {
		case 'F':
			pmx->foreground = true;
			break;
		case 'd':
			pmx->foreground = true;
			pmx->debug = true;
			break;
		case 'f':
			pmx->conf_path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'p':
			pidfile_opt = optarg;
			break;
		case 'V':
			printf("portmuxd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	std_fds();
	log_init(1, pmx->debug ? LOG_DEBUG : LOG_INFO, LOG_DAEMON);
	if (!check && manager_take(pmx) == -1)
		return EX_OSERR;
	/*
	 * Nothing inherited beyond 0-2 and the sockets the service manager
	 * passed reaches the engine or a service.
	 */
	closefrom(SDLISTEN_FIRST + (int)passed.n);
	if (!check)
		manager_notify(pmx);
	/* A reload re-reads it after the daemon changed to "/". */
	if (!check && (conf_abs = realpath(pmx->conf_path, NULL)) != NULL)
		pmx->conf_path = conf_abs;
	if (getrlimit(RLIMIT_NOFILE, &pmx->orig_nofile) == -1)
		fatal("getrlimit");
	if (check)
		check_mode(pmx->conf_path);
	/* A daemon, or a service of systemd: the default control socket. */
	if (!pmx->foreground || notify.fd != -1)
		pmx->load_flags = CONF_DAEMON;
	pmx->conf = conf_load(pmx->conf_path, (check ? CONF_CHECK_ONLY : 0) |
	    pmx->load_flags);
	if (pmx->conf == NULL) {
		free(conf_abs);
		return EX_CONFIG;
	}
	if (check) {
		conf_free(pmx->conf);
		return 0;
	}
	if (!pmx->debug)
		log_setlevel(pmx->conf->log_level);

	/* The monitor may hold many descriptors; children get theirs back. */
	rl = pmx->orig_nofile;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("action=warn msg=\"raising RLIMIT_NOFILE\"");
	}
	control_mkdirs(pmx->conf);
	if (listen_open_passed(pmx->conf, NULL, 0, pmx->passed, &ls,
	    &nls) == -1) {
		rc = EX_OSERR;
		goto out;
	}
	if (sdlisten_unmatched(pmx->passed, ls, nls, true) > 0) {
		listen_close_all(ls, nls);
		free(ls);
		rc = EX_CONFIG;
		goto out;
	}

	if (pidfile_opt != NULL)
		pidfile = pidfile_opt;
	else if (!pmx->foreground || pmx->conf->pidfile_set)
		pidfile = pmx->conf->pidfile;
	if (!pmx->foreground && pmx->conf->log_dest == LOG_TO_FILE &&
	    log_file_start(pmx, &logfd) == -1) {
		listen_close_all(ls, nls);
		free(ls);
		rc = EX_OSERR;
		goto out;
	}
	if (!pmx->foreground) {
		pmx->ready_fd = daemonize(pmx->conf->log_dest == LOG_TO_STDERR);
		if (pmx->conf->log_dest == LOG_TO_SYSLOG)
			log_init(0, pmx->debug ? LOG_DEBUG :
			    pmx->conf->log_level, pmx->conf->log_facility);
		if (logfd != -1) {
			/* The engine inherits it as its stderr too. */
			if (dup2(logfd, STDERR_FILENO) == -1)
				fatal("log file onto stderr");
			close(logfd);
			log_file_mode(1);
		}
	}
	if (pidfile != NULL && pidfile_write(pidfile) == -1) {
		log_err("action=error path=%s msg=\"cannot write pidfile\"",
		    pidfile);
		listen_close_all(ls, nls);
		free(ls);
		rc = EX_OSERR;
		goto out;
	}
	rc = monitor_run(pmx, ls, nls);
	if (pidfile != NULL && unlink(pidfile) == -1 && errno != ENOENT)
		log_warn("action=warn msg=\"removing pidfile %s\"", pidfile);
out:
	sdnotify_close(&notify);
	sdlisten_free(&passed);
	free(pmx->log_path);
	free(conf_abs);
	return rc;
}
