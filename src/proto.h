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
 * The privsep wire format between the monitor and the engine: the only
 * definition of it.  Messages travel over a SOCK_SEQPACKET socketpair, so
 * one recvmsg() is one message; each has a fixed header, an exact payload
 * length per type and at most one descriptor.  Types come in blocks per
 * direction.  Any change to a payload bumps PROTO_VERSION.
 */

#ifndef PROTO_H
#define PROTO_H

#include <sys/socket.h>

#include <stdint.h>

#include "portmuxd.h"

#define PROTO_VERSION	8

struct msg_hdr {
	uint32_t	 type;
	uint32_t	 len;		/* payload bytes after the header */
	uint32_t	 version;	/* PROTO_VERSION */
	uint32_t	 pad;
	uint64_t	 id;		/* request id: the connection id */
};

#define MSG_MAXPAYLOAD	256

enum msg_type {
	/* engine -> monitor */
	MSG_SPAWN = 100,	/* struct msg_spawn + the client socket */
	MSG_BAN_NEW,		/* struct msg_ban: a ban this engine made */
	MSG_KNOCK_NEW,		/* struct msg_knock: a knock opened a service */
	MSG_CTL_RELOAD,		/* no payload: portmuxctl reload, id its conn */
	MSG_CTL_UNBAN,		/* struct msg_unban: portmuxctl unban */
	MSG_READY,		/* no payload: set up, serving its listeners */
	MSG_CTL_REOPEN,		/* no payload: portmuxctl reopen, id its conn */
	MSG_SYSLOG,		/* no payload: lost syslog, asks for a socket */

	/* monitor -> engine */
	MSG_SPAWNED = 200,	/* struct msg_spawned [+ stderr pipe] */
	MSG_SPAWN_FAIL,		/* struct msg_spawn_fail */
	MSG_EXIT,		/* struct msg_exit */
	MSG_STOP,		/* struct msg_stop */
	MSG_DUMP,		/* no payload: log the state (SIGUSR1) */
	MSG_ADOPT,		/* struct msg_adopt [+ stderr pipe] */
	MSG_BAN,		/* struct msg_ban: made by another engine */
	MSG_KNOCK,		/* struct knockwin: opened by another engine */
	MSG_UNBAN,		/* struct msg_unban: lift the bans it overlaps */
	MSG_CTL_LINE,		/* struct msg_ctl_line: a reload problem */
	MSG_CTL_DONE,		/* struct msg_ctl_done: the answer to a MSG_CTL_* */
	MSG_LOGFD,		/* no payload + the reopened log file */
	MSG_SYSLOGFD,		/* no payload + a socket connected to syslog */
};

/* A ban key, or any prefix to lift the bans it overlaps. */
struct msg_unban {
	struct srckey	 key;
	uint8_t		 pad[6];
};

/* A line of the reply to a control request, NUL-terminated. */
#define MSG_CTL_TEXT	240
struct msg_ctl_line {
	char		 text[MSG_CTL_TEXT];
};

struct msg_ctl_done {
	int32_t		 ok;		/* 1: done; 0: refused, lines said why */
	uint32_t	 count;		/* unban: bans lifted */
	uint64_t	 generation;	/* reload: the one now running */
};

#define SPAWN_WAIT	0x01	/* the fd is the service's listening socket */
#define SPAWN_TCPMUX	0x02	/* a connection handed over by tcpmux */
#define SPAWN_PROXY	0x04	/* peer: the client a trusted proxy named */

struct msg_spawn {
	uint64_t	 generation;
	uint32_t	 service;	/* index in that generation's conf */
	uint32_t	 flags;		/* SPAWN_* */
	/*
	 * UDP wait: the source of the datagram that woke the socket, read
	 * by the engine with MSG_PEEK (the monitor never reads the
	 * network); peer_len 0 otherwise.  Checked before use.
	 */
	uint32_t	 peer_len;
	uint32_t	 pad;
	struct sockaddr_storage peer;
};

struct msg_spawned {
	int32_t		 pid;
	uint32_t	 uid;
};

/* Why a spawn was refused; matches the reason= vocabulary of the log. */
enum spawn_fail {
	SPAWN_FAIL_ERROR = 1,
	SPAWN_FAIL_INSTANCES,
	SPAWN_FAIL_MAX_CHILDREN,
	SPAWN_FAIL_FORK,
	SPAWN_FAIL_EXEC,
	SPAWN_FAIL_BADSRC,
	SPAWN_FAIL_OVERLOAD,	/* the monitor is out of descriptors */
};

struct msg_spawn_fail {
	int32_t		 reason;	/* enum spawn_fail */
	int32_t		 error;		/* errno, 0 if none */
	int32_t		 stage;		/* enum spawn_stage, exec failures */
	uint32_t	 pad;
};

#define MSG_NAMELEN	72

struct msg_exit {
	int32_t		 pid;
	int32_t		 status;	/* as from waitpid() */
	uint64_t	 duration_ms;
	char		 service[MSG_NAMELEN];	/* NUL-terminated */
};

/*
 * A child the engine did not spawn but must now watch: one spawned for
 * an engine that was draining after a reload.
 */
struct msg_adopt {
	int32_t		 pid;
	int32_t		 listen_fd;	/* wait services: its listener, else -1 */
	char		 service[MSG_NAMELEN];
	struct srckey	 key;		/* its per_source group */
	uint8_t		 pad[6];
};

/*
 * A source group opened a knocked service until a wall clock time: the
 * monitor keeps it for the next engine and opens the service's gate
 * ports to it in the firewall.
 */
struct msg_knock {
	struct srckey	 key;
	uint8_t		 pad[2];
	uint32_t	 service;	/* index in that generation's conf */
	uint64_t	 generation;
	uint64_t	 until;		/* wall clock ms */
};

struct msg_ban {
	struct srckey	 key;		/* the group, with its prefix */
	uint8_t		 pad[2];
	int32_t		 reason;	/* enum ban_reason */
	uint64_t	 until;		/* wall clock ms */
};

/* Where in the child's setup an exec failure happened. */
enum spawn_stage {
	STAGE_FDS = 1,
	STAGE_SIGNALS,
	STAGE_SESSION,
	STAGE_RLIMIT,
	STAGE_NICE,
	STAGE_CHROOT,
	STAGE_CREDS,
	STAGE_EXEC,
};

enum stop_reason {
	STOP_SHUTDOWN = 1,
	STOP_RELOAD,
};

struct msg_stop {
	uint32_t	 reason;	/* enum stop_reason */
	uint32_t	 grace_ms;
};

#endif /* PROTO_H */
