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
 * Unit tests of imsg.c over a real SOCK_SEQPACKET socketpair, flagged as
 * the daemon creates it.  The receiver must treat its peer as hostile
 * (STYLE.md 3.8), so malformed datagrams are sent raw with sendmsg():
 * each must be refused with EPROTO, and any descriptor it carried closed.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "portmuxd.h"
#include "proto.h"

struct chan {
	int		 sv[2];		/* [0] sends, [1] receives */
	struct msgq	 q;
	int		 pipe[2];	/* something to pass */
};

static int
chan_setup(void **state)
{
	struct chan	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0, c->sv) == -1 || pipe2(c->pipe, O_CLOEXEC) == -1) {
		free(c);
		return -1;
	}
	msgq_init(&c->q);
	*state = c;
	return 0;
}

static int
chan_teardown(void **state)
{
	struct chan	*c = *state;

	msgq_clear(&c->q);
	if (c->sv[0] != -1)
		close(c->sv[0]);
	if (c->sv[1] != -1)
		close(c->sv[1]);
	close(c->pipe[0]);
	close(c->pipe[1]);
	free(c);
	return 0;
}

static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	d = opendir("/proc/self/fd");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static bool
fd_is_open(int fd)
{
	errno = 0;
	if (fcntl(fd, F_GETFD) != -1)
		return true;
	assert_int_equal(errno, EBADF);
	return false;
}

static bool
same_file(int a, int b)
{
	struct stat	 sa, sb;

	assert_int_equal(fstat(a, &sa), 0);
	assert_int_equal(fstat(b, &sb), 0);
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void
hdr_init(struct msg_hdr *h, uint32_t type, uint32_t len, uint64_t id)
{
	memset(h, 0, sizeof(*h));
	h->type = type;
	h->len = len;
	h->version = PROTO_VERSION;
	h->id = id;
}

/* Send one raw datagram with up to two descriptors, as a hostile peer. */
static void
send_raw(int sock, const void *buf, size_t len, const int *fds, int nfds)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	} cbuf;
	struct cmsghdr	*cmsg;

	memset(&msg, 0, sizeof(msg));
	memset(&cbuf, 0, sizeof(cbuf));
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &msg, MSG_DONTWAIT), (ssize_t)len);
}

/* msg_recv must refuse what is waiting, with EPROTO and no fd. */
static void
recv_eproto(int sock, size_t max)
{
	struct msg_hdr	 h;
	unsigned char	 buf[MSG_MAXPAYLOAD * 2];
	int		 fd = 12345;

	assert_true(max <= sizeof(buf));
	errno = 0;
	assert_int_equal(msg_recv(sock, &h, buf, max, &fd), -1);
	assert_int_equal(errno, EPROTO);
	assert_int_equal(fd, -1);
}

static void
test_imsg_roundtrip(void **state)
{
	struct chan		*c = *state;
	struct msg_stop		 stop = { STOP_RELOAD, 5000 }, got;
	struct msg_hdr		 h;
	unsigned char		 buf[MSG_MAXPAYLOAD];
	int			 fd = 12345;

	assert_int_equal(msgq_add(&c->q, MSG_STOP, 77, &stop, sizeof(stop),
	    -1), 0);
	assert_int_equal(c->q.queued, 1);
	assert_int_equal(msgq_flush(&c->q, c->sv[0]), 0);
	assert_int_equal(c->q.queued, 0);
	assert_true(TAILQ_EMPTY(&c->q.head));

	memset(&h, 0xff, sizeof(h));
	assert_int_equal(msg_recv(c->sv[1], &h, buf, sizeof(buf), &fd), 1);
	assert_int_equal(h.type, MSG_STOP);
	assert_int_equal(h.len, sizeof(stop));
	assert_int_equal(h.version, PROTO_VERSION);
	assert_int_equal(h.id, 77);
	assert_int_equal(fd, -1);
	memcpy(&got, buf, sizeof(got));
	assert_int_equal(got.reason, STOP_RELOAD);
	assert_int_equal(got.grace_ms, 5000);
}

/* An empty payload (MSG_DUMP) and the largest one both travel. */
static void
test_imsg_roundtrip_sizes(void **state)
{
	struct chan	*c = *state;
	struct msg_hdr	 h;
	unsigned char	 big[MSG_MAXPAYLOAD], buf[MSG_MAXPAYLOAD];
	size_t		 i;
	int		 fd;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7);
	assert_int_equal(msgq_add(&c->q, MSG_DUMP, 0, NULL, 0, -1), 0);
	assert_int_equal(msgq_add(&c->q, MSG_EXIT, UINT64_MAX, big,
	    sizeof(big), -1), 0);
	assert_int_equal(c->q.queued, 2);
	assert_int_equal(msgq_flush(&c->q, c->sv[0]), 0);

	assert_int_equal(msg_recv(c->sv[1], &h, buf, sizeof(buf), &fd), 1);
	assert_int_equal(h.type, MSG_DUMP);
	assert_int_equal(h.len, 0);
	assert_int_equal(h.id, 0);
	assert_int_equal(fd, -1);
	assert_int_equal(msg_recv(c->sv[1], &h, buf, sizeof(buf), &fd), 1);
	assert_int_equal(h.type, MSG_EXIT);
	assert_int_equal(h.len, MSG_MAXPAYLOAD);
	assert_true(h.id == UINT64_MAX);
	assert_memory_equal(buf, big, sizeof(big));
}

static void
test_imsg_roundtrip_fd(void **state)
{
	struct chan		*c = *state;
	struct msg_spawn	 sp;
	struct msg_hdr		 h;
	unsigned char		 buf[MSG_MAXPAYLOAD];
	int			 sent, fd = -1;
	char			 ch = 0;

	memset(&sp, 0, sizeof(sp));
	sp.generation = 12;
	sp.service = 3;

	assert_true((sent = dup(c->pipe[0])) != -1);
	assert_int_equal(msgq_add(&c->q, MSG_SPAWN, 9, &sp, sizeof(sp),
	    sent), 0);
	assert_int_equal(msgq_flush(&c->q, c->sv[0]), 0);
	/* The queue owned the descriptor and closed it once sent. */
	assert_false(fd_is_open(sent));

	assert_int_equal(msg_recv(c->sv[1], &h, buf, sizeof(buf), &fd), 1);
	assert_int_equal(h.type, MSG_SPAWN);
	assert_int_equal(h.len, sizeof(sp));
	assert_int_equal(h.id, 9);
	assert_memory_equal(buf, &sp, sizeof(sp));
	assert_true(fd >= 0);
	assert_true(same_file(fd, c->pipe[0]));
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* It is the same pipe, not merely the same inode number. */
	assert_int_equal(write(c->pipe[1], "z", 1), 1);
	assert_int_equal(read(fd, &ch, 1), 1);
	assert_int_equal(ch, 'z');
	close(fd);
}

static void
test_imsg_eagain_when_empty(void **state)
{
	struct chan	*c = *state;
	struct msg_hdr	 h;
	unsigned char	 buf[16];
	int		 fd;

	errno = 0;
	assert_int_equal(msg_recv(c->sv[1], &h, buf, sizeof(buf), &fd), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	assert_int_equal(fd, -1);
	/* Flushing an empty queue is a no-op. */
	assert_int_equal(msgq_flush(&c->q, c->sv[0]), 0);
}

/* What was sent before the close still arrives, then EOF. */
static void
test_imsg_eof(void **state)
{
	struct chan	*c = *state;
	struct msg_hdr	 h;
	unsigned char	 buf[16];
	int		 fd;

	assert_int_equal(msgq_add(&c->q, MSG_DUMP, 1, NULL, 0, -1), 0);
	assert_int_equal(msgq_flush(&c->q, c->sv[0]), 0);
	close(c->sv[0]);
	c->sv[0] = -1;
	assert_int_equal(msg_recv(c->sv[1], &h, buf, sizeof(buf), &fd), 1);
	assert_int_equal(h.id, 1);
	assert_int_equal(msg_recv(c->sv[1], &h, buf, sizeof(buf), &fd), 0);
	assert_int_equal(fd, -1);
	assert_int_equal(msg_recv(c->sv[1], &h, buf, sizeof(buf), &fd), 0);
}

/* A lost peer is an error for the sender, not a SIGPIPE. */
static void
test_imsg_flush_peer_gone(void **state)
{
	struct chan	*c = *state;

	close(c->sv[1]);
	c->sv[1] = -1;
	assert_int_equal(msgq_add(&c->q, MSG_DUMP, 1, NULL, 0, -1), 0);
	errno = 0;
	assert_int_equal(msgq_flush(&c->q, c->sv[0]), -1);
	assert_int_equal(errno, EPIPE);
}

static void
test_imsg_bad_version(void **state)
{
	struct chan	*c = *state;
	struct msg_hdr	 h;

	hdr_init(&h, MSG_DUMP, 0, 1);
	h.version = PROTO_VERSION + 1;
	send_raw(c->sv[0], &h, sizeof(h), NULL, 0);
	recv_eproto(c->sv[1], MSG_MAXPAYLOAD);
	h.version = 0;
	send_raw(c->sv[0], &h, sizeof(h), NULL, 0);
	recv_eproto(c->sv[1], MSG_MAXPAYLOAD);
}

/* The header's len must be the datagram's payload size, exactly. */
static void
test_imsg_len_mismatch(void **state)
{
	struct chan	*c = *state;
	unsigned char	 dg[sizeof(struct msg_hdr) + 8];
	struct msg_hdr	 h;

	memset(dg, 0, sizeof(dg));
	/* Claims 8 bytes, carries 4. */
	hdr_init(&h, MSG_STOP, 8, 1);
	memcpy(dg, &h, sizeof(h));
	send_raw(c->sv[0], dg, sizeof(h) + 4, NULL, 0);
	recv_eproto(c->sv[1], MSG_MAXPAYLOAD);
	/* Claims 4, carries 8. */
	hdr_init(&h, MSG_STOP, 4, 1);
	memcpy(dg, &h, sizeof(h));
	send_raw(c->sv[0], dg, sizeof(h) + 8, NULL, 0);
	recv_eproto(c->sv[1], MSG_MAXPAYLOAD);
	/* Claims 0, carries 8. */
	hdr_init(&h, MSG_DUMP, 0, 1);
	memcpy(dg, &h, sizeof(h));
	send_raw(c->sv[0], dg, sizeof(dg), NULL, 0);
	recv_eproto(c->sv[1], MSG_MAXPAYLOAD);
	/* Claims more than anyone's maximum. */
	hdr_init(&h, MSG_DUMP, UINT32_MAX, 1);
	memcpy(dg, &h, sizeof(h));
	send_raw(c->sv[0], dg, sizeof(dg), NULL, 0);
	recv_eproto(c->sv[1], MSG_MAXPAYLOAD);
}

static void
test_imsg_too_short(void **state)
{
	struct chan	*c = *state;
	struct msg_hdr	 h;

	hdr_init(&h, MSG_DUMP, 0, 1);
	send_raw(c->sv[0], &h, 8, NULL, 0);
	recv_eproto(c->sv[1], MSG_MAXPAYLOAD);
	send_raw(c->sv[0], &h, sizeof(h) - 1, NULL, 0);
	recv_eproto(c->sv[1], MSG_MAXPAYLOAD);
	send_raw(c->sv[0], &h, 1, NULL, 0);
	recv_eproto(c->sv[1], MSG_MAXPAYLOAD);
}

/*
 * An empty datagram is the shortest malformed message of all.  recvmsg()
 * returns 0 for it as for EOF, but the peer is still there: msg_recv()
 * must not report EOF while the channel is open.
 */
static void
test_imsg_empty_datagram(void **state)
{
	struct chan	*c = *state;
	struct msg_hdr	 h;
	unsigned char	 buf[16];
	int		 fd, r;

	send_raw(c->sv[0], "", 0, NULL, 0);
	errno = 0;
	r = msg_recv(c->sv[1], &h, buf, sizeof(buf), &fd);
	assert_int_equal(fd, -1);
	if (r == 0)
		fail_msg("an empty datagram from a live peer reads as EOF");
	assert_int_equal(r, -1);
	assert_int_equal(errno, EPROTO);
}

/* At most one descriptor per message; both are closed on refusal. */
static void
test_imsg_two_fds(void **state)
{
	struct chan	*c = *state;
	struct msg_hdr	 h;
	int		 before;

	hdr_init(&h, MSG_SPAWNED, 0, 1);
	before = count_fds();
	send_raw(c->sv[0], &h, sizeof(h), c->pipe, 2);
	recv_eproto(c->sv[1], MSG_MAXPAYLOAD);
	assert_int_equal(count_fds(), before);
}

/* A refused message's single descriptor is closed, not leaked. */
static void
test_imsg_malformed_closes_fd(void **state)
{
	struct chan	*c = *state;
	struct msg_hdr	 h;
	int		 before;

	hdr_init(&h, MSG_SPAWN, 0, 1);
	h.version = PROTO_VERSION + 1;
	before = count_fds();
	send_raw(c->sv[0], &h, sizeof(h), c->pipe, 1);
	recv_eproto(c->sv[1], MSG_MAXPAYLOAD);
	assert_int_equal(count_fds(), before);
}

/* A payload larger than the receiver accepts is refused whole. */
static void
test_imsg_payload_over_max(void **state)
{
	struct chan	*c = *state;
	struct msg_exit	 ex;
	struct msg_hdr	 h;
	unsigned char	 buf[MSG_MAXPAYLOAD];
	int		 fd;

	memset(&ex, 0, sizeof(ex));
	assert_int_equal(msgq_add(&c->q, MSG_EXIT, 1, &ex, sizeof(ex), -1),
	    0);
	assert_int_equal(msgq_flush(&c->q, c->sv[0]), 0);
	recv_eproto(c->sv[1], sizeof(ex) - 1);
	/* Exactly the maximum is fine. */
	assert_int_equal(msgq_add(&c->q, MSG_EXIT, 2, &ex, sizeof(ex), -1),
	    0);
	assert_int_equal(msgq_flush(&c->q, c->sv[0]), 0);
	assert_int_equal(msg_recv(c->sv[1], &h, buf, sizeof(ex), &fd), 1);
	assert_int_equal(h.id, 2);
	assert_int_equal(h.len, sizeof(ex));
}

/* The sender refuses to queue an oversized message, and closes its fd. */
static void
test_imsg_add_too_big(void **state)
{
	struct chan	*c = *state;
	unsigned char	 big[MSG_MAXPAYLOAD + 1];
	int		 fd;

	memset(big, 0, sizeof(big));
	assert_true((fd = dup(c->pipe[0])) != -1);
	errno = 0;
	assert_int_equal(msgq_add(&c->q, MSG_EXIT, 1, big, sizeof(big), fd),
	    -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_false(fd_is_open(fd));
	assert_int_equal(c->q.queued, 0);
	assert_true(TAILQ_EMPTY(&c->q.head));
}

/*
 * With the receiver's fd table full the kernel drops the passed fd and
 * sets MSG_CTRUNC: that message must be refused (STYLE.md 3.7), as
 * EMFILE with its header intact, so that the monitor refuses that one
 * connection instead of treating the engine as broken.
 */
static void
test_imsg_ctrunc(void **state)
{
	struct chan	*c = *state;
	struct rlimit	 orig, rl;
	struct msg_hdr	 h;
	unsigned char	 buf[16];
	int		 fd = 12345, r, e, lowest;

	assert_int_equal(msgq_add(&c->q, MSG_DUMP, 1, NULL, 0,
	    dup(c->pipe[0])), 0);
	assert_int_equal(msgq_flush(&c->q, c->sv[0]), 0);
	assert_true((lowest = fcntl(c->sv[1], F_DUPFD_CLOEXEC, 0)) != -1);
	close(lowest);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &orig), 0);
	rl = orig;
	rl.rlim_cur = (rlim_t)lowest;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	errno = 0;
	r = msg_recv(c->sv[1], &h, buf, sizeof(buf), &fd);
	e = errno;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &orig), 0);
	assert_int_equal(r, -1);
	assert_int_equal(e, EMFILE);
	assert_int_equal(fd, -1);
	assert_int_equal(h.type, MSG_DUMP);
	assert_int_equal(h.id, 1);
}

/*
 * The engine goes on with a message whose descriptor was dropped (a
 * spawn answer whose stderr pipe did not fit): on EMFILE the payload
 * is there too, intact, and the next message reads as usual, its
 * descriptor with it.
 */
static void
test_imsg_ctrunc_payload(void **state)
{
	struct chan		*c = *state;
	struct rlimit		 orig, rl;
	struct msg_hdr		 h;
	struct msg_spawned	 ok, got;
	unsigned char		 buf[MSG_MAXPAYLOAD];
	int			 fd = 12345, r, e, lowest;

	memset(&ok, 0, sizeof(ok));
	ok.pid = 4242;
	ok.uid = 7;
	assert_int_equal(msgq_add(&c->q, MSG_SPAWNED, 9, &ok, sizeof(ok),
	    dup(c->pipe[0])), 0);
	assert_int_equal(msgq_add(&c->q, MSG_SPAWNED, 10, &ok, sizeof(ok),
	    dup(c->pipe[0])), 0);
	assert_int_equal(msgq_flush(&c->q, c->sv[0]), 0);
	assert_int_equal(c->q.queued, 0);
	assert_true((lowest = fcntl(c->sv[1], F_DUPFD_CLOEXEC, 0)) != -1);
	close(lowest);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &orig), 0);
	rl = orig;
	rl.rlim_cur = (rlim_t)lowest;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	memset(buf, 0, sizeof(buf));
	errno = 0;
	r = msg_recv(c->sv[1], &h, buf, sizeof(buf), &fd);
	e = errno;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &orig), 0);
	assert_int_equal(r, -1);
	assert_int_equal(e, EMFILE);
	assert_int_equal(fd, -1);
	assert_int_equal(h.type, MSG_SPAWNED);
	assert_int_equal(h.len, sizeof(ok));
	assert_int_equal(h.id, 9);
	memcpy(&got, buf, sizeof(got));
	assert_int_equal(got.pid, 4242);
	assert_int_equal(got.uid, 7);

	assert_int_equal(msg_recv(c->sv[1], &h, buf, sizeof(buf), &fd), 1);
	assert_int_equal(h.id, 10);
	assert_true(fd >= 0);
	assert_true(same_file(fd, c->pipe[0]));
	close(fd);
}

/*
 * Queue far more than the socket holds without reading: flush sends
 * what fits, returns 0 and keeps the rest, in order.  Every 50th message
 * carries a descriptor, which must arrive with its own message.
 */
static void
test_imsg_queue_full_order(void **state)
{
	struct chan	*c = *state;
	struct msg_hdr	 h;
	unsigned char	 pl[MSG_MAXPAYLOAD], buf[MSG_MAXPAYLOAD];
	const uint64_t	 total = 3000;
	uint64_t	 i, next = 0;
	int		 fd, r, rounds = 0;

	for (i = 0; i < total; i++) {
		memset(pl, (int)(i & 0xff), sizeof(pl));
		assert_int_equal(msgq_add(&c->q, MSG_EXIT, i, pl, sizeof(pl),
		    i % 50 == 0 ? dup(c->pipe[1]) : -1), 0);
	}
	assert_int_equal(c->q.queued, total);
	errno = 0;
	assert_int_equal(msgq_flush(&c->q, c->sv[0]), 0);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == ENOBUFS);
	assert_true(c->q.queued > 0);
	assert_true(c->q.queued < total);
	/* Flushing again while still full changes nothing. */
	i = c->q.queued;
	assert_int_equal(msgq_flush(&c->q, c->sv[0]), 0);
	assert_int_equal(c->q.queued, i);

	while (next < total) {
		assert_true(++rounds < 100000);
		for (;;) {
			r = msg_recv(c->sv[1], &h, buf, sizeof(buf), &fd);
			if (r == -1 && errno == EAGAIN)
				break;
			assert_int_equal(r, 1);
			assert_true(h.id == next);
			assert_int_equal(h.len, MSG_MAXPAYLOAD);
			assert_int_equal(buf[0], (unsigned char)(next & 0xff));
			assert_int_equal(buf[MSG_MAXPAYLOAD - 1],
			    (unsigned char)(next & 0xff));
			if (next % 50 == 0) {
				assert_true(fd >= 0);
				assert_true(same_file(fd, c->pipe[1]));
				close(fd);
			} else
				assert_int_equal(fd, -1);
			next++;
		}
		assert_int_equal(msgq_flush(&c->q, c->sv[0]), 0);
		assert_true(c->q.queued <= total - next);
	}
	assert_int_equal(c->q.queued, 0);
}

/* Clearing a queue closes the descriptors it owned. */
static void
test_imsg_clear_closes_fds(void **state)
{
	struct chan	*c = *state;
	int		 fds[3];
	size_t		 i;

	for (i = 0; i < 3; i++) {
		assert_true((fds[i] = dup(c->pipe[i % 2])) != -1);
		assert_int_equal(msgq_add(&c->q, MSG_SPAWNED, i, "12345678",
		    8, fds[i]), 0);
	}
	assert_int_equal(msgq_add(&c->q, MSG_DUMP, 9, NULL, 0, -1), 0);
	assert_int_equal(c->q.queued, 4);
	for (i = 0; i < 3; i++)
		assert_true(fd_is_open(fds[i]));
	msgq_clear(&c->q);
	assert_int_equal(c->q.queued, 0);
	assert_true(TAILQ_EMPTY(&c->q.head));
	for (i = 0; i < 3; i++)
		assert_false(fd_is_open(fds[i]));
	/* The queue is usable again. */
	assert_int_equal(msgq_add(&c->q, MSG_DUMP, 10, NULL, 0, -1), 0);
	assert_int_equal(c->q.queued, 1);
}

#define CHAN_TEST(t)	cmocka_unit_test_setup_teardown(t, chan_setup, \
			    chan_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		CHAN_TEST(test_imsg_roundtrip),
		CHAN_TEST(test_imsg_roundtrip_sizes),
		CHAN_TEST(test_imsg_roundtrip_fd),
		CHAN_TEST(test_imsg_eagain_when_empty),
		CHAN_TEST(test_imsg_eof),
		CHAN_TEST(test_imsg_flush_peer_gone),
		CHAN_TEST(test_imsg_bad_version),
		CHAN_TEST(test_imsg_len_mismatch),
		CHAN_TEST(test_imsg_too_short),
		CHAN_TEST(test_imsg_empty_datagram),
		CHAN_TEST(test_imsg_two_fds),
		CHAN_TEST(test_imsg_malformed_closes_fd),
		CHAN_TEST(test_imsg_payload_over_max),
		CHAN_TEST(test_imsg_add_too_big),
		CHAN_TEST(test_imsg_ctrunc),
		CHAN_TEST(test_imsg_ctrunc_payload),
		CHAN_TEST(test_imsg_queue_full_order),
		CHAN_TEST(test_imsg_clear_closes_fds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
