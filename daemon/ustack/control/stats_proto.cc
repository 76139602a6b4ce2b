#include "daemon/ustack/control/stats_proto.h"

#include "absl/strings/str_cat.h"

#include <chrono>
#include <string>

namespace nslab::ustack::control {

void to_proto(const driver::NicSettings& settings, v1::UstackNicSettings* out) {
  out->set_rx_ring(settings.rx_ring);
  out->set_tx_ring(settings.tx_ring);
  out->set_rx_coalesce_frames(settings.rx_coalesce_frames);
  out->set_rx_coalesce_usecs(settings.rx_coalesce_usecs);
  out->set_csum_offload(settings.csum_offload);
  out->set_tso(settings.tso);
}

void to_proto(const node::LatencyHistogram& histogram, v1::UstackLatencyHistogram* out) {
  out->set_count(histogram.count());
  out->set_sum_ns(histogram.sum_ns());
  out->set_max_ns(histogram.max_ns());
  for (std::size_t bucket = 0; bucket < node::LatencyHistogram::kBoundedBuckets; ++bucket) {
    if (histogram.bucket_count(bucket) != 0) {
      v1::UstackLatencyBucket* b = out->add_buckets();
      b->set_le_ns(node::LatencyHistogram::bound_ns(bucket));
      b->set_count(histogram.bucket_count(bucket));
    }
  }
  out->set_above_largest_bound(histogram.bucket_count(node::LatencyHistogram::kBoundedBuckets));
}

void to_proto(const node::NodeStats& stats, v1::UstackStats* out) {
  to_proto(stats.service_times.handshake, out->mutable_service_times()->mutable_handshake());
  to_proto(stats.service_times.answer, out->mutable_service_times()->mutable_answer());
  to_proto(stats.nic_settings, out->mutable_nic_settings());

  const driver::NicCounterValues& nic = stats.nic;
  v1::UstackNicCounters* n = out->mutable_nic();
  n->set_rx_packets(nic.rx_packets);
  n->set_rx_bytes(nic.rx_bytes);
  n->set_tx_packets(nic.tx_packets);
  n->set_tx_bytes(nic.tx_bytes);
  n->set_rx_missed_errors(nic.rx_missed_errors);
  n->set_tx_queue_full(nic.tx_queue_full);
  n->set_kicks(nic.kicks);
  n->set_interrupts(nic.interrupts);
  n->set_interrupts_suppressed(nic.interrupts_suppressed);
  n->set_rx_csum_errors(nic.rx_csum_errors);
  n->set_rx_length_errors(nic.rx_length_errors);
  n->set_tx_errors(nic.tx_errors);
  n->set_rx_lro_frames(nic.rx_lro_frames);
  n->set_tx_tso_frames(nic.tx_tso_frames);

  const net::EthernetCounters& ethernet = stats.stack.ethernet;
  v1::UstackEthernetStats* e = out->mutable_ethernet();
  e->set_in_frames(ethernet.in_frames);
  e->set_in_malformed(ethernet.in_malformed);
  e->set_in_not_for_us(ethernet.in_not_for_us);
  e->set_in_unknown_ethertype(ethernet.in_unknown_ethertype);
  e->set_out_frames(ethernet.out_frames);

  const net::ArpCounters& arp = stats.stack.arp;
  v1::UstackArpStats* a = out->mutable_arp();
  a->set_requests_sent(arp.requests_sent);
  a->set_replies_sent(arp.replies_sent);
  a->set_requests_received(arp.requests_received);
  a->set_replies_received(arp.replies_received);
  a->set_gratuitous_sent(arp.gratuitous_sent);
  a->set_malformed(arp.malformed);
  a->set_resolution_failures(arp.resolution_failures);
  a->set_pending_dropped(arp.pending_dropped);
  for (const net::ArpEntrySnapshot& entry : stats.stack.arp_entries) {
    v1::UstackArpEntry* e = a->add_entries();
    e->set_ip(entry.ip.to_string());
    if (entry.mac) {
      e->set_mac(entry.mac->to_string());
    }
    e->set_state(net::neighbour_state_name(entry.state));
    e->set_pending_packets(static_cast<std::uint32_t>(entry.pending_packets));
  }

  const net::Ipv4Counters& ip = stats.stack.ipv4;
  v1::UstackIpv4Stats* i = out->mutable_ipv4();
  i->set_in_receives(ip.in_receives);
  i->set_in_hdr_errors(ip.in_hdr_errors);
  i->set_in_addr_errors(ip.in_addr_errors);
  i->set_in_unknown_protos(ip.in_unknown_protos);
  i->set_in_delivers(ip.in_delivers);
  i->set_in_fragments_dropped(ip.in_fragments_dropped);
  i->set_out_requests(ip.out_requests);
  i->set_out_no_routes(ip.out_no_routes);
  i->set_out_discards(ip.out_discards);

  const net::IcmpCounters& icmp = stats.stack.icmp;
  v1::UstackIcmpStats* c = out->mutable_icmp();
  c->set_in_msgs(icmp.in_msgs);
  c->set_in_errors(icmp.in_errors);
  c->set_in_echos(icmp.in_echos);
  c->set_in_echo_reps(icmp.in_echo_reps);
  c->set_in_dest_unreachs(icmp.in_dest_unreachs);
  c->set_out_msgs(icmp.out_msgs);
  c->set_out_echo_reps(icmp.out_echo_reps);
  c->set_out_dest_unreachs(icmp.out_dest_unreachs);
  c->set_out_rate_limited(icmp.out_rate_limited);

  const net::UdpCounters& udp = stats.stack.udp;
  v1::UstackUdpStats* u = out->mutable_udp();
  u->set_in_datagrams(udp.in_datagrams);
  u->set_no_ports(udp.no_ports);
  u->set_in_errors(udp.in_errors);
  u->set_in_csum_errors(udp.in_csum_errors);
  u->set_out_datagrams(udp.out_datagrams);
  u->set_sndbuf_errors(udp.sndbuf_errors);

  const tcp::TcpCounters& tcp = stats.stack.tcp;
  v1::UstackTcpStats* t = out->mutable_tcp();
  t->set_active_opens(tcp.active_opens);
  t->set_passive_opens(tcp.passive_opens);
  t->set_attempt_fails(tcp.attempt_fails);
  t->set_estab_resets(tcp.estab_resets);
  t->set_curr_estab(stats.stack.tcp_current_established);
  t->set_in_segs(tcp.in_segs);
  t->set_out_segs(tcp.out_segs);
  t->set_retrans_segs(tcp.retrans_segs);
  t->set_in_errs(tcp.in_errs);
  t->set_in_csum_errors(tcp.in_csum_errors);
  t->set_in_rsts(tcp.in_rsts);
  t->set_out_rsts(tcp.out_rsts);
  t->set_no_socket(tcp.no_socket);
  t->set_listen_overflows(tcp.listen_overflows);
  t->set_listen_drops(tcp.listen_drops);
  t->set_syn_queue_overflows(tcp.syn_queue_overflows);
  t->set_challenge_acks(tcp.challenge_acks);
  t->set_paws_rejected(tcp.paws_rejected);
  t->set_fast_retransmits(tcp.fast_retransmits);
  t->set_timeouts(tcp.timeouts);
  t->set_delayed_acks(tcp.delayed_acks);
  t->set_window_probes(tcp.window_probes);
  t->set_keep_alive_probes(tcp.keep_alive_probes);
  t->set_ofo_queued(tcp.ofo_queued);
  t->set_sack_blocks_sent(tcp.sack_blocks_sent);
  t->set_aborts_on_timeout(tcp.aborts_on_timeout);
  t->set_aborts_on_close(tcp.aborts_on_close);
  t->set_time_wait_expired(tcp.time_wait_expired);
  t->set_sack_recovery_retransmits(tcp.sack_recovery_retransmits);
  for (const tcp::TcpSocketInfo& socket : stats.stack.tcp_sockets) {
    to_proto(socket, out->add_tcp_sockets());
  }
  for (const apps::ClientReport& client : stats.clients) {
    v1::UstackClient* c = out->add_clients();
    c->set_spec(client.spec);
    c->set_state(std::string(apps::phase_name(client.phase)));
    c->set_error(client.error);
    c->set_connect_attempts(client.connect_attempts);
    c->set_local(client.local);
    c->set_bytes_sent(client.bytes_sent);
    c->set_bytes_received(client.bytes_received);
    c->set_received_fnv1a64(client.received_fnv1a64);
    c->set_received_pattern_ok(client.received_pattern_ok);
  }
}

void to_proto(const tcp::TcpSocketInfo& socket, v1::UstackTcpSocket* out) {
  const auto micros = [](tcp::Duration duration) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(duration).count());
  };
  out->set_local(socket.local.to_string());
  out->set_remote(socket.remote.to_string());
  out->set_state(std::string(tcp::state_name(socket.state)));
  out->set_send_q(socket.send_q);
  out->set_recv_q(socket.recv_q);
  if (socket.rtt) {
    out->set_rtt_us(micros(*socket.rtt));
  }
  out->set_rttvar_us(micros(socket.rttvar));
  out->set_rto_us(micros(socket.rto));
  out->set_mss(socket.mss);
  out->set_cwnd(socket.cwnd);
  out->set_ssthresh(socket.ssthresh);
  out->set_send_window(socket.send_window);
  out->set_send_wscale(socket.send_window_shift);
  out->set_receive_wscale(socket.receive_window_shift);
  out->set_timestamps(socket.timestamps);
  out->set_sack(socket.sack);
  out->set_retransmits(socket.retransmits);
  out->set_backoff(static_cast<std::uint32_t>(socket.backoff));
  out->set_orphaned(socket.orphaned);
  out->set_no_delay(socket.no_delay);
  out->set_cork(socket.cork);
}

driver::NicSettingsUpdate from_proto(const v1::UstackControlServiceSetNicRequest& request) {
  driver::NicSettingsUpdate update;
  if (request.has_rx_ring()) {
    update.rx_ring = request.rx_ring();
  }
  if (request.has_tx_ring()) {
    update.tx_ring = request.tx_ring();
  }
  if (request.has_rx_coalesce_frames()) {
    update.rx_coalesce_frames = request.rx_coalesce_frames();
  }
  if (request.has_rx_coalesce_usecs()) {
    update.rx_coalesce_usecs = request.rx_coalesce_usecs();
  }
  if (request.has_csum_offload()) {
    update.csum_offload = request.csum_offload();
  }
  if (request.has_tso()) {
    update.tso = request.tso();
  }
  return update;
}

void to_proto(const std::vector<node::PortFault>& faults,
              google::protobuf::RepeatedPtrField<v1::UstackFault>* out) {
  for (const node::PortFault& fault : faults) {
    v1::UstackFault* entry = out->Add();
    entry->set_port(fault.port);
    entry->set_mode(std::string(apps::mode_name(fault.fault.mode)));
    entry->set_bytes(fault.fault.bytes);
    entry->set_rate(fault.fault.rate);
  }
}

absl::StatusOr<node::PortFault> from_proto(const v1::UstackFault& fault) {
  if (fault.port() == 0 || fault.port() > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("port ", fault.port(), ": give the service's TCP port, 1-65535"));
  }
  // The number travels in the field that names its unit; parse_fault reads "mode:number".
  const bool reset_after = fault.mode() == "reset-after";
  const bool slow_read = fault.mode() == "slow-read";
  if (reset_after && fault.bytes() == 0) {
    return absl::InvalidArgumentError(
        "reset-after needs bytes: how many bytes a connection moves before its reset "
        "(nslab ustack fault ... reset-after --bytes N)");
  }
  if (slow_read && fault.rate() == 0) {
    return absl::InvalidArgumentError(
        "slow-read needs a rate: the bytes per second the app reads "
        "(nslab ustack fault ... slow-read --rate BYTES_PER_SECOND)");
  }
  if (fault.bytes() != 0 && !reset_after) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bytes ", fault.bytes(), ": only reset-after takes bytes, not \"", fault.mode(), "\""));
  }
  if (fault.rate() != 0 && !slow_read) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rate ", fault.rate(), ": only slow-read takes a rate, not \"", fault.mode(), "\""));
  }
  const std::string text = reset_after ? absl::StrCat(fault.mode(), ":", fault.bytes())
                           : slow_read ? absl::StrCat(fault.mode(), ":", fault.rate())
                                       : fault.mode();
  absl::StatusOr<apps::FaultSpec> spec = apps::parse_fault(text);
  if (!spec.ok()) {
    return spec.status();
  }
  return node::PortFault{static_cast<std::uint16_t>(fault.port()), *spec};
}

}  // namespace nslab::ustack::control
