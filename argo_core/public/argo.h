/*
 * argo.h - the Argo hypercall ABI, as Xen's public/argo.h defines it.
 *
 * C-compatible. Guest code written for Xen's public header compiles against
 * this one unchanged: same type, struct, field and constant names, same
 * x86-64 layout (checked below with static asserts on every size and
 * offset).
 *
 * The one model-specific fact: a guest handle carries a guest-*physical*
 * address in this model (Xen uses the guest's virtual address). Its storage
 * is the same 8 bytes.
 *
 * Extensions of this project (implicit destinations, nesting) are at the end,
 * under "Extensions"; they use values Xen leaves unassigned.
 */
#ifndef ARGO_CORE_PUBLIC_ARGO_H_
#define ARGO_CORE_PUBLIC_ARGO_H_

#include <stdint.h>

#include "argo_core/public/xen_errno.h"

#ifdef __cplusplus
#define ARGO_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#define ARGO_ALIGNOF(type) alignof(type)
#else
#define ARGO_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#define ARGO_ALIGNOF(type) _Alignof(type)
#endif

/* Flexible array members: C99 spelling, GNU spelling for C++. */
#ifndef XEN_FLEX_ARRAY_DIM
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L
#define XEN_FLEX_ARRAY_DIM /* empty */
#else
#define XEN_FLEX_ARRAY_DIM 0
#endif
#endif

/* ---- Domain identifiers (xen.h) ---------------------------------------- */

typedef uint16_t domid_t;

#ifndef DOMID_FIRST_RESERVED
#define DOMID_FIRST_RESERVED 0x7FF0U
#define DOMID_SELF 0x7FF0U
#define DOMID_IO 0x7FF1U
#define DOMID_XEN 0x7FF2U
#define DOMID_COW 0x7FF3U
#define DOMID_INVALID 0x7FF4U
#define DOMID_ANY 0x7FF5U
#define DOMID_IDLE 0x7FFFU
#endif

/* ---- Guest handles (xen.h / arch-x86/xen.h) ----------------------------- */

#ifndef XEN_GUEST_HANDLE
#define ___DEFINE_XEN_GUEST_HANDLE(name, type) \
  typedef struct {                             \
    type *p;                                   \
  } __guest_handle_##name
#define __DEFINE_XEN_GUEST_HANDLE(name, type) \
  ___DEFINE_XEN_GUEST_HANDLE(name, type);     \
  ___DEFINE_XEN_GUEST_HANDLE(const_##name, const type)
#define DEFINE_XEN_GUEST_HANDLE(name) __DEFINE_XEN_GUEST_HANDLE(name, name)
#define XEN_GUEST_HANDLE(name) __guest_handle_##name
#define set_xen_guest_handle_raw(hnd, val) \
  do {                                     \
    (hnd).p = (val);                       \
  } while (0)
#define set_xen_guest_handle(hnd, val) set_xen_guest_handle_raw(hnd, val)
__DEFINE_XEN_GUEST_HANDLE(uint8, uint8_t);
#endif

/* ---- Argo (public/argo.h) ----------------------------------------------- */

#define XEN_ARGO_DOMID_ANY DOMID_INVALID

/* The largest ring, in bytes of message data (not counting the header). */
#define XEN_ARGO_MAX_RING_SIZE (0x1000000ULL)

/* Fixed-width type for "argo port" number. Nothing to do with evtchns. */
typedef uint32_t xen_argo_port_t;

/* gfn type: 64-bit fixed-width on all architectures. */
typedef uint64_t xen_argo_gfn_t;

typedef struct xen_argo_addr {
  xen_argo_port_t aport;
  domid_t domain_id;
  uint16_t pad;
} xen_argo_addr_t;

typedef struct xen_argo_send_addr {
  struct xen_argo_addr src;
  struct xen_argo_addr dst;
} xen_argo_send_addr_t;

typedef struct xen_argo_ring {
  /* Written by the receiver only; guests use atomic accesses. */
  uint32_t rx_ptr;
  /* Written by the hypervisor only; guests use atomic accesses. */
  uint32_t tx_ptr;
  /* Reserved; keeps the ring data 64-byte aligned. */
  uint8_t reserved[56];
  uint8_t ring[XEN_FLEX_ARRAY_DIM];
} xen_argo_ring_t;

typedef struct xen_argo_register_ring {
  xen_argo_port_t aport;
  domid_t partner_id;
  uint16_t pad;
  uint32_t len;
} xen_argo_register_ring_t;

typedef struct xen_argo_unregister_ring {
  xen_argo_port_t aport;
  domid_t partner_id;
  uint16_t pad;
} xen_argo_unregister_ring_t;

/* Messages on the ring are padded to a multiple of the slot size. */
#define XEN_ARGO_MSG_SLOT_SIZE 0x10

/* Register flags. */
#define XEN_ARGO_REGISTER_FLAG_FAIL_EXIST 0x1
#define XEN_ARGO_REGISTER_FLAG_MASK 0x1

/* Notify ring-data entry flags (out). */
#define XEN_ARGO_RING_EXISTS (1U << 0)
#define XEN_ARGO_RING_SHARED (1U << 1)
#define XEN_ARGO_RING_EMPTY (1U << 2)
#define XEN_ARGO_RING_SUFFICIENT (1U << 3)
#define XEN_ARGO_RING_EMSGSIZE (1U << 4)
#define XEN_ARGO_RING_EBUSY (1U << 5)

typedef struct xen_argo_ring_data_ent {
  struct xen_argo_addr ring;
  uint16_t flags;
  uint16_t pad;
  uint32_t space_required;
  uint32_t max_message_size;
} xen_argo_ring_data_ent_t;

typedef struct xen_argo_ring_data {
  uint32_t nent;
  uint32_t pad;
  struct xen_argo_ring_data_ent data[XEN_FLEX_ARRAY_DIM];
} xen_argo_ring_data_t;

struct xen_argo_ring_message_header {
  uint32_t len; /* payload bytes + sizeof(this header) */
  struct xen_argo_addr source;
  uint32_t message_type;
  uint8_t data[XEN_FLEX_ARRAY_DIM];
};

typedef struct xen_argo_iov {
  XEN_GUEST_HANDLE(uint8) iov_hnd;
  uint32_t iov_len;
  uint32_t pad;
} xen_argo_iov_t;

#define XEN_ARGO_MAXIOV 8U

/* Hypercall operations: argo_op(cmd, arg1, arg2, arg3, arg4). */
#define XEN_ARGO_OP_register_ring 1
#define XEN_ARGO_OP_unregister_ring 2
#define XEN_ARGO_OP_sendv 3
#define XEN_ARGO_OP_notify 4

/* The per-domain interrupt raised on message arrival and space wake-ups. */
#define VIRQ_ARGO 11

/* ---- Extensions (this project; Xen leaves these values unassigned) ------ */

/* sendv/notify destination meaning "unset: resolve from the toolstack's
 * implicit-destination table" (with aport 0). */
#define ARGO_DOMID_IMPLICIT 0x7FF8U
/* Implicit-destination table target meaning "up to the next hypervisor". */
#define ARGO_DOMID_PARENT 0x7FF9U

/* ---- Layout checks (x86-64) --------------------------------------------- */

#if defined(__x86_64__) || defined(__aarch64__)
#define ARGO_OFFSETOF(type, member) __builtin_offsetof(type, member)
ARGO_STATIC_ASSERT(sizeof(xen_argo_addr_t) == 8, "xen_argo_addr_t size");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_addr_t, aport) == 0, "addr.aport");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_addr_t, domain_id) == 4,
                   "addr.domain_id");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_addr_t, pad) == 6, "addr.pad");

ARGO_STATIC_ASSERT(sizeof(xen_argo_send_addr_t) == 16, "send_addr size");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_send_addr_t, src) == 0,
                   "send_addr.src");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_send_addr_t, dst) == 8,
                   "send_addr.dst");

ARGO_STATIC_ASSERT(sizeof(xen_argo_iov_t) == 16, "xen_argo_iov_t size");
ARGO_STATIC_ASSERT(ARGO_ALIGNOF(xen_argo_iov_t) == 8, "xen_argo_iov_t align");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_iov_t, iov_hnd) == 0, "iov.hnd");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_iov_t, iov_len) == 8, "iov.len");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_iov_t, pad) == 12, "iov.pad");

ARGO_STATIC_ASSERT(sizeof(xen_argo_ring_t) == 64, "xen_argo_ring_t size");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_ring_t, rx_ptr) == 0, "ring.rx_ptr");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_ring_t, tx_ptr) == 4, "ring.tx_ptr");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_ring_t, reserved) == 8,
                   "ring.reserved");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_ring_t, ring) == 64, "ring.ring");

ARGO_STATIC_ASSERT(sizeof(xen_argo_register_ring_t) == 12, "register size");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_register_ring_t, aport) == 0,
                   "register.aport");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_register_ring_t, partner_id) == 4,
                   "register.partner_id");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_register_ring_t, pad) == 6,
                   "register.pad");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_register_ring_t, len) == 8,
                   "register.len");

ARGO_STATIC_ASSERT(sizeof(xen_argo_unregister_ring_t) == 8, "unregister size");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_unregister_ring_t, aport) == 0,
                   "unregister.aport");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_unregister_ring_t, partner_id) == 4,
                   "unregister.partner_id");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_unregister_ring_t, pad) == 6,
                   "unregister.pad");

ARGO_STATIC_ASSERT(sizeof(xen_argo_ring_data_ent_t) == 20,
                   "ring_data_ent size");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_ring_data_ent_t, ring) == 0,
                   "ent.ring");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_ring_data_ent_t, flags) == 8,
                   "ent.flags");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_ring_data_ent_t, pad) == 10,
                   "ent.pad");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_ring_data_ent_t, space_required) ==
                       12,
                   "ent.space_required");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_ring_data_ent_t, max_message_size) ==
                       16,
                   "ent.max_message_size");

ARGO_STATIC_ASSERT(sizeof(xen_argo_ring_data_t) == 8, "ring_data size");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_ring_data_t, nent) == 0,
                   "ring_data.nent");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_ring_data_t, pad) == 4,
                   "ring_data.pad");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(xen_argo_ring_data_t, data) == 8,
                   "ring_data.data");

ARGO_STATIC_ASSERT(sizeof(struct xen_argo_ring_message_header) == 16,
                   "message header size");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(struct xen_argo_ring_message_header, len) == 0,
                   "header.len");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(struct xen_argo_ring_message_header, source) ==
                       4,
                   "header.source");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(struct xen_argo_ring_message_header,
                                 message_type) == 12,
                   "header.message_type");
ARGO_STATIC_ASSERT(ARGO_OFFSETOF(struct xen_argo_ring_message_header, data) ==
                       16,
                   "header.data");
#undef ARGO_OFFSETOF
#endif

#endif /* ARGO_CORE_PUBLIC_ARGO_H_ */
