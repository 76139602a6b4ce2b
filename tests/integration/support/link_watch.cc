#include "tests/integration/support/link_watch.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace nslab::testing {

LinkWatch::LinkWatch(const std::string& netns) {
  const std::string path = "/run/netns/" + netns;
  const int ns = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0) {
    error_ = absl::StrCat("open ", path, ": ", std::strerror(errno));
    return;
  }
  // A netlink socket belongs to the namespace it was made in; only a thread of its own may
  // enter the node's namespace without moving the rest of the test with it.
  std::thread([&] {
    if (::setns(ns, CLONE_NEWNET) != 0) {
      error_ = absl::StrCat("setns ", path, ": ", std::strerror(errno));
      return;
    }
    fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd_ < 0) {
      error_ = absl::StrCat("netlink socket: ", std::strerror(errno));
      return;
    }
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    local.nl_groups = RTMGRP_LINK;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
      error_ = absl::StrCat("bind to RTMGRP_LINK: ", std::strerror(errno));
    }
  }).join();
  ::close(ns);
}

LinkWatch::~LinkWatch() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::optional<LinkWatch::Change> LinkWatch::Next(const std::string& interface,
                                                 std::chrono::milliseconds timeout) {
  if (!error_.empty()) {
    return std::nullopt;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<char> buffer(1 << 16);
  while (true) {
    // One datagram may carry several announcements: they wait here for the next calls.
    while (!pending_.empty()) {
      const auto [name, change] = pending_.front();
      pending_.pop_front();
      if (name == interface) {
        return change;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return std::nullopt;
    }
    pollfd ready{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
      continue;
    }
    const ssize_t got = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (got < 0) {
      // ENOBUFS: the kernel dropped announcements; what follows would be a guess.
      error_ = absl::StrCat("netlink recv: ", std::strerror(errno));
      return std::nullopt;
    }
    int len = static_cast<int>(got);
    for (auto* header = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(header, len);
         header = NLMSG_NEXT(header, len)) {
      if (header->nlmsg_type != RTM_NEWLINK) {
        continue;
      }
      const auto* info = static_cast<const ifinfomsg*>(NLMSG_DATA(header));
      int attributes_len = static_cast<int>(IFLA_PAYLOAD(header));
      for (auto* attribute = IFLA_RTA(info); RTA_OK(attribute, attributes_len);
           attribute = RTA_NEXT(attribute, attributes_len)) {
        if (attribute->rta_type == IFLA_IFNAME) {
          pending_.emplace_back(static_cast<const char*>(RTA_DATA(attribute)),
                                Change{.admin_up = (info->ifi_flags & IFF_UP) != 0,
                                       .lower_up = (info->ifi_flags & IFF_LOWER_UP) != 0});
        }
      }
    }
  }
}

}  // namespace nslab::testing
