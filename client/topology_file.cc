#include "client/topology_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "daemon/common/file_text.h"

namespace nslab::client {

namespace {

void AddScalar(const YAML::Node& node, std::vector<std::string>* names) {
  if (node && node.IsScalar() &&
      std::find(names->begin(), names->end(), node.Scalar()) == names->end()) {
    names->push_back(node.Scalar());
  }
}

}  // namespace

std::vector<std::string> FilesNamedBy(const std::string& topology_yaml) {
  std::vector<std::string> names;
  YAML::Node root;
  try {
    root = YAML::Load(topology_yaml);
  } catch (const YAML::Exception&) {
    return names;
  }
  if (!root.IsMap()) {
    return names;
  }
  if (const YAML::Node nodes = root["nodes"]; nodes && nodes.IsMap()) {
    for (const auto& entry : nodes) {
      // A name beside its text only records where the text came from (`nslab show
      // --topology` prints both): nothing to read, and the file may not be here.
      if (entry.second.IsMap() && !entry.second["nftables"]) {
        AddScalar(entry.second["nftables_file"], &names);
      }
    }
  }
  if (const YAML::Node links = root["links"]; links && links.IsSequence()) {
    for (const auto& link : links) {
      if (!link.IsMap()) {
        continue;
      }
      for (const char* direction : {"impair", "a_to_b", "b_to_a"}) {
        if (const YAML::Node impairment = link[direction];
            impairment && impairment.IsMap() && !impairment["trace"]) {
          AddScalar(impairment["trace_file"], &names);
        }
      }
    }
  }
  return names;
}

std::optional<nslab::v1::CreateLabRequest> RequestFromFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadTextFile(path);
  if (!text.ok()) {
    std::cerr << "nslab: cannot read topology file " << path << "\n";
    return std::nullopt;
  }
  nslab::v1::CreateLabRequest request;
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  for (const std::string& name : FilesNamedBy(*text)) {
    const std::filesystem::path file =
        std::filesystem::path(name).is_absolute() ? std::filesystem::path(name) : folder / name;
    absl::StatusOr<std::string> content = ReadTextFile(file.string());
    if (!content.ok()) {
      std::cerr << "nslab: " << path << " names the file \"" << name << "\": cannot read "
                << file.string() << "\n";
      return std::nullopt;
    }
    (*request.mutable_files())[name] = std::move(*content);
  }
  request.set_topology_yaml(std::move(*text));
  return request;
}

nslab::v1::PlanLabRequest PlanRequestOf(const nslab::v1::CreateLabRequest& request) {
  nslab::v1::PlanLabRequest plan;
  if (request.has_topology()) {
    *plan.mutable_topology() = request.topology();
  } else {
    plan.set_topology_yaml(request.topology_yaml());
  }
  plan.set_name(request.name());
  plan.mutable_files()->insert(request.files().begin(), request.files().end());
  return plan;
}

}  // namespace nslab::client
