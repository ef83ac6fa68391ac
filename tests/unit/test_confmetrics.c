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
 * Unit tests of the metrics keys (confmetrics.c): metrics =
 * "address:port" makes a tcp service named metrics with builtin =
 * metrics on that address and port, its allow list metrics_allow or
 * loopback, and none of the defaults section, since the endpoint is the
 * daemon's and not one of the file's services.  Each mistake must fail
 * the load with a "file:line:" at the line of the key that holds it,
 * the metrics line for the endpoint's own problems.  A service section
 * may use builtin = metrics too, on tcp or unix but not udp.  Messages
 * are read back from stderr, as in test_conf.c, and most loads run
 * under CONF_AS_USER|CONF_CHECK_ONLY so that the result does not depend
 * on who runs the test.
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

#include <setjmp.h>
#include <cmocka.h>

#include "portmuxd.h"
#include "confmsg.h"

/* Any host: the non-root rules, with "needs root" only a warning. */
#define ANYHOST		(CONF_AS_USER | CONF_CHECK_ONLY)

/* The tail of the message for a list entry that is no CIDR block. */
#define NOT_CIDR	"not an address or CIDR block"

/* The message of a value confval_split_hostport() rejects. */
#define HOSTPORT_WHY	"expected host:port, with an IPv6 address in " \
			"brackets: [2001:db8::1]:80"

static struct conf *load_ok(const char *, int, char **);
static const struct service *svc_get(const struct conf *, const char *);
static void	 assert_cidr(const struct cidr *, const char *, unsigned int);
static bool	 allows(const struct service *, const char *);

/* The load of text succeeds, and says nothing. */
static struct conf *
load_ok(const char *text, int flags, char **m)
{
	struct conf	*conf = msgs_load_ok(text, flags, m);

	if (**m != '\0') {
		print_error("loaded:\n%s\nbut said:\n%s", text, *m);
		fail();
	}
	return conf;
}

static const struct service *
svc_get(const struct conf *conf, const char *name)
{
	size_t	 i;

	for (i = 0; i < conf->nservices; i++)
		if (strcmp(conf->services[i].name, name) == 0)
			return &conf->services[i];
	fail_msg("no service %s", name);
	return NULL;
}

static void
assert_cidr(const struct cidr *c, const char *addr, unsigned int prefix)
{
	uint8_t	 want[16];
	int	 af = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(af, addr, want), 1);
	assert_int_equal(c->family, af);
	assert_int_equal(c->prefix, prefix);
	assert_memory_equal(c->addr, want, af == AF_INET ? 4 : 16);
}

/* Whether the service's own allow list lets addr in. */
static bool
allows(const struct service *svc, const char *addr)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':') != NULL) {
		sin6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, &sin6->sin6_addr),
		    1);
	} else {
		sin->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
	}
	return acl_match(&svc->allow, (struct sockaddr *)&ss);
}

/* The endpoint alone: a tcp metrics builtin on 127.0.0.1:9101. */
static void
test_confmetrics_v4(void **state __unused)
{
	const struct sockaddr_in	*sin;
	const struct service		*s;
	struct conf			*conf;
	struct in_addr			 want;
	char				*m;

	conf = load_ok("metrics = \"127.0.0.1:9101\"\n", ANYHOST, &m);
	assert_int_equal(conf->nservices, 1);
	s = svc_get(conf, "metrics");
	assert_int_equal(s->builtin, BUILTIN_METRICS);
	assert_int_equal(s->proto, PROTO_TCP);
	assert_int_equal(s->port, 9101);
	assert_string_equal(s->file, "t.conf");
	assert_int_equal(s->line, 1);
	assert_int_equal(s->naddrs, 1);
	sin = (const struct sockaddr_in *)&s->addrs[0].ss;
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(s->addrs[0].len, sizeof(*sin));
	assert_int_equal(ntohs(sin->sin_port), 9101);
	assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &want), 1);
	assert_memory_equal(&sin->sin_addr, &want, sizeof(want));
	assert_false(s->addrs[0].wildcard);
	/* Loopback only, by default: the counters say what runs here. */
	assert_int_equal(s->allow.n, 2);
	assert_cidr(&s->allow.v[0], "127.0.0.0", 8);
	assert_cidr(&s->allow.v[1], "::1", 128);
	assert_int_equal(s->deny.n, 0);
	assert_true(allows(s, "127.0.0.1"));
	assert_true(allows(s, "127.255.0.9"));
	assert_true(allows(s, "::1"));
	assert_false(allows(s, "10.0.0.1"));
	assert_false(allows(s, "::2"));
	/* It runs nothing. */
	assert_null(s->server);
	assert_null(s->redirect);
	assert_false(s->wait);
	conf_free(conf);
	free(m);
}

static void
test_confmetrics_v6(void **state __unused)
{
	const struct sockaddr_in6	*sin6;
	const struct service		*s;
	struct conf			*conf;
	struct in6_addr			 want;
	char				*m;

	conf = load_ok("metrics = \"[::1]:9101\"\n", ANYHOST, &m);
	s = svc_get(conf, "metrics");
	assert_int_equal(s->builtin, BUILTIN_METRICS);
	assert_int_equal(s->proto, PROTO_TCP);
	assert_int_equal(s->port, 9101);
	assert_int_equal(s->naddrs, 1);
	sin6 = (const struct sockaddr_in6 *)&s->addrs[0].ss;
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 9101);
	assert_int_equal(inet_pton(AF_INET6, "::1", &want), 1);
	assert_memory_equal(&sin6->sin6_addr, &want, sizeof(want));
	assert_int_equal(s->allow.n, 2);
	assert_cidr(&s->allow.v[0], "127.0.0.0", 8);
	assert_cidr(&s->allow.v[1], "::1", 128);
	conf_free(conf);
	free(m);
}

/*
 * The service starts at the metrics line, wherever that is, and an
 * error about it (here a port clash) points there.
 */
static void
test_confmetrics_line(void **state __unused)
{
	const struct service	*s;
	struct conf		*conf;
	char			*m;

	conf = load_ok("# services\nservice echo {\n\tport = 10007\n"
	    "\tbuiltin = echo\n}\n\nmetrics = \"127.0.0.1:9101\"\n", ANYHOST,
	    &m);
	assert_int_equal(conf->nservices, 2);
	s = svc_get(conf, "metrics");
	assert_int_equal(s->line, 7);
	assert_int_equal(svc_get(conf, "echo")->line, 2);
	conf_free(conf);
	free(m);
	msgs_load_fails("service echo {\n\tport = 9101\n"
	    "\taddress = {127.0.0.1}\n\tbuiltin = echo\n}\n"
	    "metrics = \"127.0.0.1:9101\"\n", ANYHOST, "t.conf:6: ",
	    "service 'metrics': tcp port 9101 on 127.0.0.1 overlaps");
}

/*
 * The defaults section is for the file's services: the endpoint keeps
 * the built-in values of every key, whatever defaults sets.
 */
static void
test_confmetrics_no_defaults(void **state __unused)
{
	const struct service	*s, *base, *echo;
	struct conf		*conf, *plain;
	char			*m;

	plain = load_ok("metrics = \"127.0.0.1:9101\"\n", ANYHOST, &m);
	free(m);
	base = svc_get(plain, "metrics");
	conf = load_ok("defaults {\n\tper_source = 3\n\tinstances = 5\n"
	    "\ttimeout = 3s\n\trate = 2/10s\n\tallow = {10.0.0.0/8}\n"
	    "\tdeny = {192.0.2.0/24}\n}\n"
	    "metrics = \"127.0.0.1:9101\"\n"
	    "service echo {\n\tport = 10007\n\tbuiltin = echo\n}\n", ANYHOST,
	    &m);
	s = svc_get(conf, "metrics");
	echo = svc_get(conf, "echo");
	/* The defaults took: echo has them. */
	assert_int_equal(echo->per_source, 3);
	assert_int_equal(echo->instances, 5);
	assert_int_equal(echo->timeout_ms, 3000);
	assert_int_equal(echo->rate.count, 2);
	assert_int_equal(echo->allow.n, 1);
	assert_int_equal(echo->deny.n, 1);
	/* The endpoint has none of them. */
	assert_true(base->per_source != 3);
	assert_int_equal(s->per_source, base->per_source);
	assert_int_equal(s->instances, base->instances);
	assert_int_equal(s->timeout_ms, base->timeout_ms);
	assert_int_equal(s->rate.count, base->rate.count);
	assert_int_equal(s->rate.window_ms, base->rate.window_ms);
	assert_int_equal(s->deny.n, 0);
	assert_int_equal(s->allow.n, 2);
	assert_cidr(&s->allow.v[0], "127.0.0.0", 8);
	assert_cidr(&s->allow.v[1], "::1", 128);
	assert_int_equal(s->line, 9);
	conf_free(conf);
	conf_free(plain);
	free(m);
}

/* metrics_allow replaces the loopback default; it does not add to it. */
static void
test_confmetrics_allow(void **state __unused)
{
	const struct service	*s;
	struct conf		*conf;
	char			*m;

	conf = load_ok("metrics_allow = {10.0.0.0/8, 2001:db8::/32, "
	    "192.0.2.7}\nmetrics = \"[::]:9101\"\n", ANYHOST, &m);
	s = svc_get(conf, "metrics");
	assert_int_equal(s->allow.n, 3);
	assert_cidr(&s->allow.v[0], "10.0.0.0", 8);
	assert_cidr(&s->allow.v[1], "2001:db8::", 32);
	assert_cidr(&s->allow.v[2], "192.0.2.7", 32);
	assert_true(allows(s, "10.1.2.3"));
	assert_true(allows(s, "2001:db8::5"));
	assert_true(allows(s, "192.0.2.7"));
	assert_false(allows(s, "192.0.2.8"));
	assert_false(allows(s, "127.0.0.1"));
	assert_false(allows(s, "::1"));
	assert_true(s->addrs[0].wildcard);
	conf_free(conf);
	free(m);
}

/* A name is refused: the endpoint binds an address, resolved by no one. */
static void
test_confmetrics_name(void **state __unused)
{
	msgs_load_fails("# the endpoint\nmetrics = \"localhost:9101\"\n",
	    ANYHOST, "t.conf:2: ", "metrics 'localhost:9101': 'localhost' is "
	    "not an IP address");
	msgs_load_fails("metrics = \"metrics.example:9101\"\n", ANYHOST,
	    "t.conf:1: ", "'metrics.example' is not an IP address");
}

static void
test_confmetrics_hostport(void **state __unused)
{
	static const char *const bad[] = { "127.0.0.1", "127.0.0.1:",
	    ":9101", "::1:9101", "[::1]9101", "[127.0.0.1]:9101", "" };
	char	 cfg[128];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(cfg, sizeof(cfg), "\nmetrics = \"%s\"\n",
		    bad[i]);
		msgs_load_fails(cfg, ANYHOST, "t.conf:2: ", HOSTPORT_WHY);
	}
}

static void
test_confmetrics_port(void **state __unused)
{
	msgs_load_fails("\nmetrics = \"127.0.0.1:0\"\n", ANYHOST,
	    "t.conf:2: ", "metrics '127.0.0.1:0': port '0' is neither 1 to "
	    "65535 nor a tcp service of /etc/services");
	msgs_load_fails("\nmetrics = \"127.0.0.1:70000\"\n", ANYHOST,
	    "t.conf:2: ", "port '70000'");
	msgs_load_fails("\nmetrics = \"[::1]:65536\"\n", ANYHOST,
	    "t.conf:2: ", "port '65536'");
	msgs_load_fails("\nmetrics = \"127.0.0.1:no-such-port\"\n", ANYHOST,
	    "t.conf:2: ", "port 'no-such-port'");
}

/* A service of the file named metrics clashes; the metrics line says so. */
static void
test_confmetrics_clash(void **state __unused)
{
	msgs_load_fails("service metrics {\n\tport = 10007\n"
	    "\tbuiltin = echo\n}\nmetrics = \"127.0.0.1:9101\"\n", ANYHOST,
	    "t.conf:5: ", "metrics: a service is named 'metrics' already");
	msgs_load_fails("metrics = \"127.0.0.1:9101\"\nservice metrics {\n"
	    "\tport = 9102\n\tbuiltin = metrics\n}\n", ANYHOST, "t.conf:1: ",
	    "a service is named 'metrics' already");
}

static void
test_confmetrics_allow_alone(void **state __unused)
{
	msgs_load_fails("service echo {\n\tport = 10007\n\tbuiltin = echo\n"
	    "}\nmetrics_allow = {10.0.0.0/8}\n", ANYHOST, "t.conf:5: ",
	    "metrics_allow needs metrics = \"address:port\"");
	msgs_load_fails("metrics_allow = {127.0.0.1}\n", ANYHOST,
	    "t.conf:1: ", "metrics_allow needs metrics");
	/* {} is no list at all, not "everyone". */
	msgs_load_fails("metrics = \"127.0.0.1:9101\"\nmetrics_allow = {}\n",
	    ANYHOST, "t.conf:2: ", "metrics_allow = {} would let anyone read "
	    "the metrics; to mean that, write {0.0.0.0/0, ::/0}");
}

static void
test_confmetrics_allow_bad(void **state __unused)
{
	msgs_load_fails("metrics = \"127.0.0.1:9101\"\n"
	    "metrics_allow = {10.0.0.0/33}\n", ANYHOST, "t.conf:2: ",
	    "metrics_allow '10.0.0.0/33': " NOT_CIDR);
	msgs_load_fails("metrics = \"127.0.0.1:9101\"\n"
	    "metrics_allow = {127.0.0.1, localhost}\n", ANYHOST, "t.conf:2: ",
	    "metrics_allow 'localhost': " NOT_CIDR);
	msgs_load_fails("metrics = \"127.0.0.1:9101\"\n"
	    "metrics_allow = {10.0.0.1/8}\n", ANYHOST, "t.conf:2: ",
	    "metrics_allow '10.0.0.1/8'");
}

/* builtin = metrics in a section: tcp and unix load, udp does not. */
static void
test_confmetrics_builtin(void **state __unused)
{
	const struct service	*s;
	struct conf		*conf;
	char			*m;

	msgs_load_fails("service m {\n\tprotocol = udp\n\tport = 9101\n"
	    "\tbuiltin = metrics\n}\n", ANYHOST, "t.conf:4: ",
	    "service 'm': builtin metrics needs protocol tcp or unix");
	conf = load_ok("service m {\n\tprotocol = unix\n"
	    "\tpath = /run/portmuxd-metrics.sock\n\tbuiltin = metrics\n}\n",
	    ANYHOST, &m);
	s = svc_get(conf, "m");
	assert_int_equal(s->builtin, BUILTIN_METRICS);
	assert_int_equal(s->proto, PROTO_UNIX);
	assert_string_equal(s->path, "/run/portmuxd-metrics.sock");
	/* Only metrics = gets the loopback list. */
	assert_int_equal(s->allow.n, 0);
	conf_free(conf);
	free(m);
	/* Next to the endpoint, under another name. */
	conf = load_ok("metrics = \"127.0.0.1:9101\"\nservice scrape {\n"
	    "\tport = 9102\n\taddress = {127.0.0.1}\n\tbuiltin = metrics\n"
	    "}\n", ANYHOST, &m);
	assert_int_equal(conf->nservices, 2);
	assert_int_equal(svc_get(conf, "scrape")->builtin, BUILTIN_METRICS);
	assert_int_equal(svc_get(conf, "scrape")->port, 9102);
	assert_int_equal(svc_get(conf, "metrics")->port, 9101);
	conf_free(conf);
	free(m);
	/* A section named metrics is fine without metrics =. */
	conf = load_ok("service metrics {\n\tport = 9101\n"
	    "\tbuiltin = metrics\n}\n", ANYHOST, &m);
	assert_int_equal(svc_get(conf, "metrics")->builtin, BUILTIN_METRICS);
	conf_free(conf);
	free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confmetrics_v4),
		cmocka_unit_test(test_confmetrics_v6),
		cmocka_unit_test(test_confmetrics_line),
		cmocka_unit_test(test_confmetrics_no_defaults),
		cmocka_unit_test(test_confmetrics_allow),
		cmocka_unit_test(test_confmetrics_name),
		cmocka_unit_test(test_confmetrics_hostport),
		cmocka_unit_test(test_confmetrics_port),
		cmocka_unit_test(test_confmetrics_clash),
		cmocka_unit_test(test_confmetrics_allow_alone),
		cmocka_unit_test(test_confmetrics_allow_bad),
		cmocka_unit_test(test_confmetrics_builtin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
