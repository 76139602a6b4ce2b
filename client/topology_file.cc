#include "client/topology_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "daemon/common/file_text.h"
#include "daemon/common/request_limits.h"

namespace nslab::client {

namespace {

// One limit for both: the reader's, which is gRPC's default receive limit too (4 MiB).
constexpr size_t kMaxBytes = kMaxTopologyBytes;

std::string Mebibytes(size_t bytes) {
  return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
}

std::string TooLarge(const std::string& path, const std::string& what) {
  return absl::StrCat(path.empty() ? "the topology" : path, " ", what,
                      "; nslabd accepts topologies up to ", kMaxBytes >> 20,
                      " MiB (split the lab or generate it with fewer nodes)");
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
  if (absl::Status size = CheckRequestSize(request, path); !size.ok()) {
    std::cerr << "nslab: " << size.message() << "\n";
    return std::nullopt;
  }
  return request;
}

absl::Status CheckRequestSize(const nslab::v1::CreateLabRequest& request, const std::string& path) {
  if (request.topology_yaml().size() > kMaxBytes) {
    return absl::InvalidArgumentError(
        TooLarge(path, absl::StrCat("is ", Mebibytes(request.topology_yaml().size()))));
  }
  // Each field's tag and length, and the lab's name, count too.
  if (request.ByteSizeLong() > kMaxBytes) {
    return absl::InvalidArgumentError(TooLarge(
        path, absl::StrCat("and the ", request.files_size(),
                           request.files_size() == 1 ? " file" : " files", " it names come to ",
                           Mebibytes(request.ByteSizeLong()), " in one request")));
  }
  return absl::OkStatus();
}

grpc::Status ExplainSizeRefusal(const grpc::Status& status, const std::string& path) {
  if (status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED ||
      !absl::StrContains(status.error_message(), "larger than max")) {
    return status;
  }
  // "Received message larger than max (21000000 vs. 4194304)": gRPC's, not nslab's, limit.
  return grpc::Status(
      grpc::StatusCode::INVALID_ARGUMENT,
      TooLarge(path, absl::StrCat("is more than nslabd takes in one request (gRPC: ",
                                  status.error_message(), ")")));
}

std::string LabNameOf(const nslab::v1::CreateLabRequest& request) {
  if (!request.name().empty()) {
    return request.name();
  }
  if (request.has_topology()) {
    return request.topology().name();
  }
  try {
    const YAML::Node root = YAML::Load(request.topology_yaml());
    if (root.IsMap() && root["name"] && root["name"].IsScalar()) {
      return root["name"].Scalar();
    }
  } catch (const YAML::Exception&) {
    // Not YAML: nslabd says what is wrong with it.
  }
  return "";
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
