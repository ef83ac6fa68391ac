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
 * Packets from the wire, parsed by the unprivileged engine: anyone can
 * send them, so nothing in them is trusted.  Every offset is checked
 * against both the bytes captured and the lengths the headers claim,
 * whichever is smaller, before it is read; reads are byte by byte, so no
 * alignment is assumed.  Only what knocking and SYN scan detection need
 * comes out: addresses, protocol, ports, TCP flags.
 *
 * Fragments after the first carry no ports and are not reassembled: a
 * knock or a scan split that way is not seen, which errs on the side of
 * not opening and not banning.  IPv6 extension headers are walked to the
 * transport header, at most PKT_IPV6_EXT_MAX of them, so a chain of
 * hundreds cannot make the engine loop.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <net/ethernet.h>
#include <linux/if_packet.h>

#include <string.h>

#include "pkt.h"

#define IP4_HDR_MIN	20
#define IP6_HDR		40
#define TCP_HDR_MIN	20
#define UDP_HDR		8

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * The transport header at p: avail bytes captured, of claimed bytes that
 * the IP header says follow.
 */
static enum pkt_result
parse_l4(const uint8_t *p, size_t avail, size_t claimed, struct pkt *pk)
{
	size_t	 doff;

	switch (pk->proto) {
	case IPPROTO_TCP:
		if (avail < TCP_HDR_MIN)
			return PKT_TRUNCATED;
		doff = (size_t)(p[12] >> 4) * 4;
		if (doff < TCP_HDR_MIN)
			return PKT_BADHDR;
		if (doff > avail)
			return PKT_TRUNCATED;
		pk->tcp_flags = p[13];
		break;
	case IPPROTO_UDP:
		if (avail < UDP_HDR)
			return PKT_TRUNCATED;
		if (get16(p + 4) < UDP_HDR)
			return PKT_BADHDR;
		/* A claimed length past the datagram: cut, or forged. */
		if (get16(p + 4) > claimed)
			return PKT_TRUNCATED;
		pk->tcp_flags = 0;
		break;
	default:
		return PKT_OTHER;
	}
	pk->sport = get16(p);
	pk->dport = get16(p + 2);
	return PKT_OK;
}

static enum pkt_result
parse_ip4(const uint8_t *p, size_t len, size_t wire, struct pkt *pk)
{
	size_t	 ihl, total;

	if (len < IP4_HDR_MIN)
		return PKT_TRUNCATED;
	if (p[0] >> 4 != 4)
		return PKT_BADHDR;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	total = get16(p + 2);
	if (ihl < IP4_HDR_MIN || total < ihl)
		return PKT_BADHDR;
	/* Link padding may follow the datagram; a shorter packet may not. */
	if (total > wire || ihl > len)
		return PKT_TRUNCATED;
	pk->family = AF_INET;
	pk->proto = p[9];
	memset(pk->src, 0, sizeof(pk->src));
	memset(pk->dst, 0, sizeof(pk->dst));
	memcpy(pk->src, p + 12, 4);
	memcpy(pk->dst, p + 16, 4);
	if ((get16(p + 6) & 0x1fff) != 0)
		return PKT_FRAGMENT;
	if (pk->proto != IPPROTO_TCP && pk->proto != IPPROTO_UDP)
		return PKT_OTHER;
	return parse_l4(p + ihl, (total < len ? total : len) - ihl,
	    total - ihl, pk);
}

static enum pkt_result
parse_ip6(const uint8_t *p, size_t len, size_t wire, struct pkt *pk)
{
	size_t	 off = IP6_HDR, end, claimed, hlen;
	uint8_t	 next;
	int	 n;

	if (len < IP6_HDR)
		return PKT_TRUNCATED;
	if (p[0] >> 4 != 6)
		return PKT_BADHDR;
	/* 0 is a jumbogram (RFC 2675), which no loopback or LAN carries. */
	if (get16(p + 4) == 0)
		return PKT_BADHDR;
	claimed = IP6_HDR + get16(p + 4);
	if (claimed > wire)
		return PKT_TRUNCATED;
	end = claimed < len ? claimed : len;
	pk->family = AF_INET6;
	memcpy(pk->src, p + 8, 16);
	memcpy(pk->dst, p + 24, 16);
	next = p[6];
	for (n = 0; ; n++) {
		switch (next) {
		case IPPROTO_TCP:
		case IPPROTO_UDP:
			pk->proto = next;
			return parse_l4(p + off, end - off, claimed - off,
			    pk);
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case 135:	/* mobility */
		case 139:	/* HIP */
		case 140:	/* shim6 */
			if (end - off < 8)
				return PKT_TRUNCATED;
			hlen = ((size_t)p[off + 1] + 1) * 8;
			break;
		case IPPROTO_FRAGMENT:
			if (end - off < 8)
				return PKT_TRUNCATED;
			if ((get16(p + off + 2) & 0xfff8) != 0)
				return PKT_FRAGMENT;
			hlen = 8;
			break;
		case IPPROTO_AH:
			if (end - off < 8)
				return PKT_TRUNCATED;
			hlen = ((size_t)p[off + 1] + 2) * 4;
			break;
		default:	/* ESP, no next header, ICMPv6, ... */
			pk->proto = next;
			return PKT_OTHER;
		}
		if (n + 1 >= PKT_IPV6_EXT_MAX)
			return PKT_OTHER;
		if (hlen > end - off)
			return PKT_TRUNCATED;
		next = p[off];
		off += hlen;
	}
}

/*
 * Parse the len bytes captured from the network header on, of a packet
 * of wire bytes (recvfrom() with MSG_TRUNC tells; a capture may stop
 * after the headers).  ethertype (host order) is the link's protocol,
 * ETH_P_IP or ETH_P_IPV6, and the version field must agree with it.  On
 * PKT_OK every field of *pk is set; on PKT_FRAGMENT and PKT_OTHER the
 * family and addresses are.
 */
enum pkt_result
pkt_parse(const uint8_t *p, size_t len, size_t wire, uint16_t ethertype,
    struct pkt *pk)
{
	memset(pk, 0, sizeof(*pk));
	if (wire < len)
		wire = len;
	switch (ethertype) {
	case ETHERTYPE_IP:
		return parse_ip4(p, len, wire, pk);
	case ETHERTYPE_IPV6:
		return parse_ip6(p, len, wire, pk);
	default:
		return PKT_OTHER;
	}
}

/*
 * The classic BPF program of the packet socket (SOCK_DGRAM: offset 0 is
 * the network header).  Most traffic of a host is not for us, so the
 * kernel drops it before the copy: outgoing copies (loopback shows each
 * packet twice), IPv4 fragments after the first, TCP segments other
 * than a bare SYN, and, unless every SYN must be seen (syn scan
 * detection), anything not to one of the ports.  IPv6 packets with
 * extension headers pass, and pkt_parse() walks them.  Every jump is
 * local (a test, then a return), so the program stays valid whatever
 * the number of ports; returns its length, or -1 if it does not fit.
 */
struct bpfgen {
	struct sock_filter	*prog;
	size_t			 n, max;
	bool			 full;
};

static size_t
emit(struct bpfgen *g, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	if (g->n == g->max) {
		g->full = true;
		return g->n;
	}
	g->prog[g->n].code = code;
	g->prog[g->n].jt = jt;
	g->prog[g->n].jf = jf;
	g->prog[g->n].k = k;
	return g->n++;
}

/* A forward jump at insn to here, as its false branch. */
static void
patch_jf(struct bpfgen *g, size_t insn)
{
	size_t	 d = g->n - insn - 1;

	if (g->full || d > 255) {
		g->full = true;
		return;
	}
	g->prog[insn].jf = (uint8_t)d;
}

/* A = port: accept it if it is one of ports of proto, else drop. */
static void
emit_ports(struct bpfgen *g, const struct pkt_port *ports, size_t n,
    uint8_t proto)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (ports[i].proto != proto)
			continue;
		emit(g, BPF_JMP | BPF_JEQ | BPF_K, ports[i].port, 0, 1);
		emit(g, BPF_RET | BPF_K, PKT_SNAPLEN, 0, 0);
	}
	emit(g, BPF_RET | BPF_K, 0, 0, 0);
}

/* A = TCP flags: drop unless a bare SYN (RST and ACK clear). */
static void
emit_syn_only(struct bpfgen *g)
{
	emit(g, BPF_ALU | BPF_AND | BPF_K, PKT_TCP_SYN | PKT_TCP_RST |
	    PKT_TCP_ACK, 0, 0);
	emit(g, BPF_JMP | BPF_JEQ | BPF_K, PKT_TCP_SYN, 1, 0);
	emit(g, BPF_RET | BPF_K, 0, 0, 0);
}

int
pkt_filter(const struct pkt_port *ports, size_t n, bool all_syn,
    struct sock_filter *prog, size_t max)
{
	static const uint8_t	 ext6[] = { IPPROTO_HOPOPTS, IPPROTO_ROUTING,
	    IPPROTO_FRAGMENT, IPPROTO_DSTOPTS, IPPROTO_AH, 135, 139, 140 };
	struct bpfgen		 g = { prog, 0, max, false };
	size_t			 to6, udp, i;

	if (n > PKT_FILTER_PORTS)
		return -1;
	emit(&g, BPF_LD | BPF_W | BPF_ABS,
	    (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE), 0, 0);
	emit(&g, BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1);
	emit(&g, BPF_RET | BPF_K, 0, 0, 0);
	emit(&g, BPF_LD | BPF_B | BPF_ABS, 0, 0, 0);
	emit(&g, BPF_ALU | BPF_AND | BPF_K, 0xf0, 0, 0);
	to6 = emit(&g, BPF_JMP | BPF_JEQ | BPF_K, 0x40, 0, 0);

	/* IPv4: X = the header length, options included. */
	emit(&g, BPF_LD | BPF_H | BPF_ABS, 6, 0, 0);
	emit(&g, BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 0, 1);
	emit(&g, BPF_RET | BPF_K, 0, 0, 0);
	emit(&g, BPF_LDX | BPF_B | BPF_MSH, 0, 0, 0);
	emit(&g, BPF_LD | BPF_B | BPF_ABS, 9, 0, 0);
	udp = emit(&g, BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, 0);
	emit(&g, BPF_LD | BPF_B | BPF_IND, 13, 0, 0);
	emit_syn_only(&g);
	if (all_syn)
		emit(&g, BPF_RET | BPF_K, PKT_SNAPLEN, 0, 0);
	else {
		emit(&g, BPF_LD | BPF_H | BPF_IND, 2, 0, 0);
		emit_ports(&g, ports, n, IPPROTO_TCP);
	}
	patch_jf(&g, udp);
	emit(&g, BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 1, 0);
	emit(&g, BPF_RET | BPF_K, 0, 0, 0);
	emit(&g, BPF_LD | BPF_H | BPF_IND, 2, 0, 0);
	emit_ports(&g, ports, n, IPPROTO_UDP);

	/* IPv6, A still the version. */
	patch_jf(&g, to6);
	emit(&g, BPF_JMP | BPF_JEQ | BPF_K, 0x60, 1, 0);
	emit(&g, BPF_RET | BPF_K, 0, 0, 0);
	emit(&g, BPF_LD | BPF_B | BPF_ABS, 6, 0, 0);
	udp = emit(&g, BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, 0);
	emit(&g, BPF_LD | BPF_B | BPF_ABS, IP6_HDR + 13, 0, 0);
	emit_syn_only(&g);
	if (all_syn)
		emit(&g, BPF_RET | BPF_K, PKT_SNAPLEN, 0, 0);
	else {
		emit(&g, BPF_LD | BPF_H | BPF_ABS, IP6_HDR + 2, 0, 0);
		emit_ports(&g, ports, n, IPPROTO_TCP);
	}
	patch_jf(&g, udp);
	udp = emit(&g, BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 0);
	emit(&g, BPF_LD | BPF_H | BPF_ABS, IP6_HDR + 2, 0, 0);
	emit_ports(&g, ports, n, IPPROTO_UDP);
	patch_jf(&g, udp);
	for (i = 0; i < sizeof(ext6); i++) {
		emit(&g, BPF_JMP | BPF_JEQ | BPF_K, ext6[i], 0, 1);
		emit(&g, BPF_RET | BPF_K, PKT_SNAPLEN, 0, 0);
	}
	emit(&g, BPF_RET | BPF_K, 0, 0, 0);
	return g.full ? -1 : (int)g.n;
}

/* A connection attempt: SYN without ACK (and without RST). */
int
pkt_is_syn(const struct pkt *pk)
{
	return pk->proto == IPPROTO_TCP &&
	    (pk->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK | PKT_TCP_RST)) ==
	    PKT_TCP_SYN;
}

const char *
pkt_result_str(enum pkt_result r)
{
	switch (r) {
	case PKT_OK:
		return "ok";
	case PKT_TRUNCATED:
		return "truncated";
	case PKT_BADHDR:
		return "bad header";
	case PKT_FRAGMENT:
		return "fragment";
	case PKT_OTHER:
		return "other";
	}
	return "unknown";
}
