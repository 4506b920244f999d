/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fake swtpm through its C interface, spoken to with raw sockets as a C qtest would: the
 * control protocol of swtpm_ioctls(3) (big-endian, result word first), SET_DATAFD with
 * SCM_RIGHTS, a TPM command on the data channel, fault injection and the records.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "backends/tpm/tests/fake_swtpm_c.h"

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

/* Reads up to len bytes, waiting at most wait_ms for each piece; returns the count read. */
static size_t read_wait(int fd, uint8_t *buf, size_t len, int wait_ms)
{
    size_t got = 0;
    while (got < len) {
        struct pollfd p = { fd, POLLIN, 0 };
        ssize_t n;
        if (poll(&p, 1, wait_ms) <= 0) {
            break;
        }
        n = read(fd, buf + got, len - got);
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    return got;
}

static size_t read_some(int fd, uint8_t *buf, size_t len)
{
    return read_wait(fd, buf, len, 2000);
}

static int connect_to(const char *path)
{
    struct sockaddr_un addr;
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
    ck_assert_int_eq(connect(s, (struct sockaddr *)&addr, sizeof(addr)), 0);
    return s;
}

/* Sends a control command; returns the result word and fills rest[rest_len] on success. */
static uint32_t ctrl(int s, uint32_t cmd, const uint8_t *payload, size_t len, uint8_t *rest,
                     size_t rest_len)
{
    uint8_t msg[64], res[4];
    put32(msg, cmd);
    if (len) {
        memcpy(msg + 4, payload, len);
    }
    ck_assert_int_eq(write(s, msg, 4 + len), (ssize_t)(4 + len));
    ck_assert_uint_eq(read_some(s, res, 4), 4);
    if (get32(res) == 0 && rest_len) {
        ck_assert_uint_eq(read_some(s, rest, rest_len), rest_len);
    }
    return get32(res);
}

static int set_datafd(int s)
{
    int sv[2];
    uint8_t code[4], res[4];
    struct iovec iov = { code, 4 };
    char control[CMSG_SPACE(sizeof(int))];
    struct msghdr msg;
    struct cmsghdr *c;
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    put32(code, 0x10);
    memset(&msg, 0, sizeof(msg));
    memset(control, 0, sizeof(control));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &sv[1], sizeof(int));
    ck_assert_int_eq(sendmsg(s, &msg, 0), 4);
    close(sv[1]);
    ck_assert_uint_eq(read_some(s, res, 4), 4);
    ck_assert_uint_eq(get32(res), 0);
    return sv[0];
}

START_TEST(test_c_api)
{
    char dir[] = "/tmp/qtpm-fake-XXXXXX";
    char path[64];
    uint8_t rest[16], rsp[64], loc;
    uint8_t zero4[4] = { 0, 0, 0, 0 }, three[4] = { 3, 0, 0, 0 };
    static const uint8_t get_random[12] = { 0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x7b, 0, 8 };
    fake_swtpm *f;
    int s, data;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/ctrl", dir);
    f = fake_swtpm_start(path, 1);
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(fake_swtpm_ctrl_path(f), path);
    s = connect_to(path);

    ck_assert_uint_eq(ctrl(s, 0x01, NULL, 0, rest, 4), 0);   /* GET_CAPABILITY */
    ck_assert_uint_eq(get32(rest), 0xffff);
    data = set_datafd(s);
    /* Before INIT a TPM command fails, in TPM 2 format. */
    ck_assert_int_eq(write(data, get_random, sizeof(get_random)), 12);
    ck_assert_uint_eq(read_some(data, rsp, 10), 10);
    ck_assert_uint_eq(get32(rsp + 6), 0x101);
    /* SET_BUFFERSIZE while stopped, INIT, then SET_BUFFERSIZE refused with a bare result. */
    put32(rest, 3968);
    ck_assert_uint_eq(ctrl(s, 0x11, rest, 4, rest, 12), 0);
    ck_assert_uint_eq(get32(rest), 3968);
    ck_assert_uint_eq(ctrl(s, 0x02, zero4, 4, NULL, 0), 0);
    ck_assert(fake_swtpm_running(f));
    ck_assert_uint_eq(ctrl(s, 0x11, rest, 4, rest, 12), 0x0a);
    /* Locality and a TPM command. */
    ck_assert_uint_eq(ctrl(s, 0x05, three, 4, NULL, 0), 0);
    ck_assert_int_eq(fake_swtpm_last_locality(f), 3);
    ck_assert_int_eq(write(data, get_random, sizeof(get_random)), 12);
    ck_assert_uint_eq(read_some(data, rsp, 20), 20);
    ck_assert_uint_eq(get32(rsp + 2), 20);
    ck_assert_uint_eq(get32(rsp + 6), 0);
    ck_assert(fake_swtpm_wait_data_commands(f, 2, 1000));
    ck_assert_uint_eq(fake_swtpm_data_command(f, 1, rsp, sizeof(rsp), &loc), 12);
    ck_assert_uint_eq(loc, 3);
    /* Injected faults: an error result, then a command that is never answered. */
    fake_swtpm_inject_ctrl(f, 0x04, FAKE_SWTPM_CTRL_RESULT, 1, 0x9);
    ck_assert_uint_eq(ctrl(s, 0x04, NULL, 0, rest, 4), 0x9);
    fake_swtpm_set_established(f, 1);
    ck_assert_uint_eq(ctrl(s, 0x04, NULL, 0, rest, 4), 0);
    ck_assert_uint_eq(rest[0], 1);
    fake_swtpm_inject_data(f, FAKE_SWTPM_DATA_NO_REPLY, 1, 0);
    ck_assert_int_eq(write(data, get_random, sizeof(get_random)), 12);
    ck_assert_uint_eq(read_wait(data, rsp, 10, 100), 0);
    /* Records and SHUTDOWN. */
    ck_assert_uint_eq(fake_swtpm_ctrl_count(f, 0x04), 2);
    ck_assert_uint_eq(ctrl(s, 0x03, NULL, 0, NULL, 0), 0);
    ck_assert(!fake_swtpm_alive(f));
    close(data);
    close(s);
    fake_swtpm_free(f);
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fake-swtpm-c");
    TCase *tc = tcase_create("c-api");
    SRunner *r;
    int failed;
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_c_api);
    suite_add_tcase(s, tc);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
