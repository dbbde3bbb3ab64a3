#include "tests/testing/race_support.h"

#include <cstdlib>
#include <cstring>

namespace argo::testing {

uint32_t Lifecycle::Create() {
  std::lock_guard<std::mutex> l(mu_);
  if (live_.load() != 0) std::abort();  // test bug: one is live
  const uint32_t k = begun_.load() + 1;
  begun_.store(k);
  if (!hv_->CreateDomain(domid_, config_).ok()) std::abort();
  live_.store(k);
  return k;
}

void Lifecycle::Destroy() {
  std::lock_guard<std::mutex> l(mu_);
  const uint32_t k = live_.load();
  if (k == 0) std::abort();  // test bug: none is live
  // Before the destroy starts: a guest that still reads k afterwards
  // finished its call before the domain began to die.
  live_.store(0);
  if (!hv_->DestroyDomain(domid_).ok()) std::abort();
  ended_.store(k);
}

absl::optional<Lifecycle::Attached> Lifecycle::Attach() {
  std::lock_guard<std::mutex> l(mu_);
  const uint32_t k = live_.load();
  if (k == 0) return absl::nullopt;
  return Attached{RawGuest(hv_, domid_), k};
}

void Pacer::AwaitCalls(uint32_t n) {
  const uint32_t target = done_.load() + n;
  if (allowance_.load() < target) allowance_.store(target);
  while (done_.load() < target && !exited_.load()) std::this_thread::yield();
}

void Pacer::Pace(const std::atomic<bool>& stop) {
  while (done_.load() >= allowance_.load() && !stop.load()) {
    std::this_thread::yield();
  }
}

uint32_t SeqPayloadSize(uint32_t seq) { return 20 + (seq * 37u) % 236; }

std::vector<uint8_t> SeqPayload(uint32_t seq) {
  std::vector<uint8_t> out(sizeof(seq));
  std::memcpy(out.data(), &seq, sizeof(seq));
  const std::vector<uint8_t> rest =
      Pattern(seq, SeqPayloadSize(seq) - sizeof(seq));
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

absl::optional<uint32_t> SeqOf(absl::Span<const uint8_t> payload) {
  uint32_t seq;
  if (payload.size() < sizeof(seq)) return absl::nullopt;
  std::memcpy(&seq, payload.data(), sizeof(seq));
  if (payload.size() != SeqPayloadSize(seq)) return absl::nullopt;
  const std::vector<uint8_t> rest =
      Pattern(seq, SeqPayloadSize(seq) - sizeof(seq));
  if (std::memcmp(payload.data() + sizeof(seq), rest.data(), rest.size()) !=
      0) {
    return absl::nullopt;
  }
  return seq;
}

bool Drain(RingReader& reader, std::vector<ReceivedMessage>* out) {
  for (;;) {
    auto message = reader.Read();
    if (!message.ok()) return false;
    if (!message->has_value()) return true;
    out->push_back(**std::move(message));
  }
}

bool IsOneOf(int64_t rc, std::initializer_list<int> errnos) {
  for (int e : errnos) {
    if (rc == -static_cast<int64_t>(e)) return true;
  }
  return false;
}

}  // namespace argo::testing
