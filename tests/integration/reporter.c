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
 * The service program of the exec integration tests.  portmuxd runs it
 * with the client socket on fd 0 and 1; it tells the client, one
 * "key=value" line each, what DESIGN.md ("Child processes") promises:
 * credentials, open fds, signal mask and SIGPIPE disposition, session,
 * the rest of the process state (umask, nice, ...), environment and
 * argv.  It writes one line to fd 2 so that the test can
 * find it in the log (or on the socket, or nowhere, per `stderr`), then
 * echoes one line read from the client, so that the test also proves fd 0
 * reads from the client.  It is a test helper: it must not depend on
 * anything of the daemon.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/keyctl.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static void	print_creds(void);
static void	print_fds(void);
static void	print_fd0(void);
static void	print_signals(void);
static void	print_state(void);
static void	print_env(void);
static void	print_args(int, char **);
static void	echo_line(void);

static void
print_creds(void)
{
	gid_t	 groups[NGROUPS_MAX];
	int	 i, n;

	printf("uid=%lu gid=%lu euid=%lu groups=", (unsigned long)getuid(),
	    (unsigned long)getgid(), (unsigned long)geteuid());
	n = getgroups(NGROUPS_MAX, groups);
	for (i = 0; i < n; i++)
		printf("%s%lu", i > 0 ? "," : "", (unsigned long)groups[i]);
	printf("\n");
}

/* Every open fd, in ascending order, except the one reading the list. */
static void
print_fds(void)
{
	static char	 seen[4096];
	DIR		*d;
	struct dirent	*de;
	const char	*errstr = NULL;
	int		 dfd, fd, first = 1;
	long		 v;
	char		*end;

	if ((d = opendir("/proc/self/fd")) == NULL) {
		printf("fds=error:%s\n", strerror(errno));
		return;
	}
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		errno = 0;
		v = strtol(de->d_name, &end, 10);
		if (errno != 0 || *end != '\0' || v < 0)
			continue;
		if (v == dfd)
			continue;
		if (v >= (long)sizeof(seen)) {
			errstr = "fd beyond 4095";
			continue;
		}
		seen[v] = 1;
	}
	closedir(d);
	printf("fds=");
	for (fd = 0; fd < (int)sizeof(seen); fd++) {
		if (!seen[fd])
			continue;
		printf("%s%d", first ? "" : ",", fd);
		first = 0;
	}
	if (errstr != NULL)
		printf("%s%s", first ? "" : ",", errstr);
	printf("\n");
}

static void
print_fd0(void)
{
	struct stat	 st;

	if (fstat(STDIN_FILENO, &st) == -1)
		printf("fd0=closed\n");
	else if (S_ISSOCK(st.st_mode))
		printf("fd0=socket\n");
	else
		printf("fd0=other\n");
}

/* sigmask in the format of SigBlk in /proc/PID/status: bit N-1 = signal N. */
static void
print_signals(void)
{
	sigset_t		 set;
	struct sigaction	 sa;
	uint64_t		 mask = 0;
	int			 sig;

	if (sigprocmask(SIG_BLOCK, NULL, &set) == -1)
		printf("sigmask=error\n");
	else {
		for (sig = 1; sig <= 64; sig++)
			if (sigismember(&set, sig) == 1)
				mask |= (uint64_t)1 << (sig - 1);
		printf("sigmask=%016llx\n", (unsigned long long)mask);
	}
	if (sigaction(SIGPIPE, NULL, &sa) == -1)
		printf("sigpipe=error\n");
	else if (sa.sa_handler == SIG_DFL)
		printf("sigpipe=default\n");
	else if (sa.sa_handler == SIG_IGN)
		printf("sigpipe=ignored\n");
	else
		printf("sigpipe=handled\n");
	printf("sid_is_pid=%d\n", getsid(0) == getpid() ? 1 : 0);
}

/* A line of /proc/self/status, such as "CapAmb:\t0000000000000000". */
static void
print_status(const char *key, const char *name)
{
	char	 line[256];
	size_t	 n = strlen(key);
	FILE	*fp;

	if ((fp = fopen("/proc/self/status", "r")) == NULL) {
		printf("%s=error\n", name);
		return;
	}
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, key, n) == 0 && line[n] == ':') {
			printf("%s=%s", name, line + n + 1 + strspn(line + n + 1,
			    " \t"));
			break;
		}
	fclose(fp);
}

/*
 * The rest of the process state a child inherits: umask, nice, I/O
 * priority, OOM score, ambient capabilities, scheduling policy, CPUs,
 * personality, session keyring and the working directory.
 */
static void
print_state(void)
{
	cpu_set_t	 cpus;
	mode_t		 m = umask(0);
	char		 cwd[PATH_MAX], buf[64];
	FILE		*fp;
	long		 key;

	(void)umask(m);
	printf("umask=%04o\n", (unsigned int)m);
	errno = 0;
	printf("nice=%d\n", getpriority(PRIO_PROCESS, 0));
	/* ioprio_get(IOPRIO_WHO_PROCESS, self): class << 13 | data. */
	printf("ioprio=%ld\n", syscall(SYS_ioprio_get, 1, 0));
	if ((fp = fopen("/proc/self/oom_score_adj", "r")) != NULL &&
	    fgets(buf, sizeof(buf), fp) != NULL)
		printf("oom_score_adj=%s", buf);
	else
		printf("oom_score_adj=error\n");
	if (fp != NULL)
		fclose(fp);
	print_status("CapAmb", "capamb");
	printf("sched=%d\n", sched_getscheduler(0));
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
		printf("cpus=%d\n", CPU_COUNT(&cpus));
	else
		printf("cpus=error\n");
	printf("personality=%#x\n", personality(0xffffffff));
	key = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID,
	    KEY_SPEC_SESSION_KEYRING, 0);
	printf("session_keyring=%ld\n", key);
	printf("cwd=%s\n", getcwd(cwd, sizeof(cwd)) != NULL ? cwd : "error");
}

static void
print_env(void)
{
	char	**e;

	for (e = environ; e != NULL && *e != NULL; e++)
		printf("env %s\n", *e);
}

static void
print_args(int argc, char **argv)
{
	int	 i;

	printf("args %d", argc);
	for (i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
}

/* One line from the client, without its LF (and CR), back as "got LINE". */
static void
echo_line(void)
{
	char	 line[1024];
	size_t	 n;

	if (fgets(line, sizeof(line), stdin) == NULL) {
		printf("got-eof\n");
		return;
	}
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	printf("got %s\n", line);
}

int
main(int argc, char *argv[])
{
	static const char	 msg[] = "reporter stderr line\n";

	print_creds();
	print_fds();
	print_fd0();
	print_signals();
	print_state();
	print_env();
	print_args(argc, argv);
	if (fflush(stdout) == EOF)
		return 1;

	/* Unbuffered, and after stdout, so "stderr = client" is ordered. */
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) == -1) {
		/* Nothing to report to: fd 2 is what failed. */
	}

	echo_line();
	if (fflush(stdout) == EOF)
		return 1;
	return 0;
}
