#include <iostream>

#include "absl/strings/str_join.h"
#include "client/commands.h"
#include "client/duration.h"
#include "nslab/v1/chaos.grpc.pb.h"

namespace nslab::client {

void AddLinkCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand("link", "Take a link down or up, or flap it");
  static std::string lab, link, action, end = "both", down = "2s", up = "5s";
  static int count = 3;
  cmd->add_option("lab", lab, "Lab name")->required();
  cmd->add_option("link", link, "node:interface of either end, or the link's name")->required();
  cmd->add_option("action", action, "down, up or flap")
      ->required()
      ->check(CLI::IsMember({"down", "up", "flap"}));
  cmd->add_option("--end", end, "Which end: a, b or both")
      ->check(CLI::IsMember({"a", "b", "both"}))
      ->capture_default_str();
  cmd->add_option("--down", down, "flap: time down")->capture_default_str();
  cmd->add_option("--up", up, "flap: time up")->capture_default_str();
  cmd->add_option("--count", count, "flap: cycles")->capture_default_str();
  cmd->callback([&options, &exit_code] {
    const nslab::v1::LinkEnd which = end == "a"   ? nslab::v1::LINK_END_A
                                     : end == "b" ? nslab::v1::LINK_END_B
                                                  : nslab::v1::LINK_END_BOTH;
    auto stub = nslab::v1::ChaosService::NewStub(Connect(options));
    nslab::v1::SetLinkStateResponse response;
    grpc::Status status;
    if (action == "flap") {
      auto down_ms = ParseMilliseconds(down);
      auto up_ms = ParseMilliseconds(up);
      if (!down_ms || !up_ms) {
        std::cerr << "nslab: --down/--up take a duration like 500ms or 2s\n";
        exit_code = 2;
        return;
      }
      nslab::v1::FlapLinkRequest request;
      request.set_lab(lab);
      request.set_link(link);
      request.set_end(which);
      request.set_down_ms(*down_ms);
      request.set_up_ms(*up_ms);
      request.set_count(count);
      nslab::v1::FlapLinkResponse flap;
      status = stub->FlapLink(NewContext(options).get(), request, &flap);
      response.mutable_changed()->Swap(flap.mutable_changed());
    } else {
      nslab::v1::SetLinkStateRequest request;
      request.set_lab(lab);
      request.set_link(link);
      request.set_end(which);
      request.set_up(action == "up");
      status = stub->SetLinkState(NewContext(options).get(), request, &response);
    }
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    std::cout << action << ": " << absl::StrJoin(response.changed(), " ") << "\n";
  });
}

}  // namespace nslab::client
