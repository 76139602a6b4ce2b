#include <google/protobuf/util/time_util.h>

#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "client/commands.h"
#include "client/output.h"
#include "client/table.h"
#include "nslab/v1/labs.grpc.pb.h"

namespace nslab::client {

void AddLsCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand("ls", "List the labs of this daemon");
  cmd->callback([&options, &exit_code] {
    auto stub = nslab::v1::LabsService::NewStub(Connect(options));
    nslab::v1::ListLabsResponse response;
    auto status = stub->ListLabs(NewContext(options).get(), {}, &response);
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    if (PrintStructured(response, options.output)) {
      return;
    }
    Table table({"LAB", "STATE", "NODES", "LINKS", "CREATED", "TTL"});
    for (const auto& lab : response.labs()) {
      const uint32_t ttl = lab.topology().ttl_seconds();
      table.AddRow(
          {lab.name(), absl::AsciiStrToLower(nslab::v1::LabState_Name(lab.state()).substr(10)),
           std::to_string(lab.topology().nodes_size()), std::to_string(lab.topology().links_size()),
           google::protobuf::util::TimeUtil::ToString(lab.created()),
           ttl == 0 ? "-" : std::to_string(ttl) + "s"});
    }
    std::cout << table.ToString();
  });
}

}  // namespace nslab::client
