#pragma once

// One TCP instance: the table of connections and listeners, demultiplexing of arriving
// segments, answers for closed ports, and a socket-like API over small integer handles. Pure
// logic like the rest of the stack: segments arrive through receive(), leave through the
// SegmentOutput, and every entry point is told the time. Split by concern: tcp.cc (segments,
// timers, the life of a socket, reading and writing) and tcp_control.cc (options, fault
// policies, callbacks, the socket table).
//
// The API does not block. read()/write()/accept() answer UNAVAILABLE when they would block
// (EAGAIN); the readiness callback says when to try again. Callbacks run on the caller's thread
// after the segment or timer that caused them has been fully processed, so they may call back
// into the API.
//
// An ACK an event makes due is sent when that entry point returns, after its callbacks ran, not
// at once: a reply the application writes from the callback carries it, and no bare ACK goes
// before the reply (the delayed ACK's purpose, RFC 9293 3.8.6.3, met within one event).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/ustack/packet/bytes.h"
#include "daemon/ustack/packet/ipv4_address.h"
#include "daemon/ustack/tcp/config.h"
#include "daemon/ustack/tcp/connection.h"
#include "daemon/ustack/tcp/counters.h"
#include "daemon/ustack/tcp/endpoint.h"
#include "daemon/ustack/tcp/fault_policy.h"
#include "daemon/ustack/tcp/listener.h"
#include "daemon/ustack/tcp/segment_output.h"
#include "daemon/ustack/tcp/socket_info.h"
#include "daemon/ustack/tcp/time.h"

namespace nslab::ustack::tcp {

// `events` is a socket_event bit set.
using ReadinessCallback = std::function<void(SocketId socket, std::uint8_t events)>;

// Flags of Tcp::write, as send(2)'s.
namespace write_flag {
// MSG_MORE: the rest of the message follows at once. A partial segment waits for it, as under
// TCP_CORK, until a write without the flag (an empty one will do), a push (set_no_delay), the
// FIN, or the cork's ceiling (kCorkCeiling).
inline constexpr std::uint8_t kMore = 1;
}  // namespace write_flag

class Tcp final : private ConnectionHost {
 public:
  // INVALID_ARGUMENT for an unknown congestion control or an empty ephemeral port range.
  static absl::Status validate(const TcpConfig& config);
  // `output` must outlive the instance. The config must pass validate().
  Tcp(TcpConfig config, SegmentOutput& output);
  static absl::StatusOr<std::unique_ptr<Tcp>> create(TcpConfig config, SegmentOutput& output);
  Tcp(const Tcp&) = delete;
  Tcp& operator=(const Tcp&) = delete;
  ~Tcp() override;

  // A TCP segment (the IPv4 payload) from `source` to `destination`, one of our addresses.
  // `checksum_trusted`: the NIC verified it.
  void receive(packet::Ipv4Address source, packet::Ipv4Address destination,
               packet::ConstBytes segment, bool checksum_trusted, Instant now);
  void poll(Instant now);
  std::optional<Instant> next_deadline() const;

  // Listens on local.port (local.address unspecified: on all addresses). ALREADY_EXISTS when
  // the port has a listener.
  absl::StatusOr<SocketId> listen(Endpoint local, ListenOptions limits, Instant now);
  // Starts a connection; `local_port` 0 picks an ephemeral one. UNAVAILABLE without a route,
  // ALREADY_EXISTS for a four-tuple in use.
  absl::StatusOr<SocketId> connect(Endpoint remote, std::uint16_t local_port, Instant now);
  // UNAVAILABLE when no connection waits (EAGAIN).
  absl::StatusOr<SocketId> accept(SocketId listener);
  // 0 at the end of the stream; UNAVAILABLE when nothing is there yet; the connection's error
  // (reset, refused, timed out) when it failed.
  absl::StatusOr<std::size_t> read(SocketId socket, packet::MutableBytes out, Instant now);
  // How much was taken into the send buffer; UNAVAILABLE when none fits; FAILED_PRECONDITION
  // after shutdown or when the connection ended. `flags`: write_flag bits.
  absl::StatusOr<std::size_t> write(SocketId socket, packet::ConstBytes data, Instant now,
                                    std::uint8_t flags = 0);
  // Shuts the sending side (SHUT_WR): a FIN follows the data.
  absl::Status shutdown(SocketId socket, Instant now);
  // Releases the handle; the connection finishes closing on its own (or is reset when data
  // was left unread). A listener resets its queued connections.
  absl::Status close(SocketId socket, Instant now);
  // Releases the handle and resets the connection at once, whatever is queued (close() with
  // SO_LINGER 0). A listener is closed as by close().
  absl::Status abort(SocketId socket, Instant now);
  // Every option at once; on a listener, for the connections it accepts from then on. Clearing
  // `cork` sends what it held; setting `no_delay` pushes as set_no_delay(true) does.
  absl::Status set_options(SocketId socket, const SocketOptions& options, Instant now);
  // setsockopt(TCP_NODELAY): Nagle off (or back on). Turning it on also sends everything
  // queued at once, even while corked (tcp(7)); the cork keeps holding later writes.
  absl::Status set_no_delay(SocketId socket, bool on, Instant now);
  // setsockopt(TCP_CORK): while on, only full segments leave; turning it off sends the rest
  // (under Nagle unless no_delay). Corked data waits kCorkCeiling at most.
  absl::Status set_cork(SocketId socket, bool on, Instant now);
  // The options in force (a listener's: what its connections inherit).
  absl::StatusOr<SocketOptions> options(SocketId socket) const;
  // Makes the socket break TCP on purpose (fault_policy.h). On a listener: how it answers SYNs,
  // and the policy of the connections it makes, including those still in its queues. On a
  // connection: from its next segment on.
  absl::Status set_fault_policy(SocketId socket, const FaultPolicy& policy, Instant now);
  absl::Status set_readiness_callback(SocketId socket, ReadinessCallback callback);

  absl::StatusOr<TcpState> state(SocketId socket) const;
  absl::StatusOr<TcpSocketInfo> info(SocketId socket) const;
  // Every listener and connection, as `ss -tan` lists them (TIME_WAIT and orphans included).
  std::vector<TcpSocketInfo> sockets() const;
  const TcpCounters& counters() const { return counters_; }
  // Segments that carried data, each way: the node tells a turn of its loop that answered a
  // request by them (its service-time histogram). Not SNMP counters, so not in TcpCounters.
  std::uint64_t data_segments_in() const { return data_segments_in_; }
  std::uint64_t data_segments_out() const { return data_segments_out_; }
  // The time of the event being handled: what callbacks pass back into the API.
  Instant now() const { return now_; }
  // Connections in ESTABLISHED or CLOSE_WAIT (Tcp: CurrEstab).
  std::uint64_t current_established() const;

 private:
  // Every connection's next deadline, earliest first.
  using TimerIndex = std::set<std::pair<Instant, SocketId>>;

  struct Handle {
    std::unique_ptr<Connection> connection;
    std::unique_ptr<Listener> listener;
    ReadinessCallback callback;
    bool user_owned = true;  // false: embryonic, or closed by the application
    // The connection's entry in timers_, if it has one.
    std::optional<Instant> timer;
    // The entry's node while it is out of timers_ (no deadline): kept for the next deadline, so
    // that filing one allocates once in the connection's life, not once per segment.
    TimerIndex::node_type parked_timer;
    // In touched_: its timers are looked at again when the event settles.
    bool touched = false;
  };

  // ConnectionHost
  void send_segment(const FourTuple& connection, const packet::TcpRepr& segment,
                    std::uint16_t cut_payload_len) override;
  std::size_t max_offloaded_segment_len() const override {
    return output_.max_offloaded_segment_len();
  }
  void notify(SocketId socket, std::uint8_t events) override;
  void connection_established(Connection& connection) override;
  void connection_closed(Connection& connection) override;
  TcpCounters& mutable_counters() override { return counters_; }
  const TcpConfig& config() const override { return config_; }
  void defer_ack(Connection& connection) override { acks_owed_.push_back(connection.id()); }

  void receive_for_listener(Listener& listener, const FourTuple& tuple,
                            const packet::TcpRepr& segment, Instant now);
  void answer_with_reset(const FourTuple& tuple, const packet::TcpRepr& segment);
  Listener* listener_for(const Endpoint& local);
  Connection* connection_for(SocketId socket);
  const Handle* handle_for(SocketId socket) const;
  std::unique_ptr<Connection> make_connection(SocketId id, const FourTuple& tuple,
                                              const SocketOptions& options, Instant now);
  std::optional<std::uint16_t> pick_ephemeral_port(const Endpoint& remote,
                                                   packet::Ipv4Address local);
  // Frees connections nobody holds that reached CLOSED; then runs the queued callbacks; then
  // sends the ACKs still owed (what the callbacks wrote carried the others); then files the
  // timers of every connection the event touched.
  void settle();
  // The event about to reach this connection may change its timers: settle() files them again.
  void touch(SocketId socket, Handle& handle);
  // Files each touched connection's next deadline in timers_.
  void reschedule_touched();
  // Takes the connection's entry out of timers_ (it is going away).
  void unschedule(SocketId socket, Handle& handle);
  // A listener or a connection the application holds, or nullptr.
  Handle* user_handle(SocketId socket);

  TcpConfig config_;
  SegmentOutput& output_;
  TcpCounters counters_;
  std::uint64_t data_segments_in_ = 0;
  std::uint64_t data_segments_out_ = 0;
  Instant now_{};
  SocketId next_id_ = 1;
  std::map<SocketId, Handle> handles_;
  std::map<FourTuple, SocketId> by_tuple_;
  std::map<std::uint16_t, SocketId> listeners_by_port_;
  std::uint16_t next_ephemeral_port_;
  std::map<SocketId, std::uint8_t> pending_events_;
  std::vector<SocketId> closed_orphans_;
  // Every connection's next deadline, earliest first: poll() and next_deadline() look only at
  // the due ones rather than at every connection, of which thousands may be held, nearly all
  // idle. Kept current by touch(): an entry point that reaches a connection touches it, and
  // settle() files its deadline again.
  TimerIndex timers_;
  std::vector<SocketId> touched_;
  // Connections that owe an ACK (ConnectionHost::defer_ack), and the list being flushed: two
  // vectors swapped, so that their memory is reused event after event.
  std::vector<SocketId> acks_owed_;
  std::vector<SocketId> acks_flushing_;
  bool settling_ = false;
};

}  // namespace nslab::ustack::tcp
