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
 * What the inetd.conf and xinetd.conf converters (inetd.c, xinetd.c)
 * share, and what their callers read: the list of problems a conversion
 * found, a growing text buffer that remembers running out of memory
 * instead of making every append a branch, portmux.conf value quoting,
 * and the table that keeps the section names of one output unique.
 * Nothing here keeps state outside the structs the caller owns.
 */

#ifndef IMPORTOUT_H
#define IMPORTOUT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * How far a line is from its portmux.conf mapping.  NOTE: mapped, with
 * a remark (a key dropped that portmuxd does better by itself); WARN:
 * mapped, but it behaves differently; ERROR: not mapped, the line or
 * section is written as a comment.
 */
enum iout_level {
	IOUT_NOTE,
	IOUT_WARN,
	IOUT_ERROR,
};

struct iout_problem {
	char		*file;		/* owned; NULL when none was named */
	int		 line;		/* from 1 */
	enum iout_level	 level;
	char		*msg;		/* owned, one line, no file:line */
};

/* Owned by the caller; iout_problems_clear() frees what it holds. */
struct iout_problems {
	struct iout_problem	*v;
	size_t			 n;
	size_t			 size;
	bool			 nomem;	/* a problem could not be stored */
};

/* A growing NUL-terminated string; failed is set once a grow failed. */
struct iout_buf {
	char	*p;
	size_t	 len;
	size_t	 size;
	bool	 failed;
};

/* Section names given so far in one output, compared without case. */
struct iout_names {
	char	**v;
	size_t	  n;
	size_t	  size;
	bool	  failed;
};

#define IOUT_MAX_NAME	64	/* conf.c's CONF_MAX_NAME */

/* importout.c */
void		 iout_problems_init(struct iout_problems *);
void		 iout_problems_clear(struct iout_problems *);
void		 iout_problem(struct iout_problems *, const char *, int,
		    enum iout_level, const char *, ...)
		    __attribute__((__format__(__printf__, 5, 6)));
void		 iout_problems_sort(struct iout_problems *, size_t,
		    const char *const *, size_t);
enum iout_level	 iout_problems_worst(const struct iout_problems *);
const char	*iout_level_name(enum iout_level);

void		 iout_buf_init(struct iout_buf *);
void		 iout_buf_clear(struct iout_buf *);
char		*iout_buf_take(struct iout_buf *);
void		 iout_add(struct iout_buf *, const char *);
void		 iout_addn(struct iout_buf *, const char *, size_t);
void		 iout_printf(struct iout_buf *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));
void		 iout_value(struct iout_buf *, const char *);
void		 iout_title(struct iout_buf *, const char *);
void		 iout_comment(struct iout_buf *, const char *, const char *,
		    size_t);
void		 iout_wrap(struct iout_buf *, const char *, const char *,
		    const char *);

void		 iout_names_init(struct iout_names *);
void		 iout_names_clear(struct iout_names *);
bool		 iout_names_has(const struct iout_names *, const char *);
bool		 iout_names_add(struct iout_names *, const char *);
char		*iout_names_unique(struct iout_names *, const char *,
		    const char *);
bool		 iout_name_valid(const char *);
char		*iout_name_clean(const char *);

#endif /* IMPORTOUT_H */
