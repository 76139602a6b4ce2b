#include "daemon/ustack/packet/virtio_net_hdr.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "tests/unit/ustack/packet/fixtures.h"
#include "tests/unit/ustack/packet/test_util.h"

namespace nslab::ustack::packet {
namespace {

using testing::heap_copy;
using testing::view_of;

TEST(VirtioNetHdrTest, ParsesGsoHeaderLittleEndian) {
  const auto view = VirtioNetHdrView<ConstBytes>::checked(
      fixtures::bytes(fixtures::kVirtioNetHdrGso), VirtioNetHdrSize::kBasic);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->flags(), virtio_net_flag::kNeedsCsum);
  EXPECT_EQ(view->gso_type(), virtio_net_gso::kTcpV4);
  EXPECT_EQ(view->hdr_len(), 66);
  EXPECT_EQ(view->gso_size(), 1448);
  EXPECT_EQ(view->csum_start(), 34);
  EXPECT_EQ(view->csum_offset(), 16);
  EXPECT_FALSE(view->num_buffers().has_value());
  EXPECT_TRUE(view->payload().empty());
  const auto repr = VirtioNetHdrRepr::parse(*view);
  ASSERT_TRUE(repr.has_value());
  EXPECT_EQ(repr->buffer_len(), 10u);
  EXPECT_TRUE(repr->checksum_in_bounds(66));
  EXPECT_FALSE(repr->checksum_in_bounds(51));
  std::vector<std::byte> out(repr->buffer_len());
  repr->emit(out);
  EXPECT_TRUE(std::ranges::equal(out, fixtures::bytes(fixtures::kVirtioNetHdrGso)));
}

TEST(VirtioNetHdrTest, TwelveByteLayoutCarriesNumBuffers) {
  const ConstBytes bytes = fixtures::bytes(fixtures::kVirtioNetHdrRx12);
  EXPECT_FALSE(
      VirtioNetHdrView<ConstBytes>::checked(bytes.first(11), VirtioNetHdrSize::kWithNumBuffers)
          .has_value());
  const auto view = VirtioNetHdrView<ConstBytes>::checked(bytes, VirtioNetHdrSize::kWithNumBuffers);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->num_buffers(), 1);
  EXPECT_EQ(view->flags(), virtio_net_flag::kDataValid);
  const auto repr = VirtioNetHdrRepr::parse(*view);
  ASSERT_TRUE(repr.has_value());
  EXPECT_EQ(repr->size(), VirtioNetHdrSize::kWithNumBuffers);
  std::vector<std::byte> out(repr->buffer_len());
  repr->emit(out);
  EXPECT_TRUE(std::ranges::equal(out, bytes));
  // Read as the 10-byte layout, the same bytes are a header followed by two frame bytes.
  const auto basic = VirtioNetHdrView<ConstBytes>::checked(bytes, VirtioNetHdrSize::kBasic);
  EXPECT_EQ(basic->payload().size(), 2u);
}

TEST(VirtioNetHdrTest, RejectsShortAndUnknown) {
  const ConstBytes good = fixtures::bytes(fixtures::kVirtioNetHdrGso);
  for (std::size_t len = 0; len < 10; ++len) {
    const auto copy = heap_copy(good.first(len));
    EXPECT_FALSE(VirtioNetHdrView<ConstBytes>::checked(view_of(copy), VirtioNetHdrSize::kBasic));
  }
  auto parse = [](const std::vector<std::byte>& bytes) {
    return VirtioNetHdrRepr::parse(
        *VirtioNetHdrView<ConstBytes>::checked(view_of(bytes), VirtioNetHdrSize::kBasic));
  };
  auto bad = heap_copy(good);
  bad[virtio_net_field::kFlags] = std::byte{0x08};
  EXPECT_FALSE(parse(bad).has_value());
  bad = heap_copy(good);
  bad[virtio_net_field::kGsoType] = std::byte{2};
  EXPECT_FALSE(parse(bad).has_value());
  bad = heap_copy(good);
  bad[virtio_net_field::kGsoType] = std::byte{virtio_net_gso::kTcpV4 | virtio_net_gso::kEcn};
  EXPECT_TRUE(parse(bad).has_value());
  write_le16(bad, virtio_net_field::kGsoSize, 0);
  EXPECT_FALSE(parse(bad).has_value());
}

}  // namespace
}  // namespace nslab::ustack::packet
