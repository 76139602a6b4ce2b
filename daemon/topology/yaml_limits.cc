#include "daemon/topology/yaml_limits.h"

#include "absl/strings/str_cat.h"

namespace nslab::topology {

std::optional<FieldError> CheckYamlShape(absl::string_view text) {
  if (text.size() > kMaxTopologyBytes) {
    return FieldError{absl::StatusCode::kInvalidArgument, "", "the topology is larger than 4 MiB"};
  }
  int flow_depth = 0;
  int line = 1;
  int block_depth = 0;  // indentation plus "- " markers at the start of the current line
  bool line_start = true;
  for (char c : text) {
    if (c == '\n') {
      ++line;
      line_start = true;
      block_depth = 0;
      continue;
    }
    if (line_start && (c == ' ' || c == '-')) {
      ++block_depth;
    } else {
      line_start = false;
    }
    if (c == '[' || c == '{') {
      ++flow_depth;
    } else if ((c == ']' || c == '}') && flow_depth > 0) {
      --flow_depth;
    }
    if (flow_depth > kMaxNesting || block_depth > 4 * kMaxNesting) {
      return FieldError{absl::StatusCode::kInvalidArgument, "",
                        absl::StrCat("nested more than ", kMaxNesting, " levels deep"), line};
    }
  }
  return std::nullopt;
}

absl::StatusOr<YAML::Node> LoadCheckedYaml(absl::string_view text) {
  if (auto error = CheckYamlShape(text)) {
    return error->ToStatus();
  }
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("not valid YAML: ", e.msg, " (line ", e.mark.line + 1, ")"));
  }
}

absl::Status CatchYamlErrors(absl::string_view what, const std::function<void()>& read) {
  try {
    read();
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid ", what, ": ", e.msg, " (line ", e.mark.line + 1, ")"));
  }
  return absl::OkStatus();
}

}  // namespace nslab::topology
