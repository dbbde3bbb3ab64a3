/*
 * argo_guest.h - libargo_guest's C interface (DESIGN §8): a guest process
 * attaches to its domain on an argo-hv daemon and uses Argo as a Xen guest
 * driver would.
 *
 * Return convention (every int / int64_t function below, unless it says
 * otherwise): >= 0 is success (a count where one is meaningful), a negative
 * value is a negated Xen errno (XEN_E* in argo_core/public/xen_errno.h).
 * -XEN_EIO means argo-hv went away: the call did not run. argo_strerror()
 * puts any of them in words.
 *
 * Handles are opaque. A ring handle belongs to its guest and is valid
 * until unregistered or the guest is detached. Thread safety: calls on one
 * guest may come from any thread (hypercalls are serialised); a ring is
 * read by one thread at a time.
 *
 * VIRQ_ARGO carries no payload and one wait consumes every pending raise:
 * after any wait (including inside argo_guest_send_retry), read every ring
 * until it is empty before waiting again.
 */
#ifndef GUEST_ARGO_GUEST_H_
#define GUEST_ARGO_GUEST_H_

#include <stddef.h>
#include <stdint.h>

#include "argo_core/public/argo.h"
#include "argo_core/public/argo_nesting.h"
#include "argo_core/public/xen_errno.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct argo_guest argo_guest_t;
typedef struct argo_guest_ring argo_guest_ring_t;

enum argo_guest_mode {
  ARGO_GUEST_MODE_BLOCKING = 1,    /* hypercalls over the socket */
  ARGO_GUEST_MODE_LOW_LATENCY = 2, /* shared doorbells, bounded spinning */
};

typedef struct argo_guest_options {
  const char *socket_path; /* the daemon's attach socket */
  const char *domain;      /* a domain name, or its domid in decimal */
  const char *token;       /* the domain's attach token */
  int mode;                /* enum argo_guest_mode; 0 means blocking */
  uint32_t vcpus;          /* low-latency doorbells 1..8; 0 means 1 */
} argo_guest_options_t;

/* One part of a message (at most XEN_ARGO_MAXIOV per send). */
typedef struct argo_guest_iov {
  const void *base;
  size_t len;
} argo_guest_iov_t;

/* What argo_guest_read found. */
typedef struct argo_guest_message_info {
  domid_t src_domain; /* stamped by the hypervisor */
  xen_argo_port_t src_port;
  uint32_t message_type;
  uint32_t len; /* payload bytes (also when the buffer is short) */
} argo_guest_message_info_t;

/* A received message read through its path block (argo_guest_parse_path). */
typedef struct argo_guest_path {
  uint32_t message_type;    /* the original message's type */
  xen_argo_port_t dst_port; /* the block's (argo_path_header_t); 0 if plain */
  uint32_t depth;           /* 1..ARGO_PATH_MAX_DEPTH hops; 0 if plain */
  xen_argo_addr_t hops[ARGO_PATH_MAX_DEPTH]; /* [0, depth), nearest first */
  /* The original payload: payload_len bytes at payload + payload_offset
   * (payload_offset + payload_len == the len given). */
  uint32_t payload_offset;
  uint32_t payload_len;
} argo_guest_path_t;

/* Attaches. On success returns 0 and sets *out; on failure returns a
 * negative errno (-XEN_ESRCH no such domain, -XEN_EACCES bad token,
 * -XEN_EBUSY already attached, -XEN_EINVAL bad options, -XEN_EIO no daemon)
 * and, if errbuf is not NULL, writes a NUL-terminated reason into it
 * (truncated to errbuf_len). */
int argo_guest_attach(const argo_guest_options_t *options, argo_guest_t **out,
                      char *errbuf, size_t errbuf_len);
/* Detaches and frees the guest and its ring handles. argo-hv treats it as
 * a crash of the domain: its rings are torn down. NULL is ignored. */
void argo_guest_detach(argo_guest_t *guest);

/* This guest's domid (never fails). */
int argo_guest_domid(const argo_guest_t *guest);
/* The attachment's VIRQ wake socket, readable when VIRQ_ARGO was raised,
 * for the guest's own poll loop (then call argo_guest_wait_virq(g, 0)). */
int argo_guest_virq_fd(const argo_guest_t *guest);

/* Allocates n guest-physical frames (gfns written to gfns[0..n)), e.g.
 * for buffers passed in raw hypercalls; returns n. Frames stay allocated
 * until freed or detach. */
int argo_guest_alloc_pages(argo_guest_t *guest, uint32_t n, uint64_t *gfns);
void argo_guest_free_pages(argo_guest_t *guest, uint32_t n,
                           const uint64_t *gfns);
/* This process's pointer to guest-physical [gpa, gpa + len), NULL if out
 * of range. Valid until detach. */
void *argo_guest_gpa_to_ptr(argo_guest_t *guest, uint64_t gpa, uint64_t len);

/* Registers a ring of len bytes on port, accepting messages from partner,
 * or from any domain if partner is XEN_ARGO_DOMID_ANY (a wildcard ring). */
int argo_guest_register_ring(argo_guest_t *guest, xen_argo_port_t port,
                             domid_t partner, uint32_t len,
                             argo_guest_ring_t **out);
/* Unregisters and frees the handle (also when the hypervisor had already
 * torn the ring down: then -XEN_ENOENT). */
int argo_guest_unregister_ring(argo_guest_t *guest, argo_guest_ring_t *ring);

/* sendv from src_port to dst_domain:dst_port; returns the payload length.
 * -XEN_EAGAIN: the ring is full (wait for a VIRQ and retry, or use
 * argo_guest_send_retry). */
int64_t argo_guest_sendv(argo_guest_t *guest, xen_argo_port_t src_port,
                         domid_t dst_domain, xen_argo_port_t dst_port,
                         const argo_guest_iov_t *iov, uint32_t niov,
                         uint32_t message_type);
/* sendv to wherever src_port is cabled (the implicit destination). */
int64_t argo_guest_send_implicit(argo_guest_t *guest, xen_argo_port_t src_port,
                                 const void *data, size_t len,
                                 uint32_t message_type);
/* Sends to *dst (NULL: the implicit destination); while the ring is full,
 * asks for space, waits for VIRQs and retries, for up to timeout_ms
 * (< 0: for ever), then -XEN_EAGAIN. */
int64_t argo_guest_send_retry(argo_guest_t *guest, xen_argo_port_t src_port,
                              const xen_argo_addr_t *dst, const void *data,
                              size_t len, uint32_t message_type,
                              int timeout_ms);

/* notify(NULL): "I consumed; wake senders waiting on my rings". */
int argo_guest_notify_null(argo_guest_t *guest);
/* notify with one entry naming the implicit sentinel: asks about the ring
 * src_port is cabled to, needing space_required payload bytes. Writes the
 * entry's XEN_ARGO_RING_* flags and max_message_size (either may be NULL).
 * flags 0: not cabled, or no such ring. If the space is not there, the
 * hypervisor raises a VIRQ when it is. */
int argo_guest_notify_implicit(argo_guest_t *guest, xen_argo_port_t src_port,
                               uint32_t space_required, uint16_t *flags,
                               uint32_t *max_message_size);

/* Waits up to timeout_ms (< 0: for ever) for VIRQ_ARGO. Returns 1 if it was
 * raised, 0 on timeout, -XEN_EIO if argo-hv went away. */
int argo_guest_wait_virq(argo_guest_t *guest, int timeout_ms);

/* Reads the next message of ring (DESIGN §3.5), copying its payload into
 * buf and filling *info (may be NULL). Returns the payload length;
 * -XEN_EAGAIN if the ring is empty; -XEN_EMSGSIZE if cap is smaller than
 * the payload: then nothing is consumed and info->len says how much room
 * it needs; -XEN_EFAULT if the ring held a header that cannot be valid
 * (the ring is then reset to empty). After reading, call
 * argo_guest_notify_null() so senders waiting for space wake up. */
int64_t argo_guest_read(argo_guest_ring_t *ring, void *buf, size_t cap,
                        argo_guest_message_info_t *info);

/* Reads a received message (its payload of len bytes and message_type, as
 * argo_guest_read gave them) through its path block. A message that crossed
 * hypervisor levels has message_type ARGO_MSG_TYPE_PATH and a payload that
 * starts with the block (argo_core/public/argo_nesting.h); the sender's name
 * relative to this guest is then "info.src_domain:info.src_port / hops[0] /
 * ... / hops[depth-1]" (a hop's domain_id may be ARGO_DOMID_PARENT).
 * Returns out->depth: 1..ARGO_PATH_MAX_DEPTH for a path message; 0 for a
 * plain message (message_type as given, the whole payload), so callers may
 * use out->message_type and the payload at out->payload_offset either way;
 * -XEN_EINVAL if message_type is ARGO_MSG_TYPE_PATH but the payload does not
 * start with a well-formed block (it came from another level: never treat
 * it as plain), or out is NULL, or payload is NULL with len > 0. On
 * -XEN_EINVAL *out is unchanged. Pure: no guest is needed. */
int argo_guest_parse_path(const void *payload, uint32_t len,
                          uint32_t message_type, argo_guest_path_t *out);

/* The raw hypercall argo_op(cmd, arg1..arg4). Handles are guest-physical
 * addresses (see argo_guest_alloc_pages, argo_guest_gpa_to_ptr). */
int64_t argo_guest_hypercall(argo_guest_t *guest, unsigned int cmd,
                             uint64_t arg1, uint64_t arg2, uint64_t arg3,
                             uint64_t arg4);

/* "ECONNREFUSED: no ring accepts the message (or the port is not cabled)"
 * for XEN_ECONNREFUSED (either sign). Static storage; never NULL. */
const char *argo_strerror(int xen_errno);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GUEST_ARGO_GUEST_H_ */
