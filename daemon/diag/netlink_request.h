#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/common/fd.h"

namespace nslab::diag {

// A netlink request built by hand: the header, one fixed struct, then attributes.
class NetlinkMessage {
 public:
  NetlinkMessage(uint16_t type, uint16_t flags);

  template <typename T>
  void AppendFixed(const T& fixed) {
    Append(&fixed, sizeof(fixed));
  }
  void AddAttribute(uint16_t type, const void* data, size_t len);
  void AddU32(uint16_t type, uint32_t value) { AddAttribute(type, &value, sizeof(value)); }
  void AddString(uint16_t type, const std::string& value) {
    AddAttribute(type, value.c_str(), value.size() + 1);
  }

  // The finished message (nlmsg_len set).
  const std::vector<char>& bytes();

 private:
  void Append(const void* data, size_t len);
  std::vector<char> bytes_;
};

// A raw netlink socket opened inside a namespace; used for the requests libnl has no
// helper for (route get with fibmatch, rules, sock_diag, nfnetlink trace events).
class NetlinkChannel {
 public:
  static absl::StatusOr<NetlinkChannel> OpenIn(int netns_fd, int protocol);

  // Sends `request` and hands each reply message to `on_message` until the dump ends, the
  // ack arrives or (without NLM_F_DUMP/ACK) the single answer came. Returns the kernel's
  // errno for a refused request (0 on success); a failed send/recv is an error status.
  absl::StatusOr<int> Transact(NetlinkMessage& request,
                               const std::function<void(const nlmsghdr*)>& on_message);

  int fd() const { return fd_.get(); }

 private:
  explicit NetlinkChannel(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  uint32_t seq_ = 1;
};

// Walks the rtattr list that follows a fixed struct of `fixed_len` bytes in `header`.
void ForEachAttribute(const nlmsghdr* header, size_t fixed_len,
                      const std::function<void(uint16_t type, const void* data, size_t len)>& fn);
// Walks a nested attribute payload.
void ForEachNested(const void* data, size_t len,
                   const std::function<void(uint16_t type, const void* data, size_t len)>& fn);

}  // namespace nslab::diag
