// enroll_load: the Keyline half of bench/enroll. Full zero-touch enrollments against
// keyline-server, as devices on first contact do them: TLS without a client certificate,
// EnrollmentService.BeginEnrollment with the attestation chain, then CompleteEnrollment with a
// pre-made deployment CSR and the proof (the attestation key's ECDSA signature over the proof
// message, provisioning/enrollment_proof.h).
//
// Setup (not measured): makes --devices devices (enroll_fleet.h), registers them as a factory
// station (FactoryService.IssueAttestationCertificates) and claims them for --deployment as an
// admin (AdminService.ClaimDevices). Every enrollment uses a device that has not enrolled before
// in the run; running out of devices before the measured window ends invalidates the figure.
//
// Measured phase: keeps --inflight enrollments in flight over --channels HTTP/2 connections
// (gRPC's completion-queue API, --threads polling threads), for a warm-up period and then a
// measured period. The latency of an enrollment runs from sending BeginEnrollment to the answer
// of CompleteEnrollment, the device's proof signature included. Prints one line of key=value
// results:
//
//   enroll_load: ok=N failed=N seconds=S enrollments_per_s=X p50_ms=X p99_ms=X total_ok=N
//                total_failed=N devices_registered=N devices_used=N devices_ran_out=0|1 cpu_s=X ...
//
// ok/failed/latencies count enrollments that completed inside the measured window; total_* count
// every enrollment of the run (warm-up and the drain after the window included), which is what the
// caller compares with the rows the database gained; cpu_s is this process's CPU time over the
// load phase only. Any failure makes the exit status 1: a run with failures is not a valid figure.
//
// With --ready-file FILE the load phase waits, after setup, until the process receives SIGUSR1;
// FILE is written when it is ready, so that the caller can start its CPU counters at the same
// moment. With --csr-pem-out FILE it only writes --csr-count P-256 CSRs (PEM) of the kind the
// devices send, for the peer tools, and exits.
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/support/async_unary_call.h>
#include <signal.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/enroll_fleet.h"
#include "bench/load_support.h"
#include "ca/x509_signing.h"
#include "common/files.h"
#include "common/mutex_deadlock_detection.h"
#include "common/tls_policy.h"
#include "keyline/v1/enrollment.grpc.pb.h"
#include "provisioning/enrollment_proof.h"

namespace {

using keyline::bench::BenchDevice;
using keyline::bench::Die;
using keyline::bench::PercentileMs;
using keyline::bench::ValueOrDie;
using Clock = std::chrono::steady_clock;
using EnrollmentStub = keyline::v1::EnrollmentService::Stub;

struct Options {
  std::string target = "localhost:8443";
  std::string ca_file;
  std::string admin_cert_file;
  std::string admin_key_file;
  std::string factory_cert_file;
  std::string factory_key_file;
  std::string manufacturer = "keyline";
  std::string deployment = "bench";
  std::string hardware_model = "StO2-Sensor-R2";
  std::string serial_prefix;
  int devices = 0;
  double expected_rate = 3000;
  int batch_size = 5000;
  int inflight = 64;
  int channels = 4;
  int threads = 1;
  int setup_threads = 0;
  double warmup_seconds = 3;
  double measure_seconds = 10;
  std::string ready_file;
  int csr_count = 256;
  std::string csr_pem_out;
};

// One enrollment: BeginEnrollment, then CompleteEnrollment on the same connection. The completion
// queue hands the whole object back as the tag of whichever RPC is under way.
struct Enrollment {
  const BenchDevice* device = nullptr;
  EnrollmentStub* stub = nullptr;
  bool completing = false;  // false: BeginEnrollment under way
  Clock::time_point started;
  Clock::time_point begin_answered;
  std::unique_ptr<grpc::ClientContext> context;
  grpc::Status status;
  keyline::v1::Challenge challenge;
  std::unique_ptr<grpc::ClientAsyncResponseReader<keyline::v1::Challenge>> begin_reader;
  keyline::v1::EnrollmentResponse response;
  std::unique_ptr<grpc::ClientAsyncResponseReader<keyline::v1::EnrollmentResponse>>
      complete_reader;
};

// What one polling thread saw.
struct Tally {
  uint64_t measured_ok = 0;
  uint64_t measured_failed = 0;
  uint64_t total_ok = 0;
  uint64_t total_failed = 0;
  std::vector<uint32_t> latency_us;           // whole enrollments in the measured window
  std::vector<uint32_t> begin_latency_us;     // their BeginEnrollment
  std::vector<uint32_t> complete_latency_us;  // their CompleteEnrollment
  std::map<std::string, uint64_t> failures;   // "RPC CODE: message" -> count

  void Add(const Tally& other) {
    measured_ok += other.measured_ok;
    measured_failed += other.measured_failed;
    total_ok += other.total_ok;
    total_failed += other.total_failed;
    latency_us.insert(latency_us.end(), other.latency_us.begin(), other.latency_us.end());
    begin_latency_us.insert(begin_latency_us.end(), other.begin_latency_us.begin(),
                            other.begin_latency_us.end());
    complete_latency_us.insert(complete_latency_us.end(), other.complete_latency_us.begin(),
                               other.complete_latency_us.end());
    for (const auto& [reason, count] : other.failures) failures[reason] += count;
  }
};

uint32_t Microseconds(Clock::duration duration) {
  return static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(duration).count());
}

std::unique_ptr<grpc::ClientContext> RpcContext() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return context;
}

class LoadRunner {
 public:
  LoadRunner(const Options& options, const std::vector<BenchDevice>& devices,
             std::vector<std::unique_ptr<EnrollmentStub>> stubs)
      : options_(options), devices_(devices), stubs_(std::move(stubs)) {}

  // Runs the warm-up and the measured window, then waits for every enrollment in flight.
  std::vector<Tally> Run() {
    measure_begin_ = Clock::now() + keyline::bench::Seconds(options_.warmup_seconds);
    measure_end_ = measure_begin_ + keyline::bench::Seconds(options_.measure_seconds);
    std::vector<Tally> tallies(static_cast<size_t>(options_.threads));
    std::vector<std::thread> threads;
    for (int t = 0; t < options_.threads; ++t) {
      threads.emplace_back([this, t, &tallies] { Poll(t, tallies[static_cast<size_t>(t)]); });
    }
    for (auto& thread : threads) thread.join();
    return tallies;
  }

  // Devices that began an enrollment (at most devices_.size()).
  size_t devices_used() const {
    return std::min(next_device_.load(std::memory_order_relaxed), devices_.size());
  }
  // Whether the devices ran out while the measured window was still open.
  bool ran_out_early() const { return ran_out_early_.load(std::memory_order_relaxed); }

 private:
  // Begins the enrollment of the next fresh device; false when none is left.
  bool Start(grpc::CompletionQueue* queue) {
    const size_t index = next_device_.fetch_add(1, std::memory_order_relaxed);
    if (index >= devices_.size()) {
      if (Clock::now() < measure_end_) ran_out_early_.store(true, std::memory_order_relaxed);
      return false;
    }
    auto* enrollment = new Enrollment;
    enrollment->device = &devices_[index];
    enrollment->stub = stubs_[index % stubs_.size()].get();
    keyline::v1::BeginEnrollmentRequest request;
    request.set_device_serial(enrollment->device->serial);
    request.add_attestation_chain(enrollment->device->attestation_certificate);
    enrollment->context = RpcContext();
    enrollment->started = Clock::now();
    enrollment->begin_reader =
        enrollment->stub->PrepareAsyncBeginEnrollment(enrollment->context.get(), request, queue);
    enrollment->begin_reader->StartCall();
    enrollment->begin_reader->Finish(&enrollment->challenge, &enrollment->status, enrollment);
    return true;
  }

  // The device's half of CompleteEnrollment: the proof over the challenge, then the RPC. An
  // empty string when it went out, else why not.
  std::string Complete(Enrollment& enrollment, grpc::CompletionQueue* queue) {
    const BenchDevice& device = *enrollment.device;
    auto message =
        keyline::provisioning::ProofMessage(keyline::provisioning::ProofPurpose::kEnroll,
                                            enrollment.challenge.nonce(), device.serial,
                                            device.deployment_key_sha256);
    if (!message.ok()) return "proof message: " + std::string(message.status().message());
    auto proof = keyline::ca::SignWithKey(*device.attestation_key, *message);
    if (!proof.ok()) return "proof: " + std::string(proof.status().message());
    keyline::v1::CompleteEnrollmentRequest request;
    request.set_challenge_id(enrollment.challenge.challenge_id());
    request.set_csr(device.deployment_csr);
    request.set_proof(*std::move(proof));
    request.set_request_id(device.serial + "-enroll");
    enrollment.completing = true;
    enrollment.context = RpcContext();
    enrollment.complete_reader =
        enrollment.stub->PrepareAsyncCompleteEnrollment(enrollment.context.get(), request, queue);
    enrollment.complete_reader->StartCall();
    enrollment.complete_reader->Finish(&enrollment.response, &enrollment.status, &enrollment);
    return "";
  }

  static std::string Failure(const char* rpc, bool ok, const grpc::Status& status) {
    if (!ok) return std::string(rpc) + ": completion queue: not ok";
    if (status.ok()) return std::string(rpc) + ": OK but no certificate in the response";
    return std::string(rpc) + " " + std::to_string(status.error_code()) + ": " +
           status.error_message();
  }

  void Poll(int thread_index, Tally& tally) {
    grpc::CompletionQueue queue;
    // This thread's share of the enrollments kept in flight.
    int outstanding = 0;
    const int share = options_.inflight / options_.threads +
                      (thread_index < options_.inflight % options_.threads ? 1 : 0);
    for (int i = 0; i < share && Start(&queue); ++i) ++outstanding;
    void* tag = nullptr;
    bool ok = false;
    while (outstanding > 0 && queue.Next(&tag, &ok)) {
      std::unique_ptr<Enrollment> enrollment(static_cast<Enrollment*>(tag));
      Clock::time_point now = Clock::now();
      std::string failure;
      if (!enrollment->completing) {
        enrollment->begin_answered = now;
        if (ok && enrollment->status.ok()) {
          failure = Complete(*enrollment, &queue);
          if (failure.empty()) {
            // The queue owns it again until CompleteEnrollment answers.
            static_cast<void>(enrollment.release());
            continue;
          }
          failure = "CompleteEnrollment: " + failure;
        } else {
          failure = Failure("BeginEnrollment", ok, enrollment->status);
        }
      } else if (!ok || !enrollment->status.ok() ||
                 enrollment->response.certificate().certificate().empty()) {
        failure = Failure("CompleteEnrollment", ok, enrollment->status);
      }
      const bool measured = now >= measure_begin_ && now < measure_end_;
      if (failure.empty()) {
        ++tally.total_ok;
        if (measured) {
          ++tally.measured_ok;
          tally.latency_us.push_back(Microseconds(now - enrollment->started));
          tally.begin_latency_us.push_back(
              Microseconds(enrollment->begin_answered - enrollment->started));
          tally.complete_latency_us.push_back(Microseconds(now - enrollment->begin_answered));
        }
      } else {
        ++tally.total_failed;
        if (measured) ++tally.measured_failed;
        ++tally.failures[failure];
      }
      if (now >= measure_end_ || !Start(&queue)) --outstanding;
    }
    queue.Shutdown();
    while (queue.Next(&tag, &ok)) delete static_cast<Enrollment*>(tag);
  }

  const Options& options_;
  const std::vector<BenchDevice>& devices_;
  const std::vector<std::unique_ptr<EnrollmentStub>> stubs_;
  std::atomic<size_t> next_device_{0};
  std::atomic<bool> ran_out_early_{false};
  Clock::time_point measure_begin_;
  Clock::time_point measure_end_;
};

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& time) {
    return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string RandomSerialPrefix() {
  std::random_device random;
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "bench-%08x", random());
  return prefix;
}

// Tells the caller (--ready-file) that setup is done and waits for its SIGUSR1. SIGUSR1 is blocked
// in every thread from the start of main, so it stays pending until sigwait takes it.
void WaitForStartSignal(const std::string& ready_file, const sigset_t& start_signal) {
  keyline::bench::OkOrDie(keyline::WriteFileAtomically(ready_file, "ready\n", 0644),
                          "writing " + ready_file);
  int received = 0;
  if (sigwait(&start_signal, &received) != 0) Die("waiting for SIGUSR1");
}

void AddOptions(CLI::App& app, Options& options) {
  app.add_option("--target", options.target, "host:port of keyline-server");
  app.add_option("--ca", options.ca_file, "PEM root certificate of the server's TLS certificate");
  app.add_option("--admin-cert", options.admin_cert_file, "PEM admin certificate (claims)");
  app.add_option("--admin-key", options.admin_key_file, "PEM admin private key");
  app.add_option("--factory-cert", options.factory_cert_file,
                 "PEM factory operator certificate (registration)");
  app.add_option("--factory-key", options.factory_key_file, "PEM factory operator private key");
  app.add_option("--manufacturer", options.manufacturer, "Keyline-hosted manufacturer");
  app.add_option("--deployment", options.deployment, "deployment that claims the devices");
  app.add_option("--hardware-model", options.hardware_model, "hardware model of the devices");
  app.add_option("--serial-prefix", options.serial_prefix,
                 "device serials are this plus a counter (default: bench-<random>)");
  app.add_option("--devices", options.devices,
                 "devices to register (default: enough for --expected-rate)")
      ->check(CLI::Range(0, 10000000));
  app.add_option("--expected-rate", options.expected_rate,
                 "enrollments/s to register devices for, with a 30% margin")
      ->check(CLI::Range(1.0, 1e6));
  app.add_option("--batch-size", options.batch_size, "devices per factory and claim RPC")
      ->check(CLI::Range(1, 5000));
  app.add_option("--inflight", options.inflight, "enrollments kept in flight")
      ->check(CLI::Range(1, 100000));
  app.add_option("--channels", options.channels, "separate HTTP/2 connections")
      ->check(CLI::Range(1, 1024));
  app.add_option("--threads", options.threads, "completion-queue polling threads")
      ->check(CLI::Range(1, 256));
  app.add_option("--setup-threads", options.setup_threads,
                 "threads making keys and CSRs (default: one per core)")
      ->check(CLI::Range(0, 256));
  app.add_option("--warmup", options.warmup_seconds, "warm-up seconds (not counted)")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--duration", options.measure_seconds, "measured seconds")
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--ready-file", options.ready_file,
                 "after setup, write this file and wait for SIGUSR1 before the load phase");
  app.add_option("--csr-count", options.csr_count, "CSRs for --csr-pem-out")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--csr-pem-out", options.csr_pem_out,
                 "only write --csr-count PEM CSRs of the devices' kind to this file and exit");
}

}  // namespace

int main(int argc, char** argv) {
  keyline::bench::SetProgramName("enroll_load");
  // Its CPU shares the two cores with the server: no debug lock graph here either.
  keyline::SkipMutexDeadlockDetectionInReleaseBuilds();
  // Before any thread exists, so that every thread inherits the mask (see WaitForStartSignal).
  sigset_t start_signal;
  sigemptyset(&start_signal);
  sigaddset(&start_signal, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &start_signal, nullptr);

  Options options;
  CLI::App app{"enroll_load: full enrollments (Begin + Complete) against keyline-server"};
  AddOptions(app, options);
  CLI11_PARSE(app, argc, argv);
  if (options.serial_prefix.empty()) options.serial_prefix = RandomSerialPrefix();
  if (!options.csr_pem_out.empty()) {
    keyline::bench::WriteCsrPems(
        keyline::bench::MakeDeploymentCsrs(options.csr_count, options.serial_prefix),
        options.csr_pem_out);
    return 0;
  }
  if (options.ca_file.empty() || options.admin_cert_file.empty() ||
      options.admin_key_file.empty() || options.factory_cert_file.empty() ||
      options.factory_key_file.empty()) {
    Die("--ca, --admin-cert, --admin-key, --factory-cert and --factory-key are required");
  }
  options.threads = std::min(options.threads, options.inflight);
  if (options.setup_threads == 0) {
    options.setup_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  if (options.devices == 0) {
    options.devices = static_cast<int>(options.expected_rate * 1.3 *
                                       (options.warmup_seconds + options.measure_seconds)) +
                      options.inflight;
  }
  if (auto status = keyline::RequireTls13ForThisProcess(); !status.ok()) {
    Die("TLS policy: " + std::string(keyline::AsStd(status.message())));
  }

  // Setup: not measured.
  const Clock::time_point setup_started = Clock::now();
  std::fprintf(stderr, "enroll_load: making %d devices (attestation key, deployment key, CSRs)\n",
               options.devices);
  std::vector<BenchDevice> devices = keyline::bench::MakeDevices(
      options.devices, options.serial_prefix, options.setup_threads);
  std::fprintf(stderr, "enroll_load: made in %.1f s\n", SecondsSince(setup_started));
  const auto factory = keyline::bench::ConnectedChannels(
      options.target,
      keyline::bench::TlsCredentials(options.ca_file, options.factory_cert_file,
                                     options.factory_key_file),
      1);
  keyline::bench::RegisterDevices(factory.front(), options.manufacturer, options.hardware_model,
                                  options.batch_size, devices);
  const auto admin = keyline::bench::ConnectedChannels(
      options.target,
      keyline::bench::TlsCredentials(options.ca_file, options.admin_cert_file,
                                     options.admin_key_file),
      1);
  keyline::bench::ClaimDevices(admin.front(), options.deployment, options.batch_size, devices);
  // Devices on first contact: TLS that checks the server, no client certificate.
  std::vector<std::unique_ptr<EnrollmentStub>> stubs;
  for (const auto& channel : keyline::bench::ConnectedChannels(
           options.target, keyline::bench::TlsCredentials(options.ca_file), options.channels)) {
    stubs.push_back(keyline::v1::EnrollmentService::NewStub(channel));
  }
  const double setup_seconds = SecondsSince(setup_started);
  std::fprintf(stderr, "enroll_load: setup took %.1f s\n", setup_seconds);
  if (!options.ready_file.empty()) WaitForStartSignal(options.ready_file, start_signal);

  // Load: measured.
  const double cpu_before = CpuSeconds();
  LoadRunner runner(options, devices, std::move(stubs));
  Tally total;
  for (const Tally& tally : runner.Run()) total.Add(tally);
  const double cpu_seconds = CpuSeconds() - cpu_before;

  for (auto* latencies : {&total.latency_us, &total.begin_latency_us, &total.complete_latency_us}) {
    std::sort(latencies->begin(), latencies->end());
  }
  for (const auto& [reason, count] : total.failures) {
    std::cerr << "enroll_load: " << count << " failed enrollments: " << reason << "\n";
  }
  if (runner.ran_out_early()) {
    std::cerr << "enroll_load: all " << devices.size()
              << " devices enrolled before the measured window ended: not a valid figure "
                 "(raise --devices or --expected-rate)\n";
  }
  std::printf(
      "enroll_load: ok=%llu failed=%llu seconds=%.3f enrollments_per_s=%.1f p50_ms=%.2f "
      "p99_ms=%.2f begin_p50_ms=%.2f begin_p99_ms=%.2f complete_p50_ms=%.2f complete_p99_ms=%.2f "
      "total_ok=%llu total_failed=%llu devices_registered=%zu devices_used=%zu devices_ran_out=%d "
      "inflight=%d "
      "channels=%d threads=%d cpu_s=%.2f setup_s=%.1f\n",
      static_cast<unsigned long long>(total.measured_ok),
      static_cast<unsigned long long>(total.measured_failed), options.measure_seconds,
      static_cast<double>(total.measured_ok) / options.measure_seconds,
      PercentileMs(total.latency_us, 0.50), PercentileMs(total.latency_us, 0.99),
      PercentileMs(total.begin_latency_us, 0.50), PercentileMs(total.begin_latency_us, 0.99),
      PercentileMs(total.complete_latency_us, 0.50), PercentileMs(total.complete_latency_us, 0.99),
      static_cast<unsigned long long>(total.total_ok),
      static_cast<unsigned long long>(total.total_failed), devices.size(), runner.devices_used(),
      runner.ran_out_early() ? 1 : 0, options.inflight, options.channels, options.threads, cpu_seconds, setup_seconds);
  return total.total_failed == 0 && !runner.ran_out_early() ? 0 : 1;
}
