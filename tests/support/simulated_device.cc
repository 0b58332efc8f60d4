#include "tests/support/simulated_device.h"

#include <atomic>
#include <chrono>
#include <random>

#include "absl/strings/str_cat.h"
#include "ca/certificate_der.h"
#include "ca/csr_builder.h"
#include "ca/public_key_info.h"
#include "ca/testing/software_signing_key.h"
#include "ca/x509_signing.h"
#include "hsm/testing/temp_softhsm.h"
#include "provisioning/enrollment_proof.h"
#include "store/sha256.h"

namespace keyline::testing {
namespace {

std::string RandomId() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t seed = std::random_device{}();
  return absl::StrCat(seed, "-", counter.fetch_add(1));
}

absl::StatusOr<std::string> KeyHash(const hsm::SigningKey& key) {
  auto info = ca::PublicKeyInfo::FromKey(key.public_key());
  if (!info.ok()) return info.status();
  auto der = info->ToDer();
  if (!der.ok()) return der.status();
  return store::Sha256(*der);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SecureElement>> SecureElement::Create(
    const std::string& token_label) {
  auto token = hsm::TempSoftHsmToken::CreateToken(token_label);
  if (!token.ok()) return token.status();
  auto opened = hsm::Token::Open(token->config);
  if (!opened.ok()) return opened.status();
  return std::unique_ptr<SecureElement>(new SecureElement(*std::move(opened)));
}

absl::StatusOr<std::unique_ptr<hsm::SigningKey>> SecureElement::NewKey(const std::string& label) {
  auto generated = token_->GenerateKeyPair(hsm::KeyAlgorithm::kEcdsaP256, label, label);
  if (!generated.ok()) return generated.status();
  return token_->FindSigningKey(label);
}

absl::StatusOr<std::string> AttestationCsr(SimulatedDevice& device,
                                           SecureElement& secure_element) {
  if (!device.attestation_key) {
    auto key = secure_element.NewKey("attest-" + device.serial);
    if (!key.ok()) return key.status();
    device.attestation_key = *std::move(key);
  }
  return ca::CreateCsrWithKey(*device.attestation_key, device.serial);
}

std::string PresentedChainPem(const keyline::v1::IssuedCertificate& issued) {
  std::string pem = ca::DerToPem(issued.certificate());
  for (int i = 0; i + 1 < issued.chain_size(); ++i) pem += ca::DerToPem(issued.chain(i));
  return pem;
}

absl::StatusOr<keyline::v1::Challenge> BeginEnrollment(
    const std::shared_ptr<grpc::Channel>& channel, const SimulatedDevice& device) {
  keyline::v1::BeginEnrollmentRequest request;
  request.set_device_serial(device.serial);
  for (const auto& der : device.attestation_chain) request.add_attestation_chain(der);
  keyline::v1::Challenge challenge;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  const grpc::Status status =
      keyline::v1::EnrollmentService::NewStub(channel)->BeginEnrollment(&context, request,
                                                                        &challenge);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }
  return challenge;
}

grpc::Status Complete(const std::shared_ptr<grpc::Channel>& channel, SimulatedDevice& device,
                      SecureElement& secure_element, const keyline::v1::Challenge& challenge,
                      const EnrollmentOptions& options,
                      keyline::v1::EnrollmentResponse* response) {
  const auto internal = [](const absl::Status& status) {
    return grpc::Status(grpc::StatusCode::INTERNAL, std::string(status.message()));
  };
  absl::StatusOr<std::unique_ptr<hsm::SigningKey>> deployment_key =
      options.software_deployment_key
          ? absl::StatusOr<std::unique_ptr<hsm::SigningKey>>(
                ca::testing::SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256))
          : secure_element.NewKey("deploy-" + device.serial + "-" + RandomId());
  if (!deployment_key.ok()) return internal(deployment_key.status());
  std::unique_ptr<hsm::SigningKey> requested_key;
  if (options.csr_with_other_key) {
    auto other = secure_element.NewKey("other-" + device.serial + "-" + RandomId());
    if (!other.ok()) return internal(other.status());
    requested_key = *std::move(other);
  }
  const hsm::SigningKey& csr_key = requested_key ? *requested_key : **deployment_key;
  auto csr = ca::CreateCsrWithKey(csr_key, device.serial);
  if (!csr.ok()) return internal(csr.status());

  auto key_hash = KeyHash(**deployment_key);
  if (!key_hash.ok()) return internal(key_hash.status());
  std::string proven_hash = *key_hash;
  if (options.sign_with_wrong_key_hash) proven_hash[0] = static_cast<char>(proven_hash[0] ^ 1);
  const std::string nonce =
      options.proof_nonce_override.empty() ? challenge.nonce() : options.proof_nonce_override;
  auto message = provisioning::ProofMessage(
      options.renew ? provisioning::ProofPurpose::kRenew : provisioning::ProofPurpose::kEnroll,
      nonce, device.serial, proven_hash);
  if (!message.ok()) return internal(message.status());
  auto proof = ca::SignWithKey(*device.attestation_key, *message);
  if (!proof.ok()) return internal(proof.status());

  const std::string request_id =
      options.request_id.empty() ? absl::StrCat(device.serial, "-", RandomId()) : options.request_id;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto stub = keyline::v1::EnrollmentService::NewStub(channel);
  grpc::Status status;
  if (options.renew) {
    keyline::v1::RenewRequest request;
    request.set_challenge_id(challenge.challenge_id());
    request.set_csr(*csr);
    request.set_proof(*proof);
    request.set_request_id(request_id);
    status = stub->Renew(&context, request, response);
  } else {
    keyline::v1::CompleteEnrollmentRequest request;
    request.set_challenge_id(challenge.challenge_id());
    request.set_csr(*csr);
    request.set_proof(*proof);
    request.set_request_id(request_id);
    status = stub->CompleteEnrollment(&context, request, response);
  }
  if (status.ok()) device.deployment_key = *std::move(deployment_key);
  return status;
}

absl::StatusOr<keyline::v1::EnrollmentResponse> Enroll(
    const std::shared_ptr<grpc::Channel>& channel, SimulatedDevice& device,
    SecureElement& secure_element, const EnrollmentOptions& options) {
  auto challenge = BeginEnrollment(channel, device);
  if (!challenge.ok()) return challenge.status();
  keyline::v1::EnrollmentResponse response;
  const grpc::Status status =
      Complete(channel, device, secure_element, *challenge, options, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }
  return response;
}

}  // namespace keyline::testing
