#pragma once

// The participant node's TAP device, opened as a virtio-net backend: IFF_TAP | IFF_NO_PI |
// IFF_VNET_HDR, so that every frame read or written carries a virtio_net_hdr of the size set
// with TUNSETVNETHDRSZ. Created in (or attached in) the calling thread's network namespace.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/ustack/driver/frame_port.h"
#include "daemon/ustack/driver/owned_fd.h"
#include "daemon/ustack/packet/mac_address.h"

namespace nslab::ustack::driver {

struct TapOptions {
  // 0 keeps the device's MTU.
  std::uint32_t mtu = 0;
  // Brings the device up (IFF_UP), so that the namespace can send to it.
  bool up = true;
};

class TapDevice final : public FramePort {
 public:
  // The header size this stack uses: virtio 1.x's, with num_buffers.
  static constexpr packet::VirtioNetHdrSize kVnetHdrSize =
      packet::VirtioNetHdrSize::kWithNumBuffers;

  // Attaches to the TAP `name` if it exists (a persistent TAP made by `ip tuntap add` or the
  // daemon), else creates it; the created one disappears when this process exits.
  static absl::StatusOr<TapDevice> open(absl::string_view name, const TapOptions& options);

  TapDevice(TapDevice&&) = default;
  TapDevice& operator=(TapDevice&&) = default;

  int fd() const override { return fd_.get(); }
  packet::VirtioNetHdrSize vnet_hdr_size() const override { return kVnetHdrSize; }
  absl::Status set_offloads(bool checksum, bool tso) override;

  // The kernel side's address (what `ip link` shows): the stack must not use it as its own,
  // or the bridge would deliver the stack's frames to the wrong port.
  absl::StatusOr<packet::MacAddress> kernel_mac() const;
  absl::StatusOr<std::uint32_t> mtu() const;
  const std::string& name() const { return name_; }
  bool created() const { return created_; }

 private:
  TapDevice(OwnedFd fd, OwnedFd control, std::string name, bool created)
      : fd_(std::move(fd)),
        control_(std::move(control)),
        name_(std::move(name)),
        created_(created) {}

  OwnedFd fd_;
  OwnedFd control_;  // AF_INET datagram socket for interface ioctls
  std::string name_;
  bool created_ = false;
};

}  // namespace nslab::ustack::driver
