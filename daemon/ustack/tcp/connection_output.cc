// What to send and how a segment is built: windows, cork (Linux's TCP_CORK and MSG_MORE, tcp(7)),
// Nagle (RFC 9293 3.7.4), sender-side silly window avoidance, the FIN after the data, ACKs with
// timestamps and SACK blocks.

#include <algorithm>
#include <limits>

#include "daemon/ustack/tcp/connection.h"

namespace nslab::ustack::tcp {

namespace flag = packet::tcp_flag;

namespace {
bool sends_data(TcpState state) {
  return state == TcpState::kEstablished || state == TcpState::kCloseWait ||
         state == TcpState::kFinWait1 || state == TcpState::kClosing || state == TcpState::kLastAck;
}
}  // namespace

void Connection::output(Instant now, bool push) {
  if (state_ == TcpState::kClosed) {
    return;
  }
  if (sends_data(state_)) {
    const bool corked = (options_.cork || more_) && !push;
    bool held_by_cork = false;
    bool sent_data = false;
    for (;;) {
      // A reset-after budget ends the stream early: nothing past it is sent, and the silly
      // window and Nagle rules see its edge as the stream's end. Retransmissions after a timeout
      // (below SND.MAX) cost nothing.
      const std::size_t resend = snd_max_ > snd_nxt_ ? snd_max_ - snd_nxt_ : 0;
      const std::size_t allowed =
          std::min(byte_budget_left(), std::numeric_limits<std::size_t>::max() - resend) + resend;
      const std::uint32_t unsent = static_cast<std::uint32_t>(
          std::min<std::size_t>(data_end() > snd_nxt_ ? data_end() - snd_nxt_ : 0, allowed));
      const bool fin_pending = fin_queued_ && snd_nxt_ <= fin_seq();
      if (unsent == 0 && !fin_pending) {
        break;
      }
      const std::uint32_t in_flight = snd_nxt_ - snd_una_;
      const std::uint32_t window = std::min(snd_wnd_, congestion_->cwnd());
      const std::uint32_t usable = window > in_flight ? window - in_flight : 0;
      const packet::TcpRepr shape = make_segment(snd_nxt_, flag::kAck, now);
      const std::size_t mss = max_payload_for(shape);
      const std::size_t burst = max_burst_for(shape, mss);
      std::size_t len = std::min<std::size_t>({unsent, burst, usable});
      if (len > mss && len < unsent) {
        len -= len % mss;  // only the stream's last segment may be short
      }
      if (corked && !fin_pending && len == unsent && len % mss != 0) {
        // Corked: the full segments go, the partial one waits for the rest of the message. A
        // FIN ends the message (shutdown uncorks, as in Linux).
        if (len < mss) {
          held_by_cork = true;
          break;
        }
        len -= len % mss;
      }
      if (unsent > 0 && len == 0) {
        break;
      }
      if (len < unsent && len < mss && len < max_snd_wnd_ / 2) {
        // Sender-side silly window avoidance: wait for the window to open further.
        break;
      }
      if (len == unsent && len > 0 && len < mss && !options_.no_delay && !push && in_flight > 0 &&
          !fin_pending) {
        // Nagle: one small segment in flight at a time.
        break;
      }
      const std::uint32_t covered = send_from(snd_nxt_, len, now);
      if (covered == 0) {
        break;
      }
      snd_nxt_ += covered;
      sent_data = sent_data || len > 0;
    }
    // The ceiling counts from when the partial segment began to wait: what is held now is new
    // when data went out before it.
    if (!held_by_cork) {
      cork_deadline_.reset();
    } else if (sent_data || !cork_deadline_) {
      cork_deadline_ = now + kCorkCeiling;
    }
    // Data the cork holds is not waiting for the window: its timer is the cork's, not persist.
    const bool unsent_left = data_end() > snd_nxt_ && !held_by_cork;
    if (flight_size() == 0 && unsent_left) {
      if (!persist_deadline_) {
        persist_deadline_ = now + rtt_.rto();
      }
    } else {
      persist_deadline_.reset();
    }
  }
  if (ack_now_) {
    owe_ack();
  }
  charge_byte_budget(0, now);  // what this call sent may have spent the reset-after budget
}

void Connection::owe_ack() {
  ack_now_ = true;
  if (!ack_deferred_) {
    ack_deferred_ = true;
    host_.defer_ack(*this);
  }
}

void Connection::flush_deferred_ack(Instant now) {
  ack_deferred_ = false;
  if (ack_now_ && state_ != TcpState::kClosed) {
    send_ack(now);
  }
}

void Connection::push(Instant now) { output(now, /*push=*/true); }

std::uint32_t Connection::send_from(SeqNumber seq, std::size_t max_len, Instant now) {
  packet::TcpRepr segment = make_segment(seq, flag::kAck, now);
  const std::size_t offset = seq - data_seq_;
  const std::size_t mss = max_payload_for(segment);
  const packet::ConstBytes payload =
      send_buffer_.peek(offset, std::min(max_len, max_burst_for(segment, mss)));
  const bool fin = fin_queued_ && seq + static_cast<std::uint32_t>(payload.size()) == fin_seq();
  if (payload.empty() && !fin) {
    return 0;
  }
  segment.payload = payload;
  if (fin) {
    segment.flags |= flag::kFin;
  }
  if (!payload.empty() && offset + payload.size() == send_buffer_.size()) {
    segment.flags |= flag::kPsh;
  }
  const std::uint32_t covered = static_cast<std::uint32_t>(payload.size()) + (fin ? 1u : 0u);
  if (seq < snd_max_) {
    // As Linux counts them: each segment the output cuts from this one.
    const std::size_t segments = std::max<std::size_t>(1, (payload.size() + mss - 1) / mss);
    retransmits_ += segments;
    host_.mutable_counters().retrans_segs += segments;
    if (timed_seq_ && seq_in_range(*timed_seq_, seq, covered)) {
      timed_seq_.reset();  // Karn: this segment's ACK no longer says which copy arrived
    }
  } else if (!timed_seq_ && !negotiated_.timestamps) {
    timed_seq_ = seq;
    timed_at_ = now;
  }
  emit(segment, mss);
  const SeqNumber payload_end = seq + static_cast<std::uint32_t>(payload.size());
  if (payload_end > snd_max_) {
    bytes_moved_ += payload_end - seq_max(seq, snd_max_);
  }
  if (seq + covered > snd_max_) {
    snd_max_ = seq + covered;
  }
  if (!retransmit_deadline_) {
    arm_retransmit(now);
  }
  return covered;
}

void Connection::send_syn(Instant now) {
  const std::uint16_t flags =
      state_ == TcpState::kSynReceived ? (flag::kSyn | flag::kAck) : flag::kSyn;
  packet::TcpRepr segment = make_segment(iss_, flags, now);
  add_syn_options(offered_, segment);
  if (snd_max_ > iss_) {
    ++retransmits_;
    ++host_.mutable_counters().retrans_segs;
    timed_seq_.reset();
  } else if (!offered_.timestamps) {
    timed_seq_ = iss_;
    timed_at_ = now;
  }
  emit(segment);
  snd_nxt_ = iss_ + 1;
  snd_max_ = seq_max(snd_max_, snd_nxt_);
}

void Connection::send_ack(Instant now) {
  // After data went past the peer's window (a timeout's retransmission into a closed window),
  // SND.NXT lies beyond what the peer accepts, and an ACK numbered with it would be dropped as
  // out of window: number it with the window's right edge instead (Linux's
  // tcp_acceptable_seq()).
  SeqNumber seq = snd_nxt_;
  if (is_synchronized(state_) || state_ == TcpState::kSynReceived) {
    seq = seq_min(seq, snd_una_ + snd_wnd_);
  }
  packet::TcpRepr segment = make_segment(seq, flag::kAck, now);
  emit(segment);
}

void Connection::send_reset(Instant now) {
  packet::TcpRepr segment = make_segment(snd_max_, flag::kRst | flag::kAck, now);
  segment.sack_block_count = 0;
  ++host_.mutable_counters().out_rsts;
  emit(segment);
}

void Connection::send_reset_for_ack(SeqNumber ack) {
  packet::TcpRepr reset;
  reset.source_port = tuple_.local.port;
  reset.destination_port = tuple_.remote.port;
  reset.seq_number = ack.value();
  reset.flags = flag::kRst;
  ++host_.mutable_counters().out_rsts;
  host_.send_segment(tuple_, reset, 0);
}

void Connection::send_probe(Instant now) {
  packet::TcpRepr segment = make_segment(snd_una_ - 1, flag::kAck, now);
  emit(segment);
}

void Connection::retransmit_first_unacked(Instant now) {
  const std::size_t mss = max_payload_for(make_segment(snd_una_, flag::kAck, now));
  const std::uint32_t covered = send_from(snd_una_, mss, now);
  if (snd_nxt_ < snd_una_ + covered) {
    snd_nxt_ = snd_una_ + covered;
  }
  high_rxt_ = seq_max(high_rxt_, snd_una_ + covered);
}

void Connection::retransmit_next_hole(Instant now) {
  const std::optional<SackScoreboard::Range> hole =
      scoreboard_.next_hole(seq_max(snd_una_, high_rxt_));
  if (!hole || !(hole->begin < snd_nxt_)) {
    return;  // nothing reported missing below what was sent
  }
  const std::size_t mss = max_payload_for(make_segment(hole->begin, flag::kAck, now));
  const std::uint32_t covered =
      send_from(hole->begin, std::min<std::size_t>(mss, hole->end - hole->begin), now);
  if (covered == 0) {
    return;
  }
  high_rxt_ = hole->begin + covered;
  ++host_.mutable_counters().sack_recovery_retransmits;
  congestion_->on_recovery_retransmit(covered);
}

packet::TcpRepr Connection::make_segment(SeqNumber seq, std::uint16_t flags, Instant now) const {
  packet::TcpRepr segment;
  segment.source_port = tuple_.local.port;
  segment.destination_port = tuple_.remote.port;
  segment.seq_number = seq.value();
  segment.flags = flags;
  const bool syn = flags & flag::kSyn;
  if (flags & flag::kAck) {
    segment.ack_number = rcv_nxt().value();
  }
  if (syn) {
    segment.window_len =
        static_cast<std::uint16_t>(std::min<std::size_t>(receive_window(), 0xffff));
  } else {
    segment.window_len = advertised_window();
  }
  if (syn ? offered_.timestamps : negotiated_.timestamps) {
    segment.timestamps = packet::TcpTimestamps{timestamp_clock(now), ts_recent_};
  }
  if (!syn && negotiated_.sack && receive_buffer_.has_out_of_order()) {
    segment.sack_block_count =
        static_cast<std::uint8_t>(receive_buffer_.sack_blocks(std::span(segment.sack_blocks)));
  }
  return segment;
}

void Connection::emit(const packet::TcpRepr& segment, std::size_t mss) {
  if (segment.flags & flag::kAck) {
    ack_now_ = false;
    unacked_segments_ = 0;
    delayed_ack_deadline_.reset();
    const std::uint32_t shift =
        (segment.flags & flag::kSyn) ? 0u : negotiated_.receive_window_shift;
    rcv_adv_ = seq_max(rcv_adv_, rcv_nxt() + (std::uint32_t{segment.window_len} << shift));
  }
  host_.mutable_counters().sack_blocks_sent += segment.sack_block_count;
  const bool cut = mss > 0 && segment.payload.size() > mss;
  host_.send_segment(tuple_, segment, cut ? static_cast<std::uint16_t>(mss) : 0);
}

std::uint16_t Connection::advertised_window() const {
  // The true free space, even when a smaller SO_RCVBUF moves the right edge back: RFC 9293
  // 3.8.6.2.2 discourages shrinking, but a window the buffer cannot honour would have the peer
  // send data that is dropped. The sender side survives a shrunk window (connection_timers.cc).
  const std::size_t window = receive_window() >> negotiated_.receive_window_shift;
  return static_cast<std::uint16_t>(std::min<std::size_t>(window, 0xffff));
}

std::size_t Connection::receive_window() const {
  return fault_.zero_window ? 0 : receive_buffer_.window();
}

std::size_t Connection::max_payload_for(const packet::TcpRepr& segment) const {
  // The peer's MSS counts a 20-byte header; options come out of the payload (RFC 9293 3.7.1).
  const std::size_t budget =
      std::size_t{negotiated_.send_mss} + packet::TcpView<packet::ConstBytes>::kMinHeaderLen;
  const std::size_t header = segment.header_len();
  return budget > header ? budget - header : 1;
}

std::size_t Connection::max_burst_for(const packet::TcpRepr& segment, std::size_t mss) const {
  const std::size_t limit = host_.max_offloaded_segment_len();
  const std::size_t header = segment.header_len();
  if (limit <= header || mss == 0) {
    return mss;
  }
  return std::max(mss, (limit - header) / mss * mss);
}

std::uint32_t Connection::timestamp_clock(Instant now) const {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  return static_cast<std::uint32_t>(ms) + ts_offset_;
}

void Connection::maybe_send_window_update() {
  if (state_ != TcpState::kEstablished && state_ != TcpState::kFinWait1 &&
      state_ != TcpState::kFinWait2) {
    return;
  }
  const std::uint32_t peer_sees = rcv_adv_ > rcv_nxt() ? rcv_adv_ - rcv_nxt() : 0;
  const std::size_t shift = negotiated_.receive_window_shift;
  const std::size_t now_open = receive_window() >> shift << shift;
  const std::size_t threshold =
      std::min<std::size_t>(receive_buffer_.capacity() / 2, 2 * std::size_t{our_mss_});
  if (now_open >= peer_sees + threshold) {
    // Deferred: a reply the application writes next carries the window update too.
    owe_ack();
  }
}

}  // namespace nslab::ustack::tcp
