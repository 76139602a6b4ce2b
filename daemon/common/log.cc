#include "daemon/common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace nslab {
namespace {

std::atomic<LogLevel> min_level{LogLevel::kInfo};

}  // namespace

void SetMinLogLevel(LogLevel level) { min_level = level; }
LogLevel MinLogLevel() { return min_level; }

LogLine::~LogLine() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[64];
  std::snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  static constexpr char kLetters[] = {'D', 'I', 'W', 'E'};
  std::string line = stamp;
  line += kLetters[static_cast<int>(level_)];
  line += ' ';
  line += stream_.str();
  line += '\n';
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace nslab
