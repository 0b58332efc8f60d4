// AdminService: manufacturers (trust anchors for attestation only).
#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "ca/certificate_der.h"
#include "ca/device_identity.h"
#include "common/status_macros.h"
#include "provisioning/admin_service.h"
#include "provisioning/attestation_chain.h"
#include "provisioning/proto_conversions.h"
#include "provisioning/unary_call.h"

namespace keyline::provisioning {
namespace {

constexpr std::string_view kAdd = "/keyline.v1.AdminService/AddManufacturer";
constexpr std::string_view kList = "/keyline.v1.AdminService/ListManufacturers";
constexpr std::string_view kRevoke = "/keyline.v1.AdminService/RevokeManufacturer";
constexpr size_t kMaxReasonLength = 256;

void ToProto(const store::ManufacturerRecord& record, keyline::v1::Manufacturer* message) {
  message->set_name(record.name);
  message->set_hosted(record.ca_id.has_value());
  message->set_trust_anchor(record.trust_anchor_der);
  message->set_status(record.status);
  ToTimestamp(record.added_at, message->mutable_added_at());
  if (record.revoked_at) ToTimestamp(*record.revoked_at, message->mutable_revoked_at());
}

// The anchor must be a CA certificate that may sign certificates.
absl::StatusOr<X509Ptr> CheckTrustAnchor(const std::string& der) {
  if (der.size() > kMaxCertificateBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "trust_anchor: ", der.size(), " bytes, larger than the limit of ", kMaxCertificateBytes));
  }
  auto anchor = ca::ParseCertificateDer(der);
  if (!anchor.ok()) return absl::InvalidArgumentError("trust_anchor: not a DER certificate");
  const uint32_t usage = X509_get_key_usage(anchor->get());
  if (X509_check_ca(anchor->get()) == 0 || (usage & KU_KEY_CERT_SIGN) == 0) {
    return absl::InvalidArgumentError(
        "trust_anchor: not a CA certificate (basicConstraints CA and keyCertSign required)");
  }
  return anchor;
}

}  // namespace

grpc::ServerUnaryReactor* AdminServiceImpl::AddManufacturer(
    grpc::CallbackServerContext* context, const keyline::v1::AddManufacturerRequest* request,
    keyline::v1::Manufacturer* response) {
  return RunUnaryCall(
      context_, context, kAdd, response, [this, request, response](const Caller& caller) {
        KEYLINE_RETURN_IF_ERROR(ca::ValidateDeploymentName(request->name(), "name"));
        KEYLINE_ASSIGN_OR_RETURN(const X509Ptr anchor, CheckTrustAnchor(request->trust_anchor()));
        store::ManufacturerRecord record;
        record.name = request->name();
        record.trust_anchor_der = request->trust_anchor();
        record.anchor_key_id = ca::SubjectKeyIdOf(anchor.get());
        record.added_by = caller.uri;
        auto added = context_.manufacturers->Add(record, caller.uri);
        if (absl::IsAlreadyExists(added.status())) {
          return absl::AlreadyExistsError(
              absl::StrCat("name: manufacturer ", request->name(), " exists"));
        }
        KEYLINE_RETURN_IF_ERROR(added.status());
        KEYLINE_ASSIGN_OR_RETURN(const auto stored, context_.manufacturers->FindById(*added));
        ToProto(stored, response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListManufacturers(
    grpc::CallbackServerContext* context, const keyline::v1::ListManufacturersRequest*,
    keyline::v1::ListManufacturersResponse* response) {
  return RunUnaryCall(context_, context, kList, response, [this, response](const Caller&) {
    KEYLINE_ASSIGN_OR_RETURN(const auto manufacturers, context_.manufacturers->List());
    for (const auto& record : manufacturers) ToProto(record, response->add_manufacturers());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AdminServiceImpl::RevokeManufacturer(
    grpc::CallbackServerContext* context, const keyline::v1::RevokeManufacturerRequest* request,
    keyline::v1::Manufacturer* response) {
  return RunUnaryCall(
      context_, context, kRevoke, response, [this, request, response](const Caller& caller) {
        if (request->name().empty()) return absl::InvalidArgumentError("name: empty");
        if (request->reason().size() > kMaxReasonLength) {
          return absl::InvalidArgumentError(
              absl::StrCat("reason: at most ", kMaxReasonLength, " characters"));
        }
        auto revoked = context_.manufacturers->Revoke(request->name(), caller.uri,
                                                      request->reason());
        if (absl::IsNotFound(revoked.status())) {
          return absl::NotFoundError(
              absl::StrCat("name: unknown manufacturer ", request->name()));
        }
        KEYLINE_RETURN_IF_ERROR(revoked.status());
        ToProto(*revoked, response);
        return absl::OkStatus();
      });
}

}  // namespace keyline::provisioning
