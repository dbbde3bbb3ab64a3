// What the layers above the core need to know about a level's domains, as
// an injected interface the hypervisor implements: a domain's generation
// and the hypercall grace period. One mechanism for every consumer (the
// implicit table, the policy engine) so they reclaim memory the same way.
#ifndef ARGO_CORE_DOMAIN_DIRECTORY_H_
#define ARGO_CORE_DOMAIN_DIRECTORY_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "argo_core/public/argo.h"

namespace argo {

class GracePeriod {
 public:
  virtual ~GracePeriod() = default;
  // Returns once every hypercall in flight when it was called has finished:
  // state those hypercalls might read can then be freed.
  virtual void WaitForHypercalls() = 0;
};

class DomainDirectory : public GracePeriod {
 public:
  // The live domain's generation (distinguishes it from earlier domains
  // with the same domid); NotFound if there is none.
  virtual absl::StatusOr<uint32_t> DomainGeneration(domid_t domid) = 0;
};

}  // namespace argo

#endif  // ARGO_CORE_DOMAIN_DIRECTORY_H_
