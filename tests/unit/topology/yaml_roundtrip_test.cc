// The YAML is the proto's text form: every topology that validates prints as YAML that reads
// back as the same message, and printing what was read gives the same text.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "daemon/topology/validate.h"
#include "daemon/topology/yaml_reader.h"
#include "daemon/topology/yaml_writer.h"
#include "tests/unit/topology/random_topology.h"

namespace nslab::topology {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr int kTopologies = 3000;

// Why `topology` does not survive the trip, or "" when it does.
std::string RoundTripProblem(const nslab::v1::Topology& topology) {
  auto text = WriteTopologyYaml(topology);
  if (!text.ok()) {
    return absl::StrCat("not printed: ", text.status().ToString());
  }
  auto read = ReadTopologyYaml(*text);
  if (!read.ok()) {
    return absl::StrCat("printed, but not read back: ", read.status().ToString(), "\n--- YAML\n",
                        *text);
  }
  std::string diff;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  if (!differencer.Compare(topology, *read)) {
    return absl::StrCat("read back different:\n", diff, "--- YAML\n", *text);
  }
  auto again = WriteTopologyYaml(*read);
  if (!again.ok() || *again != *text) {
    return absl::StrCat("printed differently the second time:\n", again.ok() ? *again : "",
                        "\n--- first\n", *text);
  }
  return "";
}

// Every field (by full name) set somewhere in `message`, and every enum value seen.
void CollectSet(const Message& message, std::set<std::string>* seen) {
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    seen->insert(field->full_name());
    const int count = field->is_repeated() ? reflection->FieldSize(message, field) : 1;
    for (int i = 0; i < count; ++i) {
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !field->is_map()) {
        CollectSet(field->is_repeated() ? reflection->GetRepeatedMessage(message, field, i)
                                        : reflection->GetMessage(message, field),
                   seen);
      } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
        const int value = field->is_repeated() ? reflection->GetRepeatedEnumValue(message, field, i)
                                               : reflection->GetEnumValue(message, field);
        seen->insert(absl::StrCat(field->full_name(), "=", value));
      }
    }
  }
}

// Every field reachable from `descriptor`, and every nonzero value of every enum field.
void CollectAll(const Descriptor* descriptor, std::set<std::string>* all,
                std::set<const Descriptor*>* visited) {
  if (!visited->insert(descriptor).second) {
    return;
  }
  for (int f = 0; f < descriptor->field_count(); ++f) {
    const FieldDescriptor* field = descriptor->field(f);
    all->insert(field->full_name());
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !field->is_map()) {
      CollectAll(field->message_type(), all, visited);
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
      for (int v = 1; v < field->enum_type()->value_count(); ++v) {
        all->insert(absl::StrCat(field->full_name(), "=", field->enum_type()->value(v)->number()));
      }
    }
  }
}

TEST(YamlRoundTrip, EveryRandomValidTopologyReadsBackTheSame) {
  testing::RandomTopology random(/*seed=*/20250125);
  int failures = 0;
  for (int i = 0; i < kTopologies && failures < 3; ++i) {
    const nslab::v1::Topology topology = random.Next();
    if (auto error = ValidateTopology(topology)) {
      ADD_FAILURE() << "topology " << i
                    << " of the generator does not validate: " << error->ToStatus() << "\n"
                    << topology.DebugString();
      ++failures;
      continue;
    }
    if (std::string problem = RoundTripProblem(topology); !problem.empty()) {
      ADD_FAILURE() << "topology " << i << ": " << problem;
      ++failures;
    }
  }
}

TEST(YamlRoundTrip, TheRandomTopologiesReachEveryFieldAndEnumValue) {
  // If the proto grows a field, this fails until the generator (and so the round trip
  // above) covers it.
  testing::RandomTopology random(/*seed=*/20250125);
  std::set<std::string> seen;
  for (int i = 0; i < kTopologies; ++i) {
    CollectSet(random.Next(), &seen);
  }
  std::set<std::string> all;
  std::set<const Descriptor*> visited;
  CollectAll(nslab::v1::Topology::descriptor(), &all, &visited);
  for (const std::string& field : all) {
    EXPECT_TRUE(seen.contains(field)) << field << " is never set by the generator";
  }
}

TEST(YamlRoundTrip, EveryExampleTopologyReadsPrintsAndReadsBackTheSame) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(NSLAB_TOPOLOGIES_DIR)) {
    if (entry.path().extension() != ".yaml") {
      continue;
    }
    ++files;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    auto topology = ReadTopologyYaml(text.str());
    ASSERT_TRUE(topology.ok()) << entry.path() << ": " << topology.status();
    EXPECT_EQ(RoundTripProblem(*topology), "") << entry.path();
  }
  EXPECT_GE(files, 10) << NSLAB_TOPOLOGIES_DIR;
}

}  // namespace
}  // namespace nslab::topology
