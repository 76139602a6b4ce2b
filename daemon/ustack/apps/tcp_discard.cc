#include "daemon/ustack/apps/tcp_discard.h"

namespace nslab::ustack::apps {

absl::StatusOr<std::unique_ptr<TcpDiscard>> TcpDiscard::start(tcp::Tcp& tcp, std::uint16_t port) {
  std::unique_ptr<TcpDiscard> discard(new TcpDiscard(tcp));
  if (absl::Status status = discard->listen(port); !status.ok()) {
    return status;
  }
  return discard;
}

void TcpDiscard::serve(tcp::SocketId connection, std::uint8_t /*events*/) {
  if (drain_and_drop(connection)) {
    finish(connection);
  }
}

}  // namespace nslab::ustack::apps
