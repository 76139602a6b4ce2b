#include "daemon/ustack/apps/read_pacer.h"

#include <algorithm>
#include <chrono>

namespace nslab::ustack::apps {
namespace {

using Nanos = std::chrono::nanoseconds;
constexpr unsigned __int128 kNanosPerSecond = 1'000'000'000;

}  // namespace

ReadPacer::ReadPacer(std::uint64_t rate, tcp::Instant now)
    : rate_(std::max<std::uint64_t>(rate, 1)),
      burst_(std::max<std::uint64_t>(rate_ / 10, 1)),
      quantum_(std::max<std::uint64_t>(rate_ / 50, 1)),
      tokens_(quantum_),
      credited_until_(now) {}

void ReadPacer::refill(tcp::Instant now) {
  if (now <= credited_until_) {
    return;
  }
  const auto elapsed = static_cast<unsigned __int128>(
      std::chrono::duration_cast<Nanos>(now - credited_until_).count());
  const unsigned __int128 accrued = elapsed * rate_ / kNanosPerSecond;
  if (tokens_ + accrued >= burst_) {
    tokens_ = burst_;
    credited_until_ = now;
    return;
  }
  tokens_ += static_cast<std::uint64_t>(accrued);
  // Only the whole bytes' time is used up: the fraction carries over to the next refill.
  credited_until_ += Nanos(static_cast<Nanos::rep>(accrued * kNanosPerSecond / rate_));
}

std::size_t ReadPacer::allowance(tcp::Instant now) {
  refill(now);
  return static_cast<std::size_t>(tokens_);
}

void ReadPacer::consume(std::size_t bytes) { tokens_ -= std::min<std::uint64_t>(bytes, tokens_); }

tcp::Instant ReadPacer::ready_at() const {
  if (tokens_ >= quantum_) {
    return credited_until_;
  }
  const unsigned __int128 missing = quantum_ - tokens_;
  // Rounded up, so that the bytes have accrued when the reader wakes.
  const auto wait = static_cast<Nanos::rep>((missing * kNanosPerSecond + rate_ - 1) / rate_);
  return credited_until_ + Nanos(wait);
}

absl::StatusOr<std::size_t> paced_read(tcp::Tcp& tcp, tcp::SocketId socket,
                                       packet::MutableBytes out, ReadPacer& pacer,
                                       bool* held_back) {
  *held_back = false;
  const std::size_t allowance = pacer.allowance(tcp.now());
  if (allowance == 0 && !out.empty()) {
    const absl::StatusOr<tcp::TcpSocketInfo> info = tcp.info(socket);
    if (info.ok() && info->recv_q > 0) {
      *held_back = true;
      return absl::UnavailableError("slow-read: the pace holds the rest back");
    }
    // Nothing waits: the end of the stream, an error or EAGAIN, which cost nothing.
    return tcp.read(socket, out, tcp.now());
  }
  const absl::StatusOr<std::size_t> read =
      tcp.read(socket, out.first(std::min(out.size(), allowance)), tcp.now());
  if (read.ok()) {
    pacer.consume(*read);
  }
  return read;
}

}  // namespace nslab::ustack::apps
