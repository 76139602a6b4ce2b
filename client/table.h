#pragma once

#include <string>
#include <vector>

namespace nslab::client {

// Column-aligned text like `ip` and `ss` print: a header row, then one row per item.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string ToString() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace nslab::client
