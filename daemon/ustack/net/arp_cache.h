#pragma once

// The neighbour table for IPv4 over Ethernet (RFC 826), with the states `ip neigh` shows:
// INCOMPLETE while a request is out (packets for it wait in a small queue), REACHABLE after a
// reply, STALE once reachable_time has passed (still used, refreshed by a new request), FAILED
// after max_requests unanswered requests (its queue is dropped; the next packet starts over).
// Pure state: the Interface sends and receives the ARP packets and tells the time.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "absl/functional/function_ref.h"
#include "daemon/ustack/net/counters.h"
#include "daemon/ustack/net/time.h"
#include "daemon/ustack/packet/bytes.h"
#include "daemon/ustack/packet/ipv4_address.h"
#include "daemon/ustack/packet/mac_address.h"

namespace nslab::ustack::net {

struct ArpTimers {
  Duration reachable_time = std::chrono::seconds(30);
  // A STALE entry is forgotten this long after it was last confirmed.
  Duration stale_time = std::chrono::seconds(60);
  Duration retransmit_time = std::chrono::seconds(1);
  int max_requests = 3;
  // How long a FAILED entry stays visible.
  Duration failed_time = std::chrono::seconds(3);
};

struct ArpLimits {
  std::size_t max_entries = 256;
  // Queued packets, all entries together, each up to max_packet_len bytes; the memory is
  // taken once, up front.
  std::size_t pending_slots = 64;
  std::size_t max_packet_len = 1500;
};

enum class NeighbourState { kIncomplete, kReachable, kStale, kFailed };
const char* neighbour_state_name(NeighbourState state);

// What a queued packet needs when it is finally sent.
struct QueuedPacketInfo {
  std::optional<std::uint16_t> l4_checksum_offset;  // from the IPv4 header; NEEDS_CSUM if set
};

struct ArpEntrySnapshot {
  packet::Ipv4Address ip;
  std::optional<packet::MacAddress> mac;
  NeighbourState state;
  std::size_t pending_packets;
};

class ArpCache {
 public:
  // Per entry, as Linux's old arp_queue default.
  static constexpr std::size_t kMaxPendingPerEntry = 3;

  explicit ArpCache(const ArpTimers& timers = {}, const ArpLimits& limits = {});

  struct Resolution {
    std::optional<packet::MacAddress> mac;  // send now
    bool send_request = false;              // ask for `ip` now (broadcast request)
    bool table_full = false;                // no entry could be made: drop the packet
  };
  // For a packet to `ip`: its MAC when REACHABLE or STALE (a STALE entry also asks for a
  // refresh, once per retransmit_time). Otherwise the entry becomes INCOMPLETE and the packet
  // should be enqueue()d.
  Resolution resolve(packet::Ipv4Address ip, Instant now);

  // Copies a packet of `len` bytes (written by `fill`) into the queue of an INCOMPLETE entry;
  // when the queue is full its oldest packet is dropped. False (counted in pending_dropped)
  // when there is no such entry or no room at all.
  bool enqueue(packet::Ipv4Address ip, std::size_t len, const QueuedPacketInfo& info,
               absl::FunctionRef<void(packet::MutableBytes)> fill);

  // What an ARP packet from `ip` at `mac` says. `create` (we are its target) adds an entry;
  // otherwise only an existing one is updated, as RFC 826's merge flag has it. Returns true
  // when queued packets now wait for drain().
  bool learn(packet::Ipv4Address ip, packet::MacAddress mac, Instant now, bool create);

  // Hands every packet queued for `ip` to `send`, oldest first, and forgets them.
  void drain(packet::Ipv4Address ip,
             absl::FunctionRef<void(packet::ConstBytes packet, const QueuedPacketInfo& info)> send);

  // Retransmits requests (through `send_request`), fails entries, ages and forgets them.
  void poll(Instant now, absl::FunctionRef<void(packet::Ipv4Address)> send_request);
  // The earliest time poll() has something to do.
  std::optional<Instant> next_deadline() const;

  std::optional<packet::MacAddress> lookup(packet::Ipv4Address ip) const;
  std::vector<ArpEntrySnapshot> entries() const;
  ArpCounters& counters() { return counters_; }
  const ArpCounters& counters() const { return counters_; }

 private:
  struct Entry {
    NeighbourState state = NeighbourState::kIncomplete;
    packet::MacAddress mac;
    Instant updated{};     // last confirmed (or made)
    Instant next_event{};  // request retransmit, state change or removal
    int requests_sent = 0;
    std::array<std::uint16_t, kMaxPendingPerEntry> pending{};  // slot numbers, oldest first
    std::size_t pending_count = 0;
  };
  struct Slot {
    std::size_t len = 0;
    QueuedPacketInfo info;
  };

  Entry* make_entry(packet::Ipv4Address ip, Instant now);
  void start_resolution(Entry& entry, Instant now);
  void drop_pending(Entry& entry);
  void release_oldest(Entry& entry);
  packet::MutableBytes slot_bytes(std::uint16_t slot);

  ArpTimers timers_;
  ArpLimits limits_;
  std::map<packet::Ipv4Address, Entry> entries_;
  std::vector<std::byte> slot_memory_;
  std::vector<Slot> slots_;
  std::vector<std::uint16_t> free_slots_;
  ArpCounters counters_;
};

}  // namespace nslab::ustack::net
