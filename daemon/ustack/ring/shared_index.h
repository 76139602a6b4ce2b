#pragma once

// Access to the ring fields that the driver and the device thread touch concurrently. The
// fields live in plain ring memory laid out by the spec, so they cannot be std::atomic objects;
// std::atomic_ref gives them atomic accesses in place.

#include <atomic>
#include <cstdint>

namespace nslab::ustack::ring {

static_assert(std::atomic_ref<std::uint16_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint16_t>::required_alignment <= alignof(std::uint16_t));

// Publishes an index after the ring entries it covers were written.
inline void store_release(std::uint16_t& field, std::uint16_t value) {
  std::atomic_ref<std::uint16_t>(field).store(value, std::memory_order_release);
}

// Reads an index before reading the ring entries it covers.
inline std::uint16_t load_acquire(std::uint16_t& field) {
  return std::atomic_ref<std::uint16_t>(field).load(std::memory_order_acquire);
}

// Flags and event indices: hints ordered by an explicit full fence where it matters.
inline void store_relaxed(std::uint16_t& field, std::uint16_t value) {
  std::atomic_ref<std::uint16_t>(field).store(value, std::memory_order_relaxed);
}

inline std::uint16_t load_relaxed(std::uint16_t& field) {
  return std::atomic_ref<std::uint16_t>(field).load(std::memory_order_relaxed);
}

// The store-then-load barrier of the notification handshake (virtio_mb): a side that
// publishes an index and then reads the other side's event index, while the other side
// publishes its event index and then re-reads the index, must not both miss each other.
inline void full_fence() { std::atomic_thread_fence(std::memory_order_seq_cst); }

}  // namespace nslab::ustack::ring
