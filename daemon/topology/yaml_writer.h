#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::topology {

// Prints a topology as the YAML that ReadTopologyYaml reads, with the same conveniences
// (nodes keyed by name, `node:interface` endpoints, units, per-node sections at the top
// level; docs/topology-format.md) and without defaults, so that for every topology T that
// ValidateTopology accepts, ReadTopologyYaml(*WriteTopologyYaml(T)) equals T.
//
// Refuses (INVALID_ARGUMENT, naming the field) what the file format cannot carry: a topology
// that does not validate, text that is not UTF-8 or holds a Unicode noncharacter, and a
// result too large or too deeply bracketed for the reader (yaml_limits.h).
absl::StatusOr<std::string> WriteTopologyYaml(const nslab::v1::Topology& topology);

}  // namespace nslab::topology
