#include "client/progress_print.h"

#include "absl/strings/str_cat.h"
#include "daemon/events/progress_text.h"

namespace nslab::client {

std::string ProgressPrinter::Rewrite(const std::string& text) {
  // Spaces over what the longer line before left; no escape sequences, so any terminal (and
  // a terminal multiplexer's log) shows it right.
  const size_t pad = width_ > text.size() ? width_ - text.size() : 0;
  width_ = text.size();
  return absl::StrCat("\r", text, std::string(pad, ' '));
}

std::string ProgressPrinter::Update(const nslab::v1::LabProgress& progress) {
  last_ = progress;
  const std::string text = events::ProgressText(progress);
  if (terminal_) {
    return Rewrite(text);
  }
  const int tenth = progress.phase_total() == 0
                        ? 0
                        : static_cast<int>(10ull * progress.phase_done() / progress.phase_total());
  if (progress.phase() == printed_phase_ && tenth <= printed_tenth_ &&
      progress.elapsed_ms() < printed_ms_ + kQuietLineMs) {
    return "";
  }
  printed_phase_ = progress.phase();
  printed_tenth_ = tenth;
  printed_ms_ = progress.elapsed_ms();
  return absl::StrCat(text, "\n");
}

std::string ProgressPrinter::Finish(bool succeeded) {
  if (!last_.has_value()) {
    return "";
  }
  const std::string text = succeeded ? events::ProgressText(*last_, /*finished=*/true) : "";
  if (terminal_) {
    // A failure leaves the last count standing: it shows how far the operation got.
    return succeeded ? absl::StrCat(Rewrite(text), "\n") : "\n";
  }
  return succeeded ? absl::StrCat(text, "\n") : "";
}

}  // namespace nslab::client
