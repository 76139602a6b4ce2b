// nslab diag: the article's per-layer tools, for one node of a lab.
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/commands.h"
#include "client/diag_print.h"
#include "client/output.h"
#include "nslab/v1/diag.grpc.pb.h"

namespace nslab::client {
namespace {

struct DiagArgs {
  std::string lab, node, state, interface, destination, from, iif, protocol;
  uint32_t port = 0;
  uint32_t mark = 0;
  bool summary = false;
  bool memory = false;
  bool driver = false;
};

DiagArgs& Args() {
  static DiagArgs args;
  return args;
}

void AddTarget(CLI::App* cmd) {
  cmd->add_option("lab", Args().lab, "Lab name")->required();
  cmd->add_option("node", Args().node, "Node name")->required();
}

nslab::v1::NodeRequest NodeRequestOf() {
  nslab::v1::NodeRequest request;
  request.set_lab(Args().lab);
  request.set_node(Args().node);
  return request;
}

// Calls one unary RPC and prints its answer as the verb's table or as -o json|yaml.
template <typename Request, typename Response, typename Call, typename Print>
void Run(const GlobalOptions& options, int& exit_code, const Request& request, Call call,
         Print print) {
  auto stub = nslab::v1::Diagnostics::NewStub(Connect(options));
  Response response;
  grpc::Status status = ((*stub).*call)(NewContext(options).get(), request, &response);
  if (!status.ok()) {
    exit_code = ReportError(status, options);
    return;
  }
  if (!PrintStructured(response, options.output)) {
    std::cout << print(response);
  }
}

}  // namespace

void AddDiagCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* diag = app.add_subcommand(
      "diag", "Per-layer diagnostics of a node: sockets, routes, firewall, qdiscs, links, ...");
  diag->require_subcommand(1);
  using Stub = nslab::v1::Diagnostics::Stub;
  DiagArgs& args = Args();

  auto* sockets =
      diag->add_subcommand("sockets", "TCP/UDP sockets with owners and tcp_info (ss -tanpim)");
  AddTarget(sockets);
  sockets->add_option("--state", args.state, "Only this state: close-wait, estab, listen, ...");
  sockets->add_option("--port", args.port, "Only sockets with this local or peer port");
  sockets->add_option("--protocol", args.protocol, "tcp or udp (default both)");
  sockets->add_flag("--summary", args.summary, "Count sockets per state");
  sockets->add_flag("-m,--memory", args.memory, "Show socket memory (skmem)");
  sockets->callback([&options, &exit_code] {
    nslab::v1::SocketsRequest request;
    request.set_lab(Args().lab);
    request.set_node(Args().node);
    request.set_state(Args().state);
    request.set_port(Args().port);
    request.set_protocol(Args().protocol);
    Run<nslab::v1::SocketsRequest, nslab::v1::SocketList>(
        options, exit_code, request, &Stub::Sockets, [](const nslab::v1::SocketList& list) {
          return Args().summary ? FormatSocketSummary(list) : FormatSockets(list, Args().memory);
        });
  });

  auto* route = diag->add_subcommand("route", "Which route a packet takes (ip route get)");
  AddTarget(route);
  route->add_option("destination", args.destination, "Destination address")->required();
  route->add_option("--from", args.from, "Source address");
  route->add_option("--mark", args.mark, "Firewall mark");
  route->add_option("--iif", args.iif, "Input interface (the decision for a forwarded packet)");
  route->callback([&options, &exit_code] {
    nslab::v1::RouteGetRequest request;
    request.set_lab(Args().lab);
    request.set_node(Args().node);
    request.set_destination(Args().destination);
    request.set_source(Args().from);
    request.set_mark(Args().mark);
    request.set_input_interface(Args().iif);
    Run<nslab::v1::RouteGetRequest, nslab::v1::RouteDecision>(options, exit_code, request,
                                                              &Stub::RouteGet, FormatRoute);
  });

  auto* routes = diag->add_subcommand(
      "routes", "Rules and every routing table (ip rule; ip route show table all)");
  AddTarget(routes);
  routes->callback([&options, &exit_code] {
    Run<nslab::v1::NodeRequest, nslab::v1::RoutingTables>(options, exit_code, NodeRequestOf(),
                                                          &Stub::Routes, FormatRoutingTables);
  });

  auto* fw = diag->add_subcommand("fw", "nftables rules with packet counters (iptables -L -n -v)");
  AddTarget(fw);
  fw->callback([&options, &exit_code] {
    Run<nslab::v1::NodeRequest, nslab::v1::Firewall>(options, exit_code, NodeRequestOf(),
                                                     &Stub::GetFirewall, FormatFirewall);
  });

  auto* conntrack = diag->add_subcommand("conntrack", "Connection tracking table (conntrack -L)");
  AddTarget(conntrack);
  conntrack->callback([&options, &exit_code] {
    Run<nslab::v1::NodeRequest, nslab::v1::ConntrackTable>(options, exit_code, NodeRequestOf(),
                                                           &Stub::Conntrack, FormatConntrack);
  });

  auto* qdisc = diag->add_subcommand("qdisc", "Queueing disciplines with statistics (tc -s qdisc)");
  AddTarget(qdisc);
  qdisc->add_option("interface", args.interface, "Only this interface");
  qdisc->callback([&options, &exit_code] {
    nslab::v1::QdiscsRequest request;
    request.set_lab(Args().lab);
    request.set_node(Args().node);
    request.set_interface(Args().interface);
    Run<nslab::v1::QdiscsRequest, nslab::v1::QdiscList>(options, exit_code, request, &Stub::Qdiscs,
                                                        FormatQdiscs);
  });

  auto* links = diag->add_subcommand("links", "Links with counters (ip -s -s link; ethtool -g/-S)");
  AddTarget(links);
  links->add_flag("-S,--driver-stats", args.driver, "Also the driver's counters (ethtool -S)");
  links->callback([&options, &exit_code] {
    Run<nslab::v1::NodeRequest, nslab::v1::LinkList>(
        options, exit_code, NodeRequestOf(), &Stub::Links,
        [](const nslab::v1::LinkList& list) { return FormatLinks(list, Args().driver); });
  });

  auto* neigh = diag->add_subcommand("neigh", "Neighbour (ARP/NDP) table (ip neigh)");
  AddTarget(neigh);
  neigh->callback([&options, &exit_code] {
    Run<nslab::v1::NodeRequest, nslab::v1::NeighbourList>(options, exit_code, NodeRequestOf(),
                                                          &Stub::Neighbours, FormatNeighbours);
  });

  AddDiagSnapshotCommand(*diag, options, exit_code);
}

}  // namespace nslab::client
