#include "argo_core/public/xen_errno.h"
#include "argo_core/xen_status.h"
#include "guest/cli/command.h"

namespace argo::guest::cli {

Guest* Context::Attach() {
  if (guest_ != nullptr) return guest_.get();
  absl::StatusOr<std::unique_ptr<Guest>> guest = Guest::Attach(attach_);
  if (!guest.ok()) {
    err_ << "argo-guest: cannot attach to domain " << attach_.domain << " at "
         << attach_.socket_path << ": " << guest.status().message() << "\n";
    return nullptr;
  }
  guest_ = *std::move(guest);
  if (verbose_) {
    err_ << "argo-guest: attached as domain " << guest_->domid() << "\n";
  }
  return guest_.get();
}

int Context::Fail(const absl::Status& status) {
  err_ << "argo-guest: " << status.message() << "\n";
  const int e = XenErrnoOf(status);
  const bool gone = e == XEN_EIO ||
                    (e == 0 && status.code() == absl::StatusCode::kUnavailable);
  return gone ? kUnreachable : kRefused;
}

int Context::Usage(const std::string& message) {
  err_ << "argo-guest: " << message << "\n(argo-guest --help for usage)\n";
  return kUsageError;
}

absl::StatusOr<int> DrainRing(
    Guest& guest, GuestRing* ring,
    const std::function<bool(ReceivedMessage&)>& each) {
  int n = 0;
  bool more = true;
  while (more) {
    absl::StatusOr<absl::optional<ReceivedMessage>> m = ring->Read();
    if (!m.ok()) return m.status();
    if (!m->has_value()) break;
    ++n;
    more = each(**m);
  }
  if (n > 0) {
    absl::Status notified = guest.NotifyNull();
    if (!notified.ok()) return notified;
  }
  return n;
}

}  // namespace argo::guest::cli
