#include "tests/integration/wire/wire_lab.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "daemon/common/errno_status.h"
#include "daemon/netns/netns.h"

namespace nslab::testing {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

absl::Status WriteFile(const char* path, absl::string_view text) {
  UniqueFd fd(::open(path, O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return ErrnoStatus(absl::StrCat("open ", path), errno);
  }
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return ErrnoStatus(absl::StrCat("write ", path), errno);
  }
  return absl::OkStatus();
}

absl::StatusOr<sockaddr_in> Ipv4(const std::string& ip, uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (::inet_pton(AF_INET, ip.c_str(), &address.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("bad IPv4 address ", ip));
  }
  return address;
}

// A socket in `ns` bound to ip:port (0: the kernel chooses); returns it and its port.
absl::StatusOr<std::pair<UniqueFd, uint16_t>> BoundSocket(int ns, int type, const std::string& ip,
                                                          uint16_t port = 0) {
  absl::StatusOr<UniqueFd> fd = SocketIn(ns, AF_INET, type);
  if (!fd.ok()) {
    return fd.status();
  }
  absl::StatusOr<sockaddr_in> address = Ipv4(ip, port);
  if (!address.ok()) {
    return address.status();
  }
  if (::bind(fd->get(), reinterpret_cast<const sockaddr*>(&*address), sizeof(*address)) != 0) {
    return ErrnoStatus(absl::StrCat("bind ", ip), errno);
  }
  socklen_t length = sizeof(*address);
  if (::getsockname(fd->get(), reinterpret_cast<sockaddr*>(&*address), &length) != 0) {
    return ErrnoStatus("getsockname", errno);
  }
  return std::make_pair(*std::move(fd), ntohs(address->sin_port));
}

absl::Status Connect(int fd, const std::string& ip, uint16_t port) {
  absl::StatusOr<sockaddr_in> address = Ipv4(ip, port);
  if (!address.ok()) {
    return address.status();
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&*address), sizeof(*address)) != 0) {
    return ErrnoStatus(absl::StrCat("connect ", ip, ":", port), errno);
  }
  return absl::OkStatus();
}

void SetTimeouts(int fd, int seconds) {
  timeval timeout{seconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
}

// Big receive buffers (SO_RCVBUFFORCE, we are root) so the receiving socket never drops what
// the wire delivered: losses must come from the wire only.
void ForceReceiveBuffer(int fd, int bytes) {
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes));
}

}  // namespace

std::string UniqueNetnsName(absl::string_view prefix) {
  static std::atomic<int> counter{0};
  return absl::StrCat(prefix, "-", ::getpid(), "-", counter++);
}

absl::StatusOr<std::unique_ptr<ScopedNamespace>> ScopedNamespace::Create(std::string name) {
  if (auto status = netns::Create(name); !status.ok()) {
    return status;
  }
  // From here on the destructor deletes the namespace, whatever fails next.
  absl::StatusOr<UniqueFd> fd = netns::Open(name);
  if (!fd.ok()) {
    netns::Delete(name).IgnoreError();
    return fd.status();
  }
  std::unique_ptr<ScopedNamespace> ns(new ScopedNamespace(std::move(name), *std::move(fd)));
  absl::Status status = netns::RunIn(ns->fd(), []() -> absl::Status {
    // net sysctls resolve against the namespace of the thread opening them.
    for (const char* path : {"/proc/sys/net/ipv6/conf/all/disable_ipv6",
                             "/proc/sys/net/ipv6/conf/default/disable_ipv6"}) {
      if (::access(path, F_OK) == 0) {
        if (auto written = WriteFile(path, "1"); !written.ok()) {
          return written;
        }
      }
    }
    UniqueFd control(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq request{};
    std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    if (!control.valid() || ::ioctl(control.get(), SIOCGIFFLAGS, &request) != 0) {
      return ErrnoStatus("get flags of lo", errno);
    }
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
    if (::ioctl(control.get(), SIOCSIFFLAGS, &request) != 0) {
      return ErrnoStatus("set lo up", errno);
    }
    return absl::OkStatus();
  });
  if (!status.ok()) {
    return status;
  }
  return ns;
}

ScopedNamespace::~ScopedNamespace() {
  fd_.Reset();
  netns::Delete(name_).IgnoreError();
}

IoThread::IoThread(bool realtime) : guard_(boost::asio::make_work_guard(io_)) {
  thread_ = std::thread([this] { io_.run(); });
  if (realtime) {
    sched_param param{};
    param.sched_priority = 10;
    ::pthread_setschedparam(thread_.native_handle(), SCHED_FIFO, &param);
  }
}

IoThread::~IoThread() {
  guard_.reset();
  thread_.join();
}

absl::StatusOr<std::string> Shell(const std::string& command) {
  const std::string full = absl::StrCat(command, " 2>&1");
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) {
    return ErrnoStatus(absl::StrCat("popen ", command), errno);
  }
  std::string output;
  char chunk[4096];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), pipe)) > 0) {
    output.append(chunk, n);
  }
  const int status = ::pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("`", command, "` failed: ", output));
  }
  return output;
}

double PingResult::MedianMs() const {
  if (rtt_ms.empty()) {
    return 0;
  }
  std::vector<double> sorted = rtt_ms;
  std::sort(sorted.begin(), sorted.end());
  return sorted[sorted.size() / 2];
}

double PingResult::MinMs() const {
  return rtt_ms.empty() ? 0 : *std::min_element(rtt_ms.begin(), rtt_ms.end());
}

absl::StatusOr<PingResult> Ping(const std::string& ns, const std::string& destination, int count,
                                double interval_s) {
  // ping exits 1 when replies are missing; that is a result here, not an error.
  const std::string command = absl::StrCat("ip netns exec ", ns, " ping -n -c ", count, " -i ",
                                           interval_s, " -W 1 ", destination, "; true");
  absl::StatusOr<std::string> output = Shell(command);
  if (!output.ok()) {
    return output.status();
  }
  PingResult result;
  for (size_t at = output->find("time="); at != std::string::npos;
       at = output->find("time=", at + 1)) {
    result.rtt_ms.push_back(std::strtod(output->c_str() + at + 5, nullptr));
  }
  const size_t summary = output->find(" packets transmitted, ");
  const size_t line = output->rfind('\n', summary);
  if (summary == std::string::npos ||
      std::sscanf(output->c_str() + (line == std::string::npos ? 0 : line + 1),
                  "%d packets transmitted, %d received", &result.transmitted,
                  &result.received) != 2) {
    return absl::InternalError(absl::StrCat("no ping summary in: ", *output));
  }
  return result;
}

absl::StatusOr<UniqueFd> SocketIn(int netns_fd, int domain, int type) {
  UniqueFd fd;
  absl::Status status = netns::RunIn(netns_fd, [&]() -> absl::Status {
    fd.Reset(::socket(domain, type | SOCK_CLOEXEC, 0));
    return fd.valid() ? absl::OkStatus() : ErrnoStatus("socket", errno);
  });
  if (!status.ok()) {
    return status;
  }
  return fd;
}

namespace {

// Probe `number`'s payload: the number repeated over `payload` (the last copy cut short).
void FillProbe(uint32_t number, std::vector<char>& payload) {
  for (size_t at = 0; at < payload.size(); at += sizeof(number)) {
    std::memcpy(payload.data() + at, &number, std::min(sizeof(number), payload.size() - at));
  }
}

}  // namespace

absl::StatusOr<UdpProbeResult> SendUdpProbes(int src_ns, int dst_ns, const std::string& dst_ip,
                                             uint32_t count, size_t payload_bytes) {
  // A fixed port, as a server's: the destination port is part of the traffic class whose
  // fates a seed fixes, so a port the kernel chose anew each run would meet other fates.
  constexpr uint16_t kProbePort = 9000;
  absl::StatusOr<std::pair<UniqueFd, uint16_t>> receiver =
      BoundSocket(dst_ns, SOCK_DGRAM, dst_ip, kProbePort);
  if (!receiver.ok()) {
    return receiver.status();
  }
  ForceReceiveBuffer(receiver->first.get(), 8 << 20);
  absl::StatusOr<UniqueFd> sender = SocketIn(src_ns, AF_INET, SOCK_DGRAM);
  if (!sender.ok()) {
    return sender.status();
  }
  if (auto status = Connect(sender->get(), dst_ip, receiver->second); !status.ok()) {
    return status;
  }
  std::vector<char> payload(std::max<size_t>(payload_bytes, sizeof(uint32_t)), 0);
  // Bursts well below every queue on the way (TAP ring 500, socket buffers): a probe missing
  // at the end was dropped by the wire.
  constexpr uint32_t kBurst = 20;
  for (uint32_t number = 0; number < count; ++number) {
    FillProbe(number, payload);
    if (::send(sender->get(), payload.data(), payload.size(), 0) < 0) {
      return ErrnoStatus(absl::StrCat("send probe ", number), errno);
    }
    if (number % kBurst == kBurst - 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  UdpProbeResult result;
  std::vector<bool> arrived(count, false);
  // One byte more than a probe, so a longer datagram is seen as one.
  std::vector<char> received(payload.size() + 1);
  pollfd readable{receiver->first.get(), POLLIN, 0};
  // Done when nothing arrived for a while longer than any delay the tests configure.
  while (::poll(&readable, 1, 500) > 0) {
    const ssize_t n = ::recv(receiver->first.get(), received.data(), received.size(), 0);
    if (n < 0) {
      return ErrnoStatus("recv probe", errno);
    }
    uint32_t number = 0;
    if (static_cast<size_t>(n) == payload.size()) {
      std::memcpy(&number, received.data(), sizeof(number));
      if (number < count) {
        FillProbe(number, payload);
        if (std::memcmp(received.data(), payload.data(), payload.size()) == 0) {
          arrived[number] = true;
          continue;
        }
      }
    }
    ++result.mismatched;
  }
  for (uint32_t number = 0; number < count; ++number) {
    if (!arrived[number]) {
      result.lost.push_back(number);
    }
  }
  return result;
}

// The byte at stream offset i is i % 251: a prime period, so a segment delivered at the wrong
// place or with flipped bits is caught, and whole 64 KiB chunks still differ from each other.
constexpr size_t kPatternPeriod = 251;

std::vector<char> PatternFrom(size_t phase, size_t size) {
  std::vector<char> out(size);
  for (size_t i = 0; i < size; ++i) {
    out[i] = static_cast<char>((phase + i) % kPatternPeriod);
  }
  return out;
}

absl::StatusOr<BulkResult> TcpBulk(int src_ns, int dst_ns, const std::string& dst_ip,
                                   uint64_t bytes) {
  absl::StatusOr<std::pair<UniqueFd, uint16_t>> listener = BoundSocket(dst_ns, SOCK_STREAM, dst_ip);
  if (!listener.ok()) {
    return listener.status();
  }
  if (::listen(listener->first.get(), 1) != 0) {
    return ErrnoStatus("listen", errno);
  }
  SetTimeouts(listener->first.get(), 30);
  BulkResult result;
  absl::Status receive_status;
  std::thread receiver([&] {
    UniqueFd connection(::accept4(listener->first.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!connection.valid()) {
      receive_status = ErrnoStatus("accept", errno);
      return;
    }
    SetTimeouts(connection.get(), 30);
    std::vector<char> buffer(1 << 16);
    // Compared with memcmp against the pattern at the right phase: fast enough not to slow a
    // multi-Gbit/s receiver.
    const std::vector<char> pattern = PatternFrom(0, buffer.size() + kPatternPeriod);
    Clock::time_point first{};
    Clock::time_point last{};
    while (true) {
      const ssize_t n = ::recv(connection.get(), buffer.data(), buffer.size(), 0);
      if (n == 0) {
        break;
      }
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        receive_status = ErrnoStatus("recv bulk", errno);
        return;
      }
      last = Clock::now();
      if (result.bytes == 0) {
        first = last;
      }
      if (result.first_bad_offset < 0 &&
          std::memcmp(buffer.data(), pattern.data() + result.bytes % kPatternPeriod,
                      static_cast<size_t>(n)) != 0) {
        result.first_bad_offset = static_cast<int64_t>(result.bytes);
      }
      result.bytes += static_cast<uint64_t>(n);
    }
    result.seconds = SecondsBetween(first, last);
  });
  absl::Status send_status = [&]() -> absl::Status {
    absl::StatusOr<UniqueFd> sender = SocketIn(src_ns, AF_INET, SOCK_STREAM);
    if (!sender.ok()) {
      return sender.status();
    }
    SetTimeouts(sender->get(), 30);
    if (auto status = Connect(sender->get(), dst_ip, listener->second); !status.ok()) {
      return status;
    }
    const std::vector<char> pattern = PatternFrom(0, (1 << 16) + kPatternPeriod);
    uint64_t left = bytes;
    while (left > 0) {
      const uint64_t sent = bytes - left;
      const size_t want = static_cast<size_t>(std::min<uint64_t>(left, 1 << 16));
      const ssize_t n =
          ::send(sender->get(), pattern.data() + sent % kPatternPeriod, want, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return ErrnoStatus("send bulk", errno);
      }
      left -= static_cast<uint64_t>(n);
    }
    ::shutdown(sender->get(), SHUT_WR);
    return absl::OkStatus();
  }();
  if (!send_status.ok()) {
    // Unblocks accept() if the sender never connected.
    ::shutdown(listener->first.get(), SHUT_RDWR);
  }
  receiver.join();
  if (!send_status.ok()) {
    return send_status;
  }
  if (!receive_status.ok()) {
    return receive_status;
  }
  if (result.bytes != bytes) {
    return absl::DataLossError(absl::StrCat("bulk: sent ", bytes, " bytes, got ", result.bytes));
  }
  if (result.first_bad_offset >= 0) {
    return absl::DataLossError(absl::StrCat("bulk: the bytes received differ from those sent ",
                                            "in the 64 KiB read at offset ",
                                            result.first_bad_offset));
  }
  return result;
}

absl::StatusOr<BlastResult> UdpBlast(int src_ns, int dst_ns, const std::string& dst_ip,
                                     size_t payload_bytes, double seconds) {
  // A fixed port, as a server's: the destination port is part of the traffic class whose
  // fates a seed fixes, so a port the kernel chose anew each run would meet other fates.
  constexpr uint16_t kProbePort = 9000;
  absl::StatusOr<std::pair<UniqueFd, uint16_t>> receiver =
      BoundSocket(dst_ns, SOCK_DGRAM, dst_ip, kProbePort);
  if (!receiver.ok()) {
    return receiver.status();
  }
  ForceReceiveBuffer(receiver->first.get(), 8 << 20);
  absl::StatusOr<UniqueFd> sender = SocketIn(src_ns, AF_INET, SOCK_DGRAM);
  if (!sender.ok()) {
    return sender.status();
  }
  if (auto status = Connect(sender->get(), dst_ip, receiver->second); !status.ok()) {
    return status;
  }
  BlastResult result;
  std::atomic<bool> sending{true};
  std::thread counter([&] {
    constexpr int kBatch = 64;
    std::vector<char> buffers(kBatch * 2048);
    std::vector<iovec> iov(kBatch);
    std::vector<mmsghdr> messages(kBatch);
    for (int i = 0; i < kBatch; ++i) {
      iov[i] = {buffers.data() + i * 2048, 2048};
      messages[i] = {};
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    pollfd readable{receiver->first.get(), POLLIN, 0};
    // Keeps counting for a moment after the sender stopped: frames still in the pipeline.
    while (::poll(&readable, 1, sending ? 200 : 100) > 0 || sending) {
      const int n =
          ::recvmmsg(receiver->first.get(), messages.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (n > 0) {
        result.received += static_cast<uint64_t>(n);
      }
    }
  });
  std::vector<char> payload(payload_bytes, 'p');
  const Clock::time_point start = Clock::now();
  const Clock::time_point end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (true) {
    // Checking the clock every 64 sends keeps it out of the per-packet cost.
    for (int i = 0; i < 64; ++i) {
      if (::send(sender->get(), payload.data(), payload.size(), 0) >= 0) {
        ++result.sent;
      }
    }
    if (Clock::now() >= end) {
      break;
    }
  }
  result.seconds = SecondsBetween(start, Clock::now());
  sending = false;
  counter.join();
  return result;
}

}  // namespace nslab::testing
