// Whatever text reads as a topology must print as YAML that reads back as the same topology,
// and print the same again: the YAML is the proto's text form in both directions.
#include <google/protobuf/util/message_differencer.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "daemon/topology/yaml_reader.h"
#include "daemon/topology/yaml_writer.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail, const std::string& printed) {
  std::fprintf(stderr, "round trip broken: %s\n%s\n--- printed YAML\n%s\n", what, detail.c_str(),
               printed.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto topology = nslab::topology::ReadTopologyYaml({reinterpret_cast<const char*>(data), size});
  if (!topology.ok()) {
    return 0;
  }
  auto printed = nslab::topology::WriteTopologyYaml(*topology);
  if (!printed.ok()) {
    // The one refusal a topology that was read may meet: the reader's size and nesting limits
    // count the printed text, where an escape read from the input ("\x7b") may stand as the
    // character itself ('{').
    if (printed.status().message().find("would not read back") != std::string::npos) {
      return 0;
    }
    Fail("not printed", printed.status().ToString(), "");
  }
  auto read = nslab::topology::ReadTopologyYaml(*printed);
  if (!read.ok()) {
    Fail("printed text does not read", read.status().ToString(), *printed);
  }
  std::string diff;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  if (!differencer.Compare(*topology, *read)) {
    Fail("read back different", diff, *printed);
  }
  auto again = nslab::topology::WriteTopologyYaml(*read);
  if (!again.ok() || *again != *printed) {
    Fail("printed differently the second time", again.ok() ? *again : again.status().ToString(),
         *printed);
  }
  return 0;
}
