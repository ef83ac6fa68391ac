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
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "portmuxd.h"
#include "proto.h"

/* A service's umask when it sets none, whatever the daemon's own. */
#define SPAWN_UMASK	022

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
 * How the child reports the step that failed: in memory it shares with
 * the monitor after vfork(), through a close-on-exec pipe after fork().
 */
struct report {
	int			 fd;	/* the pipe, or -1 */
	volatile struct setup_err *se;	/* shared memory, or NULL */
};

/*
 * Report the failed step to the monitor and die.  Nothing is written to
 * fd 2: with stderr = client it would reach the client, and the monitor
 * logs the failure with the step and errno anyway.
 */
static __dead void
child_fail(const struct report *r, int stage)
{
	struct setup_err	 se = { stage, errno };

	if (r->se != NULL) {
		r->se->stage = se.stage;
		r->se->error = se.error;
	} else
		(void)write(r->fd, &se, sizeof(se));
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
 * What else a process inherits from the one that forks it, put back to
 * the defaults of a fresh login so that the daemon's own start (nice,
 * ionice, chrt, taskset, setarch -R, a unit's OOMScoreAdjust= or
 * AmbientCapabilities=) never reaches a service: a child gets only what
 * the config sets.  Only system calls, on the child's own state: this
 * runs after vfork().  Without root some of it cannot be undone (an
 * unprivileged process cannot lower its own OOM score, nor always leave
 * a realtime policy), and then the inherited value stays rather than
 * every spawn failing; portmux.conf(5) says so.
 */
static void
child_reset(void)
{
	static const char	 zero[] = "0\n";
	struct sched_param	 sp;
	cpu_set_t		 all;
	int			 fd, pers;

	/* ioprio_set(IOPRIO_WHO_PROCESS, self, class none): follow nice. */
	(void)syscall(SYS_ioprio_set, 1, 0, 0);
	if ((fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC)) !=
	    -1) {
		(void)write(fd, zero, sizeof(zero) - 1);
		(void)close(fd);
	}
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (sched_getscheduler(0) != SCHED_OTHER) {
		memset(&sp, 0, sizeof(sp));
		(void)sched_setscheduler(0, SCHED_OTHER, &sp);
	}
	/* Every CPU: the kernel narrows it to what the cpuset allows. */
	memset(&all, 0xff, sizeof(all));
	(void)sched_setaffinity(0, sizeof(all), &all);
	/* Keep the persona, drop what weakens the program (setarch -R). */
	if ((pers = personality(0xffffffff)) != -1 && (pers &
	    (ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC | ADDR_COMPAT_LAYOUT)))
		(void)personality((unsigned long)pers & ~(unsigned long)
		    (ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC | ADDR_COMPAT_LAYOUT));
}

/*
 * The child, between fork and exec.  Order matters: descriptors first
 * (the socket becomes 0 and 1, nothing else survives), then signals,
 * session and limits while still privileged, chroot, and the credentials
 * last.  Never returns.
 */
static __dead void
child_exec(const struct service *svc, const struct spawn_req *req,
    int logw, const struct report *rep)
{
	struct report	 r = *rep;
	struct rlimit	 nofile;
	sigset_t	 set;
	int		 fd2;

	if (dup2(req->sock, STDIN_FILENO) == -1 ||
	    dup2(req->sock, STDOUT_FILENO) == -1)
		child_fail(&r, STAGE_FDS);
	switch (svc->stderr_mode) {
	case STDERR_LOG:
		fd2 = logw;
		break;
	case STDERR_CLIENT:
		fd2 = req->sock;
		break;
	default:
		if ((fd2 = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
			child_fail(&r, STAGE_FDS);
		break;
	}
	if (dup2(fd2, STDERR_FILENO) == -1)
		child_fail(&r, STAGE_FDS);
	/* The error pipe goes to 3 (close-on-exec), everything above dies. */
	if (r.fd != -1 && r.fd != 3) {
		if (dup3(r.fd, 3, O_CLOEXEC) == -1)
			child_fail(&r, STAGE_FDS);
		r.fd = 3;
	}
	closefrom(r.fd != -1 ? 4 : 3);
	/* The flag lives on the shared file description: programs expect
	 * a blocking socket. */
	if (fd_nonblock(STDIN_FILENO, false) == -1)
		child_fail(&r, STAGE_FDS);

	/*
	 * exec keeps "ignored" dispositions and the mask: reset both.  The
	 * monitor ignores SIGPIPE alone (signals_block() reset the rest at
	 * start) and handles none, so one call does it.
	 */
	(void)signal(SIGPIPE, SIG_DFL);
	sigemptyset(&set);
	if (sigprocmask(SIG_SETMASK, &set, NULL) == -1)
		child_fail(&r, STAGE_SIGNALS);
	if (setsid() == -1)
		child_fail(&r, STAGE_SESSION);

	nofile = req->orig_nofile;
	if (svc->rlimit_nofile.set)
		nofile.rlim_cur = nofile.rlim_max = svc->rlimit_nofile.value;
	if (setrlimit(RLIMIT_NOFILE, &nofile) == -1 ||
	    set_rlimit(RLIMIT_CPU, &svc->rlimit_cpu) == -1 ||
	    set_rlimit(RLIMIT_AS, &svc->rlimit_as) == -1 ||
	    set_rlimit(RLIMIT_NPROC, &svc->rlimit_nproc) == -1)
		child_fail(&r, STAGE_RLIMIT);
	if (setpriority(PRIO_PROCESS, 0, svc->nice_set ? svc->nice : 0) ==
	    -1 && (svc->nice_set || req->as_root))
		child_fail(&r, STAGE_NICE);
	child_reset();
	(void)umask(svc->umask_set ? svc->umask : SPAWN_UMASK);
	if (svc->chroot != NULL && chroot(svc->chroot) == -1)
		child_fail(&r, STAGE_CHROOT);
	if (chdir("/") == -1)
		child_fail(&r, STAGE_CHROOT);
	if (req->as_root && (setgroups((size_t)svc->ngroups, svc->groups) ==
	    -1 || setgid(svc->gid) == -1 || setuid(svc->uid) == -1))
		child_fail(&r, STAGE_CREDS);

	execve(svc->server, svc->args, req->envp);
	child_fail(&r, STAGE_EXEC);
}

/*
 * vfork() where possible: the monitor is suspended until the child has
 * exec'd, but no page table is copied, which is most of what a spawn
 * costs.  The child only makes system calls on memory prepared before
 * (no malloc, nothing the parent keeps is written but the report).
 * Under AddressSanitizer, which cannot follow a child sharing its
 * memory, plain fork() with a report pipe.
 */
#ifdef __SANITIZE_ADDRESS__
#define SPAWN_VFORK	0
#else
#define SPAWN_VFORK	1
#endif

static pid_t
spawn_fork(const struct service *svc, const struct spawn_req *req, int logw,
    const struct report *r)
{
	pid_t	 pid;

	pid = SPAWN_VFORK ? vfork() : fork();
	if (pid == 0)
		child_exec(svc, req, logw, r);
	return pid;
}

/* Did the child exec?  0, or -1 with the step and errno in se. */
static int
spawn_result(pid_t pid, int errfd, volatile struct setup_err *shared,
    struct setup_err *se)
{
	ssize_t	 n;

	if (errfd == -1) {
		/* vfork: the child has exec'd or died by now. */
		se->stage = shared->stage;
		se->error = shared->error;
	} else {
		do {
			n = read(errfd, se, sizeof(*se));
		} while (n == -1 && errno == EINTR);
		if (n == 0)
			return 0;
		if (n != (ssize_t)sizeof(*se)) {
			se->stage = STAGE_EXEC;
			se->error = n == -1 ? errno : EPROTO;
		}
	}
	if (se->stage == 0)
		return 0;
	/* Setup failed: the child is exiting; collect it now. */
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
	return -1;
}

/*
 * Start svc's program on req->sock.  On success returns the new child
 * (its stderr read end, if any, in child->stderr_fd) and 0.  On failure
 * returns -1 with *fail filled in; the socket stays the caller's.
 */
int
spawn_child(const struct service *svc, const struct spawn_req *req,
    struct child **out, struct msg_spawn_fail *fail)
{
	volatile struct setup_err shared = { 0, 0 };
	struct setup_err	 se = { 0, 0 };
	struct report		 rep = { -1, NULL };
	struct child		*c;
	int			 errp[2] = { -1, -1 }, logp[2] = { -1, -1 };
	pid_t			 pid;

	memset(fail, 0, sizeof(*fail));
	fail->reason = SPAWN_FAIL_FORK;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		fail->error = errno;
		return -1;
	}
	if (SPAWN_VFORK)
		rep.se = &shared;
	else if (pipe2(errp, O_CLOEXEC) == -1) {
		fail->error = errno;
		goto fail;
	}
	rep.fd = errp[1];
	if (svc->stderr_mode == STDERR_LOG && pipe2(logp, O_CLOEXEC) == -1) {
		fail->error = errno;
		goto fail;
	}
	/* Before the fork: the child may run a while before we do. */
	c->start_ms = mono_ms();
	if ((pid = spawn_fork(svc, req, logp[1], &rep)) == -1) {
		fail->error = errno;
		goto fail;
	}
	if (errp[1] != -1) {
		close(errp[1]);
		errp[1] = -1;
	}
	if (logp[1] != -1) {
		close(logp[1]);
		logp[1] = -1;
	}
	if (spawn_result(pid, errp[0], &shared, &se) == -1) {
		fail->reason = SPAWN_FAIL_EXEC;
		fail->error = se.error;
		fail->stage = se.stage;
		goto fail;
	}
	if (errp[0] != -1)
		close(errp[0]);
	c->pid = pid;
	c->conn = req->conn;
	(void)snprintf(c->service, sizeof(c->service), "%s", svc->name);
	c->stderr_fd = logp[0];		/* owned by the child record */
	c->uid = req->as_root ? svc->uid : getuid();
	c->listen_fd = req->listen_fd;
	c->wait = req->listen_fd != -1;
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
