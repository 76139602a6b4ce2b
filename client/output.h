#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <vector>

#include "nslab/v1/labs.pb.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::client {

// Writes all of `data` to `fd` (a command's streamed stdout or stderr); stops at an error.
void WriteAll(int fd, const std::string& data);

// Prints a message as JSON (stable field names from the proto) or YAML.
void PrintJson(const google::protobuf::Message& message);
void PrintYaml(const google::protobuf::Message& message);

// For -o json|yaml; returns false for "table" so the verb prints its own layout.
bool PrintStructured(const google::protobuf::Message& message, const std::string& format);

// "delay 20ms loss 1% rate 10mbit", or "-" for none.
std::string DescribeImpairment(const nslab::v1::Impairment& impairment);

// One row of a wire's counters per direction, for the wire links among `links`:
// {label, direction, counters}.
struct WireCountersRow {
  std::string link;
  std::string direction;
  const nslab::v1::WireCounters* counters;
  // One flow's share of a direction: offloads and super-frames are the direction's, not its.
  bool flow = false;
};
std::string WireCountersTable(const std::vector<WireCountersRow>& rows);

}  // namespace nslab::client
