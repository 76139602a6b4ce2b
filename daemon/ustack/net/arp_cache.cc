#include "daemon/ustack/net/arp_cache.h"

#include <algorithm>

namespace nslab::ustack::net {

using packet::Ipv4Address;
using packet::MacAddress;

const char* neighbour_state_name(NeighbourState state) {
  switch (state) {
    case NeighbourState::kIncomplete:
      return "INCOMPLETE";
    case NeighbourState::kReachable:
      return "REACHABLE";
    case NeighbourState::kStale:
      return "STALE";
    case NeighbourState::kFailed:
      return "FAILED";
  }
  return "?";
}

ArpCache::ArpCache(const ArpTimers& timers, const ArpLimits& limits)
    : timers_(timers),
      limits_(limits),
      slot_memory_(limits.pending_slots * limits.max_packet_len),
      slots_(limits.pending_slots) {
  free_slots_.reserve(limits.pending_slots);
  for (std::size_t i = limits.pending_slots; i > 0; --i) {
    free_slots_.push_back(static_cast<std::uint16_t>(i - 1));
  }
}

packet::MutableBytes ArpCache::slot_bytes(std::uint16_t slot) {
  return packet::MutableBytes(slot_memory_)
      .subspan(slot * limits_.max_packet_len, limits_.max_packet_len);
}

ArpCache::Entry* ArpCache::make_entry(Ipv4Address ip, Instant now) {
  if (entries_.size() >= limits_.max_entries) {
    // Make room by forgetting the oldest entry nobody waits for.
    auto victim = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second.state != NeighbourState::kIncomplete &&
          (victim == entries_.end() || it->second.updated < victim->second.updated)) {
        victim = it;
      }
    }
    if (victim == entries_.end()) {
      return nullptr;
    }
    entries_.erase(victim);
  }
  Entry& entry = entries_[ip];
  entry.updated = now;
  return &entry;
}

void ArpCache::start_resolution(Entry& entry, Instant now) {
  entry.state = NeighbourState::kIncomplete;
  entry.requests_sent = 1;
  entry.next_event = now + timers_.retransmit_time;
  ++counters_.requests_sent;
}

ArpCache::Resolution ArpCache::resolve(Ipv4Address ip, Instant now) {
  auto it = entries_.find(ip);
  if (it == entries_.end()) {
    Entry* entry = make_entry(ip, now);
    if (entry == nullptr) {
      return Resolution{std::nullopt, false, true};
    }
    start_resolution(*entry, now);
    return Resolution{std::nullopt, true, false};
  }
  Entry& entry = it->second;
  switch (entry.state) {
    case NeighbourState::kReachable:
      return Resolution{entry.mac, false, false};
    case NeighbourState::kStale:
      if (now >= entry.next_event) {
        entry.next_event = now + timers_.retransmit_time;
        ++counters_.requests_sent;
        return Resolution{entry.mac, true, false};
      }
      return Resolution{entry.mac, false, false};
    case NeighbourState::kIncomplete:
      return Resolution{std::nullopt, false, false};
    case NeighbourState::kFailed:
      start_resolution(entry, now);
      return Resolution{std::nullopt, true, false};
  }
  return Resolution{};
}

bool ArpCache::enqueue(Ipv4Address ip, std::size_t len, const QueuedPacketInfo& info,
                       absl::FunctionRef<void(packet::MutableBytes)> fill) {
  auto it = entries_.find(ip);
  if (it == entries_.end() || it->second.state != NeighbourState::kIncomplete ||
      len > limits_.max_packet_len) {
    ++counters_.pending_dropped;
    return false;
  }
  Entry& entry = it->second;
  if (entry.pending_count == kMaxPendingPerEntry) {
    release_oldest(entry);
    ++counters_.pending_dropped;
  }
  if (free_slots_.empty()) {
    ++counters_.pending_dropped;
    return false;
  }
  const std::uint16_t slot = free_slots_.back();
  free_slots_.pop_back();
  slots_[slot] = Slot{len, info};
  fill(slot_bytes(slot).first(len));
  entry.pending[entry.pending_count++] = slot;
  return true;
}

void ArpCache::release_oldest(Entry& entry) {
  free_slots_.push_back(entry.pending[0]);
  std::copy(entry.pending.begin() + 1, entry.pending.begin() + entry.pending_count,
            entry.pending.begin());
  --entry.pending_count;
}

void ArpCache::drop_pending(Entry& entry) {
  counters_.pending_dropped += entry.pending_count;
  while (entry.pending_count > 0) {
    release_oldest(entry);
  }
}

bool ArpCache::learn(Ipv4Address ip, MacAddress mac, Instant now, bool create) {
  auto it = entries_.find(ip);
  Entry* entry = it == entries_.end() ? nullptr : &it->second;
  if (entry == nullptr) {
    if (!create || (entry = make_entry(ip, now)) == nullptr) {
      return false;
    }
  }
  entry->state = NeighbourState::kReachable;
  entry->mac = mac;
  entry->updated = now;
  entry->requests_sent = 0;
  entry->next_event = now + timers_.reachable_time;
  return entry->pending_count > 0;
}

void ArpCache::drain(
    Ipv4Address ip,
    absl::FunctionRef<void(packet::ConstBytes packet, const QueuedPacketInfo& info)> send) {
  auto it = entries_.find(ip);
  if (it == entries_.end()) {
    return;
  }
  Entry& entry = it->second;
  for (std::size_t i = 0; i < entry.pending_count; ++i) {
    const std::uint16_t slot = entry.pending[i];
    send(slot_bytes(slot).first(slots_[slot].len), slots_[slot].info);
    free_slots_.push_back(slot);
  }
  entry.pending_count = 0;
}

void ArpCache::poll(Instant now, absl::FunctionRef<void(Ipv4Address)> send_request) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& entry = it->second;
    if (now < entry.next_event) {
      ++it;
      continue;
    }
    bool forget = false;
    switch (entry.state) {
      case NeighbourState::kIncomplete:
        if (entry.requests_sent < timers_.max_requests) {
          ++entry.requests_sent;
          ++counters_.requests_sent;
          entry.next_event = now + timers_.retransmit_time;
          send_request(it->first);
        } else {
          ++counters_.resolution_failures;
          drop_pending(entry);
          entry.state = NeighbourState::kFailed;
          entry.next_event = now + timers_.failed_time;
        }
        break;
      case NeighbourState::kReachable:
        entry.state = NeighbourState::kStale;
        entry.next_event = now;  // the next packet refreshes it
        break;
      case NeighbourState::kStale:
        forget = now - entry.updated >= timers_.stale_time;
        break;
      case NeighbourState::kFailed:
        forget = true;
        break;
    }
    it = forget ? entries_.erase(it) : std::next(it);
  }
}

std::optional<Instant> ArpCache::next_deadline() const {
  std::optional<Instant> earliest;
  for (const auto& [ip, entry] : entries_) {
    // A STALE entry's next_event only gates refresh requests; it dies at updated + stale_time.
    const Instant due = entry.state == NeighbourState::kStale ? entry.updated + timers_.stale_time
                                                              : entry.next_event;
    if (!earliest || due < *earliest) {
      earliest = due;
    }
  }
  return earliest;
}

std::optional<MacAddress> ArpCache::lookup(Ipv4Address ip) const {
  auto it = entries_.find(ip);
  if (it == entries_.end() || it->second.state == NeighbourState::kIncomplete ||
      it->second.state == NeighbourState::kFailed) {
    return std::nullopt;
  }
  return it->second.mac;
}

std::vector<ArpEntrySnapshot> ArpCache::entries() const {
  std::vector<ArpEntrySnapshot> result;
  result.reserve(entries_.size());
  for (const auto& [ip, entry] : entries_) {
    const bool has_mac =
        entry.state == NeighbourState::kReachable || entry.state == NeighbourState::kStale;
    result.push_back(ArpEntrySnapshot{ip, has_mac ? std::optional(entry.mac) : std::nullopt,
                                      entry.state, entry.pending_count});
  }
  return result;
}

}  // namespace nslab::ustack::net
