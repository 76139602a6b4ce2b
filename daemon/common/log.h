#pragma once

#include <sstream>

namespace nslab {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetMinLogLevel(LogLevel level);
LogLevel MinLogLevel();

// One line to stderr, written with a single write() so lines of different threads never
// interleave: "2026-11-24T10:00:00.123Z I message".
class LogLine {
 public:
  explicit LogLine(LogLevel level) : level_(level) {}
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  template <typename T>
  LogLine& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

}  // namespace nslab

#define NSLAB_LOG(level)                                      \
  if (::nslab::LogLevel::k##level < ::nslab::MinLogLevel()) { \
  } else                                                      \
    ::nslab::LogLine(::nslab::LogLevel::k##level)
