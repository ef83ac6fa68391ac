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
 * Two engines on one shared table, as a reload has them: run(arg, who)
 * in two forked processes (who 1 and 2), released at once through a
 * pipe so that they overlap; each must exit 0.  For cmocka tests.
 */

#ifndef RACE_H
#define RACE_H

#include <sys/types.h>
#include <sys/wait.h>

#include <stdint.h>
#include <unistd.h>

static void
race2(int (*run)(void *, uint32_t), void *arg)
{
	pid_t	 pid[2];
	int	 go[2], st, i;
	char	 c;

	assert_int_equal(pipe(go), 0);
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		assert_true(pid[i] != -1);
		if (pid[i] == 0) {
			(void)close(go[1]);
			if (read(go[0], &c, 1) != 1)
				_exit(2);
			_exit(run(arg, (uint32_t)i + 1));
		}
	}
	(void)close(go[0]);
	/* Both start at once: each reads its byte. */
	assert_int_equal(write(go[1], "gg", 2), 2);
	(void)close(go[1]);
	for (i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
}

#endif
