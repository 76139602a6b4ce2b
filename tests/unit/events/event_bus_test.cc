#include "daemon/events/event_bus.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace nslab::events {
namespace {

using nslab::v1::LAB_EVENT_KIND_LAB_CREATED;
using nslab::v1::LAB_EVENT_KIND_LAB_DELETED;
using nslab::v1::LAB_EVENT_KIND_LINK_STATE;
using nslab::v1::LAB_EVENT_KIND_UNSPECIFIED;

// Nothing here waits for an event that was not published before: a deadline in the past
// only makes Next return what is already queued.
absl::Time Now() { return absl::InfinitePast(); }

TEST(EventBusTest, DeliversOnlyTheSubscribedLabsEventsInOrder) {
  EventBus bus;
  auto first = bus.Subscribe("a");
  auto other = bus.Subscribe("b");
  bus.Publish("a", LAB_EVENT_KIND_LAB_CREATED, "", "", "building");
  bus.Publish("a", LAB_EVENT_KIND_LINK_STATE, "client", "client:eth0", "client:eth0 down");

  auto created = first->Next(Now());
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(created->kind(), LAB_EVENT_KIND_LAB_CREATED);
  EXPECT_EQ(created->lab(), "a");
  EXPECT_TRUE(created->has_time()) << "the bus stamps events without a time";
  auto link = first->Next(Now());
  ASSERT_TRUE(link.has_value());
  EXPECT_EQ(link->message(), "client:eth0 down");
  EXPECT_EQ(link->node(), "client");
  EXPECT_FALSE(first->Next(Now()).has_value());
  EXPECT_FALSE(other->HasNext()) << "lab b saw lab a's events";
}

TEST(EventBusTest, EverySubscriberOfALabGetsEachEvent) {
  EventBus bus;
  auto one = bus.Subscribe("lab");
  auto two = bus.Subscribe("lab");
  bus.Publish("lab", LAB_EVENT_KIND_LAB_DELETED, "", "", "");
  EXPECT_TRUE(one->Next(Now()).has_value());
  EXPECT_TRUE(two->Next(Now()).has_value());
}

TEST(EventBusTest, KeepsATimeThePublisherSet) {
  EventBus bus;
  auto watch = bus.Subscribe("lab");
  nslab::v1::LabEvent event;
  event.set_lab("lab");
  event.mutable_time()->set_seconds(42);
  bus.Publish(event);
  auto got = watch->Next(Now());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->time().seconds(), 42);
}

TEST(EventBusTest, ASlowWatcherLosesTheOldestAndIsToldHowMany) {
  EventBus bus(/*queue_limit=*/3);
  auto watch = bus.Subscribe("lab");
  for (int i = 0; i < 5; ++i) {
    bus.Publish("lab", LAB_EVENT_KIND_LINK_STATE, "", "", absl::StrCat("event ", i));
  }
  auto notice = watch->Next(Now());
  ASSERT_TRUE(notice.has_value());
  EXPECT_EQ(notice->kind(), LAB_EVENT_KIND_UNSPECIFIED);
  EXPECT_EQ(notice->lab(), "lab");
  EXPECT_TRUE(absl::StrContains(notice->message(), "2 events were dropped")) << notice->message();
  for (int i = 2; i < 5; ++i) {
    auto event = watch->Next(Now());
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ(event->message(), absl::StrCat("event ", i));
  }
  EXPECT_FALSE(watch->HasNext());
}

TEST(EventBusTest, DestroyingASubscriptionUnsubscribes) {
  EventBus bus;
  auto kept = bus.Subscribe("lab");
  {
    auto gone = bus.Subscribe("lab");
    EXPECT_EQ(bus.SubscriberCount(), 2u);
  }
  EXPECT_EQ(bus.SubscriberCount(), 1u);
  bus.Publish("lab", LAB_EVENT_KIND_LAB_CREATED, "", "", "");  // must not touch the freed one
  EXPECT_TRUE(kept->Next(Now()).has_value());
}

TEST(EventBusTest, NextWaitsForAnEventFromAnotherThread) {
  EventBus bus;
  auto watch = bus.Subscribe("lab");
  std::thread publisher([&] { bus.Publish("lab", LAB_EVENT_KIND_LAB_DELETED, "", "", "gone"); });
  auto event = watch->Next(absl::InfiniteFuture());
  publisher.join();
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->message(), "gone");
}

TEST(EventBusTest, NextReturnsNothingAtItsDeadline) {
  EventBus bus;
  auto watch = bus.Subscribe("lab");
  EXPECT_FALSE(watch->Next(absl::Now() + absl::Milliseconds(1)).has_value());
}

TEST(EventBusTest, ManyPublishersNeverLoseEventsWithinTheLimit) {
  EventBus bus(/*queue_limit=*/4000);
  auto watch = bus.Subscribe("lab");
  std::vector<std::thread> publishers;
  for (int t = 0; t < 4; ++t) {
    publishers.emplace_back([&bus] {
      for (int i = 0; i < 1000; ++i) {
        bus.Publish("lab", LAB_EVENT_KIND_LINK_STATE, "", "", "");
      }
    });
  }
  for (auto& publisher : publishers) {
    publisher.join();
  }
  int seen = 0;
  while (auto event = watch->Next(Now())) {
    EXPECT_EQ(event->kind(), LAB_EVENT_KIND_LINK_STATE);
    ++seen;
  }
  EXPECT_EQ(seen, 4000);
}

}  // namespace
}  // namespace nslab::events
