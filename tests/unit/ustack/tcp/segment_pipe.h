#pragma once

// Two TCP instances joined by an in-memory pipe: every segment is emitted to bytes (checksum
// included), may be dropped, duplicated or held back by a deterministic fault plan, and is
// parsed again on the far side. A virtual clock jumps from event to event, so a test runs
// minutes of retransmission timers in microseconds (smoltcp's FaultInjector, gVisor's channel).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "daemon/ustack/packet/tcp.h"
#include "daemon/ustack/tcp/segment_output.h"
#include "daemon/ustack/tcp/tcp.h"

namespace nslab::ustack::tcp::testing {

enum class Side { kA = 0, kB = 1 };

enum class Fault { kDeliver, kDrop, kDuplicate, kDelay };

// One segment as it was sent, for assertions.
struct SentSegment {
  Side from = Side::kA;
  Instant at{};
  std::uint16_t flags = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint16_t window = 0;
  std::size_t payload_len = 0;
  std::uint8_t sack_blocks = 0;
  std::optional<packet::TcpTimestamps> timestamps;
  bool has(std::uint16_t flag) const { return (flags & flag) != 0; }
};

// Decides each segment's fate; `index` counts the segments `from` has sent.
using FaultPlan = std::function<Fault(Side from, std::uint64_t index, const packet::TcpRepr&)>;

// Drops, duplicates and delays at the given percentages, from a seeded generator.
FaultPlan random_faults(std::uint32_t seed, int drop_percent, int duplicate_percent,
                        int delay_percent);

inline const packet::Ipv4Address kAddressA(10, 0, 0, 1);
inline const packet::Ipv4Address kAddressB(10, 0, 0, 2);

class SegmentPipe {
 public:
  explicit SegmentPipe(TcpConfig config_a = {}, TcpConfig config_b = {});
  ~SegmentPipe();

  Tcp& a() { return *tcp_[0]; }
  Tcp& b() { return *tcp_[1]; }
  Tcp& tcp(Side side) { return *tcp_[static_cast<int>(side)]; }
  const Instant& now() const { return now_; }

  void set_faults(FaultPlan plan) { faults_ = std::move(plan); }
  // Called after every delivery and timer run (to record states, say).
  void set_observer(std::function<void()> observer) { observer_ = std::move(observer); }

  // Runs events until `done` or until `limit` of virtual time passed; returns done().
  bool run_until(const std::function<bool()>& done, Duration limit);
  void run_for(Duration duration) {
    run_until([] { return false; }, duration);
  }

  // Hands `segment` to `to` as if the other side had sent it (forged segments, RST tests).
  void inject(Side to, const packet::TcpRepr& segment);

  const std::vector<SentSegment>& sent() const { return sent_; }
  std::vector<SentSegment> sent_by(Side side) const;
  void clear_sent() { sent_.clear(); }

  Duration latency = std::chrono::milliseconds(5);
  Duration extra_delay = std::chrono::milliseconds(3);  // for Fault::kDelay
  // Nonzero: the pipe offers segmentation offload for segments up to this long (TCP header and
  // payload) and cuts them as a NIC would, each piece meeting the fault plan on its own.
  std::size_t segmentation_limit = 0;
  // Segments handed over for cutting.
  std::uint64_t offloaded_segments = 0;

 private:
  class Output;
  struct InFlight {
    Instant deliver_at;
    std::uint64_t order = 0;
    Side to = Side::kA;
    std::vector<std::byte> bytes;
  };

  void transmit(Side from, const packet::TcpRepr& segment);
  void deliver_due();
  std::optional<Instant> next_event() const;

  Instant now_ = Instant() + std::chrono::hours(24);
  std::unique_ptr<Output> outputs_[2];
  std::unique_ptr<Tcp> tcp_[2];
  FaultPlan faults_;
  std::function<void()> observer_;
  std::uint64_t sent_count_[2] = {0, 0};
  std::uint64_t order_ = 0;
  std::vector<InFlight> in_flight_;
  std::vector<SentSegment> sent_;
};

// An established connection through a pipe: A connected, B accepted.
struct Connected {
  SocketId a = 0;
  SocketId b = 0;
  SocketId listener = 0;  // on B
};

struct PairOptions {
  ListenOptions limits;
  // The listener's options, which its connections inherit.
  std::optional<SocketOptions> server_options;
  // Reuse this listener on B instead of opening one.
  std::optional<SocketId> listener;
};

// Listens on B:port (or reuses options.listener) and connects A to it; fails the running test
// if the handshake does not finish within 5 s of pipe time.
Connected connect_pair(SegmentPipe& pipe, std::uint16_t port, const PairOptions& options = {});

}  // namespace nslab::ustack::tcp::testing
