#include "daemon/caps/tap_probe.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "daemon/common/errno_status.h"
#include "daemon/common/fd.h"

namespace nslab::caps {

absl::Status ProbeTap() {
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  if (!fd.valid()) {
    return ErrnoStatus("open /dev/net/tun", errno);
  }
  ifreq request{};
  std::strncpy(request.ifr_name, "nslabprobe0", IFNAMSIZ - 1);
  request.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (::ioctl(fd.get(), TUNSETIFF, &request) != 0) {
    return ErrnoStatus("TUNSETIFF tap with vnet header", errno);
  }
  return absl::OkStatus();
}

}  // namespace nslab::caps
