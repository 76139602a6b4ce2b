#include "daemon/lab/state_store.h"

#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "daemon/common/errno_status.h"
#include "daemon/common/fd.h"

namespace nslab::lab {

std::string StateStore::PathOf(const std::string& name) const {
  return absl::StrCat(dir_, "/", name, ".json");
}

absl::Status StateStore::Init() {
  std::error_code error;
  std::filesystem::create_directories(dir_, error);
  if (error) {
    return absl::InternalError(absl::StrCat("create state dir ", dir_, ": ", error.message()));
  }
  ::chmod(dir_.c_str(), 0700);
  return absl::OkStatus();
}

absl::Status StateStore::Save(const nslab::v1::Lab& lab) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  if (auto status = google::protobuf::util::MessageToJsonString(lab, &json, options);
      !status.ok()) {
    return absl::InternalError(absl::StrCat("encode state of ", lab.name()));
  }
  const std::string path = PathOf(lab.name());
  const std::string tmp = path + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    return ErrnoStatus(absl::StrCat("write ", tmp), errno);
  }
  // No fsync: the file guards against the daemon dying, not the machine. Namespaces and
  // links do not outlive a reboot, so a state file that did would describe nothing, and
  // write + rename is already atomic for every reader on a running system.
  if (::write(fd.get(), json.data(), json.size()) != static_cast<ssize_t>(json.size())) {
    return ErrnoStatus(absl::StrCat("write ", tmp), errno);
  }
  fd.Reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return ErrnoStatus(absl::StrCat("rename ", tmp), errno);
  }
  return absl::OkStatus();
}

absl::Status StateStore::Remove(const std::string& name) {
  if (::unlink(PathOf(name).c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(absl::StrCat("remove ", PathOf(name)), errno);
  }
  return absl::OkStatus();
}

std::vector<nslab::v1::Lab> StateStore::LoadAll(std::vector<std::string>* problems) const {
  std::vector<nslab::v1::Lab> labs;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, error)) {
    if (entry.path().extension() != ".json") {
      continue;
    }
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    nslab::v1::Lab lab;
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    if (!google::protobuf::util::JsonStringToMessage(text.str(), &lab, options).ok() ||
        lab.name().empty()) {
      problems->push_back(absl::StrCat("unreadable state file ", entry.path().string()));
      continue;
    }
    labs.push_back(std::move(lab));
  }
  return labs;
}

}  // namespace nslab::lab
