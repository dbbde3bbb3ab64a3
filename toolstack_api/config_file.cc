#include "toolstack_api/config_file.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "implicit_dest/policy/text_errors.h"
#include "toolstack_api/config.pb.h"

namespace argo::toolstack {
absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::string text;
  text.resize(kMaxConfigBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxConfigBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is larger than ", kMaxConfigBytes, " bytes"));
  }
  return text;
}


absl::StatusOr<ConfigFile> LoadConfigFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadTextFile(path);
  if (!text.ok()) return text.status();
  config::v1::Config config;
  google::protobuf::TextFormat::ParseInfoTree tree;
  if (absl::Status s = policy::ParseTextWithLocations(*text, path, &config,
                                                      &tree);
      !s.ok()) {
    return s;
  }
  ConfigFile file{*std::move(text), ""};
  if (config.policy_case() != config::v1::Config::kPolicyFile) return file;
  std::string policy_path = config.policy_file();
  const size_t slash = path.rfind('/');
  if (!policy_path.empty() && policy_path[0] != '/' &&
      slash != std::string::npos) {
    policy_path = path.substr(0, slash + 1) + policy_path;
  }
  absl::StatusOr<std::string> policy = ReadTextFile(policy_path);
  if (!policy.ok()) {
    const policy::Locator at(path, &tree);
    const absl::Status located = at.Error(config::v1::Config::descriptor(),
                                          "policy_file", -1,
                                          policy.status().message());
    return absl::Status(policy.status().code(), located.message());
  }
  file.policy_text = *std::move(policy);
  return file;
}

}  // namespace argo::toolstack
