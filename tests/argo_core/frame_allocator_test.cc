#include "argo_core/guest/frame_allocator.h"

#include <vector>

#include "gtest/gtest.h"

namespace argo {
namespace {

TEST(FrameAllocatorTest, PrefersContiguousRunsThenScatters) {
  FrameAllocator alloc(10, 8);
  auto a = alloc.Allocate(3);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, (std::vector<uint64_t>{10, 11, 12}));
  auto b = alloc.Allocate(2);
  EXPECT_EQ(*b, (std::vector<uint64_t>{13, 14}));
  alloc.Free({11});
  // 4 frames wanted, free: 11, 15, 16, 17 -> run 15..17 is too short.
  auto c = alloc.Allocate(4);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, (std::vector<uint64_t>{11, 15, 16, 17}));
  EXPECT_EQ(alloc.free_frames(), 0u);
  EXPECT_EQ(alloc.Allocate(1).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(FrameAllocatorTest, FreeIgnoresForeignAndDoubleFrees) {
  FrameAllocator alloc(10, 2);
  auto a = alloc.Allocate(2);
  alloc.Free({10, 10, 3, 99});
  EXPECT_EQ(alloc.free_frames(), 1u);
}

}  // namespace
}  // namespace argo
