#include "daemon/topology/names.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace nslab::topology {
namespace {

absl::Status CheckDnsLikeName(absl::string_view name, absl::string_view what, size_t max) {
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " name is empty"));
  }
  if (name.size() > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " name \"", name, "\" is longer than ", max, " characters"));
  }
  if (!absl::ascii_islower(name.front())) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " name \"", name, "\" must start with a lowercase letter"));
  }
  for (char c : name) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " name \"", name, "\" may hold only lowercase letters, digits and '-'"));
    }
  }
  if (name.back() == '-') {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " name \"", name, "\" must not end with '-'"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckLabName(absl::string_view name) {
  return CheckDnsLikeName(name, "lab", kMaxLabNameLength);
}

absl::Status CheckNodeName(absl::string_view name) {
  return CheckDnsLikeName(name, "node", kMaxNodeNameLength);
}

absl::Status CheckInterfaceName(absl::string_view name) {
  if (name.empty() || name.size() > 15) {
    return absl::InvalidArgumentError(
        absl::StrCat("interface name \"", name, "\" must be 1 to 15 characters"));
  }
  if (name == "." || name == "..") {
    return absl::InvalidArgumentError(absl::StrCat("interface name \"", name, "\" is reserved"));
  }
  for (char c : name) {
    if (c == '/' || c == ':' || absl::ascii_isspace(c) || !absl::ascii_isprint(c)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "interface name \"", name, "\" must not contain '/', ':', spaces or control characters"));
    }
  }
  return absl::OkStatus();
}

std::string NamespaceOf(absl::string_view lab, absl::string_view node) {
  return absl::StrCat(lab, "-", node);
}

}  // namespace nslab::topology
