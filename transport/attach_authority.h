// Who decides attaches: the transport server knows sockets, frames and
// descriptors; the authority (the toolstack's Platform in argo-hv, a test
// double elsewhere) knows domains, tokens and what a detach means.
//
// The server calls both methods from its one event-loop thread, so an
// authority sees attaches and detaches of one domain in order.
#ifndef TRANSPORT_ATTACH_AUTHORITY_H_
#define TRANSPORT_ATTACH_AUTHORITY_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "argo_core/guest_memory.h"
#include "argo_core/public/argo.h"
#include "transport/wire.h"

namespace argo::transport {

struct AttachGrant {
  domid_t domid;
  // The domain's memory; the server sends a duplicate of its memfd.
  std::shared_ptr<GuestMemory> memory;
};

// Why an attachment ended.
enum class DetachReason {
  kClosed,         // the guest's socket closed: it exited or was killed
  kProtocolError,  // it sent what the transport cannot decode
  kEvicted,        // the toolstack took the domain away (destroy, stop)
};

class AttachAuthority {
 public:
  virtual ~AttachAuthority() = default;

  // Checks `request` from the process `pid` (uid already checked by the
  // server) and, if it may attach, records it as attached and returns the
  // grant. Refusals, each with a message a person can act on:
  //   NotFound            no such domain        (kAttachNoSuchDomain)
  //   PermissionDenied    wrong token           (kAttachBadToken)
  //   AlreadyExists       another process holds it (kAttachBusy)
  //   FailedPrecondition / Unavailable: being destroyed (kAttachUnavailable)
  // A refusal changes nothing.
  virtual absl::StatusOr<AttachGrant> Attach(const AttachRequest& request,
                                             pid_t pid) = 0;

  // The attachment of `pid` to `domid` ended. For kClosed and
  // kProtocolError the domain crashed (DESIGN §8): the authority runs the
  // level's crash reset. `detail` is for the log and events.
  virtual void Detached(domid_t domid, pid_t pid, DetachReason reason,
                        absl::string_view detail) = 0;
};

// The wire code for an authority's refusal.
AttachError AttachErrorFor(const absl::Status& refusal);

}  // namespace argo::transport

#endif  // TRANSPORT_ATTACH_AUTHORITY_H_
