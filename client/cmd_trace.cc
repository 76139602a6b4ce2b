// nslab trace: one probe followed hop by hop, and where it died.
#include <iostream>

#include "absl/strings/numbers.h"
#include "client/commands.h"
#include "client/diag_print.h"
#include "client/output.h"
#include "nslab/v1/diag.grpc.pb.h"

namespace nslab::client {

void AddTraceCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "trace",
      "Send one probe from a node and follow it hop by hop: routes, firewall, qdiscs, "
      "captures, and the verdict (exit 0 if delivered, 1 if dropped)");
  static std::string lab, node, target, protocol = "tcp";
  static uint32_t timeout_ms = 0;
  cmd->add_option("lab", lab, "Lab name")->required();
  cmd->add_option("source", node, "Node the probe leaves from")->required();
  cmd->add_option("destination", target, "ADDRESS[:PORT] or NODE[:PORT]")->required();
  cmd->add_option("--proto", protocol, "tcp, udp or icmp")
      ->check(CLI::IsMember({"tcp", "udp", "icmp"}))
      ->capture_default_str();
  cmd->add_option("--wait", timeout_ms, "Milliseconds to wait for an answer (default 2000)");
  cmd->footer("Example: nslab trace mylab client server:80");
  cmd->callback([&options, &exit_code] {
    nslab::v1::TraceRequest request;
    request.set_lab(lab);
    request.set_source_node(node);
    request.set_protocol(protocol);
    request.set_timeout_ms(timeout_ms);
    std::string destination = target;
    if (const size_t colon = target.rfind(':');
        colon != std::string::npos && target.find(':') == colon) {
      uint32_t port = 0;
      if (!absl::SimpleAtoi(target.substr(colon + 1), &port) || port == 0 || port > 65535) {
        std::cerr << "nslab: " << target << ": the port must be 1-65535\n";
        exit_code = 2;
        return;
      }
      request.set_port(port);
      destination = target.substr(0, colon);
    }
    request.set_destination(destination);
    auto stub = nslab::v1::DiagnosticsService::NewStub(Connect(options));
    nslab::v1::TraceResponse report;
    auto status = stub->Trace(NewContext(options).get(), request, &report);
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    if (!PrintStructured(report, options.output)) {
      std::cout << FormatTrace(report);
    }
    exit_code = report.verdict() == "delivered" ? 0 : 1;
  });
}

}  // namespace nslab::client
