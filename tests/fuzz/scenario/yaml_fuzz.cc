// Scenario files come from repositories and API callers: arbitrary bytes must give a
// scenario or an error, never a crash, a hang or undefined behaviour. A scenario read must
// also pass validation again (the daemon validates what arrives over gRPC) and describe
// every step (plans, events and JUnit do).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "daemon/scenario/spec/describe.h"
#include "daemon/scenario/spec/validate.h"
#include "daemon/scenario/spec/yaml_reader.h"

namespace {

void DescribeAll(const google::protobuf::RepeatedPtrField<nslab::v1::Step>& steps) {
  for (const nslab::v1::Step& step : steps) {
    switch (step.kind_case()) {
      case nslab::v1::Step::kAction:
        (void)nslab::scenario::DescribeAction(step.action());
        break;
      case nslab::v1::Step::kCheck:
        (void)nslab::scenario::DescribeCheck(step.check(), step.for_ms());
        break;
      case nslab::v1::Step::kParallel:
        DescribeAll(step.parallel().steps());
        break;
      case nslab::v1::Step::kSerial:
        DescribeAll(step.serial().steps());
        break;
      case nslab::v1::Step::KIND_NOT_SET:
        break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto scenario = nslab::scenario::ReadScenarioYaml({reinterpret_cast<const char*>(data), size});
  if (scenario.ok()) {
    if (!nslab::scenario::ValidateScenario(*scenario).ok()) {
      std::abort();  // the reader returned a scenario its own validation refuses
    }
    DescribeAll(scenario->steps());
  }
  return 0;
}
