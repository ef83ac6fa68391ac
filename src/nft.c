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
 * The monitor's kernel firewall, through libnftables.  The monitor owns
 * one table (family inet) and mirrors into it the ban table (sets ban4,
 * ban6), the knocked (source group, port) pairs (gate4, gate6) and the
 * TCP ports that a knock opens (gateports).  The kernel drops a banned
 * source before the engine sees it, and a gated port to anyone who has
 * not knocked; the engine's own checks stay in force behind it, so this
 * table is a second line, and whatever it cannot mirror exactly (see
 * add_overlap) errs toward what the engine enforces anyway.
 *
 * The engine only ever sends binary keys: every command is formatted
 * here from a key whose family and prefix were checked and whose bits
 * past the prefix were cleared here, with inet_ntop.  The one string
 * from outside, the table name, is checked again in nft_open.
 *
 * What nftables 1.0.6 (Debian 12) does and does not take, which shapes
 * the commands below:
 * - There is no "destroy element" (1.0.8) nor "destroy table", so a
 *   missing element is recognised from the error (nft_unban), and a
 *   leftover table is removed with "add table" then "delete table".
 * - Table names cannot be quoted, and a name that is a keyword of the
 *   nft grammar ("counter", "ip", ...) is a syntax error.
 * - A timeout component of nine digits or more ("100000000ms") is
 *   "value too large", so timeouts are written as nft prints them,
 *   1d2h3m4s5ms.  The kernel refuses more than about 213503 days.
 * - Elements of an interval set may not overlap; in a set of
 *   concatenations (the kernel's pipapo) an element inside an existing
 *   one is "File exists".  add_elem resolves both.
 * - Adding an element that exists succeeds, but older kernels keep its
 *   old timeout (6.18 renews it), so an element is renewed by add,
 *   delete and add in one transaction, which works when it is absent.
 * - "timeout 0ms" is taken, and makes an element that never expires.
 * - Interval sets of concatenations (gate4, gate6) need Linux 5.6; on
 *   this project's targets (Debian 12: 6.1) they work, so there is no
 *   fallback to full-address elements, and an older kernel fails in
 *   nft_open with a message that says why.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "portmuxd.h"
#include "nft.h"

#define NFT_TABLE_MAX	32	/* bytes in a name, as in conf.c */
#define NFT_ERRLEN	512
#define NFT_ECHO_MAX	160	/* bytes of a command in errors */
#define NFT_ELEMLEN	(INET6_ADDRSTRLEN + 12) /* addr/len . port */
#define NFT_TIMELEN	32
#define NFT_CMDLEN	256
#define NFT_FDSCAN	16	/* fds to look at for nft's socket */

/*
 * "timeout 0ms" makes an element that never times out, and 1ms one that
 * is gone at the next jiffy: a ban or window that is nearly over is
 * given 1s.  Above 10000 days (27 years) nothing is meant but
 * "for good", and the kernel refuses more than about 213503 days.
 */
#define NFT_TIMEOUT_MIN	1000ULL
#define NFT_TIMEOUT_MAX	(10000ULL * 86400 * 1000)

struct nft {
	struct nft_ctx	*ctx;
	int		 sock;		/* its netlink socket, -1: not found */
	char		 table[NFT_TABLE_MAX + 1];
	char		 err[NFT_ERRLEN];
};

/* A set element as the kernel holds it: a masked address, a port. */
struct elem {
	uint8_t		 family;
	uint8_t		 prefix;
	uint8_t		 addr[16];
	uint16_t	 port;		/* 0 in the ban sets */
};

/* A growing command buffer; a failed append leaves p NULL for good. */
struct sbuf {
	char		*p;
	size_t		 len;
	size_t		 cap;
};

static bool	 table_ok(const char *);
static int	 key_elem(const struct srckey *, uint16_t, struct elem *);
static int	 elem_str(const struct elem *, bool, char *, size_t);
static int	 timeout_str(uint64_t, char *, size_t);
static int	 elem_cmd(char *, size_t, const char *, const char *,
		    const char *, const char *, const char *);
static int	 sb_add(struct sbuf *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));
static int	 run(struct nft *, const char *, const char *);
static void	 set_err(struct nft *, const char *, const char *,
		    const char *);
static void	 set_errx(struct nft *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));
static const char *hint(const char *);
static int	 add_elem(struct nft *, const char *, const struct elem *,
		    uint64_t);
static int	 add_overlap(struct nft *, const char *, const struct elem *,
		    const char *);
static int	 list_elems(struct nft *, const char *, const struct elem *,
		    struct elem **, size_t *);
static int	 parse_elems(const char *, const struct elem *,
		    struct elem **, size_t *);
static bool	 elem_within(const struct elem *, const struct elem *);
static bool	 missing(const char *);
static int	 nl_probe(char *, size_t);
static int	 nl_capable(char *, size_t);
static void	 nl_mark(bool *, int);
static int	 nl_cloexec(const bool *, int, int *);
static int	 create(struct nft *);

/*
 * The name is pasted into every command unquoted (nft 1.0.6 takes no
 * quoted table names), so only what conf.c's K_TABLE admits is taken.
 */
static bool
table_ok(const char *t)
{
	size_t	 n;

	if (t == NULL)
		return false;
	n = strlen(t);
	return n >= 1 && n <= NFT_TABLE_MAX &&
	    ((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z')) &&
	    strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-") == n;
}

/* Check a key from the engine and clear the bits past its prefix. */
static int
key_elem(const struct srckey *key, uint16_t port, struct elem *e)
{
	size_t	 alen, i;

	if (key == NULL)
		return -1;
	if (key->family == AF_INET)
		alen = 4;
	else if (key->family == AF_INET6)
		alen = 16;
	else
		return -1;
	if (key->prefix > alen * 8)
		return -1;
	memset(e, 0, sizeof(*e));
	e->family = key->family;
	e->prefix = key->prefix;
	e->port = port;
	memcpy(e->addr, key->addr, alen);
	for (i = key->prefix; i < alen * 8; i++)
		e->addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	return 0;
}

/* "192.0.2.1", "198.51.100.0/24", and " . 22" after it for a gate. */
static int
elem_str(const struct elem *e, bool gate, char *buf, size_t size)
{
	char	 a[INET6_ADDRSTRLEN];
	int	 r, full = e->family == AF_INET ? 32 : 128;

	if (inet_ntop(e->family, e->addr, a, sizeof(a)) == NULL)
		return -1;
	if (e->prefix == full)
		r = snprintf(buf, size, "%s", a);
	else
		r = snprintf(buf, size, "%s/%u", a, e->prefix);
	if (r < 0 || (size_t)r >= size)
		return -1;
	if (gate) {
		size_t	 len = (size_t)r;

		r = snprintf(buf + len, size - len, " . %u", e->port);
		if (r < 0 || (size_t)r >= size - len)
			return -1;
	}
	return 0;
}

/*
 * Milliseconds as nft prints them (10m, 1s500ms): nft 1.0.6 refuses a
 * component of nine digits, so "600000ms" works but "100000000ms" does
 * not, while "1d3h46m40s" always does.
 */
static int
timeout_str(uint64_t ms, char *buf, size_t size)
{
	static const struct {
		uint64_t	 ms;
		const char	*unit;
	} units[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" },
		{ 1000, "s" }, { 1, "ms" },
	};
	size_t	 i, len = 0;
	int	 r;

	if (ms < NFT_TIMEOUT_MIN)
		ms = NFT_TIMEOUT_MIN;
	if (ms > NFT_TIMEOUT_MAX)
		ms = NFT_TIMEOUT_MAX;
	if (size == 0)
		return -1;
	buf[0] = '\0';
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms / units[i].ms == 0)
			continue;
		r = snprintf(buf + len, size - len, "%llu%s",
		    (unsigned long long)(ms / units[i].ms), units[i].unit);
		if (r < 0 || (size_t)r >= size - len)
			return -1;
		len += (size_t)r;
		ms %= units[i].ms;
	}
	return 0;
}

/* "VERB element inet TABLE SET { ELEM[ timeout T] }" */
static int
elem_cmd(char *buf, size_t size, const char *verb, const char *table,
    const char *set, const char *elem, const char *timeout)
{
	int	 r;

	if (timeout != NULL)
		r = snprintf(buf, size, "%s element inet %s %s { %s timeout "
		    "%s }", verb, table, set, elem, timeout);
	else
		r = snprintf(buf, size, "%s element inet %s %s { %s }", verb,
		    table, set, elem);
	return r < 0 || (size_t)r >= size ? -1 : 0;
}

int
nft_cmd_ban(char *buf, size_t size, const char *table,
    const struct srckey *key, uint64_t ms_left, bool add)
{
	struct elem	 e;
	char		 es[NFT_ELEMLEN], ts[NFT_TIMELEN];

	if (buf == NULL || size == 0)
		return -1;
	buf[0] = '\0';
	if (!table_ok(table) || key_elem(key, 0, &e) == -1 ||
	    elem_str(&e, false, es, sizeof(es)) == -1 ||
	    timeout_str(ms_left, ts, sizeof(ts)) == -1)
		return -1;
	if (elem_cmd(buf, size, add ? "add" : "delete", table,
	    e.family == AF_INET ? "ban4" : "ban6", es,
	    add ? ts : NULL) == -1) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

int
nft_cmd_gate(char *buf, size_t size, const char *table,
    const struct srckey *key, uint16_t port, uint64_t ms_left)
{
	struct elem	 e;
	char		 es[NFT_ELEMLEN], ts[NFT_TIMELEN];

	if (buf == NULL || size == 0)
		return -1;
	buf[0] = '\0';
	if (port == 0 || !table_ok(table) || key_elem(key, port, &e) == -1 ||
	    elem_str(&e, true, es, sizeof(es)) == -1 ||
	    timeout_str(ms_left, ts, sizeof(ts)) == -1)
		return -1;
	if (elem_cmd(buf, size, "add", table,
	    e.family == AF_INET ? "gate4" : "gate6", es, ts) == -1) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

static int
sb_add(struct sbuf *sb, const char *fmt, ...)
{
	va_list	 ap;
	char	*p;
	size_t	 cap;
	int	 r;

	if (sb->p == NULL && sb->cap != 0)
		return -1;		/* an earlier append failed */
	for (;;) {
		if (sb->cap != 0) {
			va_start(ap, fmt);
			r = vsnprintf(sb->p + sb->len, sb->cap - sb->len, fmt,
			    ap);
			va_end(ap);
			if (r < 0)
				goto fail;
			if ((size_t)r < sb->cap - sb->len) {
				sb->len += (size_t)r;
				return 0;
			}
		}
		cap = sb->cap == 0 ? 1024 : sb->cap * 2;
		if ((p = realloc(sb->p, cap)) == NULL)
			goto fail;
		sb->p = p;
		sb->cap = cap;
	}
fail:
	free(sb->p);
	sb->p = NULL;
	sb->cap = 1;
	return -1;
}

/*
 * Run cmds as one transaction.  label names the command in an error;
 * without one, the line nft quotes with its error does, so a failure
 * in a long transaction says which of its lines failed.
 */
static int
run(struct nft *n, const char *cmds, const char *label)
{
	int	 rc;

	errno = 0;
	rc = nft_run_cmd_from_buffer(n->ctx, cmds);
	/* Reading a buffer rewinds it, or it grows with every command. */
	(void)nft_ctx_get_output_buffer(n->ctx);
	if (rc == 0) {
		(void)nft_ctx_get_error_buffer(n->ctx);
		return 0;
	}
	set_err(n, label, cmds, nft_ctx_get_error_buffer(n->ctx));
	return -1;
}

/*
 * nft's error output is "Error: MSG", the input line and a line of
 * carets, per error: keep the first error's message and line, on one
 * line, since it goes into a log line.  The command named is label,
 * else the line nft quoted, else the first line of cmds.
 */
static void
set_err(struct nft *n, const char *label, const char *cmds,
    const char *out)
{
	const char	*msg, *echo = NULL, *p, *cmd;
	char		 m[NFT_ERRLEN / 2];
	size_t		 mlen, elen = 0, clen;
	int		 saved = errno;

	if ((msg = strstr(out, "Error: ")) != NULL) {
		msg += strlen("Error: ");
		mlen = strcspn(msg, "\n");
		p = msg + mlen;
		if (*p == '\n' && p[1] != '\0' && p[1] != ' ' && p[1] != '^' &&
		    p[1] != '\n' && strncmp(p + 1, "Error: ", 7) != 0) {
			echo = p + 1;
			elen = strcspn(echo, "\n");
		}
	} else {
		msg = out + strspn(out, " \t\n");
		mlen = strcspn(msg, "\n");
	}
	if (label != NULL) {
		cmd = label;
		clen = strcspn(label, "\n");
	} else if (echo != NULL) {
		cmd = echo;
		clen = elen;
	} else {
		cmd = cmds;
		clen = strcspn(cmds, "\n");
	}
	if (mlen == 0) {
		/* No message: errno, if libnftables left one, is all. */
		msg = saved != 0 ? strerror(saved) :
		    "failed without a message";
		mlen = strlen(msg);
	}
	if (mlen >= sizeof(m))
		mlen = sizeof(m) - 1;
	memcpy(m, msg, mlen);
	m[mlen] = '\0';
	(void)snprintf(n->err, sizeof(n->err), "nft '%.*s%s': %s%s",
	    (int)(clen > NFT_ECHO_MAX ? NFT_ECHO_MAX : clen), cmd,
	    clen > NFT_ECHO_MAX ? "..." : "", m, hint(m));
}

static void
set_errx(struct nft *n, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(n->err, sizeof(n->err), fmt, ap);
	va_end(ap);
}

/* What the operator is to do about the errors that mean "no nftables". */
static const char *
hint(const char *msg)
{
	if (strstr(msg, "Operation not permitted") != NULL)
		return " (nf_tables needs root, or CAP_NET_ADMIN)";
	if (strstr(msg, "Operation not supported") != NULL ||
	    strstr(msg, "Protocol not supported") != NULL)
		return " (is nf_tables in this kernel?  The gate sets need "
		    "Linux 5.6 or later)";
	/* Every command is ours and tested: only the name can break one. */
	if (strstr(msg, "syntax error") != NULL)
		return " (is the table name a keyword of nft?)";
	return "";
}

/*
 * Before libnftables opens its socket: in 1.0.6 nft_ctx_new() calls
 * exit() when it cannot, which must not take the monitor down.
 */
static int
nl_probe(char *err, size_t errlen)
{
	int	 fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd == -1) {
		(void)snprintf(err, errlen, "nf_tables unavailable: netlink "
		    "socket (NETLINK_NETFILTER): %s", strerror(errno));
		return -1;
	}
	close(fd);
	return fd;
}

/*
 * Without CAP_NET_ADMIN every command fails with EPERM, and libnftables
 * 1.0.6 then also writes "(you must be root)" straight to stderr, past
 * its error buffer: ask the kernel first and say it plainly.  No libcap
 * for one call: capget(2) is a system call without a libc wrapper.
 */
static int
nl_capable(char *err, size_t errlen)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[_LINUX_CAPABILITY_U32S_3];

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1) {
		(void)snprintf(err, errlen, "nf_tables: capget: %s",
		    strerror(errno));
		return -1;
	}
	if ((data[CAP_NET_ADMIN / 32].effective &
	    (1U << (CAP_NET_ADMIN % 32))) == 0) {
		(void)snprintf(err, errlen, "nf_tables unavailable: it needs "
		    "CAP_NET_ADMIN, which this process lacks (not root?)");
		return -1;
	}
	return 0;
}

static void
nl_mark(bool *open, int base)
{
	int	 i;

	for (i = 0; i < NFT_FDSCAN; i++)
		open[i] = fcntl(base + i, F_GETFD) != -1;
}

/*
 * libnftables opens its netlink socket without SOCK_CLOEXEC and does not
 * say which fd it is: find the netfilter netlink socket that appeared in
 * nft_ctx_new(), just where nl_probe's closed one was, and mark it, so
 * no exec'd child inherits a root-opened firewall socket.
 */
static int
nl_cloexec(const bool *was, int base, int *found)
{
	socklen_t	 len;
	int		 i, fd, dom, proto, fl;

	for (i = 0; i < NFT_FDSCAN; i++) {
		fd = base + i;
		if (was[i] || (fl = fcntl(fd, F_GETFD)) == -1)
			continue;
		len = sizeof(dom);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) == -1 ||
		    dom != AF_NETLINK)
			continue;
		len = sizeof(proto);
		if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) ==
		    -1 || proto != NETLINK_NETFILTER)
			continue;
		if (fcntl(fd, F_SETFD, fl | FD_CLOEXEC) == -1)
			return -1;
		*found = fd;
	}
	return 0;
}

/*
 * The table, in one transaction: a table left by a monitor that died is
 * replaced atomically (its bans hold until the new table is in), and a
 * failure leaves nothing half made.  The established accept
 * sits just before the gate drop, so that a connection opened while its
 * window was open outlives the window, while a ban still drops
 * everything, established or not.
 */
static const struct {
	const char	*pre;		/* before the table name */
	const char	*post;		/* after it */
} layout[] = {
	{ "add table inet", "" },
	{ "delete table inet", "" },
	{ "add table inet", "" },
	{ "add set inet", "ban4 { type ipv4_addr; "
	    "flags interval, timeout; }" },
	{ "add set inet", "ban6 { type ipv6_addr; "
	    "flags interval, timeout; }" },
	{ "add set inet", "gate4 { type ipv4_addr . inet_service; "
	    "flags interval, timeout; }" },
	{ "add set inet", "gate6 { type ipv6_addr . inet_service; "
	    "flags interval, timeout; }" },
	{ "add set inet", "gateports { type inet_service; }" },
	{ "add chain inet", "input { type filter hook input priority -5; "
	    "policy accept; }" },
	{ "add rule inet", "input ip saddr @ban4 drop" },
	{ "add rule inet", "input ip6 saddr @ban6 drop" },
	{ "add rule inet", "input tcp dport @gateports "
	    "ip saddr . tcp dport @gate4 accept" },
	{ "add rule inet", "input tcp dport @gateports "
	    "ip6 saddr . tcp dport @gate6 accept" },
	{ "add rule inet", "input tcp dport @gateports "
	    "ct state established,related accept" },
	{ "add rule inet", "input tcp dport @gateports drop" },
};

static int
create(struct nft *n)
{
	struct sbuf	 sb = { NULL, 0, 0 };
	char		 cmd[NFT_CMDLEN];
	size_t		 i;
	int		 rc, r;

	for (i = 0; i < sizeof(layout) / sizeof(layout[0]); i++)
		(void)sb_add(&sb, "%s %s%s%s\n", layout[i].pre, n->table,
		    layout[i].post[0] != '\0' ? " " : "", layout[i].post);
	if (sb.p == NULL) {
		set_errx(n, "nft_open: %s", strerror(ENOMEM));
		return -1;
	}
	rc = run(n, sb.p, NULL);
	free(sb.p);
	if (rc == 0)
		return 0;
	/*
	 * The leftover is still there then, and no stale drop rule of ours
	 * may outlive a monitor that cannot manage it: remove it.  Best
	 * effort: the error above is the one to report.
	 */
	r = snprintf(cmd, sizeof(cmd), "add table inet %s\n"
	    "delete table inet %s", n->table, n->table);
	if (r > 0 && (size_t)r < sizeof(cmd))
		(void)nft_run_cmd_from_buffer(n->ctx, cmd);
	return -1;
}

struct nft *
nft_open(const char *table, char *err, size_t errlen)
{
	struct nft	*n;
	bool		 was[NFT_FDSCAN];
	int		 base;

	if (errlen > 0)
		err[0] = '\0';
	if (!table_ok(table)) {
		/* The name itself is not echoed: it may be anything. */
		(void)snprintf(err, errlen, "nft table name invalid: expected "
		    "a letter, then at most %d letters, digits, '_' or '-'",
		    NFT_TABLE_MAX - 1);
		return NULL;
	}
	if ((base = nl_probe(err, errlen)) == -1 ||
	    nl_capable(err, errlen) == -1)
		return NULL;
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		(void)snprintf(err, errlen, "nft_open: %s", strerror(errno));
		return NULL;
	}
	(void)snprintf(n->table, sizeof(n->table), "%s", table);
	nl_mark(was, base);
	if ((n->ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL) {
		(void)snprintf(err, errlen, "nft_ctx_new failed");
		free(n);
		return NULL;
	}
	n->sock = -1;
	if (nl_cloexec(was, base, &n->sock) == -1) {
		(void)snprintf(err, errlen, "nft: close-on-exec on the "
		    "netlink socket: %s", strerror(errno));
		goto fail;
	}
	/* Nothing may reach the monitor's stdout or stderr. */
	if (nft_ctx_buffer_output(n->ctx) != 0 ||
	    nft_ctx_buffer_error(n->ctx) != 0) {
		(void)snprintf(err, errlen, "nft: buffering its output "
		    "failed");
		goto fail;
	}

	if (create(n) == -1) {
		(void)snprintf(err, errlen, "%s", n->err);
		goto fail;
	}
	return n;
fail:
	nft_ctx_free(n->ctx);
	free(n);
	return NULL;
}

/*
 * The netlink socket libnftables opened as root, for a forked process
 * that is not to keep it (the engine); -1 if it was not found.
 */
int
nft_fd(const struct nft *n)
{
	return n != NULL ? n->sock : -1;
}

int
nft_gate_ports(struct nft *n, const uint16_t *ports, size_t np)
{
	struct sbuf	 sb = { NULL, 0, 0 };
	size_t		 i;
	int		 rc;

	for (i = 0; i < np; i++)
		if (ports[i] == 0) {
			set_errx(n, "nft_gate_ports: port 0 is no TCP port");
			return -1;
		}
	/* One transaction: no moment with the gated ports unguarded. */
	(void)sb_add(&sb, "flush set inet %s gateports\n", n->table);
	if (np > 0) {
		(void)sb_add(&sb, "add element inet %s gateports { ",
		    n->table);
		for (i = 0; i < np; i++)
			(void)sb_add(&sb, "%s%u", i > 0 ? ", " : "", ports[i]);
		(void)sb_add(&sb, " }\n");
	}
	if (sb.p == NULL) {
		set_errx(n, "nft_gate_ports: %s", strerror(ENOMEM));
		return -1;
	}
	rc = run(n, sb.p, NULL);
	free(sb.p);
	return rc;
}

int
nft_ban(struct nft *n, const struct srckey *key, uint64_t ms_left)
{
	struct elem	 e;

	if (key_elem(key, 0, &e) == -1) {
		set_errx(n, "nft_ban: invalid source key (family %u, prefix "
		    "%u)", key != NULL ? key->family : 0,
		    key != NULL ? key->prefix : 0);
		return -1;
	}
	return add_elem(n, e.family == AF_INET ? "ban4" : "ban6", &e,
	    ms_left);
}

int
nft_gate_open(struct nft *n, const struct srckey *key, uint16_t port,
    uint64_t ms_left)
{
	struct elem	 e;

	if (port == 0 || key_elem(key, port, &e) == -1) {
		set_errx(n, "nft_gate_open: invalid source key (family %u, "
		    "prefix %u) or port %u", key != NULL ? key->family : 0,
		    key != NULL ? key->prefix : 0, port);
		return -1;
	}
	return add_elem(n, e.family == AF_INET ? "gate4" : "gate6", &e,
	    ms_left);
}

/*
 * Add e, or renew its timeout: add, delete, add in one transaction, so
 * that the final add always creates it, present or not, on any kernel.
 * If it overlaps an element already there, add_overlap resolves it.
 */
static int
add_elem(struct nft *n, const char *set, const struct elem *e,
    uint64_t ms)
{
	char	 es[NFT_ELEMLEN], ts[NFT_TIMELEN], add[NFT_CMDLEN],
		 del[NFT_CMDLEN], cmds[3 * NFT_CMDLEN];
	int	 r;

	if (elem_str(e, e->port != 0, es, sizeof(es)) == -1 ||
	    timeout_str(ms, ts, sizeof(ts)) == -1 ||
	    elem_cmd(add, sizeof(add), "add", n->table, set, es, ts) == -1 ||
	    elem_cmd(del, sizeof(del), "delete", n->table, set, es,
	    NULL) == -1) {
		set_errx(n, "nft: element for set %s does not fit", set);
		return -1;
	}
	r = snprintf(cmds, sizeof(cmds), "%s\n%s\n%s\n", add, del, add);
	if (r < 0 || (size_t)r >= sizeof(cmds)) {
		set_errx(n, "nft: command for set %s does not fit", set);
		return -1;
	}
	if (run(n, cmds, add) == 0)
		return 0;
	/* 1.0.6 checks interval sets itself; pipapo answers EEXIST. */
	if (strstr(n->err, "interval overlaps with an existing one") == NULL &&
	    strstr(n->err, "File exists") == NULL)
		return -1;
	return add_overlap(n, set, e, add);
}

/*
 * e overlaps elements of set.  Prefixes either nest or are disjoint, so
 * either an element holds e, or e holds some elements:
 * - held: the kernel already drops (or, for a gate, accepts) all that e
 *   covers, and that is success, though it may end before e would; the
 *   engine's own ban table and knock windows still hold to e's end.
 * - holding: e replaces the elements it holds, in one transaction.  A
 *   held element that would have outlasted e ends with e; again the
 *   engine's tables still hold to its end.
 */
static int
add_overlap(struct nft *n, const char *set, const struct elem *e,
    const char *add)
{
	struct sbuf	 sb = { NULL, 0, 0 };
	struct elem	*v;
	char		 es[NFT_ELEMLEN];
	size_t		 nv, i, held = 0;
	int		 rc;

	if (list_elems(n, set, e, &v, &nv) == -1)
		return -1;
	for (i = 0; i < nv; i++)
		if (elem_within(e, &v[i])) {
			free(v);
			return 0;
		}
	for (i = 0; i < nv; i++) {
		if (!elem_within(&v[i], e))
			continue;
		if (elem_str(&v[i], e->port != 0, es, sizeof(es)) == -1)
			break;
		if (held++ == 0)
			(void)sb_add(&sb, "delete element inet %s %s { %s",
			    n->table, set, es);
		else
			(void)sb_add(&sb, ", %s", es);
	}
	free(v);
	if (i < nv || held == 0) {
		/* Neither case: keep the error that brought us here. */
		free(sb.p);
		return -1;
	}
	(void)sb_add(&sb, " }\n%s\n", add);
	if (sb.p == NULL) {
		set_errx(n, "nft: set %s: %s", set, strerror(ENOMEM));
		return -1;
	}
	rc = run(n, sb.p, add);
	free(sb.p);
	return rc;
}

/* The elements of set, of e's kind, as the kernel has them now. */
static int
list_elems(struct nft *n, const char *set, const struct elem *e,
    struct elem **v, size_t *nv)
{
	char		 cmd[NFT_CMDLEN];
	const char	*out;
	int		 r;

	r = snprintf(cmd, sizeof(cmd), "list set inet %s %s", n->table, set);
	if (r < 0 || (size_t)r >= sizeof(cmd)) {
		set_errx(n, "nft: list command for set %s does not fit", set);
		return -1;
	}
	if (nft_run_cmd_from_buffer(n->ctx, cmd) != 0) {
		(void)nft_ctx_get_output_buffer(n->ctx);
		set_err(n, cmd, cmd, nft_ctx_get_error_buffer(n->ctx));
		return -1;
	}
	(void)nft_ctx_get_error_buffer(n->ctx);
	out = nft_ctx_get_output_buffer(n->ctx);
	if (parse_elems(out, e, v, nv) == -1) {
		set_errx(n, "nft '%s': its output could not be read", cmd);
		return -1;
	}
	return 0;
}

/*
 * The elements in nft's listing of one of our sets, which is
 * "elements = { 192.0.2.1 timeout 10m expires 9m59s, 198.51.100.0/24
 * . 22 timeout ... }" over one or more lines.  We made every element,
 * so anything unexpected is refused rather than guessed at.
 */
static int
parse_elems(const char *out, const struct elem *kind, struct elem **vp,
    size_t *nvp)
{
	struct elem	*v = NULL, *nv, *e;
	const char	*p, *slash;
	char		 tok[INET6_ADDRSTRLEN + 4], *end;
	size_t		 n = 0, len;
	size_t		 max = kind->family == AF_INET ? 32 : 128;
	unsigned long	 num;

	*vp = NULL;
	*nvp = 0;
	if ((p = strstr(out, "elements = {")) == NULL)
		return 0;
	p += strlen("elements = {");
	for (;;) {
		p += strspn(p, " \t\n,");
		if (*p == '}')
			break;
		len = strcspn(p, " \t\n,}");
		if (*p == '\0' || len == 0 || len >= sizeof(tok))
			goto bad;
		if ((nv = reallocarray(v, n + 1, sizeof(*v))) == NULL)
			goto bad;
		v = nv;
		e = &v[n];
		memset(e, 0, sizeof(*e));
		e->family = kind->family;
		e->prefix = (uint8_t)max;
		memcpy(tok, p, len);
		tok[len] = '\0';
		p += len;
		if ((slash = strchr(tok, '/')) != NULL) {
			errno = 0;
			num = strtoul(slash + 1, &end, 10);
			if (slash[1] == '\0' || *end != '\0' || errno != 0 ||
			    num > max)
				goto bad;
			e->prefix = (uint8_t)num;
			tok[slash - tok] = '\0';
		}
		if (inet_pton(e->family, tok, e->addr) != 1)
			goto bad;
		if (kind->port != 0) {
			p += strspn(p, " \t\n");
			if (*p++ != '.')
				goto bad;
			p += strspn(p, " \t\n");
			errno = 0;
			num = strtoul(p, &end, 10);
			if (end == p || errno != 0 || num == 0 || num > 65535)
				goto bad;
			e->port = (uint16_t)num;
			p = end;
		}
		n++;
		p += strcspn(p, ",}");	/* timeout, expires */
		if (*p == '\0')
			goto bad;
	}
	*vp = v;
	*nvp = n;
	return 0;
bad:
	free(v);
	return -1;
}

/* Whether a lies within b: b's prefix covers a's, on the same port. */
static bool
elem_within(const struct elem *a, const struct elem *b)
{
	size_t	 i;

	if (a->family != b->family || a->port != b->port ||
	    b->prefix > a->prefix)
		return false;
	for (i = 0; i < b->prefix; i++)
		if (((a->addr[i / 8] ^ b->addr[i / 8]) & (0x80 >> (i % 8))) !=
		    0)
			return false;
	return true;
}

/*
 * An element that is not there (the kernel may have timed it out first,
 * or it lies inside a wider ban): nft 1.0.6 says "element does not
 * exist" when it checks an interval set itself, the kernel ENOENT
 * otherwise.  ENOENT is also what a missing table or set gives, so
 * nft_unban believes it only once the set is seen to exist.
 */
static bool
missing(const char *err)
{
	return strstr(err, "element does not exist") != NULL ||
	    strstr(err, "No such file or directory") != NULL;
}

int
nft_unban(struct nft *n, const struct srckey *key)
{
	char		 cmd[NFT_CMDLEN], list[NFT_CMDLEN];
	char		 saved[NFT_ERRLEN];
	int		 r;

	if (nft_cmd_ban(cmd, sizeof(cmd), n->table, key, 0, false) == -1) {
		set_errx(n, "nft_unban: invalid source key (family %u, prefix "
		    "%u)", key != NULL ? key->family : 0,
		    key != NULL ? key->prefix : 0);
		return -1;
	}
	if (run(n, cmd, NULL) == 0)
		return 0;
	if (!missing(n->err))
		return -1;
	(void)memcpy(saved, n->err, sizeof(saved));
	r = snprintf(list, sizeof(list), "list set inet %s %s", n->table,
	    key->family == AF_INET ? "ban4" : "ban6");
	if (r < 0 || (size_t)r >= sizeof(list) || run(n, list, NULL) == -1) {
		(void)memcpy(n->err, saved, sizeof(n->err));
		return -1;
	}
	return 0;
}

int
nft_flush(struct nft *n)
{
	char	 cmds[4 * NFT_CMDLEN];
	int	 r;

	r = snprintf(cmds, sizeof(cmds), "flush set inet %s ban4\n"
	    "flush set inet %s ban6\nflush set inet %s gate4\n"
	    "flush set inet %s gate6\n", n->table, n->table, n->table,
	    n->table);
	if (r < 0 || (size_t)r >= sizeof(cmds)) {
		set_errx(n, "nft_flush: command does not fit");
		return -1;
	}
	return run(n, cmds, NULL);
}

/*
 * Remove the table and free everything.  A table that stays would keep
 * dropping banned sources with nobody to manage it: a failure is
 * returned, with its text in err, for the caller to log.
 */
int
nft_close(struct nft *n, char *err, size_t errlen)
{
	char	 cmd[NFT_CMDLEN];
	int	 r, rc = 0;

	if (n == NULL)
		return 0;
	r = snprintf(cmd, sizeof(cmd), "delete table inet %s", n->table);
	if (r > 0 && (size_t)r < sizeof(cmd))
		rc = run(n, cmd, NULL);
	if (rc == -1 && errlen > 0)
		(void)snprintf(err, errlen, "%s", n->err);
	nft_ctx_free(n->ctx);
	free(n);
	return rc;
}

const char *
nft_error(const struct nft *n)
{
	return n != NULL ? n->err : "nft: no context";
}
