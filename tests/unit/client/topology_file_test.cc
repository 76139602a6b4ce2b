// What the CLI sends along with a topology: the files it names, read by the client.
#include "client/topology_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace nslab::client {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(FilesNamedByTest, NftablesFilesAndTracesInEveryDirection) {
  EXPECT_THAT(FilesNamedBy(R"(
nodes:
  gw: {kind: router, nftables_file: rules/gw.nft}
  a: {}
  b: {nftables: "table inet t {}"}
links:
  - {a: a:eth0, b: gw:lan0, impair: {trace_file: cell.trace}}
  - {a: b:eth0, b: gw:wan0, a_to_b: {trace_file: up.trace}, b_to_a: {trace_file: cell.trace}}
)"),
              ElementsAre("rules/gw.nft", "cell.trace", "up.trace"));
}

TEST(FilesNamedByTest, ANameBesideItsTextIsNotRead) {
  // What `nslab show --topology` prints for a lab made from files: the text, and the name it
  // came from, which need not exist where the printed file is used.
  EXPECT_THAT(FilesNamedBy(R"(
nodes:
  gw: {nftables_file: rules/gw.nft, nftables: "table inet t {}"}
  a: {}
links:
  - {a: a:eth0, b: gw:lan0, impair: {trace_file: cell.trace, trace: "10\n"}}
  - {a: a:eth1, b: gw:lan1, a_to_b: {trace_file: up.trace}}
)"),
              ElementsAre("up.trace"));
}

TEST(FilesNamedByTest, TextThatIsNotATopologyNamesNothing) {
  EXPECT_THAT(FilesNamedBy("nodes: [\n"), IsEmpty());
  EXPECT_THAT(FilesNamedBy("- a\n- b\n"), IsEmpty());
  EXPECT_THAT(FilesNamedBy("nodes: {a: {nftables_file: [x]}}\n"), IsEmpty());
}

class RequestFromFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/nslab-topofile-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& relative, const std::string& text) {
    std::filesystem::create_directories((dir_ / relative).parent_path());
    std::ofstream(dir_ / relative) << text;
  }
  std::filesystem::path dir_;
};

TEST_F(RequestFromFileTest, CarriesTheNamedFilesReadRelativeToTheTopology) {
  Write("lab/topo.yaml", "nodes: {gw: {nftables_file: rules/gw.nft}}\n");
  Write("lab/rules/gw.nft", "table inet filter {}\n");
  auto request = RequestFromFile((dir_ / "lab/topo.yaml").string());
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->topology_yaml(), "nodes: {gw: {nftables_file: rules/gw.nft}}\n");
  ASSERT_EQ(request->files().size(), 1u);
  EXPECT_EQ(request->files().at("rules/gw.nft"), "table inet filter {}\n");
}

TEST_F(RequestFromFileTest, AMissingNamedFileIsRefusedHere) {
  Write("topo.yaml", "nodes: {gw: {nftables_file: absent.nft}}\n");
  EXPECT_FALSE(RequestFromFile((dir_ / "topo.yaml").string()).has_value());
}

}  // namespace
}  // namespace nslab::client
