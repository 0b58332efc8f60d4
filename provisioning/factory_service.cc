#include "provisioning/factory_service.h"

#include <map>
#include <set>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ca/certificate_der.h"
#include "ca/csr_policy.h"
#include "ca/device_identity.h"
#include "ca/profiles.h"
#include "ca/serial_number.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "provisioning/attestation_chain.h"
#include "provisioning/grpc_status.h"
#include "provisioning/proto_conversions.h"
#include "provisioning/unary_call.h"
#include "store/sha256.h"

namespace keyline::provisioning {
namespace {

constexpr std::string_view kIssueAttestation =
    "/keyline.v1.FactoryService/IssueAttestationCertificates";
constexpr std::string_view kRegisterDevices = "/keyline.v1.FactoryService/RegisterDevices";

std::string Field(size_t index, std::string_view name) {
  return absl::StrCat("devices[", index, "].", AsAbsl(name));
}

absl::Status CheckBatchSize(int size, size_t max_batch) {
  if (size == 0) return absl::InvalidArgumentError("devices: empty");
  if (static_cast<size_t>(size) > max_batch) {
    return absl::InvalidArgumentError(
        absl::StrCat("devices: ", size, " entries, at most ", max_batch, " a call"));
  }
  return absl::OkStatus();
}

// Serial and model of entry `index`, and that the serial is not repeated in the batch.
template <typename Entry>
absl::Status CheckIdentity(const Entry& entry, size_t index, std::set<std::string>& seen) {
  KEYLINE_RETURN_IF_ERROR(
      ca::ValidateDeviceSerial(entry.device_serial(), Field(index, "device_serial")));
  KEYLINE_RETURN_IF_ERROR(
      ca::ValidateHardwareModel(entry.hardware_model(), Field(index, "hardware_model")));
  if (!seen.insert(entry.device_serial()).second) {
    return absl::InvalidArgumentError(
        absl::StrCat(Field(index, "device_serial"), ": ", entry.device_serial(),
                     " appears twice in the batch"));
  }
  return absl::OkStatus();
}

// The answer for a device that is registered with the key of its entry: the attestation
// certificate stored with it, whichever call issued it.
absl::StatusOr<IssuedCertificate> StoredAttestationCertificate(const store::DeviceRecord& device,
                                                               const ca::IssuingCa& issuer) {
  KEYLINE_ASSIGN_OR_RETURN(const auto stored,
                           ca::ParseCertificateDer(device.attestation_certificate_der));
  return IssuedCertificate{ca::SerialOf(stored.get()), device.attestation_certificate_der,
                           ca::NotBeforeOf(stored.get()), ca::NotAfterOf(stored.get()), &issuer};
}

// After DeviceRepository::Register: the entries of `batch` that a concurrent call registered
// first (a station's retry while its first call ran) are answered with what that call stored,
// as a later retry would be, and not with this call's signatures, which were not stored.
// `batch_answers[k]` is the entry of `answers` that belongs to `batch[k]`.
absl::Status AnswerRegisteredElsewhere(store::DeviceRepository& devices,
                                       const std::vector<store::DeviceRegistration>& batch,
                                       const std::vector<size_t>& batch_answers,
                                       const std::unordered_set<std::string>& registered,
                                       const ca::IssuingCa& issuer,
                                       std::vector<IssuedCertificate>& answers) {
  std::vector<std::string> elsewhere;
  for (const store::DeviceRegistration& registration : batch) {
    if (!registered.contains(registration.device.serial)) {
      elsewhere.push_back(registration.device.serial);
    }
  }
  if (elsewhere.empty()) return absl::OkStatus();
  KEYLINE_ASSIGN_OR_RETURN(const auto stored, devices.FindMany(elsewhere));
  std::map<std::string, const store::DeviceRecord*> stored_by_serial;
  for (const auto& device : stored) stored_by_serial[device.serial] = &device;
  for (size_t k = 0; k < batch.size(); ++k) {
    const std::string& serial = batch[k].device.serial;
    if (registered.contains(serial)) continue;
    const auto it = stored_by_serial.find(serial);
    if (it == stored_by_serial.end()) {
      return absl::InternalError(absl::StrCat(serial, ": registered by another call, not found"));
    }
    KEYLINE_ASSIGN_OR_RETURN(answers[batch_answers[k]],
                             StoredAttestationCertificate(*it->second, issuer));
  }
  return absl::OkStatus();
}

absl::StatusOr<store::ManufacturerRecord> TrustedManufacturer(const ServiceContext& context,
                                                              const std::string& name) {
  auto manufacturer = context.manufacturers->FindByName(name);
  if (absl::IsNotFound(manufacturer.status())) {
    return absl::NotFoundError(absl::StrCat("manufacturer: unknown manufacturer '", name, "'"));
  }
  if (!manufacturer.ok()) return manufacturer.status();
  if (manufacturer->status != "trusted") {
    return absl::FailedPreconditionError(
        absl::StrCat("manufacturer: ", name, " is revoked"));
  }
  return manufacturer;
}

}  // namespace

absl::Status FactoryServiceImpl::IssueAttestation(
    const Caller& caller, const keyline::v1::IssueAttestationCertificatesRequest& request,
    keyline::v1::IssueAttestationCertificatesResponse* response) {
  auto hosted = context_.hosted_manufacturers.find(request.manufacturer());
  if (hosted == context_.hosted_manufacturers.end()) {
    return absl::NotFoundError(absl::StrCat("manufacturer: '", request.manufacturer(),
                                            "' is not a manufacturer Keyline hosts"));
  }
  const ca::IssuingCa& manufacturer_ca = *hosted->second;
  KEYLINE_RETURN_IF_ERROR(CheckBatchSize(request.devices_size(), context_.enrollment.max_batch));

  // Everything about the input first: nothing is signed unless every entry is well formed.
  std::set<std::string> seen;
  std::vector<ca::AcceptedCsr> csrs;
  std::vector<std::string> key_hashes;
  std::vector<std::string> serials;
  csrs.reserve(static_cast<size_t>(request.devices_size()));
  for (int i = 0; i < request.devices_size(); ++i) {
    const auto& entry = request.devices(i);
    const auto index = static_cast<size_t>(i);
    KEYLINE_RETURN_IF_ERROR(CheckIdentity(entry, index, seen));
    KEYLINE_ASSIGN_OR_RETURN(ca::AcceptedCsr csr,
                             ca::ParseAndCheckCsr(entry.csr(), Field(index, "csr")));
    KEYLINE_ASSIGN_OR_RETURN(const std::string spki, csr.public_key.ToDer());
    key_hashes.push_back(store::Sha256(spki));
    csrs.push_back(std::move(csr));
    serials.push_back(entry.device_serial());
  }
  KEYLINE_ASSIGN_OR_RETURN(const store::ManufacturerRecord manufacturer,
                           TrustedManufacturer(context_, request.manufacturer()));

  // Same key as registered: the stored certificate is the answer. Another key: refused.
  KEYLINE_ASSIGN_OR_RETURN(const auto existing, context_.devices->FindMany(serials));
  std::map<std::string, const store::DeviceRecord*> existing_by_serial;
  for (const auto& device : existing) existing_by_serial[device.serial] = &device;

  std::vector<store::DeviceRegistration> batch;
  std::vector<IssuedCertificate> answers;  // the attestation certificate of each entry
  std::vector<size_t> batch_answers;       // for each of `batch`, its entry in `answers`
  for (int i = 0; i < request.devices_size(); ++i) {
    const auto index = static_cast<size_t>(i);
    const auto& entry = request.devices(i);
    if (auto it = existing_by_serial.find(entry.device_serial()); it != existing_by_serial.end()) {
      const store::DeviceRecord& device = *it->second;
      if (device.attestation_key_sha256 != key_hashes[index] ||
          device.manufacturer_id != manufacturer.id) {
        return absl::AlreadyExistsError(
            absl::StrCat(Field(index, "device_serial"), ": ", entry.device_serial(),
                         " is registered with a different attestation key"));
      }
      KEYLINE_ASSIGN_OR_RETURN(IssuedCertificate stored,
                               StoredAttestationCertificate(device, manufacturer_ca));
      answers.push_back(std::move(stored));
      continue;
    }
    IssuanceJob job;
    job.issuer = &manufacturer_ca;
    job.subject_key = std::move(csrs[index].public_key);
    const std::string serial = entry.device_serial();
    const std::string model = entry.hardware_model();
    job.make_template = [serial, model](const ca::IssueContext& issue_context) {
      return ca::AttestationTemplate(issue_context, serial, model);
    };
    job.subject = serial;
    job.device_serial = serial;
    KEYLINE_ASSIGN_OR_RETURN(SignedCertificate signed_certificate, context_.issuance->Sign(job));

    store::DeviceRegistration registration;
    registration.device.serial = serial;
    registration.device.manufacturer_id = manufacturer.id;
    registration.device.hardware_model = model;
    registration.device.attestation_certificate_der = signed_certificate.issued.der;
    registration.device.attestation_key_sha256 = key_hashes[index];
    registration.device.registered_by = caller.uri;
    registration.issued_certificate = std::move(signed_certificate.write.certificate);
    batch_answers.push_back(answers.size());
    answers.push_back(std::move(signed_certificate.issued));
    batch.push_back(std::move(registration));
  }
  int newly_registered = 0;
  if (!batch.empty()) {
    KEYLINE_ASSIGN_OR_RETURN(const auto result, context_.devices->Register(batch, caller.uri));
    newly_registered = result.newly_registered();
    KEYLINE_RETURN_IF_ERROR(AnswerRegisteredElsewhere(*context_.devices, batch, batch_answers,
                                                      result.registered, manufacturer_ca, answers));
  }

  for (const auto& issued : answers) ToProto(issued, response->add_certificates());
  response->set_newly_registered(newly_registered);
  return absl::OkStatus();
}

absl::Status FactoryServiceImpl::Register(const Caller& caller,
                                          const keyline::v1::RegisterDevicesRequest& request,
                                          keyline::v1::RegisterDevicesResponse* response) {
  KEYLINE_RETURN_IF_ERROR(CheckBatchSize(request.devices_size(), context_.enrollment.max_batch));
  std::set<std::string> seen;
  std::vector<AttestationChain> chains;
  for (int i = 0; i < request.devices_size(); ++i) {
    const auto& entry = request.devices(i);
    const auto index = static_cast<size_t>(i);
    KEYLINE_RETURN_IF_ERROR(CheckIdentity(entry, index, seen));
    std::vector<std::string_view> certificates(entry.attestation_chain().begin(),
                                               entry.attestation_chain().end());
    KEYLINE_ASSIGN_OR_RETURN(AttestationChain chain,
                             ParseAttestationChain(certificates, Field(index, "attestation_chain")));
    chains.push_back(std::move(chain));
  }
  KEYLINE_ASSIGN_OR_RETURN(const store::ManufacturerRecord manufacturer,
                           TrustedManufacturer(context_, request.manufacturer()));
  // The anchor comes from the cache; the batch's leaves do not go into it (thousands of
  // certificates seen once would only push out the ones enrollment meets again).
  KEYLINE_ASSIGN_OR_RETURN(const auto anchor,
                           context_.certificate_cache->Parse(manufacturer.trust_anchor_der));

  const absl::Time now = absl::Now();
  std::vector<store::DeviceRegistration> batch;
  for (int i = 0; i < request.devices_size(); ++i) {
    const auto index = static_cast<size_t>(i);
    const auto& entry = request.devices(i);
    AttestationChain& chain = chains[index];
    KEYLINE_RETURN_IF_ERROR(
        VerifyAttestationChain(chain, anchor.get(), now, Field(index, "attestation_chain")));
    store::DeviceRegistration registration;
    registration.device.serial = entry.device_serial();
    registration.device.manufacturer_id = manufacturer.id;
    registration.device.hardware_model = entry.hardware_model();
    registration.device.attestation_certificate_der = chain.der.front();
    registration.device.attestation_chain_der.assign(chain.der.begin() + 1, chain.der.end());
    KEYLINE_ASSIGN_OR_RETURN(registration.device.attestation_key_sha256,
                             AttestationKeyHash(chain.leaf.get()));
    registration.device.registered_by = caller.uri;
    batch.push_back(std::move(registration));
  }
  KEYLINE_ASSIGN_OR_RETURN(const auto result, context_.devices->Register(batch, caller.uri));
  response->set_newly_registered(result.newly_registered());
  response->set_unchanged(result.unchanged);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* FactoryServiceImpl::IssueAttestationCertificates(
    grpc::CallbackServerContext* context,
    const keyline::v1::IssueAttestationCertificatesRequest* request,
    keyline::v1::IssueAttestationCertificatesResponse* response) {
  return RunUnaryCall(context_, context, kIssueAttestation, response,
                      [this, request, response](const Caller& caller) {
                        return IssueAttestation(caller, *request, response);
                      });
}

grpc::ServerUnaryReactor* FactoryServiceImpl::RegisterDevices(
    grpc::CallbackServerContext* context, const keyline::v1::RegisterDevicesRequest* request,
    keyline::v1::RegisterDevicesResponse* response) {
  return RunUnaryCall(context_, context, kRegisterDevices, response,
                      [this, request, response](const Caller& caller) {
                        return Register(caller, *request, response);
                      });
}

}  // namespace keyline::provisioning
