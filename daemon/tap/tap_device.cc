#include "daemon/tap/tap_device.h"

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

namespace nslab::tap {
namespace {

// The codes daemon/common's ErrnoStatus gives for the errors these calls meet, since the
// daemon's callers act on them; this leaf cannot use daemon/common, which the ustack must not
// depend on.
absl::Status ErrnoError(absl::string_view what, int err) {
  const std::string message = absl::StrCat(what, ": ", std::strerror(err));
  switch (err) {
    case EPERM:
    case EACCES:
      return absl::PermissionDeniedError(absl::StrCat(message, " (needs CAP_NET_ADMIN)"));
    case EEXIST:
      return absl::AlreadyExistsError(message);
    case ENOENT:
    case ENODEV:
      return absl::NotFoundError(message);
    case EINVAL:
      return absl::InvalidArgumentError(message);
    case EBUSY:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

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
    return ErrnoError(absl::StrCat("SIOCGIFINDEX ", ifname), errno);
  }
  return request.ifr_ifindex;
}

}  // namespace

absl::StatusOr<TapDevice> TapDevice::Open(absl::string_view ifname, const TapOptions& options) {
  if (absl::Status status = CheckName(ifname); !status.ok()) {
    return status;
  }
  OwnedFd control(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!control.valid()) {
    return ErrnoError("ioctl socket", errno);
  }
  const absl::StatusOr<int> before = IndexOf(control.get(), ifname);
  if (!before.ok()) {
    return before.status();
  }
  if (options.mode == OpenMode::kAttach && *before == 0) {
    return absl::NotFoundError(absl::StrCat("TAP ", ifname, ": no such device"));
  }
  OwnedFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    return ErrnoError("open /dev/net/tun (is the tun module loaded?)", errno);
  }
  ifreq request = RequestFor(ifname);
  // IFF_TUN_EXCL makes creation fail on any existing name instead of attaching to it.
  request.ifr_flags =
      static_cast<short>(IFF_TAP | IFF_NO_PI | (options.vnet_header ? IFF_VNET_HDR : 0) |
                         (options.mode == OpenMode::kCreate ? IFF_TUN_EXCL : 0));
  if (::ioctl(fd.get(), TUNSETIFF, &request) != 0) {
    const int err = errno;
    if (err == EBUSY && options.mode == OpenMode::kCreate) {
      return absl::AlreadyExistsError(absl::StrCat("TAP ", ifname, ": name already in use"));
    }
    if (err == EBUSY) {
      return absl::UnavailableError(absl::StrCat("TAP ", ifname, ": attached to another process"));
    }
    if (err == EINVAL && *before != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("interface ", ifname, " exists but is not a single-queue TAP"));
    }
    return ErrnoError(absl::StrCat("TUNSETIFF ", ifname), err);
  }
  const absl::StatusOr<int> after = IndexOf(control.get(), ifname);
  if (!after.ok()) {
    return after.status();
  }
  // A new ifindex where there was one before: the device vanished between the look-up and
  // TUNSETIFF, which then made a fresh, non-persistent one.
  const bool created = *after != *before;
  if (created && options.mode == OpenMode::kAttach) {
    // Closing the fd removes the fresh one again.
    return absl::NotFoundError(absl::StrCat("TAP ", ifname, ": removed while attaching"));
  }
  TapDevice device(std::move(fd), std::move(control), std::string(ifname), *after, created);
  if (absl::Status status = device.Apply(options); !status.ok()) {
    // A device made here must not stay behind as a persistent leftover.
    if (created) {
      device.DeletePersistent().IgnoreError();
    }
    return status;
  }
  return device;
}

absl::Status TapDevice::Apply(const TapOptions& options) {
  if (created_ && options.persistent && ::ioctl(fd_.get(), TUNSETPERSIST, 1) != 0) {
    return ErrnoError(absl::StrCat("TUNSETPERSIST ", name_), errno);
  }
  if (options.vnet_header) {
    int header_size = static_cast<int>(*options.vnet_header);
    if (::ioctl(fd_.get(), TUNSETVNETHDRSZ, &header_size) != 0) {
      return ErrnoError(absl::StrCat("TUNSETVNETHDRSZ ", name_), errno);
    }
  }
  if (options.offloads) {
    if (absl::Status status = SetOffloads(*options.offloads); !status.ok()) {
      return status;
    }
  }
  if (options.mtu != 0) {
    if (absl::Status status = SetMtu(options.mtu); !status.ok()) {
      return status;
    }
  }
  if (options.mac) {
    if (absl::Status status = SetMac(*options.mac); !status.ok()) {
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
    status = ErrnoError(absl::StrCat("TUNSETPERSIST off ", name_), errno);
  }
  Close();
  return status;
}

absl::Status TapDevice::SetMtu(std::uint32_t mtu) {
  ifreq request = RequestFor(name_);
  request.ifr_mtu = static_cast<int>(mtu);
  if (::ioctl(control_.get(), SIOCSIFMTU, &request) != 0) {
    return ErrnoError(absl::StrCat("set MTU ", mtu, " on ", name_), errno);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::uint32_t> TapDevice::Mtu() const {
  ifreq request = RequestFor(name_);
  if (::ioctl(control_.get(), SIOCGIFMTU, &request) != 0) {
    return ErrnoError(absl::StrCat("get MTU of ", name_), errno);
  }
  return static_cast<std::uint32_t>(request.ifr_mtu);
}

absl::Status TapDevice::SetMac(const MacAddress& mac) {
  ifreq request = RequestFor(name_);
  request.ifr_hwaddr.sa_family = ARPHRD_ETHER;
  std::memcpy(request.ifr_hwaddr.sa_data, mac.data(), mac.size());
  if (::ioctl(control_.get(), SIOCSIFHWADDR, &request) != 0) {
    return ErrnoError(absl::StrCat("set MAC on ", name_), errno);
  }
  return absl::OkStatus();
}

absl::StatusOr<MacAddress> TapDevice::Mac() const {
  ifreq request = RequestFor(name_);
  if (::ioctl(control_.get(), SIOCGIFHWADDR, &request) != 0) {
    return ErrnoError(absl::StrCat("get MAC of ", name_), errno);
  }
  MacAddress mac;
  std::memcpy(mac.data(), request.ifr_hwaddr.sa_data, mac.size());
  return mac;
}

absl::Status TapDevice::SetUp(bool up) {
  ifreq request = RequestFor(name_);
  if (::ioctl(control_.get(), SIOCGIFFLAGS, &request) != 0) {
    return ErrnoError(absl::StrCat("get flags of ", name_), errno);
  }
  if (up) {
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  } else {
    request.ifr_flags = static_cast<short>(request.ifr_flags & ~IFF_UP);
  }
  if (::ioctl(control_.get(), SIOCSIFFLAGS, &request) != 0) {
    return ErrnoError(absl::StrCat("set ", name_, up ? " up" : " down"), errno);
  }
  return absl::OkStatus();
}

absl::Status TapDevice::SetOffloads(const Offloads& offloads) {
  const unsigned int flags = (offloads.checksum ? TUN_F_CSUM : 0) |
                             (offloads.tso4 ? TUN_F_TSO4 : 0) | (offloads.tso6 ? TUN_F_TSO6 : 0) |
                             (offloads.tso_ecn ? TUN_F_TSO_ECN : 0);
  if (::ioctl(fd_.get(), TUNSETOFFLOAD, flags) != 0) {
    return ErrnoError(
        absl::StrCat("TUNSETOFFLOAD ", absl::Hex(flags, absl::kZeroPad2), " on ", name_), errno);
  }
  return absl::OkStatus();
}

}  // namespace nslab::tap
