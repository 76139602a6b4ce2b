#include "daemon/wire/tap_device.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/common/errno_status.h"
#include "daemon/netns/netns.h"

namespace nslab::wire {
namespace {

// The kernel's dev_valid_name(), checked first for a message that names the problem.
absl::Status CheckName(absl::string_view ifname) {
  const bool bad_char = std::any_of(ifname.begin(), ifname.end(), [](char c) {
    return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c));
  });
  if (ifname.empty() || ifname.size() >= IFNAMSIZ || bad_char || ifname == "." || ifname == "..") {
    return absl::InvalidArgumentError(absl::StrCat("bad TAP name \"", ifname, "\" (1 to ",
                                                   IFNAMSIZ - 1,
                                                   " characters, no '/', ':' or space)"));
  }
  return absl::OkStatus();
}

ifreq RequestFor(absl::string_view ifname) {
  ifreq request{};
  std::memcpy(request.ifr_name, ifname.data(), ifname.size());
  return request;
}

// The device's ifindex, or 0 if the namespace of `control` has no such device.
absl::StatusOr<int> IndexOf(int control, absl::string_view ifname) {
  ifreq request = RequestFor(ifname);
  if (::ioctl(control, SIOCGIFINDEX, &request) != 0) {
    if (errno == ENODEV) {
      return 0;
    }
    return ErrnoStatus(absl::StrCat("SIOCGIFINDEX ", ifname), errno);
  }
  return request.ifr_ifindex;
}

}  // namespace

absl::StatusOr<TapDevice> TapDevice::Create(int netns_fd, absl::string_view ifname,
                                            const TapOptions& options) {
  return Open(netns_fd, ifname, options, /*existing=*/false);
}

absl::StatusOr<TapDevice> TapDevice::OpenExisting(int netns_fd, absl::string_view ifname,
                                                  const TapOptions& options) {
  return Open(netns_fd, ifname, options, /*existing=*/true);
}

absl::StatusOr<TapDevice> TapDevice::Open(int netns_fd, absl::string_view ifname,
                                          const TapOptions& options, bool existing) {
  if (auto status = CheckName(ifname); !status.ok()) {
    return status;
  }
  UniqueFd fd;
  UniqueFd control;
  int ifindex = 0;
  // Everything that binds to a namespace (the tun file, the device, the ioctl socket) happens
  // on the thread RunIn moved into it; nothing after this needs to enter it again.
  absl::Status status = netns::RunIn(netns_fd, [&]() -> absl::Status {
    control.Reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!control.valid()) {
      return ErrnoStatus("ioctl socket", errno);
    }
    absl::StatusOr<int> before = IndexOf(control.get(), ifname);
    if (!before.ok()) {
      return before.status();
    }
    if (existing && *before == 0) {
      return absl::NotFoundError(absl::StrCat("TAP ", ifname, ": no such device"));
    }
    fd.Reset(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) {
      return ErrnoStatus("open /dev/net/tun", errno);
    }
    ifreq request = RequestFor(ifname);
    // IFF_TUN_EXCL makes creation fail on any existing name instead of attaching to it.
    request.ifr_flags =
        static_cast<short>(IFF_TAP | IFF_NO_PI | (options.vnet_header ? IFF_VNET_HDR : 0) |
                           (existing ? 0 : IFF_TUN_EXCL));
    if (::ioctl(fd.get(), TUNSETIFF, &request) != 0) {
      const int err = errno;
      if (err == EBUSY && !existing) {
        return absl::AlreadyExistsError(absl::StrCat("TAP ", ifname, ": name already in use"));
      }
      if (err == EBUSY) {
        return absl::UnavailableError(
            absl::StrCat("TAP ", ifname, ": attached to another process"));
      }
      if (err == EINVAL && existing) {
        return absl::InvalidArgumentError(
            absl::StrCat("TAP ", ifname, ": exists but is not a single-queue TAP"));
      }
      return ErrnoStatus(absl::StrCat("TUNSETIFF ", ifname), err);
    }
    absl::StatusOr<int> after = IndexOf(control.get(), ifname);
    if (!after.ok()) {
      return after.status();
    }
    ifindex = *after;
    if (existing && ifindex != *before) {
      // The device vanished between the look-up and TUNSETIFF, which then made a fresh,
      // non-persistent one: closing the fd removes it again.
      fd.Reset();
      return absl::NotFoundError(absl::StrCat("TAP ", ifname, ": removed while attaching"));
    }
    if (!existing && options.persistent && ::ioctl(fd.get(), TUNSETPERSIST, 1) != 0) {
      return ErrnoStatus(absl::StrCat("TUNSETPERSIST ", ifname), errno);
    }
    return absl::OkStatus();
  });
  if (!status.ok()) {
    // A device created here before a later step failed must not stay behind as a persistent
    // leftover.
    if (!existing && fd.valid()) {
      ::ioctl(fd.get(), TUNSETPERSIST, 0);
    }
    return status;
  }
  TapDevice device(std::move(fd), std::move(control), std::string(ifname), ifindex);
  if (auto applied = device.Apply(options); !applied.ok()) {
    if (!existing) {
      device.DeletePersistent().IgnoreError();
    }
    return applied;
  }
  return device;
}

absl::Status TapDevice::Apply(const TapOptions& options) {
  if (options.mtu != 0) {
    if (auto status = SetMtu(options.mtu); !status.ok()) {
      return status;
    }
  }
  if (options.mac) {
    if (auto status = SetMac(*options.mac); !status.ok()) {
      return status;
    }
  }
  if (options.up) {
    return SetUp(true);
  }
  return absl::OkStatus();
}

absl::Status TapDevice::DeletePersistent() {
  if (!fd_.valid()) {
    return absl::FailedPreconditionError(absl::StrCat("TAP ", name_, ": not open"));
  }
  absl::Status status;
  if (::ioctl(fd_.get(), TUNSETPERSIST, 0) != 0) {
    status = ErrnoStatus(absl::StrCat("TUNSETPERSIST off ", name_), errno);
  }
  fd_.Reset();
  control_.Reset();
  return status;
}

absl::Status TapDevice::SetMtu(uint32_t mtu) {
  ifreq request = RequestFor(name_);
  request.ifr_mtu = static_cast<int>(mtu);
  if (::ioctl(control_.get(), SIOCSIFMTU, &request) != 0) {
    return ErrnoStatus(absl::StrCat("set MTU ", mtu, " on ", name_), errno);
  }
  return absl::OkStatus();
}

absl::Status TapDevice::SetMac(const MacAddress& mac) {
  ifreq request = RequestFor(name_);
  request.ifr_hwaddr.sa_family = ARPHRD_ETHER;
  std::memcpy(request.ifr_hwaddr.sa_data, mac.data(), mac.size());
  if (::ioctl(control_.get(), SIOCSIFHWADDR, &request) != 0) {
    return ErrnoStatus(absl::StrCat("set MAC on ", name_), errno);
  }
  return absl::OkStatus();
}

absl::StatusOr<MacAddress> TapDevice::Mac() const {
  ifreq request = RequestFor(name_);
  if (::ioctl(control_.get(), SIOCGIFHWADDR, &request) != 0) {
    return ErrnoStatus(absl::StrCat("get MAC of ", name_), errno);
  }
  MacAddress mac;
  std::memcpy(mac.data(), request.ifr_hwaddr.sa_data, mac.size());
  return mac;
}

absl::Status TapDevice::SetOffloads(bool on) {
  const unsigned offloads = on ? TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN : 0;
  if (::ioctl(fd_.get(), TUNSETOFFLOAD, offloads) != 0) {
    return ErrnoStatus(absl::StrCat("TUNSETOFFLOAD ", on ? "on" : "off", " on ", name_), errno);
  }
  return absl::OkStatus();
}

absl::Status TapDevice::SetUp(bool up) {
  ifreq request = RequestFor(name_);
  if (::ioctl(control_.get(), SIOCGIFFLAGS, &request) != 0) {
    return ErrnoStatus(absl::StrCat("get flags of ", name_), errno);
  }
  if (up) {
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  } else {
    request.ifr_flags = static_cast<short>(request.ifr_flags & ~IFF_UP);
  }
  if (::ioctl(control_.get(), SIOCSIFFLAGS, &request) != 0) {
    return ErrnoStatus(absl::StrCat("set ", name_, up ? " up" : " down"), errno);
  }
  return absl::OkStatus();
}

}  // namespace nslab::wire
