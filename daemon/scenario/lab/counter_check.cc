#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/chaos/chaos_engine.h"
#include "daemon/lab/lab_registry.h"
#include "daemon/lab/ustack_control.h"
#include "daemon/scenario/lab/lab_targets.h"
#include "daemon/scenario/lab/probes.h"

namespace nslab::scenario {
namespace {

// "a.b.c" through nested messages to an unsigned integer field, by the proto's field names
// (the names `-o json` prints).
absl::StatusOr<uint64_t> FieldValue(const google::protobuf::Message& message,
                                    absl::string_view path) {
  const google::protobuf::Message* current = &message;
  const std::vector<std::string> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto* field = current->GetDescriptor()->FindFieldByName(parts[i]);
    if (field == nullptr || field->is_repeated()) {
      return absl::InvalidArgumentError(absl::StrCat("\"", path,
                                                     "\": ", current->GetDescriptor()->name(),
                                                     " has no counter \"", parts[i], "\""));
    }
    const auto* reflection = current->GetReflection();
    const bool last = i + 1 == parts.size();
    if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE && !last) {
      current = &reflection->GetMessage(*current, field);
      continue;
    }
    if (!last) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", path, "\": ", parts[i], " is a number, not a group of counters"));
    }
    switch (field->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT64:
        return reflection->GetUInt64(*current, field);
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT32:
        return reflection->GetUInt32(*current, field);
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("\"", path, "\": ", parts[i], " is not a counter"));
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("\"", path, "\" names no counter"));
}

struct WireCounterName {
  std::string link;
  bool b_to_a = false;
  std::string counter;
};

// "client:eth0:a-to-b:dropped_loss", "wan:b-to-a:delivered".
absl::StatusOr<WireCounterName> ParseWireCounter(absl::string_view text) {
  const size_t last = text.rfind(':');
  const size_t middle = last == absl::string_view::npos ? last : text.rfind(':', last - 1);
  if (middle == absl::string_view::npos || middle == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("counter.wire \"", text,
                     "\" is not LINK:DIRECTION:COUNTER (client:eth0:a-to-b:dropped_loss)"));
  }
  WireCounterName name{std::string(text.substr(0, middle)), false,
                       std::string(text.substr(last + 1))};
  const absl::string_view direction = text.substr(middle + 1, last - middle - 1);
  if (direction == "b-to-a") {
    name.b_to_a = true;
  } else if (direction != "a-to-b") {
    return absl::InvalidArgumentError(absl::StrCat("counter.wire \"", text, "\": direction \"",
                                                   direction, "\" is not a-to-b or b-to-a"));
  }
  if (auto known = FieldValue(nslab::v1::WireCounters(), name.counter); !known.ok()) {
    return known.status();
  }
  return name;
}

struct NftRuleName {
  std::string table;
  std::string chain;
  std::string rule;  // a handle, or the text of its comment
};

absl::StatusOr<NftRuleName> ParseNftRule(absl::string_view text) {
  std::vector<std::string> parts = absl::StrSplit(text, absl::MaxSplits('/', 2));
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "counter.nft \"", text, "\" is not TABLE/CHAIN/HANDLE or TABLE/CHAIN/COMMENT"));
  }
  return NftRuleName{parts[0], parts[1], parts[2]};
}

class CounterProbe : public Probe {
 public:
  using Reader = std::function<absl::StatusOr<uint64_t>()>;
  CounterProbe(Reader read, const nslab::v1::CounterProbe& bounds)
      : read_(std::move(read)), bounds_(bounds) {}

  absl::Status Baseline() override {
    auto value = read_();
    if (!value.ok()) {
      return value.status();
    }
    baseline_ = *value;
    return absl::OkStatus();
  }

  ProbeOutcome Attempt(absl::Duration) override {
    auto value = read_();
    if (!value.ok()) {
      return {false, std::string(value.status().message())};
    }
    const uint64_t compared = bounds_.increase() ? *value - std::min(*value, baseline_) : *value;
    bool ok = true;
    if (bounds_.has_min() && compared < bounds_.min()) {
      ok = false;
    }
    if (bounds_.has_max() && compared > bounds_.max()) {
      ok = false;
    }
    return {ok, bounds_.increase() ? absl::StrCat("increased by ", compared, " (now ", *value, ")")
                                   : absl::StrCat("value ", compared)};
  }

 private:
  Reader read_;
  nslab::v1::CounterProbe bounds_;
  uint64_t baseline_ = 0;
};

absl::Status CheckCounter(const nslab::v1::Topology& topology, const nslab::v1::Check& check) {
  const auto& counter = check.counter();
  switch (counter.source_case()) {
    case nslab::v1::CounterProbe::kWire: {
      auto name = ParseWireCounter(counter.wire());
      if (!name.ok()) {
        return name.status();
      }
      return RequireLink(topology, name->link);
    }
    case nslab::v1::CounterProbe::kUstack:
      if (auto known = FieldValue(nslab::v1::UstackStats(), counter.ustack()); !known.ok()) {
        return known.status();
      }
      return RequireUstackNode(topology, check.from());
    case nslab::v1::CounterProbe::kNft:
      if (auto name = ParseNftRule(counter.nft()); !name.ok()) {
        return name.status();
      }
      return RequireNode(topology, check.from());
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("check ", check.name(), ": counter needs wire, ustack or nft"));
  }
}

absl::StatusOr<CounterProbe::Reader> ReaderFor(LabContext& context, const nslab::v1::Check& check) {
  const auto& counter = check.counter();
  lab::LabRegistry* labs = context.labs;
  const std::string lab = context.lab;
  const std::string node = check.from();
  switch (counter.source_case()) {
    case nslab::v1::CounterProbe::kWire: {
      auto name = ParseWireCounter(counter.wire());
      if (!name.ok()) {
        return name.status();
      }
      auto index = LinkIndex(context.topology, name->link);
      if (!index.ok()) {
        return index.status();
      }
      return CounterProbe::Reader(
          [labs, lab, index = *index, name = *name]() -> absl::StatusOr<uint64_t> {
            auto links = labs->Links(lab);
            if (!links.ok()) {
              return links.status();
            }
            if (index >= static_cast<int>(links->size()) ||
                (*links)[index].mode() != nslab::v1::LINK_MODE_WIRE) {
              return absl::FailedPreconditionError(
                  absl::StrCat("link ", name.link, " is not a wire link: it has no wire counters"));
            }
            const auto& link = (*links)[index];
            return FieldValue(name.b_to_a ? link.b_to_a_counters() : link.a_to_b_counters(),
                              name.counter);
          });
    }
    case nslab::v1::CounterProbe::kUstack:
      return CounterProbe::Reader(
          [labs, lab, node, path = counter.ustack()]() -> absl::StatusOr<uint64_t> {
            auto stats = lab::GetUstackStats(*labs, lab, node);
            if (!stats.ok()) {
              return stats.status();
            }
            return FieldValue(*stats, path);
          });
    case nslab::v1::CounterProbe::kNft: {
      auto name = ParseNftRule(counter.nft());
      if (!name.ok()) {
        return name.status();
      }
      chaos::ChaosEngine* chaos = context.chaos;
      return CounterProbe::Reader([chaos, lab, node, name = *name]() -> absl::StatusOr<uint64_t> {
        auto firewall = chaos->GetFirewall(lab, node);
        if (!firewall.ok()) {
          return firewall.status();
        }
        uint64_t handle = 0;
        const bool by_handle = absl::SimpleAtoi(name.rule, &handle);
        for (const auto& rule : firewall->rules) {
          if (rule.table != name.table || rule.chain != name.chain) {
            continue;
          }
          const bool match =
              by_handle ? rule.handle == handle
                        : absl::StrContains(rule.text, absl::StrCat("comment \"", name.rule, "\""));
          if (!match) {
            continue;
          }
          if (!rule.has_counter) {
            return absl::FailedPreconditionError(
                absl::StrCat("the rule ", name.table, "/", name.chain, "/", name.rule,
                             " has no counter: add `counter` to it"));
          }
          return rule.packets;
        }
        return absl::NotFoundError(absl::StrCat("node ", node, " has no rule ", name.table, "/",
                                                name.chain, "/", name.rule));
      });
    }
    default:
      return absl::InvalidArgumentError("counter needs wire, ustack or nft");
  }
}

}  // namespace

ProbeHandler CounterProbeHandler() {
  return {CheckCounter,
          [](LabContext& context,
             const nslab::v1::Check& check) -> absl::StatusOr<std::unique_ptr<Probe>> {
            auto reader = ReaderFor(context, check);
            if (!reader.ok()) {
              return reader.status();
            }
            return std::make_unique<CounterProbe>(std::move(*reader), check.counter());
          }};
}

}  // namespace nslab::scenario
