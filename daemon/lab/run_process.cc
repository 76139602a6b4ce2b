#include "daemon/lab/run_process.h"

#include "daemon/lab/readiness.h"
#include "daemon/topology/names.h"
#include "daemon/topology/process_ready.h"

namespace nslab::lab {
namespace {

exec::RestartPolicy PolicyOf(nslab::v1::RestartPolicy policy) {
  switch (policy) {
    case nslab::v1::RESTART_POLICY_ALWAYS:
      return exec::RestartPolicy::kAlways;
    case nslab::v1::RESTART_POLICY_ON_FAILURE:
      return exec::RestartPolicy::kOnFailure;
    default:
      return exec::RestartPolicy::kNever;
  }
}

}  // namespace

exec::ProcessSpec RunProcessSpec(const std::string& lab, const nslab::v1::Node& node,
                                 const nslab::v1::Process& process) {
  exec::ProcessSpec spec;
  spec.lab = lab;
  spec.node = node.name();
  spec.netns = topology::NamespaceOf(lab, node.name());
  spec.argv.assign(process.argv().begin(), process.argv().end());
  spec.restart = PolicyOf(process.restart());
  const nslab::v1::ProcessReady& ready = process.ready();
  spec.ready_timeout = absl::Milliseconds(topology::ProcessReadyTimeoutMs(ready));
  spec.ready_description = topology::DescribeProcessReady(ready);
  switch (ready.condition_case()) {
    case nslab::v1::ProcessReady::kLine:
      spec.ready_line = ready.line();
      break;
    case nslab::v1::ProcessReady::kTcp:
    case nslab::v1::ProcessReady::kUdp: {
      const bool tcp = ready.condition_case() == nslab::v1::ProcessReady::kTcp;
      spec.ready_probe = [netns = spec.netns, protocol = std::string(tcp ? "tcp" : "udp"),
                          port = tcp ? ready.tcp() : ready.udp()] {
        return IsListening(netns, protocol, port);
      };
      break;
    }
    case nslab::v1::ProcessReady::CONDITION_NOT_SET:
      break;
  }
  return spec;
}

}  // namespace nslab::lab
