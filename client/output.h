#pragma once

#include <google/protobuf/message.h>

#include <string>

namespace nslab::client {

// Prints a message as JSON (stable field names from the proto) or YAML.
void PrintJson(const google::protobuf::Message& message);
void PrintYaml(const google::protobuf::Message& message);

// For -o json|yaml; returns false for "table" so the verb prints its own layout.
bool PrintStructured(const google::protobuf::Message& message, const std::string& format);

}  // namespace nslab::client
