#pragma once

#include <functional>
#include <string>

#include "nslab/v1/scenario.pb.h"

namespace nslab::scenario {

// How plans, events and reports put steps into words. The spec's DescribeAction/DescribeCheck
// plug in here; an empty function falls back to the plain defaults below.
struct StepText {
  // "partition [client] | [server] (drop)"
  std::function<std::string(const nslab::v1::Action&)> action;
  // "check web-up"
  std::function<std::string(const nslab::v1::Check&)> check;
  // What a check must see, for its report: "tcp 10.0.0.2:8080 ok within 5000 ms"
  std::function<std::string(const nslab::v1::Check&, uint32_t for_ms)> expectation;

  std::string Action(const nslab::v1::Action& action) const;
  std::string Check(const nslab::v1::Check& check) const;
  // `for_ms`: the step's for (how long an `every` check keeps going).
  std::string Expectation(const nslab::v1::Check& check, uint32_t for_ms) const;
};

// The defaults: the action's kind and fields in protobuf text ("partition groups {...}"),
// "check NAME", and "<probe> <ok|fail> [within D | every I for D]".
std::string DefaultActionText(const nslab::v1::Action& action);
std::string DefaultCheckText(const nslab::v1::Check& check);
std::string DefaultExpectationText(const nslab::v1::Check& check, uint32_t for_ms = 0);

// A check's limit for one attempt: its timeout, or the default (1 s; exec probes 10 s).
uint32_t AttemptTimeoutMs(const nslab::v1::Check& check);

}  // namespace nslab::scenario
