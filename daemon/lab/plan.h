#pragma once

#include <string>
#include <vector>

#include "nslab/v1/topology.pb.h"

namespace nslab::lab {

// The steps BuildLab and the process supervisor would take for this (validated)
// topology, in order, as sentences a person can review before anything is built.
// A route as the plans say it, after its destination: " via 10.0.0.1 dev eth0 table 10".
std::string RouteDetails(const nslab::v1::Route& route);

std::vector<std::string> PlanSteps(const nslab::v1::Topology& topology, const std::string& lab);

}  // namespace nslab::lab
