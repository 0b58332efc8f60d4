// A Keyline with a fleet to test enrollment against: a running keyline-server (subprocess), a
// simulated secure-element token, factory and gateway credentials, and helpers that manufacture
// devices (attestation certificates from the hosted manufacturer "keyline") and claim them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "keyline/v1/admin.grpc.pb.h"
#include "keyline/v1/factory.grpc.pb.h"
#include "tests/support/keyline_environment.h"
#include "tests/support/simulated_device.h"

namespace keyline::testing {

class Fleet {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Fleet>> Create(
      const KeylineEnvironment::Options& options, const std::string& secure_element_label);

  KeylineEnvironment& environment() { return *environment_; }
  SecureElement& secure_element() { return *secure_element_; }
  const OperatorCredential& factory() const { return factory_; }
  const OperatorCredential& gateway() const { return gateway_; }

  std::shared_ptr<grpc::Channel> Anonymous() const { return environment_->Channel(std::nullopt); }
  std::shared_ptr<grpc::Channel> Admin() const { return environment_->Channel(environment_->admin()); }
  std::shared_ptr<grpc::Channel> Factory() const { return environment_->Channel(factory_); }
  std::shared_ptr<grpc::Channel> Gateway() const { return environment_->Channel(gateway_); }
  // The enrolled device, presenting `issued` with its deployment key (enrolled with
  // EnrollmentOptions::software_deployment_key: gRPC takes a PEM key).
  std::shared_ptr<grpc::Channel> Device(const SimulatedDevice& device,
                                        const keyline::v1::IssuedCertificate& issued) const;

  // `count` devices named <prefix>-0000..., registered through FactoryService with attestation
  // keys in the secure element.
  [[nodiscard]] absl::StatusOr<std::vector<SimulatedDevice>> Manufacture(const std::string& prefix,
                                                                         int count);
  [[nodiscard]] absl::Status Claim(const std::vector<SimulatedDevice>& devices,
                                   const std::string& deployment = "default");
  // Manufacture, then Claim for `deployment`.
  [[nodiscard]] absl::StatusOr<std::vector<SimulatedDevice>> ManufactureAndClaim(
      const std::string& prefix, int count, const std::string& deployment = "default");
  // Device state as the admin API reports it.
  [[nodiscard]] absl::StatusOr<keyline::v1::Device> Describe(const std::string& serial);
  // AdminService.DecommissionDevice as the admin; the device as it is afterwards.
  [[nodiscard]] absl::StatusOr<keyline::v1::Device> Decommission(const std::string& serial,
                                                                 const std::string& reason);

  // A single number from SQL run as the database owner.
  int64_t Count(const std::string& sql) const;
  // True once some session of the cluster waits for a lock (pg_locks holds a request not granted),
  // false after `timeout`: a test holding a lock knows the server's transaction now waits for it.
  bool WaitForALockWait(absl::Duration timeout = absl::Seconds(30)) const;

 private:
  Fleet() = default;
  std::unique_ptr<KeylineEnvironment> environment_;
  std::unique_ptr<SecureElement> secure_element_;
  OperatorCredential factory_;
  OperatorCredential gateway_;
};

// grpc::Status -> absl::Status, same code and message.
absl::Status FromGrpc(const grpc::Status& status);

}  // namespace keyline::testing
