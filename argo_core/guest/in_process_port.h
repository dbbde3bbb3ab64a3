// A guest in the hypervisor's own process: its hypercall is a direct call.
// Apart from libargo_guest so the guest library need not link the
// hypervisor.
#ifndef ARGO_CORE_GUEST_IN_PROCESS_PORT_H_
#define ARGO_CORE_GUEST_IN_PROCESS_PORT_H_

#include <cstdint>

#include "argo_core/guest/hypercall_port.h"
#include "argo_core/hypervisor.h"

namespace argo {

class InProcessPort final : public HypercallPort {
 public:
  InProcessPort(Hypervisor* hypervisor, domid_t caller)
      : hypervisor_(hypervisor), caller_(caller) {}
  int64_t ArgoOp(unsigned int cmd, uint64_t arg1, uint64_t arg2, uint64_t arg3,
                 uint64_t arg4) override {
    return hypervisor_->ArgoOp(caller_, cmd, arg1, arg2, arg3, arg4);
  }

 private:
  Hypervisor* const hypervisor_;
  const domid_t caller_;
};

}  // namespace argo

#endif  // ARGO_CORE_GUEST_IN_PROCESS_PORT_H_
