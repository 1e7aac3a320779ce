/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The per-packet buffers of one event loop (scratch.h says why one set).
 */
#include "config.h"

#include <stdlib.h>

#include <openssl/crypto.h>

#include "scratch.h"

struct scratch *
scratch_new(void)
{
	struct scratch *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	if ((b->coal = gso_pool_new()) == NULL) {
		free(b);
		return NULL;
	}
	return b;
}

void
scratch_free(struct scratch *b)
{
	if (b == NULL)
		return;
	gso_pool_free(b->coal);
	/* The last packets of the loop's tunnels are not left behind. */
	OPENSSL_cleanse(b, sizeof(*b));
	free(b);
}
