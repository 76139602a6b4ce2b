#include <fstream>
#include <iostream>
#include <sstream>

#include "client/commands.h"
#include "client/output.h"
#include "client/table.h"
#include "nslab/v1/chaos.grpc.pb.h"

namespace nslab::client {
namespace {

void PrintFirewall(const nslab::v1::Firewall& firewall, const GlobalOptions& options) {
  if (PrintStructured(firewall, options.output)) {
    return;
  }
  // Shaped like `iptables -L -v -n`: counters first, then where and what.
  Table table({"PKTS", "BYTES", "TABLE", "CHAIN", "HANDLE", "RULE"});
  for (const auto& rule : firewall.rules()) {
    table.AddRow({rule.has_counter() ? std::to_string(rule.packets()) : "-",
                  rule.has_counter() ? std::to_string(rule.bytes()) : "-",
                  rule.family() + " " + rule.table(), rule.chain(), std::to_string(rule.handle()),
                  rule.text()});
  }
  std::cout << table.ToString();
}

}  // namespace

void AddFwCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* fw =
      app.add_subcommand("fw", "A node's nftables firewall: set, show (with counters), flush");
  fw->require_subcommand(1);
  static std::string lab, node, file;
  auto add_target = [](CLI::App* cmd) {
    cmd->add_option("lab", lab, "Lab name")->required();
    cmd->add_option("node", node, "Node name")->required();
  };
  auto finish = [&options, &exit_code](const grpc::Status& status,
                                       const nslab::v1::Firewall& firewall) {
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    PrintFirewall(firewall, options);
  };

  auto* set = fw->add_subcommand("set", "Replace the node's ruleset atomically (nft -f syntax)");
  add_target(set);
  set->add_option("-f,--file", file, "Ruleset file ('-' for stdin)")->required();
  set->callback([&options, &exit_code, finish] {
    std::stringstream text;
    if (file == "-") {
      text << std::cin.rdbuf();
    } else {
      std::ifstream in(file);
      if (!in) {
        std::cerr << "nslab: cannot read " << file << "\n";
        exit_code = 2;
        return;
      }
      text << in.rdbuf();
    }
    nslab::v1::SetFirewallRequest request;
    request.set_lab(lab);
    request.set_node(node);
    request.set_ruleset(text.str());
    nslab::v1::SetFirewallResponse response;
    auto stub = nslab::v1::ChaosService::NewStub(Connect(options));
    // The call first: firewall() of an unset field is the default instance.
    const grpc::Status status = stub->SetFirewall(NewContext(options).get(), request, &response);
    finish(status, response.firewall());
  });

  auto* show = fw->add_subcommand("show", "Rules with packet and byte counters");
  add_target(show);
  show->callback([&options, finish] {
    nslab::v1::GetFirewallRequest request;
    request.set_lab(lab);
    request.set_node(node);
    nslab::v1::GetFirewallResponse response;
    auto stub = nslab::v1::ChaosService::NewStub(Connect(options));
    const grpc::Status status = stub->GetFirewall(NewContext(options).get(), request, &response);
    finish(status, response.firewall());
  });
  auto* flush = fw->add_subcommand("flush", "Remove the node's own tables (nslab's stay)");
  add_target(flush);
  flush->callback([&options, finish] {
    nslab::v1::FlushFirewallRequest request;
    request.set_lab(lab);
    request.set_node(node);
    nslab::v1::FlushFirewallResponse response;
    auto stub = nslab::v1::ChaosService::NewStub(Connect(options));
    const grpc::Status status = stub->FlushFirewall(NewContext(options).get(), request, &response);
    finish(status, response.firewall());
  });
}

}  // namespace nslab::client
