// The guest transport's wire formats (DESIGN §8). Everything a guest
// process and argo-hv exchange is a fixed-size, naturally aligned struct:
//
//   attach socket (unix SOCK_SEQPACKET), one datagram each way:
//     guest -> daemon   Hello
//     daemon -> guest   Welcome, plus descriptors by SCM_RIGHTS (order in
//                       WelcomeFd) when `error` is kAttachOk
//   then, for the life of the attachment, hypercalls as HypercallFrames
//   (and, in both modes, a shared DoorbellPage for the VIRQ pending flag):
//     blocking mode     over the same socket, one frame each way per call
//     low-latency mode  in a DoorbellPage slot per vCPU (shared memfd),
//                       with wake sockets only to wake a side that went to sleep
//
// Wake-ups travel through datagram socketpairs, not eventfds: an eventfd
// is one open file description shared with the guest, which could clear
// O_NONBLOCK on it and push its counter to the maximum so that the daemon's
// next write blocks its event loop (and a pipe whose reader exited raises
// SIGPIPE in the writer). The daemon sends on its own end with
// MSG_DONTWAIT | MSG_NOSIGNAL: nothing a guest does to its end can block
// or signal the daemon, and a full buffer means a wake-up is already
// pending. (DESIGN §8 says "eventfd"; this is a deliberate difference,
// docs/decisions.md.)
#ifndef TRANSPORT_WIRE_H_
#define TRANSPORT_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "absl/types/variant.h"
#include "argo_core/public/argo.h"
#include "argo_core/public/argo_nesting.h"

namespace argo::transport {

inline constexpr uint32_t kHelloMagic = 0x6f677261;    // "argo"
inline constexpr uint32_t kWelcomeMagic = 0x4f475241;  // "ARGO"
inline constexpr uint32_t kFrameMagic = 0x706f6741;    // "Agop"
inline constexpr uint16_t kProtocolVersion = 1;
// Doorbell slots (vCPUs) a low-latency guest may ask for.
inline constexpr uint32_t kMaxVcpus = 8;
inline constexpr size_t kNameBytes = 64;   // NUL-padded domain name
inline constexpr size_t kTokenBytes = 64;  // NUL-padded attach token

enum class Mode : uint8_t {
  kBlocking = 1,    // frames over the socket; the guest sleeps in recv
  kLowLatency = 2,  // doorbells in shared memory, bounded spinning
};

struct Hello {
  uint32_t magic;  // kHelloMagic
  uint16_t version;
  uint8_t mode;   // Mode
  uint8_t vcpus;  // low-latency: 1..kMaxVcpus doorbells; blocking: 1
  // The domain: by name if name[0] != 0 (then domid must be 0), else by id.
  uint32_t domid;
  char name[kNameBytes];
  char token[kTokenBytes];
  // 0: a plain guest. 1..ARGO_LEVEL_MAX_CPUS: the process is a child
  // hypervisor level (argo-hv --parent) with that many per-CPU receive
  // buffers (DESIGN §7); the authority marks the domain a child level.
  uint8_t level_cpus;
  uint8_t reserved[19];  // zero
};
static_assert(sizeof(Hello) == 160);
static_assert(offsetof(Hello, level_cpus) == 140);

// Why an attach was refused (Welcome.error); the guest library turns each
// into an error a person can act on, with Welcome.message for detail.
enum AttachError : uint32_t {
  kAttachOk = 0,
  kAttachBadHello = 1,       // malformed, or a protocol version we lack
  kAttachNoSuchDomain = 2,   // the named domain does not exist
  kAttachBadToken = 3,       // the token is not the domain's current one
  kAttachBusy = 4,           // another process is attached to the domain
  kAttachUnavailable = 5,    // being destroyed, or out of descriptors
};

struct Welcome {
  uint32_t magic;  // kWelcomeMagic
  uint16_t version;
  uint16_t fd_count;  // descriptors attached to this datagram
  uint32_t error;     // AttachError
  uint32_t domid;
  uint64_t memory_frames;  // size of the memory memfd in 4 KiB frames
  uint8_t mode;
  uint8_t vcpus;
  uint8_t reserved[6];
  char message[96];  // NUL-terminated; why, when error != kAttachOk
};
static_assert(sizeof(Welcome) == 128);

// Descriptor order in a successful Welcome.
enum WelcomeFd : int {
  kFdMemory = 0,     // the domain's guest memory (memfd, sealed: no resize)
  kFdVirq = 1,       // wake socket: readable when VIRQ_ARGO was raised
  kFdDoorbell = 2,   // the DoorbellPage memfd (both modes: its VIRQ line
                     // holds the pending flag; low-latency: the slots)
  kFdKick = 3,       // low-latency only: wake socket the guest sends on
                     // to wake a sleeping server
  kFdAnswer0 = 4,    // low-latency only: one wake socket per vCPU,
                     // written when an answer is ready for a guest that
                     // announced its sleep
};
inline constexpr int kMaxWelcomeFds = kFdAnswer0 + kMaxVcpus;

// One hypercall or its answer.
struct HypercallFrame {
  uint32_t magic;  // kFrameMagic
  uint32_t seq;    // echoed in the answer; the doorbell's publish field
  uint32_t cmd;    // XEN_ARGO_OP_*
  uint32_t vcpu;   // 0 in blocking mode
  uint64_t arg[4];
  int64_t result;  // the answer: argo_op's return value
  uint64_t reserved;  // zero
};
static_assert(sizeof(HypercallFrame) == 64);

// Low-latency mode: one 4 KiB page, a header line then one slot per vCPU;
// each line is written by one side only (no false sharing between them).
//
// A request is published by writing the frame, then `frame.seq` with
// release order; the answer by writing `result`, then `seq` (= the
// request's seq) with release order. Sleeping is a Dekker handshake on
// both sides: announce the sleep (server_sleeping / guest_waiting), a
// sequentially consistent fence, re-check, then block on the wake socket;
// the other side publishes, fences, and sends a wake-up iff it sees
// the announcement. No wake-up is lost; a spurious one is harmless.
struct alignas(64) DoorbellHeader {
  uint32_t server_sleeping;  // server-written
  uint32_t vcpus;            // server-written at attach
};
// VIRQ_ARGO's pending flag, Xen's event-channel pending bit: the daemon
// sets it when it raises the VIRQ and sends a wake-up byte only if it was
// clear; the guest clears it when it takes the VIRQ. A burst of raises
// costs one system call, and a guest sees a raised VIRQ without one.
struct alignas(64) DoorbellVirq {
  uint32_t pending;  // set by the daemon, cleared by the guest
};
struct alignas(64) DoorbellAnswer {
  uint32_t seq;
  uint32_t pad;
  int64_t result;
};
struct alignas(64) DoorbellWait {
  uint32_t guest_waiting;  // guest-written
};
struct DoorbellSlot {
  HypercallFrame request;  // guest-written
  DoorbellAnswer answer;   // server-written
  DoorbellWait wait;       // guest-written
};
struct DoorbellPage {
  DoorbellHeader header;
  DoorbellVirq virq;
  DoorbellSlot slot[kMaxVcpus];
};
static_assert(sizeof(DoorbellPage) <= 4096);
inline constexpr size_t kDoorbellBytes = 4096;

// ---- Decoders (the server's view of hostile bytes) -----------------------

// A hello that passed every check.
struct AttachRequest {
  Mode mode;
  uint32_t vcpus;
  absl::variant<std::string, domid_t> domain;  // a name or an id
  std::string token;
  uint32_t level_cpus = 0;  // 0: a plain guest; else a child level's CPUs
};

// InvalidArgument naming the first bad field: wrong size, magic, version,
// mode, vcpu count, a name or token that is unterminated or holds bytes
// outside their alphabets, both or neither of name and id, a level CPU
// count over ARGO_LEVEL_MAX_CPUS, reserved bytes.
absl::StatusOr<AttachRequest> DecodeHello(absl::Span<const uint8_t> bytes);

struct HypercallRequest {
  uint32_t seq;
  uint32_t cmd;
  uint32_t vcpu;
  uint64_t arg[4];
};

// InvalidArgument for a wrong size, magic or non-zero reserved field. The
// cmd is not checked here: the hypervisor answers an unknown one EOPNOTSUPP,
// as Xen does. `max_vcpu` bounds the vcpu field.
absl::StatusOr<HypercallRequest> DecodeFrame(absl::Span<const uint8_t> bytes,
                                             uint32_t max_vcpu);

// The answer frame for `request`.
HypercallFrame AnswerFrame(const HypercallRequest& request, int64_t result);

// A request frame (the guest's encoder).
HypercallFrame RequestFrame(uint32_t seq, uint32_t vcpu, unsigned int cmd,
                            uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4);

}  // namespace argo::transport

#endif  // TRANSPORT_WIRE_H_
