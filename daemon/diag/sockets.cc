#include "daemon/diag/sockets.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "daemon/common/errno_status.h"
#include "daemon/common/fd.h"
#include "daemon/netns/netns.h"

namespace nslab::diag {
namespace {

// The kernel's TCP_* state numbers, in ss's spelling.
constexpr const char* kStateNames[] = {
    "UNKNOWN", "ESTAB",      "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",  "TIME-WAIT",
    "UNCONN",  "CLOSE-WAIT", "LAST-ACK", "LISTEN",   "CLOSING",    "NEW-SYN-RECV"};

std::string StateName(uint8_t state, bool udp) {
  if (udp && state == 1) {  // TCP_ESTABLISHED
    return "ESTAB";         // a connected UDP socket
  }
  if (state < std::size(kStateNames)) {
    return kStateNames[state];
  }
  return absl::StrCat("STATE-", state);
}

std::string Address(int family, const uint32_t* raw) {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, raw, text, sizeof(text));
  return text;
}

struct Owner {
  int pid;
  std::string comm;
  int fd;
};

// socket inode -> the processes in the namespace that hold it.
std::map<uint64_t, std::vector<Owner>> SocketOwners(int netns_fd) {
  std::map<uint64_t, std::vector<Owner>> owners;
  struct stat target {};
  if (::fstat(netns_fd, &target) != 0) {
    return owners;
  }
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string pid_text = entry.path().filename().string();
    if (pid_text.empty() || !std::isdigit(static_cast<unsigned char>(pid_text[0]))) {
      continue;
    }
    struct stat st {};
    if (::stat((entry.path() / "ns/net").c_str(), &st) != 0 || st.st_dev != target.st_dev ||
        st.st_ino != target.st_ino) {
      continue;
    }
    std::string comm;
    std::ifstream(entry.path() / "comm") >> comm;
    std::error_code fd_error;
    for (const auto& fd : std::filesystem::directory_iterator(entry.path() / "fd", fd_error)) {
      char link[64] = {};
      const ssize_t n = ::readlink(fd.path().c_str(), link, sizeof(link) - 1);
      if (n <= 0 || std::strncmp(link, "socket:[", 8) != 0) {
        continue;
      }
      const uint64_t inode = std::strtoull(link + 8, nullptr, 10);
      owners[inode].push_back({std::stoi(pid_text), comm, std::atoi(fd.path().filename().c_str())});
    }
  }
  return owners;
}

void FillTcpInfo(const void* data, size_t len, nslab::v1::TcpInfo* out) {
  tcp_info info{};
  std::memcpy(&info, data, std::min(len, sizeof(info)));
  out->set_rtt_us(info.tcpi_rtt);
  out->set_rttvar_us(info.tcpi_rttvar);
  out->set_rto_us(info.tcpi_rto);
  out->set_snd_cwnd(info.tcpi_snd_cwnd);
  out->set_snd_ssthresh(info.tcpi_snd_ssthresh);
  out->set_snd_mss(info.tcpi_snd_mss);
  out->set_rcv_mss(info.tcpi_rcv_mss);
  out->set_retransmits(info.tcpi_retransmits);
  out->set_total_retrans(info.tcpi_total_retrans);
  out->set_lost(info.tcpi_lost);
  out->set_unacked(info.tcpi_unacked);
  out->set_retrans(info.tcpi_retrans);
  out->set_bytes_acked(info.tcpi_bytes_acked);
  out->set_bytes_received(info.tcpi_bytes_received);
  out->set_segs_out(info.tcpi_segs_out);
  out->set_segs_in(info.tcpi_segs_in);
  out->set_rcv_space(info.tcpi_rcv_space);
  out->set_delivery_rate(info.tcpi_delivery_rate);
}

void FillMemory(const uint32_t* values, size_t count, nslab::v1::SocketMemory* out) {
  auto at = [&](size_t i) { return i < count ? values[i] : 0u; };
  out->set_rmem_alloc(at(SK_MEMINFO_RMEM_ALLOC));
  out->set_rcvbuf(at(SK_MEMINFO_RCVBUF));
  out->set_wmem_alloc(at(SK_MEMINFO_WMEM_ALLOC));
  out->set_sndbuf(at(SK_MEMINFO_SNDBUF));
  out->set_fwd_alloc(at(SK_MEMINFO_FWD_ALLOC));
  out->set_wmem_queued(at(SK_MEMINFO_WMEM_QUEUED));
  out->set_optmem(at(SK_MEMINFO_OPTMEM));
  out->set_backlog(at(SK_MEMINFO_BACKLOG));
  out->set_drops(at(SK_MEMINFO_DROPS));
}

// One sock_diag dump of `protocol` sockets of `family`; appends to `out`.
absl::Status Dump(int sock, uint8_t family, uint8_t protocol, std::vector<nslab::v1::Socket>* out) {
  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } message{};
  message.header.nlmsg_len = sizeof(message);
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  message.header.nlmsg_seq = 1;
  message.request.sdiag_family = family;
  message.request.sdiag_protocol = protocol;
  message.request.idiag_states = ~0u;
  message.request.idiag_ext =
      (1 << (INET_DIAG_INFO - 1)) | (1 << (INET_DIAG_SKMEMINFO - 1)) | (1 << (INET_DIAG_CONG - 1));
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(sock, &message, sizeof(message), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof(kernel)) < 0) {
    return ErrnoStatus("sock_diag request", errno);
  }
  std::vector<char> buffer(1 << 16);
  const bool udp = protocol == IPPROTO_UDP;
  while (true) {
    const ssize_t n = ::recv(sock, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoStatus("sock_diag reply", errno);
    }
    int left = static_cast<int>(n);
    for (auto* header = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(header, left);
         header = NLMSG_NEXT(header, left)) {
      if (header->nlmsg_type == NLMSG_DONE) {
        return absl::OkStatus();
      }
      if (header->nlmsg_type == NLMSG_ERROR) {
        const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(header));
        if (error->error == -ENOENT || error->error == -EOPNOTSUPP) {
          return absl::OkStatus();  // no udp_diag module: no sockets of that kind to show
        }
        return ErrnoStatus(absl::StrCat("sock_diag dump of ", udp ? "udp" : "tcp"), -error->error);
      }
      const auto* msg = static_cast<const inet_diag_msg*>(NLMSG_DATA(header));
      nslab::v1::Socket socket;
      socket.set_protocol(udp ? "udp" : "tcp");
      socket.set_family(msg->idiag_family == AF_INET6 ? "inet6" : "inet");
      socket.set_state(StateName(msg->idiag_state, udp));
      socket.set_recv_q(msg->idiag_rqueue);
      socket.set_send_q(msg->idiag_wqueue);
      socket.set_local_address(Address(msg->idiag_family, msg->id.idiag_src));
      socket.set_local_port(ntohs(msg->id.idiag_sport));
      socket.set_peer_address(Address(msg->idiag_family, msg->id.idiag_dst));
      socket.set_peer_port(ntohs(msg->id.idiag_dport));
      socket.set_inode(msg->idiag_inode);
      socket.set_uid(msg->idiag_uid);
      if (msg->id.idiag_if != 0) {
        // Resolved to a name inside the namespace once the dump is complete.
        socket.set_interface(std::to_string(msg->id.idiag_if));
      }
      int attr_len = static_cast<int>(header->nlmsg_len - NLMSG_LENGTH(sizeof(*msg)));
      for (auto* attr = reinterpret_cast<rtattr*>(const_cast<inet_diag_msg*>(msg) + 1);
           RTA_OK(attr, attr_len); attr = RTA_NEXT(attr, attr_len)) {
        const size_t payload = RTA_PAYLOAD(attr);
        if (attr->rta_type == INET_DIAG_INFO && !udp) {
          FillTcpInfo(RTA_DATA(attr), payload, socket.mutable_tcp());
        } else if (attr->rta_type == INET_DIAG_SKMEMINFO) {
          FillMemory(static_cast<const uint32_t*>(RTA_DATA(attr)), payload / sizeof(uint32_t),
                     socket.mutable_memory());
        } else if (attr->rta_type == INET_DIAG_CONG && !udp) {
          socket.mutable_tcp()->set_congestion(
              std::string(static_cast<const char*>(RTA_DATA(attr)),
                          strnlen(static_cast<const char*>(RTA_DATA(attr)), payload)));
        }
      }
      out->push_back(std::move(socket));
    }
  }
}

}  // namespace

// A state name the way a user types it, in ss's words.
static absl::StatusOr<std::string> NormaliseState(const std::string& state) {
  std::string name = absl::AsciiStrToLower(absl::StrReplaceAll(state, {{"_", "-"}}));
  if (name.empty()) {
    return name;
  }
  if (name == "established") {
    name = "estab";
  } else if (name == "syn-received") {
    name = "syn-recv";
  } else if (name == "closed") {
    name = "unconn";
  }
  std::vector<std::string> valid;
  for (const char* known : kStateNames) {
    std::string lower = absl::AsciiStrToLower(known);
    if (lower == name) {
      return name;
    }
    if (lower != "unknown") {
      valid.push_back(lower);
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "state \"", state, "\": not a socket state; use one of ", absl::StrJoin(valid, ", ")));
}

void AddStateSummary(nslab::v1::SocketsResponse* list) {
  std::map<std::string, uint32_t> counts;
  for (const auto& socket : list->sockets()) {
    ++counts[socket.state()];
  }
  std::vector<std::pair<std::string, uint32_t>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  for (const auto& [name, count] : sorted) {
    auto* out = list->add_summary();
    out->set_state(name);
    out->set_count(count);
  }
}

absl::StatusOr<std::string> CheckedFilterState(const SocketFilter& filter) {
  std::string state;
  if (!filter.state.empty()) {
    auto normal = NormaliseState(filter.state);
    if (!normal.ok()) {
      return normal.status();
    }
    state = *normal;
  }
  if (!filter.protocol.empty() && filter.protocol != "tcp" && filter.protocol != "udp") {
    return absl::InvalidArgumentError(
        absl::StrCat("protocol \"", filter.protocol, "\": use tcp or udp"));
  }
  return state;
}

absl::StatusOr<nslab::v1::SocketsResponse> ListSockets(int netns_fd, const SocketFilter& filter) {
  auto checked = CheckedFilterState(filter);
  if (!checked.ok()) {
    return checked.status();
  }
  const std::string state = *std::move(checked);
  UniqueFd sock;
  auto opened = netns::RunIn(netns_fd, [&] {
    sock = UniqueFd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
    return sock.valid() ? absl::OkStatus() : ErrnoStatus("open NETLINK_SOCK_DIAG", errno);
  });
  if (!opened.ok()) {
    return opened;
  }
  std::vector<nslab::v1::Socket> all;
  for (uint8_t protocol : {IPPROTO_TCP, IPPROTO_UDP}) {
    if (!filter.protocol.empty() && filter.protocol != (protocol == IPPROTO_TCP ? "tcp" : "udp")) {
      continue;
    }
    for (uint8_t family : {AF_INET, AF_INET6}) {
      if (auto status = Dump(sock.get(), family, protocol, &all); !status.ok()) {
        return status;
      }
    }
  }
  const auto owners = SocketOwners(netns_fd);
  std::map<std::string, std::string> interface_names;
  for (const auto& socket : all) {
    if (!socket.interface().empty()) {
      interface_names[socket.interface()] = socket.interface();
    }
  }
  if (!interface_names.empty()) {
    (void)netns::RunIn(netns_fd, [&] {
      for (auto& [index, name] : interface_names) {
        char text[IF_NAMESIZE] = {};
        if (::if_indextoname(std::stoul(index), text) != nullptr) {
          name = text;
        }
      }
      return absl::OkStatus();
    });
  }
  nslab::v1::SocketsResponse list;
  for (auto& socket : all) {
    if (!state.empty() && absl::AsciiStrToLower(socket.state()) != state) {
      continue;
    }
    if (filter.port != 0 && socket.local_port() != filter.port &&
        socket.peer_port() != filter.port) {
      continue;
    }
    if (auto it = owners.find(socket.inode()); it != owners.end() && socket.inode() != 0) {
      for (const auto& owner : it->second) {
        auto* out = socket.add_owners();
        out->set_pid(owner.pid);
        out->set_comm(owner.comm);
        out->set_fd(owner.fd);
      }
    }
    if (!socket.interface().empty()) {
      socket.set_interface(interface_names[socket.interface()]);
    }
    *list.add_sockets() = std::move(socket);
  }
  AddStateSummary(&list);
  return list;
}

}  // namespace nslab::diag
