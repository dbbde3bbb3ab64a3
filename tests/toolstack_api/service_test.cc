// The toolstack service over an in-process channel (DESIGN §6): every RPC,
// every error path with its gRPC code and a message naming the problem, and
// the level's state unchanged after each failure. Also the bounds: oversize
// requests and a flood of Watch streams are refused.
#include <sys/socket.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/raw_guest.h"
#include "tests/testing/runfiles.h"
#include "toolstack_api/pagination.h"
#include "toolstack_api/server.h"
#include "toolstack_api/toolstack.grpc.pb.h"
#include "toolstack_api/unix_listener.h"
#include "transport/guest_server.h"
#include "transport/virq_sockets.h"

namespace argo::toolstack {
namespace {

using grpc::StatusCode;

// Ring frames inside a default (256-frame) domain, clear of RawGuest's
// scratch areas.
constexpr uint64_t kRingFrame = 0x40;

v1::DomainRef Named(const std::string& name) {
  v1::DomainRef ref;
  ref.set_name(name);
  return ref;
}
v1::DomainRef Id(uint32_t id) {
  v1::DomainRef ref;
  ref.set_id(id);
  return ref;
}
v1::Endpoint End(const std::string& name, uint32_t port) {
  v1::Endpoint e;
  *e.mutable_domain() = Named(name);
  e.set_port(port);
  return e;
}
v1::Endpoint Parent(uint32_t port) {
  v1::Endpoint e;
  e.set_parent(true);
  e.set_port(port);
  return e;
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto platform = Platform::Create({});
    ASSERT_TRUE(platform.ok());
    platform_ = *std::move(platform);
    auto server = ToolstackServer::Start(platform_.get(), {});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::Toolstack::NewStub(server_->InProcessChannel());
  }
  void TearDown() override {
    server_.reset();
    platform_.reset();
  }

  std::unique_ptr<grpc::ClientContext> Ctx() {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return c;
  }

  v1::Domain Create(const std::string& name, const std::string& label = "",
                    uint32_t id = 0) {
    v1::CreateDomainRequest request;
    request.set_name(name);
    request.set_label(label);
    request.set_id(id);
    v1::CreateDomainResponse response;
    grpc::Status s = stub_->CreateDomain(Ctx().get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.domain();
  }
  grpc::Status Connect(v1::Endpoint from, v1::Endpoint to,
                       bool one_way = false,
                       v1::ConnectResponse* out = nullptr) {
    v1::ConnectRequest request;
    *request.mutable_from() = from;
    *request.mutable_to() = to;
    request.set_one_way(one_way);
    v1::ConnectResponse response;
    return stub_->Connect(Ctx().get(), request, out ? out : &response);
  }
  grpc::Status LoadPolicy(const std::string& text) {
    v1::LoadPolicyRequest request;
    request.set_text(text);
    request.set_name("test-policy");
    v1::PolicyInfo info;
    return stub_->LoadPolicy(Ctx().get(), request, &info);
  }

  // Everything a failed call must leave as it was.
  std::string State() {
    std::string state;
    v1::ListDomainsResponse domains;
    EXPECT_TRUE(stub_->ListDomains(Ctx().get(), {}, &domains).ok());
    v1::ListCablesResponse cables;
    EXPECT_TRUE(stub_->ListCables(Ctx().get(), {}, &cables).ok());
    v1::ListRingsResponse rings;
    EXPECT_TRUE(stub_->ListRings(Ctx().get(), {}, &rings).ok());
    v1::PolicyInfo policy;
    EXPECT_TRUE(stub_->GetPolicy(Ctx().get(), {}, &policy).ok());
    return absl::StrCat(domains.DebugString(), cables.DebugString(),
                        rings.DebugString(), policy.DebugString());
  }

  // Asserts `call` fails with `code` and a message containing `words`, and
  // changes nothing.
  template <typename Call>
  void ExpectRefused(StatusCode code, const std::string& words, Call call) {
    const std::string before = State();
    grpc::Status s = call();
    EXPECT_EQ(s.error_code(), code) << s.error_message();
    EXPECT_NE(s.error_message().find(words), std::string::npos)
        << "message \"" << s.error_message() << "\" lacks \"" << words << "\"";
    EXPECT_EQ(State(), before) << "a failed call changed the state";
  }

  std::unique_ptr<Platform> platform_;
  std::unique_ptr<ToolstackServer> server_;
  std::unique_ptr<v1::Toolstack::Stub> stub_;
};

TEST_F(ServiceTest, CreateGetListDestroyDomains) {
  v1::Domain storage = Create("storage");
  EXPECT_EQ(storage.id(), 1u);
  EXPECT_EQ(storage.label(), "domain_t");
  EXPECT_EQ(storage.memory_frames(), 256u);
  EXPECT_TRUE(storage.argo_enabled());
  EXPECT_EQ(storage.state(), v1::Domain::CREATED);
  v1::CreateDomainRequest request;
  request.set_name("client");
  request.set_id(7);
  request.set_memory_frames(512);
  request.set_argo_disabled(true);
  v1::CreateDomainResponse created;
  ASSERT_TRUE(stub_->CreateDomain(Ctx().get(), request, &created).ok());
  EXPECT_EQ(created.domain().id(), 7u);
  EXPECT_EQ(created.attach_token().size(), 32u);
  EXPECT_FALSE(created.domain().argo_enabled());

  v1::GetDomainRequest get;
  *get.mutable_domain() = Id(7);
  v1::Domain got;
  ASSERT_TRUE(stub_->GetDomain(Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.name(), "client");
  EXPECT_EQ(got.memory_frames(), 512u);
  *get.mutable_domain() = Named("storage");
  ASSERT_TRUE(stub_->GetDomain(Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.id(), 1u);

  v1::ListDomainsResponse list;
  ASSERT_TRUE(stub_->ListDomains(Ctx().get(), {}, &list).ok());
  ASSERT_EQ(list.domains_size(), 2);
  EXPECT_EQ(list.domains(0).name(), "storage");
  EXPECT_EQ(list.domains(1).name(), "client");

  v1::DestroyDomainRequest destroy;
  *destroy.mutable_domain() = Named("client");
  v1::DestroyDomainResponse destroyed;
  ASSERT_TRUE(stub_->DestroyDomain(Ctx().get(), destroy, &destroyed).ok());
  ASSERT_TRUE(stub_->ListDomains(Ctx().get(), {}, &list).ok());
  EXPECT_EQ(list.domains_size(), 1);
}

TEST_F(ServiceTest, DomainErrorsChangeNothing) {
  Create("storage");
  v1::CreateDomainResponse created;
  auto create = [&](v1::CreateDomainRequest r) {
    return [this, r, &created] {
      return stub_->CreateDomain(Ctx().get(), r, &created);
    };
  };
  v1::CreateDomainRequest r;
  r.set_name("storage");
  ExpectRefused(StatusCode::ALREADY_EXISTS, "\"storage\" exists", create(r));
  r.set_name("Bad Name");
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "is invalid", create(r));
  r.set_name("123");
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "not all digits", create(r));
  r.set_name("parent");
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "is invalid", create(r));
  r.set_name("ok");
  r.set_id(1);
  ExpectRefused(StatusCode::ALREADY_EXISTS, "domid 1 is in use", create(r));
  r.set_id(0x7FF0);
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "reserved", create(r));
  r.set_id(70000);
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "not a domid", create(r));
  r.set_id(0);
  r.set_memory_frames(uint64_t{1} << 40);
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "frames is outside", create(r));
  r.set_memory_frames(0);
  r.set_label("no_such_t");
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "no_such_t", create(r));

  v1::Domain d;
  v1::GetDomainRequest get;
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "name a domain",
                [&] { return stub_->GetDomain(Ctx().get(), get, &d); });
  *get.mutable_domain() = Named("ghost");
  ExpectRefused(StatusCode::NOT_FOUND, "no domain named \"ghost\"",
                [&] { return stub_->GetDomain(Ctx().get(), get, &d); });
  *get.mutable_domain() = Id(99);
  ExpectRefused(StatusCode::NOT_FOUND, "no domain with id 99",
                [&] { return stub_->GetDomain(Ctx().get(), get, &d); });
  *get.mutable_domain() = Id(0x10000);
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "is not a domain",
                [&] { return stub_->GetDomain(Ctx().get(), get, &d); });
  v1::DestroyDomainRequest destroy;
  v1::DestroyDomainResponse destroyed;
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "name a domain", [&] {
    return stub_->DestroyDomain(Ctx().get(), destroy, &destroyed);
  });
  *destroy.mutable_domain() = Named("ghost");
  ExpectRefused(StatusCode::NOT_FOUND, "ghost", [&] {
    return stub_->DestroyDomain(Ctx().get(), destroy, &destroyed);
  });
}

TEST_F(ServiceTest, CablesConnectListDisconnect) {
  Create("storage");
  Create("client");
  v1::ConnectResponse installed;
  ASSERT_TRUE(Connect(End("client", 7), End("storage", 80), false, &installed)
                  .ok());
  ASSERT_EQ(installed.installed_size(), 2);
  EXPECT_EQ(installed.installed(0).from().resolved_name(), "client");
  EXPECT_EQ(installed.installed(0).to().resolved_id(), 1u);
  EXPECT_EQ(installed.installed(1).from().resolved_name(), "storage");
  ASSERT_TRUE(Connect(End("client", 9), Parent(4), true, &installed).ok());
  ASSERT_EQ(installed.installed_size(), 1);
  EXPECT_TRUE(installed.installed(0).to().parent());

  v1::ListCablesRequest filter;
  v1::ListCablesResponse cables;
  ASSERT_TRUE(stub_->ListCables(Ctx().get(), filter, &cables).ok());
  EXPECT_EQ(cables.cables_size(), 3);
  *filter.mutable_domain() = Named("storage");
  ASSERT_TRUE(stub_->ListCables(Ctx().get(), filter, &cables).ok());
  EXPECT_EQ(cables.cables_size(), 2);  // both directions touch storage

  v1::DisconnectRequest disconnect;
  *disconnect.mutable_from() = End("client", 7);
  v1::DisconnectResponse removed;
  ASSERT_TRUE(stub_->Disconnect(Ctx().get(), disconnect, &removed).ok());
  EXPECT_EQ(removed.removed_size(), 2);
  filter.clear_domain();
  ASSERT_TRUE(stub_->ListCables(Ctx().get(), filter, &cables).ok());
  EXPECT_EQ(cables.cables_size(), 1);
}

// Nesting: a domain's port cabled up (both ways: what the parent sends to
// this level's port comes down to it), or only what comes down.
TEST_F(ServiceTest, CablesToAndFromTheParent) {
  Create("client");
  v1::ConnectResponse installed;
  ASSERT_TRUE(Connect(End("client", 100), Parent(7), false, &installed).ok());
  ASSERT_EQ(installed.installed_size(), 2);
  EXPECT_TRUE(installed.installed(0).to().parent());
  EXPECT_EQ(installed.installed(0).to().port(), 7u);
  EXPECT_TRUE(installed.installed(1).from().parent());
  EXPECT_EQ(installed.installed(1).to().resolved_name(), "client");
  ASSERT_TRUE(Connect(Parent(9), End("client", 101), true, &installed).ok());
  ASSERT_EQ(installed.installed_size(), 1);
  EXPECT_TRUE(installed.installed(0).from().parent());
  EXPECT_EQ(installed.installed(0).from().port(), 9u);
  EXPECT_EQ(installed.installed(0).to().port(), 101u);
}

TEST_F(ServiceTest, CableErrorsChangeNothing) {
  Create("storage");
  Create("client");
  ASSERT_TRUE(Connect(End("client", 7), End("storage", 80)).ok());
  ExpectRefused(StatusCode::ALREADY_EXISTS, "", [&] {
    return Connect(End("client", 7), End("storage", 81));
  });
  ExpectRefused(StatusCode::NOT_FOUND, "ghost", [&] {
    return Connect(End("client", 8), End("ghost", 81));
  });
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "from", [&] {
    return Connect(v1::Endpoint(), End("storage", 81));
  });
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "", [&] {
    return Connect(End("client", 8), End("client", 8));
  });
  ExpectRefused(StatusCode::INVALID_ARGUMENT,
                "a cable cannot join parent:1 to parent:2: both ends are the "
                "parent's; cable its ports in the parent",
                [&] { return Connect(Parent(1), Parent(2)); });
  v1::DisconnectRequest disconnect;
  *disconnect.mutable_from() = End("client", 99);
  v1::DisconnectResponse removed;
  ExpectRefused(StatusCode::NOT_FOUND, "", [&] {
    return stub_->Disconnect(Ctx().get(), disconnect, &removed);
  });
  v1::ListCablesRequest filter;
  *filter.mutable_domain() = Named("ghost");
  v1::ListCablesResponse cables;
  ExpectRefused(StatusCode::NOT_FOUND, "ghost", [&] {
    return stub_->ListCables(Ctx().get(), filter, &cables);
  });
}

TEST_F(ServiceTest, ExplainRingsAndStatsFollowGuestTraffic) {
  v1::Domain storage = Create("storage");
  v1::Domain client = Create("client");
  ASSERT_TRUE(Connect(End("client", 7), End("storage", 80)).ok());
  v1::ExplainRequest explain;
  *explain.mutable_from() = End("client", 7);
  v1::Explanation e;
  ASSERT_TRUE(stub_->Explain(Ctx().get(), explain, &e).ok());
  EXPECT_FALSE(e.delivered());
  EXPECT_EQ(e.error(), "ECONNREFUSED");  // no ring yet
  EXPECT_EQ(e.to().resolved_name(), "storage");

  // A guest registers a ring and another sends to it through the cable.
  testing::RawGuest storage_guest(&platform_->hypervisor(), storage.id());
  testing::RawGuest client_guest(&platform_->hypervisor(), client.id());
  ASSERT_EQ(storage_guest.Register(80, client.id(), 4096,
                                   testing::RawGuest::Frames(4096, kRingFrame)),
            0);
  std::vector<uint8_t> payload(100, 7);
  ASSERT_EQ(client_guest.Send(7, ARGO_DOMID_IMPLICIT, 0, payload), 100);

  ASSERT_TRUE(stub_->Explain(Ctx().get(), explain, &e).ok());
  EXPECT_TRUE(e.delivered()) << e.reason();
  EXPECT_EQ(e.decided_by(), "delivered");
  EXPECT_EQ(e.ring().owner_name(), "storage");
  EXPECT_EQ(e.ring().port(), 80u);
  // The size a send would carry: never fits, does not fit now, fits.
  explain.set_payload_bytes(4096);
  ASSERT_TRUE(stub_->Explain(Ctx().get(), explain, &e).ok());
  EXPECT_EQ(e.error(), "EMSGSIZE");
  EXPECT_EQ(e.decided_by(), "fits");
  explain.set_payload_bytes(4000);
  ASSERT_TRUE(stub_->Explain(Ctx().get(), explain, &e).ok());
  EXPECT_EQ(e.error(), "EAGAIN") << "128 bytes are in use";
  EXPECT_EQ(e.decided_by(), "space");
  explain.set_payload_bytes(0xFFFFFFFF);
  ASSERT_TRUE(stub_->Explain(Ctx().get(), explain, &e).ok());
  EXPECT_EQ(e.error(), "EINVAL") << "a hostile size is a verdict, not a crash";
  explain.set_payload_bytes(100);
  ASSERT_TRUE(stub_->Explain(Ctx().get(), explain, &e).ok());
  EXPECT_TRUE(e.delivered());

  v1::ListRingsResponse rings;
  ASSERT_TRUE(stub_->ListRings(Ctx().get(), {}, &rings).ok());
  ASSERT_EQ(rings.rings_size(), 1);
  const v1::Ring& ring = rings.rings(0);
  EXPECT_EQ(ring.owner_name(), "storage");
  EXPECT_EQ(ring.partner(), client.id());
  EXPECT_EQ(ring.len(), 4096u);
  EXPECT_EQ(ring.messages_in(), 1u);
  EXPECT_EQ(ring.bytes_in(), 100u);
  EXPECT_EQ(ring.bytes_used(), 16u + 100u + 12u);  // header, payload, pad
  v1::ListRingsRequest only;
  *only.mutable_domain() = Named("client");
  ASSERT_TRUE(stub_->ListRings(Ctx().get(), only, &rings).ok());
  EXPECT_EQ(rings.rings_size(), 0);

  v1::Stats stats;
  ASSERT_TRUE(stub_->GetStats(Ctx().get(), {}, &stats).ok());
  EXPECT_EQ(stats.domains(), 2u);
  EXPECT_EQ(stats.rings(), 1u);
  EXPECT_EQ(stats.cables(), 2u);
  ASSERT_EQ(stats.per_domain_size(), 2);
  EXPECT_EQ(stats.per_domain(0).counters().messages_received(), 1u);
  EXPECT_EQ(stats.per_domain(1).counters().messages_sent(), 1u);
  EXPECT_EQ(stats.per_domain(1).counters().bytes_sent(), 100u);

  *only.mutable_domain() = Named("ghost");
  ExpectRefused(StatusCode::NOT_FOUND, "ghost", [&] {
    return stub_->ListRings(Ctx().get(), only, &rings);
  });
  explain.mutable_from()->mutable_domain()->set_name("ghost");
  ExpectRefused(StatusCode::NOT_FOUND, "ghost", [&] {
    return stub_->Explain(Ctx().get(), explain, &e);
  });
  *explain.mutable_from() = Parent(3);
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "explain a domain's port", [&] {
    return stub_->Explain(Ctx().get(), explain, &e);
  });
}

TEST_F(ServiceTest, PolicyLoadRelabelAuditAndDenials) {
  Create("storage");
  Create("client1");
  Create("client2");
  ASSERT_TRUE(Connect(End("client1", 9), End("client2", 9), true).ok());
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "test-policy:1:", [&] {
    return LoadPolicy("types: [unclosed");
  });
  ASSERT_TRUE(LoadPolicy(testing::StrictPolicyText()).ok());
  v1::PolicyInfo info;
  ASSERT_TRUE(stub_->GetPolicy(Ctx().get(), {}, &info).ok());
  EXPECT_EQ(info.generation(), 2u);
  EXPECT_EQ(info.types_size(), 3);

  v1::RelabelRequest relabel;
  *relabel.mutable_domain() = Named("storage");
  relabel.set_label("storage_t");
  v1::Domain relabelled;
  ASSERT_TRUE(stub_->Relabel(Ctx().get(), relabel, &relabelled).ok());
  EXPECT_EQ(relabelled.label(), "storage_t");
  relabel.set_label("nope_t");
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "nope_t", [&] {
    return stub_->Relabel(Ctx().get(), relabel, &relabelled);
  });
  relabel.set_label("");
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "label", [&] {
    return stub_->Relabel(Ctx().get(), relabel, &relabelled);
  });
  *relabel.mutable_domain() = Named("ghost");
  relabel.set_label("client_t");
  ExpectRefused(StatusCode::NOT_FOUND, "ghost", [&] {
    return stub_->Relabel(Ctx().get(), relabel, &relabelled);
  });
  // A labelled domain pins its type: a policy without it is refused.
  ExpectRefused(StatusCode::FAILED_PRECONDITION, "storage_t", [&] {
    return LoadPolicy(std::string(policy::DefaultPolicyText()));
  });

  // client_t -> client_t has no SEND: explain says so, a send is denied
  // and audited, and the denial is counted against client1.
  v1::ExplainRequest explain;
  *explain.mutable_from() = End("client1", 9);
  v1::Explanation e;
  ASSERT_TRUE(stub_->Explain(Ctx().get(), explain, &e).ok());
  EXPECT_EQ(e.error(), "EACCES");
  testing::RawGuest client1(&platform_->hypervisor(), 2);
  std::vector<uint8_t> payload(8, 1);
  EXPECT_EQ(client1.Send(9, ARGO_DOMID_IMPLICIT, 0, payload), -XEN_EACCES);
  v1::GetAuditRequest audit_request;
  v1::AuditLog audit;
  ASSERT_TRUE(stub_->GetAudit(Ctx().get(), audit_request, &audit).ok());
  ASSERT_EQ(audit.denials_size(), 1);
  EXPECT_EQ(audit.total(), 1u);
  EXPECT_EQ(audit.denials(0).permission(), "SEND");
  EXPECT_EQ(audit.denials(0).source(), 2u);
  v1::GetDomainRequest get;
  *get.mutable_domain() = Named("client1");
  v1::Domain d;
  ASSERT_TRUE(stub_->GetDomain(Ctx().get(), get, &d).ok());
  EXPECT_EQ(d.counters().denials(), 1u);
  v1::Stats stats;
  ASSERT_TRUE(stub_->GetStats(Ctx().get(), {}, &stats).ok());
  EXPECT_EQ(stats.denials_by_permission().at("SEND"), 1u);
}

TEST_F(ServiceTest, AnEmptyPolicyOrConfigurationIsRefusedNotDefaulted) {
  Create("storage");
  // A strict policy in force: an empty load must not quietly replace it
  // with the permissive default (the platform's meaning of "").
  ASSERT_TRUE(LoadPolicy(testing::StrictPolicyText()).ok());
  for (const std::string text : {"", " \n\t", "# nothing\n  # at all\n"}) {
    ExpectRefused(StatusCode::INVALID_ARGUMENT,
                  "test-policy: the policy text is empty; an empty policy is "
                  "not 'no policy'",
                  [&] { return LoadPolicy(text); });
  }
  v1::PolicyInfo info;
  ASSERT_TRUE(stub_->GetPolicy(Ctx().get(), {}, &info).ok());
  EXPECT_EQ(info.generation(), 2u);
  EXPECT_EQ(info.text(), testing::StrictPolicyText());

  v1::ApplyRequest apply;
  apply.set_name("boot.textproto");
  v1::ApplyResponse applied;
  auto call = [&] { return stub_->Apply(Ctx().get(), apply, &applied); };
  ExpectRefused(StatusCode::INVALID_ARGUMENT,
                "boot.textproto: the configuration is empty", call);
  apply.set_config_text("policy_text: \"\"\n");
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "policy_text: is empty", call);
  apply.set_config_text("policy_file: \"p.textproto\"\n");
  apply.set_policy_file_text("\n\n");
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "p.textproto is empty", call);
}

// Follows a list RPC's pages; returns every page's items in order.
template <typename Request, typename Reply, typename Rpc, typename Items>
std::vector<std::vector<std::string>> Pages(Rpc call, Request request,
                                            Items items) {
  std::vector<std::vector<std::string>> pages;
  for (int guard = 0; guard < 100; ++guard) {
    Reply reply;
    grpc::Status s = call(request, &reply);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok()) break;
    pages.push_back(items(reply));
    if (reply.next_page_token().empty()) break;
    request.set_page_token(reply.next_page_token());
  }
  return pages;
}

std::vector<std::string> Flatten(
    const std::vector<std::vector<std::string>>& pages) {
  std::vector<std::string> all;
  for (const auto& page : pages) all.insert(all.end(), page.begin(), page.end());
  return all;
}

TEST_F(ServiceTest, ListDomainsPagesReturnEveryDomainOnceById) {
  for (int i = 0; i < 7; ++i) Create(absl::StrCat("d", i));
  auto list = [&](const v1::ListDomainsRequest& r, v1::ListDomainsResponse* o) {
    return stub_->ListDomains(Ctx().get(), r, o);
  };
  auto ids = [](const v1::ListDomainsResponse& r) {
    std::vector<std::string> out;
    for (const v1::Domain& d : r.domains()) out.push_back(absl::StrCat(d.id()));
    return out;
  };
  v1::ListDomainsRequest request;
  request.set_page_size(3);
  auto pages = Pages<v1::ListDomainsRequest, v1::ListDomainsResponse>(
      list, request, ids);
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(pages[0], (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(pages[1], (std::vector<std::string>{"4", "5", "6"}));
  EXPECT_EQ(pages[2], (std::vector<std::string>{"7"}));

  // Changes between pages: what stays is returned once, in order; a domain
  // added past the position is seen, one removed is not repeated.
  v1::ListDomainsResponse first;
  ASSERT_TRUE(list(request, &first).ok());
  v1::DestroyDomainRequest destroy;
  *destroy.mutable_domain() = Id(5);
  v1::DestroyDomainResponse destroyed;
  ASSERT_TRUE(stub_->DestroyDomain(Ctx().get(), destroy, &destroyed).ok());
  *destroy.mutable_domain() = Id(2);
  ASSERT_TRUE(stub_->DestroyDomain(Ctx().get(), destroy, &destroyed).ok());
  Create("late", "", 50);
  request.set_page_token(first.next_page_token());
  pages = Pages<v1::ListDomainsRequest, v1::ListDomainsResponse>(
      list, request, ids);
  EXPECT_EQ(Flatten(pages), (std::vector<std::string>{"4", "6", "7", "50"}));
}

TEST_F(ServiceTest, ListCablesPageSizeIsDefaultedAndClamped) {
  const domid_t client = static_cast<domid_t>(Create("client").id());
  // More cables than the largest page: client:i -> parent:i, one way.
  const uint32_t n = kMaxPageSize + 200;
  for (uint32_t port = 1; port <= n; ++port) {
    ASSERT_TRUE(platform_
                    ->Connect({client, port}, {ARGO_DOMID_PARENT, port},
                              /*one_way=*/true)
                    .ok());
  }
  v1::ListCablesRequest request;
  v1::ListCablesResponse reply;
  ASSERT_TRUE(stub_->ListCables(Ctx().get(), request, &reply).ok());
  EXPECT_EQ(reply.cables_size(), static_cast<int>(kDefaultPageSize));
  EXPECT_FALSE(reply.next_page_token().empty());
  request.set_page_size(1u << 30);  // clamped, not refused
  ASSERT_TRUE(stub_->ListCables(Ctx().get(), request, &reply).ok());
  EXPECT_EQ(reply.cables_size(), static_cast<int>(kMaxPageSize));
  auto pages = Pages<v1::ListCablesRequest, v1::ListCablesResponse>(
      [&](const v1::ListCablesRequest& r, v1::ListCablesResponse* o) {
        return stub_->ListCables(Ctx().get(), r, o);
      },
      request,
      [](const v1::ListCablesResponse& r) {
        std::vector<std::string> out;
        for (const v1::Cable& c : r.cables()) {
          out.push_back(absl::StrCat(c.from().port()));
        }
        return out;
      });
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_EQ(pages[1].size(), 200u);
  std::vector<std::string> all = Flatten(pages);
  ASSERT_EQ(all.size(), n);
  for (uint32_t i = 0; i < n; ++i) {
    ASSERT_EQ(all[i], absl::StrCat(i + 1)) << "out of order or repeated";
  }
}

TEST_F(ServiceTest, ListRingsPagesByOwnerPortPartner) {
  v1::Domain storage = Create("storage");
  v1::Domain client = Create("client");
  testing::RawGuest guest(&platform_->hypervisor(), storage.id());
  for (uint32_t i = 0; i < 5; ++i) {
    // Registered out of order; listed by port.
    const uint32_t port = 84 - i;
    ASSERT_EQ(guest.Register(port, client.id(), 4096,
                             testing::RawGuest::Frames(4096, kRingFrame + i)),
              0);
  }
  v1::ListRingsRequest request;
  request.set_page_size(2);
  *request.mutable_domain() = Named("storage");
  auto pages = Pages<v1::ListRingsRequest, v1::ListRingsResponse>(
      [&](const v1::ListRingsRequest& r, v1::ListRingsResponse* o) {
        return stub_->ListRings(Ctx().get(), r, o);
      },
      request,
      [](const v1::ListRingsResponse& r) {
        std::vector<std::string> out;
        for (const v1::Ring& ring : r.rings()) {
          out.push_back(absl::StrCat(ring.owner_name(), ":", ring.port()));
        }
        return out;
      });
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(Flatten(pages),
            (std::vector<std::string>{"storage:80", "storage:81", "storage:82",
                                      "storage:83", "storage:84"}));
}

TEST_F(ServiceTest, GetAuditPagesBySequenceUpToTheFirstPagesNewest) {
  Create("storage");
  Create("client1");
  Create("client2");
  ASSERT_TRUE(Connect(End("client1", 9), End("client2", 9), true).ok());
  ASSERT_TRUE(LoadPolicy(testing::StrictPolicyText()).ok());
  testing::RawGuest client1(&platform_->hypervisor(), 2);
  std::vector<uint8_t> payload(8, 1);
  for (int i = 0; i < 7; ++i) {
    ASSERT_EQ(client1.Send(9, ARGO_DOMID_IMPLICIT, 0, payload), -XEN_EACCES);
  }
  auto audit = [&](const v1::GetAuditRequest& r, v1::AuditLog* o) {
    return stub_->GetAudit(Ctx().get(), r, o);
  };
  auto sequences = [](const v1::AuditLog& log) {
    std::vector<std::string> out;
    for (const v1::Denial& d : log.denials()) {
      out.push_back(absl::StrCat(d.sequence()));
    }
    return out;
  };
  v1::GetAuditRequest request;
  request.set_page_size(3);
  auto pages =
      Pages<v1::GetAuditRequest, v1::AuditLog>(audit, request, sequences);
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(Flatten(pages), (std::vector<std::string>{"1", "2", "3", "4", "5",
                                                      "6", "7"}));
  // --max picks the most recent on the first page; later pages keep to it.
  request.set_max(5);
  request.set_page_size(2);
  EXPECT_EQ(Flatten(Pages<v1::GetAuditRequest, v1::AuditLog>(audit, request,
                                                             sequences)),
            (std::vector<std::string>{"3", "4", "5", "6", "7"}));
  // Denials after the first page are not chased: the listing ends at the
  // newest of the first page's moment.
  request.set_max(0);
  v1::AuditLog first;
  ASSERT_TRUE(audit(request, &first).ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(client1.Send(9, ARGO_DOMID_IMPLICIT, 0, payload), -XEN_EACCES);
  }
  request.set_page_token(first.next_page_token());
  pages = Pages<v1::GetAuditRequest, v1::AuditLog>(audit, request, sequences);
  EXPECT_EQ(Flatten(pages),
            (std::vector<std::string>{"3", "4", "5", "6", "7"}));
  v1::AuditLog last;
  request.set_page_token("");
  request.set_page_size(0);
  ASSERT_TRUE(audit(request, &last).ok());
  EXPECT_EQ(last.denials_size(), 10);
  EXPECT_EQ(last.total(), 10u);
  EXPECT_TRUE(last.next_page_token().empty());
}

TEST_F(ServiceTest, BadPageTokensAreRefusedAndChangeNothing) {
  Create("storage");
  Create("client");
  ASSERT_TRUE(Connect(End("client", 7), End("storage", 80)).ok());
  v1::ListCablesRequest cables;
  cables.set_page_size(1);
  v1::ListCablesResponse cables_reply;
  ASSERT_TRUE(stub_->ListCables(Ctx().get(), cables, &cables_reply).ok());
  const std::string cable_token = cables_reply.next_page_token();
  ASSERT_FALSE(cable_token.empty());

  v1::ListDomainsRequest domains;
  v1::ListDomainsResponse domains_reply;
  auto list_domains = [&] {
    return stub_->ListDomains(Ctx().get(), domains, &domains_reply);
  };
  for (const std::string token :
       {std::string("garbage!!"), std::string("AAAA"),
        std::string(4096, 'x'),
        absl::WebSafeBase64Escape("p1|ListDomains||99999999|")}) {
    domains.set_page_token(token);
    ExpectRefused(StatusCode::INVALID_ARGUMENT,
                  "page_token: not a page token of this daemon", list_domains);
  }
  domains.set_page_token(cable_token);
  ExpectRefused(StatusCode::INVALID_ARGUMENT,
                "page_token: was issued by ListCables, not ListDomains",
                list_domains);
  // Same RPC, another filter.
  *cables.mutable_domain() = Named("storage");
  cables.set_page_token(cable_token);
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "same filter", [&] {
    return stub_->ListCables(Ctx().get(), cables, &cables_reply);
  });
  v1::ListRingsRequest rings;
  rings.set_page_token(cable_token);
  v1::ListRingsResponse rings_reply;
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "issued by ListCables", [&] {
    return stub_->ListRings(Ctx().get(), rings, &rings_reply);
  });
  v1::GetAuditRequest audit;
  audit.set_page_token("%%%");
  v1::AuditLog log;
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "page_token", [&] {
    return stub_->GetAudit(Ctx().get(), audit, &log);
  });
}

TEST_F(ServiceTest, TopologyOfATopLevel) {
  v1::Topology t;
  ASSERT_TRUE(stub_->GetTopology(Ctx().get(), {}, &t).ok());
  EXPECT_EQ(t.level(), 0u);
  EXPECT_EQ(t.parent(), "");
  EXPECT_EQ(t.children_size(), 0);
  EXPECT_EQ(t.attach_socket(), "") << "no attach socket served yet";
  platform_->SetAttachSocketPath("/run/argo/argo-hv-attach.sock");
  ASSERT_TRUE(stub_->GetTopology(Ctx().get(), {}, &t).ok());
  EXPECT_EQ(t.attach_socket(), "/run/argo/argo-hv-attach.sock");
}

TEST_F(ServiceTest, TopologyOfATopLevelIsARootWithNoParentLink) {
  v1::Topology t;
  ASSERT_TRUE(stub_->GetTopology(Ctx().get(), {}, &t).ok());
  EXPECT_EQ(t.role(), v1::Topology::ROOT);
  EXPECT_FALSE(t.has_parent_link());
  EXPECT_EQ(t.child_levels_size(), 0);
  v1::Stats stats;
  ASSERT_TRUE(stub_->GetStats(Ctx().get(), {}, &stats).ok());
  EXPECT_TRUE(stats.has_nesting());
  EXPECT_EQ(stats.nesting().up_forwarded(), 0u);
  EXPECT_FALSE(stats.has_parent_link()) << "no parent, no link counters";
}

// Nesting across the real transport in one process: a parent level serving
// an attach socket (as argo-hv does) and this service's level attached to
// it as domain l1 (argo-hv --parent). Topology and statistics on both
// sides, traffic up and down, then the parent's loss.
class NestedServiceTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    char dir[] = "/tmp/argo-nest-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    auto parent = Platform::Create(PlatformOptions{.notifier = &virqs_});
    ASSERT_TRUE(parent.ok());
    parent_ = *std::move(parent);
    auto listener =
        UnixListener::Open(dir_ + "/l0-attach.sock", {}, SOCK_SEQPACKET);
    ASSERT_TRUE(listener.ok()) << listener.status();
    listener_ = *std::move(listener);
    auto guests = transport::GuestServer::Start(
        listener_->fd(), &parent_->hypervisor(), parent_.get(), &virqs_, {});
    ASSERT_TRUE(guests.ok()) << guests.status();
    guests_ = *std::move(guests);
    auto server = ToolstackServer::Start(parent_.get(), {});
    ASSERT_TRUE(server.ok());
    parent_server_ = *std::move(server);
    parent_stub_ = v1::Toolstack::NewStub(parent_server_->InProcessChannel());
  }
  void TearDown() override {
    // The child level first: its link detaches from the parent's server.
    server_.reset();
    platform_.reset();
    parent_server_.reset();
    guests_.reset();
    listener_.reset();
    parent_.reset();
    std::system(absl::StrCat("rm -rf ", dir_).c_str());
  }

  std::string dir_;
  transport::VirqSockets virqs_;
  std::unique_ptr<Platform> parent_;
  std::unique_ptr<UnixListener> listener_;
  std::unique_ptr<transport::GuestServer> guests_;
  std::unique_ptr<ToolstackServer> parent_server_;
  std::unique_ptr<v1::Toolstack::Stub> parent_stub_;
};

TEST_F(NestedServiceTest, TopologyAndStatsOfAChildLevelAndItsParent) {
  auto l1 = parent_->CreateDomain({.name = "l1"});
  auto storage = parent_->CreateDomain({.name = "storage"});
  ASSERT_TRUE(l1.ok() && storage.ok());
  const domid_t l1_id = l1->first.id, storage_id = storage->first.id;
  ASSERT_TRUE(parent_->Connect({l1_id, 7}, {storage_id, 50}, false).ok());
  testing::RawGuest sink(&parent_->hypervisor(), storage_id);
  ASSERT_EQ(sink.Register(50, XEN_ARGO_DOMID_ANY, 4096,
                          testing::RawGuest::Frames(4096, kRingFrame)),
            0);

  const std::string socket = dir_ + "/l0-attach.sock";
  ASSERT_TRUE(platform_
                  ->AttachToParent({.socket = socket,
                                    .domain = "l1",
                                    .token = l1->second,
                                    .cpus = 3})
                  .ok());
  EXPECT_EQ(platform_
                ->AttachToParent(
                    {.socket = socket, .domain = "l1", .token = l1->second})
                .code(),
            absl::StatusCode::kFailedPrecondition)
      << "once only";

  v1::Topology t;
  ASSERT_TRUE(stub_->GetTopology(Ctx().get(), {}, &t).ok());
  EXPECT_EQ(t.role(), v1::Topology::CHILD);
  EXPECT_EQ(t.level(), 1u);
  EXPECT_EQ(t.parent(), socket);
  EXPECT_EQ(t.domid_at_parent(), l1_id);
  ASSERT_TRUE(t.has_parent_link());
  EXPECT_EQ(t.parent_link().socket(), socket);
  EXPECT_EQ(t.parent_link().domain(), "l1");
  EXPECT_EQ(t.parent_link().domid(), l1_id);
  EXPECT_EQ(t.parent_link().cpus(), 3u);
  EXPECT_EQ(t.parent_link().state(), v1::ParentLink::CONNECTED);

  v1::Topology pt;
  ASSERT_TRUE(parent_stub_->GetTopology(Ctx().get(), {}, &pt).ok());
  EXPECT_EQ(pt.role(), v1::Topology::ROOT);
  ASSERT_EQ(pt.child_levels_size(), 1);
  EXPECT_EQ(pt.child_levels(0).name(), "l1");
  EXPECT_EQ(pt.child_levels(0).id(), l1_id);
  EXPECT_EQ(pt.child_levels(0).cpus(), 3u);
  EXPECT_EQ(pt.child_levels(0).state(), v1::Domain::RUNNING);
  ASSERT_EQ(pt.children_size(), 1);
  EXPECT_EQ(pt.children(0), "l1");

  // Up: g:100 -> parent:7, which the parent cables l1:7 -> storage:50.
  v1::Domain g = Create("g");
  ASSERT_TRUE(Connect(End("g", 100), Parent(7)).ok());
  testing::RawGuest sender(&platform_->hypervisor(), g.id());
  const std::string text = "up a level";
  const auto payload = absl::MakeConstSpan(
      reinterpret_cast<const uint8_t*>(text.data()), text.size());
  ASSERT_EQ(sender.Send(100, ARGO_DOMID_IMPLICIT, 0, payload),
            static_cast<int64_t>(text.size()));
  // Uncabled in the parent: its refusal reaches the sender.
  ASSERT_TRUE(Connect(End("g", 101), Parent(8)).ok());
  EXPECT_EQ(sender.Send(101, ARGO_DOMID_IMPLICIT, 0, payload),
            -XEN_ECONNREFUSED);

  v1::Stats stats;
  ASSERT_TRUE(stub_->GetStats(Ctx().get(), {}, &stats).ok());
  EXPECT_EQ(stats.nesting().up_forwarded(), 1u);
  EXPECT_EQ(stats.nesting().up_refused(), 1u);
  ASSERT_TRUE(stats.has_parent_link());
  EXPECT_EQ(stats.parent_link().up_sent(), 1u);
  EXPECT_EQ(stats.parent_link().up_refused(), 1u);
  EXPECT_EQ(stats.parent_link().down_delivered(), 0u);

  // Down: storage:50 -> l1:7 comes down as parent:7 -> g:100. Nothing
  // listens on g:100 yet: dropped and counted here, wrapped there.
  ASSERT_EQ(sink.Send(50, ARGO_DOMID_IMPLICIT, 0, payload),
            static_cast<int64_t>(text.size()));
  v1::Stats parent_stats;
  ASSERT_TRUE(parent_stub_->GetStats(Ctx().get(), {}, &parent_stats).ok());
  EXPECT_EQ(parent_stats.nesting().down_wrapped(), 1u);
  EXPECT_FALSE(parent_stats.has_parent_link());
  for (int i = 0; i < 2000 && stats.parent_link().dropped_refused() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(stub_->GetStats(Ctx().get(), {}, &stats).ok());
  }
  EXPECT_EQ(stats.parent_link().dropped_refused(), 1u);
  EXPECT_EQ(stats.parent_link().dropped_no_cable(), 0u);

  // The parent goes: the link is lost, sends up are refused, and the
  // level goes on.
  guests_.reset();
  for (int i = 0; i < 2000 && t.parent_link().state() != v1::ParentLink::LOST;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(stub_->GetTopology(Ctx().get(), {}, &t).ok());
  }
  EXPECT_EQ(t.parent_link().state(), v1::ParentLink::LOST);
  EXPECT_EQ(sender.Send(100, ARGO_DOMID_IMPLICIT, 0, payload),
            -XEN_ECONNREFUSED);
  ASSERT_TRUE(stub_->GetStats(Ctx().get(), {}, &stats).ok());
  EXPECT_EQ(stats.parent_link().up_refused(), 2u);
  ASSERT_TRUE(parent_stub_->GetTopology(Ctx().get(), {}, &pt).ok());
  ASSERT_EQ(pt.child_levels_size(), 1);
  EXPECT_EQ(pt.child_levels(0).state(), v1::Domain::CREATED)
      << "its process is gone";
}

TEST_F(ServiceTest, ApplyIsAllOrNothing) {
  v1::ApplyRequest apply;
  apply.set_name("boot.textproto");
  apply.set_config_text(
      "domain { name: \"storage\" }\n"
      "domain { name: \"client\" label: \"domain_t\" }\n"
      "cable { from: \"client:7\" to: \"storage:80\" }\n");
  v1::ApplyResponse applied;
  ASSERT_TRUE(stub_->Apply(Ctx().get(), apply, &applied).ok());
  EXPECT_EQ(applied.created_size(), 2);
  EXPECT_EQ(applied.installed_size(), 2);
  // The second run fails on its first domain: nothing new remains.
  apply.set_config_text(
      "domain { name: \"fresh\" }\n"
      "domain { name: \"storage\" }\n");
  ExpectRefused(StatusCode::ALREADY_EXISTS, "boot.textproto:2:", [&] {
    return stub_->Apply(Ctx().get(), apply, &applied);
  });
  apply.set_config_text("domain { nmae: \"x\" }\n");
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "boot.textproto:1:", [&] {
    return stub_->Apply(Ctx().get(), apply, &applied);
  });
}

TEST_F(ServiceTest, OversizeRequestsAreRefused) {
  const std::string huge(3 << 20, '#');
  ExpectRefused(StatusCode::RESOURCE_EXHAUSTED, "", [&] {
    return LoadPolicy(huge);
  });
  // Under the transport's limit but over the policy's.
  const std::string large((1 << 20) + 10, '#');
  ExpectRefused(StatusCode::RESOURCE_EXHAUSTED, "larger than", [&] {
    return LoadPolicy(large);
  });
  v1::ApplyRequest apply;
  apply.set_config_text(large);
  v1::ApplyResponse applied;
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "larger than", [&] {
    return stub_->Apply(Ctx().get(), apply, &applied);
  });
}

// Reads events from a Watch stream on a thread of its own.
class Watcher {
 public:
  Watcher(v1::Toolstack::Stub* stub, v1::WatchRequest request) {
    context_.set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(30));
    reader_ = stub->Watch(&context_, request);
  }
  // Waits until subscribed (the server sends headers once it is).
  bool Subscribed() {
    reader_->WaitForInitialMetadata();
    return true;
  }
  std::vector<v1::Event> Take(size_t n) {
    std::vector<v1::Event> out;
    v1::Event e;
    while (out.size() < n && reader_->Read(&e)) out.push_back(e);
    return out;
  }
  grpc::Status Finish() {
    context_.TryCancel();
    return reader_->Finish();
  }
  grpc::Status FinishNow() { return reader_->Finish(); }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::Event>> reader_;
};

TEST_F(ServiceTest, WatchStreamsFilteredEvents) {
  Watcher all(stub_.get(), {});
  ASSERT_TRUE(all.Subscribed());
  v1::WatchRequest only_cables;
  only_cables.add_kinds(v1::Event::CABLE_CHANGED);
  Watcher cables(stub_.get(), only_cables);
  ASSERT_TRUE(cables.Subscribed());

  v1::Domain storage = Create("storage");
  v1::Domain client = Create("client");
  ASSERT_TRUE(Connect(End("client", 7), End("storage", 80), true).ok());
  testing::RawGuest guest(&platform_->hypervisor(), storage.id());
  ASSERT_EQ(guest.Register(80, client.id(), 4096,
                           testing::RawGuest::Frames(4096, kRingFrame)),
            0);
  ASSERT_TRUE(LoadPolicy(std::string(policy::DefaultPolicyText())).ok());
  v1::DestroyDomainRequest destroy;
  *destroy.mutable_domain() = Named("storage");
  v1::DestroyDomainResponse destroyed;
  ASSERT_TRUE(stub_->DestroyDomain(Ctx().get(), destroy, &destroyed).ok());

  std::vector<v1::Event> events = all.Take(7);
  ASSERT_EQ(events.size(), 7u);
  const v1::Event::Kind expected[] = {
      v1::Event::DOMAIN_CREATED,    v1::Event::DOMAIN_CREATED,
      v1::Event::CABLE_CHANGED,     v1::Event::RING_REGISTERED,
      v1::Event::POLICY_LOADED,     v1::Event::RING_UNREGISTERED,
      v1::Event::DOMAIN_DESTROYED};
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].kind(), expected[i]) << events[i].summary();
    EXPECT_GT(events[i].unix_nanos(), 0);
    EXPECT_FALSE(events[i].summary().empty());
  }
  EXPECT_EQ(events[0].domain().name(), "storage");
  EXPECT_EQ(events[3].ring().owner_name(), "storage");
  EXPECT_EQ(events[3].ring().port(), 80u);
  std::vector<v1::Event> cable_events = cables.Take(1);
  ASSERT_EQ(cable_events.size(), 1u);
  EXPECT_EQ(cable_events[0].cable().from().resolved_name(), "client");
  EXPECT_EQ(all.Finish().error_code(), StatusCode::CANCELLED);
  cables.Finish();
}

TEST_F(ServiceTest, WatchRequestsAreValidated) {
  v1::WatchRequest bad_kind;
  bad_kind.add_kinds(static_cast<v1::Event::Kind>(99));
  Watcher w1(stub_.get(), bad_kind);
  EXPECT_EQ(w1.FinishNow().error_code(), StatusCode::INVALID_ARGUMENT);
  v1::WatchRequest ghost;
  *ghost.mutable_domain() = Named("ghost");
  Watcher w2(stub_.get(), ghost);
  EXPECT_EQ(w2.FinishNow().error_code(), StatusCode::NOT_FOUND);
}

TEST_F(ServiceTest, AFloodOfWatchStreamsIsRefused) {
  std::vector<std::unique_ptr<Watcher>> watchers;
  for (size_t i = 0; i < EventBus::kMaxSubscribers; ++i) {
    watchers.push_back(std::make_unique<Watcher>(stub_.get(), v1::WatchRequest()));
    ASSERT_TRUE(watchers.back()->Subscribed());
  }
  Watcher one_too_many(stub_.get(), {});
  grpc::Status refused = one_too_many.FinishNow();
  EXPECT_EQ(refused.error_code(), StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused.error_message().find("watchers"), std::string::npos);
  // Unary calls are still served while the watchers hold their streams.
  Create("still-served");
  // Closing one frees a place.
  watchers.back()->Finish();
  watchers.pop_back();
  for (int tries = 0; platform_->events().subscribers() ==
                          EventBus::kMaxSubscribers && tries < 100; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Watcher again(stub_.get(), {});
  ASSERT_TRUE(again.Subscribed());
  Create("seen");
  EXPECT_EQ(again.Take(1).size(), 1u);
  again.Finish();
  for (auto& w : watchers) w->Finish();
}

// ---- Guest attach (§8) -------------------------------------------------------

TEST_F(ServiceTest, IssueAttachTokenReplacesTheTokenAndShowsTheGuest) {
  v1::CreateDomainRequest create;
  create.set_name("web");
  v1::CreateDomainResponse created;
  ASSERT_TRUE(stub_->CreateDomain(Ctx().get(), create, &created).ok());
  const domid_t id = created.domain().id();
  v1::WatchRequest attaches;
  attaches.add_kinds(v1::Event::GUEST_ATTACHED);
  Watcher watcher(stub_.get(), attaches);
  ASSERT_TRUE(watcher.Subscribed());

  v1::IssueAttachTokenRequest request;
  *request.mutable_domain() = Named("web");
  v1::IssueAttachTokenResponse issued;
  grpc::Status s = stub_->IssueAttachToken(Ctx().get(), request, &issued);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(issued.attach_token().size(), 32u);
  EXPECT_NE(issued.attach_token(), created.attach_token());
  EXPECT_EQ(issued.domain().name(), "web");
  EXPECT_EQ(issued.domain().id(), id);
  EXPECT_EQ(issued.domain().state(), v1::Domain::CREATED);
  EXPECT_EQ(issued.domain().attached_pid(), 0u);
  EXPECT_FALSE(platform_->CheckAttachToken(id, created.attach_token()));
  EXPECT_TRUE(platform_->CheckAttachToken(id, issued.attach_token()));

  // A guest attaches (as the transport would): every view shows it.
  ASSERT_TRUE(platform_
                  ->Attach({transport::Mode::kBlocking, 1, std::string("web"),
                            issued.attach_token()},
                           777)
                  .ok());
  v1::GetDomainRequest get;
  *get.mutable_domain() = Id(id);
  v1::Domain got;
  ASSERT_TRUE(stub_->GetDomain(Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.state(), v1::Domain::RUNNING);
  EXPECT_EQ(got.attached_pid(), 777u);
  v1::ListDomainsResponse list;
  ASSERT_TRUE(stub_->ListDomains(Ctx().get(), {}, &list).ok());
  ASSERT_EQ(list.domains_size(), 1);
  EXPECT_EQ(list.domains(0).state(), v1::Domain::RUNNING);
  EXPECT_EQ(list.domains(0).attached_pid(), 777u);
  std::vector<v1::Event> events = watcher.Take(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), v1::Event::GUEST_ATTACHED);
  EXPECT_EQ(events[0].domain().attached_pid(), 777u);
  EXPECT_EQ(events[0].summary().find(issued.attach_token()), std::string::npos);
  watcher.Finish();

  platform_->Detached(id, 777, transport::DetachReason::kClosed, "");
  ASSERT_TRUE(stub_->GetDomain(Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.state(), v1::Domain::CREATED);
  EXPECT_EQ(got.attached_pid(), 0u);
}

TEST_F(ServiceTest, IssueAttachTokenErrors) {
  Create("web");
  v1::IssueAttachTokenResponse issued;
  auto issue = [&](v1::IssueAttachTokenRequest r) {
    return [this, r, &issued] {
      return stub_->IssueAttachToken(Ctx().get(), r, &issued);
    };
  };
  v1::IssueAttachTokenRequest r;
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "domain: name a domain",
                issue(r));
  *r.mutable_domain() = Named("ghost");
  ExpectRefused(StatusCode::NOT_FOUND, "no domain named \"ghost\"", issue(r));
  *r.mutable_domain() = Id(9);
  ExpectRefused(StatusCode::NOT_FOUND, "no domain with id 9", issue(r));
  *r.mutable_domain() = Id(0x7FF0);
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "is not a domain", issue(r));
  EXPECT_TRUE(issued.attach_token().empty());
}

}  // namespace
}  // namespace argo::toolstack
