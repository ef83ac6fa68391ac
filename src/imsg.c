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
 * Framing and descriptor passing for the privsep channel, nothing else.
 * The channel is a SOCK_SEQPACKET socketpair, so a message is exactly one
 * datagram: the receiver never reassembles.  Outgoing messages wait in a
 * queue, so neither side ever blocks on a slow peer; a queued descriptor
 * belongs to the queue until it is sent or the queue is cleared.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portmuxd.h"
#include "proto.h"

struct qmsg {
	TAILQ_ENTRY(qmsg) entry;
	int		 fd;
	size_t		 len;		/* header + payload */
	unsigned char	 buf[];
};

void
msgq_init(struct msgq *q)
{
	TAILQ_INIT(&q->head);
	q->queued = 0;
	q->fds = 0;
}

int
msgq_add(struct msgq *q, uint32_t type, uint64_t id, const void *payload,
    size_t len, int fd)
{
	struct qmsg	*m;
	struct msg_hdr	 hdr;

	if (len > MSG_MAXPAYLOAD || (m = malloc(sizeof(*m) + sizeof(hdr) +
	    len)) == NULL) {
		if (fd != -1)
			close(fd);
		if (len > MSG_MAXPAYLOAD)
			errno = EMSGSIZE;
		return -1;
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.len = (uint32_t)len;
	hdr.version = PROTO_VERSION;
	hdr.id = id;
	memcpy(m->buf, &hdr, sizeof(hdr));
	if (len > 0)
		memcpy(m->buf + sizeof(hdr), payload, len);
	m->len = sizeof(hdr) + len;
	m->fd = fd;			/* ownership moves to the queue */
	TAILQ_INSERT_TAIL(&q->head, m, entry);
	q->queued++;
	if (fd != -1)
		q->fds++;
	return 0;
}

static int
send_one(int sock, struct qmsg *m)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct cmsghdr	*cmsg;
	ssize_t		 n;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = m->buf;
	iov.iov_len = m->len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (m->fd != -1) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), &m->fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != m->len) {
		/* SEQPACKET sends whole records or fails. */
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/*
 * Send queued messages until the queue is empty (0) or the socket is full
 * (0, errno EAGAIN left for the caller to arm a write event).  -1 on a
 * real error: the peer is gone.
 */
int
msgq_flush(struct msgq *q, int sock)
{
	struct qmsg	*m;

	while ((m = TAILQ_FIRST(&q->head)) != NULL) {
		if (send_one(sock, m) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS)
				return 0;
			return -1;
		}
		TAILQ_REMOVE(&q->head, m, entry);
		q->queued--;
		if (m->fd != -1) {
			close(m->fd);
			q->fds--;
		}
		free(m);
	}
	return 0;
}

void
msgq_clear(struct msgq *q)
{
	struct qmsg	*m;

	while ((m = TAILQ_FIRST(&q->head)) != NULL) {
		TAILQ_REMOVE(&q->head, m, entry);
		if (m->fd != -1)
			close(m->fd);
		free(m);
	}
	q->queued = 0;
	q->fds = 0;
}

/*
 * Receive one message.  Returns 1 with *hdr, the payload and *fd (-1 if
 * none) filled in, 0 on EOF, -1 with errno EAGAIN when nothing waits, and
 * -1 with errno EMFILE when a well-formed message lost its descriptor
 * because the receiver's fd table is full (MSG_CTRUNC; *hdr is valid),
 * and -1 with errno EPROTO on a malformed message: wrong size, version,
 * a truncated payload or descriptor, or more than one fd.
 */
int
msg_recv(int sock, struct msg_hdr *hdr, void *payload, size_t max, int *fd)
{
	struct msghdr	 msg;
	struct iovec	 iov[2];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	} cmsgbuf;
	struct cmsghdr	*cmsg;
	ssize_t		 n;
	int		 nfds = 0, fds[2] = { -1, -1 };

	*fd = -1;
	memset(&msg, 0, sizeof(msg));
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(*hdr);
	iov[1].iov_base = payload;
	iov[1].iov_len = max;
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	do {
		n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if (n == 0) {
		struct pollfd	 pfd = { sock, POLLRDHUP, 0 };

		/* An empty datagram reads like EOF: ask the socket. */
		if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLRDHUP |
		    POLLHUP)))
			return 0;
		errno = EPROTO;
		return -1;
	}
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		size_t	 i, cnt;

		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < cnt && nfds < 2; i++)
			memcpy(&fds[nfds++], CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
	}
	if ((msg.msg_flags & MSG_CTRUNC) && !(msg.msg_flags & MSG_TRUNC) &&
	    nfds == 0 && (size_t)n >= sizeof(*hdr) &&
	    hdr->version == PROTO_VERSION && hdr->len <= max &&
	    (size_t)n == sizeof(*hdr) + hdr->len) {
		/*
		 * A well-formed message whose descriptor the kernel dropped:
		 * our descriptor table is full.  Not the peer's fault.
		 */
		errno = EMFILE;
		return -1;
	}
	if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || nfds > 1 ||
	    (size_t)n < sizeof(*hdr) || hdr->version != PROTO_VERSION ||
	    hdr->len > max || (size_t)n != sizeof(*hdr) + hdr->len) {
		if (fds[0] != -1)
			close(fds[0]);
		if (fds[1] != -1)
			close(fds[1]);
		errno = EPROTO;
		return -1;
	}
	*fd = fds[0];
	return 1;
}
