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
 * The ban table (ban.c): a full table refuses new bans and never evicts
 * a running one, lookups try every prefix in use, an IPv4-mapped peer is
 * banned as the IPv4 address it is, and expiry (backward-shift deletion)
 * keeps every remaining ban findable.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "portmuxd.h"

static struct sockaddr_storage
addr(const char *ip)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(40000);
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(40000);
	}
	return ss;
}

static struct srckey
group(const char *ip, unsigned int p4, unsigned int p6)
{
	struct sockaddr_storage	 ss = addr(ip);
	struct srckey		 k;

	limit_group((struct sockaddr *)&ss, p4, p6, &k);
	return k;
}

static bool
banned(const struct bantab *t, const char *ip, uint64_t now)
{
	struct sockaddr_storage	 ss = addr(ip);

	return ban_find(t, (struct sockaddr *)&ss, now) != NULL;
}

static void
test_ban_add_find(void **state __unused)
{
	struct bantab	 t;
	struct srckey	 k = group("192.0.2.7", 24, 64);

	assert_int_equal(ban_init(&t, 8, 1), 0);
	assert_false(banned(&t, "192.0.2.9", 100));
	assert_int_equal(ban_add(&t, &k, 1000, BAN_RATE, 100), 0);
	assert_true(banned(&t, "192.0.2.9", 100));	/* same /24 */
	assert_false(banned(&t, "192.0.3.9", 100));
	assert_false(banned(&t, "192.0.2.9", 1000));	/* over at until */
	/* Again: not a new ban, its end pushed out. */
	assert_int_equal(ban_add(&t, &k, 2000, BAN_RATE, 200), 1);
	assert_true(banned(&t, "192.0.2.9", 1500));
	assert_int_equal(t.count, 1);
	ban_clear(&t);
}

/* A ban over but not swept yet is a new ban when it comes again. */
static void
test_ban_over_is_new(void **state __unused)
{
	struct bantab	 t;
	struct srckey	 k = group("198.51.100.1", 32, 64);

	assert_int_equal(ban_init(&t, 8, 1), 0);
	assert_int_equal(ban_add(&t, &k, 1000, BAN_RATE, 0), 0);
	assert_int_equal(ban_add(&t, &k, 5000, BAN_REFUSED, 1500), 0);
	assert_true(banned(&t, "198.51.100.1", 4000));
	ban_clear(&t);
}

/* Full: new bans are refused, no running ban is evicted. */
static void
test_ban_full_never_evicts(void **state __unused)
{
	struct bantab	 t;
	struct srckey	 k;
	char		 ip[32];
	int		 i;

	assert_int_equal(ban_init(&t, 4, 7), 0);
	for (i = 0; i < 4; i++) {
		(void)snprintf(ip, sizeof(ip), "203.0.113.%d", i + 1);
		k = group(ip, 32, 64);
		assert_int_equal(ban_add(&t, &k, 10000, BAN_RATE, 0), 0);
	}
	for (i = 0; i < 50; i++) {
		(void)snprintf(ip, sizeof(ip), "10.0.0.%d", i + 1);
		k = group(ip, 32, 64);
		assert_int_equal(ban_add(&t, &k, 10000, BAN_RATE, 0), -1);
	}
	assert_int_equal(t.count, 4);
	for (i = 0; i < 4; i++) {
		(void)snprintf(ip, sizeof(ip), "203.0.113.%d", i + 1);
		assert_true(banned(&t, ip, 5000));
	}
	assert_false(banned(&t, "10.0.0.1", 5000));
	ban_clear(&t);
}

/* Bans of different prefixes, IPv6 by /64, mapped peers as IPv4. */
static void
test_ban_prefixes_and_families(void **state __unused)
{
	struct bantab	 t;
	struct srckey	 a = group("2001:db8:1:2::5", 32, 64);
	struct srckey	 b = group("192.0.2.77", 32, 64);
	struct srckey	 c = group("198.51.100.9", 16, 64);

	assert_int_equal(ban_init(&t, 16, 3), 0);
	assert_int_equal(ban_add(&t, &a, 100, BAN_RATE, 0), 0);
	assert_int_equal(ban_add(&t, &b, 100, BAN_RATE, 0), 0);
	assert_int_equal(ban_add(&t, &c, 100, BAN_REFUSED, 0), 0);
	assert_true(banned(&t, "2001:db8:1:2:ffff::1", 50));
	assert_false(banned(&t, "2001:db8:1:3::5", 50));
	assert_true(banned(&t, "::ffff:192.0.2.77", 50));
	assert_false(banned(&t, "192.0.2.78", 50));
	assert_true(banned(&t, "198.51.7.7", 50));	/* the /16 */
	assert_true(banned(&t, "::ffff:198.51.200.1", 50));
	ban_clear(&t);
}

static int	 expired;

static void
count_cb(const struct banent *b __unused, void *arg __unused)
{
	expired++;
}

/*
 * Expiry removes exactly the bans that are over and keeps every other
 * one findable, even in runs that wrap around the table.
 */
static void
test_ban_expire_keeps_the_rest(void **state __unused)
{
	struct bantab	 t;
	struct srckey	 k;
	char		 ip[32];
	int		 i;

	assert_int_equal(ban_init(&t, 64, 11), 0);
	for (i = 0; i < 64; i++) {
		(void)snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 8, i % 8 + 1);
		k = group(ip, 32, 64);
		/* Every other ban ends at 100, the rest at 1000. */
		assert_int_equal(ban_add(&t, &k, i % 2 ? 100 : 1000, BAN_RATE,
		    0), 0);
	}
	expired = 0;
	assert_int_equal(ban_expire(&t, 500, count_cb, NULL), 32);
	assert_int_equal(expired, 32);
	assert_int_equal(t.count, 32);
	for (i = 0; i < 64; i++) {
		(void)snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 8, i % 8 + 1);
		if (i % 2)
			assert_false(banned(&t, ip, 500));
		else
			assert_true(banned(&t, ip, 500));
	}
	/* Room again for new bans. */
	k = group("172.16.0.1", 32, 64);
	assert_int_equal(ban_add(&t, &k, 2000, BAN_RATE, 500), 0);
	assert_int_equal(ban_expire(&t, 5000, NULL, NULL), 33);
	assert_int_equal(t.count, 0);
	assert_false(banned(&t, "10.1.0.2", 5000));
	ban_clear(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ban_add_find),
		cmocka_unit_test(test_ban_over_is_new),
		cmocka_unit_test(test_ban_full_never_evicts),
		cmocka_unit_test(test_ban_prefixes_and_families),
		cmocka_unit_test(test_ban_expire_keeps_the_rest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
