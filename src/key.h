/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Session keys: 32 random bytes, stored as one line of base64 (what
 * `tapline genkey` writes) or 64 hex digits, in a file that only its owner
 * may read.
 */
#ifndef TAPLINE_KEY_H
#define TAPLINE_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KEY_LEN 32
/* base64 of 32 bytes is 44 characters. */
#define KEY_B64_LEN 44

/* Fill key with bytes from the kernel CSPRNG (getrandom). 0 or -1 + err. */
int key_generate(uint8_t key[KEY_LEN], char *err, size_t errlen);

/* Base64 of the key plus NUL into out (at least KEY_B64_LEN + 1 bytes). */
void key_encode(const uint8_t key[KEY_LEN], char *out);

/*
 * Decode text (base64 or hex, surrounding whitespace ignored) into key.
 * 0, or -1 with the reason in err ("decodes to 31 bytes, need 32", ...).
 */
int key_decode(const char *text, size_t len, uint8_t key[KEY_LEN], char *err,
    size_t errlen);

/*
 * Write a new key file: created with mode 0600, refusing to replace an
 * existing file.  0, or -1 with err.
 */
int key_write_file(const char *path, const uint8_t key[KEY_LEN], char *err,
    size_t errlen);
/* The same, owned by uid:gid ((uid_t)-1: whoever we are). */
int key_write_file_owned(const char *path, const uint8_t key[KEY_LEN],
    uid_t uid, gid_t gid, char *err, size_t errlen);
/*
 * The same for the systemd units: owned by the service user when root
 * writes it and that user exists (*service says so), else by whoever we
 * are.
 */
int key_write_file_service(const char *path, const uint8_t key[KEY_LEN],
    bool *service, char *err, size_t errlen);
/*
 * Root, with the service user (PRIV_SERVICE_USER, which the systemd
 * units run as) on the system: true and its uid and primary gid, the
 * owner a key for the units needs.  Otherwise false.
 */
bool key_service_owner(uid_t *uid, gid_t *gid);

/*
 * Read a key file: must be a regular file not readable by group or others,
 * owned by root, by us or (when we are root) by the service user, at
 * most 4 KiB, decoding to exactly 32 bytes.  0, or -1 with err naming
 * what is wrong (not the path: the caller adds file and line).
 */
int key_read_file(const char *path, uint8_t key[KEY_LEN], char *err,
    size_t errlen);

#endif
