// issuance_load: the Keyline half of bench/issuance. Keeps a fixed number of
// AdminService.IssueOperatorCertificate RPCs in flight over a few HTTP/2 connections (gRPC's
// completion-queue API, a couple of polling threads, not one thread per RPC), for a warm-up period
// and then a measured period, and prints one line of key=value results:
//
//   issuance_load: ok=N failed=N seconds=S certs_per_s=X p50_ms=X p99_ms=X total_ok=N total_failed=N
//
// ok/failed/latencies count RPCs that completed inside the measured window; total_* count every
// RPC of the run (warm-up and the drain after the window included), which is what the caller
// compares with the rows the database gained. Any failure makes the exit status 1: a run with
// failures is not a valid figure.
//
// With --csr-pem-out FILE it only writes --csr-count P-256 CSRs (PEM, concatenated) made the same
// way, so that the peer tools are loaded with the same kind of request, and exits.
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/support/async_unary_call.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/load_support.h"
#include "ca/software_key.h"
#include "common/mutex_deadlock_detection.h"
#include "common/tls_policy.h"
#include "keyline/v1/admin.grpc.pb.h"

namespace {

using keyline::bench::Die;
using keyline::bench::PercentileMs;
using keyline::bench::ValueOrDie;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string target = "localhost:8443";
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  int inflight = 128;
  int channels = 4;
  int threads = 2;
  double warmup_seconds = 3;
  double measure_seconds = 10;
  int csr_count = 256;
  std::string name_prefix = "bench-gw-";
  std::string csr_pem_out;
};

// P-256 keys and CSRs (DER), made before the clock starts so the load generator spends its CPU
// on RPCs, not on key generation.
std::vector<std::string> MakeCsrs(int count, const std::string& name_prefix) {
  std::vector<std::string> csrs;
  csrs.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    auto key = ValueOrDie(keyline::ca::GenerateSoftwareKey(keyline::ca::SoftwareKeyType::kEcP256),
                          "generating a P-256 key");
    csrs.push_back(ValueOrDie(keyline::ca::CreateCsr(key.get(), name_prefix + std::to_string(i)),
                              "creating a CSR"));
  }
  return csrs;
}

// One RPC: everything the completion queue hands back through the tag.
struct Call {
  grpc::ClientContext context;
  keyline::v1::IssueOperatorCertificateRequest request;
  keyline::v1::IssueOperatorCertificateResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<keyline::v1::IssueOperatorCertificateResponse>>
      reader;
  Clock::time_point started;
};

// What one polling thread saw.
struct Tally {
  uint64_t measured_ok = 0;
  uint64_t measured_failed = 0;
  uint64_t total_ok = 0;
  uint64_t total_failed = 0;
  std::vector<uint32_t> measured_latency_us;
  std::map<std::string, uint64_t> failures;  // "CODE: message" -> count
};

class LoadRunner {
 public:
  LoadRunner(const Options& options, std::vector<std::string> csrs,
             std::vector<std::unique_ptr<keyline::v1::AdminService::Stub>> stubs)
      : options_(options), csrs_(std::move(csrs)), stubs_(std::move(stubs)) {}

  // Runs the warm-up and the measured window, then waits for every RPC in flight to finish.
  std::vector<Tally> Run() {
    start_ = Clock::now();
    measure_begin_ = start_ + keyline::bench::Seconds(options_.warmup_seconds);
    measure_end_ = measure_begin_ + keyline::bench::Seconds(options_.measure_seconds);
    std::vector<Tally> tallies(static_cast<size_t>(options_.threads));
    std::vector<std::thread> threads;
    for (int t = 0; t < options_.threads; ++t) {
      threads.emplace_back([this, t, &tallies] { Poll(t, tallies[static_cast<size_t>(t)]); });
    }
    for (auto& thread : threads) thread.join();
    return tallies;
  }

 private:
  void Start(grpc::CompletionQueue* queue) {
    const uint64_t sequence = next_sequence_.fetch_add(1, std::memory_order_relaxed);
    auto* call = new Call;
    // Each RPC names a different gateway, as a fleet of gateways would.
    call->request.set_role(keyline::v1::ROLE_GATEWAY);
    call->request.set_name(options_.name_prefix + std::to_string(sequence));
    call->request.set_csr(csrs_[sequence % csrs_.size()]);
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    call->started = Clock::now();
    auto& stub = *stubs_[sequence % stubs_.size()];
    call->reader = stub.PrepareAsyncIssueOperatorCertificate(&call->context, call->request, queue);
    call->reader->StartCall();
    call->reader->Finish(&call->response, &call->status, call);
  }

  void Poll(int thread_index, Tally& tally) {
    grpc::CompletionQueue queue;
    // This thread's share of the RPCs kept in flight.
    int outstanding = options_.inflight / options_.threads +
                      (thread_index < options_.inflight % options_.threads ? 1 : 0);
    for (int i = 0; i < outstanding; ++i) Start(&queue);
    void* tag = nullptr;
    bool ok = false;
    while (outstanding > 0 && queue.Next(&tag, &ok)) {
      std::unique_ptr<Call> call(static_cast<Call*>(tag));
      const Clock::time_point now = Clock::now();
      const bool success = ok && call->status.ok() && !call->response.certificate().certificate().empty();
      const bool measured = now >= measure_begin_ && now < measure_end_;
      if (success) {
        ++tally.total_ok;
        if (measured) {
          ++tally.measured_ok;
          tally.measured_latency_us.push_back(static_cast<uint32_t>(
              std::chrono::duration_cast<std::chrono::microseconds>(now - call->started).count()));
        }
      } else {
        ++tally.total_failed;
        if (measured) ++tally.measured_failed;
        const std::string reason =
            !ok ? "completion queue: not ok"
                : call->status.ok() ? "OK but no certificate in the response"
                                    : std::to_string(call->status.error_code()) + ": " +
                                          call->status.error_message();
        ++tally.failures[reason];
      }
      if (now < measure_end_) {
        Start(&queue);
      } else {
        --outstanding;
      }
    }
    queue.Shutdown();
    while (queue.Next(&tag, &ok)) delete static_cast<Call*>(tag);
  }

  const Options& options_;
  const std::vector<std::string> csrs_;
  const std::vector<std::unique_ptr<keyline::v1::AdminService::Stub>> stubs_;
  std::atomic<uint64_t> next_sequence_{0};
  Clock::time_point start_;
  Clock::time_point measure_begin_;
  Clock::time_point measure_end_;
};

}  // namespace

int main(int argc, char** argv) {
  keyline::bench::SetProgramName("issuance_load");
  // Its CPU shares the two cores with the server: no debug lock graph here either.
  keyline::SkipMutexDeadlockDetectionInReleaseBuilds();
  Options options;
  CLI::App app{"issuance_load: IssueOperatorCertificate load against keyline-server"};
  app.add_option("--target", options.target, "host:port of keyline-server");
  app.add_option("--ca", options.ca_file, "PEM root certificate of the server's TLS certificate");
  app.add_option("--cert", options.cert_file, "PEM admin certificate chain");
  app.add_option("--key", options.key_file, "PEM admin private key");
  app.add_option("--inflight", options.inflight, "RPCs kept in flight")->check(CLI::Range(1, 100000));
  app.add_option("--channels", options.channels, "separate HTTP/2 connections")
      ->check(CLI::Range(1, 1024));
  app.add_option("--threads", options.threads, "completion-queue polling threads")
      ->check(CLI::Range(1, 256));
  app.add_option("--warmup", options.warmup_seconds, "warm-up seconds (not counted)")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--duration", options.measure_seconds, "measured seconds")
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--csr-count", options.csr_count, "distinct P-256 CSRs to cycle through")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--name-prefix", options.name_prefix, "operator names are this plus a counter");
  app.add_option("--csr-pem-out", options.csr_pem_out,
                 "only write --csr-count PEM CSRs to this file and exit");
  CLI11_PARSE(app, argc, argv);

  std::vector<std::string> csrs = MakeCsrs(options.csr_count, options.name_prefix);
  if (!options.csr_pem_out.empty()) {
    keyline::bench::WriteCsrPems(csrs, options.csr_pem_out);
    return 0;
  }
  if (options.ca_file.empty() || options.cert_file.empty() || options.key_file.empty()) {
    Die("--ca, --cert and --key are required");
  }
  options.threads = std::min(options.threads, options.inflight);

  if (auto status = keyline::RequireTls13ForThisProcess(); !status.ok()) {
    Die("TLS policy: " + std::string(keyline::AsStd(status.message())));
  }
  const auto credentials =
      keyline::bench::TlsCredentials(options.ca_file, options.cert_file, options.key_file);
  std::vector<std::unique_ptr<keyline::v1::AdminService::Stub>> stubs;
  for (const auto& channel :
       keyline::bench::ConnectedChannels(options.target, credentials, options.channels)) {
    stubs.push_back(keyline::v1::AdminService::NewStub(channel));
  }

  LoadRunner runner(options, std::move(csrs), std::move(stubs));
  std::vector<Tally> tallies = runner.Run();

  Tally total;
  for (auto& tally : tallies) {
    total.measured_ok += tally.measured_ok;
    total.measured_failed += tally.measured_failed;
    total.total_ok += tally.total_ok;
    total.total_failed += tally.total_failed;
    total.measured_latency_us.insert(total.measured_latency_us.end(),
                                     tally.measured_latency_us.begin(),
                                     tally.measured_latency_us.end());
    for (const auto& [reason, count] : tally.failures) total.failures[reason] += count;
  }
  std::sort(total.measured_latency_us.begin(), total.measured_latency_us.end());
  for (const auto& [reason, count] : total.failures) {
    std::cerr << "issuance_load: " << count << " failed RPCs: " << reason << "\n";
  }
  std::printf(
      "issuance_load: ok=%llu failed=%llu seconds=%.3f certs_per_s=%.1f p50_ms=%.2f p99_ms=%.2f "
      "total_ok=%llu total_failed=%llu inflight=%d channels=%d threads=%d\n",
      static_cast<unsigned long long>(total.measured_ok),
      static_cast<unsigned long long>(total.measured_failed), options.measure_seconds,
      static_cast<double>(total.measured_ok) / options.measure_seconds,
      PercentileMs(total.measured_latency_us, 0.50), PercentileMs(total.measured_latency_us, 0.99),
      static_cast<unsigned long long>(total.total_ok),
      static_cast<unsigned long long>(total.total_failed), options.inflight, options.channels,
      options.threads);
  return total.total_failed == 0 ? 0 : 1;
}
