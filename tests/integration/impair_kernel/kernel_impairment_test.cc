// The kernel backend on real namespaces (root): tbf rates measured with a TCP bulk transfer,
// the netem-free loss measured with UDP probes, netem's absence reported, and nslab's qdiscs
// removed without touching anyone else's.
//
// Each test makes its own two namespaces, "nslab-kimp-<pid>-<n>-tx" and "...-rx", joined by a
// veth pair tx0 <-> rx0 (192.0.2.1/24, 192.0.2.2/24); they go when the test ends, however it
// ends.
#include "daemon/impair/kernel/kernel_impairment.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <linux/pkt_sched.h>
#include <netinet/in.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "daemon/common/errno_status.h"
#include "daemon/common/fd.h"
#include "daemon/impair/kernel/ingress_loss.h"
#include "daemon/netlink/addresses.h"
#include "daemon/netlink/links.h"
#include "daemon/netlink/qdiscs.h"
#include "daemon/netns/netns.h"
#include "daemon/nft/nft_context.h"

namespace nslab::impair::kernel {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

constexpr char kTx[] = "tx0";
constexpr char kRx[] = "rx0";
constexpr char kTxAddress[] = "192.0.2.1";
constexpr char kRxAddress[] = "192.0.2.2";

::testing::AssertionResult Ok(const absl::Status& status) {
  if (status.ok()) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << status;
}
#define ASSERT_OK(expr) ASSERT_TRUE(Ok(expr))

// The namespaces one test made; deleted, exactly those, when it goes out of scope (a failed
// ASSERT returns early, and the destructor still runs).
class ScratchNamespaces {
 public:
  ScratchNamespaces() = default;
  ScratchNamespaces(const ScratchNamespaces&) = delete;
  ScratchNamespaces& operator=(const ScratchNamespaces&) = delete;
  ~ScratchNamespaces() {
    for (auto name = names_.rbegin(); name != names_.rend(); ++name) {
      const absl::Status status = netns::Delete(*name);
      EXPECT_TRUE(status.ok()) << status;
    }
  }

  absl::StatusOr<std::string> Create(absl::string_view role) {
    std::string name = absl::StrCat("nslab-kimp-", ::getpid(), "-", next_++, "-", role);
    if (absl::Status status = netns::Create(name); !status.ok()) {
      return status;  // not ours: never deleted
    }
    names_.push_back(name);
    return name;
  }

  const std::vector<std::string>& names() const { return names_; }

 private:
  static inline std::atomic<int> next_{0};
  std::vector<std::string> names_;
};

absl::StatusOr<UniqueFd> SocketIn(int netns_fd, int type) {
  UniqueFd fd;
  absl::Status status = netns::RunIn(netns_fd, [&]() -> absl::Status {
    const int s = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (s < 0) {
      return ErrnoStatus("socket", errno);
    }
    fd = UniqueFd(s);
    return absl::OkStatus();
  });
  if (!status.ok()) {
    return status;
  }
  return fd;
}

sockaddr_in AddressOf(const char* ip, uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, ip, &address.sin_addr);
  return address;
}

void SetTimeout(int fd, int option, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof(tv));
}

// Binds `fd` to `ip`, port chosen by the kernel (tests may run in parallel), and returns it.
absl::StatusOr<uint16_t> BindAnyPort(int fd, const char* ip) {
  sockaddr_in address = AddressOf(ip, 0);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return ErrnoStatus("bind", errno);
  }
  socklen_t len = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &len);
  return ntohs(address.sin_port);
}

class KernelImpairmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> tx = namespaces_.Create("tx");
    ASSERT_TRUE(tx.ok()) << tx.status();
    absl::StatusOr<std::string> rx = namespaces_.Create("rx");
    ASSERT_TRUE(rx.ok()) << rx.status();
    absl::StatusOr<UniqueFd> tx_fd = netns::Open(*tx);
    ASSERT_TRUE(tx_fd.ok()) << tx_fd.status();
    tx_fd_ = *std::move(tx_fd);
    absl::StatusOr<UniqueFd> rx_fd = netns::Open(*rx);
    ASSERT_TRUE(rx_fd.ok()) << rx_fd.status();
    rx_fd_ = *std::move(rx_fd);
    absl::StatusOr<netlink::RouteSocket> tx_sock = netlink::RouteSocket::OpenIn(tx_fd_.get());
    ASSERT_TRUE(tx_sock.ok()) << tx_sock.status();
    tx_sock_.emplace(*std::move(tx_sock));
    absl::StatusOr<netlink::RouteSocket> rx_sock = netlink::RouteSocket::OpenIn(rx_fd_.get());
    ASSERT_TRUE(rx_sock.ok()) << rx_sock.status();
    rx_sock_.emplace(*std::move(rx_sock));

    ASSERT_OK(
        netlink::CreateVethPair(*tx_sock_, {kTx, tx_fd_.get(), "", 0}, {kRx, rx_fd_.get(), "", 0}));
    ASSERT_OK(netlink::AddAddress(*tx_sock_, kTx, absl::StrCat(kTxAddress, "/24")));
    ASSERT_OK(netlink::AddAddress(*rx_sock_, kRx, absl::StrCat(kRxAddress, "/24")));
    ASSERT_OK(netlink::SetLinkUp(*tx_sock_, kTx, true));
    ASSERT_OK(netlink::SetLinkUp(*rx_sock_, kRx, true));

    // What this kernel has, probed as the daemon probes it; never assumed.
    features_.netem = netlink::ProbeRootQdisc(*tx_sock_, kTx, "netem").ok();
    features_.tbf = netlink::ProbeRootQdisc(*tx_sock_, kTx, "tbf").ok();
    ASSERT_TRUE(features_.tbf) << "this kernel has no sch_tbf";
  }

  absl::StatusOr<RootQdiscInfo> TxRoot() { return ReadRootQdisc(*tx_sock_, kTx); }

  // TCP goodput from tx to rx, in bits/s: the slope of the payload bytes the receiver has
  // read against time, fitted by least squares over `window`, which starts `warmup` after the
  // first byte (so the initial burst and slow start stay out). A fit rather than two samples:
  // after a loss TCP hands the reader a round trip of data at once, and such a burst at one
  // end of the window would skew a two-point measure by a few percent.
  absl::StatusOr<double> MeasureGoodput(std::chrono::milliseconds warmup,
                                        std::chrono::milliseconds window) {
    absl::StatusOr<UniqueFd> listener = SocketIn(rx_fd_.get(), SOCK_STREAM);
    if (!listener.ok()) {
      return listener.status();
    }
    absl::StatusOr<uint16_t> port = BindAnyPort(listener->get(), kRxAddress);
    if (!port.ok()) {
      return port.status();
    }
    if (::listen(listener->get(), 1) != 0) {
      return ErrnoStatus("listen", errno);
    }
    SetTimeout(listener->get(), SO_RCVTIMEO, std::chrono::seconds(5));
    absl::StatusOr<UniqueFd> sender = SocketIn(tx_fd_.get(), SOCK_STREAM);
    if (!sender.ok()) {
      return sender.status();
    }
    SetTimeout(sender->get(), SO_SNDTIMEO, std::chrono::seconds(2));

    // (seconds since t1, bytes read) after every read inside the window.
    std::vector<std::pair<double, double>> samples;
    bool window_passed = false;
    std::thread receiver([&] {
      UniqueFd connection(::accept(listener->get(), nullptr, nullptr));
      if (!connection.valid()) {
        return;
      }
      SetTimeout(connection.get(), SO_RCVTIMEO, std::chrono::seconds(5));
      std::vector<char> buffer(64 * 1024);
      uint64_t total = 0;
      std::optional<Clock::time_point> t1;
      while (true) {
        const ssize_t n = ::recv(connection.get(), buffer.data(), buffer.size(), 0);
        if (n <= 0) {
          break;
        }
        const Clock::time_point now = Clock::now();
        if (!t1) {
          t1 = now + warmup;
        }
        total += static_cast<uint64_t>(n);
        if (now > *t1 + window) {
          window_passed = true;
        } else if (now >= *t1) {
          samples.emplace_back(std::chrono::duration<double>(now - *t1).count(),
                               static_cast<double>(total));
        }
      }
    });

    const sockaddr_in to = AddressOf(kRxAddress, *port);
    absl::Status sent = absl::OkStatus();
    if (::connect(sender->get(), reinterpret_cast<const sockaddr*>(&to), sizeof(to)) != 0) {
      sent = ErrnoStatus("connect", errno);
    } else {
      const std::vector<char> chunk(64 * 1024, 'x');
      // Long enough to fill the window even if the first byte is late.
      const Clock::time_point stop =
          Clock::now() + warmup + window + std::chrono::milliseconds(300);
      while (Clock::now() < stop) {
        if (::send(sender->get(), chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0) {
          sent = ErrnoStatus("send", errno);
          break;
        }
      }
    }
    sender->Reset();  // EOF for the receiver
    receiver.join();
    if (!sent.ok()) {
      return sent;
    }
    if (!window_passed || samples.size() < 100) {
      return absl::InternalError("the transfer did not cover the measuring window");
    }
    double mean_t = 0;
    double mean_b = 0;
    for (const auto& [t, b] : samples) {
      mean_t += t;
      mean_b += b;
    }
    mean_t /= static_cast<double>(samples.size());
    mean_b /= static_cast<double>(samples.size());
    double covariance = 0;
    double variance = 0;
    for (const auto& [t, b] : samples) {
      covariance += (t - mean_t) * (b - mean_b);
      variance += (t - mean_t) * (t - mean_t);
    }
    return covariance / variance * 8;
  }

  ScratchNamespaces namespaces_;  // first member: destroyed last, after sockets and fds
  UniqueFd tx_fd_;
  UniqueFd rx_fd_;
  std::optional<netlink::RouteSocket> tx_sock_;
  std::optional<netlink::RouteSocket> rx_sock_;
  KernelFeatures features_;
};

nslab::v1::Impairment Rate(uint64_t bps) {
  nslab::v1::Impairment impairment;
  impairment.set_rate_bps(bps);
  return impairment;
}

nslab::v1::Impairment NetemOnly() {
  nslab::v1::Impairment impairment;
  impairment.set_delay_us(100'000);
  impairment.set_jitter_us(10'000);
  impairment.set_delay_correlation(25);
  impairment.set_distribution(nslab::v1::DELAY_DISTRIBUTION_NORMAL);
  impairment.set_duplicate(1);
  impairment.set_reorder(25);
  impairment.set_reorder_gap(5);
  impairment.set_corrupt(0.1);
  return impairment;
}

constexpr char kNetemMissing[] =
    "tx0: kernel has no sch_netem: delay_us, jitter_us, delay_correlation, distribution, "
    "duplicate, reorder, reorder_gap, corrupt need sch_netem; use mode: wire (or rate/loss only, "
    "which work without netem)";

// (a) tbf at 10 and 100 Mbit/s, the second a runtime change of the first.
TEST_F(KernelImpairmentTest, TbfRateShapesTcpGoodputAndChangesAtRuntime) {
  uint32_t first_handle = 0;
  for (const uint64_t rate : {uint64_t{10'000'000}, uint64_t{100'000'000}}) {
    SCOPED_TRACE(absl::StrCat("rate_bps ", rate));
    ASSERT_OK(ApplyKernelImpairment(*tx_sock_, kTx, Rate(rate), features_));
    absl::StatusOr<RootQdiscInfo> root = TxRoot();
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(root->kind, "tbf");
    EXPECT_TRUE(root->installed_by_nslab);
    if (first_handle == 0) {
      first_handle = root->handle;
    } else {
      EXPECT_EQ(root->handle, first_handle) << "tbf -> tbf is changed in place";
    }

    absl::StatusOr<double> goodput =
        MeasureGoodput(std::chrono::milliseconds(500), std::chrono::milliseconds(2000));
    ASSERT_TRUE(goodput.ok()) << goodput.status();
    std::cout << "[ measured ] tbf rate " << rate / 1e6 << " Mbit/s: TCP goodput " << *goodput / 1e6
              << " Mbit/s (" << 100.0 * *goodput / rate << "%)\n";
    // The model's promise is a ceiling: goodput is payload, 1448 of every 1514 bytes on the
    // wire with TCP timestamps (95.6% of the rate); 10% above that allows for the bucket's
    // burst and the window's edges. How close to the rate a machine gets is a speed, measured
    // by tests/bench/impair (section 4), not asserted here.
    EXPECT_LE(*goodput, 1.1 * rate * 1448 / 1514);
    if (rate == 100'000'000) {
      // The runtime change really lifted the cap: above anything the 10 Mbit/s bucket passes.
      EXPECT_GT(*goodput, 1.1 * 10'000'000);
    } else {
      EXPECT_GT(*goodput, 0);
    }
  }
}

// (b) Loss without netem: the receiving end's nftables numgen drop.
TEST_F(KernelImpairmentTest, IngressNumgenLossMatchesTheConfiguredRate) {
  constexpr double kLossPercent = 10;
  constexpr int kProbes = 5000;
  nslab::v1::Impairment impairment;
  impairment.set_loss(kLossPercent);
  const KernelFeatures no_netem{.netem = false, .tbf = features_.tbf};
  absl::StatusOr<KernelPlan> plan = PlanKernelImpairment(impairment, no_netem, 1500);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->ingress_loss_percent, kLossPercent);
  // Nothing on the sending side.
  ASSERT_OK(ApplyKernelImpairment(*tx_sock_, kTx, impairment, no_netem));
  absl::StatusOr<RootQdiscInfo> root = TxRoot();
  ASSERT_TRUE(root.ok());
  EXPECT_FALSE(root->installed_by_nslab);

  absl::StatusOr<UniqueFd> rx = SocketIn(rx_fd_.get(), SOCK_DGRAM);
  ASSERT_TRUE(rx.ok()) << rx.status();
  const int rcvbuf = 8 << 20;
  ::setsockopt(rx->get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
  absl::StatusOr<uint16_t> port = BindAnyPort(rx->get(), kRxAddress);
  ASSERT_TRUE(port.ok()) << port.status();
  SetTimeout(rx->get(), SO_RCVTIMEO, std::chrono::milliseconds(300));
  absl::StatusOr<UniqueFd> tx = SocketIn(tx_fd_.get(), SOCK_DGRAM);
  ASSERT_TRUE(tx.ok()) << tx.status();
  const sockaddr_in to = AddressOf(kRxAddress, *port);
  ASSERT_EQ(::connect(tx->get(), reinterpret_cast<const sockaddr*>(&to), sizeof(to)), 0);

  // Resolve ARP before the drop exists (the drop takes ARP too, as a wire would).
  bool warm = false;
  for (int attempt = 0; attempt < 10 && !warm; ++attempt) {
    const uint32_t marker = 0xffffffff;
    ::send(tx->get(), &marker, sizeof(marker), 0);
    uint32_t got = 0;
    warm = ::recv(rx->get(), &got, sizeof(got), 0) == sizeof(got);
  }
  ASSERT_TRUE(warm) << "no UDP got across before the drop was installed";

  absl::StatusOr<std::string> ruleset = RenderIngressLossRuleset(kRx, plan->ingress_loss_percent);
  ASSERT_TRUE(ruleset.ok()) << ruleset.status();
  absl::StatusOr<std::string> applied = nft::RunCommands(rx_fd_.get(), *ruleset);
  ASSERT_TRUE(applied.ok()) << applied.status();
  // Replacing is idempotent: the same text again, one table.
  applied = nft::RunCommands(rx_fd_.get(), *ruleset);
  ASSERT_TRUE(applied.ok()) << applied.status();

  std::vector<bool> received(kProbes, false);
  std::atomic<bool> sending_done{false};
  std::thread receiver([&] {
    uint32_t seq = 0;
    while (true) {
      const ssize_t n = ::recv(rx->get(), &seq, sizeof(seq), 0);
      if (n == sizeof(seq) && seq < kProbes) {
        received[seq] = true;
      } else if (n < 0 && sending_done.load()) {
        break;  // quiet for 300 ms after the last probe
      }
    }
  });
  for (uint32_t seq = 0; seq < kProbes; ++seq) {
    ASSERT_EQ(::send(tx->get(), &seq, sizeof(seq), 0), static_cast<ssize_t>(sizeof(seq)));
    if (seq % 50 == 49) {
      // Paced, so that the receiving backlog (netdev_max_backlog) never overflows: every
      // loss should be the rule's.
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  sending_done = true;
  receiver.join();

  int lost = 0;
  for (bool got : received) {
    lost += got ? 0 : 1;
  }
  // nftables' numgen random has no seed, so the count is random: six standard deviations of
  // the binomial around n*p (a correct rule falls outside about once in 500 million runs; a
  // 99% interval failed one run in a hundred). It still tells 10% from 7% or 13%.
  const double mean = kProbes * kLossPercent / 100;
  const double half_width = 6 * std::sqrt(mean * (1 - kLossPercent / 100));
  std::cout << "[ measured ] nftables ingress loss " << kLossPercent << "%: " << lost << " of "
            << kProbes << " UDP probes lost (" << 100.0 * lost / kProbes << "%), 6-sigma interval ["
            << std::ceil(mean - half_width) << ", " << std::floor(mean + half_width) << "]\n";
  EXPECT_GE(lost, mean - half_width);
  EXPECT_LE(lost, mean + half_width);

  // Every probe lost was dropped by the rule, and little else was (its counter also sees the
  // odd ARP or IPv6 frame).
  absl::StatusOr<std::string> listing =
      nft::RunCommands(rx_fd_.get(), absl::StrCat("list table netdev ", IngressLossTableName(kRx)));
  ASSERT_TRUE(listing.ok()) << listing.status();
  const size_t at = listing->find("counter packets ");
  ASSERT_NE(at, std::string::npos) << *listing;
  uint64_t dropped = 0;
  const std::string digits = listing->substr(at + 16, listing->find(' ', at + 16) - (at + 16));
  ASSERT_TRUE(absl::SimpleAtoi(digits, &dropped)) << *listing;
  std::cout << "[ measured ] the rule's counter: " << dropped << " frames dropped\n";
  EXPECT_GE(dropped, static_cast<uint64_t>(lost));
  EXPECT_LE(dropped, static_cast<uint64_t>(lost) + 50);

  absl::StatusOr<std::string> removal = RenderIngressLossRemoval(kRx);
  ASSERT_TRUE(removal.ok());
  ASSERT_TRUE(nft::RunCommands(rx_fd_.get(), *removal).ok());
  ASSERT_TRUE(nft::RunCommands(rx_fd_.get(), *removal).ok()) << "removal is idempotent";
  absl::StatusOr<std::string> rest = nft::RunCommands(rx_fd_.get(), "list ruleset");
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->find(IngressLossTableName(kRx)), std::string::npos) << *rest;
}

// (c) A netem request on this kernel: a clear FAILED_PRECONDITION, and no qdisc left.
TEST_F(KernelImpairmentTest, NetemWithoutSchNetemIsAFailedPreconditionAndLeavesNothing) {
  if (features_.netem) {
    // A kernel with netem: the same request must simply work.
    ASSERT_OK(ApplyKernelImpairment(*tx_sock_, kTx, NetemOnly(), features_));
    absl::StatusOr<RootQdiscInfo> root = TxRoot();
    ASSERT_TRUE(root.ok());
    EXPECT_EQ(root->kind, "netem");
    EXPECT_TRUE(root->installed_by_nslab);
    ASSERT_OK(ClearKernelImpairment(*tx_sock_, kTx));
    GTEST_SKIP() << "this kernel has sch_netem; its absence cannot be tested here";
  }
  absl::StatusOr<RootQdiscInfo> before = TxRoot();
  ASSERT_TRUE(before.ok()) << before.status();

  // Told the truth: refused before anything is sent.
  absl::Status status = ApplyKernelImpairment(*tx_sock_, kTx, NetemOnly(), features_);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_EQ(status.message(), kNetemMissing);

  // Told netem is there (a stale probe): the kernel's ENOENT gives the same answer.
  const KernelFeatures claims_netem{.netem = true, .tbf = true};
  status = ApplyKernelImpairment(*tx_sock_, kTx, NetemOnly(), claims_netem);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_EQ(status.message(), kNetemMissing);

  absl::StatusOr<RootQdiscInfo> after = TxRoot();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->kind, before->kind);
  EXPECT_EQ(after->handle, 0u);
  EXPECT_FALSE(after->installed_by_nslab);

  // Over an installed tbf, the refused netem leaves the tbf as it was (one atomic graft).
  ASSERT_OK(ApplyKernelImpairment(*tx_sock_, kTx, Rate(5'000'000), features_));
  absl::StatusOr<RootQdiscInfo> tbf = TxRoot();
  ASSERT_TRUE(tbf.ok());
  nslab::v1::Impairment both = NetemOnly();
  both.set_rate_bps(5'000'000);
  status = ApplyKernelImpairment(*tx_sock_, kTx, both, claims_netem);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(status.message(), HasSubstr("kernel has no sch_netem: delay_us"));
  absl::StatusOr<RootQdiscInfo> still = TxRoot();
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->kind, "tbf");
  EXPECT_EQ(still->handle, tbf->handle);
}

TEST_F(KernelImpairmentTest, BadValuesAreInvalidArgumentNamingTheField) {
  nslab::v1::Impairment impairment;
  impairment.set_rate_bps(1'000'000);
  impairment.set_burst_bytes(100);
  absl::Status status = ApplyKernelImpairment(*tx_sock_, kTx, impairment, features_);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("tx0: burst_bytes must be at least 1514"));
  impairment.set_burst_bytes(0);
  impairment.set_duplicate(150);
  status = ApplyKernelImpairment(*tx_sock_, kTx, impairment, features_);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("duplicate must be in 0..100"));
  absl::StatusOr<RootQdiscInfo> root = TxRoot();
  ASSERT_TRUE(root.ok());
  EXPECT_FALSE(root->installed_by_nslab);

  EXPECT_EQ(ApplyKernelImpairment(*tx_sock_, "nosuch0", Rate(1'000'000), features_).code(),
            absl::StatusCode::kNotFound);
}

// (d) Clear restores the default qdisc.
TEST_F(KernelImpairmentTest, ClearRestoresTheDefaultQdisc) {
  absl::StatusOr<RootQdiscInfo> before = TxRoot();
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->handle, 0u);

  nslab::v1::Impairment impairment = Rate(20'000'000);
  impairment.set_limit_packets(100);
  ASSERT_OK(ApplyKernelImpairment(*tx_sock_, kTx, impairment, features_));
  absl::StatusOr<RootQdiscInfo> shaped = TxRoot();
  ASSERT_TRUE(shaped.ok());
  EXPECT_EQ(shaped->kind, "tbf");
  EXPECT_EQ(shaped->child_kind, "pfifo");
  EXPECT_TRUE(IsNslabRootHandle(shaped->handle));

  // Without the limit: a fresh tbf under the other handle, no pfifo.
  ASSERT_OK(ApplyKernelImpairment(*tx_sock_, kTx, Rate(20'000'000), features_));
  absl::StatusOr<RootQdiscInfo> changed = TxRoot();
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->kind, "tbf");
  EXPECT_EQ(changed->child_kind, "");
  EXPECT_TRUE(IsNslabRootHandle(changed->handle));
  EXPECT_NE(changed->handle, shaped->handle);

  ASSERT_OK(ClearKernelImpairment(*tx_sock_, kTx));
  absl::StatusOr<RootQdiscInfo> after = TxRoot();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->kind, before->kind);
  EXPECT_EQ(after->handle, 0u);
  ASSERT_OK(ClearKernelImpairment(*tx_sock_, kTx)) << "nothing to clear is fine";

  // An impairment that needs no qdisc also removes nslab's.
  ASSERT_OK(ApplyKernelImpairment(*tx_sock_, kTx, Rate(20'000'000), features_));
  ASSERT_OK(ApplyKernelImpairment(*tx_sock_, kTx, nslab::v1::Impairment(), features_));
  after = TxRoot();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->handle, 0u);
}

TEST_F(KernelImpairmentTest, NeverTouchesAQdiscItDidNotInstall) {
  // Someone else's tbf, handle 1:.
  rtnl_link* link = nullptr;
  ASSERT_GE(rtnl_link_get_kernel(tx_sock_->get(), 0, kTx, &link), 0);
  std::unique_ptr<rtnl_link, void (*)(rtnl_link*)> link_owner(link, rtnl_link_put);
  std::unique_ptr<rtnl_qdisc, void (*)(rtnl_qdisc*)> qdisc(rtnl_qdisc_alloc(), rtnl_qdisc_put);
  rtnl_tc_set_ifindex(TC_CAST(qdisc.get()), rtnl_link_get_ifindex(link));
  rtnl_tc_set_parent(TC_CAST(qdisc.get()), TC_H_ROOT);
  rtnl_tc_set_handle(TC_CAST(qdisc.get()), TC_HANDLE(1, 0));
  ASSERT_GE(rtnl_tc_set_kind(TC_CAST(qdisc.get()), "tbf"), 0);
  rtnl_qdisc_tbf_set_limit(qdisc.get(), 10000);
  rtnl_qdisc_tbf_set_rate(qdisc.get(), 125000, 10000, 0);
  ASSERT_GE(rtnl_qdisc_add(tx_sock_->get(), qdisc.get(), NLM_F_CREATE | NLM_F_EXCL), 0);

  ASSERT_OK(ClearKernelImpairment(*tx_sock_, kTx));
  absl::Status status = ApplyKernelImpairment(*tx_sock_, kTx, Rate(1'000'000), features_);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("not installed by nslab"));
  absl::StatusOr<RootQdiscInfo> root = TxRoot();
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->kind, "tbf");
  EXPECT_EQ(root->handle, TC_HANDLE(1, 0));
  EXPECT_FALSE(root->installed_by_nslab);
}

// (e) The guard deletes exactly the namespaces it made, also when the test fails half-way.
std::vector<std::string>* made_by_failing_test = nullptr;

void BuildThenFail() {
  ScratchNamespaces namespaces;
  for (const char* role : {"a", "b"}) {
    absl::StatusOr<std::string> name = namespaces.Create(role);
    ASSERT_TRUE(name.ok()) << name.status();
    made_by_failing_test->push_back(*name);
  }
  FAIL() << "failing on purpose, namespaces still to be deleted";
}

TEST(ScratchNamespacesTest, DeletesExactlyItsOwnEvenOnFailure) {
  const std::string bystander = absl::StrCat("nslab-kimp-", ::getpid(), "-bystander");
  ASSERT_OK(netns::Create(bystander));
  std::vector<std::string> made;
  made_by_failing_test = &made;
  EXPECT_FATAL_FAILURE(BuildThenFail(), "failing on purpose");
  made_by_failing_test = nullptr;
  ASSERT_EQ(made.size(), 2u);
  for (const std::string& name : made) {
    EXPECT_FALSE(netns::Exists(name)) << name;
  }
  EXPECT_TRUE(netns::Exists(bystander));
  ASSERT_OK(netns::Delete(bystander));
}

}  // namespace
}  // namespace nslab::impair::kernel
