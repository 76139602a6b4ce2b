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
  // First what an earlier pass read and the send buffer had no room for.
  while (!session.unsent.empty()) {
    const absl::StatusOr<std::size_t> written = tcp_.write(connection, session.unsent, tcp_.now());
    if (!written.ok()) {
      if (!absl::IsUnavailable(written.status())) {
        finish(connection);
      }
      return;  // the rest goes when the socket is writable again
    }
    session.unsent.erase(session.unsent.begin(),
                         session.unsent.begin() + static_cast<std::ptrdiff_t>(*written));
  }
  // Given back once sent: only a connection whose peer does not read holds any.
  session.unsent = {};
  // Read onto this call's stack, not into the session: an idle connection then holds no read
  // buffer (thousands may be open), and a callback that re-enters serve() has its own.
  std::byte chunk[kChunk];
  for (;;) {
    if (session.end_of_stream) {
      finish(connection);
      return;
    }
    const absl::StatusOr<std::size_t> read = TcpServer::read(connection, chunk);
    if (!read.ok()) {
      if (!absl::IsUnavailable(read.status())) {
        finish(connection);  // reset or timed out
      }
      return;
    }
    if (*read == 0) {
      session.end_of_stream = true;
      continue;
    }
    const packet::ConstBytes data(chunk, *read);
    const absl::StatusOr<std::size_t> written = tcp_.write(connection, data, tcp_.now());
    if (!written.ok() && !absl::IsUnavailable(written.status())) {
      finish(connection);
      return;
    }
    const std::size_t taken = written.ok() ? *written : 0;
    if (taken < data.size()) {
      session.unsent.assign(data.begin() + static_cast<std::ptrdiff_t>(taken), data.end());
      return;  // the rest goes when the socket is writable again
    }
  }
}

}  // namespace nslab::ustack::apps
