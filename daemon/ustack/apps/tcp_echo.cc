#include "daemon/ustack/apps/tcp_echo.h"

namespace nslab::ustack::apps {

namespace {
constexpr std::size_t kChunk = 16 * 1024;
}  // namespace

absl::StatusOr<std::unique_ptr<TcpEcho>> TcpEcho::start(tcp::Tcp& tcp, std::uint16_t port) {
  std::unique_ptr<TcpEcho> echo(new TcpEcho(tcp));
  if (absl::Status status = echo->listen(port); !status.ok()) {
    return status;
  }
  return echo;
}

void TcpEcho::serve(tcp::SocketId connection, std::uint8_t /*events*/) {
  Session& session = sessions_[connection];
  for (;;) {
    while (!session.unsent.empty()) {
      const absl::StatusOr<std::size_t> written =
          tcp_.write(connection, session.unsent, tcp_.now());
      if (!written.ok()) {
        if (!absl::IsUnavailable(written.status())) {
          finish(connection);
        }
        return;  // the rest goes when the socket is writable again
      }
      session.unsent.erase(session.unsent.begin(),
                           session.unsent.begin() + static_cast<std::ptrdiff_t>(*written));
    }
    if (session.end_of_stream) {
      finish(connection);
      return;
    }
    session.unsent.resize(kChunk);
    const absl::StatusOr<std::size_t> read = TcpServer::read(connection, session.unsent);
    if (!read.ok()) {
      session.unsent.clear();
      if (!absl::IsUnavailable(read.status())) {
        finish(connection);  // reset or timed out
      }
      return;
    }
    session.unsent.resize(*read);
    session.end_of_stream = *read == 0;
  }
}

}  // namespace nslab::ustack::apps
