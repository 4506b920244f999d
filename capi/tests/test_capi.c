/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for the C API (include/qtpm/qtpm.h), written in C as an embedder would: the error
 * paths (unknown types, bad options and properties, missing backends and chardevs), the whole
 * life of a device over a test backend (regions, MMIO, IRQ, completion through the host's post,
 * reset, saved state, query-tpm, etc/tpm/config), teardown orders, and every frontend and
 * backend type the build registers.
 */
#define _GNU_SOURCE /* memmem */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qtpm/qtpm.h"

void capi_test_register_types(void);           /* capi_test_types.cc */
bool capi_test_trace_enabled(const char *event); /* capi_test_types.cc */

/* ---- A host whose main loop is a queue the test drains (posts come from worker threads) ---- */

#define MAX_POSTED 256

typedef struct Posted {
  QtpmWorkFn fn;
  void *work;
} Posted;

typedef struct TestLoop {
  pthread_mutex_t mu;
  Posted items[MAX_POSTED];
  int count;
  int ram_clears;
  int errors_reported;
  char last_error[256];
} TestLoop;

static void loop_post(void *opaque, QtpmWorkFn fn, void *work) {
  TestLoop *loop = opaque;
  pthread_mutex_lock(&loop->mu);
  ck_assert_int_lt(loop->count, MAX_POSTED);
  loop->items[loop->count].fn = fn;
  loop->items[loop->count].work = work;
  loop->count++;
  pthread_mutex_unlock(&loop->mu);
}

/* Runs everything posted so far; returns how many ran. */
static int loop_run(TestLoop *loop) {
  Posted batch[MAX_POSTED];
  pthread_mutex_lock(&loop->mu);
  int n = loop->count;
  memcpy(batch, loop->items, sizeof(Posted) * (size_t)n);
  loop->count = 0;
  pthread_mutex_unlock(&loop->mu);
  for (int i = 0; i < n; i++) batch[i].fn(batch[i].work);
  return n;
}

static void loop_clear_ram(void *opaque) { ((TestLoop *)opaque)->ram_clears++; }

static void loop_report_error(void *opaque, const char *message) {
  TestLoop *loop = opaque;
  loop->errors_reported++;
  snprintf(loop->last_error, sizeof loop->last_error, "%s", message);
}

static TestLoop loop;
static QtpmHost *host;

static void setup(void) {
  memset(&loop, 0, sizeof loop);
  pthread_mutex_init(&loop.mu, NULL);
  qtpm_init();
  capi_test_register_types();
  QtpmHostOps ops = {sizeof ops, loop_post, loop_clear_ram, NULL, loop_report_error};
  char *err = (char *)"unchanged";
  host = qtpm_host_new(&ops, &loop, &err);
  ck_assert_ptr_nonnull(host);
  ck_assert_ptr_null(err);
}

static void teardown(void) {
  qtpm_host_free(host);
  host = NULL;
  loop_run(&loop); /* drain requests scheduled before the host went away must be harmless */
  pthread_mutex_destroy(&loop.mu);
}

/* Asserts that err holds a message containing `part`, and frees it. */
static void expect_error(char *err, const char *part) {
  ck_assert_ptr_nonnull(err);
  ck_assert_msg(strstr(err, part) != NULL, "error '%s' does not mention '%s'", err, part);
  qtpm_free(err);
}

static int strv_contains(char **v, const char *s) {
  for (; v && *v; v++)
    if (strcmp(*v, s) == 0) return 1;
  return 0;
}

static QtpmIrqHandler irq_handler;
static int irq_calls;
static int irq_level;
static void record_irq(void *opaque, unsigned line, bool level) {
  ck_assert_ptr_eq(opaque, &irq_calls);
  ck_assert_uint_eq(line, 0);
  irq_calls++;
  irq_level = level;
}

/* Runs posted work until the IRQ goes up (a safety bound, not a timing assertion). */
static int wait_for_irq(void) {
  for (int i = 0; i < 5000 && !irq_level; i++) {
    if (loop_run(&loop) == 0) usleep(1000);
  }
  return irq_level;
}

static QtpmBackend *new_echo(const char *opts) {
  char *err = NULL;
  QtpmBackend *be = qtpm_backend_new(host, "echo", opts, &err);
  ck_assert_msg(be != NULL, "backend: %s", err ? err : "?");
  return be;
}

static QtpmDevice *new_realized_device(QtpmBackend *be, const char *opts) {
  char *err = NULL;
  QtpmDevice *dev = qtpm_device_new(host, "test-tpm-dev", &err);
  ck_assert_ptr_nonnull(dev);
  ck_assert_int_eq(qtpm_device_set_backend(dev, be, &err), QTPM_OK);
  if (opts) ck_assert_int_eq(qtpm_device_set_options(dev, opts, &err), QTPM_OK);
  ck_assert_msg(qtpm_device_realize(dev, &err) == QTPM_OK, "realize: %s", err ? err : "?");
  return dev;
}

/* ------------------------------------------------------------------------------------------- */

START_TEST(test_version_and_types) {
  ck_assert_str_eq(qtpm_version(), QTPM_VERSION);
  char **frontends = qtpm_type_list(QTPM_TYPE_FRONTEND);
  ck_assert(strv_contains(frontends, "test-tpm-dev"));
  ck_assert(!strv_contains(frontends, "echo"));
  qtpm_strv_free(frontends);
  char **backends = qtpm_type_list(QTPM_TYPE_BACKEND);
  ck_assert(strv_contains(backends, "echo")); /* -tpmdev name, not "tpm-echo" */
  ck_assert(!strv_contains(backends, "test-tpm-dev"));
  qtpm_strv_free(backends);
  char **none = qtpm_type_list("no-such-family");
  ck_assert_ptr_nonnull(none);
  ck_assert_ptr_null(none[0]);
  qtpm_strv_free(none);

  QtpmTypeInfo info;
  char *err = NULL;
  ck_assert_int_eq(qtpm_type_info("test-tpm-dev", &info, &err), QTPM_OK);
  ck_assert_str_eq(info.name, "test-tpm-dev");
  ck_assert_str_eq(info.bus, "isa");
  ck_assert(info.is_frontend && !info.is_backend);
  ck_assert_int_eq(qtpm_type_info("echo", &info, &err), QTPM_OK);
  ck_assert_str_eq(info.name, "echo");
  ck_assert(info.is_backend && !info.is_frontend);
  char **props = qtpm_type_property_names("echo");
  ck_assert(strv_contains(props, "chardev") && strv_contains(props, "fail-startup"));
  qtpm_strv_free(props);
  props = qtpm_type_property_names("test-tpm-dev");
  ck_assert(strv_contains(props, "tpmdev") && strv_contains(props, "irq"));
  qtpm_strv_free(props);
  ck_assert_ptr_null(qtpm_type_property_names("nope"));
  ck_assert_ptr_null(qtpm_type_property_names(QTPM_TYPE_DEVICE)); /* abstract */
  ck_assert_int_eq(qtpm_type_info("nope", &info, &err), QTPM_ERROR);
  expect_error(err, "unknown type 'nope'");
}
END_TEST

START_TEST(test_trace_enable) {
  ck_assert(!capi_test_trace_enabled("capi_test_event"));
  qtpm_trace_enable(NULL);
  qtpm_trace_enable("");
  ck_assert(!capi_test_trace_enabled("capi_test_event"));
  qtpm_trace_enable("capi_test_*");
  ck_assert(capi_test_trace_enabled("capi_test_event"));
  ck_assert(!capi_test_trace_enabled("other_event"));
  qtpm_trace_enable("-capi_test_event");
  ck_assert(!capi_test_trace_enabled("capi_test_event"));
}
END_TEST

START_TEST(test_host_needs_post) {
  char *err = NULL;
  QtpmHostOps ops = {sizeof ops, NULL, NULL, NULL, NULL};
  ck_assert_ptr_null(qtpm_host_new(&ops, NULL, &err));
  expect_error(err, "post");
  ck_assert_ptr_null(qtpm_host_new(NULL, NULL, NULL)); /* NULL errmsg is allowed */
}
END_TEST

START_TEST(test_backend_errors) {
  char *err = NULL;
  ck_assert_ptr_null(qtpm_backend_new(host, "nope", "id=x", &err));
  expect_error(err, "'nope' is not a valid tpmdev type");
  ck_assert_ptr_null(qtpm_backend_new(host, "echo", "", &err));
  expect_error(err, "'id' is missing");
  ck_assert_ptr_null(qtpm_backend_new(host, "echo", "id=x,nope=1", &err));
  expect_error(err, "nope");
  ck_assert_ptr_null(qtpm_backend_new(host, "echo", "id=x,fail-startup=maybe", &err));
  expect_error(err, "fail-startup");
  ck_assert_ptr_null(qtpm_backend_new(host, "echo", "id=x,id=y", &err));
  expect_error(err, "Duplicate option 'id'");
  ck_assert_ptr_null(qtpm_backend_new(host, "echo", "id=x,=3", &err));
  expect_error(err, "empty parameter name");
  ck_assert_ptr_null(qtpm_backend_new(host, "echo", "id=x,chardev=missing", &err));
  expect_error(err, "chardev 'missing' not found");
  ck_assert_ptr_null(qtpm_backend_find(host, "x")); /* nothing was registered */

  QtpmBackend *be = new_echo("id=tpm0");
  ck_assert_ptr_eq(qtpm_backend_find(host, "tpm0"), be);
  ck_assert_str_eq(qtpm_backend_id(be), "tpm0");
  ck_assert_str_eq(qtpm_backend_type(be), "echo");
  ck_assert_int_eq(qtpm_backend_tpm_version(be), 2);
  ck_assert_ptr_null(qtpm_backend_new(host, "echo", "id=tpm0", &err));
  expect_error(err, "duplicate ID 'tpm0'");
  qtpm_backend_free(be);
  ck_assert_ptr_null(qtpm_backend_find(host, "tpm0"));

  QtpmKeyValue kv[] = {{"id", "kv0"}, {"fail-startup", NULL}};
  be = qtpm_backend_new_kv(host, "echo", kv, 2, &err);
  ck_assert_ptr_nonnull(be);
  ck_assert_ptr_null(err);
  qtpm_backend_free(be);
  QtpmKeyValue dup[] = {{"id", "a"}, {"id", "b"}};
  ck_assert_ptr_null(qtpm_backend_new_kv(host, "echo", dup, 2, &err));
  expect_error(err, "Duplicate option 'id'");
}
END_TEST

START_TEST(test_device_errors) {
  char *err = NULL;
  ck_assert_ptr_null(qtpm_device_new(host, "nope", &err));
  expect_error(err, "'nope' is not a valid device model name");
  ck_assert_ptr_null(qtpm_device_new(host, "echo", &err)); /* a backend is not a device */
  expect_error(err, "not a valid device model name");

  QtpmDevice *dev = qtpm_device_new(host, "test-tpm-dev", &err);
  ck_assert_ptr_nonnull(dev);
  ck_assert_str_eq(qtpm_device_type(dev), "test-tpm-dev");
  ck_assert_str_eq(qtpm_device_tpm_model(dev), "tpm-test"); /* before realize */
  ck_assert_int_eq(qtpm_device_set_property(dev, "nope", "1", &err), QTPM_ERROR);
  expect_error(err, "nope");
  ck_assert_int_eq(qtpm_device_set_property(dev, "ppi", "maybe", &err), QTPM_ERROR);
  expect_error(err, "ppi");
  /* A bad name anywhere in an option string changes nothing. */
  ck_assert_int_eq(qtpm_device_set_options(dev, "irq=7,nope=1", &err), QTPM_ERROR);
  expect_error(err, "Property 'test-tpm-dev.nope' not found");
  char *irq = qtpm_device_get_property(dev, "irq");
  ck_assert_str_eq(irq, "5");
  qtpm_free(irq);
  ck_assert_ptr_null(qtpm_device_get_property(dev, "nope"));

  ck_assert_int_eq(qtpm_device_realize(dev, &err), QTPM_ERROR);
  expect_error(err, "'tpmdev' property is required");
  ck_assert_int_eq(qtpm_device_set_options(dev, "tpmdev=ghost,id=tpmdev0", &err), QTPM_OK);
  ck_assert_int_eq(qtpm_device_realize(dev, &err), QTPM_ERROR);
  expect_error(err, "can't find value 'ghost'");
  ck_assert(!qtpm_device_realized(dev));
  ck_assert_uint_eq(qtpm_device_region_count(dev), 0);
  ck_assert_int_eq(qtpm_device_connect_irq(dev, 0, record_irq, &irq_calls, &err), QTPM_ERROR);
  expect_error(err, "no IRQ line 0");
  ck_assert_int_eq(qtpm_device_reset(dev, &err), QTPM_ERROR);
  expect_error(err, "before realize");

  /* The failed realizes leave a device that can be configured again and realized. */
  QtpmBackend *be = new_echo("id=tpm0");
  ck_assert_int_eq(qtpm_device_set_options(dev, "tpmdev=tpm0,irq=16", &err), QTPM_OK);
  ck_assert_int_eq(qtpm_device_realize(dev, &err), QTPM_ERROR);
  expect_error(err, "outside valid range of 0 to 15");
  ck_assert_int_eq(qtpm_device_set_property(dev, "irq", "15", &err), QTPM_OK);
  ck_assert_int_eq(qtpm_device_realize(dev, &err), QTPM_OK);
  ck_assert_ptr_null(err);
  ck_assert_int_eq(qtpm_device_set_property(dev, "irq", "3", &err), QTPM_ERROR);
  expect_error(err, "after it was realized");
  char *id = qtpm_device_get_property(dev, "id");
  ck_assert_str_eq(id, "tpmdev0");
  qtpm_free(id);

  /* A second frontend cannot take the same backend. */
  QtpmDevice *dev2 = qtpm_device_new(host, "test-tpm-dev", &err);
  ck_assert_int_eq(qtpm_device_set_backend(dev2, be, &err), QTPM_OK);
  ck_assert_int_eq(qtpm_device_realize(dev2, &err), QTPM_ERROR);
  expect_error(err, "tpm0");
  qtpm_device_free(dev2);
  qtpm_device_free(dev);
  qtpm_backend_free(be);
}
END_TEST

START_TEST(test_properties_enumerated) {
  char *err = NULL;
  QtpmDevice *dev = qtpm_device_new(host, "test-tpm-dev", &err);
  size_t n = qtpm_device_property_count(dev);
  ck_assert_uint_eq(n, 3);
  QtpmPropertyInfo p;
  int seen = 0;
  for (size_t i = 0; i < n; i++) {
    ck_assert_int_eq(qtpm_device_property_info(dev, i, &p), QTPM_OK);
    if (strcmp(p.name, "irq") == 0) {
      ck_assert_str_eq(p.type, "uint32");
      ck_assert_str_eq(p.default_value, "5");
      seen++;
    } else if (strcmp(p.name, "ppi") == 0) {
      ck_assert_str_eq(p.type, "bool");
      seen++;
    }
  }
  ck_assert_int_eq(seen, 2);
  ck_assert_int_eq(qtpm_device_property_info(dev, n, &p), QTPM_ERROR);
  qtpm_device_free(dev);
}
END_TEST

START_TEST(test_regions_and_mmio) {
  QtpmBackend *be = new_echo("id=tpm0");
  QtpmDevice *dev = new_realized_device(be, NULL);
  ck_assert_uint_eq(qtpm_device_region_count(dev), 2);
  QtpmRegionInfo r;
  ck_assert_int_eq(qtpm_device_region_info(dev, 0, &r), QTPM_OK);
  ck_assert_str_eq(r.name, "test-mmio");
  ck_assert_int_eq(r.kind, QTPM_REGION_MMIO);
  ck_assert(r.has_fixed_address);
  ck_assert_uint_eq(r.fixed_address, 0xfed40000);
  ck_assert_uint_eq(r.size, 0x1000);
  ck_assert_uint_eq(r.max_access, 4);
  ck_assert_ptr_null(r.host_ptr);
  ck_assert_int_eq(qtpm_device_region_info(dev, 1, &r), QTPM_OK);
  ck_assert_str_eq(r.name, "tpm-ppi");
  ck_assert_int_eq(r.kind, QTPM_REGION_RAM);
  ck_assert_uint_eq(r.fixed_address, 0xfed45000);
  ck_assert_uint_eq(r.size, 0x400);
  ck_assert_ptr_nonnull(r.host_ptr);
  ck_assert_int_eq(qtpm_device_region_info(dev, 2, &r), QTPM_ERROR);

  QtpmAccessOutcome o;
  qtpm_device_mmio_write(dev, 0, 0x0, 0x12345678, 4, &o);
  ck_assert_int_eq(o, QTPM_ACCESS_OK);
  ck_assert_uint_eq(qtpm_device_mmio_read(dev, 0, 0x0, 4, &o), 0x12345678);
  ck_assert_uint_eq(qtpm_device_mmio_peek(dev, 0, 0xc, 4, &o), 0x51504d54);
  ck_assert_int_eq(o, QTPM_ACCESS_OK);
  /* An 8-byte access is split into two 4-byte ones, lowest address first. */
  ck_assert_uint_eq(qtpm_device_mmio_read(dev, 0, 0x8, 8, &o), 0x51504d5400000000ull);
  qtpm_device_mmio_write(dev, 0, 0xc, 1, 4, &o);
  ck_assert_int_eq(o, QTPM_ACCESS_IGNORED);
  ck_assert_str_eq(qtpm_access_outcome_name(o), "ignored");
  qtpm_device_mmio_read(dev, 0, 0x10, 4, &o);
  ck_assert_int_eq(o, QTPM_ACCESS_UNMAPPED);
  /* Refused before they reach the device: outside the region, odd sizes, no such region. */
  ck_assert_uint_eq(qtpm_device_mmio_read(dev, 0, 0xffe, 4, &o), ~0ull);
  ck_assert_int_eq(o, QTPM_ACCESS_UNMAPPED);
  ck_assert_uint_eq(qtpm_device_mmio_read(dev, 0, ~0ull - 1, 4, &o), ~0ull);
  ck_assert_int_eq(o, QTPM_ACCESS_UNMAPPED);
  qtpm_device_mmio_write(dev, 0, 0, 1, 3, &o);
  ck_assert_int_eq(o, QTPM_ACCESS_BAD_SIZE);
  qtpm_device_mmio_write(dev, 7, 0, 1, 4, &o);
  ck_assert_int_eq(o, QTPM_ACCESS_UNMAPPED);
  ck_assert_uint_eq(qtpm_device_mmio_read(dev, 0, 0x0, 4, NULL), 0x12345678);

  /* The RAM region is the device's memory: what the embedder maps is what the device sees. */
  ck_assert_int_eq(qtpm_device_region_info(dev, 1, &r), QTPM_OK);
  r.host_ptr[0x15a] = 1;
  ck_assert_uint_eq(qtpm_device_mmio_read(dev, 1, 0x15a, 1, &o), 1);
  qtpm_device_mmio_write(dev, 1, 0x100, 0xaa, 1, &o);
  ck_assert_uint_eq(r.host_ptr[0x100], 0xaa);

  qtpm_device_free(dev);
  qtpm_backend_free(be);
}
END_TEST

START_TEST(test_command_irq_reset) {
  char *err = NULL;
  QtpmBackend *be = new_echo("id=tpm0");
  QtpmDevice *dev = new_realized_device(be, "ppi=off");
  ck_assert_uint_eq(qtpm_device_region_count(dev), 1);
  ck_assert_uint_eq(qtpm_device_irq_count(dev), 1);
  irq_calls = 0;
  irq_level = 0;
  irq_handler = record_irq;
  ck_assert_int_eq(qtpm_device_connect_irq(dev, 0, irq_handler, &irq_calls, &err), QTPM_OK);
  ck_assert_int_eq(irq_calls, 1); /* told the current level at once */
  ck_assert_int_eq(qtpm_device_connect_irq(dev, 1, irq_handler, &irq_calls, &err), QTPM_ERROR);
  expect_error(err, "no IRQ line 1");
  ck_assert_int_eq(qtpm_device_reset(dev, &err), QTPM_OK);

  /* The command completes on the worker; the device hears of it only through post. */
  qtpm_device_mmio_write(dev, 0, 0x4, 1, 4, NULL);
  ck_assert(wait_for_irq());
  ck_assert(qtpm_device_irq_level(dev, 0));
  ck_assert_uint_eq(qtpm_device_mmio_read(dev, 0, 0x8, 4, NULL), 10);

  /* query-tpm and etc/tpm/config */
  char *json = qtpm_device_query_tpm_json(dev, &err);
  ck_assert_str_eq(json,
                   "{\"id\":\"tpm0\",\"model\":\"tpm-test\",\"options\":{\"type\":\"echo\","
                   "\"data\":{\"chardev\":\"\"}}}");
  qtpm_free(json);
  ck_assert_int_eq(qtpm_device_tpm_version(dev), 2);
  uint8_t *config = NULL;
  size_t len = 0;
  ck_assert_int_eq(qtpm_device_tpm_config(dev, &config, &len, &err), QTPM_NOT_SUPPORTED);
  expect_error(err, "no PPI page");

  ck_assert_int_eq(qtpm_device_reset(dev, &err), QTPM_OK);
  ck_assert(!qtpm_device_irq_level(dev, 0));
  ck_assert_int_eq(irq_level, 0);
  ck_assert_int_eq(qtpm_device_connect_irq(dev, 0, NULL, NULL, &err), QTPM_OK);
  qtpm_device_free(dev);
  qtpm_backend_free(be);
}
END_TEST

START_TEST(test_tpm_config) {
  char *err = NULL;
  QtpmBackend *be = new_echo("id=tpm0");
  QtpmDevice *dev = new_realized_device(be, NULL);
  uint8_t *config = NULL;
  size_t len = 0;
  ck_assert_int_eq(qtpm_device_tpm_config(dev, &config, &len, &err), QTPM_OK);
  const uint8_t want[6] = {0x00, 0x50, 0xd4, 0xfe, 2, 1};
  ck_assert_uint_eq(len, sizeof want);
  ck_assert_mem_eq(config, want, sizeof want);
  qtpm_free(config);
  qtpm_device_free(dev);
  qtpm_backend_free(be);
}
END_TEST

START_TEST(test_startup_failure_reported) {
  char *err = NULL;
  QtpmBackend *be = new_echo("id=tpm0,fail-startup=on");
  QtpmDevice *dev = new_realized_device(be, NULL);
  ck_assert_int_eq(qtpm_device_reset(dev, &err), QTPM_ERROR);
  expect_error(err, "failed to start");
  /* The broken TPM still answers: with a failure, through the same path. */
  irq_level = 0;
  ck_assert_int_eq(qtpm_device_connect_irq(dev, 0, record_irq, &irq_calls, &err), QTPM_OK);
  qtpm_device_mmio_write(dev, 0, 0x4, 1, 4, NULL);
  ck_assert(wait_for_irq());
  qtpm_device_free(dev);
  qtpm_backend_free(be);
}
END_TEST

START_TEST(test_saved_state) {
  char *err = NULL;
  QtpmBackend *be = new_echo("id=tpm0");
  QtpmDevice *dev = new_realized_device(be, NULL);
  qtpm_device_mmio_write(dev, 0, 0x0, 0xcafe, 4, NULL);
  uint8_t *blob = NULL;
  size_t len = 0;
  ck_assert_int_eq(qtpm_device_save_state(dev, &blob, &len, &err), QTPM_OK);
  ck_assert_uint_gt(len, 0);
  qtpm_device_mmio_write(dev, 0, 0x0, 0x1, 4, NULL);
  ck_assert_int_eq(qtpm_device_load_state(dev, blob, len, &err), QTPM_OK);
  ck_assert_uint_eq(qtpm_device_mmio_read(dev, 0, 0x0, 4, NULL), 0xcafe);

  /* Corrupt or truncated blobs are refused and change nothing. */
  blob[len - 1] ^= 0xff;
  qtpm_device_mmio_write(dev, 0, 0x0, 0x2, 4, NULL);
  ck_assert_int_eq(qtpm_device_load_state(dev, blob, len - 3, &err), QTPM_ERROR);
  expect_error(err, "test-tpm-dev");
  ck_assert_int_eq(qtpm_device_load_state(dev, NULL, 0, &err), QTPM_ERROR);
  qtpm_free(err);
  ck_assert_uint_eq(qtpm_device_mmio_read(dev, 0, 0x0, 4, NULL), 0x2);
  qtpm_free(blob);

  ck_assert_int_eq(qtpm_backend_save_state(be, &blob, &len, &err), QTPM_OK);
  ck_assert_int_eq(qtpm_backend_load_state(be, blob, len, &err), QTPM_OK);
  /* Another object's section is not this one's. */
  ck_assert_int_eq(qtpm_device_load_state(dev, blob, len, &err), QTPM_ERROR);
  expect_error(err, "tpm-echo");
  qtpm_free(blob);

  /* Asking whether a backend can migrate takes nothing from it. */
  err = (char *)"x";
  ck_assert_int_eq(qtpm_backend_migration_blocker(be, &err), QTPM_OK);
  ck_assert_ptr_null(err);
  ck_assert_int_eq(qtpm_backend_migration_blocker(NULL, &err), QTPM_ERROR);
  qtpm_free(err);
  QtpmBackend *blocked = new_echo("id=tpm1,block-migration=on");
  ck_assert_int_eq(qtpm_backend_migration_blocker(blocked, &err), QTPM_NOT_SUPPORTED);
  expect_error(err, "tpm-echo: told not to migrate");
  qtpm_backend_free(blocked);

  /* A frontend the ACPI builder cannot describe gets "not supported", not a guess. */
  uint8_t *aml = (uint8_t *)"x";
  ck_assert_int_eq(qtpm_device_acpi_aml(dev, &aml, &len, &err), QTPM_NOT_SUPPORTED);
  ck_assert_ptr_null(aml);
  expect_error(err, "no ACPI description");
  QtpmAcpiTable table;
  ck_assert_int_eq(qtpm_device_acpi_table(dev, NULL, NULL, &table, &err), QTPM_NOT_SUPPORTED);
  qtpm_free(err);
  ck_assert_ptr_null(table.data);
  qtpm_acpi_table_free(&table);
  ck_assert_int_eq(qtpm_device_set_mapped_address(dev, 0, 0x0c000000, &err), QTPM_NOT_SUPPORTED);
  qtpm_free(err);
  qtpm_device_free(dev);
  qtpm_backend_free(be);
}
END_TEST

START_TEST(test_chardevs) {
  char *err = NULL;
  int sv[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  ck_assert_int_eq(qtpm_host_add_chardev_fd(host, "chr0", sv[0], &err), QTPM_OK);
  ck_assert_int_eq(qtpm_host_add_chardev_fd(host, "chr0", sv[0], &err), QTPM_ERROR);
  expect_error(err, "duplicate ID 'chr0'");
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  ck_assert_int_eq(qtpm_host_add_chardev_fd(host, "chr1", p[0], &err), QTPM_ERROR);
  expect_error(err, "not a stream socket");
  ck_assert_int_eq(qtpm_host_add_chardev_fd(host, "chr1", -4, &err), QTPM_ERROR);
  expect_error(err, "'fd'");
  ck_assert_int_eq(qtpm_host_add_chardev_path(host, "chr1", "/nonexistent/sock", &err),
                   QTPM_ERROR);
  expect_error(err, "/nonexistent/sock");
  ck_assert_int_eq(qtpm_host_add_chardev_path(host, "", "/x", &err), QTPM_ERROR);
  expect_error(err, "'id' is missing");

  QtpmBackend *be = new_echo("id=tpm0,chardev=chr0");
  ck_assert_int_eq(qtpm_host_remove_chardev(host, "chr0", &err), QTPM_ERROR);
  expect_error(err, "in use by tpmdev 'tpm0'");
  qtpm_backend_free(be);
  ck_assert_int_eq(qtpm_host_remove_chardev(host, "chr0", &err), QTPM_OK);
  ck_assert_int_eq(qtpm_host_remove_chardev(host, "chr0", &err), QTPM_ERROR);
  expect_error(err, "not found");
  /* The library owned the adopted socket and closed it: the peer sees EOF. */
  char c;
  ck_assert_int_eq(read(sv[1], &c, 1), 0);
  close(sv[1]);
  close(p[0]);
  close(p[1]);
}
END_TEST

START_TEST(test_backend_freed_before_device) {
  /* QEMU frees backends at exit while devices still exist: the backend must outlive its
   * release for as long as a device uses it. */
  char *err = NULL;
  QtpmBackend *be = new_echo("id=tpm0");
  QtpmDevice *dev = new_realized_device(be, NULL);
  qtpm_backend_free(be);
  ck_assert_ptr_null(qtpm_backend_find(host, "tpm0"));
  ck_assert_int_eq(qtpm_device_reset(dev, &err), QTPM_OK);
  irq_level = 0;
  ck_assert_int_eq(qtpm_device_connect_irq(dev, 0, record_irq, &irq_calls, &err), QTPM_OK);
  qtpm_device_mmio_write(dev, 0, 0x4, 1, 4, NULL);
  ck_assert(wait_for_irq());
  qtpm_device_free(dev);
}
END_TEST

START_TEST(test_free_with_command_in_flight) {
  /* A command still running when the device goes: its completion must not reach freed objects,
   * neither now nor when the embedder runs the already-scheduled drain later (teardown). */
  QtpmBackend *be = new_echo("id=tpm0");
  QtpmDevice *dev = new_realized_device(be, NULL);
  qtpm_device_mmio_write(dev, 0, 0x4, 1, 4, NULL);
  qtpm_device_free(dev);
  qtpm_backend_free(be);
}
END_TEST

START_TEST(test_registered_types) {
  /* Every real frontend in this build refuses to realize without a backend, with a message;
   * every real backend refuses to start without an id. */
  char *err = NULL;
  char **frontends = qtpm_type_list(QTPM_TYPE_FRONTEND);
  for (char **t = frontends; *t; t++) {
    QtpmDevice *dev = qtpm_device_new(host, *t, &err);
    ck_assert_msg(dev != NULL, "%s: %s", *t, err ? err : "?");
    ck_assert_int_eq(qtpm_device_realize(dev, &err), QTPM_ERROR);
    ck_assert_msg(err && *err, "%s realized without a backend", *t);
    qtpm_free(err);
    ck_assert_int_eq(qtpm_device_set_property(dev, "no-such-property", "1", &err), QTPM_ERROR);
    expect_error(err, "no-such-property");
    qtpm_device_free(dev);
  }
  qtpm_strv_free(frontends);
  char **backends = qtpm_type_list(QTPM_TYPE_BACKEND);
  for (char **t = backends; *t; t++) {
    ck_assert_ptr_null(qtpm_backend_new(host, *t, "", &err));
    expect_error(err, "'id' is missing");
    ck_assert_ptr_null(qtpm_backend_new(host, *t, "id=b0,no-such-option=1", &err));
    expect_error(err, "no-such-option");
  }
  qtpm_strv_free(backends);
}
END_TEST

static int find_region(QtpmDevice *dev, const char *name, QtpmRegionInfo *info) {
  for (size_t i = 0; i < qtpm_device_region_count(dev); i++) {
    qtpm_device_region_info(dev, i, info);
    if (strcmp(info->name, name) == 0) return (int)i;
  }
  return -1;
}

START_TEST(test_real_crb_over_libtpms) {
  /* The real thing, when this build has it: tpm-crb over the in-process libtpms backend, driven
   * only through the C API as the QEMU glue drives it (MMIO for registers, the RAM region for
   * the command buffer, completion through post). */
  char **frontends = qtpm_type_list(QTPM_TYPE_FRONTEND);
  char **backends = qtpm_type_list(QTPM_TYPE_BACKEND);
  int have = strv_contains(frontends, "tpm-crb") && strv_contains(backends, "libtpms");
  qtpm_strv_free(frontends);
  qtpm_strv_free(backends);
  if (!have) return; /* not in this build yet */

  char *err = NULL;
  QtpmBackend *be = qtpm_backend_new(host, "libtpms", "id=lt0,version=2.0", &err);
  ck_assert_msg(be != NULL, "libtpms: %s", err ? err : "?");
  ck_assert_int_eq(qtpm_backend_tpm_version(be), 2);
  QtpmDevice *dev = qtpm_device_new(host, "tpm-crb", &err);
  ck_assert_str_eq(qtpm_device_tpm_model(dev), "tpm-crb");
  ck_assert_int_eq(qtpm_device_set_backend(dev, be, &err), QTPM_OK);
  ck_assert_msg(qtpm_device_realize(dev, &err) == QTPM_OK, "realize: %s", err ? err : "?");
  ck_assert_msg(qtpm_device_reset(dev, &err) == QTPM_OK, "reset: %s", err ? err : "?");

  QtpmRegionInfo regs, buf;
  int r = find_region(dev, "tpm-crb-mmio", &regs);
  int b = find_region(dev, "tpm-crb-cmd", &buf);
  ck_assert_int_ge(r, 0);
  ck_assert_int_ge(b, 0);
  ck_assert_int_eq(regs.kind, QTPM_REGION_MMIO);
  ck_assert_uint_eq(regs.fixed_address, 0xfed40000);
  ck_assert_int_eq(buf.kind, QTPM_REGION_RAM);
  ck_assert_uint_eq(buf.fixed_address, 0xfed40080);
  ck_assert_ptr_nonnull(buf.host_ptr);

  /* Locality 0, then TPM2_Startup(SU_CLEAR) through the buffer and CTRL_START. */
  qtpm_device_mmio_write(dev, (size_t)r, 0x08, 1, 4, NULL); /* LOC_CTRL: request access */
  const uint8_t startup[12] = {0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x44, 0, 0};
  memcpy(buf.host_ptr, startup, sizeof startup);
  qtpm_device_mmio_write(dev, (size_t)r, 0x4c, 1, 4, NULL); /* CTRL_START */
  for (int i = 0; i < 5000 && qtpm_device_mmio_read(dev, (size_t)r, 0x4c, 4, NULL); i++) {
    if (loop_run(&loop) == 0) usleep(1000);
  }
  ck_assert_uint_eq(qtpm_device_mmio_read(dev, (size_t)r, 0x4c, 4, NULL), 0); /* done */
  const uint8_t ok[10] = {0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0, 0};
  ck_assert_mem_eq(buf.host_ptr, ok, sizeof ok);

  char *json = qtpm_device_query_tpm_json(dev, &err);
  ck_assert_ptr_nonnull(strstr(json, "\"model\":\"tpm-crb\""));
  ck_assert_ptr_nonnull(strstr(json, "\"type\":\"libtpms\""));
  qtpm_free(json);
  uint8_t *config = NULL;
  size_t len = 0;
  ck_assert_int_eq(qtpm_device_tpm_config(dev, &config, &len, &err), QTPM_OK);
  const uint8_t want[6] = {0x00, 0x50, 0xd4, 0xfe, 2, 1};
  ck_assert_mem_eq(config, want, sizeof want);
  qtpm_free(config);
  uint8_t *blob = NULL;
  ck_assert_int_eq(qtpm_device_save_state(dev, &blob, &len, &err), QTPM_OK);
  ck_assert_int_eq(qtpm_device_load_state(dev, blob, len, &err), QTPM_OK);
  qtpm_free(blob);

  /* ACPI: Device (TPM) { ... } (ExtOpPrefix DeviceOp, PkgLength, NameSeg "TPM_") and the
   * TPM2 table with the CRB start method and QEMU's log area. */
  uint8_t *aml = NULL;
  ck_assert_int_eq(qtpm_device_acpi_aml(dev, &aml, &len, &err), QTPM_OK);
  ck_assert_uint_gt(len, 100);
  ck_assert_uint_eq(aml[0], 0x5b);
  ck_assert_uint_eq(aml[1], 0x82);
  ck_assert_ptr_nonnull(memmem(aml, len, "TPM_", 4));
  ck_assert_ptr_nonnull(memmem(aml, len, "MSFT0101", 8));
  ck_assert_ptr_nonnull(memmem(aml, len, "_DSM", 4)); /* PPI is on by default */
  qtpm_free(aml);
  QtpmAcpiTable table;
  ck_assert_int_eq(qtpm_device_acpi_table(dev, NULL, NULL, &table, &err), QTPM_OK);
  ck_assert_str_eq(table.signature, "TPM2");
  ck_assert_uint_eq(table.len, 76);
  ck_assert_mem_eq(table.data, "TPM2", 4);
  ck_assert_uint_eq(table.data[9], 0);                       /* checksum left to the loader */
  ck_assert_mem_eq(table.data + 10, "BOCHS BXPC    ", 14);   /* QEMU's ids by default */
  ck_assert_uint_eq(table.data[48], 7);                      /* start method: CRB */
  ck_assert_uint_eq(table.log_size, 0x10000);
  ck_assert_uint_eq(table.log_pointer_offset, 68);
  ck_assert_uint_eq(table.log_pointer_size, 8);
  qtpm_acpi_table_free(&table);
  ck_assert_ptr_null(table.data);
  ck_assert_int_eq(qtpm_device_acpi_table(dev, "TOOLONGID", NULL, &table, &err), QTPM_ERROR);
  expect_error(err, "OEM ids");
  qtpm_device_free(dev);
  qtpm_backend_free(be);
}
END_TEST

START_TEST(test_real_tis_sysbus_needs_address) {
  /* tpm-tis-device is placed by the machine: no ACPI until the embedder says where. */
  char **frontends = qtpm_type_list(QTPM_TYPE_FRONTEND);
  char **backends = qtpm_type_list(QTPM_TYPE_BACKEND);
  int have = strv_contains(frontends, "tpm-tis-device") && strv_contains(backends, "libtpms");
  qtpm_strv_free(frontends);
  qtpm_strv_free(backends);
  if (!have) return;

  char *err = NULL;
  QtpmBackend *be = qtpm_backend_new(host, "libtpms", "id=lt0", &err);
  ck_assert_ptr_nonnull(be);
  QtpmDevice *dev = qtpm_device_new(host, "tpm-tis-device", &err);
  ck_assert_int_eq(qtpm_device_set_backend(dev, be, &err), QTPM_OK);
  ck_assert_msg(qtpm_device_realize(dev, &err) == QTPM_OK, "realize: %s", err ? err : "?");
  QtpmRegionInfo r;
  ck_assert_int_eq(qtpm_device_region_info(dev, 0, &r), QTPM_OK);
  ck_assert(!r.has_fixed_address);
  ck_assert_uint_eq(qtpm_device_irq_count(dev), 1);
  uint8_t *aml = NULL;
  size_t len = 0;
  ck_assert_int_eq(qtpm_device_acpi_aml(dev, &aml, &len, &err), QTPM_ERROR);
  qtpm_free(err);
  ck_assert_int_eq(qtpm_device_set_mapped_address(dev, 1, 0x0c000000, &err), QTPM_ERROR);
  qtpm_free(err);
  ck_assert_int_eq(qtpm_device_set_mapped_address(dev, 0, 0x0c000000, &err), QTPM_OK);
  ck_assert_int_eq(qtpm_device_acpi_aml(dev, &aml, &len, &err), QTPM_OK);
  ck_assert_ptr_nonnull(memmem(aml, len, "TPM0", 4));
  /* Memory32Fixed (0x86), read-write, base 0x0c000000, length 0x5000, little endian. */
  const uint8_t range[] = {0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x50, 0x00, 0x00};
  ck_assert_ptr_nonnull(memmem(aml, len, range, sizeof range));
  qtpm_free(aml);
  qtpm_device_free(dev);
  qtpm_backend_free(be);
}
END_TEST

int main(void) {
  Suite *s = suite_create("capi");
  TCase *tc = tcase_create("capi");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_version_and_types);
  tcase_add_test(tc, test_trace_enable);
  tcase_add_test(tc, test_host_needs_post);
  tcase_add_test(tc, test_backend_errors);
  tcase_add_test(tc, test_device_errors);
  tcase_add_test(tc, test_properties_enumerated);
  tcase_add_test(tc, test_regions_and_mmio);
  tcase_add_test(tc, test_command_irq_reset);
  tcase_add_test(tc, test_tpm_config);
  tcase_add_test(tc, test_startup_failure_reported);
  tcase_add_test(tc, test_saved_state);
  tcase_add_test(tc, test_chardevs);
  tcase_add_test(tc, test_backend_freed_before_device);
  tcase_add_test(tc, test_free_with_command_in_flight);
  tcase_add_test(tc, test_registered_types);
  tcase_add_test(tc, test_real_crb_over_libtpms);
  tcase_add_test(tc, test_real_tis_sysbus_needs_address);
  suite_add_tcase(s, tc);
  SRunner *runner = srunner_create(s);
  srunner_run_all(runner, CK_NORMAL);
  int failed = srunner_ntests_failed(runner);
  srunner_free(runner);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
