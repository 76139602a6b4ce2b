// The connection's timers: retransmission (RFC 6298, with the SYN's own retry limits), persist
// (zero-window probes), delayed ACK, keep-alive, TIME_WAIT and an orphan's FIN_WAIT_2, and the
// cork's ceiling.

#include <algorithm>

#include "daemon/ustack/tcp/connection.h"

namespace nslab::ustack::tcp {

namespace {
void consider(std::optional<Instant>& earliest, const std::optional<Instant>& deadline) {
  if (deadline && (!earliest || *deadline < *earliest)) {
    earliest = deadline;
  }
}
constexpr int kMaxPersistShift = 16;
}  // namespace

std::optional<Instant> Connection::next_deadline() const {
  std::optional<Instant> earliest;
  consider(earliest, retransmit_deadline_);
  consider(earliest, persist_deadline_);
  consider(earliest, delayed_ack_deadline_);
  consider(earliest, keep_alive_deadline_);
  consider(earliest, linger_deadline_);
  consider(earliest, cork_deadline_);
  return earliest;
}

void Connection::on_timers(Instant now) {
  if (linger_deadline_ && now >= *linger_deadline_) {
    linger_deadline_.reset();
    if (state_ == TcpState::kTimeWait) {
      ++host_.mutable_counters().time_wait_expired;
    }
    enter_closed(absl::OkStatus());
    return;
  }
  if (retransmit_deadline_ && now >= *retransmit_deadline_) {
    on_retransmit_timeout(now);
    if (state_ == TcpState::kClosed) {
      return;
    }
  }
  if (persist_deadline_ && now >= *persist_deadline_) {
    on_persist_timeout(now);
  }
  if (delayed_ack_deadline_ && now >= *delayed_ack_deadline_) {
    delayed_ack_deadline_.reset();
    ++host_.mutable_counters().delayed_acks;
    send_ack(now);
  }
  if (keep_alive_deadline_ && now >= *keep_alive_deadline_) {
    on_keep_alive_timeout(now);
  }
  if (cork_deadline_ && now >= *cork_deadline_) {
    // tcp(7): corked data waits at most this long; then it goes as if pushed.
    cork_deadline_.reset();
    push(now);
  }
}

void Connection::on_retransmit_timeout(Instant now) {
  retransmit_deadline_.reset();
  const TcpConfig& config = host_.config();
  TcpCounters& counters = host_.mutable_counters();
  if (state_ == TcpState::kSynSent || state_ == TcpState::kSynReceived) {
    const int limit = state_ == TcpState::kSynSent ? config.syn_retries : config.synack_retries;
    ++counters.timeouts;
    if (++consecutive_timeouts_ > limit) {
      ++counters.attempt_fails;
      ++counters.aborts_on_timeout;
      enter_closed(absl::DeadlineExceededError("connection timed out"));
      return;
    }
    rtt_.back_off();
    send_syn(now);
    arm_retransmit(now);
    return;
  }
  if (flight_size() == 0) {
    return;
  }
  ++counters.timeouts;
  // A peer that closed its window while our data was in flight (it shrank its buffer) is not
  // gone as long as it answers: these retransmissions are its window probes, and they do not
  // count toward giving up (Linux's tcp_retransmit_timer does the same).
  const bool peer_answering = now - last_ack_at_ < config.max_rto;
  if (snd_wnd_ == 0 && !orphaned_ && peer_answering) {
    ++counters.window_probes;
  } else if (++consecutive_timeouts_ > config.max_retransmits) {
    ++counters.aborts_on_timeout;
    send_reset(now);
    enter_closed(absl::DeadlineExceededError("connection timed out"));
    return;
  }
  congestion_->on_retransmit_timeout(snd_max_, flight_size());
  rtt_.back_off();
  timed_seq_.reset();
  // Go back to the first unacknowledged byte; the rest follows as ACKs open cwnd again. The
  // first segment goes even into a closed window (RFC 9293 3.8.1).
  snd_nxt_ = snd_una_;
  high_rxt_ = snd_una_;
  const std::size_t mss = max_payload_for(make_segment(snd_una_, packet::tcp_flag::kAck, now));
  const std::uint32_t covered = send_from(snd_una_, mss, now);
  if (snd_wnd_ > 0) {
    snd_nxt_ += covered;
  }
  // Into a closed window the segment is only a probe: SND.NXT stays, so that the window's
  // opening lets the data go at once rather than at the next timeout.
  arm_retransmit(now);
}

void Connection::on_persist_timeout(Instant now) {
  persist_deadline_.reset();
  if (flight_size() != 0 || data_end() <= snd_nxt_) {
    return;
  }
  if (snd_wnd_ == 0) {
    ++host_.mutable_counters().window_probes;
    send_probe(now);
  } else {
    // The window is open but too small for the silly-window rules: send what fits.
    snd_nxt_ += send_from(snd_nxt_, std::min<std::size_t>(snd_wnd_, byte_budget_left()), now);
    if (charge_byte_budget(0, now)) {
      return;
    }
  }
  persist_backoff_ = std::min(persist_backoff_ + 1, kMaxPersistShift);
  if (flight_size() == 0) {
    persist_deadline_ =
        now + std::min(rtt_.rto() * (std::int64_t{1} << persist_backoff_), host_.config().max_rto);
  }
}

void Connection::on_keep_alive_timeout(Instant now) {
  keep_alive_deadline_.reset();
  if (!options_.keep_alive ||
      (state_ != TcpState::kEstablished && state_ != TcpState::kCloseWait)) {
    return;
  }
  if (keep_alive_probes_sent_ >= options_.keep_alive_probes) {
    ++host_.mutable_counters().aborts_on_timeout;
    send_reset(now);
    enter_closed(absl::DeadlineExceededError("keep-alive timed out"));
    return;
  }
  ++keep_alive_probes_sent_;
  ++host_.mutable_counters().keep_alive_probes;
  send_probe(now);
  keep_alive_deadline_ = now + options_.keep_alive_interval;
}

void Connection::arm_retransmit(Instant now) { retransmit_deadline_ = now + rtt_.rto(); }

void Connection::restart_keep_alive(Instant now) {
  keep_alive_probes_sent_ = 0;
  if (options_.keep_alive && (state_ == TcpState::kEstablished || state_ == TcpState::kCloseWait)) {
    keep_alive_deadline_ = now + options_.keep_alive_idle;
  } else {
    keep_alive_deadline_.reset();
  }
}

void Connection::enter_time_wait(Instant now) {
  set_state(TcpState::kTimeWait);
  retransmit_deadline_.reset();
  persist_deadline_.reset();
  keep_alive_deadline_.reset();
  linger_deadline_ = now + 2 * host_.config().msl;
  release_finished_buffers();
  notify(socket_event::kReadable);
}

void Connection::enter_closed(absl::Status error) {
  state_ = TcpState::kClosed;
  retransmit_deadline_.reset();
  persist_deadline_.reset();
  delayed_ack_deadline_.reset();
  keep_alive_deadline_.reset();
  linger_deadline_.reset();
  cork_deadline_.reset();
  ack_now_ = false;
  error_ = std::move(error);
  release_finished_buffers();
  notify(socket_event::kReadable | socket_event::kWritable | socket_event::kClosed);
  host_.connection_closed(*this);
}

}  // namespace nslab::ustack::tcp
