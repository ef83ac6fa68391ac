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

#ifndef UDPADDR_H
#define UDPADDR_H

#include <sys/types.h>
#include <sys/socket.h>

#define UDPADDR_CMSG_ROOM	64	/* one in_pktinfo or in6_pktinfo */

struct elistener;

/* Where a datagram went, on a wildcard socket; len 0: not known. */
struct udpdest {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 ifindex;
};

int	 udpaddr_listener(struct elistener *);
void	 udpaddr_dest(const struct elistener *, struct msghdr *,
	    struct udpdest *);
ssize_t	 udpaddr_recv(const struct elistener *, const char *, void *, size_t,
	    struct sockaddr_storage *, socklen_t *, struct udpdest *);
ssize_t	 udpaddr_send(int, const void *, size_t, const struct sockaddr *,
	    socklen_t, const struct udpdest *);

#endif
