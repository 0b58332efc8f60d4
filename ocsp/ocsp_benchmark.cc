// Timing of the OCSP engine with a software signing key (no HSM): the Answer() hot path, fresh
// nonce signing and pre-signing rates, and the memory a full cache takes.
//   ocsp_benchmark [--threads=N] [--fill=N] [--nonce-only]
// Prints figures; asserts nothing (the unit tests do that).
#include <openssl/ocsp.h>

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

#include "ca/serial_number.h"
#include "common/openssl_ptr.h"
#include "ocsp/ocsp_responder.h"
#include "ocsp/testing/request_builder.h"
#include "ocsp/testing/test_pki.h"

namespace keyline::ocsp {
namespace {

// Every serial is good: the cache fills with full-validity answers.
class AllGood : public StatusSource {
 public:
  absl::StatusOr<CertificateStatus> Lookup(const OcspIssuer&, std::string_view) const override {
    return CertificateStatus{CertificateStatus::Kind::kGood, {}, {}};
  }
};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

long ResidentKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

// A request for a random serial of the PKI's CA (no certificate needed for a CertID).
std::string RandomSerialRequest(const testing::TestPki& pki) {
  const std::string serial = *ca::GenerateSerial();
  Asn1IntegerPtr integer = ca::SerialToAsn1Integer(serial);
  OcspRequestPtr request(OCSP_REQUEST_new());
  OCSP_request_add0_id(request.get(), OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(pki.ca()),
                                                       X509_get0_pubkey_bitstr(pki.ca()),
                                                       integer.get()));
  unsigned char* der = nullptr;
  const int length = i2d_OCSP_REQUEST(request.get(), &der);
  std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return bytes;
}

double ProcessCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

struct Measured {
  double per_second;     // wall clock: depends on what else runs on the machine
  double cpu_us_per_call;  // CPU time of this process per call: does not
};

// Runs `work(iteration)` (returning the answer's size) on `threads` threads for about `seconds`.
template <typename Work>
Measured Rate(int threads, double seconds, Work work) {
  const double cpu_start = ProcessCpuSeconds();
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> bytes{0};
  std::vector<std::thread> pool;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      uint64_t local = 0;
      uint64_t local_bytes = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        for (int i = 0; i < 64; ++i) local_bytes += work(local++);
      }
      calls.fetch_add(local);
      bytes.fetch_add(local_bytes);
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop.store(true);
  for (auto& thread : pool) thread.join();
  const double count = static_cast<double>(std::max<uint64_t>(1, calls.load()));
  return {count / Seconds(start), (ProcessCpuSeconds() - cpu_start) * 1e6 / count};
}

int Main(int argc, char** argv) {
  int threads = 2;
  size_t fill = 0;
  bool nonce_only = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) threads = std::atoi(argv[i] + 10);
    if (std::strncmp(argv[i], "--fill=", 7) == 0) fill = std::strtoul(argv[i] + 7, nullptr, 10);
    if (std::strcmp(argv[i], "--nonce-only") == 0) nonce_only = true;
  }
  auto pki = testing::TestPki::Create();
  if (!pki.ok()) {
    std::fprintf(stderr, "pki: %s\n", std::string(pki.status().message()).c_str());
    return 1;
  }
  OcspResponderOptions options;
  if (fill > options.max_cached_responses) {
    options.max_cached_responses = fill;
    options.max_hot_requests = fill;
  }
  auto responder = OcspResponder::New(options, std::make_shared<AllGood>());
  if (!responder.ok()) return 1;
  (*responder)->AddIssuer((*pki)->issuer());
  OcspResponder& engine = **responder;
  const absl::Time now = absl::Now();

  std::vector<std::string> requests;
  for (int i = 0; i < 1024; ++i) requests.push_back(RandomSerialRequest(**pki));
  for (const auto& request : requests) engine.Answer(request, now);  // pre-sign

  // Hot path: one thread, the same request; then `threads` threads over 1024 requests.
  const int kIterations = nonce_only ? 1 : 2'000'000;
  auto start = std::chrono::steady_clock::now();
  size_t bytes = 0;
  for (int i = 0; i < kIterations; ++i) bytes += engine.Answer(requests[0], now).body->size();
  const double hot_ns = Seconds(start) * 1e9 / kIterations;
  const double hot_seconds = nonce_only ? 0.0 : 1.0;
  const Measured hot_rate = Rate(threads, hot_seconds, [&](uint64_t i) {
    return engine.Answer(requests[i & 1023], now).body->size();
  });
  const Measured same_rate = Rate(threads, hot_seconds, [&](uint64_t) {
    return engine.Answer(requests[0], now).body->size();
  });

  // Fresh signing: nonce requests (parse, lookup, sign, encode, ETag-less answer).
  std::vector<std::string> nonce_requests;
  {
    auto leaf = (*pki)->IssueLeaf("bench");
    for (int i = 0; i < 64; ++i) {
      nonce_requests.push_back(*testing::MakeOcspRequest(
          {leaf->certificate.get()}, (*pki)->ca(), EVP_sha1(), std::string(32, static_cast<char>(i))));
    }
  }
  const Measured nonce_one = Rate(1, 2.0, [&](uint64_t i) {
    return engine.Answer(nonce_requests[i & 63], now).body->size();
  });
  const Measured nonce_all = Rate(threads, 2.0, [&](uint64_t i) {
    return engine.Answer(nonce_requests[i & 63], now).body->size();
  });

  std::printf("Answer() hot path, 1 thread, same request: %.0f ns/answer\n", hot_ns);
  const auto print = [](const char* what, int count, const Measured& measured) {
    std::printf("%-48s %d thread(s): %9.0f answers/s, %8.2f CPU-us/answer\n", what, count,
                measured.per_second, measured.cpu_us_per_call);
  };
  print("Answer() hot path, 1024 requests", threads, hot_rate);
  print("Answer() hot path, same request", threads, same_rate);
  print("nonce answers (fresh signature)", 1, nonce_one);
  print("nonce answers (fresh signature)", threads, nonce_all);

  if (fill > 0) {
    const long before = ResidentKiB();
    std::vector<std::string> filler;
    filler.reserve(fill);
    for (size_t i = 0; i < fill; ++i) filler.push_back(RandomSerialRequest(**pki));
    start = std::chrono::steady_clock::now();
    std::atomic<size_t> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        for (size_t i = next++; i < fill; i = next++) engine.Answer(filler[i], now);
      });
    }
    for (auto& thread : pool) thread.join();
    const double elapsed = Seconds(start);
    filler.clear();
    filler.shrink_to_fit();
    const auto stats = engine.stats();
    std::printf("pre-signed %zu responses on %d threads: %.0f/s\n", fill, threads,
                static_cast<double>(fill) / elapsed);
    std::printf("cache: %zu responses, %zu hot requests; RSS %ld MiB before, %ld MiB after "
                "(%.0f bytes per cached response incl. hot entry)\n",
                stats.cached_responses, stats.hot_requests, before / 1024,
                ResidentKiB() / 1024,
                static_cast<double>(ResidentKiB() - before) * 1024 /
                    static_cast<double>(stats.cached_responses));
  }
  return bytes == 0 ? 1 : 0;
}

}  // namespace
}  // namespace keyline::ocsp

int main(int argc, char** argv) { return keyline::ocsp::Main(argc, argv); }
