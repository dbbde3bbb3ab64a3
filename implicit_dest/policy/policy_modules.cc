#include "implicit_dest/policy/policy_modules.h"

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/text_format.h"
#include "implicit_dest/policy/compiled_policy.h"
#include "implicit_dest/policy/policy.pb.h"
#include "implicit_dest/policy/text_errors.h"

namespace argo::policy {
namespace {

using google::protobuf::TextFormat;

struct Parsed {
  const PolicyModule* module;
  v1::Policy proto;
  TextFormat::ParseInfoTree tree;
};

std::string Place(const Parsed& p, const google::protobuf::FieldDescriptor* f,
                  int index) {
  const auto at = p.tree.GetLocation(f, index);
  return absl::StrCat(p.module->file, ":",
                      OpeningLine(p.module->text, at.line, f->name()));
}

}  // namespace

absl::StatusOr<std::string> AssemblePolicy(
    const PolicyModule& core, absl::Span<const PolicyModule> optional) {
  std::vector<Parsed> parsed(1 + optional.size());
  parsed[0].module = &core;
  for (size_t i = 0; i < optional.size(); ++i) {
    parsed[i + 1].module = &optional[i];
  }
  const auto* d = v1::Policy::descriptor();
  const auto* types_field = d->FindFieldByName("types");
  const auto* allow_field = d->FindFieldByName("allow");
  v1::Policy out;
  // type -> where it was first declared.
  absl::flat_hash_map<std::string, std::string> declared;
  std::vector<std::string> names;
  for (size_t m = 0; m < parsed.size(); ++m) {
    Parsed& p = parsed[m];
    if (absl::Status s = ParseTextWithLocations(p.module->text, p.module->file,
                                                &p.proto, &p.tree);
        !s.ok()) {
      return s;
    }
    Locator at(p.module->file, &p.tree);
    if (m > 0) {
      for (const char* core_only : {"default_type", "mac_permissive", "silo"}) {
        const auto* f = d->FindFieldByName(core_only);
        if (p.proto.GetReflection()->HasField(p.proto, f)) {
          return at.Error(f, -1,
                          absl::StrCat(core_only,
                                       " belongs to the core module only (",
                                       core.file, ")"));
        }
      }
    }
    for (int i = 0; i < p.proto.types_size(); ++i) {
      const std::string& type = p.proto.types(i);
      const std::string here = Place(p, types_field, i);
      auto [it, fresh] = declared.emplace(type, here);
      if (!fresh) {
        return at.Error(types_field, i,
                        absl::StrCat("type \"", type,
                                     "\" is declared twice (first at ",
                                     it->second, ")"));
      }
      out.add_types(type);
    }
    names.push_back(p.module->name);
  }
  out.set_default_type(parsed[0].proto.default_type());
  out.set_mac_permissive(parsed[0].proto.mac_permissive());
  out.set_silo(parsed[0].proto.silo());
  // Rules after every type is known: a rule may name another module's
  // type only if that module is enabled.
  for (const Parsed& p : parsed) {
    Locator at(p.module->file, &p.tree);
    for (int i = 0; i < p.proto.allow_size(); ++i) {
      v1::Allow rule = p.proto.allow(i);
      const Locator rule_at = at.Nested(allow_field, i);
      for (const char* end : {"source", "target"}) {
        const std::string& type =
            std::string(end) == "source" ? rule.source() : rule.target();
        const bool known = type == "*" ||
                           (std::string(end) == "target" && type == "xen") ||
                           declared.contains(type);
        if (!known) {
          return rule_at.Error(
              v1::Allow::descriptor(), end, -1,
              absl::StrCat(end, " \"", type,
                           "\" is not a type of any enabled module"));
        }
      }
      rule.set_origin(Place(p, allow_field, i));
      *out.add_allow() = std::move(rule);
    }
  }
  std::string text = absl::StrCat("# assembled from modules: ",
                                   absl::StrJoin(names, ", "), "\n");
  std::string body;
  TextFormat::PrintToString(out, &body);
  text += body;
  // The whole must compile too (e.g. the core's default type declared).
  absl::StatusOr<std::unique_ptr<CompiledPolicy>> compiled =
      CompiledPolicy::Compile(text, absl::StrCat("assembled(", core.file, ")"));
  if (!compiled.ok()) return compiled.status();
  return text;
}

}  // namespace argo::policy
