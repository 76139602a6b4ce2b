#include "tests/integration/ustack/many_connections.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace nslab::ustack::testing {
namespace {

using Clock = std::chrono::steady_clock;

absl::Status ErrnoError(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

int MillisecondsLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::int64_t>(left.count(), 0));
}

// Connects `sockets` (non-blocking, created in the namespace) at once and waits for them all.
absl::Status ConnectWave(std::vector<Fd>& sockets, std::size_t first, const sockaddr_in& to,
                         std::chrono::milliseconds timeout) {
  std::vector<pollfd> pending;
  for (std::size_t i = first; i < sockets.size(); ++i) {
    if (::connect(sockets[i].get(), reinterpret_cast<const sockaddr*>(&to), sizeof(to)) != 0 &&
        errno != EINPROGRESS) {
      return ErrnoError(absl::StrCat("connect #", i));
    }
    pending.push_back({sockets[i].get(), POLLOUT, 0});
  }
  const Clock::time_point deadline = Clock::now() + timeout;
  std::size_t done = 0;
  while (done < pending.size()) {
    const int ready =
        ::poll(pending.data(), static_cast<nfds_t>(pending.size()), MillisecondsLeft(deadline));
    if (ready < 0 && errno != EINTR) {
      return ErrnoError("poll");
    }
    if (ready == 0) {
      return absl::DeadlineExceededError(
          absl::StrCat(pending.size() - done, " of a wave of ", pending.size(),
                       " connects still pending after ", timeout.count(), " ms"));
    }
    for (pollfd& entry : pending) {
      if (entry.fd < 0 || entry.revents == 0) {
        continue;
      }
      int error = 0;
      socklen_t len = sizeof(error);
      ::getsockopt(entry.fd, SOL_SOCKET, SO_ERROR, &error, &len);
      if (error != 0) {
        return absl::InternalError(absl::StrCat("connect: ", std::strerror(error)));
      }
      entry.fd = -1;  // poll skips it from now on
      ++done;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RaiseOpenFilesLimit(std::size_t needed) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return ErrnoError("getrlimit");
  }
  if (limit.rlim_cur >= needed) {
    return absl::OkStatus();
  }
  limit.rlim_cur = needed;
  limit.rlim_max = std::max<rlim_t>(limit.rlim_max, needed);
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return ErrnoError(absl::StrCat("setrlimit RLIMIT_NOFILE ", needed));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Fd>> OpenConnections(const std::string& ns, const std::string& ip,
                                                std::uint16_t port, const ConnectOptions& options) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  if (::inet_pton(AF_INET, ip.c_str(), &to.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("not an IPv4 address: ", ip));
  }
  absl::StatusOr<std::vector<Fd>> result = absl::InternalError("not run");
  // A thread of its own enters the namespace, so that the caller's thread never switches; the
  // sockets stay in the namespace they were made in.
  std::thread([&] {
    const int ns_fd = ::open(absl::StrCat("/run/netns/", ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns_fd < 0 || ::setns(ns_fd, CLONE_NEWNET) != 0) {
      result = ErrnoError("enter " + ns);
      if (ns_fd >= 0) {
        ::close(ns_fd);
      }
      return;
    }
    ::close(ns_fd);
    std::vector<Fd> sockets;
    sockets.reserve(options.count);
    const std::size_t wave = std::max<std::size_t>(options.wave, 1);
    for (std::size_t first = 0; first < options.count; first += wave) {
      const std::size_t end = std::min(options.count, first + wave);
      for (std::size_t i = first; i < end; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
          result = ErrnoError(absl::StrCat("socket #", i));
          return;
        }
        sockets.emplace_back(fd);
      }
      if (absl::Status status = ConnectWave(sockets, first, to, options.timeout); !status.ok()) {
        result =
            absl::Status(status.code(), absl::StrCat("connections ", first, "-", end - 1, " to ",
                                                     ip, ":", port, ": ", status.message()));
        return;
      }
    }
    for (const Fd& socket : sockets) {
      ::fcntl(socket.get(), F_SETFL, ::fcntl(socket.get(), F_GETFL) & ~O_NONBLOCK);
    }
    result = std::move(sockets);
  }).join();
  return result;
}

absl::Status EchoOnEach(const std::vector<Fd>& sockets, const std::string& message,
                        std::chrono::milliseconds timeout, std::size_t wave) {
  const Clock::time_point deadline = Clock::now() + timeout;
  std::string echoed(message.size(), '\0');
  wave = std::max<std::size_t>(wave, 1);
  for (std::size_t first = 0; first < sockets.size(); first += wave) {
    const std::size_t end = std::min(sockets.size(), first + wave);
    for (std::size_t i = first; i < end; ++i) {
      if (::send(sockets[i].get(), message.data(), message.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(message.size())) {
        return ErrnoError(absl::StrCat("send on connection #", i));
      }
    }
    for (std::size_t i = first; i < end; ++i) {
      std::size_t got = 0;
      while (got < message.size()) {
        pollfd entry{sockets[i].get(), POLLIN, 0};
        if (::poll(&entry, 1, MillisecondsLeft(deadline)) != 1) {
          return absl::DeadlineExceededError(
              absl::StrCat("no echo on connection #", i, " within ", timeout.count(), " ms"));
        }
        const ssize_t n = ::recv(sockets[i].get(), echoed.data() + got, message.size() - got, 0);
        if (n <= 0) {
          return n == 0 ? absl::InternalError(absl::StrCat("connection #", i, " closed"))
                        : ErrnoError(absl::StrCat("recv on connection #", i));
        }
        got += static_cast<std::size_t>(n);
      }
      if (echoed != message) {
        return absl::InternalError(absl::StrCat("connection #", i, " echoed \"", echoed, "\""));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::uint64_t> ResidentBytes(pid_t pid) {
  const std::string status = ReadFile(absl::StrCat("/proc/", pid, "/status"));
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (absl::ConsumePrefix(&line, "VmRSS:")) {
      line = absl::StripAsciiWhitespace(line);
      absl::ConsumeSuffix(&line, " kB");
      std::uint64_t kib = 0;
      if (absl::SimpleAtoi(line, &kib)) {
        return kib * 1024;
      }
    }
  }
  return absl::NotFoundError(absl::StrCat("no VmRSS in /proc/", pid, "/status"));
}

}  // namespace nslab::ustack::testing
