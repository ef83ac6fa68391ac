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
 * The kernel firewall (nft.c).  The command builders are pure and
 * checked string for string: a key from the engine is refused unless
 * its family and prefix are sane, and its bits past the prefix never
 * reach nft.  The rest runs against the real nf_tables in a network
 * namespace of this process's own, so the host's firewall is never
 * touched, and is skipped without root; what the table holds is read
 * back through libnftables itself.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <nftables/libnftables.h>

#include "portmuxd.h"
#include "nft.h"

#define T	"portmux_test"

static struct srckey
key(const char *ip, unsigned int prefix)
{
	struct srckey	 k;

	memset(&k, 0, sizeof(k));
	if (inet_pton(AF_INET, ip, k.addr) == 1)
		k.family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, ip, k.addr), 1);
		k.family = AF_INET6;
	}
	k.prefix = (uint8_t)prefix;
	return k;
}

static void
ban_is(const char *ip, unsigned int prefix, uint64_t ms, bool add,
    const char *want)
{
	struct srckey	 k = key(ip, prefix);
	char		 buf[256];

	assert_int_equal(nft_cmd_ban(buf, sizeof(buf), "portmux", &k, ms,
	    add), 0);
	assert_string_equal(buf, want);
}

static void
test_nft_cmd_ban_v4(void **state __unused)
{
	ban_is("192.0.2.1", 32, 600000, true,
	    "add element inet portmux ban4 { 192.0.2.1 timeout 10m }");
	ban_is("198.51.100.0", 24, 1500, true,
	    "add element inet portmux ban4 "
	    "{ 198.51.100.0/24 timeout 1s500ms }");
	ban_is("192.0.2.1", 32, 0, false,
	    "delete element inet portmux ban4 { 192.0.2.1 }");
	ban_is("0.0.0.0", 0, 1000, true,
	    "add element inet portmux ban4 { 0.0.0.0/0 timeout 1s }");
}

static void
test_nft_cmd_ban_v6(void **state __unused)
{
	ban_is("2001:db8::1", 128, 3600001, true,
	    "add element inet portmux ban6 { 2001:db8::1 timeout 1h1ms }");
	ban_is("2001:db8:1:2::", 64, 86400000, true,
	    "add element inet portmux ban6 { 2001:db8:1:2::/64 timeout 1d }");
	ban_is("2001:db8:1:2::", 64, 0, false,
	    "delete element inet portmux ban6 { 2001:db8:1:2::/64 }");
}

/* A key from the engine is never trusted to have its host bits clear. */
static void
test_nft_cmd_ban_masks(void **state __unused)
{
	ban_is("198.51.100.77", 24, 60000, true,
	    "add element inet portmux ban4 { 198.51.100.0/24 timeout 1m }");
	ban_is("192.0.2.255", 25, 60000, true,
	    "add element inet portmux ban4 { 192.0.2.128/25 timeout 1m }");
	ban_is("2001:db8:1:2:3:4:5:6", 64, 60000, true,
	    "add element inet portmux ban6 { 2001:db8:1:2::/64 timeout 1m }");
	ban_is("2001:db8:1:2:ffff:4:5:6", 65, 60000, true,
	    "add element inet portmux ban6 "
	    "{ 2001:db8:1:2:8000::/65 timeout 1m }");
}

/* At least 1s, ms kept, no component of nine digits, capped. */
static void
test_nft_cmd_ban_timeouts(void **state __unused)
{
	ban_is("192.0.2.1", 32, 0, true,
	    "add element inet portmux ban4 { 192.0.2.1 timeout 1s }");
	ban_is("192.0.2.1", 32, 999, true,
	    "add element inet portmux ban4 { 192.0.2.1 timeout 1s }");
	ban_is("192.0.2.1", 32, 1001, true,
	    "add element inet portmux ban4 { 192.0.2.1 timeout 1s1ms }");
	ban_is("192.0.2.1", 32, 90061001, true,
	    "add element inet portmux ban4 { 192.0.2.1 timeout 1d1h1m1s1ms }");
	ban_is("192.0.2.1", 32, 100000000, true,
	    "add element inet portmux ban4 { 192.0.2.1 timeout 1d3h46m40s }");
	ban_is("192.0.2.1", 32, UINT64_MAX, true,
	    "add element inet portmux ban4 { 192.0.2.1 timeout 10000d }");
}

static void
test_nft_cmd_gate(void **state __unused)
{
	struct srckey	 k;
	char		 buf[256];

	k = key("198.51.100.9", 24);
	assert_int_equal(nft_cmd_gate(buf, sizeof(buf), "portmux", &k, 22,
	    30000), 0);
	assert_string_equal(buf, "add element inet portmux gate4 "
	    "{ 198.51.100.0/24 . 22 timeout 30s }");
	k = key("192.0.2.1", 32);
	assert_int_equal(nft_cmd_gate(buf, sizeof(buf), "portmux", &k, 65535,
	    30000), 0);
	assert_string_equal(buf, "add element inet portmux gate4 "
	    "{ 192.0.2.1 . 65535 timeout 30s }");
	k = key("2001:db8::5", 64);
	assert_int_equal(nft_cmd_gate(buf, sizeof(buf), "portmux", &k, 2222,
	    1), 0);
	assert_string_equal(buf, "add element inet portmux gate6 "
	    "{ 2001:db8::/64 . 2222 timeout 1s }");
	k = key("2001:db8::5", 128);
	assert_int_equal(nft_cmd_gate(buf, sizeof(buf), "portmux", &k, 22,
	    45000), 0);
	assert_string_equal(buf, "add element inet portmux gate6 "
	    "{ 2001:db8::5 . 22 timeout 45s }");
}

static void
test_nft_cmd_invalid(void **state __unused)
{
	struct srckey	 k;
	char		 buf[256];

	k = key("192.0.2.1", 33);
	assert_int_equal(nft_cmd_ban(buf, sizeof(buf), "portmux", &k, 1, true),
	    -1);
	assert_string_equal(buf, "");
	k = key("2001:db8::1", 129);
	assert_int_equal(nft_cmd_ban(buf, sizeof(buf), "portmux", &k, 1, true),
	    -1);
	assert_int_equal(nft_cmd_gate(buf, sizeof(buf), "portmux", &k, 22, 1),
	    -1);
	k = key("192.0.2.1", 32);
	k.family = AF_UNIX;
	assert_int_equal(nft_cmd_ban(buf, sizeof(buf), "portmux", &k, 1, true),
	    -1);
	k.family = 0;
	assert_int_equal(nft_cmd_ban(buf, sizeof(buf), "portmux", &k, 1,
	    false), -1);
	assert_int_equal(nft_cmd_ban(buf, sizeof(buf), "portmux", NULL, 1,
	    true), -1);
	k = key("192.0.2.1", 32);
	assert_int_equal(nft_cmd_gate(buf, sizeof(buf), "portmux", &k, 0, 1),
	    -1);
	assert_int_equal(nft_cmd_ban(NULL, 0, "portmux", &k, 1, true), -1);
}

/* The table name goes unquoted into every command: only K_TABLE's. */
static void
test_nft_cmd_table_names(void **state __unused)
{
	static const char *const bad[] = {
		"", "1portmux", "_x", "-x", "a b", "a;b", "a}", "a\n",
		"a.b", "a/b", "a\"b", "a$b",
		"a23456789012345678901234567890123",	/* 33 */
	};
	struct srckey	 k = key("192.0.2.1", 32);
	char		 buf[256], err[256];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(nft_cmd_ban(buf, sizeof(buf), bad[i], &k, 1,
		    true), -1);
		assert_int_equal(nft_cmd_gate(buf, sizeof(buf), bad[i], &k,
		    22, 1), -1);
		assert_null(nft_open(bad[i], err, sizeof(err)));
		assert_non_null(strstr(err, "nft table name invalid"));
	}
	assert_int_equal(nft_cmd_ban(buf, sizeof(buf), NULL, &k, 1, true), -1);
	assert_null(nft_open(NULL, err, sizeof(err)));
	assert_int_equal(nft_cmd_ban(buf, sizeof(buf),
	    "a2345678901234567890123456789012", &k, 1, true), 0);
	assert_int_equal(nft_cmd_ban(buf, sizeof(buf), "Port-mux_2", &k, 1,
	    true), 0);
}

static void
test_nft_cmd_too_small(void **state __unused)
{
	static const char want[] =
	    "add element inet portmux ban4 { 192.0.2.1 timeout 10m }";
	struct srckey	 k = key("192.0.2.1", 32);
	char		 buf[sizeof(want)];

	assert_int_equal(nft_cmd_ban(buf, sizeof(want) - 1, "portmux", &k,
	    600000, true), -1);
	assert_string_equal(buf, "");
	assert_int_equal(nft_cmd_ban(buf, 1, "portmux", &k, 600000, true), -1);
	assert_int_equal(nft_cmd_ban(buf, sizeof(want), "portmux", &k, 600000,
	    true), 0);
	assert_string_equal(buf, want);
	assert_int_equal(nft_cmd_gate(buf, 20, "portmux", &k, 22, 1), -1);
	assert_string_equal(buf, "");
}

/*
 * The kernel tests run in a network namespace of their own, entered
 * once: it is this process's for good, and its nf_tables is empty.
 */
static bool
netns(void)
{
	static int	 state;	/* 0: not tried, 1: in, -1: cannot */

	if (state == 0) {
		if (geteuid() != 0) {
			print_message("not root: kernel tests skipped\n");
			state = -1;
		} else if (unshare(CLONE_NEWNET) == -1) {
			print_message("unshare(CLONE_NEWNET): %s: kernel "
			    "tests skipped\n", strerror(errno));
			state = -1;
		} else
			state = 1;
	}
	return state == 1;
}

/* Run cmd through a libnftables context of the test's own. */
static char *
nft_out(const char *cmd, int *rc)
{
	struct nft_ctx	*ctx;
	char		*out;

	assert_non_null(ctx = nft_ctx_new(NFT_CTX_DEFAULT));
	assert_int_equal(nft_ctx_buffer_output(ctx), 0);
	assert_int_equal(nft_ctx_buffer_error(ctx), 0);
	*rc = nft_run_cmd_from_buffer(ctx, cmd);
	assert_non_null(out = strdup(*rc == 0 ?
	    nft_ctx_get_output_buffer(ctx) : nft_ctx_get_error_buffer(ctx)));
	nft_ctx_free(ctx);
	return out;
}

static char *
list(const char *what)
{
	char	 cmd[128];
	char	*out;
	int	 rc;

	(void)snprintf(cmd, sizeof(cmd), "list %s", what);
	out = nft_out(cmd, &rc);
	if (rc != 0)
		fail_msg("nft '%s': %s", cmd, out);
	return out;
}

static void
has(const char *what, const char *want, bool yes)
{
	char	*out = list(what);

	if ((strstr(out, want) != NULL) != yes)
		fail_msg("'list %s' %s '%s':\n%s", what, yes ? "lacks" :
		    "has", want, out);
	free(out);
}

static struct nft *
open_test(void)
{
	struct nft	*n;
	char		 err[512];

	if ((n = nft_open(T, err, sizeof(err))) == NULL)
		fail_msg("nft_open: %s", err);
	return n;
}

#define OK(n, call) do {						\
	if ((call) != 0)						\
		fail_msg("%s: %s", #call, nft_error(n));		\
} while (0)

static const char layout[] =
    "table inet " T " {\n"
    "\tset ban4 {\n"
    "\t\ttype ipv4_addr\n"
    "\t\tflags interval,timeout\n"
    "\t}\n"
    "\n"
    "\tset ban6 {\n"
    "\t\ttype ipv6_addr\n"
    "\t\tflags interval,timeout\n"
    "\t}\n"
    "\n"
    "\tset gate4 {\n"
    "\t\ttype ipv4_addr . inet_service\n"
    "\t\tflags interval,timeout\n"
    "\t}\n"
    "\n"
    "\tset gate6 {\n"
    "\t\ttype ipv6_addr . inet_service\n"
    "\t\tflags interval,timeout\n"
    "\t}\n"
    "\n"
    "\tset gateports {\n"
    "\t\ttype inet_service\n"
    "\t}\n"
    "\n"
    "\tchain input {\n"
    "\t\ttype filter hook input priority filter - 5; policy accept;\n"
    "\t\tip saddr @ban4 drop\n"
    "\t\tip6 saddr @ban6 drop\n"
    "\t\ttcp dport @gateports ip saddr . tcp dport @gate4 accept\n"
    "\t\ttcp dport @gateports ip6 saddr . tcp dport @gate6 accept\n"
    "\t\ttcp dport @gateports ct state established,related accept\n"
    "\t\ttcp dport @gateports drop\n"
    "\t}\n"
    "}\n";

static void
test_nft_kernel_layout(void **state __unused)
{
	struct nft	*n;
	char		*out;

	if (!netns())
		skip();
	n = open_test();
	out = list("table inet " T);
	assert_string_equal(out, layout);
	free(out);
	(void)nft_close(n, NULL, 0);
}

static void
test_nft_kernel_ban(void **state __unused)
{
	struct nft	*n;
	struct srckey	 k;

	if (!netns())
		skip();
	n = open_test();
	k = key("192.0.2.1", 32);
	OK(n, nft_ban(n, &k, 600000));
	k = key("198.51.100.77", 24);
	OK(n, nft_ban(n, &k, 61500));	/* ms kept; no expiry mid-test */
	k = key("2001:db8::1", 128);
	OK(n, nft_ban(n, &k, 3600000));
	k = key("2001:db8:5:6:7::", 64);
	OK(n, nft_ban(n, &k, 3600000));
	has("set inet " T " ban4", "192.0.2.1 timeout 10m expires ", true);
	has("set inet " T " ban4",
	    "198.51.100.0/24 timeout 1m1s500ms expires ", true);
	has("set inet " T " ban6", "2001:db8::1 timeout 1h expires ", true);
	has("set inet " T " ban6", "2001:db8:5:6::/64 timeout 1h expires ",
	    true);

	/* A ban renewed takes its new timeout, on any kernel. */
	k = key("192.0.2.1", 32);
	OK(n, nft_ban(n, &k, 1200000));
	has("set inet " T " ban4", "192.0.2.1 timeout 20m expires ", true);

	OK(n, nft_unban(n, &k));
	has("set inet " T " ban4", "192.0.2.1 ", false);
	has("set inet " T " ban4", "198.51.100.0/24 ", true);
	/* Gone already, or timed out in the kernel first: not a failure. */
	OK(n, nft_unban(n, &k));
	k = key("203.0.113.1", 32);
	OK(n, nft_unban(n, &k));
	k = key("2001:db8::1", 128);
	OK(n, nft_unban(n, &k));
	OK(n, nft_unban(n, &k));
	has("set inet " T " ban6", "2001:db8::1 ", false);
	has("set inet " T " ban6", "2001:db8:5:6::/64 ", true);

	k.family = 7;
	assert_int_equal(nft_ban(n, &k, 1000), -1);
	assert_non_null(strstr(nft_error(n), "invalid source key"));
	assert_int_equal(nft_unban(n, &k), -1);
	(void)nft_close(n, NULL, 0);
}

/* Bans of nested groups (services with different source prefixes). */
static void
test_nft_kernel_ban_nested(void **state __unused)
{
	struct nft	*n;
	struct srckey	 k;
	char		*out;

	if (!netns())
		skip();
	n = open_test();
	k = key("192.0.2.1", 32);
	OK(n, nft_ban(n, &k, 600000));
	k = key("192.0.2.3", 32);
	OK(n, nft_ban(n, &k, 600000));
	k = key("192.0.2.0", 24);
	OK(n, nft_ban(n, &k, 1200000));	/* holds both: replaces them */
	k = key("192.0.2.7", 32);
	OK(n, nft_ban(n, &k, 600000));	/* held: dropped already */
	out = list("set inet " T " ban4");
	if (strstr(out, "192.0.2.0/24 timeout 20m expires ") == NULL ||
	    strstr(out, "192.0.2.1 ") != NULL ||
	    strstr(out, "192.0.2.3 ") != NULL ||
	    strstr(out, "192.0.2.7 ") != NULL)
		fail_msg("ban4:\n%s", out);
	free(out);
	k = key("192.0.2.7", 32);
	OK(n, nft_unban(n, &k));	/* inside a wider ban: nothing to do */
	has("set inet " T " ban4", "192.0.2.0/24 ", true);

	k = key("2001:db8::1", 128);
	OK(n, nft_ban(n, &k, 600000));
	k = key("2001:db8::", 64);
	OK(n, nft_ban(n, &k, 600000));
	out = list("set inet " T " ban6");
	if (strstr(out, "2001:db8::/64 timeout 10m expires ") == NULL ||
	    strstr(out, "2001:db8::1 ") != NULL)
		fail_msg("ban6:\n%s", out);
	free(out);
	(void)nft_close(n, NULL, 0);
}

static void
test_nft_kernel_gate(void **state __unused)
{
	static const uint16_t	 ports[] = { 22, 2222 };
	uint16_t		 many[2000];
	struct nft		*n;
	struct srckey		 k;
	size_t			 i;

	if (!netns())
		skip();
	n = open_test();
	OK(n, nft_gate_ports(n, ports, 2));
	has("set inet " T " gateports", "elements = { 22, 2222 }", true);
	k = key("198.51.100.9", 24);
	OK(n, nft_gate_open(n, &k, 22, 30000));
	has("set inet " T " gate4",
	    "198.51.100.0/24 . 22 timeout 30s expires ", true);
	OK(n, nft_gate_open(n, &k, 22, 60000));	/* knocked again */
	has("set inet " T " gate4",
	    "198.51.100.0/24 . 22 timeout 1m expires ", true);
	k = key("198.51.100.1", 32);
	OK(n, nft_gate_open(n, &k, 22, 30000));	/* held by the /24 */
	OK(n, nft_gate_open(n, &k, 2222, 30000));
	has("set inet " T " gate4",
	    "198.51.100.1 . 2222 timeout 30s expires ", true);
	k = key("2001:db8::5", 64);
	OK(n, nft_gate_open(n, &k, 2222, 45000));
	has("set inet " T " gate6",
	    "2001:db8::/64 . 2222 timeout 45s expires ", true);
	assert_int_equal(nft_gate_open(n, &k, 0, 45000), -1);

	OK(n, nft_gate_ports(n, ports + 1, 1));
	has("set inet " T " gateports", "elements = { 2222 }", true);
	OK(n, nft_gate_ports(n, NULL, 0));
	has("set inet " T " gateports", "elements", false);
	assert_int_equal(nft_gate_ports(n, (const uint16_t[]){ 22, 0 }, 2),
	    -1);

	/* Many ports: the command grows past any fixed buffer. */
	for (i = 0; i < 2000; i++)
		many[i] = (uint16_t)(i + 1);
	OK(n, nft_gate_ports(n, many, 2000));
	has("set inet " T " gateports", " 2000 }", true);
	(void)nft_close(n, NULL, 0);
}

static void
test_nft_kernel_flush(void **state __unused)
{
	static const uint16_t	 ports[] = { 22 };
	struct nft		*n;
	struct srckey		 k;

	if (!netns())
		skip();
	n = open_test();
	OK(n, nft_gate_ports(n, ports, 1));
	k = key("192.0.2.1", 32);
	OK(n, nft_ban(n, &k, 600000));
	OK(n, nft_gate_open(n, &k, 22, 600000));
	k = key("2001:db8::1", 128);
	OK(n, nft_ban(n, &k, 600000));
	OK(n, nft_gate_open(n, &k, 22, 600000));
	OK(n, nft_flush(n));
	has("set inet " T " ban4", "elements", false);
	has("set inet " T " ban6", "elements", false);
	has("set inet " T " gate4", "elements", false);
	has("set inet " T " gate6", "elements", false);
	/* The gated ports are config, not state: a flush keeps them. */
	has("set inet " T " gateports", "elements = { 22 }", true);
	(void)nft_close(n, NULL, 0);
}

static void
test_nft_kernel_close(void **state __unused)
{
	struct nft	*n;

	if (!netns())
		skip();
	n = open_test();
	has("tables", "table inet " T "\n", true);
	(void)nft_close(n, NULL, 0);
	has("tables", "table inet " T "\n", false);
	assert_int_equal(nft_close(NULL, NULL, 0), 0);
}

/* A table left by a monitor that died is replaced, whatever it holds. */
static void
test_nft_kernel_leftover(void **state __unused)
{
	struct nft	*n, *n2;
	struct srckey	 k;
	char		*out;
	int		 rc;

	if (!netns())
		skip();
	out = nft_out("add table inet " T "\n"
	    "add set inet " T " stale { type ipv4_addr; }\n"
	    "add element inet " T " stale { 192.0.2.1 }", &rc);
	assert_int_equal(rc, 0);
	free(out);
	n = open_test();
	out = list("table inet " T);
	assert_string_equal(out, layout);
	free(out);

	k = key("192.0.2.1", 32);
	OK(n, nft_ban(n, &k, 600000));
	n2 = open_test();	/* opened twice */
	has("set inet " T " ban4", "192.0.2.1", false);
	OK(n2, nft_ban(n2, &k, 600000));
	has("set inet " T " ban4", "192.0.2.1 timeout 10m", true);
	assert_int_equal(nft_close(n2, NULL, 0), 0);
	/* Its table is gone: that is said, not hidden. */
	assert_int_equal(nft_close(n, NULL, 0), -1);
	has("tables", "table inet " T "\n", false);
}

/* The table deleted under us: errors name the command and nft's reason. */
static void
test_nft_kernel_errors(void **state __unused)
{
	struct nft	*n;
	struct srckey	 k;
	char		 err[512];
	char		*out;
	int		 rc;

	if (!netns())
		skip();
	n = open_test();
	out = nft_out("delete table inet " T, &rc);
	assert_int_equal(rc, 0);
	free(out);
	k = key("192.0.2.1", 32);
	assert_int_equal(nft_ban(n, &k, 600000), -1);
	print_message("ban without table: %s\n", nft_error(n));
	assert_non_null(strstr(nft_error(n), "nft 'add element inet " T
	    " ban4 { 192.0.2.1 timeout 10m }': "));
	assert_null(strchr(nft_error(n), '\n'));
	/* ENOENT for a missing set is no "element already gone". */
	assert_int_equal(nft_unban(n, &k), -1);
	print_message("unban without table: %s\n", nft_error(n));
	assert_non_null(strstr(nft_error(n), "nft 'delete element inet " T
	    " ban4 { 192.0.2.1 }': "));
	assert_int_equal(nft_flush(n), -1);
	print_message("flush without table: %s\n", nft_error(n));
	assert_non_null(strstr(nft_error(n), "nft 'flush set inet " T
	    " ban4': "));
	(void)nft_close(n, NULL, 0);

	/* A name conf.c admits but nft's grammar does not. */
	assert_null(nft_open("counter", err, sizeof(err)));
	print_message("keyword table: %s\n", err);
	assert_non_null(strstr(err, "nft 'add table inet counter': syntax "
	    "error"));
	assert_non_null(strstr(err, "keyword"));
	has("tables", "counter", false);
}

/* No child of the monitor may inherit the root-opened firewall socket. */
static void
test_nft_kernel_cloexec(void **state __unused)
{
	struct nft	*n;
	socklen_t	 len;
	int		 fd, proto, found = 0;

	if (!netns())
		skip();
	n = open_test();
	for (fd = 3; fd < 256; fd++) {
		len = sizeof(proto);
		if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) ==
		    -1 || proto != NETLINK_NETFILTER)
			continue;
		found++;
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	}
	assert_int_equal(found, 1);
	(void)nft_close(n, NULL, 0);
}

/* Without CAP_NET_ADMIN the error must say that is what is missing. */
static void
test_nft_kernel_unprivileged(void **state __unused)
{
	char	 err[512];
	int	 p[2], status;
	ssize_t	 r;
	pid_t	 pid;

	if (!netns())
		skip();
	assert_int_equal(pipe(p), 0);
	assert_int_not_equal(pid = fork(), -1);
	if (pid == 0) {
		struct nft	*n;

		close(p[0]);
		if (setgroups(0, NULL) == -1 || setresgid(65534, 65534,
		    65534) == -1 || setresuid(65534, 65534, 65534) == -1)
			_exit(2);
		n = nft_open(T, err, sizeof(err));
		if (n != NULL)
			_exit(3);
		if (write(p[1], err, strlen(err)) == -1)
			_exit(4);
		_exit(0);
	}
	close(p[1]);
	r = read(p[0], err, sizeof(err) - 1);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(r > 0);
	err[r] = '\0';
	print_message("unprivileged: %s\n", err);
	assert_non_null(strstr(err, "nf_tables unavailable"));
	assert_non_null(strstr(err, "CAP_NET_ADMIN"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nft_cmd_ban_v4),
		cmocka_unit_test(test_nft_cmd_ban_v6),
		cmocka_unit_test(test_nft_cmd_ban_masks),
		cmocka_unit_test(test_nft_cmd_ban_timeouts),
		cmocka_unit_test(test_nft_cmd_gate),
		cmocka_unit_test(test_nft_cmd_invalid),
		cmocka_unit_test(test_nft_cmd_table_names),
		cmocka_unit_test(test_nft_cmd_too_small),
		cmocka_unit_test(test_nft_kernel_layout),
		cmocka_unit_test(test_nft_kernel_ban),
		cmocka_unit_test(test_nft_kernel_ban_nested),
		cmocka_unit_test(test_nft_kernel_gate),
		cmocka_unit_test(test_nft_kernel_flush),
		cmocka_unit_test(test_nft_kernel_close),
		cmocka_unit_test(test_nft_kernel_leftover),
		cmocka_unit_test(test_nft_kernel_errors),
		cmocka_unit_test(test_nft_kernel_cloexec),
		cmocka_unit_test(test_nft_kernel_unprivileged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
