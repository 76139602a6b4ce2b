#include "daemon/topology/field_error.h"

#include "absl/strings/str_cat.h"

namespace nslab::topology {

absl::Status FieldError::ToStatus() const {
  std::string text = path.empty() ? message : absl::StrCat(path, ": ", message);
  if (line > 0) {
    absl::StrAppend(&text, " (line ", line, ")");
  }
  return absl::Status(code, text);
}

}  // namespace nslab::topology
