#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/topology/names.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::lab {

// A ustack node's namespace holds a bridge joining the link's veth end and a persistent
// TAP that the stack's process attaches to: the kernel there carries no address, and
// tcpdump on the link's interface sees every frame the stack sends and receives.
// Their names are in topology/names.h: validation keeps links' interfaces off them.
using topology::kUstackBridge;
using topology::kUstackTap;
// What nslab-ustack prints once its TAP is attached, its services listen and its control
// socket answers (daemon/ustack/tool/main.cc): until then the node is not ready.
inline constexpr char kUstackReadyLine[] = "nslab-ustack: ready on ";

// The command line of the node's nslab-ustack process: its TAP, address, MAC, MTU,
// routes (including routing: auto's), ring sizes, services, their faults and control socket.
std::vector<std::string> UstackArgv(const std::string& binary, const nslab::v1::Topology& topology,
                                    const nslab::v1::Node& node, const std::string& control_socket);

// The MAC the stack runs with, from the last ready line in its output (a stack started
// without --mac picks a random one each run); nullopt when no ready line is there.
std::optional<std::string> MacFromReadyLine(std::string_view output);

}  // namespace nslab::lab
