#include "daemon/diag/ustack_sockets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace nslab::diag {
namespace {

using ::testing::HasSubstr;

nslab::v1::UstackStats Table() {
  nslab::v1::UstackStats stats;
  const auto add = [&](const std::string& local, const std::string& remote,
                       const std::string& state) {
    auto* socket = stats.add_tcp_sockets();
    socket->set_local(local);
    socket->set_remote(remote);
    socket->set_state(state);
    socket->set_mss(1000);
    socket->set_cwnd(10000);
    socket->set_recv_q(7);
    socket->set_retransmits(3);
    socket->set_backoff(1);
    return socket;
  };
  add("10.0.0.2:80", "0.0.0.0:0", "LISTEN");
  add("10.0.0.2:80", "10.0.0.1:40000", "CLOSE-WAIT");
  add("10.0.0.2:80", "10.0.0.1:40001", "CLOSE-WAIT");
  add("10.0.0.2:7", "10.0.0.1:40002", "ESTAB")->set_no_delay(true);
  return stats;
}

TEST(SocketsFromUstack, RowsInTheKernelsColumns) {
  auto list = SocketsFromUstack(Table(), {});
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->sockets_size(), 4);
  const nslab::v1::Socket& socket = list->sockets(1);
  EXPECT_EQ(socket.protocol(), "tcp");
  EXPECT_EQ(socket.family(), "inet");
  EXPECT_EQ(socket.state(), "CLOSE-WAIT");
  EXPECT_EQ(socket.local_address(), "10.0.0.2");
  EXPECT_EQ(socket.local_port(), 80u);
  EXPECT_EQ(socket.peer_address(), "10.0.0.1");
  EXPECT_EQ(socket.peer_port(), 40000u);
  EXPECT_EQ(socket.recv_q(), 7u);
  EXPECT_EQ(socket.tcp().snd_cwnd(), 10u);  // segments, as tcp_info counts
  EXPECT_EQ(socket.tcp().retransmits(), 1u);
  EXPECT_EQ(socket.tcp().total_retrans(), 3u);
  ASSERT_GE(list->summary_size(), 1);
  EXPECT_EQ(list->summary(0).state(), "CLOSE-WAIT");
  EXPECT_EQ(list->summary(0).count(), 2u);
}

TEST(SocketsFromUstack, NoDelayAndCorkAreReportedForEverySocket) {
  auto list = SocketsFromUstack(Table(), {});
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->sockets_size(), 4);
  // Present (the stack knows them), unlike a kernel socket's.
  EXPECT_TRUE(list->sockets(1).tcp().has_nodelay());
  EXPECT_FALSE(list->sockets(1).tcp().nodelay());
  EXPECT_TRUE(list->sockets(1).tcp().has_cork());
  EXPECT_TRUE(list->sockets(3).tcp().nodelay());
  EXPECT_FALSE(list->sockets(3).tcp().cork());
}

TEST(SocketsFromUstack, FiltersAsForAKernelNode) {
  auto list = SocketsFromUstack(Table(), SocketFilter{"CLOSE_WAIT", 0, ""});
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->sockets_size(), 2);
  list = SocketsFromUstack(Table(), SocketFilter{"", 7, ""});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->sockets_size(), 1);
  EXPECT_EQ(list->sockets(0).state(), "ESTAB");
  list = SocketsFromUstack(Table(), SocketFilter{"", 40001, ""});  // a peer's port matches too
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->sockets_size(), 1);
  list = SocketsFromUstack(Table(), SocketFilter{"", 0, "udp"});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->sockets_size(), 0);
  EXPECT_THAT(SocketsFromUstack(Table(), SocketFilter{"half-open", 0, ""}).status().message(),
              HasSubstr("close-wait"));
  EXPECT_EQ(SocketsFromUstack(Table(), SocketFilter{"", 0, "sctp"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nslab::diag
