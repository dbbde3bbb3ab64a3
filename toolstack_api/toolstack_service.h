// The gRPC face of one level (§6): argo.toolstack.v1.Toolstack over a
// Platform. Every handler validates its request completely before changing
// anything, maps absl statuses to the same gRPC codes, and bounds what it
// returns: list replies are pages of at most kMaxPageSize items
// (pagination.h), events are bounded by the bus.
#ifndef TOOLSTACK_API_TOOLSTACK_SERVICE_H_
#define TOOLSTACK_API_TOOLSTACK_SERVICE_H_

#include <string>
#include <vector>

#include "toolstack_api/platform.h"
#include "toolstack_api/toolstack.grpc.pb.h"

namespace argo::toolstack {

class ToolstackService final : public v1::Toolstack::Service {
 public:
  explicit ToolstackService(Platform* platform) : platform_(*platform) {}

  grpc::Status CreateDomain(grpc::ServerContext*,
                            const v1::CreateDomainRequest* request,
                            v1::CreateDomainResponse* response) override;
  grpc::Status DestroyDomain(grpc::ServerContext*,
                             const v1::DestroyDomainRequest* request,
                             v1::DestroyDomainResponse* response) override;
  grpc::Status GetDomain(grpc::ServerContext*,
                         const v1::GetDomainRequest* request,
                         v1::Domain* response) override;
  grpc::Status ListDomains(grpc::ServerContext*,
                           const v1::ListDomainsRequest* request,
                           v1::ListDomainsResponse* response) override;
  grpc::Status IssueAttachToken(
      grpc::ServerContext*, const v1::IssueAttachTokenRequest* request,
      v1::IssueAttachTokenResponse* response) override;

  grpc::Status Connect(grpc::ServerContext*, const v1::ConnectRequest* request,
                       v1::ConnectResponse* response) override;
  grpc::Status Disconnect(grpc::ServerContext*,
                          const v1::DisconnectRequest* request,
                          v1::DisconnectResponse* response) override;
  grpc::Status ListCables(grpc::ServerContext*,
                          const v1::ListCablesRequest* request,
                          v1::ListCablesResponse* response) override;
  grpc::Status Explain(grpc::ServerContext*, const v1::ExplainRequest* request,
                       v1::Explanation* response) override;

  grpc::Status ListRings(grpc::ServerContext*,
                         const v1::ListRingsRequest* request,
                         v1::ListRingsResponse* response) override;
  grpc::Status GetStats(grpc::ServerContext*,
                        const v1::GetStatsRequest* request,
                        v1::Stats* response) override;

  grpc::Status LoadPolicy(grpc::ServerContext*,
                          const v1::LoadPolicyRequest* request,
                          v1::PolicyInfo* response) override;
  grpc::Status GetPolicy(grpc::ServerContext*,
                         const v1::GetPolicyRequest* request,
                         v1::PolicyInfo* response) override;
  grpc::Status Relabel(grpc::ServerContext*, const v1::RelabelRequest* request,
                       v1::Domain* response) override;
  grpc::Status GetAudit(grpc::ServerContext*,
                        const v1::GetAuditRequest* request,
                        v1::AuditLog* response) override;

  grpc::Status ListPolicyModules(
      grpc::ServerContext*, const v1::ListPolicyModulesRequest* request,
      v1::ListPolicyModulesResponse* response) override;
  grpc::Status AddPolicyModule(grpc::ServerContext*,
                               const v1::AddPolicyModuleRequest* request,
                               v1::PolicyModule* response) override;
  grpc::Status EnablePolicyModule(grpc::ServerContext*,
                                  const v1::PolicyModuleRequest* request,
                                  v1::PolicyInfo* response) override;
  grpc::Status DisablePolicyModule(grpc::ServerContext*,
                                   const v1::PolicyModuleRequest* request,
                                   v1::PolicyInfo* response) override;
  grpc::Status CheckPermission(grpc::ServerContext*,
                               const v1::CheckPermissionRequest* request,
                               v1::CheckPermissionResponse* response) override;
  grpc::Status ExplainDenials(grpc::ServerContext*,
                              const v1::ExplainDenialsRequest* request,
                              v1::DenialExplanations* response) override;
  grpc::Status SuggestRules(grpc::ServerContext*,
                            const v1::SuggestRulesRequest* request,
                            v1::SuggestedRules* response) override;
  grpc::Status GetMeasurements(grpc::ServerContext*,
                               const v1::GetMeasurementsRequest* request,
                               v1::Measurements* response) override;

  grpc::Status Watch(grpc::ServerContext* context,
                     const v1::WatchRequest* request,
                     grpc::ServerWriter<v1::Event>* writer) override;
  grpc::Status Capture(grpc::ServerContext* context,
                       const v1::CaptureRequest* request,
                       grpc::ServerWriter<v1::CaptureResponse>* writer) override;
  grpc::Status GetTopology(grpc::ServerContext*,
                           const v1::GetTopologyRequest* request,
                           v1::Topology* response) override;
  grpc::Status Apply(grpc::ServerContext*, const v1::ApplyRequest* request,
                     v1::ApplyResponse* response) override;

 private:
  // An optional "only this domain" filter: nullopt when absent.
  absl::StatusOr<absl::optional<domid_t>> ResolveFilter(
      bool present, const v1::DomainRef& ref);
  v1::Cable CableToProto(const implicit_dest::Cable& cable);
  v1::PolicyInfo PolicyInfoNow();

  Platform& platform_;
};

// absl and gRPC share the canonical code numbering.
grpc::Status ToGrpc(const absl::Status& status);

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_TOOLSTACK_SERVICE_H_
