#include "daemon/netlink/route_socket.h"

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "absl/strings/str_cat.h"
#include "daemon/netns/netns.h"

namespace nslab::netlink {

absl::Status NlStatus(absl::string_view what, int nl_error) {
  if (nl_error >= 0) {
    return absl::OkStatus();
  }
  const int code = -nl_error;
  auto message = absl::StrCat(what, ": ", nl_geterror(nl_error));
  switch (code) {
    case NLE_EXIST:
      return absl::AlreadyExistsError(message);
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
      return absl::NotFoundError(message);
    case NLE_PERM:
      return absl::PermissionDeniedError(message);
    case NLE_INVAL:
    case NLE_RANGE:
    case NLE_AF_NOSUPPORT:
      return absl::InvalidArgumentError(message);
    case NLE_OPNOTSUPP:
      return absl::FailedPreconditionError(message);
    case NLE_BUSY:
    case NLE_AGAIN:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

int SendAndWaitForAck(const RouteSocket& sock, nl_msg* msg) {
  int err = nl_send_auto(sock.get(), msg);
  return err < 0 ? err : nl_wait_for_ack(sock.get());
}

void RouteSocket::Free::operator()(nl_sock* sock) const { nl_socket_free(sock); }

absl::StatusOr<RouteSocket> RouteSocket::OpenHere() {
  nl_sock* sock = nl_socket_alloc();
  if (sock == nullptr) {
    return absl::ResourceExhaustedError("nl_socket_alloc failed");
  }
  RouteSocket result(sock);
  if (int err = nl_connect(sock, NETLINK_ROUTE); err < 0) {
    return NlStatus("connect NETLINK_ROUTE", err);
  }
  // Replies to large dumps (hundreds of links) must not be truncated.
  nl_socket_set_buffer_size(sock, 1 << 20, 1 << 20);
  nl_socket_set_msg_buf_size(sock, 1 << 16);
  return result;
}

absl::StatusOr<RouteSocket> RouteSocket::OpenIn(int netns_fd) {
  absl::StatusOr<RouteSocket> result = absl::UnknownError("not opened");
  auto status = netns::RunIn(netns_fd, [&] {
    result = OpenHere();
    return result.status();
  });
  if (!status.ok()) {
    return status;
  }
  return result;
}

}  // namespace nslab::netlink
