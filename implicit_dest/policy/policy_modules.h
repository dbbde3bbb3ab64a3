// Modular policies (issue 10): a policy is a core module plus optional
// modules, each a text-format Policy file with its own types and allow
// rules. The toolstack assembles the enabled ones into one policy in user
// space and loads that; the hypervisor side sees a plain policy.
//
// The core module alone says default_type, mac_permissive and silo; an
// optional module that sets any of them is refused (it could otherwise
// quietly widen the whole platform). Every rule of the result carries its
// origin ("storage.textproto:12"), so `argoctl policy check` names the
// module line that allowed something.
#ifndef IMPLICIT_DEST_POLICY_POLICY_MODULES_H_
#define IMPLICIT_DEST_POLICY_POLICY_MODULES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace argo::policy {

struct PolicyModule {
  std::string name;  // "storage"
  std::string file;  // "storage.textproto": errors and origins name it
  std::string text;
};

// The assembled policy's text, or InvalidArgument "<file>:<line>:<column>:
// <what>" — refused whole — for a module that does not parse, a type
// declared twice (naming the first declaration too), a rule naming a type
// no enabled module declares, an optional module setting a core-only
// field, or an assembly that does not compile.
absl::StatusOr<std::string> AssemblePolicy(
    const PolicyModule& core, absl::Span<const PolicyModule> optional);

}  // namespace argo::policy

#endif  // IMPLICIT_DEST_POLICY_POLICY_MODULES_H_
