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
 * The monitor's kernel firewall (nft.c): an nftables table of its own,
 * family inet, that mirrors the ban table and the knock gates.  Every
 * command is built here from checked binary keys; the only string from
 * outside is the table name, which nft_open checks again.
 */

#ifndef NFT_H
#define NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct srckey;	/* portmuxd.h */

struct nft;

/*
 * Each returns 0, or -1 with the failing command and nft's message in
 * nft_error() (nft_open: in err).  Keys are ban table groups: family
 * AF_INET or AF_INET6, address and prefix; bits past the prefix are
 * cleared here.
 */
struct nft	*nft_open(const char *, char *, size_t);
int		 nft_gate_ports(struct nft *, const uint16_t *, size_t);
int		 nft_ban(struct nft *, const struct srckey *, uint64_t);
int		 nft_unban(struct nft *, const struct srckey *);
int		 nft_gate_open(struct nft *, const struct srckey *, uint16_t,
		    uint64_t);
int		 nft_flush(struct nft *);
int		 nft_fd(const struct nft *);
int		 nft_close(struct nft *, char *, size_t);
const char	*nft_error(const struct nft *);

/* One command into a buffer: pure, for the tests and the above. */
int		 nft_cmd_ban(char *, size_t, const char *,
		    const struct srckey *, uint64_t, bool);
int		 nft_cmd_gate(char *, size_t, const char *,
		    const struct srckey *, uint16_t, uint64_t);

#endif /* NFT_H */
