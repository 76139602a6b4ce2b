#include "daemon/common/errno_status.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace nslab {

absl::Status ErrnoStatus(absl::string_view what, int err) {
  auto message = absl::StrCat(what, ": ", std::strerror(err));
  switch (err) {
    case EEXIST:
    case EADDRINUSE:
      return absl::AlreadyExistsError(message);
    case ENOENT:
    case ENODEV:
    case ESRCH:
      return absl::NotFoundError(message);
    case EPERM:
    case EACCES:
      return absl::PermissionDeniedError(message);
    case EINVAL:
    case ERANGE:
      return absl::InvalidArgumentError(message);
    case EOPNOTSUPP:
      return absl::FailedPreconditionError(message);
    case EBUSY:
    case EAGAIN:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace nslab
