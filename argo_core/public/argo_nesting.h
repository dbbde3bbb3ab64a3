/*
 * argo_nesting.h - how a message that crossed hypervisor levels looks to
 * the guest that receives it (DESIGN §7; docs/nesting.md).
 *
 * C-compatible, part of this project's extensions to Xen's ABI. A plain
 * Argo receiver still gets a well-formed message: the normal 16-byte
 * message header (source = the hop that delivered it at this level), with
 * message_type ARGO_MSG_TYPE_PATH and a payload that starts with a path
 * block:
 *
 *   argo_path_header_t          16 bytes
 *   xen_argo_addr_t hops[depth] 8 bytes each, the nearest hop first
 *   the original payload
 *
 * hops[0] is the source the message had at the level it came from, hops[1]
 * the one before that, and so on: the receiver's relative name for the
 * sender is "header source / hops[0] / ... / hops[depth-1]". A hop's
 * domain_id is a domid at its own level, or ARGO_DOMID_PARENT for a message
 * that came down from that level's parent. No level knows more than its own
 * guests; nothing keeps a translation for levels below.
 */
#ifndef ARGO_CORE_PUBLIC_ARGO_NESTING_H_
#define ARGO_CORE_PUBLIC_ARGO_NESTING_H_

#include <stdint.h>

#include "argo_core/public/argo.h"

/* The message type of a message carrying a path block ("PATH"). Only a
 * level's forwarder may send it: a guest's sendv with it gets -EINVAL. */
#define ARGO_MSG_TYPE_PATH 0x48544150U
/* argo_path_header_t.magic ("ANP1"). */
#define ARGO_PATH_MAGIC 0x31504E41U
/* Hops a path may hold; one more is -ELOOP (a send) or a counted drop. */
#define ARGO_PATH_MAX_DEPTH 8
/* Bytes of the largest path block. */
#define ARGO_PATH_MAX_BYTES (16 + 8 * ARGO_PATH_MAX_DEPTH)

/* A child level's receive buffers in its parent: one wildcard ring per CPU
 * of the child, on ports ARGO_LEVEL_RX_PORT_BASE + cpu. Sends to a child
 * level's domain never name these ports (-ECONNREFUSED): the parent places
 * every message for the child in one of them itself. */
#define ARGO_LEVEL_RX_PORT_BASE 0xFFFFFF00U
#define ARGO_LEVEL_MAX_CPUS 64

typedef struct argo_path_header {
  uint32_t magic;        /* ARGO_PATH_MAGIC */
  uint32_t message_type; /* the original message's type */
  /* Going down: the port at the receiving level the parent's cable named
   * (the receiver's header source is then ARGO_DOMID_PARENT:dst_port).
   * Going up: 0. */
  uint32_t dst_port;
  uint8_t depth;  /* 1..ARGO_PATH_MAX_DEPTH hops follow */
  uint8_t version; /* 1 */
  uint16_t reserved; /* 0 */
} argo_path_header_t;

ARGO_STATIC_ASSERT(sizeof(argo_path_header_t) == 16, "path header size");

#endif /* ARGO_CORE_PUBLIC_ARGO_NESTING_H_ */
