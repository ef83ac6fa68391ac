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
		cmocka_unit_test(test_env_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
