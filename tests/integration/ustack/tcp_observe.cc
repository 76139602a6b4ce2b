#include "tests/integration/ustack/tcp_observe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace nslab::ustack::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string Endpoint(const sockaddr_in& address) {
  char ip[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &address.sin_addr, ip, sizeof(ip));
  return absl::StrCat(ip, ":", ntohs(address.sin_port));
}

}  // namespace

absl::StatusOr<int> PeerListen(UstackLab& lab, std::uint16_t port, int receive_buffer) {
  absl::StatusOr<int> fd = lab.PeerSocket(SOCK_STREAM);
  if (!fd.ok()) {
    return fd.status();
  }
  const int one = 1;
  ::setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (receive_buffer > 0) {
    // Set on the listener so that the accepted socket starts with it (and its window).
    ::setsockopt(*fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, kPeerIp, &address.sin_addr);
  if (::bind(*fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(*fd, 8) != 0) {
    ::close(*fd);
    return absl::InternalError(absl::StrCat("listen on ", kPeerIp, ":", port, " in the peer"));
  }
  return *fd;
}

int AcceptWithin(int listener, int timeout_ms) {
  pollfd poll_fd{listener, POLLIN, 0};
  if (::poll(&poll_fd, 1, timeout_ms) != 1) {
    return -1;
  }
  return ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
}

bool ReadToEnd(int fd, std::string& out, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  char buffer[64 * 1024];
  while (Clock::now() < deadline) {
    pollfd poll_fd{fd, POLLIN, 0};
    if (::poll(&poll_fd, 1, 100) < 0) {
      return false;
    }
    if (poll_fd.revents == 0) {
      continue;
    }
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n == 0) {
      return true;
    }
    if (n < 0) {
      if (errno == EAGAIN) {
        continue;
      }
      return false;
    }
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return false;
}

std::string LocalEndpoint(int fd) {
  sockaddr_in address{};
  socklen_t len = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &len);
  return Endpoint(address);
}

absl::Status PeerNft(UstackLab& lab, const std::string& chains) {
  const std::string path = lab.dir() + "/rules.nft";
  std::ofstream(path) << "table inet " << kNftTable << " {\n" << chains << "\n}\n";
  absl::StatusOr<std::string> loaded = lab.InPeer("nft -f " + path);
  return loaded.ok() ? absl::OkStatus() : loaded.status();
}

absl::Status PeerNftDelete(UstackLab& lab) {
  absl::StatusOr<std::string> deleted =
      lab.InPeer(absl::StrCat("nft delete table inet ", kNftTable));
  return deleted.ok() ? absl::OkStatus() : deleted.status();
}

std::string KernelState(UstackLab& lab, const std::string& local, const std::string& peer) {
  absl::StatusOr<std::string> table = lab.InPeer("ss -Htan");
  if (!table.ok()) {
    return "(ss failed)";
  }
  for (absl::string_view line : absl::StrSplit(*table, '\n')) {
    const std::vector<absl::string_view> columns =
        absl::StrSplit(line, ' ', absl::SkipWhitespace());
    // State Recv-Q Send-Q Local Peer
    if (columns.size() >= 5 && columns[3] == local && columns[4] == peer) {
      return std::string(columns[0]);
    }
  }
  return "";
}

std::string UstackState(const v1::UstackStats& stats, const std::string& local,
                        const std::string& remote) {
  for (const v1::UstackTcpSocket& socket : stats.tcp_sockets()) {
    if (socket.local() == local && socket.remote() == remote) {
      return socket.state();
    }
  }
  return "";
}

absl::Status ExpectStates(UstackLab& lab, const std::string& ustack_end,
                          const std::string& kernel_end, const std::string& ustack_state,
                          const std::string& kernel_state, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string ustack_seen, kernel_seen;
  for (;;) {
    absl::StatusOr<v1::UstackStats> stats = lab.Stats();
    ustack_seen = stats.ok() ? UstackState(*stats, ustack_end, kernel_end) : "(no stats)";
    kernel_seen = KernelState(lab, kernel_end, ustack_end);
    if (ustack_seen == ustack_state && kernel_seen == kernel_state) {
      return absl::OkStatus();
    }
    if (Clock::now() >= deadline) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  absl::StatusOr<std::string> ss = lab.InPeer("ss -tan");
  absl::StatusOr<v1::UstackStats> stats = lab.Stats();
  return absl::FailedPreconditionError(absl::StrCat(
      "expected ustack ", ustack_end, " \"", ustack_state, "\", kernel ", kernel_end, " \"",
      kernel_state, "\"; saw \"", ustack_seen, "\" and \"", kernel_seen, "\"\nss -tan in B:\n",
      ss.ok() ? *ss : "", "ustack sockets:\n", stats.ok() ? stats->DebugString() : ""));
}

absl::StatusOr<v1::UstackClient> WaitForClient(
    UstackLab& lab, const std::function<bool(const v1::UstackClient&)>& done, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  v1::UstackClient last;
  while (Clock::now() < deadline) {
    absl::StatusOr<v1::UstackStats> stats = lab.Stats();
    if (stats.ok() && stats->clients_size() > 0) {
      last = stats->clients(0);
      if (done(last)) {
        return last;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("the ustack's client did not get there; last report: ", last.DebugString()));
}

std::uint64_t Fnv1a64(const std::string& bytes) {
  std::uint64_t hash = 0xcbf29ce484222325;
  for (const char byte : bytes) {
    hash = (hash ^ static_cast<unsigned char>(byte)) * 0x100000001b3;
  }
  return hash;
}

std::string GeneratedBytes(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<char>(i % 251);
  }
  return bytes;
}

}  // namespace nslab::ustack::testing
