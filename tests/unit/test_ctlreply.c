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
 * Unit tests of portmuxctl's reading and printing of the control
 * socket's answer (ctlreply.c): the line parser, the whole-answer
 * checks (first line, "end", LF, length, NUL), reply_is_number(), the
 * JSON output and the aligned tables.  Printing goes to FILEs from
 * open_memstream(), compared with exact strings; the JSON is also
 * given to "python3 -m json.tool" (skipped, with a message, when there
 * is no python3).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctlreply.h"

/* A FILE that writes into memory. */
struct mem {
	char	*buf;
	size_t	 len;
	FILE	*f;
};

static FILE *
mem_open(struct mem *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
	return m->f;
}

/* Closes the stream; the text, to free. */
static char *
mem_close(struct mem *m)
{
	assert_int_equal(fclose(m->f), 0);
	assert_non_null(m->buf);
	return m->buf;
}

/* python3 -m json.tool's verdict on s: 1 valid, 0 not, -1 no python3. */
static int
json_tool(const char *s)
{
	FILE	*p;
	int	 st;

	if (system("command -v python3 >/dev/null 2>&1") != 0)
		return -1;
	p = popen("python3 -m json.tool >/dev/null 2>&1", "w");
	assert_non_null(p);
	(void)fputs(s, p);
	st = pclose(p);
	assert_int_not_equal(st, -1);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void
assert_json_valid(const char *s)
{
	int	 v = json_tool(s);

	if (v == -1) {
		print_message("python3 missing: JSON not validated\n");
		return;
	}
	if (v != 1)
		print_message("invalid JSON: %s\n", s);
	assert_int_equal(v, 1);
}

static void
parse_ok(const char *text, struct reply *r)
{
	char	 err[256] = "";
	int	 rc = reply_parse(text, strlen(text), r, err, sizeof(err));

	if (rc != 0)
		print_message("reply_parse: %s\n", err);
	assert_int_equal(rc, 0);
}

/* buf[len] must be a NUL, as reply_parse() wants. */
static void
parse_bad_len(const char *buf, size_t len)
{
	struct reply	 r;
	char		 err[256] = "";

	if (reply_parse(buf, len, &r, err, sizeof(err)) != -1) {
		print_message("accepted: '%s'\n", buf);
		reply_free(&r);
		fail();
	}
	if (err[0] == '\0')
		print_message("no reason given for '%s'\n", buf);
	assert_true(err[0] != '\0');
	/* Nothing left behind. */
	assert_false(r.ok);
	assert_null(r.rec);
	assert_int_equal(r.nrec, 0);
	assert_null(r.head.f);
	assert_int_equal(r.head.n, 0);
}

static void
parse_bad(const char *text)
{
	parse_bad_len(text, strlen(text));
}

static void
line_ok(const char *s, struct record *rec)
{
	char	 err[256] = "";
	int	 rc = reply_parse_line(s, strlen(s), rec, err, sizeof(err));

	if (rc != 0)
		print_message("reply_parse_line(%s): %s\n", s, err);
	assert_int_equal(rc, 0);
}

static void
line_bad(const char *s)
{
	struct record	 rec;
	char		 err[256] = "";
	int		 rc;

	rc = reply_parse_line(s, strlen(s), &rec, err, sizeof(err));
	if (rc != -1)
		print_message("accepted: '%s'\n", s);
	assert_int_equal(rc, -1);
	assert_true(err[0] != '\0');
	assert_null(rec.f);
	assert_int_equal(rec.n, 0);
}

static void
assert_field(const struct record *rec, size_t i, const char *key,
    const char *val)
{
	assert_true(i < rec->n);
	assert_string_equal(rec->f[i].key, key);
	assert_string_equal(rec->f[i].val, val);
}

/* reply_print() of text; what it wrote to out and err, and its code. */
static int
print_reply(const char *text, const char *cmd, bool json, char **out,
    char **err)
{
	struct reply	 r;
	struct mem	 mo, me;
	int		 rc;

	parse_ok(text, &r);
	rc = reply_print(&r, cmd, json, mem_open(&mo), mem_open(&me));
	*out = mem_close(&mo);
	*err = mem_close(&me);
	reply_free(&r);
	return rc;
}

static void
test_parse_line_bare(void **state)
{
	struct record	 rec;

	(void)state;
	line_ok("service=echo port=7 remaining_s=60 peer=192.0.2.1:4242 "
	    "x=~!#$%&'()*+,-./:;<>?@[]^_`{|}", &rec);
	assert_int_equal(rec.n, 5);
	assert_field(&rec, 0, "service", "echo");
	assert_field(&rec, 1, "port", "7");
	assert_field(&rec, 2, "remaining_s", "60");
	assert_field(&rec, 3, "peer", "192.0.2.1:4242");
	assert_field(&rec, 4, "x", "~!#$%&'()*+,-./:;<>?@[]^_`{|}");
	assert_string_equal(reply_get(&rec, "port"), "7");
	assert_null(reply_get(&rec, "nope"));
	reply_record_free(&rec);
	assert_null(rec.f);
	assert_int_equal(rec.n, 0);

	/* Only len bytes count. */
	assert_int_equal(reply_parse_line("a=1 b=2", 3, &rec, NULL, 0), 0);
	assert_int_equal(rec.n, 1);
	assert_field(&rec, 0, "a", "1");
	reply_record_free(&rec);
}

static void
test_parse_line_quoted(void **state)
{
	struct record	 rec;

	(void)state;
	line_ok("msg=\"two words\" empty=\"\" q=\"say \\\"hi\\\"\" "
	    "bs=\"a\\\\b\" nl=\"l1\\nl2\" cr=\"a\\rb\" tab=\"a\\tb\" "
	    "hex=\"\\x41\\x7e\\x4A\\xff\" last=bare", &rec);
	assert_int_equal(rec.n, 9);
	assert_field(&rec, 0, "msg", "two words");
	assert_field(&rec, 1, "empty", "");
	assert_field(&rec, 2, "q", "say \"hi\"");
	assert_field(&rec, 3, "bs", "a\\b");
	assert_field(&rec, 4, "nl", "l1\nl2");
	assert_field(&rec, 5, "cr", "a\rb");
	assert_field(&rec, 6, "tab", "a\tb");
	assert_field(&rec, 7, "hex", "A~J\xff");
	assert_field(&rec, 8, "last", "bare");
	reply_record_free(&rec);

	/* A quoted value alone, and one with '=' and a space inside. */
	line_ok("k=\"a=b c\"", &rec);
	assert_int_equal(rec.n, 1);
	assert_field(&rec, 0, "k", "a=b c");
	reply_record_free(&rec);
}

static void
test_parse_line_malformed(void **state)
{
	(void)state;
	line_bad("port7");			/* missing '=' */
	line_bad("a=1 port7");			/* missing '=', later */
	line_bad("=7");				/* empty key */
	line_bad("a=1 =7");
	line_bad("Port=7");			/* upper-case key */
	line_bad("pOrt=7");
	line_bad("port2=7");			/* digit in key */
	line_bad("a=\"\\q\"");			/* bad escape */
	line_bad("a=\"\\0\"");
	line_bad("a=\"\\x00\"");		/* \x00 */
	line_bad("a=\"\\x4\"");			/* \x, one hex digit */
	line_bad("a=\"\\x4");
	line_bad("a=\"\\xg1\"");
	line_bad("a=\"\\");
	line_bad("a=\"abc");			/* unterminated */
	line_bad("a=\"abc\\\"");
	line_bad("a=\"");
	line_bad("a=1  b=2");			/* two spaces */
	line_bad("a=1 ");			/* trailing space */
	line_bad(" a=1");			/* leading space */
	line_bad("a=\"x\x01y\"");		/* control characters */
	line_bad("a=x\x01y");
	line_bad("a=x\ty");
	line_bad("a=\"x\ty\"");
	line_bad("a=x\x7fy");			/* DEL, bare */
	line_bad("a=\xc3\xa9");			/* not ASCII, bare */
	line_bad("a=b\"c");			/* '"' in a bare value */
	line_bad("a=b\\c");			/* '\' in a bare value */
	line_bad("a=");				/* empty bare value */
	line_bad("a= b=1");
	line_bad("a=\"x\"b=1");			/* no space after quote */
	line_bad("a=\"x\"\"");
	line_bad("a=1\tb=2");
}

/*
 * The error message quotes the line, but only its len bytes: what
 * follows is not the line (in reply_parse(), the next lines).
 */
static void
test_parse_line_err_within_len(void **state)
{
	struct record	 rec;
	char		 err[256] = "";

	(void)state;
	assert_int_equal(reply_parse_line("Q=1 ZZZZ", 3, &rec, err,
	    sizeof(err)), -1);
	if (strstr(err, "ZZZZ") != NULL)
		print_message("err shows bytes past len: %s\n", err);
	assert_null(strstr(err, "ZZZZ"));
}

static void
test_parse_ok(void **state)
{
	struct reply	 r;

	(void)state;
	parse_ok("portmuxd/1 ok\nend\n", &r);
	assert_true(r.ok);
	assert_int_equal(r.nrec, 0);
	assert_int_equal(r.head.n, 0);
	reply_free(&r);

	parse_ok("portmuxd/1 ok\n"
	    "service=echo port=7 state=up\n"
	    "service=daytime port=13 msg=\"a \\\"b\\\"\"\n"
	    "end\n", &r);
	assert_true(r.ok);
	assert_int_equal(r.nrec, 2);
	assert_int_equal(r.rec[0].n, 3);
	assert_field(&r.rec[0], 0, "service", "echo");
	assert_field(&r.rec[0], 1, "port", "7");
	assert_field(&r.rec[0], 2, "state", "up");
	assert_int_equal(r.rec[1].n, 3);
	assert_field(&r.rec[1], 0, "service", "daytime");
	assert_field(&r.rec[1], 1, "port", "13");
	assert_field(&r.rec[1], 2, "msg", "a \"b\"");
	reply_free(&r);
	assert_null(r.rec);
	assert_int_equal(r.nrec, 0);
}

static void
test_parse_error(void **state)
{
	struct reply	 r;

	(void)state;
	parse_ok("portmuxd/1 error code=denied msg=\"not allowed: uid "
	    "1000\"\nend\n", &r);
	assert_false(r.ok);
	assert_int_equal(r.head.n, 2);
	assert_string_equal(reply_get(&r.head, "code"), "denied");
	assert_string_equal(reply_get(&r.head, "msg"), "not allowed: uid 1000");
	assert_int_equal(r.nrec, 0);
	reply_free(&r);

	parse_ok("portmuxd/1 error code=failed msg=\"reload refused\"\n"
	    "problem=\"line 3: unknown option\"\n"
	    "problem=\"line 7: bad port\"\nend\n", &r);
	assert_false(r.ok);
	assert_string_equal(reply_get(&r.head, "code"), "failed");
	assert_string_equal(reply_get(&r.head, "msg"), "reload refused");
	assert_int_equal(r.nrec, 2);
	assert_field(&r.rec[0], 0, "problem", "line 3: unknown option");
	assert_field(&r.rec[1], 0, "problem", "line 7: bad port");
	reply_free(&r);

	/* An error needs well-formed pairs (and a code, below). */
	parse_bad("portmuxd/1 error \nend\n");
	parse_bad("portmuxd/1 error\nend\n");
	parse_bad("portmuxd/1 error code=x msg=\"x\nend\n");
	parse_bad("portmuxd/1 error code=x  msg=y\nend\n");
}

/* An error without code= is malformed, and the reason is in err. */
static void
test_parse_error_no_code(void **state)
{
	(void)state;
	parse_bad("portmuxd/1 error msg=\"x\"\nend\n");
	parse_bad("portmuxd/1 error codes=x\nend\n");
}

static void
test_parse_malformed(void **state)
{
	char	*buf;
	size_t	 n, hl = strlen("portmuxd/1 ok\n");
	struct reply	 r;
	char	 err[256];

	(void)state;
	parse_bad("");					/* empty */
	parse_bad("portmuxd/1 ok\n");			/* no end */
	parse_bad("portmuxd/1 ok\nservice=echo\n");	/* truncated */
	parse_bad("portmuxd/1 ok\nend\nservice=echo\n");	/* after end */
	parse_bad("portmuxd/1 ok\nend\nend\n");
	parse_bad("portmuxd/1 ok\nend\n\n");
	parse_bad("portmuxd/1 ok\nend");		/* no final LF */
	parse_bad("portmuxd/1 ok\nservice=echo\nen");
	parse_bad("portmuxd/1 ok");
	parse_bad("portmuxd/2 ok\nend\n");		/* wrong first line */
	parse_bad("portmuxd/1 okay\nend\n");
	parse_bad("portmuxd/1 ok \nend\n");
	parse_bad("portmuxd/1\nend\n");
	parse_bad("end\n");
	parse_bad("service=echo\nend\n");
	parse_bad("portmuxd/1 ok\r\nend\r\n");
	parse_bad("portmuxd/1 ok\nservice=echo port=\nend\n");	/* bad record */
	parse_bad("portmuxd/1 ok\nservice=echo\nEND\n");
	/* A NUL byte. */
	parse_bad_len("portmuxd/1 ok\nservice=echo\0\nend\n",
	    strlen("portmuxd/1 ok\nservice=echo") + 6);
	parse_bad_len("portmuxd/1 ok\nend\n\0", 19);

	/* A line of 8192 bytes, LF included, is the longest there is. */
	n = hl + REPLY_LINE_MAX + 1 + 4;
	buf = malloc(n + 1);
	assert_non_null(buf);
	memcpy(buf, "portmuxd/1 ok\n", hl);
	memcpy(buf + hl, "a=", 2);
	memset(buf + hl + 2, 'x', REPLY_LINE_MAX - 3);
	memcpy(buf + hl + REPLY_LINE_MAX - 1, "\nend\n", 6);
	assert_int_equal(reply_parse(buf, hl + REPLY_LINE_MAX + 4, &r, err,
	    sizeof(err)), 0);
	assert_int_equal(r.nrec, 1);
	assert_int_equal(strlen(reply_get(&r.rec[0], "a")),
	    REPLY_LINE_MAX - 3);
	reply_free(&r);
	/* One more byte is too long. */
	memcpy(buf + hl, "a=", 2);
	memset(buf + hl + 2, 'x', REPLY_LINE_MAX - 2);
	memcpy(buf + hl + REPLY_LINE_MAX, "\nend\n", 6);
	parse_bad_len(buf, hl + REPLY_LINE_MAX + 5);
	free(buf);
}

/*
 * "record lines of key=value pairs": an empty line has none, and would
 * be a row of "-" in a table; the daemon never sends one.
 */
static void
test_parse_empty_record(void **state)
{
	(void)state;
	parse_bad("portmuxd/1 ok\n\nend\n");
}

static void
test_is_number(void **state)
{
	(void)state;
	assert_true(reply_is_number("0"));
	assert_true(reply_is_number("7"));
	assert_true(reply_is_number("12"));
	assert_true(reply_is_number("1234567890123456789"));	/* 19 */
	assert_false(reply_is_number("12345678901234567890"));	/* 20 */
	assert_false(reply_is_number("007"));
	assert_false(reply_is_number("00"));
	assert_false(reply_is_number(""));
	assert_false(reply_is_number("-1"));
	assert_false(reply_is_number("+1"));
	assert_false(reply_is_number("1.5"));
	assert_false(reply_is_number("1e3"));
	assert_false(reply_is_number(" 1"));
	assert_false(reply_is_number("1 "));
	assert_false(reply_is_number("12a"));
	assert_false(reply_is_number("unlimited"));
}

static void
test_json_string(void **state)
{
	struct mem	 m;
	char		*s;

	(void)state;
	reply_json_string(mem_open(&m), "q\"b\\s\nl\x01" "c\tt\re\x7f" "z");
	s = mem_close(&m);
	assert_string_equal(s,
	    "\"q\\\"b\\\\s\\nl\\u0001c\\tt\\u000de\\u007fz\"");
	assert_json_valid(s);
	free(s);

	reply_json_string(mem_open(&m), "");
	s = mem_close(&m);
	assert_string_equal(s, "\"\"");
	free(s);

	/* The validator can say no. */
	if (json_tool("{\"a\": 1,}") == 1)
		fail_msg("python3 -m json.tool took bad JSON");
}

static void
test_json_record(void **state)
{
	struct record	 rec;
	struct mem	 m;
	char		*s;

	(void)state;
	line_ok("service=echo port=7 zero=0 pad=007 max=unlimited neg=-1 "
	    "big=12345678901234567890 msg=\"say \\\"hi\\\"\\n\\\\ \\x01\"",
	    &rec);
	reply_json_record(mem_open(&m), &rec);
	s = mem_close(&m);
	assert_string_equal(s, "{\"service\": \"echo\", \"port\": 7, "
	    "\"zero\": 0, \"pad\": \"007\", \"max\": \"unlimited\", "
	    "\"neg\": \"-1\", \"big\": \"12345678901234567890\", "
	    "\"msg\": \"say \\\"hi\\\"\\n\\\\ \\u0001\"}");
	assert_json_valid(s);
	free(s);
	reply_record_free(&rec);

	reply_json_record(mem_open(&m), &rec);	/* empty */
	s = mem_close(&m);
	assert_string_equal(s, "{}");
	free(s);
}

static void
test_print_json_status(void **state)
{
	char	*out, *err;

	(void)state;
	assert_int_equal(print_reply("portmuxd/1 ok\n"
	    "service=echo port=7 state=up\n"
	    "service=daytime port=13 conns=5 note=\"a\\tb\"\nend\n",
	    "status", true, &out, &err), 0);
	assert_string_equal(out,
	    "[{\"service\": \"echo\", \"port\": 7, \"state\": \"up\"},\n"
	    " {\"service\": \"daytime\", \"port\": 13, \"conns\": 5, "
	    "\"note\": \"a\\tb\"}]\n");
	assert_string_equal(err, "");
	assert_json_valid(out);
	free(out);
	free(err);

	assert_int_equal(print_reply("portmuxd/1 ok\nend\n", "status", true,
	    &out, &err), 0);
	assert_string_equal(out, "[]\n");
	assert_json_valid(out);
	free(out);
	free(err);

	assert_int_equal(print_reply("portmuxd/1 ok\naddr=192.0.2.1 "
	    "remaining_s=60\nend\n", "bans", true, &out, &err), 0);
	assert_string_equal(out,
	    "[{\"addr\": \"192.0.2.1\", \"remaining_s\": 60}]\n");
	assert_json_valid(out);
	free(out);
	free(err);
}

static void
test_print_json_stats(void **state)
{
	char	*out, *err;

	(void)state;
	assert_int_equal(print_reply("portmuxd/1 ok\n"
	    "generation=3 reloads=2 accepted=12 refused=0 gen=007 "
	    "version=\"1.0 \\\"beta\\\"\"\nend\n", "stats", true, &out, &err),
	    0);
	assert_string_equal(out, "{\"generation\": 3, \"reloads\": 2, "
	    "\"accepted\": 12, \"refused\": 0, \"gen\": \"007\", "
	    "\"version\": \"1.0 \\\"beta\\\"\"}\n");
	assert_string_equal(err, "");
	assert_json_valid(out);
	free(out);
	free(err);

	assert_int_equal(print_reply("portmuxd/1 ok\ngeneration=3\nend\n",
	    "reload", true, &out, &err), 0);
	assert_string_equal(out, "{\"generation\": 3}\n");
	assert_json_valid(out);
	free(out);
	free(err);
}

static void
test_table(void **state)
{
	struct reply	 r;
	struct mem	 m;
	char		*s;

	(void)state;
	/*
	 * service: text, left; port: numbers, right; state: missing in
	 * the second record; conns: only in the second, so last, numbers.
	 */
	parse_ok("portmuxd/1 ok\n"
	    "service=echo port=7 state=up\n"
	    "service=daytime port=13 conns=5\n"
	    "service=x port=1024 state=\"half open\" conns=12345\n"
	    "end\n", &r);
	reply_table(mem_open(&m), r.rec, r.nrec);
	s = mem_close(&m);
	assert_string_equal(s,
	    "SERVICE  PORT  STATE      CONNS\n"
	    "echo        7  up             -\n"
	    "daytime    13  -              5\n"
	    "x        1024  half open  12345\n");
	free(s);
	reply_free(&r);

	/* A text column last is not padded; remaining_s is REMAINING. */
	parse_ok("portmuxd/1 ok\n"
	    "addr=192.0.2.1 remaining_s=60\n"
	    "addr=2001:db8::1 remaining_s=3600 reason=\"too many\"\n"
	    "end\n", &r);
	reply_table(mem_open(&m), r.rec, r.nrec);
	s = mem_close(&m);
	assert_string_equal(s,
	    "ADDR         REMAINING  REASON\n"
	    "192.0.2.1           60  -\n"
	    "2001:db8::1       3600  too many\n");
	free(s);
	reply_free(&r);

	/* "-" from the daemon keeps a column numeric; "007" does not. */
	parse_ok("portmuxd/1 ok\n"
	    "a=1 b=1\n"
	    "a=- b=007\n"
	    "a=100 b=2\n"
	    "end\n", &r);
	reply_table(mem_open(&m), r.rec, r.nrec);
	s = mem_close(&m);
	assert_string_equal(s,
	    "A    B\n"
	    "  1  1\n"
	    "  -  007\n"
	    "100  2\n");
	free(s);
	reply_free(&r);

	/* Only "-" in a column (a pid nobody has): text, to the left. */
	parse_ok("portmuxd/1 ok\n"
	    "pid=- state=builtin\n"
	    "pid=- state=relay\n"
	    "end\n", &r);
	reply_table(mem_open(&m), r.rec, r.nrec);
	s = mem_close(&m);
	assert_string_equal(s,
	    "PID  STATE\n"
	    "-    builtin\n"
	    "-    relay\n");
	free(s);
	reply_free(&r);
}

static void
test_print_text(void **state)
{
	char	*out, *err;

	(void)state;
	assert_int_equal(print_reply("portmuxd/1 ok\n"
	    "service=echo port=7\nservice=daytime port=13\nend\n", "status",
	    false, &out, &err), 0);
	assert_string_equal(out,
	    "SERVICE  PORT\n"
	    "echo        7\n"
	    "daytime    13\n");
	assert_string_equal(err, "");
	free(out);
	free(err);

	assert_int_equal(print_reply("portmuxd/1 ok\nend\n", "status", false,
	    &out, &err), 0);
	assert_string_equal(out, "(none)\n");
	free(out);
	free(err);
	assert_int_equal(print_reply("portmuxd/1 ok\nend\n", "connections",
	    false, &out, &err), 0);
	assert_string_equal(out, "(none)\n");
	free(out);
	free(err);
	assert_int_equal(print_reply("portmuxd/1 ok\nend\n", "bans", false,
	    &out, &err), 0);
	assert_string_equal(out, "(none)\n");
	free(out);
	free(err);

	assert_int_equal(print_reply("portmuxd/1 ok\ngeneration=3\nend\n",
	    "reload", false, &out, &err), 0);
	assert_string_equal(out, "reloaded: generation 3\n");
	assert_string_equal(err, "");
	free(out);
	free(err);

	assert_int_equal(print_reply("portmuxd/1 ok\nremoved=2\nend\n",
	    "unban", false, &out, &err), 0);
	assert_string_equal(out, "unbanned 2\n");
	assert_string_equal(err, "");
	free(out);
	free(err);

	/* stats: one key a line, the keys padded to the longest. */
	assert_int_equal(print_reply("portmuxd/1 ok\n"
	    "generation=3 up_s=60 version=\"1.0 beta\"\nend\n", "stats", false,
	    &out, &err), 0);
	assert_string_equal(out,
	    "generation  3\n"
	    "up_s        60\n"
	    "version     1.0 beta\n");
	free(out);
	free(err);
}

static void
test_print_error(void **state)
{
	char	*out, *err;

	(void)state;
	assert_int_equal(print_reply("portmuxd/1 error code=denied "
	    "msg=\"not allowed: uid 1000\"\nend\n", "reload", false, &out,
	    &err), 77);
	assert_string_equal(err, "portmuxctl: not allowed: uid 1000\n");
	assert_string_equal(out, "");
	free(out);
	free(err);

	assert_int_equal(print_reply("portmuxd/1 error code=failed "
	    "msg=\"reload refused, generation 2 kept\"\n"
	    "problem=\"line 3: unknown option\"\n"
	    "problem=\"line 7: bad port \\\"x\\\"\"\nend\n", "reload", false,
	    &out, &err), 1);
	assert_string_equal(err,
	    "portmuxctl: reload refused, generation 2 kept\n"
	    "line 3: unknown option\n"
	    "line 7: bad port \"x\"\n");
	assert_string_equal(out, "");
	free(out);
	free(err);

	/* -j: the same on err, and an object on out. */
	assert_int_equal(print_reply("portmuxd/1 error code=failed "
	    "msg=\"reload refused\"\n"
	    "problem=\"line 3: unknown option\"\n"
	    "problem=\"line 7: bad port \\\"x\\\"\"\nend\n", "reload", true,
	    &out, &err), 1);
	assert_string_equal(err,
	    "portmuxctl: reload refused\n"
	    "line 3: unknown option\n"
	    "line 7: bad port \"x\"\n");
	assert_string_equal(out, "{\"error\": \"failed\", \"msg\": "
	    "\"reload refused\", \"problems\": [\"line 3: unknown option\", "
	    "\"line 7: bad port \\\"x\\\"\"]}\n");
	assert_json_valid(out);
	free(out);
	free(err);

	assert_int_equal(print_reply("portmuxd/1 error code=denied "
	    "msg=\"no\"\nend\n", "status", true, &out, &err), 77);
	assert_string_equal(err, "portmuxctl: no\n");
	assert_string_equal(out, "{\"error\": \"denied\", \"msg\": \"no\", "
	    "\"problems\": []}\n");
	assert_json_valid(out);
	free(out);
	free(err);

	/* No msg: the code is the message. */
	assert_int_equal(print_reply("portmuxd/1 error code=unknown\nend\n",
	    "frob", false, &out, &err), 1);
	assert_string_equal(err, "portmuxctl: unknown\n");
	assert_string_equal(out, "");
	free(out);
	free(err);

	/* "denied" exactly. */
	assert_int_equal(print_reply("portmuxd/1 error code=denied_x "
	    "msg=m\nend\n", "stats", false, &out, &err), 1);
	free(out);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_line_bare),
		cmocka_unit_test(test_parse_line_quoted),
		cmocka_unit_test(test_parse_line_malformed),
		cmocka_unit_test(test_parse_line_err_within_len),
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_error),
		cmocka_unit_test(test_parse_error_no_code),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_empty_record),
		cmocka_unit_test(test_is_number),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_json_record),
		cmocka_unit_test(test_print_json_status),
		cmocka_unit_test(test_print_json_stats),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_print_text),
		cmocka_unit_test(test_print_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
