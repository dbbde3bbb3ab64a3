// PerCpuRwLock: readers share, a writer excludes everyone, and a waiting
// writer is not starved by a stream of readers.
#include "argo_core/percpu_rwlock.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace argo {
namespace {

TEST(PerCpuRwLockTest, ReadersOverlapWritersExclude) {
  PerCpuRwLock lock;
  std::atomic<int> readers_inside{0};
  std::atomic<int> max_readers{0};
  std::atomic<bool> writer_saw_reader{false};
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        ReadGuard g(&lock);
        int now = ++readers_inside;
        int seen = max_readers.load();
        while (now > seen && !max_readers.compare_exchange_weak(seen, now)) {
        }
        --readers_inside;
      }
    });
  }
  std::thread writer([&] {
    for (int i = 0; i < 2000; ++i) {
      WriteGuard g(&lock);
      if (readers_inside.load() != 0) writer_saw_reader = true;
      ++writes;
    }
    stop = true;
  });
  writer.join();
  for (auto& t : threads) t.join();
  EXPECT_FALSE(writer_saw_reader.load());
  EXPECT_EQ(writes.load(), 2000) << "the writer was not starved";
}

TEST(PerCpuRwLockTest, WriterSeesEveryReaderWrite) {
  PerCpuRwLock lock;
  int64_t counter = 0;  // written under the write lock only
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        WriteGuard g(&lock);
        ++counter;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, 40000);
}

TEST(PerCpuRwLockTest, ThreadExitGivesTheSlotUpForGood) {
  // A thread-local destroyed after the thread's slot lease (constructed
  // before it) may still lock: it must share the overflow counter then,
  // not the slot the lease gave back to other threads.
  static int slot_seen_late = -2;
  static PerCpuRwLock lock;
  std::thread t([] {
    struct LateReader {
      ~LateReader() {
        ReadGuard g(&lock);
        slot_seen_late = PerCpuRwLock::ThisThreadSlot();
      }
    };
    thread_local LateReader late;
    (void)&late;
    ReadGuard g(&lock);  // leases a slot, after `late` was constructed
    EXPECT_GE(PerCpuRwLock::ThisThreadSlot(), 0);
  });
  t.join();
  EXPECT_EQ(slot_seen_late, -1);
  WriteGuard w(&lock);  // and nothing was left held
}

}  // namespace
}  // namespace argo
