/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * UNIX-socket plumbing for the qtest/QMP client: the test listens and the host connects as a
 * client (QEMU 7.2 libqtest process model, docs/testing.md).
 */
#define _GNU_SOURCE  /* accept4, pipe2 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qtest/libqtest/libqtest_int.h"

int qtest_socket_listen(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(addr.sun_path)) {
        qtest_fail("socket path too long for AF_UNIX (%zu bytes, set a shorter TMPDIR): %s",
                   strlen(path), path);
    }
    strcpy(addr.sun_path, path);  /* length checked above */

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        qtest_fail("socket(AF_UNIX): %s", strerror(errno));
    }
    unlink(path);  /* a file left behind by an earlier run with the same pid */
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        qtest_fail("bind %s: %s", path, strerror(errno));
    }
    /* One pending connection is all the host ever makes per socket. */
    if (listen(fd, 1) < 0) {
        qtest_fail("listen %s: %s", path, strerror(errno));
    }
    return fd;
}

static void set_receive_timeout(int fd)
{
    struct timeval tv = { .tv_sec = QTEST_SOCKET_TIMEOUT_S };
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
        qtest_fail("setsockopt(SO_RCVTIMEO): %s", strerror(errno));
    }
}

int qtest_socket_accept(int listen_fd, int timeout_ms, pid_t pid, int *wait_status)
{
    /* Poll in short slices rather than blocking for the whole timeout so that a host that
     * exits early (a bad option, say) is reported at once instead of after 50 s. */
    const int slice_ms = 50;
    for (int waited = 0; waited < timeout_ms; waited += slice_ms) {
        struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
        int n = poll(&pfd, 1, slice_ms);
        if (n < 0 && errno != EINTR) {
            qtest_fail("poll on a listening socket: %s", strerror(errno));
        }
        if (n > 0) {
            int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0) {
                qtest_fail("accept: %s", strerror(errno));
            }
            set_receive_timeout(fd);
            return fd;
        }
        if (pid > 0 && waitpid(pid, wait_status, WNOHANG) == pid) {
            return -2;
        }
    }
    return -1;
}

void qtest_socket_send(int fd, const void *data, size_t len, const char *what)
{
    const char *p = data;
    while (len > 0) {
        /* MSG_NOSIGNAL: a host that died must fail the test with a message, not kill it with
         * SIGPIPE. */
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            qtest_fail("sending on the %s connection: %s", what,
                       n < 0 ? strerror(errno) : "nothing written");
        }
        p += n;
        len -= (size_t)n;
    }
}

bool qtest_socket_fill(int fd, GString *buf, const char *what)
{
    char chunk[4096];
    for (;;) {
        ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
        if (n > 0) {
            g_string_append_len(buf, chunk, n);
            return true;
        }
        if (n == 0) {
            return false;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            qtest_fail("no reply on the %s connection within %d s", what, QTEST_SOCKET_TIMEOUT_S);
        }
        qtest_fail("receiving on the %s connection: %s", what, strerror(errno));
    }
}
