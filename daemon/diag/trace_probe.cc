#include "daemon/diag/trace_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "daemon/common/errno_status.h"
#include "daemon/netns/netns.h"

namespace nslab::diag {
namespace {

uint16_t IcmpChecksum(const unsigned char* data, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) {
    sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  }
  if (len % 2 != 0) {
    sum += static_cast<uint32_t>(data[len - 1] << 8);
  }
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum);
}

}  // namespace

absl::StatusOr<UniqueFd> ProbeSocket(int netns_fd, const Probe& probe) {
  UniqueFd fd;
  auto status = netns::RunIn(netns_fd, [&] {
    if (probe.protocol == "icmp") {
      fd = UniqueFd(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMP));
    } else {
      fd = UniqueFd(::socket(
          AF_INET,
          (probe.protocol == "tcp" ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    }
    if (!fd.valid()) {
      return ErrnoStatus("probe socket", errno);
    }
    return absl::OkStatus();
  });
  if (!status.ok()) {
    return status;
  }
  return fd;
}

ProbeResult SendProbe(int fd, const Probe& probe, absl::Duration timeout) {
  ProbeResult result;
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(probe.port);
  ::inet_pton(AF_INET, probe.destination.c_str(), &dst.sin_addr);
  const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
  auto error_answer = [](int err) -> std::string {
    switch (err) {
      case ECONNREFUSED:
        return "refused";
      case EHOSTUNREACH:
        return "icmp host-unreachable";
      case ENETUNREACH:
        return "icmp net-unreachable";
      case EACCES:
      case EPERM:
        return "blocked locally";
      default:
        return "none";  // refused by the source's own stack: nothing went on the wire
    }
  };
  if (probe.protocol == "tcp") {
    if (::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) != 0 &&
        errno != EINPROGRESS) {
      result.error = errno;
    } else {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) {
        result.connect_result = "timed out";
        return result;
      }
      socklen_t len = sizeof(result.error);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &result.error, &len);
    }
    if (result.error == 0) {
      result.answer = "reply";
      result.connect_result = "connected";
    } else if (result.error == ECONNREFUSED) {
      result.answer = "rst";  // or an ICMP port-unreachable: the captures tell
      result.connect_result = "refused";
    } else if (result.error == ETIMEDOUT) {
      result.connect_result = "timed out";
    } else {
      result.answer = error_answer(result.error);
      result.connect_result =
          result.error == EPERM || result.error == EACCES ? "blocked locally"
          : result.answer == "none"
              ? absl::StrCat("failed at the source (", strerror(result.error), ")")
              : absl::StrCat("unreachable (", strerror(result.error), ")");
    }
    linger hard{1, 0};  // close with RST: nothing lingers in TIME_WAIT in the node
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    return result;
  }
  if (probe.protocol == "udp") {
    const char payload[] = "nslab trace probe";
    if (::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) != 0 ||
        ::send(fd, payload, sizeof(payload) - 1, 0) < 0) {
      result.error = errno;
      result.answer = error_answer(result.error);
      result.connect_result = result.answer == "none" ? absl::StrCat("failed at the source (",
                                                                     strerror(result.error), ")")
                                                      : result.answer;
      return result;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) {
      result.connect_result = "no answer";
      return result;
    }
    char buffer[512];
    if (::recv(fd, buffer, sizeof(buffer), 0) >= 0) {
      result.answer = "reply";
      result.connect_result = "answered";
    } else {
      result.error = errno;
      result.answer =
          result.error == ECONNREFUSED ? "icmp port-unreachable" : error_answer(result.error);
      result.connect_result = result.error == ECONNREFUSED ? "refused" : result.answer;
    }
    return result;
  }
  // ICMP echo, id = probe.source_port.
  unsigned char packet[64] = {};
  packet[0] = ICMP_ECHO;
  packet[4] = static_cast<unsigned char>(probe.source_port >> 8);
  packet[5] = static_cast<unsigned char>(probe.source_port & 0xff);
  packet[7] = 1;
  std::memcpy(packet + 8, "nslab trace probe", 17);
  const uint16_t sum = IcmpChecksum(packet, sizeof(packet));
  packet[2] = static_cast<unsigned char>(sum >> 8);
  packet[3] = static_cast<unsigned char>(sum & 0xff);
  if (::sendto(fd, packet, sizeof(packet), 0, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) < 0) {
    result.error = errno;
    result.answer = error_answer(result.error);
    result.connect_result = result.answer;
    return result;
  }
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const int left = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (::poll(&p, 1, std::max(left, 1)) <= 0) {
      continue;
    }
    unsigned char buffer[1500];
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      continue;
    }
    Packet answer = ParseIpv4(buffer, static_cast<size_t>(n));
    if (!answer.ok || answer.protocol != IPPROTO_ICMP) {
      continue;
    }
    if (answer.icmp_type == ICMP_ECHOREPLY && answer.echo_id == probe.source_port) {
      result.answer = "reply";
      result.connect_result = "answered";
      return result;
    }
    if (answer.icmp_type == ICMP_DEST_UNREACH || answer.icmp_type == ICMP_TIME_EXCEEDED) {
      // The error quotes our echo request: outer IP, ICMP header (8), inner IP, inner ICMP.
      const size_t outer = (buffer[0] & 0x0f) * 4u;
      if (static_cast<size_t>(n) >= outer + 8 + 20 + 8) {
        Packet inner = ParseIpv4(buffer + outer + 8, static_cast<size_t>(n) - outer - 8);
        if (inner.ok && inner.echo_id == probe.source_port) {
          result.answer = IcmpName(answer.icmp_type, answer.icmp_code);
          result.connect_result = "unreachable";
          return result;
        }
      }
    }
  }
  result.connect_result = "no answer";
  return result;
}

}  // namespace nslab::diag
