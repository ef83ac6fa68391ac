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
 * The gatekeeper's keys: knock, knock_timeout, knock_open and gate on a
 * service, and the globals of knocking, scan detection and the kernel
 * firewall, with the rules that tie them to the other services.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <confuse.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "knock.h"
#include "pkt.h"
#include "portmuxd.h"
#include "scan.h"

/* The global keys of knocking, scan detection and the firewall. */
void
conf_gatekeeper(struct src *s, struct conf *conf)
{
	const char	*v;

	conf->knock_max = (uint32_t)src_num(s, "knock_max", 4096);
	conf->scan_ports = (uint32_t)src_num(s, "scan_ports", 0);
	if (conf->scan_ports == 1) {
		src_msg(s, LVL_ERR, "scan_ports", "scan_ports 1 would ban "
		    "every client: use 0 (off) or 2 to %d", SCAN_PORTS_MAX);
		conf->scan_ports = 0;
	}
	conf->scan_window_ms = src_dur(s, "scan_window", 10 * 1000);
	conf->scan_detect = (enum scan_detect)src_enum(s, "scan_detect",
	    SCAN_CONNECT);
	conf->scan_ban_time_ms = src_dur(s, "scan_ban_time", 60 * 1000);
	src_acl(s, "never_ban", &conf->never_ban);
	conf->firewall = (enum firewall)src_enum(s, "firewall", FIREWALL_NONE);
	v = src_str(s, "nft_table");
	conf->nft_table = conf_estrdup(v != NULL ? v : "portmux");
	if (conf->scan_detect == SCAN_SYN) {
		needs_root(s, "scan_detect", "scan_detect = syn (a packet "
		    "socket)");
		if (conf->scan_ports == 0)
			src_msg(s, LVL_WARN, "scan_detect", "scan_detect = syn "
			    "does nothing while scan_ports is 0");
	}
	if (conf->firewall == FIREWALL_NFTABLES)
		needs_root(s, "firewall", "firewall = nftables");
	else if (src_given(s, "nft_table"))
		src_msg(s, LVL_WARN, "nft_table", "nft_table does nothing "
		    "without firewall = nftables");
}

/* knock, knock_timeout, knock_open and gate. */
void
svc_knock(struct src *s)
{
	struct service	*svc = s->svc;
	cfg_t		*from;
	unsigned int	 i, n;
	long long	 port;

	svc->knock_timeout_ms = src_dur(s, "knock_timeout", 10 * 1000);
	svc->knock_open_ms = src_dur(s, "knock_open", 30 * 1000);
	if ((from = src_from(s, "gate")) != NULL &&
	    (n = cfg_size(from, "gate")) > 0) {
		svc->gate = conf_ecalloc(n, sizeof(*svc->gate));
		for (i = 0; i < n; i++)
			if (confval_parse_num(cfg_getnstr(from, "gate", i), 1,
			    65535, &port) == 0)
				svc->gate[svc->ngate++] = (uint16_t)port;
	}
	/*
	 * A knock in defaults gates every service that can be gated; a
	 * trap and tcpmux itself are not, as their own knock would be an
	 * error.
	 */
	if ((from = src_from(s, "knock")) == s->def && from != NULL &&
	    (svc->builtin == BUILTIN_TRAP || svc->builtin == BUILTIN_TCPMUX))
		from = NULL;
	if (from == NULL || (n = cfg_size(from, "knock")) == 0) {
		if (from != NULL)
			src_msg(s, LVL_ERR, "knock", "knock list is empty");
		else if (own_key(s, "knock_timeout") ||
		    own_key(s, "knock_open") || own_key(s, "gate"))
			src_msg(s, LVL_ERR, own_key(s, "gate") ? "gate" :
			    own_key(s, "knock_open") ? "knock_open" :
			    "knock_timeout", "%s needs a knock sequence: "
			    "knock = {\"tcp:PORT\", ...}", own_key(s,
			    "gate") ? "gate" : own_key(s, "knock_open") ?
			    "knock_open" : "knock_timeout");
		return;
	}
	if (n > KNOCK_STEPS_MAX) {
		src_msg(s, LVL_ERR, "knock", "knock has %u ports; at most %d",
		    n, KNOCK_STEPS_MAX);
		return;
	}
	svc->knock = conf_ecalloc(n, sizeof(*svc->knock));
	for (i = 0; i < n; i++)
		if (knock_parse_step(cfg_getnstr(from, "knock", i),
		    &svc->knock[svc->nknock]) == 0)
			svc->nknock++;
	needs_root(s, "knock", "knock (a packet socket)");
	if (svc->proto == PROTO_UNIX)
		src_msg(s, LVL_ERR, "knock", "knock does not apply to "
		    "protocol unix");
	else if (svc->wait)
		src_msg(s, LVL_ERR, "knock", "knock cannot gate a wait "
		    "service: its program accepts the connections itself");
	else if (svc->builtin == BUILTIN_TRAP)
		src_msg(s, LVL_ERR, "knock", "a trap takes no knock");
	else if (svc->builtin == BUILTIN_TCPMUX)
		src_msg(s, LVL_ERR, "knock", "knock on tcpmux would gate "
		    "every service behind it; set knock on those services");
}

static bool
gate_has(const struct service *svc, uint16_t port)
{
	size_t	 i;

	for (i = 0; i < svc->ngate; i++)
		if (svc->gate[i] == port)
			return true;
	return false;
}

/*
 * A gate opens ports of other daemons in the kernel firewall: it serves
 * nothing, so it takes no program, no port of its own, and no firewall
 * means nothing to open.
 */
void
check_gate(struct src *s, const struct conf *conf)
{
	static const char *const keys[] = { "server", "builtin", "port",
	    NULL };
	static const char *const listen_keys[] = { "address", "tcpmux",
	    "wait", NULL };
	struct service	*svc = s->svc;
	int		 i;

	if (svc->ngate == 0)
		return;
	/*
	 * Only the gate's own section counts: an address, wait or tcpmux
	 * in defaults is meant for the services that listen.  A server,
	 * builtin or port there would still make the gate serve.
	 */
	for (i = 0; keys[i] != NULL; i++)
		if (src_given(s, keys[i]))
			src_msg(s, LVL_ERR, keys[i], "%s does not apply to a "
			    "gate, which serves nothing itself", keys[i]);
	for (i = 0; listen_keys[i] != NULL; i++)
		if (own_key(s, listen_keys[i]))
			src_msg(s, LVL_ERR, listen_keys[i], "%s does not "
			    "apply to a gate, which serves nothing itself",
			    listen_keys[i]);
	svc->wait = false;
	svc->tcpmux = false;
	for (i = 0; exec_keys[i] != NULL; i++)
		if (sec_has(s->sec, s->si, exec_keys[i]))
			src_msg(s, LVL_ERR, exec_keys[i], "%s does not apply "
			    "to a gate, which runs no program", exec_keys[i]);
	for (i = 0; (size_t)i < svc->nknock; i++)
		if (svc->knock[i].proto == IPPROTO_TCP &&
		    gate_has(svc, svc->knock[i].port))
			src_msg(s, LVL_ERR, "knock", "knock port tcp:%u is a "
			    "gate port, open to whoever knocked; a knock port "
			    "must stay closed", svc->knock[i].port);
	if (svc->proto != PROTO_TCP)
		src_msg(s, LVL_ERR, "protocol", "a gate opens tcp ports; "
		    "drop protocol");
	if (conf->firewall != FIREWALL_NFTABLES)
		src_msg(s, LVL_ERR, "gate", "gate needs the kernel firewall: "
		    "set firewall = nftables");
}

/*
 * A knock port must stay closed, so no service may listen on it; a gate
 * port is another daemon's, which a knock on a portmuxd service would
 * open instead.  The packet filter holds at most PKT_FILTER_PORTS.
 */
void
check_knock_ports(struct src *srcs, size_t n)
{
	const struct service	*a, *b;
	size_t			 i, j, k, nports = 0;
	uint8_t			 proto, seen[2][65536 / 8];

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n; i++) {
		if ((a = srcs[i].svc)->disable)
			continue;
		for (k = 0; k < a->nknock; k++) {
			proto = a->knock[k].proto == IPPROTO_TCP ? 0 : 1;
			if (!(seen[proto][a->knock[k].port / 8] &
			    (1U << (a->knock[k].port % 8)))) {
				seen[proto][a->knock[k].port / 8] |=
				    1U << (a->knock[k].port % 8);
				nports++;
			}
		}
		for (j = 0; j < n; j++) {
			b = srcs[j].svc;
			if (b->disable || b->port == 0 ||
			    b->proto == PROTO_UNIX)
				continue;
			proto = b->proto == PROTO_TCP ? IPPROTO_TCP :
			    IPPROTO_UDP;
			for (k = 0; k < a->nknock; k++)
				if (a->knock[k].proto == proto &&
				    a->knock[k].port == b->port)
					src_msg(&srcs[i], LVL_ERR, "knock",
					    "knock port %s:%u is the port of "
					    "service '%s'; a knock port must "
					    "stay closed", conf_proto_name(
					    b->proto), b->port,
					    conf_vis(b->name));
			for (k = 0; k < a->ngate; k++)
				if (b->proto == PROTO_TCP &&
				    a->gate[k] == b->port)
					src_msg(&srcs[i], LVL_ERR, "gate",
					    "gate port %u is served by service "
					    "'%s'; set knock on that service "
					    "instead", b->port,
					    conf_vis(b->name));
		}
	}
	if (nports > PKT_FILTER_PORTS)
		conf_report(srcs[0].ctx, LVL_ERR, srcs[0].ctx->mainfile, 1,
		    "%zu distinct knock ports in all; the packet filter holds "
		    "at most %d", nports, PKT_FILTER_PORTS);
}
