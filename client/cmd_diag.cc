// nslab diag: the article's per-layer tools, for one node of a lab.
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/commands.h"
#include "client/diag_print.h"
#include "client/output.h"
#include "nslab/v1/chaos.grpc.pb.h"
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

// The request of an RPC that asks about one node (RoutesRequest, LinksRequest, ...).
template <typename Request>
Request NodeRequestOf() {
  Request request;
  request.set_lab(Args().lab);
  request.set_node(Args().node);
  return request;
}

// Calls one unary RPC and prints its answer as the verb's table or as -o json|yaml.
template <typename Request, typename Response, typename Stub, typename Print>
void Run(const GlobalOptions& options, int& exit_code, const Request& request,
         grpc::Status (Stub::*call)(grpc::ClientContext*, const Request&, Response*), Print print) {
  auto stub = std::make_unique<Stub>(Connect(options));
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
  using Stub = nslab::v1::DiagnosticsService::Stub;
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
    Run(options, exit_code, request, &Stub::Sockets, [](const nslab::v1::SocketsResponse& list) {
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
    Run(options, exit_code, request, &Stub::RouteGet, FormatRoute);
  });

  auto* routes = diag->add_subcommand(
      "routes", "Rules and every routing table (ip rule; ip route show table all)");
  AddTarget(routes);
  routes->callback([&options, &exit_code] {
    Run(options, exit_code, NodeRequestOf<nslab::v1::RoutesRequest>(), &Stub::Routes,
        FormatRoutingTables);
  });

  auto* fw = diag->add_subcommand("fw", "nftables rules with packet counters (iptables -L -n -v)");
  AddTarget(fw);
  fw->callback([&options, &exit_code] {
    // The firewall's one home is ChaosService, which also changes it (nslab fw); -o json
    // prints the Firewall itself, as before.
    auto stub = nslab::v1::ChaosService::NewStub(Connect(options));
    nslab::v1::GetFirewallResponse response;
    grpc::Status status = stub->GetFirewall(
        NewContext(options).get(), NodeRequestOf<nslab::v1::GetFirewallRequest>(), &response);
    if (!status.ok()) {
      exit_code = ReportError(status, options);
    } else if (!PrintStructured(response.firewall(), options.output)) {
      std::cout << FormatFirewall(response.firewall());
    }
  });

  auto* conntrack = diag->add_subcommand("conntrack", "Connection tracking table (conntrack -L)");
  AddTarget(conntrack);
  conntrack->callback([&options, &exit_code] {
    Run(options, exit_code, NodeRequestOf<nslab::v1::ConntrackRequest>(), &Stub::Conntrack,
        FormatConntrack);
  });

  auto* qdisc = diag->add_subcommand("qdisc", "Queueing disciplines with statistics (tc -s qdisc)");
  AddTarget(qdisc);
  qdisc->add_option("interface", args.interface, "Only this interface");
  qdisc->callback([&options, &exit_code] {
    nslab::v1::QdiscsRequest request;
    request.set_lab(Args().lab);
    request.set_node(Args().node);
    request.set_interface(Args().interface);
    Run(options, exit_code, request, &Stub::Qdiscs, FormatQdiscs);
  });

  auto* links = diag->add_subcommand("links", "Links with counters (ip -s -s link; ethtool -g/-S)");
  AddTarget(links);
  links->add_flag("-S,--driver-stats", args.driver, "Also the driver's counters (ethtool -S)");
  links->callback([&options, &exit_code] {
    Run(options, exit_code, NodeRequestOf<nslab::v1::LinksRequest>(), &Stub::Links,
        [](const nslab::v1::LinksResponse& list) { return FormatLinks(list, Args().driver); });
  });

  auto* neigh = diag->add_subcommand("neigh", "Neighbour (ARP/NDP) table (ip neigh)");
  AddTarget(neigh);
  neigh->callback([&options, &exit_code] {
    Run(options, exit_code, NodeRequestOf<nslab::v1::NeighboursRequest>(), &Stub::Neighbours,
        FormatNeighbours);
  });

  AddDiagSnapshotCommand(*diag, options, exit_code);
}

}  // namespace nslab::client
