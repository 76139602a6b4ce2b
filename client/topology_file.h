#pragma once

#include <optional>
#include <string>
#include <vector>

#include "nslab/v1/labs.pb.h"

namespace nslab::client {

// The files a topology's text names (nodes.*.nftables_file, links[*].{impair,a_to_b,b_to_a}
// .trace_file) and does not carry the text of (nftables, trace), as written, each once. Text
// that is not YAML names none: the daemon reports it.
std::vector<std::string> FilesNamedBy(const std::string& topology_yaml);

// A CreateLabRequest carrying the text of a topology file and of every file it names, read
// here relative to the topology file: the daemon opens no path a client sends. Prints why
// and returns nothing when a file is unreadable.
std::optional<nslab::v1::CreateLabRequest> RequestFromFile(const std::string& path);

// The same topology, name and files as a PlanLabRequest (a dry run of `request`).
nslab::v1::PlanLabRequest PlanRequestOf(const nslab::v1::CreateLabRequest& request);

}  // namespace nslab::client
