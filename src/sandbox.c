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
 * The engine's sandbox.  The engine reads the network, so it is the half
 * an attacker gets first; what it may still do once set up is decided
 * here, in one place:
 *
 *  - its root is an empty directory that no longer exists (made, entered
 *    and removed before the chroot), so no path names anything and nothing
 *    can be created under it;
 *  - where the kernel has Landlock, a ruleset without a single rule: no
 *    file or directory is opened, made or removed through any path, and
 *    from Landlock ABI 6 on, no abstract unix socket outside is reached
 *    and no process outside signalled.  It needs no privilege, so an
 *    engine started by an ordinary user, which cannot chroot, gets it;
 *  - a seccomp filter allows exactly the calls of its event loop, grouped
 *    below with the reason for each group.
 *
 * A call outside the list traps (SECCOMP_RET_TRAP) rather than killing
 * outright (SECCOMP_RET_KILL_PROCESS): a killed process leaves its parent
 * only "signal 31", while the trap's siginfo names the call.  The handler
 * writes the call's number on a pipe to the monitor, then makes the one
 * call the filter answers with SECCOMP_RET_KILL_PROCESS (vhangup, which
 * nothing in the engine makes and which needs a capability it lacks).  A
 * call the filter forbids is never carried out either way; an engine
 * taken over could only keep itself alive by catching SIGSYS, and gain
 * nothing.
 */

#include "config.h"

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN	1
#endif
#endif

/*
 * A build with gcov links its runtime, which writes the counters to files
 * when the process exits: then the engine keeps the real root and may
 * open files.  Weak, so that a normal build sees NULL.
 */
extern void	 __gcov_dump(void) __attribute__((weak));

/* The signal handler's only way to the monitor. */
static int	 trap_fd = -1;

const char *
sandbox_relaxed(void)
{
#ifdef SANDBOX_ASAN
	/*
	 * LeakSanitizer stops the process at exit with a ptrace'ing clone
	 * that reads /proc: it needs the real root and those calls.
	 */
	return "AddressSanitizer build";
#else
	if (__gcov_dump != NULL)
		return "coverage build";
	return NULL;
#endif
}

/*
 * Called as root, before the uid changes: chroot needs CAP_SYS_CHROOT.
 * The directory is private (mkdtemp, 0700, root's) and is removed while
 * we stand in it, so the root we end up with is a dead directory.  1 if
 * done, 0 if this build keeps the root, -1 with errno.
 */
int
sandbox_chroot(void)
{
	char	 dir[] = "/tmp/portmuxd-engine.XXXXXX";
	int	 saved;

	if (sandbox_relaxed() != NULL)
		return 0;
	if (mkdtemp(dir) == NULL)
		return -1;
	if (chdir(dir) == -1) {
		saved = errno;
		(void)rmdir(dir);
		errno = saved;
		return -1;
	}
	if (rmdir(dir) == -1 || chroot(".") == -1 || chdir("/") == -1)
		return -1;
	return 1;
}

/*
 * The kernel's headers may be older than the kernel: the ruleset as of
 * Landlock ABI 6, and the access rights each ABI added, spelled here.
 */
struct ll_ruleset_attr {
	uint64_t	 handled_access_fs;
	uint64_t	 handled_access_net;
	uint64_t	 scoped;
};
#define LL_FS_V1	((1ULL << 13) - 1)	/* EXECUTE .. MAKE_SYM */
#define LL_FS_REFER	(1ULL << 13)		/* ABI 2 */
#define LL_FS_TRUNCATE	(1ULL << 14)		/* ABI 3 */
#define LL_FS_IOCTL_DEV	(1ULL << 15)		/* ABI 5 */
#define LL_SCOPE_ABSTRACT_UNIX	(1ULL << 0)	/* ABI 6 */
#define LL_SCOPE_SIGNAL		(1ULL << 1)	/* ABI 6 */

/*
 * Restrict ourselves with a Landlock ruleset that handles every access
 * right the kernel knows and grants none.  The ABI used, 0 when the
 * kernel has no Landlock (then the chroot and the filter remain), -1
 * with errno on a failure.  Needs no_new_privs, which the engine has.
 */
int
sandbox_landlock(void)
{
	struct ll_ruleset_attr	 ra;
	size_t			 size;
	long			 abi;
	int			 fd, saved;

	if (sandbox_relaxed() != NULL)
		return 0;
	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi <= 0)
		return errno == ENOSYS || errno == EOPNOTSUPP ? 0 : -1;
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = LL_FS_V1;
	size = sizeof(ra.handled_access_fs);
	if (abi >= 2)
		ra.handled_access_fs |= LL_FS_REFER;
	if (abi >= 3)
		ra.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 4)
		size = offsetof(struct ll_ruleset_attr, scoped);
	if (abi >= 5)
		ra.handled_access_fs |= LL_FS_IOCTL_DEV;
	if (abi >= 6) {
		ra.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		size = sizeof(ra);
	}
	if ((fd = (int)syscall(SYS_landlock_create_ruleset, &ra, size, 0)) ==
	    -1)
		return -1;
	if (syscall(SYS_landlock_restrict_self, fd, 0) == -1) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		return -1;
	}
	(void)close(fd);
	return (int)abi;
}

static void
sigsys_handler(int sig __attribute__((unused)), siginfo_t *si,
    void *ctx __attribute__((unused)))
{
	struct sandbox_trap	 t;

	t.nr = si->si_syscall;
	t.arch = si->si_arch;
	if (trap_fd != -1)
		(void)!write(trap_fd, &t, sizeof(t));
	(void)syscall(SYS_vhangup);
	_exit(127);		/* not reached */
}

struct rule {
	int		 nr;
	unsigned int	 nargs;
	struct scmp_arg_cmp arg[2];
};

#define ANY(name)		{ .nr = SCMP_SYS(name) }
#define ARG1(name, a)		{ .nr = SCMP_SYS(name), .nargs = 1, .arg = { a } }
#define ARG2(name, a, b)	{ .nr = SCMP_SYS(name), .nargs = 2, \
				    .arg = { a, b } }

/*
 * Everything the engine's loop calls once it runs.  Setup (event base,
 * listeners, signals, the shared tables) is done before the filter.
 */
static const struct rule rules[] = {
	/* The loop itself: libevent's epoll backend and its clock. */
	ANY(epoll_wait), ANY(epoll_pwait), ANY(epoll_ctl), ANY(poll),
	ANY(clock_gettime), ANY(gettimeofday), ANY(time),

	/*
	 * Bytes on descriptors it holds: clients, relays (splice through a
	 * pipe), children's stderr, the monitor's channel (SCM_RIGHTS).
	 */
	ANY(read), ANY(readv), ANY(write), ANY(writev),
	ANY(recvfrom), ANY(recvmsg), ANY(recvmmsg),
	ANY(sendto), ANY(sendmsg), ANY(sendmmsg),
	ANY(splice), ANY(pipe2), ANY(close), ANY(shutdown),
	ANY(dup), ANY(dup2), ANY(dup3), ANY(fstat),

	/* Accepting on its listeners, and the relays' outbound side. */
	ANY(accept), ANY(accept4),
	ARG1(socket, SCMP_A0(SCMP_CMP_EQ, AF_INET)),
	ARG1(socket, SCMP_A0(SCMP_CMP_EQ, AF_INET6)),
	ANY(connect), ANY(bind), ANY(listen),
	ANY(getsockname), ANY(getpeername), ANY(getsockopt), ANY(setsockopt),

	/* getifaddrs(3), for the host's own addresses (localsrc.c): a
	 * route netlink socket, which reads without privilege. */
	ARG2(socket, SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
	    SCMP_A2(SCMP_CMP_EQ, NETLINK_ROUTE)),

	/* Flags of its descriptors, and the few ioctls libevent and the
	 * stderr reader use (bytes waiting, bytes unsent). */
	ARG1(fcntl, SCMP_A1(SCMP_CMP_EQ, F_GETFD)),
	ARG1(fcntl, SCMP_A1(SCMP_CMP_EQ, F_SETFD)),
	ARG1(fcntl, SCMP_A1(SCMP_CMP_EQ, F_GETFL)),
	ARG1(fcntl, SCMP_A1(SCMP_CMP_EQ, F_SETFL)),
	ARG1(fcntl, SCMP_A1(SCMP_CMP_EQ, F_DUPFD_CLOEXEC)),
	ARG1(fcntl, SCMP_A1(SCMP_CMP_EQ, F_GETPIPE_SZ)),
	ARG1(fcntl, SCMP_A1(SCMP_CMP_EQ, F_SETPIPE_SZ)),
	ARG1(ioctl, SCMP_A1(SCMP_CMP_EQ, FIONREAD)),
	ARG1(ioctl, SCMP_A1(SCMP_CMP_EQ, FIONBIO)),
	ARG1(ioctl, SCMP_A1(SCMP_CMP_EQ, SIOCOUTQ)),

	/* Memory for malloc and libevent's buffers, never executable. */
	ANY(brk), ANY(munmap), ANY(mremap), ANY(madvise),
	ARG1(mmap, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
	ARG1(mprotect, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),

	/* Signals: TERM through libevent, SIGSYS's handler, abort(3). */
	ANY(rt_sigaction), ANY(rt_sigprocmask), ANY(rt_sigreturn),
	ANY(restart_syscall), ANY(getpid), ANY(gettid), ANY(tgkill),

	/* Seeds for the refusal summaries' and knock tables' tokens. */
	ANY(getrandom),

	/* Leaving. */
	ANY(exit), ANY(exit_group),
};

/* What the sanitizer and gcov runtimes add, in builds that have them. */
static const struct rule relaxed_rules[] = {
	ANY(open), ANY(openat), ANY(newfstatat), ANY(lseek), ANY(access),
	ANY(mkdir), ANY(readlink), ANY(getdents64), ANY(fcntl), ANY(ioctl),
	ANY(clone), ANY(clone3), ANY(ptrace), ANY(wait4), ANY(prctl),
	ANY(sched_yield), ANY(sigaltstack), ANY(futex), ANY(getppid),
	ANY(sched_getaffinity), ANY(prlimit64), ANY(nanosleep),
	ANY(clock_nanosleep), ANY(set_robust_list), ANY(rseq), ANY(kill),
	ANY(getuid), ANY(geteuid), ANY(mmap), ANY(mprotect), ANY(uname),
};

static int
add_rules(scmp_filter_ctx ctx, const struct rule *r, size_t n)
{
	size_t	 i;
	int	 rc;

	for (i = 0; i < n; i++) {
		/* A call this architecture lacks has a negative number. */
		if (r[i].nr < 0)
			continue;
		if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, r[i].nr,
		    r[i].nargs, r[i].arg)) < 0)
			return rc;
	}
	return 0;
}

/*
 * Install the filter; fd is where a trapped call is reported.  -1 with
 * errno set when the kernel or libseccomp refuses.
 */
int
sandbox_filter(int fd)
{
	struct sigaction	 sa;
	scmp_filter_ctx		 ctx;
	int			 rc;

	trap_fd = fd;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys_handler;
	sa.sa_flags = SA_SIGINFO;
	(void)sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1)
		return -1;
	if ((ctx = seccomp_init(SCMP_ACT_TRAP)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	/* A call through another ABI (x32, i386) is never legitimate. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS,
		    SCMP_SYS(vhangup), 0);
	if (rc == 0)
		rc = add_rules(ctx, rules, sizeof(rules) / sizeof(rules[0]));
	if (rc == 0 && sandbox_relaxed() != NULL)
		rc = add_rules(ctx, relaxed_rules,
		    sizeof(relaxed_rules) / sizeof(relaxed_rules[0]));
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

/* What PORTMUXD_SANDBOX_SELFTEST asks for: what an intruder would do. */
void
sandbox_selftest(void)
{
	static char	 sh[] = "sh";
	char		*argv[] = { sh, NULL };

	(void)execve("/bin/sh", argv, NULL);
}

/* The call's name for the log, or its number when libseccomp lacks it. */
const char *
sandbox_syscall_name(const struct sandbox_trap *t, char *buf, size_t size)
{
	char	*name;

	name = seccomp_syscall_resolve_num_arch(t->arch, t->nr);
	(void)snprintf(buf, size, "%s", name != NULL ? name : "unknown");
	free(name);
	return buf;
}
