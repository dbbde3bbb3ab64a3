// Nesting at one level (DESIGN §7, docs/nesting.md): sends cabled up to the
// parent, sends to a child level's domain (wrapped with a path and spread
// over its per-CPU receive buffers), and path-carrying messages from child
// levels. Off the plain send path: sendv branches here only for these.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "argo_core/hypervisor.h"
#include "argo_core/public/xen_errno.h"

namespace argo {
namespace {

// The parts of `in` after its first `skip` bytes.
void SkipBytes(const MessagePart* in, uint32_t nin, uint32_t skip,
               MessagePart* out, uint32_t* nout) {
  *nout = 0;
  for (uint32_t i = 0; i < nin; ++i) {
    if (skip >= in[i].len) {
      skip -= in[i].len;
      continue;
    }
    out[(*nout)++] = MessagePart{in[i].data + skip, in[i].len - skip};
    skip = 0;
  }
}

// A 64-bit mix (the finaliser of MurmurHash3): every input bit reaches
// every output bit, so nearby ports spread over the buffers.
uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

uint64_t AddrBits(const xen_argo_addr_t& a) {
  return (uint64_t{a.domain_id} << 32) | a.aport;
}

// The sender's iovs as pieces of its memory, and their total: sendv's
// iov rule (EINVAL, EMSGSIZE) and EFAULT for an iov outside its memory.
int ReadPayload(const Domain& sender, const xen_argo_iov_t* iovs,
                uint32_t niov, MessagePart* payload, uint32_t* npayload,
                uint32_t* total) {
  if (int err = IovCount(iovs, niov, total); err != 0) return err;
  if (TranslateIovs(*sender.memory, iovs, niov, payload, npayload) != 0) {
    return -XEN_EFAULT;
  }
  return 0;
}

}  // namespace

uint32_t Hypervisor::FlowBuffer(const xen_argo_addr_t& source,
                                xen_argo_port_t dst_port,
                                const xen_argo_addr_t& origin, uint32_t cpus) {
  const uint64_t h =
      Mix(AddrBits(source) ^ Mix(dst_port ^ Mix(AddrBits(origin))));
  return static_cast<uint32_t>(h % cpus);
}

int Hypervisor::BuildNested(bool from_level, const xen_argo_addr_t& hop,
                            uint32_t message_type, const MessagePart* payload,
                            uint32_t npayload, xen_argo_port_t dst_port,
                            NestedMessage* out, const NamePath* parsed) {
  NamePath& path = out->path;
  uint32_t skip = 0;
  if (message_type == ARGO_MSG_TYPE_PATH) {
    // Only a level (its forwarder) speaks for names below it.
    if (!from_level) return -XEN_EINVAL;
    if (parsed != nullptr) {
      path = *parsed;
      skip = parsed->BlockBytes();
    } else {
      const int bytes =
          ParseNamePath(absl::MakeConstSpan(payload, npayload), &path);
      if (bytes < 0) return bytes;
      skip = static_cast<uint32_t>(bytes);
    }
  } else {
    path = NamePath{};
    path.message_type = message_type;
  }
  if (!path.Push(hop)) {
    nesting_.loops.fetch_add(1, std::memory_order_relaxed);
    return -XEN_ELOOP;
  }
  path.dst_port = dst_port;
  const uint32_t block = WriteNamePath(path, out->block);
  out->parts[0] = MessagePart{out->block, block};
  uint32_t rest = 0;
  SkipBytes(payload, npayload, skip, out->parts + 1, &rest);
  out->nparts = 1 + rest;
  uint64_t total = block;
  for (uint32_t i = 1; i < out->nparts; ++i) total += out->parts[i].len;
  if (total > kMaxMessageSize) return -XEN_EMSGSIZE;
  out->total = static_cast<uint32_t>(total);
  return 0;
}

int64_t Hypervisor::InsertInLevel(Domain& dst, const xen_argo_addr_t& source,
                                  const NestedMessage& m, domid_t waiter) {
  const uint32_t cpus = dst.level_cpus.load(std::memory_order_relaxed);
  if (cpus == 0) return -XEN_ECONNREFUSED;  // unmarked meanwhile
  const NamePath& path = m.path;
  const uint32_t buffer =
      FlowBuffer(source, path.dst_port, path.hops[path.depth - 1], cpus);
  ReadGuard rings_l2(&dst.rings_l2_mu_);
  RingInfo* ring =
      FindRingByMatch(dst, ARGO_LEVEL_RX_PORT_BASE + buffer, source.domain_id);
  if (ring == nullptr) return -XEN_ECONNREFUSED;
  // At most half a buffer per message: then a sender can wait for room
  // only while the buffer is at least half full, which the level can see
  // from its side and notify (for room) only then, not after every drain.
  if (kMessageHeaderSize + RoundupMessage(m.total) > ring->len() / 2) {
    return -XEN_EMSGSIZE;
  }
  SpinLockGuard l3(&ring->l3_mu_);
  int64_t rc = ring->InsertHost(source, ARGO_MSG_TYPE_PATH,
                                absl::MakeConstSpan(m.parts, m.nparts),
                                m.total);
  if (rc == -XEN_EAGAIN && waiter != XEN_ARGO_DOMID_ANY) {
    if (int err = PendingRequeue(*ring, waiter, m.total); err != 0) rc = err;
  }
  if (rc >= 0) nesting_.down_wrapped.fetch_add(1, std::memory_order_relaxed);
  return rc;
}

int64_t Hypervisor::SendvUp(Domain& currd,
                            const xen_argo_send_addr_t& send_addr,
                            const xen_argo_iov_t* iovs, uint32_t niov,
                            uint32_t message_type,
                            xen_argo_port_t parent_port) {
  Uplink* uplink = uplink_.load(std::memory_order_acquire);
  if (uplink == nullptr) return -XEN_ENOSYS;
  uint32_t total = 0;
  MessagePart payload[XEN_ARGO_MAXIOV];
  uint32_t npayload = 0;
  if (int err = ReadPayload(currd, iovs, niov, payload, &npayload, &total);
      err != 0) {
    return err;
  }
  NestedMessage m;
  const xen_argo_addr_t hop{send_addr.src.aport, currd.domid, 0};
  if (int err = BuildNested(currd.level_cpus.load(std::memory_order_relaxed),
                            hop, message_type, payload, npayload,
                            /*dst_port=*/0, &m);
      err != 0) {
    return err;
  }
  int64_t rc = uplink->SendUp(UpwardMessage{
      currd.domid, parent_port, absl::MakeConstSpan(m.parts, m.nparts),
      m.total});
  if (rc >= 0) rc = total;  // the sender's payload, not the path's
  (rc >= 0 ? nesting_.up_forwarded : nesting_.up_refused)
      .fetch_add(1, std::memory_order_relaxed);
  currd.sent.Count(rc, total);
  return rc;
}

int Hypervisor::CheckPathFromLevel(const Domain& currd,
                                   const xen_argo_iov_t* iovs, uint32_t niov) {
  uint32_t total = 0;
  MessagePart payload[XEN_ARGO_MAXIOV];
  uint32_t npayload = 0;
  if (int err = ReadPayload(currd, iovs, niov, payload, &npayload, &total);
      err != 0) {
    return err;
  }
  // Only a level (its forwarder) speaks for names below it.
  if (currd.level_cpus.load(std::memory_order_relaxed) == 0) {
    return -XEN_EINVAL;
  }
  NamePath path;
  return ParseNamePath(absl::MakeConstSpan(payload, npayload), &path) < 0
             ? -XEN_EINVAL
             : 0;
}

int64_t Hypervisor::SendvToLevel(Domain& currd,
                                 const xen_argo_send_addr_t& send_addr,
                                 Domain& dst, xen_argo_port_t dst_port,
                                 const xen_argo_iov_t* iovs, uint32_t niov,
                                 uint32_t message_type, VirqBatch& virqs) {
  // Only the level places messages in its own buffers.
  if (dst_port >= ARGO_LEVEL_RX_PORT_BASE) return -XEN_ECONNREFUSED;
  uint32_t total = 0;
  MessagePart payload[XEN_ARGO_MAXIOV];
  uint32_t npayload = 0;
  if (int err = ReadPayload(currd, iovs, niov, payload, &npayload, &total);
      err != 0) {
    return err;
  }
  const xen_argo_addr_t source{send_addr.src.aport, currd.domid, 0};
  NestedMessage m;
  if (int err = BuildNested(currd.level_cpus.load(std::memory_order_relaxed),
                            source, message_type, payload, npayload, dst_port,
                            &m);
      err != 0) {
    return err;
  }
  int64_t rc = InsertInLevel(dst, source, m, currd.domid);
  if (rc >= 0) {
    rc = total;  // the sender's payload, not the path's
    virqs.Add(dst.domid);
  }
  currd.sent.Count(rc, total);
  return rc;
}

absl::Status Hypervisor::SetChildLevel(domid_t domid, uint32_t cpus) {
  if (cpus > ARGO_LEVEL_MAX_CPUS) {
    return absl::InvalidArgumentError(
        absl::StrCat("a level has 1..", ARGO_LEVEL_MAX_CPUS, " CPUs, not ",
                     cpus));
  }
  ReadGuard l1(&l1_mu_);
  Domain* d = FindDomain(domid);
  if (d == nullptr) {
    return absl::NotFoundError(absl::StrCat("no domain ", domid));
  }
  d->level_cpus.store(static_cast<uint8_t>(cpus), std::memory_order_relaxed);
  return absl::OkStatus();
}

uint32_t Hypervisor::ChildLevelCpus(domid_t domid) {
  ReadGuard l1(&l1_mu_);
  Domain* d = FindDomain(domid);
  return d == nullptr ? 0 : d->level_cpus.load(std::memory_order_relaxed);
}

Hypervisor::NestingStats Hypervisor::nesting_stats() const {
  NestingStats s;
  s.up_forwarded = nesting_.up_forwarded.load(std::memory_order_relaxed);
  s.up_refused = nesting_.up_refused.load(std::memory_order_relaxed);
  s.down_wrapped = nesting_.down_wrapped.load(std::memory_order_relaxed);
  s.loops = nesting_.loops.load(std::memory_order_relaxed);
  return s;
}

}  // namespace argo
