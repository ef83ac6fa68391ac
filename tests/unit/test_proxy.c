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
 * Unit tests of proxy.c against HAProxy's proxy-protocol.txt (v1 and
 * v2): valid headers of each kind with their fields checked, every
 * strict prefix of each answering PROXY_MORE, a corpus of malformed
 * headers each refused at the very byte that spoils it, the versions
 * mask, and a deterministic robustness run (every single-byte change of
 * every valid header, then seeded random buffers).  Each buffer is
 * handed over at the very end of a heap block, so that under ASan a
 * read past buf[n - 1] is an error.  The CRC32c here is a bitwise one,
 * written apart from proxy.c's table and checked on the known vector.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "portmuxd.h"
#include "proxy.h"

#define BOTH		(PROXY_V1 | PROXY_V2)
#define ARENA		(PROXY_MAX + 64)
#define PAYLOAD		"SSH-2.0-client\r\n"
#define NVALID		16
#define RANDOM_BUFS	60000

/* A valid header, and what parsing it must give. */
struct hdr {
	const char	*name;
	unsigned char	 b[PROXY_MAX];
	size_t		 n;
	bool		 local;
	int		 af;		/* AF_UNSPEC when local */
};

/* A malformed header: ok is the longest prefix still PROXY_MORE. */
struct badcase {
	const char	*ok;
	const char	*rest;
};

static const unsigned char sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* 192.0.2.1:56324 to 198.51.100.22:443 */
static const unsigned char body4[12] = {
	0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x16, 0xdc, 0x04, 0x01, 0xbb
};

/* [2001:db8::1]:4660 to [2001:db8:0:1::ff]:65534 */
static const unsigned char body6[36] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0xff,
	0x12, 0x34, 0xff, 0xfe
};

static unsigned char *
arena_new(void)
{
	unsigned char	*a = malloc(ARENA);

	assert_non_null(a);
	return a;
}

/*
 * Parse n bytes placed at the very end of the arena: one byte read
 * past them is a heap overflow for ASan.
 */
static enum proxy_result
at_tail(unsigned char *arena, const void *b, size_t n, unsigned int v,
    struct proxy_hdr *h)
{
	unsigned char	*p = arena + ARENA - n;

	assert_true(n <= ARENA);
	if (n > 0)
		memmove(p, b, n);
	return proxy_parse(p, n, v, h);
}

/* What any answer must look like. */
static void
sane(enum proxy_result r, const struct proxy_hdr *h, size_t n)
{
	const char	*c;
	int		 af = h->src.ss_family;

	switch (r) {
	case PROXY_BAD:
		assert_non_null(h->why);
		assert_true(h->why[0] != '\0');
		for (c = h->why; *c != '\0'; c++)
			assert_true(!(*c >= 'A' && *c <= 'Z') && *c != '"' &&
			    *c != '\'');
		return;
	case PROXY_MORE:
		assert_null(h->why);
		return;
	case PROXY_DONE:
		break;
	default:
		fail_msg("proxy_parse() returned %d", (int)r);
	}
	assert_null(h->why);
	assert_true(h->len > 0 && h->len <= n);
	assert_true(h->version == 1 || h->version == 2);
	if (h->version == 1)
		assert_true(h->len <= PROXY_V1_MAX);
	if (h->local) {
		assert_int_equal(af, AF_UNSPEC);
		assert_int_equal(h->dst.ss_family, AF_UNSPEC);
		assert_int_equal(h->srclen, 0);
		assert_int_equal(h->dstlen, 0);
		return;
	}
	assert_true(af == AF_INET || af == AF_INET6);
	assert_int_equal(h->dst.ss_family, af);
	assert_int_equal(h->srclen, af == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	assert_int_equal(h->dstlen, h->srclen);
}

/*
 * Every strict prefix of b is PROXY_MORE, b itself PROXY_DONE with
 * len n, and b followed by a payload gives the very same answer.
 */
static void
expect_prefixes(unsigned char *arena, const unsigned char *b, size_t n,
    unsigned int v, struct proxy_hdr *h)
{
	unsigned char		 more[PROXY_MAX + sizeof(PAYLOAD)];
	struct proxy_hdr	 t;
	size_t			 k;

	for (k = 0; k < n; k++) {
		if (at_tail(arena, b, k, v, &t) != PROXY_MORE)
			fail_msg("prefix of %zu of %zu bytes: not MORE (%s)",
			    k, n, t.why != NULL ? t.why : "done");
	}
	assert_int_equal(at_tail(arena, b, n, v, h), PROXY_DONE);
	sane(PROXY_DONE, h, n);
	assert_int_equal(h->len, n);
	memcpy(more, b, n);
	memcpy(more + n, PAYLOAD, sizeof(PAYLOAD) - 1);
	assert_int_equal(at_tail(arena, more, n + sizeof(PAYLOAD) - 1, v, &t),
	    PROXY_DONE);
	assert_memory_equal(&t, h, sizeof(t));
}

/*
 * b is PROXY_MORE up to at - 1 bytes and PROXY_BAD from at bytes on,
 * with a reason: refused on the byte that spoils it, and for good.
 */
static void
expect_bad_at(unsigned char *arena, const void *b, size_t n, size_t at,
    unsigned int v)
{
	struct proxy_hdr	 h;
	enum proxy_result	 r;
	size_t			 k;

	assert_true(at >= 1 && at <= n);
	for (k = 0; k <= n; k++) {
		r = at_tail(arena, b, k, v, &h);
		sane(r, &h, k);
		if (r != (k < at ? PROXY_MORE : PROXY_BAD))
			fail_msg("%zu of %zu bytes: %d (%s), want %s at %zu",
			    k, n, (int)r, h.why != NULL ? h.why : "-",
			    k < at ? "MORE" : "BAD", at);
	}
}

/* A case's bytes on one line, CR, LF, tab and NUL escaped. */
static void
show(const char *b, size_t n)
{
	char	 line[512], *o = line;
	size_t	 i;

	for (i = 0; i < n && o < line + sizeof(line) - 5; i++) {
		if (b[i] >= ' ' && b[i] <= '~')
			*o++ = b[i];
		else
			o += snprintf(o, 5, "\\x%02x", (unsigned char)b[i]);
	}
	*o = '\0';
	print_message("  %s\n", line);
}

static void
expect_badcases(const struct badcase *c, size_t nc)
{
	unsigned char	*arena = arena_new();
	char		 b[256];
	size_t		 i, ok;

	for (i = 0; i < nc; i++) {
		ok = strlen(c[i].ok);
		assert_true(ok + strlen(c[i].rest) < sizeof(b));
		(void)snprintf(b, sizeof(b), "%s%s", c[i].ok, c[i].rest);
		show(b, strlen(b));
		expect_bad_at(arena, b, strlen(b), ok + 1, BOTH);
	}
	free(arena);
}

/* The reference CRC32c, a bit at a time. */
static uint32_t
crc32c_bitwise(const unsigned char *p, size_t n)
{
	uint32_t	 crc = 0xffffffffU;
	size_t		 i;
	int		 k;

	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78U : crc >> 1;
	}
	return ~crc;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* A v2 header: signature, vercmd, fam, and body as the whole length. */
static size_t
v2_build(unsigned char *b, unsigned char vercmd, unsigned char fam,
    const void *body, size_t blen)
{
	memcpy(b, sig, sizeof(sig));
	b[12] = vercmd;
	b[13] = fam;
	b[14] = (unsigned char)(blen >> 8);
	b[15] = (unsigned char)blen;
	if (blen > 0)
		memcpy(b + 16, body, blen);
	return 16 + blen;
}

/* Append a TLV to the n-byte header b, and count it in its length. */
static size_t
tlv_add(unsigned char *b, size_t n, unsigned char type, const void *val,
    size_t vlen)
{
	b[n] = type;
	b[n + 1] = (unsigned char)(vlen >> 8);
	b[n + 2] = (unsigned char)vlen;
	if (vlen > 0)
		memcpy(b + n + 3, val, vlen);
	n += 3 + vlen;
	b[14] = (unsigned char)((n - 16) >> 8);
	b[15] = (unsigned char)(n - 16);
	return n;
}

/* Append a CRC32C TLV, last, and fill it in over the n-byte header. */
static size_t
tlv_crc(unsigned char *b, size_t n)
{
	static const unsigned char	 zero[4];

	n = tlv_add(b, n, 0x03, zero, sizeof(zero));
	put32(b + n - 4, crc32c_bitwise(b, n));
	return n;
}

static void
hdr_v1(struct hdr *h, const char *name, const char *s, bool local, int af)
{
	h->name = name;
	h->n = strlen(s);
	memcpy(h->b, s, h->n);
	h->local = local;
	h->af = af;
}

/* A v1 line of exactly len bytes: UNKNOWN, then filler up to the CRLF. */
static size_t
v1_unknown_len(unsigned char *b, size_t len)
{
	static const char	 head[] = "PROXY UNKNOWN ";

	memcpy(b, head, sizeof(head) - 1);
	memset(b + sizeof(head) - 1, 'x', len - 2 - (sizeof(head) - 1));
	memcpy(b + len - 2, "\r\n", 2);
	return len;
}

#define V1_TCP4	"PROXY TCP4 192.0.2.1 198.51.100.22 56324 443\r\n"
#define V1_TCP6	"PROXY TCP6 2001:db8::1 2001:db8:0:1::ff 0 65535\r\n"
#define V6_LONG	"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"
#define V1_LONGEST \
	"PROXY TCP6 " V6_LONG " ffff:ffff:ffff:ffff:ffff:fff:1.2.3.4 " \
	"65535 65535\r\n"

/* Every kind of valid header, for the prefix and robustness runs. */
static size_t
valid_headers(struct hdr *v)
{
	static const unsigned char	 noop[3] = { 1, 2, 3 };
	size_t				 i = 0, n;

	hdr_v1(&v[i++], "v1 tcp4", V1_TCP4, false, AF_INET);
	hdr_v1(&v[i++], "v1 tcp6", V1_TCP6, false, AF_INET6);
	hdr_v1(&v[i++], "v1 tcp6 mapped",
	    "PROXY TCP6 ::ffff:192.0.2.1 :: 1 2\r\n", false, AF_INET6);
	hdr_v1(&v[i++], "v1 unknown", "PROXY UNKNOWN\r\n", true, AF_UNSPEC);
	hdr_v1(&v[i++], "v1 unknown with fields",
	    "PROXY UNKNOWN ffff:f::1 ffff:f::2 65535 1\r\n", true, AF_UNSPEC);
	hdr_v1(&v[i++], "v1 longest tcp6", V1_LONGEST, false, AF_INET6);
	v[i].name = "v1 longest unknown";
	v[i].n = v1_unknown_len(v[i].b, PROXY_V1_MAX);
	v[i++].local = true;

	v[i].name = "v2 tcp4";
	v[i].n = v2_build(v[i].b, 0x21, 0x11, body4, sizeof(body4));
	v[i++].af = AF_INET;
	v[i].name = "v2 tcp6";
	v[i].n = v2_build(v[i].b, 0x21, 0x21, body6, sizeof(body6));
	v[i++].af = AF_INET6;
	v[i].name = "v2 local with addresses";
	n = v2_build(v[i].b, 0x20, 0x11, body4, sizeof(body4));
	v[i].n = tlv_add(v[i].b, n, 0x04, noop, sizeof(noop));
	v[i++].local = true;
	v[i].name = "v2 local empty";
	v[i].n = v2_build(v[i].b, 0x20, 0x00, NULL, 0);
	v[i++].local = true;
	v[i].name = "v2 unspec";
	v[i].n = v2_build(v[i].b, 0x21, 0x00, NULL, 0);
	v[i++].local = true;
	v[i].name = "v2 unspec with bytes";
	v[i].n = v2_build(v[i].b, 0x21, 0x00, "\x01\x02\x03\x04\x05", 5);
	v[i++].local = true;

	v[i].name = "v2 tcp4 noop and unknown tlvs";
	n = v2_build(v[i].b, 0x21, 0x11, body4, sizeof(body4));
	n = tlv_add(v[i].b, n, 0x04, noop, sizeof(noop));
	n = tlv_add(v[i].b, n, 0xe0, NULL, 0);
	v[i].n = tlv_add(v[i].b, n, 0x01, "h2", 2);
	v[i++].af = AF_INET;
	v[i].name = "v2 tcp6 crc32c";
	n = v2_build(v[i].b, 0x21, 0x21, body6, sizeof(body6));
	v[i].n = tlv_crc(v[i].b, n);
	v[i++].af = AF_INET6;
	v[i].name = "v2 tcp4 crc32c between tlvs";
	n = v2_build(v[i].b, 0x21, 0x11, body4, sizeof(body4));
	n = tlv_add(v[i].b, n, 0x02, "example.org", 11);
	n = tlv_add(v[i].b, n, 0x03, "\0\0\0\0", 4);
	v[i].n = tlv_add(v[i].b, n, 0x04, NULL, 0);
	put32(v[i].b + n - 4, crc32c_bitwise(v[i].b, v[i].n));
	v[i++].af = AF_INET;
	assert_int_equal(i, NVALID);
	return i;
}

static void
check_v4(const struct sockaddr_storage *ss, const char *addr, uint16_t port)
{
	struct sockaddr_in	 sin;
	struct in_addr		 want;

	assert_int_equal(inet_pton(AF_INET, addr, &want), 1);
	assert_int_equal(ss->ss_family, AF_INET);
	memcpy(&sin, ss, sizeof(sin));
	assert_memory_equal(&sin.sin_addr, &want, sizeof(want));
	assert_int_equal(ntohs(sin.sin_port), port);
}

static void
check_v6(const struct sockaddr_storage *ss, const char *addr, uint16_t port)
{
	struct sockaddr_in6	 sin6;
	struct in6_addr		 want;

	assert_int_equal(inet_pton(AF_INET6, addr, &want), 1);
	assert_int_equal(ss->ss_family, AF_INET6);
	memcpy(&sin6, ss, sizeof(sin6));
	assert_memory_equal(&sin6.sin6_addr, &want, sizeof(want));
	assert_int_equal(ntohs(sin6.sin6_port), port);
	assert_int_equal(sin6.sin6_flowinfo, 0);
	assert_int_equal(sin6.sin6_scope_id, 0);
}

static void
test_proxy_v1_tcp4(void **state __unused)
{
	static const char	 s[] = V1_TCP4 PAYLOAD;
	struct proxy_hdr	 h;

	assert_int_equal(proxy_parse((const unsigned char *)s, sizeof(s) - 1,
	    BOTH, &h), PROXY_DONE);
	assert_int_equal(h.len, strlen(V1_TCP4));
	assert_int_equal(h.version, 1);
	assert_false(h.local);
	assert_null(h.why);
	check_v4(&h.src, "192.0.2.1", 56324);
	check_v4(&h.dst, "198.51.100.22", 443);
	assert_int_equal(h.srclen, sizeof(struct sockaddr_in));
	assert_int_equal(h.dstlen, sizeof(struct sockaddr_in));
}

static void
test_proxy_v1_tcp6(void **state __unused)
{
	static const char	 s[] = V1_TCP6 PAYLOAD;
	static const char	 m[] = "PROXY TCP6 ::ffff:192.0.2.1 :: 1 2\r\n";
	struct proxy_hdr	 h;

	assert_int_equal(proxy_parse((const unsigned char *)s, sizeof(s) - 1,
	    BOTH, &h), PROXY_DONE);
	assert_int_equal(h.len, strlen(V1_TCP6));
	assert_int_equal(h.version, 1);
	assert_false(h.local);
	check_v6(&h.src, "2001:db8::1", 0);
	check_v6(&h.dst, "2001:db8:0:1::ff", 65535);
	assert_int_equal(h.srclen, sizeof(struct sockaddr_in6));
	assert_int_equal(h.dstlen, sizeof(struct sockaddr_in6));

	/* A v4-mapped address is an IPv6 one: TCP6 takes it as such. */
	assert_int_equal(proxy_parse((const unsigned char *)m, sizeof(m) - 1,
	    BOTH, &h), PROXY_DONE);
	check_v6(&h.src, "::ffff:192.0.2.1", 1);
	check_v6(&h.dst, "::", 2);
}

static void
test_proxy_v1_unknown(void **state __unused)
{
	static const char *const lines[] = {
		"PROXY UNKNOWN\r\n",
		"PROXY UNKNOWN 192.0.2.1 198.51.100.22 1 2\r\n",
		"PROXY UNKNOWN  anything\tat all, even \"this\"\r\n",
		"PROXY UNKNOWN \r\n",
	};
	unsigned char		 b[128];
	struct proxy_hdr	 h;
	size_t			 i, n;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		n = strlen(lines[i]);
		memcpy(b, lines[i], n);
		memcpy(b + n, PAYLOAD, sizeof(PAYLOAD) - 1);
		assert_int_equal(proxy_parse(b, n + sizeof(PAYLOAD) - 1, BOTH,
		    &h), PROXY_DONE);
		assert_int_equal(h.len, n);
		assert_int_equal(h.version, 1);
		assert_true(h.local);
		sane(PROXY_DONE, &h, n);
	}
}

/*
 * The spec's 107 bytes, CRLF included, is the cap: a line of exactly
 * 107 bytes is taken, whatever its protocol, and one of 108 is refused
 * as soon as its 106th byte is not the CR, or before if what is left
 * to come could not fit.
 */
static void
test_proxy_v1_longest(void **state __unused)
{
	static const char	 tcp6[] = V1_LONGEST;
	static const char	 tcp6long[] = "PROXY TCP6 " V6_LONG " "
	    "ffff:ffff:ffff:ffff:ffff:ffff:1.2.3.4 65535 65535\r\n";
	static const char	 tcp6twice[] = "PROXY TCP6 " V6_LONG " " V6_LONG
	    " 0 0\r\n";
	unsigned char		*arena = arena_new();
	unsigned char		 b[PROXY_V1_MAX + 8];
	struct proxy_hdr	 h;
	size_t			 n;

	assert_int_equal(sizeof(tcp6) - 1, PROXY_V1_MAX);
	assert_int_equal(at_tail(arena, tcp6, sizeof(tcp6) - 1, BOTH, &h),
	    PROXY_DONE);
	assert_int_equal(h.len, PROXY_V1_MAX);
	check_v6(&h.src, V6_LONG, 65535);
	assert_int_equal(sizeof(tcp6long) - 1, PROXY_V1_MAX + 1);
	expect_bad_at(arena, tcp6long, sizeof(tcp6long) - 1, PROXY_V1_MAX - 1,
	    BOTH);
	/*
	 * Two such addresses leave no room for " 0 0\r\n": refused on
	 * the last byte of the second, before any port.
	 */
	expect_bad_at(arena, tcp6twice, sizeof(tcp6twice) - 1,
	    sizeof("PROXY TCP6 " V6_LONG " " V6_LONG) - 1, BOTH);

	n = v1_unknown_len(b, PROXY_V1_MAX);
	assert_int_equal(at_tail(arena, b, n, BOTH, &h), PROXY_DONE);
	assert_int_equal(h.len, PROXY_V1_MAX);
	assert_true(h.local);
	n = v1_unknown_len(b, PROXY_V1_MAX + 1);
	expect_bad_at(arena, b, n, PROXY_V1_MAX - 1, BOTH);
	assert_int_equal(at_tail(arena, b, n, BOTH, &h), PROXY_BAD);
	assert_non_null(strstr(h.why, "107"));

	/* No CRLF at all: refused at the same byte. */
	memset(b, 'x', sizeof(b));
	memcpy(b, "PROXY UNKNOWN ", 14);
	expect_bad_at(arena, b, sizeof(b), PROXY_V1_MAX - 1, BOTH);
	free(arena);
}

/* Every kind of valid header, byte by byte. */
static void
test_proxy_prefixes(void **state __unused)
{
	static struct hdr	 v[NVALID];
	unsigned char		*arena = arena_new();
	struct proxy_hdr	 h;
	size_t			 i, nv = valid_headers(v);

	for (i = 0; i < nv; i++) {
		print_message("  %s\n", v[i].name);
		expect_prefixes(arena, v[i].b, v[i].n, BOTH, &h);
		assert_int_equal(h.local, v[i].local);
		assert_int_equal(h.src.ss_family, v[i].af);
		assert_int_equal(h.version, v[i].name[1] - '0');
		/* And with only its own version accepted. */
		expect_prefixes(arena, v[i].b, v[i].n,
		    v[i].name[1] == '1' ? PROXY_V1 : PROXY_V2, &h);
	}
	free(arena);
}

static void
test_proxy_v1_malformed_fields(void **state __unused)
{
	static const struct badcase	 c[] = {
		/* Spaces: exactly one between fields. */
		{ "PROXY ", " TCP4 192.0.2.1 198.51.100.2 1 2\r\n" },
		{ "PROXY TCP4 ", " 192.0.2.1 198.51.100.2 1 2\r\n" },
		{ "PROXY TCP4 192.0.2.1 ", " 198.51.100.2 1 2\r\n" },
		{ "PROXY TCP4 192.0.2.1 198.51.100.2 1 ", " 2\r\n" },
		{ "PROXY TCP4 192.0.2.1 198.51.100.2 1 2", " \r\n" },
		{ "PROXY", "\tTCP4 192.0.2.1 198.51.100.2 1 2\r\n" },
		{ "PROXY TCP4 192.0.2.1", "\t198.51.100.2 1 2\r\n" },
		{ "PROXY TCP4 192.0.2.1 198.51.100.2 1", "\t2\r\n" },
		/* Ports. */
		{ "PROXY TCP4 192.0.2.1 198.51.100.2 0", "1 2\r\n" },
		{ "PROXY TCP4 192.0.2.1 198.51.100.2 1 0", "0\r\n" },
		{ "PROXY TCP4 192.0.2.1 198.51.100.2 6553", "6 2\r\n" },
		{ "PROXY TCP4 192.0.2.1 198.51.100.2 1 6553", "6\r\n" },
		{ "PROXY TCP4 192.0.2.1 198.51.100.2 1 10000", "0\r\n" },
		{ "PROXY TCP4 192.0.2.1 198.51.100.2 ", "-1 2\r\n" },
		{ "PROXY TCP4 192.0.2.1 198.51.100.2 ", "+1 2\r\n" },
		{ "PROXY TCP4 192.0.2.1 198.51.100.2 1 ", "x1\r\n" },
		{ "PROXY TCP4 192.0.2.1 198.51.100.2 1 ", "\r\n" },
		/* Fields missing or extra. */
		{ "PROXY TCP4 192.0.2.1 198.51.100.2 1", "\r\n" },
		{ "PROXY TCP4 192.0.2.1", "\r\n" },
		{ "PROXY TCP4", "\r\n" },
		{ "PROXY ", "\r\n" },
		{ "PROXY TCP4 192.0.2.1 198.51.100.2 1 2", " 3\r\n" },
	};
	static const char	 dbl[] =
	    "PROXY TCP4 192.0.2.1  198.51.100.2 1 2\r\n";
	struct proxy_hdr	 h;

	expect_badcases(c, sizeof(c) / sizeof(c[0]));
	assert_int_equal(proxy_parse((const unsigned char *)dbl,
	    sizeof(dbl) - 1, BOTH, &h), PROXY_BAD);
	assert_string_equal(h.why, "empty v1 field");
}

static void
test_proxy_v1_malformed_addresses(void **state __unused)
{
	static const struct badcase	 c[] = {
		/* The declared family only. */
		{ "PROXY TCP4 ", "::1 ::2 1 2\r\n" },
		{ "PROXY TCP4 200", "1:db8::1 2001:db8::2 1 2\r\n" },
		{ "PROXY TCP4 192.0.2.1 ", ":db8::2 1 2\r\n" },
		{ "PROXY TCP6 192", ".0.2.1 198.51.100.2 1 2\r\n" },
		{ "PROXY TCP6 ::1 198", ".51.100.2 1 2\r\n" },
		/* IPv4: what inet_pton refuses, at the byte it does. */
		{ "PROXY TCP4 192.0.2.0", "1 198.51.100.2 1 2\r\n" },
		{ "PROXY TCP4 0", "10.0.0.1 198.51.100.2 1 2\r\n" },
		{ "PROXY TCP4 192.0.2.25", "6 198.51.100.2 1 2\r\n" },
		{ "PROXY TCP4 1.2.3.4", ".5 198.51.100.2 1 2\r\n" },
		{ "PROXY TCP4 1.2.3", " 198.51.100.2 1 2\r\n" },
		{ "PROXY TCP4 1.2.", ".3 198.51.100.2 1 2\r\n" },
		{ "PROXY TCP4 ", ".1.2.3 198.51.100.2 1 2\r\n" },
		/* IPv6. */
		{ "PROXY TCP6 :", "1::2 ::1 1 2\r\n" },
		{ "PROXY TCP6 ::", ": ::1 1 2\r\n" },
		{ "PROXY TCP6 1::2:", ":3 ::1 1 2\r\n" },
		{ "PROXY TCP6 2001:db80", "0::1 ::1 1 2\r\n" },
		{ "PROXY TCP6 1:2:3:4:5:6:7:8", ":9 ::1 1 2\r\n" },
		{ "PROXY TCP6 1:2:3:4:5:6:7::", "8 ::1 1 2\r\n" },
		{ "PROXY TCP6 1:2:3:4:5:6:7", " ::1 1 2\r\n" },
		{ "PROXY TCP6 1:2:3:4:5:6:7:", " ::1 1 2\r\n" },
		{ "PROXY TCP6 2001:db8::", "g ::1 1 2\r\n" },
		{ "PROXY TCP6 ::ffff:1.0", "2.3.4 ::1 1 2\r\n" },
		{ "PROXY TCP6 1:2:3:4:5:1", ".2.3.4 ::1 1 2\r\n" },
		{ "PROXY TCP6 1:2:3:4:5:6:7:1", ".2.3.4 ::1 1 2\r\n" },
		{ "PROXY TCP6 1::2:3:4:5:6:7", ".2.3.4 ::1 1 2\r\n" },
		{ "PROXY TCP6 ", "[::1] ::1 1 2\r\n" },
		{ "PROXY TCP6 fe80::1", "%eth0 ::1 1 2\r\n" },
	};

	expect_badcases(c, sizeof(c) / sizeof(c[0]));
	/* "As inet_pton sees them": it refuses the octets refused above. */
	{
		struct in_addr	 a;

		assert_int_equal(inet_pton(AF_INET, "192.0.2.01", &a), 0);
		assert_int_equal(inet_pton(AF_INET, "010.0.0.1", &a), 0);
	}
}

static void
test_proxy_v1_malformed_line(void **state __unused)
{
	static const struct badcase	 c[] = {
		{ "PROXY TCP4 192.0.2.1 198.51.100.2 1 2", "\n" },
		{ "PROXY UNKNOWN", "\n" },
		{ "PROXY UNKNOWN foo", "\nbar\r\n" },
		{ "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r", "\r\n" },
		{ "PROXY UNKNOWN\r", "x\n" },
		{ "PROXY UNKNOWN", "X\r\n" },
		{ "PROXY UNKNOW", "\r\n" },
		{ "", "proxy TCP4 192.0.2.1 198.51.100.2 1 2\r\n" },
		{ "PROXY ", "tcp4 192.0.2.1 198.51.100.2 1 2\r\n" },
		{ "PROXY TCP", "5 192.0.2.1 198.51.100.2 1 2\r\n" },
		{ "", "GET / HTTP/1.0\r\n" },
		{ "P", "OST / HTTP/1.0\r\n" },
		{ "", " PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r\n" },
	};
	static const char	 nul[] =
	    "PROXY TCP4 192.0.2.1\0 198.51.100.2 1 2\r\n";
	unsigned char		*arena = arena_new();

	expect_badcases(c, sizeof(c) / sizeof(c[0]));
	/* inet_pton() alone would stop at the NUL and take 192.0.2.1. */
	expect_bad_at(arena, nul, sizeof(nul) - 1, 21, BOTH);
	free(arena);
}

/* The v2 head of a TCP4 header with vercmd, fam and len. */
static size_t
v2_head4(unsigned char *b, unsigned char vercmd, unsigned char fam,
    unsigned int len)
{
	(void)v2_build(b, vercmd, fam, body4, sizeof(body4));
	b[14] = (unsigned char)(len >> 8);
	b[15] = (unsigned char)len;
	memset(b + 28, 0, PROXY_MAX - 28);
	return 16 + (len > PROXY_V2_TLV_MAX ? PROXY_V2_TLV_MAX : len);
}

static void
test_proxy_v2_malformed_head(void **state __unused)
{
	static const unsigned char	 vercmd[] = { 0x11, 0x31, 0x01, 0xf1,
	    0x22, 0x2f, 0x12 };
	static const unsigned char	 fams[] = { 0x12, 0x22, 0x31, 0x32,
	    0x45, 0x01, 0x10, 0x20, 0x02, 0xff };
	static unsigned char		 b[PROXY_MAX];
	unsigned char			*arena = arena_new();
	size_t				 i, n;

	for (i = 0; i < sizeof(vercmd); i++) {
		n = v2_head4(b, vercmd[i], 0x11, 12);
		expect_bad_at(arena, b, n, 13, BOTH);
	}
	for (i = 0; i < sizeof(fams); i++) {
		n = v2_head4(b, 0x21, fams[i], 12);
		expect_bad_at(arena, b, n, 14, BOTH);
	}
	/* Too long, for LOCAL too: refused on the length's last byte. */
	n = v2_head4(b, 0x21, 0x11, PROXY_V2_TLV_MAX + 1);
	expect_bad_at(arena, b, n, 16, BOTH);
	n = v2_head4(b, 0x20, 0x00, 0xffff);
	expect_bad_at(arena, b, n, 16, BOTH);
	/* Shorter than the address block of its family. */
	n = v2_head4(b, 0x21, 0x11, 11);
	expect_bad_at(arena, b, n, 16, BOTH);
	n = v2_build(b, 0x21, 0x21, body6, 35);
	expect_bad_at(arena, b, n, 16, BOTH);
	n = v2_build(b, 0x21, 0x21, body4, 12);
	expect_bad_at(arena, b, n, 16, BOTH);
	/* The signature, and its NUL. */
	n = v2_build(b, 0x21, 0x11, body4, sizeof(body4));
	b[4] = '0';
	expect_bad_at(arena, b, n, 5, BOTH);
	b[4] = 0x00;
	b[11] = '\r';
	expect_bad_at(arena, b, n, 12, BOTH);
	free(arena);
}

static void
test_proxy_v2_malformed_tlvs(void **state __unused)
{
	static unsigned char	 b[PROXY_MAX];
	unsigned char		*arena = arena_new();
	size_t			 n;

	/* Overrun: refused once the TLV's own length is in. */
	n = v2_build(b, 0x21, 0x11, body4, sizeof(body4));
	n = tlv_add(b, n, 0x04, "abcd", 4);
	b[30] = 5;
	expect_bad_at(arena, b, n, 31, BOTH);
	b[29] = 0xff;
	expect_bad_at(arena, b, n, 31, BOTH);
	/* One stray byte: the length says so before any TLV comes. */
	n = v2_head4(b, 0x21, 0x11, 13);
	expect_bad_at(arena, b, n, 16, BOTH);
	/* Two, after a TLV. */
	n = v2_build(b, 0x21, 0x11, body4, sizeof(body4));
	n = tlv_add(b, n, 0x04, NULL, 0);
	b[15] += 2;
	b[n] = 0x04;
	b[n + 1] = 0x00;
	n += 2;
	expect_bad_at(arena, b, n, 31, BOTH);
	/* A CRC32C TLV of 3 bytes, or 5. */
	n = v2_build(b, 0x21, 0x11, body4, sizeof(body4));
	n = tlv_add(b, n, 0x03, "abc", 3);
	expect_bad_at(arena, b, n, 31, BOTH);
	n = v2_build(b, 0x21, 0x11, body4, sizeof(body4));
	n = tlv_add(b, n, 0x03, "abcde", 5);
	expect_bad_at(arena, b, n, 31, BOTH);
	/* Two of them: which one did the sender zero? */
	n = v2_build(b, 0x21, 0x11, body4, sizeof(body4));
	n = tlv_add(b, n, 0x03, "abcd", 4);
	n = tlv_add(b, n, 0x03, "abcd", 4);
	expect_bad_at(arena, b, n, 38, BOTH);
	free(arena);
}

static void
test_proxy_v2_tcp4(void **state __unused)
{
	unsigned char		 b[64];
	struct proxy_hdr	 h;
	struct sockaddr_in	 sin;
	size_t			 n;

	n = v2_build(b, 0x21, 0x11, body4, sizeof(body4));
	memcpy(b + n, PAYLOAD, sizeof(PAYLOAD) - 1);
	assert_int_equal(proxy_parse(b, n + sizeof(PAYLOAD) - 1, BOTH, &h),
	    PROXY_DONE);
	assert_int_equal(h.len, 28);
	assert_int_equal(h.version, 2);
	assert_false(h.local);
	assert_int_equal(h.srclen, sizeof(sin));
	assert_int_equal(h.dstlen, sizeof(sin));
	memcpy(&sin, &h.src, sizeof(sin));
	assert_int_equal(sin.sin_family, AF_INET);
	assert_memory_equal(&sin.sin_addr, "\xc0\x00\x02\x01", 4);
	assert_memory_equal(&sin.sin_port, "\xdc\x04", 2);
	memcpy(&sin, &h.dst, sizeof(sin));
	assert_int_equal(sin.sin_family, AF_INET);
	assert_memory_equal(&sin.sin_addr, "\xc6\x33\x64\x16", 4);
	assert_memory_equal(&sin.sin_port, "\x01\xbb", 2);
	check_v4(&h.src, "192.0.2.1", 56324);
	check_v4(&h.dst, "198.51.100.22", 443);
}

static void
test_proxy_v2_tcp6(void **state __unused)
{
	unsigned char		 b[96];
	struct proxy_hdr	 h;
	struct sockaddr_in6	 sin6;
	size_t			 n;

	n = v2_build(b, 0x21, 0x21, body6, sizeof(body6));
	memcpy(b + n, PAYLOAD, sizeof(PAYLOAD) - 1);
	assert_int_equal(proxy_parse(b, n + sizeof(PAYLOAD) - 1, BOTH, &h),
	    PROXY_DONE);
	assert_int_equal(h.len, 52);
	assert_int_equal(h.version, 2);
	assert_false(h.local);
	assert_int_equal(h.srclen, sizeof(sin6));
	assert_int_equal(h.dstlen, sizeof(sin6));
	memcpy(&sin6, &h.src, sizeof(sin6));
	assert_int_equal(sin6.sin6_family, AF_INET6);
	assert_memory_equal(&sin6.sin6_addr, body6, 16);
	assert_memory_equal(&sin6.sin6_port, "\x12\x34", 2);
	memcpy(&sin6, &h.dst, sizeof(sin6));
	assert_int_equal(sin6.sin6_family, AF_INET6);
	assert_memory_equal(&sin6.sin6_addr, body6 + 16, 16);
	assert_memory_equal(&sin6.sin6_port, "\xff\xfe", 2);
	check_v6(&h.src, "2001:db8::1", 4660);
	check_v6(&h.dst, "2001:db8:0:1::ff", 65534);
}

/*
 * LOCAL (the proxy's own health check): the socket's addresses stand,
 * whatever family and addresses come along, and what its length covers
 * is skipped unread.  PROXY with UNSPEC likewise.
 */
static void
test_proxy_v2_local_unspec(void **state __unused)
{
	static const unsigned char	 junk[] = { 0x03, 0x00, 0x09, 0xff };
	unsigned char			 b[128];
	struct proxy_hdr		 h;
	size_t				 n;

	n = v2_build(b, 0x20, 0x11, body4, sizeof(body4));
	memcpy(b + n, PAYLOAD, sizeof(PAYLOAD) - 1);
	assert_int_equal(proxy_parse(b, n + sizeof(PAYLOAD) - 1, BOTH, &h),
	    PROXY_DONE);
	assert_int_equal(h.len, 28);
	assert_int_equal(h.version, 2);
	assert_true(h.local);
	sane(PROXY_DONE, &h, n);

	n = v2_build(b, 0x20, 0x45, junk, sizeof(junk));
	assert_int_equal(proxy_parse(b, n, BOTH, &h), PROXY_DONE);
	assert_int_equal(h.len, 20);
	assert_true(h.local);

	n = v2_build(b, 0x21, 0x00, NULL, 0);
	memcpy(b + n, PAYLOAD, sizeof(PAYLOAD) - 1);
	assert_int_equal(proxy_parse(b, n + sizeof(PAYLOAD) - 1, BOTH, &h),
	    PROXY_DONE);
	assert_int_equal(h.len, 16);
	assert_true(h.local);
	sane(PROXY_DONE, &h, n);

	n = v2_build(b, 0x21, 0x00, body6, sizeof(body6));
	assert_int_equal(proxy_parse(b, n, BOTH, &h), PROXY_DONE);
	assert_int_equal(h.len, 52);
	assert_true(h.local);
}

/* NOOP and every other type but CRC32C: skipped, whatever they hold. */
static void
test_proxy_v2_tlvs_skipped(void **state __unused)
{
	static unsigned char	 b[PROXY_MAX + 32];
	static unsigned char	 big[PROXY_V2_TLV_MAX];
	struct proxy_hdr	 h;
	size_t			 n;
	unsigned int		 t;

	n = v2_build(b, 0x21, 0x11, body4, sizeof(body4));
	n = tlv_add(b, n, 0x04, "\x03\x00\x04", 3);
	for (t = 0x05; t <= 0xff; t += 0x0d)
		n = tlv_add(b, n, (unsigned char)t, "\x03\x00", 2);
	n = tlv_add(b, n, 0x20, NULL, 0);
	memcpy(b + n, PAYLOAD, sizeof(PAYLOAD) - 1);
	assert_int_equal(proxy_parse(b, n + sizeof(PAYLOAD) - 1, BOTH, &h),
	    PROXY_DONE);
	assert_int_equal(h.len, n);
	check_v4(&h.src, "192.0.2.1", 56324);
	check_v4(&h.dst, "198.51.100.22", 443);

	/* The longest header taken: PROXY_MAX bytes, its length 1024. */
	memset(big, 0xaa, sizeof(big));
	n = v2_build(b, 0x21, 0x11, body4, sizeof(body4));
	n = tlv_add(b, n, 0xee, big, PROXY_V2_TLV_MAX - 12 - 3);
	assert_int_equal(n, PROXY_MAX);
	assert_int_equal(proxy_parse(b, n, BOTH, &h), PROXY_DONE);
	assert_int_equal(h.len, PROXY_MAX);
}

static void
test_proxy_v2_crc32c(void **state __unused)
{
	static struct hdr	 v[NVALID];
	unsigned char		 b[128];
	struct proxy_hdr	 h;
	size_t			 n, i;
	uint32_t		 crc;
	const size_t		 off = 16 + sizeof(body6) + 3;

	/* The reference itself, on the known vector. */
	assert_int_equal(crc32c_bitwise((const unsigned char *)"123456789", 9),
	    0xe3069283U);
	(void)valid_headers(v);
	n = v2_build(b, 0x21, 0x21, body6, sizeof(body6));
	n = tlv_crc(b, n);
	assert_int_equal(n, off + 4);
	assert_int_equal(n, v[NVALID - 2].n);
	assert_memory_equal(b, v[NVALID - 2].b, n);
	memcpy(b + n, PAYLOAD, sizeof(PAYLOAD) - 1);
	assert_int_equal(proxy_parse(b, n + sizeof(PAYLOAD) - 1, BOTH, &h),
	    PROXY_DONE);
	assert_int_equal(h.len, n);
	check_v6(&h.src, "2001:db8::1", 4660);

	/*
	 * Any byte changed past the head is caught, but the CRC32C type
	 * (which would make the checksum another TLV).
	 */
	for (i = 16; i < n; i++) {
		if (i == off - 3)
			continue;
		b[i] ^= 0x01;
		assert_int_equal(proxy_parse(b, n, BOTH, &h), PROXY_BAD);
		b[i] ^= 0x01;
	}
	/* The value is big-endian, and computed with itself zeroed. */
	crc = crc32c_bitwise(b, n);
	put32(b + off, crc);
	assert_int_equal(proxy_parse(b, n, BOTH, &h), PROXY_BAD);
	memset(b + off, 0, 4);
	crc = crc32c_bitwise(b, n);
	b[off] = (unsigned char)crc;
	b[off + 1] = (unsigned char)(crc >> 8);
	b[off + 2] = (unsigned char)(crc >> 16);
	b[off + 3] = (unsigned char)(crc >> 24);
	assert_int_equal(proxy_parse(b, n, BOTH, &h), PROXY_BAD);
	assert_string_equal(h.why, "v2 crc32c mismatch");
	put32(b + off, crc);
	assert_int_equal(proxy_parse(b, n, BOTH, &h), PROXY_DONE);

	/* A CRC32C TLV between others. */
	n = v[NVALID - 1].n;
	assert_int_equal(proxy_parse(v[NVALID - 1].b, n, BOTH, &h),
	    PROXY_DONE);
	v[NVALID - 1].b[33] ^= 0x80;
	assert_int_equal(proxy_parse(v[NVALID - 1].b, n, BOTH, &h),
	    PROXY_BAD);
}

static void
test_proxy_versions(void **state __unused)
{
	static const char	 v1[] = V1_TCP4;
	unsigned char		*arena = arena_new();
	unsigned char		 v2[64];
	struct proxy_hdr	 h;
	size_t			 n2;

	n2 = v2_build(v2, 0x21, 0x11, body4, sizeof(body4));
	assert_int_equal(at_tail(arena, v1, sizeof(v1) - 1, PROXY_V1, &h),
	    PROXY_DONE);
	assert_int_equal(at_tail(arena, v2, n2, PROXY_V2, &h), PROXY_DONE);

	/* Refused on the first byte, naming the version that came. */
	expect_bad_at(arena, v1, sizeof(v1) - 1, 1, PROXY_V2);
	assert_int_equal(at_tail(arena, v1, sizeof(v1) - 1, PROXY_V2, &h),
	    PROXY_BAD);
	assert_non_null(strstr(h.why, "v1"));
	expect_bad_at(arena, v2, n2, 1, PROXY_V1);
	assert_int_equal(at_tail(arena, v2, n2, PROXY_V1, &h), PROXY_BAD);
	assert_non_null(strstr(h.why, "v2"));

	/* Neither header: no version named. */
	assert_int_equal(at_tail(arena, "POST /", 6, PROXY_V2, &h),
	    PROXY_BAD);
	assert_null(strstr(h.why, "v1"));
	assert_int_equal(at_tail(arena, "\r\n\r\nX", 5, PROXY_V1, &h),
	    PROXY_BAD);
	assert_null(strstr(h.why, "v2"));

	/* Nothing accepted: nothing can ever be valid. */
	assert_int_equal(at_tail(arena, v1, sizeof(v1) - 1, 0, &h), PROXY_BAD);
	assert_int_equal(at_tail(arena, v2, 0, 0, &h), PROXY_BAD);
	assert_int_equal(at_tail(arena, v2, 0, BOTH, &h), PROXY_MORE);
	assert_int_equal(at_tail(arena, v2, 0, PROXY_V1, &h), PROXY_MORE);
	free(arena);
}

/* xorshift64*: the same sequence on every run and every platform. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec	 t1;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &t1), 0);
	return (t1.tv_sec - t0->tv_sec) * 1e3 +
	    (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/*
 * b read byte by byte: PROXY_MORE until it turns PROXY_BAD or
 * PROXY_DONE, and then it stays so (DONE with the very same fields,
 * first at k == len).  Returns the calls made.
 */
static size_t
expect_monotone(unsigned char *arena, const unsigned char *b, size_t n)
{
	struct proxy_hdr	 h, first;
	enum proxy_result	 r, prev = PROXY_MORE;
	size_t			 k;

	for (k = 0; k <= n; k++) {
		r = at_tail(arena, b, k, BOTH, &h);
		sane(r, &h, k);
		if (prev == PROXY_MORE && r == PROXY_DONE) {
			assert_int_equal(h.len, k);
			memcpy(&first, &h, sizeof(first));
		} else if (prev == PROXY_DONE) {
			assert_int_equal(r, PROXY_DONE);
			assert_memory_equal(&h, &first, sizeof(h));
		} else if (prev == PROXY_BAD)
			assert_int_equal(r, PROXY_BAD);
		prev = r;
	}
	return n + 1;
}

/*
 * Every value at every position of every valid header (followed by a
 * payload, which must never matter): a sane answer each time.  Two of
 * the changes at each position are also read byte by byte.
 */
static void
test_proxy_robust_mutations(void **state __unused)
{
	static struct hdr	 v[NVALID];
	unsigned char		*arena = arena_new(), *p;
	unsigned char		 b[PROXY_MAX + sizeof(PAYLOAD)];
	struct proxy_hdr	 h;
	struct timespec		 t0;
	enum proxy_result	 r;
	size_t			 i, pos, n, nv, calls = 0, done = 0;
	unsigned int		 val;
	uint64_t		 seed = 0x70726f7879ULL;
	unsigned char		 orig;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
	nv = valid_headers(v);
	for (i = 0; i < nv; i++) {
		n = v[i].n + sizeof(PAYLOAD) - 1;
		memcpy(b, v[i].b, v[i].n);
		memcpy(b + v[i].n, PAYLOAD, sizeof(PAYLOAD) - 1);
		p = arena + ARENA - n;
		memcpy(p, b, n);
		for (pos = 0; pos < v[i].n; pos++) {
			orig = p[pos];
			for (val = 0; val < 256; val++) {
				p[pos] = (unsigned char)val;
				r = proxy_parse(p, n, BOTH, &h);
				sane(r, &h, n);
				calls++;
				done += r == PROXY_DONE;
			}
			p[pos] = orig;
			b[pos] = orig ^ 0x01;
			calls += expect_monotone(arena, b, n);
			b[pos] = (unsigned char)rnd(&seed);
			calls += expect_monotone(arena, b, n);
			b[pos] = orig;
			memcpy(p, b, n);
		}
	}
	print_message("  %zu calls (%zu done) in %.1f ms\n", calls, done,
	    ms_since(&t0));
	assert_true(calls >= 200000);
	free(arena);
}

/* n bytes of kind k: random, or random after the start of a header. */
static void
random_buf(unsigned char *b, size_t n, unsigned int k, uint64_t *seed,
    const struct hdr *v, size_t nv)
{
	static const char	 v1set[] = "0123456789abcdef:. \r\nTCP46UNKOWX";
	const struct hdr	*t;
	size_t			 i, keep = 0;
	uint64_t		 x = 0;

	for (i = 0; i < n; i++) {
		if (i % 8 == 0)
			x = rnd(seed);
		b[i] = (unsigned char)(x >> (i % 8 * 8));
		if (k == 1)
			b[i] = (unsigned char)v1set[b[i] % (sizeof(v1set) - 1)];
	}
	if (k == 0)
		return;
	/* A valid header's first bytes, the rest random. */
	t = &v[rnd(seed) % nv];
	if (k == 1 && t->b[0] != 'P')
		t = &v[0];
	keep = t->n > 0 ? (size_t)(rnd(seed) % (t->n + 1)) : 0;
	if (keep > n)
		keep = n;
	memcpy(b, t->b, keep);
	if (k == 3 && keep > 0)
		b[rnd(seed) % keep] = (unsigned char)rnd(seed);
}

/* Seeded random buffers of 0 to PROXY_MAX bytes. */
static void
test_proxy_robust_random(void **state __unused)
{
	static const unsigned int	 masks[] = { BOTH, PROXY_V1, PROXY_V2,
	    BOTH };
	static struct hdr		 v[NVALID];
	unsigned char			*arena = arena_new(), *p;
	struct proxy_hdr		 h;
	struct timespec			 t0;
	enum proxy_result		 r;
	size_t				 i, n, nv, count[3] = { 0, 0, 0 };
	uint64_t			 seed = 0x5eedf00dULL;
	unsigned int			 m;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
	nv = valid_headers(v);
	for (i = 0; i < RANDOM_BUFS; i++) {
		n = (size_t)(rnd(&seed) % (PROXY_MAX + 1));
		/* Short buffers are where headers end: many of them. */
		if (i % 2 == 0)
			n %= 128;
		p = arena + ARENA - n;
		random_buf(p, n, (unsigned int)(i % 4), &seed, v, nv);
		m = masks[rnd(&seed) % 4];
		r = proxy_parse(p, n, m, &h);
		sane(r, &h, n);
		count[r + 1]++;
	}
	print_message("  %d calls (%zu bad, %zu more, %zu done) in %.1f ms\n",
	    RANDOM_BUFS, count[0], count[1], count[2], ms_since(&t0));
	/* The run did reach past the first byte. */
	assert_true(count[1] > 0 && count[2] > 0);
	free(arena);
}

/* An IPv4 or IPv6 socket address, for proxy_build(). */
static void
build_sa(struct sockaddr_storage *ss, const char *ip, uint16_t port)
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
}

/*
 * PROXY out (redirect_proxy): what proxy_build() writes is what the
 * spec spells, and what proxy_parse() reads back the same, for both
 * versions, both families, mixed ends (as IPv6) and a non-IP client
 * (UNKNOWN, LOCAL); a buffer too small gives 0, never a cut header.
 */
static void
test_proxy_build(void **state)
{
	static const struct {
		const char	*src, *dst;
		uint16_t	 sp, dp;
		const char	*v1;
		int		 fam;
	} c[] = {
		{ "192.0.2.7", "198.51.100.1", 40000, 80,
		    "PROXY TCP4 192.0.2.7 198.51.100.1 40000 80\r\n", AF_INET },
		{ "2001:db8::7", "2001:db8::1", 1, 65535,
		    "PROXY TCP6 2001:db8::7 2001:db8::1 1 65535\r\n", AF_INET6 },
		{ "192.0.2.7", "2001:db8::1", 5, 6,
		    "PROXY TCP6 ::ffff:192.0.2.7 2001:db8::1 5 6\r\n",
		    AF_INET6 },
	};
	struct sockaddr_storage	 src, dst;
	struct sockaddr_un	 un;
	struct proxy_hdr	 h;
	unsigned char		 buf[PROXY_OUT_MAX];
	size_t			 i, n;
	unsigned int		 v;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		build_sa(&src, c[i].src, c[i].sp);
		build_sa(&dst, c[i].dst, c[i].dp);
		n = proxy_build(PROXY_V1, (struct sockaddr *)&src,
		    (struct sockaddr *)&dst, buf, sizeof(buf));
		assert_int_equal(n, strlen(c[i].v1));
		assert_memory_equal(buf, c[i].v1, n);
		/* One byte short: nothing rather than a cut line. */
		assert_int_equal(proxy_build(PROXY_V1, (struct sockaddr *)&src,
		    (struct sockaddr *)&dst, buf, n), 0);
		for (v = PROXY_V1; v <= PROXY_V2; v++) {
			n = proxy_build(v, (struct sockaddr *)&src,
			    (struct sockaddr *)&dst, buf, sizeof(buf));
			assert_true(n > 0);
			assert_int_equal(proxy_parse(buf, n, v, &h),
			    PROXY_DONE);
			assert_int_equal(h.len, n);
			assert_int_equal(h.version, (int)v);
			assert_false(h.local);
			assert_int_equal(h.src.ss_family, c[i].fam);
			assert_int_equal(h.dst.ss_family, c[i].fam);
			if (c[i].fam == AF_INET) {
				assert_memory_equal(&h.src, &src,
				    sizeof(struct sockaddr_in));
				assert_memory_equal(&h.dst, &dst,
				    sizeof(struct sockaddr_in));
			} else {
				const struct sockaddr_in6 *s6 =
				    (const struct sockaddr_in6 *)&h.src;
				const struct sockaddr_in6 *d6 =
				    (const struct sockaddr_in6 *)&h.dst;

				assert_int_equal(ntohs(s6->sin6_port),
				    c[i].sp);
				assert_int_equal(ntohs(d6->sin6_port),
				    c[i].dp);
			}
			assert_int_equal(proxy_build(v,
			    (struct sockaddr *)&src, (struct sockaddr *)&dst,
			    buf, v == PROXY_V2 ? 15 : 10), 0);
		}
	}
	/* A unix client: the target is told to keep what it sees. */
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	build_sa(&dst, "192.0.2.1", 80);
	n = proxy_build(PROXY_V1, (struct sockaddr *)&un,
	    (struct sockaddr *)&dst, buf, sizeof(buf));
	assert_int_equal(n, strlen("PROXY UNKNOWN\r\n"));
	assert_memory_equal(buf, "PROXY UNKNOWN\r\n", n);
	n = proxy_build(PROXY_V2, (struct sockaddr *)&un,
	    (struct sockaddr *)&dst, buf, sizeof(buf));
	assert_int_equal(n, 16);
	assert_int_equal(buf[12], 0x20);		/* LOCAL */
	assert_int_equal(proxy_parse(buf, n, PROXY_V2, &h), PROXY_DONE);
	assert_true(h.local);
	assert_int_equal(proxy_build(PROXY_V1, NULL, (struct sockaddr *)&dst,
	    buf, sizeof(buf)), strlen("PROXY UNKNOWN\r\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxy_v1_tcp4),
		cmocka_unit_test(test_proxy_v1_tcp6),
		cmocka_unit_test(test_proxy_v1_unknown),
		cmocka_unit_test(test_proxy_v1_longest),
		cmocka_unit_test(test_proxy_prefixes),
		cmocka_unit_test(test_proxy_v1_malformed_fields),
		cmocka_unit_test(test_proxy_v1_malformed_addresses),
		cmocka_unit_test(test_proxy_v1_malformed_line),
		cmocka_unit_test(test_proxy_v2_malformed_head),
		cmocka_unit_test(test_proxy_v2_malformed_tlvs),
		cmocka_unit_test(test_proxy_v2_tcp4),
		cmocka_unit_test(test_proxy_v2_tcp6),
		cmocka_unit_test(test_proxy_v2_local_unspec),
		cmocka_unit_test(test_proxy_v2_tlvs_skipped),
		cmocka_unit_test(test_proxy_v2_crc32c),
		cmocka_unit_test(test_proxy_versions),
		cmocka_unit_test(test_proxy_robust_mutations),
		cmocka_unit_test(test_proxy_robust_random),
		cmocka_unit_test(test_proxy_build),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
