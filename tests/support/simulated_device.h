// Devices for end-to-end tests: keys in a second SoftHSM2 token that stands for the devices'
// secure elements, and the device side of the enrollment protocol (BeginEnrollment, a fresh
// deployment key and CSR, the proof by the attestation key, CompleteEnrollment or Renew).
//
// The SoftHSM2 module is process-wide: use this only in test processes that do not also run a
// keyline-server in-process (its token lives under another SOFTHSM2_CONF).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>

#include "absl/status/statusor.h"
#include "hsm/token.h"
#include "keyline/v1/enrollment.grpc.pb.h"

namespace keyline::testing {

class SecureElement {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<SecureElement>> Create(
      const std::string& token_label);

  // A new P-256 key pair generated inside the token.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<hsm::SigningKey>> NewKey(const std::string& label);

 private:
  explicit SecureElement(std::unique_ptr<hsm::Token> token) : token_(std::move(token)) {}
  std::unique_ptr<hsm::Token> token_;
};

struct SimulatedDevice {
  std::string serial;
  std::string hardware_model = "StO2-Sensor R2";
  std::shared_ptr<hsm::SigningKey> attestation_key;  // shared by copies of one device
  std::vector<std::string> attestation_chain;  // DER, leaf first, once the factory issued it
  std::vector<std::string>
      issuer_chain;  // the factory's chain above the leaf, manufacturer CA first
  std::unique_ptr<hsm::SigningKey> deployment_key;  // after enrolling
};

struct EnrollmentOptions {
  std::string request_id;        // default: "<serial>-<random>"
  bool renew = false;            // Renew instead of CompleteEnrollment
  // The deployment key in memory instead of the secure element, so that the test can use it
  // for mTLS (gRPC takes a PEM key); ca::PrivateKeyToPem(device.deployment_key->public_key()).
  bool software_deployment_key = false;
  // Fault injection for rejection tests.
  std::string proof_nonce_override;   // sign this nonce instead of the challenge's
  bool sign_with_wrong_key_hash = false;
  bool csr_with_other_key = false;    // prove one key, request another
};

// The certificate followed by the intermediates above it (not the root), PEM: what a device
// presents over mTLS.
[[nodiscard]] std::string PresentedChainPem(const keyline::v1::IssuedCertificate& issued);

// A factory CSR for the device's attestation key (makes the key if it has none).
[[nodiscard]] absl::StatusOr<std::string> AttestationCsr(SimulatedDevice& device,
                                                         SecureElement& secure_element);

[[nodiscard]] absl::StatusOr<keyline::v1::Challenge> BeginEnrollment(
    const std::shared_ptr<grpc::Channel>& channel, const SimulatedDevice& device);

// Begin + Complete (or Renew). On success the new deployment key is kept in the device.
[[nodiscard]] absl::StatusOr<keyline::v1::EnrollmentResponse> Enroll(
    const std::shared_ptr<grpc::Channel>& channel, SimulatedDevice& device,
    SecureElement& secure_element, const EnrollmentOptions& options = {});

// Complete (or Renew) for a challenge the caller already has; exposes the gRPC status.
[[nodiscard]] grpc::Status Complete(const std::shared_ptr<grpc::Channel>& channel,
                                    SimulatedDevice& device, SecureElement& secure_element,
                                    const keyline::v1::Challenge& challenge,
                                    const EnrollmentOptions& options,
                                    keyline::v1::EnrollmentResponse* response);

}  // namespace keyline::testing
