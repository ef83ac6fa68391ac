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
 * Unit tests of pkt.c, the parser of packets from the packet socket:
 * a corpus of IPv4 and IPv6 packets built here (options, extension
 * headers, fragments, lying length fields), every prefix of each valid
 * one, and random bytes.  Each packet is parsed from a buffer of exactly
 * its size, so that a read past the end shows under AddressSanitizer.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <net/ethernet.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_packet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pkt.h"

#define BUFSZ	1600

struct pb {
	uint8_t	 b[BUFSZ];
	size_t	 len;
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* Parse exactly len bytes from a buffer of that size, of wire bytes. */
static enum pkt_result
parse_cap(const uint8_t *b, size_t len, size_t wire, uint16_t et,
    struct pkt *pk)
{
	uint8_t		*copy = malloc(len > 0 ? len : 1);
	enum pkt_result	 r;

	assert_non_null(copy);
	memcpy(copy, b, len);
	r = pkt_parse(copy, len, wire, et, pk);
	free(copy);
	return r;
}

/* A whole packet: captured as it was on the wire. */
static enum pkt_result
parse(const uint8_t *b, size_t len, uint16_t et, struct pkt *pk)
{
	return parse_cap(b, len, len, et, pk);
}

/* A TCP header (20 bytes, or doff words) at p. */
static size_t
tcp(uint8_t *p, uint16_t sport, uint16_t dport, uint8_t flags, int doff)
{
	memset(p, 0, (size_t)doff * 4);
	put16(p, sport);
	put16(p + 2, dport);
	p[12] = (uint8_t)(doff << 4);
	p[13] = flags;
	/* Options, if any: NOPs then an MSS. */
	if (doff > 5) {
		memset(p + 20, 1, (size_t)(doff - 5) * 4);
		p[(size_t)doff * 4 - 4] = 2;
		p[(size_t)doff * 4 - 3] = 4;
	}
	return (size_t)doff * 4;
}

static size_t
udp(uint8_t *p, uint16_t sport, uint16_t dport, uint16_t ulen)
{
	memset(p, 0, 8);
	put16(p, sport);
	put16(p + 2, dport);
	put16(p + 4, ulen);
	return 8;
}

/*
 * An IPv4 header of ihl words (options are NOPs and an odd record-route
 * option) for proto; total is filled in by ip4_done().
 */
static size_t
ip4(struct pb *pb, int ihl, uint8_t proto, uint16_t frag)
{
	uint8_t	*p = pb->b;

	memset(p, 0, (size_t)ihl * 4);
	p[0] = (uint8_t)(0x40 | ihl);
	put16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	assert_int_equal(inet_pton(AF_INET, "127.0.0.2", p + 12), 1);
	assert_int_equal(inet_pton(AF_INET, "127.0.0.1", p + 16), 1);
	if (ihl > 5) {
		memset(p + 20, 1, (size_t)(ihl - 5) * 4);
		p[20] = 7;		/* record route, length 7: odd */
		p[21] = 7;
		p[22] = 4;
	}
	return (size_t)ihl * 4;
}

static void
ip4_done(struct pb *pb, size_t len)
{
	pb->len = len;
	put16(pb->b + 2, (uint16_t)len);
}

/* A TCP packet over IPv4, with ihl words of IP header. */
static void
v4_tcp(struct pb *pb, int ihl, uint8_t flags)
{
	size_t	 off = ip4(pb, ihl, IPPROTO_TCP, 0);

	off += tcp(pb->b + off, 40001, 7000, flags, 5);
	ip4_done(pb, off);
}

static size_t
ip6(struct pb *pb, uint8_t next)
{
	uint8_t	*p = pb->b;

	memset(p, 0, 40);
	p[0] = 0x60;
	p[6] = next;
	p[7] = 64;
	assert_int_equal(inet_pton(AF_INET6, "::1", p + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", p + 24), 1);
	return 40;
}

static void
ip6_done(struct pb *pb, size_t len)
{
	pb->len = len;
	put16(pb->b + 4, (uint16_t)(len - 40));
}

/* An extension header at p: next, and len 8-octet units beyond the first. */
static size_t
ext(uint8_t *p, uint8_t next, uint8_t units)
{
	memset(p, 0, ((size_t)units + 1) * 8);
	p[0] = next;
	p[1] = units;
	p[2] = 1;		/* a PadN option */
	p[3] = (uint8_t)(((size_t)units + 1) * 8 - 4);
	return ((size_t)units + 1) * 8;
}

static size_t
frag6(uint8_t *p, uint8_t next, uint16_t offset_units, int more)
{
	memset(p, 0, 8);
	p[0] = next;
	put16(p + 2, (uint16_t)(offset_units << 3 | (more ? 1 : 0)));
	return 8;
}

static void
test_pkt_v4_tcp_syn(void **state)
{
	struct pb	 pb;
	struct pkt	 pk;
	uint8_t		 want[4];

	(void)state;
	v4_tcp(&pb, 5, PKT_TCP_SYN);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IP, &pk), PKT_OK);
	assert_int_equal(pk.family, AF_INET);
	assert_int_equal(pk.proto, IPPROTO_TCP);
	assert_int_equal(pk.sport, 40001);
	assert_int_equal(pk.dport, 7000);
	assert_true(pkt_is_syn(&pk));
	inet_pton(AF_INET, "127.0.0.2", want);
	assert_memory_equal(pk.src, want, 4);
	inet_pton(AF_INET, "127.0.0.1", want);
	assert_memory_equal(pk.dst, want, 4);
}

/* Only SYN alone is a connection attempt. */
static void
test_pkt_tcp_flags(void **state)
{
	static const struct {
		uint8_t	 flags;
		int	 syn;
	} c[] = {
		{ PKT_TCP_SYN, 1 },
		{ PKT_TCP_SYN | 0x08 /* PSH */, 1 },
		{ PKT_TCP_SYN | PKT_TCP_ACK, 0 },
		{ PKT_TCP_SYN | PKT_TCP_RST, 0 },
		{ PKT_TCP_ACK, 0 },
		{ PKT_TCP_RST, 0 },
		{ PKT_TCP_FIN, 0 },
		{ 0, 0 },
	};
	struct pb	 pb;
	struct pkt	 pk;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		v4_tcp(&pb, 5, c[i].flags);
		assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IP, &pk),
		    PKT_OK);
		assert_int_equal(pkt_is_syn(&pk), c[i].syn);
	}
}

/* IP options of every length, odd ones included, are skipped. */
static void
test_pkt_v4_options(void **state)
{
	struct pb	 pb;
	struct pkt	 pk;
	int		 ihl;

	(void)state;
	for (ihl = 5; ihl <= 15; ihl++) {
		v4_tcp(&pb, ihl, PKT_TCP_SYN);
		assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IP, &pk),
		    PKT_OK);
		assert_int_equal(pk.dport, 7000);
	}
}

static void
test_pkt_v4_bad_lengths(void **state)
{
	struct pb	 pb;
	struct pkt	 pk;

	(void)state;
	/* IHL below 5. */
	v4_tcp(&pb, 5, PKT_TCP_SYN);
	pb.b[0] = 0x44;
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IP, &pk), PKT_BADHDR);
	/* A total length shorter than the header. */
	v4_tcp(&pb, 6, PKT_TCP_SYN);
	put16(pb.b + 2, 20);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IP, &pk), PKT_BADHDR);
	/* A total length past the capture. */
	v4_tcp(&pb, 5, PKT_TCP_SYN);
	put16(pb.b + 2, (uint16_t)(pb.len + 1));
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IP, &pk),
	    PKT_TRUNCATED);
	/* A total length that leaves the TCP header out. */
	v4_tcp(&pb, 5, PKT_TCP_SYN);
	put16(pb.b + 2, 30);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IP, &pk),
	    PKT_TRUNCATED);
	/* Link padding after the datagram is fine. */
	v4_tcp(&pb, 5, PKT_TCP_SYN);
	memset(pb.b + pb.len, 0xee, 6);
	assert_int_equal(parse(pb.b, pb.len + 6, ETHERTYPE_IP, &pk), PKT_OK);
	/* The version must be the link's. */
	v4_tcp(&pb, 5, PKT_TCP_SYN);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IPV6, &pk),
	    PKT_BADHDR);
	pb.b[0] = 0x65;
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IP, &pk), PKT_BADHDR);
	/* Neither IPv4 nor IPv6. */
	v4_tcp(&pb, 5, PKT_TCP_SYN);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_ARP, &pk), PKT_OTHER);
}

static void
test_pkt_tcp_bad_offset(void **state)
{
	struct pb	 pb;
	struct pkt	 pk;
	size_t		 off;

	(void)state;
	v4_tcp(&pb, 5, PKT_TCP_SYN);
	pb.b[20 + 12] = 4 << 4;		/* data offset 4 words */
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IP, &pk), PKT_BADHDR);
	v4_tcp(&pb, 5, PKT_TCP_SYN);
	pb.b[20 + 12] = 6 << 4;		/* options that are not there */
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IP, &pk),
	    PKT_TRUNCATED);
	/* TCP options of the maximal length are fine. */
	off = ip4(&pb, 5, IPPROTO_TCP, 0);
	off += tcp(pb.b + off, 1, 2, PKT_TCP_SYN, 15);
	ip4_done(&pb, off);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IP, &pk), PKT_OK);
	assert_int_equal(pk.dport, 2);
}

static void
test_pkt_udp(void **state)
{
	struct pb	 pb;
	struct pkt	 pk;
	size_t		 off;

	(void)state;
	off = ip4(&pb, 5, IPPROTO_UDP, 0);
	off += udp(pb.b + off, 53001, 8000, 12);
	memset(pb.b + off, 'x', 4);
	ip4_done(&pb, off + 4);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IP, &pk), PKT_OK);
	assert_int_equal(pk.proto, IPPROTO_UDP);
	assert_int_equal(pk.sport, 53001);
	assert_int_equal(pk.dport, 8000);
	assert_false(pkt_is_syn(&pk));
	/* A UDP length below its header, and one past the datagram. */
	put16(pb.b + 20 + 4, 7);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IP, &pk), PKT_BADHDR);
	put16(pb.b + 20 + 4, 13);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IP, &pk),
	    PKT_TRUNCATED);
}

/* Only the first fragment has the ports. */
static void
test_pkt_v4_fragments(void **state)
{
	struct pb	 pb;
	struct pkt	 pk;
	size_t		 off;

	(void)state;
	off = ip4(&pb, 5, IPPROTO_TCP, 0x2000);	/* MF, offset 0 */
	off += tcp(pb.b + off, 1, 9000, PKT_TCP_SYN, 5);
	ip4_done(&pb, off);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IP, &pk), PKT_OK);
	assert_int_equal(pk.dport, 9000);
	off = ip4(&pb, 5, IPPROTO_TCP, 0x2001);	/* MF, offset 8 */
	off += tcp(pb.b + off, 1, 9000, PKT_TCP_SYN, 5);
	ip4_done(&pb, off);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IP, &pk),
	    PKT_FRAGMENT);
	assert_int_equal(pk.family, AF_INET);
	off = ip4(&pb, 5, IPPROTO_UDP, 0x0010);	/* last, offset 128 */
	ip4_done(&pb, off + 8);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IP, &pk),
	    PKT_FRAGMENT);
	/* Don't-fragment is not a fragment. */
	off = ip4(&pb, 5, IPPROTO_UDP, 0x4000);
	off += udp(pb.b + off, 1, 8000, 8);
	ip4_done(&pb, off);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IP, &pk), PKT_OK);
}

static void
test_pkt_v4_other_proto(void **state)
{
	struct pb	 pb;
	struct pkt	 pk;
	size_t		 off;

	(void)state;
	off = ip4(&pb, 5, IPPROTO_ICMP, 0);
	memset(pb.b + off, 0, 8);
	ip4_done(&pb, off + 8);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IP, &pk), PKT_OTHER);
	assert_int_equal(pk.family, AF_INET);
}

static void
test_pkt_v6_tcp(void **state)
{
	struct pb	 pb;
	struct pkt	 pk;
	size_t		 off;
	uint8_t		 want[16];

	(void)state;
	off = ip6(&pb, IPPROTO_TCP);
	off += tcp(pb.b + off, 40002, 7000, PKT_TCP_SYN, 5);
	ip6_done(&pb, off);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IPV6, &pk), PKT_OK);
	assert_int_equal(pk.family, AF_INET6);
	assert_int_equal(pk.sport, 40002);
	assert_int_equal(pk.dport, 7000);
	assert_true(pkt_is_syn(&pk));
	inet_pton(AF_INET6, "::1", want);
	assert_memory_equal(pk.src, want, 16);
	inet_pton(AF_INET6, "2001:db8::1", want);
	assert_memory_equal(pk.dst, want, 16);
	/* The version must be 6. */
	pb.b[0] = 0x45;
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IPV6, &pk),
	    PKT_BADHDR);
}

/* Hop-by-hop, routing, destination options, AH, a first fragment. */
static void
test_pkt_v6_extensions(void **state)
{
	struct pb	 pb;
	struct pkt	 pk;
	size_t		 off;

	(void)state;
	off = ip6(&pb, IPPROTO_HOPOPTS);
	off += ext(pb.b + off, IPPROTO_ROUTING, 0);
	off += ext(pb.b + off, IPPROTO_DSTOPTS, 2);
	off += ext(pb.b + off, IPPROTO_AH, 0);
	/* AH counts in 4-octet units, minus 2: 1 is 12 bytes. */
	memset(pb.b + off, 0, 12);
	pb.b[off] = IPPROTO_FRAGMENT;
	pb.b[off + 1] = 1;
	off += 12;
	off += frag6(pb.b + off, IPPROTO_UDP, 0, 1);
	off += udp(pb.b + off, 5353, 8000, 8);
	ip6_done(&pb, off);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IPV6, &pk), PKT_OK);
	assert_int_equal(pk.proto, IPPROTO_UDP);
	assert_int_equal(pk.dport, 8000);
}

static void
test_pkt_v6_fragment_later(void **state)
{
	struct pb	 pb;
	struct pkt	 pk;
	size_t		 off;

	(void)state;
	off = ip6(&pb, IPPROTO_FRAGMENT);
	off += frag6(pb.b + off, IPPROTO_TCP, 185, 0);
	off += tcp(pb.b + off, 1, 7000, PKT_TCP_SYN, 5);
	ip6_done(&pb, off);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IPV6, &pk),
	    PKT_FRAGMENT);
	assert_int_equal(pk.family, AF_INET6);
}

/* ESP hides the transport header; no next header has none. */
static void
test_pkt_v6_opaque(void **state)
{
	struct pb	 pb;
	struct pkt	 pk;
	size_t		 off;

	(void)state;
	off = ip6(&pb, IPPROTO_ESP);
	memset(pb.b + off, 0xab, 24);
	ip6_done(&pb, off + 24);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IPV6, &pk), PKT_OTHER);
	off = ip6(&pb, IPPROTO_DSTOPTS);
	off += ext(pb.b + off, IPPROTO_NONE, 0);
	ip6_done(&pb, off);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IPV6, &pk), PKT_OTHER);
	off = ip6(&pb, IPPROTO_ICMPV6);
	memset(pb.b + off, 0, 8);
	ip6_done(&pb, off + 8);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IPV6, &pk), PKT_OTHER);
}

/* A long chain of extension headers is not walked to its end. */
static void
test_pkt_v6_chain_bounded(void **state)
{
	struct pb	 pb;
	struct pkt	 pk;
	size_t		 off;
	int		 i;

	(void)state;
	off = ip6(&pb, IPPROTO_DSTOPTS);
	for (i = 0; i < 100; i++)
		off += ext(pb.b + off, i < 99 ? IPPROTO_DSTOPTS : IPPROTO_TCP,
		    0);
	off += tcp(pb.b + off, 1, 7000, PKT_TCP_SYN, 5);
	ip6_done(&pb, off);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IPV6, &pk), PKT_OTHER);
	/* Up to the bound, the transport header is found. */
	off = ip6(&pb, IPPROTO_DSTOPTS);
	for (i = 0; i < PKT_IPV6_EXT_MAX - 1; i++)
		off += ext(pb.b + off, i < PKT_IPV6_EXT_MAX - 2 ?
		    IPPROTO_DSTOPTS : IPPROTO_TCP, 0);
	off += tcp(pb.b + off, 1, 7000, PKT_TCP_SYN, 5);
	ip6_done(&pb, off);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IPV6, &pk), PKT_OK);
}

static void
test_pkt_v6_bad_lengths(void **state)
{
	struct pb	 pb;
	struct pkt	 pk;
	size_t		 off;

	(void)state;
	/* An extension header that claims more than the payload. */
	off = ip6(&pb, IPPROTO_HOPOPTS);
	off += ext(pb.b + off, IPPROTO_TCP, 0);
	off += tcp(pb.b + off, 1, 7000, PKT_TCP_SYN, 5);
	ip6_done(&pb, off);
	pb.b[41] = 200;
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IPV6, &pk),
	    PKT_TRUNCATED);
	/* A payload length past the capture, and a jumbogram's 0. */
	off = ip6(&pb, IPPROTO_TCP);
	off += tcp(pb.b + off, 1, 7000, PKT_TCP_SYN, 5);
	ip6_done(&pb, off);
	put16(pb.b + 4, 21);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IPV6, &pk),
	    PKT_TRUNCATED);
	put16(pb.b + 4, 0);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IPV6, &pk),
	    PKT_BADHDR);
	/* A payload length that cuts the TCP header. */
	put16(pb.b + 4, 12);
	assert_int_equal(parse(pb.b, pb.len, ETHERTYPE_IPV6, &pk),
	    PKT_TRUNCATED);
}

/*
 * A capture cut after the headers (the filter's snap length) is parsed
 * from what was captured; a packet shorter on the wire than its headers
 * claim is not.
 */
static void
test_pkt_short_capture(void **state)
{
	struct pb	 pb;
	struct pkt	 pk;
	size_t		 off;

	(void)state;
	off = ip4(&pb, 5, IPPROTO_UDP, 0);
	off += udp(pb.b + off, 1, 8000, 1008);
	memset(pb.b + off, 'x', 1000);
	ip4_done(&pb, off + 1000);
	assert_int_equal(parse_cap(pb.b, 28, pb.len, ETHERTYPE_IP, &pk),
	    PKT_OK);
	assert_int_equal(pk.dport, 8000);
	assert_int_equal(parse_cap(pb.b, 28, pb.len - 1, ETHERTYPE_IP, &pk),
	    PKT_TRUNCATED);
	assert_int_equal(parse_cap(pb.b, 27, pb.len, ETHERTYPE_IP, &pk),
	    PKT_TRUNCATED);
	/* A capture that ends inside the IP options. */
	v4_tcp(&pb, 15, PKT_TCP_SYN);
	assert_int_equal(parse_cap(pb.b, 40, pb.len, ETHERTYPE_IP, &pk),
	    PKT_TRUNCATED);
	off = ip6(&pb, IPPROTO_DSTOPTS);
	off += ext(pb.b + off, IPPROTO_TCP, 1);
	off += tcp(pb.b + off, 1, 7000, PKT_TCP_SYN, 5);
	memset(pb.b + off, 'y', 500);
	ip6_done(&pb, off + 500);
	assert_int_equal(parse_cap(pb.b, off, pb.len, ETHERTYPE_IPV6, &pk),
	    PKT_OK);
	assert_int_equal(pk.dport, 7000);
	assert_int_equal(parse_cap(pb.b, off - 1, pb.len, ETHERTYPE_IPV6,
	    &pk), PKT_TRUNCATED);
	assert_int_equal(parse_cap(pb.b, off, pb.len - 1, ETHERTYPE_IPV6,
	    &pk), PKT_TRUNCATED);
}

/* Build the valid corpus: count and, if out != NULL, packet i. */
static size_t
corpus(size_t i, struct pb *out, uint16_t *et)
{
	struct pb	 pb;
	size_t		 off, n = 0;

#define ITEM(build, ethertype) do {					\
		if (out != NULL && n == i) {				\
			build;						\
			*out = pb;					\
			*et = (ethertype);				\
		}							\
		n++;							\
	} while (0)

	ITEM(v4_tcp(&pb, 5, PKT_TCP_SYN), ETHERTYPE_IP);
	ITEM(v4_tcp(&pb, 15, PKT_TCP_SYN | PKT_TCP_ACK), ETHERTYPE_IP);
	ITEM((off = ip4(&pb, 7, IPPROTO_UDP, 0),
	    off += udp(pb.b + off, 9, 8000, 20), ip4_done(&pb, off + 12)),
	    ETHERTYPE_IP);
	ITEM((off = ip6(&pb, IPPROTO_TCP),
	    off += tcp(pb.b + off, 1, 7000, PKT_TCP_SYN, 10),
	    ip6_done(&pb, off)), ETHERTYPE_IPV6);
	ITEM((off = ip6(&pb, IPPROTO_HOPOPTS),
	    off += ext(pb.b + off, IPPROTO_FRAGMENT, 1),
	    off += frag6(pb.b + off, IPPROTO_UDP, 0, 1),
	    off += udp(pb.b + off, 1, 8000, 8), ip6_done(&pb, off)),
	    ETHERTYPE_IPV6);
#undef ITEM
	return n;
}

/*
 * Every prefix of a valid packet is refused as truncated (it cannot be
 * anything else: the lengths in its headers point past it), and none
 * is read beyond its end.
 */
static void
test_pkt_prefixes(void **state)
{
	struct pb	 pb;
	struct pkt	 pk;
	size_t		 i, len, n = corpus(0, NULL, NULL);
	uint16_t	 et;

	(void)state;
	for (i = 0; i < n; i++) {
		corpus(i, &pb, &et);
		assert_int_equal(parse(pb.b, pb.len, et, &pk), PKT_OK);
		for (len = 0; len < pb.len; len++)
			assert_int_equal(parse(pb.b, len, et, &pk),
			    PKT_TRUNCATED);
	}
}

/*
 * Random bytes, and valid packets with random bytes flipped: whatever
 * the result, no read outside the buffer, and PKT_OK only with ports
 * of a TCP or UDP header.
 */
static void
test_pkt_random(void **state)
{
	struct pb	 pb;
	struct pkt	 pk;
	enum pkt_result	 r;
	uint32_t	 x = 0x9e3779b9;
	size_t		 i, j, len, n = corpus(0, NULL, NULL);
	uint16_t	 et;
	int		 ok = 0;

	(void)state;
	for (i = 0; i < 40000; i++) {
		if (i % 2 == 0) {
			len = (x >> 7) % 200;
			for (j = 0; j < len; j++) {
				x ^= x << 13, x ^= x >> 17, x ^= x << 5;
				pb.b[j] = (uint8_t)x;
			}
			et = (i / 2) % 2 ? ETHERTYPE_IPV6 : ETHERTYPE_IP;
			/* Half of them with a plausible version. */
			if (len > 0 && i % 4 == 0)
				pb.b[0] = (uint8_t)((et == ETHERTYPE_IP ?
				    0x40 : 0x60) | (pb.b[0] & 0x0f));
		} else {
			corpus(i / 2 % n, &pb, &et);
			len = pb.len;
			for (j = 0; j < 3; j++) {
				x ^= x << 13, x ^= x >> 17, x ^= x << 5;
				pb.b[x % len] ^= (uint8_t)(x >> 24);
			}
		}
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		r = parse(pb.b, len, et, &pk);
		assert_true(r >= PKT_OK && r <= PKT_OTHER);
		if (r == PKT_OK) {
			assert_true(pk.proto == IPPROTO_TCP ||
			    pk.proto == IPPROTO_UDP);
			assert_true(pk.family == AF_INET ||
			    pk.family == AF_INET6);
			ok++;
		}
	}
	/* The mutated packets are mostly still parsed: the test bites. */
	assert_true(ok > 1000);
}

/*
 * A classic BPF interpreter of the instructions pkt_filter() uses, with
 * the kernel's rules: a load past the packet ends the program with 0.
 */
static uint32_t
bpf_run(const struct sock_filter *f, int n, const uint8_t *b, size_t len,
    uint32_t pkttype)
{
	uint32_t	 a = 0, x = 0, k;
	int		 pc;

	for (pc = 0; pc < n; pc++) {
		k = f[pc].k;
		switch (f[pc].code) {
		case BPF_LD | BPF_W | BPF_ABS:
			assert_true(k ==
			    (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE));
			a = pkttype;
			break;
		case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_H | BPF_IND:
			if (BPF_MODE(f[pc].code) == BPF_IND)
				k += x;
			if ((size_t)k + 2 > len)
				return 0;
			a = (uint32_t)b[k] << 8 | b[k + 1];
			break;
		case BPF_LD | BPF_B | BPF_ABS:
		case BPF_LD | BPF_B | BPF_IND:
			if (BPF_MODE(f[pc].code) == BPF_IND)
				k += x;
			if ((size_t)k + 1 > len)
				return 0;
			a = b[k];
			break;
		case BPF_LDX | BPF_B | BPF_MSH:
			if ((size_t)k + 1 > len)
				return 0;
			x = (uint32_t)(b[k] & 0x0f) * 4;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == k ? f[pc].jt : f[pc].jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & k) != 0 ? f[pc].jt : f[pc].jf;
			break;
		case BPF_RET | BPF_K:
			return k;
		default:
			fail_msg("instruction %d: code %#x", pc, f[pc].code);
		}
	}
	fail_msg("the program runs off its end");
	return 0;
}

static const struct pkt_port knock3[] = {
	{ IPPROTO_TCP, 7000 }, { IPPROTO_UDP, 8000 }, { IPPROTO_TCP, 9000 },
};

static int
filter(const struct pkt_port *ports, size_t n, bool all_syn,
    struct sock_filter *prog)
{
	int	 len = pkt_filter(ports, n, all_syn, prog, PKT_FILTER_MAX);

	assert_true(len > 0);
	return len;
}

/* pkb: packet builders for the filter cases. */
static void
pkb_v4(struct pb *pb, int ihl, uint8_t proto, uint16_t frag,
    uint16_t dport, uint8_t flags)
{
	size_t	 off = ip4(pb, ihl, proto, frag);

	if (proto == IPPROTO_TCP)
		off += tcp(pb->b + off, 40000, dport, flags, 5);
	else
		off += udp(pb->b + off, 40000, dport, 8);
	ip4_done(pb, off);
}

static void
pkb_v6(struct pb *pb, uint8_t proto, uint16_t dport, uint8_t flags)
{
	size_t	 off = ip6(pb, proto);

	if (proto == IPPROTO_TCP)
		off += tcp(pb->b + off, 40000, dport, flags, 5);
	else if (proto == IPPROTO_UDP)
		off += udp(pb->b + off, 40000, dport, 8);
	else {
		memset(pb->b + off, 0, 8);
		off += 8;
	}
	ip6_done(pb, off);
}

static void
test_pkt_filter_knock_ports(void **state)
{
	struct sock_filter	 prog[PKT_FILTER_MAX];
	struct pb		 pb;
	int			 n;
	size_t			 off;

	(void)state;
	n = filter(knock3, 3, false, prog);
#define PASS()	assert_int_equal(bpf_run(prog, n, pb.b, pb.len, \
	    PACKET_HOST), PKT_SNAPLEN)
#define DROP()	assert_int_equal(bpf_run(prog, n, pb.b, pb.len, \
	    PACKET_HOST), 0)
	pkb_v4(&pb, 5, IPPROTO_TCP, 0, 7000, PKT_TCP_SYN);
	PASS();
	assert_int_equal(bpf_run(prog, n, pb.b, pb.len, PACKET_OUTGOING), 0);
	pkb_v4(&pb, 15, IPPROTO_TCP, 0, 9000, PKT_TCP_SYN);
	PASS();
	pkb_v4(&pb, 5, IPPROTO_TCP, 0x2000, 9000, PKT_TCP_SYN);
	PASS();
	pkb_v4(&pb, 5, IPPROTO_TCP, 0x0001, 9000, PKT_TCP_SYN);
	DROP();
	pkb_v4(&pb, 5, IPPROTO_TCP, 0, 7001, PKT_TCP_SYN);
	DROP();
	pkb_v4(&pb, 5, IPPROTO_TCP, 0, 7000, PKT_TCP_SYN | PKT_TCP_ACK);
	DROP();
	pkb_v4(&pb, 5, IPPROTO_TCP, 0, 7000, PKT_TCP_ACK);
	DROP();
	pkb_v4(&pb, 5, IPPROTO_TCP, 0, 8000, PKT_TCP_SYN);
	DROP();
	pkb_v4(&pb, 5, IPPROTO_UDP, 0, 8000, 0);
	PASS();
	pkb_v4(&pb, 7, IPPROTO_UDP, 0, 8000, 0);
	PASS();
	pkb_v4(&pb, 5, IPPROTO_UDP, 0, 7000, 0);
	DROP();
	pkb_v6(&pb, IPPROTO_TCP, 7000, PKT_TCP_SYN);
	PASS();
	pkb_v6(&pb, IPPROTO_TCP, 7000, PKT_TCP_SYN | PKT_TCP_RST);
	DROP();
	pkb_v6(&pb, IPPROTO_TCP, 8000, PKT_TCP_SYN);
	DROP();
	pkb_v6(&pb, IPPROTO_UDP, 8000, 0);
	PASS();
	pkb_v6(&pb, IPPROTO_UDP, 9000, 0);
	DROP();
	pkb_v6(&pb, IPPROTO_ICMPV6, 0, 0);
	DROP();
	/* Extension headers: the parser decides. */
	off = ip6(&pb, IPPROTO_HOPOPTS);
	off += ext(pb.b + off, IPPROTO_TCP, 0);
	off += tcp(pb.b + off, 1, 1234, PKT_TCP_ACK, 5);
	ip6_done(&pb, off);
	PASS();
	/* Neither version; cut packets. */
	pkb_v4(&pb, 5, IPPROTO_TCP, 0, 7000, PKT_TCP_SYN);
	pb.b[0] = 0x55;
	DROP();
	pkb_v4(&pb, 5, IPPROTO_TCP, 0, 7000, PKT_TCP_SYN);
	pb.len = 30;
	DROP();
	pb.len = 0;
	DROP();
	pkb_v6(&pb, IPPROTO_TCP, 7000, PKT_TCP_SYN);
	pb.len = 42;
	DROP();
}

/* Syn scan detection: every bare SYN, and still the UDP knock ports. */
static void
test_pkt_filter_all_syn(void **state)
{
	struct sock_filter	 prog[PKT_FILTER_MAX];
	struct pb		 pb;
	int			 n;

	(void)state;
	n = filter(knock3, 3, true, prog);
	pkb_v4(&pb, 5, IPPROTO_TCP, 0, 1, PKT_TCP_SYN);
	PASS();
	pkb_v4(&pb, 5, IPPROTO_TCP, 0, 65535, PKT_TCP_SYN);
	PASS();
	pkb_v4(&pb, 5, IPPROTO_TCP, 0, 22, PKT_TCP_ACK);
	DROP();
	pkb_v6(&pb, IPPROTO_TCP, 443, PKT_TCP_SYN);
	PASS();
	pkb_v4(&pb, 5, IPPROTO_UDP, 0, 8000, 0);
	PASS();
	pkb_v4(&pb, 5, IPPROTO_UDP, 0, 53, 0);
	DROP();
	n = filter(NULL, 0, true, prog);
	pkb_v4(&pb, 5, IPPROTO_UDP, 0, 8000, 0);
	DROP();
	pkb_v6(&pb, IPPROTO_TCP, 443, PKT_TCP_SYN);
	PASS();
#undef PASS
#undef DROP
}

/* The most ports fit; more, or a short array, are refused. */
static void
test_pkt_filter_limits(void **state)
{
	struct sock_filter	 prog[PKT_FILTER_MAX];
	struct pkt_port		 many[PKT_FILTER_PORTS + 1];
	struct pb		 pb;
	size_t			 i;
	int			 n;

	(void)state;
	for (i = 0; i < PKT_FILTER_PORTS + 1; i++) {
		many[i].proto = i % 2 ? IPPROTO_UDP : IPPROTO_TCP;
		many[i].port = (uint16_t)(10000 + i);
	}
	n = filter(many, PKT_FILTER_PORTS, false, prog);
	for (i = 0; i < PKT_FILTER_PORTS; i++) {
		pkb_v4(&pb, 5, many[i].proto, 0, many[i].port, PKT_TCP_SYN);
		assert_int_equal(bpf_run(prog, n, pb.b, pb.len, PACKET_HOST),
		    PKT_SNAPLEN);
		pkb_v6(&pb, many[i].proto, many[i].port, PKT_TCP_SYN);
		assert_int_equal(bpf_run(prog, n, pb.b, pb.len, PACKET_HOST),
		    PKT_SNAPLEN);
	}
	assert_int_equal(pkt_filter(many, PKT_FILTER_PORTS + 1, false, prog,
	    PKT_FILTER_MAX), -1);
	assert_int_equal(pkt_filter(many, 3, false, prog, 10), -1);
}

/* The kernel's own checker accepts each program (any socket will do). */
static void
test_pkt_filter_kernel(void **state)
{
	struct sock_filter	 prog[PKT_FILTER_MAX];
	struct pkt_port		 many[PKT_FILTER_PORTS];
	struct sock_fprog	 fp;
	size_t			 i;
	int			 fd;

	(void)state;
	for (i = 0; i < PKT_FILTER_PORTS; i++) {
		many[i].proto = i % 3 ? IPPROTO_UDP : IPPROTO_TCP;
		many[i].port = (uint16_t)(1 + i * 1000);
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	fp.filter = prog;
	fp.len = (unsigned short)filter(knock3, 3, false, prog);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp,
	    sizeof(fp)), 0);
	fp.len = (unsigned short)filter(many, PKT_FILTER_PORTS, true, prog);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp,
	    sizeof(fp)), 0);
	fp.len = (unsigned short)filter(many, PKT_FILTER_PORTS, false, prog);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp,
	    sizeof(fp)), 0);
	close(fd);
}

static void
test_pkt_result_str(void **state)
{
	(void)state;
	assert_string_equal(pkt_result_str(PKT_OK), "ok");
	assert_string_equal(pkt_result_str(PKT_TRUNCATED), "truncated");
	assert_string_equal(pkt_result_str(PKT_FRAGMENT), "fragment");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkt_v4_tcp_syn),
		cmocka_unit_test(test_pkt_tcp_flags),
		cmocka_unit_test(test_pkt_v4_options),
		cmocka_unit_test(test_pkt_v4_bad_lengths),
		cmocka_unit_test(test_pkt_tcp_bad_offset),
		cmocka_unit_test(test_pkt_udp),
		cmocka_unit_test(test_pkt_v4_fragments),
		cmocka_unit_test(test_pkt_v4_other_proto),
		cmocka_unit_test(test_pkt_v6_tcp),
		cmocka_unit_test(test_pkt_v6_extensions),
		cmocka_unit_test(test_pkt_v6_fragment_later),
		cmocka_unit_test(test_pkt_v6_opaque),
		cmocka_unit_test(test_pkt_v6_chain_bounded),
		cmocka_unit_test(test_pkt_v6_bad_lengths),
		cmocka_unit_test(test_pkt_short_capture),
		cmocka_unit_test(test_pkt_prefixes),
		cmocka_unit_test(test_pkt_random),
		cmocka_unit_test(test_pkt_filter_knock_ports),
		cmocka_unit_test(test_pkt_filter_all_syn),
		cmocka_unit_test(test_pkt_filter_limits),
		cmocka_unit_test(test_pkt_filter_kernel),
		cmocka_unit_test(test_pkt_result_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
