// The scenario fuzz target starts from tests/fuzz/scenario/corpus. Seeds named bad-*.yaml
// must be refused (they start the search in the error paths); every other seed must be
// accepted, and together they must reach every action, every probe and both kinds of group.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/scenario/spec/describe.h"
#include "daemon/scenario/spec/yaml_actions.h"
#include "daemon/scenario/spec/yaml_reader.h"

namespace nslab::scenario {
namespace {

std::vector<std::filesystem::path> Seeds() {
  std::vector<std::filesystem::path> seeds;
  for (const auto& entry : std::filesystem::directory_iterator(NSLAB_SCENARIO_CORPUS)) {
    seeds.push_back(entry.path());
  }
  return seeds;
}

absl::StatusOr<nslab::v1::Scenario> Read(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return ReadScenarioYaml(text.str());
}

bool IsBad(const std::filesystem::path& path) {
  return path.filename().string().starts_with("bad-");
}

void Collect(const google::protobuf::RepeatedPtrField<nslab::v1::Step>& steps,
             std::set<std::string>* kinds) {
  for (const auto& step : steps) {
    switch (step.kind_case()) {
      case nslab::v1::Step::kAction:
        kinds->insert(std::string(ActionKey(step.action())));
        break;
      case nslab::v1::Step::kCheck:
        kinds->insert(
            step.check().GetDescriptor()->FindFieldByNumber(step.check().probe_case())->name());
        if (step.check().every_ms() != 0) {
          kinds->insert("every");
        }
        break;
      case nslab::v1::Step::kParallel:
        kinds->insert("parallel");
        Collect(step.parallel().steps(), kinds);
        break;
      case nslab::v1::Step::kSerial:
        kinds->insert("serial");
        Collect(step.serial().steps(), kinds);
        break;
      case nslab::v1::Step::KIND_NOT_SET:
        break;
    }
  }
}

TEST(ScenarioFuzzCorpus, GoodSeedsAreAcceptedAndBadOnesRefused) {
  const auto seeds = Seeds();
  ASSERT_GE(seeds.size(), 15u);
  for (const auto& seed : seeds) {
    auto scenario = Read(seed);
    if (IsBad(seed)) {
      EXPECT_EQ(scenario.status().code(), absl::StatusCode::kInvalidArgument) << seed;
    } else {
      EXPECT_TRUE(scenario.ok()) << seed << ": " << scenario.status();
    }
  }
}

TEST(ScenarioFuzzCorpus, SeedsReachEveryActionProbeAndGroup) {
  std::set<std::string> kinds;
  for (const auto& seed : Seeds()) {
    if (auto scenario = Read(seed); scenario.ok()) {
      Collect(scenario->steps(), &kinds);
    }
  }
  for (absl::string_view key : kActionKeys) {
    EXPECT_TRUE(kinds.contains(std::string(key))) << "no seed has the action " << key;
  }
  for (const char* key :
       {"tcp", "http", "ping", "exec", "counter", "every", "parallel", "serial"}) {
    EXPECT_TRUE(kinds.contains(key)) << "no seed has " << key;
  }
}

}  // namespace
}  // namespace nslab::scenario
