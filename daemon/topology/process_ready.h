#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "daemon/topology/field_error.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::topology {

// A `run:` process's ready condition (nslab.v1.ProcessReady): how long CreateLab waits for
// it when the file does not say, and the longest a file may ask for.
inline constexpr uint32_t kDefaultProcessReadyTimeoutMs = 10'000;
inline constexpr uint32_t kMaxProcessReadyTimeoutMs = 600'000;

// Whether `ready` (at `path`, "run.web[0].ready") is one condition with a port in range and
// a timeout the daemon will wait for. An unset ready (no condition) is fine.
std::optional<FieldError> CheckProcessReady(const nslab::v1::ProcessReady& ready,
                                            const std::string& path);

// "tcp port 8080 listening", "udp port 53 bound", "a line with \"Serving\"": for messages.
std::string DescribeProcessReady(const nslab::v1::ProcessReady& ready);

// The timeout the condition is waited for, in ms (the default for 0).
uint32_t ProcessReadyTimeoutMs(const nslab::v1::ProcessReady& ready);

}  // namespace nslab::topology
