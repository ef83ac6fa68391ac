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
 * Unit tests of the gatekeeper's config keys in conf.c: knock,
 * knock_timeout, knock_open and gate on a service, builtin = trap, and
 * the globals knock_max, scan_*, never_ban, firewall and nft_table.
 * Each bad value or combination must fail the load with a "file:line:"
 * that names the offending key, and each good one must load with the
 * values given or the defaults.  Messages are read back from stderr, as
 * in test_conf.c.  Most cases load under CONF_AS_USER|CONF_CHECK_ONLY,
 * where "needs root" is only a warning, so that the one error left is
 * the one under test and the result does not depend on who runs it;
 * the root rules are skipped without root.
 */

#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>

#include <pwd.h>
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

#include "knock.h"
#include "log.h"
#include "portmuxd.h"
#include "confmsg.h"

/* Any host: the non-root rules, with "needs root" only a warning. */
#define ANYHOST		(CONF_AS_USER | CONF_CHECK_ONLY)

/* conf.c's default engine account, which must differ from nobody's. */
#define ENGINE_USER	"_portmuxd"

/* One service that loads anywhere, for the tests of the globals. */
#define SVC		"service a {\n\tport = 10000\n\tbuiltin = echo\n}\n"

static void	 knock_services(char *, size_t, const int *, int);
static bool	 root_ok(void);

/*
 * The root rules need root, and an engine account other than nobody,
 * the default service account: a gate resolves one as well.
 */
static bool
root_ok(void)
{
	return geteuid() == 0 && getpwnam(ENGINE_USER) != NULL;
}

/* A malformed step is an error on the line of the value itself. */
static void
test_confgate_knock_bad_steps(void **state __unused)
{
	static const char *const bad[] = { "tcp:0", "tcp:65536", "sctp:1",
	    "tcp:", "tcp:1x", "TCP:1", "7000", "udp:-1", "tcp:+1", "", NULL };
	char	 cfg[512], want[256];
	int	 i;

	for (i = 0; bad[i] != NULL; i++) {
		(void)snprintf(cfg, sizeof(cfg), "service a {\n"
		    "\tport = 10000\n\tbuiltin = echo\n"
		    "\tknock = {\"tcp:7000\", \"%s\"}\n}\n", bad[i]);
		(void)snprintf(want, sizeof(want), "service 'a': knock '%s': "
		    "expected tcp:PORT or udp:PORT", bad[i]);
		msgs_load_fails(cfg, ANYHOST, "t.conf:4: ", want);
	}
	/* In a list over two lines, the line of the value itself. */
	msgs_load_fails("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tknock = {\"tcp:7000\",\n\t    \"tcp:0\"}\n}\n", ANYHOST,
	    "t.conf:5: ", "knock 'tcp:0'");
}

/*
 * An empty list is blamed on the section's line: libconfuse calls no
 * value callback for "{}", so conf.c never learns the key's line (as
 * with "args = {}" in test_conf.c).
 */
static void
test_confgate_knock_empty(void **state __unused)
{
	msgs_load_fails("\nservice a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tknock = {}\n}\n", ANYHOST, "t.conf:5: ",
	    "service 'a': knock list is empty");
}

static void
test_confgate_knock_steps_max(void **state __unused)
{
	struct conf	*conf;
	char		 cfg[1024], *m;
	size_t		 len;
	int		 i;

	len = (size_t)snprintf(cfg, sizeof(cfg), "service a {\n"
	    "\tport = 10000\n\tbuiltin = echo\n\tknock = {\"tcp:7000\"");
	for (i = 1; i < KNOCK_STEPS_MAX; i++)
		len += (size_t)snprintf(cfg + len, sizeof(cfg) - len,
		    ", \"udp:%d\"", 7000 + i);
	(void)snprintf(cfg + len, sizeof(cfg) - len, "}\n}\n");
	conf = msgs_load(cfg, ANYHOST, &m);
	assert_non_null(conf);
	assert_int_equal(conf->services[0].nknock, KNOCK_STEPS_MAX);
	conf_free(conf);
	free(m);
	/* One more. */
	(void)snprintf(cfg + len, sizeof(cfg) - len, ", \"tcp:7100\"}\n}\n");
	msgs_load_fails(cfg, ANYHOST, "t.conf:4: ",
	    "service 'a': knock has 17 ports; at most 16");
}

/* Services a knock cannot gate: each is blamed on the knock line. */
static void
test_confgate_knock_wrong_service(void **state __unused)
{
	msgs_load_fails("service u {\n\tprotocol = unix\n"
	    "\tpath = /tmp/portmux-confgate.sock\n\tbuiltin = echo\n"
	    "\tknock = {\"tcp:7000\"}\n}\n", ANYHOST, "t.conf:5: ",
	    "service 'u': knock does not apply to protocol unix");
	/* A wait service takes a server: a builtin cannot wait. */
	msgs_load_fails("service w {\n\tport = 10000\n\tserver = /bin/cat\n"
	    "\twait = true\n\tknock = {\"tcp:7000\"}\n}\n", ANYHOST,
	    "t.conf:5: ", "service 'w': knock cannot gate a wait service");
	msgs_load_fails("service t {\n\tport = 10000\n\tbuiltin = trap\n"
	    "\tknock = {\"tcp:7000\"}\n}\n", ANYHOST, "t.conf:4: ",
	    "service 't': a trap takes no knock");
	msgs_load_fails("service m {\n\tport = 10000\n\tbuiltin = tcpmux\n"
	    "\tknock = {\"tcp:7000\"}\n}\n", ANYHOST, "t.conf:4: ",
	    "service 'm': knock on tcpmux would gate every service");
}

/* A knock port must stay closed: no service may listen on it. */
static void
test_confgate_knock_port_taken(void **state __unused)
{
	/* Lines 1, 5 and 10 open the sections; the knock is on 13-14. */
	static const char cfg[] =
	    "service a {\n\tport = 10000\n\tbuiltin = echo\n}\n"
	    "service u {\n\tprotocol = udp\n\tport = 10001\n"
	    "\tbuiltin = echo\n}\n"
	    "service k {\n\tport = 10002\n\tbuiltin = echo\n"
	    "\tknock = {\"tcp:10000\",\n"
	    "\t    \"udp:10001\", \"tcp:10002\"}\n}\n";
	struct conf	*conf;
	char		*m;

	conf = msgs_load(cfg, ANYHOST, &m);
	assert_null(conf);
	/* The check after the parse blames the knock key's first line. */
	assert_msg(m, "t.conf:13: ", "service 'k': knock port tcp:10000 is "
	    "the port of service 'a'; a knock port must stay closed");
	assert_msg(m, "t.conf:13: ", "service 'k': knock port udp:10001 is "
	    "the port of service 'u'");
	assert_msg(m, "t.conf:13: ", "service 'k': knock port tcp:10002 is "
	    "the port of service 'k'");
	free(m);
	/* The same numbers in the other protocol are other ports. */
	conf = msgs_load("service a {\n\tport = 10000\n\tbuiltin = echo\n}\n"
	    "service u {\n\tprotocol = udp\n\tport = 10001\n"
	    "\tbuiltin = echo\n}\n"
	    "service k {\n\tport = 10002\n\tbuiltin = echo\n"
	    "\tknock = {\"udp:10000\", \"tcp:10001\", \"udp:10002\"}\n}\n",
	    ANYHOST, &m);
	assert_non_null(conf);
	assert_no_msg(m, "must stay closed");
	conf_free(conf);
	free(m);
	/* A disabled service listens on nothing. */
	conf = msgs_load("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tdisable = true\n}\nservice k {\n\tport = 10002\n"
	    "\tbuiltin = echo\n\tknock = {\"tcp:10000\"}\n}\n", ANYHOST, &m);
	assert_non_null(conf);
	assert_no_msg(m, "must stay closed");
	conf_free(conf);
	free(m);
}

/* nsvc services of steps[i] distinct knock ports each. */
static void
knock_services(char *cfg, size_t size, const int *steps, int nsvc)
{
	size_t	 len = 0;
	int	 i, j, port = 7000;

	for (i = 0; i < nsvc; i++) {
		len += (size_t)snprintf(cfg + len, size - len,
		    "service s%d {\n\tport = %d\n\tbuiltin = echo\n"
		    "\tknock = {", i, 10000 + i);
		for (j = 0; j < steps[i]; j++)
			len += (size_t)snprintf(cfg + len, size - len,
			    "%s\"tcp:%d\"", j > 0 ? ", " : "", port++);
		len += (size_t)snprintf(cfg + len, size - len, "}\n}\n");
		assert_true(len < size);
	}
}

/* The packet filter holds 64 knock ports, over all services. */
static void
test_confgate_knock_ports_total(void **state __unused)
{
	static const int fit[] = { 16, 16, 16, 16 };
	static const int over[] = { 16, 16, 16, 16, 1 };
	struct conf	*conf;
	char		 cfg[8192], *m;

	knock_services(cfg, sizeof(cfg), fit, 4);
	conf = msgs_load(cfg, ANYHOST, &m);
	assert_non_null(conf);
	assert_int_equal(conf->nservices, 4);
	assert_no_msg(m, "knock ports in all");
	conf_free(conf);
	free(m);
	/* A file-wide problem: the first line of the file. */
	knock_services(cfg, sizeof(cfg), over, 5);
	msgs_load_fails(cfg, ANYHOST, "t.conf:1: ",
	    "65 distinct knock ports in all; the packet filter holds at "
	    "most 64");
}

/* Services that share knock ports take one filter slot per port. */
static void
test_confgate_knock_ports_shared(void **state __unused)
{
	struct conf	*conf;
	char		 cfg[8192], *m;
	size_t		 len = 0;
	int		 i, j;

	for (i = 0; i < 5; i++) {
		len += (size_t)snprintf(cfg + len, sizeof(cfg) - len,
		    "service s%d {\n\tport = %d\n\tbuiltin = echo\n"
		    "\tknock = {", i, 10000 + i);
		for (j = 0; j < 16; j++)
			len += (size_t)snprintf(cfg + len, sizeof(cfg) - len,
			    "%s\"tcp:%d\"", j > 0 ? ", " : "", 7000 + j);
		len += (size_t)snprintf(cfg + len, sizeof(cfg) - len,
		    "}\n}\n");
		assert_true(len < sizeof(cfg));
	}
	conf = msgs_load(cfg, ANYHOST, &m);
	assert_non_null(conf);
	assert_int_equal(conf->nservices, 5);
	assert_no_msg(m, "knock ports in all");
	conf_free(conf);
	free(m);
}

/*
 * Knock keys in defaults: a service without a knock is not broken by
 * knock_timeout there, and a knock there does not reach a trap.
 */
static void
test_confgate_knock_defaults(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = msgs_load("defaults {\n\tknock_timeout = 5s\n}\n"
	    "service a {\n\tport = 10000\n\tbuiltin = echo\n}\n", ANYHOST,
	    &m);
	assert_non_null(conf);
	assert_no_msg(m, "needs a knock sequence");
	conf_free(conf);
	free(m);
	conf = msgs_load("defaults {\n\tknock = {\"tcp:7000\"}\n}\n"
	    "service a {\n\tport = 10000\n\tbuiltin = echo\n}\n"
	    "service t {\n\tport = 10001\n\tbuiltin = trap\n}\n", ANYHOST,
	    &m);
	assert_non_null(conf);
	assert_int_equal(conf->services[0].nknock, 1);
	assert_int_equal(conf->services[1].nknock, 0);
	conf_free(conf);
	free(m);
}

/* A disabled service's knock without root is a warning only. */
static void
test_confgate_knock_disabled(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = msgs_load("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tknock = {\"tcp:7000\"}\n\tdisable = true\n}\n"
	    "service b {\n\tport = 10001\n\tbuiltin = echo\n}\n",
	    CONF_AS_USER, &m);
	assert_non_null(conf);
	assert_msg(m, "t.conf:4: warning: ", "knock (a packet socket) "
	    "needs root");
	conf_free(conf);
	free(m);
}

/* A gate runs no program, and its knock ports must not be its gates. */
static void
test_confgate_gate_rules(void **state __unused)
{
	msgs_load_fails("firewall = nftables\nservice g {\n"
	    "\tknock = {\"tcp:7000\"}\n\tgate = {22}\n\tuser = root\n}\n",
	    ANYHOST, "t.conf:5: ", "user does not apply to a gate");
	msgs_load_fails("firewall = nftables\nservice g {\n"
	    "\tknock = {\"tcp:22\", \"udp:7000\"}\n\tgate = {22}\n}\n",
	    ANYHOST, "t.conf:3: ", "knock port tcp:22 is a gate port");
	msgs_load_fails("firewall = nftables\nservice g {\n"
	    "\tknock = {\"tcp:7000\"}\n\tgate = {22}\n"
	    "\taddress = {127.0.0.1}\n}\n", ANYHOST, "t.conf:5: ",
	    "address does not apply to a gate");
}

/* An address or wait in defaults is for the services that listen. */
static void
test_confgate_gate_defaults(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = msgs_load("firewall = nftables\ndefaults {\n"
	    "\taddress = {127.0.0.1}\n\twait = false\n}\n"
	    "service a {\n\tport = 10000\n\tbuiltin = echo\n}\n"
	    "service g {\n\tknock = {\"tcp:7000\"}\n\tgate = {22}\n}\n",
	    ANYHOST, &m);
	assert_non_null(conf);
	assert_int_equal(conf->services[1].ngate, 1);
	assert_int_equal(conf->services[1].naddrs, 0);
	assert_int_equal(conf->services[0].naddrs, 1);
	conf_free(conf);
	free(m);
}

/* The keys that refine a knock mean nothing without one. */
static void
test_confgate_knock_keys_alone(void **state __unused)
{
	msgs_load_fails("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tknock_timeout = 5s\n}\n", ANYHOST, "t.conf:4: ",
	    "service 'a': knock_timeout needs a knock sequence: "
	    "knock = {\"tcp:PORT\", ...}");
	msgs_load_fails("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tknock_open = 5s\n}\n", ANYHOST, "t.conf:4: ",
	    "service 'a': knock_open needs a knock sequence");
	msgs_load_fails("firewall = nftables\nservice g {\n\tgate = {22}\n}\n",
	    ANYHOST, "t.conf:3: ", "service 'g': gate needs a knock sequence");
}

static void
test_confgate_knock_zero_durations(void **state __unused)
{
	msgs_load_fails("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tknock = {\"tcp:7000\"}\n\tknock_timeout = 0\n}\n", ANYHOST,
	    "t.conf:5: ", "service 'a': knock_timeout '0': must not be 0");
	msgs_load_fails("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tknock = {\"tcp:7000\"}\n\tknock_open = 0\n}\n", ANYHOST,
	    "t.conf:5: ", "service 'a': knock_open '0': must not be 0");
	msgs_load_fails("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tknock = {\"tcp:7000\"}\n\tknock_timeout = soon\n}\n", ANYHOST,
	    "t.conf:5: ", "service 'a': knock_timeout 'soon': expected a "
	    "duration");
}

/* A knock needs a packet socket: root, or under -n a warning. */
static void
test_confgate_knock_as_user(void **state __unused)
{
	static const char cfg[] = "service a {\n\tport = 10000\n"
	    "\tbuiltin = echo\n\tknock = {\"tcp:7000\"}\n}\n";
	struct passwd	*pw = getpwuid(geteuid());
	struct conf	*conf;
	char		 want[256], *m;

	assert_non_null(pw);
	(void)snprintf(want, sizeof(want), "service 'a': knock (a packet "
	    "socket) needs root, and portmuxd runs as '%s': start it as root",
	    pw->pw_name);
	msgs_load_fails(cfg, CONF_AS_USER, "t.conf:4: ", want);
	conf = msgs_load(cfg, CONF_AS_USER | CONF_CHECK_ONLY, &m);
	assert_non_null(conf);
	assert_msg(m, "t.conf:4: warning: ", want);
	assert_int_equal(conf->services[0].nknock, 1);
	assert_int_equal(conf->services[0].knock[0].proto, IPPROTO_TCP);
	assert_int_equal(conf->services[0].knock[0].port, 7000);
	conf_free(conf);
	free(m);
}

/* As root a knock loads with no message, with its defaults. */
static void
test_confgate_knock_root_loads(void **state __unused)
{
	struct conf	*conf;
	struct service	*s;
	char		*m;

	if (!root_ok())
		skip();
	conf = msgs_load("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tknock = {\"tcp:7000\", \"udp:7001\", \"tcp:65535\"}\n}\n"
	    "service b {\n\tport = 10001\n\tbuiltin = echo\n"
	    "\tknock = {\"udp:1\"}\n\tknock_timeout = 5s\n"
	    "\tknock_open = 2m\n}\nservice c {\n\tport = 10002\n"
	    "\tbuiltin = echo\n}\n", 0, &m);
	assert_non_null(conf);
	assert_string_equal(m, "");
	assert_true(conf->as_root);
	assert_int_equal(conf->nservices, 3);
	s = conf_service(conf, "a");
	assert_non_null(s);
	assert_int_equal(s->nknock, 3);
	assert_int_equal(s->knock[0].proto, IPPROTO_TCP);
	assert_int_equal(s->knock[0].port, 7000);
	assert_int_equal(s->knock[1].proto, IPPROTO_UDP);
	assert_int_equal(s->knock[1].port, 7001);
	assert_int_equal(s->knock[2].proto, IPPROTO_TCP);
	assert_int_equal(s->knock[2].port, 65535);
	assert_int_equal(s->knock_timeout_ms, 10000);
	assert_int_equal(s->knock_open_ms, 30000);
	assert_int_equal(s->ngate, 0);
	assert_int_equal(s->port, 10000);
	s = conf_service(conf, "b");
	assert_non_null(s);
	assert_int_equal(s->nknock, 1);
	assert_int_equal(s->knock[0].proto, IPPROTO_UDP);
	assert_int_equal(s->knock[0].port, 1);
	assert_int_equal(s->knock_timeout_ms, 5000);
	assert_int_equal(s->knock_open_ms, 120000);
	s = conf_service(conf, "c");
	assert_non_null(s);
	assert_int_equal(s->nknock, 0);
	assert_null(s->knock);
	conf_free(conf);
	free(m);
}

static void
test_confgate_gate_needs_firewall(void **state __unused)
{
	static const char cfg[] = "service g {\n\tknock = {\"tcp:7000\"}\n"
	    "\tgate = {22}\n}\n";

	msgs_load_fails(cfg, ANYHOST, "t.conf:3: ", "service 'g': gate needs the "
	    "kernel firewall: set firewall = nftables");
	msgs_load_fails("firewall = none\nservice g {\n\tknock = {\"tcp:7000\"}\n"
	    "\tgate = {22}\n}\n", ANYHOST, "t.conf:4: ",
	    "gate needs the kernel firewall");
}

/* A gate serves nothing: no program, no port, no address of its own. */
static void
test_confgate_gate_serves_nothing(void **state __unused)
{
	/* One line of the file per line here, from line 1. */
	static const char cfg[] =
	    "firewall = nftables\n"
	    "service g {\n"
	    "\tknock = {\"tcp:7000\"}\n"
	    "\tgate = {22}\n"
	    "\tserver = /bin/cat\n"
	    "\tport = 10000\n"
	    "\taddress = {127.0.0.1}\n"
	    "}\n"
	    "service h {\n"
	    "\tknock = {\"tcp:7001\"}\n"
	    "\tgate = {2222}\n"
	    "\tbuiltin = echo\n"
	    "}\n"
	    "service u {\n"
	    "\tprotocol = udp\n"
	    "\tknock = {\"udp:7002\"}\n"
	    "\tgate = {2223}\n"
	    "}\n";
	char	*m;

	assert_null(msgs_load(cfg, ANYHOST, &m));
	assert_msg(m, "t.conf:5: ", "service 'g': server does not apply to a "
	    "gate, which serves nothing itself");
	assert_msg(m, "t.conf:6: ", "service 'g': port does not apply to a "
	    "gate");
	assert_msg(m, "t.conf:7: ", "service 'g': address does not apply to "
	    "a gate");
	assert_msg(m, "t.conf:12: ", "service 'h': builtin does not apply to "
	    "a gate");
	assert_msg(m, "t.conf:15: ", "service 'u': a gate opens tcp ports; "
	    "drop protocol");
	free(m);
}

static void
test_confgate_gate_bad_port(void **state __unused)
{
	static const char *const bad[] = { "0", "65536", "ssh", "-1", "+22",
	    "22x", NULL };
	char	 cfg[512], want[256];
	int	 i;

	for (i = 0; bad[i] != NULL; i++) {
		(void)snprintf(cfg, sizeof(cfg), "firewall = nftables\n"
		    "service g {\n\tknock = {\"tcp:7000\"}\n"
		    "\tgate = {22, \"%s\"}\n}\n", bad[i]);
		(void)snprintf(want, sizeof(want), "service 'g': gate '%s': "
		    "expected a port number from 1 to 65535", bad[i]);
		msgs_load_fails(cfg, ANYHOST, "t.conf:4: ", want);
	}
}

/* A gate opens other daemons' ports, never a portmuxd tcp service's. */
static void
test_confgate_gate_port_served(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	msgs_load_fails("firewall = nftables\n"
	    "service a {\n\tport = 10000\n\tbuiltin = echo\n}\n"
	    "service g {\n\tknock = {\"tcp:7000\"}\n"
	    "\tgate = {22, 10000}\n}\n", ANYHOST, "t.conf:8: ",
	    "service 'g': gate port 10000 is served by service 'a'; set knock "
	    "on that service instead");
	/* A udp service's port number is no tcp port. */
	conf = msgs_load("firewall = nftables\n"
	    "service a {\n\tprotocol = udp\n\tport = 10000\n"
	    "\tbuiltin = echo\n}\n"
	    "service g {\n\tknock = {\"tcp:7000\"}\n"
	    "\tgate = {10000}\n}\n", ANYHOST, &m);
	assert_non_null(conf);
	assert_no_msg(m, "is served by");
	conf_free(conf);
	free(m);
}

/* As root a gate loads: no port, no address, no program. */
static void
test_confgate_gate_root_loads(void **state __unused)
{
	struct conf	*conf;
	struct service	*s;
	char		*m;

	if (!root_ok())
		skip();
	conf = msgs_load("firewall = nftables\nservice g {\n"
	    "\tknock = {\"tcp:7000\", \"udp:7001\"}\n\tgate = {22, 2222}\n"
	    "\tknock_open = 10s\n}\n", 0, &m);
	assert_non_null(conf);
	assert_string_equal(m, "");
	assert_int_equal(conf->firewall, FIREWALL_NFTABLES);
	assert_int_equal(conf->nservices, 1);
	s = &conf->services[0];
	assert_string_equal(s->name, "g");
	assert_int_equal(s->ngate, 2);
	assert_int_equal(s->gate[0], 22);
	assert_int_equal(s->gate[1], 2222);
	assert_int_equal(s->nknock, 2);
	assert_int_equal(s->knock[1].proto, IPPROTO_UDP);
	assert_int_equal(s->knock[1].port, 7001);
	assert_int_equal(s->knock_open_ms, 10000);
	assert_int_equal(s->knock_timeout_ms, 10000);
	assert_int_equal(s->proto, PROTO_TCP);
	assert_int_equal(s->port, 0);
	assert_int_equal(s->naddrs, 0);
	assert_null(s->server);
	assert_int_equal(s->builtin, BUILTIN_NONE);
	conf_free(conf);
	free(m);
}

/* A forged udp source, or a unix peer, must not get anyone banned. */
static void
test_confgate_trap_rules(void **state __unused)
{
	msgs_load_fails("service t {\n\tprotocol = udp\n\tport = 10000\n"
	    "\tbuiltin = trap\n}\n", ANYHOST, "t.conf:4: ",
	    "service 't': builtin trap needs protocol tcp: a udp source "
	    "address can be forged");
	msgs_load_fails("service t {\n\tprotocol = unix\n"
	    "\tpath = /tmp/portmux-confgate.sock\n\tbuiltin = trap\n}\n",
	    ANYHOST, "t.conf:4: ", "service 't': builtin trap needs "
	    "protocol tcp");
	msgs_load_fails("service m {\n\tport = 10001\n\tbuiltin = tcpmux\n}\n"
	    "service t {\n\tport = 10000\n\tbuiltin = trap\n"
	    "\ttcpmux = true\n}\n", ANYHOST, "t.conf:8: ",
	    "service 't': a trap cannot be reached through tcpmux");
	/* Like any builtin, a trap runs no program. */
	msgs_load_fails("service t {\n\tport = 10000\n\tbuiltin = trap\n"
	    "\targs = {x}\n}\n", ANYHOST, "t.conf:4: ",
	    "service 't': args does not apply to a builtin service");
}

static void
test_confgate_trap_loads(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = msgs_load("service t {\n\tport = 10023\n\tbuiltin = trap\n}\n",
	    CONF_AS_USER, &m);
	assert_non_null(conf);
	assert_string_equal(m, "");
	assert_int_equal(conf->nservices, 1);
	assert_int_equal(conf->services[0].builtin, BUILTIN_TRAP);
	assert_null(conf->services[0].server);
	assert_string_equal(conf_builtin_name(conf->services[0].builtin),
	    "trap");
	assert_string_equal(conf_builtin_name(BUILTIN_TCPMUX), "tcpmux");
	assert_string_equal(conf_builtin_name(BUILTIN_METRICS), "metrics");
	assert_string_equal(conf_builtin_name(BUILTIN_CONTROL), "control");
	assert_string_equal(conf_builtin_name(BUILTIN_CONTROL + 1), "unknown");
	conf_free(conf);
	free(m);
}

/* Every default of the new globals, on a config that sets none. */
static void
test_confgate_global_defaults(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = msgs_load(SVC, CONF_AS_USER, &m);
	assert_non_null(conf);
	assert_string_equal(m, "");
	assert_int_equal(conf->knock_max, 4096);
	assert_int_equal(conf->scan_ports, 0);
	assert_int_equal(conf->scan_window_ms, 10000);
	assert_int_equal(conf->scan_detect, SCAN_CONNECT);
	assert_int_equal(conf->scan_ban_time_ms, 60000);
	assert_int_equal(conf->never_ban.n, 0);
	assert_int_equal(conf->firewall, FIREWALL_NONE);
	assert_string_equal(conf->nft_table, "portmux");
	assert_int_equal(conf->services[0].nknock, 0);
	assert_int_equal(conf->services[0].ngate, 0);
	conf_free(conf);
	free(m);
}

/* The globals as given, when they are good. */
static void
test_confgate_global_values(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = msgs_load("knock_max = 1048576\nscan_ports = 64\n"
	    "scan_window = 1m\nscan_detect = connect\nscan_ban_time = 1h\n"
	    "never_ban = {10.0.0.0/8, ::1}\nfirewall = none\n" SVC,
	    CONF_AS_USER, &m);
	assert_non_null(conf);
	assert_string_equal(m, "");
	assert_int_equal(conf->knock_max, 1048576);
	assert_int_equal(conf->scan_ports, 64);
	assert_int_equal(conf->scan_window_ms, 60000);
	assert_int_equal(conf->scan_detect, SCAN_CONNECT);
	assert_int_equal(conf->scan_ban_time_ms, 3600000);
	assert_int_equal(conf->never_ban.n, 2);
	assert_int_equal(conf->never_ban.v[0].family, AF_INET);
	assert_int_equal(conf->never_ban.v[0].prefix, 8);
	assert_int_equal(conf->never_ban.v[1].family, AF_INET6);
	assert_int_equal(conf->never_ban.v[1].prefix, 128);
	assert_int_equal(conf->firewall, FIREWALL_NONE);
	conf_free(conf);
	free(m);
	conf = msgs_load("knock_max = 1\nscan_ports = 2\nscan_detect = syn\n"
	    "firewall = nftables\n" SVC, ANYHOST, &m);
	assert_non_null(conf);
	assert_int_equal(conf->knock_max, 1);
	assert_int_equal(conf->scan_ports, 2);
	assert_int_equal(conf->scan_detect, SCAN_SYN);
	assert_int_equal(conf->firewall, FIREWALL_NFTABLES);
	assert_no_msg(m, "does nothing");
	conf_free(conf);
	free(m);
}

static void
test_confgate_scan_ports(void **state __unused)
{
	msgs_load_fails("# scan\nscan_ports = 1\n" SVC, ANYHOST, "t.conf:2: ",
	    "scan_ports 1 would ban every client: use 0 (off) or 2 to 64");
	msgs_load_fails("# scan\nscan_ports = 65\n" SVC, ANYHOST, "t.conf:2: ",
	    "scan_ports '65': expected a number from 0 to 64");
	msgs_load_fails("# scan\nscan_ports = x\n" SVC, ANYHOST, "t.conf:2: ",
	    "scan_ports 'x': expected a number from 0 to 64");
	msgs_load_fails("# scan\nscan_ports = -2\n" SVC, ANYHOST, "t.conf:2: ",
	    "scan_ports '-2': expected a number");
}

static void
test_confgate_scan_durations(void **state __unused)
{
	msgs_load_fails("# scan\nscan_window = 0\n" SVC, ANYHOST, "t.conf:2: ",
	    "scan_window '0': must not be 0");
	msgs_load_fails("# scan\nscan_window = 10x\n" SVC, ANYHOST, "t.conf:2: ",
	    "scan_window '10x': expected a duration");
	msgs_load_fails("# scan\nscan_ban_time = soon\n" SVC, ANYHOST,
	    "t.conf:2: ", "scan_ban_time 'soon': expected a duration");
	msgs_load_fails("# scan\nscan_ban_time = 0\n" SVC, ANYHOST, "t.conf:2: ",
	    "scan_ban_time '0': must not be 0");
}

static void
test_confgate_scan_detect(void **state __unused)
{
	struct passwd	*pw = getpwuid(geteuid());
	struct conf	*conf;
	char		 want[256], *m;

	msgs_load_fails("# scan\nscan_detect = half\n" SVC, ANYHOST, "t.conf:2: ",
	    "scan_detect 'half': expected connect or syn");
	/* A SYN scan is seen on a packet socket: root. */
	assert_non_null(pw);
	(void)snprintf(want, sizeof(want), "scan_detect = syn (a packet "
	    "socket) needs root, and portmuxd runs as '%s'", pw->pw_name);
	msgs_load_fails("scan_ports = 4\nscan_detect = syn\n" SVC, CONF_AS_USER,
	    "t.conf:2: ", want);
	/* With scan_ports 0 it detects nothing: a warning. */
	conf = msgs_load("# scan\nscan_detect = syn\n" SVC, ANYHOST, &m);
	assert_non_null(conf);
	assert_msg(m, "t.conf:2: warning: ", "scan_detect = syn does nothing "
	    "while scan_ports is 0");
	assert_msg(m, "t.conf:2: warning: ", "needs root");
	conf_free(conf);
	free(m);
	if (!root_ok())
		return;
	conf = msgs_load("# scan\nscan_detect = syn\n" SVC, 0, &m);
	assert_non_null(conf);
	assert_msg(m, "t.conf:2: warning: ", "scan_detect = syn does nothing");
	assert_no_msg(m, "needs root");
	conf_free(conf);
	free(m);
}

static void
test_confgate_never_ban(void **state __unused)
{
	msgs_load_fails("# bans\nnever_ban = {192.0.2.0/24,\n\texample.com}\n"
	    SVC, ANYHOST, "t.conf:3: ", "never_ban 'example.com': not an "
	    "address or CIDR block");
	msgs_load_fails("# bans\nnever_ban = {10.1.2.3/8}\n" SVC, ANYHOST,
	    "t.conf:2: ", "never_ban '10.1.2.3/8': host bits set beyond the "
	    "/8 prefix");
	msgs_load_fails("# bans\nnever_ban = {2001:db8::1/32}\n" SVC, ANYHOST,
	    "t.conf:2: ", "never_ban '2001:db8::1/32': host bits");
	msgs_load_fails("# bans\nnever_ban = {10.0.0.0/33}\n" SVC, ANYHOST,
	    "t.conf:2: ", "never_ban '10.0.0.0/33'");
}

static void
test_confgate_firewall(void **state __unused)
{
	struct passwd	*pw = getpwuid(geteuid());
	char		 want[256];

	msgs_load_fails("# fw\nfirewall = iptables\n" SVC, ANYHOST, "t.conf:2: ",
	    "firewall 'iptables': expected none or nftables");
	msgs_load_fails("# fw\nfirewall = nft\n" SVC, ANYHOST, "t.conf:2: ",
	    "firewall 'nft': expected none or nftables");
	assert_non_null(pw);
	(void)snprintf(want, sizeof(want), "firewall = nftables needs root, "
	    "and portmuxd runs as '%s'", pw->pw_name);
	msgs_load_fails("# fw\nfirewall = nftables\n" SVC, CONF_AS_USER,
	    "t.conf:2: ", want);
}

/* The table name is pasted into nft commands: no quoting, ever. */
static void
test_confgate_nft_table(void **state __unused)
{
	static const char *const bad[] = { "1abc", "a b", "a;b", "_a", "-a",
	    "a.b", "a\\\"b", "abcdefghijklmnopqrstuvwxyz0123456", "", NULL };
	struct conf	*conf;
	char		 cfg[512], want[256], *m;
	int		 i;

	for (i = 0; bad[i] != NULL; i++) {
		(void)snprintf(cfg, sizeof(cfg), "firewall = nftables\n"
		    "nft_table = \"%s\"\n" SVC, bad[i]);
		(void)snprintf(want, sizeof(want), "nft_table '%s': expected "
		    "a letter, then at most 31 letters, digits, '_' or '-'",
		    strcmp(bad[i], "a\\\"b") == 0 ? "a\"b" : bad[i]);
		msgs_load_fails(cfg, ANYHOST, "t.conf:2: ", want);
	}
	conf = msgs_load("firewall = nftables\nnft_table = \"portmux_test-1\"\n"
	    SVC, ANYHOST, &m);
	assert_non_null(conf);
	assert_string_equal(conf->nft_table, "portmux_test-1");
	assert_no_msg(m, "nft_table");
	conf_free(conf);
	free(m);
	/* 32 bytes, the most. */
	conf = msgs_load("firewall = nftables\n"
	    "nft_table = abcdefghijklmnopqrstuvwxyz012345\n" SVC, ANYHOST, &m);
	assert_non_null(conf);
	assert_string_equal(conf->nft_table,
	    "abcdefghijklmnopqrstuvwxyz012345");
	conf_free(conf);
	free(m);
	/* Without the firewall it names nothing: a warning. */
	conf = msgs_load("# fw\nnft_table = other\n" SVC, CONF_AS_USER, &m);
	assert_non_null(conf);
	assert_msg(m, "t.conf:2: warning: ", "nft_table does nothing without "
	    "firewall = nftables");
	assert_string_equal(conf->nft_table, "other");
	conf_free(conf);
	free(m);
}

static void
test_confgate_knock_max(void **state __unused)
{
	msgs_load_fails("# knock\nknock_max = 0\n" SVC, ANYHOST, "t.conf:2: ",
	    "knock_max '0': expected a number from 1 to 1048576");
	msgs_load_fails("# knock\nknock_max = 1048577\n" SVC, ANYHOST,
	    "t.conf:2: ", "knock_max '1048577': expected a number from 1 to "
	    "1048576");
	msgs_load_fails("# knock\nknock_max = many\n" SVC, ANYHOST, "t.conf:2: ",
	    "knock_max 'many': expected a number");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confgate_knock_bad_steps),
		cmocka_unit_test(test_confgate_knock_empty),
		cmocka_unit_test(test_confgate_knock_steps_max),
		cmocka_unit_test(test_confgate_knock_wrong_service),
		cmocka_unit_test(test_confgate_knock_port_taken),
		cmocka_unit_test(test_confgate_knock_ports_total),
		cmocka_unit_test(test_confgate_knock_keys_alone),
		cmocka_unit_test(test_confgate_knock_zero_durations),
		cmocka_unit_test(test_confgate_knock_as_user),
		cmocka_unit_test(test_confgate_knock_root_loads),
		cmocka_unit_test(test_confgate_gate_needs_firewall),
		cmocka_unit_test(test_confgate_gate_serves_nothing),
		cmocka_unit_test(test_confgate_gate_bad_port),
		cmocka_unit_test(test_confgate_gate_port_served),
		cmocka_unit_test(test_confgate_gate_root_loads),
		cmocka_unit_test(test_confgate_trap_rules),
		cmocka_unit_test(test_confgate_trap_loads),
		cmocka_unit_test(test_confgate_global_defaults),
		cmocka_unit_test(test_confgate_global_values),
		cmocka_unit_test(test_confgate_scan_ports),
		cmocka_unit_test(test_confgate_scan_durations),
		cmocka_unit_test(test_confgate_scan_detect),
		cmocka_unit_test(test_confgate_never_ban),
		cmocka_unit_test(test_confgate_firewall),
		cmocka_unit_test(test_confgate_nft_table),
		cmocka_unit_test(test_confgate_knock_max),
		cmocka_unit_test(test_confgate_knock_ports_shared),
		cmocka_unit_test(test_confgate_knock_defaults),
		cmocka_unit_test(test_confgate_knock_disabled),
		cmocka_unit_test(test_confgate_gate_rules),
		cmocka_unit_test(test_confgate_gate_defaults),
	};

	log_init(1, LOG_DEBUG, LOG_DAEMON);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
