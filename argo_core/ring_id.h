// A ring's identity within its owner (Xen's argo_ring_id without the owner):
// (aport, partner). partner_id is a domid (unicast) or XEN_ARGO_DOMID_ANY
// (wildcard). Its own header so the hook interfaces need no ring internals.
#ifndef ARGO_CORE_RING_ID_H_
#define ARGO_CORE_RING_ID_H_

#include "argo_core/public/argo.h"

namespace argo {

struct RingId {
  xen_argo_port_t aport;
  domid_t partner_id;

  friend bool operator==(const RingId& a, const RingId& b) {
    return a.aport == b.aport && a.partner_id == b.partner_id;
  }
};

}  // namespace argo

#endif  // ARGO_CORE_RING_ID_H_
