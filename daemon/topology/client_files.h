#pragma once

#include <optional>
#include <string>

#include "daemon/topology/field_error.h"
#include "google/protobuf/map.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::topology {

// The texts a client sent for the files its topology names, keyed by the name as written.
using ClientFiles = google::protobuf::Map<std::string, std::string>;

// Puts each named file's text where the daemon reads it (nftables_file -> nftables,
// trace_file -> trace), from `files`. nslabd opens no path a client names: a name that
// arrives without its text, in the topology or in `files`, is an error naming the field.
// An entry of `files` that nothing names is an error too: it is a typo in one of the two.
std::optional<FieldError> InlineClientFiles(nslab::v1::Topology* topology,
                                            const ClientFiles& files);

}  // namespace nslab::topology
