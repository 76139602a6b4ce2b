#pragma once

// The device side of the virtio-net style NIC: one thread that moves frames between the two
// virtqueues and a FramePort fd, as a virtio-net backend (vhost, QEMU) moves them between the
// guest's rings and a TAP.
//
// rx: a frame readable on the fd goes into the next available rx chain, which is returned on the
// used ring; the driver is interrupted unless it suppressed interrupts or coalescing holds the
// interrupt back. With no rx chain available the frame is read and dropped (rx_missed_errors),
// as a NIC drops what arrives while its ring is empty.
// tx: on a kick (or while awake anyway) every available tx chain is written to the fd and
// returned.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "daemon/tap/vnet_header.h"
#include "daemon/ustack/driver/event_notifier.h"
#include "daemon/ustack/driver/nic_settings.h"
#include "daemon/ustack/ring/device_queue.h"
#include "daemon/ustack/ring/memory_region.h"
#include "daemon/ustack/ring/virtqueue.h"

namespace nslab::ustack::driver {

// Settings the device reads on every pass, so that changing them needs no restart.
struct DeviceTuning {
  std::atomic<std::uint32_t> rx_coalesce_frames{1};
  std::atomic<std::uint32_t> rx_coalesce_usecs{0};
  std::atomic<bool> csum_offload{false};
};

struct DeviceRings {
  const ring::Virtqueue* rx = nullptr;
  const ring::Virtqueue* tx = nullptr;
  // The memory the driver's buffers live in; descriptors pointing elsewhere are refused.
  ring::MemoryRegion rx_memory;
  ring::MemoryRegion tx_memory;
};

class VirtioNetDevice {
 public:
  // Construct before the driver offers any buffer: the device starts at the rings' current
  // indices. Everything passed in must outlive this object. `frame_fd` must be non-blocking.
  VirtioNetDevice(int frame_fd, tap::VnetHeaderSize hdr_size, const DeviceRings& rings,
                  const EventNotifier& kick, const EventNotifier& interrupt,
                  const DeviceTuning& tuning, NicCounters& counters, EventNotifier stop);
  ~VirtioNetDevice();
  VirtioNetDevice(const VirtioNetDevice&) = delete;
  VirtioNetDevice& operator=(const VirtioNetDevice&) = delete;

  void start();
  // Joins the thread; chains in flight stay where they are.
  void stop();

 private:
  using Clock = std::chrono::steady_clock;
  // Frames moved per pass of one direction before looking at the other.
  static constexpr int kBatch = 64;
  static constexpr std::size_t kMaxChain = 8;

  void run();
  bool drain_tx();
  bool drain_rx();
  void deliver_rx(const ring::Chain& chain, std::size_t length);
  // Raises the rx interrupt when coalescing allows; the time left otherwise.
  std::optional<Clock::duration> signal_rx(Clock::time_point now);

  const int fd_;
  const std::size_t hdr_size_;
  const DeviceRings rings_;
  const EventNotifier& kick_;
  const EventNotifier& interrupt_;
  const DeviceTuning& tuning_;
  NicCounters& counters_;
  EventNotifier stop_;
  ring::DeviceQueue rx_;
  ring::DeviceQueue tx_;

  std::array<ring::Segment, kMaxChain> rx_scratch_{};
  std::array<ring::Segment, kMaxChain> tx_scratch_{};
  // An rx chain popped for a read that found nothing: it waits for the next frame.
  std::optional<ring::Chain> held_rx_;
  // Where frames go that find no rx chain.
  std::vector<std::byte> drop_buffer_;
  std::uint32_t unsignalled_rx_ = 0;
  Clock::time_point first_unsignalled_rx_{};

  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace nslab::ustack::driver
