#pragma once

// The two ends of a byte stream for tests: a source that writes a buffer as fast as the socket
// takes it (then shuts down), and a sink that reads everything into a buffer.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "daemon/ustack/tcp/tcp.h"

namespace nslab::ustack::tcp::testing {

// `size` bytes of a pattern that does not repeat with any small period.
std::vector<std::byte> pattern(std::size_t size, std::uint32_t seed);

class StreamSource {
 public:
  // Starts writing at once and on every writable event; shuts down after the last byte.
  StreamSource(Tcp& tcp, SocketId socket, std::vector<std::byte> data, const Instant& now,
               bool shut_down_at_end = true);
  std::size_t written() const { return written_; }
  bool finished() const { return written_ == data_.size(); }
  // Writes what the socket takes now (on writable events).
  void pump();

 private:
  Tcp& tcp_;
  SocketId socket_;
  std::vector<std::byte> data_;
  const Instant& now_;
  bool shut_down_at_end_;
  std::size_t written_ = 0;
  bool shut_down_ = false;
};

class StreamSink {
 public:
  // A socket has one readiness callback: a sink on the socket a source writes to passes the
  // writable events on to `source`.
  StreamSink(Tcp& tcp, SocketId socket, const Instant& now, StreamSource* source = nullptr);
  const std::vector<std::byte>& received() const { return received_; }
  bool end_of_stream() const { return end_of_stream_; }
  // Stops (and resumes) reading, to let the receive buffer fill.
  void pause(bool paused);

 private:
  void drain();

  Tcp& tcp_;
  SocketId socket_;
  const Instant& now_;
  StreamSource* source_;
  std::vector<std::byte> received_;
  bool end_of_stream_ = false;
  bool paused_ = false;
};

}  // namespace nslab::ustack::tcp::testing
