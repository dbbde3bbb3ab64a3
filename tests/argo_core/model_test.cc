// Model-based test: long random sequences of register / unregister / sendv /
// read / notify / destroy across several domains, run against the
// hypervisor through the raw ABI and against a small reference model that
// keeps each ring as a queue of whole messages with a byte budget (no
// pointers, no wrap). After every step the return value, every domain's
// VIRQ count, and every ring's fill and waiters must agree.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include "argo_core/argo_limits.h"
#include "gtest/gtest.h"
#include "tests/testing/argo_fixture.h"

namespace argo::testing {
namespace {

constexpr domid_t kDomains[] = {1, 2, 3, 4};
constexpr domid_t kMissingDomain = 9;
constexpr xen_argo_port_t kPorts[] = {1, 2, 3};
constexpr uint32_t kLens[] = {48, 256, 4032, 8128};
constexpr uint32_t kSizes[] = {0, 1, 15, 16, 17, 100, 200, 1000, 4000};

using RingKey =
    std::tuple<domid_t, xen_argo_port_t, domid_t>;  // owner,port,partner

// ---- The reference model ---------------------------------------------------

struct ModelMessage {
  domid_t src;
  xen_argo_port_t src_port;
  uint32_t type;
  uint32_t seed;
  uint32_t size;
};

struct ModelRing {
  uint32_t len = 0;
  uint32_t used = 0;  // bytes of whole messages, headers and padding included
  std::deque<ModelMessage> messages;
  std::map<domid_t, uint32_t> pending;  // waiter -> awaited payload bytes

  static uint32_t Cost(uint32_t size) {
    return kMessageHeaderSize + static_cast<uint32_t>(RoundupMessage(size));
  }
  uint32_t PayloadSpace() const {
    uint32_t free = len - used;
    return free < 32 ? 0 : free - 32;
  }
};

class Model {
 public:
  std::set<domid_t> domains;
  std::map<RingKey, ModelRing> rings;
  std::map<domid_t, uint64_t> virqs;

  int64_t Register(domid_t owner, xen_argo_port_t port, domid_t partner,
                   uint32_t len) {
    if (partner != XEN_ARGO_DOMID_ANY && !domains.count(partner)) {
      return -XEN_ESRCH;
    }
    RingKey key{owner, port, partner};
    auto it = rings.find(key);
    if (it != rings.end()) return it->second.len == len ? 0 : -XEN_EEXIST;
    if (OwnedBy(owner) >= kMaxRingsPerDomain) return -XEN_ENOSPC;
    rings[key].len = len;
    return 0;
  }

  int64_t Unregister(domid_t owner, xen_argo_port_t port, domid_t partner) {
    return rings.erase(RingKey{owner, port, partner}) ? 0 : -XEN_ENOENT;
  }

  ModelRing* Match(domid_t dst, xen_argo_port_t port, domid_t src) {
    auto it = rings.find(RingKey{dst, port, src});
    if (it == rings.end())
      it = rings.find(RingKey{dst, port, XEN_ARGO_DOMID_ANY});
    return it == rings.end() ? nullptr : &it->second;
  }

  int64_t Send(domid_t src, xen_argo_port_t src_port, domid_t dst,
               xen_argo_port_t port, uint32_t size, uint32_t seed) {
    if (!domains.count(dst)) return -XEN_ESRCH;
    ModelRing* ring = Match(dst, port, src);
    if (ring == nullptr) return -XEN_ECONNREFUSED;
    if (ring->len <= ModelRing::Cost(size)) return -XEN_EMSGSIZE;
    if (ring->used + ModelRing::Cost(size) >= ring->len) {
      if (!ring->pending.count(src) &&
          ring->pending.size() >= kMaxPendingPerRing) {
        return -XEN_EBUSY;
      }
      // Xen's pending_requeue: a waiter's size only ever grows.
      ring->pending[src] = std::max(ring->pending[src], size);
      return -XEN_EAGAIN;
    }
    ring->messages.push_back({src, src_port, seed, seed, size});
    ring->used += ModelRing::Cost(size);
    ++virqs[dst];
    return size;
  }

  void NotifyNull(domid_t d) {
    std::set<domid_t> woken;
    for (auto& [key, ring] : rings) {
      if (std::get<0>(key) != d) continue;
      uint32_t space = ring.PayloadSpace();
      if (space == 0) continue;
      for (auto it = ring.pending.begin(); it != ring.pending.end();) {
        if (it->second <= space) {
          woken.insert(it->first);
          it = ring.pending.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (domid_t w : woken) ++virqs[w];
  }

  // The flags notify reports for one query from `src`.
  uint16_t Query(domid_t src, domid_t dst, xen_argo_port_t port,
                 uint32_t required, uint32_t* max_message_size) {
    if (!domains.count(dst)) return 0;
    ModelRing* ring = Match(dst, port, src);
    if (ring == nullptr) return 0;
    uint16_t flags = XEN_ARGO_RING_EXISTS;
    if (!rings.count(RingKey{dst, port, src})) flags |= XEN_ARGO_RING_SHARED;
    *max_message_size = ring->len - 32;
    uint32_t space = ring->PayloadSpace();
    if (required > *max_message_size) {
      flags |= XEN_ARGO_RING_EMSGSIZE;
    } else if (space >= required) {
      ring->pending.erase(src);
      flags |= XEN_ARGO_RING_SUFFICIENT;
    } else if (ring->pending.count(src) ||
               ring->pending.size() < kMaxPendingPerRing) {
      ring->pending[src] = std::max(ring->pending[src], required);
    } else {
      flags |= XEN_ARGO_RING_EBUSY;
    }
    if (ring->used == 0) flags |= XEN_ARGO_RING_EMPTY;
    return flags;
  }

  // Teardown: d's rings and the rings naming d as partner go; each other
  // domain affected gets one VIRQ (a waiter dropped from d's rings, the
  // owner of a ring that named d); d's waits elsewhere are dropped.
  void Reset(domid_t d) {
    std::set<domid_t> affected;
    for (auto it = rings.begin(); it != rings.end();) {
      const auto& [owner, port, partner] = it->first;
      if (owner == d) {
        for (const auto& [waiter, size] : it->second.pending) {
          if (waiter != d) affected.insert(waiter);
        }
        it = rings.erase(it);
      } else if (partner == d) {
        affected.insert(owner);
        it = rings.erase(it);
      } else {
        it->second.pending.erase(d);
        ++it;
      }
    }
    for (domid_t a : affected) ++virqs[a];
  }

  void Destroy(domid_t d) {
    Reset(d);
    domains.erase(d);
  }

 private:
  uint32_t OwnedBy(domid_t owner) const {
    uint32_t n = 0;
    for (const auto& [key, ring] : rings) n += std::get<0>(key) == owner;
    return n;
  }
};

// ---- The system under test
// ---------------------------------------------------

class ModelTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  void CreateDomain(domid_t d) {
    ASSERT_TRUE(hv_.CreateDomain(d, DomainConfig{8192, true}).ok());
    guests_[d] = std::make_unique<RawGuest>(&hv_, d);
    next_frame_[d] = kFirstRingFrame;
    model_.domains.insert(d);
  }

  void DestroyDomain(domid_t d) {
    ASSERT_TRUE(hv_.DestroyDomain(d).ok());
    model_.Destroy(d);
    ForgetRingsOf(d);
    guests_.erase(d);
  }

  // A guest crash: the domain stays (same guest object, same memory).
  void CrashDomain(domid_t d) {
    ASSERT_TRUE(hv_.ResetDomain(d).ok());
    model_.Reset(d);
    ForgetRingsOf(d);
  }

  void ForgetRingsOf(domid_t d) {
    for (auto it = views_.begin(); it != views_.end();) {
      const auto& [owner, port, partner] = it->first;
      it = (owner == d || partner == d) ? views_.erase(it) : std::next(it);
    }
    for (auto it = frames_.begin(); it != frames_.end();) {
      const auto& [owner, port, partner] = it->first;
      it = (owner == d || partner == d) ? frames_.erase(it) : std::next(it);
    }
  }

  // Compares every observable of the hypervisor with the model.
  void ExpectSameState(const std::string& step) {
    for (domid_t d : kDomains) {
      ASSERT_EQ(virqs_.Count(d), model_.virqs[d]) << step << " virqs of " << d;
    }
    std::map<RingKey, RingSnapshot> real;
    for (RingSnapshot& s : hv_.ListRings()) {
      real[RingKey{s.owner, s.id.aport, s.id.partner_id}] = s;
    }
    ASSERT_EQ(real.size(), model_.rings.size()) << step;
    for (const auto& [key, ring] : model_.rings) {
      auto it = real.find(key);
      ASSERT_NE(it, real.end()) << step;
      EXPECT_EQ(it->second.bytes_used, ring.used) << step;
      std::map<domid_t, uint32_t> pending;
      for (const PendingEnt& p : it->second.pending) pending[p.domid] = p.len;
      EXPECT_EQ(pending, ring.pending) << step;
    }
  }

  void Step(std::mt19937& rng, int i) {
    auto pick = [&rng](const auto& options) {
      return options[std::uniform_int_distribution<size_t>(
          0, std::size(options) - 1)(rng)];
    };
    const domid_t d = pick(kDomains);
    const xen_argo_port_t port = pick(kPorts);
    std::vector<domid_t> partners(std::begin(kDomains), std::end(kDomains));
    partners.push_back(XEN_ARGO_DOMID_ANY);
    partners.push_back(XEN_ARGO_DOMID_ANY);
    partners.push_back(kMissingDomain);
    const domid_t partner = pick(partners);
    const int op = std::uniform_int_distribution<int>(0, 99)(rng);
    std::string step =
        "step " + std::to_string(i) + " op " + std::to_string(op);
    const RawGuest& g = *guests_[d];

    if (op < 12) {  // register (same frames on re-registration)
      const uint32_t len = pick(kLens);
      RingKey key{d, port, partner};
      auto known = frames_.find(key);
      std::vector<uint64_t> gfns;
      if (known != frames_.end() && known->second.second == len) {
        gfns = known->second.first;
      } else {
        gfns = RawGuest::Frames(len, next_frame_[d]);
      }
      int64_t want = model_.Register(d, port, partner, len);
      ASSERT_EQ(g.Register(port, partner, len, gfns), want) << step;
      if (want == 0 && known == frames_.end()) {
        next_frame_[d] += gfns.size();
        frames_[key] = {gfns, len};
        views_.emplace(key, g.View(gfns, len));
      }
    } else if (op < 18) {  // unregister
      int64_t want = model_.Unregister(d, port, partner);
      ASSERT_EQ(g.Unregister(port, partner), want) << step;
      views_.erase(RingKey{d, port, partner});
      frames_.erase(RingKey{d, port, partner});
    } else if (op < 60) {  // sendv
      const domid_t dst = rng() % 8 == 0 ? kMissingDomain : pick(kDomains);
      const uint32_t size = pick(kSizes);
      const uint32_t seed = static_cast<uint32_t>(rng());
      const uint32_t niov = 1 + rng() % XEN_ARGO_MAXIOV;
      const xen_argo_port_t src_port = 10 + pick(kPorts);
      int64_t want = model_.Send(d, src_port, dst, port, size, seed);
      ASSERT_EQ(g.Send(src_port, dst, port, Pattern(seed, size), seed, niov),
                want)
          << step;
    } else if (op < 80) {  // read one message from a ring this domain owns
      std::vector<RingKey> owned;
      for (const auto& [key, ring] : model_.rings) {
        if (std::get<0>(key) == d) owned.push_back(key);
      }
      if (owned.empty()) return;
      RingKey key = pick(owned);
      ModelRing& ring = model_.rings[key];
      auto got = views_.at(key).reader->Read();
      ASSERT_TRUE(got.ok()) << step << " " << got.status();
      if (ring.messages.empty()) {
        ASSERT_FALSE(got->has_value()) << step;
        return;
      }
      ASSERT_TRUE(got->has_value()) << step;
      ModelMessage m = ring.messages.front();
      ring.messages.pop_front();
      ring.used -= ModelRing::Cost(m.size);
      EXPECT_EQ((*got)->source.domain_id, m.src) << step;
      EXPECT_EQ((*got)->source.aport, m.src_port) << step;
      EXPECT_EQ((*got)->message_type, m.type) << step;
      ASSERT_EQ((*got)->payload, Pattern(m.seed, m.size)) << step;
    } else if (op < 90) {  // notify NULL
      model_.NotifyNull(d);
      ASSERT_EQ(g.NotifyNull(), 0) << step;
    } else if (op < 97) {  // notify with one query
      const domid_t dst = pick(partners);
      const uint32_t required = pick(kSizes);
      model_.NotifyNull(d);
      uint32_t max_message_size = 0;
      xen_argo_ring_data_ent_t q = {};
      q.ring = {port, dst, 0};
      q.space_required = required;
      q.max_message_size = 0;
      uint16_t want = model_.Query(d, dst, port, required, &max_message_size);
      std::vector<xen_argo_ring_data_ent_t> out;
      ASSERT_EQ(g.Notify({q}, &out), 0) << step;
      EXPECT_EQ(out[0].flags, want) << step;
      EXPECT_EQ(out[0].max_message_size, max_message_size) << step;
    } else if (op == 97) {  // the guest crashes: Argo reset
      CrashDomain(d);
    } else {  // destroy and re-create a domain
      DestroyDomain(d);
      CreateDomain(d);
    }
    ExpectSameState(step);
  }

  VirqRecorder virqs_;
  Hypervisor hv_{HypervisorOptions{}, &virqs_};
  Model model_;
  std::map<domid_t, std::unique_ptr<RawGuest>> guests_;
  std::map<domid_t, uint64_t> next_frame_;
  std::map<RingKey, std::pair<std::vector<uint64_t>, uint32_t>> frames_;
  std::map<RingKey, RingView> views_;
};

TEST_P(ModelTest, RandomOperationSequencesMatchTheModel) {
  std::mt19937 rng(GetParam());
  for (domid_t d : kDomains) CreateDomain(d);
  for (int i = 0; i < 4000 && !HasFatalFailure(); ++i) Step(rng, i);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ModelTest, ::testing::Range(1u, 17u));

}  // namespace
}  // namespace argo::testing
