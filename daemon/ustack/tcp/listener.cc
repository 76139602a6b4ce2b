#include "daemon/ustack/tcp/listener.h"

#include <algorithm>

namespace nslab::ustack::tcp {

void Listener::promote(SocketId connection) {
  if (syn_queue_.erase(connection) > 0) {
    accept_queue_.push_back(connection);
  }
}

void Listener::forget(SocketId connection) {
  syn_queue_.erase(connection);
  std::erase(accept_queue_, connection);
}

std::optional<SocketId> Listener::pop_accepted() {
  if (accept_queue_.empty()) {
    return std::nullopt;
  }
  const SocketId connection = accept_queue_.front();
  accept_queue_.pop_front();
  return connection;
}

}  // namespace nslab::ustack::tcp
