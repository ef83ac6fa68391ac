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
 * Unit tests of the builtins' pure formatters (builtin.h): time (RFC 868),
 * daytime (RFC 867, ctime style in local time) and chargen (RFC 864);
 * and of the UDP builtins' pure half: which sources may be answered
 * (DESIGN.md "Builtins": no reflection to privileged or datagram service
 * ports, nor to addresses that cannot be a real sender) and the reply
 * to one datagram.  The event-driven half of builtin.c is exercised by
 * the integration tests, and here, in an engine of the test's own
 * (enginefix.h), for what a client's half-close (shutdown(SHUT_WR))
 * does: chargen goes on sending, echo sends what it read then closes,
 * discard closes, daytime and time answer then close.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "builtin.h"
#include "engine.h"
#include "portmuxd.h"
#include "enginefix.h"

#define WAIT_MS	3000		/* the longest one wait of a test */

/* 2036-02-07T06:28:16Z: the RFC 868 counter wraps to 0. */
#define RFC868_WRAP	((time_t)2085978496LL)

static uint32_t
time_word(time_t t)
{
	uint8_t	 b[4];

	memset(b, 0xaa, sizeof(b));
	builtin_time_fmt(t, b);
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

static void
test_builtin_time_epoch(void **state)
{
	uint8_t	 b[4];

	(void)state;
	builtin_time_fmt(0, b);
	/* Big-endian on the wire: 2208988800 = 0x83AA7E80. */
	assert_int_equal(b[0], 0x83);
	assert_int_equal(b[1], 0xaa);
	assert_int_equal(b[2], 0x7e);
	assert_int_equal(b[3], 0x80);
	assert_int_equal(time_word(1), 0x83aa7e81U);
	/* 2000-01-01T00:00:00Z is 3155673600 seconds after 1900. */
	assert_int_equal(time_word(946684800), 3155673600U);
	/* 1900-01-01T00:00:00Z itself. */
	assert_int_equal(time_word(-(time_t)RFC868_EPOCH_OFFSET), 0);
}

static void
test_builtin_time_wrap(void **state)
{
	(void)state;
	assert_int_equal(time_word(RFC868_WRAP - 1), 0xffffffffU);
	assert_int_equal(time_word(RFC868_WRAP), 0);
	assert_int_equal(time_word(RFC868_WRAP + 1), 1);
	/* One full era later, the same as at the epoch. */
	assert_int_equal(time_word(RFC868_WRAP + 4294967296LL), 0);
	/* 2100-01-01T00:00:00Z, in the second era. */
	assert_int_equal(time_word((time_t)4102444800LL),
	    (uint32_t)(4102444800ULL + RFC868_EPOCH_OFFSET - 4294967296ULL));
}

static void
set_tz(const char *tz)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

static void
daytime_is(time_t t, const char *want)
{
	char	 buf[64];
	size_t	 n;

	memset(buf, 'X', sizeof(buf));
	n = builtin_daytime_fmt(t, buf, sizeof(buf));
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
}

static void
test_builtin_daytime_utc(void **state)
{
	(void)state;
	set_tz("UTC");
	/* %e pads the day with a space, as ctime(3) does. */
	daytime_is(0, "Thu Jan  1 00:00:00 1970\r\n");
	daytime_is(1700000000, "Tue Nov 14 22:13:20 2023\r\n");
	daytime_is(951782400, "Tue Feb 29 00:00:00 2000\r\n");
	daytime_is(RFC868_WRAP, "Thu Feb  7 06:28:16 2036\r\n");
}

/* Local time, not UTC: a zone two hours east of Greenwich. */
static void
test_builtin_daytime_local(void **state)
{
	(void)state;
	set_tz("XXX-2");
	daytime_is(0, "Thu Jan  1 02:00:00 1970\r\n");
	set_tz("YYY+10");
	daytime_is(0, "Wed Dec 31 14:00:00 1969\r\n");
	set_tz("UTC");
}

/* A buffer too small for the line gives 0, never a partial line. */
static void
test_builtin_daytime_small_buffer(void **state)
{
	char	 buf[27];

	(void)state;
	set_tz("UTC");
	/* 26 characters and the NUL strftime(3) insists on. */
	assert_int_equal(builtin_daytime_fmt(0, buf, 26), 0);
	assert_int_equal(builtin_daytime_fmt(0, buf, 27), 26);
	assert_int_equal(builtin_daytime_fmt(0, buf, 0), 0);
}

/* An independent model of the RFC 864 ring, 0x20..0x7e. */
static void
chargen_want(uint64_t k, char want[CHARGEN_LINE])
{
	char		 ring[95];
	unsigned int	 i;

	for (i = 0; i < 95; i++)
		ring[i] = (char)(' ' + i);
	for (i = 0; i < 72; i++)
		want[i] = ring[(k % 95 + i) % 95];
	want[72] = '\r';
	want[73] = '\n';
}

static void
chargen_is(uint64_t k, const char *want72)
{
	char	 line[CHARGEN_LINE];

	memset(line, 0, sizeof(line));
	builtin_chargen_line(k, line);
	assert_memory_equal(line, want72, 72);
	assert_memory_equal(line + 72, "\r\n", 2);
}

static void
test_builtin_chargen_known_lines(void **state)
{
	(void)state;
	assert_int_equal(CHARGEN_LINE, 74);
	chargen_is(0, " !\"#$%&'()*+,-./0123456789:;<=>?@"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg");
	chargen_is(1, "!\"#$%&'()*+,-./0123456789:;<=>?@"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh");
	/* Line 23 ends exactly at the end of the ring... */
	chargen_is(23, "789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
	    "abcdefghijklmnopqrstuvwxyz{|}~");
	/* ...and line 24 is the first to wrap around to the space. */
	chargen_is(24, "89:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
	    "abcdefghijklmnopqrstuvwxyz{|}~ ");
	/* Line 94 starts at the last character, then wraps. */
	chargen_is(94, "~ !\"#$%&'()*+,-./0123456789:;<=>?@"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdef");
}

static void
test_builtin_chargen_period(void **state)
{
	char	 a[CHARGEN_LINE], b[CHARGEN_LINE];

	(void)state;
	builtin_chargen_line(0, a);
	builtin_chargen_line(95, b);
	assert_memory_equal(a, b, CHARGEN_LINE);
	builtin_chargen_line(95 * 1000003ULL + 17, a);
	builtin_chargen_line(17, b);
	assert_memory_equal(a, b, CHARGEN_LINE);
}

/* Every line of two periods, and the far end of the 64-bit counter. */
static void
test_builtin_chargen_model(void **state)
{
	char		 got[CHARGEN_LINE], want[CHARGEN_LINE];
	uint64_t	 k;
	size_t		 i;

	(void)state;
	for (k = 0; k < 2 * 95; k++) {
		builtin_chargen_line(k, got);
		chargen_want(k, want);
		assert_memory_equal(got, want, CHARGEN_LINE);
		for (i = 0; i < 72; i++)
			assert_true(got[i] >= 0x20 && got[i] <= 0x7e);
	}
	builtin_chargen_line(UINT64_MAX, got);
	chargen_want(UINT64_MAX, want);
	assert_memory_equal(got, want, CHARGEN_LINE);
}

/* A source address and port; "::ffff:a.b.c.d" stays AF_INET6. */
static const struct sockaddr *
src(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
	return (const struct sockaddr *)ss;
}

static int
source_ok(const char *ip, uint16_t port)
{
	struct sockaddr_storage	 ss;

	return builtin_udp_source_ok(src(&ss, ip, port));
}

/* Assert the verdict, naming the source when it is wrong. */
static void
source_is(const char *ip, uint16_t port, int want)
{
	int	 got = source_ok(ip, port);

	if ((got != 0) != (want != 0))
		fail_msg("source %s port %u: got %s, want %s", ip, port,
		    got ? "accepted" : "rejected", want ? "accepted" :
		    "rejected");
}

/*
 * Privileged ports, and the ports of services that answer datagrams:
 * an echo there would ping-pong with us, or reflect an attack on a
 * spoofed source.
 */
static void
test_builtin_udp_source_ports(void **state)
{
	static const uint16_t	 bad[] = {
		0, 1, 7, 13, 19, 37, 53, 67, 123, 161, 514, 1023, 1900, 11211
	};
	static const uint16_t	 good[] = {
		1024, 1025, 1899, 1901, 5000, 11210, 11212, 32768, 65535
	};
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		source_is("192.0.2.10", bad[i], 0);
		source_is("2001:db8::10", bad[i], 0);
		source_is("::ffff:192.0.2.10", bad[i], 0);
		source_is("127.0.0.1", bad[i], 0);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		source_is("192.0.2.10", good[i], 1);
		source_is("2001:db8::10", good[i], 1);
		source_is("::ffff:192.0.2.10", good[i], 1);
	}
}

/* 0.0.0.0/8, the limited broadcast and 224.0.0.0/4 cannot send. */
static void
test_builtin_udp_source_v4_addrs(void **state)
{
	(void)state;
	source_is("0.0.0.0", 5000, 0);
	source_is("0.0.0.1", 5000, 0);
	source_is("0.255.255.255", 5000, 0);
	source_is("1.0.0.0", 5000, 1);
	source_is("255.255.255.255", 5000, 0);
	source_is("255.255.255.254", 5000, 1);
	source_is("224.0.0.1", 5000, 0);
	source_is("224.0.0.0", 5000, 0);
	source_is("239.255.255.250", 5000, 0);
	source_is("223.255.255.255", 5000, 1);
	source_is("192.0.2.1", 5000, 1);
	/* Loopback is allowed, with a high port. */
	source_is("127.0.0.1", 5000, 1);
	source_is("127.0.0.1", 1024, 1);
	source_is("127.1.2.3", 40000, 1);
}

/* :: and ff00::/8 cannot send; ::1 and unicast can. */
static void
test_builtin_udp_source_v6_addrs(void **state)
{
	(void)state;
	source_is("::", 5000, 0);
	source_is("ff02::1", 5000, 0);
	source_is("ff00::", 5000, 0);
	source_is("ff05::1:3", 5000, 0);
	source_is("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 5000, 0);
	source_is("feff:ffff::1", 5000, 1);
	source_is("::1", 5000, 1);
	source_is("::1", 1023, 0);
	source_is("2001:db8::1", 5000, 1);
	source_is("fe80::1", 5000, 1);
}

/* An IPv4-mapped source is judged as the IPv4 address it is. */
static void
test_builtin_udp_source_mapped(void **state)
{
	(void)state;
	source_is("::ffff:127.0.0.1", 5000, 1);
	source_is("::ffff:127.0.0.1", 53, 0);
	source_is("::ffff:224.0.0.1", 5000, 0);
	source_is("::ffff:239.1.2.3", 5000, 0);
	source_is("::ffff:255.255.255.255", 5000, 0);
	source_is("::ffff:0.0.0.0", 5000, 0);
	source_is("::ffff:0.1.2.3", 5000, 0);
	source_is("::ffff:192.0.2.1", 5000, 1);
	source_is("::ffff:192.0.2.1", 1900, 0);
}

/* Anything but IPv4 and IPv6 is refused. */
static void
test_builtin_udp_source_other_family(void **state)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&ss;

	(void)state;
	memset(&ss, 0, sizeof(ss));
	sun->sun_family = AF_UNIX;
	assert_int_equal(builtin_udp_source_ok((struct sockaddr *)&ss), 0);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNSPEC;
	assert_int_equal(builtin_udp_source_ok((struct sockaddr *)&ss), 0);
}

#define UDP_OUT		1024
#define CANARY		0x5a

/*
 * builtin_udp_reply() into a buffer of size bytes followed by canaries:
 * nothing past size may be written.
 */
static long
udp_reply(int b, const void *in, size_t inlen, uint8_t *out, size_t size,
    time_t now, uint32_t rnd)
{
	long	 r;
	size_t	 i;

	assert_true(size < UDP_OUT);
	memset(out, CANARY, UDP_OUT);
	r = builtin_udp_reply(b, in, inlen, out, size, now, rnd);
	for (i = size; i < UDP_OUT; i++)
		if (out[i] != CANARY)
			fail_msg("byte %zu written past the %zu-byte buffer",
			    i, size);
	return r;
}

static void
test_builtin_udp_echo(void **state)
{
	uint8_t	 out[UDP_OUT], in[600];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7);
	assert_int_equal(udp_reply(BUILTIN_ECHO, "ping\n", 5, out, 512, 0, 0),
	    5);
	assert_memory_equal(out, "ping\n", 5);
	/* An empty datagram echoes as an empty one. */
	assert_int_equal(udp_reply(BUILTIN_ECHO, in, 0, out, 512, 0, 0), 0);
	/* Binary bytes, NULs included, come back unchanged. */
	assert_int_equal(udp_reply(BUILTIN_ECHO, in, 300, out, 512, 0, 0),
	    300);
	assert_memory_equal(out, in, 300);
}

/* Longer than the reply buffer: truncated to it, never past it. */
static void
test_builtin_udp_echo_truncated(void **state)
{
	uint8_t	 out[UDP_OUT], in[600];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i + 1);
	assert_int_equal(udp_reply(BUILTIN_ECHO, in, sizeof(in), out, 512, 0,
	    0), 512);
	assert_memory_equal(out, in, 512);
	assert_int_equal(udp_reply(BUILTIN_ECHO, in, 10, out, 10, 0, 0), 10);
	assert_int_equal(udp_reply(BUILTIN_ECHO, in, 11, out, 10, 0, 0), 10);
	assert_memory_equal(out, in, 10);
	assert_int_equal(udp_reply(BUILTIN_ECHO, in, 5, out, 0, 0, 0), 0);
}

/* discard, and anything that is no UDP builtin, sends no reply at all. */
static void
test_builtin_udp_discard(void **state)
{
	uint8_t	 out[UDP_OUT];

	(void)state;
	assert_int_equal(udp_reply(BUILTIN_DISCARD, "x", 1, out, 512, 0, 0),
	    -1);
	assert_int_equal(udp_reply(BUILTIN_DISCARD, "", 0, out, 512, 0, 0),
	    -1);
	assert_int_equal(udp_reply(BUILTIN_NONE, "x", 1, out, 512, 0, 0), -1);
	assert_int_equal(udp_reply(BUILTIN_TCPMUX, "x", 1, out, 512, 0, 0),
	    -1);
	/* And writes nothing. */
	assert_int_equal(out[0], CANARY);
}

/* daytime answers what the TCP formatter writes, whatever was sent. */
static void
test_builtin_udp_daytime(void **state)
{
	uint8_t	 out[UDP_OUT];
	char	 want[64];
	size_t	 n;

	(void)state;
	set_tz("UTC");
	assert_int_equal(udp_reply(BUILTIN_DAYTIME, "", 0, out, 512, 0, 0),
	    26);
	assert_memory_equal(out, "Thu Jan  1 00:00:00 1970\r\n", 26);
	n = builtin_daytime_fmt(1700000000, want, sizeof(want));
	assert_int_equal(udp_reply(BUILTIN_DAYTIME, "what time?", 10, out,
	    512, 1700000000, 99), (long)n);
	assert_memory_equal(out, want, n);
}

/* time answers any datagram with 4 bytes, the empty one included. */
static void
test_builtin_udp_time(void **state)
{
	uint8_t	 out[UDP_OUT], want[4];

	(void)state;
	builtin_time_fmt(946684800, want);
	assert_int_equal(udp_reply(BUILTIN_TIME, "", 0, out, 512, 946684800,
	    0), 4);
	assert_memory_equal(out, want, 4);
	assert_int_equal(udp_reply(BUILTIN_TIME, NULL, 0, out, 512, 946684800,
	    7), 4);
	assert_memory_equal(out, want, 4);
	assert_int_equal(udp_reply(BUILTIN_TIME, "abcdefgh", 8, out, 4, 0, 0),
	    4);
	builtin_time_fmt(0, want);
	assert_memory_equal(out, want, 4);
}

/* The first n bytes of chargen lines 0, 1, 2..., concatenated. */
static void
chargen_prefix(char *buf, size_t n)
{
	char		 line[CHARGEN_LINE];
	size_t		 off = 0, m;
	uint64_t	 k;

	for (k = 0; off < n; k++) {
		chargen_want(k, line);
		m = n - off < sizeof(line) ? n - off : sizeof(line);
		memcpy(buf + off, line, m);
		off += m;
	}
}

/* RFC 864 over UDP: rnd % 513 bytes of the pattern, 0 to 512. */
static void
test_builtin_udp_chargen_length(void **state)
{
	static const uint32_t	 rnds[] = {
		0, 1, 73, 74, 75, 148, 511, 512, 513, 514, 1025, 1026,
		123456789, UINT32_MAX, UINT32_MAX - 1
	};
	uint8_t			 out[UDP_OUT];
	char			 want[UDP_CHARGEN_MAX];
	size_t			 i, n;

	(void)state;
	assert_int_equal(UDP_CHARGEN_MAX, 512);
	for (i = 0; i < sizeof(rnds) / sizeof(rnds[0]); i++) {
		n = rnds[i] % 513;
		assert_int_equal(udp_reply(BUILTIN_CHARGEN, "", 0, out, 1000,
		    0, rnds[i]), (long)n);
		chargen_prefix(want, n);
		assert_memory_equal(out, want, n);
	}
}

/* Every length from 0 to 512 is the matching prefix of the pattern. */
static void
test_builtin_udp_chargen_all_lengths(void **state)
{
	uint8_t	 out[UDP_OUT];
	char	 want[UDP_CHARGEN_MAX];
	uint32_t rnd;

	(void)state;
	chargen_prefix(want, sizeof(want));
	for (rnd = 0; rnd <= 512; rnd++) {
		assert_int_equal(udp_reply(BUILTIN_CHARGEN, "x", 1, out, 600,
		    0, rnd + 513 * 3), (long)rnd);
		assert_memory_equal(out, want, rnd);
	}
}

/* A reply buffer smaller than the drawn length cuts the datagram. */
static void
test_builtin_udp_chargen_small_out(void **state)
{
	uint8_t	 out[UDP_OUT];
	char	 want[UDP_CHARGEN_MAX];

	(void)state;
	chargen_prefix(want, sizeof(want));
	assert_int_equal(udp_reply(BUILTIN_CHARGEN, "", 0, out, 100, 0, 512),
	    100);
	assert_memory_equal(out, want, 100);
	assert_int_equal(udp_reply(BUILTIN_CHARGEN, "", 0, out, 0, 0, 512), 0);
}

/* One TCP builtin of each kind, in the order of their indexes. */
#define TCP_SVCS \
	"service chargen {\n\tport = 10019\n\taddress = {127.0.0.1}\n" \
	"\tbuiltin = chargen\n}\n" \
	"service echo {\n\tport = 10007\n\taddress = {127.0.0.1}\n" \
	"\tbuiltin = echo\n}\n" \
	"service discard {\n\tport = 10009\n\taddress = {127.0.0.1}\n" \
	"\tbuiltin = discard\n}\n" \
	"service daytime {\n\tport = 10013\n\taddress = {127.0.0.1}\n" \
	"\tbuiltin = daytime\n}\n" \
	"service time {\n\tport = 10037\n\taddress = {127.0.0.1}\n" \
	"\tbuiltin = time\n}\n"
enum { S_CHARGEN, S_ECHO, S_DISCARD, S_DAYTIME, S_TIME };

/*
 * A client of service idx: it connects to lfd, and the socket accepted
 * there is admitted and served as engine_serve() would.  Returns the
 * client's socket; *id is the connection's.
 */
static int
serve_one(struct enginefix *f, size_t idx, int lfd,
    const struct sockaddr_in *lsin, uint64_t *id)
{
	struct engine		*e = &f->e;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct srcent		*se;
	int			 cli, fd;

	cli = ef_tcp_connect(lsin);
	fd = ef_accept(f, lfd, WAIT_MS);
	assert_true(fd != -1);
	assert_int_equal(getpeername(fd, (struct sockaddr *)&ss, &len), 0);
	assert_int_equal(guard_admit(e, idx, (struct sockaddr *)&ss, fd, &se),
	    0);
	*id = engine_next_id(e);
	engine_serve_admitted(e, idx, fd, *id, "127.0.0.1", se, NULL, NULL);
	return cli;
}

/*
 * Read from cli while the engine runs, until want bytes came (want 0:
 * until EOF) or WAIT_MS passed.  Returns how many came; *eof whether
 * the engine closed.
 */
static size_t
read_some(struct enginefix *f, int cli, char *buf, size_t size,
    size_t want, bool *eof)
{
	char		 junk[16384];
	uint64_t	 end = ef_now() + WAIT_MS;
	size_t		 got = 0;
	ssize_t		 r;

	*eof = false;
	while (ef_now() < end && (want == 0 || got < want)) {
		ef_step(f);
		r = recv(cli, got < size ? buf + got : junk, got < size ?
		    size - got : sizeof(junk), MSG_DONTWAIT);
		if (r == 0) {
			*eof = true;
			break;
		}
		if (r == -1) {
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR || errno == ENOTCONN);
			continue;
		}
		got += (size_t)r;
	}
	return got;
}

/* Until the engine has no connection left, WAIT_MS at most. */
static void
wait_idle(struct enginefix *f)
{
	uint64_t	 end = ef_now() + WAIT_MS;

	while (f->e.nconns > 0 && ef_now() < end)
		ef_step(f);
	assert_int_equal(f->e.nconns, 0);
}

/*
 * A chargen client that shuts down its side only says it will send
 * nothing: chargen goes on, a megabyte and more of the pattern, until
 * the client closes; that close ends the connection without an error.
 */
static void
test_builtin_chargen_half_close(void **state)
{
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin;
	char			 buf[4 * CHARGEN_LINE], line[CHARGEN_LINE];
	char			 conn[32], *l;
	uint64_t		 id;
	size_t			 got;
	bool			 eof;
	int			 lfd, cli;

	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, TCP_SVCS);
	cli = serve_one(f, S_CHARGEN, lfd, &lsin, &id);
	assert_int_equal(shutdown(cli, SHUT_WR), 0);
	got = read_some(f, cli, buf, sizeof(buf), 1024 * 1024, &eof);
	if (eof || got < 1024 * 1024)
		fail_msg("chargen sent %zu bytes after the client's half-close"
		    ", then %s", got, eof ? "closed" : "stalled");
	builtin_chargen_line(0, line);
	assert_memory_equal(buf, line, sizeof(line));
	builtin_chargen_line(1, line);
	assert_memory_equal(buf + CHARGEN_LINE, line, sizeof(line));
	(void)snprintf(conn, sizeof(conn), "conn=%llu ",
	    (unsigned long long)id);
	assert_null(ef_line(f, conn, "action=close"));
	assert_int_equal(f->e.nconns, 1);
	(void)close(cli);
	l = ef_expect(f, conn, "action=close", WAIT_MS);
	assert_null(strstr(l, "reason="));
	free(l);
	wait_idle(f);
	(void)close(lfd);
	ef_stop(f);
}

/*
 * The other builtins and a half-close: echo sends back what it read,
 * then closes; discard closes; daytime and time answer, then close.
 */
static void
test_builtin_half_close_others(void **state)
{
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin;
	char			 buf[256];
	uint64_t		 id;
	size_t			 got;
	bool			 eof;
	int			 lfd, cli;

	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, TCP_SVCS);

	cli = serve_one(f, S_ECHO, lfd, &lsin, &id);
	assert_int_equal(send(cli, "abc\r\n", 5, MSG_NOSIGNAL), 5);
	assert_int_equal(shutdown(cli, SHUT_WR), 0);
	got = read_some(f, cli, buf, sizeof(buf), 0, &eof);
	assert_true(eof);
	assert_int_equal(got, 5);
	assert_memory_equal(buf, "abc\r\n", 5);
	(void)close(cli);
	wait_idle(f);

	cli = serve_one(f, S_DISCARD, lfd, &lsin, &id);
	assert_int_equal(send(cli, "abc", 3, MSG_NOSIGNAL), 3);
	assert_int_equal(shutdown(cli, SHUT_WR), 0);
	got = read_some(f, cli, buf, sizeof(buf), 0, &eof);
	assert_true(eof);
	assert_int_equal(got, 0);
	(void)close(cli);
	wait_idle(f);

	cli = serve_one(f, S_DAYTIME, lfd, &lsin, &id);
	assert_int_equal(shutdown(cli, SHUT_WR), 0);
	got = read_some(f, cli, buf, sizeof(buf), 0, &eof);
	assert_true(eof);
	assert_true(got > 2 && buf[got - 2] == '\r' && buf[got - 1] == '\n');
	(void)close(cli);
	wait_idle(f);

	cli = serve_one(f, S_TIME, lfd, &lsin, &id);
	assert_int_equal(shutdown(cli, SHUT_WR), 0);
	got = read_some(f, cli, buf, sizeof(buf), 0, &eof);
	assert_true(eof);
	assert_int_equal(got, 4);
	(void)close(cli);
	wait_idle(f);

	(void)close(lfd);
	ef_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_time_epoch),
		cmocka_unit_test(test_builtin_time_wrap),
		cmocka_unit_test(test_builtin_daytime_utc),
		cmocka_unit_test(test_builtin_daytime_local),
		cmocka_unit_test(test_builtin_daytime_small_buffer),
		cmocka_unit_test(test_builtin_chargen_known_lines),
		cmocka_unit_test(test_builtin_chargen_period),
		cmocka_unit_test(test_builtin_chargen_model),
		cmocka_unit_test(test_builtin_udp_source_ports),
		cmocka_unit_test(test_builtin_udp_source_v4_addrs),
		cmocka_unit_test(test_builtin_udp_source_v6_addrs),
		cmocka_unit_test(test_builtin_udp_source_mapped),
		cmocka_unit_test(test_builtin_udp_source_other_family),
		cmocka_unit_test(test_builtin_udp_echo),
		cmocka_unit_test(test_builtin_udp_echo_truncated),
		cmocka_unit_test(test_builtin_udp_discard),
		cmocka_unit_test(test_builtin_udp_daytime),
		cmocka_unit_test(test_builtin_udp_time),
		cmocka_unit_test(test_builtin_udp_chargen_length),
		cmocka_unit_test(test_builtin_udp_chargen_all_lengths),
		cmocka_unit_test(test_builtin_udp_chargen_small_out),
		cmocka_unit_test_setup_teardown(test_builtin_chargen_half_close,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_builtin_half_close_others,
		    ef_setup, ef_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
