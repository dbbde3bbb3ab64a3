// The shipped default policy (default.textproto: no access control, as Xen
// without XSM), embedded at build time. Its own target so a client (argoctl
// `policy load @default`) can send the text without linking the engine.
#ifndef IMPLICIT_DEST_POLICY_DEFAULT_POLICY_H_
#define IMPLICIT_DEST_POLICY_DEFAULT_POLICY_H_

#include "absl/strings/string_view.h"

namespace argo::policy {

absl::string_view DefaultPolicyText();

}  // namespace argo::policy

#endif  // IMPLICIT_DEST_POLICY_DEFAULT_POLICY_H_
