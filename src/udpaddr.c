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
 * Answering a datagram from the address it was sent to.  On a wildcard
 * socket the kernel would pick the source of an answer by route, which
 * on a multi-homed host may be another address than the client wrote
 * to; a client that connected its socket then drops the answer.  So a
 * wildcard socket asks for IP_PKTINFO (IPV6_RECVPKTINFO), and answers
 * name that address in their own IP_PKTINFO (IPV6_PKTINFO).  Used by
 * the UDP builtins (udp.c) and the UDP redirect (udprelay.c).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <string.h>

#include "engine.h"
#include "log.h"
#include "portmuxd.h"
#include "udpaddr.h"

/* A wildcard socket says where each datagram went, to answer from it. */
int
udpaddr_listener(struct elistener *el)
{
	int	 one = 1;

	if (!el->l->addr.wildcard)
		return 0;
	if (el->l->addr.ss.ss_family == AF_INET)
		return setsockopt(el->l->fd, IPPROTO_IP, IP_PKTINFO, &one,
		    sizeof(one));
	return setsockopt(el->l->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
	    sizeof(one));
}

static uint16_t
sa_port_n(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ?
	    ((const struct sockaddr_in *)ss)->sin_port :
	    ((const struct sockaddr_in6 *)ss)->sin6_port;
}

/*
 * Where the datagram mh received on el was sent to, from IP_PKTINFO or
 * IPV6_PKTINFO; d->len 0 on a bound socket (the socket's own address is
 * the answer's) or without the message.
 */
void
udpaddr_dest(const struct elistener *el, struct msghdr *mh,
    struct udpdest *d)
{
	sa_family_t	 family = el->l->addr.ss.ss_family;
	uint16_t	 port = sa_port_n(&el->l->addr.ss);
	struct cmsghdr	*c;

	d->len = 0;
	d->ifindex = 0;
	if (!el->l->addr.wildcard)
		return;
	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (family == AF_INET && c->cmsg_level == IPPROTO_IP &&
		    c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo	 pi;
			struct sockaddr_in	*s4 =
			    (struct sockaddr_in *)&d->ss;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memset(s4, 0, sizeof(*s4));
			s4->sin_family = AF_INET;
			s4->sin_port = port;
			s4->sin_addr = pi.ipi_addr;
			d->len = sizeof(*s4);
			d->ifindex = pi.ipi_ifindex;
			return;
		}
		if (family == AF_INET6 && c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo	 pi;
			struct sockaddr_in6	*s6 =
			    (struct sockaddr_in6 *)&d->ss;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memset(s6, 0, sizeof(*s6));
			s6->sin6_family = AF_INET6;
			s6->sin6_port = port;
			s6->sin6_addr = pi.ipi6_addr;
			d->len = sizeof(*s6);
			d->ifindex = (int)pi.ipi6_ifindex;
			return;
		}
	}
}

/*
 * Send buf to peer through fd, from d's address when it is known (else
 * from the kernel's choice, right on a bound socket).  Nonblocking: a
 * full socket buffer drops the datagram, as UDP may.
 */
ssize_t
udpaddr_send(int fd, const void *buf, size_t n, const struct sockaddr *peer,
    socklen_t peerlen, const struct udpdest *d)
{
	union {
		struct cmsghdr	 h;
		unsigned char	 b[UDPADDR_CMSG_ROOM];
	} cm;
	struct iovec	 iov = { .iov_base = (void *)buf, .iov_len = n };
	struct msghdr	 mh;
	struct cmsghdr	*c;

	memset(&mh, 0, sizeof(mh));
	mh.msg_name = (void *)peer;
	mh.msg_namelen = peerlen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (d != NULL && d->len > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		c = &cm.h;
		if (d->ss.ss_family == AF_INET) {
			struct in_pktinfo pi;

			memset(&pi, 0, sizeof(pi));
			pi.ipi_spec_dst =
			    ((const struct sockaddr_in *)&d->ss)->sin_addr;
			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
			mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		} else {
			struct in6_pktinfo pi;

			memset(&pi, 0, sizeof(pi));
			pi.ipi6_addr =
			    ((const struct sockaddr_in6 *)&d->ss)->sin6_addr;
			/* A link-local source only means something with it. */
			if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
				pi.ipi6_ifindex = (unsigned int)d->ifindex;
			c->cmsg_level = IPPROTO_IPV6;
			c->cmsg_type = IPV6_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
			mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		}
	}
	return sendmsg(fd, &mh, MSG_DONTWAIT);
}

/*
 * Read one datagram from a UDP listener, with its source in from (*fromlen
 * 0 when the kernel gave none worth using) and where it went in dst.
 * Returns its length, or -1 when there is nothing more to read (a real
 * error is logged for the service name).
 */
ssize_t
udpaddr_recv(const struct elistener *el, const char *name, void *buf,
    size_t len, struct sockaddr_storage *from, socklen_t *fromlen,
    struct udpdest *dst)
{
	unsigned char	 cbuf[UDPADDR_CMSG_ROOM];
	struct iovec	 iov;
	struct msghdr	 mh;
	ssize_t		 n;

	iov.iov_base = buf;
	iov.iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = from;
	mh.msg_namelen = sizeof(*from);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	if ((n = recvmsg(el->l->fd, &mh, MSG_DONTWAIT)) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_debug("service=%s action=warn msg=\"recvmsg\" "
			    "error=\"%s\"", name, strerror(errno));
		return -1;
	}
	*fromlen = mh.msg_namelen == 0 || mh.msg_namelen > sizeof(*from) ?
	    0 : mh.msg_namelen;
	udpaddr_dest(el, &mh, dst);
	return n;
}
