/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * notifyrecv: the service manager's end of sd_notify(3), for tests.
 *
 *	notifyrecv SOCKET SECONDS
 *
 * Binds an AF_UNIX datagram socket at the path SOCKET (the value to put
 * in NOTIFY_SOCKET) and prints every VAR=value line of every datagram as
 * "PID VAR=value", PID being the sender's as the kernel tells it (what
 * systemd checks for NotifyAccess=main).  Output is flushed after each
 * datagram so that a test can grep it while this runs.  Exits 0 after
 * SECONDS (a bound, so that a broken test cannot leave it behind) or on
 * SIGTERM; 1 on errors.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* systemd reads at most this much of one message (NOTIFY_BUFFER_MAX). */
#define NOTIFYRECV_MAX 4096

static void
notifyrecv_alarm(int sig)
{
	_exit(0);
}

/* Print one datagram, a line per VAR=value, each prefixed by the pid. */
static void
notifyrecv_print(const char *buf, size_t len, long pid)
{
	size_t start = 0, i;

	for (i = 0; i <= len; i++) {
		if (i < len && buf[i] != '\n')
			continue;
		if (i > start)
			printf("%ld %.*s\n", pid, (int)(i - start),
			    buf + start);
		start = i + 1;
	}
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[NOTIFYRECV_MAX + 1];
	char cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = { .iov_base = buf, .iov_len = NOTIFYRECV_MAX };
	struct msghdr msg;
	struct cmsghdr *cm;
	struct ucred cred;
	ssize_t n;
	long pid;
	int fd, one = 1, secs;

	if (argc != 3 || (secs = atoi(argv[2])) <= 0 ||
	    strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: notifyrecv SOCKET SECONDS\n");
		return 1;
	}
	strcpy(sun.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ||
	    (unlink(argv[1]) == -1 && errno != ENOENT) ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "notifyrecv: %s: %s\n", argv[1],
		    strerror(errno));
		return 1;
	}
	signal(SIGALRM, notifyrecv_alarm);
	alarm((unsigned int)secs);
	for (;;) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		n = recvmsg(fd, &msg, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "notifyrecv: recvmsg: %s\n",
			    strerror(errno));
			return 1;
		}
		pid = -1;
		for (cm = CMSG_FIRSTHDR(&msg); cm != NULL;
		    cm = CMSG_NXTHDR(&msg, cm)) {
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_CREDENTIALS) {
				memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
				pid = (long)cred.pid;
			}
		}
		notifyrecv_print(buf, (size_t)n, pid);
	}
}
