// AdminService.Revoke: certificates by serial or all of a device's, one transaction.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ca/device_identity.h"
#include "ca/revocation_reason.h"
#include "common/status_macros.h"
#include "provisioning/admin_service.h"
#include "provisioning/proto_conversions.h"
#include "provisioning/revoke_progress_stream.h"
#include "provisioning/unary_call.h"

namespace keyline::provisioning {
namespace {

constexpr std::string_view kRevoke = "/keyline.v1.AdminService/Revoke";
constexpr std::string_view kRevokeWithProgress = "/keyline.v1.AdminService/RevokeWithProgress";
constexpr int kMaxTargets = 100'000;
// RevokeResponse lists this many revoked certificates (~80 bytes each); its counts cover all.
constexpr int kMaxListedRevocations = 10'000;
constexpr size_t kMaxSerialBytes = 20;  // RFC 5280 4.1.2.2

absl::StatusOr<store::RevocationRequest> ToStoreRequest(const keyline::v1::RevokeRequest& request,
                                                        const std::string& actor) {
  store::RevocationRequest converted;
  if (request.targets().empty()) return absl::InvalidArgumentError("targets: empty");
  if (request.targets_size() > kMaxTargets) {
    return absl::InvalidArgumentError(
        absl::StrCat("targets: ", request.targets_size(), " entries, at most ", kMaxTargets));
  }
  KEYLINE_ASSIGN_OR_RETURN(converted.reason, ca::ParseRevocationReason(request.reason()));
  if (request.has_invalidity_date()) {
    const absl::Time invalidity = absl::FromUnixSeconds(request.invalidity_date().seconds()) +
                                  absl::Nanoseconds(request.invalidity_date().nanos());
    if (invalidity > absl::Now()) {
      return absl::InvalidArgumentError("invalidity_date: in the future");
    }
    converted.invalidity_date = invalidity;
  }
  converted.actor = actor;
  converted.dry_run = request.dry_run();
  converted.targets.reserve(request.targets_size());
  for (int i = 0; i < request.targets_size(); ++i) {
    const keyline::v1::RevocationTarget& target = request.targets(i);
    const std::string field = absl::StrCat("targets[", i, "]");
    store::RevocationTarget& out = converted.targets.emplace_back();
    switch (target.target_case()) {
      case keyline::v1::RevocationTarget::kCertificateSerial: {
        const std::string& serial = target.certificate_serial();
        if (serial.empty() || serial.size() > kMaxSerialBytes || serial[0] == '\0') {
          return absl::InvalidArgumentError(absl::StrCat(
              field, ".certificate_serial: 1 to 20 octets without a leading zero octet"));
        }
        out.kind = store::RevocationTarget::Kind::kCertificate;
        out.id = serial;
        break;
      }
      case keyline::v1::RevocationTarget::kDeviceSerial:
        KEYLINE_RETURN_IF_ERROR(
            ca::ValidateDeviceSerial(target.device_serial(), field + ".device_serial"));
        out.kind = store::RevocationTarget::Kind::kDevice;
        out.id = target.device_serial();
        break;
      default:
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": set certificate_serial or device_serial"));
    }
    if (!target.reason().empty()) {
      KEYLINE_ASSIGN_OR_RETURN(out.reason,
                               ca::ParseRevocationReason(target.reason(), field + ".reason"));
    }
  }
  return converted;
}

}  // namespace

absl::Status AdminServiceImpl::RevokeTargets(const Caller& caller,
                                             const keyline::v1::RevokeRequest& request,
                                             keyline::v1::RevokeResponse* response,
                                             store::RevocationProgressCallback progress) {
  KEYLINE_ASSIGN_OR_RETURN(store::RevocationRequest converted, ToStoreRequest(request, caller.uri));
  converted.progress = std::move(progress);
  KEYLINE_ASSIGN_OR_RETURN(const store::RevocationResult result,
                           context_.revocations->Revoke(converted));
  auto& by_issuer = *response->mutable_revoked_by_issuer();
  for (const store::RevokedCertificate& revoked : result.revoked) {
    const ca::IssuingCa* issuer = context_.cas->ById(revoked.issuer_id);
    const std::string issuer_name =
        issuer != nullptr ? issuer->name() : absl::StrCat("ca#", revoked.issuer_id);
    ++by_issuer[issuer_name];
    if (response->revoked_size() >= kMaxListedRevocations) continue;
    keyline::v1::RevokedCertificate* out = response->add_revoked();
    out->set_serial(revoked.serial);
    out->set_issuer(issuer_name);
    out->set_profile(revoked.profile);
    if (revoked.device_serial) out->set_device_serial(*revoked.device_serial);
    out->set_reason(std::string(ca::RevocationReasonName(revoked.reason)));
    out->set_target_index(static_cast<uint32_t>(revoked.target_index));
  }
  response->set_revoked_count(static_cast<int64_t>(result.revoked.size()));
  response->set_already_revoked(result.already_revoked);
  ToTimestamp(result.revoked_at, response->mutable_revoked_at());
  response->set_dry_run(request.dry_run());
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AdminServiceImpl::Revoke(grpc::CallbackServerContext* context,
                                                   const keyline::v1::RevokeRequest* request,
                                                   keyline::v1::RevokeResponse* response) {
  return RunUnaryCall(context_, context, kRevoke, response,
                      [this, request, response](const Caller& caller) {
                        return RevokeTargets(caller, *request, response, nullptr);
                      });
}

grpc::ServerWriteReactor<keyline::v1::RevokeProgress>* AdminServiceImpl::RevokeWithProgress(
    grpc::CallbackServerContext* context, const keyline::v1::RevokeRequest* request) {
  return new RevokeProgressStream(
      context_, context, kRevokeWithProgress,
      [this, request](const Caller& caller, keyline::v1::RevokeResponse* response,
                      store::RevocationProgressCallback progress) {
        return RevokeTargets(caller, *request, response, std::move(progress));
      });
}

}  // namespace keyline::provisioning
