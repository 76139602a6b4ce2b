#include "daemon/ustack/driver/tap_device.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace nslab::ustack::driver {
namespace {

absl::Status errno_error(absl::string_view what, int err) {
  const std::string message = absl::StrCat(what, ": ", std::strerror(err));
  if (err == EPERM || err == EACCES) {
    return absl::PermissionDeniedError(absl::StrCat(message, " (needs CAP_NET_ADMIN)"));
  }
  return absl::InternalError(message);
}

ifreq request_for(absl::string_view name) {
  ifreq request{};
  std::memcpy(request.ifr_name, name.data(), name.size());
  return request;
}

absl::Status check_name(absl::string_view name) {
  const bool bad_char = std::any_of(name.begin(), name.end(), [](char c) {
    return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c));
  });
  if (name.empty() || name.size() >= IFNAMSIZ || bad_char) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad TAP name \"", name, "\" (1 to ", IFNAMSIZ - 1, " characters, no '/', ':' or space)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TapDevice> TapDevice::open(absl::string_view name, const TapOptions& options) {
  if (absl::Status status = check_name(name); !status.ok()) {
    return status;
  }
  OwnedFd control(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!control.valid()) {
    return errno_error("ioctl socket", errno);
  }
  ifreq probe = request_for(name);
  const bool existed = ::ioctl(control.get(), SIOCGIFINDEX, &probe) == 0;

  OwnedFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    return errno_error("open /dev/net/tun (is the tun module loaded?)", errno);
  }
  ifreq request = request_for(name);
  request.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (::ioctl(fd.get(), TUNSETIFF, &request) != 0) {
    const int err = errno;
    if (err == EBUSY) {
      return absl::FailedPreconditionError(
          absl::StrCat("TAP ", name, " is attached to another process (or multi-queue)"));
    }
    if (err == EINVAL && existed) {
      return absl::InvalidArgumentError(
          absl::StrCat("interface ", name, " exists and is not a TAP; pick another --tap name"));
    }
    return errno_error(absl::StrCat("TUNSETIFF ", name), err);
  }
  int header_size = static_cast<int>(kVnetHdrSize);
  if (::ioctl(fd.get(), TUNSETVNETHDRSZ, &header_size) != 0) {
    return errno_error(absl::StrCat("TUNSETVNETHDRSZ ", name), errno);
  }
  TapDevice device(std::move(fd), std::move(control), std::string(name), !existed);
  // Plain frames until checksum offload is asked for.
  if (absl::Status status = device.set_offloads(false, false); !status.ok()) {
    return status;
  }
  if (options.mtu != 0) {
    ifreq mtu = request_for(name);
    mtu.ifr_mtu = static_cast<int>(options.mtu);
    if (::ioctl(device.control_.get(), SIOCSIFMTU, &mtu) != 0) {
      return errno_error(absl::StrCat("set MTU ", options.mtu, " on ", name), errno);
    }
  }
  if (options.up) {
    ifreq flags = request_for(name);
    if (::ioctl(device.control_.get(), SIOCGIFFLAGS, &flags) != 0) {
      return errno_error(absl::StrCat("get flags of ", name), errno);
    }
    flags.ifr_flags = static_cast<short>(flags.ifr_flags | IFF_UP);
    if (::ioctl(device.control_.get(), SIOCSIFFLAGS, &flags) != 0) {
      return errno_error(absl::StrCat("set ", name, " up"), errno);
    }
  }
  return device;
}

absl::Status TapDevice::set_offloads(bool checksum, bool tso) {
  unsigned int offloads = checksum ? TUN_F_CSUM : 0;
  if (checksum && tso) {
    offloads |= TUN_F_TSO4;
  }
  if (::ioctl(fd_.get(), TUNSETOFFLOAD, offloads) != 0) {
    return errno_error(absl::StrCat("TUNSETOFFLOAD ", name_), errno);
  }
  return absl::OkStatus();
}

absl::StatusOr<packet::MacAddress> TapDevice::kernel_mac() const {
  ifreq request = request_for(name_);
  if (::ioctl(control_.get(), SIOCGIFHWADDR, &request) != 0) {
    return errno_error(absl::StrCat("get MAC of ", name_), errno);
  }
  return packet::MacAddress::from_bytes(std::as_bytes(std::span(request.ifr_hwaddr.sa_data, 6)));
}

absl::StatusOr<std::uint32_t> TapDevice::mtu() const {
  ifreq request = request_for(name_);
  if (::ioctl(control_.get(), SIOCGIFMTU, &request) != 0) {
    return errno_error(absl::StrCat("get MTU of ", name_), errno);
  }
  return static_cast<std::uint32_t>(request.ifr_mtu);
}

}  // namespace nslab::ustack::driver
