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
 * Monitor side of exec'd services: fork, set the child up (descriptors,
 * signals, session, rlimits, nice, umask, chroot, credentials) and exec;
 * the table of live children.  The child reports a setup failure through
 * a close-on-exec pipe, so the monitor knows at once whether the exec
 * happened and at which step it failed; EOF on that pipe means success.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "portmuxd.h"
#include "proto.h"

struct setup_err {
	int32_t	 stage;
	int32_t	 error;
};

static const char *stage_names[] = {
	[STAGE_FDS] = "fds",
	[STAGE_SIGNALS] = "signals",
	[STAGE_SESSION] = "session",
	[STAGE_RLIMIT] = "rlimit",
	[STAGE_NICE] = "nice",
	[STAGE_CHROOT] = "chroot",
	[STAGE_CREDS] = "credentials",
	[STAGE_EXEC] = "exec",
};

const char *
spawn_stage_name(int stage)
{
	if (stage <= 0 || (size_t)stage >= sizeof(stage_names) /
	    sizeof(stage_names[0]) || stage_names[stage] == NULL)
		return "unknown";
	return stage_names[stage];
}

/*
 * Report the failed step to the monitor and die.  Nothing is written to
 * fd 2: with stderr = client it would reach the client, and the monitor
 * logs the failure with the step and errno anyway.
 */
static __dead void
child_fail(int errfd, int stage)
{
	struct setup_err	 se = { stage, errno };

	(void)write(errfd, &se, sizeof(se));
	_exit(127);
}

static int
set_rlimit(int res, const struct rlim *rl)
{
	struct rlimit	 r;

	if (!rl->set)
		return 0;
	r.rlim_cur = r.rlim_max = rl->value;
	return setrlimit(res, &r);
}

/*
 * The child, between fork and exec.  Order matters: descriptors first
 * (the socket becomes 0 and 1, nothing else survives), then signals,
 * session and limits while still privileged, chroot, and the credentials
 * last.  Never returns.
 */
static __dead void
child_exec(const struct service *svc, const struct spawn_req *req,
    int logw, int errfd)
{
	struct rlimit	 nofile;
	sigset_t	 set;
	int		 fd2, sig;

	if (dup2(req->sock, STDIN_FILENO) == -1 ||
	    dup2(req->sock, STDOUT_FILENO) == -1)
		child_fail(errfd, STAGE_FDS);
	switch (svc->stderr_mode) {
	case STDERR_LOG:
		fd2 = logw;
		break;
	case STDERR_CLIENT:
		fd2 = req->sock;
		break;
	default:
		if ((fd2 = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
			child_fail(errfd, STAGE_FDS);
		break;
	}
	if (dup2(fd2, STDERR_FILENO) == -1)
		child_fail(errfd, STAGE_FDS);
	/* The error pipe goes to 3 (close-on-exec), everything above dies. */
	if (errfd != 3) {
		if (dup3(errfd, 3, O_CLOEXEC) == -1)
			child_fail(errfd, STAGE_FDS);
		errfd = 3;
	}
	closefrom(4);
	/* The flag lives on the shared file description: programs expect
	 * a blocking socket. */
	if (fd_nonblock(STDIN_FILENO, false) == -1)
		child_fail(errfd, STAGE_FDS);

	/* exec keeps "ignored" dispositions and the mask: reset both. */
	for (sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	sigemptyset(&set);
	if (sigprocmask(SIG_SETMASK, &set, NULL) == -1)
		child_fail(errfd, STAGE_SIGNALS);
	if (setsid() == -1)
		child_fail(errfd, STAGE_SESSION);

	nofile = req->orig_nofile;
	if (svc->rlimit_nofile.set)
		nofile.rlim_cur = nofile.rlim_max = svc->rlimit_nofile.value;
	if (setrlimit(RLIMIT_NOFILE, &nofile) == -1 ||
	    set_rlimit(RLIMIT_CPU, &svc->rlimit_cpu) == -1 ||
	    set_rlimit(RLIMIT_AS, &svc->rlimit_as) == -1 ||
	    set_rlimit(RLIMIT_NPROC, &svc->rlimit_nproc) == -1)
		child_fail(errfd, STAGE_RLIMIT);
	if (svc->nice_set && setpriority(PRIO_PROCESS, 0, svc->nice) == -1)
		child_fail(errfd, STAGE_NICE);
	if (svc->umask_set)
		(void)umask(svc->umask);
	if (svc->chroot != NULL && chroot(svc->chroot) == -1)
		child_fail(errfd, STAGE_CHROOT);
	if (chdir("/") == -1)
		child_fail(errfd, STAGE_CHROOT);
	if (req->as_root && (setgroups((size_t)svc->ngroups, svc->groups) ==
	    -1 || setgid(svc->gid) == -1 || setuid(svc->uid) == -1))
		child_fail(errfd, STAGE_CREDS);

	execve(svc->server, svc->args, req->envp);
	child_fail(errfd, STAGE_EXEC);
}

/*
 * Fork and exec svc's program on req->sock.  On success returns the new
 * child (its stderr read end, if any, in child->stderr_fd) and 0.  On
 * failure returns -1 with *fail filled in; the socket stays the caller's.
 */
int
spawn_child(const struct service *svc, const struct spawn_req *req,
    struct child **out, struct msg_spawn_fail *fail)
{
	struct setup_err	 se;
	struct child		*c;
	int			 errp[2], logp[2] = { -1, -1 };
	pid_t			 pid;
	ssize_t			 n;

	memset(fail, 0, sizeof(*fail));
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		fail->reason = SPAWN_FAIL_FORK;
		fail->error = errno;
		return -1;
	}
	if (pipe2(errp, O_CLOEXEC) == -1) {
		fail->reason = SPAWN_FAIL_FORK;
		fail->error = errno;
		free(c);
		return -1;
	}
	if (svc->stderr_mode == STDERR_LOG && pipe2(logp, O_CLOEXEC) == -1) {
		fail->reason = SPAWN_FAIL_FORK;
		fail->error = errno;
		goto fail;
	}
	if ((pid = fork()) == -1) {
		fail->reason = SPAWN_FAIL_FORK;
		fail->error = errno;
		goto fail;
	}
	if (pid == 0)
		child_exec(svc, req, logp[1], errp[1]);

	close(errp[1]);
	errp[1] = -1;
	if (logp[1] != -1) {
		close(logp[1]);
		logp[1] = -1;
	}
	do {
		n = read(errp[0], &se, sizeof(se));
	} while (n == -1 && errno == EINTR);
	close(errp[0]);
	errp[0] = -1;
	if (n != 0) {
		/* Setup failed: the child is exiting; collect it now. */
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		fail->reason = SPAWN_FAIL_EXEC;
		if (n == (ssize_t)sizeof(se)) {
			fail->error = se.error;
			fail->stage = se.stage;
		} else
			fail->error = n == -1 ? errno : EPROTO;
		goto fail;
	}
	c->pid = pid;
	c->conn = req->conn;
	(void)snprintf(c->service, sizeof(c->service), "%s", svc->name);
	c->start_ms = mono_ms();
	c->stderr_fd = logp[0];		/* owned by the child record */
	c->uid = req->as_root ? svc->uid : getuid();
	c->listen_fd = req->listen_fd;
	*out = c;
	return 0;
fail:
	if (errp[0] != -1)
		close(errp[0]);
	if (errp[1] != -1)
		close(errp[1]);
	if (logp[0] != -1)
		close(logp[0]);
	if (logp[1] != -1)
		close(logp[1]);
	free(c);
	return -1;
}

void
child_free(struct child *c)
{
	if (c == NULL)
		return;
	if (c->stderr_fd != -1)
		close(c->stderr_fd);
	free(c);
}
