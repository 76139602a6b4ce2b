#include "daemon/lab/lab_wires.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "daemon/common/log.h"

namespace nslab::lab {
namespace {

absl::StatusOr<std::optional<wire::MacAddress>> ParseMac(const std::string& text) {
  if (text.empty()) {
    return std::nullopt;
  }
  wire::MacAddress mac{};
  unsigned int bytes[6];
  char trailing = 0;
  if (std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &bytes[0], &bytes[1], &bytes[2],
                  &bytes[3], &bytes[4], &bytes[5], &trailing) != 6) {
    return absl::InvalidArgumentError(absl::StrCat("bad MAC address \"", text, "\""));
  }
  for (int i = 0; i < 6; ++i) {
    mac[i] = static_cast<uint8_t>(bytes[i]);
  }
  return mac;
}

}  // namespace

struct WireRuntime::Loop {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::thread thread{[this] { io.run(); }};
};

WireRuntime::WireRuntime() : loop_(std::make_unique<Loop>()) {}

WireRuntime::~WireRuntime() {
  loop_->work.reset();
  loop_->io.stop();
  loop_->thread.join();
}

boost::asio::io_context& WireRuntime::io() { return loop_->io; }

std::string LinkLabel(const nslab::v1::Link& link) {
  if (!link.name().empty()) {
    return link.name();
  }
  return absl::StrCat(link.a().node(), ":", link.a().interface(), " <-> ", link.b().node(), ":",
                      link.b().interface());
}

LabWires::~LabWires() { StopAll(wire::StopMode::kKeepDevices); }

absl::Status LabWires::Add(const WireLinkRequest& request) {
  const nslab::v1::Link& link = *request.link;
  wire::WireLinkSpec spec;
  spec.lab_seed = request.lab_seed;
  spec.link_name = LinkLabel(link);
  spec.ns_a = request.ns_a;
  spec.ifname_a = link.a().interface();
  spec.ns_b = request.ns_b;
  spec.ifname_b = link.b().interface();
  spec.a_to_b = request.a_to_b;
  spec.b_to_a = request.b_to_a;
  spec.a_to_b_flows = request.a_to_b_flows;
  spec.b_to_a_flows = request.b_to_a_flows;
  spec.mtu = link.mtu() == 0 ? 1500 : link.mtu();
  auto mac_a = ParseMac(request.ustack_a ? "" : link.a().mac());
  auto mac_b = ParseMac(request.ustack_b ? "" : link.b().mac());
  if (!mac_a.ok() || !mac_b.ok()) {
    return mac_a.ok() ? mac_b.status() : mac_a.status();
  }
  spec.mac_a = *mac_a;
  spec.mac_b = *mac_b;
  spec.up = false;
  spec.reattach = request.reattach;
  auto created = wire::WireLink::Create(runtime_->io(), spec);
  if (!created.ok()) {
    return created.status();
  }
  absl::MutexLock lock(&mutex_);
  links_[request.index] = std::shared_ptr<wire::WireLink>(std::move(*created));
  return absl::OkStatus();
}

std::shared_ptr<wire::WireLink> LabWires::Find(int index) const {
  absl::MutexLock lock(&mutex_);
  auto it = links_.find(index);
  return it == links_.end() ? nullptr : it->second;
}

void LabWires::Remove(int index, wire::StopMode mode) {
  std::shared_ptr<wire::WireLink> link;
  {
    absl::MutexLock lock(&mutex_);
    auto it = links_.find(index);
    if (it == links_.end()) {
      return;
    }
    link = std::move(it->second);
    links_.erase(it);
  }
  if (auto status = link->Stop(mode); !status.ok()) {
    NSLAB_LOG(Warning) << "stopping wire " << link->name() << ": " << status.message();
  }
}

void LabWires::Renumber(const std::map<int, int>& old_to_new) {
  absl::MutexLock lock(&mutex_);
  std::map<int, std::shared_ptr<wire::WireLink>> renumbered;
  for (auto& [index, link] : links_) {
    auto it = old_to_new.find(index);
    renumbered[it == old_to_new.end() ? index : it->second] = std::move(link);
  }
  links_.swap(renumbered);
}

void LabWires::StopAll(wire::StopMode mode) {
  std::map<int, std::shared_ptr<wire::WireLink>> links;
  {
    absl::MutexLock lock(&mutex_);
    links.swap(links_);
  }
  for (auto& [index, link] : links) {
    if (auto status = link->Stop(mode); !status.ok()) {
      NSLAB_LOG(Warning) << "stopping wire " << link->name() << ": " << status.message();
    }
  }
}

nslab::v1::WireCounters ToProto(const wire::PipelineCounters& p) {
  nslab::v1::WireCounters out;
  out.set_offered(p.offered);
  out.set_forwarded(p.forwarded);
  out.set_bytes(p.bytes);
  out.set_dropped_loss(p.dropped_loss);
  out.set_dropped_queue_full(p.dropped_queue_full);
  out.set_dropped_link_down(p.dropped_link_down);
  out.set_dropped_oversize(p.dropped_oversize);
  out.set_duplicated(p.duplicated);
  out.set_corrupted(p.corrupted);
  out.set_reordered(p.reordered);
  out.set_queue_depth(p.queue_depth);
  return out;
}

namespace {

template <typename Flows>
std::vector<wire::FlowRule> RulesOf(const Flows& flows) {
  std::vector<wire::FlowRule> rules;
  rules.reserve(flows.size());
  for (const nslab::v1::FlowImpairmentState& flow : flows) {
    rules.push_back({flow.match(), flow.impairment()});
  }
  return rules;
}

}  // namespace

std::vector<wire::FlowRule> FlowRulesOf(
    const google::protobuf::RepeatedPtrField<nslab::v1::FlowImpairmentState>& flows) {
  return RulesOf(flows);
}

std::vector<wire::FlowRule> FlowRulesOf(const std::vector<nslab::v1::FlowImpairmentState>& flows) {
  return RulesOf(flows);
}

nslab::v1::WireCounters ToProto(const wire::WireCounters& counters) {
  nslab::v1::WireCounters out = ToProto(counters.pipeline);
  out.set_tx_dropped(counters.tx_dropped);
  out.set_tx_errors(counters.tx_errors);
  out.set_rx_errors(counters.rx_errors);
  out.set_super_frames(counters.super_frames);
  out.set_dropped_super_frames(counters.dropped_super_frames);
  out.set_offloads(counters.offloads);
  return out;
}

}  // namespace nslab::lab
