// RingTable against std::map under random insert/erase/find, including
// full tables and clusters that wrap around the end of the slot array.
#include "argo_core/ring_table.h"

#include <map>
#include <memory>
#include <random>
#include <utility>

#include "gtest/gtest.h"

namespace argo {
namespace {

std::unique_ptr<RingInfo> MakeRing(const RingId& id) {
  return std::make_unique<RingInfo>(1, id, 64, RingMemory(), 0);
}

TEST(RingTableTest, MatchesAMapUnderRandomChurn) {
  std::mt19937 rng(7);
  RingTable table;
  std::map<std::pair<uint32_t, uint16_t>, RingInfo*> model;
  for (int step = 0; step < 200000; ++step) {
    // A small key space makes collisions and full tables common.
    RingId id{
        static_cast<xen_argo_port_t>(rng() % 300),
        static_cast<domid_t>(rng() % 3 == 0 ? XEN_ARGO_DOMID_ANY : rng() % 4)};
    auto key = std::make_pair(id.aport, id.partner_id);
    if (rng() % 2 == 0) {
      if (model.count(key) == 0 && model.size() < kMaxRingsPerDomain) {
        auto ring = MakeRing(id);
        model[key] = ring.get();
        table.Insert(std::move(ring));
      }
    } else {
      std::unique_ptr<RingInfo> erased = table.Erase(id);
      auto it = model.find(key);
      ASSERT_EQ(erased.get(), it == model.end() ? nullptr : it->second);
      if (it != model.end()) model.erase(it);
    }
    ASSERT_EQ(table.size(), model.size());
    if (step % 1000 == 0) {
      for (const auto& [k, ring] : model) {
        ASSERT_EQ(table.Find(RingId{k.first, k.second}), ring);
      }
      size_t visited = 0;
      table.ForEach([&](RingInfo*) { ++visited; });
      ASSERT_EQ(visited, model.size());
    }
    ASSERT_EQ(table.Find(id), model.count(key) ? model[key] : nullptr);
  }
}

}  // namespace
}  // namespace argo
