// The devices bench/enroll enrolls, made before the clock starts: each has an attestation key
// ("keys are pre-made": a software P-256 key stands in for the secure element, since the
// benchmark measures the server), a deployment key's CSR and the SHA-256 of that key's
// SubjectPublicKeyInfo (what the proof binds), so that the measured phase only signs the proof.
//
// Registration and claims go through the same RPCs a factory line station and a security admin
// use (FactoryService.IssueAttestationCertificates, AdminService.ClaimDevices), in batches of at
// most 5,000 as the API allows.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>

#include "ca/testing/software_signing_key.h"

namespace keyline::bench {

struct BenchDevice {
  std::string serial;
  std::unique_ptr<ca::testing::SoftwareSigningKey> attestation_key;
  std::string attestation_csr;          // DER; cleared once registered
  std::string attestation_certificate;  // DER, from the factory RPC
  std::string deployment_csr;           // DER, CN=serial
  std::string deployment_key_sha256;    // SHA-256 of the deployment key's SPKI DER
};

// `count` devices named <prefix>-000000..., keys and CSRs made on `threads` threads.
std::vector<BenchDevice> MakeDevices(int count, const std::string& prefix, int threads);

// P-256 CSRs (DER) of the kind the devices send, for the peer tools.
std::vector<std::string> MakeDeploymentCsrs(int count, const std::string& prefix);

// Registers every device with the hosted `manufacturer` over `factory` (a channel with a factory
// operator's certificate) and stores each attestation certificate. Dies on any failure.
void RegisterDevices(const std::shared_ptr<grpc::Channel>& factory, const std::string& manufacturer,
                     const std::string& hardware_model, int batch_size,
                     std::vector<BenchDevice>& devices);

// Claims every device for `deployment` over `admin` (an admin's channel). Dies on any failure.
void ClaimDevices(const std::shared_ptr<grpc::Channel>& admin, const std::string& deployment,
                  int batch_size, const std::vector<BenchDevice>& devices);

}  // namespace keyline::bench
