#include "tests/support/fleet.h"

#include <chrono>
#include <cstdio>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "ca/software_key.h"

namespace keyline::testing {
namespace {

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  return context;
}

}  // namespace

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

absl::StatusOr<std::unique_ptr<Fleet>> Fleet::Create(const KeylineEnvironment::Options& options,
                                                     const std::string& secure_element_label) {
  std::unique_ptr<Fleet> fleet(new Fleet());
  auto environment = KeylineEnvironment::Create(options);
  if (!environment.ok()) return environment.status();
  fleet->environment_ = *std::move(environment);
  if (auto status = fleet->environment_->StartServer(); !status.ok()) return status;
  auto factory = fleet->environment_->IssueOperator("factory", "line-1");
  if (!factory.ok()) return factory.status();
  fleet->factory_ = *factory;
  auto gateway = fleet->environment_->IssueOperator("gateway", "ward-gw-1");
  if (!gateway.ok()) return gateway.status();
  fleet->gateway_ = *gateway;
  auto secure_element = SecureElement::Create(secure_element_label);
  if (!secure_element.ok()) return secure_element.status();
  fleet->secure_element_ = *std::move(secure_element);
  return fleet;
}

absl::StatusOr<std::vector<SimulatedDevice>> Fleet::Manufacture(const std::string& prefix,
                                                                int count) {
  std::vector<SimulatedDevice> devices(static_cast<size_t>(count));
  keyline::v1::IssueAttestationCertificatesRequest request;
  request.set_manufacturer("keyline");
  for (int i = 0; i < count; ++i) {
    SimulatedDevice& device = devices[static_cast<size_t>(i)];
    device.serial = absl::StrFormat("%s-%04d", prefix, i);
    auto csr = AttestationCsr(device, *secure_element_);
    if (!csr.ok()) return csr.status();
    auto* entry = request.add_devices();
    entry->set_device_serial(device.serial);
    entry->set_hardware_model(device.hardware_model);
    entry->set_csr(*csr);
  }
  keyline::v1::IssueAttestationCertificatesResponse response;
  auto context = Context();
  const grpc::Status status = keyline::v1::FactoryService::NewStub(Factory())
                                  ->IssueAttestationCertificates(context.get(), request, &response);
  if (!status.ok()) return FromGrpc(status);
  if (response.certificates_size() != count) {
    return absl::InternalError("factory answered a different number of certificates");
  }
  for (int i = 0; i < count; ++i) {
    const auto& issued = response.certificates(i);
    SimulatedDevice& device = devices[static_cast<size_t>(i)];
    device.attestation_chain.push_back(issued.certificate());
    device.issuer_chain.assign(issued.chain().begin(), issued.chain().end());
    // The manufacturer CA (the anchor) is not sent: chains stop below it.
  }
  return devices;
}

absl::StatusOr<std::vector<SimulatedDevice>> Fleet::ManufactureAndClaim(
    const std::string& prefix, int count, const std::string& deployment) {
  auto devices = Manufacture(prefix, count);
  if (!devices.ok()) return devices.status();
  if (absl::Status claimed = Claim(*devices, deployment); !claimed.ok()) return claimed;
  return devices;
}

absl::Status Fleet::Claim(const std::vector<SimulatedDevice>& devices,
                          const std::string& deployment) {
  keyline::v1::ClaimDevicesRequest request;
  request.set_deployment(deployment);
  for (const auto& device : devices) request.add_device_serials(device.serial);
  keyline::v1::ClaimDevicesResponse response;
  auto context = Context();
  return FromGrpc(
      keyline::v1::AdminService::NewStub(Admin())->ClaimDevices(context.get(), request, &response));
}

absl::StatusOr<keyline::v1::Device> Fleet::Describe(const std::string& serial) {
  keyline::v1::GetDeviceRequest request;
  request.set_device_serial(serial);
  keyline::v1::Device device;
  auto context = Context();
  const grpc::Status status =
      keyline::v1::AdminService::NewStub(Admin())->GetDevice(context.get(), request, &device);
  if (!status.ok()) return FromGrpc(status);
  return device;
}

absl::StatusOr<keyline::v1::Device> Fleet::Decommission(const std::string& serial,
                                                        const std::string& reason) {
  keyline::v1::DecommissionDeviceRequest request;
  request.set_device_serial(serial);
  request.set_reason(reason);
  keyline::v1::Device device;
  auto context = Context();
  const grpc::Status status = keyline::v1::AdminService::NewStub(Admin())->DecommissionDevice(
      context.get(), request, &device);
  if (!status.ok()) return FromGrpc(status);
  return device;
}

bool Fleet::WaitForALockWait(absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  while (Count("SELECT count(*) FROM pg_locks WHERE NOT granted") == 0) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

int64_t Fleet::Count(const std::string& sql) const {
  pqxx::connection connection(environment_->database().owner_url);
  pqxx::work transaction(connection);
  return transaction.exec1(sql)[0].as<int64_t>();
}

std::shared_ptr<grpc::Channel> Fleet::Device(const SimulatedDevice& device,
                                             const keyline::v1::IssuedCertificate& issued) const {
  return environment_->ChannelWithPem(PresentedChainPem(issued),
                                      *ca::PrivateKeyToPem(device.deployment_key->public_key()));
}

}  // namespace keyline::testing
