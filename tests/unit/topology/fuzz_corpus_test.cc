// The topology fuzz targets start from tests/fuzz/topology/corpus (reading) and
// roundtrip_corpus (reading, printing, reading back). A seed the reader rejects only explores
// error paths, so every seed must be a topology the reader accepts, and the seeds together
// must reach the parts of the schema that have their own code paths.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/topology/yaml_reader.h"

namespace nslab::topology {
namespace {

std::vector<std::filesystem::path> Seeds(const char* corpus = NSLAB_TOPOLOGY_CORPUS) {
  std::vector<std::filesystem::path> seeds;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    seeds.push_back(entry.path());
  }
  return seeds;
}

absl::StatusOr<nslab::v1::Topology> Read(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return ReadTopologyYaml(text.str());
}

bool Impaired(const nslab::v1::Impairment& impairment) { return impairment.ByteSizeLong() != 0; }

TEST(TopologyFuzzCorpus, EverySeedIsATopologyTheReaderAccepts) {
  for (const char* corpus : {NSLAB_TOPOLOGY_CORPUS, NSLAB_ROUNDTRIP_CORPUS}) {
    const auto seeds = Seeds(corpus);
    ASSERT_FALSE(seeds.empty()) << corpus;
    for (const auto& seed : seeds) {
      auto topology = Read(seed);
      EXPECT_TRUE(topology.ok()) << seed << ": " << topology.status();
    }
  }
}

TEST(TopologyFuzzCorpus, SeedsReachImpairmentsWiresRunAndUstackNodes) {
  bool impair = false, one_way = false, wire = false, run = false, ustack = false;
  for (const auto& seed : Seeds()) {
    auto topology = Read(seed);
    if (!topology.ok()) {
      continue;  // the test above names it
    }
    for (const auto& link : topology->links()) {
      impair = impair || Impaired(link.impair());
      one_way = one_way || Impaired(link.a_to_b()) || Impaired(link.b_to_a());
      wire = wire || link.mode() == nslab::v1::LINK_MODE_WIRE;
    }
    for (const auto& node : topology->nodes()) {
      ustack = ustack || (node.kind() == nslab::v1::NODE_KIND_USTACK && node.services_size() > 0);
      run = run || node.run_size() > 0;
    }
  }
  EXPECT_TRUE(impair) << "no seed has a link with impair:";
  EXPECT_TRUE(one_way) << "no seed has a link with a_to_b: or b_to_a:";
  EXPECT_TRUE(wire) << "no seed has a link with mode: wire";
  EXPECT_TRUE(run) << "no seed has run: processes";
  EXPECT_TRUE(ustack) << "no seed has a ustack node with services";
}

}  // namespace
}  // namespace nslab::topology
