#pragma once

// The participant node's TAP as the NIC's FramePort: a virtio-net backend's view of it
// (IFF_VNET_HDR, the 12-byte header), opened in the calling thread's network namespace.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/tap/tap_device.h"
#include "daemon/ustack/driver/frame_port.h"

namespace nslab::ustack::driver {

struct TapPortOptions {
  // 0 keeps the device's MTU.
  std::uint32_t mtu = 0;
  // Brings the device up (IFF_UP), so that the namespace can send to it.
  bool up = true;
};

class TapPort final : public FramePort {
 public:
  // The header size this stack uses: virtio 1.x's, with num_buffers.
  static constexpr tap::VnetHeaderSize kVnetHeaderSize = tap::VnetHeaderSize::kWithNumBuffers;

  // Attaches to the TAP `name` if it exists (a persistent TAP made by `ip tuntap add` or the
  // daemon), else creates it; the created one disappears when this process exits. Plain frames
  // until set_offloads() asks for more.
  static absl::StatusOr<TapPort> open(absl::string_view name, const TapPortOptions& options);

  int fd() const override { return device_.fd(); }
  tap::VnetHeaderSize vnet_hdr_size() const override { return kVnetHeaderSize; }
  absl::Status set_offloads(bool checksum, bool tso) override;

  const std::string& name() const { return device_.name(); }
  bool created() const { return device_.created(); }

 private:
  explicit TapPort(tap::TapDevice device) : device_(std::move(device)) {}

  tap::TapDevice device_;
};

}  // namespace nslab::ustack::driver
