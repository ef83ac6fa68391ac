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
 * Unit tests of localsrc.c: which datagram sources could be another UDP
 * builtin of this daemon.  Only UDP builtin ports count, any loopback
 * address and any address of the host does, IPv4-mapped sources are seen
 * as IPv4, and the address list is fetched at most once per second.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ifaddrs.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "localsrc.h"
#include "portmuxd.h"

static const struct sockaddr *
src(struct sockaddr_storage *ss, const char *addr, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
	}
	return (const struct sockaddr *)ss;
}

/* UDP echo 21007 and daytime 21013, TCP echo 21019, a UDP program 21020. */
static void
setup_conf(struct conf *conf, struct service *svc)
{
	memset(conf, 0, sizeof(*conf));
	memset(svc, 0, 4 * sizeof(*svc));
	svc[0].proto = PROTO_UDP, svc[0].port = 21007;
	svc[0].builtin = BUILTIN_ECHO;
	svc[1].proto = PROTO_UDP, svc[1].port = 21013;
	svc[1].builtin = BUILTIN_DAYTIME;
	svc[2].proto = PROTO_TCP, svc[2].port = 21019;
	svc[2].builtin = BUILTIN_ECHO;
	svc[3].proto = PROTO_UDP, svc[3].port = 21020;
	svc[3].builtin = BUILTIN_NONE;
	conf->services = svc;
	conf->nservices = 4;
}

static void
test_ports(void **state)
{
	struct conf		 conf;
	struct service		 svc[4];
	struct localsrc		 ls;

	(void)state;
	setup_conf(&conf, svc);
	localsrc_init(&ls, &conf);
	assert_true(localsrc_port(&ls, 21007));
	assert_true(localsrc_port(&ls, 21013));
	assert_false(localsrc_port(&ls, 21019));	/* TCP */
	assert_false(localsrc_port(&ls, 21020));	/* a program */
	assert_false(localsrc_port(&ls, 21008));
	assert_false(localsrc_port(&ls, 0));
	assert_false(localsrc_port(&ls, 65535));
	localsrc_free(&ls);
}

static void
test_loopback_sources(void **state)
{
	struct conf		 conf;
	struct service		 svc[4];
	struct localsrc		 ls;
	struct sockaddr_storage	 ss;

	(void)state;
	setup_conf(&conf, svc);
	localsrc_init(&ls, &conf);
	assert_true(localsrc_loop(&ls, src(&ss, "127.0.0.1", 21013), 1000));
	assert_true(localsrc_loop(&ls, src(&ss, "127.0.0.1", 21007), 1000));
	assert_true(localsrc_loop(&ls, src(&ss, "127.45.6.7", 21013), 1000));
	assert_true(localsrc_loop(&ls, src(&ss, "::1", 21013), 1000));
	assert_true(localsrc_loop(&ls, src(&ss, "::ffff:127.0.0.1", 21007),
	    1000));
	/* A port that is no UDP builtin of ours is a client. */
	assert_false(localsrc_loop(&ls, src(&ss, "127.0.0.1", 21019), 1000));
	assert_false(localsrc_loop(&ls, src(&ss, "127.0.0.1", 21020), 1000));
	assert_false(localsrc_loop(&ls, src(&ss, "127.0.0.1", 40000), 1000));
	/* A remote address on a builtin's port is a client too. */
	assert_false(localsrc_loop(&ls, src(&ss, "198.51.100.7", 21013), 1000));
	assert_false(localsrc_loop(&ls, src(&ss, "::ffff:198.51.100.7", 21013),
	    1000));
	assert_false(localsrc_loop(&ls, src(&ss, "2001:db8::7", 21013), 1000));
	localsrc_free(&ls);
}

static void
test_address_list(void **state)
{
	struct sockaddr_storage	 list[3], ss;

	(void)state;
	(void)src(&list[0], "192.0.2.1", 0);
	(void)src(&list[1], "2001:db8::1", 53);
	(void)src(&list[2], "10.0.0.1", 0);
	((struct sockaddr_in6 *)&list[1])->sin6_scope_id = 3;
	assert_true(localsrc_in(src(&ss, "192.0.2.1", 21013), list, 3));
	assert_true(localsrc_in(src(&ss, "10.0.0.1", 1), list, 3));
	/* Port and scope aside. */
	assert_true(localsrc_in(src(&ss, "2001:db8::1", 21013), list, 3));
	assert_false(localsrc_in(src(&ss, "192.0.2.2", 21013), list, 3));
	assert_false(localsrc_in(src(&ss, "2001:db8::2", 21013), list, 3));
	assert_false(localsrc_in(src(&ss, "::ffff:192.0.2.1", 21013), list,
	    3));	/* normalized before, by localsrc_loop */
	assert_false(localsrc_in(src(&ss, "192.0.2.1", 21013), list, 0));
}

/* The host's own non-loopback addresses are sources of loops too. */
static void
test_host_addresses(void **state)
{
	struct conf		 conf;
	struct service		 svc[4];
	struct localsrc		 ls;
	struct ifaddrs		*ifa, *p;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 checked = 0;

	(void)state;
	setup_conf(&conf, svc);
	localsrc_init(&ls, &conf);
	assert_int_equal(getifaddrs(&ifa), 0);
	for (p = ifa; p != NULL; p = p->ifa_next) {
		if (p->ifa_addr == NULL || (p->ifa_addr->sa_family != AF_INET &&
		    p->ifa_addr->sa_family != AF_INET6))
			continue;
		len = p->ifa_addr->sa_family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, p->ifa_addr, len);
		((struct sockaddr_in *)&ss)->sin_port = htons(21013);
		assert_true(localsrc_loop(&ls, (struct sockaddr *)&ss, 5000));
		((struct sockaddr_in *)&ss)->sin_port = htons(40000);
		assert_false(localsrc_loop(&ls, (struct sockaddr *)&ss, 5000));
		checked++;
	}
	freeifaddrs(ifa);
	/* lo at least: 127.0.0.1 is always there. */
	assert_true(checked > 0);
	localsrc_free(&ls);
}

/* A flood from a remote source on a builtin port asks once a second. */
static void
test_refresh_rate(void **state)
{
	struct conf		 conf;
	struct service		 svc[4];
	struct localsrc		 ls;
	struct sockaddr_storage	 ss;

	(void)state;
	setup_conf(&conf, svc);
	localsrc_init(&ls, &conf);
	assert_false(ls.fetched);
	/* Loopback and other ports never need the list. */
	(void)localsrc_loop(&ls, src(&ss, "127.0.0.1", 21013), 5000);
	(void)localsrc_loop(&ls, src(&ss, "198.51.100.7", 40000), 5000);
	assert_false(ls.fetched);
	(void)localsrc_loop(&ls, src(&ss, "198.51.100.7", 21013), 5000);
	assert_true(ls.fetched);
	assert_int_equal(ls.fetched_ms, 5000);
	(void)localsrc_loop(&ls, src(&ss, "198.51.100.7", 21013), 5999);
	assert_int_equal(ls.fetched_ms, 5000);
	(void)localsrc_loop(&ls, src(&ss, "198.51.100.7", 21013), 6000);
	assert_int_equal(ls.fetched_ms, 6000);
	localsrc_free(&ls);
}

/* A configuration without UDP builtins checks nothing at all. */
static void
test_no_builtins(void **state)
{
	struct conf		 conf;
	struct service		 svc[4];
	struct localsrc		 ls;
	struct sockaddr_storage	 ss;

	(void)state;
	setup_conf(&conf, svc);
	conf.services = &svc[2];
	conf.nservices = 2;
	localsrc_init(&ls, &conf);
	assert_false(ls.any);
	assert_false(localsrc_loop(&ls, src(&ss, "127.0.0.1", 21019), 1000));
	assert_false(localsrc_loop(&ls, src(&ss, "127.0.0.1", 21013), 1000));
	localsrc_free(&ls);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_loopback_sources),
		cmocka_unit_test(test_address_list),
		cmocka_unit_test(test_host_addresses),
		cmocka_unit_test(test_refresh_rate),
		cmocka_unit_test(test_no_builtins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
