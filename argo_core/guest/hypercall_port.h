// How a guest traps into its hypervisor: argo_op(cmd, arg1..arg4), with
// Xen's return convention (0, a byte count, or a negative Xen errno).
#ifndef ARGO_CORE_GUEST_HYPERCALL_PORT_H_
#define ARGO_CORE_GUEST_HYPERCALL_PORT_H_

#include <cstdint>

#include "argo_core/public/argo.h"

namespace argo {

class HypercallPort {
 public:
  virtual ~HypercallPort() = default;
  virtual int64_t ArgoOp(unsigned int cmd, uint64_t arg1, uint64_t arg2,
                         uint64_t arg3, uint64_t arg4) = 0;
};

}  // namespace argo

#endif  // ARGO_CORE_GUEST_HYPERCALL_PORT_H_
