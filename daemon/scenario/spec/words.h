#pragma once

// The words a scenario file spells the proto's enums with, looked up by the reader, the
// validator and the descriptions alike (topology/yaml_words.h has the Word template).

#include "absl/strings/string_view.h"
#include "daemon/topology/yaml_words.h"
#include "nslab/v1/scenario.pb.h"

namespace nslab::scenario {

using topology::FromWord;
using topology::KnownWords;
using topology::ToWord;
using topology::Word;

inline constexpr Word<nslab::v1::Direction> kDirectionWords[] = {
    {"both", nslab::v1::DIRECTION_BOTH},
    {"a-to-b", nslab::v1::DIRECTION_A_TO_B},
    {"b-to-a", nslab::v1::DIRECTION_B_TO_A}};

inline constexpr Word<nslab::v1::LinkEnd> kLinkEndWords[] = {
    {"a", nslab::v1::LINK_END_A}, {"b", nslab::v1::LINK_END_B}, {"both", nslab::v1::LINK_END_BOTH}};

inline constexpr Word<nslab::v1::PartitionMode> kPartitionModeWords[] = {
    {"drop", nslab::v1::PARTITION_MODE_DROP}, {"reject", nslab::v1::PARTITION_MODE_REJECT}};

inline constexpr Word<nslab::v1::Expect> kExpectWords[] = {{"ok", nslab::v1::EXPECT_OK},
                                                           {"fail", nslab::v1::EXPECT_FAIL}};

// UstackFaultAction.mode: the words `nslab ustack fault` takes.
inline constexpr absl::string_view kUstackFaultModes[] = {
    "refuse",      "blackhole-syn", "never-accept", "close-wait", "ignore-fin",
    "zero-window", "slow-read",     "reset-after",  "clear"};

}  // namespace nslab::scenario
