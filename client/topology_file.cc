#include "client/topology_file.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace nslab::client {

std::optional<nslab::v1::CreateLabRequest> RequestFromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "nslab: cannot read topology file " << path << "\n";
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  nslab::v1::CreateLabRequest request;
  request.set_topology_yaml(text.str());
  std::error_code error;
  request.set_base_dir(std::filesystem::absolute(path, error).parent_path().string());
  return request;
}

}  // namespace nslab::client
