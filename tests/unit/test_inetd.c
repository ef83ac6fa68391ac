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
 * Unit tests of inetd.c, the inetd.conf converter that portmuxd-import
 * and the daemon share.  The daemon parses the line-for-line output in
 * place of the inetd.conf, so every test of that mode checks that line
 * N of the output is what line N of the input became, and some load the
 * output with conf_load_buf() to see that it is valid and that an error
 * there is reported at the inetd.conf's line.  Each difference that a
 * line cannot keep must come back as a problem at its line, never in
 * silence.
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "portmuxd.h"
#include "inetd.h"
#include "confmsg.h"

/* Converted text and problems of one test. */
struct res {
	char			*out;
	struct iout_problems	 ps;
};

static void
conv(struct res *r, const char *text, int flags)
{
	iout_problems_init(&r->ps);
	r->out = inetd_convert("in.conf", text, strlen(text), flags, &r->ps);
	assert_non_null(r->out);
}

static void
res_free(struct res *r)
{
	free(r->out);
	iout_problems_clear(&r->ps);
}

static size_t
count_lines(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* Line n (from 1) of s, in a static buffer. */
static const char *
line_of(const char *s, int n)
{
	static char	 buf[4096];
	const char	*nl;

	for (; n > 1 && s != NULL; n--)
		if ((s = strchr(s, '\n')) != NULL)
			s++;
	if (s == NULL)
		return "";
	nl = strchr(s, '\n');
	(void)snprintf(buf, sizeof(buf), "%.*s", (int)(nl != NULL ?
	    nl - s : (ptrdiff_t)strlen(s)), s);
	return buf;
}

#define assert_line(out, n, want) do {					\
	const char *got_ = line_of((out), (n));				\
	if (strcmp(got_, (want)) != 0) {				\
		print_error("line %d is\n  %s\nnot\n  %s\nin:\n%s",	\
		    (n), got_, (want), (out));				\
		fail();							\
	}								\
} while (0)

#define assert_contains(s, t) do {					\
	if (strstr((s), (t)) == NULL) {					\
		print_error("\"%s\" not in:\n%s\n", (t), (s));		\
		fail();							\
	}								\
} while (0)

/* A problem at line of that level whose message holds text. */
static bool
has_problem(const struct iout_problems *ps, int line, enum iout_level lvl,
    const char *text)
{
	size_t	 i;

	for (i = 0; i < ps->n; i++)
		if (ps->v[i].line == line && ps->v[i].level == lvl &&
		    strstr(ps->v[i].msg, text) != NULL &&
		    ps->v[i].file != NULL &&
		    strcmp(ps->v[i].file, "in.conf") == 0)
			return true;
	return false;
}

static void
dump_problems(const struct iout_problems *ps)
{
	size_t	 i;

	for (i = 0; i < ps->n; i++)
		print_error("%d: %s: %s\n", ps->v[i].line,
		    iout_level_name(ps->v[i].level), ps->v[i].msg);
}

#define assert_problem(r, line, lvl, text) do {				\
	if (!has_problem(&(r)->ps, (line), (lvl), (text))) {		\
		print_error("no %s at line %d with \"%s\"; have:\n",	\
		    iout_level_name(lvl), (line), (text));		\
		dump_problems(&(r)->ps);				\
		fail();							\
	}								\
} while (0)

#define assert_no_problem(r) do {					\
	if ((r)->ps.n != 0) {						\
		print_error("unexpected problems:\n");			\
		dump_problems(&(r)->ps);				\
		fail();							\
	}								\
} while (0)

/* Loads the output as the daemon would, with -n rules for the host. */
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
test_inetd_builtins(void **state __unused)
{
	struct res	 r;

	conv(&r, "echo\tstream\ttcp\tnowait\troot\tinternal\n"
	    "echo\tdgram\tudp\twait\troot\tinternal\n"
	    "discard stream tcp nowait root internal\n"
	    "daytime dgram udp wait root internal\n"
	    "chargen stream tcp nowait root internal\n"
	    "time stream tcp nowait root internal\n"
	    "37 dgram udp wait root internal\n", 0);
	assert_line(r.out, 1, "service echo { protocol = tcp port = echo "
	    "builtin = echo }");
	assert_line(r.out, 2, "service echo-udp { protocol = udp port = echo "
	    "builtin = echo }");
	assert_line(r.out, 3, "service discard { protocol = tcp port = "
	    "discard builtin = discard }");
	assert_line(r.out, 4, "service daytime { protocol = udp port = "
	    "daytime builtin = daytime }");
	assert_line(r.out, 7, "service 37 { protocol = udp port = 37 "
	    "builtin = time }");
	assert_int_equal(count_lines(r.out), 7);
	assert_no_problem(&r);
	assert_loads(r.out);
	res_free(&r);
}

/* The tcp line keeps the bare name, even after its udp twin. */
static void
test_inetd_names(void **state __unused)
{
	struct res	 r;

	conv(&r, "echo dgram udp wait root internal\n"
	    "echo stream tcp nowait root internal\n"
	    "/run/my svc/s.sock stream unix nowait root /bin/cat cat\n"
	    "/run/echo stream unix nowait root /bin/cat cat\n"
	    "127.0.0.1:daytime stream tcp nowait root internal\n"
	    "::1:daytime stream tcp nowait root internal\n"
	    "ECHO dgram udp6 wait nobody /bin/cat cat\n", 0);
	assert_contains(line_of(r.out, 1), "service echo-udp {");
	assert_contains(line_of(r.out, 2), "service echo {");
	/* A blank in a path splits the field, as inetd does. */
	assert_problem(&r, 3, IOUT_ERROR, "protocol 'stream'");
	assert_contains(line_of(r.out, 4), "service run-echo {");
	assert_contains(line_of(r.out, 5), "service daytime {");
	assert_contains(line_of(r.out, 6), "service daytime-tcp {");
	assert_contains(line_of(r.out, 7), "service ECHO-udp6 {");
	res_free(&r);
}

static void
test_inetd_comments_kept(void **state __unused)
{
	struct res	 r;
	const char	*in =
	    "# /etc/inetd.conf:  see inetd(8) for further informations.\n"
	    "#\n"
	    "#:INTERNAL: Internal services\n"
	    "#echo\t\tstream\ttcp\tnowait\troot\tinternal\n"
	    "\n"
	    "#<off># telnet\tstream\ttcp\tnowait\troot\t/usr/sbin/tcpd\t"
	    "/usr/sbin/in.telnetd\n"
	    "   # indented\n"
	    "discard stream tcp nowait root internal\n";

	conv(&r, in, 0);
	assert_int_equal(count_lines(r.out), 8);
	assert_line(r.out, 1, "# /etc/inetd.conf:  see inetd(8) for further "
	    "informations.");
	assert_line(r.out, 4, "#echo\t\tstream\ttcp\tnowait\troot\tinternal");
	assert_line(r.out, 5, "");
	assert_line(r.out, 6, "#<off># telnet\tstream\ttcp\tnowait\troot\t"
	    "/usr/sbin/tcpd\t/usr/sbin/in.telnetd");
	assert_line(r.out, 7, "   # indented");
	assert_contains(line_of(r.out, 8), "service discard {");
	/* A commented-out line serves nothing: no problem of its own. */
	assert_no_problem(&r);
	assert_loads(r.out);
	res_free(&r);
}

/* The pretty output shows a commented-out line's section, commented. */
static void
test_inetd_pretty_commented(void **state __unused)
{
	struct res	 r;

	conv(&r, "#<off># telnet\tstream\ttcp\tnowait\troot\t/usr/sbin/tcpd\t"
	    "/usr/sbin/in.telnetd\n"
	    "#echo stream tcp nowait root internal\n"
	    "echo stream tcp nowait root internal\n"
	    "# Just prose, with six words in it.\n", INETD_PRETTY);
	assert_contains(r.out, "converted from in.conf by portmuxd-import");
	assert_contains(r.out, "#<off># telnet\tstream");
	assert_contains(r.out, "# service telnet {\n# \tprotocol = tcp\n"
	    "# \tport = telnet\n# \tserver = /usr/sbin/in.telnetd\n");
	assert_contains(r.out, "# warning: tcpd is dropped");
	/* The serving line keeps "echo", the commented one yields. */
	assert_contains(r.out, "# service echo-tcp {\n");
	assert_contains(r.out, "# in.conf:3: echo stream tcp nowait root "
	    "internal\nservice echo {\n\tprotocol = tcp\n\tport = echo\n"
	    "\tbuiltin = echo\n}\n");
	assert_contains(r.out, "# Just prose, with six words in it.\n");
	assert_no_problem(&r);
	assert_loads(r.out);
	res_free(&r);
}

/* A line that starts with a blank continues the entry above it. */
static void
test_inetd_continuation(void **state __unused)
{
	struct res	 r;

	conv(&r, "tftp dgram udp wait root /usr/sbin/in.tftpd in.tftpd\n"
	    "\t-s /srv/tftp\n"
	    "  \n"
	    "discard stream tcp nowait root internal\n", 0);
	assert_int_equal(count_lines(r.out), 4);
	assert_line(r.out, 1, "service tftp { protocol = udp port = tftp "
	    "server = /usr/sbin/in.tftpd args = {in.tftpd, -s, /srv/tftp} "
	    "user = root wait = true }");
	assert_line(r.out, 2, "#\t-s /srv/tftp");
	assert_line(r.out, 3, "#  ");
	assert_contains(line_of(r.out, 4), "service discard");
	assert_problem(&r, 1, IOUT_NOTE, "lines 2 to 3 continue this entry");
	res_free(&r);
}

static void
test_inetd_addresses(void **state __unused)
{
	struct res	 r;

	conv(&r, "127.0.0.1:\n"
	    "daytime stream tcp nowait root internal\n"
	    "192.0.2.1,[2001:db8::1]:time stream tcp nowait root internal\n"
	    "*:\n"
	    "discard stream tcp nowait root internal\n"
	    "::1:5000 stream tcp6 nowait nobody /bin/cat cat\n"
	    "*:5001 stream tcp4 nowait nobody /bin/cat cat\n"
	    "localhost:5002 stream tcp nowait nobody /bin/cat cat\n"
	    "host.example:5003 stream tcp nowait nobody /bin/cat cat\n"
	    "192.0.2.9:5004 stream tcp6 nowait nobody /bin/cat cat\n",
	    0);
	assert_line(r.out, 1, "#127.0.0.1:");
	assert_line(r.out, 2, "service daytime { protocol = tcp port = "
	    "daytime address = {127.0.0.1} builtin = daytime }");
	assert_contains(line_of(r.out, 3), "address = {192.0.2.1, "
	    "2001:db8::1}");
	assert_line(r.out, 4, "#*:");
	assert_line(r.out, 5, "service discard { protocol = tcp port = "
	    "discard builtin = discard }");
	assert_contains(line_of(r.out, 6), "port = 5000 address = {::1} ");
	assert_contains(line_of(r.out, 7), "port = 5001 address = "
	    "{0.0.0.0} ");
	assert_contains(line_of(r.out, 8), "address = {127.0.0.1, ::1}");
	assert_problem(&r, 8, IOUT_WARN, "localhost is taken as 127.0.0.1 "
	    "and ::1");
	assert_line(r.out, 9, "# host.example:5003 stream tcp nowait nobody "
	    "/bin/cat cat");
	assert_problem(&r, 9, IOUT_ERROR, "the host name 'host.example' is "
	    "not converted");
	assert_problem(&r, 10, IOUT_ERROR, "192.0.2.9 is an IPv4 address on "
	    "an IPv6 (tcp6) line");
	assert_int_equal(count_lines(r.out), 10);
	res_free(&r);
}

/* A default address that cannot be converted takes its lines along. */
static void
test_inetd_bad_default_address(void **state __unused)
{
	struct res	 r;

	conv(&r, "gw.example:\n"
	    "daytime stream tcp nowait root internal\n"
	    "*:\n"
	    "time stream tcp nowait root internal\n", 0);
	assert_problem(&r, 1, IOUT_ERROR, "the host name 'gw.example'");
	assert_problem(&r, 2, IOUT_ERROR, "the default address above");
	assert_line(r.out, 2, "# daytime stream tcp nowait root internal");
	assert_contains(line_of(r.out, 4), "service time {");
	res_free(&r);
}

static void
test_inetd_families(void **state __unused)
{
	struct res	 r;

	conv(&r, "5000 stream tcp nowait nobody /bin/cat cat\n"
	    "5001 stream tcp4 nowait nobody /bin/cat cat\n"
	    "5002 stream tcp6 nowait nobody /bin/cat cat\n"
	    "5003 stream tcp46 nowait nobody /bin/cat cat\n"
	    "5004 dgram udp6 wait nobody /bin/cat cat\n", 0);
	assert_line(r.out, 1, "service 5000 { protocol = tcp port = 5000 "
	    "server = /bin/cat args = {cat} user = nobody }");
	assert_contains(line_of(r.out, 2), "address = {0.0.0.0}");
	assert_contains(line_of(r.out, 3), "address = {::} server");
	assert_contains(line_of(r.out, 4), "address = {::} v6only = false");
	assert_contains(line_of(r.out, 5), "protocol = udp port = 5004 "
	    "address = {::}");
	assert_no_problem(&r);
	assert_loads(r.out);
	res_free(&r);
}

/* OpenBSD's stock file pairs tcp with tcp6: tcp is IPv4 there. */
static void
test_inetd_tcp6_pair(void **state __unused)
{
	struct res	 r;

	conv(&r, "daytime stream tcp nowait root internal\n"
	    "daytime stream tcp6 nowait root internal\n"
	    "time dgram udp6 wait root internal\n"
	    "time dgram udp wait root internal\n", 0);
	assert_line(r.out, 1, "service daytime { protocol = tcp port = "
	    "daytime address = {0.0.0.0} builtin = daytime }");
	assert_line(r.out, 2, "service daytime-tcp6 { protocol = tcp port = "
	    "daytime address = {::} builtin = daytime }");
	assert_line(r.out, 4, "service time { protocol = udp port = time "
	    "address = {0.0.0.0} builtin = time }");
	assert_contains(line_of(r.out, 3), "service time-udp6 {");
	assert_problem(&r, 1, IOUT_NOTE, "with the tcp6 line 2");
	assert_problem(&r, 4, IOUT_NOTE, "with the udp6 line 3");
	assert_loads(r.out);
	res_free(&r);
}

static void
test_inetd_max(void **state __unused)
{
	struct res	 r;

	conv(&r, "5000 stream tcp nowait.100 nobody /bin/cat cat\n"
	    "5001 dgram udp wait.10 nobody /bin/cat cat\n"
	    "echo dgram udp wait.20 root internal\n"
	    "echo stream tcp nowait.30 root internal\n"
	    "5002 stream tcp nowait.x nobody /bin/cat cat\n"
	    "5003 stream tcp nowait.0 nobody /bin/cat cat\n"
	    "5004 stream tcp sometimes nobody /bin/cat cat\n", 0);
	assert_contains(line_of(r.out, 1), "user = nobody rate = 100/60s }");
	assert_problem(&r, 1, IOUT_WARN, "nowait.100 becomes rate = "
	    "100/60s, which differs: inetd counts the connections of "
	    "everyone and, past 100 in a minute, stops the service for "
	    "everyone for 10 minutes");
	assert_problem(&r, 1, IOUT_WARN, "refuses only the connections of "
	    "a group past its rate");
	assert_line(r.out, 2, "service 5001 { protocol = udp port = 5001 "
	    "server = /bin/cat args = {cat} user = nobody wait = true }");
	assert_problem(&r, 2, IOUT_WARN, "wait.10: the maximum is dropped: "
	    "a wait service");
	assert_line(r.out, 3, "service echo-udp { protocol = udp port = "
	    "echo builtin = echo }");
	assert_problem(&r, 3, IOUT_WARN, "udp_reply_rate");
	assert_contains(line_of(r.out, 4), "builtin = echo rate = 30/60s }");
	assert_problem(&r, 5, IOUT_ERROR, "not a positive number");
	assert_problem(&r, 6, IOUT_ERROR, "not a positive number");
	assert_problem(&r, 7, IOUT_ERROR, "neither wait nor nowait");
	assert_line(r.out, 7, "# 5004 stream tcp sometimes nobody /bin/cat "
	    "cat");
	res_free(&r);
}

static void
test_inetd_user_group(void **state __unused)
{
	struct res	 r;

	conv(&r, "5000 stream tcp nowait nobody.nogroup /bin/cat cat\n"
	    "5001 stream tcp nowait nobody:nogroup /bin/cat cat\n"
	    "5002 stream tcp nowait first.last:staff /bin/cat cat\n"
	    "5003 stream tcp nowait bad$user /bin/cat cat\n"
	    "echo stream tcp nowait root.wheel internal\n", 0);
	assert_contains(line_of(r.out, 1), "user = nobody group = nogroup }");
	assert_contains(line_of(r.out, 2), "user = nobody group = nogroup }");
	assert_contains(line_of(r.out, 3), "user = first.last group = staff");
	assert_problem(&r, 4, IOUT_ERROR, "'bad$user' is no user[.group]");
	/* A builtin runs in the unprivileged engine: no user. */
	assert_line(r.out, 5, "service echo { protocol = tcp port = echo "
	    "builtin = echo }");
	res_free(&r);
}

static void
test_inetd_internal(void **state __unused)
{
	struct res	 r;

	conv(&r, "tcpmux stream tcp nowait root internal\n"
	    "finger stream tcp nowait root internal\n"
	    "tcpmux dgram udp wait root internal\n"
	    "echo stream tcp wait root internal\n", 0);
	assert_line(r.out, 1, "service tcpmux { protocol = tcp port = tcpmux "
	    "builtin = tcpmux }");
	assert_problem(&r, 2, IOUT_ERROR, "inetd's internal 'finger' has no "
	    "builtin here");
	assert_line(r.out, 2, "# finger stream tcp nowait root internal");
	assert_problem(&r, 3, IOUT_ERROR, "tcpmux builtin is tcp only");
	assert_contains(line_of(r.out, 4), "builtin = echo }");
	assert_problem(&r, 4, IOUT_NOTE, "wait is dropped");
	res_free(&r);
}

static void
test_inetd_tcpmux(void **state __unused)
{
	struct res	 r;

	conv(&r, "tcpmux stream tcp nowait root internal\n"
	    "tcpmux/+uptime stream tcp nowait nobody /usr/bin/uptime uptime\n"
	    "tcpmux/finger stream tcp nowait nobody /bin/date date\n"
	    "finger stream tcp nowait nobody /bin/date date\n"
	    "tcpmux/Uptime stream tcp nowait nobody /bin/date date\n"
	    "tcpmux/+x dgram udp wait nobody /bin/date date\n"
	    "tcpmux/+w stream tcp wait nobody /bin/date date\n", 0);
	assert_line(r.out, 2, "service uptime { protocol = tcp server = "
	    "/usr/bin/uptime args = {uptime} user = nobody tcpmux = true }");
	assert_line(r.out, 3, "service finger { protocol = tcp server = "
	    "/bin/date args = {date} user = nobody tcpmux = true }");
	assert_problem(&r, 3, IOUT_WARN, "portmuxd always sends '+Go' "
	    "itself");
	/* The tcpmux name wins the section name. */
	assert_contains(line_of(r.out, 4), "service finger-tcp {");
	assert_problem(&r, 5, IOUT_ERROR, "tcpmux name 'Uptime' is given "
	    "twice");
	assert_problem(&r, 6, IOUT_ERROR, "a tcpmux service is tcp");
	assert_problem(&r, 7, IOUT_ERROR, "a tcpmux service cannot wait");
	assert_false(has_problem(&r.ps, 2, IOUT_WARN, "no line serves"));
	assert_loads(r.out);
	res_free(&r);

	conv(&r, "tcpmux/+uptime stream tcp nowait nobody /usr/bin/uptime "
	    "uptime\n", 0);
	assert_problem(&r, 1, IOUT_WARN, "no line serves tcpmux itself");
	res_free(&r);
}

static void
test_inetd_unix(void **state __unused)
{
	struct res	 r;

	conv(&r, "/run/portmux-test.sock stream unix nowait nobody /bin/cat "
	    "cat\n"
	    "run/rel.sock stream unix nowait nobody /bin/cat cat\n"
	    "/run/d.sock dgram unix wait nobody /bin/cat cat\n"
	    "/run/w.sock stream unix wait nobody /bin/cat cat\n", 0);
	assert_line(r.out, 1, "service run-portmux-test.sock { protocol = "
	    "unix path = /run/portmux-test.sock server = /bin/cat args = "
	    "{cat} user = nobody }");
	assert_problem(&r, 2, IOUT_ERROR, "is not absolute");
	assert_problem(&r, 3, IOUT_ERROR, "stream sockets");
	assert_contains(line_of(r.out, 4), "wait = true }");
	res_free(&r);
}

static void
test_inetd_unsupported(void **state __unused)
{
	struct res	 r;

	conv(&r, "rusers/1-3 dgram rpc/udp wait root /usr/sbin/rpc.rusersd "
	    "rpc.rusersd\n"
	    "rstatd/1 dgram udp wait root /usr/sbin/rpc.rstatd rpc.rstatd\n"
	    "5000 raw icmp nowait root /bin/cat cat\n"
	    "5000 seqpacket tcp nowait root /bin/cat cat\n"
	    "5000 stream udp nowait root /bin/cat cat\n"
	    "5000 stream tcp nowait root bin/cat cat\n"
	    "5000 stream tcp nowait root\n", 0);
	assert_problem(&r, 1, IOUT_ERROR, "RPC services (rpc/udp) are not "
	    "supported");
	assert_problem(&r, 2, IOUT_ERROR, "looks like an RPC service");
	assert_problem(&r, 3, IOUT_ERROR, "protocol 'icmp' is not supported");
	assert_problem(&r, 4, IOUT_ERROR, "socket type 'seqpacket'");
	assert_problem(&r, 5, IOUT_ERROR, "does not go with protocol udp");
	assert_problem(&r, 6, IOUT_ERROR, "not an absolute path");
	assert_problem(&r, 7, IOUT_ERROR, "at least 6 fields");
	assert_int_equal(count_lines(r.out), 7);
	assert_line(r.out, 1, "# rusers/1-3 dgram rpc/udp wait root "
	    "/usr/sbin/rpc.rusersd rpc.rusersd");
	assert_int_equal(iout_problems_worst(&r.ps), IOUT_ERROR);
	res_free(&r);
}

static void
test_inetd_bufsize(void **state __unused)
{
	struct res	 r;

	conv(&r, "5000 stream tcp,rcvbuf=64k,sndbuf=1m nowait nobody /bin/cat "
	    "cat\n", 0);
	assert_contains(line_of(r.out, 1), "protocol = tcp port = 5000");
	assert_problem(&r, 1, IOUT_WARN, "'rcvbuf=64k,sndbuf=1m' is dropped");
	res_free(&r);
}

/* tcpd runs the daemon with the argv it got: so does portmuxd. */
static void
test_inetd_tcpd(void **state __unused)
{
	struct res	 r;

	conv(&r, "finger stream tcp nowait nobody /usr/sbin/tcpd in.fingerd "
	    "-w\n"
	    "telnet stream tcp nowait root /usr/sbin/tcpd "
	    "/usr/sbin/in.telnetd\n", 0);
	assert_contains(line_of(r.out, 1), "server = /usr/sbin/in.fingerd "
	    "args = {in.fingerd, -w} user = nobody }");
	assert_problem(&r, 1, IOUT_WARN, "tcpd is dropped");
	assert_problem(&r, 1, IOUT_WARN, "hosts.allow");
	assert_contains(line_of(r.out, 2), "server = /usr/sbin/in.telnetd "
	    "args = {/usr/sbin/in.telnetd} user = root }");
	res_free(&r);
}

static void
test_inetd_udp_nowait(void **state __unused)
{
	struct res	 r;

	conv(&r, "5000 dgram udp nowait nobody /bin/cat cat\n", 0);
	assert_contains(line_of(r.out, 1), "wait = true }");
	assert_problem(&r, 1, IOUT_WARN, "udp nowait becomes wait = true");
	assert_loads(r.out);
	res_free(&r);
}

/* Two lines on one port: inetd serves one of them, so does the output. */
static void
test_inetd_overlap(void **state __unused)
{
	struct res	 r;

	conv(&r, "5000 stream tcp nowait nobody /bin/cat cat\n"
	    "127.0.0.1:5000 stream tcp nowait nobody /bin/cat cat\n"
	    "5000 dgram udp wait nobody /bin/cat cat\n"
	    "5001 stream tcp4 nowait nobody /bin/cat cat\n"
	    "5001 stream tcp6 nowait nobody /bin/cat cat\n"
	    "5002 stream tcp6 nowait nobody /bin/cat cat\n"
	    "5002 stream tcp46 nowait nobody /bin/cat cat\n", 0);
	assert_problem(&r, 2, IOUT_ERROR, "binds tcp port 5000 as line 1 "
	    "does");
	assert_line(r.out, 2, "# 127.0.0.1:5000 stream tcp nowait nobody "
	    "/bin/cat cat");
	assert_contains(line_of(r.out, 3), "service 5000-udp {");
	assert_contains(line_of(r.out, 4), "service 5001 {");
	assert_contains(line_of(r.out, 5), "service 5001-tcp6 {");
	assert_problem(&r, 7, IOUT_ERROR, "as line 6 does");
	assert_int_equal(r.ps.n, 2);
	assert_loads(r.out);
	res_free(&r);
}

/* Arguments come back as inetd passed them, quoted where needed. */
static void
test_inetd_quoting(void **state __unused)
{
	struct res	 r;

	conv(&r, "5000 stream tcp nowait nobody /usr/bin/rsync rsync "
	    "--daemon --config=/etc/rsyncd.conf $HOME \"q\" a,b {x} "
	    "http://h/ 50%\n", 0);
	assert_contains(line_of(r.out, 1), "args = {rsync, --daemon, "
	    "\"--config=/etc/rsyncd.conf\", '$HOME', '\"q\"', \"a,b\", "
	    "\"{x}\", \"http://h/\", 50%}");
	assert_no_problem(&r);
	assert_loads(r.out);
	res_free(&r);
}

/* CRLF, a last line without newline, a NUL: the lines still match. */
static void
test_inetd_line_endings(void **state __unused)
{
	struct res	 r;
	const char	 in[] = "# a\r\necho stream tcp nowait root internal"
	    "\r\n#x\0y\ndiscard stream tcp nowait root internal";
	char		*out;

	iout_problems_init(&r.ps);
	out = inetd_convert(NULL, in, sizeof(in) - 1, 0, &r.ps);
	assert_non_null(out);
	assert_int_equal(count_lines(out), 4);
	assert_line(out, 1, "# a");
	assert_line(out, 2, "service echo { protocol = tcp port = echo "
	    "builtin = echo }");
	assert_line(out, 3, "#x?y");
	assert_contains(line_of(out, 4), "service discard {");
	assert_loads(out);
	free(out);
	iout_problems_clear(&r.ps);

	/* A NUL in an entry: a comment, never a field cut short. */
	{
		const char	 nul[] = "\0:\necho st\0ream tcp nowait root "
		    "internal\n";

		iout_problems_init(&r.ps);
		out = inetd_convert("in.conf", nul, sizeof(nul) - 1, 0,
		    &r.ps);
		assert_non_null(out);
		assert_int_equal(count_lines(out), 2);
		assert_line(out, 2, "# echo st?ream tcp nowait root internal");
		assert_problem(&r, 1, IOUT_ERROR, "a NUL byte");
		assert_problem(&r, 2, IOUT_ERROR, "a NUL byte");
		free(out);
		iout_problems_clear(&r.ps);
	}

	out = inetd_convert(NULL, "", 0, 0, NULL);
	assert_non_null(out);
	assert_string_equal(out, "");
	free(out);
}

/*
 * The point of the line-for-line mode: what the config check says of
 * the output, it says at the inetd.conf's line.
 */
static void
test_inetd_error_lines(void **state __unused)
{
	struct res	 r;
	struct conf	*conf;
	char		*m;

	conv(&r, "# header\n"
	    "\n"
	    "5000 stream tcp nowait nobody /bin/cat cat\n"
	    "nosuchservice-zz stream tcp nowait nobody /bin/cat cat\n"
	    "5001 stream tcp nowait nobody /bin/cat cat\n", 0);
	conf = msgs_load(r.out, CONF_CHECK_ONLY | CONF_AS_USER, &m);
	assert_null(conf);
	assert_msg(m, "t.conf:4: ", "nosuchservice-zz");
	assert_no_msg(m, "t.conf:3: service");
	assert_no_msg(m, "t.conf:5: service");
	free(m);
	res_free(&r);
}

/* A fresh Debian inetd.conf is all comments: portmuxd wants a service. */
static void
test_inetd_no_service(void **state __unused)
{
	struct res	 r;

	conv(&r, "# nothing\n#echo stream tcp nowait root internal\n", 0);
	assert_problem(&r, 1, IOUT_WARN, "no service line is converted");
	assert_int_equal(r.ps.n, 1);
	res_free(&r);
}

/* Problems come in the order of the lines, whichever pass found them. */
static void
test_inetd_problem_order(void **state __unused)
{
	struct res	 r;
	size_t		 i;

	conv(&r, "5000 stream tcp nowait.5 nobody /bin/cat cat\n"
	    "5000 stream tcp nowait nobody /bin/cat cat\n"
	    "daytime stream tcp nowait root internal\n"
	    "daytime stream tcp6 nowait root internal\n"
	    "5002 stream tcp nowait.5 nobody /bin/cat cat\n", 0);
	assert_true(r.ps.n >= 4);
	for (i = 1; i < r.ps.n; i++)
		assert_true(r.ps.v[i - 1].line <= r.ps.v[i].line);
	res_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inetd_builtins),
		cmocka_unit_test(test_inetd_names),
		cmocka_unit_test(test_inetd_comments_kept),
		cmocka_unit_test(test_inetd_pretty_commented),
		cmocka_unit_test(test_inetd_continuation),
		cmocka_unit_test(test_inetd_addresses),
		cmocka_unit_test(test_inetd_bad_default_address),
		cmocka_unit_test(test_inetd_families),
		cmocka_unit_test(test_inetd_tcp6_pair),
		cmocka_unit_test(test_inetd_max),
		cmocka_unit_test(test_inetd_user_group),
		cmocka_unit_test(test_inetd_internal),
		cmocka_unit_test(test_inetd_tcpmux),
		cmocka_unit_test(test_inetd_unix),
		cmocka_unit_test(test_inetd_unsupported),
		cmocka_unit_test(test_inetd_bufsize),
		cmocka_unit_test(test_inetd_tcpd),
		cmocka_unit_test(test_inetd_udp_nowait),
		cmocka_unit_test(test_inetd_overlap),
		cmocka_unit_test(test_inetd_quoting),
		cmocka_unit_test(test_inetd_line_endings),
		cmocka_unit_test(test_inetd_error_lines),
		cmocka_unit_test(test_inetd_problem_order),
		cmocka_unit_test(test_inetd_no_service),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
