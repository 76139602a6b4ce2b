#include "daemon/scenario/lab/net_probes.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <random>
#include <span>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "daemon/common/fd.h"
#include "daemon/netns/netns.h"
#include "daemon/ustack/packet/checksum.h"

namespace nslab::scenario {
namespace {

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

absl::StatusOr<SockAddr> ToSockAddr(int family, const std::string& address, uint16_t port) {
  SockAddr out;
  if (family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&out.storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    if (inet_pton(AF_INET, address.c_str(), &in->sin_addr) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("\"", address, "\" is not an IPv4 address"));
    }
    out.length = sizeof(sockaddr_in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    if (inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("\"", address, "\" is not an IPv6 address"));
    }
    out.length = sizeof(sockaddr_in6);
  }
  return out;
}

int FamilyOf(absl::string_view address) {
  return address.find(':') == absl::string_view::npos ? AF_INET : AF_INET6;
}

// A socket created inside the namespace: it stays there after the thread leaves.
absl::StatusOr<UniqueFd> SocketIn(int netns_fd, int family, int type, int protocol) {
  UniqueFd fd;
  absl::Status status = netns::RunIn(netns_fd, [&]() -> absl::Status {
    fd = UniqueFd(::socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol));
    if (!fd.valid()) {
      return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) {
    return status;
  }
  return fd;
}

std::string ConnectError(int error) {
  switch (error) {
    case ECONNREFUSED:
      return "refused";
    case ETIMEDOUT:
      return "timed out";
    case EHOSTUNREACH:
      return "no route to host";
    case ENETUNREACH:
      return "network unreachable";
    case ECONNRESET:
      return "reset";
    default:
      return std::strerror(error);
  }
}

std::string Ms(absl::Duration duration) {
  return absl::StrFormat("%.1fms", absl::ToDoubleMilliseconds(duration));
}

// Waits for `events` on `fd` until `deadline`; false when the time is up.
bool WaitFor(int fd, short events, absl::Time deadline) {
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return false;
    }
    pollfd entry{fd, events, 0};
    const int timeout_ms = static_cast<int>(std::max<int64_t>(1, absl::ToInt64Milliseconds(left)));
    const int n = ::poll(&entry, 1, timeout_ms);
    if (n > 0) {
      return true;
    }
    if (n < 0 && errno != EINTR) {
      return false;
    }
  }
}

// A connected socket, or what stopped it: the outcome's text.
absl::StatusOr<UniqueFd> Connect(int netns_fd, const SocketTarget& target, absl::Time deadline,
                                 std::string* failure) {
  auto address = ToSockAddr(target.family, target.address, target.port);
  if (!address.ok()) {
    return address.status();
  }
  auto fd = SocketIn(netns_fd, target.family, SOCK_STREAM, 0);
  if (!fd.ok()) {
    return fd.status();
  }
  if (::connect(fd->get(), reinterpret_cast<const sockaddr*>(&address->storage), address->length) ==
      0) {
    return fd;
  }
  if (errno != EINPROGRESS) {
    *failure = ConnectError(errno);
    return absl::UnavailableError(*failure);
  }
  if (!WaitFor(fd->get(), POLLOUT, deadline)) {
    *failure = "timed out";
    return absl::DeadlineExceededError(*failure);
  }
  int error = 0;
  socklen_t length = sizeof(error);
  ::getsockopt(fd->get(), SOL_SOCKET, SO_ERROR, &error, &length);
  if (error != 0) {
    *failure = ConnectError(error);
    return absl::UnavailableError(*failure);
  }
  return fd;
}

}  // namespace

absl::StatusOr<SocketTarget> ParseSocketTarget(absl::string_view text) {
  SocketTarget target;
  absl::string_view host;
  absl::string_view port;
  if (absl::ConsumePrefix(&text, "[")) {
    const size_t close = text.find("]:");
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError("an IPv6 target is written [address]:port");
    }
    host = text.substr(0, close);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos || text.find(':') != colon) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", text, "\" is not address:port (IPv6: [address]:port)"));
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  uint32_t number = 0;
  if (!absl::SimpleAtoi(port, &number) || number == 0 || number > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("\"", port, "\" is not a port (1-65535)"));
  }
  target.family = FamilyOf(host);
  target.address = std::string(host);
  target.port = static_cast<uint16_t>(number);
  if (auto address = ToSockAddr(target.family, target.address, target.port); !address.ok()) {
    return address.status();
  }
  return target;
}

absl::StatusOr<HttpTarget> ParseHttpUrl(absl::string_view url) {
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "http://")) {
    return absl::InvalidArgumentError(absl::StrCat("\"", url, "\" does not start with http://"));
  }
  const size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  HttpTarget target;
  target.path = slash == absl::string_view::npos ? "/" : std::string(rest.substr(slash));
  target.host = std::string(authority);
  const bool bracketed = absl::StartsWith(authority, "[");
  const bool has_port =
      bracketed ? absl::StrContains(authority, "]:") : absl::StrContains(authority, ':');
  auto socket =
      ParseSocketTarget(has_port ? std::string(authority) : absl::StrCat(authority, ":80"));
  if (!socket.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", url, "\": ", socket.status().message()));
  }
  target.socket = *socket;
  return target;
}

ProbeOutcome TcpConnect(int netns_fd, const SocketTarget& target, absl::Duration timeout) {
  const absl::Time start = absl::Now();
  std::string failure;
  auto fd = Connect(netns_fd, target, start + timeout, &failure);
  if (!fd.ok()) {
    if (failure.empty()) {
      return {false, std::string(fd.status().message())};
    }
    return {false,
            failure == "timed out" ? absl::StrCat("timed out after ", Ms(timeout)) : failure};
  }
  return {true, absl::StrCat("connected in ", Ms(absl::Now() - start))};
}

ProbeOutcome HttpGet(int netns_fd, const HttpTarget& target, uint32_t status,
                     absl::Duration timeout) {
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + timeout;
  std::string failure;
  auto fd = Connect(netns_fd, target.socket, deadline, &failure);
  if (!fd.ok()) {
    return {false, failure.empty() ? std::string(fd.status().message()) : failure};
  }
  const std::string request =
      absl::StrCat("GET ", target.path, " HTTP/1.1\r\nHost: ", target.host,
                   "\r\nUser-Agent: nslab-check\r\nConnection: close\r\n\r\n");
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd->get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += n;
      continue;
    }
    if (n < 0 && errno == EAGAIN && WaitFor(fd->get(), POLLOUT, deadline)) {
      continue;
    }
    return {false, n < 0 ? ConnectError(errno) : "closed while sending"};
  }
  std::string response;
  char buffer[1024];
  while (response.find("\r\n") == std::string::npos && response.size() < 8192) {
    const ssize_t n = ::recv(fd->get(), buffer, sizeof(buffer), 0);
    if (n > 0) {
      response.append(buffer, n);
      continue;
    }
    if (n == 0) {
      return {false, response.empty() ? "closed without answering" : "closed mid status line"};
    }
    if (errno == EAGAIN) {
      if (!WaitFor(fd->get(), POLLIN, deadline)) {
        return {false, absl::StrCat("no answer within ", Ms(timeout))};
      }
      continue;
    }
    return {false, ConnectError(errno)};
  }
  // "HTTP/1.1 200 OK"
  uint32_t code = 0;
  const size_t space = response.find(' ');
  if (!absl::StartsWith(response, "HTTP/") || space == std::string::npos ||
      !absl::SimpleAtoi(absl::string_view(response).substr(space + 1, 3), &code)) {
    return {false, absl::StrCat("not an HTTP answer: \"", response.substr(0, 40), "\"")};
  }
  const bool ok = status == 0 ? (code >= 200 && code < 300) : code == status;
  return {ok, absl::StrCat("status ", code, " in ", Ms(absl::Now() - start))};
}

ProbeOutcome Ping(int netns_fd, absl::string_view address, const PingBounds& bounds,
                  absl::Duration timeout) {
  const int family = FamilyOf(address);
  auto destination = ToSockAddr(family, std::string(address), 0);
  if (!destination.ok()) {
    return {false, std::string(destination.status().message())};
  }
  const int protocol =
      family == AF_INET ? static_cast<int>(IPPROTO_ICMP) : static_cast<int>(IPPROTO_ICMPV6);
  auto fd = SocketIn(netns_fd, family, SOCK_RAW, protocol);
  if (!fd.ok()) {
    return {false, std::string(fd.status().message())};
  }
  static std::atomic<uint16_t> next_id{static_cast<uint16_t>(std::random_device{}())};
  const uint16_t id = next_id.fetch_add(1);
  const uint32_t count = std::max<uint32_t>(1, bounds.count);
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + timeout;
  std::map<uint16_t, absl::Time> sent_at;
  std::map<uint16_t, absl::Duration> rtts;
  uint16_t seq = 0;
  absl::Time next_send = start;
  while (absl::Now() < deadline && rtts.size() < count) {
    if (seq < count && absl::Now() >= next_send) {
      uint8_t packet[64] = {};
      packet[0] = family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
      packet[4] = id >> 8;
      packet[5] = id & 0xff;
      packet[6] = seq >> 8;
      packet[7] = seq & 0xff;
      if (family == AF_INET) {  // ICMPv6's checksum is the kernel's (it needs the pseudo-header)
        const uint16_t sum = ustack::packet::internet_checksum(std::as_bytes(std::span(packet)));
        packet[2] = sum >> 8;
        packet[3] = sum & 0xff;
      }
      sent_at[seq] = absl::Now();
      if (::sendto(fd->get(), packet, sizeof(packet), 0,
                   reinterpret_cast<const sockaddr*>(&destination->storage),
                   destination->length) < 0) {
        const int error = errno;
        if (error == ENETUNREACH || error == EHOSTUNREACH) {
          return {false, ConnectError(error)};
        }
      }
      ++seq;
      next_send += absl::Milliseconds(10);
    }
    const absl::Time wake = seq < count ? std::min(next_send, deadline) : deadline;
    if (!WaitFor(fd->get(), POLLIN, wake)) {
      continue;
    }
    uint8_t reply[1500];
    const ssize_t n = ::recv(fd->get(), reply, sizeof(reply), 0);
    if (n <= 0) {
      continue;
    }
    // IPv4 raw sockets deliver the IP header; IPv6 ones do not.
    size_t offset = 0;
    if (family == AF_INET) {
      offset = (reply[0] & 0x0f) * 4;
    }
    if (static_cast<size_t>(n) < offset + 8) {
      continue;
    }
    const uint8_t* icmp = reply + offset;
    const uint8_t echo_reply = family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY;
    const uint16_t reply_id = static_cast<uint16_t>(icmp[4] << 8 | icmp[5]);
    const uint16_t reply_seq = static_cast<uint16_t>(icmp[6] << 8 | icmp[7]);
    if (icmp[0] != echo_reply || reply_id != id || !sent_at.contains(reply_seq)) {
      continue;
    }
    rtts.emplace(reply_seq, absl::Now() - sent_at[reply_seq]);
  }
  const double loss = 100.0 * (count - rtts.size()) / count;
  absl::Duration slowest = absl::ZeroDuration();
  for (const auto& [unused, rtt] : rtts) {
    slowest = std::max(slowest, rtt);
  }
  std::string observed = absl::StrFormat("%u/%u replies, loss %.0f%%", rtts.size(), count, loss);
  if (!rtts.empty()) {
    absl::StrAppend(&observed, ", max rtt ", Ms(slowest));
  }
  bool ok = loss <= bounds.max_loss_percent;
  if (bounds.max_rtt > absl::ZeroDuration() && slowest > bounds.max_rtt) {
    ok = false;
  }
  return {ok, observed};
}

}  // namespace nslab::scenario
