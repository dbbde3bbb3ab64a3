#include "argo_core/guest_memory.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "gtest/gtest.h"

namespace argo {
namespace {

TEST(GuestMemoryTest, BoundsChecksEveryByte) {
  auto mem = GuestMemory::Create(4, "test");
  ASSERT_TRUE(mem.ok());
  const uint64_t size = 4 * 4096;
  uint8_t buf[16] = {};
  EXPECT_TRUE((*mem)->CopyTo(size - 16, buf, 16));
  EXPECT_FALSE((*mem)->CopyTo(size - 15, buf, 16));
  EXPECT_FALSE((*mem)->CopyFrom(~uint64_t{0} - 3, buf, 16)) << "no overflow";
  EXPECT_TRUE((*mem)->CopyFrom(size, buf, 0)) << "empty range at the end";
  EXPECT_EQ((*mem)->Translate(size, 1), nullptr);
  EXPECT_NE((*mem)->Translate(0, size), nullptr);
}

TEST(GuestMemoryTest, MemfdIsSealedAgainstResizing) {
  // What a guest process receives (DESIGN §8) cannot be shrunk under the
  // hypervisor's mappings, nor grown, nor unsealed.
  auto memory = GuestMemory::Create(4, "sealed");
  ASSERT_TRUE(memory.ok()) << memory.status();
  const int fd = (*memory)->fd();
  EXPECT_EQ(ftruncate(fd, 4096), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(ftruncate(fd, 8 * 4096), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(ftruncate(fd, 0), -1);
  const int seals = fcntl(fd, F_GET_SEALS);
  EXPECT_EQ(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
            F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
  EXPECT_EQ(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), -1) << "seals are final";
  // Still fully usable.
  EXPECT_TRUE((*memory)->CopyTo(4 * 4096 - 1, "x", 1));
}

TEST(GuestMemoryTest, RejectsBadSizes) {
  EXPECT_FALSE(GuestMemory::Create(0, "x").ok());
  EXPECT_FALSE(GuestMemory::Create(GuestMemory::kMaxFrames + 1, "x").ok());
}

TEST(GuestMemoryTest, WindowMapsScatteredFramesInOrderAndAliasesMemory) {
  auto mem = GuestMemory::Create(16, "test");
  ASSERT_TRUE(mem.ok());
  for (uint64_t f = 0; f < 16; ++f) {
    uint8_t tag = static_cast<uint8_t>(f);
    ASSERT_TRUE((*mem)->CopyTo(f * 4096 + 100, &tag, 1));
  }
  auto window = (*mem)->MapFrames(std::vector<uint64_t>{9, 3, 4, 5, 12});
  ASSERT_TRUE(window.ok());
  EXPECT_EQ(window->size(), 5u * 4096);
  EXPECT_EQ(window->segments(), 3u) << "3,4,5 is one run";
  const uint8_t expect[] = {9, 3, 4, 5, 12};
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(window->data()[i * 4096 + 100], expect[i]);
  // Writes through the window land in guest memory.
  window->data()[4096 + 7] = 0xEE;
  uint8_t back = 0;
  ASSERT_TRUE((*mem)->CopyFrom(3 * 4096 + 7, &back, 1));
  EXPECT_EQ(back, 0xEE);
}

}  // namespace
}  // namespace argo
