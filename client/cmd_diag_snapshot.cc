// nslab diag snapshot: every layer of every node, and what changed since a previous one.
#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "client/commands.h"
#include "client/diag_print.h"
#include "client/output.h"
#include "nslab/v1/diag.grpc.pb.h"

namespace nslab::client {

void AddDiagSnapshotCommand(CLI::App& diag, const GlobalOptions& options, int& exit_code) {
  auto* cmd = diag.add_subcommand("snapshot",
                                  "Every layer of every node of a lab (-o json: the CI artifact)");
  static std::string lab, since;
  cmd->add_option("lab", lab, "Lab name")->required();
  cmd->add_option("--since", since,
                  "A previous `snapshot -o json` file: print the counters that changed");
  cmd->footer(
      "Example: nslab diag snapshot mylab -o json > before.json; <test>; "
      "nslab diag snapshot mylab --since before.json");
  cmd->callback([&options, &exit_code] {
    nslab::v1::SnapshotResponse before;
    if (!since.empty()) {
      std::ifstream in(since);
      if (!in) {
        std::cerr << "nslab: cannot read " << since << "\n";
        exit_code = 2;
        return;
      }
      std::stringstream text;
      text << in.rdbuf();
      google::protobuf::util::JsonParseOptions parse;
      parse.ignore_unknown_fields = true;
      auto parsed = google::protobuf::util::JsonStringToMessage(text.str(), &before, parse);
      if (!parsed.ok()) {
        std::cerr << "nslab: " << since << " is not a snapshot (-o json): " << parsed.ToString()
                  << "\n";
        exit_code = 2;
        return;
      }
    }
    auto stub = nslab::v1::DiagnosticsService::NewStub(Connect(options));
    nslab::v1::SnapshotRequest request;
    request.set_lab(lab);
    nslab::v1::SnapshotResponse snapshot;
    auto status = stub->Snapshot(NewContext(options).get(), request, &snapshot);
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    if (since.empty()) {
      if (!PrintStructured(snapshot, options.output)) {
        std::cout << FormatSnapshot(snapshot);
      }
      return;
    }
    const auto diff = DiffSnapshots(before, snapshot);
    if (!PrintStructured(diff, options.output)) {
      std::cout << FormatSnapshotDiff(diff);
    }
  });
}

}  // namespace nslab::client
