// keyline-station's registration run: the validated CSV (cli/station_csv.h) goes to
// FactoryService in batches of at most 5,000 devices. Each call is atomic and idempotent per
// device, so after a failure the batches before it stand and running the same CSV again is safe.
//
// The calls are passed in as functions so that tests run without a server.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/progress.h"
#include "cli/station_csv.h"
#include "keyline/v1/factory.pb.h"

namespace keyline::cli {

struct StationTotals {
  size_t devices = 0;             // in the CSV
  size_t sent = 0;                // in batches that went through
  int64_t newly_registered = 0;
  int64_t already_registered = 0;
  size_t batches = 0;             // that went through
  double seconds = 0;
};

// The result of a run: totals so far, and the first failure (OK when every batch went through).
// A failure names the batch, its CSV lines and, when the server names an entry
// ("devices[12]..."), that entry's CSV line.
struct StationRun {
  StationTotals totals;
  absl::Status status;
};

using IssueAttestationCall =
    std::function<absl::StatusOr<keyline::v1::IssueAttestationCertificatesResponse>(
        const keyline::v1::IssueAttestationCertificatesRequest&)>;
using RegisterDevicesCall = std::function<absl::StatusOr<keyline::v1::RegisterDevicesResponse>(
    const keyline::v1::RegisterDevicesRequest&)>;

// Attestation certificates from a Keyline-hosted manufacturer CA; each is written to
// <out_directory>/<serial>.crt (PEM, the certificate then the manufacturer CA chain without the
// root) as soon as its batch returns.
StationRun IssueAttestationInBatches(std::span<const StationDevice> devices,
                                     const std::string& manufacturer, size_t batch_size,
                                     const std::string& out_directory,
                                     const IssueAttestationCall& call, Progress& progress);

// Devices whose attestation chains come from an external vendor CA.
StationRun RegisterExternalInBatches(std::span<const StationDevice> devices,
                                     const std::string& manufacturer, size_t batch_size,
                                     const RegisterDevicesCall& call, Progress& progress);

// Where keyline-station writes a device's attestation certificate.
std::string AttestationCertificatePath(const std::string& out_directory,
                                       const std::string& serial);

}  // namespace keyline::cli
