#include "daemon/ustack/tcp/tcp.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "daemon/ustack/packet/tcp.h"
#include "daemon/ustack/tcp/isn.h"
#include "daemon/ustack/tcp/options.h"
#include "daemon/ustack/tcp/reset.h"

namespace nslab::ustack::tcp {

namespace flag = packet::tcp_flag;

absl::Status Tcp::validate(const TcpConfig& config) {
  if (auto congestion = make_congestion_control(config.congestion_control, kDefaultMss);
      !congestion.ok()) {
    return congestion.status();
  }
  if (config.ephemeral_port_first == 0 ||
      config.ephemeral_port_first > config.ephemeral_port_last) {
    return absl::InvalidArgumentError(absl::StrCat("TCP ephemeral port range ",
                                                   config.ephemeral_port_first, "-",
                                                   config.ephemeral_port_last, " is empty"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Tcp>> Tcp::create(TcpConfig config, SegmentOutput& output) {
  if (absl::Status status = validate(config); !status.ok()) {
    return status;
  }
  return std::make_unique<Tcp>(std::move(config), output);
}

Tcp::Tcp(TcpConfig config, SegmentOutput& output)
    : config_(std::move(config)),
      output_(output),
      next_ephemeral_port_(config_.ephemeral_port_first) {}

Tcp::~Tcp() = default;

void Tcp::receive(packet::Ipv4Address source, packet::Ipv4Address destination,
                  packet::ConstBytes bytes, bool checksum_trusted, Instant now) {
  now_ = std::max(now_, now);
  const auto view = packet::TcpView<packet::ConstBytes>::checked(bytes);
  if (!view) {
    ++counters_.in_errs;
    return;
  }
  if (!checksum_trusted && !view->verify_checksum(source, destination)) {
    ++counters_.in_csum_errors;
    ++counters_.in_errs;
    return;
  }
  const auto segment =
      packet::TcpRepr::parse(*view, source, destination, packet::Checksum::kOffload);
  if (!segment) {
    ++counters_.in_errs;
    return;
  }
  ++counters_.in_segs;
  data_segments_in_ += segment->payload.empty() ? 0 : 1;
  const FourTuple tuple{{destination, segment->destination_port}, {source, segment->source_port}};
  if (const auto found = by_tuple_.find(tuple); found != by_tuple_.end()) {
    Handle& handle = handles_.at(found->second);
    Connection& connection = *handle.connection;
    if (Listener* listener = listener_for(tuple.local);
        listener && connection.accepts_new_incarnation(*segment)) {
      // The old incarnation gives way (and leaves by_tuple_); the listener takes the SYN.
      touch(found->second, handle);
      connection.end_time_wait();
      receive_for_listener(*listener, tuple, *segment, now);
      settle();
      return;
    }
    // A full accept queue leaves the handshake unfinished: the final ACK is dropped and the
    // peer's retransmission tries again later (Linux with tcp_abort_on_overflow = 0).
    if (connection.state() == TcpState::kSynReceived && connection.listener() &&
        (segment->flags & (flag::kSyn | flag::kRst | flag::kAck)) == flag::kAck) {
      const Handle* listener = handle_for(*connection.listener());
      if (listener && listener->listener && listener->listener->accept_queue_full()) {
        ++counters_.listen_overflows;
        ++counters_.listen_drops;
        settle();
        return;
      }
    }
    touch(found->second, handle);
    connection.receive(*segment, now);
  } else if (Listener* listener = listener_for(tuple.local)) {
    receive_for_listener(*listener, tuple, *segment, now);
  } else {
    ++counters_.no_socket;
    answer_with_reset(tuple, *segment);
  }
  settle();
}

void Tcp::receive_for_listener(Listener& listener, const FourTuple& tuple,
                               const packet::TcpRepr& segment, Instant now) {
  // RFC 9293 3.10.7.2
  if (segment.flags & flag::kRst) {
    return;
  }
  if (segment.flags & flag::kAck) {
    answer_with_reset(tuple, segment);
    return;
  }
  if (!(segment.flags & flag::kSyn)) {
    return;
  }
  switch (listener.fault_policy().syn) {
    case FaultPolicy::SynAnswer::kHandshake:
      break;
    case FaultPolicy::SynAnswer::kReset:
      answer_with_reset(tuple, segment);
      return;
    case FaultPolicy::SynAnswer::kDrop:
      return;
  }
  if (listener.accept_queue_full()) {
    ++counters_.listen_overflows;
    ++counters_.listen_drops;
    return;
  }
  if (listener.syn_queue_full()) {
    ++counters_.syn_queue_overflows;
    ++counters_.listen_drops;
    return;
  }
  const SocketId id = next_id_++;
  Handle handle;
  handle.connection = make_connection(id, tuple, listener.socket_options(), now);
  handle.user_owned = false;
  Connection& connection = *handle.connection;
  touch(id, handles_.emplace(id, std::move(handle)).first->second);
  by_tuple_[tuple] = id;
  listener.add_handshake(id);
  connection.set_fault_policy(listener.fault_policy(), now);
  connection.open_passive(segment, listener.id(), now);
}

void Tcp::answer_with_reset(const FourTuple& tuple, const packet::TcpRepr& segment) {
  if (const auto reset = reset_for(segment)) {
    ++counters_.out_rsts;
    send_segment(tuple, *reset, 0);
  }
}

void Tcp::poll(Instant now) {
  now_ = std::max(now_, now);
  // Each due connection leaves the index as it runs; settle() files its next deadline.
  while (!timers_.empty() && timers_.begin()->first <= now) {
    const SocketId id = timers_.begin()->second;
    Handle& handle = handles_.at(id);
    handle.parked_timer = timers_.extract(timers_.begin());
    handle.timer.reset();
    touch(id, handle);
    handle.connection->on_timers(now);
  }
  settle();
}

std::optional<Instant> Tcp::next_deadline() const {
  if (timers_.empty()) {
    return std::nullopt;
  }
  return timers_.begin()->first;
}

void Tcp::touch(SocketId socket, Handle& handle) {
  if (handle.connection && !handle.touched) {
    handle.touched = true;
    touched_.push_back(socket);
  }
}

void Tcp::reschedule_touched() {
  for (const SocketId id : touched_) {
    const auto found = handles_.find(id);
    if (found == handles_.end()) {
      continue;
    }
    Handle& handle = found->second;
    handle.touched = false;
    const std::optional<Instant> deadline = handle.connection->next_deadline();
    if (deadline == handle.timer) {
      continue;
    }
    // The entry's node moves with the deadline (or waits for the next one): no allocation.
    TimerIndex::node_type node =
        handle.timer ? timers_.extract({*handle.timer, id}) : std::move(handle.parked_timer);
    handle.timer = deadline;
    if (!deadline) {
      handle.parked_timer = std::move(node);
    } else if (node.empty()) {
      timers_.emplace(*deadline, id);  // the connection's first timer
    } else {
      node.value() = {*deadline, id};
      timers_.insert(std::move(node));
    }
  }
  touched_.clear();
}

void Tcp::unschedule(SocketId socket, Handle& handle) {
  if (handle.timer) {
    timers_.erase({*handle.timer, socket});
    handle.timer.reset();
  }
}

absl::StatusOr<SocketId> Tcp::listen(Endpoint local, ListenOptions limits, Instant now) {
  now_ = std::max(now_, now);
  if (local.port == 0) {
    return absl::InvalidArgumentError("TCP port 0 cannot be listened on; pick 1-65535");
  }
  if (limits.syn_backlog == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("TCP port ", local.port, ": the SYN backlog must be at least 1"));
  }
  // As listen(2) with net.core.somaxconn.
  limits.backlog = std::min(limits.backlog, config_.max_listen_backlog);
  if (listeners_by_port_.contains(local.port)) {
    return absl::AlreadyExistsError(
        absl::StrCat("TCP port ", local.port, " is already listened on"));
  }
  const SocketId id = next_id_++;
  Handle handle;
  handle.listener = std::make_unique<Listener>(id, local, limits, config_.socket_defaults);
  handles_.emplace(id, std::move(handle));
  listeners_by_port_[local.port] = id;
  settle();
  return id;
}

absl::StatusOr<SocketId> Tcp::connect(Endpoint remote, std::uint16_t local_port, Instant now) {
  now_ = std::max(now_, now);
  if (remote.port == 0 || remote.address.is_unspecified() || remote.address.is_broadcast() ||
      remote.address.is_multicast()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot connect to ", remote.to_string(), ": not a unicast endpoint"));
  }
  const auto source = output_.source_address_for(remote.address);
  if (!source) {
    return absl::UnavailableError(absl::StrCat("no route to ", remote.address.to_string()));
  }
  if (local_port == 0) {
    const auto picked = pick_ephemeral_port(remote, *source);
    if (!picked) {
      return absl::ResourceExhaustedError(
          absl::StrCat("no ephemeral TCP port free toward ", remote.to_string()));
    }
    local_port = *picked;
  }
  const FourTuple tuple{{*source, local_port}, remote};
  if (by_tuple_.contains(tuple)) {
    return absl::AlreadyExistsError(absl::StrCat("TCP connection ", tuple.local.to_string(), " -> ",
                                                 remote.to_string(), " exists"));
  }
  const SocketId id = next_id_++;
  Handle handle;
  handle.connection = make_connection(id, tuple, config_.socket_defaults, now);
  Connection& connection = *handle.connection;
  touch(id, handles_.emplace(id, std::move(handle)).first->second);
  by_tuple_[tuple] = id;
  connection.open_active(now);
  settle();
  return id;
}

absl::StatusOr<SocketId> Tcp::accept(SocketId listener_id) {
  const auto found = handles_.find(listener_id);
  if (found == handles_.end() || !found->second.user_owned) {
    return absl::NotFoundError(absl::StrCat("no TCP socket ", listener_id));
  }
  if (!found->second.listener) {
    return absl::FailedPreconditionError(
        absl::StrCat("TCP socket ", listener_id, " is not listening"));
  }
  const auto accepted = found->second.listener->pop_accepted();
  if (!accepted) {
    return absl::UnavailableError("no connection to accept");
  }
  Handle& handle = handles_.at(*accepted);
  handle.user_owned = true;
  handle.connection->detach_from_listener();
  return *accepted;
}

absl::StatusOr<std::size_t> Tcp::read(SocketId socket, packet::MutableBytes out, Instant now) {
  now_ = std::max(now_, now);
  Connection* connection = connection_for(socket);
  if (!connection) {
    return absl::NotFoundError(absl::StrCat("no TCP connection ", socket));
  }
  const std::size_t len = connection->read(out);
  settle();
  if (len > 0 || out.empty() || connection->end_of_stream()) {
    return len;
  }
  if (!connection->error().ok()) {
    return connection->error();
  }
  if (connection->state() == TcpState::kClosed) {
    return 0;
  }
  return absl::UnavailableError("nothing to read yet");
}

absl::StatusOr<std::size_t> Tcp::write(SocketId socket, packet::ConstBytes data, Instant now,
                                       std::uint8_t flags) {
  now_ = std::max(now_, now);
  Connection* connection = connection_for(socket);
  if (!connection) {
    return absl::NotFoundError(absl::StrCat("no TCP connection ", socket));
  }
  if (!connection->error().ok()) {
    return connection->error();
  }
  const TcpState state = connection->state();
  if (connection->send_shut_down() ||
      (state != TcpState::kSynSent && state != TcpState::kSynReceived &&
       state != TcpState::kEstablished && state != TcpState::kCloseWait)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "TCP connection ", socket, " cannot send any more (", std::string(state_name(state)), ")"));
  }
  const std::size_t len = connection->write(data, (flags & write_flag::kMore) != 0, now);
  settle();
  if (len == 0 && !data.empty()) {
    return absl::UnavailableError("send buffer full");
  }
  return len;
}

absl::Status Tcp::shutdown(SocketId socket, Instant now) {
  now_ = std::max(now_, now);
  Connection* connection = connection_for(socket);
  if (!connection) {
    return absl::NotFoundError(absl::StrCat("no TCP connection ", socket));
  }
  connection->shutdown_send(now);
  settle();
  return absl::OkStatus();
}

absl::Status Tcp::close(SocketId socket, Instant now) {
  now_ = std::max(now_, now);
  const auto found = handles_.find(socket);
  if (found == handles_.end() || !found->second.user_owned) {
    return absl::NotFoundError(absl::StrCat("no TCP socket ", socket));
  }
  Handle& handle = found->second;
  if (handle.listener) {
    std::vector<SocketId> queued(handle.listener->handshaking().begin(),
                                 handle.listener->handshaking().end());
    queued.insert(queued.end(), handle.listener->established().begin(),
                  handle.listener->established().end());
    listeners_by_port_.erase(handle.listener->local().port);
    handles_.erase(found);
    for (const SocketId id : queued) {
      if (Connection* connection = connection_for(id)) {
        connection->detach_from_listener();
        connection->abort(now);
      }
    }
  } else {
    handle.user_owned = false;
    handle.callback = nullptr;
    touch(socket, handle);
    handle.connection->close(now);
    if (handle.connection->state() == TcpState::kClosed) {
      closed_orphans_.push_back(socket);
    }
  }
  settle();
  return absl::OkStatus();
}

absl::Status Tcp::abort(SocketId socket, Instant now) {
  now_ = std::max(now_, now);
  const auto found = handles_.find(socket);
  if (found == handles_.end() || !found->second.user_owned) {
    return absl::NotFoundError(absl::StrCat("no TCP socket ", socket));
  }
  if (found->second.listener) {
    return close(socket, now);
  }
  found->second.user_owned = false;
  found->second.callback = nullptr;
  touch(socket, found->second);
  found->second.connection->abort(now);
  if (found->second.connection->state() == TcpState::kClosed) {
    closed_orphans_.push_back(socket);
  }
  settle();
  return absl::OkStatus();
}

void Tcp::send_segment(const FourTuple& connection, const packet::TcpRepr& segment,
                       std::uint16_t cut_payload_len) {
  counters_.out_segs +=
      cut_payload_len == 0 ? 1 : (segment.payload.size() + cut_payload_len - 1) / cut_payload_len;
  data_segments_out_ += segment.payload.empty() ? 0 : 1;
  output_.send_segment(connection, segment, cut_payload_len);
}

void Tcp::notify(SocketId socket, std::uint8_t events) { pending_events_[socket] |= events; }

void Tcp::connection_established(Connection& connection) {
  const auto found = handles_.find(*connection.listener());
  if (found == handles_.end() || !found->second.listener) {
    return;
  }
  found->second.listener->promote(connection.id());
  notify(found->first, socket_event::kAcceptable);
}

void Tcp::connection_closed(Connection& connection) {
  if (const auto found = by_tuple_.find(connection.tuple());
      found != by_tuple_.end() && found->second == connection.id()) {
    by_tuple_.erase(found);
  }
  if (connection.listener()) {
    // Reset or timed out before it was accepted: the listener forgets it.
    const auto listener = handles_.find(*connection.listener());
    if (listener != handles_.end() && listener->second.listener) {
      listener->second.listener->forget(connection.id());
    }
    connection.detach_from_listener();
  }
  const auto handle = handles_.find(connection.id());
  if (handle != handles_.end() && !handle->second.user_owned) {
    closed_orphans_.push_back(connection.id());
  }
}

Listener* Tcp::listener_for(const Endpoint& local) {
  const auto found = listeners_by_port_.find(local.port);
  if (found == listeners_by_port_.end()) {
    return nullptr;
  }
  Listener* listener = handles_.at(found->second).listener.get();
  if (!listener->local().address.is_unspecified() && listener->local().address != local.address) {
    return nullptr;
  }
  return listener;
}

Connection* Tcp::connection_for(SocketId socket) {
  const auto found = handles_.find(socket);
  if (found == handles_.end()) {
    return nullptr;
  }
  touch(socket, found->second);
  return found->second.connection.get();
}

const Tcp::Handle* Tcp::handle_for(SocketId socket) const {
  const auto found = handles_.find(socket);
  return found == handles_.end() ? nullptr : &found->second;
}

std::unique_ptr<Connection> Tcp::make_connection(SocketId id, const FourTuple& tuple,
                                                 const SocketOptions& options, Instant now) {
  const std::uint16_t mss = mss_for_mtu(output_.mtu());
  auto congestion = make_congestion_control(config_.congestion_control, mss);
  const std::uint32_t iss = config_.isn_override
                                ? config_.isn_override(tuple, now)
                                : initial_sequence_number(tuple, now, config_.isn_secret);
  // create() checked the algorithm's name.
  return std::make_unique<Connection>(static_cast<ConnectionHost&>(*this), id, tuple, options,
                                      std::move(*congestion), mss, SeqNumber(iss));
}

std::optional<std::uint16_t> Tcp::pick_ephemeral_port(const Endpoint& remote,
                                                      packet::Ipv4Address local) {
  const std::uint32_t range = config_.ephemeral_port_last - config_.ephemeral_port_first + 1u;
  for (std::uint32_t tried = 0; tried < range; ++tried) {
    const std::uint16_t port = next_ephemeral_port_;
    next_ephemeral_port_ = port == config_.ephemeral_port_last
                               ? config_.ephemeral_port_first
                               : static_cast<std::uint16_t>(port + 1);
    if (!listeners_by_port_.contains(port) &&
        !by_tuple_.contains(FourTuple{{local, port}, remote})) {
      return port;
    }
  }
  return std::nullopt;
}

void Tcp::settle() {
  if (settling_) {
    return;
  }
  settling_ = true;
  while (!closed_orphans_.empty() || !pending_events_.empty() || !acks_owed_.empty()) {
    const std::vector<SocketId> orphans = std::move(closed_orphans_);
    closed_orphans_.clear();
    for (const SocketId id : orphans) {
      const auto found = handles_.find(id);
      if (found != handles_.end() && !found->second.user_owned && found->second.connection &&
          found->second.connection->state() == TcpState::kClosed) {
        unschedule(id, found->second);
        handles_.erase(found);
        pending_events_.erase(id);
      }
    }
    const std::map<SocketId, std::uint8_t> events = std::move(pending_events_);
    pending_events_.clear();
    for (const auto& [id, bits] : events) {
      const auto found = handles_.find(id);
      if (found == handles_.end() || !found->second.user_owned || !found->second.callback) {
        continue;
      }
      // A copy: the callback may replace itself or close the socket.
      const ReadinessCallback callback = found->second.callback;
      callback(id, bits);
    }
    if (closed_orphans_.empty() && pending_events_.empty() && !acks_owed_.empty()) {
      acks_flushing_.swap(acks_owed_);
      for (const SocketId id : acks_flushing_) {
        if (Connection* connection = connection_for(id)) {
          connection->flush_deferred_ack(now_);
        }
      }
      acks_flushing_.clear();
    }
  }
  reschedule_touched();
  settling_ = false;
}

}  // namespace nslab::ustack::tcp
