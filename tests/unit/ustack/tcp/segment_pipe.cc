#include "tests/unit/ustack/tcp/segment_pipe.h"

#include <algorithm>
#include <cstdlib>

#include "gtest/gtest.h"

namespace nslab::ustack::tcp::testing {

namespace {
packet::Ipv4Address address_of(Side side) { return side == Side::kA ? kAddressA : kAddressB; }
Side other(Side side) { return side == Side::kA ? Side::kB : Side::kA; }
}  // namespace

class SegmentPipe::Output final : public SegmentOutput {
 public:
  Output(SegmentPipe& pipe, Side side) : pipe_(pipe), side_(side) {}
  bool send_segment(const FourTuple& connection, const packet::TcpRepr& segment,
                    std::uint16_t cut_payload_len) override {
    if (connection.local.address != address_of(side_)) {
      std::abort();  // a tuple mix-up in the stack under test
    }
    if (cut_payload_len == 0) {
      pipe_.transmit(side_, segment);
      return true;
    }
    if (pipe_.segmentation_limit == 0 ||
        segment.header_len() + segment.payload.size() > pipe_.segmentation_limit) {
      std::abort();  // TCP used an offload it was not offered
    }
    ++pipe_.offloaded_segments;
    // As Linux's tcp_gso_segment(): FIN and PSH only on the last piece, sequence numbers
    // advancing by each piece's payload.
    constexpr std::uint16_t kLastOnly = packet::tcp_flag::kFin | packet::tcp_flag::kPsh;
    for (std::size_t offset = 0; offset < segment.payload.size(); offset += cut_payload_len) {
      packet::TcpRepr piece = segment;
      piece.payload = segment.payload.subspan(
          offset, std::min<std::size_t>(cut_payload_len, segment.payload.size() - offset));
      piece.seq_number = segment.seq_number + static_cast<std::uint32_t>(offset);
      if (offset + piece.payload.size() < segment.payload.size()) {
        piece.flags &= static_cast<std::uint16_t>(~kLastOnly);
      }
      pipe_.transmit(side_, piece);
    }
    return true;
  }
  std::optional<packet::Ipv4Address> source_address_for(packet::Ipv4Address) const override {
    return address_of(side_);
  }
  std::size_t mtu() const override { return 1500; }
  std::size_t max_offloaded_segment_len() const override {
    return pipe_.segmentation_limit != 0 ? pipe_.segmentation_limit
                                         : SegmentOutput::max_offloaded_segment_len();
  }

 private:
  SegmentPipe& pipe_;
  Side side_;
};

FaultPlan random_faults(std::uint32_t seed, int drop_percent, int duplicate_percent,
                        int delay_percent) {
  auto generator = std::make_shared<std::mt19937>(seed);
  return [=](Side, std::uint64_t, const packet::TcpRepr&) {
    const int roll = static_cast<int>((*generator)() % 100);
    if (roll < drop_percent) {
      return Fault::kDrop;
    }
    if (roll < drop_percent + duplicate_percent) {
      return Fault::kDuplicate;
    }
    if (roll < drop_percent + duplicate_percent + delay_percent) {
      return Fault::kDelay;
    }
    return Fault::kDeliver;
  };
}

SegmentPipe::SegmentPipe(TcpConfig config_a, TcpConfig config_b) {
  outputs_[0] = std::make_unique<Output>(*this, Side::kA);
  outputs_[1] = std::make_unique<Output>(*this, Side::kB);
  tcp_[0] = *Tcp::create(std::move(config_a), *outputs_[0]);
  tcp_[1] = *Tcp::create(std::move(config_b), *outputs_[1]);
}

SegmentPipe::~SegmentPipe() = default;

void SegmentPipe::transmit(Side from, const packet::TcpRepr& segment) {
  sent_.push_back(SentSegment{from, now_, segment.flags, segment.seq_number, segment.ack_number,
                              segment.window_len, segment.payload.size(), segment.sack_block_count,
                              segment.timestamps});
  const std::uint64_t index = sent_count_[static_cast<int>(from)]++;
  const Fault fault = faults_ ? faults_(from, index, segment) : Fault::kDeliver;
  if (fault == Fault::kDrop) {
    return;
  }
  std::vector<std::byte> bytes(segment.buffer_len());
  segment.emit(bytes, address_of(from), address_of(other(from)));
  const Instant at = now_ + latency + (fault == Fault::kDelay ? extra_delay : Duration::zero());
  if (fault == Fault::kDuplicate) {
    in_flight_.push_back(InFlight{at, order_++, other(from), bytes});
  }
  in_flight_.push_back(InFlight{at, order_++, other(from), std::move(bytes)});
}

void SegmentPipe::inject(Side to, const packet::TcpRepr& segment) {
  std::vector<std::byte> bytes(segment.buffer_len());
  segment.emit(bytes, address_of(other(to)), address_of(to));
  tcp(to).receive(address_of(other(to)), address_of(to), bytes, false, now_);
}

std::vector<SentSegment> SegmentPipe::sent_by(Side side) const {
  std::vector<SentSegment> result;
  std::copy_if(sent_.begin(), sent_.end(), std::back_inserter(result),
               [side](const SentSegment& segment) { return segment.from == side; });
  return result;
}

std::optional<Instant> SegmentPipe::next_event() const {
  std::optional<Instant> next;
  auto consider = [&next](std::optional<Instant> at) {
    if (at && (!next || *at < *next)) {
      next = at;
    }
  };
  for (const InFlight& segment : in_flight_) {
    consider(segment.deliver_at);
  }
  consider(tcp_[0]->next_deadline());
  consider(tcp_[1]->next_deadline());
  return next;
}

void SegmentPipe::deliver_due() {
  for (;;) {
    auto due = in_flight_.end();
    for (auto it = in_flight_.begin(); it != in_flight_.end(); ++it) {
      if (it->deliver_at <= now_ &&
          (due == in_flight_.end() || it->deliver_at < due->deliver_at ||
           (it->deliver_at == due->deliver_at && it->order < due->order))) {
        due = it;
      }
    }
    if (due == in_flight_.end()) {
      return;
    }
    InFlight segment = std::move(*due);
    in_flight_.erase(due);
    tcp(segment.to)
        .receive(address_of(other(segment.to)), address_of(segment.to), segment.bytes, false, now_);
    if (observer_) {
      observer_();
    }
  }
}

bool SegmentPipe::run_until(const std::function<bool()>& done, Duration limit) {
  const Instant end = now_ + limit;
  // A timer that poll() does not clear would spin here forever; no test needs this many steps.
  constexpr std::uint64_t kMaxSteps = 20'000'000;
  for (std::uint64_t steps = 0; !done(); ++steps) {
    if (steps == kMaxSteps) {
      return false;
    }
    const auto next = next_event();
    if (!next || *next > end) {
      now_ = end;
      return done();
    }
    now_ = std::max(now_, *next);
    deliver_due();
    a().poll(now_);
    b().poll(now_);
    if (observer_) {
      observer_();
    }
  }
  return true;
}

Connected connect_pair(SegmentPipe& pipe, std::uint16_t port, const PairOptions& options) {
  const absl::StatusOr<SocketId> listener =
      options.listener ? absl::StatusOr<SocketId>(*options.listener)
                       : pipe.b().listen(Endpoint{{}, port}, options.limits, pipe.now());
  EXPECT_TRUE(listener.ok()) << listener.status();
  if (!listener.ok()) {
    return {};
  }
  if (options.server_options) {
    EXPECT_TRUE(pipe.b().set_options(*listener, *options.server_options, pipe.now()).ok());
  }
  const auto client = pipe.a().connect(Endpoint{kAddressB, port}, 0, pipe.now());
  EXPECT_TRUE(client.ok()) << client.status();
  if (!client.ok()) {
    return {};
  }
  std::optional<SocketId> server;
  EXPECT_TRUE(pipe.run_until(
      [&] {
        if (!server) {
          if (auto accepted = pipe.b().accept(*listener); accepted.ok()) {
            server = *accepted;
          }
        }
        return server && *pipe.a().state(*client) == TcpState::kEstablished;
      },
      std::chrono::seconds(5)))
      << "no connection";
  return Connected{*client, server.value_or(0), *listener};
}

}  // namespace nslab::ustack::tcp::testing
