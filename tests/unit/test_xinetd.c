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
 * Unit tests of xinetd.c, the xinetd.conf converter of portmuxd-import:
 * each attribute of xinetd.conf(5) that maps, the defaults folded in as
 * xinetd's service_fill() does, the operators of list attributes, the
 * address forms of only_from and no_access, include and includedir, and
 * a problem at the right file and line for every difference.  Outputs
 * that should be valid are loaded with conf_load_buf().
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
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

#include "portmuxd.h"
#include "xinetd.h"
#include "confmsg.h"

struct res {
	char			*out;
	struct iout_problems	 ps;
};

static void
conv(struct res *r, const char *text)
{
	iout_problems_init(&r->ps);
	r->out = xinetd_convert("x.conf", text, strlen(text), NULL, &r->ps);
	assert_non_null(r->out);
}

static void
res_free(struct res *r)
{
	free(r->out);
	iout_problems_clear(&r->ps);
}

#define assert_contains(s, t) do {					\
	if (strstr((s), (t)) == NULL) {					\
		print_error("\"%s\" not in:\n%s\n", (t), (s));		\
		fail();							\
	}								\
} while (0)

#define assert_lacks(s, t) do {						\
	if (strstr((s), (t)) != NULL) {					\
		print_error("\"%s\" unexpected in:\n%s\n", (t), (s));	\
		fail();							\
	}								\
} while (0)

static bool
has_problem(const struct iout_problems *ps, const char *file, int line,
    enum iout_level lvl, const char *text)
{
	size_t	 i;

	for (i = 0; i < ps->n; i++)
		if (ps->v[i].line == line && ps->v[i].level == lvl &&
		    strstr(ps->v[i].msg, text) != NULL &&
		    ps->v[i].file != NULL && strcmp(ps->v[i].file, file) == 0)
			return true;
	return false;
}

static void
dump_problems(const struct iout_problems *ps)
{
	size_t	 i;

	for (i = 0; i < ps->n; i++)
		print_error("%s:%d: %s: %s\n", ps->v[i].file, ps->v[i].line,
		    iout_level_name(ps->v[i].level), ps->v[i].msg);
}

#define assert_problem_in(r, file, line, lvl, text) do {		\
	if (!has_problem(&(r)->ps, (file), (line), (lvl), (text))) {	\
		print_error("no %s at %s:%d with \"%s\"; have:\n",	\
		    iout_level_name(lvl), (file), (line), (text));	\
		dump_problems(&(r)->ps);				\
		fail();							\
	}								\
} while (0)

#define assert_problem(r, line, lvl, text)				\
	assert_problem_in(r, "x.conf", line, lvl, text)

static void
assert_loads(const char *out)
{
	struct conf	*conf;
	char		*m;

	conf = msgs_load_ok(out, CONF_CHECK_ONLY | CONF_AS_USER, &m);
	conf_free(conf);
	free(m);
}

static void
test_xinetd_program(void **state __unused)
{
	struct res	 r;

	conv(&r, "# my services\n"
	    "service cat\n"
	    "{\n"
	    "\t# a comment inside\n"
	    "\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= stream\n"
	    "\tprotocol\t= tcp\n"
	    "\twait\t\t= no\n"
	    "\tuser\t\t= nobody\n"
	    "\tgroup\t\t= nogroup\n"
	    "\tserver\t\t= /bin/cat\n"
	    "\tserver_args\t= -u --x=y\n"
	    "\tport\t\t= 5000\n"
	    "\tnice\t\t= -5\n"
	    "\tumask\t\t= 27\n"
	    "}\n");
	assert_contains(r.out, "# my services\n");
	assert_contains(r.out, "# x.conf:2: service cat\nservice cat {\n"
	    "\t# a comment inside\n"
	    "\tprotocol = tcp\n\tport = 5000\n\taddress = {0.0.0.0}\n"
	    "\tserver = /bin/cat\n\targs = {cat, -u, \"--x=y\"}\n"
	    "\tuser = nobody\n\tgroup = nogroup\n\tnice = -5\n"
	    "\tumask = 027\n}\n");
	assert_int_equal(r.ps.n, 0);
	assert_loads(r.out);
	res_free(&r);
}

static void
test_xinetd_nameinargs_tcpd(void **state __unused)
{
	struct res	 r;

	conv(&r, "service finger\n{\n"
	    "\tsocket_type = stream\n\twait = no\n\tuser = nobody\n"
	    "\tflags = NAMEINARGS\n"
	    "\tserver = /usr/sbin/tcpd\n"
	    "\tserver_args = in.fingerd -w\n}\n"
	    "service x\n{\n\tsocket_type = stream\n\twait = no\n"
	    "\tuser = nobody\n\tflags = NAMEINARGS\n\tserver = /bin/cat\n"
	    "\tport = 5001\n\ttype = UNLISTED\n}\n");
	assert_contains(r.out, "\tserver = /usr/sbin/in.fingerd\n"
	    "\targs = {in.fingerd, -w}\n");
	assert_problem(&r, 7, IOUT_WARN, "tcpd is dropped");
	assert_problem(&r, 15, IOUT_ERROR, "NAMEINARGS without server_args");
	res_free(&r);
}

static void
test_xinetd_internal(void **state __unused)
{
	struct res	 r;

	conv(&r, "service echo\n{\n\ttype = INTERNAL\n\tid = echo-stream\n"
	    "\tsocket_type = stream\n\tprotocol = tcp\n\tuser = root\n"
	    "\twait = no\n}\n"
	    "service echo\n{\n\ttype = INTERNAL\n\tid = echo-dgram\n"
	    "\tsocket_type = dgram\n\tprotocol = udp\n\tuser = root\n"
	    "\twait = yes\n}\n"
	    "service servers\n{\n\ttype = INTERNAL UNLISTED\n\tport = 9099\n"
	    "\tsocket_type = stream\n\twait = no\n}\n");
	assert_contains(r.out, "service echo-stream {\n\tprotocol = tcp\n"
	    "\tport = echo\n\taddress = {0.0.0.0}\n\tbuiltin = echo\n}\n");
	assert_contains(r.out, "service echo-dgram {\n\tprotocol = udp\n"
	    "\tport = echo\n\taddress = {0.0.0.0}\n\tbuiltin = echo\n}\n");
	assert_problem(&r, 21, IOUT_ERROR, "xinetd's internal 'servers' has "
	    "no builtin");
	assert_contains(r.out, "# (not converted) its attributes were:\n"
	    "#\ttype = INTERNAL UNLISTED\n");
	assert_lacks(r.out, "service servers {");
	res_free(&r);
}

static void
test_xinetd_tcpmux(void **state __unused)
{
	struct res	 r;

	conv(&r, "service tcpmux\n{\n\ttype = INTERNAL\n\tid = tcpmux\n"
	    "\tsocket_type = stream\n\tprotocol = tcp\n\tuser = root\n"
	    "\twait = no\n}\n"
	    "service myorg_server\n{\n\ttype = TCPMUX UNLISTED\n"
	    "\tsocket_type = stream\n\tprotocol = tcp\n\twait = no\n"
	    "\tuser = nobody\n\tserver = /bin/cat\n\tid = other\n}\n"
	    "service plus\n{\n\ttype = TCPMUXPLUS UNLISTED\n"
	    "\tsocket_type = stream\n\twait = no\n\tuser = nobody\n"
	    "\tserver = /bin/cat\n\tbind = 127.0.0.1\n}\n");
	assert_contains(r.out, "\tbuiltin = tcpmux\n");
	/* The tcpmux name is the service's, whatever its id. */
	assert_contains(r.out, "service myorg_server {\n\tprotocol = tcp\n"
	    "\tserver = /bin/cat\n\tuser = nobody\n\ttcpmux = true\n}\n");
	assert_problem(&r, 12, IOUT_WARN, "portmuxd always sends '+Go'");
	assert_contains(r.out, "service plus {\n\tprotocol = tcp\n"
	    "\tserver = /bin/cat\n");
	assert_problem(&r, 27, IOUT_NOTE, "bind is dropped");
	assert_false(has_problem(&r.ps, "x.conf", 21, IOUT_WARN, "+Go"));
	assert_loads(r.out);
	res_free(&r);
}

static void
test_xinetd_disable(void **state __unused)
{
	struct res	 r;

	conv(&r, "defaults\n{\n\tdisabled = b\n}\n"
	    "service a\n{\n\ttype = UNLISTED\n\tport = 5000\n"
	    "\tsocket_type = stream\n\twait = no\n\tuser = nobody\n"
	    "\tserver = /bin/cat\n\tdisable = yes\n}\n"
	    "service b\n{\n\ttype = UNLISTED\n\tport = 5001\n"
	    "\tsocket_type = stream\n\twait = no\n\tuser = nobody\n"
	    "\tserver = /bin/cat\n}\n"
	    "service c\n{\n\ttype = UNLISTED\n\tport = 5002\n"
	    "\tsocket_type = stream\n\twait = no\n\tuser = nobody\n"
	    "\tserver = /bin/cat\n\tdisable = no\n}\n");
	assert_contains(r.out, "\tuser = nobody\n\tdisable = true\n}\n");
	assert_contains(r.out, "service b {\n\tprotocol = tcp\n"
	    "\tport = 5001\n\taddress = {0.0.0.0}\n\tserver = /bin/cat\n"
	    "\tuser = nobody\n\tdisable = true\n}\n");
	assert_contains(r.out, "\tport = 5002\n\taddress = {0.0.0.0}\n"
	    "\tserver = /bin/cat\n\tuser = nobody\n}\n");
	assert_loads(r.out);
	res_free(&r);

	conv(&r, "defaults\n{\n\tenabled = a\n}\n"
	    "service a\n{\n\ttype = UNLISTED\n\tport = 5000\n"
	    "\tsocket_type = stream\n\twait = no\n\tuser = nobody\n"
	    "\tserver = /bin/cat\n}\n"
	    "service b\n{\n\ttype = UNLISTED\n\tport = 5001\n"
	    "\tsocket_type = stream\n\twait = no\n\tuser = nobody\n"
	    "\tserver = /bin/cat\n}\n");
	assert_contains(r.out, "\tport = 5000\n\taddress = {0.0.0.0}\n"
	    "\tserver = /bin/cat\n\tuser = nobody\n}\n");
	assert_contains(r.out, "\tport = 5001\n\taddress = {0.0.0.0}\n"
	    "\tserver = /bin/cat\n\tuser = nobody\n\tdisable = true\n}\n");
	res_free(&r);
}

#define SVC(name, port, extra)						\
	"service " name "\n{\n\ttype = UNLISTED\n\tport = " port "\n"	\
	"\tsocket_type = stream\n\twait = no\n\tuser = nobody\n"	\
	"\tserver = /bin/cat\n" extra "}\n"

/* The defaults' lists, and what '=', '+=' and '-=' do to them. */
static void
test_xinetd_defaults_lists(void **state __unused)
{
	struct res	 r;

	conv(&r, "defaults\n{\n"
	    "\tonly_from = 192.0.2.0 10.0.0.0\n"
	    "\tonly_from = 127.0.0.1\n"
	    "\tinstances = 20\n"
	    "\tper_source = UNLIMITED\n"
	    "\tumask = 077\n"
	    "\tpassenv = TZ\n"
	    "}\n"
	    SVC("a", "5000", "")
	    SVC("b", "5001", "\tonly_from += 198.51.100.7\n"
	    "\tonly_from -= 10.0.0.0\n")
	    SVC("c", "5002", "\tonly_from = 203.0.113.0/24\n"
	    "\tinstances = UNLIMITED\n"));
	assert_contains(r.out, "\tport = 5000\n\taddress = {0.0.0.0}\n"
	    "\tserver = /bin/cat\n\tuser = nobody\n"
	    "\tallow = {192.0.2.0/24, 10.0.0.0/8, 127.0.0.1}\n"
	    "\tinstances = 20\n\tper_source = unlimited\n"
	    "\tpassenv = {TZ}\n\tumask = 077\n}\n");
	assert_contains(r.out, "\tallow = {192.0.2.0/24, 127.0.0.1, "
	    "198.51.100.7}\n");
	assert_contains(r.out, "\tallow = {203.0.113.0/24}\n"
	    "\tinstances = unlimited\n");
	assert_loads(r.out);
	res_free(&r);
}

static void
test_xinetd_addresses(void **state __unused)
{
	struct res	 r;

	conv(&r, SVC("a", "5000", "\tonly_from = 10.1.0.0 0.0.0.0 "
	    "198.51.100.{1,2} 10.2.{3,4} 192.0.2.77/24 2001:db8::1 "
	    "2001:db8:1::/48 host.example .example.com\n"));
	assert_contains(r.out, "\tallow = {10.1.0.0/16, 0.0.0.0/0, "
	    "198.51.100.1, 198.51.100.2, 10.2.3.0/24, 10.2.4.0/24, "
	    "192.0.2.0/24, 2001:db8::1, 2001:db8:1::/48}\n");
	assert_problem(&r, 9, IOUT_NOTE, "host bits set past its prefix");
	assert_problem(&r, 9, IOUT_WARN, "only_from host.example is dropped");
	assert_problem(&r, 9, IOUT_WARN, "only_from .example.com is dropped");
	assert_loads(r.out);
	res_free(&r);

	conv(&r, SVC("a", "5000", "\tonly_from =\n")
	    SVC("b", "5001", "\tonly_from = gw.example\n")
	    SVC("c", "5002", "\tno_access = bad.example\n"));
	assert_contains(r.out, "\tdeny = {0.0.0.0/0, ::/0}\n");
	assert_problem(&r, 9, IOUT_NOTE, "only_from is empty: nobody may "
	    "connect");
	assert_problem(&r, 19, IOUT_WARN, "has no address left");
	assert_problem(&r, 29, IOUT_ERROR, "no_access bad.example is not "
	    "converted");
	assert_lacks(r.out, "service c {");
	res_free(&r);
}

/* xinetd lets the closer match win; portmuxd's deny always does. */
static void
test_xinetd_better_match(void **state __unused)
{
	struct res	 r;

	conv(&r, SVC("a", "5000", "\tonly_from = 10.0.0.5\n"
	    "\tno_access = 10.0.0.0\n"));
	assert_problem(&r, 10, IOUT_WARN, "xinetd lets 10.0.0.5 in");
	assert_contains(r.out, "\tallow = {10.0.0.5}\n"
	    "\tdeny = {10.0.0.0/8}\n");
	res_free(&r);
}

static void
test_xinetd_bind_flags(void **state __unused)
{
	struct res	 r;

	conv(&r, SVC("a", "5000", "\tbind = 127.0.0.1\n")
	    SVC("b", "5001", "\tflags = IPv6\n")
	    SVC("c", "5002", "\tflags = IPv6\n\tv6only = yes\n")
	    SVC("d", "5003", "\tinterface = ::1\n")
	    SVC("e", "5004", "\tbind = localhost\n")
	    SVC("f", "5005", "\tflags = IPv4 IPv6\n")
	    SVC("g", "5006", "\tflags = KEEPALIVE NODELAY REUSE\n"));
	assert_contains(r.out, "\tport = 5000\n\taddress = {127.0.0.1}\n");
	assert_contains(r.out, "\tport = 5001\n\taddress = {::}\n"
	    "\tv6only = false\n");
	assert_contains(r.out, "\tport = 5002\n\taddress = {::}\n"
	    "\tserver");
	assert_contains(r.out, "\tport = 5003\n\taddress = {::1}\n"
	    "\tv6only = false\n");
	assert_problem(&r, 50, IOUT_ERROR, "bind localhost is not converted");
	assert_problem(&r, 60, IOUT_ERROR, "flags IPv4 and IPv6 together");
	assert_contains(r.out, "\tkeepalive = true\n");
	assert_problem(&r, 70, IOUT_WARN, "flags NODELAY has no equivalent");
	assert_problem(&r, 70, IOUT_NOTE, "flags REUSE is what portmuxd does");
	res_free(&r);
}

static void
test_xinetd_limits(void **state __unused)
{
	struct res	 r;

	conv(&r, SVC("a", "5000", "\tcps = 10 30\n\tinstances = 5\n"
	    "\tper_source = 2\n")
	    "service t\n{\n\ttype = UNLISTED\n\tport = 5001\n"
	    "\tsocket_type = dgram\n\twait = yes\n\tuser = nobody\n"
	    "\tserver = /bin/cat\n\tinstances = 5\n\tcps = 10 30\n}\n"
	    SVC("z", "5002", "\tinstances = 0\n"));
	assert_contains(r.out, "\tinstances = 5\n\tper_source = 2\n"
	    "\trate = 10/1s\n");
	assert_problem(&r, 9, IOUT_WARN, "cps 10 30 becomes rate = 10/1s, "
	    "which differs: past 10 connections a second from everyone "
	    "together xinetd stops the whole service for 30 seconds");
	assert_contains(r.out, "\tserver = /bin/cat\n\tuser = nobody\n"
	    "\twait = true\n}\n");
	assert_problem(&r, 21, IOUT_NOTE, "instances is dropped: a wait");
	assert_problem(&r, 22, IOUT_WARN, "cps 10 30 is dropped");
	assert_problem(&r, 32, IOUT_WARN, "instances = 0 lets nobody in");
	assert_loads(r.out);
	res_free(&r);
}

static void
test_xinetd_redirect(void **state __unused)
{
	struct res	 r;

	conv(&r, "service fwd\n{\n\ttype = UNLISTED\n\tport = 5000\n"
	    "\tsocket_type = stream\n\twait = no\n\tuser = root\n"
	    "\tredirect = 192.0.2.10 23\n}\n"
	    "service fwd6\n{\n\ttype = UNLISTED\n\tport = 5001\n"
	    "\tsocket_type = stream\n\twait = no\n"
	    "\tredirect = 2001:db8::10 80\n\tumask = 022\n}\n"
	    "service bad\n{\n\ttype = UNLISTED\n\tport = 5002\n"
	    "\tsocket_type = dgram\n\twait = no\n"
	    "\tredirect = 192.0.2.10 53\n}\n");
	assert_contains(r.out, "\tport = 5000\n\tredirect = "
	    "\"192.0.2.10:23\"\n\taddress = {0.0.0.0}\n}\n");
	assert_problem(&r, 8, IOUT_NOTE, "server, user and group are dropped");
	assert_contains(r.out, "\tredirect = \"[2001:db8::10]:80\"\n");
	assert_problem(&r, 17, IOUT_NOTE, "umask is dropped");
	assert_problem(&r, 25, IOUT_ERROR, "redirect takes a host and a port");
	res_free(&r);
}

static void
test_xinetd_logging(void **state __unused)
{
	struct res	 r;

	conv(&r, "defaults\n{\n\tlog_type = SYSLOG local3 info\n"
	    "\tlog_on_success = PID HOST\n}\n"
	    SVC("a", "5000", "\tlog_on_failure += USERID\n")
	    SVC("b", "5001", "\tlog_type = FILE /var/log/b\n"));
	assert_contains(r.out, "log = syslog\nlog_facility = local3\n");
	assert_problem(&r, 3, IOUT_NOTE, "log_type's level info is dropped");
	assert_problem(&r, 14, IOUT_WARN, "USERID is not logged");
	assert_problem(&r, 24, IOUT_WARN, "log_type is dropped: portmuxd's "
	    "log is global");
	assert_loads(r.out);
	res_free(&r);

	conv(&r, "defaults\n{\n\tlog_type = FILE /var/log/xinetd.log\n}\n"
	    "defaults\n{\n}\n");
	assert_problem(&r, 3, IOUT_WARN, "log_type FILE /var/log/xinetd.log "
	    "has no equivalent");
	assert_problem(&r, 5, IOUT_ERROR, "a second defaults section");
	res_free(&r);
}

static void
test_xinetd_rlimits_env(void **state __unused)
{
	struct res	 r;

	conv(&r, SVC("a", "5000", "\trlimit_as = 8m\n\trlimit_cpu = 20\n"
	    "\trlimit_files = UNLIMITED\n\trlimit_rss = 1M\n"
	    "\tenv = LANG=C TZ=UTC PROTO=x noequals\n"
	    "\tenv += A=b\n\tpassenv = HOME\n"));
	assert_contains(r.out, "\trlimit_as = 8M\n\trlimit_cpu = 20s\n"
	    "\trlimit_nofile = unlimited\n"
	    "\tenv = {\"LANG=C\", \"TZ=UTC\", \"A=b\"}\n"
	    "\tpassenv = {HOME}\n");
	assert_problem(&r, 12, IOUT_WARN, "rlimit_rss has no equivalent");
	assert_problem(&r, 13, IOUT_WARN, "env PROTO is dropped");
	assert_problem(&r, 13, IOUT_WARN, "env noequals has no NAME=");
	assert_loads(r.out);
	res_free(&r);
}

static void
test_xinetd_dropped(void **state __unused)
{
	struct res	 r;

	conv(&r, SVC("a", "5000", "\taccess_times = 2:00-9:00\n"
	    "\tbanner = /etc/issue\n\tmax_load = 2.5\n\tgroups = no\n"
	    "\tlibwrap = foo\n\tbogus = 1\n\tuser = root\n"
	    "\tport += 5\n"));
	assert_problem(&r, 9, IOUT_WARN, "access_times is dropped: the service "
	    "is available at all times");
	assert_problem(&r, 10, IOUT_WARN, "banner is dropped");
	assert_problem(&r, 11, IOUT_WARN, "max_load is dropped");
	assert_problem(&r, 12, IOUT_WARN, "groups = no");
	assert_problem(&r, 13, IOUT_WARN, "libwrap is dropped");
	assert_problem(&r, 14, IOUT_WARN, "bogus is no xinetd attribute");
	assert_problem(&r, 15, IOUT_WARN, "user is given again: xinetd keeps "
	    "the first one, line 7");
	assert_problem(&r, 16, IOUT_WARN, "port is given again");
	assert_contains(r.out, "\tuser = nobody\n");
	res_free(&r);
}

static void
test_xinetd_sensor(void **state __unused)
{
	struct res	 r;

	conv(&r, SVC("trap", "5000", "\tflags = SENSOR\n\tdeny_time = 60\n"
	    "\tonly_from = 10.0.0.0\n")
	    "service u\n{\n\ttype = UNLISTED\n\tport = 5001\n"
	    "\tsocket_type = dgram\n\twait = yes\n\tflags = SENSOR\n}\n");
	assert_contains(r.out, "service trap {\n\tprotocol = tcp\n"
	    "\tport = 5000\n\taddress = {0.0.0.0}\n\tbuiltin = trap\n}\n");
	assert_problem(&r, 10, IOUT_NOTE, "deny_time is dropped");
	assert_problem(&r, 1, IOUT_NOTE, "only_from and no_access are "
	    "dropped: a trap");
	assert_problem(&r, 19, IOUT_ERROR, "portmuxd's trap is tcp only");
	res_free(&r);

	/* A udp program is a wait service: no limits, even from cps. */
	conv(&r, "service u\n{\n\ttype = UNLISTED\n\tport = 5001\n"
	    "\tsocket_type = dgram\n\twait = no\n\tuser = nobody\n"
	    "\tserver = /bin/cat\n\tinstances = 3\n}\n"
	    "service m\n{\n\ttype = TCPMUX UNLISTED\n\tflags = SENSOR\n"
	    "\tsocket_type = stream\n\twait = no\n}\n");
	assert_contains(r.out, "\twait = true\n}\n");
	assert_lacks(r.out, "instances = 3");
	assert_problem(&r, 14, IOUT_ERROR, "flags SENSOR on a TCPMUX service");
	assert_loads(r.out);
	res_free(&r);
}

static void
test_xinetd_unsupported(void **state __unused)
{
	struct res	 r;

	conv(&r, "service rstatd\n{\n\ttype = RPC\n\tsocket_type = dgram\n"
	    "\tprotocol = udp\n\tserver = /usr/sbin/rpc.rstatd\n"
	    "\twait = yes\n\tuser = root\n\trpc_version = 2-4\n}\n"
	    "service r\n{\n\tsocket_type = raw\n\twait = no\n}\n"
	    "service w\n{\n\tsocket_type = stream\n}\n"
	    "service s\n{\n\tsocket_type = stream\n\tprotocol = udp\n"
	    "\twait = no\n}\n"
	    "service u\n{\n\ttype = UNLISTED\n\tsocket_type = stream\n"
	    "\twait = no\n\tuser = nobody\n\tserver = /bin/cat\n}\n");
	assert_problem(&r, 3, IOUT_ERROR, "RPC services are not supported");
	assert_problem(&r, 13, IOUT_ERROR, "socket_type raw is not supported");
	assert_problem(&r, 16, IOUT_ERROR, "wait must be yes or no");
	assert_problem(&r, 23, IOUT_ERROR, "protocol udp with socket_type "
	    "stream");
	assert_problem(&r, 28, IOUT_ERROR, "an UNLISTED service needs a port");
	assert_int_equal(iout_problems_worst(&r.ps), IOUT_ERROR);
	res_free(&r);
}

static void
test_xinetd_syntax(void **state __unused)
{
	struct res	 r;

	conv(&r, "service a\n"
	    "socket_type = stream\n"
	    "}\n"
	    "junk here\n"
	    "service b {\n"
	    "\ttype = UNLISTED\n\tport = 5000\n\tsocket_type = stream\n"
	    "\twait = no\n\tuser = nobody\n\tserver = /bin/cat\n"
	    "}\n"
	    "service c\n{\n\tnot an attribute\n}\n"
	    "service d\n{\n\ttype = UNLISTED\n");
	assert_problem(&r, 1, IOUT_ERROR, "a: no '{' on the line after it");
	assert_problem(&r, 4, IOUT_ERROR, "'junk here' is not a service");
	assert_problem(&r, 5, IOUT_WARN, "'{' on the line of 'b'");
	assert_contains(r.out, "service b {\n\tprotocol = tcp\n");
	assert_problem(&r, 15, IOUT_ERROR, "not an attribute line");
	assert_problem(&r, 17, IOUT_ERROR, "the file ends before its '}'");
	res_free(&r);
}

static void
test_xinetd_numeric_user(void **state __unused)
{
	struct res	 r;

	conv(&r, SVC("a", "5000", "")
	    "service b\n{\n\ttype = UNLISTED\n\tport = 5001\n"
	    "\tsocket_type = stream\n\twait = no\n\tuser = 0\n\tgroup = 0\n"
	    "\tserver = /bin/cat\n}\n");
	assert_contains(r.out, "\tuser = root\n\tgroup = root\n");
	assert_problem(&r, 16, IOUT_NOTE, "user 0 is root on this host");
	res_free(&r);
}

/* Same id twice, and two enabled services on one port. */
static void
test_xinetd_names_overlap(void **state __unused)
{
	struct res	 r;

	conv(&r, SVC("a", "5000", "\tid = same\n")
	    SVC("b", "5001", "\tid = same\n")
	    SVC("c", "5000", ""));
	assert_contains(r.out, "service same {\n");
	assert_contains(r.out, "service same-2 {\n");
	assert_problem(&r, 19, IOUT_NOTE, "named same-2");
	assert_problem(&r, 21, IOUT_WARN, "binds tcp port 5000 as same");
	assert_contains(r.out, "\tport = 5000\n\taddress = {0.0.0.0}\n"
	    "\tserver = /bin/cat\n\tuser = nobody\n\tdisable = true\n}\n");
	assert_loads(r.out);
	res_free(&r);
}

static void
test_xinetd_no_service(void **state __unused)
{
	struct res	 r;

	conv(&r, "# only a comment\ndefaults\n{\n}\n");
	assert_problem(&r, 1, IOUT_WARN, "no service is converted");
	res_free(&r);
	conv(&r, SVC("a", "5000", "\tdisable = yes\n"));
	assert_int_equal(r.ps.n, 0);
	res_free(&r);
}

static void
write_file(const char *path, const char *text)
{
	FILE	*f;

	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* include and includedir, read in place; names with '.' or '~' skipped. */
static void
test_xinetd_includes(void **state __unused)
{
	struct res	 r;
	char		 dir[] = "/tmp/test_xinetd.XXXXXX", path[256], main_[512];

	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/etc", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	(void)snprintf(path, sizeof(path), "%s/etc/xinetd.d", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	(void)snprintf(path, sizeof(path), "%s/etc/xinetd.d/b", dir);
	write_file(path, SVC("b", "5001", ""));
	(void)snprintf(path, sizeof(path), "%s/etc/xinetd.d/a", dir);
	write_file(path, "# file a\n" SVC("a", "5000", "\tnice = 5\n"));
	(void)snprintf(path, sizeof(path), "%s/etc/xinetd.d/c.rpmsave", dir);
	write_file(path, SVC("c", "5002", ""));
	(void)snprintf(path, sizeof(path), "%s/etc/xinetd.d/d~", dir);
	write_file(path, SVC("d", "5003", ""));
	(void)snprintf(path, sizeof(path), "%s/etc/extra", dir);
	write_file(path, SVC("e", "5004", "\tbogus = 1\n")
	    "include /etc/extra\n");

	(void)snprintf(main_, sizeof(main_), "defaults\n{\n\tinstances = 9\n"
	    "}\nincludedir /etc/xinetd.d\ninclude /etc/extra\n"
	    "include /etc/missing\nincludedir /etc/nodir\n");
	iout_problems_init(&r.ps);
	r.out = xinetd_convert("/etc/xinetd.conf", main_, strlen(main_), dir,
	    &r.ps);
	assert_non_null(r.out);
	assert_contains(r.out, "# ---- /etc/xinetd.d/a ----\n# file a\n");
	assert_true(strstr(r.out, "service a {") < strstr(r.out,
	    "service b {"));
	assert_true(strstr(r.out, "service b {") < strstr(r.out,
	    "service e {"));
	assert_lacks(r.out, "service c {");
	assert_lacks(r.out, "service d {");
	assert_contains(r.out, "\tport = 5000\n\taddress = {0.0.0.0}\n"
	    "\tserver = /bin/cat\n\tuser = nobody\n\tinstances = 9\n"
	    "\tnice = 5\n}\n");
	assert_problem_in(&r, "/etc/extra", 9, IOUT_WARN, "bogus is no xinetd "
	    "attribute");
	assert_problem_in(&r, "/etc/extra", 11, IOUT_ERROR, "includes itself");
	assert_problem_in(&r, "/etc/xinetd.conf", 7, IOUT_ERROR, "cannot read "
	    "");
	assert_problem_in(&r, "/etc/xinetd.conf", 8, IOUT_ERROR, "cannot read "
	    "the directory");
	assert_loads(r.out);
	res_free(&r);

	iout_problems_init(&r.ps);
	errno = 0;
	assert_null(xinetd_convert_file("/etc/none", dir, &r.ps));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(r.ps.n, 0);
	iout_problems_clear(&r.ps);

	(void)snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xinetd_program),
		cmocka_unit_test(test_xinetd_nameinargs_tcpd),
		cmocka_unit_test(test_xinetd_internal),
		cmocka_unit_test(test_xinetd_tcpmux),
		cmocka_unit_test(test_xinetd_disable),
		cmocka_unit_test(test_xinetd_defaults_lists),
		cmocka_unit_test(test_xinetd_addresses),
		cmocka_unit_test(test_xinetd_better_match),
		cmocka_unit_test(test_xinetd_bind_flags),
		cmocka_unit_test(test_xinetd_limits),
		cmocka_unit_test(test_xinetd_redirect),
		cmocka_unit_test(test_xinetd_logging),
		cmocka_unit_test(test_xinetd_rlimits_env),
		cmocka_unit_test(test_xinetd_dropped),
		cmocka_unit_test(test_xinetd_sensor),
		cmocka_unit_test(test_xinetd_unsupported),
		cmocka_unit_test(test_xinetd_syntax),
		cmocka_unit_test(test_xinetd_numeric_user),
		cmocka_unit_test(test_xinetd_names_overlap),
		cmocka_unit_test(test_xinetd_includes),
		cmocka_unit_test(test_xinetd_no_service),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
