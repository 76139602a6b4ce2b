#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <utility>

namespace nslab::testing {

// The link changes the kernel announces in one network namespace (RTM_NEWLINK on
// RTNLGRP_LINK), so that a test waits on a transition itself instead of sleeping past it.
// The subscription is in place when the constructor returns: no change after it is missed.
class LinkWatch {
 public:
  // `netns` is an `ip netns` name (a bind mount under /run/netns).
  explicit LinkWatch(const std::string& netns);
  ~LinkWatch();
  LinkWatch(const LinkWatch&) = delete;
  LinkWatch& operator=(const LinkWatch&) = delete;

  // Empty when the subscription works; else what failed.
  const std::string& error() const { return error_; }

  struct Change {
    bool admin_up = false;  // IFF_UP: `ip link set up`
    bool lower_up = false;  // IFF_LOWER_UP: carrier
  };
  // The next announced state of `interface`, or nothing if none comes within `timeout`.
  std::optional<Change> Next(const std::string& interface, std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::string error_;
  std::deque<std::pair<std::string, Change>> pending_;  // read, not yet asked for
};

}  // namespace nslab::testing
