// Segment arrival (RFC 9293 3.10.7.3 and 3.10.7.4), with RFC 5961's challenge ACKs and RFC 7323
// PAWS.

#include <algorithm>

#include "daemon/ustack/tcp/connection.h"

namespace nslab::ustack::tcp {

namespace flag = packet::tcp_flag;

namespace {
std::uint32_t sequence_length(const packet::TcpRepr& segment) {
  return static_cast<std::uint32_t>(segment.payload.size()) +
         ((segment.flags & flag::kSyn) ? 1u : 0u) + ((segment.flags & flag::kFin) ? 1u : 0u);
}
}  // namespace

void Connection::receive(const packet::TcpRepr& in, Instant now) {
  switch (state_) {
    case TcpState::kClosed:
    case TcpState::kListen:
      return;
    case TcpState::kSynSent:
      receive_in_syn_sent(in, now);
      return;
    default:
      break;
  }
  // Our SYN-ACK was lost and the peer sends its SYN again.
  if (state_ == TcpState::kSynReceived &&
      (in.flags & (flag::kSyn | flag::kAck | flag::kRst)) == flag::kSyn &&
      SeqNumber(in.seq_number) == irs_) {
    send_syn(now);
    return;
  }
  packet::TcpRepr segment = in;
  if (fault_.ignore_fin) {
    // As if the FIN had been lost: the data before it is taken, the FIN never ACKed.
    segment.flags &= ~flag::kFin;
  }
  if (state_ == TcpState::kSynReceived &&
      (in.flags & (flag::kSyn | flag::kAck | flag::kRst)) == (flag::kSyn | flag::kAck) &&
      SeqNumber(in.seq_number) == irs_) {
    // Simultaneous open: the peer's SYN-ACK repeats the SYN we have; its ACK is what counts.
    segment.flags &= ~flag::kSyn;
    segment.seq_number = (irs_ + 1).value();
  }
  if (!acceptable(segment, now)) {
    return;
  }
  if (segment.flags & flag::kRst) {
    receive_reset(in, now);
    return;
  }
  if (segment.flags & flag::kSyn) {
    // RFC 5961 4.2: a SYN on a synchronized connection may be forged; only the real peer can
    // answer the challenge (with a RST at the right sequence number).
    ++host_.mutable_counters().challenge_acks;
    send_ack(now);
    return;
  }
  if (!(segment.flags & flag::kAck)) {
    return;
  }
  last_ack_at_ = now;
  if (!receive_ack(segment, now)) {
    return;
  }
  if (state_ == TcpState::kEstablished || state_ == TcpState::kFinWait1 ||
      state_ == TcpState::kFinWait2) {
    receive_text(segment, now);
    if (state_ == TcpState::kClosed) {
      return;
    }
  }
  if ((segment.flags & flag::kFin) && !fin_received_ && !peer_fin_seq_) {
    peer_fin_seq_ =
        SeqNumber(segment.seq_number) + static_cast<std::uint32_t>(segment.payload.size());
  }
  if (peer_fin_seq_ && !fin_received_ && receive_buffer_.rcv_nxt() == *peer_fin_seq_) {
    receive_fin(now);
  }
  if (state_ == TcpState::kClosed) {
    return;
  }
  restart_keep_alive(now);
  output(now);
}

void Connection::receive_in_syn_sent(const packet::TcpRepr& segment, Instant now) {
  const SeqNumber ack(segment.ack_number);
  const bool has_ack = segment.flags & flag::kAck;
  if (has_ack && (ack <= iss_ || ack > snd_max_)) {
    if (!(segment.flags & flag::kRst)) {
      send_reset_for_ack(ack);
    }
    return;
  }
  if (segment.flags & flag::kRst) {
    if (has_ack) {
      ++host_.mutable_counters().in_rsts;
      ++host_.mutable_counters().attempt_fails;
      enter_closed(absl::UnavailableError("connection refused"));
    }
    return;
  }
  if (!(segment.flags & flag::kSyn)) {
    return;
  }
  adopt_peer_syn(segment);
  const OfferedOptions theirs = offered_by(segment);
  negotiated_ = negotiate(offered_, theirs);
  congestion_->set_mss(negotiated_.send_mss);
  if (has_ack) {
    take_rtt_sample(segment, ack, now);
    snd_una_ = ack;
    retransmit_deadline_.reset();
    consecutive_timeouts_ = 0;
    ack_now_ = true;
    set_state(TcpState::kEstablished);
    restart_keep_alive(now);
    output(now);
    return;
  }
  // Simultaneous open (RFC 9293 figure 7): both SYNs crossed.
  offered_ = answer_to(offered_, theirs);
  set_state(TcpState::kSynReceived);
  send_syn(now);
}

bool Connection::acceptable(packet::TcpRepr& segment, Instant now) {
  const bool reset = segment.flags & flag::kRst;
  SeqNumber seq(segment.seq_number);
  const std::uint32_t len = sequence_length(segment);
  const SeqNumber next = rcv_nxt();
  const std::uint32_t window = static_cast<std::uint32_t>(receive_window());

  if (negotiated_.timestamps && segment.timestamps && !reset &&
      static_cast<std::int32_t>(segment.timestamps->value - ts_recent_) < 0) {
    ++host_.mutable_counters().paws_rejected;
    send_ack(now);
    return false;
  }
  bool ok;
  bool strip_text = false;
  if (len == 0) {
    ok = window == 0 ? seq == next : seq_in_range(seq, next, window);
  } else if (window == 0) {
    // A full buffer still takes ACKs and RSTs (RFC 9293 3.10.7.4): keep the control part.
    ok = seq == next;
    strip_text = true;
  } else {
    ok = seq_in_range(seq, next, window) || seq_in_range(seq + len - 1, next, window);
  }
  if (!ok) {
    if (!reset) {
      if (state_ == TcpState::kTimeWait && (segment.flags & flag::kFin)) {
        // The peer did not get our ACK of its FIN: answer again and wait afresh.
        linger_deadline_ = now + 2 * host_.config().msl;
      }
      send_ack(now);
    }
    return false;
  }
  if (reset) {
    return true;
  }
  // RFC 7323 4.3: remember the timestamp to echo from a segment that covers RCV.NXT.
  if (segment.timestamps && seq <= next) {
    ts_recent_ = segment.timestamps->value;
  }
  if (strip_text) {
    // No room for the text: the peer is probing, and learns the window from our ACK.
    segment.payload = {};
    segment.flags &= ~flag::kFin;
    ack_now_ = true;
    return true;
  }
  // Trim to the window: the front that was received already, the back that has no room.
  if (seq < next) {
    std::uint32_t old = next - seq;
    if (segment.flags & flag::kSyn) {
      segment.flags &= ~flag::kSyn;
      --old;
      seq += 1;
    }
    if (old > segment.payload.size()) {
      segment.flags &= ~flag::kFin;
    }
    const std::size_t drop = std::min<std::size_t>(old, segment.payload.size());
    segment.payload = segment.payload.subspan(drop);
    seq += static_cast<std::uint32_t>(drop);
  }
  const std::uint32_t room = window - std::min(window, seq - next);
  if (segment.payload.size() > room) {
    segment.payload = segment.payload.first(room);
    segment.flags &= ~flag::kFin;
  }
  segment.seq_number = seq.value();
  return true;
}

void Connection::receive_reset(const packet::TcpRepr& segment, Instant now) {
  if (SeqNumber(segment.seq_number) != rcv_nxt()) {
    // RFC 5961 3.2: in the window but not exact; the real peer will send the exact one.
    ++host_.mutable_counters().challenge_acks;
    send_ack(now);
    return;
  }
  TcpCounters& counters = host_.mutable_counters();
  ++counters.in_rsts;
  switch (state_) {
    case TcpState::kSynReceived:
      ++counters.attempt_fails;
      enter_closed(absl::UnavailableError("connection refused"));
      return;
    case TcpState::kEstablished:
    case TcpState::kCloseWait:
      ++counters.estab_resets;
      enter_closed(absl::AbortedError("connection reset by peer"));
      return;
    case TcpState::kFinWait1:
    case TcpState::kFinWait2:
      enter_closed(absl::AbortedError("connection reset by peer"));
      return;
    default:
      enter_closed(absl::OkStatus());
      return;
  }
}

bool Connection::receive_ack(const packet::TcpRepr& segment, Instant now) {
  const SeqNumber ack(segment.ack_number);
  if (state_ == TcpState::kSynReceived) {
    if (!(snd_una_ < ack && ack <= snd_max_)) {
      send_reset_for_ack(ack);
      return false;
    }
    snd_wnd_ = std::uint32_t{segment.window_len} << negotiated_.send_window_shift;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = SeqNumber(segment.seq_number);
    snd_wl2_ = ack;
    process_new_ack(segment, now);
    set_state(TcpState::kEstablished);
    if (state_ == TcpState::kClosed) {
      return false;
    }
  }
  if (ack > snd_max_) {
    // Acknowledges what was never sent.
    send_ack(now);
    return false;
  }
  if (ack < snd_una_ - std::max(max_snd_wnd_, 1u)) {
    // RFC 5961 5.2: too old to be the peer's.
    ++host_.mutable_counters().challenge_acks;
    send_ack(now);
    return false;
  }
  const std::uint32_t advertised = std::uint32_t{segment.window_len}
                                   << negotiated_.send_window_shift;
  bool reports_new_sack = false;
  if (negotiated_.sack && segment.sack_block_count > 0) {
    const std::uint32_t sacked_before = scoreboard_.sacked_bytes();
    scoreboard_.add(segment.sacks(), seq_max(snd_una_, ack), snd_max_);
    reports_new_sack = scoreboard_.sacked_bytes() > sacked_before;
  }
  if (ack > snd_una_) {
    process_new_ack(segment, now);
    if (state_ == TcpState::kClosed) {
      return false;
    }
  } else if (ack == snd_una_ && segment.payload.empty() &&
             !(segment.flags & (flag::kSyn | flag::kFin)) &&
             (advertised == snd_wnd_ || reports_new_sack) && snd_max_ != snd_una_) {
    // A duplicate ACK (RFC 5681 2). One that SACKs new data counts even when the window moved
    // (RFC 6675 2): a receiver that autotunes its buffer, as Linux does, grows the window on
    // nearly every ACK, which would otherwise hide every loss until the timer.
    if (congestion_->on_duplicate_ack(snd_max_, flight_size()) ==
        AckVerdict::kRetransmitFirstUnacked) {
      ++host_.mutable_counters().fast_retransmits;
      high_rxt_ = snd_una_;
      retransmit_first_unacked(now);
    } else if (congestion_->in_recovery()) {
      retransmit_next_hole(now);
    }
  }
  update_send_window(segment);

  switch (state_) {
    case TcpState::kFinWait1:
      if (fin_acked()) {
        set_state(TcpState::kFinWait2);
        if (orphaned_) {
          linger_deadline_ = now + host_.config().fin_wait_2_timeout;
        }
      }
      break;
    case TcpState::kClosing:
      if (fin_acked()) {
        enter_time_wait(now);
      }
      break;
    case TcpState::kLastAck:
      if (fin_acked()) {
        enter_closed(absl::OkStatus());
        return false;
      }
      break;
    default:
      break;
  }
  return true;
}

void Connection::process_new_ack(const packet::TcpRepr& segment, Instant now) {
  const SeqNumber ack(segment.ack_number);
  const std::uint32_t flight = flight_size();
  std::uint32_t acked = ack - snd_una_;
  if (snd_una_ == iss_) {
    --acked;  // our SYN
  }
  std::size_t data_acked = 0;
  if (ack > data_seq_) {
    data_acked = seq_min(ack, data_end()) - data_seq_;
    send_buffer_.consume(data_acked);
    data_seq_ += static_cast<std::uint32_t>(data_acked);
    if (fin_queued_) {
      send_buffer_.release_if_empty();
    }
  }
  take_rtt_sample(segment, ack, now);
  snd_una_ = ack;
  scoreboard_.advance(snd_una_);
  if (snd_nxt_ < ack) {
    snd_nxt_ = ack;
  }
  consecutive_timeouts_ = 0;
  AckVerdict verdict = AckVerdict::kNothing;
  if (acked > 0) {
    verdict = congestion_->on_ack(ack, acked, flight);
  }
  if (snd_una_ == snd_max_) {
    retransmit_deadline_.reset();
  } else {
    arm_retransmit(now);  // RFC 6298 5.3
  }
  if (verdict == AckVerdict::kRetransmitFirstUnacked) {
    if (snd_una_ < high_rxt_) {
      // A partial ACK up to a hole the SACK blocks already had resent: the next one instead.
      retransmit_next_hole(now);
    } else {
      retransmit_first_unacked(now);
    }
  }
  if (data_acked > 0 && writable()) {
    notify(socket_event::kWritable);
  }
}

void Connection::take_rtt_sample(const packet::TcpRepr& segment, SeqNumber ack, Instant now) {
  if (negotiated_.timestamps && segment.timestamps && segment.timestamps->echo_reply != 0) {
    const std::uint32_t elapsed_ms = timestamp_clock(now) - segment.timestamps->echo_reply;
    // A reply from the future or weeks old is not a measurement.
    if (elapsed_ms < 0x7fffffff / 2) {
      rtt_.add_sample(std::chrono::milliseconds(elapsed_ms));
    }
    timed_seq_.reset();
    return;
  }
  if (timed_seq_ && ack > *timed_seq_) {
    rtt_.add_sample(now - timed_at_);
    timed_seq_.reset();
  }
}

void Connection::update_send_window(const packet::TcpRepr& segment) {
  const SeqNumber seq(segment.seq_number);
  const SeqNumber ack(segment.ack_number);
  if (snd_wl1_ < seq || (snd_wl1_ == seq && snd_wl2_ <= ack)) {
    snd_wnd_ = std::uint32_t{segment.window_len} << negotiated_.send_window_shift;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seq;
    snd_wl2_ = ack;
    if (snd_wnd_ > 0) {
      persist_deadline_.reset();
      persist_backoff_ = 0;
    }
  }
}

void Connection::receive_text(const packet::TcpRepr& segment, Instant now) {
  if (segment.payload.empty()) {
    return;
  }
  const SeqNumber seq(segment.seq_number);
  if (orphaned_ && seq + static_cast<std::uint32_t>(segment.payload.size()) > rcv_nxt()) {
    // Nobody will read it: tell the peer its data is lost (as Linux does after close()).
    abort(now);
    return;
  }
  const ReceiveOutcome outcome = receive_buffer_.receive(seq, segment.payload);
  if (outcome.out_of_order) {
    ++host_.mutable_counters().ofo_queued;
    ack_now_ = true;  // the duplicate ACK that drives the peer's fast retransmit
  }
  if (outcome.in_order_bytes == 0) {
    ack_now_ = true;  // a duplicate: our ACK was lost
    return;
  }
  notify(socket_event::kReadable);
  if (charge_byte_budget(outcome.in_order_bytes, now)) {
    return;
  }
  if (outcome.filled_hole || ++unacked_segments_ >= 2) {
    ack_now_ = true;
  } else if (!delayed_ack_deadline_) {
    delayed_ack_deadline_ = now + host_.config().delayed_ack_timeout;
  }
}

void Connection::receive_fin(Instant now) {
  fin_received_ = true;
  peer_fin_seq_.reset();
  ack_now_ = true;
  receive_buffer_.release_if_empty();
  notify(socket_event::kReadable);
  switch (state_) {
    case TcpState::kSynReceived:
    case TcpState::kEstablished:
      set_state(TcpState::kCloseWait);
      break;
    case TcpState::kFinWait1:
      if (fin_acked()) {
        enter_time_wait(now);
      } else {
        set_state(TcpState::kClosing);
      }
      break;
    case TcpState::kFinWait2:
      enter_time_wait(now);
      break;
    default:
      break;
  }
}

}  // namespace nslab::ustack::tcp
