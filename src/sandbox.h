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
 * The engine's sandbox: an empty root and a seccomp allow list.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a trapped engine writes on its trap pipe before it dies. */
struct sandbox_trap {
	int32_t		 nr;		/* the system call's number */
	uint32_t	 arch;		/* AUDIT_ARCH_* of the call */
};

/* The environment variable that makes an engine try a forbidden call. */
#define SANDBOX_SELFTEST_ENV	"PORTMUXD_SANDBOX_SELFTEST"

/* Why a sandbox is weaker than the full one, or NULL when it is not. */
const char	*sandbox_relaxed(void);
int		 sandbox_chroot(void);
int		 sandbox_landlock(void);
int		 sandbox_filter(int);
void		 sandbox_selftest(void);
const char	*sandbox_syscall_name(const struct sandbox_trap *, char *,
		    size_t);

#endif /* SANDBOX_H */
