#include "daemon/server/chaos_service.h"

#include "daemon/server/status_mapping.h"

namespace nslab::server {
namespace {

grpc::Status FillFirewall(const absl::StatusOr<chaos::FirewallView>& view,
                          nslab::v1::Firewall* response) {
  if (!view.ok()) {
    return ToGrpc(view.status());
  }
  response->set_ruleset(view->ruleset);
  for (const auto& rule : view->rules) {
    auto* out = response->add_rules();
    out->set_family(rule.family);
    out->set_table(rule.table);
    out->set_chain(rule.chain);
    out->set_handle(rule.handle);
    out->set_text(rule.text);
    out->set_has_counter(rule.has_counter);
    out->set_packets(rule.packets);
    out->set_bytes(rule.bytes);
  }
  return grpc::Status::OK;
}

grpc::Status FillNames(const absl::StatusOr<std::vector<std::string>>& names,
                       google::protobuf::RepeatedPtrField<std::string>* out) {
  if (!names.ok()) {
    return ToGrpc(names.status());
  }
  for (const auto& name : *names) {
    out->Add(std::string(name));
  }
  return grpc::Status::OK;
}

grpc::Status FillImpairments(const absl::StatusOr<std::vector<chaos::LinkImpairmentView>>& views,
                             google::protobuf::RepeatedPtrField<nslab::v1::LinkImpairment>* links) {
  if (!views.ok()) {
    return ToGrpc(views.status());
  }
  for (const auto& view : *views) {
    auto* out = links->Add();
    out->set_link(view.link);
    *out->mutable_a_to_b() = view.directions[0];
    *out->mutable_b_to_a() = view.directions[1];
    out->set_backend(view.wire ? "wire" : "kernel");
    if (view.wire) {
      *out->mutable_a_to_b_counters() = view.counters[0];
      *out->mutable_b_to_a_counters() = view.counters[1];
    }
    out->mutable_a_to_b_flows()->Assign(view.flows[0].begin(), view.flows[0].end());
    out->mutable_b_to_a_flows()->Assign(view.flows[1].begin(), view.flows[1].end());
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::Status ChaosService::SetImpairment(grpc::ServerContext*,
                                         const nslab::v1::SetImpairmentRequest* request,
                                         nslab::v1::SetImpairmentResponse* response) {
  std::vector<int> directions;
  if (request->direction() != nslab::v1::DIRECTION_B_TO_A) {
    directions.push_back(0);
  }
  if (request->direction() != nslab::v1::DIRECTION_A_TO_B) {
    directions.push_back(1);
  }
  if (request->has_match()) {
    std::optional<nslab::v1::Impairment> impairment;
    if (request->has_impairment()) {
      impairment = request->impairment();
    }
    return FillImpairments(engine_->SetFlowImpairment(request->lab(), request->link(), directions,
                                                      request->match(), impairment),
                           response->mutable_links());
  }
  return FillImpairments(
      engine_->SetImpairment(request->lab(), request->link(), directions, request->impairment()),
      response->mutable_links());
}

grpc::Status ChaosService::ListImpairments(grpc::ServerContext*,
                                           const nslab::v1::ListImpairmentsRequest* request,
                                           nslab::v1::ListImpairmentsResponse* response) {
  return FillImpairments(engine_->ListImpairments(request->lab()), response->mutable_links());
}

grpc::Status ChaosService::SetFirewall(grpc::ServerContext*,
                                       const nslab::v1::SetFirewallRequest* request,
                                       nslab::v1::SetFirewallResponse* response) {
  return FillFirewall(engine_->SetFirewall(request->lab(), request->node(), request->ruleset()),
                      response->mutable_firewall());
}

grpc::Status ChaosService::GetFirewall(grpc::ServerContext*,
                                       const nslab::v1::GetFirewallRequest* request,
                                       nslab::v1::GetFirewallResponse* response) {
  return FillFirewall(engine_->GetFirewall(request->lab(), request->node()),
                      response->mutable_firewall());
}

grpc::Status ChaosService::FlushFirewall(grpc::ServerContext*,
                                         const nslab::v1::FlushFirewallRequest* request,
                                         nslab::v1::FlushFirewallResponse* response) {
  return FillFirewall(engine_->SetFirewall(request->lab(), request->node(), ""),
                      response->mutable_firewall());
}

grpc::Status ChaosService::SetLinkState(grpc::ServerContext*,
                                        const nslab::v1::SetLinkStateRequest* request,
                                        nslab::v1::SetLinkStateResponse* response) {
  return FillNames(engine_->SetLinkState(request->lab(), request->link(), request->up(),
                                         chaos::EndOf(request->end())),
                   response->mutable_changed());
}

grpc::Status ChaosService::FlapLink(grpc::ServerContext*, const nslab::v1::FlapLinkRequest* request,
                                    nslab::v1::FlapLinkResponse* response) {
  return FillNames(
      engine_->StartFlap(request->lab(), request->link(), chaos::EndOf(request->end()),
                         absl::Milliseconds(request->down_ms()),
                         absl::Milliseconds(request->up_ms()), static_cast<int>(request->count())),
      response->mutable_changed());
}

grpc::Status ChaosService::Partition(grpc::ServerContext*,
                                     const nslab::v1::PartitionRequest* request,
                                     nslab::v1::PartitionResponse* response) {
  std::vector<std::vector<std::string>> groups;
  for (const auto& group : request->groups()) {
    groups.emplace_back(group.nodes().begin(), group.nodes().end());
  }
  return FillNames(engine_->Partition(request->lab(), groups,
                                      request->mode() == nslab::v1::PARTITION_MODE_REJECT),
                   response->mutable_nodes());
}

grpc::Status ChaosService::Heal(grpc::ServerContext*, const nslab::v1::HealRequest* request,
                                nslab::v1::HealResponse* response) {
  return FillNames(engine_->Heal(request->lab()), response->mutable_nodes());
}

}  // namespace nslab::server
