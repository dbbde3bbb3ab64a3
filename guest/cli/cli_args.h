// argo-guest's command line: options anywhere on the line ("--name VALUE"
// or "--name=VALUE", boolean "--flag"), positionals, and the values the
// commands share (ports, D:Q destinations, D|any sources). A parse error
// is a usage error: nothing has been attached or sent yet.
#ifndef GUEST_CLI_CLI_ARGS_H_
#define GUEST_CLI_CLI_ARGS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "argo_core/public/argo.h"

namespace argo::guest::cli {

struct OptionSpec {
  std::set<std::string> with_value;  // "--port"
  std::set<std::string> flags;       // "--json"
};

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;  // the last one given wins
  std::set<std::string> flags;

  bool Has(const std::string& name) const { return values.count(name) > 0; }
  bool Flag(const std::string& name) const { return flags.count(name) > 0; }
  std::string Value(const std::string& name,
                    const std::string& fallback = "") const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
};

// Splits argv[1..] by `spec`. InvalidArgument names an unknown option or
// one missing its value.
absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& argv,
                               const OptionSpec& spec);

// The first argument that is neither an option nor the value of one of
// `value_options`: the command word. "" if there is none.
std::string FindCommand(const std::vector<std::string>& argv,
                        const std::set<std::string>& value_options);

// Numbers with a usage error naming the option: "--port: \"x\" is not a
// port".
absl::StatusOr<uint32_t> ParseU32(absl::string_view option,
                                  absl::string_view text);
absl::StatusOr<xen_argo_port_t> ParsePort(absl::string_view option,
                                          absl::string_view text);
// "D:Q", D a domid (the guest knows ids only; names are the toolstack's).
absl::StatusOr<xen_argo_addr_t> ParseDestination(absl::string_view option,
                                                 absl::string_view text);
// "D" or "any" (XEN_ARGO_DOMID_ANY).
absl::StatusOr<domid_t> ParsePartner(absl::string_view option,
                                     absl::string_view text);

}  // namespace argo::guest::cli

#endif  // GUEST_CLI_CLI_ARGS_H_
