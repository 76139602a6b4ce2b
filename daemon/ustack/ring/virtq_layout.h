#pragma once

// The split virtqueue as virtio 1.x (section 2.7) lays it out in memory: the structures both
// sides read and write, the flag values and the notification-suppression rule.

#include <bit>
#include <cstddef>
#include <cstdint>

namespace nslab::ustack::ring {

// Ring fields are little-endian by the spec; both sides live in this process and use native
// order, which is only the same thing on a little-endian host.
static_assert(std::endian::native == std::endian::little, "virtqueue fields are little-endian");

inline constexpr std::uint32_t kMaxQueueSize = 32768;

// Descriptor flags.
inline constexpr std::uint16_t kDescFlagNext = 1;      // VIRTQ_DESC_F_NEXT
inline constexpr std::uint16_t kDescFlagWrite = 2;     // VIRTQ_DESC_F_WRITE
inline constexpr std::uint16_t kDescFlagIndirect = 4;  // VIRTQ_DESC_F_INDIRECT (not negotiated)

// Available ring flags (driver -> device) and used ring flags (device -> driver); without
// VIRTIO_F_EVENT_IDX these are the only suppression hints.
inline constexpr std::uint16_t kAvailFlagNoInterrupt = 1;  // VIRTQ_AVAIL_F_NO_INTERRUPT
inline constexpr std::uint16_t kUsedFlagNoNotify = 1;      // VIRTQ_USED_F_NO_NOTIFY

// struct virtq_desc. Plain struct: the ring is our own aligned memory, not bytes off a wire.
struct VirtqDesc {
  std::uint64_t addr;
  std::uint32_t len;
  std::uint16_t flags;
  std::uint16_t next;
};
static_assert(sizeof(VirtqDesc) == 16 && alignof(VirtqDesc) <= 16);

// struct virtq_used_elem.
struct VirtqUsedElem {
  std::uint32_t id;
  std::uint32_t len;
};
static_assert(sizeof(VirtqUsedElem) == 8);

// How each side tells the other that it does not want to be notified (VIRTIO_F_EVENT_IDX
// negotiated or not). Both sides of one queue must agree.
enum class Suppression : std::uint8_t {
  kFlags,     // VIRTQ_AVAIL_F_NO_INTERRUPT / VIRTQ_USED_F_NO_NOTIFY
  kEventIdx,  // used_event / avail_event
};

// A buffer by address and length in memory the caller owns: one descriptor's worth.
struct Segment {
  std::uint64_t addr = 0;
  std::uint32_t len = 0;
};

// vring_need_event(): true when moving an index from `old_idx` to `new_idx` crossed the
// `event_idx` the other side asked to be notified at. All arithmetic is modulo 2^16.
constexpr bool need_event(std::uint16_t event_idx, std::uint16_t new_idx, std::uint16_t old_idx) {
  return static_cast<std::uint16_t>(new_idx - event_idx - 1) <
         static_cast<std::uint16_t>(new_idx - old_idx);
}

constexpr bool is_valid_queue_size(std::uint32_t size) {
  return size != 0 && size <= kMaxQueueSize && std::has_single_bit(size);
}

}  // namespace nslab::ustack::ring
