#include "daemon/topology/yaml_field_reader.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "daemon/topology/text.h"

namespace nslab::topology {
namespace {

int LineOf(const YAML::Node& node) { return node.Mark().line >= 0 ? node.Mark().line + 1 : 0; }

}  // namespace

std::string JoinPath(absl::string_view path, absl::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
}

std::string IndexPath(absl::string_view path, size_t i) { return absl::StrCat(path, "[", i, "]"); }

int FindLine(const std::map<std::string, int>& lines, std::string path) {
  while (!path.empty()) {
    if (auto it = lines.find(path); it != lines.end()) {
      return it->second;
    }
    const size_t cut = path.find_last_of(".[");
    if (cut == std::string::npos) {
      break;
    }
    path.resize(cut);
  }
  return 0;
}

YamlFieldReader::MaybeError YamlFieldReader::Fail(const YAML::Node& at, std::string path,
                                                  std::string message) const {
  return FieldError{absl::StatusCode::kInvalidArgument, std::move(path), std::move(message),
                    LineOf(at)};
}

void YamlFieldReader::Record(const std::string& path, const YAML::Node& node) {
  lines_[path] = LineOf(node);
}

YamlFieldReader::MaybeError YamlFieldReader::ExpectSequence(const YAML::Node& node,
                                                            const std::string& path) {
  if (!node.IsSequence()) {
    return Fail(node, path, "expected a list");
  }
  for (size_t i = 0; i < node.size(); ++i) {
    Record(IndexPath(path, i), node[i]);
  }
  return std::nullopt;
}

YamlFieldReader::MaybeError YamlFieldReader::String(const YAML::Node& node, const std::string& path,
                                                    std::string* out) const {
  if (!node.IsScalar()) {
    return Fail(node, path, "expected a string");
  }
  if (auto problem = TextProblem(node.Scalar())) {
    return Fail(node, path, std::string(*problem));
  }
  *out = node.Scalar();
  return std::nullopt;
}

YamlFieldReader::MaybeError YamlFieldReader::StringList(
    const YAML::Node& node, const std::string& path,
    google::protobuf::RepeatedPtrField<std::string>* out) {
  if (node.IsScalar()) {
    return String(node, path, out->Add());
  }
  NSLAB_TRY_FIELD(ExpectSequence(node, path));
  for (size_t i = 0; i < node.size(); ++i) {
    NSLAB_TRY_FIELD(String(node[i], IndexPath(path, i), out->Add()));
  }
  return std::nullopt;
}

YamlFieldReader::MaybeError YamlFieldReader::Uint(const YAML::Node& node, const std::string& path,
                                                  uint64_t max, uint64_t* out) const {
  if (!node.IsScalar() || !absl::SimpleAtoi(node.Scalar(), out) || *out > max) {
    return Fail(node, path, absl::StrCat("expected a whole number from 0 to ", max));
  }
  return std::nullopt;
}

YamlFieldReader::MaybeError YamlFieldReader::Bool(const YAML::Node& node, const std::string& path,
                                                  bool* out) const {
  const std::string text = node.IsScalar() ? absl::AsciiStrToLower(node.Scalar()) : "";
  if (text == "true" || text == "yes" || text == "on") {
    *out = true;
  } else if (text == "false" || text == "no" || text == "off") {
    *out = false;
  } else {
    return Fail(node, path, "expected true or false");
  }
  return std::nullopt;
}

}  // namespace nslab::topology
