#include "client/output.h"

#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <iostream>

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

}  // namespace nslab::client
