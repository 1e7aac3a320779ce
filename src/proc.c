/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdlib.h>

#include "proc.h"

void
proc_init(struct proc *p, const struct conf *conf)
{
	*p = (struct proc){ .conf = conf, .conf_first = conf };
}

int
proc_conf_reserve(struct proc *p)
{
	struct conf **olds;

	olds = realloc(p->old_confs, (p->nold_confs + 1) * sizeof(*olds));
	if (olds == NULL)
		return -1;
	p->old_confs = olds;
	return 0;
}

/* The caller's configuration is never ours to keep (or to free). */
void
proc_conf_replace(struct proc *p, struct conf *nc)
{
	if (p->conf != p->conf_first)
		p->old_confs[p->nold_confs++] = (struct conf *)p->conf;
	p->conf = nc;
}

void
proc_free(struct proc *p)
{
	size_t i;

	if (p->conf != p->conf_first)
		conf_free((struct conf *)p->conf);
	for (i = 0; i < p->nold_confs; i++)
		conf_free(p->old_confs[i]);
	free(p->old_confs);
	p->old_confs = NULL;
	p->nold_confs = 0;
	p->conf = p->conf_first;
}
