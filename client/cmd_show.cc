#include <google/protobuf/util/time_util.h>

#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/commands.h"
#include "client/output.h"
#include "client/table.h"
#include "client/ustack_print.h"
#include "nslab/v1/labs.grpc.pb.h"
#include "nslab/v1/participants.grpc.pb.h"

namespace nslab::client {

namespace {

// The faults in force on the lab's ustack nodes, asked of their stacks (a fault set at run
// time is in no topology).
void PrintUstackFaults(const nslab::v1::Lab& lab, const GlobalOptions& options) {
  Table table({"NODE", "PORT", "FAULT"});
  bool any = false;
  for (const auto& node : lab.topology().nodes()) {
    if (node.kind() != nslab::v1::NODE_KIND_USTACK) {
      continue;
    }
    auto stub = nslab::v1::ParticipantsService::NewStub(Connect(options));
    nslab::v1::GetUstackStatsRequest request;
    request.set_lab(lab.name());
    request.set_node(node.name());
    nslab::v1::GetUstackStatsResponse response;
    auto status = stub->GetUstackStats(NewContext(options).get(), request, &response);
    if (!status.ok()) {
      table.AddRow(
          {node.name(), "?", absl::StrCat("(stack not answering: ", status.error_message(), ")")});
      any = true;
      continue;
    }
    for (const auto& fault : response.stats().faults()) {
      table.AddRow({node.name(), absl::StrCat("tcp:", fault.port()), DescribeUstackFault(fault)});
      any = true;
    }
  }
  if (any) {
    std::cout << "\nustack faults (nslab ustack fault):\n" << table.ToString();
  }
}

std::string PeerOfStack(const nslab::v1::Topology& topology, const std::string& node) {
  for (const auto& link : topology.links()) {
    if (link.a().node() == node) {
      return absl::StrCat(link.b().node(), ":", link.b().interface());
    }
    if (link.b().node() == node) {
      return absl::StrCat(link.a().node(), ":", link.a().interface());
    }
  }
  return "";
}

// A ustack node's routes are its stack's, in no kernel table `nslab diag` reads.
void PrintStackRoutes(const nslab::v1::Lab& lab) {
  Table table({"NODE", "ROUTE", "SOURCE"});
  bool any = false;
  for (const auto& node : lab.nodes()) {
    for (const auto& route : node.stack().routes()) {
      table.AddRow({node.name(), route, node.stack().source()});
      any = true;
    }
  }
  if (any) {
    std::cout << "\nustack routes (the stack's own table):\n" << table.ToString();
  }
}

}  // namespace

void AddShowCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand("show", "Nodes, interfaces, addresses and state of a lab");
  static std::string name;
  cmd->add_option("lab", name, "Lab name")->required();
  static bool topology_yaml = false;
  cmd->add_flag("--topology", topology_yaml,
                "Print the lab's topology as YAML, ready for nslab up -t (files it named are "
                "inline)");
  cmd->callback([&options, &exit_code] {
    auto stub = nslab::v1::LabsService::NewStub(Connect(options));
    nslab::v1::GetLabRequest request;
    request.set_name(name);
    request.set_include_topology_yaml(topology_yaml);
    nslab::v1::GetLabResponse response;
    auto status = stub->GetLab(NewContext(options).get(), request, &response);
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    const nslab::v1::Lab& lab = response.lab();
    if (topology_yaml) {
      std::cout << response.topology_yaml();
      return;
    }
    if (PrintStructured(lab, options.output)) {
      return;
    }
    std::cout << "lab " << lab.name() << "  state "
              << absl::AsciiStrToLower(nslab::v1::LabState_Name(lab.state()).substr(10))
              << "  created " << google::protobuf::util::TimeUtil::ToString(lab.created()) << "\n";
    Table table({"NODE", "KIND", "NETNS", "INTERFACE", "STATE", "MAC", "MTU", "ADDRESSES", "PEER"});
    for (const auto& node : lab.nodes()) {
      const std::string kind =
          absl::AsciiStrToLower(nslab::v1::NodeKind_Name(node.kind()).substr(10));
      if (node.interfaces().empty()) {
        table.AddRow({node.name(), kind, node.netns(), "-", "MISSING", "", "", "", ""});
      }
      bool first = true;
      for (const auto& iface : node.interfaces()) {
        if (iface.name() == "lo") {
          continue;
        }
        const char* state = !iface.up() ? "DOWN" : iface.carrier() ? "UP" : "NO-CARRIER";
        table.AddRow({first ? node.name() : "", first ? kind : "", first ? node.netns() : "",
                      iface.name(), state, iface.mac(), std::to_string(iface.mtu()),
                      absl::StrJoin(iface.addresses(), ","), iface.peer()});
        first = false;
      }
      if (node.has_stack()) {
        // The stack's own interface: the node's face, behind the kernel's bridge and TAP.
        const auto& stack = node.stack();
        table.AddRow({first ? node.name() : "", first ? kind : "", first ? node.netns() : "",
                      absl::StrCat(stack.name(), " (stack)"), "-",
                      stack.mac().empty() ? "(random)" : stack.mac(), std::to_string(stack.mtu()),
                      absl::StrJoin(stack.addresses(), ","),
                      PeerOfStack(lab.topology(), node.name())});
        first = false;
      }
      if (first && !node.interfaces().empty()) {
        table.AddRow({node.name(), kind, node.netns(), "-", "", "", "", "", ""});
      }
    }
    std::cout << table.ToString();
    PrintStackRoutes(lab);
    PrintUstackFaults(lab, options);
    if (lab.links().empty()) {
      return;
    }
    Table links({"LINK", "MODE", "WHY", "A->B", "B->A"});
    std::vector<WireCountersRow> counters;
    for (const auto& link : lab.links()) {
      links.AddRow({link.name(),
                    absl::AsciiStrToLower(nslab::v1::LinkMode_Name(link.mode()).substr(10)),
                    link.mode_reason(), DescribeImpairment(link.a_to_b()),
                    DescribeImpairment(link.b_to_a())});
      if (link.mode() == nslab::v1::LINK_MODE_WIRE) {
        counters.push_back({link.name(), "a->b", &link.a_to_b_counters()});
        counters.push_back({link.name(), "b->a", &link.b_to_a_counters()});
      }
    }
    std::cout << "\n" << links.ToString();
    if (!counters.empty()) {
      std::cout << "\n" << WireCountersTable(counters);
    }
  });
}

}  // namespace nslab::client
