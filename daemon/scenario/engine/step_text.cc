#include "daemon/scenario/engine/step_text.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"

namespace nslab::scenario {

uint32_t AttemptTimeoutMs(const nslab::v1::Check& check) {
  if (check.timeout_ms() != 0) {
    return check.timeout_ms();
  }
  return check.has_exec() ? 10'000 : 1'000;
}

std::string DefaultActionText(const nslab::v1::Action& action) {
  const google::protobuf::Reflection* reflection = action.GetReflection();
  const google::protobuf::OneofDescriptor* kind = action.GetDescriptor()->FindOneofByName("kind");
  const google::protobuf::FieldDescriptor* field =
      kind == nullptr ? nullptr : reflection->GetOneofFieldDescriptor(action, kind);
  if (field == nullptr) {
    return "no action";
  }
  const std::string fields = reflection->GetMessage(action, field).ShortDebugString();
  return fields.empty() ? std::string(field->name()) : absl::StrCat(field->name(), " ", fields);
}

std::string DefaultCheckText(const nslab::v1::Check& check) {
  return absl::StrCat("check ", check.name());
}

std::string DefaultExpectationText(const nslab::v1::Check& check, uint32_t for_ms) {
  std::string probe;
  switch (check.probe_case()) {
    case nslab::v1::Check::kTcp:
      probe = absl::StrCat("tcp ", check.tcp());
      break;
    case nslab::v1::Check::kHttp:
      probe = absl::StrCat("http ", check.http());
      break;
    case nslab::v1::Check::kPing:
      probe = absl::StrCat("ping ", check.ping());
      break;
    case nslab::v1::Check::kExec:
      probe = absl::StrCat("exec ", absl::StrJoin(check.exec().argv(), " "));
      break;
    case nslab::v1::Check::kCounter:
      probe = absl::StrCat("counter ", check.counter().ShortDebugString());
      break;
    case nslab::v1::Check::PROBE_NOT_SET:
      probe = "no probe";
      break;
  }
  const char* outcome = check.expect() == nslab::v1::EXPECT_FAIL ? "fail" : "ok";
  if (check.every_ms() != 0) {
    return absl::StrCat(probe, " ", outcome, " every ", check.every_ms(), " ms for ", for_ms,
                        " ms");
  }
  if (check.within_ms() != 0) {
    return absl::StrCat(probe, " ", outcome, " within ", check.within_ms(), " ms");
  }
  return absl::StrCat(probe, " ", outcome);
}

std::string StepText::Action(const nslab::v1::Action& value) const {
  return action ? action(value) : DefaultActionText(value);
}
std::string StepText::Check(const nslab::v1::Check& value) const {
  return check ? check(value) : DefaultCheckText(value);
}
std::string StepText::Expectation(const nslab::v1::Check& value, uint32_t for_ms) const {
  return expectation ? expectation(value, for_ms) : DefaultExpectationText(value, for_ms);
}

}  // namespace nslab::scenario
