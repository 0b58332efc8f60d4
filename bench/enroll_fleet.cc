#include "bench/enroll_fleet.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <mutex>
#include <thread>

#include <grpcpp/client_context.h>
#include <openssl/sha.h>

#include "bench/load_support.h"
#include "ca/csr_builder.h"
#include "ca/software_key.h"
#include "keyline/v1/admin.grpc.pb.h"
#include "keyline/v1/factory.grpc.pb.h"

namespace keyline::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Batches go out two at a time: the server signs one batch's certificates while the next one is
// parsed and checked.
constexpr int kBatchesInFlight = 2;

std::string Serial(const std::string& prefix, int index) {
  char number[16];
  std::snprintf(number, sizeof number, "%06d", index);
  return prefix + "-" + number;
}

std::string Sha256(const std::string& data) {
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
}

std::unique_ptr<ca::testing::SoftwareSigningKey> NewKey() {
  return ca::testing::SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
}

// Runs work(index) for every index in [0, count) on `threads` threads.
void ParallelFor(int count, int threads, const std::function<void(int)>& work) {
  std::atomic<int> next{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < std::max(1, threads); ++t) {
    workers.emplace_back([&] {
      for (int i = next.fetch_add(1); i < count; i = next.fetch_add(1)) work(i);
    });
  }
  for (auto& worker : workers) worker.join();
}

// Calls send(first, last) for consecutive slices of at most batch_size devices, kBatchesInFlight
// at a time, and reports progress as `what`.
void InBatches(size_t count, int batch_size, const std::string& what,
               const std::function<void(size_t, size_t)>& send) {
  const size_t batch = static_cast<size_t>(batch_size);
  const size_t batches = (count + batch - 1) / batch;
  const Clock::time_point started = Clock::now();
  std::atomic<size_t> done{0};
  std::mutex progress;
  ParallelFor(static_cast<int>(batches), kBatchesInFlight, [&](int index) {
    const size_t first = static_cast<size_t>(index) * batch;
    const size_t last = std::min(count, first + batch);
    send(first, last);
    const size_t total = done.fetch_add(last - first) + (last - first);
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    std::lock_guard<std::mutex> lock(progress);
    std::fprintf(stderr, "enroll_load: %s %zu/%zu devices (%.0f/s)\n", what.c_str(), total, count,
                 static_cast<double>(total) / seconds);
  });
}

std::unique_ptr<grpc::ClientContext> BatchContext() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
  return context;
}

std::string Describe(const grpc::Status& status) {
  return std::to_string(status.error_code()) + ": " + status.error_message();
}

}  // namespace

std::vector<BenchDevice> MakeDevices(int count, const std::string& prefix, int threads) {
  std::vector<BenchDevice> devices(static_cast<size_t>(count));
  ParallelFor(count, threads, [&](int index) {
    BenchDevice& device = devices[static_cast<size_t>(index)];
    device.serial = Serial(prefix, index);
    device.attestation_key = NewKey();
    device.attestation_csr =
        ValueOrDie(ca::CreateCsrWithKey(*device.attestation_key, device.serial), "attestation CSR");
    // The deployment key itself is not kept: the load generator never uses the certificate.
    const auto deployment_key = NewKey();
    device.deployment_csr =
        ValueOrDie(ca::CreateCsrWithKey(*deployment_key, device.serial), "deployment CSR");
    device.deployment_key_sha256 = Sha256(ValueOrDie(
        ca::PublicKeyToDer(deployment_key->public_key()), "deployment key SubjectPublicKeyInfo"));
  });
  return devices;
}

std::vector<std::string> MakeDeploymentCsrs(int count, const std::string& prefix) {
  std::vector<std::string> csrs;
  for (int i = 0; i < count; ++i) {
    csrs.push_back(ValueOrDie(ca::CreateCsrWithKey(*NewKey(), Serial(prefix, i)), "CSR"));
  }
  return csrs;
}

void RegisterDevices(const std::shared_ptr<grpc::Channel>& factory, const std::string& manufacturer,
                     const std::string& hardware_model, int batch_size,
                     std::vector<BenchDevice>& devices) {
  const auto stub = keyline::v1::FactoryService::NewStub(factory);
  InBatches(devices.size(), batch_size, "registered", [&](size_t first, size_t last) {
    keyline::v1::IssueAttestationCertificatesRequest request;
    request.set_manufacturer(manufacturer);
    for (size_t i = first; i < last; ++i) {
      auto* entry = request.add_devices();
      entry->set_device_serial(devices[i].serial);
      entry->set_hardware_model(hardware_model);
      entry->set_csr(devices[i].attestation_csr);
    }
    keyline::v1::IssueAttestationCertificatesResponse response;
    const auto context = BatchContext();
    const grpc::Status status = stub->IssueAttestationCertificates(context.get(), request, &response);
    if (!status.ok()) Die("FactoryService.IssueAttestationCertificates: " + Describe(status));
    if (static_cast<size_t>(response.certificates_size()) != last - first) {
      Die("FactoryService.IssueAttestationCertificates: " +
          std::to_string(response.certificates_size()) + " certificates for " +
          std::to_string(last - first) + " devices");
    }
    for (size_t i = first; i < last; ++i) {
      // The manufacturer CA is the trust anchor: the chain a device sends stops below it.
      devices[i].attestation_certificate =
          response.certificates(static_cast<int>(i - first)).certificate();
      devices[i].attestation_csr.clear();
    }
  });
}

void ClaimDevices(const std::shared_ptr<grpc::Channel>& admin, const std::string& deployment,
                  int batch_size, const std::vector<BenchDevice>& devices) {
  const auto stub = keyline::v1::AdminService::NewStub(admin);
  InBatches(devices.size(), batch_size, "claimed", [&](size_t first, size_t last) {
    keyline::v1::ClaimDevicesRequest request;
    request.set_deployment(deployment);
    for (size_t i = first; i < last; ++i) request.add_device_serials(devices[i].serial);
    keyline::v1::ClaimDevicesResponse response;
    const auto context = BatchContext();
    const grpc::Status status = stub->ClaimDevices(context.get(), request, &response);
    if (!status.ok()) Die("AdminService.ClaimDevices: " + Describe(status));
    if (static_cast<size_t>(response.claimed()) != last - first) {
      Die("AdminService.ClaimDevices: " + std::to_string(response.claimed()) + " claimed of " +
          std::to_string(last - first) + " devices");
    }
  });
}

}  // namespace keyline::bench
