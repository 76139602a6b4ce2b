#pragma once

// RFC 863 discard over TCP: everything received is read and dropped; the connection closes when
// the client closes its side.

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "daemon/ustack/apps/tcp_server.h"

namespace nslab::ustack::apps {

class TcpDiscard final : public TcpServer {
 public:
  static absl::StatusOr<std::unique_ptr<TcpDiscard>> start(tcp::Tcp& tcp, std::uint16_t port);

 private:
  explicit TcpDiscard(tcp::Tcp& tcp) : TcpServer(tcp) {}
  void serve(tcp::SocketId connection, std::uint8_t events) override;
};

}  // namespace nslab::ustack::apps
