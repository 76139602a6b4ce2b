#pragma once

// RFC 862 echo over TCP: every byte received is sent back. Reading stops while the send buffer
// is full, so a client that does not read sees its window close rather than data dropped. The
// connection closes once the client closed its side and everything was echoed.

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/ustack/apps/tcp_server.h"

namespace nslab::ustack::apps {

class TcpEcho final : public TcpServer {
 public:
  static absl::StatusOr<std::unique_ptr<TcpEcho>> start(tcp::Tcp& tcp, std::uint16_t port);

 private:
  struct Session {
    // Read, not yet taken by the send buffer (empty, and unallocated, while the peer reads).
    std::vector<std::byte> unsent;
    bool end_of_stream = false;
  };

  explicit TcpEcho(tcp::Tcp& tcp) : TcpServer(tcp) {}
  void serve(tcp::SocketId connection, std::uint8_t events) override;
  void forget(tcp::SocketId connection) override { sessions_.erase(connection); }

  std::map<tcp::SocketId, Session> sessions_;
};

}  // namespace nslab::ustack::apps
