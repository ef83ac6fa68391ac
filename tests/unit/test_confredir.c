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
 * Unit tests of the forwarding keys in confredir.c: redirect,
 * redirect_source, redirect_timeout, redirect_buffer, udp_session_timeout
 * and udp_sessions.  Each bad value or combination must fail the load
 * with a "file:line:" that names the offending key, and each good one
 * must load with the values given or the defaults, its target resolved
 * at load.  Messages are read back from stderr, as in test_conf.c.  Most
 * cases load under CONF_AS_USER|CONF_CHECK_ONLY, where "needs root" is
 * only a warning, so that the one error left is the one under test and
 * the result does not depend on who runs it.  Names resolve through
 * /etc/hosts only (localhost) or not at all (.invalid, RFC 2606), so no
 * test needs a network.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "log.h"
#include "portmuxd.h"
#include "proxy.h"
#include "confmsg.h"

/* Any host: the non-root rules, with "needs root" only a warning. */
#define ANYHOST		(CONF_AS_USER | CONF_CHECK_ONLY)

/* Lines 1 and 2 of a tcp service; a test's own keys start at line 3. */
#define HEAD		"service a {\n\tport = 10000\n"

/* The message of a redirect value confval_split_hostport() rejects. */
#define HOSTPORT_WHY	"expected host:port, with an IPv6 address in " \
			"brackets: [2001:db8::1]:80"

static struct conf *load_ok(const char *, int, char **);
static void	 assert_in4(const struct bindaddr *, const char *, uint16_t);

/* The load of text succeeds, with one service; *m gets what it said. */
static struct conf *
load_ok(const char *text, int flags, char **m)
{
	struct conf	*conf = msgs_load_ok(text, flags, m);

	assert_int_equal(conf->nservices, 1);
	return conf;
}

/* An IPv4 address with its port, as the relay will connect to it. */
static void
assert_in4(const struct bindaddr *ba, const char *addr, uint16_t port)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)&ba->ss;
	struct in_addr			 want;

	assert_int_equal(inet_pton(AF_INET, addr, &want), 1);
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ba->len, sizeof(*sin));
	assert_int_equal(ntohs(sin->sin_port), port);
	assert_memory_equal(&sin->sin_addr, &want, sizeof(want));
}

/* Every default of the forwarding keys, and the target as written. */
static void
test_confredir_defaults(void **state __unused)
{
	struct conf	*conf;
	struct service	*s;
	char		*m;

	conf = load_ok(HEAD "\tredirect = \"127.0.0.1:8080\"\n}\n",
	    CONF_AS_USER, &m);
	assert_string_equal(m, "");
	s = &conf->services[0];
	assert_string_equal(s->redirect, "127.0.0.1:8080");
	assert_int_equal(s->redirect_timeout_ms, 5000);
	assert_int_equal(s->redirect_buffer, 65536);
	assert_int_equal(s->udp_session_timeout_ms, 30000);
	assert_int_equal(s->udp_sessions, 4096);
	assert_int_equal(s->redirect_source.len, 0);
	assert_int_equal(s->ntargets, 1);
	assert_in4(&s->targets[0], "127.0.0.1", 8080);
	/* It runs nothing: no program, no builtin, no account. */
	assert_null(s->server);
	assert_int_equal(s->builtin, BUILTIN_NONE);
	conf_free(conf);
	free(m);
}

static void
test_confredir_values(void **state __unused)
{
	struct conf	*conf;
	struct service	*s;
	char		*m;

	conf = load_ok(HEAD "\tredirect = \"127.0.0.1:8080\"\n"
	    "\tredirect_timeout = 2s\n\tredirect_buffer = 128K\n"
	    "\tredirect_source = 127.0.0.2\n}\n", CONF_AS_USER, &m);
	assert_string_equal(m, "");
	s = &conf->services[0];
	assert_int_equal(s->redirect_timeout_ms, 2000);
	assert_int_equal(s->redirect_buffer, 128 * 1024);
	/* The source port is the kernel's choice: only the address counts. */
	assert_in4(&s->redirect_source, "127.0.0.2", 0);
	assert_false(s->redirect_source.wildcard);
	assert_int_equal(s->ntargets, 1);
	assert_in4(&s->targets[0], "127.0.0.1", 8080);
	conf_free(conf);
	free(m);
}

/* A bracketed IPv6 address, taken as it is. */
static void
test_confredir_ipv6(void **state __unused)
{
	const struct sockaddr_in6	*sin6;
	struct conf			*conf;
	char				*m;

	conf = load_ok(HEAD "\tredirect = \"[::1]:8080\"\n}\n", CONF_AS_USER,
	    &m);
	assert_string_equal(m, "");
	assert_int_equal(conf->services[0].ntargets, 1);
	sin6 = (const struct sockaddr_in6 *)&conf->services[0].targets[0].ss;
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(conf->services[0].targets[0].len, sizeof(*sin6));
	assert_int_equal(ntohs(sin6->sin6_port), 8080);
	assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	conf_free(conf);
	free(m);
}

/*
 * A name resolves at load, through /etc/hosts for localhost: to 127.0.0.1,
 * ::1 or both, depending on the host, so only the shape is checked.
 */
static void
test_confredir_name(void **state __unused)
{
	const struct service	*s;
	struct conf		*conf;
	char			*m;
	size_t			 i;

	conf = load_ok(HEAD "\tredirect = \"localhost:8080\"\n}\n",
	    CONF_AS_USER, &m);
	assert_string_equal(m, "");
	s = &conf->services[0];
	assert_true(s->ntargets >= 1);
	for (i = 0; i < s->ntargets; i++) {
		if (s->targets[i].ss.ss_family == AF_INET)
			assert_int_equal(ntohs(((const struct sockaddr_in *)
			    &s->targets[i].ss)->sin_port), 8080);
		else {
			assert_int_equal(s->targets[i].ss.ss_family, AF_INET6);
			assert_int_equal(ntohs(((const struct sockaddr_in6 *)
			    &s->targets[i].ss)->sin6_port), 8080);
		}
	}
	conf_free(conf);
	free(m);
	/* An IPv4 source can reach only the IPv4 addresses of the name. */
	conf = load_ok(HEAD "\tredirect = \"localhost:8080\"\n"
	    "\tredirect_source = 127.0.0.1\n}\n", CONF_AS_USER, &m);
	assert_string_equal(m, "");
	s = &conf->services[0];
	assert_true(s->ntargets >= 1);
	for (i = 0; i < s->ntargets; i++)
		assert_int_equal(s->targets[i].ss.ss_family, AF_INET);
	conf_free(conf);
	free(m);
}

static void
test_confredir_udp(void **state __unused)
{
	struct conf	*conf;
	struct service	*s;
	char		*m;

	conf = load_ok("service u {\n\tprotocol = udp\n\tport = 10000\n"
	    "\tredirect = \"127.0.0.1:5353\"\n\tudp_sessions = 100\n"
	    "\tudp_session_timeout = 5s\n}\n", CONF_AS_USER, &m);
	assert_string_equal(m, "");
	s = &conf->services[0];
	assert_int_equal(s->proto, PROTO_UDP);
	assert_int_equal(s->udp_sessions, 100);
	assert_int_equal(s->udp_session_timeout_ms, 5000);
	assert_int_equal(s->ntargets, 1);
	assert_in4(&s->targets[0], "127.0.0.1", 5353);
	/* udp_sessions bounds the sessions, not the stream defaults. */
	assert_int_equal(s->instances, LIMIT_UNLIMITED);
	assert_int_equal(s->per_source, LIMIT_UNLIMITED);
	conf_free(conf);
	free(m);
	/* Given, in the service or its defaults, they count sessions. */
	conf = load_ok("defaults {\n\tper_source = 4\n}\nservice u {\n"
	    "\tprotocol = udp\n\tport = 10000\n"
	    "\tredirect = \"127.0.0.1:5353\"\n\tinstances = 10\n}\n",
	    CONF_AS_USER, &m);
	assert_string_equal(m, "");
	assert_int_equal(conf->services[0].instances, 10);
	assert_int_equal(conf->services[0].per_source, 4);
	conf_free(conf);
	free(m);
	/* A TCP redirect keeps the stream defaults. */
	conf = load_ok(HEAD "\tredirect = \"127.0.0.1:5353\"\n}\n",
	    CONF_AS_USER, &m);
	assert_int_equal(conf->services[0].instances, 64);
	assert_int_equal(conf->services[0].per_source, 16);
	conf_free(conf);
	free(m);
}

/* A port may be named, as /etc/services names it for the protocol. */
static void
test_confredir_port_name(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = load_ok(HEAD "\tredirect = \"127.0.0.1:http\"\n}\n",
	    CONF_AS_USER, &m);
	assert_string_equal(m, "");
	assert_int_equal(conf->services[0].ntargets, 1);
	assert_in4(&conf->services[0].targets[0], "127.0.0.1", 80);
	conf_free(conf);
	free(m);
}

/*
 * A value that is no host:port is refused as it is parsed, on its line;
 * an IPv6 address without brackets would lose its last group to the port.
 */
static void
test_confredir_bad_hostport(void **state __unused)
{
	static const char *const bad[] = { "::1:80", "127.0.0.1", "[::1]80",
	    "[::1]:", ":80", "[host]:80", "a b:80", "", NULL };
	char	 cfg[512], want[256];
	int	 i;

	for (i = 0; bad[i] != NULL; i++) {
		(void)snprintf(cfg, sizeof(cfg), HEAD
		    "\tredirect = \"%s\"\n}\n", bad[i]);
		(void)snprintf(want, sizeof(want), "service 'a': redirect "
		    "'%s': " HOSTPORT_WHY, bad[i]);
		msgs_load_fails(cfg, ANYHOST, "t.conf:3: ", want);
	}
}

/* The port is checked against /etc/services for the service's protocol. */
static void
test_confredir_bad_port(void **state __unused)
{
	static const char *const bad[] = { "0", "99999", "65536",
	    "nosuchservice", NULL };
	char	 cfg[512], want[256];
	int	 i;

	for (i = 0; bad[i] != NULL; i++) {
		(void)snprintf(cfg, sizeof(cfg), HEAD
		    "\tredirect = \"127.0.0.1:%s\"\n}\n", bad[i]);
		(void)snprintf(want, sizeof(want), "service 'a': redirect "
		    "'127.0.0.1:%s': port '%s' is neither 1 to 65535 nor a "
		    "tcp service of /etc/services", bad[i], bad[i]);
		msgs_load_fails(cfg, ANYHOST, "t.conf:3: ", want);
	}
	/* http is tcp only in /etc/services: a udp redirect cannot use it. */
	msgs_load_fails("service u {\n\tprotocol = udp\n\tport = 10000\n"
	    "\tredirect = \"127.0.0.1:http\"\n}\n", ANYHOST, "t.conf:4: ",
	    "service 'u': redirect '127.0.0.1:http': port 'http' is neither "
	    "1 to 65535 nor a udp service of /etc/services");
}

/* A wildcard accepts; it is nothing a relay can connect to. */
static void
test_confredir_wildcard(void **state __unused)
{
	msgs_load_fails(HEAD "\tredirect = \"0.0.0.0:80\"\n}\n", ANYHOST,
	    "t.conf:3: ", "service 'a': redirect '0.0.0.0:80': 0.0.0.0 is "
	    "no address to connect to");
	msgs_load_fails(HEAD "\tredirect = \"[::]:80\"\n}\n", ANYHOST,
	    "t.conf:3: ", "service 'a': redirect '[::]:80': :: is no "
	    "address to connect to");
}

/*
 * redirect_proxy: the header a TCP or unix redirect's target gets
 * first; off by default, an error without a redirect or on a UDP one,
 * and from defaults it stays off where it cannot apply.
 */
static void
test_confredir_proxy_out(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = load_ok(HEAD "\tredirect = \"127.0.0.1:8080\"\n}\n",
	    CONF_AS_USER, &m);
	assert_int_equal(conf->services[0].redirect_proxy, 0);
	conf_free(conf);
	free(m);
	conf = load_ok(HEAD "\tredirect = \"127.0.0.1:8080\"\n"
	    "\tredirect_proxy = v1\n}\n", CONF_AS_USER, &m);
	assert_int_equal(conf->services[0].redirect_proxy, PROXY_V1);
	conf_free(conf);
	free(m);
	conf = load_ok(HEAD "\tredirect = \"127.0.0.1:8080\"\n"
	    "\tredirect_proxy = v2\n}\n", CONF_AS_USER, &m);
	assert_int_equal(conf->services[0].redirect_proxy, PROXY_V2);
	conf_free(conf);
	free(m);
	conf = load_ok("defaults {\n\tredirect_proxy = v2\n}\n"
	    "service u {\n\tprotocol = udp\n\tport = 10000\n"
	    "\tredirect = \"127.0.0.1:5353\"\n}\n", CONF_AS_USER, &m);
	assert_int_equal(conf->services[0].redirect_proxy, 0);
	conf_free(conf);
	free(m);
	msgs_load_fails(HEAD "\tbuiltin = echo\n\tredirect_proxy = v1\n}\n",
	    ANYHOST, "t.conf:4: ", "service 'a': redirect_proxy needs "
	    "redirect = \"host:port\"");
	msgs_load_fails("service u {\n\tprotocol = udp\n\tport = 10000\n"
	    "\tredirect = \"127.0.0.1:5353\"\n\tredirect_proxy = v1\n}\n",
	    ANYHOST, "t.conf:5: ", "service 'u': redirect_proxy applies "
	    "only to a redirect with protocol tcp or unix");
	msgs_load_fails(HEAD "\tredirect = \"127.0.0.1:8080\"\n"
	    "\tredirect_proxy = any\n}\n", ANYHOST, "t.conf:4: ",
	    "service 'a': redirect_proxy 'any': expected off, v1 or v2");
}

/* A service that forwards to itself would loop until it ran out of fds. */
static void
test_confredir_self(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	msgs_load_fails(HEAD "\taddress = {127.0.0.1}\n"
	    "\tredirect = \"127.0.0.1:10000\"\n}\n", ANYHOST, "t.conf:4: ",
	    "service 'a': redirect '127.0.0.1:10000' reaches this service's "
	    "own address: it would forward to itself");
	/* The default address is the wildcard, which takes loopback. */
	msgs_load_fails(HEAD "\tredirect = \"127.0.0.1:10000\"\n}\n", ANYHOST,
	    "t.conf:3: ", "service 'a': redirect '127.0.0.1:10000' reaches "
	    "this service's own address");
	msgs_load_fails(HEAD "\tredirect = \"[::1]:10000\"\n}\n", ANYHOST,
	    "t.conf:3: ", "service 'a': redirect '[::1]:10000' reaches "
	    "this service's own address");
	/* Another port of the same address is another service. */
	conf = load_ok(HEAD "\taddress = {127.0.0.1}\n"
	    "\tredirect = \"127.0.0.1:10001\"\n}\n", ANYHOST, &m);
	assert_no_msg(m, "forward to itself");
	conf_free(conf);
	free(m);
	/* So is another address of the same port, when bound alone. */
	conf = load_ok(HEAD "\taddress = {127.0.0.1}\n"
	    "\tredirect = \"127.0.0.2:10000\"\n}\n", ANYHOST, &m);
	assert_no_msg(m, "forward to itself");
	conf_free(conf);
	free(m);
}

/* A service forwards, or runs a program, or is a builtin: one of them. */
static void
test_confredir_with_program(void **state __unused)
{
	msgs_load_fails(HEAD "\tserver = /bin/cat\n"
	    "\tredirect = \"127.0.0.1:8080\"\n}\n", ANYHOST, "t.conf:4: ",
	    "service 'a': both redirect and server given; a service "
	    "forwards, or runs a program, or is a builtin");
	msgs_load_fails(HEAD "\tredirect = \"127.0.0.1:8080\"\n"
	    "\tbuiltin = echo\n}\n", ANYHOST, "t.conf:3: ",
	    "service 'a': both redirect and builtin given");
}

/* The keys of an exec'd program mean nothing to the engine's relay. */
static void
test_confredir_exec_keys(void **state __unused)
{
	static const char *const keys[] = { "user = nobody", "args = {x}",
	    "env = {\"A=b\"}", "chroot = /", "stderr = null", NULL };
	char	 cfg[512], key[32], want[256];
	int	 i;

	for (i = 0; keys[i] != NULL; i++) {
		(void)snprintf(key, sizeof(key), "%.*s",
		    (int)strcspn(keys[i], " "), keys[i]);
		(void)snprintf(cfg, sizeof(cfg), HEAD
		    "\tredirect = \"127.0.0.1:8080\"\n\t%s\n}\n", keys[i]);
		(void)snprintf(want, sizeof(want), "service 'a': %s does not "
		    "apply to a redirect, which runs no program", key);
		msgs_load_fails(cfg, ANYHOST, "t.conf:4: ", want);
	}
}

static void
test_confredir_wait(void **state __unused)
{
	msgs_load_fails(HEAD "\tredirect = \"127.0.0.1:8080\"\n\twait = true\n}\n",
	    ANYHOST, "t.conf:4: ", "service 'a': a redirect cannot use "
	    "wait = true: the engine itself serves every client");
	msgs_load_fails("service u {\n\tprotocol = udp\n\tport = 10000\n"
	    "\tredirect = \"127.0.0.1:5353\"\n\twait = true\n}\n", ANYHOST,
	    "t.conf:5: ", "service 'u': a redirect cannot use wait = true");
}

static void
test_confredir_buffer(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	msgs_load_fails(HEAD "\tredirect = \"127.0.0.1:8080\"\n"
	    "\tredirect_buffer = 1K\n}\n", ANYHOST, "t.conf:4: ",
	    "service 'a': redirect_buffer '1K': must be from 4K to 1024K");
	msgs_load_fails(HEAD "\tredirect = \"127.0.0.1:8080\"\n"
	    "\tredirect_buffer = 2M\n}\n", ANYHOST, "t.conf:4: ",
	    "service 'a': redirect_buffer '2M': must be from 4K to 1024K");
	msgs_load_fails(HEAD "\tredirect = \"127.0.0.1:8080\"\n"
	    "\tredirect_buffer = lots\n}\n", ANYHOST, "t.conf:4: ",
	    "service 'a': redirect_buffer 'lots': expected a size: bytes, or "
	    "a number with K, M or G");
	/* The bounds themselves are good. */
	conf = load_ok(HEAD "\tredirect = \"127.0.0.1:8080\"\n"
	    "\tredirect_buffer = 4096\n}\n", CONF_AS_USER, &m);
	assert_int_equal(conf->services[0].redirect_buffer, 4096);
	conf_free(conf);
	free(m);
	conf = load_ok(HEAD "\tredirect = \"127.0.0.1:8080\"\n"
	    "\tredirect_buffer = 1M\n}\n", CONF_AS_USER, &m);
	assert_int_equal(conf->services[0].redirect_buffer, 1024 * 1024);
	conf_free(conf);
	free(m);
}

static void
test_confredir_source(void **state __unused)
{
	msgs_load_fails(HEAD "\tredirect = \"127.0.0.1:8080\"\n"
	    "\tredirect_source = \"host.example\"\n}\n", ANYHOST, "t.conf:4: ",
	    "service 'a': redirect_source 'host.example': not an IPv4 or IPv6 "
	    "address (hostnames are not accepted)");
	msgs_load_fails(HEAD "\tbuiltin = echo\n\tredirect_source = 127.0.0.1\n}\n",
	    ANYHOST, "t.conf:4: ", "service 'a': redirect_source needs "
	    "redirect = \"host:port\"");
}

/* The keys that refine a redirect mean nothing without one. */
static void
test_confredir_keys_alone(void **state __unused)
{
	msgs_load_fails(HEAD "\tbuiltin = echo\n\tredirect_timeout = 2s\n}\n",
	    ANYHOST, "t.conf:4: ", "service 'a': redirect_timeout needs "
	    "redirect = \"host:port\"");
	msgs_load_fails(HEAD "\tbuiltin = echo\n\tredirect_buffer = 8K\n}\n",
	    ANYHOST, "t.conf:4: ", "service 'a': redirect_buffer needs "
	    "redirect = \"host:port\"");
	/* A tcp redirect has no sessions: they are udp's. */
	msgs_load_fails(HEAD "\tredirect = \"127.0.0.1:8080\"\n"
	    "\tudp_sessions = 100\n}\n", ANYHOST, "t.conf:4: ",
	    "service 'a': udp_sessions applies only to a redirect with "
	    "protocol udp");
	msgs_load_fails(HEAD "\tredirect = \"127.0.0.1:8080\"\n"
	    "\tudp_session_timeout = 5s\n}\n", ANYHOST, "t.conf:4: ",
	    "service 'a': udp_session_timeout applies only to a redirect with "
	    "protocol udp");
	msgs_load_fails("service u {\n\tprotocol = udp\n\tport = 10000\n"
	    "\tbuiltin = echo\n\tudp_sessions = 100\n}\n", ANYHOST,
	    "t.conf:5: ", "service 'u': udp_sessions applies only to a "
	    "redirect with protocol udp");
}

static void
test_confredir_bad_numbers(void **state __unused)
{
	msgs_load_fails("service u {\n\tprotocol = udp\n\tport = 10000\n"
	    "\tredirect = \"127.0.0.1:5353\"\n\tudp_sessions = 0\n}\n",
	    ANYHOST, "t.conf:5: ", "service 'u': udp_sessions '0': expected "
	    "a number from 1 to 1048576");
	msgs_load_fails("service u {\n\tprotocol = udp\n\tport = 10000\n"
	    "\tredirect = \"127.0.0.1:5353\"\n\tudp_session_timeout = 0\n}\n",
	    ANYHOST, "t.conf:5: ", "service 'u': udp_session_timeout '0': "
	    "must not be 0");
	msgs_load_fails(HEAD "\tredirect = \"127.0.0.1:8080\"\n"
	    "\tredirect_timeout = 0\n}\n", ANYHOST, "t.conf:4: ",
	    "service 'a': redirect_timeout '0': must not be 0");
}

/*
 * A source of one family cannot reach a target of the other: blamed on
 * redirect_source, the key that narrowed the targets to none.
 */
static void
test_confredir_source_family(void **state __unused)
{
	msgs_load_fails(HEAD "\tredirect = \"127.0.0.1:80\"\n"
	    "\tredirect_source = ::1\n}\n", ANYHOST, "t.conf:4: ",
	    "service 'a': redirect '127.0.0.1:80': 127.0.0.1 has no IPv6 "
	    "address, the family of redirect_source");
	msgs_load_fails(HEAD "\tredirect = \"[::1]:80\"\n"
	    "\tredirect_source = 127.0.0.1\n}\n", ANYHOST, "t.conf:4: ",
	    "service 'a': redirect '[::1]:80': ::1 has no IPv4 address, the "
	    "family of redirect_source");
}

/*
 * A name the resolver does not know is a problem of the host, LVL_HOST:
 * under -n as a user (CONF_AS_USER, whatever the uid) it is a warning,
 * since the daemon's host may resolve it, and the check goes on; as
 * root under -n it is an error.  Either way on the redirect line.
 */
static void
test_confredir_unresolvable(void **state __unused)
{
	static const char cfg[] = HEAD
	    "\tredirect = \"nosuchhost.invalid:80\"\n}\n";
	struct conf	*conf;
	char		*m;

	conf = msgs_load(cfg, ANYHOST, &m);
	assert_non_null(conf);
	assert_msg(m, "t.conf:3: warning: ", "service 'a': redirect "
	    "'nosuchhost.invalid:80': cannot resolve nosuchhost.invalid");
	assert_int_equal(conf->services[0].ntargets, 0);
	conf_free(conf);
	free(m);
	/* At start, the service alone is not served. */
	conf = msgs_load(cfg, CONF_AS_USER, &m);
	assert_non_null(conf);
	assert_msg(m, "t.conf:3: ", "service 'a': redirect "
	    "'nosuchhost.invalid:80': cannot resolve nosuchhost.invalid");
	assert_int_equal(conf->nservices, 0);
	conf_free(conf);
	free(m);
	if (geteuid() != 0)
		return;
	conf = msgs_load(cfg, CONF_CHECK_ONLY, &m);
	if (conf != NULL) {
		print_error("loaded as root with:\n%s", m);
		conf_free(conf);
		free(m);
		fail();
	}
	assert_msg(m, "t.conf:3: service 'a': ", "cannot resolve "
	    "nosuchhost.invalid");
	free(m);
}

/* A redirect is the program of its service, even with a bad value. */
static void
test_confredir_no_program(void **state __unused)
{
	char	*m;

	msgs_load_fails(HEAD "}\n", ANYHOST, "t.conf:1: ",
	    "service 'a': no server, builtin or redirect given");
	/* The bad value is the one problem: no second, misleading one. */
	assert_null(msgs_load(HEAD "\tredirect = \"127.0.0.1\"\n}\n",
	    ANYHOST, &m));
	assert_msg(m, "t.conf:3: ", "redirect '127.0.0.1'");
	assert_no_msg(m, "no server, builtin or redirect given");
	free(m);
	assert_null(msgs_load(HEAD "\tredirect = \"127.0.0.1:0\"\n}\n",
	    ANYHOST, &m));
	assert_msg(m, "t.conf:3: ", "port '0'");
	assert_no_msg(m, "no server, builtin or redirect given");
	free(m);
}

/*
 * redirect, server and builtin describe one program: a service that
 * names its own takes none of them from the defaults.
 */
static void
test_confredir_defaults_section(void **state __unused)
{
	struct conf	*conf;
	struct service	*s;
	char		*m;

	conf = msgs_load("defaults {\n\tredirect = \"127.0.0.1:9000\"\n}\n"
	    "service a {\n\tport = 10000\n\tbuiltin = echo\n}\n"
	    "service b {\n\tport = 10001\n}\n", CONF_AS_USER, &m);
	if (conf == NULL) {
		print_error("failed with:\n%s", m);
		free(m);
		fail();
	}
	assert_string_equal(m, "");
	assert_int_equal(conf->nservices, 2);
	s = &conf->services[0];
	assert_int_equal(s->builtin, BUILTIN_ECHO);
	assert_null(s->redirect);
	assert_int_equal(s->ntargets, 0);
	/* A service with no program of its own takes the defaults'. */
	s = &conf->services[1];
	assert_int_equal(s->builtin, BUILTIN_NONE);
	assert_non_null(s->redirect);
	assert_string_equal(s->redirect, "127.0.0.1:9000");
	assert_int_equal(s->ntargets, 1);
	assert_in4(&s->targets[0], "127.0.0.1", 9000);
	conf_free(conf);
	free(m);
	conf = load_ok("defaults {\n\tbuiltin = echo\n}\n"
	    "service a {\n\tport = 10000\n\tredirect = \"127.0.0.1:9000\"\n"
	    "}\n", CONF_AS_USER, &m);
	assert_string_equal(m, "");
	s = &conf->services[0];
	assert_int_equal(s->builtin, BUILTIN_NONE);
	assert_string_equal(s->redirect, "127.0.0.1:9000");
	assert_int_equal(s->ntargets, 1);
	conf_free(conf);
	free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confredir_defaults),
		cmocka_unit_test(test_confredir_values),
		cmocka_unit_test(test_confredir_ipv6),
		cmocka_unit_test(test_confredir_name),
		cmocka_unit_test(test_confredir_udp),
		cmocka_unit_test(test_confredir_port_name),
		cmocka_unit_test(test_confredir_bad_hostport),
		cmocka_unit_test(test_confredir_bad_port),
		cmocka_unit_test(test_confredir_wildcard),
		cmocka_unit_test(test_confredir_self),
		cmocka_unit_test(test_confredir_proxy_out),
		cmocka_unit_test(test_confredir_with_program),
		cmocka_unit_test(test_confredir_exec_keys),
		cmocka_unit_test(test_confredir_wait),
		cmocka_unit_test(test_confredir_buffer),
		cmocka_unit_test(test_confredir_source),
		cmocka_unit_test(test_confredir_keys_alone),
		cmocka_unit_test(test_confredir_bad_numbers),
		cmocka_unit_test(test_confredir_source_family),
		cmocka_unit_test(test_confredir_unresolvable),
		cmocka_unit_test(test_confredir_no_program),
		cmocka_unit_test(test_confredir_defaults_section),
	};

	log_init(1, LOG_DEBUG, LOG_DAEMON);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
