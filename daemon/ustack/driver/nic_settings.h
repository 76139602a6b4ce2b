#pragma once

// The NIC's ethtool-style knobs (-G ring sizes, -c coalescing, -K checksum offload) and its
// counters, named as `ethtool -S` names them.

#include <atomic>
#include <cstdint>
#include <optional>

#include "absl/status/status.h"

namespace nslab::ustack::driver {

struct NicSettings {
  // 1024 rx (as mlx5's default; ixgbe's is 512): the stack's thread shares the CPUs with the
  // lab's other processes, and one scheduler tick off the CPU (4 ms at HZ=250) at 100,000
  // frames/s is 400 frames. 256 missed a few per run under ab's 100 concurrent connections
  // (tests/bench/http); 1024 absorbs 10 ms. Buffers cost only the pages frames touch.
  std::uint32_t rx_ring = 1024;
  std::uint32_t tx_ring = 256;
  // An rx interrupt once this many frames are used, or rx_coalesce_usecs after the first
  // unsignalled one; 0 usecs means "at once". 0 frames counts as 1.
  std::uint32_t rx_coalesce_frames = 1;
  std::uint32_t rx_coalesce_usecs = 0;
  bool csum_offload = false;
  // TCP segmentation offload both ways (ethtool -K tso on lro on): the TAP cuts the stack's TCP
  // segments of up to 64 KiB to the MSS, and hands over the kernel's unsegmented ones. Needs
  // csum_offload, since a segment the TAP cuts gets its checksums from it.
  bool tso = false;

  // Says which field is wrong and what is allowed.
  absl::Status validate() const;
  friend bool operator==(const NicSettings&, const NicSettings&) = default;
};

// A change of some settings; the others stay.
struct NicSettingsUpdate {
  std::optional<std::uint32_t> rx_ring;
  std::optional<std::uint32_t> tx_ring;
  std::optional<std::uint32_t> rx_coalesce_frames;
  std::optional<std::uint32_t> rx_coalesce_usecs;
  std::optional<bool> csum_offload;
  std::optional<bool> tso;

  NicSettings applied_to(NicSettings settings) const;
};

struct NicCounterValues {
  std::uint64_t rx_packets = 0;
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_packets = 0;
  std::uint64_t tx_bytes = 0;
  std::uint64_t rx_missed_errors = 0;
  std::uint64_t tx_queue_full = 0;
  std::uint64_t kicks = 0;
  std::uint64_t interrupts = 0;
  std::uint64_t interrupts_suppressed = 0;
  std::uint64_t rx_csum_errors = 0;
  std::uint64_t rx_length_errors = 0;
  std::uint64_t tx_errors = 0;
  std::uint64_t rx_lro_frames = 0;  // frames larger than the MTU allows, from the TAP's GSO
  std::uint64_t tx_tso_frames = 0;  // frames handed to the TAP to be cut to the MSS
};

// Written by the device thread and the driver thread, read by either: relaxed atomics, since a
// reader only wants each number, not a consistent set.
class NicCounters {
 public:
  using Field = std::atomic<std::uint64_t> NicCounters::*;

  void add(Field field, std::uint64_t n = 1) {
    (this->*field).fetch_add(n, std::memory_order_relaxed);
  }
  NicCounterValues values() const;

  std::atomic<std::uint64_t> rx_packets{0};
  std::atomic<std::uint64_t> rx_bytes{0};
  std::atomic<std::uint64_t> tx_packets{0};
  std::atomic<std::uint64_t> tx_bytes{0};
  std::atomic<std::uint64_t> rx_missed_errors{0};
  std::atomic<std::uint64_t> tx_queue_full{0};
  std::atomic<std::uint64_t> kicks{0};
  std::atomic<std::uint64_t> interrupts{0};
  std::atomic<std::uint64_t> interrupts_suppressed{0};
  std::atomic<std::uint64_t> rx_csum_errors{0};
  std::atomic<std::uint64_t> rx_length_errors{0};
  std::atomic<std::uint64_t> tx_errors{0};
  std::atomic<std::uint64_t> rx_lro_frames{0};
  std::atomic<std::uint64_t> tx_tso_frames{0};
};

}  // namespace nslab::ustack::driver
