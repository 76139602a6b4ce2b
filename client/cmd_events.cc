#include <google/protobuf/util/json_util.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "client/commands.h"
#include "nslab/v1/labs.grpc.pb.h"

namespace nslab::client {
namespace {

// "2024-05-01T12:00:00.123Z  LINK_STATE  client:eth0  client:eth0 down". The first line
// (UNSPECIFIED) says the watch is armed; a later one, that events were dropped.
std::string EventLine(const nslab::v1::LabEvent& event) {
  const absl::Time time =
      absl::FromUnixSeconds(event.time().seconds()) + absl::Nanoseconds(event.time().nanos());
  std::string kind(
      absl::StripPrefix(nslab::v1::LabEventKind_Name(event.kind()), "LAB_EVENT_KIND_"));
  if (event.kind() == nslab::v1::LAB_EVENT_KIND_UNSPECIFIED) {
    kind = "NOTICE";
  }
  const std::string& where = !event.subject().empty() ? event.subject() : event.node();
  return absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone()), "  ",
                      kind, "  ", where.empty() ? "-" : where, "  ", event.message());
}

std::string JsonLine(const nslab::v1::LabEvent& event) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(event, &json, options);
  return json;
}

}  // namespace

void AddEventsCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "events", "Follow a lab's events (links, processes, scenario steps) until it is deleted");
  static std::string lab;
  cmd->add_option("lab", lab, "Lab name")->required();
  cmd->callback([&options, &exit_code] {
    auto stub = nslab::v1::LabsService::NewStub(Connect(options));
    nslab::v1::WatchEventsRequest request;
    request.set_lab(lab);
    // No deadline: a watch lasts as long as the lab (or until interrupted).
    grpc::ClientContext context;
    auto reader = stub->WatchEvents(&context, request);
    const bool json = options.output == "json";
    bool deleted = false;
    nslab::v1::WatchEventsResponse response;
    while (reader->Read(&response)) {
      const auto& event = response.event();
      std::cout << (json ? JsonLine(event) : EventLine(event)) << std::endl;
      deleted = event.kind() == nslab::v1::LAB_EVENT_KIND_LAB_DELETED;
    }
    const grpc::Status status = reader->Finish();
    if (!status.ok()) {
      exit_code = ReportError(status, options);
    } else if (!deleted) {
      std::cerr << "nslab: the daemon ended the watch of " << lab
                << " before the lab was deleted\n";
      exit_code = 1;
    }
  });
}

}  // namespace nslab::client
