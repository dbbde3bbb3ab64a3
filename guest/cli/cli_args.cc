#include "guest/cli/cli_args.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace argo::guest::cli {
namespace {

absl::Status Usage(absl::string_view option, absl::string_view text,
                   absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(option, ": \"", text, "\" is not ", what));
}

}  // namespace

absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& argv,
                               const OptionSpec& spec) {
  Args args;
  bool options_done = false;  // after "--" everything is positional
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (options_done || !absl::StartsWith(arg, "--") || arg == "-") {
      args.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    if (spec.flags.count(name) > 0 && eq == std::string::npos) {
      args.flags.insert(name);
    } else if (spec.with_value.count(name) > 0) {
      if (eq != std::string::npos) {
        args.values[name] = arg.substr(eq + 1);
      } else if (i + 1 < argv.size()) {
        args.values[name] = argv[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat(name, " needs a value"));
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown option ", name));
    }
  }
  return args;
}

std::string FindCommand(const std::vector<std::string>& argv,
                        const std::set<std::string>& value_options) {
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (!absl::StartsWith(arg, "--")) return arg;
    if (arg.find('=') == std::string::npos && value_options.count(arg) > 0) {
      ++i;  // its value
    }
  }
  return "";
}

absl::StatusOr<uint32_t> ParseU32(absl::string_view option,
                                  absl::string_view text) {
  uint32_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) {
    return Usage(option, text, "a number (0..4294967295)");
  }
  return value;
}

absl::StatusOr<xen_argo_port_t> ParsePort(absl::string_view option,
                                          absl::string_view text) {
  uint32_t port = 0;
  if (!absl::SimpleAtoi(text, &port)) return Usage(option, text, "a port");
  return port;
}

absl::StatusOr<xen_argo_addr_t> ParseDestination(absl::string_view option,
                                                 absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  uint32_t domid = 0;
  uint32_t port = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &domid) ||
      !absl::SimpleAtoi(parts[1], &port) || domid >= DOMID_FIRST_RESERVED) {
    return Usage(option, text,
                 "DOMID:PORT (a guest names domains by id; names are the "
                 "toolstack's)");
  }
  return xen_argo_addr_t{port, static_cast<domid_t>(domid), 0};
}

absl::StatusOr<domid_t> ParsePartner(absl::string_view option,
                                     absl::string_view text) {
  if (text == "any") return static_cast<domid_t>(XEN_ARGO_DOMID_ANY);
  uint32_t domid = 0;
  if (!absl::SimpleAtoi(text, &domid) || domid >= DOMID_FIRST_RESERVED) {
    return Usage(option, text, "a domid or \"any\"");
  }
  return static_cast<domid_t>(domid);
}

}  // namespace argo::guest::cli
