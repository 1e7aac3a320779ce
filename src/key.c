/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Session keys: generation from the kernel CSPRNG, base64/hex text form,
 * and key files that only their owner can read.  Every buffer that held
 * key material is wiped before it is released.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "key.h"
#include "priv.h"
#include "util.h"

/* A key file is one line; anything much larger is not a key file. */
#define KEY_FILE_MAX 4096

/* getrandom(2) blocks only until the kernel CSPRNG is seeded at boot. */
int
key_generate(uint8_t key[KEY_LEN], char *err, size_t errlen)
{
	size_t got = 0;

	while (got < KEY_LEN) {
		ssize_t n = getrandom(key + got, KEY_LEN - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return util_err(err, errlen, "getrandom: %s",
			    strerror(errno));
		}
		got += (size_t)n;
	}
	return 0;
}

/* The key file form: standard base64 with padding, 44 characters. */
void
key_encode(const uint8_t key[KEY_LEN], char *out)
{
	/* EVP_EncodeBlock writes 44 characters and a NUL for 32 bytes. */
	EVP_EncodeBlock((unsigned char *)out, key, KEY_LEN);
}

static bool
key_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

static int
key_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
key_is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/*
 * Decode text into a key.  A text made of hex digits only is hex: base64
 * of 32 bytes always ends in '=', so the two forms cannot be confused for
 * a valid key, and a wrong-length hex key gets a message in hex terms.
 * Messages never quote the text, since it is (nearly) a secret.
 */
int
key_decode(const char *text, size_t len, uint8_t key[KEY_LEN], char *err,
    size_t errlen)
{
	unsigned char buf[KEY_B64_LEN];
	size_t i, pad, nbytes;
	bool allhex = true;
	int r = -1, n;

	/* Surrounding whitespace (the trailing newline above all) is noise. */
	while (len > 0 && key_is_space(text[0])) {
		text++;
		len--;
	}
	while (len > 0 && key_is_space(text[len - 1]))
		len--;
	if (len == 0)
		return util_err(err, errlen, "is empty; expected 32 bytes "
		    "in base64 (tapline genkey) or 64 hex digits");
	for (i = 0; i < len; i++) {
		if (key_is_space(text[i]))
			return util_err(err, errlen,
			    "has whitespace inside the key; expected one "
			    "line of base64 or hex");
		if (key_hex_value(text[i]) < 0)
			allhex = false;
	}
	if (allhex) {
		if (len % 2 != 0)
			return util_err(err, errlen,
			    "has an odd number of hex digits (%zu)", len);
		if (len / 2 != KEY_LEN)
			return util_err(err, errlen,
			    "decodes to %zu bytes, need %d", len / 2, KEY_LEN);
		for (i = 0; i < KEY_LEN; i++)
			key[i] = (uint8_t)(key_hex_value(text[2 * i]) << 4 |
			    key_hex_value(text[2 * i + 1]));
		return 0;
	}

	/* Base64, padded, as EVP_EncodeBlock writes it. */
	for (pad = 0; pad < len && pad < 3 && text[len - 1 - pad] == '=';)
		pad++;
	for (i = 0; i < len - pad; i++)
		if (!key_is_b64(text[i]))
			return util_err(err, errlen,
			    "is neither base64 nor hex (bad character at "
			    "offset %zu)", i);
	if (len % 4 != 0 || pad > 2)
		return util_err(err, errlen,
		    "is not valid base64 (%zu characters; expected %d ending "
		    "in '=')", len, KEY_B64_LEN);
	nbytes = len / 4 * 3 - pad;
	if (nbytes != KEY_LEN)
		return util_err(err, errlen, "decodes to %zu bytes, need %d",
		    nbytes, KEY_LEN);
	/*
	 * EVP_DecodeBlock counts the padding as zero bytes (it returns 33
	 * here), which is why the real length was computed above.
	 */
	n = EVP_DecodeBlock(buf, (const unsigned char *)text, (int)len);
	if (n < KEY_LEN) {
		util_err(err, errlen, "is not valid base64");
		goto out;
	}
	memcpy(key, buf, KEY_LEN);
	r = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

/* write(2) until everything is out or an error other than EINTR. */
static int
key_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The service user's ids, when we are root and the user exists: what a
 * key made by root for the systemd units must belong to.
 */
bool
key_service_owner(uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return false;
	/* One thread; nothing else looks a user up meanwhile. */
	/* cppcheck-suppress getpwnamCalled */
	pw = getpwnam(PRIV_SERVICE_USER);
	if (pw == NULL || pw->pw_uid == 0)
		return false;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return true;
}

/*
 * O_EXCL refuses to replace anything (an old key is somebody's only copy)
 * and O_NOFOLLOW refuses a planted symlink; the mode is 0600 from birth, so
 * there is no window in which others could open the file.  The owner is
 * changed on the descriptor before the key is written: the key is never
 * in a file of the wrong owner, nor is a path followed twice.
 */
int
key_write_file_owned(const char *path, const uint8_t key[KEY_LEN],
    uid_t uid, gid_t gid, char *err, size_t errlen)
{
	char line[KEY_B64_LEN + 2];
	int fd, r = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		if (errno == EEXIST)
			return util_err(err, errlen,
			    "already exists; refusing to overwrite");
		return util_err(err, errlen, "cannot create: %s",
		    strerror(errno));
	}
	line[0] = '\0';
	if (uid != (uid_t)-1 && fchown(fd, uid, gid) == -1) {
		util_err(err, errlen, "cannot give it to uid %u: %s",
		    (unsigned)uid, strerror(errno));
		goto out;
	}
	key_encode(key, line);
	line[KEY_B64_LEN] = '\n';
	line[KEY_B64_LEN + 1] = '\0';
	if (key_write_all(fd, line, KEY_B64_LEN + 1) == -1) {
		util_err(err, errlen, "cannot write: %s", strerror(errno));
		goto out;
	}
	if (fsync(fd) == -1) {
		util_err(err, errlen, "cannot sync: %s", strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (close(fd) == -1 && r == 0)
		r = util_err(err, errlen, "cannot close: %s", strerror(errno));
	/* Leave no half-written key behind to be mistaken for a good one. */
	if (r == -1)
		unlink(path);
	OPENSSL_cleanse(line, sizeof(line));
	return r;
}

int
key_write_file_service(const char *path, const uint8_t key[KEY_LEN],
    bool *service, char *err, size_t errlen)
{
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;

	*service = key_service_owner(&uid, &gid);
	if (!*service) {
		uid = (uid_t)-1;
		gid = (gid_t)-1;
	}
	return key_write_file_owned(path, key, uid, gid, err, errlen);
}

int
key_write_file(const char *path, const uint8_t key[KEY_LEN], char *err,
    size_t errlen)
{
	return key_write_file_owned(path, key, (uid_t)-1, (gid_t)-1, err,
	    errlen);
}

/*
 * Root (a daemon started by hand, or one that drops to options.user)
 * also takes a key of the service user's: that is how keys for the
 * systemd units are kept (tapline genkey makes them so), and that user
 * reads the key anyway once the daemon runs as it.
 */
static bool
key_owner_ok(uid_t owner)
{
	uid_t uid;
	gid_t gid;

	if (owner == geteuid() || owner == 0)
		return true;
	return key_service_owner(&uid, &gid) && owner == uid;
}

/*
 * The checks are made on the opened descriptor, so they describe the file
 * that is read even if the path is a symlink or is swapped meanwhile.
 * O_NONBLOCK keeps a FIFO planted at the path from hanging us in open().
 */
int
key_read_file(const char *path, uint8_t key[KEY_LEN], char *err,
    size_t errlen)
{
	char buf[KEY_FILE_MAX + 1];
	size_t len = 0;
	struct stat st;
	int fd, r = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd == -1)
		return util_err(err, errlen, "cannot open: %s",
		    strerror(errno));
	if (fstat(fd, &st) == -1) {
		util_err(err, errlen, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		util_err(err, errlen, "is a directory, not a key file");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		util_err(err, errlen, "is not a regular file");
		goto out;
	}
	if ((st.st_mode & 044) != 0) {
		util_err(err, errlen,
		    "is readable by group or others (chmod 600 it)");
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		util_err(err, errlen, "gives group or others access (mode "
		    "%04o; chmod 600 it)", (unsigned)(st.st_mode & 07777));
		goto out;
	}
	/*
	 * Whoever owns the file can replace the key; like OpenSSH, accept
	 * only ourselves or root as that owner (or, for root, the service
	 * user: key_owner_ok).
	 */
	if (!key_owner_ok(st.st_uid)) {
		util_err(err, errlen,
		    "is owned by uid %u, not by root, by the user running "
		    "tapline (uid %u) or by the user %s", (unsigned)st.st_uid,
		    (unsigned)geteuid(), PRIV_SERVICE_USER);
		goto out;
	}
	if (st.st_size > KEY_FILE_MAX) {
		util_err(err, errlen, "is larger than %d bytes; not a key file",
		    KEY_FILE_MAX);
		goto out;
	}
	/* Read to EOF: the size may have changed since fstat. */
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			util_err(err, errlen, "cannot read: %s",
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > KEY_FILE_MAX) {
			util_err(err, errlen,
			    "is larger than %d bytes; not a key file",
			    KEY_FILE_MAX);
			goto out;
		}
	}
	if (memchr(buf, '\0', len) != NULL) {
		util_err(err, errlen, "contains a NUL byte; not a key file");
		goto out;
	}
	r = key_decode(buf, len, key, err, errlen);
out:
	close(fd);
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}
