#include "tests/unit/ustack/tcp/stream_apps.h"

#include <random>

namespace nslab::ustack::tcp::testing {

std::vector<std::byte> pattern(std::size_t size, std::uint32_t seed) {
  std::mt19937 generator(seed);
  std::vector<std::byte> data(size);
  for (std::byte& value : data) {
    value = static_cast<std::byte>(generator());
  }
  return data;
}

StreamSource::StreamSource(Tcp& tcp, SocketId socket, std::vector<std::byte> data,
                           const Instant& now, bool shut_down_at_end)
    : tcp_(tcp),
      socket_(socket),
      data_(std::move(data)),
      now_(now),
      shut_down_at_end_(shut_down_at_end) {
  (void)tcp_.set_readiness_callback(socket_, [this](SocketId, std::uint8_t events) {
    if (events & socket_event::kWritable) {
      pump();
    }
  });
  pump();
}

void StreamSource::pump() {
  while (written_ < data_.size()) {
    const auto len = tcp_.write(socket_, std::span(data_).subspan(written_), now_);
    if (!len.ok() || *len == 0) {
      break;
    }
    written_ += *len;
  }
  if (finished() && shut_down_at_end_ && !shut_down_) {
    shut_down_ = true;
    (void)tcp_.shutdown(socket_, now_);
  }
}

StreamSink::StreamSink(Tcp& tcp, SocketId socket, const Instant& now, StreamSource* source)
    : tcp_(tcp), socket_(socket), now_(now), source_(source) {
  (void)tcp_.set_readiness_callback(socket_, [this](SocketId, std::uint8_t events) {
    if (events & socket_event::kReadable) {
      drain();
    }
    if ((events & socket_event::kWritable) && source_ != nullptr) {
      source_->pump();
    }
  });
  drain();
}

void StreamSink::pause(bool paused) {
  paused_ = paused;
  drain();
}

void StreamSink::drain() {
  std::byte chunk[16384];
  while (!paused_) {
    const auto len = tcp_.read(socket_, chunk, now_);
    if (!len.ok()) {
      return;
    }
    if (*len == 0) {
      end_of_stream_ = true;
      return;
    }
    received_.insert(received_.end(), chunk, chunk + *len);
  }
}

}  // namespace nslab::ustack::tcp::testing
