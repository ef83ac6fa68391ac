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
 * Small helpers shared by both processes: socket address formatting (an
 * IPv4-mapped IPv6 peer is an IPv4 peer everywhere it is shown), the
 * monotonic clock, descriptor flags.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "portmuxd.h"

/* Rewrite an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as AF_INET. */
void
sa_normalize(struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in	 s4;

	if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return;
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = s6->sin6_port;
	memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &s4, sizeof(s4));
	*len = sizeof(s4);
}

/*
 * Copy an IPv4 or IPv6 address into ss, an IPv4-mapped one rewritten as
 * IPv4: every check and grouping sees a client as the address it is.
 * -1 for another family.
 */
int
sa_copy_norm(const struct sockaddr *sa, struct sockaddr_storage *ss)
{
	socklen_t	 len = sizeof(*ss);

	memset(ss, 0, sizeof(*ss));
	if (sa->sa_family == AF_INET)
		memcpy(ss, sa, sizeof(struct sockaddr_in));
	else if (sa->sa_family == AF_INET6)
		memcpy(ss, sa, sizeof(struct sockaddr_in6));
	else
		return -1;
	sa_normalize(ss, &len);
	return 0;
}

/*
 * FNV-1a over len bytes, started from a seed the sender cannot guess,
 * then mixed.  FNV's low bits depend only on the low bits of each byte
 * and of the seed, and every table takes its slot from the low bits:
 * unmixed, sources that differ only in the high bits of their bytes
 * (addresses an attacker picks) would all share a few chains.
 */
uint64_t
hash_bytes(const void *p, size_t len, uint64_t h)
{
	const uint8_t	*b = p;
	size_t		 i;

	h ^= 1469598103934665603ULL;
	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* The address as text and the port in host order; -1 on another family. */
/*
 * The chain heads of a table of max entries linked by uint32_t indices,
 * UINT32_MAX for none: a power of two of them, at least max, all empty.
 * max is at most 2^31, so that the count fits a 32-bit size_t.
 */
uint32_t *
hash_heads(size_t max, size_t *n)
{
	uint32_t	*h;
	size_t		 i, m = 1;

	if (max < 1 || max > (size_t)1 << 31) {
		errno = EINVAL;
		return NULL;
	}
	while (m < max)
		m <<= 1;
	if ((h = reallocarray(NULL, m, sizeof(*h))) == NULL)
		return NULL;
	for (i = 0; i < m; i++)
		h[i] = UINT32_MAX;
	*n = m;
	return h;
}

int
sa_ntop(const struct sockaddr *sa, char *ip, size_t iplen, uint16_t *port)
{
	struct sockaddr_storage	 ss;
	const void		*a;

	if (sa_copy_norm(sa, &ss) == -1) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		a = &s4->sin_addr;
		*port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		a = &s6->sin6_addr;
		*port = ntohs(s6->sin6_port);
	}
	if (inet_ntop(ss.ss_family, a, ip, (socklen_t)iplen) == NULL)
		return -1;
	return ss.ss_family;
}

/* "192.0.2.7:53422" or "[2001:db8::9]:40022", as the log writes peers. */
size_t
sa_fmt(const struct sockaddr *sa, char *buf, size_t size)
{
	char		 ip[INET6_ADDRSTRLEN];
	uint16_t	 port;
	int		 fam, n;

	if ((fam = sa_ntop(sa, ip, sizeof(ip), &port)) == -1)
		n = snprintf(buf, size, "unknown");
	else if (fam == AF_INET6)
		n = snprintf(buf, size, "[%s]:%u", ip, port);
	else
		n = snprintf(buf, size, "%s:%u", ip, port);
	return n < 0 ? 0 : (size_t)n;
}

static uint64_t
mono_ns(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

uint64_t
mono_ms(void)
{
	return mono_ns() / 1000000;
}

uint64_t
mono_us(void)
{
	return mono_ns() / 1000;
}

/* Bans end at a wall clock time: they outlive a reboot of the engine. */
uint64_t
wall_ms(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
fd_nonblock(int fd, bool on)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl);
}

void
ms_timeval(struct timeval *tv, uint64_t ms)
{
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)(ms % 1000) * 1000;
}

/*
 * The ends of fd, for the connections table; "" if not known.  A unix
 * peer is told by its credentials, as the log names it.
 */
void
fd_peer_fmt(int fd, char *buf, size_t size)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct ucred		 cr;
	socklen_t		 crlen = sizeof(cr);

	buf[0] = '\0';
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		return;
	if (ss.ss_family != AF_UNIX)
		(void)sa_fmt((struct sockaddr *)&ss, buf, size);
	else if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == 0)
		(void)snprintf(buf, size, "uid:%u/pid:%ld", (unsigned)cr.uid,
		    (long)cr.pid);
}

void
fd_local_fmt(int fd, char *buf, size_t size)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	buf[0] = '\0';
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    ss.ss_family != AF_UNIX)
		(void)sa_fmt((struct sockaddr *)&ss, buf, size);
}
