#include "daemon/ustack/apps/tcp_discard.h"

namespace nslab::ustack::apps {

absl::StatusOr<std::unique_ptr<TcpDiscard>> TcpDiscard::start(tcp::Tcp& tcp, std::uint16_t port) {
  std::unique_ptr<TcpDiscard> discard(new TcpDiscard(tcp));
  if (absl::Status status = discard->listen(port); !status.ok()) {
    return status;
  }
  return discard;
}

bool drain_and_drop(tcp::Tcp& tcp, tcp::SocketId connection) {
  std::byte sink[16 * 1024];
  for (;;) {
    const absl::StatusOr<std::size_t> read = tcp.read(connection, sink, tcp.now());
    if (!read.ok()) {
      return !absl::IsUnavailable(read.status());
    }
    if (*read == 0) {
      return true;
    }
  }
}

void TcpDiscard::serve(tcp::SocketId connection, std::uint8_t /*events*/) {
  if (drain_and_drop(tcp_, connection)) {
    finish(connection);
  }
}

}  // namespace nslab::ustack::apps
