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
 * Unit tests of confhint.c: the advice added to a message when an admin
 * brings a habit from xinetd or inetd (portmux.conf(5) "Migrating from
 * inetd"), or trips on libconfuse's syntax.  Each hint must say what the
 * entry means here and what to write instead; entries that are fine
 * must get none.
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "portmuxd.h"

#define assert_contains(s, t) do {					\
	if (strstr((s), (t)) == NULL) {					\
		print_error("\"%s\" not in \"%s\"\n", (t), (s));	\
		fail();							\
	}								\
} while (0)

static void
test_confhint_xinetd_keys(void **state __unused)
{
	const char	*h;

	assert_non_null(h = confhint_key("only_from"));
	assert_contains(h, "allow");
	assert_non_null(h = confhint_key("no_access"));
	assert_contains(h, "deny");
	assert_non_null(h = confhint_key("socket_type"));
	assert_contains(h, "protocol = tcp");
	assert_non_null(h = confhint_key("server_args"));
	assert_contains(h, "argv[0] first");
	assert_non_null(h = confhint_key("cps"));
	assert_contains(h, "no pause");
	assert_non_null(h = confhint_key("deny_time"));
	assert_contains(h, "no direct equivalent");
	assert_non_null(h = confhint_key("flags"));
	assert_contains(h, "SENSOR is builtin = trap");
	assert_non_null(h = confhint_key("max_load"));
	assert_contains(h, "no equivalent");
	assert_non_null(h = confhint_key("rlimit_files"));
	assert_contains(h, "rlimit_nofile");
	/* xinetd's redirect = 10.0.1.1 23: the port becomes a key. */
	assert_non_null(h = confhint_key("23"));
	assert_contains(h, "redirect = \"10.0.1.1:23\"");
	assert_null(confhint_key("23a"));
	/* Keys of our own, and words nobody uses, get no hint. */
	assert_null(confhint_key("redirect"));
	assert_null(confhint_key("allow"));
	assert_null(confhint_key("frobnicate"));
	assert_null(confhint_key(""));
}

/* timeout = 5 m: the unit becomes a key of its own. */
static void
test_confhint_unit_apart(void **state __unused)
{
	const char	*units[] = { "s", "m", "h", "K", "M", "G" };
	size_t		 i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		assert_contains(confhint_key(units[i]), "without a space");
	assert_null(confhint_key("mm"));
}

static void
test_confhint_cidr_habits(void **state __unused)
{
	char	 buf[512];

	assert_true(confhint_cidr("allow", "10.1.0.0", buf, sizeof(buf)));
	assert_contains(buf, "single host 10.1.0.0/32 here");
	assert_contains(buf, "write 10.1.0.0/16");
	assert_true(confhint_cidr("allow", "10.0.0.0", buf, sizeof(buf)));
	assert_contains(buf, "write 10.0.0.0/8");
	assert_true(confhint_cidr("deny", "192.168.1.0", buf, sizeof(buf)));
	assert_contains(buf, "deny '192.168.1.0'");
	assert_contains(buf, "write 192.168.1.0/24");
	assert_true(confhint_cidr("allow", "0.0.0.0", buf, sizeof(buf)));
	assert_contains(buf, "no client has");
	assert_contains(buf, "0.0.0.0/0");
	assert_contains(buf, "leave allow empty");
	assert_true(confhint_cidr("deny", "0.0.0.0", buf, sizeof(buf)));
	assert_true(strstr(buf, "leave allow empty") == NULL);
	assert_true(confhint_cidr("allow", "::", buf, sizeof(buf)));
	assert_contains(buf, "::/0");
	/* A host, a network with its prefix, IPv6: nothing to say. */
	assert_false(confhint_cidr("allow", "10.1.2.3", buf, sizeof(buf)));
	assert_false(confhint_cidr("allow", "10.1.0.0/16", buf, sizeof(buf)));
	assert_false(confhint_cidr("allow", "0.0.0.0/0", buf, sizeof(buf)));
	assert_false(confhint_cidr("allow", "2001:db8::", buf, sizeof(buf)));
	assert_false(confhint_cidr("allow", "::1", buf, sizeof(buf)));
}

/* off: where token starts in text. */
static bool
token_hint(const char *text, const char *token, char *buf, size_t size)
{
	const char	*p = strstr(text, token);

	assert_non_null(p);
	return confhint_token(text, strlen(text), (size_t)(p - text), token,
	    buf, size);
}

static void
test_confhint_token_comma(void **state __unused)
{
	char	 buf[512];

	assert_true(token_hint("service x {\n allow = {127.0.0.1 10.0.0.0/8}"
	    "\n}\n", "10.0.0.0/8", buf, sizeof(buf)));
	assert_contains(buf, "separated by commas: write 127.0.0.1, "
	    "10.0.0.0/8");
	/* Across lines. */
	assert_true(token_hint("x {\n env = {\n \"A=1\"\n \"B=2\"\n }\n}\n",
	    "\"B=2\"", buf, sizeof(buf)));
	assert_contains(buf, "separated by commas");
	/* Not in a list: a section's brace, or right after '='. */
	assert_false(token_hint("service x {\n port 7\n}\n", "7", buf,
	    sizeof(buf)));
	assert_false(token_hint("service x {\n port = = 7\n}\n", "= 7", buf,
	    sizeof(buf)));
}

static void
test_confhint_token_equals(void **state __unused)
{
	const char	*t = "x {\n args = {rsync, --config=/etc/rsyncd.conf}\n}";
	char		 buf[512];

	assert_true(confhint_token(t, strlen(t),
	    (size_t)(strstr(t, "g=/") + 1 - t), "=", buf, sizeof(buf)));
	assert_contains(buf, "must be quoted: write \"--config=/etc/"
	    "rsyncd.conf\"");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confhint_xinetd_keys),
		cmocka_unit_test(test_confhint_unit_apart),
		cmocka_unit_test(test_confhint_cidr_habits),
		cmocka_unit_test(test_confhint_token_comma),
		cmocka_unit_test(test_confhint_token_equals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
