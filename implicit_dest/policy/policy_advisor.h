// What the audit log's denials mean and what would allow them: the
// user-space side of the access vector cache (issue 10), like SELinux's
// audit2why and audit2allow. `argoctl policy why` and `policy suggest`
// print these; nothing here loads anything.
#ifndef IMPLICIT_DEST_POLICY_POLICY_ADVISOR_H_
#define IMPLICIT_DEST_POLICY_POLICY_ADVISOR_H_

#include <string>
#include <vector>

#include "absl/types/span.h"
#include "implicit_dest/policy/audit_log.h"

namespace argo::policy {

struct DenialReason {
  Denial denial;
  // "SEND from client_t to client_t", or "SILO mode: neither dom3 nor dom4
  // has a capability".
  std::string missing;
  // The smallest allow rule that would allow the operation (text format,
  // one line), or "" when no rule can (SILO).
  std::string rule;
};

std::vector<DenialReason> ExplainDenials(absl::Span<const Denial> denials);

// Allow rules (text format) that would allow every denial a rule can
// allow: one rule per (source type, target type), with every permission
// those denials lacked, in the order first denied. Denials only SILO
// explains are counted in a comment. "" when there is nothing to suggest.
std::string SuggestRules(absl::Span<const Denial> denials);

}  // namespace argo::policy

#endif  // IMPLICIT_DEST_POLICY_POLICY_ADVISOR_H_
