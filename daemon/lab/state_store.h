#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nslab/v1/labs.pb.h"

namespace nslab::lab {

// One JSON file per lab (<dir>/<lab>.json) recording what the lab is made of. It is
// written before any object is created, so a daemon killed mid-build finds and removes
// the half-built lab at its next start.
class StateStore {
 public:
  explicit StateStore(std::string dir) : dir_(std::move(dir)) {}

  absl::Status Init();                           // creates the directory (mode 0700)
  absl::Status Save(const nslab::v1::Lab& lab);  // atomic: write a temporary file, rename
  absl::Status Remove(const std::string& name);
  // Every lab on disk; unreadable files are reported in `problems` and skipped.
  std::vector<nslab::v1::Lab> LoadAll(std::vector<std::string>* problems) const;

  const std::string& dir() const { return dir_; }

 private:
  std::string PathOf(const std::string& name) const;
  std::string dir_;
};

}  // namespace nslab::lab
