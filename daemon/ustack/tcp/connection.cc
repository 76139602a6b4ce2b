#include "daemon/ustack/tcp/connection.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace nslab::ustack::tcp {

Connection::Connection(ConnectionHost& host, SocketId id, const FourTuple& tuple,
                       const SocketOptions& options, std::unique_ptr<CongestionControl> congestion,
                       std::uint16_t our_mss, SeqNumber iss)
    : host_(host),
      id_(id),
      tuple_(tuple),
      options_(options),
      congestion_(std::move(congestion)),
      iss_(iss),
      snd_una_(iss),
      snd_nxt_(iss),
      snd_max_(iss),
      data_seq_(iss + 1),
      send_buffer_(options.send_buffer_size),
      receive_buffer_(options.receive_buffer_size),
      our_mss_(our_mss),
      ts_offset_(iss.value()),
      rtt_(host.config().initial_rto, host.config().min_rto, host.config().max_rto),
      high_rxt_(iss) {
  const TcpConfig& config = host.config();
  offered_.mss = our_mss;
  if (config.window_scaling) {
    offered_.window_shift = window_shift_for(options.receive_buffer_size);
  }
  offered_.sack_permitted = config.sack;
  offered_.timestamps = config.timestamps;
}

void Connection::open_active(Instant now) {
  set_state(TcpState::kSynSent);
  ++host_.mutable_counters().active_opens;
  send_syn(now);
  arm_retransmit(now);
}

void Connection::open_passive(const packet::TcpRepr& syn, SocketId listener, Instant now) {
  listener_ = listener;
  adopt_peer_syn(syn);
  const OfferedOptions theirs = offered_by(syn);
  negotiated_ = negotiate(offered_, theirs);
  offered_ = answer_to(offered_, theirs);
  congestion_->set_mss(negotiated_.send_mss);
  set_state(TcpState::kSynReceived);
  ++host_.mutable_counters().passive_opens;
  send_syn(now);
  arm_retransmit(now);
}

void Connection::adopt_peer_syn(const packet::TcpRepr& syn) {
  irs_ = SeqNumber(syn.seq_number);
  receive_buffer_.reset(irs_ + 1);
  rcv_adv_ = irs_ + 1;
  if (syn.timestamps) {
    ts_recent_ = syn.timestamps->value;
  }
  // A SYN's window is never scaled (RFC 7323 2.2).
  snd_wnd_ = syn.window_len;
  max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
  snd_wl1_ = irs_;
  snd_wl2_ = SeqNumber(syn.ack_number);
}

std::size_t Connection::write(packet::ConstBytes data, bool more, Instant now) {
  if (fin_queued_ || (state_ != TcpState::kSynSent && state_ != TcpState::kSynReceived &&
                      state_ != TcpState::kEstablished && state_ != TcpState::kCloseWait)) {
    return 0;
  }
  const std::size_t accepted = send_buffer_.append(data);
  // A write refused for want of room says nothing about the message (Linux pushes only after
  // copying something); an empty one is how an application ends a message it flagged `more`.
  if (accepted > 0 || data.empty()) {
    more_ = more;
  }
  output(now);
  return accepted;
}

std::size_t Connection::read(packet::MutableBytes out) {
  const std::size_t len = receive_buffer_.read(out);
  if (len > 0) {
    maybe_send_window_update();
    release_finished_buffers();
  }
  return len;
}

void Connection::shutdown_send(Instant now) {
  if (fin_queued_ || state_ == TcpState::kClosed) {
    return;
  }
  fin_queued_ = true;
  if (state_ == TcpState::kEstablished) {
    set_state(TcpState::kFinWait1);
  } else if (state_ == TcpState::kCloseWait) {
    set_state(TcpState::kLastAck);
  }
  // In SYN_SENT and SYN_RECEIVED the FIN waits for the handshake (see set_state).
  output(now);
}

void Connection::close(Instant now) {
  orphaned_ = true;
  if (state_ == TcpState::kClosed) {
    return;
  }
  if (state_ == TcpState::kSynSent) {
    // RFC 9293 3.10.4: nothing was agreed; the TCB goes without a word.
    enter_closed(absl::OkStatus());
    return;
  }
  if (receive_buffer_.readable() > 0) {
    ++host_.mutable_counters().aborts_on_close;
    abort(now);
    return;
  }
  shutdown_send(now);
  if (state_ == TcpState::kFinWait2) {
    linger_deadline_ = now + host_.config().fin_wait_2_timeout;
  }
}

void Connection::abort(Instant now) {
  if (state_ == TcpState::kClosed) {
    return;
  }
  if (state_ != TcpState::kSynSent) {
    send_reset(now);
  }
  enter_closed(absl::AbortedError("connection aborted"));
}

bool Connection::accepts_new_incarnation(const packet::TcpRepr& syn) const {
  namespace flag = packet::tcp_flag;
  if (state_ != TcpState::kTimeWait ||
      (syn.flags & (flag::kSyn | flag::kAck | flag::kRst)) != flag::kSyn) {
    return false;
  }
  const bool timestamped = negotiated_.timestamps && syn.timestamps;
  const auto ts_age =
      timestamped ? static_cast<std::int32_t>(syn.timestamps->value - ts_recent_) : 0;
  if (ts_age < 0) {
    return false;  // PAWS: older than the last segment of the old incarnation
  }
  return SeqNumber(syn.seq_number) > rcv_nxt() || ts_age > 0;
}

void Connection::end_time_wait() {
  if (state_ == TcpState::kTimeWait) {
    enter_closed(absl::OkStatus());
  }
}

void Connection::set_options(const SocketOptions& options, Instant now) {
  if (options.send_buffer_size != options_.send_buffer_size) {
    send_buffer_.set_capacity(options.send_buffer_size);
  }
  if (options.receive_buffer_size != options_.receive_buffer_size) {
    receive_buffer_.set_capacity(options.receive_buffer_size);
  }
  // tcp(7): setting TCP_NODELAY flushes what is queued even while TCP_CORK stays set; later
  // writes are corked again. Clearing TCP_CORK sends what it held, under Nagle unless
  // TCP_NODELAY is set (Linux's tcp_push_pending_frames on uncork).
  const bool push = options.no_delay && !options_.no_delay;
  options_ = options;
  restart_keep_alive(now);
  output(now, push);
}

void Connection::set_fault_policy(const FaultPolicy& policy, Instant now) {
  const bool window_reopens = fault_.zero_window && !policy.zero_window;
  fault_ = policy;
  if (state_ == TcpState::kClosed || charge_byte_budget(0, now)) {
    return;
  }
  if (window_reopens && (is_synchronized(state_) || state_ == TcpState::kSynReceived)) {
    send_ack(now);  // the peer sits in persist: tell it the window is open again
  }
  output(now);
}

std::size_t Connection::byte_budget_left() const {
  if (fault_.reset_after_bytes == 0) {
    return std::numeric_limits<std::size_t>::max();
  }
  return fault_.reset_after_bytes > bytes_moved_
             ? static_cast<std::size_t>(fault_.reset_after_bytes - bytes_moved_)
             : 0;
}

bool Connection::charge_byte_budget(std::uint64_t bytes, Instant now) {
  bytes_moved_ += bytes;
  if (fault_.reset_after_bytes == 0 || bytes_moved_ < fault_.reset_after_bytes ||
      state_ == TcpState::kClosed) {
    return false;
  }
  if (state_ != TcpState::kSynSent) {
    send_reset(now);
  }
  enter_closed(absl::AbortedError(
      absl::StrCat("connection reset by the reset-after fault after ", bytes_moved_, " bytes")));
  return true;
}

bool Connection::writable() const {
  return (state_ == TcpState::kEstablished || state_ == TcpState::kCloseWait) && !fin_queued_ &&
         send_buffer_.free_space() > 0;
}

TcpSocketInfo Connection::info() const {
  TcpSocketInfo info;
  info.id = id_;
  info.local = tuple_.local;
  info.remote = tuple_.remote;
  info.state = state_;
  info.send_q = send_buffer_.size();
  info.recv_q = receive_buffer_.readable();
  info.rtt = rtt_.srtt();
  info.rttvar = rtt_.rttvar();
  info.rto = rtt_.rto();
  info.mss = negotiated_.send_mss;
  info.cwnd = congestion_->cwnd();
  info.ssthresh = congestion_->ssthresh();
  info.send_window = snd_wnd_;
  info.send_window_shift = negotiated_.send_window_shift;
  info.receive_window_shift = negotiated_.receive_window_shift;
  info.timestamps = negotiated_.timestamps;
  info.sack = negotiated_.sack;
  info.retransmits = retransmits_;
  info.backoff = rtt_.backoff_count();
  info.orphaned = orphaned_;
  info.no_delay = options_.no_delay;
  info.cork = options_.cork;
  info.buffer_bytes = buffer_memory();
  return info;
}

void Connection::set_state(TcpState state) {
  state_ = state;
  if (state == TcpState::kEstablished) {
    if (listener_) {
      host_.connection_established(*this);
    }
    notify(socket_event::kWritable);
    // A shutdown asked for during the handshake takes effect now.
    if (fin_queued_) {
      state_ = TcpState::kFinWait1;
    }
  }
}

void Connection::notify(std::uint8_t events) { host_.notify(id_, events); }

void Connection::release_finished_buffers() {
  if (fin_received_ || state_ == TcpState::kClosed) {
    receive_buffer_.release_if_empty();
  }
  if (fin_queued_ || state_ == TcpState::kClosed) {
    send_buffer_.release_if_empty();
  }
}

SeqNumber Connection::rcv_nxt() const {
  return receive_buffer_.rcv_nxt() + (fin_received_ ? 1u : 0u);
}

SeqNumber Connection::data_end() const {
  return data_seq_ + static_cast<std::uint32_t>(send_buffer_.size());
}

bool Connection::fin_acked() const { return fin_queued_ && snd_una_ == fin_seq() + 1; }

}  // namespace nslab::ustack::tcp
