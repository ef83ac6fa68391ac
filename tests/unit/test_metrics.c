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
 * Unit tests of builtin = metrics (metrics.c).  The first half renders
 * the exposition of an engine built by hand, as test_status.c builds
 * one, over counters set to known values: the sample lines themselves,
 * the histogram's cumulative buckets, the layout the text format 0.0.4
 * requires (one HELP and one TYPE per family, before its samples, no
 * family twice), and what promtool, the reference parser and linter,
 * says of it.  promtool passes an empty input, so each use of it is
 * paired with input it must reject.  The second half speaks HTTP to
 * the builtin in an engine of the test's own (enginefix.h): the answers
 * to good and bad requests, a request in one-byte pieces, the 4096-byte
 * cap, the idle timeout, the close after the answer and the bytes it
 * counts; no descriptor may outlive a request.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/buffer.h>

#include "engine.h"
#include "metrics.h"
#include "portmuxd.h"
#include "stats.h"
#include "enginefix.h"

#define PROMTOOL	"/usr/bin/promtool"
#define WAIT_MS		3000	/* the longest one wait of a test */
#define QUIET_MS	200	/* how long "no answer yet" is watched */
#define RESP_MAX	65536	/* an answer, its body included */
#define REQ_MAX		4096	/* METRICS_REQ_MAX of metrics.c */
#define MAX_FAMILIES	32

/*
 * echo is a builtin, hello and holder run programs, relay forwards and
 * metrics is the endpoint: only hello and holder have spawn series.
 */
static const char render_conf[] =
    "metrics = \"127.0.0.1:9101\"\n"
    "service echo {\n"
    "  protocol = tcp\n  address = {127.0.0.1}\n  port = 2300\n"
    "  builtin = echo\n}\n"
    "service hello {\n"
    "  protocol = tcp\n  address = {127.0.0.1}\n  port = 2302\n"
    "  server = /bin/echo\n}\n"
    "service relay {\n"
    "  protocol = tcp\n  address = {127.0.0.1}\n  port = 2303\n"
    "  redirect = \"127.0.0.1:2300\"\n}\n"
    "service holder {\n"
    "  protocol = udp\n  address = {127.0.0.1}\n  port = 2306\n"
    "  wait = true\n  server = /bin/cat\n}\n";

/* Every family of a full exposition, with its type, in no order. */
static const struct {
	const char	*name;
	const char	*type;
} want_families[] = {
	{ "portmuxd_accepted_total", "counter" },
	{ "portmuxd_refused_total", "counter" },
	{ "portmuxd_active", "gauge" },
	{ "portmuxd_received_bytes_total", "counter" },
	{ "portmuxd_sent_bytes_total", "counter" },
	{ "portmuxd_spawned_total", "counter" },
	{ "portmuxd_exits_total", "counter" },
	{ "portmuxd_spawn_duration_seconds", "histogram" },
	{ "portmuxd_children", "gauge" },
	{ "portmuxd_bans", "gauge" },
	{ "portmuxd_knocks_opened_total", "counter" },
	{ "portmuxd_scans_detected_total", "counter" },
	{ "portmuxd_reloads_total", "counter" },
	{ "portmuxd_config_generation", "gauge" },
	{ "portmuxd_engine_restarts_total", "counter" },
};
#define NWANT	(sizeof(want_families) / sizeof(want_families[0]))

/* The families that only services running programs have. */
static const char *const spawn_families[] = {
	"portmuxd_spawned_total", "portmuxd_exits_total",
	"portmuxd_spawn_duration_seconds",
};

struct family {
	char		 name[96];
	char		 type[16];
	int		 nhelp;
	int		 ntype;
	size_t		 nsamples;
	bool		 done;		/* another family's lines came after */
};

struct fix {
	struct engine	 e;
	struct stats	 st;
	struct xchild	 x[3];
};

struct resp {
	int		 code;
	char		 status[64];	/* "404 Not Found" */
	const char	*head;		/* after the status line */
	size_t		 headlen;
	const char	*body;
	size_t		 bodylen;
};

static int	 setup(void **);
static int	 teardown(void **);
static size_t	 svc_index(const struct conf *, const char *);
static char	*render(struct engine *);
static size_t	 line_count(const char *, const char *);
static void	 assert_line(const char *, const char *);
static void	 assert_no_prefix(const char *, const char *);
static double	 sample_value(const char *, const char *);
static const char *next_line(const char *);
static struct family *family_find(struct family *, size_t, const char *);
static struct family *sample_family(struct family *, size_t, const char *);
static const char *format_error(const char *, struct family *, size_t *);
static size_t	 check_format(const char *, struct family *);
static int	 promtool_run(const char *, char **);
static void	 assert_promtool(const char *);
static uint64_t	 state_set(struct fix *);
static int	 serve_one(struct enginefix *, size_t, int,
		    const struct sockaddr_in *, uint64_t *);
static void	 assert_quiet(struct enginefix *, int, unsigned int);
static size_t	 read_all(struct enginefix *, int, char *, size_t, bool *);
static void	 wait_idle(struct enginefix *);
static void	 parse_resp(const char *, size_t, struct resp *);
static char	*header(const struct resp *, const char *);
static void	 assert_length(const struct resp *, size_t);
static void	 assert_header(const struct resp *, const char *,
		    const char *);
static size_t	 exchange(struct enginefix *, size_t, int,
		    const struct sockaddr_in *, const char *, size_t, size_t,
		    char *, size_t);
static void	 http_start(struct enginefix *, int *, struct sockaddr_in *,
		    size_t *);
static void	 bad_request(struct enginefix *, size_t, int,
		    const struct sockaddr_in *, const char *, size_t,
		    const char *, char *);

static int
setup(void **state)
{
	struct fix	*f;
	size_t		 i;

	assert_non_null(f = calloc(1, sizeof(*f)));
	f->e.conf = conf_load_buf(render_conf, "t.conf", CONF_AS_USER |
	    CONF_CHECK_ONLY);
	assert_non_null(f->e.conf);
	assert_int_equal(f->e.conf->nservices, 5);
	assert_non_null(f->e.active = calloc(f->e.conf->nservices,
	    sizeof(*f->e.active)));
	TAILQ_INIT(&f->e.children);
	assert_int_equal(ban_init(&f->e.bans, 64, 1), 0);
	assert_int_equal(stats_init(&f->st), 0);
	f->e.st = f->st;
	assert_non_null(f->e.svcst = calloc(f->e.conf->nservices,
	    sizeof(*f->e.svcst)));
	for (i = 0; i < f->e.conf->nservices; i++) {
		assert_int_equal(stats_claim(&f->st,
		    f->e.conf->services[i].name), 0);
		f->e.svcst[i] = stats_service(&f->st,
		    f->e.conf->services[i].name);
		assert_non_null(f->e.svcst[i]);
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix	*f = *state;

	ban_clear(&f->e.bans);
	stats_clear(&f->st);
	free(f->e.svcst);
	free(f->e.active);
	conf_free(f->e.conf);
	free(f);
	return 0;
}

static size_t
svc_index(const struct conf *conf, const char *name)
{
	size_t	 i;

	for (i = 0; i < conf->nservices; i++)
		if (strcmp(conf->services[i].name, name) == 0)
			return i;
	fail_msg("no service %s", name);
	return 0;
}

/* metrics_render() of e, as a string. */
static char *
render(struct engine *e)
{
	struct evbuffer	*b;
	char		*s;
	size_t		 n;

	assert_non_null(b = evbuffer_new());
	metrics_render(e, b);
	n = evbuffer_get_length(b);
	assert_non_null(s = malloc(n + 1));
	assert_int_equal(evbuffer_remove(b, s, n), (int)n);
	s[n] = '\0';
	evbuffer_free(b);
	/* The text format is lines, each ended by a LF, the last too. */
	assert_true(n > 0 && s[n - 1] == '\n');
	assert_null(memchr(s, '\0', n));
	return s;
}

/* How many lines of text are exactly line. */
static size_t
line_count(const char *text, const char *line)
{
	const char	*p = text, *nl;
	size_t		 n = 0, len, want = strlen(line);

	while (*p != '\0') {
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (len == want && memcmp(p, line, len) == 0)
			n++;
		p += len + (nl != NULL);
	}
	return n;
}

static void
assert_line(const char *text, const char *line)
{
	size_t	 n = line_count(text, line);

	if (n != 1) {
		print_error("%zu lines \"%s\" in:\n%s", n, line, text);
		fail();
	}
}

/* No line of text starts with pfx. */
static void
assert_no_prefix(const char *text, const char *pfx)
{
	const char	*p = text;

	for (; p != NULL; p = next_line(p))
		if (strncmp(p, pfx, strlen(pfx)) == 0) {
			print_error("a line \"%s...\" in:\n%s", pfx, text);
			fail();
		}
}

/* The value of the one sample whose name and labels are series. */
static double
sample_value(const char *text, const char *series)
{
	const char	*p = text;
	char		*end;
	double		 v = -1;
	size_t		 n = 0, len = strlen(series);

	for (; p != NULL; p = next_line(p))
		if (strncmp(p, series, len) == 0 && p[len] == ' ') {
			v = strtod(p + len + 1, &end);
			assert_true(end != p + len + 1 && *end == '\n');
			n++;
		}
	if (n != 1) {
		print_error("%zu samples %s in:\n%s", n, series, text);
		fail();
	}
	return v;
}

/* The line after p's, or NULL at the end of the text. */
static const char *
next_line(const char *p)
{
	if ((p = strchr(p, '\n')) == NULL || *++p == '\0')
		return NULL;
	return p;
}

static struct family *
family_find(struct family *fam, size_t nfam, const char *name)
{
	size_t	 i;

	for (i = 0; i < nfam; i++)
		if (strcmp(fam[i].name, name) == 0)
			return &fam[i];
	return NULL;
}

/*
 * The family of a sample called name: its own, or for a histogram's
 * _bucket, _sum and _count, the histogram's; NULL if none is declared.
 */
static struct family *
sample_family(struct family *fam, size_t nfam, const char *name)
{
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };
	struct family	*g;
	char		 base[96];
	size_t		 i, len = strlen(name), n;

	if ((g = family_find(fam, nfam, name)) != NULL)
		return g;
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		n = strlen(sfx[i]);
		if (len <= n || len >= sizeof(base) ||
		    strcmp(name + len - n, sfx[i]) != 0)
			continue;
		memcpy(base, name, len - n);
		base[len - n] = '\0';
		if ((g = family_find(fam, nfam, base)) != NULL &&
		    strcmp(g->type, "histogram") == 0)
			return g;
	}
	return NULL;
}

/*
 * The layout rules of the text format, as this exposition uses it:
 * every line a "# HELP", a "# TYPE" or a sample, nothing blank; one
 * HELP and one TYPE per family, both before its first sample; all of
 * a family's lines together (a family never appears twice); a
 * histogram's samples named _bucket, _sum or _count; counters, and
 * only they, named _total; every value a number.  NULL if text keeps
 * them, *nfam families described in fam; else what is wrong.
 */
static const char *
format_error(const char *text, struct family *fam, size_t *nfam)
{
	static char	 why[640];
	struct family	*cur = NULL, *g;
	const char	*p, *nl, *sp;
	char		 line[512], name[96], *end;
	size_t		 len, i, k;

	*nfam = 0;
	for (p = text; p != NULL; p = next_line(p)) {
		if ((nl = strchr(p, '\n')) == NULL)
			return "the last line has no LF";
		len = (size_t)(nl - p);
		if (len == 0 || len >= sizeof(line))
			return "an empty or overlong line";
		memcpy(line, p, len);
		line[len] = '\0';
		(void)snprintf(why, sizeof(why), "at \"%s\": ", line);
		if (strncmp(line, "# HELP ", 7) == 0 ||
		    strncmp(line, "# TYPE ", 7) == 0) {
			if ((sp = strchr(line + 7, ' ')) == NULL ||
			    sp[1] == '\0' || (size_t)(sp - line - 7) >=
			    sizeof(name))
				return strcat(why, "no name and text");
			memcpy(name, line + 7, (size_t)(sp - line - 7));
			name[sp - line - 7] = '\0';
			if ((g = family_find(fam, *nfam, name)) == NULL) {
				if (*nfam == MAX_FAMILIES)
					return strcat(why, "too many "
					    "families");
				g = &fam[(*nfam)++];
				memset(g, 0, sizeof(*g));
				(void)strcpy(g->name, name);
			}
			if (g->done || g->nsamples > 0)
				return strcat(why, "after the family's "
				    "samples");
			if (cur != NULL && cur != g)
				cur->done = true;
			cur = g;
			if (line[2] == 'H')
				g->nhelp++;
			else if (strlen(sp + 1) >= sizeof(g->type))
				return strcat(why, "an unknown type");
			else {
				g->ntype++;
				(void)strcpy(g->type, sp + 1);
			}
			continue;
		}
		if (line[0] == '#')
			return strcat(why, "a comment not HELP or TYPE");
		/* A sample: name, labels maybe, a space and the value. */
		k = strcspn(line, "{ ");
		if (k == 0 || k >= sizeof(name))
			return strcat(why, "no metric name");
		memcpy(name, line, k);
		name[k] = '\0';
		if ((g = sample_family(fam, *nfam, name)) == NULL ||
		    g->nhelp == 0 || g->ntype == 0)
			return strcat(why, "a sample before HELP and TYPE");
		if (g != cur)
			return strcat(why, "its family appears twice");
		if (strcmp(g->type, "histogram") == 0 &&
		    strcmp(name, g->name) == 0)
			return strcat(why, "a histogram sample, no suffix");
		g->nsamples++;
		if ((sp = strrchr(line, ' ')) == NULL)
			return strcat(why, "no value");
		(void)strtod(sp + 1, &end);
		if (end == sp + 1 || *end != '\0')
			return strcat(why, "the value is no number");
	}
	for (i = 0; i < *nfam; i++) {
		(void)snprintf(why, sizeof(why), "%s: ", fam[i].name);
		if (fam[i].nhelp != 1 || fam[i].ntype != 1)
			return strcat(why, "not one HELP and one TYPE");
		len = strlen(fam[i].name);
		if ((strcmp(fam[i].type, "counter") == 0) != (len > 6 &&
		    strcmp(fam[i].name + len - 6, "_total") == 0))
			return strcat(why, "_total if and only if a counter");
		if (strncmp(fam[i].name, "portmuxd_", 9) != 0)
			return strcat(why, "no portmuxd_ prefix");
	}
	return NULL;
}

/* format_error() finds nothing: returns the number of families. */
static size_t
check_format(const char *text, struct family *fam)
{
	const char	*why;
	size_t		 nfam;

	if ((why = format_error(text, fam, &nfam)) != NULL) {
		print_error("%s, in:\n%s", why, text);
		fail();
	}
	return nfam;
}

/*
 * promtool check metrics over text, on its standard input.  Returns
 * its exit status (-1: it is not installed); *out gets what it said.
 */
static int
promtool_run(const char *text, char **out)
{
	char	 in[] = "/tmp/test_metrics.in.XXXXXX";
	char	 res[] = "/tmp/test_metrics.out.XXXXXX";
	off_t	 size;
	pid_t	 pid;
	int	 ifd, ofd, st;

	*out = NULL;
	if (access(PROMTOOL, X_OK) == -1)
		return -1;
	assert_true((ifd = mkstemp(in)) != -1);
	assert_true((ofd = mkstemp(res)) != -1);
	(void)unlink(in);
	(void)unlink(res);
	assert_true(write(ifd, text, strlen(text)) == (ssize_t)strlen(text));
	assert_true(lseek(ifd, 0, SEEK_SET) == 0);
	fflush(stderr);
	assert_true((pid = fork()) != -1);
	if (pid == 0) {
		if (dup2(ifd, STDIN_FILENO) == -1 ||
		    dup2(ofd, STDOUT_FILENO) == -1 ||
		    dup2(ofd, STDERR_FILENO) == -1)
			_exit(126);
		execl(PROMTOOL, "promtool", "check", "metrics", (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		assert_int_equal(errno, EINTR);
	size = lseek(ofd, 0, SEEK_END);
	assert_true(size >= 0);
	assert_non_null(*out = calloc(1, (size_t)size + 1));
	assert_true(pread(ofd, *out, (size_t)size, 0) == size);
	(void)close(ifd);
	(void)close(ofd);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/*
 * promtool takes text without a word; skipped, with a message, if it
 * is not installed.  It passes an empty input, so it must also refuse
 * a family given twice, or this check would prove nothing.
 */
static void
assert_promtool(const char *text)
{
	char	*out;
	int	 rc;

	rc = promtool_run("# HELP x_total h\n# TYPE x_total counter\n"
	    "x_total 1\n# TYPE x_total counter\nx_total 2\n", &out);
	if (rc == -1) {
		print_message("%s is not installed: promtool check skipped\n",
		    PROMTOOL);
		return;
	}
	if (rc == 0)
		fail_msg("promtool passed a family given twice: %s", out);
	free(out);
	rc = promtool_run(text, &out);
	if (rc != 0 || *out != '\0') {
		print_error("promtool check metrics: exit %d:\n%s\nof:\n%s",
		    rc, out, text);
		fail();
	}
	free(out);
}

/*
 * Known counters, each value different so that a sample read from the
 * wrong field shows: echo accepted 5, refused twice for acl and once
 * for rate, 100 bytes in and 2000 out; hello 7 spawns across the
 * buckets and past 1 s, exits of each class; process-wide counters;
 * one running child of three entries; two bans live, one over.
 * Returns the latency sum, in microseconds.
 */
static uint64_t
state_set(struct fix *f)
{
	struct engine		*e = &f->e;
	struct svcstat		*echo, *hello;
	struct srckey		 k;
	static const uint64_t	 lat[] = { 500, 1000, 3000, 200000, 1000000,
	    1500000, 7000000 };
	uint64_t		 now = wall_ms(), sum = 0;
	size_t			 i;

	echo = e->svcst[svc_index(e->conf, "echo")];
	hello = e->svcst[svc_index(e->conf, "hello")];
	stats_add(&echo->accepted, 5);
	stats_refused(echo, REASON_ACL);
	stats_refused(echo, REASON_ACL);
	stats_refused(echo, REASON_RATE);
	stats_add(&echo->bytes_in, 100);
	stats_add(&echo->bytes_out, 2000);
	stats_add(&hello->accepted, 7);
	for (i = 0; i < sizeof(lat) / sizeof(lat[0]); i++) {
		stats_spawned(hello, lat[i]);
		sum += lat[i];
	}
	/* Wait statuses as waitpid(2) gives them. */
	stats_exit(hello, 0);
	stats_exit(hello, 0);
	stats_exit(hello, 1 << 8);		/* exit(1) */
	stats_exit(hello, SIGKILL);
	stats_exit(hello, SIGTERM);
	stats_exit(hello, SIGSEGV);
	e->active[svc_index(e->conf, "echo")] = 2;
	e->active[svc_index(e->conf, "hello")] = 1;
	stats_add(&e->st.proc->knocks, 4);
	stats_add(&e->st.proc->scans, 6);
	stats_add(&e->st.proc->reloads, 2);
	stats_add(&e->st.proc->generation, 3);
	stats_add(&e->st.proc->restarts, 1);
	/* A pending spawn, a running child and one that exited. */
	f->x[1].pid = 4242;
	f->x[2].pid = 4243;
	f->x[2].exited = true;
	for (i = 0; i < 3; i++)
		TAILQ_INSERT_TAIL(&e->children, &f->x[i], entry);
	memset(&k, 0, sizeof(k));
	k.family = AF_INET;
	k.prefix = 32;
	for (i = 0; i < 3; i++) {
		k.addr[0] = 198;
		k.addr[1] = 51;
		k.addr[2] = 100;
		k.addr[3] = (uint8_t)(i + 1);
		assert_int_equal(ban_add(&e->bans, &k, i < 2 ? now + 60000 :
		    now - 1000, BAN_RATE, now - 2000), 0);
	}
	return sum;
}

static void
test_metrics_known_state(void **state)
{
	struct fix	*f = *state;
	char		*s;
	uint64_t	 sum;
	double		 v;

	sum = state_set(f);
	s = render(&f->e);
	assert_line(s, "portmuxd_accepted_total{service=\"echo\"} 5");
	assert_line(s, "portmuxd_accepted_total{service=\"hello\"} 7");
	assert_line(s, "portmuxd_accepted_total{service=\"relay\"} 0");
	assert_line(s, "portmuxd_accepted_total{service=\"metrics\"} 0");
	assert_line(s,
	    "portmuxd_refused_total{service=\"echo\",reason=\"acl\"} 2");
	assert_line(s,
	    "portmuxd_refused_total{service=\"echo\",reason=\"rate\"} 1");
	assert_line(s, "portmuxd_refused_total{service=\"echo\","
	    "reason=\"per_source\"} 0");
	assert_line(s,
	    "portmuxd_refused_total{service=\"hello\",reason=\"acl\"} 0");
	assert_line(s, "portmuxd_active{service=\"echo\"} 2");
	assert_line(s, "portmuxd_active{service=\"hello\"} 1");
	assert_line(s, "portmuxd_active{service=\"relay\"} 0");
	assert_line(s, "portmuxd_received_bytes_total{service=\"echo\"} 100");
	assert_line(s, "portmuxd_sent_bytes_total{service=\"echo\"} 2000");
	assert_line(s, "portmuxd_spawned_total{service=\"hello\"} 7");
	assert_line(s, "portmuxd_spawned_total{service=\"holder\"} 0");
	assert_line(s, "portmuxd_exits_total{service=\"hello\","
	    "class=\"success\"} 2");
	assert_line(s, "portmuxd_exits_total{service=\"hello\","
	    "class=\"failure\"} 1");
	assert_line(s, "portmuxd_exits_total{service=\"hello\","
	    "class=\"signal\"} 3");
	/*
	 * 500 and 1000 us are in le=0.001 (a bound is inclusive), 3 ms in
	 * 0.005, 200 ms in 0.25, 1 s in 1, 1.5 s and 7 s only in +Inf.
	 */
#define BUCKET(le, n) assert_line(s, "portmuxd_spawn_duration_seconds_bucket" \
	"{service=\"hello\",le=\"" le "\"} " #n)
	BUCKET("0.001", 2);
	BUCKET("0.0025", 2);
	BUCKET("0.005", 3);
	BUCKET("0.01", 3);
	BUCKET("0.025", 3);
	BUCKET("0.05", 3);
	BUCKET("0.1", 3);
	BUCKET("0.25", 4);
	BUCKET("0.5", 4);
	BUCKET("1", 5);
	BUCKET("+Inf", 7);
#undef BUCKET
	assert_line(s,
	    "portmuxd_spawn_duration_seconds_count{service=\"hello\"} 7");
	/* The sum in seconds, to the microsecond: 9.7045 s. */
	assert_int_equal(sum, 9704500);
	v = sample_value(s,
	    "portmuxd_spawn_duration_seconds_sum{service=\"hello\"}");
	assert_true(v > 9.7044995 && v < 9.7045005);
	assert_line(s, "portmuxd_children 1");
	assert_line(s, "portmuxd_bans 2");
	assert_line(s, "portmuxd_knocks_opened_total 4");
	assert_line(s, "portmuxd_scans_detected_total 6");
	assert_line(s, "portmuxd_reloads_total 2");
	assert_line(s, "portmuxd_config_generation 3");
	assert_line(s, "portmuxd_engine_restarts_total 1");
	free(s);
}

/*
 * Every service's histogram, read as a scraper reads it: le ascending,
 * in seconds, the counts never falling, +Inf last and equal to _count,
 * which is the spawned counter.
 */
static void
test_metrics_histogram(void **state)
{
	struct fix	*f = *state;
	static const char *const les[] = { "0.001", "0.0025", "0.005",
	    "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "+Inf" };
	static const char *const svcs[] = { "hello", "holder" };
	char		*s, series[160];
	double		 v, prev, count, spawned;
	size_t		 i, k;

	(void)state_set(f);
	for (k = 0; k < 40; k++)
		stats_spawned(f->e.svcst[svc_index(f->e.conf, "holder")],
		    (k + 1) * 30000);
	s = render(&f->e);
	for (i = 0; i < sizeof(svcs) / sizeof(svcs[0]); i++) {
		prev = 0;
		for (k = 0; k < sizeof(les) / sizeof(les[0]); k++) {
			(void)snprintf(series, sizeof(series),
			    "portmuxd_spawn_duration_seconds_bucket"
			    "{service=\"%s\",le=\"%s\"}", svcs[i], les[k]);
			v = sample_value(s, series);
			assert_true(v >= prev);
			prev = v;
		}
		(void)snprintf(series, sizeof(series),
		    "portmuxd_spawn_duration_seconds_count{service=\"%s\"}",
		    svcs[i]);
		count = sample_value(s, series);
		(void)snprintf(series, sizeof(series),
		    "portmuxd_spawned_total{service=\"%s\"}", svcs[i]);
		spawned = sample_value(s, series);
		assert_true(prev == count && count == spawned);
	}
	/* holder: 30 ms to 1.2 s in steps of 30 ms; 33 are within 1 s. */
	assert_line(s, "portmuxd_spawn_duration_seconds_bucket"
	    "{service=\"holder\",le=\"0.025\"} 0");
	assert_line(s, "portmuxd_spawn_duration_seconds_bucket"
	    "{service=\"holder\",le=\"0.05\"} 1");
	assert_line(s, "portmuxd_spawn_duration_seconds_bucket"
	    "{service=\"holder\",le=\"1\"} 33");
	assert_line(s, "portmuxd_spawn_duration_seconds_bucket"
	    "{service=\"holder\",le=\"+Inf\"} 40");
	/* 30 ms x (1 + ... + 40) = 24.6 s. */
	v = sample_value(s,
	    "portmuxd_spawn_duration_seconds_sum{service=\"holder\"}");
	assert_true(v > 24.5999 && v < 24.6001);
	free(s);
}

/*
 * The layout of the whole exposition, and which services have which
 * series: every service has the common ones, only hello and holder
 * (which run programs) the spawn ones.
 */
static void
test_metrics_families(void **state)
{
	struct fix	*f = *state;
	struct family	 fam[MAX_FAMILIES];
	const char	*svc;
	char		*s, pfx[160];
	size_t		 nfam, i, k;
	bool		 runs;

	(void)state_set(f);
	s = render(&f->e);
	nfam = check_format(s, fam);
	assert_int_equal(nfam, NWANT);
	for (i = 0; i < NWANT; i++) {
		for (k = 0; k < nfam; k++)
			if (strcmp(fam[k].name, want_families[i].name) == 0)
				break;
		if (k == nfam)
			fail_msg("no family %s in:\n%s", want_families[i].name,
			    s);
		assert_string_equal(fam[k].type, want_families[i].type);
		assert_true(fam[k].nsamples > 0);
	}
	for (i = 0; i < f->e.conf->nservices; i++) {
		svc = f->e.conf->services[i].name;
		runs = strcmp(svc, "hello") == 0 || strcmp(svc, "holder") == 0;
		(void)snprintf(pfx, sizeof(pfx),
		    "portmuxd_accepted_total{service=\"%s\"} ", svc);
		assert_true(strstr(s, pfx) != NULL);
		(void)snprintf(pfx, sizeof(pfx),
		    "portmuxd_active{service=\"%s\"} ", svc);
		assert_true(strstr(s, pfx) != NULL);
		for (k = 0; k < 3; k++) {
			(void)snprintf(pfx, sizeof(pfx), "%s%s{service=\"%s\"",
			    spawn_families[k], k == 2 ? "_bucket" : "", svc);
			if (runs)
				assert_true(strstr(s, pfx) != NULL);
			else
				assert_no_prefix(s, pfx);
		}
		(void)snprintf(pfx, sizeof(pfx),
		    "portmuxd_spawn_duration_seconds_count{service=\"%s\"",
		    svc);
		if (!runs)
			assert_no_prefix(s, pfx);
	}
	/* 16 reasons for each of 5 services, 3 exit classes for 2. */
	for (k = 0; k < nfam; k++)
		if (strcmp(fam[k].name, "portmuxd_refused_total") == 0)
			assert_int_equal(fam[k].nsamples, 16 * 5);
		else if (strcmp(fam[k].name, "portmuxd_exits_total") == 0)
			assert_int_equal(fam[k].nsamples, 3 * 2);
		else if (strcmp(fam[k].name,
		    "portmuxd_spawn_duration_seconds") == 0)
			assert_int_equal(fam[k].nsamples, (11 + 2) * 2);
	free(s);
}

/*
 * The layout checker must catch what it is there for: a valid text
 * passes, and each of the others breaks one rule.
 */
static void
test_metrics_format_checker(void **state __unused)
{
	static const char *const bad[] = {
		/* A family again after another one. */
		"# HELP a_total h\n# TYPE a_total counter\na_total 1\n"
		"# HELP b h\n# TYPE b gauge\nb 2\na_total 3\n",
		/* TYPE after the samples. */
		"# HELP a_total h\na_total 1\n# TYPE a_total counter\n",
		/* A sample with neither. */
		"a_total 1\n",
		/* Two HELP lines. */
		"# HELP a_total h\n# HELP a_total h\n"
		"# TYPE a_total counter\na_total 1\n",
		/* A counter without _total, a gauge with it. */
		"# HELP a h\n# TYPE a counter\na 1\n",
		"# HELP a_total h\n# TYPE a_total gauge\na_total 1\n",
		/* No number; no LF at the end; a blank line. */
		"# HELP a_total h\n# TYPE a_total counter\na_total one\n",
		"# HELP a_total h\n# TYPE a_total counter\na_total 1",
		"# HELP a_total h\n\n# TYPE a_total counter\na_total 1\n",
		/* A histogram's sample under its bare name. */
		"# HELP h h\n# TYPE h histogram\nh{le=\"+Inf\"} 1\n",
	};
	struct family	 fam[MAX_FAMILIES];
	size_t		 i, n;

	assert_null(format_error("# HELP portmuxd_a_total h\n"
	    "# TYPE portmuxd_a_total counter\nportmuxd_a_total 1\n"
	    "# HELP portmuxd_h h\n# TYPE portmuxd_h histogram\n"
	    "portmuxd_h_bucket{le=\"+Inf\"} 2\nportmuxd_h_sum 0.5\n"
	    "portmuxd_h_count 2\n", fam, &n));
	assert_int_equal(n, 2);
	assert_int_equal(fam[1].nsamples, 3);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (format_error(bad[i], fam, &n) == NULL)
			fail_msg("the checker passed:\n%s", bad[i]);
}

static void
test_metrics_promtool(void **state)
{
	struct fix	*f = *state;
	char		*s;

	s = render(&f->e);
	assert_promtool(s);
	free(s);
	(void)state_set(f);
	s = render(&f->e);
	assert_promtool(s);
	free(s);
}

/*
 * Label values are escaped as the format says (a backslash, a double
 * quote, a newline), though service names cannot hold them today.
 */
static void
test_metrics_label_escape(void **state)
{
	struct fix	*f = *state;
	struct service	*svc = &f->e.conf->services[svc_index(f->e.conf,
	    "echo")];
	char		*s;

	free(svc->name);
	assert_non_null(svc->name = strdup("a\"b\\c\nd"));
	s = render(&f->e);
	assert_line(s,
	    "portmuxd_accepted_total{service=\"a\\\"b\\\\c\\nd\"} 0");
	assert_line(s, "portmuxd_active{service=\"a\\\"b\\\\c\\nd\"} 0");
	assert_promtool(s);
	free(s);
}

/*
 * Services with no counters (the shared table was full) have no
 * counter samples, only their active gauge; the exposition stays
 * valid.  First one service, then all of them, then no table at all.
 */
static void
test_metrics_no_counters(void **state)
{
	struct fix	*f = *state;
	struct family	 fam[MAX_FAMILIES];
	size_t		 i, hello = svc_index(f->e.conf, "hello");
	struct svcstat	**saved;
	char		*s;

	(void)state_set(f);
	f->e.svcst[hello] = NULL;
	s = render(&f->e);
	(void)check_format(s, fam);
	assert_line(s, "portmuxd_accepted_total{service=\"echo\"} 5");
	assert_no_prefix(s, "portmuxd_accepted_total{service=\"hello\"");
	assert_no_prefix(s, "portmuxd_refused_total{service=\"hello\"");
	assert_no_prefix(s, "portmuxd_spawned_total{service=\"hello\"");
	assert_no_prefix(s, "portmuxd_spawn_duration_seconds_bucket"
	    "{service=\"hello\"");
	assert_line(s, "portmuxd_spawned_total{service=\"holder\"} 0");
	assert_line(s, "portmuxd_active{service=\"hello\"} 1");
	assert_promtool(s);
	free(s);

	for (i = 0; i < f->e.conf->nservices; i++)
		f->e.svcst[i] = NULL;
	s = render(&f->e);
	(void)check_format(s, fam);
	assert_no_prefix(s, "portmuxd_accepted_total{");
	assert_no_prefix(s, "portmuxd_refused_total{");
	assert_no_prefix(s, "portmuxd_received_bytes_total{");
	assert_no_prefix(s, "portmuxd_sent_bytes_total{");
	assert_no_prefix(s, "portmuxd_spawned_total{");
	assert_no_prefix(s, "portmuxd_exits_total{");
	assert_no_prefix(s, "portmuxd_spawn_duration_seconds_");
	assert_line(s, "portmuxd_active{service=\"echo\"} 2");
	assert_line(s, "portmuxd_children 1");
	assert_line(s, "portmuxd_bans 2");
	assert_line(s, "portmuxd_reloads_total 2");
	assert_promtool(s);
	free(s);

	/* As the engine of enginefix.c: no table, no process counters. */
	saved = f->e.svcst;
	f->e.svcst = NULL;
	f->e.st.proc = NULL;
	s = render(&f->e);
	f->e.svcst = saved;
	f->e.st = f->st;
	(void)check_format(s, fam);
	assert_no_prefix(s, "portmuxd_accepted_total{");
	assert_no_prefix(s, "portmuxd_reloads_total");
	assert_no_prefix(s, "portmuxd_config_generation");
	assert_line(s, "portmuxd_active{service=\"echo\"} 2");
	assert_line(s, "portmuxd_children 1");
	assert_promtool(s);
	free(s);
}

/* ---- HTTP, through an engine of the test's own ---- */

/*
 * A client of service idx: it connects to lfd, and the socket accepted
 * there is admitted and served as engine_serve() would.  Returns the
 * client's socket; *id is the connection's.
 */
static int
serve_one(struct enginefix *f, size_t idx, int lfd,
    const struct sockaddr_in *lsin, uint64_t *id)
{
	struct engine		*e = &f->e;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct srcent		*se;
	int			 cli, fd;

	cli = ef_tcp_connect(lsin);
	fd = ef_accept(f, lfd, WAIT_MS);
	assert_true(fd != -1);
	assert_int_equal(getpeername(fd, (struct sockaddr *)&ss, &len), 0);
	assert_int_equal(guard_admit(e, idx, (struct sockaddr *)&ss, fd, &se),
	    0);
	*id = engine_next_id(e);
	engine_serve_admitted(e, idx, fd, *id, "127.0.0.1", se, NULL, NULL);
	return cli;
}

/* Nothing has come on cli while the engine ran for ms. */
static void
assert_quiet(struct enginefix *f, int cli, unsigned int ms)
{
	uint64_t	 end = ef_now() + ms;
	char		 c;
	ssize_t		 r;

	while (ef_now() < end) {
		ef_step(f);
		r = recv(cli, &c, 1, MSG_DONTWAIT | MSG_PEEK);
		if (r != -1)
			fail_msg("the engine %s before the request was whole",
			    r == 0 ? "closed" : "answered");
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR);
	}
}

/*
 * Read cli while the engine runs, until EOF or WAIT_MS.  Returns how
 * many bytes came; *eof whether the engine closed.  A reset would lose
 * the answer, so it fails the test.
 */
static size_t
read_all(struct enginefix *f, int cli, char *buf, size_t size, bool *eof)
{
	uint64_t	 end = ef_now() + WAIT_MS;
	size_t		 got = 0;
	ssize_t		 r;

	*eof = false;
	while (ef_now() < end) {
		ef_step(f);
		assert_true(got < size);
		r = recv(cli, buf + got, size - got, MSG_DONTWAIT);
		if (r == 0) {
			*eof = true;
			break;
		}
		if (r == -1) {
			if (errno == ECONNRESET)
				fail_msg("reset after %zu bytes", got);
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR);
			continue;
		}
		got += (size_t)r;
	}
	buf[got < size ? got : size - 1] = '\0';
	return got;
}

/* Until the engine has no connection left, WAIT_MS at most. */
static void
wait_idle(struct enginefix *f)
{
	uint64_t	 end = ef_now() + WAIT_MS;

	while (f->e.nconns > 0 && ef_now() < end)
		ef_step(f);
	assert_int_equal(f->e.nconns, 0);
}

/* Split an answer into its status, headers and body. */
static void
parse_resp(const char *buf, size_t n, struct resp *r)
{
	const char	*eol, *end;

	memset(r, 0, sizeof(*r));
	if (n < 12 || strncmp(buf, "HTTP/1.0 ", 9) != 0)
		fail_msg("not an HTTP/1.0 answer: %.*s", (int)n, buf);
	assert_non_null(eol = strstr(buf, "\r\n"));
	assert_true((size_t)(eol - buf - 9) < sizeof(r->status));
	memcpy(r->status, buf + 9, (size_t)(eol - buf - 9));
	r->code = atoi(r->status);
	if ((end = memmem(buf, n, "\r\n\r\n", 4)) == NULL)
		fail_msg("no end of headers in: %.*s", (int)n, buf);
	r->head = eol + 2;
	r->headlen = (size_t)(end + 2 - r->head);
	r->body = end + 4;
	r->bodylen = n - (size_t)(r->body - buf);
}

/* The value of header name (matched without case), or NULL. */
static char *
header(const struct resp *r, const char *name)
{
	const char	*p = r->head, *end = r->head + r->headlen, *eol;
	size_t		 len = strlen(name);

	for (; p < end; p = eol + 2) {
		assert_non_null(eol = memmem(p, (size_t)(end - p), "\r\n", 2));
		if ((size_t)(eol - p) > len + 1 && strncasecmp(p, name, len) ==
		    0 && p[len] == ':')
			return strndup(p + len + 2, (size_t)(eol - p) - len -
			    2);
	}
	return NULL;
}

/* Content-Length is there, and the length of the body (of GET). */
static void
assert_length(const struct resp *r, size_t want)
{
	char	*v;

	if ((v = header(r, "Content-Length")) == NULL)
		fail_msg("no Content-Length in: %.*s", (int)r->headlen,
		    r->head);
	assert_int_equal(strtoull(v, NULL, 10), want);
	free(v);
}

static void
assert_header(const struct resp *r, const char *name, const char *want)
{
	char	*v;

	if ((v = header(r, name)) == NULL)
		fail_msg("no %s in: %.*s", name, (int)r->headlen, r->head);
	assert_string_equal(v, want);
	free(v);
}

/*
 * One exchange on a new connection: req sent in pieces of chunk bytes
 * (0: at once), the engine given time to read each, then the whole
 * answer.  Nothing may come before the last piece; the engine must
 * close after the answer, and forget the connection.  Returns the
 * answer's length, the answer in buf.
 */
static size_t
exchange(struct enginefix *f, size_t idx, int lfd,
    const struct sockaddr_in *lsin, const char *req, size_t len,
    size_t chunk, char *buf, size_t size)
{
	uint64_t	 id;
	size_t		 off, n, got;
	bool		 eof;
	int		 cli, i;

	cli = serve_one(f, idx, lfd, lsin, &id);
	if (chunk == 0)
		chunk = len;
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		if (off > 0)
			for (i = 0; i < 3; i++)
				ef_step(f);
		if (off > 0 && chunk < len)
			assert_quiet(f, cli, 2);
		assert_int_equal(send(cli, req + off, n, MSG_NOSIGNAL),
		    (ssize_t)n);
	}
	got = read_all(f, cli, buf, size, &eof);
	if (!eof)
		fail_msg("no close after %zu bytes: %s", got, buf);
	(void)close(cli);
	wait_idle(f);
	return got;
}

/* The metrics endpoint and an echo service, in an engine of our own. */
static void
http_start(struct enginefix *f, int *lfd, struct sockaddr_in *lsin,
    size_t *idx)
{
	*lfd = ef_tcp_listen("127.0.0.1", 16, lsin);
	ef_start(f, "metrics = \"127.0.0.1:%u\"\n"
	    "service echo {\n\tport = 10007\n\taddress = {127.0.0.1}\n"
	    "\tbuiltin = echo\n}\n", ntohs(lsin->sin_port));
	*idx = svc_index(f->e.conf, "metrics");
	assert_int_equal(f->e.conf->services[*idx].builtin, BUILTIN_METRICS);
}

static void
test_metrics_http_get(void **state)
{
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin;
	struct family		 fam[MAX_FAMILIES];
	struct resp		 r;
	static const char	 get[] = "GET /metrics HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nAccept: text/plain\r\n\r\n";
	char			*buf, *body;
	size_t			 idx, n, fds, glen;
	int			 lfd;

	assert_non_null(buf = malloc(RESP_MAX));
	http_start(f, &lfd, &lsin, &idx);
	fds = ef_fds_open();

	n = exchange(f, idx, lfd, &lsin, get, strlen(get), 0, buf, RESP_MAX);
	parse_resp(buf, n, &r);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.status, "200 OK");
	assert_header(&r, "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8");
	assert_header(&r, "Connection", "close");
	assert_length(&r, r.bodylen);
	assert_true(r.bodylen > 0);
	assert_non_null(body = strndup(r.body, r.bodylen));
	/* The scrape itself is open while its answer is made. */
	assert_line(body, "portmuxd_active{service=\"metrics\"} 1");
	assert_line(body, "portmuxd_active{service=\"echo\"} 0");
	/* No shared counters here: the counter samples are left out. */
	assert_no_prefix(body, "portmuxd_accepted_total{");
	(void)check_format(body, fam);
	assert_promtool(body);
	glen = r.bodylen;
	free(body);
	assert_int_equal(ef_fds_open(), fds);

	/* HEAD: the same headers, the length of GET's body, no body. */
	n = exchange(f, idx, lfd, &lsin, "HEAD /metrics HTTP/1.0\r\n\r\n", 26,
	    0, buf, RESP_MAX);
	parse_resp(buf, n, &r);
	assert_int_equal(r.code, 200);
	assert_int_equal(r.bodylen, 0);
	assert_header(&r, "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8");
	assert_length(&r, glen);
	assert_int_equal(ef_fds_open(), fds);

	/* Bare LF line ends, and a query string, are taken too. */
	n = exchange(f, idx, lfd, &lsin, "GET /metrics?x=1 HTTP/1.0\n\n", 27,
	    0, buf, RESP_MAX);
	parse_resp(buf, n, &r);
	assert_int_equal(r.code, 200);
	assert_length(&r, r.bodylen);
	assert_int_equal(r.bodylen, glen);
	assert_int_equal(ef_fds_open(), fds);

	(void)close(lfd);
	free(buf);
	ef_stop(f);
}

/* One bad request on a new connection: its status, and an honest length. */
static void
bad_request(struct enginefix *f, size_t idx, int lfd,
    const struct sockaddr_in *lsin, const char *req, size_t len,
    const char *status, char *buf)
{
	struct resp	 r;
	size_t		 n;

	n = exchange(f, idx, lfd, lsin, req, len, 0, buf, RESP_MAX);
	parse_resp(buf, n, &r);
	assert_string_equal(r.status, status);
	assert_length(&r, r.bodylen);
	assert_header(&r, "Connection", "close");
	assert_null(memmem(r.body, r.bodylen, "portmuxd_", 9));
}

static void
test_metrics_http_errors(void **state)
{
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin;
	struct resp		 r;
	char			*buf, *big, longq[600];
	size_t			 idx, n, fds, i;
	int			 lfd;

	assert_non_null(buf = malloc(RESP_MAX));
	http_start(f, &lfd, &lsin, &idx);
	fds = ef_fds_open();

#define BAD(req, status) do {						\
	bad_request(f, idx, lfd, &lsin, (req), strlen(req), (status), buf); \
	assert_int_equal(ef_fds_open(), fds);				\
} while (0)
	BAD("GET /nope HTTP/1.0\r\n\r\n", "404 Not Found");
	BAD("GET /metricsx HTTP/1.0\r\n\r\n", "404 Not Found");
	BAD("GET /metric HTTP/1.0\r\n\r\n", "404 Not Found");
	BAD("GET / HTTP/1.0\r\n\r\n", "404 Not Found");
	BAD("POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
	    "405 Method Not Allowed");
	BAD("DELETE /metrics HTTP/1.1\r\n\r\n", "405 Method Not Allowed");
	BAD("hello\r\n\r\n", "400 Bad Request");
	BAD("GET /metrics\r\n\r\n", "400 Bad Request");
	BAD("GET /metrics FTP/1.0\r\n\r\n", "400 Bad Request");
	BAD("GET /metrics HTTP/2.0\r\n\r\n", "400 Bad Request");
	BAD("\r\n\r\n", "400 Bad Request");
	/* A method of any length is judged as a method. */
	BAD("PROPFIND /metrics HTTP/1.1\r\n\r\n", "405 Method Not Allowed");
	BAD("GET /metrics HTTP/1.10\r\n\r\n", "400 Bad Request");
#undef BAD
	/* A long query string is still /metrics. */
	memset(longq, 'q', sizeof(longq));
	memcpy(longq, "GET /metrics?", 13);
	memcpy(longq + sizeof(longq) - 13, " HTTP/1.0\r\n\r\n", 13);
	n = exchange(f, idx, lfd, &lsin, longq, sizeof(longq), 0, buf,
	    RESP_MAX);
	parse_resp(buf, n, &r);
	assert_int_equal(r.code, 200);
	n = exchange(f, idx, lfd, &lsin, "PUT /metrics HTTP/1.0\r\n\r\n", 25,
	    0, buf, RESP_MAX);
	parse_resp(buf, n, &r);
	assert_int_equal(r.code, 405);
	assert_header(&r, "Allow", "GET, HEAD");
	/* Only 405 says what is allowed. */
	n = exchange(f, idx, lfd, &lsin, "GET /nope HTTP/1.0\r\n\r\n", 22,
	    0, buf, RESP_MAX);
	parse_resp(buf, n, &r);
	assert_null(header(&r, "Allow"));

	/* 5000 bytes of a request line and headers, no blank line. */
	assert_non_null(big = malloc(5001));
	(void)strcpy(big, "GET /metrics HTTP/1.0\r\n");
	for (i = strlen(big); i < 5000; i++)
		big[i] = (i % 100 == 98) ? '\r' : (i % 100 == 99) ? '\n' : 'a';
	big[5000] = '\0';
	assert_null(strstr(big, "\r\n\r\n"));
	assert_null(strstr(big, "\n\n"));
	bad_request(f, idx, lfd, &lsin, big, 5000,
	    "431 Request Header Fields Too Large", buf);
	assert_int_equal(ef_fds_open(), fds);
	free(big);

	(void)close(lfd);
	free(buf);
	ef_stop(f);
}

/*
 * A request that arrives a byte at a time is answered once whole, and
 * not before; 4096 bytes with no end wait for more, one more is 431.
 */
static void
test_metrics_http_split(void **state)
{
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin;
	struct resp		 r;
	static const char	 get[] = "GET /metrics HTTP/1.0\r\n"
	    "User-Agent: test\r\n\r\n";
	char			*buf, *big;
	uint64_t		 id;
	size_t			 idx, n, fds;
	bool			 eof;
	int			 lfd, cli;

	assert_non_null(buf = malloc(RESP_MAX));
	http_start(f, &lfd, &lsin, &idx);
	fds = ef_fds_open();

	n = exchange(f, idx, lfd, &lsin, get, strlen(get), 1, buf, RESP_MAX);
	parse_resp(buf, n, &r);
	assert_int_equal(r.code, 200);
	assert_length(&r, r.bodylen);
	assert_true(r.bodylen > 0);
	assert_int_equal(ef_fds_open(), fds);

	n = exchange(f, idx, lfd, &lsin, "GET /nope HTTP/1.0\r\n\r\n", 22, 1,
	    buf, RESP_MAX);
	parse_resp(buf, n, &r);
	assert_int_equal(r.code, 404);
	assert_int_equal(ef_fds_open(), fds);

	/* At the cap, the engine still waits; past it, 431. */
	assert_non_null(big = malloc(REQ_MAX));
	memset(big, 'a', REQ_MAX);
	cli = serve_one(f, idx, lfd, &lsin, &id);
	assert_int_equal(send(cli, big, REQ_MAX, MSG_NOSIGNAL), REQ_MAX);
	assert_quiet(f, cli, QUIET_MS);
	assert_int_equal(f->e.nconns, 1);
	assert_int_equal(send(cli, "a", 1, MSG_NOSIGNAL), 1);
	n = read_all(f, cli, buf, RESP_MAX, &eof);
	assert_true(eof);
	parse_resp(buf, n, &r);
	assert_int_equal(r.code, 431);
	assert_int_equal(r.bodylen, 0);
	assert_length(&r, 0);
	(void)close(cli);
	wait_idle(f);
	free(big);
	assert_int_equal(ef_fds_open(), fds);

	(void)close(lfd);
	free(buf);
	ef_stop(f);
}

/*
 * A scraper that never ends its request is closed after the service's
 * timeout (here shorter than metrics.c's own 10 s), with nothing said.
 */
static void
test_metrics_http_timeout(void **state)
{
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin;
	char			 buf[256], conn[32], *l;
	uint64_t		 id, t0;
	size_t			 n, fds;
	bool			 eof;
	int			 lfd, cli;

	lfd = ef_tcp_listen("127.0.0.1", 16, &lsin);
	ef_start(f, "service scrape {\n\tport = %u\n\taddress = {127.0.0.1}\n"
	    "\tbuiltin = metrics\n\ttimeout = 1s\n}\n",
	    ntohs(lsin.sin_port));
	fds = ef_fds_open();
	cli = serve_one(f, 0, lfd, &lsin, &id);
	t0 = ef_now();
	assert_int_equal(send(cli, "GET /metrics HTTP/1.0\r\n", 23,
	    MSG_NOSIGNAL), 23);
	assert_quiet(f, cli, 500);
	n = read_all(f, cli, buf, sizeof(buf), &eof);
	assert_true(eof);
	assert_int_equal(n, 0);
	assert_true(ef_now() - t0 >= 900);
	(void)snprintf(conn, sizeof(conn), "conn=%llu ",
	    (unsigned long long)id);
	l = ef_expect(f, conn, "action=close", WAIT_MS);
	assert_non_null(strstr(l, " reason=timeout"));
	free(l);
	(void)close(cli);
	wait_idle(f);
	assert_int_equal(ef_fds_open(), fds);
	(void)close(lfd);
	ef_stop(f);
}

/*
 * With the shared counters in place, a scrape counts itself: accepted
 * before its answer is made, and once closed the bytes it read and
 * wrote, which the next scrape shows and the log agrees with.
 */
static void
test_metrics_http_counted(void **state)
{
	struct enginefix	*f = *state;
	struct sockaddr_in	 lsin;
	struct stats		 st;
	struct svcstat		*ms;
	struct resp		 r;
	static const char	 get[] = "GET /metrics HTTP/1.0\r\n\r\n";
	char			*buf, *body, want[128], *l;
	size_t			 idx, n1, n2, n3, i;
	int			 lfd;

	assert_non_null(buf = malloc(RESP_MAX));
	http_start(f, &lfd, &lsin, &idx);
	assert_int_equal(stats_init(&st), 0);
	f->e.st = st;
	assert_non_null(f->e.svcst = calloc(f->e.conf->nservices,
	    sizeof(*f->e.svcst)));
	for (i = 0; i < f->e.conf->nservices; i++) {
		assert_int_equal(stats_claim(&st, f->e.conf->services[i].name),
		    0);
		f->e.svcst[i] = stats_service(&st,
		    f->e.conf->services[i].name);
	}
	ms = f->e.svcst[idx];
	stats_add(&st.proc->generation, 1);

	n1 = exchange(f, idx, lfd, &lsin, get, strlen(get), 0, buf, RESP_MAX);
	parse_resp(buf, n1, &r);
	assert_int_equal(r.code, 200);
	assert_non_null(body = strndup(r.body, r.bodylen));
	assert_line(body, "portmuxd_accepted_total{service=\"metrics\"} 1");
	assert_line(body, "portmuxd_received_bytes_total{service=\"metrics\"} "
	    "0");
	assert_line(body, "portmuxd_config_generation 1");
	assert_no_prefix(body, "portmuxd_spawned_total{service=\"metrics\"");
	free(body);
	assert_int_equal(stats_read(&ms->accepted), 1);
	assert_int_equal(stats_read(&ms->bytes_in), strlen(get));
	assert_int_equal(stats_read(&ms->bytes_out), n1);
	l = ef_expect(f, "service=metrics ", "action=close", WAIT_MS);
	assert_int_equal(ef_num(l, "bytes_in"), strlen(get));
	assert_int_equal(ef_num(l, "bytes_out"), n1);
	assert_null(strstr(l, "reason="));
	free(l);

	n2 = exchange(f, idx, lfd, &lsin, get, strlen(get), 0, buf, RESP_MAX);
	parse_resp(buf, n2, &r);
	assert_non_null(body = strndup(r.body, r.bodylen));
	assert_line(body, "portmuxd_accepted_total{service=\"metrics\"} 2");
	(void)snprintf(want, sizeof(want),
	    "portmuxd_received_bytes_total{service=\"metrics\"} %zu",
	    strlen(get));
	assert_line(body, want);
	(void)snprintf(want, sizeof(want),
	    "portmuxd_sent_bytes_total{service=\"metrics\"} %zu", n1);
	assert_line(body, want);
	assert_promtool(body);
	free(body);
	assert_int_equal(stats_read(&ms->bytes_out), n1 + n2);

	/* A 404 is a connection accepted too, and its bytes count. */
	n3 = exchange(f, idx, lfd, &lsin, "GET /x HTTP/1.0\r\n\r\n", 19, 0,
	    buf, RESP_MAX);
	assert_int_equal(stats_read(&ms->accepted), 3);
	assert_int_equal(stats_read(&ms->bytes_in), 2 * strlen(get) + 19);
	assert_int_equal(stats_read(&ms->bytes_out), n1 + n2 + n3);

	free(f->e.svcst);
	f->e.svcst = NULL;
	memset(&f->e.st, 0, sizeof(f->e.st));
	stats_clear(&st);
	(void)close(lfd);
	free(buf);
	ef_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_format_checker),
		cmocka_unit_test_setup_teardown(test_metrics_known_state,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_histogram,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_families,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_promtool,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_label_escape,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_no_counters,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_http_get,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_metrics_http_errors,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_metrics_http_split,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_metrics_http_timeout,
		    ef_setup, ef_teardown),
		cmocka_unit_test_setup_teardown(test_metrics_http_counted,
		    ef_setup, ef_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
