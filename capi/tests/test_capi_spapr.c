/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for the C API's PAPR VIO section (include/qtpm/qtpm.h), written in C as the QEMU
 * glue uses it: the real tpm-spapr over the test "echo" backend, a DMA window over a flat
 * array, and a CRQ sender that records the elements (QEMU's own CRQ layer in the glue).  Also
 * the device's own queue through qtpm_spapr_hcall, the class facts, the error paths, and
 * migration with a parked response.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qtpm/qtpm.h"

void capi_test_register_types(void); /* capi_test_types.cc */

/* ---- host: a queue the test drains ---- */

#define MAX_POSTED 64
typedef struct Posted {
  QtpmWorkFn fn;
  void *work;
} Posted;
static pthread_mutex_t posted_mu = PTHREAD_MUTEX_INITIALIZER;
static Posted posted[MAX_POSTED];
static int n_posted;

static void loop_post(void *opaque, QtpmWorkFn fn, void *work) {
  (void)opaque;
  pthread_mutex_lock(&posted_mu);
  ck_assert_int_lt(n_posted, MAX_POSTED);
  posted[n_posted].fn = fn;
  posted[n_posted].work = work;
  n_posted++;
  pthread_mutex_unlock(&posted_mu);
}

static int loop_run(void) {
  Posted batch[MAX_POSTED];
  pthread_mutex_lock(&posted_mu);
  int n = n_posted;
  memcpy(batch, posted, sizeof(Posted) * (size_t)n);
  n_posted = 0;
  pthread_mutex_unlock(&posted_mu);
  for (int i = 0; i < n; i++) batch[i].fn(batch[i].work);
  return n;
}

/* ---- the embedder's VIO side: guest memory seen through a window, and a CRQ recorder ---- */

#define MEM_SIZE 0x4000
#define MAX_ELEMENTS 16
typedef struct Vio {
  uint8_t mem[MEM_SIZE]; /* ioba == offset; everything beyond is unmapped */
  int fail_writes;
  int dma_resets;
  QtpmCrqSendResult send_result;
  uint8_t elements[MAX_ELEMENTS][QTPM_CRQ_ELEMENT_SIZE];
  int n_elements;
} Vio;

static bool vio_read(void *opaque, uint64_t ioba, void *buf, size_t len) {
  Vio *v = opaque;
  if (ioba >= MEM_SIZE || len > MEM_SIZE - ioba) return false;
  memcpy(buf, v->mem + ioba, len);
  return true;
}

static bool vio_write(void *opaque, uint64_t ioba, const void *buf, size_t len) {
  Vio *v = opaque;
  if (v->fail_writes || ioba >= MEM_SIZE || len > MEM_SIZE - ioba) return false;
  memcpy(v->mem + ioba, buf, len);
  return true;
}

static void vio_reset(void *opaque) { ((Vio *)opaque)->dma_resets++; }

static QtpmCrqSendResult vio_send(void *opaque, const uint8_t element[QTPM_CRQ_ELEMENT_SIZE]) {
  Vio *v = opaque;
  if (v->send_result == QTPM_CRQ_SENT) {
    ck_assert_int_lt(v->n_elements, MAX_ELEMENTS);
    memcpy(v->elements[v->n_elements++], element, QTPM_CRQ_ELEMENT_SIZE);
  }
  return v->send_result;
}

static QtpmHost *host;
static QtpmBackend *backend;
static Vio vio;

static void setup(void) {
  qtpm_init();
  capi_test_register_types();
  n_posted = 0;
  memset(&vio, 0, sizeof vio);
  QtpmHostOps ops = {sizeof ops, loop_post, NULL, NULL, NULL};
  host = qtpm_host_new(&ops, NULL, NULL);
  ck_assert_ptr_nonnull(host);
  char *err = NULL;
  backend = qtpm_backend_new(host, "echo", "id=tpm0", &err);
  ck_assert_msg(backend != NULL, "backend: %s", err ? err : "?");
}

static void teardown(void) {
  qtpm_backend_free(backend);
  qtpm_host_free(host);
  loop_run();
}

static const QtpmSpaprOps glue_ops = {sizeof(QtpmSpaprOps), vio_read, vio_write, vio_reset,
                                      vio_send};

/* A realized, reset tpm-spapr at unit 0x71000003, interrupt 0x1103, with the recorder. */
static QtpmDevice *new_spapr(const QtpmSpaprOps *ops) {
  char *err = NULL;
  QtpmDevice *dev = qtpm_device_new(host, "tpm-spapr", &err);
  ck_assert_ptr_nonnull(dev);
  ck_assert_int_eq(qtpm_device_set_options(dev, "tpmdev=tpm0", &err), QTPM_OK);
  ck_assert_int_eq(qtpm_spapr_set_unit(dev, 0x71000003, 0x1103, &err), QTPM_OK);
  ck_assert_int_eq(qtpm_spapr_attach(dev, ops, &vio, &err), QTPM_OK);
  ck_assert_msg(qtpm_device_realize(dev, &err) == QTPM_OK, "realize: %s", err ? err : "?");
  ck_assert_int_eq(qtpm_device_reset(dev, &err), QTPM_OK);
  return dev;
}

static uint64_t be64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | p[i];
  return v;
}

/* valid, msg, len, data of recorded element i */
static void expect_element(int i, uint8_t valid, uint8_t msg, uint16_t len, uint32_t data) {
  ck_assert_int_gt(vio.n_elements, i);
  uint64_t w0 = be64(vio.elements[i]);
  ck_assert_uint_eq(w0 >> 56, valid);
  ck_assert_uint_eq((w0 >> 48) & 0xff, msg);
  ck_assert_uint_eq((w0 >> 32) & 0xffff, len);
  ck_assert_uint_eq(w0 & 0xffffffff, data);
  ck_assert_uint_eq(be64(vio.elements[i] + 8), 0);
}

/* TPM2_GetRandom(8), 12 bytes, at `ioba` in guest memory. */
static void put_command(uint32_t ioba) {
  static const uint8_t cmd[] = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 8};
  memcpy(vio.mem + ioba, cmd, sizeof cmd);
}

/* The TPM_COMMAND message for a command at `ioba`. */
static uint64_t tpm_command(uint32_t ioba) { return 0x80020000ull << 32 | 12ull << 32 | ioba; }

/* Runs completions until an element arrives (a safety bound, not a timing assertion). */
static void wait_elements(int n) {
  for (int i = 0; i < 5000 && vio.n_elements < n; i++) {
    if (loop_run() == 0) usleep(1000);
  }
  ck_assert_int_eq(vio.n_elements, n);
}

START_TEST(test_class_facts) {
  char *err = NULL;
  QtpmDevice *dev = new_spapr(&glue_ops);
  QtpmSpaprInfo info;
  ck_assert_int_eq(qtpm_spapr_info(dev, &info, &err), QTPM_OK);
  ck_assert_str_eq(info.dt_name, "vtpm");
  ck_assert_str_eq(info.dt_type, "IBM,vtpm");
  ck_assert_uint_eq(info.signal_mask, 0x1);
  ck_assert_uint_eq(info.rtce_window_size, 0x10000000);
  ck_assert(info.has_crq);
  char *compat = qtpm_spapr_dt_compatible(dev); /* echo is a TPM 2.0 */
  ck_assert_str_eq(compat, "IBM,vtpm20");
  qtpm_free(compat);
  char *reg = qtpm_device_get_property(dev, "reg");
  ck_assert_str_eq(reg, "1895825411"); /* 0x71000003 */
  qtpm_free(reg);
  ck_assert_str_eq(qtpm_device_tpm_model(dev), "tpm-spapr");
  ck_assert_int_eq(qtpm_device_tpm_version(dev), 2);
  /* The unit is the bus's before realize only. */
  ck_assert_int_eq(qtpm_spapr_set_unit(dev, 0x71000004, 0x1104, &err), QTPM_ERROR);
  ck_assert_ptr_nonnull(strstr(err, "before realize"));
  qtpm_free(err);
  /* Reset quiesced the window. */
  ck_assert_int_eq(vio.dma_resets, 1);
  qtpm_device_free(dev);
}
END_TEST

START_TEST(test_not_a_vio_device) {
  char *err = NULL;
  QtpmDevice *dev = qtpm_device_new(host, "test-tpm-dev", &err);
  ck_assert_ptr_nonnull(dev);
  QtpmSpaprInfo info;
  ck_assert_int_eq(qtpm_spapr_info(dev, &info, &err), QTPM_NOT_SUPPORTED);
  ck_assert_ptr_nonnull(strstr(err, "not a VIO device"));
  qtpm_free(err);
  ck_assert_int_eq(qtpm_spapr_attach(dev, &glue_ops, &vio, &err), QTPM_NOT_SUPPORTED);
  qtpm_free(err);
  ck_assert_int_eq(qtpm_spapr_set_unit(dev, 1, 2, &err), QTPM_NOT_SUPPORTED);
  qtpm_free(err);
  ck_assert_ptr_null(qtpm_spapr_dt_compatible(dev));
  ck_assert_int_eq(qtpm_spapr_h_send_crq(dev, 0xc001000000000000ull, 0), -4);
  ck_assert_int_eq(qtpm_spapr_hcall(dev, 0x100, NULL, 0), -4);
  qtpm_spapr_deliver_parked_response(dev); /* harmless */
  ck_assert_int_eq(qtpm_spapr_h_send_crq(NULL, 0, 0), -4);
  ck_assert_int_eq(qtpm_spapr_info(NULL, &info, &err), QTPM_ERROR);
  qtpm_free(err);
  qtpm_device_free(dev);

  /* tpm-spapr: an unrealized device takes no hcalls; a window needs both DMA directions; the
   * bus's "choose for me" value is not a unit. */
  dev = qtpm_device_new(host, "tpm-spapr", &err);
  ck_assert_int_eq(qtpm_spapr_h_send_crq(dev, 0xc001000000000000ull, 0), -4);
  QtpmSpaprOps half = {sizeof half, vio_read, NULL, NULL, NULL};
  ck_assert_int_eq(qtpm_spapr_attach(dev, &half, &vio, &err), QTPM_ERROR);
  ck_assert_ptr_nonnull(strstr(err, "dma_write"));
  qtpm_free(err);
  ck_assert_int_eq(qtpm_spapr_attach(dev, NULL, &vio, &err), QTPM_ERROR);
  qtpm_free(err);
  ck_assert_int_eq(qtpm_spapr_set_unit(dev, 0xffffffff, 0x1100, &err), QTPM_ERROR);
  qtpm_free(err);
  qtpm_device_free(dev);
}
END_TEST

START_TEST(test_messages_through_sender) {
  QtpmDevice *dev = new_spapr(&glue_ops);
  /* INIT, GET_VERSION, GET_RTCE_BUFFER_SIZE: answered at once. */
  ck_assert_int_eq(qtpm_spapr_h_send_crq(dev, 0xc001000000000000ull, 0), 0);
  expect_element(0, 0xc0, 0x01, 0, 0);
  ck_assert_int_eq(qtpm_spapr_h_send_crq(dev, 0x8001000000000000ull, 0), 0);
  expect_element(1, 0x80, 0x81, 0, 2);
  ck_assert_int_eq(qtpm_spapr_h_send_crq(dev, 0x8003000000000000ull, 0), 0);
  expect_element(2, 0x80, 0x83, 4096, 0);

  /* TPM_COMMAND at ioba 0x1000: read by DMA, answered by the echo backend, written back. */
  put_command(0x1000);
  memset(vio.mem + 0x1000 + 12, 0xee, 4);
  ck_assert_int_eq(qtpm_spapr_h_send_crq(dev, tpm_command(0x1000), 0), 0);
  /* While it runs, another one is refused with H_BUSY (unless it already completed). */
  int64_t busy = qtpm_spapr_h_send_crq(dev, tpm_command(0x1000), 0);
  ck_assert(busy == 1 || busy == 0);
  wait_elements(busy == 1 ? 4 : 5);
  expect_element(3, 0x80, 0x82, 12, 0x1000);
  ck_assert_uint_eq(vio.mem[0x1000 + 9], 0x7b); /* the echo */
  ck_assert_uint_eq(vio.mem[0x1000 + 12], 0xee); /* nothing beyond the response */

  /* A command the window cannot read: COPY_IN_FAILED, nothing runs. */
  vio.n_elements = 0;
  ck_assert_int_eq(qtpm_spapr_h_send_crq(dev, tpm_command(MEM_SIZE - 4), 0), 0);
  expect_element(0, 0x80, 0xff, 0, 3);
  ck_assert_int_eq(loop_run(), 0);

  /* A response the window cannot write: COPY_OUT_FAILED. */
  vio.fail_writes = 1;
  ck_assert_int_eq(qtpm_spapr_h_send_crq(dev, tpm_command(0x1000), 0), 0);
  wait_elements(2);
  expect_element(1, 0x80, 0xff, 0, 4);
  vio.fail_writes = 0;

  /* The embedder's queue is full: the response is lost (logged), nothing breaks. */
  vio.send_result = QTPM_CRQ_QUEUE_FULL;
  ck_assert_int_eq(qtpm_spapr_h_send_crq(dev, 0xc002000000000000ull, 0), 0);
  vio.send_result = (QtpmCrqSendResult)77; /* nonsense from the embedder: a failure */
  ck_assert_int_eq(qtpm_spapr_h_send_crq(dev, 0xc002000000000000ull, 0), 0);
  vio.send_result = QTPM_CRQ_SENT;
  ck_assert_int_eq(qtpm_spapr_h_send_crq(dev, 0xc002000000000000ull, 0), 0);
  expect_element(2, 0xc0, 0x02, 0, 0);

  /* Unknown messages: H_SUCCESS, no answer. */
  ck_assert_int_eq(qtpm_spapr_h_send_crq(dev, 0x8077000000000000ull, 0), 0);
  ck_assert_int_eq(qtpm_spapr_h_send_crq(dev, 0x1234000000000000ull, 0), 0);
  ck_assert_int_eq(vio.n_elements, 3);
  qtpm_device_free(dev);
}
END_TEST

static int rises;
static void count_rises(void *opaque, unsigned line, bool level) {
  (void)opaque;
  ck_assert_uint_eq(line, 0);
  if (level) rises++;
}

START_TEST(test_own_queue_through_hcalls) {
  rises = 0;
  QtpmSpaprOps ops = {sizeof ops, vio_read, vio_write, NULL, NULL}; /* no sender */
  QtpmDevice *dev = new_spapr(&ops);
  char *err = NULL;
  uint64_t reg[] = {0x2000, 0x1000};
  ck_assert_int_eq(qtpm_spapr_hcall(dev, 0xfc, reg, 1), -4);  /* too few arguments */
  ck_assert_int_eq(qtpm_spapr_hcall(dev, 0xfc, reg, 2), 0);   /* H_REG_CRQ */
  ck_assert_int_eq(qtpm_spapr_hcall(dev, 0xfc, reg, 2), -16); /* H_RESOURCE: registered */
  uint64_t bad_mode = 2, mode = 1;
  ck_assert_int_eq(qtpm_spapr_hcall(dev, 0x104, &bad_mode, 1), -4);
  ck_assert_int_eq(qtpm_spapr_hcall(dev, 0x104, &mode, 1), 0);
  ck_assert_int_eq(qtpm_spapr_hcall(dev, 0x2b0, NULL, 0), 0);
  ck_assert_int_eq(qtpm_spapr_hcall(dev, 0x1c, NULL, 0), -2); /* not a CRQ call */
  ck_assert_int_eq(qtpm_device_irq_count(dev), 1);
  ck_assert_int_eq(qtpm_device_connect_irq(dev, 0, count_rises, NULL, &err), QTPM_OK);
  uint64_t init[] = {0xc001000000000000ull, 0};
  ck_assert_int_eq(qtpm_spapr_hcall(dev, 0x108, init, 2), 0);
  ck_assert_uint_eq(be64(vio.mem + 0x2000), 0xc001000000000000ull);
  ck_assert_int_eq(rises, 1); /* signalling is on: one pulse per response */
  /* The next slot is still in use (its valid byte is set): the response is lost. */
  vio.mem[0x2010] = 0x01;
  ck_assert_int_eq(qtpm_spapr_hcall(dev, 0x108, init, 2), 0);
  ck_assert_uint_eq(be64(vio.mem + 0x2010), 0x0100000000000000ull);
  /* Consumed: the next response goes there. */
  vio.mem[0x2010] = 0;
  ck_assert_int_eq(qtpm_spapr_hcall(dev, 0x108, init, 2), 0);
  ck_assert_uint_eq(be64(vio.mem + 0x2010), 0xc001000000000000ull);
  ck_assert_int_eq(qtpm_spapr_hcall(dev, 0x100, NULL, 0), 0); /* H_FREE_CRQ */
  ck_assert_int_eq(qtpm_spapr_hcall(dev, 0xfc, reg, 2), 0);
  ck_assert_int_eq(qtpm_device_reset(dev, &err), QTPM_OK);
  qtpm_device_free(dev);
}
END_TEST

START_TEST(test_parked_response_migrates) {
  char *err = NULL;
  QtpmDevice *src = new_spapr(&glue_ops);
  put_command(0x1000);
  ck_assert_int_eq(qtpm_spapr_h_send_crq(src, tpm_command(0x1000), 0), 0);
  /* Saving finishes the command; its response is parked, not written. */
  memset(vio.mem + 0x1000, 0, 12);
  uint8_t *blob = NULL;
  size_t len = 0;
  ck_assert_int_eq(qtpm_device_save_state(src, &blob, &len, &err), QTPM_OK);
  loop_run();
  ck_assert_int_eq(vio.n_elements, 0);
  ck_assert_uint_eq(vio.mem[0x1000 + 9], 0);

  /* The destination (same unit) delivers it on load. */
  QtpmBackend *be2 = qtpm_backend_new(host, "echo", "id=tpm1", &err);
  ck_assert_ptr_nonnull(be2);
  QtpmDevice *dst = qtpm_device_new(host, "tpm-spapr", &err);
  ck_assert_int_eq(qtpm_device_set_options(dst, "tpmdev=tpm1", &err), QTPM_OK);
  ck_assert_int_eq(qtpm_spapr_set_unit(dst, 0x71000003, 0x1103, &err), QTPM_OK);
  ck_assert_int_eq(qtpm_spapr_attach(dst, &glue_ops, &vio, &err), QTPM_OK);
  ck_assert_int_eq(qtpm_device_realize(dst, &err), QTPM_OK);
  ck_assert_int_eq(qtpm_device_reset(dst, &err), QTPM_OK);
  ck_assert_int_eq(qtpm_device_load_state(dst, blob, len, &err), QTPM_OK);
  expect_element(0, 0x80, 0x82, 12, 0x1000);
  ck_assert_uint_eq(vio.mem[0x1000 + 9], 0x7b);

  /* The source runs on (a snapshot): the parked response is delivered there too, once. */
  memset(vio.mem + 0x1000, 0, 12);
  qtpm_spapr_deliver_parked_response(src);
  expect_element(1, 0x80, 0x82, 12, 0x1000);
  ck_assert_uint_eq(vio.mem[0x1000 + 9], 0x7b);
  qtpm_spapr_deliver_parked_response(src);
  ck_assert_int_eq(vio.n_elements, 2);

  /* A corrupt stream: one clear error, nothing delivered. */
  blob[len / 2] ^= 0x40;
  int rc = qtpm_device_load_state(dst, blob, len, &err);
  if (rc != QTPM_OK) {
    ck_assert_ptr_nonnull(err);
    qtpm_free(err);
  }
  qtpm_free(blob);
  qtpm_device_free(dst);
  qtpm_device_free(src);
  qtpm_backend_free(be2);
}
END_TEST

START_TEST(test_wrong_unit_refused) {
  char *err = NULL;
  QtpmDevice *src = new_spapr(&glue_ops);
  uint8_t *blob = NULL;
  size_t len = 0;
  ck_assert_int_eq(qtpm_device_save_state(src, &blob, &len, &err), QTPM_OK);
  qtpm_device_free(src);
  QtpmDevice *dst = qtpm_device_new(host, "tpm-spapr", &err);
  ck_assert_int_eq(qtpm_device_set_options(dst, "tpmdev=tpm0", &err), QTPM_OK);
  ck_assert_int_eq(qtpm_spapr_set_unit(dst, 0x71000004, 0x1104, &err), QTPM_OK);
  ck_assert_int_eq(qtpm_spapr_attach(dst, &glue_ops, &vio, &err), QTPM_OK);
  ck_assert_int_eq(qtpm_device_realize(dst, &err), QTPM_OK);
  ck_assert_int_eq(qtpm_device_load_state(dst, blob, len, &err), QTPM_ERROR);
  ck_assert_msg(strstr(err, "0x71000003") != NULL, "error: %s", err);
  qtpm_free(err);
  qtpm_free(blob);
  qtpm_device_free(dst);
}
END_TEST

int main(void) {
  Suite *s = suite_create("capi-spapr");
  TCase *tc = tcase_create("capi-spapr");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_class_facts);
  tcase_add_test(tc, test_not_a_vio_device);
  tcase_add_test(tc, test_messages_through_sender);
  tcase_add_test(tc, test_own_queue_through_hcalls);
  tcase_add_test(tc, test_parked_response_migrates);
  tcase_add_test(tc, test_wrong_unit_refused);
  suite_add_tcase(s, tc);
  SRunner *runner = srunner_create(s);
  srunner_run_all(runner, CK_NORMAL);
  int failed = srunner_ntests_failed(runner);
  srunner_free(runner);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
