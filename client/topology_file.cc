#include "client/topology_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace nslab::client {

namespace {

std::optional<std::string> ReadWhole(const std::filesystem::path& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

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
      if (entry.second.IsMap()) {
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
        if (const YAML::Node impairment = link[direction]; impairment && impairment.IsMap()) {
          AddScalar(impairment["trace"], &names);
        }
      }
    }
  }
  return names;
}

std::optional<nslab::v1::CreateLabRequest> RequestFromFile(const std::string& path) {
  std::optional<std::string> text = ReadWhole(path);
  if (!text) {
    std::cerr << "nslab: cannot read topology file " << path << "\n";
    return std::nullopt;
  }
  nslab::v1::CreateLabRequest request;
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  for (const std::string& name : FilesNamedBy(*text)) {
    const std::filesystem::path file =
        std::filesystem::path(name).is_absolute() ? std::filesystem::path(name) : folder / name;
    std::optional<std::string> content = ReadWhole(file);
    if (!content) {
      std::cerr << "nslab: " << path << " names the file \"" << name << "\": cannot read "
                << file.string() << "\n";
      return std::nullopt;
    }
    (*request.mutable_files())[name] = std::move(*content);
  }
  request.set_topology_yaml(std::move(*text));
  return request;
}

}  // namespace nslab::client
