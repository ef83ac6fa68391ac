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
 * The syntax of configuration values: numbers, counts and limits,
 * durations, sizes, rates, modes, ports, addresses, CIDR blocks and names,
 * and the check of one value against the kind of its key.  Everything here
 * is pure (a port name costs a getservbyname(3), no more): a parser takes
 * a string and returns 0 or -1, or -2 for a problem worth its own message,
 * and leaves the message and its file:line to conf.c.  The unit tests and
 * the rest of the daemon use the public conf_parse_*() functions.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "knock.h"
#include "portmuxd.h"

static int	 parse_scaled(const char *, const char *,
		    const unsigned long long *, unsigned long long,
		    unsigned long long, unsigned long long *);
static bool	 valid_account(const char *);
static bool	 valid_envname(const char *, size_t);
static bool	 reserved_env(const char *, size_t);
static void	 words_join(const char *const *, char *, size_t);

/* Variables env.c sets for each connection: a service must not fake them. */
static const char *const reserved_vars[] = {
	"PROTO", "REMOTE_HOST", "TCPREMOTEIP", "TCPREMOTEPORT", "TCPLOCALIP",
	"TCPLOCALPORT", "UDPREMOTEIP", "UDPREMOTEPORT", "UDPLOCALIP",
	"UDPLOCALPORT", "UNIXREMOTEUID", "UNIXREMOTEGID", "UNIXREMOTEPID",
	NULL
};

/*
 * A decimal integer from min to max: digits, and a minus sign only when
 * min is negative.  strtoll() alone would also take blanks, a plus sign,
 * or octal and hex with base 0, none of which the config format allows.
 */
int
confval_parse_num(const char *s, long long min, long long max, long long *out)
{
	const char	*p = s;
	char		*end;
	long long	 v;

	if (*p == '-' && min < 0)
		p++;
	if (*p == '\0' || strspn(p, "0123456789") != strlen(p))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * N with at most one unit letter from units, factors[i] being the scale
 * of units[i] and deflt that of a bare N.  The result must not exceed
 * max.
 */
static int
parse_scaled(const char *s, const char *units,
    const unsigned long long *factors, unsigned long long deflt,
    unsigned long long max, unsigned long long *out)
{
	char			 num[32];
	const char		*u;
	size_t			 n = strlen(s);
	unsigned long long	 f = deflt;
	long long		 v;

	if (n == 0 || n >= sizeof(num))
		return -1;
	if (!isdigit((unsigned char)s[n - 1])) {
		if ((u = strchr(units, s[n - 1])) == NULL)
			return -1;
		f = factors[u - units];
		n--;
	}
	memcpy(num, s, n);
	num[n] = '\0';
	if (confval_parse_num(num, 0, LLONG_MAX, &v) == -1 ||
	    (unsigned long long)v > max / f)
		return -1;
	*out = (unsigned long long)v * f;
	return 0;
}

int
confval_parse_bool(const char *s, bool *out)
{
	if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 ||
	    strcasecmp(s, "on") == 0)
		*out = true;
	else if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 ||
	    strcasecmp(s, "off") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

/* The index of s in a NULL-terminated word list, or -1. */
int
confval_parse_enum(const char *const *words, const char *s)
{
	int	 i;

	for (i = 0; words[i] != NULL; i++)
		if (strcasecmp(words[i], s) == 0)
			return i;
	return -1;
}

/* Octal digits only: a mode written 644 or 0644 means the same. */
int
confval_parse_octal(const char *s, long long max, long long *out)
{
	char		*end;
	long long	 v;

	if (*s == '\0' || strspn(s, "01234567") != strlen(s) ||
	    strlen(s) > 8)
		return -1;
	v = strtoll(s, &end, 8);
	if (*end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * instances, per_source and max_children: a positive count or
 * "unlimited".  0 gets its own message (-2): in inetd and xinetd 0 or a
 * missing value meant no limit, and a silent change of meaning would be
 * a trap.
 */
int
confval_parse_limit(const char *s, uint32_t *out)
{
	long long	 v;

	if (strcmp(s, "unlimited") == 0) {
		*out = LIMIT_UNLIMITED;
		return 0;
	}
	if (confval_parse_num(s, 0, LIMIT_UNLIMITED - 1, &v) == -1)
		return -1;
	if (v == 0)
		return -2;
	*out = (uint32_t)v;
	return 0;
}

int
confval_parse_rlim(enum kind kind, const char *s, rlim_t *out)
{
	static const unsigned long long time_f[] = { 1, 60, 3600 };
	unsigned long long	 v;
	uint64_t		 size;
	long long		 n;

	if (strcmp(s, "unlimited") == 0) {
		*out = RLIM_INFINITY;
		return 0;
	}
	switch (kind) {
	case K_RLIM_COUNT:
		if (confval_parse_num(s, 0, LLONG_MAX, &n) == -1)
			return -1;
		v = (unsigned long long)n;
		break;
	case K_RLIM_TIME:
		/* RLIMIT_CPU counts seconds. */
		if (parse_scaled(s, "smh", time_f, 1, LLONG_MAX, &v) == -1)
			return -1;
		break;
	default:
		if (conf_parse_size(s, &size) == -1)
			return -1;
		v = size;
		break;
	}
	if (v >= (unsigned long long)RLIM_INFINITY)
		return -1;
	*out = (rlim_t)v;
	return 0;
}

int
conf_parse_duration(const char *s, uint32_t *ms)
{
	static const unsigned long long f[] = { 1000, 60 * 1000, 3600 * 1000 };
	unsigned long long	 v;

	if (parse_scaled(s, "smh", f, 1000, UINT32_MAX, &v) == -1) {
		errno = EINVAL;
		return -1;
	}
	*ms = (uint32_t)v;
	return 0;
}

int
conf_parse_size(const char *s, uint64_t *bytes)
{
	static const unsigned long long f[] = {
		1024ULL, 1024ULL * 1024, 1024ULL * 1024 * 1024
	};
	unsigned long long	 v;

	if (parse_scaled(s, "KMG", f, 1, UINT64_MAX, &v) == -1) {
		errno = EINVAL;
		return -1;
	}
	*bytes = v;
	return 0;
}

/* "N/DURATION", N > 0 and DURATION > 0, or "unlimited" (count 0). */
int
conf_parse_rate(const char *s, struct rate *r)
{
	const char	*slash;
	char		 num[16];
	long long	 n;
	uint32_t	 ms;

	if (strcmp(s, "unlimited") == 0) {
		r->count = 0;
		r->window_ms = 0;
		return 0;
	}
	if ((slash = strchr(s, '/')) == NULL ||
	    (size_t)(slash - s) >= sizeof(num))
		goto bad;
	memcpy(num, s, (size_t)(slash - s));
	num[slash - s] = '\0';
	if (confval_parse_num(num, 1, UINT32_MAX, &n) == -1 ||
	    conf_parse_duration(slash + 1, &ms) == -1 || ms == 0)
		goto bad;
	r->count = (uint32_t)n;
	r->window_ms = ms;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* Returns 0, -1 for a syntax error or -2 for host bits set. */
int
confval_parse_cidr(const char *s, struct cidr *c)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash;
	long long	 prefix;
	unsigned int	 max, i;
	size_t		 len = strlen(s);

	memset(c, 0, sizeof(*c));
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len + 1);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else
		return -1;
	prefix = max;
	if (slash != NULL && confval_parse_num(slash, 0, max, &prefix) == -1)
		return -1;
	c->prefix = (unsigned int)prefix;
	for (i = c->prefix; i < max; i++)
		if (c->addr[i / 8] & (0x80 >> (i % 8)))
			return -2;
	return 0;
}

int
conf_parse_cidr(const char *s, struct cidr *c)
{
	if (confval_parse_cidr(s, c) != 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* A literal address, port 0; hostnames never (DESIGN.md). */
int
confval_parse_addr(const char *s, struct bindaddr *ba)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ba->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ba->ss;

	memset(ba, 0, sizeof(*ba));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		ba->len = sizeof(*sin);
		ba->wildcard = sin->sin_addr.s_addr == htonl(INADDR_ANY);
	} else if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		ba->len = sizeof(*sin6);
		ba->wildcard = IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
	} else
		return -1;
	return 0;
}

/* Whether s holds only letters, digits and the characters of extra. */
static bool
name_chars(const char *s, const char *extra)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return false;
	return true;
}

/*
 * "host:port" or "[v6]:port" into its parts, host without brackets.  A
 * host is an address or a name of letters, digits, '-', '_' and '.';
 * an IPv6 address needs its brackets, or its last group would read as
 * the port.  The port is checked against /etc/services later, with the
 * protocol.
 */
int
confval_split_hostport(const char *s, char *host, size_t hlen, char *port,
    size_t plen)
{
	const char	*colon, *h = s, *end;
	size_t		 n;

	if (*s == '[') {
		h = s + 1;
		if ((end = strchr(h, ']')) == NULL || end[1] != ':')
			return -1;
		colon = end + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL ||
		    memchr(s, ':', (size_t)(colon - s)) != NULL)
			return -1;
		end = colon;
	}
	n = (size_t)(end - h);
	if (n == 0 || n >= hlen || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= plen)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	(void)strcpy(port, colon + 1);
	if (*s == '[') {
		struct in6_addr	 a6;

		return inet_pton(AF_INET6, host, &a6) == 1 ? 0 : -1;
	}
	return name_chars(host, "-_.") && name_chars(port, "-_") ? 0 : -1;
}

/* 1-65535, or a name /etc/services knows for that protocol. */
int
conf_parse_port(const char *s, enum proto proto, uint16_t *port)
{
	struct servent	*se;
	long long	 n;

	if (*s != '\0' && strspn(s, "0123456789") == strlen(s)) {
		if (confval_parse_num(s, 1, 65535, &n) == -1)
			goto bad;
		*port = (uint16_t)n;
		return 0;
	}
	if (*s == '\0' || proto == PROTO_UNIX ||
	    (se = getservbyname(s, conf_proto_name(proto))) == NULL)
		goto bad;
	*port = ntohs((uint16_t)se->s_port);
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* The portable user name characters of POSIX, as useradd(8) takes. */
static bool
valid_account(const char *s)
{
	size_t	 n = strlen(s);

	return n > 0 && n <= 32 && s[0] != '-' &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n;
}

static bool
valid_envname(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0 || isdigit((unsigned char)s[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

static bool
reserved_env(const char *s, size_t n)
{
	int	 i;

	if (n >= 8 && strncmp(s, "PORTMUX_", 8) == 0)
		return true;
	for (i = 0; reserved_vars[i] != NULL; i++)
		if (strlen(reserved_vars[i]) == n &&
		    strncmp(reserved_vars[i], s, n) == 0)
			return true;
	return false;
}

/* Names appear in logs and on the tcpmux wire (RFC 1078): keep them tame. */
bool
confval_valid_svcname(const char *s)
{
	size_t	 n = strlen(s);

	return n > 0 && n <= CONF_MAX_NAME &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_.+") == n;
}

static void
words_join(const char *const *words, char *buf, size_t len)
{
	int	 i;

	buf[0] = '\0';
	for (i = 0; words[i] != NULL; i++) {
		if (i > 0)
			(void)strncat(buf, words[i + 1] == NULL ? " or " :
			    ", ", len - strlen(buf) - 1);
		(void)strncat(buf, words[i], len - strlen(buf) - 1);
	}
}

/*
 * The syntax of one value, checked as libconfuse reads it so that the
 * message has the key's line.  Returns -1 with the problem in why.
 */
int
confval_check_value(const struct keydef *k, const char *v, char *why,
    size_t len)
{
	struct cidr	 c;
	struct bindaddr	 ba;
	const char	*eq;
	char		 list[160], user[40];
	long long	 n;
	uint32_t	 u32;
	struct rate	 r;
	rlim_t		 rl;
	struct knock_step ks;
	char		 host[256], port[32];
	uint64_t	 u64;
	bool		 b;
	int		 rc;

	switch (k->kind) {
	case K_ACCOUNT:
		if (valid_account(v))
			return 0;
		(void)snprintf(why, len, "not a valid user or group name");
		return -1;
	case K_PATH:
	case K_SOCKPATH:
		if (k->words != NULL && confval_parse_enum(k->words, v) != -1)
			return 0;
		if (v[0] != '/') {
			(void)snprintf(why, len, "not an absolute path");
			return -1;
		}
		if (k->kind == K_SOCKPATH &&
		    strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			(void)snprintf(why, len, "too long for a unix socket "
			    "(at most %zu bytes)",
			    sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
			return -1;
		}
		return 0;
	case K_ENUM:
		if (confval_parse_enum(k->words, v) != -1)
			return 0;
		words_join(k->words, list, sizeof(list));
		(void)snprintf(why, len, "expected %s", list);
		return -1;
	case K_BOOL:
		if (confval_parse_bool(v, &b) == 0)
			return 0;
		(void)snprintf(why, len, "expected true or false");
		return -1;
	case K_UINT:
	case K_INT:
		if (confval_parse_num(v, k->min, k->max, &n) == 0)
			return 0;
		(void)snprintf(why, len, "expected a number from %lld to %lld",
		    k->min, k->max);
		return -1;
	case K_LIMIT:
		if ((rc = confval_parse_limit(v, &u32)) == 0)
			return 0;
		(void)snprintf(why, len, "%s", rc == -2 ? "0 is not a valid "
		    "limit; use unlimited" : "expected a positive number or "
		    "unlimited");
		return -1;
	case K_DURATION:
		if (conf_parse_duration(v, &u32) == -1)
			(void)snprintf(why, len, "expected a duration: "
			    "seconds, or a number with s, m or h");
		else if (u32 < k->min)
			(void)snprintf(why, len, "must not be 0");
		else
			return 0;
		return -1;
	case K_RATE:
		if (conf_parse_rate(v, &r) == 0)
			return 0;
		(void)snprintf(why, len, "expected N/DURATION (e.g. 30/10s) "
		    "with N and DURATION above 0, or unlimited");
		return -1;
	case K_PORT:
		if (*v != '\0' && strspn(v, "0123456789") == strlen(v)) {
			if (confval_parse_num(v, 1, 65535, &n) == 0)
				return 0;
			(void)snprintf(why, len, "out of range (1-65535)");
			return -1;
		}
		if (getservbyname(v, "tcp") != NULL ||
		    getservbyname(v, "udp") != NULL)
			return 0;
		(void)snprintf(why, len, "not a port number or a service name "
		    "known to /etc/services");
		return -1;
	case K_OCTAL:
		if (confval_parse_octal(v, k->max, &n) == 0)
			return 0;
		(void)snprintf(why, len, "expected an octal mode from 0 to "
		    "%llo", k->max);
		return -1;
	case K_RLIM_COUNT:
	case K_RLIM_TIME:
	case K_RLIM_SIZE:
		if (confval_parse_rlim(k->kind, v, &rl) == 0)
			return 0;
		(void)snprintf(why, len, "expected %s or unlimited",
		    k->kind == K_RLIM_COUNT ? "a number" :
		    k->kind == K_RLIM_TIME ? "seconds, or a number with s, m "
		    "or h" : "bytes, or a number with K, M or G");
		return -1;
	case K_OWNER:
		if ((eq = strchr(v, ':')) == NULL)
			eq = v + strlen(v);
		if ((size_t)(eq - v) < sizeof(user)) {
			memcpy(user, v, (size_t)(eq - v));
			user[eq - v] = '\0';
			if (valid_account(user) &&
			    (*eq == '\0' || valid_account(eq + 1)))
				return 0;
		}
		(void)snprintf(why, len, "expected user or user:group");
		return -1;
	case K_CIDR:
		if ((rc = confval_parse_cidr(v, &c)) == 0)
			return 0;
		if (rc == -2)
			(void)snprintf(why, len, "host bits set beyond the "
			    "/%u prefix", c.prefix);
		else
			(void)snprintf(why, len, "not an address or CIDR "
			    "block (hostnames are not accepted)");
		return -1;
	case K_ADDR:
	case K_IP:
		if (confval_parse_addr(v, &ba) == 0)
			return 0;
		(void)snprintf(why, len, "not an IPv4 or IPv6 address "
		    "(hostnames are not accepted)");
		return -1;
	case K_ENV:
		if ((eq = strchr(v, '=')) == NULL ||
		    !valid_envname(v, (size_t)(eq - v))) {
			(void)snprintf(why, len, "expected NAME=value, "
			    "quoted: env = {\"LANG=C.UTF-8\"}");
			return -1;
		}
		if (reserved_env(v, (size_t)(eq - v))) {
			(void)snprintf(why, len, "portmuxd sets this variable "
			    "for each connection");
			return -1;
		}
		return 0;
	case K_ENVNAME:
		if (!valid_envname(v, strlen(v))) {
			(void)snprintf(why, len, "not a variable name");
			return -1;
		}
		if (reserved_env(v, strlen(v))) {
			(void)snprintf(why, len, "portmuxd sets this variable "
			    "for each connection");
			return -1;
		}
		return 0;
	case K_ARG:
		return 0;
	case K_TABLE:
		if (confval_valid_table(v))
			return 0;
		(void)snprintf(why, len, "expected a letter, then at most %d "
		    "letters, digits, '_' or '-'", CONF_MAX_TABLE - 1);
		return -1;
	case K_KNOCK:
		if (knock_parse_step(v, &ks) == 0)
			return 0;
		(void)snprintf(why, len, "expected tcp:PORT or udp:PORT, "
		    "PORT a number from 1 to 65535");
		return -1;
	case K_SIZE:
		if (conf_parse_size(v, &u64) == -1)
			(void)snprintf(why, len, "expected a size: bytes, or "
			    "a number with K, M or G");
		else if (u64 < (uint64_t)k->min || u64 > (uint64_t)k->max)
			(void)snprintf(why, len, "must be from %lldK to "
			    "%lldK", k->min / 1024, k->max / 1024);
		else
			return 0;
		return -1;
	case K_HOSTPORT:
		if (confval_split_hostport(v, host, sizeof(host), port,
		    sizeof(port)) == 0)
			return 0;
		(void)snprintf(why, len, "expected host:port, with an IPv6 "
		    "address in brackets: [2001:db8::1]:80");
		return -1;
	case K_TCPPORT:
		if (*v != '\0' && strspn(v, "0123456789") == strlen(v) &&
		    confval_parse_num(v, 1, 65535, &n) == 0)
			return 0;
		(void)snprintf(why, len, "expected a port number from 1 to "
		    "65535");
		return -1;
	}
	return 0;
}

/*
 * An nftables table name that needs no quoting in a command: the
 * monitor pastes it into every command it builds.
 */
bool
confval_valid_table(const char *v)
{
	size_t	 n = strlen(v);

	return n >= 1 && n <= CONF_MAX_TABLE && isalpha((unsigned char)v[0]) &&
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-") == n;
}
