// The NIC end to end without a TAP: a datagram socketpair stands in for the TAP fd (each
// message one virtio_net_hdr + frame, as the TAP would hand it over), the device thread runs
// for real, and the test plays the kernel on the other end.

#include "daemon/ustack/driver/virtio_net.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "daemon/tap/owned_fd.h"
#include "daemon/tap/vnet_header.h"
#include "tests/unit/ustack/net/frames.h"

namespace nslab::ustack::driver {
namespace {

using std::chrono::milliseconds;
using tap::VnetHeaderSize;

constexpr std::size_t kHdr = static_cast<std::size_t>(VnetHeaderSize::kWithNumBuffers);
constexpr std::size_t kMaxFrame = 1518;

class SocketPairPort final : public FramePort {
 public:
  SocketPairPort() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds), 0);
    device_end_.reset(fds[0]);
    kernel_end_.reset(fds[1]);
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    // Room for bursts: the kernel end writes faster than a descheduled device thread reads.
    const int size = 4 << 20;
    ::setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    ::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  }
  int fd() const override { return device_end_.get(); }
  VnetHeaderSize vnet_hdr_size() const override { return VnetHeaderSize::kWithNumBuffers; }
  absl::Status set_offloads(bool checksum, bool segmentation) override {
    offload = checksum;
    tso = segmentation;
    return absl::OkStatus();
  }

  // The "kernel" side.
  void send_frame(packet::ConstBytes frame, std::uint8_t flags = 0) {
    std::vector<std::byte> message(kHdr + frame.size());
    message[0] = std::byte{flags};
    std::copy(frame.begin(), frame.end(), message.begin() + kHdr);
    ASSERT_EQ(::send(kernel_end_.get(), message.data(), message.size(), 0),
              static_cast<ssize_t>(message.size()));
  }
  std::optional<std::vector<std::byte>> receive_message(milliseconds timeout) {
    pollfd pfd{kernel_end_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) != 1) {
      return std::nullopt;
    }
    std::vector<std::byte> message(65536);
    const ssize_t n = ::recv(kernel_end_.get(), message.data(), message.size(), 0);
    if (n < 0) {
      return std::nullopt;
    }
    message.resize(static_cast<std::size_t>(n));
    return message;
  }

  bool offload = false;
  bool tso = false;

 private:
  tap::OwnedFd device_end_;
  tap::OwnedFd kernel_end_;
};

std::vector<std::byte> test_frame(std::uint8_t tag, std::size_t len = 60) {
  std::vector<std::byte> frame(len, std::byte{tag});
  return frame;
}

bool readable(int fd, milliseconds timeout) {
  pollfd pfd{fd, POLLIN, 0};
  return ::poll(&pfd, 1, static_cast<int>(timeout.count())) == 1;
}

template <typename Predicate>
bool eventually(Predicate predicate, milliseconds timeout = milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) {
      return true;
    }
    std::this_thread::sleep_for(milliseconds(1));
  }
  return predicate();
}

std::vector<std::vector<std::byte>> receive_all(VirtioNet& nic, std::size_t expected) {
  std::vector<std::vector<std::byte>> frames;
  eventually([&] {
    while (nic.poll_rx(16, [&](const RxFrame& frame) {
      frames.emplace_back(frame.frame.begin(), frame.frame.end());
    })) {
    }
    return frames.size() >= expected;
  });
  return frames;
}

std::unique_ptr<VirtioNet> make_nic(SocketPairPort& port, NicSettings settings = {}) {
  absl::StatusOr<std::unique_ptr<VirtioNet>> nic = VirtioNet::create(port, settings, kMaxFrame);
  EXPECT_TRUE(nic.ok()) << nic.status();
  return nic.ok() ? *std::move(nic) : nullptr;
}

TEST(VirtioNetTest, ReceivesFramesAndInterrupts) {
  SocketPairPort port;
  auto nic = make_nic(port);
  ASSERT_TRUE(nic);
  port.send_frame(test_frame(0xab, 100));
  EXPECT_TRUE(readable(nic->interrupt_fd(), milliseconds(5000)));
  const auto frames = receive_all(*nic, 1);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], test_frame(0xab, 100));
  const NicCounterValues counters = nic->counters();
  EXPECT_EQ(counters.rx_packets, 1u);
  EXPECT_EQ(counters.rx_bytes, 100u);
  EXPECT_GE(counters.interrupts, 1u);
}

TEST(VirtioNetTest, TransmitsFramesWithTheirHeader) {
  SocketPairPort port;
  auto nic = make_nic(port);
  ASSERT_TRUE(nic);
  const auto frame = test_frame(0x11, 80);
  ASSERT_TRUE(nic->transmit(
      frame.size(), std::nullopt, std::nullopt,
      [&](packet::MutableBytes out) { std::memcpy(out.data(), frame.data(), frame.size()); }));
  ASSERT_TRUE(nic->transmit(
      frame.size(), TxChecksumOffload{34, 6}, std::nullopt,
      [&](packet::MutableBytes out) { std::fill(out.begin(), out.end(), std::byte{0x22}); }));
  nic->flush_tx();
  const auto first = port.receive_message(milliseconds(5000));
  ASSERT_TRUE(first);
  ASSERT_EQ(first->size(), kHdr + frame.size());
  EXPECT_EQ(std::to_integer<int>((*first)[0]), 0);
  EXPECT_TRUE(std::equal(frame.begin(), frame.end(), first->begin() + kHdr));
  const auto second = port.receive_message(milliseconds(5000));
  ASSERT_TRUE(second);
  const auto header = tap::VnetHeaderRepr::Parse(
      *tap::VnetHeaderView<tap::ConstBytes>::Checked(*second, VnetHeaderSize::kWithNumBuffers));
  ASSERT_TRUE(header);
  EXPECT_EQ(header->flags, tap::vnet_flag::kNeedsChecksum);
  EXPECT_EQ(header->csum_start, 34);
  EXPECT_EQ(header->csum_offset, 6);
  EXPECT_TRUE(eventually([&] { return nic->counters().tx_packets == 2; }));
  EXPECT_EQ(nic->counters().tx_bytes, 160u);
  EXPECT_GE(nic->counters().kicks, 1u);
}

TEST(VirtioNetTest, FullTxRingCountsQueueFull) {
  SocketPairPort port;
  NicSettings settings;
  settings.tx_ring = 2;
  auto nic = make_nic(port, settings);
  ASSERT_TRUE(nic);
  // Not flushed: the device may not have taken any yet, but the ring holds only two.
  int accepted = 0;
  for (int i = 0; i < 64; ++i) {
    accepted += nic->transmit(60, std::nullopt, std::nullopt, [](packet::MutableBytes) {}) ? 1 : 0;
  }
  EXPECT_LT(accepted, 64);
  EXPECT_EQ(nic->counters().tx_queue_full, static_cast<std::uint64_t>(64 - accepted));
  EXPECT_FALSE(
      nic->transmit(kMaxFrame + 1, std::nullopt, std::nullopt, [](packet::MutableBytes) {}));
}

TEST(VirtioNetTest, TinyRxRingMissesABurstALargeOneDoesNot) {
  constexpr int kBurst = 200;
  for (const std::uint32_t ring : {4u, 1024u}) {
    SocketPairPort port;
    NicSettings settings;
    settings.rx_ring = ring;
    auto nic = make_nic(port, settings);
    ASSERT_TRUE(nic);
    // The driver does not poll during the burst, as a stack busy elsewhere would not.
    for (int i = 0; i < kBurst; ++i) {
      port.send_frame(test_frame(static_cast<std::uint8_t>(i)));
    }
    ASSERT_TRUE(eventually([&] {
      const NicCounterValues c = nic->counters();
      return c.rx_packets + c.rx_missed_errors == kBurst;
    })) << "ring "
        << ring;
    const NicCounterValues counters = nic->counters();
    if (ring == 4) {
      EXPECT_EQ(counters.rx_packets, 4u);
      EXPECT_EQ(counters.rx_missed_errors, kBurst - 4u);
    } else {
      EXPECT_EQ(counters.rx_missed_errors, 0u);
      const auto frames = receive_all(*nic, kBurst);
      ASSERT_EQ(frames.size(), static_cast<std::size_t>(kBurst));
      for (int i = 0; i < kBurst; ++i) {
        EXPECT_EQ(frames[i][0], std::byte{static_cast<std::uint8_t>(i)});
      }
    }
  }
}

TEST(VirtioNetTest, EachRxBufferGoesBackOnTheRingOnceItsFrameIsHandled) {
  SocketPairPort port;
  NicSettings settings;
  settings.rx_ring = 8;
  auto nic = make_nic(port, settings);
  ASSERT_TRUE(nic);
  for (int i = 0; i < 8; ++i) {
    port.send_frame(test_frame(static_cast<std::uint8_t>(i)));
  }
  ASSERT_TRUE(eventually([&] { return nic->counters().rx_packets == 8; }));
  // The ring is full. While the stack is still on the batch's second frame, the first one's
  // buffer is back: a frame arriving then finds it instead of being missed.
  std::vector<std::byte> tags;
  bool delivered_mid_batch = false;
  while (nic->poll_rx(16, [&](const RxFrame& frame) {
    tags.push_back(frame.frame[0]);
    if (tags.size() == 2) {
      port.send_frame(test_frame(8));
      delivered_mid_batch =
          eventually([&] { return nic->counters().rx_packets == 9; }, milliseconds(2000));
    }
  })) {
  }
  EXPECT_TRUE(delivered_mid_batch);
  EXPECT_EQ(nic->counters().rx_missed_errors, 0u);
  const auto rest = receive_all(*nic, 9 - tags.size());
  for (const auto& frame : rest) {
    tags.push_back(frame[0]);
  }
  ASSERT_EQ(tags.size(), 9u);
  for (std::size_t i = 0; i < tags.size(); ++i) {
    EXPECT_EQ(tags[i], std::byte{static_cast<std::uint8_t>(i)});
  }
}

TEST(VirtioNetTest, RingResizeRebuildsTheRings) {
  SocketPairPort port;
  auto nic = make_nic(port);
  ASSERT_TRUE(nic);
  NicSettings settings = nic->settings();
  settings.rx_ring = 8;
  ASSERT_TRUE(nic->apply(settings).ok());
  EXPECT_EQ(nic->settings().rx_ring, 8u);
  port.send_frame(test_frame(1));
  EXPECT_EQ(receive_all(*nic, 1).size(), 1u);

  settings.rx_ring = 100;
  const absl::Status status = nic->apply(settings);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("power of two"), absl::string_view::npos) << status;
  EXPECT_EQ(nic->settings().rx_ring, 8u);
}

TEST(VirtioNetTest, CoalescingHoldsTheInterruptForFrames) {
  SocketPairPort port;
  NicSettings settings;
  settings.rx_coalesce_frames = 2;
  settings.rx_coalesce_usecs = 900'000;
  auto nic = make_nic(port, settings);
  ASSERT_TRUE(nic);
  port.send_frame(test_frame(1));
  ASSERT_TRUE(eventually([&] { return nic->counters().rx_packets == 1; }));
  EXPECT_FALSE(readable(nic->interrupt_fd(), milliseconds(50)));
  port.send_frame(test_frame(2));
  EXPECT_TRUE(readable(nic->interrupt_fd(), milliseconds(500)));
  EXPECT_EQ(receive_all(*nic, 2).size(), 2u);
}

TEST(VirtioNetTest, ChecksumOffloadVerifiesOnReceive) {
  SocketPairPort port;
  NicSettings settings;
  settings.csum_offload = true;
  auto nic = make_nic(port, settings);
  ASSERT_TRUE(nic);
  EXPECT_TRUE(port.offload);
  const packet::Ipv4Address a(10, 0, 0, 1);
  const packet::Ipv4Address b(10, 0, 0, 2);
  const packet::MacAddress mac({2, 0, 0, 0, 0, 1});
  auto good = net::testing::ethernet_frame(
      mac, mac, packet::ethertype::kIpv4,
      net::testing::udp_datagram(a, b, 1000, 7, net::testing::bytes_of("payload")));
  auto bad = good;
  bad.back() ^= std::byte{1};
  port.send_frame(good);
  port.send_frame(bad);
  std::vector<bool> trusted;
  eventually([&] {
    nic->poll_rx(16, [&](const RxFrame& frame) { trusted.push_back(frame.checksum_trusted); });
    return trusted.size() == 2;
  });
  EXPECT_EQ(trusted, (std::vector<bool>{true, false}));
  EXPECT_EQ(nic->counters().rx_csum_errors, 1u);
}

TEST(VirtioNetTest, NeedsCsumFromTheKernelIsTrusted) {
  SocketPairPort port;
  auto nic = make_nic(port);
  ASSERT_TRUE(nic);
  port.send_frame(test_frame(3), tap::vnet_flag::kNeedsChecksum);
  std::vector<bool> trusted;
  eventually([&] {
    nic->poll_rx(16, [&](const RxFrame& frame) { trusted.push_back(frame.checksum_trusted); });
    return trusted.size() == 1;
  });
  EXPECT_EQ(trusted, (std::vector<bool>{true}));
}

TEST(VirtioNetTest, ShortMessagesAreLengthErrors) {
  SocketPairPort port;
  auto nic = make_nic(port);
  ASSERT_TRUE(nic);
  port.send_frame({});  // a header and no frame
  EXPECT_TRUE(eventually([&] { return nic->counters().rx_length_errors == 1; }));
  EXPECT_EQ(nic->counters().rx_packets, 0u);
}

TEST(VirtioNetTest, TsoHandsLargeTcpFramesToThePortWithTheirCutSize) {
  SocketPairPort port;
  NicSettings settings;
  settings.csum_offload = true;
  settings.tso = true;
  auto nic = make_nic(port, settings);
  ASSERT_TRUE(nic);
  EXPECT_TRUE(port.tso);
  EXPECT_TRUE(nic->segmentation_offload());
  constexpr std::size_t kLarge = 30'000;
  ASSERT_TRUE(nic->transmit(
      kLarge, TxChecksumOffload{34, 16}, TxSegmentation{1448, 66},
      [](packet::MutableBytes out) { std::fill(out.begin(), out.end(), std::byte{0x33}); }));
  // A frame that fits the MTU goes out plain even when segmentation is offered.
  ASSERT_TRUE(nic->transmit(200, TxChecksumOffload{34, 16}, TxSegmentation{1448, 66},
                            [](packet::MutableBytes) {}));
  nic->flush_tx();
  const auto large = port.receive_message(milliseconds(5000));
  ASSERT_TRUE(large);
  ASSERT_EQ(large->size(), kHdr + kLarge);
  const auto header = tap::VnetHeaderRepr::Parse(
      *tap::VnetHeaderView<tap::ConstBytes>::Checked(*large, VnetHeaderSize::kWithNumBuffers));
  ASSERT_TRUE(header);
  EXPECT_EQ(header->gso_type, tap::vnet_gso::kTcpV4);
  EXPECT_EQ(header->gso_size, 1448);
  EXPECT_EQ(header->hdr_len, 66);
  EXPECT_EQ(header->flags, tap::vnet_flag::kNeedsChecksum);
  const auto small = port.receive_message(milliseconds(5000));
  ASSERT_TRUE(small);
  EXPECT_EQ(std::to_integer<int>((*small)[tap::vnet_field::kGsoType]), tap::vnet_gso::kNone);
  EXPECT_EQ(nic->counters().tx_tso_frames, 1u);
}

TEST(VirtioNetTest, WithoutTsoLargeFramesAreRefused) {
  SocketPairPort port;
  NicSettings settings;
  settings.csum_offload = true;
  auto nic = make_nic(port, settings);
  ASSERT_TRUE(nic);
  EXPECT_FALSE(port.tso);
  EXPECT_FALSE(nic->transmit(30'000, TxChecksumOffload{34, 16}, TxSegmentation{1448, 66},
                             [](packet::MutableBytes) {}));
  EXPECT_EQ(nic->counters().tx_errors, 1u);
}

TEST(VirtioNetTest, TsoReceivesTheKernelsLargeFramesWholeAndCanBeTurnedOff) {
  SocketPairPort port;
  NicSettings settings;
  settings.csum_offload = true;
  settings.tso = true;
  auto nic = make_nic(port, settings);
  ASSERT_TRUE(nic);
  port.send_frame(test_frame(0x44, 40'000), tap::vnet_flag::kNeedsChecksum);
  std::vector<std::size_t> sizes;
  eventually([&] {
    nic->poll_rx(16, [&](const RxFrame& frame) { sizes.push_back(frame.frame.size()); });
    return sizes.size() == 1;
  });
  EXPECT_EQ(sizes, (std::vector<std::size_t>{40'000}));
  EXPECT_EQ(nic->counters().rx_lro_frames, 1u);

  settings.tso = false;
  ASSERT_TRUE(nic->apply(settings).ok());
  EXPECT_FALSE(port.tso);
  EXPECT_FALSE(nic->segmentation_offload());
  EXPECT_FALSE(nic->transmit(30'000, TxChecksumOffload{34, 16}, TxSegmentation{1448, 66},
                             [](packet::MutableBytes) {}));
}

TEST(VirtioNetTest, TsoWithoutChecksumOffloadIsRefused) {
  NicSettings settings;
  settings.tso = true;
  const absl::Status status = settings.validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(status.message()).find("csum_offload"), std::string::npos);
}

}  // namespace
}  // namespace nslab::ustack::driver
