#include "client/output.h"

#include <unistd.h>

#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/table.h"
#include "proto/enum_defaults.h"

namespace nslab::client {
namespace {

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

// JSON loads as flow-style YAML; block style is what people read and write.
void UseBlockStyle(YAML::Node node) {
  if (node.IsMap() || node.IsSequence()) {
    node.SetStyle(YAML::EmitterStyle::Block);
    for (auto it = node.begin(); it != node.end(); ++it) {
      UseBlockStyle(node.IsMap() ? it->second : *it);
    }
  }
}

}  // namespace

void PrintJson(const google::protobuf::Message& message) {
  std::cout << ToJson(message, true);
  std::cout.flush();
}

void PrintYaml(const google::protobuf::Message& message) {
  // JSON is a subset of YAML: load it and let yaml-cpp print block style.
  YAML::Node root = YAML::Load(ToJson(message, false));
  UseBlockStyle(root);
  YAML::Emitter out;
  out << root;
  std::cout << out.c_str() << "\n";
}

bool PrintStructured(const google::protobuf::Message& message, const std::string& format) {
  if (format == "json") {
    PrintJson(message);
    return true;
  }
  if (format == "yaml") {
    PrintYaml(message);
    return true;
  }
  return false;
}

std::string DescribeImpairment(const nslab::v1::Impairment& impairment) {
  std::string out;
  auto add = [&out](const std::string& part) { out += (out.empty() ? "" : " ") + part; };
  auto percent = [&add](const char* name, double value) {
    if (value != 0) {
      add(absl::StrCat(name, " ", value, "%"));
    }
  };
  if (impairment.delay_us() != 0) {
    add(absl::StrCat("delay ", impairment.delay_us() / 1000.0, "ms"));
  }
  if (impairment.jitter_us() != 0) {
    add(absl::StrCat("jitter ", impairment.jitter_us() / 1000.0, "ms"));
  }
  percent("delay-corr", impairment.delay_correlation());
  if (!nslab::v1::IsUniform(impairment.distribution())) {
    add(absl::AsciiStrToLower(
        nslab::v1::DelayDistribution_Name(impairment.distribution()).substr(19)));
  }
  percent("loss", impairment.loss());
  percent("loss-corr", impairment.loss_correlation());
  if (impairment.has_gilbert_elliott()) {
    const auto& ge = impairment.gilbert_elliott();
    add(absl::StrCat("gemodel p ", ge.p(), "% r ", ge.r(), "% h ", ge.h(), "% k ", ge.k(), "%"));
  }
  percent("duplicate", impairment.duplicate());
  percent("reorder", impairment.reorder());
  if (impairment.reorder_gap() != 0) {
    add(absl::StrCat("gap ", impairment.reorder_gap()));
  }
  percent("corrupt", impairment.corrupt());
  if (impairment.rate_bps() != 0) {
    add(absl::StrCat("rate ", impairment.rate_bps() / 1e6, "mbit"));
  }
  if (impairment.burst_bytes() != 0) {
    add(absl::StrCat("burst ", impairment.burst_bytes(), "b"));
  }
  if (impairment.limit_packets() != 0) {
    add(absl::StrCat("limit ", impairment.limit_packets()));
  }
  if (!impairment.trace_file().empty()) {
    add(absl::StrCat("trace ", impairment.trace_file()));
  }
  return out.empty() ? "-" : out;
}

std::string WireCountersTable(const std::vector<WireCountersRow>& rows) {
  Table table({"WIRE", "DIR", "OFFERED", "FORWARDED", "BYTES", "LOSS", "QUEUE-FULL", "LINK-DOWN",
               "DUPLICATED", "CORRUPTED", "REORDERED", "QUEUED", "OFFLOADS", "SUPER-FRAMES"});
  for (const auto& row : rows) {
    const auto& c = *row.counters;
    table.AddRow(
        {row.link, row.direction, std::to_string(c.offered()), std::to_string(c.forwarded()),
         std::to_string(c.bytes()), std::to_string(c.dropped_loss()),
         std::to_string(c.dropped_queue_full()), std::to_string(c.dropped_link_down()),
         std::to_string(c.duplicated()), std::to_string(c.corrupted()),
         std::to_string(c.reordered()), std::to_string(c.queue_depth()),
         row.flow ? "-" : (c.offloads() ? "on" : "off"),
         row.flow ? "-"
         : c.dropped_super_frames() == 0
             ? std::to_string(c.super_frames())
             : absl::StrCat(c.super_frames(), " (", c.dropped_super_frames(), " dropped)")});
  }
  return table.ToString();
}

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      return;
    }
    done += n;
  }
}

}  // namespace nslab::client
