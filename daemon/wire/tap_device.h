#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/common/fd.h"

namespace nslab::wire {

using MacAddress = std::array<uint8_t, 6>;

struct TapOptions {
  // 0 leaves the kernel's default (1500).
  uint32_t mtu = 0;
  // nullopt leaves the random address the kernel picked.
  std::optional<MacAddress> mac;
  // Sets IFF_UP. The daemon may instead bring the device up with its netlink layer, after
  // addresses are in place.
  bool up = false;
  // TUNSETPERSIST: the device outlives the fd, so a restarted daemon can OpenExisting() it
  // and the node's addresses and routes survive.
  bool persistent = true;
  // IFF_VNET_HDR: every frame read or written through the fd starts with a struct
  // virtio_net_hdr (see vnet_header.h), which is what lets SetOffloads() hand over TSO/GSO
  // super-frames and partial checksums. A setting of the fd, so OpenExisting applies it too.
  bool vnet_header = false;
};

// One TAP device (IFF_TAP | IFF_NO_PI: whole Ethernet frames, no packet-info header; with a
// virtio-net header only if asked) living in a given network namespace, and the non-blocking
// fd that reads the frames the namespace transmits on it and writes the frames it receives.
//
// /dev/net/tun is opened and TUNSETIFF issued on a thread inside the namespace, so the device
// is created there (never in the host namespace, never moved) and the fd stays attached to it
// whichever namespace its later users run in. The fd holds a reference to the namespace: a
// namespace whose name was deleted lives on until its TAP fds are closed.
//
// Closing the fd of a persistent TAP leaves the device in place (carrier off); only
// DeletePersistent() or the death of its namespace removes it.
class TapDevice {
 public:
  // Creates the device; ALREADY_EXISTS if `ifname` is taken in the namespace (a TAP left by an
  // earlier daemon is reattached with OpenExisting, never silently).
  static absl::StatusOr<TapDevice> Create(int netns_fd, absl::string_view ifname,
                                          const TapOptions& options = {});

  // Attaches to an existing persistent TAP (after a daemon restart); NOT_FOUND if there is no
  // such device, INVALID_ARGUMENT if `ifname` is not a TAP of ours (e.g. a veth). Addresses,
  // MTU and state set earlier are kept; options.persistent is ignored (the device keeps its
  // flag) and the other options are applied as in Create.
  static absl::StatusOr<TapDevice> OpenExisting(int netns_fd, absl::string_view ifname,
                                                const TapOptions& options = {});

  TapDevice(TapDevice&&) = default;
  TapDevice& operator=(TapDevice&&) = default;
  ~TapDevice() = default;

  // Clears TUNSETPERSIST and closes the fd: the kernel removes the device once no other fd is
  // attached. The object is empty afterwards.
  absl::Status DeletePersistent();

  // Closes the fd; a persistent device stays (carrier off) for OpenExisting.
  void Close() {
    fd_.Reset();
    control_.Reset();
  }

  // Device settings, through an ioctl socket opened in the device's namespace.
  absl::Status SetMtu(uint32_t mtu);
  absl::Status SetMac(const MacAddress& mac);
  absl::Status SetUp(bool up);
  absl::StatusOr<MacAddress> Mac() const;

  // TUNSETOFFLOAD (needs vnet_header): on lets the namespace's stack transmit on the device
  // with checksum offload and TSO for IPv4 and IPv6, so that reads return super-frames of up
  // to 64 KiB with partial checksums; off makes the kernel segment and checksum every frame
  // before the fd sees it. Frames the kernel queued before the change keep their form.
  // Writes accept super-frames and partial checksums either way.
  absl::Status SetOffloads(bool on);

  int fd() const { return fd_.get(); }
  bool valid() const { return fd_.valid(); }
  const std::string& name() const { return name_; }
  int ifindex() const { return ifindex_; }

 private:
  TapDevice(UniqueFd fd, UniqueFd control, std::string name, int ifindex)
      : fd_(std::move(fd)),
        control_(std::move(control)),
        name_(std::move(name)),
        ifindex_(ifindex) {}

  static absl::StatusOr<TapDevice> Open(int netns_fd, absl::string_view ifname,
                                        const TapOptions& options, bool existing);
  absl::Status Apply(const TapOptions& options);

  UniqueFd fd_;
  // An AF_INET datagram socket created inside the namespace: interface ioctls act on the
  // namespace of the socket they are issued on, so settings need no setns() later.
  UniqueFd control_;
  std::string name_;
  int ifindex_ = 0;
};

}  // namespace nslab::wire
