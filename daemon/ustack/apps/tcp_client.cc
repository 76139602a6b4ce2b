#include "daemon/ustack/apps/tcp_client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace nslab::ustack::apps {

namespace {
constexpr std::size_t kReadChunk = 64 * 1024;
}  // namespace

std::optional<TcpClient::Kind> TcpClient::kind_named(std::string_view name) {
  if (name == "source") {
    return Kind::kSource;
  }
  if (name == "sink") {
    return Kind::kSink;
  }
  if (name == "hold") {
    return Kind::kHold;
  }
  return std::nullopt;
}

TcpClient::TcpClient(tcp::Tcp& tcp, Kind kind, tcp::Endpoint server,
                     std::optional<std::uint64_t> bytes, std::string spec)
    : tcp_(tcp), kind_(kind), server_(server), bytes_(bytes) {
  report_.spec = std::move(spec);
}

TcpClient::~TcpClient() {
  if (socket_) {
    tcp_.close(*socket_, tcp_.now()).IgnoreError();
  }
}

std::optional<ClientReport> TcpClient::client_report() const {
  ClientReport report = report_;
  report.received_fnv1a64 = digest_.digest();
  return report;
}

std::optional<tcp::Instant> TcpClient::next_deadline() const {
  if (held_back_ && pacer_ && (!connect_at_ || pacer_->ready_at() < *connect_at_)) {
    return pacer_->ready_at();
  }
  return connect_at_;
}

void TcpClient::poll(tcp::Instant now) {
  if (connect_at_ && *connect_at_ <= now) {
    connect(now);
  }
  if (held_back_ && (!pacer_ || pacer_->ready_at() <= now)) {
    held_back_ = false;
    tcp_.poll(now);  // the stack's clock moves only with segments and timers; the pace reads it
    on_event();
  }
}

absl::Status TcpClient::set_fault(const FaultSpec& fault) {
  if (is_listener_fault(fault.mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("client ", report_.spec, ": ", mode_name(fault.mode),
                     " is a listening port's fault; a client takes close-wait, ignore-fin, "
                     "zero-window, slow-read or reset-after"));
  }
  fault_ = fault;
  pacer_.reset();
  if (socket_) {
    tcp_.set_fault_policy(*socket_, tcp_fault_policy(fault_), tcp_.now()).IgnoreError();
  }
  if (held_open_ && fault_.mode != FaultMode::kCloseWait) {
    held_open_ = false;
    end(report_.phase, report_.error, tcp_.now());
  }
  if (held_back_ && fault_.mode != FaultMode::kSlowRead) {
    held_back_ = false;
    on_event();
  }
  return absl::OkStatus();
}

void TcpClient::connect(tcp::Instant now) {
  connect_at_.reset();
  ++report_.connect_attempts;
  const absl::StatusOr<tcp::SocketId> socket = tcp_.connect(server_, 0, now);
  if (!socket.ok()) {
    // No route, or no port free: waiting would not change that.
    end(ClientReport::Phase::kFailed, std::string(socket.status().message()), now);
    return;
  }
  socket_ = *socket;
  tcp_.set_fault_policy(*socket_, tcp_fault_policy(fault_), now).IgnoreError();
  if (const absl::StatusOr<tcp::TcpSocketInfo> info = tcp_.info(*socket_); info.ok()) {
    report_.local = info->local.to_string();
  }
  tcp_.set_readiness_callback(*socket_, [this](tcp::SocketId, std::uint8_t) { on_event(); })
      .IgnoreError();
}

void TcpClient::on_event() {
  if (!socket_) {
    return;
  }
  const tcp::Instant now = tcp_.now();
  const absl::StatusOr<tcp::TcpState> state = tcp_.state(*socket_);
  if (!state.ok()) {
    return;
  }
  if (report_.phase == ClientReport::Phase::kConnecting) {
    if (*state == tcp::TcpState::kSynSent || *state == tcp::TcpState::kSynReceived) {
      return;
    }
    if (*state == tcp::TcpState::kClosed) {
      // The read reports why the handshake failed.
      std::byte probe[1];
      const absl::StatusOr<std::size_t> read = tcp_.read(*socket_, probe, now);
      connect_failed(read.ok() ? absl::UnavailableError("connection closed during the handshake")
                               : read.status(),
                     now);
      return;
    }
    report_.phase = ClientReport::Phase::kTransferring;
    report_.error.clear();
  }
  switch (kind_) {
    case Kind::kHold:
      // It does not read, so a reset or a timeout is the only end it notices.
      if (*state == tcp::TcpState::kClosed) {
        end(ClientReport::Phase::kFailed, "the connection was reset or timed out", now);
      }
      return;
    case Kind::kSink:
      if (receive(now) && end_of_stream_) {
        end(ClientReport::Phase::kDone, "", now);
      }
      return;
    case Kind::kSource:
      if (!receive(now)) {
        return;
      }
      if (end_of_stream_ && !bytes_ && !shut_down_ && fault_.mode != FaultMode::kCloseWait) {
        // Without a count, the peer's shutdown is the end of the stream we send.
        tcp_.shutdown(*socket_, now).IgnoreError();
        shut_down_ = true;
      }
      if (send(now) && shut_down_ && end_of_stream_) {
        end(ClientReport::Phase::kDone, "", now);
      }
      return;
  }
}

void TcpClient::connect_failed(absl::Status error, tcp::Instant now) {
  tcp_.close(*socket_, now).IgnoreError();
  socket_.reset();
  if (report_.connect_attempts >= kMaxConnectAttempts) {
    report_.phase = ClientReport::Phase::kFailed;
    report_.error = absl::StrCat("gave up after ", report_.connect_attempts,
                                 " connect attempts; the last: ", error.message());
    return;
  }
  report_.error = std::string(error.message());
  connect_at_ = now + retry_delay_;
  retry_delay_ = std::min(retry_delay_ * 2, kMaxRetryDelay);
}

bool TcpClient::receive(tcp::Instant now) {
  buffer_.resize(kReadChunk);
  while (!end_of_stream_) {
    bool held_back = false;
    if (fault_.mode == FaultMode::kSlowRead && !pacer_) {
      pacer_.emplace(fault_.rate, now);
    }
    const absl::StatusOr<std::size_t> read =
        pacer_ ? paced_read(tcp_, *socket_, buffer_, *pacer_, &held_back)
               : tcp_.read(*socket_, buffer_, now);
    if (held_back) {
      held_back_ = true;
      return true;
    }
    if (!read.ok()) {
      if (absl::IsUnavailable(read.status()) &&
          tcp_.state(*socket_).value_or(tcp::TcpState::kClosed) != tcp::TcpState::kClosed) {
        return true;
      }
      end(ClientReport::Phase::kFailed, std::string(read.status().message()), now);
      return false;
    }
    if (*read == 0) {
      end_of_stream_ = true;
      break;
    }
    const std::span<const std::byte> chunk(buffer_.data(), *read);
    digest_.update(chunk);
    if (report_.received_pattern_ok) {
      report_.received_pattern_ok = follows_pattern(chunk, report_.bytes_received);
    }
    report_.bytes_received += *read;
  }
  return true;
}

bool TcpClient::send(tcp::Instant now) {
  while (!shut_down_ && (!bytes_ || report_.bytes_sent < *bytes_)) {
    std::span<const std::byte> chunk = pattern_from(report_.bytes_sent);
    if (bytes_) {
      chunk = chunk.first(static_cast<std::size_t>(
          std::min<std::uint64_t>(chunk.size(), *bytes_ - report_.bytes_sent)));
    }
    const absl::StatusOr<std::size_t> written = tcp_.write(*socket_, chunk, now);
    if (!written.ok()) {
      if (absl::IsUnavailable(written.status())) {
        return true;  // the rest goes when the socket is writable again
      }
      end(ClientReport::Phase::kFailed, std::string(written.status().message()), now);
      return false;
    }
    report_.bytes_sent += *written;
  }
  if (!shut_down_) {
    tcp_.shutdown(*socket_, now).IgnoreError();
    shut_down_ = true;
  }
  return true;
}

void TcpClient::end(ClientReport::Phase phase, std::string error, tcp::Instant now) {
  report_.phase = phase;
  report_.error = std::move(error);
  if (socket_ && phase == ClientReport::Phase::kDone && fault_.mode == FaultMode::kCloseWait &&
      tcp_.state(*socket_).value_or(tcp::TcpState::kClosed) == tcp::TcpState::kCloseWait) {
    held_open_ = true;  // the leak: never closed, until the fault is cleared
    return;
  }
  if (socket_) {
    tcp_.close(*socket_, now).IgnoreError();
    socket_.reset();
  }
}

}  // namespace nslab::ustack::apps
