// The ustack node against a kernel node behind the same bridge (root; see
// tests/integration/ustack/ustack_lab.h): ping RTT and UDP echo round trips per second from the
// kernel in namespace B, to each, with the ratio. About 20 s; --smoke runs a second's worth and
// only checks that answers come back.
//
//   sudo build/tests/bench/ustack/bench_ustack_node [--smoke]

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/integration/ustack/ustack_lab.h"

namespace nslab::ustack::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint16_t kEchoPort = 7;
constexpr int kWindow = 8;  // datagrams in flight

struct PingFigures {
  double min_ms = 0;
  double avg_ms = 0;
};

// "rtt min/avg/max/mdev = 0.029/0.068/4.627/0.197 ms"
absl::StatusOr<PingFigures> PingFrom(UstackLab& lab, const char* ip, int count) {
  absl::StatusOr<std::string> out =
      lab.InPeer(absl::StrCat("ping -q -i 0.005 -c ", count, " ", ip));
  if (!out.ok()) {
    return out.status();
  }
  const std::size_t at = out->find("= ");
  if (at == std::string::npos || !absl::StrContains(*out, " 0% packet loss")) {
    return absl::InternalError(absl::StrCat("ping to ", ip, ": ", *out));
  }
  const std::vector<std::string> parts = absl::StrSplit(out->substr(at + 2), '/');
  PingFigures figures;
  if (parts.size() < 2 || !absl::SimpleAtod(parts[0], &figures.min_ms) ||
      !absl::SimpleAtod(parts[1], &figures.avg_ms)) {
    return absl::InternalError(absl::StrCat("cannot read ping's summary: ", *out));
  }
  return figures;
}

// A UDP echo server on the kernel node, for the comparison.
class KernelEcho {
 public:
  explicit KernelEcho(int fd) : fd_(fd), thread_([this] { Run(); }) {}
  ~KernelEcho() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }

 private:
  void Run() {
    char buffer[2048];
    while (!stop_) {
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 100) != 1) {
        continue;
      }
      sockaddr_in from{};
      socklen_t from_len = sizeof(from);
      const ssize_t n =
          ::recvfrom(fd_, buffer, sizeof(buffer), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n > 0) {
        ::sendto(fd_, buffer, static_cast<std::size_t>(n), 0,
                 reinterpret_cast<const sockaddr*>(&from), from_len);
      }
    }
  }

  int fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Keeps kWindow echo requests in flight for `seconds`; answers per second.
absl::StatusOr<double> UdpEchoRate(UstackLab& lab, const char* ip, double seconds) {
  absl::StatusOr<int> fd = lab.PeerSocket(SOCK_DGRAM);
  if (!fd.ok()) {
    return fd.status();
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(kEchoPort);
  ::inet_pton(AF_INET, ip, &to.sin_addr);
  if (::connect(*fd, reinterpret_cast<const sockaddr*>(&to), sizeof(to)) != 0) {
    ::close(*fd);
    return absl::InternalError(absl::StrCat("connect ", ip, ": ", std::strerror(errno)));
  }
  const std::string payload(64, 'e');
  char buffer[2048];
  std::uint64_t answers = 0;
  for (int i = 0; i < kWindow; ++i) {
    ::send(*fd, payload.data(), payload.size(), 0);
  }
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    pollfd pfd{*fd, POLLIN, 0};
    if (::poll(&pfd, 1, 50) != 1) {
      // A lost datagram: put another in flight so the window stays full.
      ::send(*fd, payload.data(), payload.size(), 0);
      continue;
    }
    if (::recv(*fd, buffer, sizeof(buffer), 0) > 0) {
      ++answers;
      ::send(*fd, payload.data(), payload.size(), 0);
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(*fd);
  return static_cast<double>(answers) / elapsed;
}

int Run(bool smoke) {
  if (::geteuid() != 0) {
    std::fprintf(stderr, "bench_ustack_node needs root (namespaces, TAP)\n");
    return 1;
  }
  absl::StatusOr<std::unique_ptr<UstackLab>> lab =
      UstackLab::Create(NSLAB_USTACK_BINARY, {"--service", "udp:7:echo"});
  if (!lab.ok()) {
    std::fprintf(stderr, "%s\n", std::string(lab.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<int> kernel_fd = UstackLab::SocketIn((*lab)->kernel_node_ns(), SOCK_DGRAM);
  if (!kernel_fd.ok()) {
    std::fprintf(stderr, "%s\n", std::string(kernel_fd.status().message()).c_str());
    return 1;
  }
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_port = htons(kEchoPort);
  if (::bind(*kernel_fd, reinterpret_cast<const sockaddr*>(&any), sizeof(any)) != 0) {
    std::fprintf(stderr, "bind kernel echo: %s\n", std::strerror(errno));
    return 1;
  }
  KernelEcho kernel_echo(*kernel_fd);

  const int pings = smoke ? 20 : 1000;
  const double seconds = smoke ? 0.5 : 5;
  absl::StatusOr<PingFigures> ustack_ping = PingFrom(**lab, kUstackIp, pings);
  absl::StatusOr<PingFigures> kernel_ping = PingFrom(**lab, kKernelNodeIp, pings);
  absl::StatusOr<double> ustack_rate = UdpEchoRate(**lab, kUstackIp, seconds);
  absl::StatusOr<double> kernel_rate = UdpEchoRate(**lab, kKernelNodeIp, seconds);
  for (const absl::Status& status :
       {ustack_ping.status(), kernel_ping.status(), ustack_rate.status(), kernel_rate.status()}) {
    if (!status.ok()) {
      std::fprintf(stderr, "%s\n", std::string(status.message()).c_str());
      return 1;
    }
  }
  std::printf("%-28s %12s %12s %8s\n", "", "ustack", "kernel", "ratio");
  std::printf("%-28s %12.3f %12.3f %8.2f\n", "ping RTT avg (ms)", ustack_ping->avg_ms,
              kernel_ping->avg_ms, ustack_ping->avg_ms / kernel_ping->avg_ms);
  std::printf("%-28s %12.3f %12.3f %8.2f\n", "ping RTT min (ms)", ustack_ping->min_ms,
              kernel_ping->min_ms, ustack_ping->min_ms / kernel_ping->min_ms);
  std::printf("%-28s %12.0f %12.0f %8.2f\n", "UDP echo answers/s (64 B)", *ustack_rate,
              *kernel_rate, *ustack_rate / *kernel_rate);
  absl::StatusOr<v1::UstackStats> stats = (*lab)->Stats();
  if (stats.ok()) {
    std::printf(
        "ustack NIC: rx %llu tx %llu rx_missed %llu tx_queue_full %llu kicks %llu "
        "interrupts %llu suppressed %llu\n",
        static_cast<unsigned long long>(stats->nic().rx_packets()),
        static_cast<unsigned long long>(stats->nic().tx_packets()),
        static_cast<unsigned long long>(stats->nic().rx_missed_errors()),
        static_cast<unsigned long long>(stats->nic().tx_queue_full()),
        static_cast<unsigned long long>(stats->nic().kicks()),
        static_cast<unsigned long long>(stats->nic().interrupts()),
        static_cast<unsigned long long>(stats->nic().interrupts_suppressed()));
  }
  return *ustack_rate > 0 && *kernel_rate > 0 ? 0 : 1;
}

}  // namespace
}  // namespace nslab::ustack::testing

int main(int argc, char** argv) {
  const bool smoke = argc > 1 && std::strcmp(argv[1], "--smoke") == 0;
  return nslab::ustack::testing::Run(smoke);
}
