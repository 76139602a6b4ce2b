// TCP's input path under attack. Two TCP instances, A (under test) and B (its honest peer), start
// with a listener each and a connection each way; the input then interleaves honest traffic
// with forged segments aimed at A's connections in whatever state they have reached, app calls
// on both sides (write, read, shutdown, close, connect), raw bytes, and the passing of time
// (retransmissions, persist, TIME_WAIT). Every segment A sends must emit and parse back
// cleanly, with a valid checksum and the connection's ports.
//
// Input: one byte of options (bit 0: timestamps, bit 1: SACK, bit 2: window scaling; bits 3-7:
// the participant-node fault A runs under, apps/fault.h, (byte >> 3) % 9 in FaultMode's order),
// then operations, each a kind byte and its arguments (see LLVMFuzzerTestOneInput). The fault
// is A's listener's and every A connection's: the TCP-level ones as their tcp::FaultPolicy,
// never-accept as A not accepting, close-wait as A ignoring close() in CLOSE-WAIT, slow-read
// as A's reads paced on the fuzzer's clock. The seeds in tcp_corpus/ open, transfer and close
// connections, each fault_*.bin under one fault.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "daemon/ustack/apps/fault.h"
#include "daemon/ustack/apps/read_pacer.h"
#include "daemon/ustack/packet/tcp.h"
#include "daemon/ustack/tcp/tcp.h"

namespace nslab::ustack::tcp {
namespace {

const packet::Ipv4Address kAddressA(10, 0, 0, 1);
const packet::Ipv4Address kAddressB(10, 0, 0, 2);
constexpr std::uint16_t kPortA = 80;
constexpr std::uint16_t kPortB = 90;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "TCP sent a bad segment: %s\n", what);
    std::abort();
  }
}

struct Segment {
  packet::Ipv4Address from;
  packet::Ipv4Address to;
  std::vector<std::byte> bytes;
};

// What A last said on a connection: forged segments are numbered around it.
struct LastSent {
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
};

class Wire final : public SegmentOutput {
 public:
  Wire(packet::Ipv4Address self, std::vector<Segment>& queue, bool checked)
      : self_(self), queue_(queue), checked_(checked) {}

  bool send_segment(const FourTuple& connection, const packet::TcpRepr& segment,
                    std::uint16_t cut_payload_len) override {
    std::vector<std::byte> bytes(segment.buffer_len());  // exactly sized for ASan
    segment.emit(bytes, connection.local.address, connection.remote.address);
    // The wire offers segmentation offload: a segment handed over for cutting must need it,
    // fit what was offered, and be cut at no more than the MSS the peer could announce.
    check(cut_payload_len == 0 ||
              (segment.payload.size() > cut_payload_len && cut_payload_len <= 65535 - 40 &&
               bytes.size() <= max_offloaded_segment_len()),
          "segmentation offload");
    if (checked_) {
      check(connection.local.address == self_, "source address");
      check(segment.header_len() <= 60, "header length");
      const auto view = packet::TcpView<packet::ConstBytes>::checked(bytes);
      check(view.has_value(), "view");
      check(view->verify_checksum(connection.local.address, connection.remote.address), "checksum");
      const auto parsed =
          packet::TcpRepr::parse(*view, connection.local.address, connection.remote.address);
      check(parsed.has_value(), "parse");
      check(parsed->source_port == connection.local.port, "source port");
      check(parsed->destination_port == connection.remote.port, "destination port");
      check(parsed->payload.size() <= 65535 - 60, "payload size");
      last_sent[connection] = LastSent{segment.seq_number, segment.ack_number};
    }
    queue_.push_back(
        Segment{connection.local.address, connection.remote.address, std::move(bytes)});
    return true;
  }
  std::size_t max_offloaded_segment_len() const override { return 65535 - 20; }
  std::optional<packet::Ipv4Address> source_address_for(packet::Ipv4Address) const override {
    return self_;
  }
  std::size_t mtu() const override { return 1500; }

  std::map<FourTuple, LastSent> last_sent;

 private:
  packet::Ipv4Address self_;
  std::vector<Segment>& queue_;
  bool checked_;
};

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return at_ >= size_; }
  std::uint8_t u8() { return at_ < size_ ? data_[at_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() << 8 | u8()); }
  std::vector<std::byte> bytes(std::size_t len) {
    len = std::min(len, size_ - std::min(at_, size_));
    std::vector<std::byte> out(reinterpret_cast<const std::byte*>(data_ + at_),
                               reinterpret_cast<const std::byte*>(data_ + at_ + len));
    at_ += len;
    return out;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

class Harness {
 public:
  explicit Harness(std::uint8_t options)
      : wire_a_(kAddressA, to_b_, /*checked=*/true),
        wire_b_(kAddressB, to_a_, false),
        fault_{static_cast<apps::FaultMode>((options >> 3) % 9), 1500, 4096} {
    TcpConfig config;
    config.timestamps = options & 1;
    config.sack = options & 2;
    config.window_scaling = options & 4;
    config.msl = std::chrono::seconds(5);
    config.socket_defaults.send_buffer_size = 16 * 1024;
    config.socket_defaults.receive_buffer_size = 16 * 1024;
    a_ = std::make_unique<Tcp>(config, wire_a_);
    b_ = std::make_unique<Tcp>(config, wire_b_);
    listeners_a_.push_back(*a_->listen(Endpoint{{}, kPortA}, {4, 4}, now_));
    (void)a_->set_fault_policy(listeners_a_.back(), apps::tcp_fault_policy(fault_), now_);
    listener_b_ = *b_->listen(Endpoint{{}, kPortB}, {4, 4}, now_);
    add_socket_a(a_->connect(Endpoint{kAddressB, kPortB}, 0, now_));
    add_socket(sockets_b_, b_->connect(Endpoint{kAddressA, kPortA}, 0, now_));
    for (int i = 0; i < 4; ++i) {
      exchange(0);
    }
  }

  void run(Input& input) {
    while (!input.empty()) {
      switch (input.u8() % 7) {
        case 0:
          forge(input);
          break;
        case 1:
          now_ += std::chrono::milliseconds(std::uint32_t{input.u8()} * 50);
          a_->poll(now_);
          b_->poll(now_);
          break;
        case 2:
          exchange(input.u8());
          break;
        case 3:
          app(*a_, sockets_a_, input);
          break;
        case 4:
          app(*b_, sockets_b_, input);
          break;
        case 5: {
          const std::vector<std::byte> raw = input.bytes(input.u8());
          a_->receive(kAddressB, kAddressA, raw, input.u8() & 1, now_);
          break;
        }
        case 6:
          accept_all();
          break;
      }
      (void)a_->sockets();
      (void)a_->next_deadline();
    }
    // Let every timer run out: retransmissions give up, TIME_WAIT ends.
    for (int i = 0; i < 40; ++i) {
      now_ += std::chrono::seconds(30);
      a_->poll(now_);
      b_->poll(now_);
      exchange(0);
    }
  }

 private:
  static void add_socket(std::vector<SocketId>& sockets, absl::StatusOr<SocketId> socket) {
    if (socket.ok()) {
      sockets.push_back(*socket);
    }
  }

  // A's connections run under the fault as the apps would run them (tcp_server.cc).
  void add_socket_a(absl::StatusOr<SocketId> socket) {
    if (socket.ok()) {
      sockets_a_.push_back(*socket);
      (void)a_->set_fault_policy(*socket, apps::tcp_fault_policy(fault_), now_);
    }
  }

  void accept_all() {
    for (SocketId listener : listeners_a_) {
      if (fault_.mode == apps::FaultMode::kNeverAccept) {
        break;
      }
      for (auto accepted = a_->accept(listener); accepted.ok(); accepted = a_->accept(listener)) {
        add_socket_a(accepted);
      }
    }
    for (auto accepted = b_->accept(listener_b_); accepted.ok();
         accepted = b_->accept(listener_b_)) {
      sockets_b_.push_back(*accepted);
    }
  }

  // Delivers what is queued both ways; bit i of `drop_mask` drops the i-th segment.
  void exchange(std::uint8_t drop_mask) {
    std::vector<Segment> to_a = std::move(to_a_);
    std::vector<Segment> to_b = std::move(to_b_);
    to_a_.clear();
    to_b_.clear();
    std::size_t index = 0;
    for (const Segment& segment : to_a) {
      if (!((drop_mask >> (index++ % 8)) & 1)) {
        a_->receive(segment.from, segment.to, segment.bytes, false, now_);
      }
    }
    for (const Segment& segment : to_b) {
      if (!((drop_mask >> (index++ % 8)) & 1)) {
        b_->receive(segment.from, segment.to, segment.bytes, false, now_);
      }
    }
    accept_all();
  }

  // A segment to one of A's connections (from its peer's address and port), numbered around
  // what A last sent on it, with fuzzed flags, options and payload.
  void forge(Input& input) {
    if (wire_a_.last_sent.empty()) {
      return;
    }
    auto target = wire_a_.last_sent.begin();
    std::advance(target, input.u8() % wire_a_.last_sent.size());
    const FourTuple& tuple = target->first;
    packet::TcpRepr segment;
    segment.source_port = tuple.remote.port;
    segment.destination_port = tuple.local.port;
    segment.flags = input.u16() & packet::tcp_flag::kMask;
    segment.seq_number = target->second.ack + static_cast<std::int16_t>(input.u16());
    segment.ack_number = target->second.seq + static_cast<std::int16_t>(input.u16());
    segment.window_len = input.u16();
    const std::uint8_t option_bits = input.u8();
    if (option_bits & 1) {
      segment.max_segment_size = input.u16();
    }
    if (option_bits & 2) {
      segment.window_scale = input.u8();
    }
    segment.sack_permitted = option_bits & 4;
    if (option_bits & 8) {
      segment.timestamps = packet::TcpTimestamps{std::uint32_t{input.u16()} << 8, input.u16()};
    }
    if (option_bits & 16) {
      segment.sack_block_count = static_cast<std::uint8_t>(input.u8() % 4);
      for (std::uint8_t i = 0; i < segment.sack_block_count; ++i) {
        segment.sack_blocks[i] = {target->second.seq + input.u16(),
                                  target->second.seq + input.u16()};
      }
    }
    const std::vector<std::byte> payload(std::size_t{input.u8()} * 16, std::byte{0x5a});
    segment.payload = payload;
    std::vector<std::byte> bytes(segment.buffer_len());
    segment.emit(bytes, tuple.remote.address, tuple.local.address);
    a_->receive(tuple.remote.address, tuple.local.address, bytes, false, now_);
  }

  void app(Tcp& tcp, std::vector<SocketId>& sockets, Input& input) {
    const std::uint8_t action = input.u8();
    const std::uint8_t which = input.u8();
    const bool is_a = &tcp == a_.get();
    if (action % 8 == 6) {
      const auto socket =
          tcp.connect(Endpoint{is_a ? kAddressB : kAddressA, is_a ? kPortB : kPortA}, 0, now_);
      if (is_a) {
        add_socket_a(socket);
      } else {
        add_socket(sockets, socket);
      }
      return;
    }
    if (sockets.empty()) {
      return;
    }
    const SocketId socket = sockets[which % sockets.size()];
    switch (action % 8) {
      case 0:
      case 1: {
        const std::vector<std::byte> data(std::size_t{input.u8()} * 64, std::byte{0x42});
        // Case 0 writes say more follows (MSG_MORE), case 1 ones end the message.
        (void)tcp.write(socket, data, now_, action % 8 == 0 ? write_flag::kMore : 0);
        break;
      }
      case 2:
      case 3: {
        std::vector<std::byte> out(std::size_t{input.u8()} * 64);
        if (is_a && fault_.mode == apps::FaultMode::kSlowRead) {
          apps::ReadPacer& pacer = pacers_.try_emplace(socket, fault_.rate, now_).first->second;
          bool held_back = false;
          (void)apps::paced_read(tcp, socket, out, pacer, &held_back);
        } else {
          (void)tcp.read(socket, out, now_);
        }
        break;
      }
      case 4:
        (void)tcp.shutdown(socket, now_);
        break;
      case 5:
        if (is_a && fault_.mode == apps::FaultMode::kCloseWait &&
            tcp.state(socket).value_or(TcpState::kClosed) == TcpState::kCloseWait) {
          break;  // the leak: never closed
        }
        if (is_a && fault_.mode == apps::FaultMode::kResetAfter && (which & 0x80)) {
          (void)tcp.abort(socket, now_);
        } else {
          (void)tcp.close(socket, now_);
        }
        break;
      case 7: {
        SocketOptions options;
        const std::uint8_t bits = input.u8();
        options.no_delay = bits & 1;
        options.cork = bits & 2;
        options.keep_alive = true;
        options.keep_alive_idle = std::chrono::seconds(1);
        options.keep_alive_interval = std::chrono::seconds(1);
        options.receive_buffer_size = 512 + std::size_t{input.u8()} * 128;
        options.send_buffer_size = 512 + std::size_t{input.u8()} * 128;
        (void)tcp.set_options(socket, options, now_);
        break;
      }
    }
  }

  Instant now_ = Instant() + std::chrono::hours(1);
  std::vector<Segment> to_a_;
  std::vector<Segment> to_b_;
  Wire wire_a_;
  Wire wire_b_;
  std::unique_ptr<Tcp> a_;
  std::unique_ptr<Tcp> b_;
  std::vector<SocketId> listeners_a_;
  SocketId listener_b_ = 0;
  std::vector<SocketId> sockets_a_;
  std::vector<SocketId> sockets_b_;
  apps::FaultSpec fault_;
  std::map<SocketId, apps::ReadPacer> pacers_;
};

}  // namespace
}  // namespace nslab::ustack::tcp

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) {
    return 0;
  }
  nslab::ustack::tcp::Input input(data + 1, size - 1);
  nslab::ustack::tcp::Harness harness(data[0]);
  harness.run(input);
  return 0;
}
