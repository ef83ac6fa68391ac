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
 * The rows of the status table (status.c): a listener's kind, state,
 * limits and counters as a loaded configuration and the engine's state
 * make them.
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
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"
#include "portmuxd.h"
#include "stats.h"
#include "status.h"

static const char conf_text[] =
    "service echo {\n"
    "  protocol = tcp\n  address = {127.0.0.1}\n  port = 2300\n"
    "  builtin = echo\n  instances = 10\n}\n"
    "service hello {\n"
    "  protocol = tcp\n  address = {127.0.0.1}\n  port = 2302\n"
    "  server = /bin/echo\n}\n"
    "service relay {\n"
    "  protocol = tcp\n  address = {127.0.0.1}\n  port = 2303\n"
    "  redirect = \"127.0.0.1:2300\"\n}\n"
    "service trap {\n"
    "  protocol = tcp\n  address = {127.0.0.1}\n  port = 2304\n"
    "  builtin = trap\n}\n"
    "service gated {\n"
    "  protocol = tcp\n  address = {127.0.0.1}\n  port = 2305\n"
    "  builtin = echo\n  knock = {\"tcp:7301\"}\n}\n"
    "service holder {\n"
    "  protocol = udp\n  address = {127.0.0.1}\n  port = 2306\n"
    "  wait = true\n  server = /bin/cat\n}\n"
    "service sock {\n"
    "  protocol = unix\n  path = /run/status-test.sock\n"
    "  builtin = daytime\n}\n";

struct fix {
	struct engine		 e;
	struct stats		 st;
	struct listener		 l[8];
	struct elistener	 el[8];
	size_t			 n;
};

static int
setup(void **state)
{
	struct fix		*f;
	struct sockaddr_in	*sin;
	const struct service	*svc;
	size_t			 i;

	assert_non_null(f = calloc(1, sizeof(*f)));
	f->e.conf = conf_load_buf(conf_text, "t.conf", CONF_AS_USER |
	    CONF_CHECK_ONLY);
	assert_non_null(f->e.conf);
	assert_int_equal(f->e.conf->nservices, 7);
	assert_non_null(f->e.active = calloc(f->e.conf->nservices,
	    sizeof(*f->e.active)));
	assert_int_equal(stats_init(&f->st), 0);
	f->e.st = f->st;
	assert_non_null(f->e.svcst = calloc(f->e.conf->nservices,
	    sizeof(*f->e.svcst)));
	for (i = 0; i < f->e.conf->nservices; i++) {
		svc = &f->e.conf->services[i];
		assert_int_equal(stats_claim(&f->st, svc->name), 0);
		f->e.svcst[i] = stats_service(&f->st, svc->name);
		f->l[i].service = i;
		f->l[i].proto = svc->proto;
		f->l[i].fd = -1;
		if (svc->proto == PROTO_UNIX)
			f->l[i].path = svc->path;
		else {
			sin = (struct sockaddr_in *)&f->l[i].addr.ss;
			sin->sin_family = AF_INET;
			sin->sin_port = htons(svc->port);
			assert_int_equal(inet_pton(AF_INET, "127.0.0.1",
			    &sin->sin_addr), 1);
			f->l[i].addr.len = sizeof(*sin);
		}
		f->el[i].e = &f->e;
		f->el[i].l = &f->l[i];
	}
	f->n = f->e.conf->nservices;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix	*f = *state;

	stats_clear(&f->st);
	free(f->e.svcst);
	free(f->e.active);
	conf_free(f->e.conf);
	free(f);
	return 0;
}

static void
row(struct fix *f, size_t i, struct status_row *r)
{
	status_row(&f->e, &f->el[i], r);
	assert_string_equal(r->service, f->e.conf->services[i].name);
}

static void
test_status_kinds(void **state)
{
	struct fix		*f = *state;
	struct status_row	 r;
	static const char *const kinds[] = { "builtin:echo", "exec",
	    "redirect", "trap", "builtin:echo", "wait", "builtin:daytime" };
	static const char *const locals[] = { "127.0.0.1:2300",
	    "127.0.0.1:2302", "127.0.0.1:2303", "127.0.0.1:2304",
	    "127.0.0.1:2305", "127.0.0.1:2306", "/run/status-test.sock" };
	size_t			 i;

	for (i = 0; i < f->n; i++) {
		row(f, i, &r);
		assert_string_equal(r.kind, kinds[i]);
		assert_string_equal(r.local, locals[i]);
		assert_string_equal(r.state, "listen");
		assert_int_equal(r.knock, i == 4);
		assert_true(r.counted);
		assert_int_equal(r.accepted, 0);
		assert_int_equal(r.refused, 0);
		assert_string_equal(r.last, "-");
	}
	row(f, 0, &r);
	assert_string_equal(r.proto, "tcp");
	assert_int_equal(r.limit, 10);
	row(f, 5, &r);
	assert_string_equal(r.proto, "udp");
	assert_int_equal(r.limit, 1);		/* wait: one program */
	row(f, 6, &r);
	assert_string_equal(r.proto, "unix");
}

static void
test_status_states(void **state)
{
	struct fix		*f = *state;
	struct status_row	 r;

	f->el[5].busy = true;
	f->e.active[5] = 1;
	row(f, 5, &r);
	assert_string_equal(r.state, "waiting");
	assert_int_equal(r.active, 1);
	f->el[5].busy = false;
	f->el[5].dup_paused = true;
	row(f, 5, &r);
	assert_string_equal(r.state, "paused");
}

static void
test_status_counters(void **state)
{
	struct fix		*f = *state;
	struct status_row	 r;

	stats_add(&f->e.svcst[0]->accepted, 5);
	stats_refused(f->e.svcst[0], REASON_RATE);
	stats_refused(f->e.svcst[0], REASON_ACL);
	row(f, 0, &r);
	assert_int_equal(r.accepted, 5);
	assert_int_equal(r.refused, 2);
	assert_string_equal(r.last, "acl");
	/* No room for its counters: the row says they are not known. */
	f->e.svcst[1] = NULL;
	row(f, 1, &r);
	assert_false(r.counted);
	assert_string_equal(r.last, "-");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status_kinds, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_status_states, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_status_counters, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
