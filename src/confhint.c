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
 * What to write instead: the hints that turn a bare "unknown key" or
 * "unexpected token" into advice, for the habits an admin brings from
 * xinetd and inetd, and for the few places where libconfuse's syntax
 * surprises.  Pure: strings in, strings out, so that each hint is
 * unit-tested without a load.
 */

#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"

/* An xinetd attribute and what portmux.conf has for it. */
struct keyhint {
	const char	*key;
	const char	*hint;
};

static const struct keyhint xinetd_keys[] = {
	{ "only_from", "xinetd's only_from is allow here, with numeric "
	    "networks only: allow = {192.0.2.0/24, 2001:db8::/32}" },
	{ "no_access", "xinetd's no_access is deny here, with numeric "
	    "networks only: deny = {198.51.100.0/24}" },
	{ "socket_type", "xinetd's socket_type is protocol here: stream is "
	    "protocol = tcp (or unix), dgram is protocol = udp" },
	{ "server_args", "xinetd's server_args is args here, and args is "
	    "the whole argv, argv[0] first: args = {in.tftpd, -s, /srv}" },
	{ "bind", "xinetd's bind is address here, a list: "
	    "address = {192.0.2.1, ::1}" },
	{ "interface", "xinetd's interface is address here, a list: "
	    "address = {192.0.2.1, ::1}" },
	{ "cps", "xinetd's cps is rate here, per source group and with no "
	    "pause of the service: rate = 50/1s refuses only the group past "
	    "it" },
	{ "deny_time", "xinetd's deny_time has no direct equivalent: a "
	    "source group past rate, or one that connects to a builtin = "
	    "trap service, is banned for ban_time (global), see ban_after "
	    "and ban_factor" },
	{ "log_on_success", "every connection is logged here; choose where "
	    "with log, log_facility and log_level (global)" },
	{ "log_on_failure", "every refusal is logged here; choose where "
	    "with log, log_facility and log_level (global)" },
	{ "log_type", "xinetd's log_type is log and log_facility here "
	    "(global): log = syslog, log_facility = daemon" },
	{ "rlimit_files", "xinetd's rlimit_files is rlimit_nofile here" },
	{ "rlimit_data", "portmux.conf has no rlimit_data: rlimit_as bounds "
	    "a program's memory" },
	{ "rlimit_rss", "portmux.conf has no rlimit_rss: rlimit_as bounds "
	    "a program's memory" },
	{ "rlimit_stack", "portmux.conf has no rlimit_stack: rlimit_as "
	    "bounds a program's memory" },
	{ "id", "xinetd's id has no equivalent: the section's title is the "
	    "service's name, unique" },
	{ "type", "xinetd's type has no equivalent: INTERNAL is builtin = "
	    "echo (or discard, daytime, chargen, time), TCPMUX is tcpmux = "
	    "true, and every service needs only its port" },
	{ "flags", "xinetd's flags have no equivalent: KEEPALIVE is "
	    "keepalive, IPv4 and IPv6 are address and v6only, SENSOR is "
	    "builtin = trap" },
	{ "groups", "xinetd's groups has no equivalent: a program always "
	    "gets the supplementary groups of its user" },
	{ "banner", "xinetd's banner has no equivalent" },
	{ "banner_success", "xinetd's banner_success has no equivalent" },
	{ "banner_fail", "xinetd's banner_fail has no equivalent" },
	{ "access_times", "xinetd's access_times has no equivalent" },
	{ "max_load", "xinetd's max_load has no equivalent" },
	{ "mdns", "xinetd's mdns has no equivalent" },
	{ "libwrap", "xinetd's libwrap has no equivalent: use allow and "
	    "deny" },
	{ "enabled", "xinetd's enabled has no equivalent: use disable = "
	    "true in the services to switch off" },
	{ "disabled", "xinetd's disabled list has no equivalent: use "
	    "disable = true in the services to switch off" },
	{ "includedir", "write include(\"/etc/portmux.d/*.conf\") to "
	    "include a directory" },
};

/*
 * The hint for an unknown key, or NULL.  A unit written apart from its
 * number (timeout = 5 m) reaches libconfuse as a key of its own.
 */
const char *
confhint_key(const char *key)
{
	static const char *const units[] = { "s", "m", "h", "K", "M", "G",
	    "ms", "k", "min", "sec", NULL };
	size_t	 i;

	for (i = 0; units[i] != NULL; i++)
		if (strcmp(key, units[i]) == 0)
			return "a unit follows its number without a space: "
			    "timeout = 5m, rlimit_as = 512M";
	/* The rest of an unquoted value with a space, xinetd's port most. */
	if (key[0] != '\0' && strspn(key, "0123456789") == strlen(key))
		return "a number alone is no key: quote a value with spaces, "
		    "and write xinetd's redirect = 10.0.1.1 23 as redirect = "
		    "\"10.0.1.1:23\"";
	for (i = 0; i < sizeof(xinetd_keys) / sizeof(xinetd_keys[0]); i++)
		if (strcmp(key, xinetd_keys[i].key) == 0)
			return xinetd_keys[i].hint;
	return NULL;
}

/*
 * An address without a prefix that xinetd and tcpd read as a network:
 * a numeric IPv4 address whose last parts are 0 matches the whole
 * subnet there ("10.1.0.0" is 10.1.0.0/16) and 0.0.0.0 matches every
 * address, while here an address alone is a single host.  Writes what
 * the entry means here and what to write instead; returns whether it
 * did.
 */
bool
confhint_cidr(const char *key, const char *v, char *buf, size_t size)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;
	uint32_t	 h;
	int		 zero;

	if (strchr(v, '/') != NULL)
		return false;
	if (inet_pton(AF_INET6, v, &a6) == 1) {
		if (!IN6_IS_ADDR_UNSPECIFIED(&a6))
			return false;
		(void)snprintf(buf, size, "%s '%s' is the single address :: "
		    "here, which no client has; for every IPv6 address write "
		    "::/0%s", key, v, key[0] == 'a' ?
		    ", or leave allow empty" : "");
		return true;
	}
	if (inet_pton(AF_INET, v, &a4) != 1)
		return false;
	h = ntohl(a4.s_addr);
	if (h == 0) {
		(void)snprintf(buf, size, "%s '%s' is the single address "
		    "0.0.0.0 here, which no client has, not every address as "
		    "in xinetd; for every IPv4 address write 0.0.0.0/0%s", key,
		    v, key[0] == 'a' ? ", or leave allow empty" : "");
		return true;
	}
	for (zero = 0; zero < 3 && (h & 0xff) == 0; zero++)
		h >>= 8;
	if (zero == 0)
		return false;
	(void)snprintf(buf, size, "%s '%s' is the single host %s/32 here; "
	    "xinetd reads it as the network %s/%d: write %s/%d for the "
	    "network", key, v, v, v, 32 - 8 * zero, v, 32 - 8 * zero);
	return true;
}

/*
 * libconfuse's "unexpected token" at offset tok of the combined text
 * (text, len): inside a list whose items lack a comma, or a value with
 * an '=' that was not quoted.  Writes the hint, returns whether one
 * applies.
 */
bool
confhint_token(const char *text, size_t len, size_t tok, const char *token,
    char *buf, size_t size)
{
	size_t	 i, s, e;
	int	 depth = 0;

	if (tok > len)
		return false;
	if (strcmp(token, "=") == 0 || strcmp(token, "+=") == 0) {
		/* The word the '=' was cut from, as far as it goes. */
		for (s = tok; s > 0 && !isspace((unsigned char)text[s - 1]) &&
		    strchr(",{}\"", text[s - 1]) == NULL; s--)
			;
		for (e = tok; e < len && !isspace((unsigned char)text[e]) &&
		    strchr(",{}\"", text[e]) == NULL; e++)
			;
		(void)snprintf(buf, size, "a value with '=' in it must be "
		    "quoted: write \"%.*s\"", (int)(e - s < 200 ? e - s : 200),
		    text + s);
		return true;
	}
	/* The previous character that is not blank, and the open brace. */
	for (i = tok; i > 0 && isspace((unsigned char)text[i - 1]); i--)
		;
	if (i == 0 || text[i - 1] == ',' || text[i - 1] == '{' ||
	    text[i - 1] == '=')
		return false;
	/* The item before, for the message. */
	for (e = i; e > 0 && !isspace((unsigned char)text[e - 1]) &&
	    strchr(",{}", text[e - 1]) == NULL; e--)
		;
	for (s = i; s > 0; s--) {
		if (text[s - 1] == '}')
			depth++;
		else if (text[s - 1] == '{' && depth-- == 0)
			break;
	}
	if (s == 0)
		return false;
	/* A list's brace follows "=" or "+="; a section's, its title. */
	for (s--; s > 0 && isspace((unsigned char)text[s - 1]); s--)
		;
	if (s == 0 || text[s - 1] != '=')
		return false;
	(void)snprintf(buf, size, "list items are separated by commas: "
	    "write %.*s, %s", (int)(i - e < 200 ? i - e : 200), text + e,
	    token);
	return true;
}
