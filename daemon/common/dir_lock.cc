#include "daemon/common/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "daemon/common/errno_status.h"

namespace nslab {

absl::StatusOr<DirLock> DirLock::Acquire(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::InternalError(absl::StrCat("create directory ", dir, ": ", error.message()));
  }
  const std::string path = absl::StrCat(dir, "/.lock");
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) {
    return ErrnoStatus(absl::StrCat("open ", path), errno);
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) {
      return ErrnoStatus(absl::StrCat("lock ", path), errno);
    }
    char holder[32] = {};
    const ssize_t n = ::pread(fd.get(), holder, sizeof(holder) - 1, 0);
    const std::string pid = n > 0 ? std::string(absl::StripAsciiWhitespace(holder)) : "unknown";
    return absl::FailedPreconditionError(
        absl::StrCat(dir, " is in use by another nslabd (pid ", pid,
                     "); stop that one, or give this one its own --state-dir"));
  }
  const std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd.get(), 0) != 0 ||
      ::pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    return ErrnoStatus(absl::StrCat("write ", path), errno);
  }
  return DirLock(std::move(fd));
}

}  // namespace nslab
