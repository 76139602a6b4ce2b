#pragma once

// RFC 864 character generator over TCP: from the moment the connection opens, lines of 72
// printable characters, each starting one character later in the ASCII cycle, for as long as
// the client reads. Whatever the client sends is dropped; its close ends the stream.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/ustack/apps/tcp_server.h"

namespace nslab::ustack::apps {

// One full cycle of the RFC 864 pattern: 95 lines of 72 characters and CR LF.
const std::vector<std::byte>& chargen_cycle();

class TcpChargen final : public TcpServer {
 public:
  static absl::StatusOr<std::unique_ptr<TcpChargen>> start(tcp::Tcp& tcp, std::uint16_t port);

 private:
  explicit TcpChargen(tcp::Tcp& tcp) : TcpServer(tcp) {}
  void serve(tcp::SocketId connection, std::uint8_t events) override;
  void forget(tcp::SocketId connection) override { offsets_.erase(connection); }

  std::map<tcp::SocketId, std::size_t> offsets_;  // where each stream is in the cycle
};

}  // namespace nslab::ustack::apps
