#include "daemon/common/fd.h"

#include <unistd.h>

namespace nslab {

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = fd;
}

}  // namespace nslab
