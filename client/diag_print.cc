#include "client/diag_print.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/table.h"

namespace nslab::client {
namespace {

std::string HostPort(const std::string& address, uint32_t port, const std::string& family) {
  std::string host = address;
  if (family == "inet6") {
    host = absl::StrCat("[", address, "]");
  }
  return absl::StrCat(host, ":", port == 0 ? std::string("*") : std::to_string(port));
}

std::string Ms(uint32_t us) { return absl::StrFormat("%.3f", us / 1000.0); }

// What a socket's options say about small writes, as ss words its flags: "nodelay", "cork",
// both, or "-".
std::string SendOptions(const nslab::v1::TcpInfo& tcp) {
  std::vector<std::string> words;
  if (tcp.nodelay()) {
    words.push_back("nodelay");
  }
  if (tcp.cork()) {
    words.push_back("cork");
  }
  return words.empty() ? "-" : absl::StrJoin(words, ",");
}

std::string Bytes(uint64_t bytes) {
  if (bytes >= 10ull * 1024 * 1024) {
    return absl::StrCat(bytes / (1024 * 1024), "Mb");
  }
  if (bytes >= 10ull * 1024) {
    return absl::StrCat(bytes / 1024, "Kb");
  }
  return absl::StrCat(bytes, "b");
}

}  // namespace

std::string FormatSockets(const nslab::v1::SocketsResponse& list, bool memory) {
  std::vector<std::string> header = {
      "Netid",   "State",   "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port",
      "Process", "rtt(ms)", "cwnd",   "retrans"};
  if (memory) {
    header.push_back("skmem");
  }
  // Only a ustack node reports TCP_NODELAY and TCP_CORK; a kernel node's table keeps ss's shape.
  const bool send_options = std::any_of(
      list.sockets().begin(), list.sockets().end(),
      [](const nslab::v1::Socket& s) { return s.tcp().has_nodelay() || s.tcp().has_cork(); });
  if (send_options) {
    header.push_back("opts");
  }
  Table table(header);
  for (const auto& s : list.sockets()) {
    std::vector<std::string> users;
    for (const auto& owner : s.owners()) {
      users.push_back(
          absl::StrCat("(\"", owner.comm(), "\",pid=", owner.pid(), ",fd=", owner.fd(), ")"));
    }
    std::string local = HostPort(s.local_address(), s.local_port(), s.family());
    if (!s.interface().empty()) {
      local = absl::StrCat(local, "%", s.interface());
    }
    std::vector<std::string> row = {
        s.protocol(),
        s.state(),
        std::to_string(s.recv_q()),
        std::to_string(s.send_q()),
        local,
        HostPort(s.peer_address(), s.peer_port(), s.family()),
        users.empty() ? "" : absl::StrCat("users:(", absl::StrJoin(users, ","), ")"),
        s.protocol() == "tcp" && s.state() != "LISTEN" ? Ms(s.tcp().rtt_us()) : "-",
        s.protocol() == "tcp" && s.state() != "LISTEN" ? std::to_string(s.tcp().snd_cwnd()) : "-",
        s.protocol() == "tcp" ? absl::StrCat(s.tcp().retransmits(), "/", s.tcp().total_retrans())
                              : "-"};
    if (memory) {
      const auto& m = s.memory();
      row.push_back(absl::StrCat("(r", m.rmem_alloc(), ",rb", m.rcvbuf(), ",t", m.wmem_alloc(),
                                 ",tb", m.sndbuf(), ",f", m.fwd_alloc(), ",w", m.wmem_queued(),
                                 ",o", m.optmem(), ",bl", m.backlog(), ",d", m.drops(), ")"));
    }
    if (send_options) {
      row.push_back(s.protocol() == "tcp" ? SendOptions(s.tcp()) : "-");
    }
    table.AddRow(std::move(row));
  }
  return table.ToString();
}

std::string FormatSocketSummary(const nslab::v1::SocketsResponse& list) {
  std::string out;
  uint32_t total = 0;
  for (const auto& count : list.summary()) {
    absl::StrAppend(&out, absl::StrFormat("%7u %s\n", count.count(), count.state()));
    total += count.count();
  }
  absl::StrAppend(&out, absl::StrFormat("%7u total\n", total));
  return out;
}

std::string RouteLine(const nslab::v1::RouteGetResponse& r) {
  std::string out;
  if (!r.error().empty()) {
    absl::StrAppend(&out, r.type().empty() ? "" : absl::StrCat(r.type(), " "), r.destination(),
                    ": ", r.error());
  } else {
    if (r.type() != "unicast") {
      absl::StrAppend(&out, r.type(), " ");
    }
    absl::StrAppend(&out, r.destination());
    if (!r.source().empty()) {
      absl::StrAppend(&out, " from ", r.source());
    }
    if (!r.gateway().empty()) {
      absl::StrAppend(&out, " via ", r.gateway());
    }
    if (!r.output_interface().empty()) {
      absl::StrAppend(&out, " dev ", r.output_interface());
    }
    if (r.table() != 0 && r.table() != 254) {
      absl::StrAppend(&out, " table ", r.table() == 255 ? "local" : std::to_string(r.table()));
    }
    if (!r.preferred_source().empty()) {
      absl::StrAppend(&out, " src ", r.preferred_source());
    }
    if (r.mark() != 0) {
      absl::StrAppend(&out, " mark 0x", absl::Hex(r.mark()));
    }
    if (!r.input_interface().empty()) {
      absl::StrAppend(&out, " iif ", r.input_interface());
    }
    if (r.mtu() != 0) {
      absl::StrAppend(&out, " mtu ", r.mtu());
    }
  }
  return out;
}

std::string FormatRoute(const nslab::v1::RouteGetResponse& r) {
  std::string out = absl::StrCat(RouteLine(r), "\n");
  if (!r.matched_route().empty()) {
    absl::StrAppend(&out, "    matched: ", r.matched_route(), "\n");
  }
  return out;
}

std::string FormatRoutingTables(const nslab::v1::RoutesResponse& tables) {
  std::string out;
  for (const char* family : {"inet", "inet6"}) {
    absl::StrAppend(&out, "# ip ", std::string(family) == "inet" ? "-4" : "-6", " rule\n");
    for (const auto& rule : tables.rules()) {
      if (rule.family() == family) {
        absl::StrAppend(&out, rule.text(), "\n");
      }
    }
  }
  for (const char* family : {"inet", "inet6"}) {
    absl::StrAppend(&out, "# ip ", std::string(family) == "inet" ? "-4" : "-6",
                    " route show table all\n");
    for (const auto& route : tables.routes()) {
      if (route.family() == family) {
        absl::StrAppend(&out, route.text(), "\n");
      }
    }
  }
  return out;
}

std::string FormatFirewall(const nslab::v1::Firewall& firewall) {
  Table table({"PKTS", "BYTES", "TABLE", "CHAIN", "HANDLE", "RULE"});
  for (const auto& rule : firewall.rules()) {
    table.AddRow({rule.has_counter() ? std::to_string(rule.packets()) : "-",
                  rule.has_counter() ? std::to_string(rule.bytes()) : "-",
                  rule.family() + " " + rule.table(), rule.chain(), std::to_string(rule.handle()),
                  rule.text()});
  }
  return table.ToString();
}

std::string FormatConntrack(const nslab::v1::ConntrackResponse& table) {
  std::string out;
  for (const auto& entry : table.entries()) {
    absl::StrAppend(&out, entry.text(), "\n");
  }
  if (!table.note().empty()) {
    absl::StrAppend(&out, "# ", table.note(), "\n");
  }
  absl::StrAppend(&out, "conntrack: ", table.entries_size(), " flow entries have been shown.\n");
  return out;
}

std::string FormatQdiscs(const nslab::v1::QdiscsResponse& list) {
  std::string out;
  for (const auto& q : list.qdiscs()) {
    absl::StrAppend(&out, "qdisc ", q.kind(), " ", q.handle(), " dev ", q.interface(), " ",
                    q.parent() == "root" || q.parent() == "ingress"
                        ? q.parent()
                        : absl::StrCat("parent ", q.parent()),
                    q.parameters().empty() ? "" : " ", q.parameters(), "\n");
    absl::StrAppend(&out, " Sent ", q.sent_bytes(), " bytes ", q.sent_packets(), " pkt (dropped ",
                    q.dropped(), ", overlimits ", q.overlimits(), " requeues ", q.requeues(),
                    ")\n");
    absl::StrAppend(&out, " backlog ", Bytes(q.backlog_bytes()), " ", q.backlog_packets(), "p\n");
  }
  return out;
}

std::string FormatLinks(const nslab::v1::LinksResponse& list, bool driver) {
  std::string out;
  for (const auto& l : list.links()) {
    absl::StrAppend(&out, l.ifindex(), ": ", l.name(), ": <", absl::StrJoin(l.flags(), ","),
                    "> mtu ", l.mtu(), " qdisc ", l.qdisc().empty() ? "-" : l.qdisc());
    if (!l.master().empty()) {
      absl::StrAppend(&out, " master ", l.master());
    }
    absl::StrAppend(&out, " state ", absl::AsciiStrToUpper(l.oper_state()), " qlen ",
                    l.tx_queue_len(), l.kind().empty() ? "" : absl::StrCat(" kind ", l.kind()),
                    "\n");
    absl::StrAppend(&out, "    link/ether ", l.mac().empty() ? "-" : l.mac(), "\n");
    for (const auto& address : l.addresses()) {
      absl::StrAppend(&out, "    inet ", address, "\n");
    }
    const auto& c = l.counters();
    Table rx({"    RX:", "bytes", "packets", "errors", "dropped", "missed", "fifo", "over", "crc",
              "frame", "mcast"});
    rx.AddRow({"", std::to_string(c.rx_bytes()), std::to_string(c.rx_packets()),
               std::to_string(c.rx_errors()), std::to_string(c.rx_dropped()),
               std::to_string(c.rx_missed_errors()), std::to_string(c.rx_fifo_errors()),
               std::to_string(c.rx_over_errors()), std::to_string(c.rx_crc_errors()),
               std::to_string(c.rx_frame_errors()), std::to_string(c.multicast())});
    Table tx({"    TX:", "bytes", "packets", "errors", "dropped", "carrier", "fifo", "collsns"});
    tx.AddRow({"", std::to_string(c.tx_bytes()), std::to_string(c.tx_packets()),
               std::to_string(c.tx_errors()), std::to_string(c.tx_dropped()),
               std::to_string(c.tx_carrier_errors()), std::to_string(c.tx_fifo_errors()),
               std::to_string(c.collisions())});
    absl::StrAppend(&out, rx.ToString(), tx.ToString());
    if (l.has_ring()) {
      absl::StrAppend(&out, "    ring: rx ", l.ring().rx(), "/", l.ring().rx_max(), " tx ",
                      l.ring().tx(), "/", l.ring().tx_max(), "\n");
    }
    if (driver) {
      for (const auto& counter : l.driver_counters()) {
        absl::StrAppend(&out, "    ", counter.name(), ": ", counter.value(), "\n");
      }
    }
  }
  return out;
}

std::string FormatNeighbours(const nslab::v1::NeighboursResponse& list) {
  std::string out;
  for (const auto& n : list.neighbours()) {
    absl::StrAppend(&out, n.address(), " dev ", n.interface());
    if (!n.lladdr().empty()) {
      absl::StrAppend(&out, " lladdr ", n.lladdr());
    }
    absl::StrAppend(&out, n.router() ? " router " : " ", n.state(), "\n");
  }
  return out;
}

std::string FormatTrace(const nslab::v1::TraceResponse& report) {
  std::string out =
      absl::StrCat("trace ", report.protocol(), " ", report.source(), " -> ", report.destination());
  if (report.port() != 0) {
    absl::StrAppend(&out, ":", report.port());
  }
  absl::StrAppend(&out, "\n");
  int n = 0;
  for (const auto& hop : report.hops()) {
    absl::StrAppend(&out, absl::StrFormat("%3d  %s", ++n, hop.node()));
    if (!hop.input_interface().empty()) {
      absl::StrAppend(&out, " in ", hop.input_interface());
    }
    if (!hop.output_interface().empty()) {
      absl::StrAppend(&out, " out ", hop.output_interface());
      if (!hop.output_link_state().empty() && hop.output_link_state() != "up") {
        absl::StrAppend(&out, " (link ", hop.output_link_state(), ")");
      }
    }
    if (!hop.via_switches().empty()) {
      absl::StrAppend(&out, " via switch ", absl::StrJoin(hop.via_switches(), ","));
    }
    absl::StrAppend(&out, "\n       route: ", RouteLine(hop.route()));
    if (!hop.route().matched_route().empty()) {
      absl::StrAppend(&out, "\n       matched: ", hop.route().matched_route());
    }
    absl::StrAppend(&out, "\n       seen: probe on [", absl::StrJoin(hop.seen_probe_on(), ","),
                    "] answer on [", absl::StrJoin(hop.seen_answer_on(), ","), "]");
    if (hop.qdisc_dropped() != 0) {
      absl::StrAppend(&out, " qdisc dropped ", hop.qdisc_dropped());
    }
    absl::StrAppend(&out, "\n");
    for (const auto& translation : hop.translations()) {
      absl::StrAppend(&out, "       nat: ", translation.kind(), " ", translation.from(), " -> ",
                      translation.to(),
                      translation.rule().empty() ? "" : absl::StrCat(" by ", translation.rule()),
                      "\n");
    }
    for (const auto& event : hop.firewall()) {
      absl::StrAppend(&out, "       nft ", event.direction(), ": ", event.table(), " ",
                      event.chain(), event.handle() != 0 ? absl::StrCat(" #", event.handle()) : "",
                      event.rule().empty() ? "" : absl::StrCat(" \"", event.rule(), "\""), " -> ",
                      event.verdict(), "\n");
    }
    if (!hop.note().empty()) {
      absl::StrAppend(&out, "       note: ", hop.note(), "\n");
    }
  }
  absl::StrAppend(&out, "verdict: ", report.verdict(), " (answer: ", report.answer(),
                  ", connect: ", report.connect_result(), ", ",
                  absl::StrFormat("%.1f", report.elapsed_us() / 1000.0), " ms)\n", "  ",
                  report.explanation(), "\n");
  return out;
}

nslab::v1::SnapshotDiff DiffSnapshots(const nslab::v1::SnapshotResponse& before,
                                      const nslab::v1::SnapshotResponse& after) {
  using Key = std::tuple<std::string, std::string, std::string>;
  auto counters = [](const nslab::v1::SnapshotResponse& snapshot) {
    std::map<Key, uint64_t> values;
    for (const auto& node : snapshot.nodes()) {
      for (const auto& link : node.links().links()) {
        const std::string object = absl::StrCat("link ", link.name());
        const auto& c = link.counters();
        const std::pair<const char*, uint64_t> fields[] = {
            {"rx_packets", c.rx_packets()},
            {"rx_bytes", c.rx_bytes()},
            {"rx_dropped", c.rx_dropped()},
            {"rx_errors", c.rx_errors()},
            {"rx_missed_errors", c.rx_missed_errors()},
            {"rx_fifo_errors", c.rx_fifo_errors()},
            {"tx_packets", c.tx_packets()},
            {"tx_bytes", c.tx_bytes()},
            {"tx_dropped", c.tx_dropped()},
            {"tx_errors", c.tx_errors()},
            {"tx_fifo_errors", c.tx_fifo_errors()}};
        for (const auto& [name, value] : fields) {
          values[{node.node(), object, name}] = value;
        }
      }
      for (const auto& q : node.qdiscs().qdiscs()) {
        const std::string object =
            absl::StrCat("qdisc ", q.kind(), " ", q.interface(), " ", q.handle(), " ", q.parent());
        values[{node.node(), object, "sent_packets"}] = q.sent_packets();
        values[{node.node(), object, "sent_bytes"}] = q.sent_bytes();
        values[{node.node(), object, "dropped"}] = q.dropped();
        values[{node.node(), object, "overlimits"}] = q.overlimits();
        values[{node.node(), object, "requeues"}] = q.requeues();
      }
      for (const auto& rule : node.firewall().rules()) {
        if (!rule.has_counter()) {
          continue;
        }
        const std::string object =
            absl::StrCat("rule ", rule.family(), " ", rule.table(), " ", rule.chain(), " #",
                         rule.handle(), " ", rule.text());
        values[{node.node(), object, "packets"}] = rule.packets();
        values[{node.node(), object, "bytes"}] = rule.bytes();
      }
    }
    return values;
  };
  auto states = [](const nslab::v1::SnapshotResponse& snapshot) {
    std::map<Key, uint64_t> values;
    for (const auto& node : snapshot.nodes()) {
      for (const auto& count : node.sockets().summary()) {
        values[{node.node(), "sockets", count.state()}] = count.count();
      }
    }
    return values;
  };
  nslab::v1::SnapshotDiff diff;
  diff.set_lab(after.lab());
  *diff.mutable_since() = before.taken();
  *diff.mutable_taken() = after.taken();
  auto compare = [](const std::map<Key, uint64_t>& old_values,
                    const std::map<Key, uint64_t>& new_values,
                    google::protobuf::RepeatedPtrField<nslab::v1::CounterDelta>* out) {
    std::set<Key> keys;
    for (const auto& [key, value] : old_values) {
      keys.insert(key);
    }
    for (const auto& [key, value] : new_values) {
      keys.insert(key);
    }
    for (const auto& key : keys) {
      auto old_it = old_values.find(key);
      auto new_it = new_values.find(key);
      const uint64_t a = old_it != old_values.end() ? old_it->second : 0;
      const uint64_t b = new_it != new_values.end() ? new_it->second : 0;
      if (a == b) {
        continue;
      }
      auto* delta = out->Add();
      delta->set_node(std::get<0>(key));
      delta->set_object(std::get<1>(key));
      delta->set_counter(std::get<2>(key));
      delta->set_before(a);
      delta->set_after(b);
      delta->set_delta(static_cast<int64_t>(b) - static_cast<int64_t>(a));
    }
  };
  compare(counters(before), counters(after), diff.mutable_deltas());
  compare(states(before), states(after), diff.mutable_socket_states());
  return diff;
}

std::string FormatSnapshotDiff(const nslab::v1::SnapshotDiff& diff) {
  Table table({"NODE", "OBJECT", "COUNTER", "BEFORE", "AFTER", "DELTA"});
  for (const auto* list : {&diff.deltas(), &diff.socket_states()}) {
    for (const auto& d : *list) {
      table.AddRow({d.node(), d.object(), d.counter(), std::to_string(d.before()),
                    std::to_string(d.after()), absl::StrCat(d.delta() > 0 ? "+" : "", d.delta())});
    }
  }
  return table.ToString();
}

std::string FormatSnapshot(const nslab::v1::SnapshotResponse& snapshot) {
  Table table({"NODE", "LINKS", "RX PKTS", "TX PKTS", "DROPS(link)", "QDISC DROPS", "SOCKETS",
               "FW RULES", "FW PKTS", "CONNTRACK", "NEIGH", "ERRORS"});
  for (const auto& node : snapshot.nodes()) {
    uint64_t rx = 0, tx = 0, link_drops = 0, qdisc_drops = 0, fw_packets = 0;
    for (const auto& link : node.links().links()) {
      rx += link.counters().rx_packets();
      tx += link.counters().tx_packets();
      link_drops += link.counters().rx_dropped() + link.counters().tx_dropped();
    }
    for (const auto& q : node.qdiscs().qdiscs()) {
      qdisc_drops += q.dropped();
    }
    for (const auto& rule : node.firewall().rules()) {
      fw_packets += rule.packets();
    }
    std::vector<std::string> states;
    for (const auto& count : node.sockets().summary()) {
      states.push_back(absl::StrCat(count.state(), ":", count.count()));
    }
    table.AddRow({node.node(), std::to_string(node.links().links_size()), std::to_string(rx),
                  std::to_string(tx), std::to_string(link_drops), std::to_string(qdisc_drops),
                  states.empty() ? "-" : absl::StrJoin(states, ","),
                  std::to_string(node.firewall().rules_size()), std::to_string(fw_packets),
                  std::to_string(node.conntrack().entries_size()),
                  std::to_string(node.neighbours().neighbours_size()),
                  node.errors().empty() ? "" : absl::StrJoin(node.errors(), "; ")});
  }
  return absl::StrCat(table.ToString(), "# taken in ", snapshot.duration_us() / 1000,
                      " ms; -o json for everything\n");
}

}  // namespace nslab::client
