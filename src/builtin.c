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
 * The small TCP services the engine answers itself: echo (RFC 862),
 * discard (RFC 863), chargen (RFC 864), daytime (RFC 867) and time
 * (RFC 868).  The formatters are pure and tested on their own; the rest
 * drives a bufferevent with backpressure: echo stops reading while its
 * output is above the high-water mark, chargen writes only when the
 * socket drained, and every connection has an idle timeout.  A client's
 * half-close (EOF on the read side) ends only what reads: discard
 * closes, echo sends what it read, then closes; chargen goes on
 * writing until the client closes or the connection errors (a chargen
 * client that shut down its side only says it sends nothing), daytime
 * and time close after their answer whatever the client does.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "builtin.h"
#include "engine.h"
#include "control.h"
#include "metrics.h"
#include "portmuxd.h"

#define OUT_HIGH	(64 * 1024)	/* echo: stop reading above this */
#define OUT_LOW		(16 * 1024)	/* refill/resume below this */

/* RFC 868: seconds since 1900-01-01 00:00 UTC, mod 2^32, big-endian. */
void
builtin_time_fmt(time_t now, uint8_t out[4])
{
	uint32_t	 t = (uint32_t)((uint64_t)now + RFC868_EPOCH_OFFSET);

	out[0] = (uint8_t)(t >> 24);
	out[1] = (uint8_t)(t >> 16);
	out[2] = (uint8_t)(t >> 8);
	out[3] = (uint8_t)t;
}

/* RFC 867 leaves the format free; this is the ctime style inetd uses. */
size_t
builtin_daytime_fmt(time_t now, char *buf, size_t size)
{
	struct tm	 tm;

	if (localtime_r(&now, &tm) == NULL)
		return 0;
	return strftime(buf, size, "%a %b %e %H:%M:%S %Y\r\n", &tm);
}

/*
 * RFC 864 line k: 72 characters of the 95 printable ASCII characters
 * (0x20-0x7e) starting at ring[k mod 95], then CRLF.
 */
void
builtin_chargen_line(uint64_t k, char out[CHARGEN_LINE])
{
	unsigned int	 start = (unsigned int)(k % 95), i;

	for (i = 0; i < 72; i++)
		out[i] = (char)(0x20 + (start + i) % 95);
	out[72] = '\r';
	out[73] = '\n';
}

/*
 * Could a datagram really come from sa?  Not from an address that
 * cannot send (0/8, broadcast, multicast, unspecified).  Its port, in
 * host order, goes to *port.  An IPv4-mapped source is judged as IPv4.
 */
int
udp_source_real(const struct sockaddr *sa, uint16_t *port)
{
	struct sockaddr_storage	 ss;

	if (sa_copy_norm(sa, &ss) == -1)
		return 0;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		uint32_t a = ntohl(s4->sin_addr.s_addr);

		*port = ntohs(s4->sin_port);
		if ((a >> 24) == 0 || a == 0xffffffffU ||
		    (a >> 28) == 0xe)	/* 0/8, broadcast, 224/4 */
			return 0;
	} else {
		const struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		*port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) ||
		    IN6_IS_ADDR_MULTICAST(&s6->sin6_addr))
			return 0;
	}
	return *port != 0;
}

/*
 * May a UDP builtin answer this source?  Not a privileged port nor a
 * port of a service that answers datagrams (an echo or chargen there
 * would ping-pong with us forever, or amplify an attack on a spoofed
 * source), and not an address that cannot be a real sender.  Loopback
 * is allowed.
 */
int
builtin_udp_source_ok(const struct sockaddr *sa)
{
	static const uint16_t	 bad_ports[] = {
		7, 13, 19, 37, 53, 123, 161, 1900, 11211
	};
	uint16_t		 port;
	size_t			 i;

	if (!udp_source_real(sa, &port) || port < 1024)
		return 0;
	for (i = 0; i < sizeof(bad_ports) / sizeof(bad_ports[0]); i++)
		if (port == bad_ports[i])
			return 0;
	return 1;
}

/*
 * The reply of a UDP builtin to one datagram, into out.  Returns its
 * length, or -1 for no reply (discard).  rnd picks chargen's length
 * (RFC 864: a random 0 to 512 bytes of the pattern).
 */
long
builtin_udp_reply(int b, const void *in, size_t inlen, void *out,
    size_t size, time_t now, uint32_t rnd)
{
	char	 line[CHARGEN_LINE];
	size_t	 n, k, off;

	switch (b) {
	case BUILTIN_ECHO:
		n = inlen < size ? inlen : size;
		memcpy(out, in, n);
		return (long)n;
	case BUILTIN_DAYTIME:
		return (long)builtin_daytime_fmt(now, out, size);
	case BUILTIN_TIME:
		if (size < 4)
			return 0;
		builtin_time_fmt(now, out);
		return 4;
	case BUILTIN_CHARGEN:
		n = rnd % (UDP_CHARGEN_MAX + 1);
		if (n > size)
			n = size;
		for (off = 0, k = 0; off < n; k++) {
			size_t	 m = n - off < sizeof(line) ? n - off :
			    sizeof(line);

			builtin_chargen_line(k, line);
			memcpy((char *)out + off, line, m);
			off += m;
		}
		return (long)n;
	default:
		return -1;
	}
}

static void
set_timeouts(struct conn *c, bool rd)
{
	struct timeval	 tv;

	ms_timeval(&tv, c->service->timeout_ms);
	bufferevent_set_timeouts(c->bev, rd ? &tv : NULL, &tv);
}

static void
chargen_fill(struct conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	char		 line[CHARGEN_LINE];

	while (evbuffer_get_length(out) < OUT_LOW) {
		builtin_chargen_line(c->chargen_line++, line);
		if (evbuffer_add(out, line, sizeof(line)) == -1)
			break;
		c->bytes_out += sizeof(line);
	}
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	size_t		 n = evbuffer_get_length(in);

	c->bytes_in += n;
	if (c->service->builtin != BUILTIN_ECHO) {
		(void)evbuffer_drain(in, n);
		return;
	}
	c->bytes_out += n;
	if (evbuffer_add_buffer(bufferevent_get_output(bev), in) == -1) {
		conn_free(c, "error");
		return;
	}
	if (evbuffer_get_length(bufferevent_get_output(bev)) >= OUT_HIGH)
		bufferevent_disable(bev, EV_READ);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	if (conn_write_done(c))
		return;
	if (c->service->builtin == BUILTIN_CHARGEN)
		chargen_fill(c);
	else if (c->service->builtin == BUILTIN_ECHO)
		bufferevent_enable(bev, EV_READ);
}

static void
event_cb(struct bufferevent *bev __unused, short what, void *arg)
{
	struct conn	*c = arg;

	if (what & BEV_EVENT_TIMEOUT) {
		conn_free(c, "timeout");
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		int err = EVUTIL_SOCKET_ERROR();

		/* The client closed while we wrote: its way to say stop. */
		conn_free(c, err == ECONNRESET || err == EPIPE ? NULL :
		    "error");
		return;
	}
	if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_READING)) {
		/*
		 * A half-close.  Echo still owes what it read; chargen's
		 * output is not an answer to input, so it goes on (the
		 * bufferevent stopped reading); discard is done.
		 */
		if (c->service->builtin == BUILTIN_ECHO)
			conn_finish(c);
		else if (c->service->builtin != BUILTIN_CHARGEN)
			conn_free(c, NULL);
	}
}

/* Serve the builtin of c on fd; -1 if it could not even start. */
int
builtin_start(struct conn *c, int fd)
{
	struct evbuffer	*out;
	char		 buf[64];
	uint8_t		 t[4];
	size_t		 n;

	c->bev = bufferevent_socket_new(c->e->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		evutil_closesocket(fd);
		return -1;
	}
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	out = bufferevent_get_output(c->bev);
	switch (c->service->builtin) {
	case BUILTIN_ECHO:
		bufferevent_setwatermark(c->bev, EV_WRITE, OUT_LOW, 0);
		bufferevent_setwatermark(c->bev, EV_READ, 0, OUT_HIGH);
		set_timeouts(c, true);
		break;
	case BUILTIN_DISCARD:
		set_timeouts(c, true);
		break;
	case BUILTIN_CHARGEN:
		/* The client only reads: idle means not reading. */
		bufferevent_setwatermark(c->bev, EV_WRITE, OUT_LOW, 0);
		set_timeouts(c, false);
		chargen_fill(c);
		break;
	case BUILTIN_DAYTIME:
		set_timeouts(c, false);
		if ((n = builtin_daytime_fmt(time(NULL), buf, sizeof(buf))) ==
		    0 || evbuffer_add(out, buf, n) == -1)
			return -1;
		c->bytes_out += n;
		break;
	case BUILTIN_METRICS:
		return metrics_start(c);
	case BUILTIN_CONTROL:
		return control_start(c);
	case BUILTIN_TIME:
		set_timeouts(c, false);
		builtin_time_fmt(time(NULL), t);
		if (evbuffer_add(out, t, sizeof(t)) == -1)
			return -1;
		c->bytes_out += sizeof(t);
		break;
	default:
		return -1;
	}
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) == -1)
		return -1;
	if (c->service->builtin == BUILTIN_DAYTIME ||
	    c->service->builtin == BUILTIN_TIME)
		conn_finish(c);
	return 0;
}
