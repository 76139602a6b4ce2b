#pragma once

// The handler of each probe kind (lab_context.h). One file per kind.

#include "daemon/scenario/lab/lab_context.h"

namespace nslab::scenario {

ProbeHandler TcpProbeHandler();      // net_checks.cc
ProbeHandler HttpProbeHandler();     // net_checks.cc
ProbeHandler PingProbeHandler();     // net_checks.cc
ProbeHandler ExecProbeHandler();     // exec_check.cc
ProbeHandler CounterProbeHandler();  // counter_check.cc

// The handler of `check`'s probe; nullptr for a check without one.
const ProbeHandler* ProbeHandlerFor(const nslab::v1::Check& check);

}  // namespace nslab::scenario
