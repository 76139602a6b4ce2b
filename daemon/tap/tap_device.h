#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/tap/owned_fd.h"
#include "daemon/tap/vnet_header.h"

namespace nslab::tap {

using MacAddress = std::array<std::uint8_t, 6>;

// What Open does when the name is already a device.
enum class OpenMode {
  // ALREADY_EXISTS: a TAP left by an earlier run is reattached with kAttach, never silently.
  kCreate,
  // NOT_FOUND if there is no such device, INVALID_ARGUMENT if it is not a single-queue TAP.
  // Addresses, MTU and state set earlier are kept.
  kAttach,
  // Attaches if the device exists, else creates it.
  kAttachOrCreate,
};

// What the kernel may hand over on reads (TUNSETOFFLOAD). Writes accept super-frames and
// partial checksums whatever is set.
struct Offloads {
  // Partial checksums (NEEDS_CSUM) and checksums it vouches for (DATA_VALID).
  bool checksum = false;
  // TSO super-frames of up to 64 KiB; each needs `checksum`.
  bool tso4 = false;
  bool tso6 = false;
  bool tso_ecn = false;
};

struct TapOptions {
  OpenMode mode = OpenMode::kCreate;
  // 0 leaves the device's MTU (the kernel's default for a new one, 1500).
  std::uint32_t mtu = 0;
  // nullopt leaves the address the device has (a new one's is random).
  std::optional<MacAddress> mac = std::nullopt;
  // Sets IFF_UP. The daemon may instead bring the device up with its netlink layer, after
  // addresses are in place.
  bool up = false;
  // TUNSETPERSIST on a device this call creates: it outlives the fd, so a restarted process can
  // attach to it and the namespace's addresses and routes on it survive. Without it the device
  // disappears with its last fd.
  bool persistent = false;
  // IFF_VNET_HDR with TUNSETVNETHDRSZ: every frame read or written through the fd starts with a
  // virtio-net header of this size (vnet_header.h), which is what lets SetOffloads() hand over
  // TSO/GSO super-frames and partial checksums. A setting of the fd, so attaching applies it
  // too. nullopt: plain frames.
  std::optional<VnetHeaderSize> vnet_header = std::nullopt;
  // Set before the device is brought up, so that no frame is queued in a form the reader did
  // not ask for (a persistent device keeps what an earlier user set). Needs vnet_header.
  // nullopt leaves what the device has.
  std::optional<Offloads> offloads = std::nullopt;
};

// One TAP device (IFF_TAP | IFF_NO_PI: whole Ethernet frames, no packet-info header), single
// queue, and the non-blocking fd that reads the frames the namespace transmits on it and
// writes the frames it receives.
//
// The device is created in (or attached in) the network namespace of the calling thread, and
// the fd stays attached to it whichever namespace its later users run in. The fd holds a
// reference to the namespace: a namespace whose name was deleted lives on until its TAP fds are
// closed.
//
// Closing the fd of a persistent TAP leaves the device in place (carrier off); only
// DeletePersistent() or the death of its namespace removes it.
class TapDevice {
 public:
  static absl::StatusOr<TapDevice> Open(absl::string_view ifname, const TapOptions& options);

  TapDevice(TapDevice&&) = default;
  TapDevice& operator=(TapDevice&&) = default;
  ~TapDevice() = default;

  // Clears TUNSETPERSIST and closes the fd: the kernel removes the device once no other fd is
  // attached. The object is empty afterwards.
  absl::Status DeletePersistent();

  // Closes the fd; a persistent device stays (carrier off) to be attached again.
  void Close() {
    fd_.reset();
    control_.reset();
  }

  // Device settings, through an ioctl socket opened in the device's namespace.
  absl::Status SetMtu(std::uint32_t mtu);
  absl::Status SetMac(const MacAddress& mac);
  absl::Status SetUp(bool up);
  absl::StatusOr<MacAddress> Mac() const;
  absl::StatusOr<std::uint32_t> Mtu() const;

  // Needs a virtio-net header (TapOptions::vnet_header). Frames the kernel queued before the
  // change keep their form.
  absl::Status SetOffloads(const Offloads& offloads);

  int fd() const { return fd_.get(); }
  bool valid() const { return fd_.valid(); }
  const std::string& name() const { return name_; }
  int ifindex() const { return ifindex_; }
  // Whether Open made the device rather than attaching to one.
  bool created() const { return created_; }

 private:
  TapDevice(OwnedFd fd, OwnedFd control, std::string name, int ifindex, bool created)
      : fd_(std::move(fd)),
        control_(std::move(control)),
        name_(std::move(name)),
        ifindex_(ifindex),
        created_(created) {}

  absl::Status Apply(const TapOptions& options);

  OwnedFd fd_;
  // An AF_INET datagram socket created in the device's namespace: interface ioctls act on the
  // namespace of the socket they are issued on, so settings need no setns() later.
  OwnedFd control_;
  std::string name_;
  int ifindex_ = 0;
  bool created_ = false;
};

}  // namespace nslab::tap
