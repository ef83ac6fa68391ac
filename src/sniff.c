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
 * The packet socket, opened by the monitor (it needs CAP_NET_RAW) for
 * each engine generation, which reads it (gatekeep.c); the monitor never
 * does.  An AF_PACKET socket sees the knocks to ports nothing listens
 * on, where a raw IP socket only gets the protocols it is opened for
 * and no TCP segment the kernel handles itself.  The classic BPF filter
 * (pkt.c) keeps everything else in the kernel, and is locked, so that
 * the engine cannot widen what it sees.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "knock.h"
#include "log.h"
#include "pkt.h"
#include "portmuxd.h"

#ifndef SO_LOCK_FILTER
#define SO_LOCK_FILTER	44
#endif

#define SNIFF_RCVBUF	(1024 * 1024)

/* The distinct knock ports of every service; conf.c bounds them. */
static size_t
sniff_ports(const struct conf *conf, struct pkt_port *ports, size_t max)
{
	const struct service	*svc;
	size_t			 i, j, k, n = 0;

	for (i = 0; i < conf->nservices; i++) {
		svc = &conf->services[i];
		for (j = 0; j < svc->nknock; j++) {
			for (k = 0; k < n; k++)
				if (ports[k].proto == svc->knock[j].proto &&
				    ports[k].port == svc->knock[j].port)
					break;
			if (k == n && n < max) {
				ports[n].proto = svc->knock[j].proto;
				ports[n++].port = svc->knock[j].port;
			}
		}
	}
	return n;
}

/*
 * Open the packet socket conf needs into *fdp: -1 when it needs none.
 * Bound to a protocol only once the filter is in place, so that not one
 * unfiltered packet is queued.  Returns -1 with errno set on failure.
 */
int
sniff_open(const struct conf *conf, int *fdp)
{
	struct pkt_port		 ports[PKT_FILTER_PORTS];
	struct sock_filter	 prog[PKT_FILTER_MAX];
	struct sock_fprog	 fprog;
	struct sockaddr_ll	 sll;
	size_t			 n;
	bool			 all_syn;
	int			 fd, len, one = 1, rcvbuf = SNIFF_RCVBUF, saved;

	*fdp = -1;
	n = sniff_ports(conf, ports, PKT_FILTER_PORTS);
	all_syn = conf->scan_detect == SCAN_SYN && conf->scan_ports > 0;
	if (n == 0 && !all_syn)
		return 0;
	if ((len = pkt_filter(ports, n, all_syn, prog, PKT_FILTER_MAX)) <= 0) {
		errno = E2BIG;
		return -1;
	}
	if ((fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	fprog.len = (unsigned short)len;
	fprog.filter = prog;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = 0;		/* every interface */
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog,
	    sizeof(fprog)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &one,
	    sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	/* A burst of knocks or SYNs must not be lost to a small queue. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	    sizeof(rcvbuf)) == -1 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF,
	    &rcvbuf, sizeof(rcvbuf)) == -1)
		log_warn("action=warn msg=\"packet socket: SO_RCVBUF\"");
	*fdp = fd;
	return 0;
}
