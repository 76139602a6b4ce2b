#include "tests/netem/support/link_probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/common/errno_status.h"
#include "daemon/common/fd.h"
#include "daemon/netns/netns.h"
#include "daemon/topology/names.h"
#include "tests/netem/support/probe_frame.h"

namespace nslab::netem {
namespace {

struct InterfaceInfo {
  int index = 0;
  MacAddress mac{};
  uint32_t ip = 0;  // host order
};

absl::StatusOr<uint32_t> ParseIpv4(const std::string& text) {
  in_addr address{};
  if (::inet_pton(AF_INET, text.c_str(), &address) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("not an IPv4 address: \"", text, "\""));
  }
  return ntohl(address.s_addr);
}

// A socket of `family`/`type` opened inside `netns`: it stays there after the thread leaves.
absl::StatusOr<UniqueFd> SocketIn(const std::string& netns, int family, int type, int protocol) {
  UniqueFd fd;
  absl::Status status = netns::RunIn(netns, [&]() -> absl::Status {
    const int s = ::socket(family, type | SOCK_CLOEXEC, protocol);
    if (s < 0) {
      return ErrnoStatus(absl::StrCat("socket in ", netns), errno);
    }
    fd = UniqueFd(s);
    return absl::OkStatus();
  });
  if (!status.ok()) {
    return status;
  }
  return fd;
}

absl::StatusOr<InterfaceInfo> Describe(const LinkEnd& end) {
  absl::StatusOr<UniqueFd> fd = SocketIn(end.netns, AF_INET, SOCK_DGRAM, 0);
  if (!fd.ok()) {
    return fd.status();
  }
  ifreq request{};
  if (end.interface.size() >= sizeof(request.ifr_name)) {
    return absl::InvalidArgumentError(absl::StrCat("interface name too long: ", end.interface));
  }
  std::strncpy(request.ifr_name, end.interface.c_str(), sizeof(request.ifr_name) - 1);
  InterfaceInfo info;
  if (::ioctl(fd->get(), SIOCGIFINDEX, &request) != 0) {
    return ErrnoStatus(absl::StrCat("SIOCGIFINDEX ", end.netns, ":", end.interface), errno);
  }
  info.index = request.ifr_ifindex;
  if (::ioctl(fd->get(), SIOCGIFHWADDR, &request) != 0) {
    return ErrnoStatus(absl::StrCat("SIOCGIFHWADDR ", end.netns, ":", end.interface), errno);
  }
  std::memcpy(info.mac.data(), request.ifr_hwaddr.sa_data, info.mac.size());
  absl::StatusOr<uint32_t> ip = ParseIpv4(end.address);
  if (!ip.ok()) {
    return ip.status();
  }
  info.ip = *ip;
  return info;
}

absl::Status WriteProcSys(const std::string& netns, const std::string& path,
                          const std::string& value) {
  return netns::RunIn(netns, [&]() -> absl::Status {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid()) {
      return ErrnoStatus(absl::StrCat("open ", path, " in ", netns), errno);
    }
    if (::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
      return ErrnoStatus(absl::StrCat("write ", path, " in ", netns), errno);
    }
    return absl::OkStatus();
  });
}

void AppendAttribute(std::vector<char>& message, uint16_t type, const void* data, size_t len) {
  const size_t at = message.size();
  message.resize(at + NLA_ALIGN(NLA_HDRLEN + len), 0);
  nlattr header{static_cast<uint16_t>(NLA_HDRLEN + len), type};
  std::memcpy(message.data() + at, &header, sizeof(header));
  std::memcpy(message.data() + at + NLA_HDRLEN, data, len);
}

// `ip neigh replace <ip> lladdr <mac> dev <if> nud permanent` in `netns`, over rtnetlink.
absl::Status AddPermanentNeighbour(const std::string& netns, int ifindex, uint32_t ip,
                                   const MacAddress& mac) {
  absl::StatusOr<UniqueFd> fd = SocketIn(netns, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  if (!fd.ok()) {
    return fd.status();
  }
  std::vector<char> message(NLMSG_SPACE(sizeof(ndmsg)), 0);
  ndmsg neighbour{};
  neighbour.ndm_family = AF_INET;
  neighbour.ndm_ifindex = ifindex;
  neighbour.ndm_state = NUD_PERMANENT;
  std::memcpy(message.data() + NLMSG_HDRLEN, &neighbour, sizeof(neighbour));
  const uint32_t destination = htonl(ip);
  AppendAttribute(message, NDA_DST, &destination, sizeof(destination));
  AppendAttribute(message, NDA_LLADDR, mac.data(), mac.size());
  nlmsghdr header{};
  header.nlmsg_len = static_cast<uint32_t>(message.size());
  header.nlmsg_type = RTM_NEWNEIGH;
  header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
  header.nlmsg_seq = 1;
  std::memcpy(message.data(), &header, sizeof(header));
  if (::send(fd->get(), message.data(), message.size(), 0) < 0) {
    return ErrnoStatus("send RTM_NEWNEIGH", errno);
  }
  char reply[4096];
  const ssize_t got = ::recv(fd->get(), reply, sizeof(reply), 0);
  if (got < static_cast<ssize_t>(NLMSG_HDRLEN + sizeof(nlmsgerr))) {
    return ErrnoStatus("recv RTM_NEWNEIGH ack", got < 0 ? errno : EPROTO);
  }
  nlmsgerr ack{};
  std::memcpy(&ack, reply + NLMSG_HDRLEN, sizeof(ack));
  if (ack.error != 0) {
    return ErrnoStatus(absl::StrCat("RTM_NEWNEIGH in ", netns), -ack.error);
  }
  return absl::OkStatus();
}

int64_t RealtimeNs() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

int64_t MonotonicNs() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

void SleepUntilMonotonic(int64_t deadline_ns) {
  timespec deadline{};
  deadline.tv_sec = deadline_ns / 1'000'000'000;
  deadline.tv_nsec = deadline_ns % 1'000'000'000;
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR) {
  }
}

// The capture side: an AF_PACKET socket bound to the receiving interface.
class Capture {
 public:
  static absl::StatusOr<Capture> Open(const LinkEnd& end, int ifindex) {
    absl::StatusOr<UniqueFd> fd = SocketIn(end.netns, AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (!fd.ok()) {
      return fd.status();
    }
    const int on = 1;
    // Room for a whole run's frames should the reader fall behind (one slow CPU in UML).
    const int buffer = 32 << 20;
    if (::setsockopt(fd->get(), SOL_PACKET, PACKET_AUXDATA, &on, sizeof(on)) != 0 ||
        ::setsockopt(fd->get(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) != 0 ||
        ::setsockopt(fd->get(), SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof(buffer)) != 0) {
      return ErrnoStatus("setsockopt on the capture socket", errno);
    }
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);
    address.sll_ifindex = ifindex;
    if (::bind(fd->get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      return ErrnoStatus(absl::StrCat("bind the capture to ", end.interface), errno);
    }
    return Capture(*std::move(fd));
  }

  // Reads frames until `stop` is set and nothing is left, checking each against `flow`.
  absl::Status Record(const ProbeFlow& flow, const std::atomic<bool>& stop, ProbeRecords& records) {
    std::vector<std::byte> frame(65536);
    alignas(cmsghdr) char control[512];
    while (true) {
      pollfd readable{fd_.get(), POLLIN, 0};
      const int ready = ::poll(&readable, 1, 20);
      if (ready < 0 && errno != EINTR) {
        return ErrnoStatus("poll the capture socket", errno);
      }
      if (ready <= 0) {
        if (stop.load()) {
          break;
        }
        continue;
      }
      sockaddr_ll from{};
      iovec io{frame.data(), frame.size()};
      msghdr message{};
      message.msg_name = &from;
      message.msg_namelen = sizeof(from);
      message.msg_iov = &io;
      message.msg_iovlen = 1;
      message.msg_control = control;
      message.msg_controllen = sizeof(control);
      const ssize_t got = ::recvmsg(fd_.get(), &message, MSG_DONTWAIT);
      if (got < 0) {
        if (errno == EAGAIN || errno == EINTR) {
          continue;
        }
        return ErrnoStatus("recvmsg on the capture socket", errno);
      }
      if (from.sll_pkttype == PACKET_OUTGOING) {
        continue;  // the receiver's own frames: not what crossed the link towards it
      }
      int64_t received_ns = 0;
      bool checksum_pending = false;
      for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          timespec stamp{};
          std::memcpy(&stamp, CMSG_DATA(c), sizeof(stamp));
          received_ns = int64_t{stamp.tv_sec} * 1'000'000'000 + stamp.tv_nsec;
        } else if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
          tpacket_auxdata aux{};
          std::memcpy(&aux, CMSG_DATA(c), sizeof(aux));
          checksum_pending = (aux.tp_status & TP_STATUS_CSUMNOTREADY) != 0;
        }
      }
      const std::span<const std::byte> bytes(frame.data(), static_cast<size_t>(got));
      const FrameCheck check = CheckProbeFrame(bytes, flow, checksum_pending);
      switch (check.verdict) {
        case FrameVerdict::kIntact:
          records.arrivals.push_back(ProbeArrival{check.seq, check.sent_ns, received_ns,
                                                  static_cast<uint32_t>(bytes.size())});
          break;
        case FrameVerdict::kCorrupted:
          ++records.corrupted;
          break;
        case FrameVerdict::kForeign:
          ++records.foreign;
          break;
      }
    }
    tpacket_stats stats{};
    socklen_t len = sizeof(stats);
    if (::getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &stats, &len) == 0) {
      records.capture_drops = stats.tp_drops;
    }
    return absl::OkStatus();
  }

 private:
  explicit Capture(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace

LinkEnd LabLinkEnd(const std::string& lab, const std::string& node, const std::string& interface,
                   const std::string& address) {
  return LinkEnd{topology::NamespaceOf(lab, node), interface, address};
}

absl::Status QuietLink(const LinkEnd& a, const LinkEnd& b) {
  absl::StatusOr<InterfaceInfo> a_info = Describe(a);
  if (!a_info.ok()) {
    return a_info.status();
  }
  absl::StatusOr<InterfaceInfo> b_info = Describe(b);
  if (!b_info.ok()) {
    return b_info.status();
  }
  for (const LinkEnd* end : {&a, &b}) {
    const std::string path =
        absl::StrCat("/proc/sys/net/ipv6/conf/", end->interface, "/disable_ipv6");
    if (absl::Status status = WriteProcSys(end->netns, path, "1"); !status.ok()) {
      return status;
    }
  }
  if (absl::Status status = AddPermanentNeighbour(a.netns, a_info->index, b_info->ip, b_info->mac);
      !status.ok()) {
    return status;
  }
  return AddPermanentNeighbour(b.netns, b_info->index, a_info->ip, a_info->mac);
}

absl::StatusOr<ProbeRecords> RunProbes(const LinkEnd& from, const LinkEnd& to,
                                       const ProbeOptions& options) {
  if (options.payload_bytes < kProbeHeaderBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("payload_bytes must be at least ", kProbeHeaderBytes));
  }
  absl::StatusOr<InterfaceInfo> source = Describe(from);
  if (!source.ok()) {
    return source.status();
  }
  absl::StatusOr<InterfaceInfo> destination = Describe(to);
  if (!destination.ok()) {
    return destination.status();
  }

  // The receiving socket: takes the probes (no ICMP port unreachable goes back), never read.
  absl::StatusOr<UniqueFd> sink = SocketIn(to.netns, AF_INET, SOCK_DGRAM, 0);
  if (!sink.ok()) {
    return sink.status();
  }
  sockaddr_in sink_address{};
  sink_address.sin_family = AF_INET;
  sink_address.sin_addr.s_addr = htonl(destination->ip);
  if (::bind(sink->get(), reinterpret_cast<sockaddr*>(&sink_address), sizeof(sink_address)) != 0) {
    return ErrnoStatus(absl::StrCat("bind the probe sink to ", to.address), errno);
  }
  socklen_t sink_len = sizeof(sink_address);
  ::getsockname(sink->get(), reinterpret_cast<sockaddr*>(&sink_address), &sink_len);

  absl::StatusOr<UniqueFd> sender = SocketIn(from.netns, AF_INET, SOCK_DGRAM, 0);
  if (!sender.ok()) {
    return sender.status();
  }
  if (::connect(sender->get(), reinterpret_cast<sockaddr*>(&sink_address), sizeof(sink_address)) !=
      0) {
    return ErrnoStatus(absl::StrCat("connect the prober to ", to.address), errno);
  }

  ProbeFlow flow;
  flow.source_mac = source->mac;
  flow.destination_mac = destination->mac;
  flow.source_ip = source->ip;
  flow.destination_ip = destination->ip;
  flow.destination_port = ntohs(sink_address.sin_port);
  flow.payload_bytes = options.payload_bytes;

  absl::StatusOr<Capture> capture = Capture::Open(to, destination->index);
  if (!capture.ok()) {
    return capture.status();
  }
  ProbeRecords records;
  std::atomic<bool> stop{false};
  absl::Status capture_status;
  std::thread reader([&] { capture_status = capture->Record(flow, stop, records); });

  absl::Status send_status;
  const int64_t start_ns = MonotonicNs();
  for (uint32_t seq = 0; seq < options.count; ++seq) {
    SleepUntilMonotonic(start_ns + static_cast<int64_t>(seq) * options.interval.count());
    const std::vector<std::byte> payload = ProbePayload(options.payload_bytes, seq, RealtimeNs());
    if (::send(sender->get(), payload.data(), payload.size(), 0) < 0) {
      send_status = ErrnoStatus(absl::StrCat("send probe ", seq), errno);
      break;
    }
    records.sent = seq + 1;
  }
  SleepUntilMonotonic(MonotonicNs() + options.settle.count());
  stop = true;
  reader.join();
  if (!send_status.ok()) {
    return send_status;
  }
  if (!capture_status.ok()) {
    return capture_status;
  }
  return records;
}

}  // namespace nslab::netem
