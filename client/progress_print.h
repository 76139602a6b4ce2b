#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "nslab/v1/events.pb.h"

namespace nslab::client {

// What `nslab up` and `nslab down` write on stderr of their own build's or removal's
// PROGRESS events (stdout keeps only what scripts parse). On a terminal one line, rewritten in
// place; elsewhere (a CI log) whole lines, few enough to read: one as a phase starts, one
// each time it passes another tenth of its count (its end included), and one after
// kQuietLineMs without any, so that a log shows a stalled phase still going.
class ProgressPrinter {
 public:
  static constexpr uint64_t kQuietLineMs = 5000;

  explicit ProgressPrinter(bool terminal) : terminal_(terminal) {}

  // The text to write for `progress`; empty when nothing is to be written.
  std::string Update(const nslab::v1::LabProgress& progress);
  // The text to write once the operation is over: a closing "built: ..." or "removed: ..."
  // when it `succeeded`, and on a terminal the end of the line. Empty when no progress came
  // (a small lab).
  std::string Finish(bool succeeded);

 private:
  // On a terminal: `text` over the line there now.
  std::string Rewrite(const std::string& text);

  const bool terminal_;
  std::optional<nslab::v1::LabProgress> last_;
  size_t width_ = 0;  // of the line on the terminal now
  nslab::v1::LabPhase printed_phase_ = nslab::v1::LAB_PHASE_UNSPECIFIED;
  int printed_tenth_ = -1;   // of printed_phase_'s count
  uint64_t printed_ms_ = 0;  // the elapsed time the last line showed
};

}  // namespace nslab::client
