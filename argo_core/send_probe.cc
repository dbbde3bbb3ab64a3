#include "argo_core/send_probe.h"

namespace argo {

const char* SendCheckName(SendCheck check) {
  switch (check) {
    case SendCheck::kCaller:
      return "caller";
    case SendCheck::kEnable:
      return "enable";
    case SendCheck::kSource:
      return "source";
    case SendCheck::kImplicit:
      return "implicit";
    case SendCheck::kDestination:
      return "destination";
    case SendCheck::kPolicy:
      return "policy";
    case SendCheck::kSenderArgo:
      return "sender-argo";
    case SendCheck::kDestinationArgo:
      return "destination-argo";
    case SendCheck::kUplink:
      return "uplink";
    case SendCheck::kChildLevel:
      return "child-level";
    case SendCheck::kRing:
      return "ring";
    case SendCheck::kFits:
      return "fits";
    case SendCheck::kSpace:
      return "space";
    case SendCheck::kDelivered:
      return "delivered";
  }
  return "?";
}

}  // namespace argo
