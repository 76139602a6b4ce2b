#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"

namespace nslab::topology {

// A problem at one place of a topology: `path` is how a person finds it in the file
// ("links[2].a", "nodes.gw.kind"); `line` is 1-based, 0 when unknown.
struct FieldError {
  absl::StatusCode code = absl::StatusCode::kInvalidArgument;
  std::string path;
  std::string message;
  int line = 0;

  absl::Status ToStatus() const;
};

// Returns the FieldError `expr` gives, if any: the readers' and validators' early return.
#define NSLAB_TRY_FIELD(expr)                                         \
  do {                                                                \
    if (std::optional<::nslab::topology::FieldError> _err = (expr)) { \
      return _err;                                                    \
    }                                                                 \
  } while (false)

}  // namespace nslab::topology
