#include "daemon/ustack/driver/nic_settings.h"

#include "absl/strings/str_cat.h"
#include "daemon/ustack/ring/virtq_layout.h"

namespace nslab::ustack::driver {

absl::Status NicSettings::validate() const {
  for (const auto& [name, size] : {std::pair{"rx_ring", rx_ring}, std::pair{"tx_ring", tx_ring}}) {
    if (!ring::is_valid_queue_size(size)) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, " ", size, ": a ring size must be a power of two from 1 to ", ring::kMaxQueueSize));
    }
  }
  if (rx_coalesce_usecs > 1'000'000) {
    return absl::InvalidArgumentError(
        absl::StrCat("rx_coalesce_usecs ", rx_coalesce_usecs, ": at most 1000000 (one second)"));
  }
  if (rx_coalesce_frames > rx_ring) {
    return absl::InvalidArgumentError(absl::StrCat("rx_coalesce_frames ", rx_coalesce_frames,
                                                   " exceeds rx_ring ", rx_ring,
                                                   ": the ring would fill before the interrupt"));
  }
  if (tso && !csum_offload) {
    return absl::InvalidArgumentError(
        "tso needs csum_offload: segments the TAP cuts or merges carry partial checksums");
  }
  return absl::OkStatus();
}

NicSettings NicSettingsUpdate::applied_to(NicSettings settings) const {
  settings.rx_ring = rx_ring.value_or(settings.rx_ring);
  settings.tx_ring = tx_ring.value_or(settings.tx_ring);
  settings.rx_coalesce_frames = rx_coalesce_frames.value_or(settings.rx_coalesce_frames);
  settings.rx_coalesce_usecs = rx_coalesce_usecs.value_or(settings.rx_coalesce_usecs);
  settings.csum_offload = csum_offload.value_or(settings.csum_offload);
  settings.tso = tso.value_or(settings.tso);
  return settings;
}

NicCounterValues NicCounters::values() const {
  auto get = [](const std::atomic<std::uint64_t>& counter) {
    return counter.load(std::memory_order_relaxed);
  };
  return {get(rx_packets),     get(rx_bytes),         get(tx_packets),
          get(tx_bytes),       get(rx_missed_errors), get(tx_queue_full),
          get(kicks),          get(interrupts),       get(interrupts_suppressed),
          get(rx_csum_errors), get(rx_length_errors), get(tx_errors),
          get(rx_lro_frames),  get(tx_tso_frames)};
}

}  // namespace nslab::ustack::driver
