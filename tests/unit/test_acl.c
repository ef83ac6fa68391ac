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
 * Unit tests of acl.c, against DESIGN.md ("ACLs"): a client is accepted
 * only if it matches no deny (global or service) and, at each level
 * whose allow is non-empty, matches that allow.  IPv4-mapped IPv6 peers
 * are matched as the IPv4 address they are.  CIDRs are built by hand, as
 * conf.c would leave them, so this test does not depend on the parser.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "portmuxd.h"

static struct cidr
cidr(const char *addr, unsigned int prefix)
{
	struct cidr	 c;

	memset(&c, 0, sizeof(c));
	c.prefix = prefix;
	if (strchr(addr, ':') != NULL) {
		c.family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, c.addr), 1);
	} else {
		c.family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, c.addr), 1);
	}
	return c;
}

/* A peer address; "::ffff:a.b.c.d" stays an AF_INET6 sockaddr. */
static const struct sockaddr *
peer(struct sockaddr_storage *ss, const char *addr)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(40000);
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(40000);
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
	}
	return (const struct sockaddr *)ss;
}

static bool
match(const char *net, unsigned int prefix, const char *addr)
{
	struct cidr		 c = cidr(net, prefix);
	struct sockaddr_storage	 ss;

	return cidr_match(&c, peer(&ss, addr));
}

static void
test_acl_cidr_v4(void **state)
{
	(void)state;
	assert_true(match("192.0.2.0", 24, "192.0.2.0"));
	assert_true(match("192.0.2.0", 24, "192.0.2.255"));
	assert_false(match("192.0.2.0", 24, "192.0.3.0"));
	assert_false(match("192.0.2.0", 24, "192.0.1.255"));
	assert_true(match("10.0.0.0", 8, "10.255.255.255"));
	assert_false(match("10.0.0.0", 8, "11.0.0.0"));
	assert_true(match("172.16.0.0", 12, "172.31.255.255"));
	assert_false(match("172.16.0.0", 12, "172.32.0.0"));
	assert_false(match("172.16.0.0", 12, "172.15.255.255"));
}

static void
test_acl_cidr_v4_host_and_any(void **state)
{
	(void)state;
	assert_true(match("192.0.2.7", 32, "192.0.2.7"));
	assert_false(match("192.0.2.7", 32, "192.0.2.6"));
	assert_false(match("192.0.2.7", 32, "192.0.2.8"));
	assert_true(match("0.0.0.0", 0, "0.0.0.0"));
	assert_true(match("0.0.0.0", 0, "255.255.255.255"));
	assert_true(match("0.0.0.0", 0, "127.0.0.1"));
	/* /0 of one family says nothing about the other. */
	assert_false(match("0.0.0.0", 0, "2001:db8::1"));
	assert_false(match("0.0.0.0", 0, "::"));
}

/* Prefixes that end inside a byte. */
static void
test_acl_cidr_v4_odd_prefix(void **state)
{
	(void)state;
	assert_true(match("192.0.2.0", 23, "192.0.2.0"));
	assert_true(match("192.0.2.0", 23, "192.0.3.255"));
	assert_false(match("192.0.2.0", 23, "192.0.4.0"));
	assert_false(match("192.0.2.0", 23, "192.0.1.255"));
	assert_true(match("192.0.2.128", 25, "192.0.2.200"));
	assert_false(match("192.0.2.128", 25, "192.0.2.127"));
	assert_true(match("192.0.2.6", 31, "192.0.2.7"));
	assert_false(match("192.0.2.6", 31, "192.0.2.8"));
	assert_false(match("192.0.2.6", 31, "192.0.2.5"));
	assert_true(match("128.0.0.0", 1, "200.1.2.3"));
	assert_false(match("128.0.0.0", 1, "127.255.255.255"));
	assert_true(match("0.0.0.0", 1, "127.255.255.255"));
	assert_true(match("198.18.0.0", 15, "198.19.255.255"));
	assert_false(match("198.18.0.0", 15, "198.20.0.0"));
	assert_false(match("198.18.0.0", 15, "198.17.255.255"));
}

static void
test_acl_cidr_v6(void **state)
{
	(void)state;
	assert_true(match("2001:db8::", 32, "2001:db8:ffff::1"));
	assert_false(match("2001:db8::", 32, "2001:db9::1"));
	assert_true(match("2001:db8:1:2::", 64, "2001:db8:1:2:ffff::"));
	assert_false(match("2001:db8:1:2::", 64, "2001:db8:1:3::"));
	assert_true(match("::1", 128, "::1"));
	assert_false(match("::1", 128, "::2"));
	assert_false(match("::1", 128, "::"));
	assert_true(match("::", 0, "::"));
	assert_true(match("::", 0, "ffff:ffff::1"));
	assert_false(match("::", 0, "192.0.2.1"));
	assert_false(match("2001:db8::", 32, "32.1.13.184"));
}

static void
test_acl_cidr_v6_odd_prefix(void **state)
{
	(void)state;
	/* /127: a point-to-point pair. */
	assert_true(match("2001:db8::", 127, "2001:db8::"));
	assert_true(match("2001:db8::", 127, "2001:db8::1"));
	assert_false(match("2001:db8::", 127, "2001:db8::2"));
	assert_false(match("2001:db8::2", 127, "2001:db8::1"));
	assert_true(match("2001:db8::2", 127, "2001:db8::3"));
	/* /65 and /7 (fc00::/7, unique local). */
	assert_true(match("2001:db8::", 65, "2001:db8::7fff:ffff:ffff:ffff"));
	assert_false(match("2001:db8::", 65, "2001:db8::8000:0:0:0"));
	assert_true(match("fc00::", 7, "fdff::1"));
	assert_false(match("fc00::", 7, "fe00::1"));
	assert_false(match("fc00::", 7, "fb00::1"));
}

/* A dual-stack socket must not let an IPv4 client dodge an IPv4 rule. */
static void
test_acl_cidr_mapped(void **state)
{
	(void)state;
	assert_true(match("192.0.2.0", 24, "::ffff:192.0.2.7"));
	assert_false(match("192.0.2.0", 24, "::ffff:192.0.3.7"));
	assert_true(match("192.0.2.7", 32, "::ffff:192.0.2.7"));
	assert_true(match("0.0.0.0", 0, "::ffff:10.1.2.3"));
	assert_true(match("127.0.0.0", 8, "::ffff:127.0.0.1"));
	/* Matched as IPv4, so an IPv6 catch-all does not cover it. */
	assert_false(match("::", 0, "::ffff:192.0.2.7"));
	/* Only ::ffff:0:0/96 is mapped; the old compatible form is not. */
	assert_false(match("192.0.2.0", 24, "::192.0.2.7"));
	assert_false(match("192.0.2.0", 24, "64:ff9b::192.0.2.7"));
}

static void
test_acl_cidr_other_family(void **state)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&ss;
	struct cidr		 any4 = cidr("0.0.0.0", 0);
	struct cidr		 any6 = cidr("::", 0);

	(void)state;
	memset(&ss, 0, sizeof(ss));
	sun->sun_family = AF_UNIX;
	assert_false(cidr_match(&any4, (struct sockaddr *)&ss));
	assert_false(cidr_match(&any6, (struct sockaddr *)&ss));
}

static void
test_acl_match_list(void **state)
{
	struct cidr		 v[3];
	struct acl		 acl = { v, 3 }, empty = { NULL, 0 };
	struct sockaddr_storage	 ss;

	(void)state;
	v[0] = cidr("10.0.0.0", 8);
	v[1] = cidr("2001:db8::", 32);
	v[2] = cidr("192.0.2.7", 32);
	assert_true(acl_match(&acl, peer(&ss, "10.1.1.1")));
	assert_true(acl_match(&acl, peer(&ss, "2001:db8::5")));
	assert_true(acl_match(&acl, peer(&ss, "192.0.2.7")));
	assert_true(acl_match(&acl, peer(&ss, "::ffff:192.0.2.7")));
	assert_false(acl_match(&acl, peer(&ss, "192.0.2.8")));
	assert_false(acl_match(&acl, peer(&ss, "2001:db9::5")));
	/* An empty list matches nobody; acl_permit reads it as "all". */
	assert_false(acl_match(&empty, peer(&ss, "10.1.1.1")));
}

struct fixture {
	struct conf	 conf;
	struct service	 svc;
	struct cidr	 gallow[2], gdeny[2], sallow[2], sdeny[2];
};

static struct fixture	 fx;

static int
fx_setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	fx.svc.name = (char *)"echo";
	fx.svc.proto = PROTO_TCP;
	fx.conf.services = &fx.svc;
	fx.conf.nservices = 1;
	fx.conf.allow.v = fx.gallow;
	fx.conf.deny.v = fx.gdeny;
	fx.svc.allow.v = fx.sallow;
	fx.svc.deny.v = fx.sdeny;
	return 0;
}

static bool
permit(const char *addr)
{
	struct sockaddr_storage	 ss;

	return acl_permit(&fx.conf, &fx.svc, peer(&ss, addr));
}

static void
test_acl_permit_empty(void **state)
{
	(void)state;
	assert_true(permit("192.0.2.1"));
	assert_true(permit("2001:db8::1"));
	assert_true(permit("::ffff:127.0.0.1"));
}

static void
test_acl_permit_global_deny(void **state)
{
	(void)state;
	fx.gdeny[0] = cidr("198.51.100.0", 24);
	fx.conf.deny.n = 1;
	assert_false(permit("198.51.100.9"));
	assert_false(permit("::ffff:198.51.100.9"));
	assert_true(permit("198.51.101.9"));
	/* A service allow cannot re-admit a globally denied client. */
	fx.sallow[0] = cidr("198.51.100.0", 24);
	fx.svc.allow.n = 1;
	assert_false(permit("198.51.100.9"));
	assert_false(permit("198.51.101.9"));
}

static void
test_acl_permit_service_deny(void **state)
{
	(void)state;
	fx.sdeny[0] = cidr("2001:db8:bad::", 48);
	fx.svc.deny.n = 1;
	assert_false(permit("2001:db8:bad::1"));
	assert_true(permit("2001:db8:bade::1"));
	/* A global allow cannot re-admit it either. */
	fx.gallow[0] = cidr("2001:db8::", 32);
	fx.conf.allow.n = 1;
	assert_false(permit("2001:db8:bad::1"));
	assert_true(permit("2001:db8:bade::1"));
	assert_false(permit("2001:db9::1"));
}

/* Deny wins over an allow at the same level. */
static void
test_acl_permit_deny_wins(void **state)
{
	(void)state;
	fx.sallow[0] = cidr("192.0.2.0", 24);
	fx.svc.allow.n = 1;
	fx.sdeny[0] = cidr("192.0.2.7", 32);
	fx.svc.deny.n = 1;
	assert_false(permit("192.0.2.7"));
	assert_false(permit("::ffff:192.0.2.7"));
	assert_true(permit("192.0.2.8"));
	assert_false(permit("192.0.3.8"));

	fx_setup(NULL);
	fx.gallow[0] = cidr("0.0.0.0", 0);
	fx.conf.allow.n = 1;
	fx.gdeny[0] = cidr("0.0.0.0", 0);
	fx.conf.deny.n = 1;
	assert_false(permit("192.0.2.8"));
}

/* A non-empty allow at each level must match: both, not either. */
static void
test_acl_permit_both_levels(void **state)
{
	(void)state;
	fx.gallow[0] = cidr("10.0.0.0", 8);
	fx.gallow[1] = cidr("2001:db8::", 32);
	fx.conf.allow.n = 2;
	fx.sallow[0] = cidr("10.1.0.0", 16);
	fx.svc.allow.n = 1;
	assert_true(permit("10.1.2.3"));
	assert_true(permit("::ffff:10.1.2.3"));
	/* Global yes, service no. */
	assert_false(permit("10.2.2.3"));
	assert_false(permit("2001:db8::1"));
	/* Service yes would need global yes too. */
	fx.sallow[1] = cidr("192.0.2.0", 24);
	fx.svc.allow.n = 2;
	assert_false(permit("192.0.2.1"));
	/* An empty service allow leaves only the global one. */
	fx.svc.allow.n = 0;
	assert_true(permit("10.2.2.3"));
	assert_true(permit("2001:db8::1"));
	assert_false(permit("192.0.2.1"));
	/* And the other way round. */
	fx.conf.allow.n = 0;
	fx.svc.allow.n = 2;
	assert_true(permit("192.0.2.1"));
	assert_true(permit("10.1.0.1"));
	assert_false(permit("10.2.0.1"));
}

/* An allow list of one family shuts out the other family entirely. */
static void
test_acl_permit_family_allow(void **state)
{
	(void)state;
	fx.sallow[0] = cidr("127.0.0.0", 8);
	fx.svc.allow.n = 1;
	assert_true(permit("127.0.0.1"));
	assert_true(permit("::ffff:127.0.0.1"));
	assert_false(permit("::1"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acl_cidr_v4),
		cmocka_unit_test(test_acl_cidr_v4_host_and_any),
		cmocka_unit_test(test_acl_cidr_v4_odd_prefix),
		cmocka_unit_test(test_acl_cidr_v6),
		cmocka_unit_test(test_acl_cidr_v6_odd_prefix),
		cmocka_unit_test(test_acl_cidr_mapped),
		cmocka_unit_test(test_acl_cidr_other_family),
		cmocka_unit_test(test_acl_match_list),
		cmocka_unit_test_setup(test_acl_permit_empty, fx_setup),
		cmocka_unit_test_setup(test_acl_permit_global_deny, fx_setup),
		cmocka_unit_test_setup(test_acl_permit_service_deny, fx_setup),
		cmocka_unit_test_setup(test_acl_permit_deny_wins, fx_setup),
		cmocka_unit_test_setup(test_acl_permit_both_levels, fx_setup),
		cmocka_unit_test_setup(test_acl_permit_family_allow, fx_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
