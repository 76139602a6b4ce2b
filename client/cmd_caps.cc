#include <iostream>

#include "client/commands.h"
#include "client/output.h"
#include "client/table.h"
#include "nslab/v1/system.grpc.pb.h"

namespace nslab::client {

void AddCapsCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand("caps", "What this kernel can do for labs (probed by nslabd)");
  cmd->callback([&options, &exit_code] {
    auto stub = nslab::v1::SystemService::NewStub(Connect(options));
    nslab::v1::GetCapabilitiesResponse response;
    auto status = stub->GetCapabilities(NewContext(options).get(), {}, &response);
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    const nslab::v1::Capabilities& caps = response.capabilities();
    if (PrintStructured(caps, options.output)) {
      return;
    }
    std::cout << "kernel " << caps.kernel() << "\n";
    Table table({"FEATURE", "AVAILABLE", "DETAIL"});
    for (const auto& feature : caps.features()) {
      table.AddRow({feature.name(), feature.available() ? "yes" : "no", feature.detail()});
    }
    std::cout << table.ToString();
    if (caps.impairments().empty()) {
      return;
    }
    Table impairments({"IMPAIRMENT", "VETH (KERNEL)", "HOW", "WIRE"});
    for (const auto& row : caps.impairments()) {
      impairments.AddRow({row.parameter(), row.veth() ? "yes" : "no", row.veth_how(),
                          row.wire() ? "yes" : "no (no TUN)"});
    }
    std::cout << "\n" << impairments.ToString();
  });
}

}  // namespace nslab::client
