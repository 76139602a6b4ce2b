#include <memory>

#include "absl/strings/str_cat.h"
#include "daemon/common/fd.h"
#include "daemon/lab/lab_registry.h"
#include "daemon/netns/netns.h"
#include "daemon/scenario/lab/lab_targets.h"
#include "daemon/scenario/lab/net_probes.h"
#include "daemon/scenario/lab/probes.h"

namespace nslab::scenario {
namespace {

// The `from` node's namespace, held open for the whole scenario: every attempt probes the
// namespace the lab had when the scenario started.
absl::StatusOr<UniqueFd> OpenFrom(LabContext& context, const nslab::v1::Check& check) {
  auto netns = context.labs->NodeNamespace(context.lab, check.from());
  if (!netns.ok()) {
    return netns.status();
  }
  return netns::Open(*netns);
}

absl::Status RequireFrom(const nslab::v1::Topology& topology, const nslab::v1::Check& check) {
  if (check.from().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("check ", check.name(), ": from: names the node the probe runs in"));
  }
  return RequireNode(topology, check.from());
}

class TcpProbe : public Probe {
 public:
  TcpProbe(UniqueFd netns, SocketTarget target) : netns_(std::move(netns)), target_(target) {}
  ProbeOutcome Attempt(absl::Duration timeout) override {
    return TcpConnect(netns_.get(), target_, timeout);
  }

 private:
  UniqueFd netns_;
  SocketTarget target_;
};

class HttpProbe : public Probe {
 public:
  HttpProbe(UniqueFd netns, HttpTarget target, uint32_t status)
      : netns_(std::move(netns)), target_(std::move(target)), status_(status) {}
  ProbeOutcome Attempt(absl::Duration timeout) override {
    return HttpGet(netns_.get(), target_, status_, timeout);
  }

 private:
  UniqueFd netns_;
  HttpTarget target_;
  uint32_t status_;
};

class PingProbe : public Probe {
 public:
  PingProbe(UniqueFd netns, std::string address, PingBounds bounds)
      : netns_(std::move(netns)), address_(std::move(address)), bounds_(bounds) {}
  ProbeOutcome Attempt(absl::Duration timeout) override {
    return Ping(netns_.get(), address_, bounds_, timeout);
  }

 private:
  UniqueFd netns_;
  std::string address_;
  PingBounds bounds_;
};

}  // namespace

ProbeHandler TcpProbeHandler() {
  return {[](const nslab::v1::Topology& topology, const nslab::v1::Check& check) {
            if (auto target = ParseSocketTarget(check.tcp()); !target.ok()) {
              return target.status();
            }
            return RequireFrom(topology, check);
          },
          [](LabContext& context,
             const nslab::v1::Check& check) -> absl::StatusOr<std::unique_ptr<Probe>> {
            auto target = ParseSocketTarget(check.tcp());
            if (!target.ok()) {
              return target.status();
            }
            auto netns = OpenFrom(context, check);
            if (!netns.ok()) {
              return netns.status();
            }
            return std::make_unique<TcpProbe>(std::move(*netns), *target);
          }};
}

ProbeHandler HttpProbeHandler() {
  return {[](const nslab::v1::Topology& topology, const nslab::v1::Check& check) {
            if (auto target = ParseHttpUrl(check.http()); !target.ok()) {
              return target.status();
            }
            return RequireFrom(topology, check);
          },
          [](LabContext& context,
             const nslab::v1::Check& check) -> absl::StatusOr<std::unique_ptr<Probe>> {
            auto target = ParseHttpUrl(check.http());
            if (!target.ok()) {
              return target.status();
            }
            auto netns = OpenFrom(context, check);
            if (!netns.ok()) {
              return netns.status();
            }
            return std::make_unique<HttpProbe>(std::move(*netns), *target, check.status());
          }};
}

ProbeHandler PingProbeHandler() {
  return {[](const nslab::v1::Topology& topology, const nslab::v1::Check& check) {
            return RequireFrom(topology, check);
          },
          [](LabContext& context,
             const nslab::v1::Check& check) -> absl::StatusOr<std::unique_ptr<Probe>> {
            auto netns = OpenFrom(context, check);
            if (!netns.ok()) {
              return netns.status();
            }
            PingBounds bounds;
            bounds.count = check.count() == 0 ? 3 : check.count();
            bounds.max_loss_percent = check.max_loss();
            bounds.max_rtt = absl::Microseconds(check.max_rtt_us());
            return std::make_unique<PingProbe>(std::move(*netns), check.ping(), bounds);
          }};
}

}  // namespace nslab::scenario
