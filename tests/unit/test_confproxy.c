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
 * Unit tests of the PROXY protocol keys in confproxy.c: proxy_protocol,
 * trusted_proxies and proxy_timeout.  A header names the client, so a
 * service that reads one without a list of proxies allowed to send it
 * would let any client claim any address past every ACL, limit and ban;
 * these tests pin that such a file does not load, that a misplaced key
 * fails at its own line, and that a key from the defaults reaches only
 * the services it can apply to, silently.  Messages are read back from
 * stderr, as in test_confredir.c, and the error cases load under
 * CONF_AS_USER|CONF_CHECK_ONLY so that the one error left is the one
 * under test whoever runs it.  The leak cases fail only in a sanitizer
 * build, where LeakSanitizer reports at exit what conf_free() missed.
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

#include <setjmp.h>
#include <cmocka.h>

#include "log.h"
#include "portmuxd.h"
#include "proxy.h"
#include "confmsg.h"

/* Any host: the non-root rules, with "needs root" only a warning. */
#define ANYHOST		(CONF_AS_USER | CONF_CHECK_ONLY)

/* Lines 1 to 3 of a tcp service; a test's own keys start at line 4. */
#define HEAD		"service a {\n\tport = 10000\n\tbuiltin = echo\n"

/* The smallest list that lets proxy_protocol load. */
#define TRUSTED		"\ttrusted_proxies = {10.0.0.0/8}\n"

/* The tail of the message for a list key that is no CIDR block. */
#define CIDR_WHY	"not an address or CIDR block (hostnames are not " \
			"accepted)"

static struct conf *load_ok(const char *, int, size_t, char **);
static bool	 trusts(const struct service *, const char *);
static void	 assert_same_acl(const struct acl *, const struct acl *);

/* The load of text succeeds, with n services; *m gets what it said. */
static struct conf *
load_ok(const char *text, int flags, size_t n, char **m)
{
	struct conf	*conf = msgs_load_ok(text, flags, m);

	assert_int_equal(conf->nservices, n);
	return conf;
}

/*
 * Whether svc takes a header from the numeric address addr, as the
 * engine asks of a connection's peer before it reads one (proxyin.c).
 */
static bool
trusts(const struct service *svc, const char *addr)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, addr, &sin6->sin6_addr),
		    1);
		sin6->sin6_family = AF_INET6;
	}
	return acl_match(&svc->trusted_proxies, (struct sockaddr *)&ss);
}

/* Two lists with the same blocks in the same order. */
static void
assert_same_acl(const struct acl *a, const struct acl *b)
{
	size_t	 i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_int_equal(a->v[i].family, b->v[i].family);
		assert_int_equal(a->v[i].prefix, b->v[i].prefix);
		assert_memory_equal(a->v[i].addr, b->v[i].addr,
		    sizeof(a->v[i].addr));
	}
}

/* Each word gives its mask; the mask is what proxy_parse() accepts. */
static void
test_confproxy_versions(void **state __unused)
{
	static const struct {
		const char	*word;
		unsigned int	 mask;
	} words[] = {
		{ "v1", PROXY_V1 },
		{ "v2", PROXY_V2 },
		{ "any", PROXY_V1 | PROXY_V2 },
	};
	struct conf	*conf;
	char		 cfg[512], *m;
	size_t		 i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		(void)snprintf(cfg, sizeof(cfg), HEAD "\tproxy_protocol = %s\n"
		    TRUSTED "}\n", words[i].word);
		conf = load_ok(cfg, CONF_AS_USER, 1, &m);
		assert_string_equal(m, "");
		assert_int_equal(conf->services[0].proxy_versions,
		    words[i].mask);
		conf_free(conf);
		free(m);
	}
	/* off reads no header, and needs no proxies to trust. */
	conf = load_ok(HEAD "\tproxy_protocol = off\n}\n", CONF_AS_USER, 1,
	    &m);
	assert_string_equal(m, "");
	assert_int_equal(conf->services[0].proxy_versions, 0);
	conf_free(conf);
	free(m);
	conf = load_ok(HEAD "}\n", CONF_AS_USER, 1, &m);
	assert_string_equal(m, "");
	assert_int_equal(conf->services[0].proxy_versions, 0);
	assert_int_equal(conf->services[0].trusted_proxies.n, 0);
	assert_null(conf->services[0].trusted_proxies.v);
	conf_free(conf);
	free(m);
}

static void
test_confproxy_timeout(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = load_ok(HEAD "\tproxy_protocol = v1\n" TRUSTED "}\n",
	    CONF_AS_USER, 1, &m);
	assert_int_equal(conf->services[0].proxy_timeout_ms, 5000);
	conf_free(conf);
	free(m);
	conf = load_ok(HEAD "\tproxy_protocol = v1\n" TRUSTED
	    "\tproxy_timeout = 2s\n}\n", CONF_AS_USER, 1, &m);
	assert_string_equal(m, "");
	assert_int_equal(conf->services[0].proxy_timeout_ms, 2000);
	conf_free(conf);
	free(m);
	/* A zero timeout would give up on every header before it came. */
	msgs_load_fails(HEAD "\tproxy_protocol = v1\n" TRUSTED
	    "\tproxy_timeout = 0\n}\n", ANYHOST, "t.conf:6: ",
	    "service 'a': proxy_timeout '0': must not be 0");
}

/*
 * The list as the engine uses it: a connection from inside a block may
 * send a header, one from outside may not, in either family.
 */
static void
test_confproxy_trusted(void **state __unused)
{
	const struct service	*s;
	struct conf		*conf;
	char			*m;

	conf = load_ok(HEAD "\tproxy_protocol = any\n\ttrusted_proxies = "
	    "{10.0.0.0/8, 2001:db8::/32, 192.0.2.7}\n}\n", CONF_AS_USER, 1,
	    &m);
	assert_string_equal(m, "");
	s = &conf->services[0];
	assert_int_equal(s->trusted_proxies.n, 3);
	assert_true(trusts(s, "10.0.0.1"));
	assert_true(trusts(s, "10.255.255.255"));
	assert_false(trusts(s, "11.0.0.1"));
	assert_false(trusts(s, "9.255.255.255"));
	assert_true(trusts(s, "2001:db8::1"));
	assert_true(trusts(s, "2001:db8:ffff::5"));
	assert_false(trusts(s, "2001:db9::1"));
	assert_false(trusts(s, "::1"));
	/* An address alone is a single host. */
	assert_true(trusts(s, "192.0.2.7"));
	assert_false(trusts(s, "192.0.2.8"));
	/* A dual-stack socket sees an IPv4 proxy as mapped: still trusted. */
	assert_true(trusts(s, "::ffff:10.1.2.3"));
	assert_false(trusts(s, "::ffff:11.1.2.3"));
	conf_free(conf);
	free(m);
}

static void
test_confproxy_bad_word(void **state __unused)
{
	msgs_load_fails(HEAD "\tproxy_protocol = v3\n" TRUSTED "}\n", ANYHOST,
	    "t.conf:4: ", "service 'a': proxy_protocol 'v3': expected off, "
	    "v1, v2 or any");
	msgs_load_fails(HEAD "\tproxy_protocol = true\n}\n", ANYHOST,
	    "t.conf:4: ", "service 'a': proxy_protocol 'true': expected off, "
	    "v1, v2 or any");
}

/* A datagram or a local socket carries no header the engine would read. */
static void
test_confproxy_not_tcp(void **state __unused)
{
	msgs_load_fails("service u {\n\tprotocol = udp\n\tport = 10000\n"
	    "\tbuiltin = echo\n\tproxy_protocol = v1\n" TRUSTED "}\n",
	    ANYHOST, "t.conf:5: ", "service 'u': proxy_protocol applies only "
	    "to protocol tcp");
	msgs_load_fails("service x {\n\tprotocol = unix\n"
	    "\tpath = /tmp/pmx-proxy.sock\n\tbuiltin = echo\n"
	    "\tproxy_protocol = any\n}\n", ANYHOST, "t.conf:5: ",
	    "service 'x': proxy_protocol applies only to protocol tcp");
}

static void
test_confproxy_wait(void **state __unused)
{
	msgs_load_fails("service w {\n\tport = 10000\n\tserver = /bin/cat\n"
	    "\twait = true\n\tproxy_protocol = v2\n" TRUSTED "}\n", ANYHOST,
	    "t.conf:5: ", "service 'w': proxy_protocol cannot apply to a wait "
	    "service");
	/* The order of the keys does not move the blame. */
	msgs_load_fails("service w {\n\tport = 10000\n\tproxy_protocol = v2\n"
	    TRUSTED "\tserver = /bin/cat\n\twait = true\n}\n", ANYHOST,
	    "t.conf:3: ", "service 'w': proxy_protocol cannot apply to a wait "
	    "service");
}

static void
test_confproxy_tcpmux(void **state __unused)
{
	msgs_load_fails("service m {\n\tport = 10000\n\tbuiltin = tcpmux\n"
	    "\tproxy_protocol = v1\n" TRUSTED "}\n", ANYHOST, "t.conf:4: ",
	    "service 'm': proxy_protocol is not supported with builtin = "
	    "tcpmux");
}

/* Without proxies to trust, any client could send a header. */
static void
test_confproxy_no_trusted(void **state __unused)
{
	msgs_load_fails(HEAD "\tproxy_protocol = v1\n}\n", ANYHOST,
	    "t.conf:4: ", "service 'a': proxy_protocol needs trusted_proxies");
	msgs_load_fails(HEAD "\tproxy_protocol = any\n"
	    "\ttrusted_proxies = {}\n}\n", ANYHOST, "t.conf:4: ",
	    "service 'a': proxy_protocol needs trusted_proxies");
}

/* The keys that refine proxy_protocol mean nothing without it. */
static void
test_confproxy_keys_alone(void **state __unused)
{
	msgs_load_fails(HEAD TRUSTED "}\n", ANYHOST, "t.conf:4: ",
	    "service 'a': trusted_proxies needs proxy_protocol = v1, v2 or "
	    "any");
	msgs_load_fails(HEAD "\tproxy_timeout = 2s\n}\n", ANYHOST,
	    "t.conf:4: ", "service 'a': proxy_timeout needs proxy_protocol = "
	    "v1, v2 or any");
	/* off is no version: the key is as alone as without it. */
	msgs_load_fails(HEAD "\tproxy_protocol = off\n\tproxy_timeout = 2s\n"
	    "}\n", ANYHOST, "t.conf:5: ", "service 'a': proxy_timeout needs "
	    "proxy_protocol = v1, v2 or any");
	/* Even an empty list is a key given. */
	msgs_load_fails(HEAD "\ttrusted_proxies = {}\n}\n", ANYHOST,
	    "t.conf:4: ", "service 'a': trusted_proxies needs proxy_protocol "
	    "= v1, v2 or any");
}

/* Entries are checked as for allow and deny: numeric, with no host bits. */
static void
test_confproxy_bad_cidr(void **state __unused)
{
	static const struct {
		const char	*entry;
		const char	*why;
	} bad[] = {
		{ "\"example.com\"", "'example.com': " CIDR_WHY },
		{ "10.0.0.0/33", "'10.0.0.0/33': " CIDR_WHY },
		{ "2001:db8::/129", "'2001:db8::/129': " CIDR_WHY },
		{ "10.0.0.1/8", "'10.0.0.1/8': host bits set beyond the /8 "
		    "prefix" },
	};
	char	 cfg[512], want[256];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(cfg, sizeof(cfg), HEAD "\tproxy_protocol = v1\n"
		    "\ttrusted_proxies = {192.0.2.1, %s}\n}\n", bad[i].entry);
		(void)snprintf(want, sizeof(want), "service 'a': "
		    "trusted_proxies %s", bad[i].why);
		msgs_load_fails(cfg, ANYHOST, "t.conf:5: ", want);
	}
}

/*
 * From the defaults, proxy_protocol reaches the services it can apply to
 * and is silently dropped from the others, whose own sections never
 * asked for it.
 */
static void
test_confproxy_defaults(void **state __unused)
{
	struct conf		*conf;
	const struct service	*s;
	char			*m;
	size_t			 i;

	conf = load_ok("defaults {\n\tproxy_protocol = v1\n"
	    "\ttrusted_proxies = {10.0.0.0/8}\n}\n"
	    "service t {\n\tport = 10000\n\tbuiltin = echo\n}\n"
	    "service u {\n\tprotocol = udp\n\tport = 10001\n"
	    "\tbuiltin = echo\n}\n"
	    "service w {\n\tport = 10002\n\tserver = /bin/cat\n"
	    "\twait = true\n}\n"
	    "service o {\n\tport = 10003\n\tbuiltin = echo\n"
	    "\tproxy_protocol = off\n}\n"
	    "service m {\n\tport = 10004\n\tbuiltin = tcpmux\n}\n",
	    CONF_AS_USER, 5, &m);
	assert_no_msg(m, "proxy");
	for (i = 0; i < conf->nservices; i++) {
		s = &conf->services[i];
		if (strcmp(s->name, "t") == 0) {
			assert_int_equal(s->proxy_versions, PROXY_V1);
			assert_int_equal(s->proxy_timeout_ms, 5000);
			assert_int_equal(s->trusted_proxies.n, 1);
			assert_true(trusts(s, "10.9.8.7"));
			assert_false(trusts(s, "192.0.2.1"));
		} else
			assert_int_equal(s->proxy_versions, 0);
	}
	conf_free(conf);
	free(m);
	/* The refining keys alone in the defaults are as silent. */
	conf = load_ok("defaults {\n\ttrusted_proxies = {10.0.0.0/8}\n"
	    "\tproxy_timeout = 2s\n}\n" HEAD "}\n", CONF_AS_USER, 1, &m);
	assert_string_equal(m, "");
	assert_int_equal(conf->services[0].proxy_versions, 0);
	conf_free(conf);
	free(m);
	/* A service the defaults do apply to still needs trusted proxies. */
	msgs_load_fails("defaults {\n\tproxy_protocol = v2\n}\n" HEAD "}\n",
	    ANYHOST, "t.conf:2: ", "service 'a': proxy_protocol needs "
	    "trusted_proxies");
	/* Its own list goes with the defaults' version. */
	conf = load_ok("defaults {\n\tproxy_protocol = v2\n}\n" HEAD
	    "\ttrusted_proxies = {2001:db8::/32}\n}\n", CONF_AS_USER, 1, &m);
	assert_string_equal(m, "");
	s = &conf->services[0];
	assert_int_equal(s->proxy_versions, PROXY_V2);
	assert_int_equal(s->trusted_proxies.n, 1);
	assert_true(trusts(s, "2001:db8::9"));
	assert_false(trusts(s, "10.0.0.1"));
	conf_free(conf);
	free(m);
}

/*
 * A reload loads the same file again beside the running conf: the two
 * must agree, or an unchanged service would be seen as changed.
 */
static void
test_confproxy_reload(void **state __unused)
{
	static const char cfg[] = "defaults {\n\tproxy_timeout = 3s\n}\n"
	    "service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tproxy_protocol = any\n"
	    "\ttrusted_proxies = {10.0.0.0/8, 2001:db8::/32}\n}\n"
	    "service b {\n\tport = 10001\n\tbuiltin = echo\n}\n";
	const struct service	*a, *b;
	struct conf		*one, *two;
	char			*m1, *m2;
	size_t			 i;

	one = load_ok(cfg, CONF_AS_USER, 2, &m1);
	two = load_ok(cfg, CONF_AS_USER, 2, &m2);
	assert_string_equal(m1, m2);
	for (i = 0; i < one->nservices; i++) {
		a = &one->services[i];
		b = &two->services[i];
		assert_string_equal(a->name, b->name);
		assert_int_equal(a->proxy_versions, b->proxy_versions);
		assert_int_equal(a->proxy_timeout_ms, b->proxy_timeout_ms);
		assert_same_acl(&a->trusted_proxies, &b->trusted_proxies);
		/* Each conf owns its list: freeing one keeps the other. */
		if (a->trusted_proxies.n > 0)
			assert_ptr_not_equal(a->trusted_proxies.v,
			    b->trusted_proxies.v);
	}
	a = &one->services[0];
	assert_int_equal(a->proxy_versions, PROXY_V1 | PROXY_V2);
	assert_int_equal(a->proxy_timeout_ms, 3000);
	assert_int_equal(a->trusted_proxies.n, 2);
	conf_free(one);
	/* The new conf outlives the old one, as after a SIGHUP. */
	assert_true(trusts(&two->services[0], "10.1.1.1"));
	assert_true(trusts(&two->services[0], "2001:db8::1"));
	conf_free(two);
	free(m1);
	free(m2);
}

/*
 * Every path that builds a trusted_proxies list frees it: a loaded
 * conf, a service the defaults' list reaches but proxy_protocol does
 * not, a disabled service dropped at load, and a load that fails.  Only
 * LeakSanitizer, at exit, can tell.
 */
static void
test_confproxy_free(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = load_ok("defaults {\n\tproxy_protocol = v1\n"
	    "\ttrusted_proxies = {10.0.0.0/8, 2001:db8::/32}\n}\n"
	    "service a {\n\tport = 10000\n\tbuiltin = echo\n}\n"
	    "service u {\n\tprotocol = udp\n\tport = 10001\n"
	    "\tbuiltin = echo\n}\n"
	    "service d {\n\tport = 10002\n\tbuiltin = echo\n"
	    "\tdisable = true\n}\n", CONF_AS_USER, 2, &m);
	assert_int_equal(conf->services[0].trusted_proxies.n, 2);
	conf_free(conf);
	free(m);
	msgs_load_fails("service u {\n\tprotocol = udp\n\tport = 10000\n"
	    "\tbuiltin = echo\n\tproxy_protocol = v1\n"
	    "\ttrusted_proxies = {10.0.0.0/8, 192.0.2.0/24}\n}\n", ANYHOST,
	    "t.conf:5: ", "proxy_protocol applies only to protocol tcp");
	/* A list with a bad entry keeps the good ones until it is freed. */
	msgs_load_fails(HEAD "\tproxy_protocol = v1\n"
	    "\ttrusted_proxies = {10.0.0.0/8, \"example.com\"}\n}\n",
	    ANYHOST, "t.conf:5: ", "trusted_proxies 'example.com'");
}

/*
 * One message per mistake: a misplaced or misspelt proxy_protocol is
 * not also "missing" for the keys next to it, and a list whose entries
 * were all refused is not also reported as absent.  A service reached
 * only through tcpmux never has a header read, so the key is an error
 * there rather than a setting that does nothing.
 */
static void
test_confproxy_one_message(void **state __unused)
{
	static const char *const texts[] = {
		"service a {\n\tprotocol = udp\n\tport = 10000\n"
		"\tbuiltin = echo\n\tproxy_protocol = v1\n" TRUSTED "}\n",
		HEAD "\tproxy_protocol = v3\n" TRUSTED "}\n",
		HEAD "\tproxy_protocol = v1\n"
		"\ttrusted_proxies = {\"example.com\"}\n}\n",
		HEAD "\tproxy_protocol = v1\n"
		"\ttrusted_proxies = {10.0.0.0/33}\n}\n",
	};
	struct conf	*conf;
	char		*m, *p;
	size_t		 i, lines;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		conf = msgs_load(texts[i], ANYHOST, &m);
		assert_null(conf);
		for (lines = 0, p = m; (p = strstr(p, "t.conf:")) != NULL;
		    p++)
			lines++;
		if (lines != 1) {
			print_error("%zu messages for:\n%s\n%s", lines,
			    texts[i], m);
			fail();
		}
		assert_no_msg(m, "needs proxy_protocol");
		assert_no_msg(m, "needs trusted_proxies");
		free(m);
	}
	msgs_load_fails("service m {\n\tport = 10001\n\tbuiltin = tcpmux\n}\n"
	    "service a {\n\ttcpmux = true\n\tbuiltin = echo\n"
	    "\tproxy_protocol = v1\n" TRUSTED "}\n", ANYHOST, "t.conf:8: ",
	    "service 'a': proxy_protocol needs a port of the service's own: "
	    "a connection through tcpmux has no header read");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confproxy_versions),
		cmocka_unit_test(test_confproxy_timeout),
		cmocka_unit_test(test_confproxy_trusted),
		cmocka_unit_test(test_confproxy_bad_word),
		cmocka_unit_test(test_confproxy_not_tcp),
		cmocka_unit_test(test_confproxy_wait),
		cmocka_unit_test(test_confproxy_tcpmux),
		cmocka_unit_test(test_confproxy_no_trusted),
		cmocka_unit_test(test_confproxy_keys_alone),
		cmocka_unit_test(test_confproxy_bad_cidr),
		cmocka_unit_test(test_confproxy_defaults),
		cmocka_unit_test(test_confproxy_reload),
		cmocka_unit_test(test_confproxy_free),
		cmocka_unit_test(test_confproxy_one_message),
	};

	log_init(1, LOG_DEBUG, LOG_DAEMON);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
