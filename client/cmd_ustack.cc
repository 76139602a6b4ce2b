// nslab ustack: the participant node's stack — ethtool-style NIC settings and counters,
// the ARP cache, per-layer counters, the TCP socket table, its built-in clients, the faults in
// force — and its NIC and fault controls.
#include <google/protobuf/descriptor.h>

#include <iostream>
#include <optional>

#include "absl/strings/str_format.h"
#include "client/commands.h"
#include "client/output.h"
#include "client/table.h"
#include "client/ustack_print.h"
#include "nslab/v1/participants.grpc.pb.h"

namespace nslab::client {
namespace {

// Every scalar field of a section, one per line, as `ethtool -S` prints its counters.
void PrintSection(const std::string& title, const google::protobuf::Message& message) {
  std::cout << title << ":\n";
  const auto* descriptor = message.GetDescriptor();
  const auto* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    if (field->is_repeated() ||
        field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      continue;
    }
    std::string value;
    switch (field->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT64:
        value = std::to_string(reflection->GetUInt64(message, field));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT32:
        value = std::to_string(reflection->GetUInt32(message, field));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_BOOL:
        value = reflection->GetBool(message, field) ? "on" : "off";
        break;
      default:
        continue;
    }
    std::cout << "     " << field->name() << ": " << value << "\n";
  }
}

void PrintStats(const nslab::v1::UstackStats& stats) {
  PrintSection("NIC settings (ethtool -g / -c / -k)", stats.nic_settings());
  PrintSection("NIC statistics (ethtool -S)", stats.nic());
  PrintSection("Ethernet", stats.ethernet());
  PrintSection("ARP", stats.arp());
  if (!stats.arp().entries().empty()) {
    Table table({"ADDRESS", "LLADDR", "STATE", "PENDING"});
    for (const auto& entry : stats.arp().entries()) {
      table.AddRow({entry.ip(), entry.mac().empty() ? "-" : entry.mac(), entry.state(),
                    std::to_string(entry.pending_packets())});
    }
    std::cout << table.ToString();
  }
  PrintSection("IPv4", stats.ipv4());
  PrintSection("ICMP", stats.icmp());
  PrintSection("UDP", stats.udp());
  PrintSection("TCP", stats.tcp());
  if (!stats.tcp_sockets().empty()) {
    std::cout << "TCP sockets (ss -tni):\n";
    Table table({"STATE", "RECV-Q", "SEND-Q", "LOCAL", "PEER", "RTT/VAR MS", "RTO MS", "MSS",
                 "CWND", "SSTHRESH", "RETRANS", "OPTS"});
    const auto ms = [](uint64_t us) { return absl::StrFormat("%.3f", us / 1000.0); };
    for (const auto& socket : stats.tcp_sockets()) {
      table.AddRow({socket.state(), std::to_string(socket.recv_q()),
                    std::to_string(socket.send_q()), socket.local(), socket.remote(),
                    ms(socket.rtt_us()) + "/" + ms(socket.rttvar_us()), ms(socket.rto_us()),
                    std::to_string(socket.mss()), std::to_string(socket.cwnd()),
                    std::to_string(socket.ssthresh()), std::to_string(socket.retransmits()),
                    socket.no_delay() && socket.cork() ? "nodelay,cork"
                    : socket.no_delay()                ? "nodelay"
                    : socket.cork()                    ? "cork"
                                                       : "-"});
    }
    std::cout << table.ToString();
  }
  if (!stats.clients().empty()) {
    std::cout << "Clients (--service tcp:ADDRESS:PORT:APP):\n";
    Table table({"SPEC", "STATE", "LOCAL", "ATTEMPTS", "SENT", "RECEIVED", "RECEIVED FNV-1A 64",
                 "PATTERN", "ERROR"});
    for (const auto& client : stats.clients()) {
      table.AddRow({client.spec(), client.state(), client.local().empty() ? "-" : client.local(),
                    std::to_string(client.connect_attempts()), std::to_string(client.bytes_sent()),
                    std::to_string(client.bytes_received()),
                    absl::StrFormat("%016x", client.received_fnv1a64()),
                    client.received_pattern_ok() ? "ok" : "other bytes",
                    client.error().empty() ? "-" : client.error()});
    }
    std::cout << table.ToString();
  }
  std::cout << "Faults (nslab ustack fault):\n" << UstackFaultTable(stats.faults());
  std::cout << "Service times (frames off the rx ring -> answer handed to the device):\n"
            << UstackServiceTimesText(stats.service_times());
}

}  // namespace

void AddUstackCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand("ustack", "The userspace stack of a ustack node");
  cmd->require_subcommand(1);
  static std::string lab, node;

  auto* stats =
      cmd->add_subcommand("stats", "NIC settings and counters, ARP cache, per-layer counters");
  stats->add_option("lab", lab, "Lab name")->required();
  stats->add_option("node", node, "A node of kind ustack")->required();
  stats->callback([&options, &exit_code] {
    auto stub = nslab::v1::ParticipantsService::NewStub(Connect(options));
    nslab::v1::GetUstackStatsRequest request;
    request.set_lab(lab);
    request.set_node(node);
    nslab::v1::GetUstackStatsResponse response;
    auto status = stub->GetUstackStats(NewContext(options).get(), request, &response);
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    if (!PrintStructured(response.stats(), options.output)) {
      PrintStats(response.stats());
    }
  });

  static std::optional<uint32_t> rx_ring, tx_ring, coalesce_frames, coalesce_usecs;
  static std::string csum, tso;
  auto* set =
      cmd->add_subcommand("set", "Ring sizes, interrupt coalescing, checksum and TCP offloads");
  set->add_option("lab", lab, "Lab name")->required();
  set->add_option("node", node, "A node of kind ustack")->required();
  set->add_option("--rx-ring", rx_ring, "rx virtqueue entries, a power of two (ethtool -G rx)");
  set->add_option("--tx-ring", tx_ring, "tx virtqueue entries, a power of two (ethtool -G tx)");
  set->add_option("--coalesce-frames", coalesce_frames,
                  "rx interrupt after this many frames (ethtool -C rx-frames)");
  set->add_option("--coalesce-usecs", coalesce_usecs,
                  "...or this many microseconds after the first (ethtool -C rx-usecs)");
  set->add_option("--csum-offload", csum, "on or off (ethtool -K rx/tx)")
      ->check(CLI::IsMember({"on", "off"}));
  set->add_option("--tso", tso, "on or off: TCP segmentation offload both ways (ethtool -K tso)")
      ->check(CLI::IsMember({"on", "off"}));
  set->callback([&options, &exit_code] {
    auto stub = nslab::v1::ParticipantsService::NewStub(Connect(options));
    nslab::v1::SetUstackNicRequest request;
    request.set_lab(lab);
    request.set_node(node);
    auto* nic = request.mutable_nic();
    if (rx_ring) nic->set_rx_ring(*rx_ring);
    if (tx_ring) nic->set_tx_ring(*tx_ring);
    if (coalesce_frames) nic->set_rx_coalesce_frames(*coalesce_frames);
    if (coalesce_usecs) nic->set_rx_coalesce_usecs(*coalesce_usecs);
    if (!csum.empty()) nic->set_csum_offload(csum == "on");
    if (!tso.empty()) nic->set_tso(tso == "on");
    nslab::v1::SetUstackNicResponse response;
    auto status = stub->SetUstackNic(NewContext(options).get(), request, &response);
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    if (!PrintStructured(response.nic(), options.output)) {
      PrintSection("NIC settings", response.nic());
    }
  });

  static uint32_t fault_port = 0;
  static std::string fault_mode;
  static uint64_t fault_bytes = 0, fault_rate = 0;
  static bool fault_clear = false;
  auto* fault = cmd->add_subcommand(
      "fault",
      "Break TCP on purpose on a service port: refuse, blackhole-syn, never-accept, "
      "close-wait, ignore-fin, zero-window, slow-read, reset-after; or --clear");
  fault->add_option("lab", lab, "Lab name")->required();
  fault->add_option("node", node, "A node of kind ustack")->required();
  auto* mode = fault->add_option(
      "mode", fault_mode,
      "refuse | blackhole-syn | never-accept | close-wait | ignore-fin | zero-window | "
      "slow-read (--rate) | reset-after (--bytes)");
  fault->add_option("--port", fault_port, "The TCP service's port")->required();
  fault->add_option("--bytes", fault_bytes, "reset-after: reset after this many bytes either way");
  fault->add_option("--rate", fault_rate, "slow-read: the app reads this many bytes per second");
  auto* clear = fault->add_flag("--clear", fault_clear, "Remove the port's fault");
  mode->excludes(clear);
  fault->callback([&options, &exit_code] {
    if (fault_mode.empty() && !fault_clear) {
      std::cerr << "nslab: give a mode (e.g. close-wait) or --clear\n";
      exit_code = 2;
      return;
    }
    auto stub = nslab::v1::ParticipantsService::NewStub(Connect(options));
    nslab::v1::SetUstackFaultRequest request;
    request.set_lab(lab);
    request.set_node(node);
    request.mutable_fault()->set_port(fault_port);
    request.mutable_fault()->set_mode(fault_clear ? "clear" : fault_mode);
    request.mutable_fault()->set_bytes(fault_bytes);
    request.mutable_fault()->set_rate(fault_rate);
    nslab::v1::SetUstackFaultResponse response;
    auto status = stub->SetUstackFault(NewContext(options).get(), request, &response);
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    if (!PrintStructured(response, options.output)) {
      std::cout << "Faults in force on " << lab << ":" << node << ":\n"
                << UstackFaultTable(response.faults());
    }
  });
}

}  // namespace nslab::client
