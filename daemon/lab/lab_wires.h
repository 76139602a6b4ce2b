#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "daemon/wire/tap_link.h"
#include "nslab/v1/labs.pb.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::lab {

// The daemon's one event loop for userspace wires: a Boost.Asio io_context run by one
// thread, shared by every wire link of every lab (each link is its own strand).
class WireRuntime {
 public:
  WireRuntime();
  // Stops the loop; stop the links first (their Stop waits on this loop).
  ~WireRuntime();
  WireRuntime(const WireRuntime&) = delete;
  WireRuntime& operator=(const WireRuntime&) = delete;

  boost::asio::io_context& io();

 private:
  struct Loop;
  std::unique_ptr<Loop> loop_;
};

// Everything one wire link needs from the lab, besides the namespaces.
struct WireLinkRequest {
  uint64_t lab_seed = 0;
  const nslab::v1::Link* link = nullptr;
  int index = 0;
  int ns_a = -1;
  int ns_b = -1;
  nslab::v1::Impairment a_to_b;
  nslab::v1::Impairment b_to_a;
  std::vector<wire::FlowRule> a_to_b_flows;
  std::vector<wire::FlowRule> b_to_a_flows;
  bool reattach = false;  // a previous daemon left the TAPs: open them, create nothing
  // That end is a ustack node's: the topology's MAC there is the stack's own, so its TAP keeps
  // the kernel's (a bridge port with the stack's MAC would take the stack's frames as its own).
  bool ustack_a = false;
  bool ustack_b = false;
};

// The wire links of one lab, by link index. Thread-safe: a lab's links are built in
// parallel, and chaos calls come from gRPC threads.
class LabWires {
 public:
  explicit LabWires(WireRuntime* runtime) : runtime_(runtime) {}
  ~LabWires();  // stops the links, keeping their TAPs (a restarted daemon re-attaches)

  // Creates both TAPs (down; the builder brings them up after the addresses) and starts
  // forwarding. The link's name seeds its fates, so a rebuilt lab replays them.
  absl::Status Add(const WireLinkRequest& request);

  // nullptr when link `index` is not a wire.
  std::shared_ptr<wire::WireLink> Find(int index) const;

  // Stops link `index` (kDeleteDevices also removes its TAPs) and forgets it; nothing if it
  // is not a wire.
  void Remove(int index, wire::StopMode mode);
  // After the lab's links were renumbered (an apply): the wire of old index i is now
  // old_to_new[i]. Every link still here must have an entry, or keeps its index.
  void Renumber(const std::map<int, int>& old_to_new);

  // Stops every link; kDeleteDevices also removes the TAPs.
  void StopAll(wire::StopMode mode);

 private:
  WireRuntime* runtime_;
  mutable absl::Mutex mutex_;
  std::map<int, std::shared_ptr<wire::WireLink>> links_ ABSL_GUARDED_BY(mutex_);
};

// The seed name of a link: its name:, else "a-node:if <-> b-node:if".
std::string LinkLabel(const nslab::v1::Link& link);

// Pipeline and TAP counters in the API's form.
nslab::v1::WireCounters ToProto(const wire::WireCounters& counters);
nslab::v1::WireCounters ToProto(const wire::PipelineCounters& counters);

// The flows of one direction as a wire plays them.
std::vector<wire::FlowRule> FlowRulesOf(
    const google::protobuf::RepeatedPtrField<nslab::v1::FlowImpairmentState>& flows);
std::vector<wire::FlowRule> FlowRulesOf(const std::vector<nslab::v1::FlowImpairmentState>& flows);

}  // namespace nslab::lab
