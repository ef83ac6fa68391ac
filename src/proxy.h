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
 * The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1
 * and 2) that a load balancer sends first on a TCP connection.  The
 * parser is pure and keeps no state: the reader calls it again on the
 * grown buffer of peeked bytes until it answers PROXY_DONE or PROXY_BAD.
 */

#ifndef PROXY_H
#define PROXY_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>

#define PROXY_V1	0x1	/* accepted versions: a bit mask */
#define PROXY_V2	0x2
#define PROXY_V1_MAX	107	/* the spec's longest v1 line, CRLF included */
#define PROXY_V2_TLV_MAX 1024	/* v2: most bytes after the 16-byte head */
#define PROXY_MAX	(16 + PROXY_V2_TLV_MAX) /* what a reader must buffer */

enum proxy_result {
	PROXY_BAD = -1,		/* can never become a valid header */
	PROXY_MORE = 0,		/* a strict prefix of one that could be */
	PROXY_DONE = 1,		/* a whole header, out filled */
};

/*
 * What a header said.  On PROXY_DONE with local set there are no
 * addresses (v1 UNKNOWN, v2 LOCAL or UNSPEC): src and dst stay zeroed
 * and the socket's own addresses are the ones to keep.  Otherwise both
 * are AF_INET or both AF_INET6, ports in network order.
 */
struct proxy_hdr {
	size_t			 len;	/* header bytes, before the payload */
	int			 version;	/* 1 or 2 */
	bool			 local;	/* no addresses: keep the socket's */
	struct sockaddr_storage	 src, dst;
	socklen_t		 srclen, dstlen;
	const char		*why;	/* PROXY_BAD: static, lowercase */
};

/* What proxy_build() may write: a v1 line of TCP6, or a v2 TCP6 header. */
#define PROXY_OUT_MAX	PROXY_V1_MAX

/* proxy.c */
enum proxy_result proxy_parse(const unsigned char *, size_t, unsigned int,
		    struct proxy_hdr *);
size_t		 proxy_build(unsigned int, const struct sockaddr *,
		    const struct sockaddr *, unsigned char *, size_t);

#endif /* PROXY_H */
