/*
 * A guest written in C against libargo_guest's C interface, driven by
 * c_api_test: attaches as a domain, says hello to the peer's ring, echoes
 * one message back to its sender, sends implicitly over its cable, and
 * checks a few errors on the way. Every step prints one line; any failure
 * prints to stderr and exits 1.
 *
 *   c_guest_example SOCKET DOMID TOKEN PEER_DOMID
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/argo_guest.h"

enum {
  kMyPort = 20,      /* the ring this guest listens on */
  kPeerPort = 30,    /* the peer's ring */
  kCabledPort = 10,  /* cabled to the peer by the test's level */
  kMissingPort = 99, /* no ring there */
};

static int Fail(const char *what, int64_t rc) {
  fprintf(stderr, "c_guest_example: %s: %s\n", what, argo_strerror((int)rc));
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: c_guest_example SOCKET DOMID TOKEN PEER_DOMID\n");
    return 2;
  }
  const domid_t peer = (domid_t)atoi(argv[4]);
  argo_guest_options_t options = {argv[1], argv[2], argv[3],
                                  ARGO_GUEST_MODE_BLOCKING, 1};
  argo_guest_t *g = NULL;
  char why[128];
  int rc = argo_guest_attach(&options, &g, why, sizeof(why));
  if (rc < 0) {
    fprintf(stderr, "c_guest_example: attach: %s\n", why);
    return 1;
  }
  printf("attached as %d\n", argo_guest_domid(g));

  argo_guest_ring_t *ring = NULL;
  rc = argo_guest_register_ring(g, kMyPort, peer, 4096, &ring);
  if (rc < 0) return Fail("register", rc);

  /* Two iovs, one message. */
  const char hello[] = "hello ";
  const char from_c[] = "from C";
  const argo_guest_iov_t iov[2] = {{hello, strlen(hello)},
                                   {from_c, strlen(from_c)}};
  int64_t sent = argo_guest_sendv(g, kMyPort, peer, kPeerPort, iov, 2, 1);
  if (sent < 0) return Fail("sendv", sent);
  printf("sent %lld bytes\n", (long long)sent);

  sent = argo_guest_sendv(g, kMyPort, peer, kMissingPort, iov, 1, 1);
  printf("missing ring: %s\n", argo_strerror((int)sent));

  /* Wait for the peer's message; read it first into a buffer too small. */
  argo_guest_message_info_t info;
  char small[2];
  char buf[256];
  int64_t got;
  int waits = 0;
  while ((got = argo_guest_read(ring, small, sizeof(small), &info)) ==
         -XEN_EAGAIN) {
    if (++waits > 100) return Fail("waiting for the peer", got);
    if (argo_guest_wait_virq(g, 100) < 0) return Fail("wait", -XEN_EIO);
  }
  if (got != -XEN_EMSGSIZE) return Fail("short read", got);
  printf("short buffer: needs %u\n", info.len);
  got = argo_guest_read(ring, buf, sizeof(buf) - 1, &info);
  if (got < 0) return Fail("read", got);
  buf[got] = '\0';
  printf("got \"%s\" from %u:%u type %u\n", buf, info.src_domain, info.src_port,
         info.message_type);
  rc = argo_guest_notify_null(g);
  if (rc < 0) return Fail("notify", rc);

  /* Echo it to where it came from. */
  char echo[300];
  snprintf(echo, sizeof(echo), "echo: %s", buf);
  const xen_argo_addr_t back = {info.src_port, info.src_domain, 0};
  sent = argo_guest_send_retry(g, kMyPort, &back, echo, strlen(echo),
                               info.message_type, 5000);
  if (sent < 0) return Fail("echo", sent);
  printf("echoed\n");

  /* Over the cable: ask about the far ring, then send to it. */
  uint16_t flags = 0;
  uint32_t max_message = 0;
  rc = argo_guest_notify_implicit(g, kCabledPort, 16, &flags, &max_message);
  if (rc < 0) return Fail("notify implicit", rc);
  printf("cabled ring: flags %u max %u\n", flags, max_message);
  const char implicit_text[] = "implicit from C";
  sent = argo_guest_send_implicit(g, kCabledPort, implicit_text,
                                  strlen(implicit_text), 2);
  if (sent < 0) return Fail("send implicit", sent);
  sent = argo_guest_send_implicit(g, kMyPort, implicit_text, 1, 2);
  printf("uncabled: %s\n", argo_strerror((int)sent));

  /* Raw: a page for arguments, an op the hypervisor does not know. */
  uint64_t gfn = 0;
  rc = argo_guest_alloc_pages(g, 1, &gfn);
  if (rc != 1 || argo_guest_gpa_to_ptr(g, gfn * 4096, 4096) == NULL) {
    return Fail("alloc pages", rc);
  }
  printf("raw op 99: %lld\n",
         (long long)argo_guest_hypercall(g, 99, 0, 0, 0, 0));
  argo_guest_free_pages(g, 1, &gfn);

  rc = argo_guest_unregister_ring(g, ring);
  if (rc < 0) return Fail("unregister", rc);
  argo_guest_detach(g);
  printf("done\n");
  return 0;
}
