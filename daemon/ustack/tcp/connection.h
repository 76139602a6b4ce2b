#pragma once

// One connection's transmission control block and its state machine (RFC 9293 3.10): a function
// of (state, segment, now) that answers with segments through the host. Split by concern:
// connection_input.cc (segment arrival), connection_output.cc (what to send, building segments)
// and connection_timers.cc (retransmission, persist, delayed ACK, keep-alive, TIME_WAIT).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "daemon/ustack/packet/tcp.h"
#include "daemon/ustack/tcp/config.h"
#include "daemon/ustack/tcp/congestion_control.h"
#include "daemon/ustack/tcp/counters.h"
#include "daemon/ustack/tcp/endpoint.h"
#include "daemon/ustack/tcp/fault_policy.h"
#include "daemon/ustack/tcp/options.h"
#include "daemon/ustack/tcp/receive_buffer.h"
#include "daemon/ustack/tcp/rtt_estimator.h"
#include "daemon/ustack/tcp/sack_scoreboard.h"
#include "daemon/ustack/tcp/send_buffer.h"
#include "daemon/ustack/tcp/seq.h"
#include "daemon/ustack/tcp/socket_info.h"
#include "daemon/ustack/tcp/state.h"
#include "daemon/ustack/tcp/time.h"

namespace nslab::ustack::tcp {

// Readiness, as epoll would report it.
namespace socket_event {
inline constexpr std::uint8_t kReadable = 1;    // data, end of stream, or an error
inline constexpr std::uint8_t kWritable = 2;    // room in the send buffer (or connected)
inline constexpr std::uint8_t kAcceptable = 4;  // a listener has a connection to accept
inline constexpr std::uint8_t kClosed = 8;      // reset, timed out, or fully closed
}  // namespace socket_event

class Connection;

// What a connection needs from the TCP instance that owns it.
class ConnectionHost {
 public:
  virtual ~ConnectionHost() = default;
  // `cut_payload_len`: see SegmentOutput::send_segment.
  virtual void send_segment(const FourTuple& connection, const packet::TcpRepr& segment,
                            std::uint16_t cut_payload_len) = 0;
  // SegmentOutput::max_offloaded_segment_len.
  virtual std::size_t max_offloaded_segment_len() const = 0;
  virtual void notify(SocketId socket, std::uint8_t events) = 0;
  // A passive open completed its handshake: from the listener's SYN queue to its accept queue.
  virtual void connection_established(Connection& connection) = 0;
  // The connection reached CLOSED: it leaves the demultiplexing table.
  virtual void connection_closed(Connection& connection) = 0;
  virtual TcpCounters& mutable_counters() = 0;
  virtual const TcpConfig& config() const = 0;
  // The connection owes an ACK that data the application is about to write may carry: the host
  // calls flush_deferred_ack() once the callbacks of the event being handled have run.
  virtual void defer_ack(Connection& connection) = 0;
};

class Connection {
 public:
  Connection(ConnectionHost& host, SocketId id, const FourTuple& tuple,
             const SocketOptions& options, std::unique_ptr<CongestionControl> congestion,
             std::uint16_t our_mss, SeqNumber iss);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // CLOSED -> SYN_SENT: sends the SYN.
  void open_active(Instant now);
  // LISTEN -> SYN_RECEIVED on behalf of `listener`: answers the SYN.
  void open_passive(const packet::TcpRepr& syn, SocketId listener, Instant now);

  void receive(const packet::TcpRepr& segment, Instant now);
  void on_timers(Instant now);
  std::optional<Instant> next_deadline() const;

  // The application's side. write() and read() return how much moved; 0 when nothing could.
  // `more` (MSG_MORE): the rest of the message follows at once, so a partial segment waits for
  // it as under TCP_CORK. A write without it that moved something (or moved nothing because
  // `data` was empty) ends the message.
  std::size_t write(packet::ConstBytes data, bool more, Instant now);
  std::size_t read(packet::MutableBytes out);
  // No more writes: a FIN follows the data.
  void shutdown_send(Instant now);
  // The application lets go. With unread data the connection is reset (RFC 2525 2.17), else
  // it closes gracefully on its own.
  void close(Instant now);
  // Sends a RST and goes to CLOSED.
  void abort(Instant now);
  // In TIME_WAIT: whether `syn` (a SYN without ACK or RST for this four-tuple) may open a new
  // incarnation of the connection: its sequence number lies past the old one's, or its
  // timestamp is newer (RFC 9293 3.6.1, RFC 6191; Linux's tcp_timewait_state_process). A client
  // opening thousands of short connections reuses its ports long before TIME_WAIT ends.
  bool accepts_new_incarnation(const packet::TcpRepr& syn) const;
  // Ends TIME_WAIT early for that new incarnation: CLOSED, without a word to the peer.
  void end_time_wait();
  // Clearing `cork` sends what it held (Nagle still applies); setting `no_delay` pushes, below.
  void set_options(const SocketOptions& options, Instant now);
  // Sends everything queued that the windows allow, cork and Nagle aside (what setting
  // TCP_NODELAY does in Linux, even while TCP_CORK stays set).
  void push(Instant now);
  // Sends the ACK deferred through ConnectionHost::defer_ack, unless a segment carried it since.
  void flush_deferred_ack(Instant now);
  // From the next segment on (fault_policy.h); the bytes already moved count toward a reset.
  void set_fault_policy(const FaultPolicy& policy, Instant now);
  const FaultPolicy& fault_policy() const { return fault_; }
  const SocketOptions& options() const { return options_; }

  SocketId id() const { return id_; }
  const FourTuple& tuple() const { return tuple_; }
  TcpState state() const { return state_; }
  std::optional<SocketId> listener() const { return listener_; }
  void detach_from_listener() { listener_.reset(); }
  bool orphaned() const { return orphaned_; }
  // Why the connection ended early (reset, refused, timed out); OK otherwise.
  const absl::Status& error() const { return error_; }
  std::size_t readable() const { return receive_buffer_.readable(); }
  // The peer's FIN has been received and every byte before it read.
  bool end_of_stream() const { return fin_received_ && receive_buffer_.readable() == 0; }
  bool send_shut_down() const { return fin_queued_; }
  std::size_t send_space() const { return send_buffer_.free_space(); }
  bool writable() const;
  TcpSocketInfo info() const;
  // Buffer memory allocated now (send and receive storage; the buffers grow on demand).
  std::size_t buffer_memory() const {
    return send_buffer_.allocated() + receive_buffer_.allocated();
  }

 private:
  // --- input (connection_input.cc)
  void receive_in_syn_sent(const packet::TcpRepr& segment, Instant now);
  // RFC 9293 3.10.7.4 first check, with RFC 7323 PAWS; trims the segment to the window.
  bool acceptable(packet::TcpRepr& segment, Instant now);
  void receive_reset(const packet::TcpRepr& segment, Instant now);
  bool receive_ack(const packet::TcpRepr& segment, Instant now);
  void process_new_ack(const packet::TcpRepr& segment, Instant now);
  void update_send_window(const packet::TcpRepr& segment);
  void receive_text(const packet::TcpRepr& segment, Instant now);
  void receive_fin(Instant now);
  void take_rtt_sample(const packet::TcpRepr& segment, SeqNumber ack, Instant now);
  void adopt_peer_syn(const packet::TcpRepr& syn);

  // --- output (connection_output.cc)
  // Sends what the windows, cork, Nagle and the FIN allow (`push`: cork and Nagle aside); a
  // pending ACK that no segment carried is deferred to the host (owe_ack).
  void output(Instant now, bool push = false);
  // An ACK is due; it goes with the next segment, at the latest when the host flushes.
  void owe_ack();
  // One segment from `seq`: up to `max_len` bytes of the send buffer, and the FIN when it
  // follows them. Returns the sequence space it covered.
  std::uint32_t send_from(SeqNumber seq, std::size_t max_len, Instant now);
  void send_syn(Instant now);
  void send_ack(Instant now);
  void send_reset(Instant now);
  // <SEQ=SEG.ACK><CTL=RST>: the answer to an ACK for something never sent (RFC 9293 3.10.7).
  void send_reset_for_ack(SeqNumber ack);
  // seq = SND.UNA - 1, no data: the peer answers with an ACK (zero-window probe, keep-alive).
  void send_probe(Instant now);
  // Sends `segment`; one carrying an ACK settles the ACKs owed. A payload longer than `mss`
  // goes out for the output to cut (segmentation offload).
  void emit(const packet::TcpRepr& segment, std::size_t mss = 0);
  packet::TcpRepr make_segment(SeqNumber seq, std::uint16_t flags, Instant now) const;
  std::uint16_t advertised_window() const;
  std::size_t max_payload_for(const packet::TcpRepr& segment) const;
  // The most payload one segment like `segment` may carry for the output to cut into segments of
  // `mss` bytes: whole multiples of it, or just `mss` without segmentation offload.
  std::size_t max_burst_for(const packet::TcpRepr& segment, std::size_t mss) const;
  std::uint32_t timestamp_clock(Instant now) const;
  void retransmit_first_unacked(Instant now);
  // In recovery: resends the first hole the SACK scoreboard shows above what was resent.
  void retransmit_next_hole(Instant now);
  void maybe_send_window_update();
  // The window we offer: the buffer's free space, or 0 under the zero-window fault.
  std::size_t receive_window() const;

  // --- the fault policy's reset-after budget (connection.cc)
  // How much new data output() may still send before the budget is spent (no limit: SIZE_MAX).
  std::size_t byte_budget_left() const;
  // Counts `bytes` of data moved; once the budget is spent the connection is reset and true
  // returned.
  bool charge_byte_budget(std::uint64_t bytes, Instant now);

  // --- timers (connection_timers.cc)
  void on_retransmit_timeout(Instant now);
  void on_persist_timeout(Instant now);
  void on_keep_alive_timeout(Instant now);
  void arm_retransmit(Instant now);
  void restart_keep_alive(Instant now);
  void enter_time_wait(Instant now);
  void enter_closed(absl::Status error);

  // --- shared
  // Gives back the storage of a direction that is done: the receive side once the peer's FIN
  // came and everything before it was read, the send side once our FIN is queued and every byte
  // before it acknowledged. TIME_WAIT and CLOSED then hold no buffer memory, as Linux's
  // timewait sockets hold none.
  void release_finished_buffers();
  void set_state(TcpState state);
  void notify(std::uint8_t events);
  SeqNumber rcv_nxt() const;
  SeqNumber data_end() const;  // one past the last byte written
  SeqNumber fin_seq() const { return data_end(); }
  bool fin_acked() const;
  std::uint32_t flight_size() const { return snd_max_ - snd_una_; }

  ConnectionHost& host_;
  const SocketId id_;
  const FourTuple tuple_;
  SocketOptions options_;
  std::unique_ptr<CongestionControl> congestion_;
  TcpState state_ = TcpState::kClosed;
  std::optional<SocketId> listener_;
  bool orphaned_ = false;
  absl::Status error_;

  // Options: ours as offered, what both settled.
  OfferedOptions offered_;
  NegotiatedOptions negotiated_;

  // Send sequence space (RFC 9293 3.3.1), plus SND.MAX: the highest ever sent, because a
  // timeout pulls SND.NXT back to SND.UNA (go-back-N).
  const SeqNumber iss_;
  SeqNumber snd_una_;
  SeqNumber snd_nxt_;
  SeqNumber snd_max_;
  std::uint32_t snd_wnd_ = 0;
  std::uint32_t max_snd_wnd_ = 0;
  SeqNumber snd_wl1_;
  SeqNumber snd_wl2_;
  SeqNumber data_seq_;  // sequence number of the send buffer's first byte
  bool fin_queued_ = false;
  SendBuffer send_buffer_;

  // Receive sequence space; RCV.NXT lives in the receive buffer (plus one for the FIN).
  SeqNumber irs_;
  ReceiveBuffer receive_buffer_;
  bool fin_received_ = false;
  std::optional<SeqNumber> peer_fin_seq_;  // a FIN that arrived beyond a hole
  SeqNumber rcv_adv_;                      // right edge of the window we last advertised
  std::uint16_t our_mss_;

  // RFC 7323 timestamps.
  std::uint32_t ts_recent_ = 0;
  std::uint32_t ts_offset_ = 0;

  // RTT: Karn-timed segment when there are no timestamps.
  RttEstimator rtt_;
  std::optional<SeqNumber> timed_seq_;
  Instant timed_at_{};

  // ACKs owed; ack_deferred_: the host holds this connection in its list of ACKs to flush.
  bool ack_now_ = false;
  bool ack_deferred_ = false;
  int unacked_segments_ = 0;

  // The last write was flagged `more` (MSG_MORE): corked until a write without it.
  bool more_ = false;

  // Timers.
  std::optional<Instant> retransmit_deadline_;
  std::optional<Instant> persist_deadline_;
  std::optional<Instant> delayed_ack_deadline_;
  std::optional<Instant> keep_alive_deadline_;
  std::optional<Instant> linger_deadline_;  // TIME_WAIT, or an orphan's FIN_WAIT_2
  std::optional<Instant> cork_deadline_;    // corked partial data goes at kCorkCeiling
  int consecutive_timeouts_ = 0;
  Instant last_ack_at_{};  // when the peer last sent an acceptable ACK
  int persist_backoff_ = 0;
  int keep_alive_probes_sent_ = 0;
  std::uint64_t retransmits_ = 0;

  // SACK-based loss recovery (RFC 6675, simplified): what the peer holds, and the highest byte
  // resent in this recovery (HighRxt).
  SackScoreboard scoreboard_;
  SeqNumber high_rxt_;

  FaultPolicy fault_;
  std::uint64_t bytes_moved_ = 0;  // data sent (first transmissions) plus received in order
};

}  // namespace nslab::ustack::tcp
