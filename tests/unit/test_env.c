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
 * Unit tests of env.c: the environment of a service program is the
 * contract of DESIGN.md ("Child processes"): PATH, PROTO, the UCSPI
 * variables, REMOTE_HOST, PORTMUX_SERVICE and PORTMUX_CONN, then the
 * service's env and passenv, and nothing else of the daemon's own
 * environment.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "portmuxd.h"

/*
 * The API takes char **, as execve does; the tests never write through
 * these pointers, so string literals are cast.
 */
#define W(s)	((char *)(s))

static char	*no_strings[] = { NULL };

/* A service as conf.c leaves it: env and passenv never NULL. */
static void
svc_init(struct service *svc, const char *name, enum proto proto)
{
	memset(svc, 0, sizeof(*svc));
	svc->name = (char *)name;
	svc->proto = proto;
	svc->env = no_strings;
	svc->passenv = no_strings;
	svc->args = no_strings;
}

static void
sin4(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
}

static void
sin6(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
}

#define SA(ss)	((const struct sockaddr *)(ss))

static size_t
env_count(char **v)
{
	size_t	 n = 0;

	while (v[n] != NULL)
		n++;
	return n;
}

/* The value of name, asserting that it is defined exactly once. */
static const char *
env_get(char **v, const char *name)
{
	size_t		 nl = strlen(name);
	const char	*found = NULL;

	for (; *v != NULL; v++) {
		if (strncmp(*v, name, nl) == 0 && (*v)[nl] == '=') {
			assert_null(found);
			found = *v + nl + 1;
		}
	}
	return found;
}

static void
env_is(char **v, const char *name, const char *value)
{
	const char	*got = env_get(v, name);

	if (got == NULL)
		fail_msg("%s is not set", name);
	assert_string_equal(got, value);
}

/* Every entry has the K=V form with a non-empty name. */
static void
env_wellformed(char **v)
{
	for (; *v != NULL; v++) {
		const char	*eq = strchr(*v, '=');

		assert_non_null(eq);
		assert_true(eq > *v);
	}
}

static void
test_env_tcp_v4(void **state)
{
	struct service		 svc;
	struct sockaddr_storage	 peer, local;
	char			*denv[] = { W("PATH=/evil"), W("HOME=/root"),
				    W("LD_PRELOAD=/tmp/x.so"),
				    W("LISTEN_FDS=3"),
				    W("NOTIFY_SOCKET=/run/systemd/notify"),
				    NULL };
	char			**v;

	(void)state;
	svc_init(&svc, "echo", PROTO_TCP);
	sin4(&peer, "192.0.2.7", 53422);
	sin4(&local, "192.0.2.1", 7);
	v = env_build(&svc, SA(&peer), SA(&local), NULL, 42, denv);
	assert_non_null(v);
	env_wellformed(v);
	env_is(v, "PATH", PORTMUX_PATH);
	env_is(v, "PROTO", "TCP");
	env_is(v, "TCPREMOTEIP", "192.0.2.7");
	env_is(v, "TCPREMOTEPORT", "53422");
	env_is(v, "TCPLOCALIP", "192.0.2.1");
	env_is(v, "TCPLOCALPORT", "7");
	env_is(v, "REMOTE_HOST", "192.0.2.7");
	env_is(v, "PORTMUX_SERVICE", "echo");
	env_is(v, "PORTMUX_CONN", "42");
	/* Nothing else, of the daemon's environment in particular. */
	assert_int_equal(env_count(v), 9);
	assert_null(env_get(v, "HOME"));
	assert_null(env_get(v, "LD_PRELOAD"));
	assert_null(env_get(v, "LISTEN_FDS"));
	assert_null(env_get(v, "NOTIFY_SOCKET"));
	env_free(v);
}

static void
test_env_tcp_v6(void **state)
{
	struct service		 svc;
	struct sockaddr_storage	 peer, local;
	char			**v;

	(void)state;
	svc_init(&svc, "shell", PROTO_TCP);
	sin6(&peer, "2001:db8::9", 40022);
	sin6(&local, "2001:db8::1", 514);
	v = env_build(&svc, SA(&peer), SA(&local), NULL, 7, NULL);
	assert_non_null(v);
	env_is(v, "TCPREMOTEIP", "2001:db8::9");
	env_is(v, "TCPREMOTEPORT", "40022");
	env_is(v, "TCPLOCALIP", "2001:db8::1");
	env_is(v, "TCPLOCALPORT", "514");
	env_is(v, "REMOTE_HOST", "2001:db8::9");
	assert_int_equal(env_count(v), 9);
	env_free(v);
}

/* A dual-stack socket's IPv4 peer is shown as the IPv4 address it is. */
static void
test_env_mapped_v4(void **state)
{
	struct service		 svc;
	struct sockaddr_storage	 peer, local;
	char			**v;

	(void)state;
	svc_init(&svc, "echo", PROTO_TCP);
	sin6(&peer, "::ffff:192.0.2.7", 1234);
	sin6(&local, "::ffff:127.0.0.1", 7);
	v = env_build(&svc, SA(&peer), SA(&local), NULL, 1, NULL);
	assert_non_null(v);
	env_is(v, "TCPREMOTEIP", "192.0.2.7");
	env_is(v, "TCPREMOTEPORT", "1234");
	env_is(v, "TCPLOCALIP", "127.0.0.1");
	env_is(v, "TCPLOCALPORT", "7");
	env_is(v, "REMOTE_HOST", "192.0.2.7");
	env_free(v);
}

static void
test_env_udp_names(void **state)
{
	struct service		 svc;
	struct sockaddr_storage	 peer, local;
	char			**v;

	(void)state;
	svc_init(&svc, "tftp", PROTO_UDP);
	sin4(&peer, "198.51.100.2", 4000);
	sin4(&local, "198.51.100.1", 69);
	v = env_build(&svc, SA(&peer), SA(&local), NULL, 3, NULL);
	assert_non_null(v);
	env_is(v, "PROTO", "UDP");
	env_is(v, "UDPREMOTEIP", "198.51.100.2");
	env_is(v, "UDPREMOTEPORT", "4000");
	env_is(v, "UDPLOCALIP", "198.51.100.1");
	env_is(v, "UDPLOCALPORT", "69");
	assert_null(env_get(v, "TCPREMOTEIP"));
	assert_int_equal(env_count(v), 9);
	env_free(v);
}

static void
test_env_conn_id_64bit(void **state)
{
	struct service		 svc;
	struct sockaddr_storage	 peer, local;
	char			**v;

	(void)state;
	svc_init(&svc, "echo", PROTO_TCP);
	sin4(&peer, "127.0.0.1", 1);
	sin4(&local, "127.0.0.1", 2);
	v = env_build(&svc, SA(&peer), SA(&local), NULL, UINT64_MAX, NULL);
	assert_non_null(v);
	env_is(v, "PORTMUX_CONN", "18446744073709551615");
	env_free(v);
	v = env_build(&svc, SA(&peer), SA(&local), NULL, 0, NULL);
	assert_non_null(v);
	env_is(v, "PORTMUX_CONN", "0");
	env_free(v);
}

/* env adds variables, and a later definition of a name replaces it. */
static void
test_env_service_env_override(void **state)
{
	struct service		 svc;
	struct sockaddr_storage	 peer, local;
	char			*senv[] = { W("PATH=/opt/svc/bin"),
				    W("FOO=1"), W("OPTS=a=b c"), W("FOO=2"),
				    W("EMPTY="), NULL };
	char			**v;

	(void)state;
	svc_init(&svc, "echo", PROTO_TCP);
	svc.env = senv;
	sin4(&peer, "127.0.0.1", 1);
	sin4(&local, "127.0.0.1", 2);
	v = env_build(&svc, SA(&peer), SA(&local), NULL, 5, NULL);
	assert_non_null(v);
	env_is(v, "PATH", "/opt/svc/bin");
	env_is(v, "FOO", "2");
	env_is(v, "OPTS", "a=b c");
	env_is(v, "EMPTY", "");
	env_is(v, "PROTO", "TCP");
	assert_int_equal(env_count(v), 9 + 3);
	env_free(v);
}

/* A name that is a prefix of another replaces neither. */
static void
test_env_service_env_prefix_names(void **state)
{
	struct service		 svc;
	struct sockaddr_storage	 peer, local;
	char			*senv[] = { W("PAT=x"), W("PATHX=y"),
				    W("PROTOCOL=z"), NULL };
	char			**v;

	(void)state;
	svc_init(&svc, "echo", PROTO_TCP);
	svc.env = senv;
	sin4(&peer, "127.0.0.1", 1);
	sin4(&local, "127.0.0.1", 2);
	v = env_build(&svc, SA(&peer), SA(&local), NULL, 5, NULL);
	assert_non_null(v);
	env_is(v, "PATH", PORTMUX_PATH);
	env_is(v, "PAT", "x");
	env_is(v, "PATHX", "y");
	env_is(v, "PROTO", "TCP");
	env_is(v, "PROTOCOL", "z");
	assert_int_equal(env_count(v), 9 + 3);
	env_free(v);
}

static void
test_env_passenv(void **state)
{
	struct service		 svc;
	struct sockaddr_storage	 peer, local;
	char			*pass[] = { W("TZ"), W("LANG"), W("MISSING"),
				    NULL };
	char			*denv[] = { W("TZX=no"), W("TZ=UTC"),
				    W("LANG=C.UTF-8"),
				    W("LD_PRELOAD=/tmp/x.so"),
				    W("MISSINGNO=1"), NULL };
	char			**v;

	(void)state;
	svc_init(&svc, "echo", PROTO_TCP);
	svc.passenv = pass;
	sin4(&peer, "127.0.0.1", 1);
	sin4(&local, "127.0.0.1", 2);
	v = env_build(&svc, SA(&peer), SA(&local), NULL, 5, denv);
	assert_non_null(v);
	env_is(v, "TZ", "UTC");
	env_is(v, "LANG", "C.UTF-8");
	assert_null(env_get(v, "MISSING"));
	assert_null(env_get(v, "MISSINGNO"));
	assert_null(env_get(v, "TZX"));
	assert_null(env_get(v, "LD_PRELOAD"));
	assert_int_equal(env_count(v), 9 + 2);
	env_free(v);
}

/*
 * passenv comes after env: a variable the daemon has wins over the
 * service's default, and the default stays when the daemon lacks it.
 */
static void
test_env_passenv_after_env(void **state)
{
	struct service		 svc;
	struct sockaddr_storage	 peer, local;
	char			*senv[] = { W("TZ=Europe/Paris"), W("LANG=C"),
				    NULL };
	char			*pass[] = { W("TZ"), W("LANG"), NULL };
	char			*denv[] = { W("TZ=UTC"), NULL };
	char			**v;

	(void)state;
	svc_init(&svc, "echo", PROTO_TCP);
	svc.env = senv;
	svc.passenv = pass;
	sin4(&peer, "127.0.0.1", 1);
	sin4(&local, "127.0.0.1", 2);
	v = env_build(&svc, SA(&peer), SA(&local), NULL, 5, denv);
	assert_non_null(v);
	env_is(v, "TZ", "UTC");
	env_is(v, "LANG", "C");
	assert_int_equal(env_count(v), 9 + 2);
	env_free(v);
}

/* passenv with no daemon environment at all passes nothing. */
static void
test_env_passenv_null_daemon_env(void **state)
{
	struct service		 svc;
	struct sockaddr_storage	 peer, local;
	char			*pass[] = { W("TZ"), NULL };
	char			**v;

	(void)state;
	svc_init(&svc, "echo", PROTO_TCP);
	svc.passenv = pass;
	sin4(&peer, "127.0.0.1", 1);
	sin4(&local, "127.0.0.1", 2);
	v = env_build(&svc, SA(&peer), SA(&local), NULL, 5, NULL);
	assert_non_null(v);
	assert_null(env_get(v, "TZ"));
	assert_int_equal(env_count(v), 9);
	env_free(v);
}

/*
 * A passed variable is passed whole, however long: execve takes values
 * up to 128 KiB, and LS_COLORS, CLASSPATH or PERL5LIB often pass 1 KiB.
 * Failing here would refuse every connection of the service.
 */
static void
test_env_passenv_long_value(void **state)
{
	struct service		 svc;
	struct sockaddr_storage	 peer, local;
	char			*pass[] = { W("CLASSPATH"), NULL };
	char			*denv[] = { NULL, NULL };
	char			*val, **v;
	size_t			 len = 4000;

	(void)state;
	svc_init(&svc, "echo", PROTO_TCP);
	svc.passenv = pass;
	sin4(&peer, "127.0.0.1", 1);
	sin4(&local, "127.0.0.1", 2);
	val = malloc(len + 11);
	assert_non_null(val);
	memcpy(val, "CLASSPATH=", 10);
	memset(val + 10, 'j', len);
	val[10 + len] = '\0';
	denv[0] = val;
	v = env_build(&svc, SA(&peer), SA(&local), NULL, 5, denv);
	if (v == NULL) {
		free(val);
		fail_msg("env_build fails on a %zu-byte passenv value", len);
	}
	env_is(v, "CLASSPATH", val + 10);
	env_free(v);
	free(val);
}

/* Addresses of another family are an error, without leaks. */
static void
test_env_bad_family(void **state)
{
	struct service		 svc;
	struct sockaddr_storage	 peer, local;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&peer;

	(void)state;
	svc_init(&svc, "echo", PROTO_TCP);
	memset(&peer, 0, sizeof(peer));
	sun->sun_family = AF_UNIX;
	sin4(&local, "127.0.0.1", 2);
	assert_null(env_build(&svc, SA(&peer), SA(&local), NULL, 5, NULL));
	assert_null(env_build(&svc, SA(&local), SA(&peer), NULL, 5, NULL));
}

/* No variable of the given suffix (IP, PORT...) is set at all. */
static void
env_none_ending(char **v, const char *suffix)
{
	size_t	 sl = strlen(suffix), nl;

	for (; *v != NULL; v++) {
		nl = strcspn(*v, "=");
		if (nl >= sl && strncmp(*v + nl - sl, suffix, sl) == 0)
			fail_msg("unexpected %s", *v);
	}
}

/* UDP: the UDP names, REMOTE_HOST, and no TCP variable. */
static void
test_env_udp_v4(void **state)
{
	struct service		 svc;
	struct sockaddr_storage	 peer, local;
	char			**v;

	(void)state;
	svc_init(&svc, "tftp", PROTO_UDP);
	svc.wait = true;
	sin4(&peer, "198.51.100.2", 4000);
	sin4(&local, "198.51.100.1", 69);
	v = env_build(&svc, SA(&peer), SA(&local), NULL, 11, NULL);
	assert_non_null(v);
	env_wellformed(v);
	env_is(v, "PATH", PORTMUX_PATH);
	env_is(v, "PROTO", "UDP");
	env_is(v, "UDPREMOTEIP", "198.51.100.2");
	env_is(v, "UDPREMOTEPORT", "4000");
	env_is(v, "UDPLOCALIP", "198.51.100.1");
	env_is(v, "UDPLOCALPORT", "69");
	env_is(v, "REMOTE_HOST", "198.51.100.2");
	env_is(v, "PORTMUX_SERVICE", "tftp");
	env_is(v, "PORTMUX_CONN", "11");
	assert_null(env_get(v, "TCPREMOTEIP"));
	assert_null(env_get(v, "TCPREMOTEPORT"));
	assert_null(env_get(v, "TCPLOCALIP"));
	assert_null(env_get(v, "TCPLOCALPORT"));
	assert_int_equal(env_count(v), 9);
	env_free(v);
}

/* UDP over IPv6, and an IPv4 client of a dual-stack UDP socket. */
static void
test_env_udp_v6_and_mapped(void **state)
{
	struct service		 svc;
	struct sockaddr_storage	 peer, local;
	char			**v;

	(void)state;
	svc_init(&svc, "syslog", PROTO_UDP);
	sin6(&peer, "2001:db8::9", 40514);
	sin6(&local, "2001:db8::1", 514);
	v = env_build(&svc, SA(&peer), SA(&local), NULL, 12, NULL);
	assert_non_null(v);
	env_is(v, "PROTO", "UDP");
	env_is(v, "UDPREMOTEIP", "2001:db8::9");
	env_is(v, "UDPREMOTEPORT", "40514");
	env_is(v, "UDPLOCALIP", "2001:db8::1");
	env_is(v, "UDPLOCALPORT", "514");
	env_is(v, "REMOTE_HOST", "2001:db8::9");
	assert_int_equal(env_count(v), 9);
	env_free(v);

	sin6(&peer, "::ffff:192.0.2.7", 1234);
	sin6(&local, "::ffff:127.0.0.1", 69);
	v = env_build(&svc, SA(&peer), SA(&local), NULL, 13, NULL);
	assert_non_null(v);
	env_is(v, "UDPREMOTEIP", "192.0.2.7");
	env_is(v, "UDPLOCALIP", "127.0.0.1");
	env_is(v, "REMOTE_HOST", "192.0.2.7");
	env_free(v);
}

/* A unix peer as getpeername() and getsockname() give it. */
static void
sun_set(struct sockaddr_storage *ss, const char *path)
{
	struct sockaddr_un	*sun = (struct sockaddr_un *)ss;

	memset(ss, 0, sizeof(*ss));
	sun->sun_family = AF_UNIX;
	(void)snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", path);
}

/*
 * unix: PROTO=UNIX and the peer's SO_PEERCRED credentials; no address
 * variable (a unix socket has none) and no REMOTE_HOST.
 */
static void
test_env_unix_cred(void **state)
{
	struct service		 svc;
	struct sockaddr_storage	 peer, local;
	struct ucred		 cred;
	char			**v;

	(void)state;
	svc_init(&svc, "ctl", PROTO_UNIX);
	svc.path = (char *)"/run/ctl.sock";
	sun_set(&peer, "");
	sun_set(&local, "/run/ctl.sock");
	memset(&cred, 0, sizeof(cred));
	cred.uid = 1000;
	cred.gid = 100;
	cred.pid = 4242;
	v = env_build(&svc, SA(&peer), SA(&local), &cred, 21, NULL);
	assert_non_null(v);
	env_wellformed(v);
	env_is(v, "PATH", PORTMUX_PATH);
	env_is(v, "PROTO", "UNIX");
	env_is(v, "UNIXREMOTEUID", "1000");
	env_is(v, "UNIXREMOTEGID", "100");
	env_is(v, "UNIXREMOTEPID", "4242");
	env_is(v, "PORTMUX_SERVICE", "ctl");
	env_is(v, "PORTMUX_CONN", "21");
	assert_null(env_get(v, "REMOTE_HOST"));
	env_none_ending(v, "IP");
	env_none_ending(v, "PORT");
	assert_int_equal(env_count(v), 7);
	env_free(v);

	/* The same without any address at all. */
	v = env_build(&svc, NULL, NULL, &cred, 22, NULL);
	assert_non_null(v);
	env_is(v, "UNIXREMOTEUID", "1000");
	assert_null(env_get(v, "REMOTE_HOST"));
	assert_int_equal(env_count(v), 7);
	env_free(v);
}

/* Credentials at the ends of their ranges: root, and the largest ids. */
static void
test_env_unix_cred_extremes(void **state)
{
	struct service		 svc;
	struct ucred		 cred;
	char			**v;

	(void)state;
	svc_init(&svc, "ctl", PROTO_UNIX);
	memset(&cred, 0, sizeof(cred));
	cred.uid = 0;
	cred.gid = 0;
	cred.pid = 1;
	v = env_build(&svc, NULL, NULL, &cred, 1, NULL);
	assert_non_null(v);
	env_is(v, "UNIXREMOTEUID", "0");
	env_is(v, "UNIXREMOTEGID", "0");
	env_is(v, "UNIXREMOTEPID", "1");
	env_free(v);
	cred.uid = (uid_t)4294967294U;
	cred.gid = (gid_t)4294967294U;
	cred.pid = 4194304;
	v = env_build(&svc, NULL, NULL, &cred, 1, NULL);
	assert_non_null(v);
	env_is(v, "UNIXREMOTEUID", "4294967294");
	env_is(v, "UNIXREMOTEGID", "4294967294");
	env_is(v, "UNIXREMOTEPID", "4194304");
	env_free(v);
}

/* A unix service's env and passenv work as for TCP. */
static void
test_env_unix_env_passenv(void **state)
{
	struct service		 svc;
	struct ucred		 cred;
	char			*senv[] = { W("FOO=bar"), NULL };
	char			*pass[] = { W("TZ"), NULL };
	char			*denv[] = { W("TZ=UTC"), W("HOME=/root"),
				    NULL };
	char			**v;

	(void)state;
	svc_init(&svc, "ctl", PROTO_UNIX);
	svc.env = senv;
	svc.passenv = pass;
	memset(&cred, 0, sizeof(cred));
	cred.uid = 7;
	cred.gid = 8;
	cred.pid = 9;
	v = env_build(&svc, NULL, NULL, &cred, 3, denv);
	assert_non_null(v);
	env_is(v, "FOO", "bar");
	env_is(v, "TZ", "UTC");
	assert_null(env_get(v, "HOME"));
	assert_int_equal(env_count(v), 7 + 2);
	env_free(v);
}

/*
 * A TCP wait service gets its listener, not a connection: there is no
 * peer yet, so only the local address is exported, and no REMOTE_HOST.
 */
static void
test_env_tcp_wait_no_peer(void **state)
{
	struct service		 svc;
	struct sockaddr_storage	 local;
	char			**v;

	(void)state;
	svc_init(&svc, "imap", PROTO_TCP);
	svc.wait = true;
	svc.instances = 1;
	sin4(&local, "127.0.0.1", 143);
	v = env_build(&svc, NULL, SA(&local), NULL, 31, NULL);
	assert_non_null(v);
	env_wellformed(v);
	env_is(v, "PATH", PORTMUX_PATH);
	env_is(v, "PROTO", "TCP");
	env_is(v, "TCPLOCALIP", "127.0.0.1");
	env_is(v, "TCPLOCALPORT", "143");
	env_is(v, "PORTMUX_SERVICE", "imap");
	env_is(v, "PORTMUX_CONN", "31");
	assert_null(env_get(v, "TCPREMOTEIP"));
	assert_null(env_get(v, "TCPREMOTEPORT"));
	assert_null(env_get(v, "REMOTE_HOST"));
	assert_int_equal(env_count(v), 6);
	env_free(v);

	sin6(&local, "::1", 143);
	v = env_build(&svc, NULL, SA(&local), NULL, 32, NULL);
	assert_non_null(v);
	env_is(v, "TCPLOCALIP", "::1");
	env_is(v, "TCPLOCALPORT", "143");
	assert_null(env_get(v, "REMOTE_HOST"));
	assert_int_equal(env_count(v), 6);
	env_free(v);
}

static void
test_env_free_null(void **state)
{
	(void)state;
	env_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_tcp_v4),
		cmocka_unit_test(test_env_tcp_v6),
		cmocka_unit_test(test_env_mapped_v4),
		cmocka_unit_test(test_env_udp_names),
		cmocka_unit_test(test_env_conn_id_64bit),
		cmocka_unit_test(test_env_service_env_override),
		cmocka_unit_test(test_env_service_env_prefix_names),
		cmocka_unit_test(test_env_passenv),
		cmocka_unit_test(test_env_passenv_after_env),
		cmocka_unit_test(test_env_passenv_null_daemon_env),
		cmocka_unit_test(test_env_passenv_long_value),
		cmocka_unit_test(test_env_bad_family),
		cmocka_unit_test(test_env_udp_v4),
		cmocka_unit_test(test_env_udp_v6_and_mapped),
		cmocka_unit_test(test_env_unix_cred),
		cmocka_unit_test(test_env_unix_cred_extremes),
		cmocka_unit_test(test_env_unix_env_passenv),
		cmocka_unit_test(test_env_tcp_wait_no_peer),
		cmocka_unit_test(test_env_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
