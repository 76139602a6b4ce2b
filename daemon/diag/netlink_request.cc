#include "daemon/diag/netlink_request.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "daemon/common/errno_status.h"
#include "daemon/netns/netns.h"

namespace nslab::diag {

// The header is written into storage sized for it up front: growing an empty vector by
// resize() and then copying into it is a pattern GCC 12 at -O3 misreads as out of bounds.
NetlinkMessage::NetlinkMessage(uint16_t type, uint16_t flags) : bytes_(NLMSG_HDRLEN, 0) {
  nlmsghdr header{};
  header.nlmsg_type = type;
  header.nlmsg_flags = NLM_F_REQUEST | flags;
  std::memcpy(bytes_.data(), &header, sizeof(header));
}

void NetlinkMessage::Append(const void* data, size_t len) {
  const auto* begin = static_cast<const char*>(data);
  bytes_.insert(bytes_.end(), begin, begin + len);
  bytes_.resize(bytes_.size() + (NLMSG_ALIGN(len) - len), 0);
}

void NetlinkMessage::AddAttribute(uint16_t type, const void* data, size_t len) {
  rtattr attr{};
  attr.rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
  attr.rta_type = type;
  const size_t at = bytes_.size();
  bytes_.resize(at + RTA_SPACE(len), 0);
  std::memcpy(bytes_.data() + at, &attr, sizeof(attr));
  std::memcpy(bytes_.data() + at + RTA_LENGTH(0), data, len);
}

const std::vector<char>& NetlinkMessage::bytes() {
  reinterpret_cast<nlmsghdr*>(bytes_.data())->nlmsg_len = static_cast<uint32_t>(bytes_.size());
  return bytes_;
}

absl::StatusOr<NetlinkChannel> NetlinkChannel::OpenIn(int netns_fd, int protocol) {
  UniqueFd fd;
  auto status = netns::RunIn(netns_fd, [&] {
    fd = UniqueFd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol));
    return fd.valid() ? absl::OkStatus()
                      : ErrnoStatus(absl::StrCat("open netlink protocol ", protocol), errno);
  });
  if (!status.ok()) {
    return status;
  }
  const int on = 1;
  (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
  const int size = 1 << 20;
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  return NetlinkChannel(std::move(fd));
}

absl::StatusOr<int> NetlinkChannel::Transact(
    NetlinkMessage& request, const std::function<void(const nlmsghdr*)>& on_message) {
  const std::vector<char>& bytes = request.bytes();
  auto* header = reinterpret_cast<nlmsghdr*>(const_cast<char*>(bytes.data()));
  const uint32_t seq = seq_++;
  header->nlmsg_seq = seq;
  const bool multi =
      (header->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP || (header->nlmsg_flags & NLM_F_ACK) != 0;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd_.get(), bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof(kernel)) < 0) {
    return ErrnoStatus("netlink request", errno);
  }
  std::vector<char> buffer(1 << 16);
  while (true) {
    const ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoStatus("netlink reply", errno);
    }
    int left = static_cast<int>(n);
    for (auto* reply = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(reply, left);
         reply = NLMSG_NEXT(reply, left)) {
      if (reply->nlmsg_seq != seq) {
        continue;
      }
      if (reply->nlmsg_type == NLMSG_DONE) {
        return 0;
      }
      if (reply->nlmsg_type == NLMSG_ERROR) {
        return -static_cast<const nlmsgerr*>(NLMSG_DATA(reply))->error;
      }
      on_message(reply);
      if (!multi) {
        return 0;
      }
    }
  }
}

void ForEachNested(const void* data, size_t len,
                   const std::function<void(uint16_t, const void*, size_t)>& fn) {
  int left = static_cast<int>(len);
  for (auto* attr = static_cast<const rtattr*>(data); RTA_OK(attr, left);
       attr = RTA_NEXT(attr, left)) {
    fn(attr->rta_type & NLA_TYPE_MASK, RTA_DATA(attr), RTA_PAYLOAD(attr));
  }
}

void ForEachAttribute(const nlmsghdr* header, size_t fixed_len,
                      const std::function<void(uint16_t, const void*, size_t)>& fn) {
  const size_t start = NLMSG_LENGTH(NLMSG_ALIGN(fixed_len));
  if (header->nlmsg_len < start) {
    return;
  }
  ForEachNested(reinterpret_cast<const char*>(header) + start, header->nlmsg_len - start, fn);
}

}  // namespace nslab::diag
