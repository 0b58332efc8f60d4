// AdminService: device ownership (claims, vouchers) and decommissioning.
#include <set>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ca/certificate_der.h"
#include "ca/device_identity.h"
#include "common/hex.h"
#include "common/status_macros.h"
#include "provisioning/admin_service.h"
#include "provisioning/ownership_voucher.h"
#include "provisioning/unary_call.h"

namespace keyline::provisioning {
namespace {

constexpr std::string_view kClaim = "/keyline.v1.AdminService/ClaimDevices";
constexpr std::string_view kValidateClaim = "/keyline.v1.AdminService/ValidateClaim";
constexpr std::string_view kExport = "/keyline.v1.AdminService/ExportVouchers";
constexpr std::string_view kImport = "/keyline.v1.AdminService/ImportVouchers";
constexpr std::string_view kGet = "/keyline.v1.AdminService/GetDevice";
constexpr std::string_view kDecommission = "/keyline.v1.AdminService/DecommissionDevice";
constexpr int kDefaultVoucherValidityDays = 365;
constexpr int kMaxVoucherValidityDays = 3650;
constexpr size_t kMaxReasonLength = 256;

// 1 to max_batch distinct, well-formed serials.
absl::Status CheckSerials(const google::protobuf::RepeatedPtrField<std::string>& serials,
                          size_t max_batch) {
  if (serials.empty()) return absl::InvalidArgumentError("device_serials: empty");
  if (static_cast<size_t>(serials.size()) > max_batch) {
    return absl::InvalidArgumentError(
        absl::StrCat("device_serials: ", serials.size(), " entries, at most ", max_batch));
  }
  std::set<std::string> seen;
  for (int i = 0; i < serials.size(); ++i) {
    const std::string field = absl::StrCat("device_serials[", i, "]");
    KEYLINE_RETURN_IF_ERROR(ca::ValidateDeviceSerial(serials.Get(i), field));
    if (!seen.insert(serials.Get(i)).second) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": ", serials.Get(i), " repeated"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status AdminServiceImpl::Claim(const Caller& caller,
                                     const keyline::v1::ClaimDevicesRequest& request,
                                     keyline::v1::ClaimDevicesResponse* response,
                                     bool validate_only) {
  KEYLINE_RETURN_IF_ERROR(ca::ValidateDeploymentName(request.deployment()));
  if (!context_.cas->HasDeployment(request.deployment())) {
    return absl::NotFoundError(
        absl::StrCat("deployment: unknown deployment ", request.deployment()));
  }
  KEYLINE_RETURN_IF_ERROR(CheckSerials(request.device_serials(), context_.enrollment.max_batch));
  const int days = request.voucher_validity_days() == 0 ? kDefaultVoucherValidityDays
                                                        : request.voucher_validity_days();
  if (days < 1 || days > kMaxVoucherValidityDays) {
    return absl::InvalidArgumentError(
        absl::StrCat("voucher_validity_days: 1 to ", kMaxVoucherValidityDays));
  }
  const std::vector<std::string> serials(request.device_serials().begin(),
                                         request.device_serials().end());
  KEYLINE_ASSIGN_OR_RETURN(const auto found, context_.devices->FindMany(serials));
  std::map<std::string, const store::DeviceRecord*> by_serial;
  for (const auto& device : found) by_serial[device.serial] = &device;

  const absl::Time now = absl::Now();
  std::vector<store::VoucherRecord> vouchers;
  for (size_t i = 0; i < serials.size(); ++i) {
    const std::string field = absl::StrCat("device_serials[", i, "]");
    auto it = by_serial.find(serials[i]);
    if (it == by_serial.end()) {
      return absl::NotFoundError(absl::StrCat(field, ": unknown device ", serials[i]));
    }
    const store::DeviceRecord& device = *it->second;
    auto hosted = context_.hosted_manufacturers.find(device.manufacturer_name);
    if (hosted == context_.hosted_manufacturers.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          field, ": ", device.serial, " is made by ", device.manufacturer_name,
          ", which Keyline does not host: import the manufacturer's voucher instead"));
    }
    if (validate_only) continue;  // the store's checks below need no voucher
    VoucherContent content{device.serial, device.attestation_key_sha256, request.deployment(),
                           device.manufacturer_name, now, now + absl::Hours(24) * days};
    KEYLINE_ASSIGN_OR_RETURN(std::string signed_voucher, SignVoucher(content, *hosted->second));
    vouchers.push_back(store::VoucherRecord{device.serial, request.deployment(),
                                            content.expires_at, std::move(signed_voucher)});
  }
  if (validate_only) {
    KEYLINE_ASSIGN_OR_RETURN(const auto result,
                             context_.devices->CheckClaim(serials, request.deployment()));
    response->set_claimed(result.claimed);
    response->set_unchanged(result.unchanged);
    return absl::OkStatus();
  }
  KEYLINE_ASSIGN_OR_RETURN(const auto result, context_.devices->Claim(vouchers, caller.uri));
  response->set_claimed(result.claimed);
  response->set_unchanged(result.unchanged);
  return absl::OkStatus();
}

absl::Status AdminServiceImpl::Import(const Caller& caller,
                                      const keyline::v1::ImportVouchersRequest& request,
                                      keyline::v1::ImportVouchersResponse* response) {
  const auto& bundle = request.bundle().vouchers();
  if (bundle.empty()) return absl::InvalidArgumentError("bundle.vouchers: empty");
  if (static_cast<size_t>(bundle.size()) > context_.enrollment.max_batch) {
    return absl::InvalidArgumentError(absl::StrCat("bundle.vouchers: at most ",
                                                   context_.enrollment.max_batch, " a call"));
  }
  KEYLINE_ASSIGN_OR_RETURN(const auto manufacturers, context_.manufacturers->List());
  std::vector<std::pair<const store::ManufacturerRecord*, X509Ptr>> anchors;
  for (const auto& manufacturer : manufacturers) {
    if (manufacturer.status != "trusted") continue;
    KEYLINE_ASSIGN_OR_RETURN(X509Ptr anchor, ca::ParseCertificateDer(manufacturer.trust_anchor_der));
    anchors.emplace_back(&manufacturer, std::move(anchor));
  }

  const absl::Time now = absl::Now();
  std::vector<store::VoucherRecord> vouchers;
  std::set<std::string> seen;
  for (int i = 0; i < bundle.size(); ++i) {
    const std::string field = absl::StrCat("bundle.vouchers[", i, "]");
    KEYLINE_ASSIGN_OR_RETURN(const ParsedVoucher parsed,
                             ParseSignedVoucher(bundle.Get(i).SerializeAsString(), field));
    // The trusted manufacturers whose anchor the signer is, or was issued by: more than one when
    // an admin trusts one vendor CA under two names, or a vendor's root and its intermediate.
    std::vector<int32_t> signer_manufacturers;
    const X509* signer_anchor = nullptr;
    for (const auto& [manufacturer, anchor] : anchors) {
      if (SignerBelongsTo(parsed.signer.get(), anchor.get(), now)) {
        signer_manufacturers.push_back(manufacturer->id);
        signer_anchor = anchor.get();
      }
    }
    if (signer_anchor == nullptr) {
      return absl::PermissionDeniedError(
          absl::StrCat(field, ": not signed by a trusted manufacturer"));
    }
    KEYLINE_ASSIGN_OR_RETURN(const VoucherContent content,
                             VerifyVoucher(parsed, signer_anchor, now, field));
    if (!context_.cas->HasDeployment(content.owner)) {
      return absl::FailedPreconditionError(absl::StrCat(
          field, ": owner ", content.owner, " is not a deployment of this Keyline"));
    }
    auto device = context_.devices->Find(content.device_serial);
    if (absl::IsNotFound(device.status())) {
      return absl::NotFoundError(absl::StrCat(field, ": device ", content.device_serial,
                                              " is not registered here"));
    }
    KEYLINE_RETURN_IF_ERROR(device.status());
    if (!absl::c_linear_search(signer_manufacturers, device->manufacturer_id) ||
        device->attestation_key_sha256 != content.attestation_key_sha256) {
      return absl::PermissionDeniedError(absl::StrCat(
          field, ": the voucher does not match the registered device ", device->serial));
    }
    if (!seen.insert(device->serial).second) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": ", device->serial, " repeated"));
    }
    vouchers.push_back(store::VoucherRecord{device->serial, content.owner, content.expires_at,
                                            bundle.Get(i).SerializeAsString()});
  }
  KEYLINE_ASSIGN_OR_RETURN(const auto result,
                           context_.devices->Claim(vouchers, caller.uri, "device.voucher.imported"));
  response->set_claimed(result.claimed);
  response->set_unchanged(result.unchanged);
  return absl::OkStatus();
}

absl::Status AdminServiceImpl::DescribeDevice(const std::string& serial,
                                              keyline::v1::Device* response) {
  KEYLINE_RETURN_IF_ERROR(ca::ValidateDeviceSerial(serial));
  auto device = context_.devices->Find(serial);
  if (absl::IsNotFound(device.status())) {
    return absl::NotFoundError(absl::StrCat("device_serial: unknown device ", serial));
  }
  KEYLINE_RETURN_IF_ERROR(device.status());
  return DescribeDevice(*device, response);
}

absl::Status AdminServiceImpl::DescribeDevice(const store::DeviceRecord& device,
                                              keyline::v1::Device* response) {
  response->set_device_serial(device.serial);
  response->set_manufacturer(device.manufacturer_name);
  response->set_hardware_model(device.hardware_model);
  response->set_state(device.state);
  response->set_deployment(device.deployment.value_or(""));
  KEYLINE_ASSIGN_OR_RETURN(const auto certificates, context_.devices->Certificates(device.serial));
  for (const store::DeviceCertificate& certificate : certificates) {
    response->add_certificate_serials(HexEncode(certificate.serial));
    if (certificate.good) response->add_good_certificate_serials(HexEncode(certificate.serial));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AdminServiceImpl::ClaimDevices(
    grpc::CallbackServerContext* context, const keyline::v1::ClaimDevicesRequest* request,
    keyline::v1::ClaimDevicesResponse* response) {
  return RunUnaryCall(context_, context, kClaim, response,
                      [this, request, response](const Caller& caller) {
                        return Claim(caller, *request, response, /*validate_only=*/false);
                      });
}

grpc::ServerUnaryReactor* AdminServiceImpl::ValidateClaim(
    grpc::CallbackServerContext* context, const keyline::v1::ClaimDevicesRequest* request,
    keyline::v1::ClaimDevicesResponse* response) {
  return RunUnaryCall(context_, context, kValidateClaim, response,
                      [this, request, response](const Caller& caller) {
                        return Claim(caller, *request, response, /*validate_only=*/true);
                      });
}

grpc::ServerUnaryReactor* AdminServiceImpl::ExportVouchers(
    grpc::CallbackServerContext* context, const keyline::v1::ExportVouchersRequest* request,
    keyline::v1::VoucherBundle* response) {
  return RunUnaryCall(
      context_, context, kExport, response, [this, request, response](const Caller&) {
        KEYLINE_RETURN_IF_ERROR(
            CheckSerials(request->device_serials(), context_.enrollment.max_batch));
        const std::vector<std::string> serials(request->device_serials().begin(),
                                               request->device_serials().end());
        KEYLINE_ASSIGN_OR_RETURN(const auto vouchers, context_.devices->FindVouchers(serials));
        std::map<std::string, const store::VoucherRecord*> by_serial;
        for (const auto& voucher : vouchers) by_serial[voucher.device_serial] = &voucher;
        for (size_t i = 0; i < serials.size(); ++i) {
          auto it = by_serial.find(serials[i]);
          if (it == by_serial.end()) {
            return absl::NotFoundError(absl::StrCat("device_serials[", i, "]: ", serials[i],
                                                    " has no voucher (not claimed)"));
          }
          if (!response->add_vouchers()->ParseFromString(it->second->signed_voucher)) {
            return absl::DataLossError(absl::StrCat("stored voucher of ", serials[i], " is corrupt"));
          }
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* AdminServiceImpl::ImportVouchers(
    grpc::CallbackServerContext* context, const keyline::v1::ImportVouchersRequest* request,
    keyline::v1::ImportVouchersResponse* response) {
  return RunUnaryCall(context_, context, kImport, response,
                      [this, request, response](const Caller& caller) {
                        return Import(caller, *request, response);
                      });
}

grpc::ServerUnaryReactor* AdminServiceImpl::GetDevice(grpc::CallbackServerContext* context,
                                                      const keyline::v1::GetDeviceRequest* request,
                                                      keyline::v1::Device* response) {
  return RunUnaryCall(context_, context, kGet, response, [this, request, response](const Caller&) {
    return DescribeDevice(request->device_serial(), response);
  });
}

grpc::ServerUnaryReactor* AdminServiceImpl::DecommissionDevice(
    grpc::CallbackServerContext* context, const keyline::v1::DecommissionDeviceRequest* request,
    keyline::v1::Device* response) {
  return RunUnaryCall(
      context_, context, kDecommission, response, [this, request, response](const Caller& caller) {
        KEYLINE_RETURN_IF_ERROR(ca::ValidateDeviceSerial(request->device_serial()));
        if (request->reason().size() > kMaxReasonLength) {
          return absl::InvalidArgumentError(
              absl::StrCat("reason: at most ", kMaxReasonLength, " characters"));
        }
        auto result =
            context_.devices->Decommission(request->device_serial(), caller.uri, request->reason());
        if (absl::IsNotFound(result.status())) {
          return absl::NotFoundError(
              absl::StrCat("device_serial: unknown device ", request->device_serial()));
        }
        KEYLINE_RETURN_IF_ERROR(result.status());
        KEYLINE_RETURN_IF_ERROR(DescribeDevice(result->device, response));
        response->set_decommissioned_now(result->decommissioned_now);
        for (const std::string& serial : result->revoked_certificate_serials) {
          response->add_revoked_certificate_serials(serial);
        }
        return absl::OkStatus();
      });
}

}  // namespace keyline::provisioning
