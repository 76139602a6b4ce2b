#include <map>

#include "daemon/scenario/lab/probes.h"

namespace nslab::scenario {

const ProbeHandler* ProbeHandlerFor(const nslab::v1::Check& check) {
  using Kind = nslab::v1::Check::ProbeCase;
  static const auto* const handlers = new std::map<Kind, ProbeHandler>{
      {Kind::kTcp, TcpProbeHandler()},         {Kind::kHttp, HttpProbeHandler()},
      {Kind::kPing, PingProbeHandler()},       {Kind::kExec, ExecProbeHandler()},
      {Kind::kCounter, CounterProbeHandler()},
  };
  const auto it = handlers->find(check.probe_case());
  return it == handlers->end() ? nullptr : &it->second;
}

}  // namespace nslab::scenario
