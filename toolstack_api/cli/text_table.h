// Human tables for argoctl: left-aligned text, right-aligned numbers, two
// spaces between columns, a header line.
#ifndef TOOLSTACK_API_CLI_TEXT_TABLE_H_
#define TOOLSTACK_API_CLI_TEXT_TABLE_H_

#include <ostream>
#include <string>
#include <vector>

namespace argo::toolstack::cli {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> headers)
      : headers_(std::move(headers)) {}
  void AddRow(std::vector<std::string> cells) {
    rows_.push_back(std::move(cells));
  }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace argo::toolstack::cli

#endif  // TOOLSTACK_API_CLI_TEXT_TABLE_H_
