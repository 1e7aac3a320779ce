/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * up/down commands.  The config loader splits each command line into argv
 * once (no shell: quotes and backslashes only); substitutions (%d %h %a %p
 * %A %P %%) are applied per argument when the command runs.
 */
#ifndef TAPLINE_SCRIPT_H
#define TAPLINE_SCRIPT_H

#include <stddef.h>

struct script_argv {
	int argc;
	char **argv; /* argc entries plus a NULL */
};

/*
 * Split `line` into words: whitespace separates, '...' is literal, "..."
 * allows \" and \\, a backslash outside quotes escapes the next byte.
 * Checks every %-sequence (only %d %h %a %p %A %P %% are allowed).
 * Returns 0, or -1 with a sentence in err (unbalanced quote, empty command,
 * unknown substitution "%x").
 */
int script_split(const char *line, struct script_argv *out, char *err,
    size_t errlen);
void script_argv_free(struct script_argv *a);

#endif
