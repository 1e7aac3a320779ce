/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The in-memory pipeline benchmark (issue 6, deliverable 2): how fast the
 * data path's CPU stages run with no device and no socket in the way.
 *
 * For each payload size (64 B, 1400 B and the largest datagram payload)
 * it times, in one process:
 *
 *   seal, open   seal_tx_seal / seal_rx_open, the daemon's own code, for
 *                AES-256-GCM and ChaCha20-Poly1305, next to a plain EVP
 *                AEAD loop doing the same crypto on the same buffers (the
 *                ceiling: what OpenSSL alone manages on this machine);
 *   deflate,     compress_packet / compress_inflate at zlib level 1, on
 *   inflate      text-like and on random (incompressible) bytes.
 *
 * Every cell works on a batch of packet buffers (about 256 KiB in all, as
 * a buffer pool would) for a fixed time after a warm-up, timed with
 * CLOCK_MONOTONIC per batch; a figure is the median over the batches.
 * MB/s counts payload bytes (10^6 bytes per MB); for deflate and inflate
 * that is the uncompressed size.
 *
 *   bench/pipeline [--seconds S] [--csv] [--smoke]
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "compress.h"
#include "pkt.h"
#include "seal.h"
#include "wire.h"

#define BENCH_SECONDS_DEFAULT 0.3
#define BENCH_SECONDS_SMOKE 0.002
/* Long enough for the clock to ramp, short next to the measured time. */
#define BENCH_WARMUP_FRACTION 0.2
#define BENCH_WARMUP_MAX 0.1

/* A pool's worth of buffers, so that a cell does not live in L1 alone. */
#define BENCH_BATCH_BYTES (256 * 1024)
#define BENCH_BATCH_MIN 4
#define BENCH_BATCH_MAX 4096
#define BENCH_ALIGN 64

#define BENCH_RECEIVER UINT32_C(0x7a7a0001)
/*
 * A fixed clock: the epoch never ages, so the time limits never fire and
 * the timed loop measures crypto, not clock_gettime.
 */
#define BENCH_NOW_MS UINT64_C(1000)
#define BENCH_ZLIB_LEVEL 1

/* The sizes of the table; the last one is the largest datagram payload. */
static const size_t bench_sizes[] = { 64, 1400, SEAL_PAYLOAD_MAX };
#define BENCH_NSIZES (sizeof(bench_sizes) / sizeof(bench_sizes[0]))

static const enum wire_cipher bench_ciphers[] = {
	WIRE_CIPHER_AES_256_GCM,
	WIRE_CIPHER_CHACHA20_POLY1305,
};
#define BENCH_NCIPHERS (sizeof(bench_ciphers) / sizeof(bench_ciphers[0]))

struct bench_opts {
	double seconds;		/* measured time per cell */
	bool csv;
};

/* One line of the table; a negative time means "not applicable". */
struct bench_row {
	const char *stage;
	const char *variant;
	size_t size;
	double ns;		/* ours, per packet */
	double evp_ns;		/* OpenSSL alone, per packet */
	char note[64];
};

/*
 * count packet slots of stride bytes; slot i's payload starts at
 * WIRE_UDP_PAYLOAD_OFF so that seal and open work in place, as they do
 * in the daemon.
 */
struct bench_batch {
	uint8_t *mem;
	size_t stride;
	size_t count;
	size_t size;		/* payload bytes per packet */
};

/* The state of one seal/open cell, ours and OpenSSL's. */
struct bench_crypto {
	enum wire_cipher cipher;
	struct seal_keys keys;
	struct seal_limits lim;
	struct seal_tx tx;
	struct seal_rx rx;
	bool paired;		/* tx and rx are initialised and keyed */
	uint64_t sealed;	/* datagrams sealed since they were keyed */
	EVP_CIPHER_CTX *ectx;	/* the EVP loop's encryption context */
	EVP_CIPHER_CTX *dctx;	/* and its decryption context */
	uint64_t evp_counter;
	struct bench_batch *b;
};

/* The state of one deflate/inflate cell. */
struct bench_zlib {
	struct compress *c;
	struct bench_batch *b;
	uint8_t *out;		/* a deflated form per slot, stride apart */
	size_t *outlen;		/* 0: the slot went raw (not smaller) */
	size_t deflated;	/* slots with a deflated form */
	size_t deflated_bytes;
};

typedef int (*bench_fn)(void *arg);

/* splitmix64: reproducible data without libc's shared rand() state. */
struct bench_rng {
	uint64_t s;
};

static void bench_die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* A benchmark that cannot run has nothing to report: say why and stop. */
static void
bench_die(const char *fmt, ...)
{
	va_list ap;
	unsigned long e;

	fputs("pipeline: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	while ((e = ERR_get_error()) != 0)
		fprintf(stderr, "pipeline: openssl: %s\n",
		    ERR_error_string(e, NULL));
	exit(1);
}

static uint64_t
bench_rng_next(struct bench_rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) +
	    (uint64_t)ts.tv_nsec;
}

/* Fill len bytes with random data: what encrypted or packed traffic is. */
static void
bench_fill_random(struct bench_rng *r, uint8_t *p, size_t len)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (i % 8 == 0)
			v = bench_rng_next(r);
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/*
 * Fill len bytes with HTTP- and log-like text, which deflate shrinks to
 * roughly a third at level 1, like the plain-text traffic zlib is for.
 */
static void
bench_fill_text(struct bench_rng *r, uint8_t *p, size_t len)
{
	static const char *const words[] = {
		"GET ", "/index.html ", "HTTP/1.1\r\n", "Host: ",
		"www.example.org\r\n", "User-Agent: ", "Mozilla/5.0 ",
		"(X11; Linux x86_64) ", "Accept: ", "text/html,",
		"application/json\r\n", "Content-Length: ", "the ", "of ",
		"session ", "tunnel ", "packet ", "connection ", "established ",
		"from ", "to ", "<div class=\"row\">", "</div>\n", "<p>",
		"</p>\n", "{\"id\": ", "\"name\": \"", "\", ", "}\n",
		"Jun 12 10:14:03 host tapline[812]: ",
	};
	size_t n = sizeof(words) / sizeof(words[0]);
	size_t i = 0, k;
	uint64_t v;
	char num[24];
	const char *w;

	while (i < len) {
		v = bench_rng_next(r);
		if (v % 5 == 0) {
			snprintf(num, sizeof(num), "%" PRIu64 " ",
			    (v >> 8) % 100000);
			w = num;
		} else
			w = words[(v >> 8) % n];
		for (k = 0; w[k] != '\0' && i < len; k++)
			p[i++] = (uint8_t)w[k];
	}
}

/* A batch of slots for size-byte payloads, about BENCH_BATCH_BYTES. */
static void
bench_batch_init(struct bench_batch *b, size_t size)
{
	size_t count = BENCH_BATCH_BYTES / size;

	if (count < BENCH_BATCH_MIN)
		count = BENCH_BATCH_MIN;
	if (count > BENCH_BATCH_MAX)
		count = BENCH_BATCH_MAX;
	b->size = size;
	b->count = count;
	b->stride = (size + SEAL_OVERHEAD + BENCH_ALIGN - 1) /
	    BENCH_ALIGN * BENCH_ALIGN;
	b->mem = aligned_alloc(BENCH_ALIGN, b->stride * count);
	if (b->mem == NULL)
		bench_die("out of memory for %zu buffers", count);
	memset(b->mem, 0, b->stride * count);
}

static uint8_t *
bench_slot(const struct bench_batch *b, size_t i)
{
	return b->mem + i * b->stride;
}

static int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Time work over the batch (prep first, untimed, when given) until
 * seconds of work have been measured, after a warm-up.  Nanoseconds per
 * packet: the median over the batches rather than the mean, because the
 * machine is shared (builds, tests) and a batch that lost its CPU to
 * another process says nothing about our code.
 */
static double
bench_time(bench_fn prep, bench_fn work, void *arg, size_t per_call,
    double seconds)
{
	double warmup = seconds * BENCH_WARMUP_FRACTION, *samples = NULL, *p;
	uint64_t t0, t1, start, total = 0;
	uint64_t want = (uint64_t)(seconds * 1e9);
	size_t n = 0, cap = 0;
	double median;

	if (warmup > BENCH_WARMUP_MAX)
		warmup = BENCH_WARMUP_MAX;
	start = bench_now_ns();
	do {
		if ((prep != NULL && prep(arg) != 0) || work(arg) != 0)
			bench_die("warm-up failed");
	} while ((double)(bench_now_ns() - start) < warmup * 1e9);

	/* At least one batch, even when --seconds is too small to count. */
	do {
		if (prep != NULL && prep(arg) != 0)
			bench_die("preparing a batch failed");
		t0 = bench_now_ns();
		if (work(arg) != 0)
			bench_die("a timed batch failed");
		t1 = bench_now_ns();
		total += t1 - t0;
		if (n == cap) {
			cap = cap == 0 ? 256 : cap * 2;
			if ((p = realloc(samples, cap * sizeof(*p))) == NULL)
				bench_die("out of memory for samples");
			samples = p;
		}
		samples[n++] = (double)(t1 - t0) / (double)per_call;
	} while (total < want);
	qsort(samples, n, sizeof(*samples), bench_cmp_double);
	median = n % 2 ? samples[n / 2] :
	    (samples[n / 2 - 1] + samples[n / 2]) / 2;
	free(samples);
	return median;
}

/* --- Seal and open through seal.c ------------------------------------- */

/*
 * Key a fresh sender and receiver with epoch 0, as a new connection does.
 * Called at the start of a cell and before the counter could reach the
 * reject limit, which the receiver's window enforces whatever the limits
 * say.
 */
static void
bench_pair_reset(struct bench_crypto *bc)
{
	char err[256];

	if (bc->paired) {
		seal_tx_free(&bc->tx);
		seal_rx_free(&bc->rx);
		bc->paired = false;
	}
	if (seal_tx_init(&bc->tx, &bc->lim, err, sizeof(err)) != 0 ||
	    seal_rx_init(&bc->rx, &bc->lim, err, sizeof(err)) != 0 ||
	    seal_tx_install(&bc->tx, 0, bc->cipher, &bc->keys,
	    SEAL_ROLE_CLIENT, BENCH_NOW_MS, err, sizeof(err)) != 0 ||
	    seal_rx_install(&bc->rx, 0, bc->cipher, &bc->keys,
	    SEAL_ROLE_SERVER, BENCH_NOW_MS, err, sizeof(err)) != 0)
		bench_die("%s", err);
	bc->paired = true;
	bc->sealed = 0;
}

/* Untimed: make room for one more batch under the counter limit. */
static int
bench_ours_room(void *arg)
{
	struct bench_crypto *bc = arg;

	if (bc->sealed + bc->b->count + 1 >= bc->lim.reject_after_packets)
		bench_pair_reset(bc);
	return 0;
}

/* Timed: seal every slot in place, as the UDP send path does. */
static int
bench_ours_seal(void *arg)
{
	struct bench_crypto *bc = arg;
	const struct bench_batch *b = bc->b;
	size_t i, outlen;

	for (i = 0; i < b->count; i++) {
		if (seal_tx_seal(&bc->tx, BENCH_RECEIVER, WIRE_INNER_RAW,
		    bench_slot(b, i), b->stride, b->size, &outlen,
		    BENCH_NOW_MS) != 0)
			return -1;
	}
	bc->sealed += b->count;
	return 0;
}

/* Untimed: a batch of fresh datagrams for the receiver to open. */
static int
bench_ours_prep_open(void *arg)
{
	bench_ours_room(arg);
	return bench_ours_seal(arg);
}

/* Timed: open every slot in place, as the UDP receive path does. */
static int
bench_ours_open(void *arg)
{
	struct bench_crypto *bc = arg;
	const struct bench_batch *b = bc->b;
	struct seal_opened o;
	size_t i;

	for (i = 0; i < b->count; i++) {
		if (seal_rx_open(&bc->rx, BENCH_RECEIVER, bench_slot(b, i),
		    b->size + SEAL_OVERHEAD, WIRE_UDP_MAX_LEN, &o,
		    BENCH_NOW_MS) != SEAL_OK || o.payload_len != b->size)
			return -1;
	}
	return 0;
}

/* --- The same crypto through EVP alone -------------------------------- */

/* nonce = iv XOR (4 zero bytes || counter BE), as seal.h specifies. */
static void
bench_nonce(const uint8_t iv[SEAL_IV_LEN], uint64_t counter,
    uint8_t nonce[SEAL_IV_LEN])
{
	size_t i;

	memcpy(nonce, iv, SEAL_IV_LEN);
	for (i = 0; i < 8; i++)
		nonce[SEAL_IV_LEN - 1 - i] ^= (uint8_t)(counter >> (8 * i));
}

/*
 * The ceiling: EVP_EncryptInit/Update/Final over the same header (AAD),
 * kind and payload bytes in place, with the tag behind, the least any
 * AEAD datagram format must do.  The counter goes into the header so that
 * the open loop can rebuild the nonce from the datagram.
 */
static int
bench_evp_seal_one(struct bench_crypto *bc, uint8_t *d, size_t size)
{
	const uint8_t *iv = bc->keys.iv[SEAL_DIR_C2S];
	uint8_t nonce[SEAL_IV_LEN], fin[16];
	int n, len = (int)(WIRE_INNER_HDR_LEN + size);

	pkt_store64(d + WIRE_UDP_OFF_COUNTER, ++bc->evp_counter);
	bench_nonce(iv, bc->evp_counter, nonce);
	if (!EVP_EncryptInit_ex2(bc->ectx, NULL, NULL, nonce, NULL) ||
	    !EVP_EncryptUpdate(bc->ectx, NULL, &n, d, WIRE_UDP_HDR_LEN) ||
	    !EVP_EncryptUpdate(bc->ectx, d + WIRE_UDP_HDR_LEN, &n,
	    d + WIRE_UDP_HDR_LEN, len) || n != len ||
	    !EVP_EncryptFinal_ex(bc->ectx, fin, &n) ||
	    EVP_CIPHER_CTX_ctrl(bc->ectx, EVP_CTRL_AEAD_GET_TAG,
	    WIRE_UDP_TAG_LEN, d + WIRE_UDP_HDR_LEN + len) <= 0)
		return -1;
	return 0;
}

static int
bench_evp_seal(void *arg)
{
	struct bench_crypto *bc = arg;
	size_t i;

	for (i = 0; i < bc->b->count; i++)
		if (bench_evp_seal_one(bc, bench_slot(bc->b, i),
		    bc->b->size) != 0)
			return -1;
	return 0;
}

/* The EVP open: decrypt in place and verify the tag, nothing else. */
static int
bench_evp_open(void *arg)
{
	struct bench_crypto *bc = arg;
	const uint8_t *iv = bc->keys.iv[SEAL_DIR_C2S];
	uint8_t nonce[SEAL_IV_LEN], fin[16], *d;
	int n, len = (int)(WIRE_INNER_HDR_LEN + bc->b->size);
	size_t i;

	for (i = 0; i < bc->b->count; i++) {
		d = bench_slot(bc->b, i);
		bench_nonce(iv, pkt_load64(d + WIRE_UDP_OFF_COUNTER), nonce);
		if (!EVP_DecryptInit_ex2(bc->dctx, NULL, NULL, nonce, NULL) ||
		    !EVP_DecryptUpdate(bc->dctx, NULL, &n, d,
		    WIRE_UDP_HDR_LEN) ||
		    !EVP_DecryptUpdate(bc->dctx, d + WIRE_UDP_HDR_LEN, &n,
		    d + WIRE_UDP_HDR_LEN, len) || n != len ||
		    EVP_CIPHER_CTX_ctrl(bc->dctx, EVP_CTRL_AEAD_SET_TAG,
		    WIRE_UDP_TAG_LEN, d + WIRE_UDP_HDR_LEN + len) <= 0 ||
		    EVP_DecryptFinal_ex(bc->dctx, fin, &n) <= 0)
			return -1;
	}
	return 0;
}

/*
 * Both loops must do the same crypto, or the ratio means nothing: the EVP
 * loop, given our datagram's plaintext and header, must produce our
 * datagram byte for byte.
 */
static void
bench_crypto_selfcheck(struct bench_crypto *bc, size_t size)
{
	size_t cap = size + SEAL_OVERHEAD, outlen;
	uint8_t *ours = calloc(1, cap), *evp = calloc(1, cap);
	struct bench_rng r = { 42 };
	uint64_t counter;

	if (ours == NULL || evp == NULL)
		bench_die("out of memory");
	bench_fill_random(&r, ours + WIRE_UDP_PAYLOAD_OFF, size);
	memcpy(evp + WIRE_UDP_PAYLOAD_OFF, ours + WIRE_UDP_PAYLOAD_OFF, size);
	bench_pair_reset(bc);
	if (seal_tx_seal(&bc->tx, BENCH_RECEIVER, WIRE_INNER_RAW, ours, cap,
	    size, &outlen, BENCH_NOW_MS) != 0 || outlen != cap)
		bench_die("seal_tx_seal failed in the self-check");
	bc->sealed++;
	memcpy(evp, ours, WIRE_UDP_HDR_LEN);
	evp[WIRE_UDP_HDR_LEN] = WIRE_INNER_RAW;
	counter = pkt_load64(ours + WIRE_UDP_OFF_COUNTER);
	bc->evp_counter = counter - 1;
	if (bench_evp_seal_one(bc, evp, size) != 0)
		bench_die("the EVP loop failed in the self-check");
	if (memcmp(ours, evp, cap) != 0)
		bench_die("%s, %zu bytes: the EVP loop and seal_tx_seal "
		    "disagree", seal_cipher_name(bc->cipher), size);
	if (seal_rx_open(&bc->rx, BENCH_RECEIVER, evp, cap, WIRE_UDP_MAX_LEN,
	    NULL, BENCH_NOW_MS) != SEAL_OK)
		bench_die("seal_rx_open refused the EVP loop's datagram");
	bc->evp_counter = 0;
	free(ours);
	free(evp);
}

/* Key the EVP contexts once, as seal.c does at install time. */
static void
bench_crypto_init(struct bench_crypto *bc, enum wire_cipher c,
    const struct seal_keys *keys)
{
	EVP_CIPHER *cipher;
	const uint8_t *key = keys->key[SEAL_DIR_C2S];

	memset(bc, 0, sizeof(*bc));
	bc->cipher = c;
	bc->keys = *keys;
	/*
	 * The counter limit as high as the protocol allows: the default
	 * rekey point would refuse nothing, but the bench must never stop
	 * for a rekey in the middle of a timed batch.
	 */
	seal_limits_default(&bc->lim);
	bc->lim.reject_after_packets = WIRE_REJECT_AFTER_PACKETS;
	bc->lim.rekey_after_packets = WIRE_REJECT_AFTER_PACKETS - 1;

	if ((cipher = EVP_CIPHER_fetch(NULL, seal_cipher_name(c),
	    NULL)) == NULL)
		bench_die("no %s in this OpenSSL", seal_cipher_name(c));
	if ((bc->ectx = EVP_CIPHER_CTX_new()) == NULL ||
	    (bc->dctx = EVP_CIPHER_CTX_new()) == NULL ||
	    !EVP_EncryptInit_ex2(bc->ectx, cipher, key, NULL, NULL) ||
	    !EVP_DecryptInit_ex2(bc->dctx, cipher, key, NULL, NULL))
		bench_die("keying %s failed", seal_cipher_name(c));
	EVP_CIPHER_free(cipher);
}

static void
bench_crypto_free(struct bench_crypto *bc)
{
	if (bc->paired) {
		seal_tx_free(&bc->tx);
		seal_rx_free(&bc->rx);
	}
	EVP_CIPHER_CTX_free(bc->ectx);
	EVP_CIPHER_CTX_free(bc->dctx);
	OPENSSL_cleanse(&bc->keys, sizeof(bc->keys));
}

/* The seal and open rows of one cipher and size. */
static void
bench_crypto_rows(struct bench_crypto *bc, size_t size, double seconds,
    struct bench_row *seal_row, struct bench_row *open_row)
{
	struct bench_batch b;
	struct bench_rng r = { size };
	size_t i;

	bench_crypto_selfcheck(bc, size);
	bench_batch_init(&b, size);
	for (i = 0; i < b.count; i++)
		bench_fill_random(&r, bench_slot(&b, i) + WIRE_UDP_PAYLOAD_OFF,
		    size);
	/* cppcheck-suppress autoVariables ; reset to NULL before returning */
	bc->b = &b;

	bench_pair_reset(bc);
	*seal_row = (struct bench_row){ "seal", seal_cipher_name(bc->cipher),
	    size, 0, 0, "" };
	*open_row = (struct bench_row){ "open", seal_cipher_name(bc->cipher),
	    size, 0, 0, "" };
	seal_row->ns = bench_time(bench_ours_room, bench_ours_seal, bc,
	    b.count, seconds);
	seal_row->evp_ns = bench_time(NULL, bench_evp_seal, bc, b.count,
	    seconds);
	open_row->ns = bench_time(bench_ours_prep_open, bench_ours_open, bc,
	    b.count, seconds);
	open_row->evp_ns = bench_time(bench_evp_seal, bench_evp_open, bc,
	    b.count, seconds);

	bc->b = NULL;
	free(b.mem);
}

/* --- Deflate and inflate through compress.c --------------------------- */

/* Timed: deflate every slot; a slot that does not shrink goes raw. */
static int
bench_deflate(void *arg)
{
	struct bench_zlib *z = arg;
	const struct bench_batch *b = z->b;
	size_t i;
	int r;

	z->deflated = 0;
	z->deflated_bytes = 0;
	for (i = 0; i < b->count; i++) {
		r = compress_packet(z->c, bench_slot(b, i), b->size,
		    z->out + i * b->stride, b->size, &z->outlen[i]);
		if (r < 0)
			return -1;
		if (r == 0)
			z->outlen[i] = 0;
		else {
			z->deflated++;
			z->deflated_bytes += z->outlen[i];
		}
	}
	return 0;
}

/*
 * Timed: inflate every deflated slot back, bounded by the packet size as
 * the daemon bounds it by the MTU.  The first slot's buffer takes the
 * output: its input copy is no longer needed once its deflated form
 * exists.
 */
static int
bench_inflate(void *arg)
{
	struct bench_zlib *z = arg;
	const struct bench_batch *b = z->b;
	size_t i, n;

	for (i = 0; i < b->count; i++) {
		if (z->outlen[i] == 0)
			continue;
		if (compress_inflate(z->c, z->out + i * b->stride,
		    z->outlen[i], bench_slot(b, i), b->size, &n) != 0 ||
		    n != b->size)
			return -1;
	}
	return 0;
}

/* The deflate and inflate rows of one kind of data and size. */
static void
bench_zlib_rows(bool text, size_t size, double seconds,
    struct bench_row *def_row, struct bench_row *inf_row)
{
	struct bench_batch b;
	struct bench_zlib z;
	struct bench_rng r = { 7 + size };
	const char *variant = text ? "text" : "random";
	char err[256];
	size_t i;

	bench_batch_init(&b, size);
	memset(&z, 0, sizeof(z));
	z.b = &b;
	if ((z.c = compress_new(BENCH_ZLIB_LEVEL, err, sizeof(err))) == NULL)
		bench_die("%s", err);
	z.out = malloc(b.stride * b.count);
	z.outlen = calloc(b.count, sizeof(*z.outlen));
	if (z.out == NULL || z.outlen == NULL)
		bench_die("out of memory");
	for (i = 0; i < b.count; i++) {
		if (text)
			bench_fill_text(&r, bench_slot(&b, i), size);
		else
			bench_fill_random(&r, bench_slot(&b, i), size);
	}

	*def_row = (struct bench_row){ "deflate L1", variant, size, 0, -1,
	    "" };
	*inf_row = (struct bench_row){ "inflate L1", variant, size, -1, -1,
	    "" };
	def_row->ns = bench_time(NULL, bench_deflate, &z, b.count, seconds);
	if (z.deflated == 0) {
		snprintf(def_row->note, sizeof(def_row->note),
		    "not smaller: sent raw");
		snprintf(inf_row->note, sizeof(inf_row->note),
		    "nothing to inflate");
	} else {
		snprintf(def_row->note, sizeof(def_row->note),
		    "%zu/%zu deflated, to %.0f %%", z.deflated, b.count,
		    100.0 * (double)z.deflated_bytes /
		    ((double)z.deflated * (double)size));
		/* Only the deflated slots are inflated: count those. */
		inf_row->ns = bench_time(NULL, bench_inflate, &z, z.deflated,
		    seconds);
	}

	compress_free(z.c);
	free(z.out);
	free(z.outlen);
	free(b.mem);
}

/* --- Output ------------------------------------------------------------ */

static double
bench_mbs(size_t size, double ns)
{
	return (double)size / ns * 1e3;
}

static void
bench_print(const struct bench_row *rows, size_t n, const struct bench_opts *o)
{
	const struct bench_row *w;
	char mbs[32], ns[32], evp[32], ratio[32];
	size_t i;

	if (o->csv)
		printf("stage,variant,payload_bytes,mb_s,ns_per_packet,"
		    "evp_mb_s,ours_over_evp,note\n");
	else {
		printf("tapline in-memory pipeline: %s, zlib %s, %.3g s per "
		    "cell, median of batches, MB = 10^6 bytes of payload\n\n",
		    OpenSSL_version(OPENSSL_VERSION), zlibVersion(),
		    o->seconds);
		printf("| stage | cipher / data | payload B | MB/s | "
		    "ns/packet | EVP MB/s | ours/EVP | note |\n");
		printf("|---|---|--:|--:|--:|--:|--:|---|\n");
	}
	for (i = 0; i < n; i++) {
		w = &rows[i];
		mbs[0] = ns[0] = evp[0] = ratio[0] = '\0';
		if (w->ns > 0) {
			snprintf(mbs, sizeof(mbs), "%.1f",
			    bench_mbs(w->size, w->ns));
			snprintf(ns, sizeof(ns), "%.0f", w->ns);
		}
		if (w->evp_ns > 0) {
			snprintf(evp, sizeof(evp), "%.1f",
			    bench_mbs(w->size, w->evp_ns));
			snprintf(ratio, sizeof(ratio), "%.2f",
			    w->evp_ns / w->ns);
		}
		if (o->csv)
			printf("%s,%s,%zu,%s,%s,%s,%s,%s\n", w->stage,
			    w->variant, w->size, mbs, ns, evp, ratio,
			    w->note);
		else
			printf("| %s | %s | %zu | %s | %s | %s | %s | %s |\n",
			    w->stage, w->variant, w->size,
			    mbs[0] ? mbs : "-", ns[0] ? ns : "-",
			    evp[0] ? evp : "", ratio[0] ? ratio : "",
			    w->note);
	}
}

static void
bench_usage(FILE *f)
{
	fprintf(f, "usage: pipeline [--seconds S] [--csv] [--smoke]\n"
	    "  --seconds S  measured time per cell (default %.1f)\n"
	    "  --csv        CSV instead of a markdown table\n"
	    "  --smoke      a quick run for the test suite (%g s per cell)\n",
	    BENCH_SECONDS_DEFAULT, BENCH_SECONDS_SMOKE);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "csv", no_argument, NULL, 'c' },
		{ "smoke", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/*
	 * Fixed key schedule inputs: the bench needs keys, not secrets, and
	 * the same keys make runs comparable.
	 */
	uint8_t exporter[SEAL_EXPORTER_LEN];
	struct bench_row rows[BENCH_NSIZES * (BENCH_NCIPHERS + 2) * 2];
	struct bench_opts o = { BENCH_SECONDS_DEFAULT, false };
	struct bench_crypto bc;
	struct seal_keys keys;
	char err[256], *end;
	size_t n = 0, ci, si;
	int ch;

	while ((ch = getopt_long(argc, argv, "s:ch", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o.seconds = strtod(optarg, &end);
			if (*end != '\0' || !(o.seconds > 0 &&
			    o.seconds <= 60)) {
				fprintf(stderr, "pipeline: --seconds wants a "
				    "number in (0, 60]\n");
				return 2;
			}
			break;
		case 'c':
			o.csv = true;
			break;
		case 'S':
			o.seconds = BENCH_SECONDS_SMOKE;
			break;
		case 'h':
			bench_usage(stdout);
			return 0;
		default:
			bench_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		bench_usage(stderr);
		return 2;
	}

	memset(exporter, 0x5a, sizeof(exporter));
	if (seal_derive(exporter, NULL, &keys, err, sizeof(err)) != 0)
		bench_die("%s", err);

	for (ci = 0; ci < BENCH_NCIPHERS; ci++) {
		bench_crypto_init(&bc, bench_ciphers[ci], &keys);
		for (si = 0; si < BENCH_NSIZES; si++) {
			bench_crypto_rows(&bc, bench_sizes[si], o.seconds,
			    &rows[n], &rows[n + 1]);
			n += 2;
		}
		bench_crypto_free(&bc);
	}
	for (ci = 0; ci < 2; ci++) {
		for (si = 0; si < BENCH_NSIZES; si++) {
			bench_zlib_rows(ci == 0, bench_sizes[si], o.seconds,
			    &rows[n], &rows[n + 1]);
			n += 2;
		}
	}
	seal_keys_wipe(&keys);

	bench_print(rows, n, &o);
	return fflush(stdout) == 0 ? 0 : 1;
}
