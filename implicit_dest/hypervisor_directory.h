// The hypervisor as the implicit table's DomainDirectory.
#ifndef IMPLICIT_DEST_HYPERVISOR_DIRECTORY_H_
#define IMPLICIT_DEST_HYPERVISOR_DIRECTORY_H_

#include "argo_core/hypervisor.h"
#include "implicit_dest/implicit_table.h"

namespace argo::implicit_dest {

class HypervisorDirectory final : public DomainDirectory {
 public:
  explicit HypervisorDirectory(Hypervisor* hv) : hv_(hv) {}
  absl::StatusOr<uint32_t> DomainGeneration(domid_t domid) override {
    return hv_->DomainGeneration(domid);
  }
  void WaitForHypercalls() override { hv_->WaitForHypercalls(); }

 private:
  Hypervisor* const hv_;
};

}  // namespace argo::implicit_dest

#endif  // IMPLICIT_DEST_HYPERVISOR_DIRECTORY_H_
