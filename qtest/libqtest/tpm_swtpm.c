/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A real swtpm for qtests: started in its own temporary directory with a UNIX control socket,
 * stopped and cleaned up afterwards; and a minimal client of its control channel (swtpm 0.7
 * swtpm-ioctls(7): BE32 command code + payload, fixed-size replies starting with a BE32 result;
 * the data channel is handed over with CMD_SET_DATAFD and SCM_RIGHTS).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "qtest/libqtest/libqtest_int.h"
#include "qtest/libqtest/tpm_util.h"

/* Bounds on swtpm coming up and going away, so a broken swtpm fails the test, not hangs it. */
#define SWTPM_START_TIMEOUT_MS 10000
#define SWTPM_STOP_TIMEOUT_MS 10000
#define SWTPM_IO_TIMEOUT_S 10

bool tpm_swtpm_available(bool tpm2)
{
    char *argv[] = { "swtpm", "socket", "--print-capabilities", NULL };
    QTestRunResult r = qtest_run_argv(argv, 10000);
    bool ok = r.exited && r.status == 0 && strstr(r.out, tpm2 ? "\"tpm-2.0\"" : "\"tpm-1.2\"");
    qtest_run_result_clear(&r);
    return ok;
}

static int unix_connect(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(addr.sun_path)) {
        return -1;
    }
    strcpy(addr.sun_path, path);  /* length checked above */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = { .tv_sec = SWTPM_IO_TIMEOUT_S };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

/* The socket file appears at bind(), a moment before listen(): only a successful connection
 * proves swtpm is ready.  swtpm serves one control client at a time and goes back to accept()
 * when it leaves, so the probe costs nothing. */
static void wait_until_listening(TpmSwtpm *sw)
{
    for (int waited = 0;; waited += 10) {
        int fd = unix_connect(sw->ctrl_path);
        if (fd >= 0) {
            close(fd);
            return;
        }
        int st;
        if (qtest_process_wait(sw->pid, 0, &st)) {
            char *how = qtest_process_describe(st);
            char *log = NULL;
            g_file_get_contents(sw->log_path, &log, NULL, NULL);
            qtest_fail("swtpm ended at start (%s); its log: %s", how, log ? log : "(none)");
        }
        if (waited >= SWTPM_START_TIMEOUT_MS) {
            qtest_fail("swtpm did not listen on %s within %d s", sw->ctrl_path,
                       SWTPM_START_TIMEOUT_MS / 1000);
        }
        g_usleep(10000);
    }
}

void tpm_swtpm_start(TpmSwtpm *sw, bool tpm2)
{
    GError *err = NULL;
    memset(sw, 0, sizeof(*sw));
    sw->tpm2 = tpm2;
    sw->dir = g_dir_make_tmp("qtpm-swtpm-XXXXXX", &err);
    if (!sw->dir) {
        qtest_fail("cannot create a directory for swtpm: %s", err->message);
    }
    sw->ctrl_path = g_build_filename(sw->dir, "ctrl.sock", NULL);
    sw->log_path = g_build_filename(sw->dir, "swtpm.log", NULL);

    char *state = g_strdup_printf("dir=%s", sw->dir);
    char *ctrl = g_strdup_printf("type=unixio,path=%s", sw->ctrl_path);
    char *log = g_strdup_printf("file=%s,level=1", sw->log_path);
    char *argv[] = { "swtpm", "socket", "--tpmstate", state, "--ctrl", ctrl, "--log", log,
                     tpm2 ? "--tpm2" : NULL, NULL };
    sw->pid = qtest_process_spawn_argv(argv, sw->log_path);
    g_free(state);
    g_free(ctrl);
    g_free(log);
    wait_until_listening(sw);
}

static void remove_tree(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        char *path = g_build_filename(dir, name, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
            remove_tree(path);
        } else {
            g_unlink(path);
        }
        g_free(path);
    }
    if (d) {
        g_dir_close(d);
    }
    g_rmdir(dir);
}

int tpm_swtpm_wait_exit(TpmSwtpm *sw, int timeout_ms)
{
    if (!sw->reaped && sw->pid > 0 && qtest_process_wait(sw->pid, timeout_ms, &sw->wait_status)) {
        sw->reaped = true;
    }
    return sw->reaped ? sw->wait_status : -1;
}

int tpm_swtpm_stop(TpmSwtpm *sw)
{
    if (sw->pid > 0 && tpm_swtpm_wait_exit(sw, 0) == -1) {
        kill(sw->pid, SIGTERM);
        if (tpm_swtpm_wait_exit(sw, SWTPM_STOP_TIMEOUT_MS) == -1) {
            kill(sw->pid, SIGKILL);
            tpm_swtpm_wait_exit(sw, -1);
        }
    }
    int st = sw->reaped ? sw->wait_status : 0;
    sw->pid = -1;
    if (sw->dir) {
        remove_tree(sw->dir);
    }
    g_free(sw->dir);
    g_free(sw->ctrl_path);
    g_free(sw->log_path);
    sw->dir = sw->ctrl_path = sw->log_path = NULL;
    return st;
}

/* ---- control channel ---- */

int tpm_swtpm_ctrl_connect(const TpmSwtpm *sw)
{
    return unix_connect(sw->ctrl_path);
}

static bool send_with_fd(int fd, const void *buf, size_t len, int pass_fd)
{
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (pass_fd >= 0) {
        memset(&control, 0, sizeof(control));
        msg.msg_control = control.buf;
        msg.msg_controllen = sizeof(control.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    }
    ssize_t n;
    do {
        n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)len;  /* control messages are small: one sendmsg carries them whole */
}

static bool recv_exact(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

bool tpm_swtpm_ctrl(int ctrl_fd, uint32_t cmd, const void *in, size_t in_len, void *out,
                    size_t out_len, int pass_fd)
{
    uint8_t *msg = g_malloc(4 + in_len);
    msg[0] = (uint8_t)(cmd >> 24);
    msg[1] = (uint8_t)(cmd >> 16);
    msg[2] = (uint8_t)(cmd >> 8);
    msg[3] = (uint8_t)cmd;
    if (in_len) {
        memcpy(msg + 4, in, in_len);  /* msg has 4 + in_len bytes */
    }
    bool ok = send_with_fd(ctrl_fd, msg, 4 + in_len, pass_fd) &&
              (out_len == 0 || recv_exact(ctrl_fd, out, out_len));
    g_free(msg);
    return ok;
}

int tpm_swtpm_open_data_channel(int ctrl_fd)
{
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
        return -1;
    }
    uint8_t res[4];
    bool ok = tpm_swtpm_ctrl(ctrl_fd, PTM_CMD_SET_DATAFD, NULL, 0, res, sizeof(res), pair[1]);
    close(pair[1]);  /* swtpm has its own copy now */
    if (!ok || res[0] | res[1] | res[2] | res[3]) {
        close(pair[0]);
        return -1;
    }
    struct timeval tv = { .tv_sec = SWTPM_IO_TIMEOUT_S };
    setsockopt(pair[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return pair[0];
}

size_t tpm_swtpm_data_transmit(int data_fd, const void *req, size_t req_len, void *rsp,
                               size_t rsp_size)
{
    if (!send_with_fd(data_fd, req, req_len, -1)) {
        qtest_fail("swtpm data channel: sending %zu bytes failed", req_len);
    }
    uint8_t *out = rsp;
    if (rsp_size < 10 || !recv_exact(data_fd, out, 10)) {
        qtest_fail("swtpm data channel: no response header");
    }
    size_t total = tpm_hdr_size(out);
    if (total < 10 || total > rsp_size) {
        qtest_fail("swtpm data channel: response size %zu (room for %zu)", total, rsp_size);
    }
    if (!recv_exact(data_fd, out + 10, total - 10)) {  /* total <= rsp_size checked above */
        qtest_fail("swtpm data channel: response shorter than its header says (%zu)", total);
    }
    return total;
}
