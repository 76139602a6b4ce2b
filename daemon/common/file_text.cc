#include "daemon/common/file_text.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace nslab {

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace nslab
