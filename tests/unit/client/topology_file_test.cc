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

TEST_F(RequestFromFileTest, ATopologyTooLargeForTheDaemonIsRefusedHere) {
  // 20 MiB of comments: valid YAML, and five times what nslabd takes.
  Write("big.yaml", "nodes: {a: {}}\n" + std::string(20 << 20, '#'));
  EXPECT_FALSE(RequestFromFile((dir_ / "big.yaml").string()).has_value());
  nslab::v1::CreateLabRequest request;
  request.set_topology_yaml(std::string(20 << 20, '#'));
  EXPECT_EQ(CheckRequestSize(request, "topology.yaml").message(),
            "topology.yaml is 20.0 MiB; nslabd accepts topologies up to 4 MiB (split the lab or "
            "generate it with fewer nodes)");
  // The text fits, the text with the files it names does not.
  request.set_topology_yaml(std::string(3 << 20, '#'));
  (*request.mutable_files())["cell.trace"] = std::string(2 << 20, '1');
  EXPECT_EQ(CheckRequestSize(request, "topology.yaml").message(),
            "topology.yaml and the 1 file it names come to 5.0 MiB in one request; nslabd "
            "accepts topologies up to 4 MiB (split the lab or generate it with fewer nodes)");
  request.mutable_files()->clear();
  EXPECT_TRUE(CheckRequestSize(request, "topology.yaml").ok());
}

TEST(ExplainSizeRefusalTest, GrpcsWordsForTheLimitBecomeNslabs) {
  const grpc::Status refused(grpc::StatusCode::RESOURCE_EXHAUSTED,
                             "Received message larger than max (20971535 vs. 4194304)");
  const grpc::Status explained = ExplainSizeRefusal(refused, "topology.yaml");
  EXPECT_EQ(explained.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(explained.error_message(),
            "topology.yaml is more than nslabd takes in one request (gRPC: Received message "
            "larger than max (20971535 vs. 4194304)); nslabd accepts topologies up to 4 MiB "
            "(split the lab or generate it with fewer nodes)");
  // Other refusals stay as they are.
  const grpc::Status busy(grpc::StatusCode::RESOURCE_EXHAUSTED, "too many labs");
  EXPECT_EQ(ExplainSizeRefusal(busy, "topology.yaml").error_message(), "too many labs");
  EXPECT_TRUE(ExplainSizeRefusal(grpc::Status::OK, "topology.yaml").ok());
}

}  // namespace
}  // namespace nslab::client
