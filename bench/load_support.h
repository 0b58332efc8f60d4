// What the load generators of bench/ share: dying with a message (they are tools, not services),
// gRPC channels that are separate HTTP/2 connections, percentiles, and the PEM CSR file the wrk
// script of the cfssl peer reads (bench/cfssl/sign.lua).
//
// Meant for the setup and reporting phases of a load generator, not its measured phase. Die may
// be called from any thread; SetProgramName only at the start of main.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/status/statusor.h"
#include "common/absl_compat.h"

namespace keyline::bench {

// Every message starts with "<program>: ". Set once at the start of main.
void SetProgramName(std::string name);

// Prints "<program>: <message>" to stderr and exits with status 2 (setup failed: no figure).
[[noreturn]] void Die(const std::string& message);

template <typename T>
T ValueOrDie(absl::StatusOr<T> value, const std::string& what) {
  if (!value.ok()) Die(what + ": " + std::string(AsStd(value.status().message())));
  return *std::move(value);
}

inline void OkOrDie(const absl::Status& status, const std::string& what) {
  if (!status.ok()) Die(what + ": " + std::string(AsStd(status.message())));
}

// Files named by the caller; dies naming the file when one cannot be read.
std::string ReadFileOrDie(const std::string& path);

// TLS credentials trusting `ca_file`; with `cert_file` and `key_file` also a client certificate
// (mTLS), without them none (a device on first contact). Call RequireTls13ForThisProcess first.
std::shared_ptr<grpc::ChannelCredentials> TlsCredentials(const std::string& ca_file,
                                                         const std::string& cert_file = "",
                                                         const std::string& key_file = "");

// `count` channels to `target`, each its own HTTP/2 connection (a distinct channel argument and a
// private subchannel pool), connected before this returns. Responses of any size are accepted.
std::vector<std::shared_ptr<grpc::Channel>> ConnectedChannels(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    int count);

// The value below which `fraction` of the sorted latencies lie, in milliseconds; 0 when empty.
double PercentileMs(const std::vector<uint32_t>& sorted_us, double fraction);

// DER PKCS#10 requests written as concatenated PEM, mode 0644.
void WriteCsrPems(const std::vector<std::string>& csrs, const std::string& path);

// A whole number of the clock's ticks from a number of seconds.
inline std::chrono::steady_clock::duration Seconds(double seconds) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(seconds));
}

}  // namespace keyline::bench
