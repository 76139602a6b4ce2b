#pragma once

// The driver side of the virtio-net style NIC, on the stack's thread: it keeps the rx ring full
// of buffers, hands received frames to the stack NAPI-style (interrupts off while polling,
// re-armed when the ring is empty), posts frames to transmit and kicks the device. It owns the
// rings, the buffers and the device thread; ring sizes change by rebuilding all of them, as a
// NIC resets on `ethtool -G`.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "daemon/ustack/driver/event_notifier.h"
#include "daemon/ustack/driver/frame_port.h"
#include "daemon/ustack/driver/nic_settings.h"
#include "daemon/ustack/driver/virtio_net_device.h"
#include "daemon/ustack/packet/bytes.h"
#include "daemon/ustack/ring/buffer_pool.h"
#include "daemon/ustack/ring/driver_queue.h"
#include "daemon/ustack/ring/virtqueue.h"

namespace nslab::ustack::driver {

struct RxFrame {
  packet::ConstBytes frame;  // from the Ethernet header on; valid during the callback only
  // The other side vouched for the TCP/UDP checksum (DATA_VALID) or left it to be completed
  // (NEEDS_CSUM): the stack must not verify it.
  bool checksum_trusted = false;
};

// A frame's checksum left to the device (virtio NEEDS_CSUM), offsets from the Ethernet header.
struct TxChecksumOffload {
  std::uint16_t start = 0;
  std::uint16_t offset = 0;
};

// A TCP/IPv4 frame the device cuts into frames of `mss` payload bytes each (virtio GSO TCPV4),
// each with a copy of the first `header_len` bytes (Ethernet, IPv4 and TCP headers).
struct TxSegmentation {
  std::uint16_t mss = 0;
  std::uint16_t header_len = 0;
};

// The largest frame with segmentation offload: Ethernet header and the largest IPv4 packet.
inline constexpr std::size_t kMaxSegmentationFrameLen = 14 + 65535;

class VirtioNet {
 public:
  // `port` must outlive the NIC. `max_frame_len` sizes the buffers (Ethernet header and MTU).
  static absl::StatusOr<std::unique_ptr<VirtioNet>> create(FramePort& port,
                                                           const NicSettings& settings,
                                                           std::size_t max_frame_len);
  ~VirtioNet();
  VirtioNet(const VirtioNet&) = delete;
  VirtioNet& operator=(const VirtioNet&) = delete;

  // Validates the whole change first; ring sizes rebuild the rings (frames in flight are lost).
  absl::Status apply(const NicSettings& settings);
  const NicSettings& settings() const { return settings_; }

  // Readable when the device raised an interrupt: call poll_rx().
  int interrupt_fd() const { return interrupt_.fd(); }

  // Hands up to `budget` received frames to `on_frame`, refilling the ring as it goes. True
  // when the budget ran out and more may be waiting: call again before sleeping on
  // interrupt_fd(), since no interrupt will come for those.
  bool poll_rx(std::size_t budget, absl::FunctionRef<void(const RxFrame&)> on_frame);

  // Lends a tx buffer of `frame_len` bytes to `fill` and posts it. False (counted as
  // tx_queue_full) when no descriptor or buffer is free, or (tx_errors) when the frame is longer
  // than the MTU allows, unless tso is on and it asks for `segmentation` (with `checksum`).
  bool transmit(std::size_t frame_len, std::optional<TxChecksumOffload> checksum,
                std::optional<TxSegmentation> segmentation,
                absl::FunctionRef<void(packet::MutableBytes)> fill);
  // Kicks the device for the frames posted since the last flush, unless it asked not to be.
  void flush_tx();

  std::size_t max_frame_len() const { return max_frame_len_; }
  // Whether transmit() takes TxSegmentation now (tso on).
  bool segmentation_offload() const { return settings_.tso; }
  NicCounterValues counters() const { return counters_.values(); }

 private:
  // Everything a ring size change replaces.
  struct Queues {
    Queues(ring::Virtqueue rx_ring_memory, ring::Virtqueue tx_ring_memory, ring::BufferPool rx_pool,
           ring::BufferPool tx_pool);

    ring::Virtqueue rx_ring;
    ring::Virtqueue tx_ring;
    ring::BufferPool rx_buffers;
    ring::BufferPool tx_buffers;
    ring::DriverQueue rx;
    ring::DriverQueue tx;
    DeviceRings device_rings;
    std::unique_ptr<VirtioNetDevice> device;
  };

  VirtioNet(FramePort& port, std::size_t max_frame_len, EventNotifier kick,
            EventNotifier interrupt);
  absl::Status build(const NicSettings& settings);
  // Offers one free buffer to the device (visible to it at once, no kick); false when the ring
  // or the pool has none free.
  bool post_rx_buffer();
  // Offers every free buffer, then kicks the device if it asked to be told.
  void refill_rx();
  void reclaim_tx();

  FramePort& port_;
  const std::size_t hdr_size_;
  const std::size_t max_frame_len_;
  NicSettings settings_;
  EventNotifier kick_;
  EventNotifier interrupt_;
  DeviceTuning tuning_;
  NicCounters counters_;
  std::unique_ptr<Queues> queues_;
};

}  // namespace nslab::ustack::driver
