#pragma once

// slow-read's token bucket (fault.h): an app reads at most `rate` bytes per second of the
// stack's clock. Bytes accrue continuously, up to a tenth of a second's worth; a paced reader
// that was held back is woken once a fiftieth of a second's worth has accrued, so that reads
// come in steady small steps and the receive window closes and reopens the way a slow
// application makes it.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "daemon/ustack/packet/bytes.h"
#include "daemon/ustack/tcp/tcp.h"

namespace nslab::ustack::apps {

class ReadPacer {
 public:
  // `rate` > 0. Starts with a wake-up's worth of bytes.
  ReadPacer(std::uint64_t rate, tcp::Instant now);

  // How many bytes may be read at `now`.
  std::size_t allowance(tcp::Instant now);
  // `bytes` (at most the allowance) were read.
  void consume(std::size_t bytes);
  // When a reader held back should try again.
  tcp::Instant ready_at() const;

  std::uint64_t rate() const { return rate_; }

 private:
  void refill(tcp::Instant now);

  std::uint64_t rate_;
  std::uint64_t burst_;    // the most that accrues
  std::uint64_t quantum_;  // what a wake-up waits for
  std::uint64_t tokens_;
  tcp::Instant credited_until_;  // the bucket holds every byte accrued up to here
};

// Tcp::read at the pace's allowance. When the pace holds data back: UNAVAILABLE and
// `*held_back` set (the caller retries at pacer.ready_at()); the end of the stream and errors
// come through at once.
absl::StatusOr<std::size_t> paced_read(tcp::Tcp& tcp, tcp::SocketId socket,
                                       packet::MutableBytes out, ReadPacer& pacer, bool* held_back);

}  // namespace nslab::ustack::apps
