// Error messages that name the place in a protobuf text-format file: the
// policy (§5) and the boot configuration (§6) both reject a bad file whole
// with "<file>:<line>:<column>: <what>".
#ifndef IMPLICIT_DEST_POLICY_TEXT_ERRORS_H_
#define IMPLICIT_DEST_POLICY_TEXT_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace argo::policy {

// Keeps the first syntax error the protobuf parser reports, with its place.
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!error.has_value()) {
      error = absl::StrCat(line + 1, ":", column + 1, ": ", message);
    }
  }
  absl::optional<std::string> error;
};

// Parses `text` into *out recording field locations in *tree. On a syntax
// error: InvalidArgument "<name>:<line>:<column>: <parser's message>".
inline absl::Status ParseTextWithLocations(
    absl::string_view text, absl::string_view name,
    google::protobuf::Message* out,
    google::protobuf::TextFormat::ParseInfoTree* tree) {
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.WriteLocationsTo(tree);
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), out)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ":", errors.error.value_or("0:0: cannot parse")));
  }
  return absl::OkStatus();
}

// Builds "<name>:<line>:<column>: <what>" for field `field` (element
// `index`, or -1) of the message whose locations are in `tree`.
// Falls back to `fallback` (the enclosing message's place) when the field
// has no recorded location (e.g. one element of a [A, B] list).
class Locator {
 public:
  using ParseInfoTree = google::protobuf::TextFormat::ParseInfoTree;
  using ParseLocation = google::protobuf::TextFormat::ParseLocation;

  Locator(absl::string_view name, const ParseInfoTree* tree,
          ParseLocation fallback = {})
      : name_(name), tree_(tree), fallback_(fallback) {}

  absl::Status Error(const google::protobuf::FieldDescriptor* field, int index,
                     absl::string_view what) const {
    ParseLocation at =
        tree_ != nullptr ? tree_->GetLocation(field, index) : ParseLocation{};
    if (at.line < 0) at = fallback_;
    if (at.line < 0) {
      return absl::InvalidArgumentError(absl::StrCat(name_, ": ", what));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(name_, ":", at.line + 1, ":", at.column + 1, ": ", what));
  }
  // The same, naming the field by its name in `message`'s type.
  absl::Status Error(const google::protobuf::Descriptor* message,
                     absl::string_view field, int index,
                     absl::string_view what) const {
    return Error(message->FindFieldByName(std::string(field)), index, what);
  }
  // The locator of the `index`th `field` sub-message (its own fields'
  // places, falling back to where it starts).
  Locator Nested(const google::protobuf::FieldDescriptor* field,
                 int index) const {
    const ParseInfoTree* sub =
        tree_ != nullptr ? tree_->GetTreeForNested(field, index) : nullptr;
    ParseLocation start =
        tree_ != nullptr ? tree_->GetLocation(field, index) : ParseLocation{};
    return Locator(name_, sub, start.line >= 0 ? start : fallback_);
  }

 private:
  std::string name_;
  const ParseInfoTree* tree_;
  ParseLocation fallback_;
};

// The 1-based line where the message field `field` opens ("allow {"),
// given the 0-based line the parser recorded for it (the first token of
// its value, which may be on a later line). Searches back for the field's
// name; falls back to the recorded line.
inline int OpeningLine(absl::string_view text, int recorded,
                       absl::string_view field) {
  if (recorded < 0) return 0;
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  for (int i = std::min<int>(recorded, static_cast<int>(lines.size()) - 1);
       i >= 0; --i) {
    if (absl::StrContains(lines[i], field)) return i + 1;
  }
  return recorded + 1;
}

}  // namespace argo::policy

#endif  // IMPLICIT_DEST_POLICY_TEXT_ERRORS_H_
