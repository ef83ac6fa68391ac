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
 * Unit tests of sandbox.c.  Each filter goes into a forked child, since
 * a filter cannot be taken off again: the child makes the calls of the
 * engine's loop and lives, or makes one forbidden call and must die by
 * SIGSYS with that call's number on the trap pipe.  The chroot, as root
 * only, must leave a root where no path names anything and nothing can
 * be made, and no directory behind.  The Landlock ruleset, for anyone,
 * must refuse every path while descriptors already open keep working.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox.h"

/* Run fn in a child under the filter; its wait status, trap in *t. */
static int
run_filtered(int (*fn)(void), struct sandbox_trap *t, bool *trapped)
{
	int	 tp[2], st;
	pid_t	 pid;

	assert_int_equal(pipe2(tp, O_CLOEXEC | O_NONBLOCK), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		close(tp[0]);
		if (sandbox_filter(tp[1]) == -1)
			_exit(100);
		_exit(fn());
	}
	close(tp[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	*trapped = read(tp[0], t, sizeof(*t)) == (ssize_t)sizeof(*t);
	close(tp[0]);
	return st;
}

/* What the engine's loop does: every one of these must be let through. */
static int
loop_calls(void)
{
	struct timespec	 ts;
	char		 buf[64], *big;
	int		 p[2], s4, s6, fl;
	uint32_t	 r;

	if ((s4 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    (s6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return 1;
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == -1 || write(p[1], "x", 1) != 1 ||
	    read(p[0], buf, sizeof(buf)) != 1)
		return 2;
	if ((fl = fcntl(s4, F_GETFL)) == -1 ||
	    fcntl(s4, F_SETFL, fl | O_NONBLOCK) == -1)
		return 3;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1 ||
	    getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return 4;
	/* Past the mmap threshold: malloc maps, free unmaps. */
	if ((big = malloc(8 << 20)) == NULL)
		return 5;
	memset(big, 1, 8 << 20);
	free(big);
	close(s4);
	close(s6);
	close(p[0]);
	close(p[1]);
	return 0;
}

static void
test_sandbox_allows_loop(void **state)
{
	struct sandbox_trap	 t;
	bool			 trapped;
	int			 st;

	(void)state;
	st = run_filtered(loop_calls, &t, &trapped);
	if (WIFSIGNALED(st))
		fail_msg("killed by signal %d (trapped call %d)", WTERMSIG(st),
		    trapped ? t.nr : -1);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_false(trapped);
}

static int
call_unix_socket(void)
{
	return socket(AF_UNIX, SOCK_STREAM, 0) == -1 ? 1 : 0;
}

static int
call_packet_socket(void)
{
	return socket(AF_PACKET, SOCK_DGRAM, 0) == -1 ? 1 : 0;
}

static int
call_execve(void)
{
	sandbox_selftest();
	return 1;
}

static int
call_open(void)
{
	return open("/etc/passwd", O_RDONLY | O_CLOEXEC) == -1 ? 1 : 0;
}

static int
call_exec_mapping(void)
{
	return mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? 1 : 0;
}

static int
call_kill(void)
{
	/* What a taken-over engine would aim at: another process. */
	return kill(1, 0) == -1 ? 1 : 0;
}

static void
expect_trap(int (*fn)(void), long nr, const char *name)
{
	struct sandbox_trap	 t;
	char			 buf[64];
	bool			 trapped;
	int			 st;

	st = run_filtered(fn, &t, &trapped);
	if (!WIFSIGNALED(st))
		fail_msg("%s: not killed, exit %d", name, WEXITSTATUS(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	assert_true(trapped);
	assert_int_equal(t.nr, nr);
	assert_string_equal(sandbox_syscall_name(&t, buf, sizeof(buf)), name);
}

static void
test_sandbox_traps(void **state)
{
	(void)state;
	expect_trap(call_unix_socket, SYS_socket, "socket");
	expect_trap(call_packet_socket, SYS_socket, "socket");
	expect_trap(call_execve, SYS_execve, "execve");
	/* What the sanitizer and gcov runtimes need, those builds allow. */
	if (sandbox_relaxed() != NULL)
		return;
	expect_trap(call_open, SYS_openat, "openat");
	expect_trap(call_exec_mapping, SYS_mmap, "mmap");
	expect_trap(call_kill, SYS_kill, "kill");
}

static void
test_sandbox_name_unknown(void **state)
{
	struct sandbox_trap	 t = { 99999, 0 };
	char			 buf[64];

	(void)state;
	assert_string_equal(sandbox_syscall_name(&t, buf, sizeof(buf)),
	    "unknown");
}

static size_t
leftovers(void)
{
	glob_t	 g;
	size_t	 n;

	if (glob("/tmp/portmuxd-engine.*", GLOB_NOSORT, NULL, &g) != 0)
		return 0;
	n = g.gl_pathc;
	globfree(&g);
	return n;
}

static int
in_chroot(void)
{
	struct stat	 st;

	if (sandbox_chroot() == -1)
		return 10;
	if (stat("/etc/passwd", &st) == 0 || errno != ENOENT)
		return 11;
	if (stat("/tmp", &st) == 0)
		return 12;
	if (mkdir("/x", 0700) == 0 || open("/f", O_WRONLY | O_CREAT |
	    O_CLOEXEC, 0600) != -1)
		return 13;
	if (chdir("..") == -1 || stat("etc", &st) == 0)
		return 14;
	return 0;
}

static void
test_sandbox_chroot(void **state)
{
	size_t	 before;
	pid_t	 pid;
	int	 st;

	(void)state;
	if (geteuid() != 0)
		skip();
	if (sandbox_relaxed() != NULL)
		skip();
	before = leftovers();
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0)
		_exit(in_chroot());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(leftovers(), before);
}

/* No path opens, whoever we are; descriptors opened before still work. */
static int
in_landlock(const char *dir)
{
	char	 sub[64];
	int	 before, abi;

	if ((before = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
		return 20;
	(void)snprintf(sub, sizeof(sub), "%s/x", dir);
	if ((abi = sandbox_landlock()) == 0)
		return 77;
	if (abi < 0)
		return 21;
	if (open("/etc/passwd", O_RDONLY | O_CLOEXEC) != -1 || errno != EACCES)
		return 22;
	if (mkdir(sub, 0700) != -1 || errno != EACCES)
		return 23;
	if (rmdir(dir) != -1)
		return 24;
	if (write(before, "x", 1) != 1)
		return 25;
	return 0;
}

static void
test_sandbox_landlock(void **state)
{
	char	 dir[] = "/tmp/test_sandbox.XXXXXX";
	pid_t	 pid;
	int	 st;

	(void)state;
	if (sandbox_relaxed() != NULL)
		skip();
	assert_non_null(mkdtemp(dir));
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		/* Landlock wants no_new_privs, as the engine has it. */
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
			_exit(19);
		_exit(in_landlock(dir));
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(rmdir(dir), 0);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(st), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sandbox_allows_loop),
		cmocka_unit_test(test_sandbox_traps),
		cmocka_unit_test(test_sandbox_name_unknown),
		cmocka_unit_test(test_sandbox_chroot),
		cmocka_unit_test(test_sandbox_landlock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
