#pragma once

// Typed reads of YAML values that fail with the key path and the line, remembering the
// line of every path so that later (semantic) errors, which know only paths, can point into
// the file too. The topology reader and the scenario reader are built on it.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "daemon/topology/field_error.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace nslab::topology {

std::string JoinPath(absl::string_view path, absl::string_view key);  // "a.b"
std::string IndexPath(absl::string_view path, size_t i);              // "a[2]"

// The line of `path`, or of the nearest enclosing path in `lines`; 0 when none.
int FindLine(const std::map<std::string, int>& lines, std::string path);

class YamlFieldReader {
 public:
  using MaybeError = std::optional<FieldError>;

  MaybeError Fail(const YAML::Node& at, std::string path, std::string message) const;
  void Record(const std::string& path, const YAML::Node& node);
  const std::map<std::string, int>& lines() const { return lines_; }
  int FindLine(const std::string& path) const { return topology::FindLine(lines_, path); }

  // A list; records the line of each item.
  MaybeError ExpectSequence(const YAML::Node& node, const std::string& path);
  // A one-line, printable string (TextProblem).
  MaybeError String(const YAML::Node& node, const std::string& path, std::string* out) const;
  // A list of strings, or one string as a list of one.
  MaybeError StringList(const YAML::Node& node, const std::string& path,
                        google::protobuf::RepeatedPtrField<std::string>* out);
  MaybeError Uint(const YAML::Node& node, const std::string& path, uint64_t max,
                  uint64_t* out) const;
  // true/yes/on or false/no/off, in any case.
  MaybeError Bool(const YAML::Node& node, const std::string& path, bool* out) const;

 private:
  std::map<std::string, int> lines_;
};

}  // namespace nslab::topology
