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
 * PROXY protocol header parser (HAProxy's proxy-protocol.txt, v1 text
 * and v2 binary).  The bytes come from a client we do not trust yet, so
 * the parser is strict where the spec is: one space between v1 fields,
 * addresses only of the declared family, v2 lengths that add up
 * exactly.  It runs again on every grown buffer, keeps no state and
 * allocates nothing.  Each call says PROXY_BAD as soon as no valid
 * header can begin with the bytes seen, so a client that is no proxy
 * is refused on its first bytes rather than at the reader's timeout;
 * partial v1 fields are checked against the grammar inet_pton(3) and
 * the port rules accept, for the same reason.  Pure.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proxy.h"

/*
 * v1: a CR further than this would make the line longer than the
 * spec's 107 bytes, so a field still open there can never end in time.
 */
#define V1_CR_MAX	(PROXY_V1_MAX - 2)
#define V1_ADDR_MAX	45	/* IPv6 with an IPv4 tail, without NUL */
#define V1_FIELDS	4	/* two addresses, then two ports */

#define V2_SIGLEN	12
#define V2_HEAD		16	/* signature, version/command, family, len */
#define V2_CMD_LOCAL	0x0
#define V2_CMD_PROXY	0x1
#define V2_FAM_UNSPEC	0x00
#define V2_FAM_TCP4	0x11
#define V2_FAM_TCP6	0x21
#define V2_ADDR4	12	/* two IPv4 addresses, two ports */
#define V2_ADDR6	36	/* two IPv6 addresses, two ports */
#define V2_TLV_HEAD	3	/* type, then a big-endian length */
#define PP2_TYPE_CRC32C	0x03

static const unsigned char v2_sig[V2_SIGLEN] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static enum proxy_result bad(struct proxy_hdr *, const char *);
static enum proxy_result lit(const unsigned char *, size_t, size_t,
		    const void *, size_t);
static bool	 v4_prefix(const unsigned char *, size_t);
static bool	 v6_prefix(const unsigned char *, size_t);
static bool	 field_prefix(int, const unsigned char *, size_t);
static bool	 v1_port(const unsigned char *, size_t, bool, uint16_t *);
static bool	 v1_addr(int, const unsigned char *, size_t,
		    struct sockaddr_storage *, socklen_t *);
static size_t	 v1_rest(int, int);
static enum proxy_result v1_field(const unsigned char *, size_t, int, int,
		    size_t *, struct proxy_hdr *, uint16_t *);
static enum proxy_result v1_crlf(const unsigned char *, size_t, size_t,
		    struct proxy_hdr *);
static enum proxy_result v1_unknown(const unsigned char *, size_t,
		    struct proxy_hdr *);
static enum proxy_result v1_parse(const unsigned char *, size_t,
		    struct proxy_hdr *);
static uint32_t	 crc32c(uint32_t, const unsigned char *, size_t);
static bool	 v2_crc_ok(const unsigned char *, size_t, size_t);
static enum proxy_result v2_tlvs(const unsigned char *, size_t, size_t,
		    size_t, size_t *, struct proxy_hdr *);
static void	 v2_addrs(const unsigned char *, int, struct proxy_hdr *);
static enum proxy_result v2_parse(const unsigned char *, size_t,
		    struct proxy_hdr *);

static enum proxy_result
bad(struct proxy_hdr *out, const char *why)
{
	out->why = why;
	return PROXY_BAD;
}

/*
 * Whether buf holds the literal s of slen bytes at pos: PROXY_DONE if
 * all of it, PROXY_MORE if the buffer ends inside a match so far,
 * PROXY_BAD on the first byte that differs.
 */
static enum proxy_result
lit(const unsigned char *buf, size_t n, size_t pos, const void *s,
    size_t slen)
{
	size_t	 have;

	if (pos >= n)
		return PROXY_MORE;
	have = n - pos < slen ? n - pos : slen;
	if (memcmp(buf + pos, s, have) != 0)
		return PROXY_BAD;
	return have == slen ? PROXY_DONE : PROXY_MORE;
}

/*
 * Whether s could still begin a dotted quad that inet_pton(AF_INET)
 * takes: four decimal octets up to 255 without leading zeros (glibc,
 * musl and the BSDs all refuse "010", which others read as octal).
 * Every such prefix can be completed, so this is exact.
 */
static bool
v4_prefix(const unsigned char *s, size_t len)
{
	unsigned int	 val = 0, octets = 0;
	bool		 digit = false;
	size_t		 i;

	for (i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			if (digit && val == 0)
				return false;
			val = val * 10 + (unsigned int)(s[i] - '0');
			if (val > 255)
				return false;
			if (!digit && ++octets > 4)
				return false;
			digit = true;
		} else if (s[i] == '.' && digit && octets < 4) {
			digit = false;
			val = 0;
		} else
			return false;
	}
	return true;
}

/*
 * Whether s could still begin an address that inet_pton(AF_INET6)
 * takes (RFC 4291 section 2.2): groups of one to four hex digits,
 * eight in all, or at most seven around the one "::" that stands for
 * at least one more; an IPv4 tail counts as two groups and ends the
 * address.  A prefix is refused only once no completion could fit.
 */
static bool
v6_prefix(const unsigned char *s, size_t len)
{
	unsigned int	 groups = 0, xd = 0, most;
	bool		 dcolon = false;
	size_t		 i = 0, tok = 0;
	unsigned char	 c;

	/* A leading colon is only the first half of "::". */
	if (len > 0 && s[0] == ':') {
		if (len > 1 && s[1] != ':')
			return false;
		i = 1;
	}
	for (; i < len; i++) {
		c = s[i];
		most = dcolon ? 7 : 8;
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F')) {
			if (xd == 4 || (xd == 0 && groups + 1 > most))
				return false;
			xd++;
		} else if (c == ':' && xd == 0) {
			if (dcolon)
				return false;
			dcolon = true;
			tok = i + 1;
		} else if (c == ':') {
			/* The group ends, and another must still fit. */
			if (++groups + 1 > most)
				return false;
			xd = 0;
			tok = i + 1;
		} else if (c == '.') {
			if (dcolon ? groups + 2 > 7 : groups + 2 != 8)
				return false;
			return v4_prefix(s + tok, len - tok);
		} else
			return false;
	}
	return true;
}

static bool
field_prefix(int af, const unsigned char *s, size_t len)
{
	return af == AF_INET ? v4_prefix(s, len) : v6_prefix(s, len);
}

/*
 * A v1 port: decimal 0 to 65535 with no sign and no leading zero,
 * since the spec gives the one spelling of each.  whole: the field has
 * ended, so it may no longer be empty.
 */
static bool
v1_port(const unsigned char *s, size_t len, bool whole, uint16_t *port)
{
	uint32_t	 v = 0;
	size_t		 i;

	if (len == 0)
		return !whole;
	if (len > 5 || (s[0] == '0' && len > 1))
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* A whole v1 address of family af, through inet_pton(3) alone. */
static bool
v1_addr(int af, const unsigned char *s, size_t len,
    struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	char			 txt[V1_ADDR_MAX + 1];

	if (len > V1_ADDR_MAX)
		return false;
	memcpy(txt, s, len);
	txt[len] = '\0';
	if (af == AF_INET) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		if (inet_pton(AF_INET, txt, &sin.sin_addr) != 1)
			return false;
		memcpy(ss, &sin, sizeof(sin));
		*sslen = sizeof(sin);
	} else {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, txt, &sin6.sin6_addr) != 1)
			return false;
		memcpy(ss, &sin6, sizeof(sin6));
		*sslen = sizeof(sin6);
	}
	return true;
}

/*
 * The fewest bytes a TCP4 or TCP6 line needs after the delimiter of its
 * field i: the shortest fields left ("0.0.0.0" or "::", then "0"), the
 * spaces between them and the CRLF (only the LF after the CR).
 */
static size_t
v1_rest(int af, int i)
{
	static const size_t	 after[V1_FIELDS] = { 6, 5, 3, 1 };

	return after[i] + (i == 0 ? (af == AF_INET ? 7 : 2) : 0);
}

/*
 * Field i of a TCP4 or TCP6 line, from *pos, scanned up to lim: the
 * buffer's end, or the first index the 107-byte cap leaves no room for
 * a CR at, whichever comes first.  Each field ends in exactly one
 * space, the last in the CR; on PROXY_DONE *pos is past that
 * delimiter.  A field the buffer ends inside must still be able to
 * grow into a valid one, and the shortest line it could end must still
 * fit in 107 bytes.
 */
static enum proxy_result
v1_field(const unsigned char *buf, size_t lim, int af, int i, size_t *pos,
    struct proxy_hdr *out, uint16_t *port)
{
	static const char *const why[V1_FIELDS] = {
		"bad v1 source address", "bad v1 destination address",
		"bad v1 source port", "bad v1 destination port"
	};
	const unsigned char	*s = buf + *pos;
	size_t			 end, len;
	bool			 ok;
	bool			 last = i == V1_FIELDS - 1;

	for (end = *pos; end < lim; end++)
		if (buf[end] == ' ' || buf[end] == '\r' || buf[end] == '\n')
			break;
	len = end - *pos;
	if (end == lim) {
		if (i < 2)
			ok = field_prefix(af, s, len);
		else
			ok = v1_port(s, len, false, port);
		if (!ok)
			return bad(out, why[i]);
		/* The field's delimiter, one byte first if it is empty. */
		if (lim + (len == 0) + 1 + v1_rest(af, i) > PROXY_V1_MAX)
			return bad(out, "v1 line longer than 107 bytes");
		return PROXY_MORE;
	}
	if (buf[end] == '\n')
		return bad(out, "v1 lf without cr");
	if (len == 0)
		return bad(out, "empty v1 field");
	/*
	 * The grammar check too: inet_pton() would stop at a NUL inside
	 * the field and take what came before it.
	 */
	if (i == 0)
		ok = field_prefix(af, s, len) &&
		    v1_addr(af, s, len, &out->src, &out->srclen);
	else if (i == 1)
		ok = field_prefix(af, s, len) &&
		    v1_addr(af, s, len, &out->dst, &out->dstlen);
	else
		ok = v1_port(s, len, true, port);
	if (!ok)
		return bad(out, why[i]);
	if (buf[end] != (last ? '\r' : ' '))
		return bad(out, last ? "extra v1 field" : "missing v1 field");
	if (end + 1 + v1_rest(af, i) > PROXY_V1_MAX)
		return bad(out, "v1 line longer than 107 bytes");
	*pos = end + 1;
	return PROXY_DONE;
}

/* The LF that must follow the CR at buf[cr]; the line ends with it. */
static enum proxy_result
v1_crlf(const unsigned char *buf, size_t n, size_t cr, struct proxy_hdr *out)
{
	if (cr + 1 >= n)
		return PROXY_MORE;
	if (buf[cr + 1] != '\n')
		return bad(out, "v1 cr without lf");
	out->len = cr + 2;
	out->version = 1;
	return PROXY_DONE;
}

/*
 * "PROXY UNKNOWN": the spec has the receiver ignore whatever follows,
 * up to the CRLF, and keep the socket's own addresses.
 */
static enum proxy_result
v1_unknown(const unsigned char *buf, size_t n, struct proxy_hdr *out)
{
	size_t	 lim = n < V1_CR_MAX + 1 ? n : V1_CR_MAX + 1;
	size_t	 pos = sizeof("PROXY UNKNOWN") - 1;

	if (pos == n)
		return PROXY_MORE;
	if (buf[pos] != ' ' && buf[pos] != '\r' && buf[pos] != '\n')
		return bad(out, "unknown v1 protocol");
	for (; pos < lim; pos++)
		if (buf[pos] == '\r' || buf[pos] == '\n')
			break;
	if (pos == lim)
		return lim > V1_CR_MAX ?
		    bad(out, "v1 line longer than 107 bytes") : PROXY_MORE;
	if (buf[pos] == '\n')
		return bad(out, "v1 lf without cr");
	out->local = true;
	return v1_crlf(buf, n, pos, out);
}

static enum proxy_result
v1_parse(const unsigned char *buf, size_t n, struct proxy_hdr *out)
{
	static const char	 tcp4[] = "TCP4 ", tcp6[] = "TCP6 ";
	static const char	 unknown[] = "UNKNOWN";
	size_t			 pos = 6, lim;
	enum proxy_result	 r, r4, r6, ru;
	uint16_t		 port[2] = { 0, 0 };
	int			 af, i;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;

	if ((r = lit(buf, n, 0, "PROXY ", pos)) != PROXY_DONE)
		return r == PROXY_BAD ? bad(out, "not a proxy v1 header") : r;
	r4 = lit(buf, n, pos, tcp4, sizeof(tcp4) - 1);
	r6 = lit(buf, n, pos, tcp6, sizeof(tcp6) - 1);
	ru = lit(buf, n, pos, unknown, sizeof(unknown) - 1);
	if (ru == PROXY_DONE)
		return v1_unknown(buf, n, out);
	if (r4 == PROXY_DONE)
		af = AF_INET;
	else if (r6 == PROXY_DONE)
		af = AF_INET6;
	else if (r4 == PROXY_MORE || r6 == PROXY_MORE || ru == PROXY_MORE)
		return PROXY_MORE;
	else
		return bad(out, "unknown v1 protocol");
	pos += sizeof(tcp4) - 1;

	lim = n < V1_CR_MAX + 1 ? n : V1_CR_MAX + 1;
	for (i = 0; i < V1_FIELDS; i++) {
		r = v1_field(buf, lim, af, i, &pos, out,
		    &port[i < 2 ? 0 : i - 2]);
		if (r != PROXY_DONE)
			return r;
	}
	if ((r = v1_crlf(buf, n, pos - 1, out)) != PROXY_DONE)
		return r;

	/* The ports came after the addresses were stored. */
	if (af == AF_INET) {
		memcpy(&sin, &out->src, sizeof(sin));
		sin.sin_port = htons(port[0]);
		memcpy(&out->src, &sin, sizeof(sin));
		memcpy(&sin, &out->dst, sizeof(sin));
		sin.sin_port = htons(port[1]);
		memcpy(&out->dst, &sin, sizeof(sin));
	} else {
		memcpy(&sin6, &out->src, sizeof(sin6));
		sin6.sin6_port = htons(port[0]);
		memcpy(&out->src, &sin6, sizeof(sin6));
		memcpy(&sin6, &out->dst, sizeof(sin6));
		sin6.sin6_port = htons(port[1]);
		memcpy(&out->dst, &sin6, sizeof(sin6));
	}
	return PROXY_DONE;
}

/*
 * CRC32c (Castagnoli, reflected polynomial 0x82F63B78), four bits at a
 * time: a 16-entry table is small enough to check by eye against the
 * polynomial, and a header is at most PROXY_MAX bytes.  The caller does
 * the initial and final inversion.
 */
static uint32_t
crc32c(uint32_t crc, const unsigned char *p, size_t len)
{
	static const uint32_t	 t[16] = {
		0x00000000, 0x105ec76f, 0x20bd8ede, 0x30e349b1,
		0x417b1dbc, 0x5125dad3, 0x61c69362, 0x7198540d,
		0x82f63b78, 0x92a8fc17, 0xa24bb5a6, 0xb21572c9,
		0xc38d26c4, 0xd3d3e1ab, 0xe330a81a, 0xf36e6f75
	};
	size_t			 i;

	for (i = 0; i < len; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ t[crc & 0xf];
		crc = (crc >> 4) ^ t[crc & 0xf];
	}
	return crc;
}

/*
 * The spec's checksum covers the whole header, the PP2_TYPE_CRC32C
 * value counted as zeroes; the value is big-endian, as HAProxy sends
 * it.  off: where the 4-byte value is.
 */
static bool
v2_crc_ok(const unsigned char *buf, size_t total, size_t off)
{
	static const unsigned char	 zero[4];
	uint32_t			 crc, want;

	crc = crc32c(0xffffffffU, buf, off);
	crc = crc32c(crc, zero, sizeof(zero));
	crc = crc32c(crc, buf + off + 4, total - off - 4);
	crc ^= 0xffffffffU;
	want = (uint32_t)buf[off] << 24 | (uint32_t)buf[off + 1] << 16 |
	    (uint32_t)buf[off + 2] << 8 | buf[off + 3];
	return crc == want;
}

/*
 * The TLVs from p to end must fill it exactly.  Checked as far as the
 * buffer goes, so a length that overruns the header is refused before
 * the rest arrives.  *crc: where the one CRC32C value is, 0 if none.
 */
static enum proxy_result
v2_tlvs(const unsigned char *buf, size_t n, size_t p, size_t end,
    size_t *crc, struct proxy_hdr *out)
{
	size_t	 tlen;

	*crc = 0;
	while (p < end) {
		if (end - p < V2_TLV_HEAD)
			return bad(out, "stray bytes after v2 tlvs");
		if (n < p + V2_TLV_HEAD)
			return PROXY_MORE;
		tlen = (size_t)buf[p + 1] << 8 | buf[p + 2];
		if (tlen > end - p - V2_TLV_HEAD)
			return bad(out, "v2 tlv past the header end");
		if (buf[p] == PP2_TYPE_CRC32C) {
			if (tlen != 4)
				return bad(out, "v2 crc32c tlv not 4 bytes");
			/* Which one would the sender have zeroed? */
			if (*crc != 0)
				return bad(out, "v2 crc32c tlv twice");
			*crc = p + V2_TLV_HEAD;
		}
		p += V2_TLV_HEAD + tlen;
	}
	return n < end ? PROXY_MORE : PROXY_DONE;
}

/* The address block a of a PROXY command, as the wire has it. */
static void
v2_addrs(const unsigned char *a, int fam, struct proxy_hdr *out)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;

	if (fam == V2_FAM_TCP4) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, a, 4);
		memcpy(&sin.sin_port, a + 8, 2);
		memcpy(&out->src, &sin, sizeof(sin));
		memcpy(&sin.sin_addr, a + 4, 4);
		memcpy(&sin.sin_port, a + 10, 2);
		memcpy(&out->dst, &sin, sizeof(sin));
		out->srclen = out->dstlen = sizeof(sin);
	} else {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, a, 16);
		memcpy(&sin6.sin6_port, a + 32, 2);
		memcpy(&out->src, &sin6, sizeof(sin6));
		memcpy(&sin6.sin6_addr, a + 16, 16);
		memcpy(&sin6.sin6_port, a + 34, 2);
		memcpy(&out->dst, &sin6, sizeof(sin6));
		out->srclen = out->dstlen = sizeof(sin6);
	}
}

/*
 * v2: each field is judged as soon as its byte is in.  LOCAL (a health
 * check from the proxy itself) and UNSPEC carry nothing we use, so
 * whatever their length covers is skipped unread, TLVs included, as
 * the spec has the receiver discard it.
 */
static enum proxy_result
v2_parse(const unsigned char *buf, size_t n, struct proxy_hdr *out)
{
	enum proxy_result	 r;
	size_t			 len, total, alen = 0, crc;
	int			 cmd, fam = 0;

	if ((r = lit(buf, n, 0, v2_sig, sizeof(v2_sig))) != PROXY_DONE)
		return r == PROXY_BAD ? bad(out, "not a proxy v2 header") : r;
	if (n <= V2_SIGLEN)
		return PROXY_MORE;
	if (buf[V2_SIGLEN] >> 4 != 2)
		return bad(out, "v2 version not 2");
	cmd = buf[V2_SIGLEN] & 0xf;
	if (cmd != V2_CMD_LOCAL && cmd != V2_CMD_PROXY)
		return bad(out, "unknown v2 command");
	if (n <= V2_SIGLEN + 1)
		return PROXY_MORE;
	if (cmd == V2_CMD_PROXY) {
		fam = buf[V2_SIGLEN + 1];
		if (fam == V2_FAM_TCP4)
			alen = V2_ADDR4;
		else if (fam == V2_FAM_TCP6)
			alen = V2_ADDR6;
		else if (fam != V2_FAM_UNSPEC)
			return bad(out, "unsupported v2 family or transport");
	}
	if (n < V2_HEAD)
		return PROXY_MORE;
	len = (size_t)buf[V2_SIGLEN + 2] << 8 | buf[V2_SIGLEN + 3];
	if (len > PROXY_V2_TLV_MAX)
		return bad(out, "v2 length over 1024 bytes");
	if (len < alen)
		return bad(out, "v2 length shorter than its addresses");
	total = V2_HEAD + len;

	if (cmd == V2_CMD_LOCAL || fam == V2_FAM_UNSPEC) {
		if (n < total)
			return PROXY_MORE;
		out->local = true;
	} else {
		r = v2_tlvs(buf, n, V2_HEAD + alen, total, &crc, out);
		if (r != PROXY_DONE)
			return r;
		if (crc != 0 && !v2_crc_ok(buf, total, crc))
			return bad(out, "v2 crc32c mismatch");
		v2_addrs(buf + V2_HEAD, fam, out);
	}
	out->len = total;
	out->version = 2;
	return PROXY_DONE;
}

/*
 * The first byte tells the versions apart ('P' for v1, CR for v2);
 * when that version is not accepted, the reason names it only if the
 * bytes so far do look like its header.
 */
enum proxy_result
proxy_parse(const unsigned char *buf, size_t n, unsigned int versions,
    struct proxy_hdr *out)
{
	memset(out, 0, sizeof(*out));
	if ((versions & (PROXY_V1 | PROXY_V2)) == 0)
		return bad(out, "no proxy version accepted");
	if (n == 0)
		return PROXY_MORE;
	if (buf[0] == 'P') {
		if (versions & PROXY_V1)
			return v1_parse(buf, n, out);
		if (lit(buf, n, 0, "PROXY ", 6) != PROXY_BAD)
			return bad(out, "v1 header but only v2 accepted");
	} else if (buf[0] == '\r') {
		if (versions & PROXY_V2)
			return v2_parse(buf, n, out);
		if (lit(buf, n, 0, v2_sig, sizeof(v2_sig)) != PROXY_BAD)
			return bad(out, "v2 header but only v1 accepted");
	}
	return bad(out, "not a proxy header");
}

/*
 * IPv4 as IPv6 (::ffff:a.b.c.d), for a header whose two ends are of
 * different families: the spec has both of one family.
 */
static void
to_v6(const struct sockaddr *sa, struct sockaddr_in6 *out)
{
	const struct sockaddr_in	*sin;

	if (sa->sa_family == AF_INET6) {
		memcpy(out, sa, sizeof(*out));
		return;
	}
	sin = (const struct sockaddr_in *)sa;
	memset(out, 0, sizeof(*out));
	out->sin6_family = AF_INET6;
	out->sin6_port = sin->sin_port;
	out->sin6_addr.s6_addr[10] = 0xff;
	out->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&out->sin6_addr.s6_addr[12], &sin->sin_addr, 4);
}

static bool
is_inet(const struct sockaddr *sa)
{
	return sa != NULL && (sa->sa_family == AF_INET ||
	    sa->sa_family == AF_INET6);
}

/*
 * The header a redirect sends its target (redirect_proxy): version
 * PROXY_V1 or PROXY_V2, the client src and the address it connected to
 * dst.  Ends that are not IP (a unix client) give "PROXY UNKNOWN" or a
 * v2 LOCAL header, which tell the target to keep what it sees.  Returns
 * the length, 0 if size (PROXY_OUT_MAX is enough) is too small.
 */
size_t
proxy_build(unsigned int version, const struct sockaddr *src,
    const struct sockaddr *dst, unsigned char *buf, size_t size)
{
	struct sockaddr_in6	 s6, d6;
	const struct sockaddr_in *s4, *d4;
	char			 sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	bool			 ip = is_inet(src) && is_inet(dst);
	bool			 v4 = ip && src->sa_family == AF_INET &&
	    dst->sa_family == AF_INET;
	size_t			 alen = v4 ? V2_ADDR4 : V2_ADDR6;
	int			 n;

	if (ip && !v4) {
		to_v6(src, &s6);
		to_v6(dst, &d6);
	}
	s4 = (const struct sockaddr_in *)src;
	d4 = (const struct sockaddr_in *)dst;
	if (version == PROXY_V1) {
		if (!ip)
			n = snprintf((char *)buf, size, "PROXY UNKNOWN\r\n");
		else if (v4 && inet_ntop(AF_INET, &s4->sin_addr, sa,
		    sizeof(sa)) != NULL && inet_ntop(AF_INET, &d4->sin_addr,
		    da, sizeof(da)) != NULL)
			n = snprintf((char *)buf, size, "PROXY TCP4 %s %s %u "
			    "%u\r\n", sa, da, ntohs(s4->sin_port),
			    ntohs(d4->sin_port));
		else if (!v4 && inet_ntop(AF_INET6, &s6.sin6_addr, sa,
		    sizeof(sa)) != NULL && inet_ntop(AF_INET6, &d6.sin6_addr,
		    da, sizeof(da)) != NULL)
			n = snprintf((char *)buf, size, "PROXY TCP6 %s %s %u "
			    "%u\r\n", sa, da, ntohs(s6.sin6_port),
			    ntohs(d6.sin6_port));
		else
			return 0;
		return n > 0 && (size_t)n < size ? (size_t)n : 0;
	}
	if (!ip)
		alen = 0;
	if (size < V2_HEAD + alen)
		return 0;
	memcpy(buf, v2_sig, V2_SIGLEN);
	buf[V2_SIGLEN] = 0x20 | (ip ? V2_CMD_PROXY : V2_CMD_LOCAL);
	buf[V2_SIGLEN + 1] = !ip ? V2_FAM_UNSPEC : v4 ? V2_FAM_TCP4 :
	    V2_FAM_TCP6;
	buf[V2_SIGLEN + 2] = 0;
	buf[V2_SIGLEN + 3] = (unsigned char)alen;
	if (v4) {
		memcpy(buf + V2_HEAD, &s4->sin_addr, 4);
		memcpy(buf + V2_HEAD + 4, &d4->sin_addr, 4);
		memcpy(buf + V2_HEAD + 8, &s4->sin_port, 2);
		memcpy(buf + V2_HEAD + 10, &d4->sin_port, 2);
	} else if (ip) {
		memcpy(buf + V2_HEAD, &s6.sin6_addr, 16);
		memcpy(buf + V2_HEAD + 16, &d6.sin6_addr, 16);
		memcpy(buf + V2_HEAD + 32, &s6.sin6_port, 2);
		memcpy(buf + V2_HEAD + 34, &d6.sin6_port, 2);
	}
	return V2_HEAD + alen;
}
