// Test support for race tests: a domid that a toolstack thread destroys and
// re-creates while guest threads keep issuing hypercalls as it (or to it),
// and message payloads whose every byte can be checked.
#ifndef TESTS_TESTING_RACE_SUPPORT_H_
#define TESTS_TESTING_RACE_SUPPORT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "argo_core/hypervisor.h"
#include "argo_core/public/argo.h"
#include "argo_core/ring_reader.h"
#include "tests/testing/raw_guest.h"

namespace argo::testing {

// The successive domains ("incarnations" 1, 2, ...) one domid names while a
// single toolstack thread calls Create and Destroy in turn.
//
// Two questions a racing guest thread can then answer exactly:
// - "Did my call run as the incarnation I attached to, from start to
//   end?" -- StillLive(k) right after the call returns. (A guest attached
//   to incarnation k writes its hypercall arguments into k's memory; a
//   call that runs as k + 1 reads k + 1's zeroed memory instead, which is
//   the test's artefact, not a hypervisor bug.)
// - "Which incarnations could a message sent to this domid have reached?"
//   Those in (ended() read before the send, begun() read after it]: an
//   incarnation not yet begun when the send returned, or whose destroy had
//   returned before it started, has no ring the send could fill.
class Lifecycle {
 public:
  Lifecycle(Hypervisor* hv, domid_t domid, DomainConfig config)
      : hv_(hv), domid_(domid), config_(config) {}

  // Toolstack: creates the next incarnation and returns its number.
  // REQUIRES: none is live.
  uint32_t Create();
  // Toolstack: destroys the live incarnation. REQUIRES: one is live.
  void Destroy();

  struct Attached {
    RawGuest guest;
    uint32_t incarnation;
  };
  // Guest thread: the live incarnation, or nullopt between two.
  absl::optional<Attached> Attach();
  // Guest thread: true iff incarnation k is still live, so a call issued
  // after Attach() returned k and completed before this ran as k alone.
  bool StillLive(uint32_t k) const {
    return live_.load(std::memory_order_seq_cst) == k;
  }

  uint32_t begun() const { return begun_.load(std::memory_order_seq_cst); }
  uint32_t ended() const { return ended_.load(std::memory_order_seq_cst); }

 private:
  Hypervisor* const hv_;
  const domid_t domid_;
  const DomainConfig config_;
  // Makes Attach's "is it live? then map its memory" one step with respect
  // to Create and Destroy (RawGuest aborts on a missing domain). Guest
  // threads hold it only while attaching, never across a hypercall.
  std::mutex mu_;
  std::atomic<uint32_t> live_{0};   // the live incarnation, 0 between
  std::atomic<uint32_t> begun_{0};  // stored before CreateDomain
  std::atomic<uint32_t> ended_{0};  // stored after DestroyDomain returned
};

// Keeps a guest thread's calls interleaved with a toolstack thread's steps.
// On a shared core the guest could otherwise make thousands of calls per
// toolstack step, or none during the step that matters: the guest makes
// calls only while it has allowance, and the toolstack grants some across
// each step it wants raced.
class Pacer {
 public:
  explicit Pacer(uint32_t calls_per_step) : per_step_(calls_per_step) {}

  // Toolstack: lets the guest make calls_per_step more calls.
  void Allow() { allowance_.store(done_.load() + per_step_); }
  // Toolstack: returns once the guest has made `n` more calls (or left).
  void AwaitCalls(uint32_t n);

  // Guest: waits until a call is allowed (or *stop is set).
  void Pace(const std::atomic<bool>& stop);
  void CallDone() { done_.fetch_add(1); }

  // Guest: held for the guest thread's life, so that a guest leaving
  // early (a failed ASSERT) does not leave the toolstack waiting.
  class GuestScope {
   public:
    explicit GuestScope(Pacer* pacer) : pacer_(pacer) {}
    ~GuestScope() { pacer_->exited_.store(true); }

   private:
    Pacer* const pacer_;
  };

 private:
  const uint32_t per_step_;
  std::atomic<uint32_t> done_{0};
  std::atomic<uint32_t> allowance_{0};
  std::atomic<bool> exited_{false};
};

// A thread for the racing side of a test. Joining (explicitly, or at
// scope exit when an ASSERT ends the test body early) first sets *stop,
// so the body's loop ends instead of std::terminate.
class StoppingThread {
 public:
  StoppingThread(std::atomic<bool>* stop, std::function<void()> body)
      : stop_(stop), thread_(std::move(body)) {}
  ~StoppingThread() { Join(); }
  StoppingThread(const StoppingThread&) = delete;
  StoppingThread& operator=(const StoppingThread&) = delete;

  void Join() {
    if (!thread_.joinable()) return;
    stop_->store(true);
    thread_.join();
  }

 private:
  std::atomic<bool>* const stop_;
  std::thread thread_;
};

// The payload of send number `seq`: the seq, then bytes only it produces,
// SeqPayloadSize(seq) in all (20..255).
uint32_t SeqPayloadSize(uint32_t seq);
std::vector<uint8_t> SeqPayload(uint32_t seq);
// The seq of an intact payload; nullopt if any byte or the size is wrong.
absl::optional<uint32_t> SeqOf(absl::Span<const uint8_t> payload);

// Reads every message waiting in the ring into *out. Returns false if the
// reader found a corrupt header (the ring is then reset by the reader).
bool Drain(RingReader& reader, std::vector<ReceivedMessage>* out);

// Returns true iff rc is -e for one of `errnos` (Xen errno values).
bool IsOneOf(int64_t rc, std::initializer_list<int> errnos);

}  // namespace argo::testing

#endif  // TESTS_TESTING_RACE_SUPPORT_H_
