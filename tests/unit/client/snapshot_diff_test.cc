#include "client/diag_print.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nslab::client {
namespace {

nslab::v1::SnapshotResponse Snapshot(uint64_t rx_packets, uint64_t rule_packets,
                                     uint64_t close_wait) {
  nslab::v1::SnapshotResponse snapshot;
  snapshot.set_lab("lab");
  auto* node = snapshot.add_nodes();
  node->set_node("gw");
  auto* link = node->mutable_links()->add_links();
  link->set_name("eth0");
  link->mutable_counters()->set_rx_packets(rx_packets);
  link->mutable_counters()->set_tx_packets(7);  // unchanged: not reported
  auto* rule = node->mutable_firewall()->add_rules();
  rule->set_family("inet");
  rule->set_table("filter");
  rule->set_chain("input");
  rule->set_handle(4);
  rule->set_text("tcp dport 22 drop");
  rule->set_has_counter(true);
  rule->set_packets(rule_packets);
  if (close_wait > 0) {
    auto* count = node->mutable_sockets()->add_summary();
    count->set_state("CLOSE-WAIT");
    count->set_count(close_wait);
  }
  return snapshot;
}

TEST(DiffSnapshotsTest, ReportsOnlyWhatChangedWithBeforeAfterAndDelta) {
  const auto diff = DiffSnapshots(Snapshot(10, 0, 0), Snapshot(14, 3, 2));
  ASSERT_EQ(diff.deltas_size(), 2);
  EXPECT_EQ(diff.deltas(0).object(), "link eth0");
  EXPECT_EQ(diff.deltas(0).counter(), "rx_packets");
  EXPECT_EQ(diff.deltas(0).delta(), 4);
  EXPECT_EQ(diff.deltas(1).counter(), "packets");
  EXPECT_THAT(diff.deltas(1).object(), ::testing::HasSubstr("#4 tcp dport 22 drop"));
  EXPECT_EQ(diff.deltas(1).before(), 0u);
  EXPECT_EQ(diff.deltas(1).after(), 3u);
  ASSERT_EQ(diff.socket_states_size(), 1);
  EXPECT_EQ(diff.socket_states(0).counter(), "CLOSE-WAIT");
  EXPECT_EQ(diff.socket_states(0).delta(), 2);
}

TEST(DiffSnapshotsTest, ACounterThatWentBackwardsHasANegativeDelta) {
  const auto diff = DiffSnapshots(Snapshot(10, 5, 3), Snapshot(2, 5, 0));
  ASSERT_EQ(diff.deltas_size(), 1);
  EXPECT_EQ(diff.deltas(0).delta(), -8);  // a link re-created between the snapshots
  ASSERT_EQ(diff.socket_states_size(), 1);
  EXPECT_EQ(diff.socket_states(0).delta(), -3);
}

}  // namespace
}  // namespace nslab::client
