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
 * Unit tests of the builtins' pure formatters (builtin.h): time (RFC 868),
 * daytime (RFC 867, ctime style in local time) and chargen (RFC 864).
 * The event-driven half of builtin.c is exercised by the integration
 * tests.
 */

#include "config.h"

#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "builtin.h"

/* 2036-02-07T06:28:16Z: the RFC 868 counter wraps to 0. */
#define RFC868_WRAP	((time_t)2085978496LL)

static uint32_t
time_word(time_t t)
{
	uint8_t	 b[4];

	memset(b, 0xaa, sizeof(b));
	builtin_time_fmt(t, b);
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

static void
test_builtin_time_epoch(void **state)
{
	uint8_t	 b[4];

	(void)state;
	builtin_time_fmt(0, b);
	/* Big-endian on the wire: 2208988800 = 0x83AA7E80. */
	assert_int_equal(b[0], 0x83);
	assert_int_equal(b[1], 0xaa);
	assert_int_equal(b[2], 0x7e);
	assert_int_equal(b[3], 0x80);
	assert_int_equal(time_word(1), 0x83aa7e81U);
	/* 2000-01-01T00:00:00Z is 3155673600 seconds after 1900. */
	assert_int_equal(time_word(946684800), 3155673600U);
	/* 1900-01-01T00:00:00Z itself. */
	assert_int_equal(time_word(-(time_t)RFC868_EPOCH_OFFSET), 0);
}

static void
test_builtin_time_wrap(void **state)
{
	(void)state;
	assert_int_equal(time_word(RFC868_WRAP - 1), 0xffffffffU);
	assert_int_equal(time_word(RFC868_WRAP), 0);
	assert_int_equal(time_word(RFC868_WRAP + 1), 1);
	/* One full era later, the same as at the epoch. */
	assert_int_equal(time_word(RFC868_WRAP + 4294967296LL), 0);
	/* 2100-01-01T00:00:00Z, in the second era. */
	assert_int_equal(time_word((time_t)4102444800LL),
	    (uint32_t)(4102444800ULL + RFC868_EPOCH_OFFSET - 4294967296ULL));
}

static void
set_tz(const char *tz)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

static void
daytime_is(time_t t, const char *want)
{
	char	 buf[64];
	size_t	 n;

	memset(buf, 'X', sizeof(buf));
	n = builtin_daytime_fmt(t, buf, sizeof(buf));
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
}

static void
test_builtin_daytime_utc(void **state)
{
	(void)state;
	set_tz("UTC");
	/* %e pads the day with a space, as ctime(3) does. */
	daytime_is(0, "Thu Jan  1 00:00:00 1970\r\n");
	daytime_is(1700000000, "Tue Nov 14 22:13:20 2023\r\n");
	daytime_is(951782400, "Tue Feb 29 00:00:00 2000\r\n");
	daytime_is(RFC868_WRAP, "Thu Feb  7 06:28:16 2036\r\n");
}

/* Local time, not UTC: a zone two hours east of Greenwich. */
static void
test_builtin_daytime_local(void **state)
{
	(void)state;
	set_tz("XXX-2");
	daytime_is(0, "Thu Jan  1 02:00:00 1970\r\n");
	set_tz("YYY+10");
	daytime_is(0, "Wed Dec 31 14:00:00 1969\r\n");
	set_tz("UTC");
}

/* A buffer too small for the line gives 0, never a partial line. */
static void
test_builtin_daytime_small_buffer(void **state)
{
	char	 buf[27];

	(void)state;
	set_tz("UTC");
	/* 26 characters and the NUL strftime(3) insists on. */
	assert_int_equal(builtin_daytime_fmt(0, buf, 26), 0);
	assert_int_equal(builtin_daytime_fmt(0, buf, 27), 26);
	assert_int_equal(builtin_daytime_fmt(0, buf, 0), 0);
}

/* An independent model of the RFC 864 ring, 0x20..0x7e. */
static void
chargen_want(uint64_t k, char want[CHARGEN_LINE])
{
	char		 ring[95];
	unsigned int	 i;

	for (i = 0; i < 95; i++)
		ring[i] = (char)(' ' + i);
	for (i = 0; i < 72; i++)
		want[i] = ring[(k % 95 + i) % 95];
	want[72] = '\r';
	want[73] = '\n';
}

static void
chargen_is(uint64_t k, const char *want72)
{
	char	 line[CHARGEN_LINE];

	memset(line, 0, sizeof(line));
	builtin_chargen_line(k, line);
	assert_memory_equal(line, want72, 72);
	assert_memory_equal(line + 72, "\r\n", 2);
}

static void
test_builtin_chargen_known_lines(void **state)
{
	(void)state;
	assert_int_equal(CHARGEN_LINE, 74);
	chargen_is(0, " !\"#$%&'()*+,-./0123456789:;<=>?@"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg");
	chargen_is(1, "!\"#$%&'()*+,-./0123456789:;<=>?@"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh");
	/* Line 23 ends exactly at the end of the ring... */
	chargen_is(23, "789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
	    "abcdefghijklmnopqrstuvwxyz{|}~");
	/* ...and line 24 is the first to wrap around to the space. */
	chargen_is(24, "89:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
	    "abcdefghijklmnopqrstuvwxyz{|}~ ");
	/* Line 94 starts at the last character, then wraps. */
	chargen_is(94, "~ !\"#$%&'()*+,-./0123456789:;<=>?@"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdef");
}

static void
test_builtin_chargen_period(void **state)
{
	char	 a[CHARGEN_LINE], b[CHARGEN_LINE];

	(void)state;
	builtin_chargen_line(0, a);
	builtin_chargen_line(95, b);
	assert_memory_equal(a, b, CHARGEN_LINE);
	builtin_chargen_line(95 * 1000003ULL + 17, a);
	builtin_chargen_line(17, b);
	assert_memory_equal(a, b, CHARGEN_LINE);
}

/* Every line of two periods, and the far end of the 64-bit counter. */
static void
test_builtin_chargen_model(void **state)
{
	char		 got[CHARGEN_LINE], want[CHARGEN_LINE];
	uint64_t	 k;
	size_t		 i;

	(void)state;
	for (k = 0; k < 2 * 95; k++) {
		builtin_chargen_line(k, got);
		chargen_want(k, want);
		assert_memory_equal(got, want, CHARGEN_LINE);
		for (i = 0; i < 72; i++)
			assert_true(got[i] >= 0x20 && got[i] <= 0x7e);
	}
	builtin_chargen_line(UINT64_MAX, got);
	chargen_want(UINT64_MAX, want);
	assert_memory_equal(got, want, CHARGEN_LINE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_time_epoch),
		cmocka_unit_test(test_builtin_time_wrap),
		cmocka_unit_test(test_builtin_daytime_utc),
		cmocka_unit_test(test_builtin_daytime_local),
		cmocka_unit_test(test_builtin_daytime_small_buffer),
		cmocka_unit_test(test_builtin_chargen_known_lines),
		cmocka_unit_test(test_builtin_chargen_period),
		cmocka_unit_test(test_builtin_chargen_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
