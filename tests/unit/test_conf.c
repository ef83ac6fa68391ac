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
 * Unit tests of conf.c: one test per class of config error, each checking
 * the "file:line:" of the message, plus the values and defaults of what
 * loads.  Messages are read back from stderr, where log_init(1, ...)
 * sends them.  The tests pass as root and as an ordinary user: the host
 * matters only through CONF_AS_USER, CONF_CHECK_ONLY, root, nobody and
 * the current user, and the root-only rules are skipped without root.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
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

#include "log.h"
#include "portmuxd.h"
#include "confmsg.h"

#ifndef SRCDIR
#define SRCDIR	"."
#endif
#define FIXTURES	SRCDIR "/unit/conf/inc"

/* The non-root rules, whoever runs the test. */
#define AS_USER		CONF_AS_USER

static int	 portmin(void);
static void	 mkprog(const char *, mode_t, gid_t);
static struct conf *load_prog(const char *, const char *, const char *,
		    char **);

/* The lowest port a non-root user may bind here, as conf.c reads it. */
static int
portmin(void)
{
	FILE	*fp;
	int	 v = 1024;

	if ((fp = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start",
	    "r")) != NULL) {
		if (fscanf(fp, "%d", &v) != 1)
			v = 1024;
		(void)fclose(fp);
	}
	return v;
}

/* A config that loads; expect every default of DESIGN.md. */
static void
test_conf_minimal_defaults(void **state __unused)
{
	struct conf	*conf;
	struct service	*s;
	char		*m;

	conf = msgs_load("service cat {\n\tport = 10000\n\tserver = /bin/cat\n}\n",
	    AS_USER, &m);
	assert_non_null(conf);
	assert_string_equal(m, "");
	assert_string_equal(conf->file, "t.conf");
	assert_false(conf->as_root);
	assert_int_equal(conf->uid, geteuid());
	assert_false(conf->pidfile_set);
	assert_non_null(strstr(conf->pidfile, "/portmuxd.pid"));
	assert_int_equal(conf->log_dest, LOG_TO_SYSLOG);
	assert_int_equal(conf->log_facility, LOG_DAEMON);
	assert_int_equal(conf->log_level, LOG_INFO);
	assert_int_equal(conf->max_children, 512);
	assert_int_equal(conf->ban_time_ms, 600000);
	assert_int_equal(conf->ban_max, 4096);
	assert_int_equal(conf->reload_grace_ms, 5000);
	assert_int_equal(conf->stop_grace_ms, 5000);
	assert_int_equal(conf->allow.n, 0);
	assert_int_equal(conf->nservices, 1);
	s = &conf->services[0];
	assert_string_equal(s->name, "cat");
	assert_string_equal(s->file, "t.conf");
	assert_int_equal(s->line, 1);
	assert_int_equal(s->proto, PROTO_TCP);
	assert_int_equal(s->port, 10000);
	assert_int_equal(s->naddrs, 2);
	assert_int_equal(s->addrs[0].ss.ss_family, AF_INET);
	assert_int_equal(s->addrs[1].ss.ss_family, AF_INET6);
	assert_true(s->addrs[0].wildcard && s->addrs[0].implicit);
	assert_true(s->addrs[1].wildcard && s->addrs[1].implicit);
	assert_int_equal(ntohs(((struct sockaddr_in *)&s->addrs[0].ss)->
	    sin_port), 10000);
	assert_int_equal(s->builtin, BUILTIN_NONE);
	assert_string_equal(s->server, "/bin/cat");
	assert_int_equal(s->uid, geteuid());
	assert_true(s->user_known);
	assert_false(s->wait);
	assert_int_equal(s->instances, 64);
	assert_int_equal(s->per_source, 16);
	assert_int_equal(s->source_prefix4, 32);
	assert_int_equal(s->source_prefix6, 64);
	assert_int_equal(s->rate.count, 0);
	assert_int_equal(s->timeout_ms, 300000);
	assert_int_equal(s->tcpmux_timeout_ms, 10000);
	assert_int_equal(s->tcpmux_maxlen, 256);
	assert_int_equal(s->udp_reply_rate.count, 10);
	assert_int_equal(s->udp_reply_rate.window_ms, 1000);
	assert_int_equal(s->ban_after.count, 20);
	assert_int_equal(s->ban_after.window_ms, 60000);
	assert_int_equal(s->ban_factor, 4);
	assert_false(s->rlimit_nofile.set);
	assert_false(s->nice_set);
	assert_false(s->umask_set);
	assert_null(s->chroot);
	assert_int_equal(s->stderr_mode, STDERR_LOG);
	assert_int_equal(s->backlog, 1024);
	assert_true(s->v6only);
	assert_true(s->keepalive);
	assert_false(s->freebind);
	assert_false(s->accounting);
	assert_false(s->tcpmux);
	assert_null(s->env[0]);
	assert_null(s->passenv[0]);
	conf_free(conf);
	free(m);
}

static void
test_conf_unknown_key(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("service a {\n\tport = 10000\n\tfoo = 1\n"
	    "\tserver = /bin/cat\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:3: ", "service 'a': unknown key 'foo'");
	free(m);
	assert_null(msgs_load("\nbar = 1\n", AS_USER, &m));
	assert_msg(m, "t.conf:2: ", "unknown key 'bar'");
	free(m);
}

static void
test_conf_key_twice(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("service a {\n\tport = 10000\n\tserver = /bin/cat\n"
	    "\tport = 10001\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:4: ",
	    "service 'a': key 'port' given twice (first at line 2)");
	free(m);
	/* "=" again on a list would silently drop the first values. */
	assert_null(msgs_load("allow = {10.0.0.0/8}\nallow = {::1}\n"
	    "service a {\n\tport = 10000\n\tserver = /bin/cat\n}\n", AS_USER,
	    &m));
	assert_msg(m, "t.conf:2: ",
	    "key 'allow' given twice (first at line 1)");
	free(m);
}

static void
test_conf_list_append(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = msgs_load("allow = {10.0.0.0/8}\nallow += {::1}\n"
	    "service a {\n\tport = 10000\n\tserver = /bin/cat\n}\n", AS_USER,
	    &m);
	assert_non_null(conf);
	assert_int_equal(conf->allow.n, 2);
	conf_free(conf);
	free(m);
}

static void
test_conf_bad_port(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("service a {\n\tserver = /bin/cat\n"
	    "\tport = no-such-port-name\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:3: ", "port 'no-such-port-name'");
	free(m);
	assert_null(msgs_load("service a {\n\tserver = /bin/cat\n"
	    "\tport = -7\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:3: ", "port '-7'");
	free(m);
}

static void
test_conf_port_zero(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("service a {\n\tserver = /bin/cat\n\tport = 0\n}\n",
	    AS_USER, &m));
	assert_msg(m, "t.conf:3: ", "port '0': out of range (1-65535)");
	free(m);
}

static void
test_conf_port_70000(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("service a {\n\tserver = /bin/cat\n"
	    "\tport = 70000\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:3: ", "port '70000': out of range (1-65535)");
	free(m);
}

static void
test_conf_named_port(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	if (getservbyname("echo", "tcp") == NULL)
		skip();
	/* -n: port 7 needs root without CONF_AS_USER's caveats. */
	conf = msgs_load("service e {\n\tport = echo\n\tbuiltin = echo\n}\n",
	    AS_USER | CONF_CHECK_ONLY, &m);
	assert_non_null(conf);
	assert_int_equal(conf->services[0].port, 7);
	if (portmin() > 7)
		assert_msg(m, "t.conf:2: ", "warning: service 'e': port 7: "
		    "binding a port below");
	conf_free(conf);
	free(m);
	/* Without -n the bind decides (exit 71), the file is fine. */
	conf = msgs_load("service e {\n\tport = echo\n\tbuiltin = echo\n}\n",
	    AS_USER, &m);
	assert_non_null(conf);
	assert_no_msg(m, "port 7");
	conf_free(conf);
	free(m);
}

static void
test_conf_no_service(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("", AS_USER, &m));
	assert_msg(m, "t.conf:1: ", "no service defined");
	free(m);
	assert_null(msgs_load("# only a comment\nuser = root\n", AS_USER, &m));
	assert_msg(m, "t.conf:1: ", "no service defined");
	free(m);
}

/* Disabled services are checked, then dropped. */
static void
test_conf_disabled(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = msgs_load("service a {\n\tport = 10000\n\tbuiltin = echo\n}\n"
	    "service b {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tdisable = yes\n}\n", AS_USER, &m);
	assert_non_null(conf);
	assert_int_equal(conf->nservices, 1);
	assert_null(conf_service(conf, "b"));
	conf_free(conf);
	free(m);
	assert_null(msgs_load("service b {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\ttimeout = soon\n\tdisable = true\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:4: ", "timeout 'soon'");
	free(m);
	/* Everything switched off is allowed: a reload switches it back. */
	conf = msgs_load("service b {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tdisable = true\n}\n", AS_USER, &m);
	assert_non_null(conf);
	assert_int_equal(conf->nservices, 0);
	assert_msg(m, "t.conf:1: warning: ", "no service to serve (1 disabled");
	conf_free(conf);
	free(m);
}

/*
 * The habits of xinetd: an address whose last parts are 0 is a network
 * there and a host here, 0.0.0.0 is everyone there and nobody here, and
 * server_args pasted into args loses argv[0].  Each is valid but gets a
 * warning that says what it means here and what to write.
 */
static void
test_conf_xinetd_habits(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = msgs_load("allow = {0.0.0.0}\nservice a {\n\tport = 10000\n"
	    "\tserver = /bin/cat\n\targs = {-w}\n\tallow = {10.1.0.0}\n"
	    "\tdeny = {192.0.2.0, 192.0.2.7}\n}\n", AS_USER, &m);
	assert_non_null(conf);
	assert_msg(m, "t.conf:1: warning: ", "allow '0.0.0.0' is the single "
	    "address 0.0.0.0 here");
	assert_msg(m, "t.conf:5: warning: service 'a': ", "args starts with "
	    "'-w'");
	assert_msg(m, "t.conf:5: warning: ", "write args = {cat, -w, ...}");
	assert_msg(m, "t.conf:6: warning: service 'a': ", "allow '10.1.0.0' "
	    "is the single host 10.1.0.0/32 here; xinetd reads it as the "
	    "network 10.1.0.0/16: write 10.1.0.0/16");
	assert_msg(m, "t.conf:7: warning: ", "write 192.0.2.0/24");
	assert_no_msg(m, "192.0.2.7'");
	conf_free(conf);
	free(m);
}

/* Errors that say what to write instead. */
static void
test_conf_hints(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("service a {\n\tport = 10000\n\tserver = /bin/cat"
	    "\n\targs = {rsync, --config=/etc/rsyncd.conf}\n}\n", AS_USER,
	    &m));
	assert_msg(m, "t.conf:4: ", "unexpected '=': a value with '=' in it "
	    "must be quoted: write \"--config=/etc/rsyncd.conf\"");
	free(m);
	assert_null(msgs_load("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\ttimeout = 5 m\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:4: ", "unknown key 'm': a unit follows its "
	    "number without a space");
	free(m);
	assert_null(msgs_load("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tonly_from = 127.0.0.1\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:4: service 'a': ", "unknown key 'only_from': "
	    "xinetd's only_from is allow here");
	free(m);
	assert_null(msgs_load("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tallow = {127.0.0.1 10.0.0.0/8}\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:4: ", "list items are separated by commas: "
	    "write 127.0.0.1, 10.0.0.0/8");
	free(m);
	assert_null(msgs_load("service a {\n\tport = 10000\n\tserver = /bin/cat"
	    "\n\tenv = {LANG=C}\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:4: ", "must be quoted: write \"LANG=C\"");
	free(m);
}

/* Problems are printed in the order of the text, whatever found them. */
static void
test_conf_line_order(void **state __unused)
{
	char		*m, *a, *b, *c;

	/* An overlap (found file-wide) and a bad value (found at once). */
	assert_null(msgs_load("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "}\nservice b {\n\tport = 10000\n\tbuiltin = echo\n}\n"
	    "service c {\n\tport = 10001\n\tbuiltin = echo\n"
	    "\ttimeout = soon\n}\nservice d {\n\tport = 10002\n"
	    "\tbuiltin = daytime\n\tserver = /bin/cat\n}\n", AS_USER, &m));
	a = strstr(m, "t.conf:6: ");
	b = strstr(m, "t.conf:12: ");
	c = strstr(m, "t.conf:17: ");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_ptr_equal(strstr(m, "t.conf:"), a);
	assert_true(a < b && b < c);
	free(m);
}

static void
test_conf_server_and_builtin(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tserver = /bin/cat\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:4: ", "both server and builtin");
	free(m);
}

static void
test_conf_neither_server_nor_builtin(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("\nservice a {\n\tport = 10000\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:2: ", "service 'a': no server, builtin or redirect");
	free(m);
}

static void
test_conf_relative_server(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("service a {\n\tport = 10000\n"
	    "\tserver = bin/cat\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:3: ", "server 'bin/cat': not an absolute path");
	free(m);
}

/* A missing program depends on the host: -n only warns. */
static void
test_conf_missing_server(void **state __unused)
{
	struct conf	*conf;
	char		*m;
	const char	*cfg = "service a {\n\tport = 10000\n"
	    "\tserver = /nonexistent/portmux-test\n}\n";

	/*
	 * At start it disables that service alone: here the only one, so
	 * nothing is served, which is a warning, not a reason to stop.
	 */
	conf = msgs_load(cfg, AS_USER, &m);
	assert_non_null(conf);
	assert_int_equal(conf->nservices, 0);
	assert_msg(m, "t.conf:3: service 'a': ", "No such file or directory");
	assert_no_msg(m, "t.conf:3: warning");
	assert_msg(m, "t.conf:1: service 'a': ", "not served until");
	assert_msg(m, "t.conf:1: warning: ", "no service to serve");
	conf_free(conf);
	free(m);
	conf = msgs_load(cfg, AS_USER | CONF_CHECK_ONLY, &m);
	assert_non_null(conf);
	assert_msg(m, "t.conf:3: warning: ", "server '/nonexistent");
	conf_free(conf);
	free(m);
	conf = msgs_load("service a {\n\tport = 10000\n"
	    "\tserver = /etc/passwd\n}\n", AS_USER, &m);
	assert_non_null(conf);
	assert_int_equal(conf->nservices, 0);
	assert_msg(m, "t.conf:3: ", "not executable");
	conf_free(conf);
	free(m);
}

static void
test_conf_udp_nowait(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("service a {\n\tprotocol = udp\n\tport = 10000\n"
	    "\tserver = /bin/cat\n\twait = false\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:5: ", "use wait = true");
	free(m);
}

static void
test_conf_per_source_on_wait(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	assert_null(msgs_load("service a {\n\tport = 10000\n\tserver = /bin/cat\n"
	    "\twait = true\n\tper_source = 2\n\trate = 1/1s\n"
	    "\tinstances = 3\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:5: ", "per_source does not apply to a wait");
	assert_msg(m, "t.conf:6: ", "rate does not apply to a wait");
	assert_msg(m, "t.conf:7: ", "instances does not apply to a wait");
	free(m);
	/* Inherited from defaults they are fine, as in DESIGN.md's sample. */
	conf = msgs_load("defaults {\n\tper_source = 2\n}\nservice a {\n"
	    "\tport = 10000\n\tserver = /bin/cat\n\twait = true\n}\n",
	    AS_USER, &m);
	assert_non_null(conf);
	assert_int_equal(conf->services[0].instances, 1);
	conf_free(conf);
	free(m);
}

static void
test_conf_builtin_wait(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\twait = true\n\tuser = root\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:4: ", "a builtin cannot use wait = true");
	assert_msg(m, "t.conf:5: ", "user does not apply to a builtin");
	free(m);
}

static void
test_conf_bad_cidr(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("deny = {192.0.2.0/24,\n\texample.com}\n"
	    "service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tallow = {10.0.0.0/33}\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:2: ", "deny 'example.com': not an address");
	assert_msg(m, "t.conf:6: ", "allow '10.0.0.0/33'");
	free(m);
}

static void
test_conf_cidr_host_bits(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tallow = {10.1.2.3/8, 2001:db8::1/32}\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:4: ", "'10.1.2.3/8': host bits set beyond the "
	    "/8 prefix");
	assert_msg(m, "t.conf:4: ", "'2001:db8::1/32': host bits");
	free(m);
}

static void
test_conf_zero_limit(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("max_children = 0\nservice a {\n\tport = 10000\n"
	    "\tbuiltin = echo\n\tinstances = 0\n\tper_source = 0\n}\n",
	    AS_USER, &m));
	assert_msg(m, "t.conf:1: ", "0 is not a valid limit; use unlimited");
	assert_msg(m, "t.conf:5: ", "instances '0': 0 is not a valid limit");
	assert_msg(m, "t.conf:6: ", "per_source '0': 0 is not a valid limit");
	free(m);
}

static void
test_conf_unlimited(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = msgs_load("max_children = unlimited\nservice a {\n"
	    "\tport = 10000\n\tbuiltin = echo\n\tinstances = unlimited\n"
	    "\tper_source = 3\n\trate = unlimited\n"
	    "\tban_after = unlimited\n}\n", AS_USER, &m);
	assert_non_null(conf);
	assert_int_equal(conf->max_children, LIMIT_UNLIMITED);
	assert_int_equal(conf->services[0].instances, LIMIT_UNLIMITED);
	assert_int_equal(conf->services[0].per_source, 3);
	assert_int_equal(conf->services[0].rate.count, 0);
	assert_int_equal(conf->services[0].ban_after.count, 0);
	conf_free(conf);
	free(m);
}

static void
test_conf_bad_duration(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("ban_time = 10d\nservice a {\n\tport = 10000\n"
	    "\tbuiltin = echo\n\ttimeout = 1.5s\n\trate = 10/0s\n}\n",
	    AS_USER, &m));
	assert_msg(m, "t.conf:1: ", "ban_time '10d': expected a duration");
	assert_msg(m, "t.conf:5: ", "timeout '1.5s'");
	assert_msg(m, "t.conf:6: ", "rate '10/0s'");
	free(m);
}

static void
test_conf_parse_durations(void **state __unused)
{
	uint32_t	 ms;

	assert_int_equal(conf_parse_duration("5", &ms), 0);
	assert_int_equal(ms, 5000);
	assert_int_equal(conf_parse_duration("10s", &ms), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(conf_parse_duration("5m", &ms), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(conf_parse_duration("2h", &ms), 0);
	assert_int_equal(ms, 7200000);
	assert_int_equal(conf_parse_duration("0", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(conf_parse_duration("", &ms), -1);
	assert_int_equal(conf_parse_duration("s", &ms), -1);
	assert_int_equal(conf_parse_duration("-1", &ms), -1);
	assert_int_equal(conf_parse_duration("1.5s", &ms), -1);
	assert_int_equal(conf_parse_duration("10 s", &ms), -1);
	assert_int_equal(conf_parse_duration("0x10", &ms), -1);
	assert_int_equal(conf_parse_duration("5d", &ms), -1);
	/* Milliseconds must fit in 32 bits: 1193h is the last that does. */
	assert_int_equal(conf_parse_duration("1193h", &ms), 0);
	assert_int_equal(conf_parse_duration("1194h", &ms), -1);
	assert_int_equal(conf_parse_duration("99999999999999999999", &ms), -1);
}

static void
test_conf_parse_rates(void **state __unused)
{
	struct rate	 r;

	assert_int_equal(conf_parse_rate("30/10s", &r), 0);
	assert_int_equal(r.count, 30);
	assert_int_equal(r.window_ms, 10000);
	assert_int_equal(conf_parse_rate("20/1m", &r), 0);
	assert_int_equal(r.window_ms, 60000);
	assert_int_equal(conf_parse_rate("5/2", &r), 0);
	assert_int_equal(r.window_ms, 2000);
	assert_int_equal(conf_parse_rate("unlimited", &r), 0);
	assert_int_equal(r.count, 0);
	assert_int_equal(conf_parse_rate("0/1s", &r), -1);
	assert_int_equal(conf_parse_rate("5/0", &r), -1);
	assert_int_equal(conf_parse_rate("5", &r), -1);
	assert_int_equal(conf_parse_rate("/1s", &r), -1);
	assert_int_equal(conf_parse_rate("5/", &r), -1);
	assert_int_equal(conf_parse_rate("5/s", &r), -1);
}

static void
test_conf_parse_sizes(void **state __unused)
{
	uint64_t	 b;

	assert_int_equal(conf_parse_size("100", &b), 0);
	assert_int_equal(b, 100);
	assert_int_equal(conf_parse_size("4K", &b), 0);
	assert_int_equal(b, 4096);
	assert_int_equal(conf_parse_size("512M", &b), 0);
	assert_int_equal(b, 512ULL * 1024 * 1024);
	assert_int_equal(conf_parse_size("1G", &b), 0);
	assert_int_equal(b, 1024ULL * 1024 * 1024);
	assert_int_equal(conf_parse_size("1T", &b), -1);
	assert_int_equal(conf_parse_size("1k", &b), -1);
	assert_int_equal(conf_parse_size("G", &b), -1);
	assert_int_equal(conf_parse_size("", &b), -1);
}

static void
test_conf_parse_cidr(void **state __unused)
{
	struct cidr	 c;

	assert_int_equal(conf_parse_cidr("10.0.0.0/8", &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 8);
	assert_int_equal(c.addr[0], 10);
	assert_int_equal(conf_parse_cidr("192.0.2.7", &c), 0);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(conf_parse_cidr("2001:db8::/32", &c), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(conf_parse_cidr("::1", &c), 0);
	assert_int_equal(c.prefix, 128);
	assert_int_equal(conf_parse_cidr("0.0.0.0/0", &c), 0);
	assert_int_equal(conf_parse_cidr("10.0.0.1/8", &c), -1);
	assert_int_equal(conf_parse_cidr("10.0.0.0/33", &c), -1);
	assert_int_equal(conf_parse_cidr("10.0.0.0/", &c), -1);
	assert_int_equal(conf_parse_cidr("10.0.0.0/-1", &c), -1);
	assert_int_equal(conf_parse_cidr("::/129", &c), -1);
	assert_int_equal(conf_parse_cidr("localhost", &c), -1);
	assert_int_equal(conf_parse_cidr("10.0.0/8", &c), -1);
}

static void
test_conf_parse_port(void **state __unused)
{
	uint16_t	 p;

	assert_int_equal(conf_parse_port("1", PROTO_TCP, &p), 0);
	assert_int_equal(p, 1);
	assert_int_equal(conf_parse_port("65535", PROTO_UDP, &p), 0);
	assert_int_equal(p, 65535);
	assert_int_equal(conf_parse_port("0", PROTO_TCP, &p), -1);
	assert_int_equal(conf_parse_port("65536", PROTO_TCP, &p), -1);
	assert_int_equal(conf_parse_port("70000", PROTO_TCP, &p), -1);
	assert_int_equal(conf_parse_port("", PROTO_TCP, &p), -1);
	assert_int_equal(conf_parse_port("no-such-port-name", PROTO_TCP, &p),
	    -1);
	if (getservbyname("ssh", "tcp") != NULL) {
		assert_int_equal(conf_parse_port("ssh", PROTO_TCP, &p), 0);
		assert_int_equal(p, 22);
	}
}

/* Durations, rates and sizes as they come out of a config. */
static void
test_conf_values(void **state __unused)
{
	struct conf	*conf;
	struct service	*s;
	char		*m;

	conf = msgs_load("ban_time = 1h\nreload_grace = 0\nlog = stderr\n"
	    "log_facility = local3\nlog_level = debug\n"
	    "pidfile = /tmp/p.pid\nservice a {\n\tport = 10000\n"
	    "\tserver = /bin/cat\n\ttimeout = 2m\n\trate = 30/10s\n"
	    "\trlimit_as = 1G\n\trlimit_cpu = 2m\n"
	    "\trlimit_nofile = unlimited\n\trlimit_nproc = 10\n"
	    "\tumask = 027\n\tnice = 5\n\tstderr = null\n"
	    "\tsource_prefix6 = 48\n\tv6only = false\n\tkeepalive = off\n}\n",
	    AS_USER, &m);
	assert_non_null(conf);
	assert_int_equal(conf->ban_time_ms, 3600000);
	assert_int_equal(conf->reload_grace_ms, 0);
	assert_int_equal(conf->log_dest, LOG_TO_STDERR);
	assert_int_equal(conf->log_facility, LOG_LOCAL3);
	assert_int_equal(conf->log_level, LOG_DEBUG);
	assert_true(conf->pidfile_set);
	assert_string_equal(conf->pidfile, "/tmp/p.pid");
	s = &conf->services[0];
	assert_int_equal(s->timeout_ms, 120000);
	assert_int_equal(s->rate.count, 30);
	assert_int_equal(s->rate.window_ms, 10000);
	assert_true(s->rlimit_as.set);
	assert_int_equal(s->rlimit_as.value, 1024ULL * 1024 * 1024);
	assert_true(s->rlimit_cpu.set);
	assert_int_equal(s->rlimit_cpu.value, 120);
	assert_true(s->rlimit_nofile.set);
	assert_true(s->rlimit_nofile.value == RLIM_INFINITY);
	assert_int_equal(s->rlimit_nproc.value, 10);
	assert_true(s->umask_set);
	assert_int_equal(s->umask, 027);
	assert_true(s->nice_set);
	assert_int_equal(s->nice, 5);
	assert_int_equal(s->stderr_mode, STDERR_NULL);
	assert_int_equal(s->source_prefix6, 48);
	assert_false(s->keepalive);
	/* v6only = false: one :: socket takes IPv4 too. */
	assert_false(s->v6only);
	assert_int_equal(s->naddrs, 1);
	assert_int_equal(s->addrs[0].ss.ss_family, AF_INET6);
	conf_free(conf);
	free(m);
	assert_null(msgs_load("service a {\n\tport = 10000\n\tserver = /bin/cat\n"
	    "\tumask = 8\n\tnice = 20\n\trlimit_as = 1T\n"
	    "\tsource_prefix4 = 33\n\tbacklog = 0\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:4: ", "umask '8'");
	assert_msg(m, "t.conf:5: ", "nice '20'");
	assert_msg(m, "t.conf:6: ", "rlimit_as '1T'");
	assert_msg(m, "t.conf:7: ", "source_prefix4 '33'");
	assert_msg(m, "t.conf:8: ", "backlog '0'");
	free(m);
}

static void
test_conf_overlap_wildcard(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("service a {\n\tport = 10000\n\tbuiltin = echo\n}\n"
	    "service b {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\taddress = {127.0.0.1}\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:8: ", "service 'b': tcp port 10000 on 127.0.0.1 "
	    "overlaps service 'a' on 0.0.0.0 (line 2)");
	free(m);
	assert_null(msgs_load("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\taddress = {::1, ::1}\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:4: ", "address ::1 overlaps ::1 of the same");
	free(m);
}

/* With v6only = false, :: takes IPv4 too. */
static void
test_conf_overlap_dualstack(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	assert_null(msgs_load("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tv6only = false\n}\nservice b {\n\tport = 10000\n"
	    "\tbuiltin = echo\n\taddress = {127.0.0.1}\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:9: ", "overlaps service 'a' on ::");
	free(m);
	/* Different addresses of one family do not overlap. */
	conf = msgs_load("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\taddress = {127.0.0.1, ::1}\n}\nservice b {\n\tport = 10000\n"
	    "\tbuiltin = echo\n\taddress = {127.0.0.2}\n}\n", AS_USER, &m);
	assert_non_null(conf);
	assert_false(conf->services[0].addrs[0].wildcard);
	assert_false(conf->services[0].addrs[0].implicit);
	conf_free(conf);
	free(m);
}

static void
test_conf_same_port_other_proto(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = msgs_load("service a {\n\tport = 10000\n\tbuiltin = echo\n}\n"
	    "service b {\n\tprotocol = udp\n\tport = 10000\n"
	    "\tbuiltin = echo\n}\n", AS_USER, &m);
	assert_non_null(conf);
	assert_no_msg(m, "overlap");
	assert_int_equal(conf->nservices, 2);
	assert_int_equal(conf->services[1].proto, PROTO_UDP);
	conf_free(conf);
	free(m);
}

static void
test_conf_dup_names_case(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("service echo {\n\tport = 10000\n\tbuiltin = echo\n"
	    "}\nservice Echo {\n\tport = 10001\n\tbuiltin = echo\n}\n",
	    AS_USER, &m));
	assert_msg(m, "t.conf:5: ", "service 'Echo' defined twice (first at "
	    "line 1 as 'echo')");
	free(m);
}

static void
test_conf_dup_names_exact(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("service e {\n\tport = 10000\n\tbuiltin = echo\n"
	    "}\n\nservice e {\n\tport = 10001\n\tbuiltin = echo\n}\n",
	    AS_USER, &m));
	assert_msg(m, "t.conf:6: ", "service 'e' defined twice (first at "
	    "line 1)");
	free(m);
}

static void
test_conf_bad_name(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("service \"a/b\" {\n\tport = 10000\n"
	    "\tbuiltin = echo\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:1: ", "service 'a/b': invalid name");
	free(m);
	assert_null(msgs_load("service aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaa {\n\tport = 10000\n\tbuiltin = echo\n"
	    "}\n",
	    AS_USER, &m));
	assert_msg(m, "t.conf:1: ", "invalid name");
	free(m);
}

static void
test_conf_defaults_twice(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("defaults {\n\tinstances = 5\n}\n"
	    "defaults {\n\tper_source = 5\n}\nservice a {\n\tport = 10000\n"
	    "\tbuiltin = echo\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:4: ", "section 'defaults' given twice (first "
	    "at line 1)");
	free(m);
}

static void
test_conf_include_missing(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("\ninclude(\"/nonexistent/portmux-test.conf\")\n"
	    "service a {\n\tport = 10000\n\tbuiltin = echo\n}\n", AS_USER,
	    &m));
	assert_msg(m, "t.conf:2: ", "include '/nonexistent/portmux-test.conf'"
	    ": No such file or directory");
	free(m);
}

static void
test_conf_include_glob_empty(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = msgs_load("include(\"/nonexistent/*.conf\")\n"
	    "include(\"" FIXTURES "/sub/d/*.nomatch\")\n"
	    "service a {\n\tport = 10000\n\tbuiltin = echo\n}\n", AS_USER, &m);
	assert_non_null(conf);
	assert_string_equal(m, "");
	conf_free(conf);
	free(m);
}

static void
test_conf_include_relative(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = msgs_load_file(FIXTURES "/main.conf", AS_USER, &m);
	assert_non_null(conf);
	assert_string_equal(m, "");
	assert_int_equal(conf->nservices, 4);
	/* In include order, the glob's files in name order. */
	assert_string_equal(conf->services[0].name, "one");
	assert_string_equal(conf->services[0].file, FIXTURES "/sub/one.conf");
	assert_int_equal(conf->services[0].line, 2);
	assert_string_equal(conf->services[1].name, "b");
	assert_string_equal(conf->services[2].name, "a");
	assert_string_equal(conf->services[3].name, "main");
	assert_string_equal(conf->services[3].file, FIXTURES "/main.conf");
	assert_int_equal(conf->services[3].line, 7);
	assert_non_null(conf_service(conf, "ONE"));
	conf_free(conf);
	free(m);
}

/* A line in an included file, after comments, counted in that file. */
static void
test_conf_include_error_line(void **state __unused)
{
	char	*m;

	assert_null(msgs_load_file(FIXTURES "/bad.conf", AS_USER, &m));
	assert_msg(m, FIXTURES "/sub/broken.conf:8: ",
	    "service 'broken': unknown key 'nosuchkey'");
	free(m);
}

static void
test_conf_include_loop(void **state __unused)
{
	char	*m;

	assert_null(msgs_load_file(FIXTURES "/loop.conf", AS_USER, &m));
	assert_msg(m, FIXTURES "/loop.conf:2: ", "include loop");
	free(m);
}

static void
test_conf_line_too_long(void **state __unused)
{
	char	*buf, *m;

	buf = malloc(8192);
	assert_non_null(buf);
	(void)snprintf(buf, 8192, "service a {\n\tport = 10000\n\targs = "
	    "{\"%05000d\"}\n}\n", 0);
	assert_null(msgs_load(buf, AS_USER, &m));
	assert_msg(m, "t.conf:3: ", "line too long");
	free(m);
	free(buf);
}

/* Refused by its size, without reading 10 MB into libconfuse. */
static void
test_conf_file_too_big(void **state __unused)
{
	struct timeval	 t0, t1;
	char		 path[] = "/tmp/portmux-test-XXXXXX";
	char		*buf, *m;
	size_t		 n = 10 * 1024 * 1024;
	int		 fd;

	buf = malloc(n);
	assert_non_null(buf);
	memset(buf, 'a', n);
	assert_true((fd = mkstemp(path)) != -1);
	assert_true(write(fd, buf, n) == (ssize_t)n);
	(void)close(fd);
	(void)gettimeofday(&t0, NULL);
	assert_null(msgs_load_file(path, AS_USER, &m));
	(void)gettimeofday(&t1, NULL);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000000 + t1.tv_usec -
	    t0.tv_usec < 200000);
	/* One runaway line: named as line 1, from a bounded pread. */
	assert_msg(m, path, ":1: line too long");
	free(m);
	(void)unlink(path);
	/* Short lines, but too many of them: the size is the problem. */
	memset(buf, '\n', n);
	(void)snprintf(path, sizeof(path), "/tmp/portmux-test-XXXXXX");
	assert_true((fd = mkstemp(path)) != -1);
	assert_true(write(fd, buf, n) == (ssize_t)n);
	(void)close(fd);
	assert_null(msgs_load_file(path, AS_USER, &m));
	assert_msg(m, path, "file too big");
	free(m);
	(void)unlink(path);
	memset(buf, 'a', n);
	/* The same through conf_load_buf(). */
	buf[n - 1] = '\0';
	(void)gettimeofday(&t0, NULL);
	assert_null(msgs_load(buf, AS_USER, &m));
	(void)gettimeofday(&t1, NULL);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000000 + t1.tv_usec -
	    t0.tv_usec < 200000);
	assert_msg(m, "t.conf: ", "file too big");
	free(m);
	free(buf);
}

static void
test_conf_load_missing_file(void **state __unused)
{
	char	*m;

	assert_null(msgs_load_file("/nonexistent/portmux.conf", 0, &m));
	assert_msg(m, "/nonexistent/portmux.conf: ",
	    "No such file or directory");
	free(m);
}

static void
test_conf_var_defined(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	assert_int_equal(setenv("PMX_TEST_PORT", "10007", 1), 0);
	assert_int_equal(setenv("PMX_TEST_ARG", "x y", 1), 0);
	conf = msgs_load("service a {\n\tport = ${PMX_TEST_PORT}\n"
	    "\tserver = /bin/cat\n\targs = {cat, \"-${PMX_TEST_ARG}-\", "
	    "'${PMX_TEST_ARG}'}\n}\n", AS_USER, &m);
	assert_non_null(conf);
	assert_int_equal(conf->services[0].port, 10007);
	assert_string_equal(conf->services[0].args[1], "-x y-");
	/* Single quotes keep the text as it is. */
	assert_string_equal(conf->services[0].args[2], "${PMX_TEST_ARG}");
	conf_free(conf);
	free(m);
}

static void
test_conf_var_undefined(void **state __unused)
{
	char	*m;

	(void)unsetenv("PMX_TEST_UNDEF");
	assert_null(msgs_load("service a {\n\tport = 10000\n\tserver = /bin/cat\n"
	    "\tenv = {\"A=${PMX_TEST_UNDEF}\"}\n"
	    "\tuser = ${PMX_TEST_UNDEF}\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:4: ", "undefined variable 'PMX_TEST_UNDEF'");
	assert_msg(m, "t.conf:5: ", "undefined variable 'PMX_TEST_UNDEF'");
	free(m);
	/* Not in comments, where nothing is expanded. */
	assert_null(msgs_load("# ${PMX_TEST_UNDEF}\nservice a {\n\tport = 10000\n"
	    "\tserver = /bin/cat\n\tfoo = 1\n}\n", AS_USER, &m));
	assert_no_msg(m, "undefined");
	assert_msg(m, "t.conf:5: ", "unknown key 'foo'");
	free(m);
}

static void
test_conf_var_default(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	(void)unsetenv("PMX_TEST_UNDEF");
	conf = msgs_load("service a {\n\tport = ${PMX_TEST_UNDEF:-10009}\n"
	    "\tbuiltin = echo\n}\n", AS_USER, &m);
	assert_non_null(conf);
	assert_int_equal(conf->services[0].port, 10009);
	conf_free(conf);
	free(m);
}

/* libconfuse expands an unquoted reference only as a whole word. */
static void
test_conf_var_in_word(void **state __unused)
{
	char	*m;

	assert_int_equal(setenv("PMX_TEST_PORT", "10007", 1), 0);
	assert_null(msgs_load("service a {\n\tport = 1${PMX_TEST_PORT}\n"
	    "\tbuiltin = echo\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:2: ", "must be a whole value or inside double");
	free(m);
}

/* libconfuse's lexer would drop an unquoted '*' or '+' silently. */
static void
test_conf_stray_chars(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	assert_null(msgs_load("service a {\n\tport = +10000\n\tbuiltin = echo\n"
	    "\taddress = {*}\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:2: ", "'+' must be inside quotes");
	assert_msg(m, "t.conf:4: ", "'*' must be inside quotes");
	free(m);
	conf = msgs_load("service \"a+b\" {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\taddress += {\"::1\"}\n}\n", AS_USER, &m);
	assert_non_null(conf);
	assert_string_equal(conf->services[0].name, "a+b");
	conf_free(conf);
	free(m);
}

/*
 * libconfuse 3.3 alone counts a '#' line as three and a block comment as
 * two, and fails on a comment inside a list: pin the pre-pass's fix.
 */
static void
test_conf_comment_lines(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	assert_null(msgs_load("# one\n# two\n// three\n/* four\n   five */\n"
	    "service a { # six\n\tport = 10000 // seven\n"
	    "\tallow = {10.0.0.0/8, # eight\n\t\t192.0.2.0/24} /* nine */\n"
	    "\tbogus = 1\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:10: ", "unknown key 'bogus'");
	free(m);
	conf = msgs_load("service a {\n\tport = 10000 # c\n\tbuiltin = echo\n"
	    "\tallow = {10.0.0.0/8, # c\n\t\t192.0.2.0/24}\n"
	    "\targs = {\"a#b\", \"//c\"}\n}\n", AS_USER, &m);
	assert_null(conf);
	/* A '#' in quotes is no comment: args reaches the builtin check. */
	assert_msg(m, "t.conf:6: ", "args does not apply to a builtin");
	free(m);
}

static void
test_conf_defaults_inherit(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = msgs_load("defaults {\n\tinstances = 10\n\ttimeout = 1m\n"
	    "\tper_source = 2\n}\nservice a {\n\tport = 10000\n"
	    "\tbuiltin = echo\n}\nservice b {\n\tport = 10001\n"
	    "\tbuiltin = echo\n\tinstances = 20\n}\n", AS_USER, &m);
	assert_non_null(conf);
	assert_int_equal(conf_service(conf, "a")->instances, 10);
	assert_int_equal(conf_service(conf, "a")->timeout_ms, 60000);
	assert_int_equal(conf_service(conf, "b")->instances, 20);
	assert_int_equal(conf_service(conf, "b")->timeout_ms, 60000);
	assert_int_equal(conf_service(conf, "b")->per_source, 2);
	conf_free(conf);
	free(m);
	/* A bad value in defaults is reported at its own line. */
	assert_null(msgs_load("defaults {\n\tinstances = none\n}\nservice a {\n"
	    "\tport = 10000\n\tbuiltin = echo\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:2: ", "defaults: instances 'none'");
	free(m);
}

/* A service's allow/deny replace the defaults', never the global ones. */
static void
test_conf_acl_replace(void **state __unused)
{
	struct conf	*conf;
	struct service	*s;
	char		*m;

	conf = msgs_load("allow = {192.0.2.0/24}\ndeny = {192.0.2.9}\n"
	    "defaults {\n\tallow = {10.0.0.0/8, 172.16.0.0/12}\n}\n"
	    "service a {\n\tport = 10000\n\tbuiltin = echo\n}\n"
	    "service b {\n\tport = 10001\n\tbuiltin = echo\n"
	    "\tallow = {2001:db8::/32}\n\tdeny = {10.1.0.0/16}\n}\n"
	    "service c {\n\tport = 10002\n\tbuiltin = echo\n\tallow = {}\n}\n",
	    AS_USER, &m);
	assert_non_null(conf);
	assert_int_equal(conf->allow.n, 1);
	assert_int_equal(conf->deny.n, 1);
	assert_int_equal(conf->deny.v[0].prefix, 32);
	s = conf_service(conf, "a");
	assert_int_equal(s->allow.n, 2);
	assert_int_equal(s->allow.v[1].prefix, 12);
	assert_int_equal(s->deny.n, 0);
	s = conf_service(conf, "b");
	assert_int_equal(s->allow.n, 1);
	assert_int_equal(s->allow.v[0].family, AF_INET6);
	assert_int_equal(s->deny.n, 1);
	s = conf_service(conf, "c");
	assert_int_equal(s->allow.n, 0);
	conf_free(conf);
	free(m);
}

static void
test_conf_args_default(void **state __unused)
{
	struct conf	*conf;
	struct service	*s;
	char		*m;

	conf = msgs_load("service a {\n\tport = 10000\n\tserver = /bin/cat\n}\n"
	    "service b {\n\tport = 10001\n\tserver = /bin/sh\n"
	    "\targs = {sh, -c, \"echo hi\"}\n}\n", AS_USER, &m);
	assert_non_null(conf);
	s = conf_service(conf, "a");
	assert_string_equal(s->args[0], "cat");
	assert_null(s->args[1]);
	s = conf_service(conf, "b");
	assert_string_equal(s->args[0], "sh");
	assert_string_equal(s->args[1], "-c");
	assert_string_equal(s->args[2], "echo hi");
	assert_null(s->args[3]);
	conf_free(conf);
	free(m);
	assert_null(msgs_load("service a {\n\tport = 10000\n\tserver = /bin/cat\n"
	    "\targs = {}\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:4: ", "args is empty");
	free(m);
}

static void
test_conf_env_passenv(void **state __unused)
{
	struct conf	*conf;
	struct service	*s;
	char		*m;

	conf = msgs_load("service a {\n\tport = 10000\n\tserver = /bin/cat\n"
	    "\tenv = {\"LANG=C.UTF-8\", \"EMPTY=\"}\n\tpassenv = {TZ}\n}\n",
	    AS_USER, &m);
	assert_non_null(conf);
	s = &conf->services[0];
	assert_string_equal(s->env[0], "LANG=C.UTF-8");
	assert_string_equal(s->env[1], "EMPTY=");
	assert_null(s->env[2]);
	assert_string_equal(s->passenv[0], "TZ");
	assert_null(s->passenv[1]);
	conf_free(conf);
	free(m);
}

static void
test_conf_env_bad(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("service a {\n\tport = 10000\n\tserver = /bin/cat\n"
	    "\tenv = {\"NOEQUALS\", \"TCPREMOTEIP=1.2.3.4\", \"A=1\", "
	    "\"A=2\"}\n\tpassenv = {\"BAD NAME\", PORTMUX_CONN}\n}\n",
	    AS_USER, &m));
	assert_msg(m, "t.conf:4: ", "env 'NOEQUALS': expected NAME=value");
	assert_msg(m, "t.conf:4: ",
	    "env 'TCPREMOTEIP=1.2.3.4': portmuxd sets");
	assert_msg(m, "t.conf:4: ", "variable 'A' given twice");
	assert_msg(m, "t.conf:5: ", "passenv 'BAD NAME': not a variable name");
	assert_msg(m, "t.conf:5: ", "passenv 'PORTMUX_CONN': portmuxd sets");
	free(m);
}

/* Started without root: no other user, no chroot, no negative nice. */
static void
test_conf_as_user_rules(void **state __unused)
{
	struct passwd	*pw = getpwuid(geteuid());
	const char	*other = geteuid() == 0 ? "nobody" : "root";
	char		 cfg[512], *m;

	(void)snprintf(cfg, sizeof(cfg), "user = %s\nservice a {\n"
	    "\tport = 10000\n\tserver = /bin/cat\n\tuser = %s\n"
	    "\tchroot = /\n\tnice = -1\n}\nservice b {\n\tport = 80\n"
	    "\tbuiltin = echo\n}\n", other, other);
	assert_null(msgs_load(cfg, AS_USER, &m));
	assert_msg(m, "t.conf:1: ", "without root, portmuxd runs as");
	assert_msg(m, "t.conf:5: ", "service 'a': user ");
	assert_msg(m, "t.conf:6: ", "chroot needs portmuxd to start as root");
	assert_msg(m, "t.conf:7: ", "a negative nice needs");
	/* A port below 1024 is left to bind(), which exits 71 (DESIGN.md). */
	assert_no_msg(m, "port 80");
	free(m);
	/* The starting user, named, is fine. */
	if (pw != NULL) {
		(void)snprintf(cfg, sizeof(cfg), "user = %s\nservice a {\n"
		    "\tport = 10000\n\tserver = /bin/cat\n\tuser = %s\n}\n",
		    pw->pw_name, pw->pw_name);
		conf_free(msgs_load(cfg, AS_USER, &m));
		assert_string_equal(m, "");
		free(m);
	}
}

/* Under -n, the same problems are warnings and the load succeeds. */
static void
test_conf_as_user_check_only(void **state __unused)
{
	struct conf	*conf;
	struct service	*s;
	char		*m;

	conf = msgs_load("service a {\n\tport = 10000\n\tserver = /bin/cat\n"
	    "\tuser = portmux-no-such-user\n\tchroot = /\n}\n",
	    AS_USER | CONF_CHECK_ONLY, &m);
	assert_non_null(conf);
	assert_msg(m, "t.conf:4: warning: ", "user 'portmux-no-such-user'");
	assert_msg(m, "t.conf:5: warning: ", "chroot");
	s = &conf->services[0];
	assert_int_equal(s->uid, geteuid());
	assert_int_equal(s->ngroups, 0);
	conf_free(conf);
	free(m);
}

/* As root: accounts are resolved, and the engine's is kept apart. */
static void
test_conf_root_rules(void **state __unused)
{
	struct passwd	*pw = NULL;
	struct conf	*conf;
	struct service	*s;
	char		*m;
	uid_t		 nobody;
	int		 i;
	bool		 found = false;

	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL)
		skip();
	nobody = pw->pw_uid;	/* conf.c's own getpwnam() reuses *pw */
	/* The default service user is nobody: the engine's here. */
	assert_null(msgs_load("user = nobody\nservice a {\n\tport = 10000\n"
	    "\tserver = /bin/cat\n}\n", 0, &m));
	assert_msg(m, "t.conf:2: ", "user 'nobody' is the engine's account");
	free(m);
	conf = msgs_load("user = nobody\nservice a {\n\tport = 7\n"
	    "\tserver = /bin/cat\n\tuser = root\n}\n", 0, &m);
	assert_non_null(conf);
	assert_true(conf->as_root);
	assert_int_equal(conf->uid, nobody);
	s = &conf->services[0];
	assert_string_equal(s->user, "root");
	assert_int_equal(s->uid, 0);
	assert_int_equal(s->gid, 0);
	assert_true(s->ngroups >= 1);
	for (i = 0; i < s->ngroups; i++)
		found |= s->groups[i] == 0;
	assert_true(found);
	conf_free(conf);
	free(m);
	assert_null(msgs_load("user = portmux-no-such-user\nservice a {\n"
	    "\tport = 10000\n\tbuiltin = echo\n}\n", 0, &m));
	assert_msg(m, "t.conf:1: ", "create it: useradd --system "
	    "--no-create-home --home-dir /nonexistent --shell "
	    "/usr/sbin/nologin portmux-no-such-user");
	free(m);
	/* -n as root checks this host: its problems are errors. */
	assert_null(msgs_load("user = portmux-no-such-user\nservice a {\n"
	    "\tport = 10000\n\tbuiltin = echo\n}\n", CONF_CHECK_ONLY, &m));
	assert_msg(m, "t.conf:1: user", "useradd");
	free(m);
	/* At start, a service's unknown user disables that service alone. */
	conf = msgs_load("service a {\n\tport = 10000\n\tserver = /bin/cat\n"
	    "\tuser = portmux-no-such-user\n}\nservice b {\n"
	    "\tport = 10001\n\tbuiltin = echo\n}\n", 0, &m);
	assert_non_null(conf);
	assert_int_equal(conf->nservices, 1);
	assert_string_equal(conf->services[0].name, "b");
	assert_msg(m, "t.conf:4: service 'a': ", "user 'portmux-no-such-user' "
	    "does not exist");
	assert_msg(m, "t.conf:1: service 'a': ", "not served");
	conf_free(conf);
	free(m);
	conf = msgs_load("service a {\n\tport = 10000\n\tserver = /bin/cat\n"
	    "\tuser = portmux-no-such-user\n}\nservice b {\n"
	    "\tport = 10001\n\tbuiltin = echo\n}\n", CONF_CHECK_ONLY, &m);
	assert_null(conf);
	assert_msg(m, "t.conf:4: service 'a': ", "does not exist");
	assert_no_msg(m, "warning");
	free(m);
	assert_null(msgs_load("user = root\nservice a {\n\tport = 10000\n"
	    "\tbuiltin = echo\n}\n", 0, &m));
	assert_msg(m, "t.conf:1: ", "has uid 0");
	free(m);
}

/* The limit and ban keys load into the service and the globals. */
static void
test_conf_limit_keys(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = msgs_load("ban_time = 1m\nban_max = 10\nservice t {\n"
	    "\tport = 10002\n\tserver = /bin/cat\n\tper_source = 2\n"
	    "\trate = 5/1s\n\taccounting = true\n\tban_after = 3/10s\n"
	    "\tban_factor = 2\n}\n", AS_USER, &m);
	assert_non_null(conf);
	assert_no_msg(m, "not enforced");
	assert_int_equal(conf->ban_time_ms, 60000);
	assert_int_equal(conf->ban_max, 10);
	assert_int_equal(conf->services[0].per_source, 2);
	assert_int_equal(conf->services[0].rate.count, 5);
	assert_int_equal(conf->services[0].rate.window_ms, 1000);
	assert_true(conf->services[0].accounting);
	assert_int_equal(conf->services[0].ban_after.count, 3);
	assert_int_equal(conf->services[0].ban_after.window_ms, 10000);
	assert_int_equal(conf->services[0].ban_factor, 2);
	conf_free(conf);
	free(m);
}

static void
test_conf_unix_rules(void **state __unused)
{
	char	*m;

	assert_null(msgs_load("service s {\n\tprotocol = unix\n\tport = 10000\n"
	    "\tallow = {10.0.0.0/8}\n\tbuiltin = echo\n}\n"
	    "service p {\n\tport = 10001\n\tbuiltin = echo\n"
	    "\tpath = /tmp/x.sock\n\tmode = 0600\n}\n"
	    "service r {\n\tprotocol = unix\n\tpath = tmp/x.sock\n"
	    "\tbuiltin = echo\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:3: ", "port does not apply to protocol unix");
	assert_msg(m, "t.conf:4: ", "allow does not apply to protocol unix");
	assert_msg(m, "t.conf:10: ", "path applies only to protocol unix");
	assert_msg(m, "t.conf:11: ", "mode applies only to protocol unix");
	assert_msg(m, "t.conf:15: ", "path 'tmp/x.sock': not an absolute");
	free(m);
}

static void
test_conf_tcpmux_only(void **state __unused)
{
	char	*m;

	/* No port: fine with tcpmux = true (refused later, this release). */
	assert_null(msgs_load("service t {\n\tserver = /bin/cat\n"
	    "\ttcpmux = true\n}\nservice n {\n\tserver = /bin/cat\n}\n",
	    AS_USER, &m));
	assert_no_msg(m, "service 't': port is required");
	assert_msg(m, "t.conf:5: ", "service 'n': port is required");
	free(m);
}

static void
test_conf_lookup_names(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = msgs_load("service Daytime {\n\tport = 10000\n"
	    "\tbuiltin = daytime\n}\n", AS_USER, &m);
	assert_non_null(conf);
	assert_ptr_equal(conf_service(conf, "daytime"), &conf->services[0]);
	assert_null(conf_service(conf, "time"));
	assert_int_equal(conf->services[0].builtin, BUILTIN_DAYTIME);
	assert_string_equal(conf_builtin_name(BUILTIN_DAYTIME), "daytime");
	assert_string_equal(conf_builtin_name(BUILTIN_TCPMUX), "tcpmux");
	assert_string_equal(conf_builtin_name(BUILTIN_NONE), "none");
	assert_string_equal(conf_proto_name(PROTO_UDP), "udp");
	assert_string_equal(conf_proto_name(PROTO_UNIX), "unix");
	conf_free(conf);
	conf_free(NULL);
	free(m);
}

/*
 * libconfuse calls no callback for "key = {}", so an empty list had no
 * line of its own and its problems pointed at the section's brace.
 */
static void
test_conf_empty_list_line(void **state __unused)
{
	char	*m;

	msgs_load_fails("service a {\n\tport = 10000\n\tserver = /bin/cat\n"
	    "\taddress = {}\n}\n", AS_USER, "t.conf:4: ",
	    "service 'a': address list is empty");
	msgs_load_fails("service a {\n\tport = 10000\n\tserver = /bin/cat\n"
	    "\n\targs = {}\n}\n", AS_USER, "t.conf:5: ", "args is empty");
	msgs_load_fails("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tenv = {\n\t}\n}\n", AS_USER, "t.conf:4: ",
	    "env does not apply to a builtin service");
	msgs_load_fails("service s {\n\tprotocol = unix\n\tpath = /tmp/x.sock\n"
	    "\tbuiltin = echo\n\tallow = {}\n}\n", AS_USER, "t.conf:5: ",
	    "allow does not apply to protocol unix");
	/* From defaults, the defaults' line is to blame. */
	msgs_load_fails("defaults {\n\tinstances = 5\n\taddress = { }\n}\n"
	    "service a {\n\tport = 10000\n\tbuiltin = echo\n}\n", AS_USER,
	    "t.conf:3: ", "service 'a': address list is empty");
	/* Quoted braces and a ${VAR} are no list. */
	assert_null(msgs_load("service a {\n\tport = 10000\n"
	    "\tserver = /bin/cat\n\targs = {\"x}\", \"{\"}\n"
	    "\tenv = {\"A=${HOME}\"}\n\taddress = {}\n}\n", AS_USER, &m));
	assert_msg(m, "t.conf:6: ", "address list is empty");
	free(m);
}

/* "=" a second time drops the first list, empty or not. */
static void
test_conf_list_twice_empty(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	msgs_load_fails("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\taddress = {}\n\taddress = {\"127.0.0.1\"}\n}\n", AS_USER,
	    "t.conf:5: ", "service 'a': key 'address' given twice (first at "
	    "line 4); use += to add to a list");
	msgs_load_fails("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\taddress = {\"127.0.0.1\"}\n\taddress = {}\n}\n", AS_USER,
	    "t.conf:5: ", "key 'address' given twice (first at line 4)");
	msgs_load_fails("\"allow\" = {}\nallow = {10.0.0.0/8}\n"
	    "service a {\n\tport = 10000\n\tbuiltin = echo\n}\n", AS_USER,
	    "t.conf:2: ", "key 'allow' given twice (first at line 1)");
	/* Reported once, by whichever check sees it. */
	assert_null(msgs_load("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\tdeny = {10.0.0.0/8}\n\tdeny = {}\n\tdeny = {::1/128}\n}\n",
	    AS_USER, &m));
	assert_msg(m, "t.conf:5: ", "key 'deny' given twice (first at line 4)");
	assert_msg(m, "t.conf:6: ", "key 'deny' given twice (first at line 4)");
	assert_int_equal(strstr(strstr(m, "t.conf:6: ") + 1, "t.conf:6: ") ==
	    NULL, 1);
	free(m);
	/* += adds to an empty list: no duplicate. */
	conf = msgs_load("service a {\n\tport = 10000\n\tbuiltin = echo\n"
	    "\taddress = {}\n\taddress += {\"127.0.0.1\"}\n}\n", AS_USER, &m);
	assert_non_null(conf);
	assert_string_equal(m, "");
	assert_int_equal(conf->services[0].naddrs, 1);
	conf_free(conf);
	free(m);
}

/*
 * tcpmux is reached over TCP: from defaults it applies only where it
 * can, as the limits of defaults do on a wait service; a service's own
 * tcpmux = true where it cannot is an error at the key.
 */
static void
test_conf_tcpmux_defaults(void **state __unused)
{
	struct conf	*conf;
	char		*m;

	conf = msgs_load("defaults {\n\ttcpmux = true\n}\n"
	    "service mux {\n\tport = 10000\n\tbuiltin = tcpmux\n}\n"
	    "service t {\n\tserver = /bin/cat\n}\n"
	    "service u {\n\tprotocol = unix\n\tpath = /tmp/pmx-u.sock\n"
	    "\tserver = /bin/cat\n}\n"
	    "service d {\n\tprotocol = udp\n\tport = 10001\n\twait = true\n"
	    "\tserver = /bin/cat\n}\n"
	    "service w {\n\tport = 10002\n\twait = true\n"
	    "\tserver = /bin/cat\n}\n"
	    "service x {\n\tport = 10003\n\tbuiltin = trap\n}\n", AS_USER, &m);
	assert_non_null(conf);
	assert_string_equal(m, "");
	assert_true(conf_service(conf, "t")->tcpmux);
	assert_false(conf_service(conf, "u")->tcpmux);
	assert_false(conf_service(conf, "d")->tcpmux);
	assert_false(conf_service(conf, "w")->tcpmux);
	assert_false(conf_service(conf, "x")->tcpmux);
	conf_free(conf);
	free(m);
	msgs_load_fails("service mux {\n\tport = 10000\n\tbuiltin = tcpmux\n}\n"
	    "service u {\n\tprotocol = unix\n\tpath = /tmp/pmx-u.sock\n"
	    "\tserver = /bin/cat\n\ttcpmux = true\n}\n", AS_USER, "t.conf:9: ",
	    "service 'u': tcpmux does not apply to protocol unix");
	msgs_load_fails("service mux {\n\tport = 10000\n\tbuiltin = tcpmux\n}\n"
	    "service d {\n\tprotocol = udp\n\tport = 10001\n\twait = true\n"
	    "\tserver = /bin/cat\n\ttcpmux = true\n}\n", AS_USER, "t.conf:10: ",
	    "service 'd': tcpmux needs protocol tcp");
}

/* A script at path with mode; as root also chowned to root:gid. */
static void
mkprog(const char *path, mode_t mode, gid_t gid)
{
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	assert_int_equal(close(fd), 0);
	if (geteuid() == 0)
		assert_int_equal(chown(path, 0, gid), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Service a runs server as user, with "extra" as line 6, as root. */
static struct conf *
load_prog(const char *server, const char *user, const char *extra,
    char **m)
{
	char	 cfg[1024];

	(void)snprintf(cfg, sizeof(cfg), "user = daemon\nservice a {\n"
	    "\tport = 10000\n\tserver = %s\n\tuser = %s\n%s}\n", server, user,
	    extra);
	return msgs_load(cfg, 0, m);
}

/* The service's user must be able to exec server, whoever loads. */
static void
test_conf_server_mode(void **state __unused)
{
	struct passwd	*pw = getpwuid(geteuid());
	struct conf	*conf;
	char		 dir[] = "/tmp/pmx-conf-XXXXXX", prog[64], want[256];
	char		 cfg[256], *m;

	assert_non_null(pw);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	(void)snprintf(prog, sizeof(prog), "%s/prog", dir);
	mkprog(prog, 0644, 0);
	(void)snprintf(cfg, sizeof(cfg), "service a {\n\tport = 10000\n"
	    "\tserver = %s\n}\n", prog);
	(void)snprintf(want, sizeof(want), "server '%s': not executable by "
	    "user '%s'", prog, pw->pw_name);
	conf = msgs_load(cfg, AS_USER, &m);
	assert_non_null(conf);
	assert_int_equal(conf->nservices, 0);
	assert_msg(m, "t.conf:3: service 'a': ", want);
	conf_free(conf);
	free(m);
	assert_int_equal(chmod(prog, 0755), 0);
	conf = msgs_load(cfg, AS_USER, &m);
	assert_non_null(conf);
	assert_int_equal(conf->nservices, 1);
	assert_string_equal(m, "");
	conf_free(conf);
	free(m);
	assert_int_equal(unlink(prog), 0);
	assert_int_equal(rmdir(dir), 0);
}

/*
 * As root, access(2) would answer for root: the bits are read for the
 * service's own account, its groups and every directory on the way,
 * from the chroot down when there is one.
 */
static void
test_conf_server_user(void **state __unused)
{
	struct passwd	*pw;
	struct conf	*conf;
	char		 dir[] = "/tmp/pmx-conf-XXXXXX", path[4][96];
	char		 extra[160], *m;
	gid_t		 ngid;

	if (geteuid() != 0 || getpwnam("daemon") == NULL ||
	    (pw = getpwnam("nobody")) == NULL)
		skip();
	ngid = pw->pw_gid;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	(void)snprintf(path[0], sizeof(path[0]), "%s/prog", dir);
	(void)snprintf(path[1], sizeof(path[1]), "%s/locked", dir);
	(void)snprintf(path[2], sizeof(path[2]), "%s/locked/jail", dir);
	(void)snprintf(path[3], sizeof(path[3]), "%s/locked/jail/prog", dir);
	assert_int_equal(mkdir(path[1], 0700), 0);
	assert_int_equal(mkdir(path[2], 0755), 0);
	mkprog(path[3], 0755, 0);

	/* Root's own 0700: nobody is "other". */
	mkprog(path[0], 0700, 0);
	assert_non_null(conf = load_prog(path[0], "nobody", "", &m));
	assert_int_equal(conf->nservices, 0);
	assert_msg(m, "t.conf:4: service 'a': server '", "prog': not "
	    "executable by user 'nobody' (mode 0700, owner 0:0)");
	conf_free(conf);
	free(m);
	/* The group's bits, not the others', for a member. */
	mkprog(path[0], 0701, ngid);
	assert_non_null(conf = load_prog(path[0], "nobody", "", &m));
	assert_int_equal(conf->nservices, 0);
	assert_msg(m, "t.conf:4: ", "not executable by user 'nobody'");
	conf_free(conf);
	free(m);
	mkprog(path[0], 0710, ngid);
	assert_non_null(conf = load_prog(path[0], "nobody", "", &m));
	assert_int_equal(conf->nservices, 1);
	assert_string_equal(m, "");
	conf_free(conf);
	free(m);
	mkprog(path[0], 0755, 0);
	assert_non_null(conf = load_prog(path[0], "nobody", "", &m));
	assert_int_equal(conf->nservices, 1);
	assert_string_equal(m, "");
	conf_free(conf);
	free(m);
	/* Root needs one x bit at least. */
	mkprog(path[0], 0600, 0);
	assert_non_null(conf = load_prog(path[0], "root", "", &m));
	assert_int_equal(conf->nservices, 0);
	assert_msg(m, "t.conf:4: ", "not executable by user 'root'");
	conf_free(conf);
	free(m);
	/* A directory on the way that nobody may not search. */
	assert_non_null(conf = load_prog(path[3], "nobody", "", &m));
	assert_int_equal(conf->nservices, 0);
	assert_msg(m, "t.conf:4: ", "not executable by user 'nobody': no "
	    "search permission on '");
	assert_msg(m, "t.conf:4: ", "/locked'");
	conf_free(conf);
	free(m);
	/* In a chroot, the path is the jail's; its parents are root's. */
	(void)snprintf(extra, sizeof(extra), "\tchroot = %s\n", path[2]);
	assert_non_null(conf = load_prog("/prog", "nobody", extra, &m));
	assert_int_equal(conf->nservices, 1);
	assert_string_equal(m, "");
	conf_free(conf);
	free(m);
	assert_int_equal(chmod(path[2], 0700), 0);
	assert_non_null(conf = load_prog("/prog", "nobody", extra, &m));
	assert_int_equal(conf->nservices, 0);
	assert_msg(m, "t.conf:4: ", "no search permission on '");
	assert_msg(m, "t.conf:4: ", "/locked/jail'");
	conf_free(conf);
	free(m);
	/* -n as root checks this host: an error. */
	msgs_load_fails("user = daemon\nservice a {\n\tport = 10000\n"
	    "\tserver = /etc/passwd\n}\n", CONF_CHECK_ONLY, "t.conf:4: ",
	    "server '/etc/passwd': not executable by user 'nobody'");
	assert_int_equal(unlink(path[3]), 0);
	assert_int_equal(unlink(path[0]), 0);
	assert_int_equal(rmdir(path[2]), 0);
	assert_int_equal(rmdir(path[1]), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_minimal_defaults),
		cmocka_unit_test(test_conf_unknown_key),
		cmocka_unit_test(test_conf_key_twice),
		cmocka_unit_test(test_conf_list_append),
		cmocka_unit_test(test_conf_bad_port),
		cmocka_unit_test(test_conf_port_zero),
		cmocka_unit_test(test_conf_port_70000),
		cmocka_unit_test(test_conf_named_port),
		cmocka_unit_test(test_conf_no_service),
		cmocka_unit_test(test_conf_disabled),
		cmocka_unit_test(test_conf_line_order),
		cmocka_unit_test(test_conf_xinetd_habits),
		cmocka_unit_test(test_conf_hints),
		cmocka_unit_test(test_conf_server_and_builtin),
		cmocka_unit_test(test_conf_neither_server_nor_builtin),
		cmocka_unit_test(test_conf_relative_server),
		cmocka_unit_test(test_conf_missing_server),
		cmocka_unit_test(test_conf_udp_nowait),
		cmocka_unit_test(test_conf_per_source_on_wait),
		cmocka_unit_test(test_conf_builtin_wait),
		cmocka_unit_test(test_conf_bad_cidr),
		cmocka_unit_test(test_conf_cidr_host_bits),
		cmocka_unit_test(test_conf_zero_limit),
		cmocka_unit_test(test_conf_unlimited),
		cmocka_unit_test(test_conf_bad_duration),
		cmocka_unit_test(test_conf_parse_durations),
		cmocka_unit_test(test_conf_parse_rates),
		cmocka_unit_test(test_conf_parse_sizes),
		cmocka_unit_test(test_conf_parse_cidr),
		cmocka_unit_test(test_conf_parse_port),
		cmocka_unit_test(test_conf_values),
		cmocka_unit_test(test_conf_overlap_wildcard),
		cmocka_unit_test(test_conf_overlap_dualstack),
		cmocka_unit_test(test_conf_same_port_other_proto),
		cmocka_unit_test(test_conf_dup_names_case),
		cmocka_unit_test(test_conf_dup_names_exact),
		cmocka_unit_test(test_conf_bad_name),
		cmocka_unit_test(test_conf_defaults_twice),
		cmocka_unit_test(test_conf_include_missing),
		cmocka_unit_test(test_conf_include_glob_empty),
		cmocka_unit_test(test_conf_include_relative),
		cmocka_unit_test(test_conf_include_error_line),
		cmocka_unit_test(test_conf_include_loop),
		cmocka_unit_test(test_conf_line_too_long),
		cmocka_unit_test(test_conf_file_too_big),
		cmocka_unit_test(test_conf_load_missing_file),
		cmocka_unit_test(test_conf_var_defined),
		cmocka_unit_test(test_conf_var_undefined),
		cmocka_unit_test(test_conf_var_default),
		cmocka_unit_test(test_conf_var_in_word),
		cmocka_unit_test(test_conf_stray_chars),
		cmocka_unit_test(test_conf_comment_lines),
		cmocka_unit_test(test_conf_defaults_inherit),
		cmocka_unit_test(test_conf_acl_replace),
		cmocka_unit_test(test_conf_args_default),
		cmocka_unit_test(test_conf_env_passenv),
		cmocka_unit_test(test_conf_env_bad),
		cmocka_unit_test(test_conf_as_user_rules),
		cmocka_unit_test(test_conf_as_user_check_only),
		cmocka_unit_test(test_conf_root_rules),
		cmocka_unit_test(test_conf_limit_keys),
		cmocka_unit_test(test_conf_unix_rules),
		cmocka_unit_test(test_conf_tcpmux_only),
		cmocka_unit_test(test_conf_lookup_names),
		cmocka_unit_test(test_conf_empty_list_line),
		cmocka_unit_test(test_conf_list_twice_empty),
		cmocka_unit_test(test_conf_tcpmux_defaults),
		cmocka_unit_test(test_conf_server_mode),
		cmocka_unit_test(test_conf_server_user),
	};

	log_init(1, LOG_DEBUG, LOG_DAEMON);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
