/*
 * argo_guest_parse_path from C (compiled as C): path blocks built here by
 * hand from argo_nesting.h, plain messages, and every kind of malformed
 * block. Prints each failed check to stderr; exits 1 if any failed.
 */
#include <stdio.h>
#include <string.h>

#include "guest/argo_guest.h"

static int failures = 0;

#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "c_path_test.c:%d: CHECK(%s)\n", __LINE__, #cond); \
      ++failures;                                                        \
    }                                                                    \
  } while (0)

/* Writes a block (header fields as given, hops dom(1+i):(20+i)) followed by
 * `text` into buf; returns the bytes written. buf holds >= 16 + 8 * nhops +
 * strlen(text). */
static uint32_t Build(uint8_t *buf, uint32_t magic, uint8_t version,
                      uint8_t depth, uint16_t reserved, int nhops,
                      const char *text) {
  argo_path_header_t header;
  memset(&header, 0, sizeof(header));
  header.magic = magic;
  header.message_type = 9;
  header.dst_port = 7;
  header.depth = depth;
  header.version = version;
  header.reserved = reserved;
  memcpy(buf, &header, sizeof(header));
  uint32_t n = sizeof(header);
  for (int i = 0; i < nhops; ++i) {
    xen_argo_addr_t hop = {20u + (uint32_t)i, (domid_t)(1 + i), 0};
    if (i == 1) hop.domain_id = ARGO_DOMID_PARENT;
    memcpy(buf + n, &hop, sizeof(hop));
    n += sizeof(hop);
  }
  memcpy(buf + n, text, strlen(text));
  return n + (uint32_t)strlen(text);
}

static void PlainMessageIsDepthZeroWithTheWholePayload(void) {
  argo_guest_path_t p;
  memset(&p, 0xAB, sizeof(p));
  CHECK(argo_guest_parse_path("hello", 5, 3, &p) == 0);
  CHECK(p.message_type == 3);
  CHECK(p.depth == 0);
  CHECK(p.dst_port == 0);
  CHECK(p.payload_offset == 0);
  CHECK(p.payload_len == 5);
  CHECK(argo_guest_parse_path(NULL, 0, 3, &p) == 0);
  CHECK(p.payload_len == 0);
}

static void PathMessageGivesHopsTypeAndOriginalPayload(void) {
  uint8_t buf[ARGO_PATH_MAX_BYTES + 16];
  const uint32_t n = Build(buf, ARGO_PATH_MAGIC, 1, 2, 0, 2, "hello");
  argo_guest_path_t p;
  CHECK(argo_guest_parse_path(buf, n, ARGO_MSG_TYPE_PATH, &p) == 2);
  CHECK(p.message_type == 9);
  CHECK(p.dst_port == 7);
  CHECK(p.depth == 2);
  CHECK(p.hops[0].domain_id == 1 && p.hops[0].aport == 20);
  CHECK(p.hops[1].domain_id == ARGO_DOMID_PARENT && p.hops[1].aport == 21);
  CHECK(p.payload_offset == 32);
  CHECK(p.payload_len == 5);
  CHECK(memcmp(buf + p.payload_offset, "hello", 5) == 0);

  const uint32_t full = Build(buf, ARGO_PATH_MAGIC, 1, ARGO_PATH_MAX_DEPTH, 0,
                              ARGO_PATH_MAX_DEPTH, "");
  CHECK(argo_guest_parse_path(buf, full, ARGO_MSG_TYPE_PATH, &p) ==
        ARGO_PATH_MAX_DEPTH);
  CHECK(p.hops[ARGO_PATH_MAX_DEPTH - 1].aport == 20 + ARGO_PATH_MAX_DEPTH - 1);
  CHECK(p.payload_offset == ARGO_PATH_MAX_BYTES && p.payload_len == 0);
}

/* -XEN_EINVAL and *out untouched. */
static void ExpectMalformed(const uint8_t *buf, uint32_t n) {
  argo_guest_path_t p, before;
  memset(&p, 0x5A, sizeof(p));
  memcpy(&before, &p, sizeof(p));
  CHECK(argo_guest_parse_path(buf, n, ARGO_MSG_TYPE_PATH, &p) == -XEN_EINVAL);
  CHECK(memcmp(&p, &before, sizeof(p)) == 0);
}

static void MalformedBlocksAreEinval(void) {
  uint8_t buf[16 + 8 * 9 + 16];
  uint32_t n;
  n = Build(buf, ARGO_PATH_MAGIC ^ 1u, 1, 1, 0, 1, "x"); /* magic */
  ExpectMalformed(buf, n);
  n = Build(buf, ARGO_PATH_MAGIC, 2, 1, 0, 1, "x"); /* version */
  ExpectMalformed(buf, n);
  n = Build(buf, ARGO_PATH_MAGIC, 1, 1, 1, 1, "x"); /* reserved */
  ExpectMalformed(buf, n);
  n = Build(buf, ARGO_PATH_MAGIC, 1, 0, 0, 1, "x"); /* depth 0 */
  ExpectMalformed(buf, n);
  n = Build(buf, ARGO_PATH_MAGIC, 1, 9, 0, 9, "x"); /* depth 9 */
  ExpectMalformed(buf, n);
  n = Build(buf, ARGO_PATH_MAGIC, 1, 3, 0, 3, ""); /* a hop short */
  ExpectMalformed(buf, n - 1);
  ExpectMalformed(buf, 15); /* a header short */
  ExpectMalformed(buf, 0);
  n = Build(buf, ARGO_PATH_MAGIC, 1, 2, 0, 2, "x");
  buf[16 + 8 + 6] = 1; /* hops[1].pad */
  ExpectMalformed(buf, n);
}

static void BadArgumentsAreEinval(void) {
  uint8_t buf[64];
  const uint32_t n = Build(buf, ARGO_PATH_MAGIC, 1, 1, 0, 1, "");
  argo_guest_path_t p;
  CHECK(argo_guest_parse_path(buf, n, ARGO_MSG_TYPE_PATH, NULL) == -XEN_EINVAL);
  CHECK(argo_guest_parse_path(NULL, 4, 3, &p) == -XEN_EINVAL);
  CHECK(argo_guest_parse_path(NULL, 0, ARGO_MSG_TYPE_PATH, &p) == -XEN_EINVAL);
}

int main(void) {
  PlainMessageIsDepthZeroWithTheWholePayload();
  PathMessageGivesHopsTypeAndOriginalPayload();
  MalformedBlocksAreEinval();
  BadArgumentsAreEinval();
  if (failures != 0) {
    fprintf(stderr, "c_path_test: %d checks failed\n", failures);
    return 1;
  }
  printf("c_path_test: all checks passed\n");
  return 0;
}
