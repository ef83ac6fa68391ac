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

/* The builtins' pure protocol logic, testable without an event loop. */

#ifndef BUILTIN_H
#define BUILTIN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define RFC868_EPOCH_OFFSET	2208988800ULL	/* 1900-01-01 to 1970-01-01 */
#define CHARGEN_LINE		74		/* 72 characters + CRLF */

#define UDP_CHARGEN_MAX		512		/* RFC 864: 0-512 bytes */

struct sockaddr;
enum builtin;

void	 builtin_time_fmt(time_t, uint8_t[4]);
size_t	 builtin_daytime_fmt(time_t, char *, size_t);
void	 builtin_chargen_line(uint64_t, char[CHARGEN_LINE]);
int	 builtin_udp_source_ok(const struct sockaddr *);
int	 udp_source_real(const struct sockaddr *, uint16_t *);
long	 builtin_udp_reply(int, const void *, size_t, void *, size_t, time_t,
	    uint32_t);

#endif /* BUILTIN_H */
