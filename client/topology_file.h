#pragma once

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nslab/v1/labs.pb.h"

namespace nslab::client {

// The files a topology's text names (nodes.*.nftables_file, links[*].{impair,a_to_b,b_to_a}
// .trace_file) and does not carry the text of (nftables, trace), as written, each once. Text
// that is not YAML names none: the daemon reports it.
std::vector<std::string> FilesNamedBy(const std::string& topology_yaml);

// A CreateLabRequest carrying the text of a topology file and of every file it names, read
// here relative to the topology file: the daemon opens no path a client sends. Prints why
// and returns nothing when a file is unreadable or the whole too large to send.
std::optional<nslab::v1::CreateLabRequest> RequestFromFile(const std::string& path);

// INVALID_ARGUMENT, in nslab's words, when nslabd would refuse `request` (made from the
// topology file `path`) for its size: its YAML reader takes 4 MiB of text, and gRPC takes
// requests of 4 MiB (nslabd sets no other limit) -- text and named files together.
absl::Status CheckRequestSize(const nslab::v1::CreateLabRequest& request, const std::string& path);

// gRPC's own words for a request over the daemon's limit ("Received message larger than max
// (N vs. M)") said as CheckRequestSize says them; any other status as it is.
grpc::Status ExplainSizeRefusal(const grpc::Status& status, const std::string& path);

// The name of the lab `request` builds, as nslabd will name it: its name, else the
// topology's name:. Empty when the text gives none (nslabd then refuses it).
std::string LabNameOf(const nslab::v1::CreateLabRequest& request);

// The same topology, name and files as a PlanLabRequest (a dry run of `request`).
nslab::v1::PlanLabRequest PlanRequestOf(const nslab::v1::CreateLabRequest& request);

}  // namespace nslab::client
