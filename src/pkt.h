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
 * The headers of one packet seen on the packet socket (knocking and SYN
 * scan detection): IPv4 or IPv6, then TCP or UDP, from the network
 * header on, as an AF_PACKET SOCK_DGRAM socket delivers it.
 */

#ifndef PKT_H
#define PKT_H

#include <linux/filter.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_IPV6_EXT_MAX	8	/* extension headers walked at most */
#define PKT_SNAPLEN		512	/* bytes the filter lets through */
#define PKT_FILTER_PORTS	64	/* ports one filter can hold */
#define PKT_FILTER_MAX		(2 * PKT_FILTER_PORTS * 2 + 64)

enum pkt_result {
	PKT_OK = 0,
	PKT_TRUNCATED,		/* a header goes past the captured bytes */
	PKT_BADHDR,		/* a field contradicts the lengths or version */
	PKT_FRAGMENT,		/* not the first fragment: no ports in it */
	PKT_OTHER,		/* neither TCP nor UDP, or not reachable */
};

struct pkt {
	uint8_t		 family;	/* AF_INET, AF_INET6 */
	uint8_t		 proto;		/* IPPROTO_TCP, IPPROTO_UDP */
	uint8_t		 src[16];	/* IPv4: the first 4 bytes */
	uint8_t		 dst[16];
	uint16_t	 sport;		/* host order */
	uint16_t	 dport;
	uint8_t		 tcp_flags;	/* TCP only */
};

#define PKT_TCP_FIN	0x01
#define PKT_TCP_SYN	0x02
#define PKT_TCP_RST	0x04
#define PKT_TCP_ACK	0x10

/* A port the packet socket must see: a knock port. */
struct pkt_port {
	uint8_t		 proto;		/* IPPROTO_TCP, IPPROTO_UDP */
	uint16_t	 port;
};

int		 pkt_filter(const struct pkt_port *, size_t, bool,
		    struct sock_filter *, size_t);
enum pkt_result	 pkt_parse(const uint8_t *, size_t, size_t, uint16_t,
		    struct pkt *);
int		 pkt_is_syn(const struct pkt *);
const char	*pkt_result_str(enum pkt_result);

#endif /* PKT_H */
