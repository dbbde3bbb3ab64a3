#include "guest/errors.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/xen_status.h"

namespace argo::guest {
namespace {

// Context-free meanings, as the hypervisor uses each errno (DESIGN §3.3).
struct Summary {
  int xen_errno;
  const char* text;  // "NAME: meaning"
};

constexpr Summary kSummaries[] = {
    {XEN_EPERM,
     "EPERM: not permitted (wildcard rings disallowed, or a "
     "source domain other than the caller)"},
    {XEN_ENOENT, "ENOENT: no such ring"},
    {XEN_ESRCH, "ESRCH: no such domain"},
    {XEN_EIO, "EIO: argo-hv went away (the call did not run)"},
    {XEN_EAGAIN, "EAGAIN: ring full, try again after a VIRQ"},
    {XEN_ENOMEM, "ENOMEM: the hypervisor is out of memory"},
    {XEN_EACCES, "EACCES: the policy denies this"},
    {XEN_EFAULT, "EFAULT: a guest handle points outside guest memory"},
    {XEN_EBUSY, "EBUSY: too many senders already wait on that ring"},
    {XEN_EEXIST, "EEXIST: the ring exists already"},
    {XEN_ENODEV, "ENODEV: Argo is not enabled for this domain"},
    {XEN_EINVAL, "EINVAL: invalid argument"},
    {XEN_ENOSPC, "ENOSPC: the domain has 128 rings already"},
    {XEN_ENOSYS,
     "ENOSYS: the port is cabled to a parent level this "
     "hypervisor has no uplink to"},
    {XEN_ELOOP, "ELOOP: the message crossed too many levels"},
    {XEN_EMSGSIZE, "EMSGSIZE: message larger than the ring"},
    {XEN_EOPNOTSUPP, "EOPNOTSUPP: Argo is disabled, or the op is unknown"},
    {XEN_ECONNREFUSED,
     "ECONNREFUSED: no ring accepts the message (or the "
     "port is not cabled)"},
};

bool Implicit(const xen_argo_addr_t& dst) {
  return dst.domain_id == ARGO_DOMID_IMPLICIT;
}

std::string Where(const xen_argo_addr_t& dst) {
  return absl::StrCat(dst.domain_id, ":", dst.aport);
}

// Where a send went, as the sender knows it.
std::string DestText(const ErrorContext& c) {
  if (!Implicit(c.dst)) return Where(c.dst);
  return absl::StrCat("the other end of port ", c.port, "'s cable");
}

std::string PartnerText(domid_t partner) {
  return partner == XEN_ARGO_DOMID_ANY ? std::string("any")
                                       : absl::StrCat(partner);
}

// The op-specific words, or "" to fall back to the summary.
std::string Specific(int e, const ErrorContext& c) {
  const bool send = c.op == GuestOp::kSend;
  const bool query = c.op == GuestOp::kNotify;
  const bool reg = c.op == GuestOp::kRegisterRing;
  const bool unreg = c.op == GuestOp::kUnregisterRing;
  switch (e) {
    case XEN_ECONNREFUSED:
      if ((send || query) && Implicit(c.dst)) {
        return absl::StrCat("port ", c.port, " is not cabled");
      }
      if (send || query) {
        return absl::StrCat("no ring at ", Where(c.dst),
                            " takes messages from this domain");
      }
      if (reg) {
        return absl::StrCat("partner domain ", c.partner,
                            " has no Argo enabled");
      }
      return "";
    case XEN_EAGAIN:
      if (send && c.waiting) return "ring full, waiting for space";
      if (send) return absl::StrCat("ring at ", DestText(c), " is full");
      return "";
    case XEN_EACCES:
      if (send) return "the policy denies this send";
      if (query) {
        return "the policy denies sending there (or more than 256 queries)";
      }
      if (reg) return "the policy denies this registration";
      return "";
    case XEN_ESRCH:
      if (send || query) {
        return absl::StrCat("no domain ", c.dst.domain_id);
      }
      if (reg) return absl::StrCat("no partner domain ", c.partner);
      return "";
    case XEN_ENOENT:
      if (unreg) {
        return absl::StrCat("no ring on port ", c.port, " partner ",
                            PartnerText(c.partner), " (already torn down?)");
      }
      return "";
    case XEN_EMSGSIZE:
      if (send) {
        return absl::StrCat("message of ", c.bytes,
                            " bytes is larger than the ring at ", DestText(c),
                            " takes");
      }
      return "";
    case XEN_EEXIST:
      if (reg) {
        return absl::StrCat("a ring on port ", c.port, " partner ",
                            PartnerText(c.partner),
                            " exists already (with another length, or "
                            "FAIL_EXIST)");
      }
      return "";
    case XEN_EINVAL:
      if (reg) {
        return absl::StrCat("bad ring: length ", c.bytes,
                            " must be 48..16 MiB and a multiple of 16");
      }
      if (send) {
        return "bad send (more than 8 iovs, or a 32-bit field overflowed)";
      }
      return "";
    case XEN_EPERM:
      if (reg && c.partner == XEN_ARGO_DOMID_ANY) {
        return "wildcard rings are not permitted at this level";
      }
      return "";
    case XEN_EBUSY:
      if (send) {
        return absl::StrCat("32 senders already wait for space at ",
                            DestText(c));
      }
      return "";
    case XEN_ENOSYS:
      if (send && Implicit(c.dst)) {
        return absl::StrCat("port ", c.port,
                            " is cabled to the parent, and this level has "
                            "no uplink");
      }
      return "";
    default:
      return "";
  }
}

}  // namespace

const char* XenErrorSummary(int xen_errno) {
  const int e = std::abs(xen_errno);
  for (const Summary& s : kSummaries) {
    if (s.xen_errno == e) return s.text;
  }
  return "unknown Xen errno";
}

std::string ExplainXenError(int xen_errno, const ErrorContext& context) {
  const int e = std::abs(xen_errno);
  std::string words = Specific(e, context);
  if (!words.empty()) return words;
  const char* summary = XenErrorSummary(e);
  const absl::string_view name = XenErrnoName(e);
  if (name == "E?") return absl::StrCat("unknown error ", e);
  // The summary minus its "NAME: " prefix.
  return std::string(summary + name.size() + 2);
}

std::string DescribeXenError(int xen_errno, const ErrorContext& context) {
  const int e = std::abs(xen_errno);
  return absl::StrCat(XenErrnoName(e), ": ", ExplainXenError(e, context));
}

}  // namespace argo::guest
