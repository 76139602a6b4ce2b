#include "daemon/diag/own_counters.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "daemon/lab/ustack_node.h"
#include "nslab/v1/ustack.grpc.pb.h"

namespace nslab::diag {
namespace {

nslab::v1::LinkStats* Find(nslab::v1::LinksResponse* list, const std::string& name) {
  for (auto& link : *list->mutable_links()) {
    if (link.name() == name) {
      return &link;
    }
  }
  return nullptr;
}

// Every unsigned integer field of `counters` as a driver counter named prefix + field.
void AddCounters(const google::protobuf::Message& counters, const std::string& prefix,
                 nslab::v1::LinkStats* link) {
  const auto* descriptor = counters.GetDescriptor();
  const auto* reflection = counters.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    if (field->is_repeated() ||
        field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_UINT64) {
      continue;
    }
    auto* counter = link->add_driver_counters();
    counter->set_name(prefix + field->name());
    counter->set_value(reflection->GetUInt64(counters, field));
  }
}

void AddWireCounters(const lab::LabRegistry& labs, const std::string& lab, const std::string& node,
                     const nslab::v1::Topology& topology, nslab::v1::LinksResponse* list) {
  auto links = labs.Links(lab);
  if (!links.ok()) {
    return;
  }
  for (int i = 0; i < topology.links_size() && i < static_cast<int>(links->size()); ++i) {
    const auto& status = (*links)[i];
    if (status.mode() != nslab::v1::LINK_MODE_WIRE) {
      continue;
    }
    const auto& link = topology.links(i);
    for (bool a_end : {true, false}) {
      const auto& end = a_end ? link.a() : link.b();
      nslab::v1::LinkStats* stats = end.node() == node ? Find(list, end.interface()) : nullptr;
      if (stats == nullptr) {
        continue;
      }
      AddCounters(a_end ? status.a_to_b_counters() : status.b_to_a_counters(), "wire_out_", stats);
      AddCounters(a_end ? status.b_to_a_counters() : status.a_to_b_counters(), "wire_in_", stats);
    }
  }
}

void AddUstackCounters(const lab::LabRegistry& labs, const std::string& lab,
                       const std::string& node, nslab::v1::LinksResponse* list) {
  nslab::v1::LinkStats* tap = Find(list, lab::kUstackTap);
  if (tap == nullptr) {
    return;
  }
  auto stub = nslab::v1::UstackControlService::NewStub(grpc::CreateChannel(
      "unix:" + labs.UstackControlSocket(lab, node), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  nslab::v1::UstackControlServiceGetStatsResponse response;
  if (!stub->GetStats(&context, {}, &response).ok()) {
    return;  // the stack is restarting; the kernel's view is still shown
  }
  const nslab::v1::UstackStats& stats = response.stats();
  tap->mutable_ring()->set_rx(stats.nic_settings().rx_ring());
  tap->mutable_ring()->set_tx(stats.nic_settings().tx_ring());
  tap->mutable_ring()->set_rx_max(32768);
  tap->mutable_ring()->set_tx_max(32768);
  AddCounters(stats.nic(), "ustack_", tap);
}

}  // namespace

void AddOwnCounters(const lab::LabRegistry& labs, const std::string& lab, const std::string& node,
                    nslab::v1::LinksResponse* list) {
  auto topology = labs.TopologyOf(lab);
  if (!topology.ok()) {
    return;
  }
  AddWireCounters(labs, lab, node, *topology, list);
  for (const auto& candidate : topology->nodes()) {
    if (candidate.name() == node && candidate.kind() == nslab::v1::NODE_KIND_USTACK) {
      AddUstackCounters(labs, lab, node, list);
    }
  }
}

}  // namespace nslab::diag
