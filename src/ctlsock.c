/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The status socket, both of its ends: the daemon's (a unix socket in
 * the event loop, one request per connection, bounded in clients, size
 * and time, and SIGUSR1, which logs the same counters) and `tapline
 * status`'s (ask, read the whole answer, print it escaped).  What is
 * asked and answered, the request line and the report, is control.c's.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "control.h"
#include "ctlsock.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

/* Room for one escaped session name in an error. */
#define CTLSOCK_ESC_MAX 128

struct ctlsock_conn {
	TAILQ_ENTRY(ctlsock_conn) entry;
	struct ctlsock *ctl;
	struct bufferevent *bev;
	struct event *deadline;
	bool answered;
};

struct ctlsock {
	struct event_base *base;
	char *path;
	ctlsock_collect_fn collect;
	void *arg;
	struct evconnlistener *listener;
	struct event *usr1;
	struct metrics_http *metrics;	/* options.metrics_listen, or NULL */
	/* The socket file we made, so that exit removes ours only. */
	bool bound;
	dev_t dev;
	ino_t ino;
	/* cppcheck-suppress unusedStructMember ; used by the TAILQ macros */
	TAILQ_HEAD(, ctlsock_conn) conns;
	size_t nconns;
	struct log_ratelimit rl;
};

/* --- The socket -------------------------------------------------------- */

static void
ctlsock_conn_free(struct ctlsock_conn *cc)
{
	struct ctlsock *c = cc->ctl;

	TAILQ_REMOVE(&c->conns, cc, entry);
	c->nconns--;
	bufferevent_free(cc->bev);
	event_free(cc->deadline);
	free(cc);
}

/* Queue the answer to one request and close once it is written. */
static void
ctlsock_answer(struct ctlsock_conn *cc, const char *line, size_t len)
{
	struct ctlsock *c = cc->ctl;
	struct evbuffer *out = bufferevent_get_output(cc->bev);
	struct control_report r = { 0 };
	struct control_request req;
	char err[160];
	size_t n;
	char *buf;

	cc->answered = true;
	bufferevent_disable(cc->bev, EV_READ);
	event_add(cc->deadline, &(struct timeval){
	    .tv_sec = CTLSOCK_ANSWER_DEADLINE_MS / 1000,
	    .tv_usec = CTLSOCK_ANSWER_DEADLINE_MS % 1000 * 1000 });
	if (control_request_parse(line, len, &req, err, sizeof(err)) != 0) {
		evbuffer_add_printf(out, "error: %s\n", err);
		return;
	}
	c->collect(&r, c->arg);
	r.wall_ms = control_wall_ms();
	if (req.session[0] != '\0') {
		control_report_filter(&r, req.session);
		if (r.nsessions == 0) {
			evbuffer_add_printf(out, "error: no session %s\n",
			    req.session);
			control_report_free(&r);
			return;
		}
		r.unauthenticated = 0;
		r.queued = 0;
	}
	n = control_format(&r, req.format, NULL, 0);
	if ((buf = malloc(n + 1)) == NULL) {
		evbuffer_add_printf(out, "error: out of memory\n");
	} else {
		control_format(&r, req.format, buf, n + 1);
		evbuffer_add(out, buf, n);
		free(buf);
	}
	control_report_free(&r);
}

/* Wait for one whole line, never more than CONTROL_REQUEST_MAX bytes. */
static void
ctlsock_readcb(struct bufferevent *bev, void *arg)
{
	struct ctlsock_conn *cc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char line[CONTROL_REQUEST_MAX + 1];
	struct evbuffer_ptr nl;
	ev_ssize_t len;

	if (cc->answered)
		return;
	nl = evbuffer_search(in, "\n", 1, NULL);
	if (nl.pos < 0 &&
	    evbuffer_get_length(in) < CONTROL_REQUEST_MAX)
		return;
	/* No newline within the limit: too long, whatever follows. */
	if (nl.pos < 0 || nl.pos >= CONTROL_REQUEST_MAX) {
		ctlsock_answer(cc, line, CONTROL_REQUEST_MAX + 1);
		return;
	}
	len = evbuffer_copyout(in, line, (size_t)nl.pos + 1);
	ctlsock_answer(cc, line, len > 0 ? (size_t)len : 0);
}

/* The answer is out: closing the socket is the end-of-answer mark. */
static void
ctlsock_writecb(struct bufferevent *bev, void *arg)
{
	struct ctlsock_conn *cc = arg;

	if (cc->answered &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		ctlsock_conn_free(cc);
}

static void
ctlsock_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct ctlsock_conn *cc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char line[CONTROL_REQUEST_MAX + 1];
	size_t len;

	/* A request without its newline still counts at end of input. */
	if ((what & BEV_EVENT_EOF) && !cc->answered &&
	    (len = evbuffer_get_length(in)) > 0) {
		len = (size_t)evbuffer_copyout(in, line,
		    len < sizeof(line) ? len : sizeof(line));
		ctlsock_answer(cc, line, len);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		ctlsock_conn_free(cc);
}

static void
ctlsock_deadlinecb(evutil_socket_t fd, short what, void *arg)
{
	struct ctlsock_conn *cc = arg;

	if (!cc->answered)
		log_rl(&cc->ctl->rl, LOG_INFO, "status: no request within "
		    "%d ms; closing", CTLSOCK_REQUEST_DEADLINE_MS);
	ctlsock_conn_free(cc);
}

static void
ctlsock_acceptcb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct ctlsock *c = arg;
	struct ctlsock_conn *cc;

	if (c->nconns >= CTLSOCK_CLIENTS_MAX) {
		log_rl(&c->rl, LOG_WARNING, "status: %d clients already; "
		    "refusing one more", CTLSOCK_CLIENTS_MAX);
		evutil_closesocket(fd);
		return;
	}
	if ((cc = calloc(1, sizeof(*cc))) == NULL ||
	    (cc->deadline = evtimer_new(c->base, ctlsock_deadlinecb,
	    cc)) == NULL || (cc->bev = bufferevent_socket_new(c->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_rl(&c->rl, LOG_WARNING, "status: out of memory");
		if (cc != NULL && cc->deadline != NULL)
			event_free(cc->deadline);
		free(cc);
		evutil_closesocket(fd);
		return;
	}
	cc->ctl = c;
	TAILQ_INSERT_TAIL(&c->conns, cc, entry);
	c->nconns++;
	bufferevent_setcb(cc->bev, ctlsock_readcb, ctlsock_writecb,
	    ctlsock_eventcb, cc);
	/* Never buffer more than a request may be. */
	bufferevent_setwatermark(cc->bev, EV_READ, 0, CONTROL_REQUEST_MAX);
	bufferevent_enable(cc->bev, EV_READ);
	event_add(cc->deadline, &(struct timeval){
	    .tv_sec = CTLSOCK_REQUEST_DEADLINE_MS / 1000,
	    .tv_usec = CTLSOCK_REQUEST_DEADLINE_MS % 1000 * 1000 });
}

/* The uid given by name (or number) as options.user; -1 if none. */
static uid_t
ctlsock_user_uid(const char *user)
{
	struct passwd *pw;
	char *end;
	unsigned long n;

	if (user == NULL || user[0] == '\0')
		return (uid_t)-1;
	/* cppcheck-suppress getpwnamCalled ; one thread, used at once */
	if ((pw = getpwnam(user)) != NULL)
		return pw->pw_uid;
	errno = 0;
	n = strtoul(user, &end, 10);
	if (errno != 0 || *end != '\0' || n >= (unsigned long)(uid_t)-1)
		return (uid_t)-1;
	return (uid_t)n;
}

/*
 * Whoever can write to the socket's directory, or rename a directory
 * above it, can put a socket of their own or a symlink at its name and
 * answer `tapline status` in the daemon's place or redirect what it does
 * to the name.  So the directory must belong to root, to the daemon
 * itself or to the user it drops to, and be writable by nobody else;
 * the directories above it as well, except sticky ones such as /tmp,
 * where nobody can rename another's entry.
 */
static int
ctlsock_dir_check(const char *dir, uid_t user)
{
	char real[PATH_MAX], *slash;
	struct stat st;
	bool top = true;

	if (realpath(dir, real) == NULL) {
		log_warnx("status: %s: %s", dir, strerror(errno));
		return -1;
	}
	for (;;) {
		if (stat(real, &st) != 0) {
			log_warnx("status: %s: %s", real, strerror(errno));
			return -1;
		}
		if (st.st_uid != 0 && st.st_uid != geteuid() &&
		    st.st_uid != user) {
			log_warnx("status: %s is owned by uid %u, not root or "
			    "the daemon's user; no status socket under it",
			    real, (unsigned)st.st_uid);
			return -1;
		}
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
		    (top || (st.st_mode & S_ISVTX) == 0)) {
			log_warnx("status: %s is writable by group or others "
			    "(mode %04o); no status socket under it", real,
			    (unsigned)(st.st_mode & 07777));
			return -1;
		}
		if (strcmp(real, "/") == 0)
			return 0;
		slash = strrchr(real, '/');
		slash[slash == real ? 1 : 0] = '\0';
		top = false;
	}
}

/*
 * The socket's directory: /run/tapline is made 0750 when missing, so
 * that only root (and the group) can even reach the socket; one that
 * exists must be safe (ctlsock_dir_check).
 */
static int
ctlsock_mkdir_parent(const char *path, uid_t user)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;
	mode_t old;
	int r;

	util_strlcpy(dir, path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) == NULL)
		util_strlcpy(dir, ".", sizeof(dir));
	else
		slash[slash == dir ? 1 : 0] = '\0';
	/* The mode from the umask at once: no chmod by path afterwards. */
	old = umask(027);
	r = mkdir(dir, 0750);
	umask(old);
	if (r != 0 && errno != EEXIST) {
		log_warnx("status: cannot create %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	return ctlsock_dir_check(dir, user);
}

/*
 * A socket file left by a daemon that died is removed; one that answers
 * belongs to a running tapline and is left alone, as is anything that
 * is not a socket.
 */
static int
ctlsock_clear_stale(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, r;

	if (lstat(sun->sun_path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("status: %s exists and is not a socket; leaving it "
		    "alone", sun->sun_path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	/* EAGAIN: a listener whose backlog is full still counts. */
	if (r == 0 || errno == EAGAIN) {
		log_warnx("status: another process answers at %s; this "
		    "daemon has no status socket", sun->sun_path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		log_warnx("status: %s: %s", sun->sun_path, strerror(errno));
		return -1;
	}
	if (unlink(sun->sun_path) != 0 && errno != ENOENT) {
		log_warnx("status: cannot remove the stale %s: %s",
		    sun->sun_path, strerror(errno));
		return -1;
	}
	log_info("status: removed the stale socket %s", sun->sun_path);
	return 0;
}

static int
ctlsock_listen(struct ctlsock *c, uid_t user)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd, r;

	if (util_strlcpy(sun.sun_path, c->path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		log_warnx("status: %s is too long for a socket path", c->path);
		return -1;
	}
	if (ctlsock_mkdir_parent(c->path, user) != 0 ||
	    ctlsock_clear_stale(&sun) != 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warnx("status: socket: %s", strerror(errno));
		return -1;
	}
	/*
	 * Root only from the first moment: the mode comes from the umask.
	 * No chmod by path afterwards, which would follow whatever has
	 * taken the name by then.
	 */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r != 0 || lstat(c->path, &st) != 0) {
		log_warnx("status: cannot make %s: %s", c->path,
		    strerror(errno));
		if (r == 0)
			(void)unlink(c->path);
		close(fd);
		return -1;
	}
	/* Someone else's file now: leave it, and have no socket. */
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("status: %s was replaced as it was made; no status "
		    "socket", c->path);
		close(fd);
		return -1;
	}
	c->bound = true;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->listener = evconnlistener_new(c->base, ctlsock_acceptcb, c,
	    LEV_OPT_CLOSE_ON_FREE, CTLSOCK_CLIENTS_MAX, fd);
	if (c->listener == NULL) {
		close(fd);
		return -1;
	}
	log_info("status: listening on %s", c->path);
	return 0;
}

void
ctlsock_metrics(struct ctlsock *c, const char *listen)
{
	if (c == NULL || listen == NULL || listen[0] == '\0' ||
	    c->metrics != NULL)
		return;
	c->metrics = metrics_http_new(c->base, listen, c->collect, c->arg);
}

static void
ctlsock_usr1cb(evutil_socket_t sig, short what, void *arg)
{
	ctlsock_log(arg);
}

struct ctlsock *
ctlsock_new(struct event_base *base, const char *path, const char *user,
    ctlsock_collect_fn collect, void *arg)
{
	struct ctlsock *c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(path)) == NULL) {
		log_warnx("status: out of memory; no status socket");
		free(c);
		return NULL;
	}
	c->base = base;
	c->collect = collect;
	c->arg = arg;
	c->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	TAILQ_INIT(&c->conns);
	/* SIGUSR1 is status by signal: it belongs with the socket. */
	c->usr1 = evsignal_new(base, SIGUSR1, ctlsock_usr1cb, c);
	if (c->usr1 == NULL || evsignal_add(c->usr1, NULL) != 0) {
		log_warnx("status: cannot handle SIGUSR1; no status socket");
		ctlsock_free(c);
		return NULL;
	}
	(void)ctlsock_listen(c, ctlsock_user_uid(user));
	return c;
}

void
ctlsock_free(struct ctlsock *c)
{
	struct ctlsock_conn *cc;
	struct stat st;

	if (c == NULL)
		return;
	while ((cc = TAILQ_FIRST(&c->conns)) != NULL)
		ctlsock_conn_free(cc);
	if (c->listener != NULL)
		evconnlistener_free(c->listener);
	metrics_http_free(c->metrics);
	/* Remove the file only if it is still the one we made. */
	if (c->bound && lstat(c->path, &st) == 0 && st.st_dev == c->dev &&
	    st.st_ino == c->ino && unlink(c->path) != 0)
		log_warnx("status: cannot remove %s: %s", c->path,
		    strerror(errno));
	if (c->usr1 != NULL)
		event_free(c->usr1);
	free(c->path);
	free(c);
}

void
ctlsock_log(struct ctlsock *c)
{
	struct control_report r = { 0 }, one;
	char line[1024];
	size_t i;

	c->collect(&r, c->arg);
	one = r;
	one.unauthenticated = 0;
	one.nsessions = 1;
	for (i = 0; i < r.nsessions; i++) {
		one.sessions = &r.sessions[i];
		(void)control_format(&one, CONTROL_LINE, line, sizeof(line));
		line[strcspn(line, "\n")] = '\0';
		log_notice("%s", line);
	}
	if (r.nsessions == 0)
		log_notice("status: no sessions");
	if (r.server && r.unauthenticated > 0)
		log_notice("status: %zu connection%s authenticating",
		    r.unauthenticated, r.unauthenticated == 1 ? "" : "s");
	control_report_free(&r);
}

/* --- tapline status ---------------------------------------------------- */

/*
 * Whatever answers at the socket reaches a terminal: its lines are
 * printed as they are, any other control byte (an escape sequence in a
 * device name or a peer) and anything beyond ASCII escaped as the log
 * escapes it.  A tapline daemon's own answer is printable already.
 */
static int
ctlsock_print_escaped(FILE *out, const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;
	char esc[8];
	size_t i, run;

	for (i = 0; i < len; i += run) {
		for (run = 0; i + run < len && (p[i + run] == '\n' ||
		    (p[i + run] >= 0x20 && p[i + run] < 0x7f)); run++)
			;
		if (run > 0) {
			if (fwrite(p + i, 1, run, out) != run)
				return -1;
			continue;
		}
		util_escape(p + i, 1, esc, sizeof(esc));
		if (fputs(esc, out) == EOF)
			return -1;
		run = 1;
	}
	return fflush(out) != 0 ? -1 : 0;
}

/* Read until EOF, at most CTLSOCK_ANSWER_MAX bytes, within the timeout. */
static char *
ctlsock_read_all(int fd, size_t *outlen, char *err, size_t errlen)
{
	uint64_t end = util_now_ms() + CTLSOCK_QUERY_TIMEOUT_MS, now;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t len = 0, cap = 0;
	char *buf = NULL, *n;
	ssize_t r;

	for (;;) {
		if (cap - len < 4096) {
			cap = cap == 0 ? 16384 : cap * 2;
			if ((n = realloc(buf, cap)) == NULL) {
				util_err(err, errlen, "out of memory");
				goto fail;
			}
			buf = n;
		}
		now = util_now_ms();
		if (now >= end) {
			util_err(err, errlen, "no answer within %d ms",
			    CTLSOCK_QUERY_TIMEOUT_MS);
			goto fail;
		}
		if (poll(&pfd, 1, (int)(end - now)) < 0) {
			if (errno == EINTR)
				continue;
			util_err(err, errlen, "poll: %s", strerror(errno));
			goto fail;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			util_err(err, errlen, "read: %s", strerror(errno));
			goto fail;
		}
		len += (size_t)r;
		if (len > CTLSOCK_ANSWER_MAX) {
			util_err(err, errlen, "answer longer than %d bytes",
			    CTLSOCK_ANSWER_MAX);
			goto fail;
		}
	}
	buf[len] = '\0';
	*outlen = len;
	return buf;
fail:
	free(buf);
	return NULL;
}

char *
ctlsock_ask(const char *path, const char *session, enum control_format f,
    size_t *lenp, int *errnop, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char req[CONTROL_REQUEST_MAX], esc[CTLSOCK_ESC_MAX], *ans;
	size_t len;
	int fd, n;

	*errnop = 0;
	if ((n = control_request_format(session, f, req, sizeof(req))) < 0) {
		/* Not a name the config allows: no daemon can have it. */
		util_escape(session != NULL ? session : "",
		    session != NULL ? strlen(session) : 0, esc, sizeof(esc));
		util_err(err, errlen, "no session %s", esc);
		return NULL;
	}
	if (util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		util_err(err, errlen, "%s is too long for a socket path",
		    path);
		return NULL;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		util_err(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		*errnop = errno;
		util_err(err, errlen, "cannot connect to %s: %s (is tapline "
		    "running?)", path, strerror(errno));
		close(fd);
		return NULL;
	}
	/* MSG_NOSIGNAL: a daemon that closes on us must not kill us. */
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		util_err(err, errlen, "cannot send to %s: %s", path,
		    strerror(errno));
		close(fd);
		return NULL;
	}
	ans = ctlsock_read_all(fd, &len, err, errlen);
	close(fd);
	if (ans == NULL)
		return NULL;
	if (len == 0) {
		util_err(err, errlen, "%s closed without an answer", path);
	} else if (strncmp(ans, "error: ", 7) == 0) {
		ans[strcspn(ans, "\n")] = '\0';
		util_escape(ans + 7, strlen(ans + 7), err, errlen);
	} else {
		*lenp = len;
		return ans;
	}
	free(ans);
	return NULL;
}

int
ctlsock_print(FILE *out, const char *buf, size_t len)
{
	return ctlsock_print_escaped(out, buf, len);
}

int
ctlsock_query(const char *path, const char *session, bool json, FILE *out,
    char *err, size_t errlen)
{
	char *ans;
	size_t len = 0;
	int rc = 0, e;

	ans = ctlsock_ask(path, session, json ? CONTROL_JSON : CONTROL_TEXT,
	    &len, &e, err, errlen);
	if (ans == NULL)
		return 1;
	if (ctlsock_print(out, ans, len) != 0) {
		util_err(err, errlen, "cannot write the answer: %s",
		    strerror(errno));
		rc = 1;
	}
	free(ans);
	return rc;
}
