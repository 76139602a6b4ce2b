#include "client/run_report.h"

#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace nslab::client {
namespace {

// XML 1.0 text or attribute value: the five entities, and control characters (which XML 1.0
// cannot carry at all) as U+FFFD so a binary byte in a command's output keeps the file valid.
std::string Xml(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\n':
      case '\t':
      case '\r':
        out += c;
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\xEF\xBF\xBD";
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string Seconds(double seconds) { return absl::StrFormat("%.3f", seconds); }
std::string Seconds(uint32_t ms) { return Seconds(ms / 1000.0); }

std::string Attempts(const nslab::v1::CheckResult& check) {
  std::string text;
  for (const auto& attempt : check.attempts()) {
    absl::StrAppend(&text, absl::StrFormat("%8.3fs %6ums  %s  %s\n", attempt.at_ms() / 1000.0,
                                           attempt.duration_ms(), attempt.ok() ? "ok  " : "fail",
                                           attempt.observed()));
  }
  return text;
}

std::string ScenarioSuite(const nslab::v1::ScenarioReport& report) {
  int failures = 0;
  int errors = 0;
  std::string cases;
  for (const auto& check : report.checks()) {
    absl::StrAppend(&cases, "    <testcase classname=\"", Xml(report.name()), "\" name=\"",
                    Xml(check.name()), "\" time=\"", Seconds(check.duration_ms()), "\"");
    if (check.passed()) {
      absl::StrAppend(&cases, ">\n      <system-out>", Xml(Attempts(check)),
                      "</system-out>\n    </testcase>\n");
      continue;
    }
    ++failures;
    absl::StrAppend(&cases, ">\n      <failure type=\"check\" message=\"",
                    Xml(absl::StrCat("expected ", check.expected(), "; seen ", check.seen())),
                    "\">",
                    Xml(absl::StrCat(check.path(), ": expected ", check.expected(),
                                     "\nseen: ", check.seen(), "\nattempts:\n", Attempts(check))),
                    "</failure>\n    </testcase>\n");
  }
  for (const auto& step : report.steps()) {
    if (step.ok()) {
      continue;
    }
    ++errors;
    absl::StrAppend(&cases, "    <testcase classname=\"", Xml(report.name()), "\" name=\"",
                    Xml(absl::StrCat(step.planned().path(), ": ", step.planned().description())),
                    "\" time=\"", Seconds(step.duration_ms()),
                    "\">\n      <error type=\"action\" message=\"", Xml(step.error()), "\">",
                    Xml(absl::StrCat("planned at ", step.planned().planned_ms(), " ms, ran at ",
                                     step.actual_ms(), " ms: ", step.error())),
                    "</error>\n    </testcase>\n");
  }
  if (!report.error().empty()) {
    ++errors;
    absl::StrAppend(&cases, "    <testcase classname=\"", Xml(report.name()),
                    "\" name=\"scenario\" time=\"0\">\n      <error type=\"scenario\" message=\"",
                    Xml(report.error()), "\"/>\n    </testcase>\n");
  }
  const int tests = report.checks_size() + errors;
  std::string started;
  if (report.has_started()) {
    started =
        absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(report.started().seconds()),
                         absl::UTCTimeZone());
  }
  return absl::StrCat("  <testsuite name=\"", Xml(report.name()), "\" tests=\"", tests,
                      "\" failures=\"", failures, "\" errors=\"", errors,
                      "\" skipped=\"0\" time=\"", Seconds(report.duration_ms()), "\"",
                      started.empty() ? "" : absl::StrCat(" timestamp=\"", started, "\""), ">\n",
                      "    <properties>\n      <property name=\"lab\" value=\"", Xml(report.lab()),
                      "\"/>\n      <property name=\"seed\" value=\"", report.seed(), "\"/>\n",
                      "    </properties>\n", cases, "  </testsuite>\n");
}

std::string CommandSuite(const CommandOutcome& command) {
  const std::string line = absl::StrJoin(command.argv, " ");
  std::string body;
  const bool failed = command.exit_code != 0;
  if (failed) {
    const std::string why = command.exit_code < 0 ? absl::StrCat("could not run: ", command.error)
                                                  : absl::StrCat("exited with ", command.exit_code);
    absl::StrAppend(&body, "      <failure type=\"command\" message=\"", Xml(why), "\">",
                    Xml(absl::StrCat(line, " in ", command.node, ": ", why)), "</failure>\n");
  }
  absl::StrAppend(&body, "      <system-out>", Xml(command.output), "</system-out>\n");
  return absl::StrCat("  <testsuite name=\"command\" tests=\"1\" failures=\"", failed ? 1 : 0,
                      "\" errors=\"0\" skipped=\"0\" time=\"", Seconds(command.seconds), "\">\n",
                      "    <testcase classname=\"command\" name=\"", Xml(command.node), ": ",
                      Xml(line), "\" time=\"", Seconds(command.seconds), "\">\n", body,
                      "    </testcase>\n  </testsuite>\n");
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

// A JSON string literal.
std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace

bool RunOutcome::passed() const {
  if (!infrastructure_error.empty()) {
    return false;
  }
  if (scenario && !scenario->passed()) {
    return false;
  }
  return !command || command->exit_code == 0;
}

std::string JunitXml(const RunOutcome& outcome) {
  std::string suites;
  int tests = 0;
  int failures = 0;
  int errors = 0;
  if (outcome.scenario) {
    suites += ScenarioSuite(*outcome.scenario);
    for (const auto& check : outcome.scenario->checks()) {
      ++tests;
      failures += check.passed() ? 0 : 1;
    }
    for (const auto& step : outcome.scenario->steps()) {
      errors += step.ok() ? 0 : 1;
    }
    errors += outcome.scenario->error().empty() ? 0 : 1;
    tests += errors;
  }
  if (outcome.command) {
    suites += CommandSuite(*outcome.command);
    ++tests;
    failures += outcome.command->exit_code == 0 ? 0 : 1;
  }
  if (!outcome.infrastructure_error.empty()) {
    ++tests;
    ++errors;
    suites += absl::StrCat(
        "  <testsuite name=\"nslab\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" "
        "time=\"0\">\n    <testcase classname=\"nslab\" name=\"lab ",
        Xml(outcome.lab), "\" time=\"0\">\n      <error type=\"infrastructure\" message=\"",
        Xml(outcome.infrastructure_error), "\"/>\n    </testcase>\n  </testsuite>\n");
  }
  return absl::StrCat("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"nslab ",
                      Xml(outcome.lab), "\" tests=\"", tests, "\" failures=\"", failures,
                      "\" errors=\"", errors, "\" time=\"", Seconds(outcome.seconds), "\">\n",
                      suites, "</testsuites>\n");
}

std::string JsonReport(const RunOutcome& outcome) {
  std::string json = absl::StrCat("{\"lab\":", JsonString(outcome.lab),
                                  ",\"topology\":", JsonString(outcome.topology),
                                  ",\"passed\":", outcome.passed() ? "true" : "false",
                                  ",\"seconds\":", Seconds(outcome.seconds));
  if (outcome.scenario) {
    absl::StrAppend(&json, ",\"scenario\":", ToJson(*outcome.scenario));
  }
  if (outcome.command) {
    const CommandOutcome& command = *outcome.command;
    std::vector<std::string> argv;
    for (const auto& arg : command.argv) {
      argv.push_back(JsonString(arg));
    }
    absl::StrAppend(&json, ",\"command\":{\"node\":", JsonString(command.node), ",\"argv\":[",
                    absl::StrJoin(argv, ","), "],\"exit_code\":", command.exit_code,
                    ",\"error\":", JsonString(command.error),
                    ",\"seconds\":", Seconds(command.seconds),
                    ",\"output\":", JsonString(command.output), "}");
  }
  if (outcome.snapshot) {
    absl::StrAppend(&json, ",\"snapshot\":", ToJson(*outcome.snapshot));
  }
  if (!outcome.infrastructure_error.empty()) {
    absl::StrAppend(&json, ",\"infrastructure_error\":", JsonString(outcome.infrastructure_error));
  }
  return json + "}\n";
}

bool WriteReportFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::cerr << "nslab: cannot write " << path << "\n";
    return false;
  }
  return true;
}

}  // namespace nslab::client
