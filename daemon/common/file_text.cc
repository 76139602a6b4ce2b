#include "daemon/common/file_text.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace nslab {

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path, ": it is a directory"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string ClientFileNotSent(const std::string& name, const std::string& text_field) {
  return absl::StrCat("file \"", name,
                      "\" was named but its text was not sent: nslabd reads no file a client "
                      "names; read it and send its text in ",
                      text_field, " (the nslab CLI does this)");
}

}  // namespace nslab
