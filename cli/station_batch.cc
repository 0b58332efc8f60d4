#include "cli/station_batch.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/batching.h"
#include "cli/output.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"

namespace keyline::cli {
namespace {

// Adds the CSV lines of the batch, and the line of the entry the server names
// ("devices[12].csr: ..."), to a failed call's message.
absl::Status WithLines(const absl::Status& status, std::span<const StationDevice> batch) {
  std::string message = absl::StrCat("CSV lines ", batch.front().line, " to ", batch.back().line,
                                     ": ", status.message());
  const std::string_view text = AsStd(status.message());
  constexpr std::string_view kPrefix = "devices[";
  if (text.starts_with(kPrefix)) {
    size_t index = 0;
    const char* begin = text.data() + kPrefix.size();
    const auto [end, error] = std::from_chars(begin, text.data() + text.size(), index);
    if (error == std::errc() && end != begin && index < batch.size()) {
      absl::StrAppend(&message, " (CSV line ", batch[index].line, ", serial ",
                      batch[index].serial, ")");
    }
  }
  return absl::Status(status.code(), message);
}

absl::Status Failed(const std::string& path) {
  return absl::FailedPreconditionError(absl::StrCat(path, ": ", std::strerror(errno)));
}

// Like common/files.h's WriteFileAtomically (temporary file, rename) for a whole batch, made
// durable with one syncfs() instead of an fsync per file: thousands of fsyncs cost minutes on
// a factory PC's disk, and a certificate lost in a crash is fetched again by the next run.
absl::Status WriteFilesDurably(const std::string& directory,
                               const std::vector<std::pair<std::string, std::string>>& files) {
  for (const auto& [path, contents] : files) {
    const std::string temporary = absl::StrCat(path, ".tmp.", getpid());
    const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Failed(temporary);
    size_t written = 0;
    bool ok = fchmod(fd, 0644) == 0;
    while (ok && written < contents.size()) {
      const ssize_t n = write(fd, contents.data() + written, contents.size() - written);
      if (n < 0 && errno == EINTR) continue;
      ok = n > 0;
      if (ok) written += static_cast<size_t>(n);
    }
    const int saved_errno = errno;
    close(fd);
    if (!ok || rename(temporary.c_str(), path.c_str()) != 0) {
      if (!ok) errno = saved_errno;
      const absl::Status status = Failed(path);
      unlink(temporary.c_str());
      return status;
    }
  }
  const int directory_fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory_fd < 0) return Failed(directory);
  const bool synced = syncfs(directory_fd) == 0;
  close(directory_fd);
  return synced ? absl::OkStatus() : Failed(directory);
}

template <typename Send>
StationRun RunBatches(std::span<const StationDevice> devices, size_t batch_size,
                      Progress& progress, const Send& send) {
  const auto start = std::chrono::steady_clock::now();
  StationRun run;
  run.totals.devices = devices.size();
  run.status = ForEachBatch(
      devices.size(), batch_size,
      [&](const BatchRange& range) {
        const auto batch = devices.subspan(range.begin, range.size());
        if (absl::Status status = send(batch, run.totals); !status.ok()) {
          return WithLines(status, batch);
        }
        run.totals.sent += batch.size();
        ++run.totals.batches;
        return absl::OkStatus();
      },
      &progress);
  progress.Finish();
  run.totals.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

}  // namespace

std::string AttestationCertificatePath(const std::string& out_directory,
                                       const std::string& serial) {
  return absl::StrCat(out_directory, "/", serial, ".crt");
}

StationRun IssueAttestationInBatches(std::span<const StationDevice> devices,
                                     const std::string& manufacturer, size_t batch_size,
                                     const std::string& out_directory,
                                     const IssueAttestationCall& call, Progress& progress) {
  return RunBatches(
      devices, batch_size, progress,
      [&](std::span<const StationDevice> batch, StationTotals& totals) -> absl::Status {
        keyline::v1::IssueAttestationCertificatesRequest request;
        request.set_manufacturer(manufacturer);
        for (const StationDevice& device : batch) {
          auto* entry = request.add_devices();
          entry->set_device_serial(device.serial);
          entry->set_hardware_model(device.model);
          entry->set_csr(device.csr_der);
        }
        KEYLINE_ASSIGN_OR_RETURN(const auto response, call(request));
        if (static_cast<size_t>(response.certificates_size()) != batch.size()) {
          return absl::InternalError(absl::StrCat("the server returned ",
                                                  response.certificates_size(),
                                                  " certificates for ", batch.size(), " devices"));
        }
        std::vector<std::pair<std::string, std::string>> files;
        files.reserve(batch.size());
        for (size_t i = 0; i < batch.size(); ++i) {
          files.emplace_back(AttestationCertificatePath(out_directory, batch[i].serial),
                             CertificateChainPem(response.certificates(static_cast<int>(i))));
        }
        // Keyline has committed the batch: it counts as registered whatever happens to the files.
        totals.newly_registered += response.newly_registered();
        totals.already_registered +=
            static_cast<int64_t>(batch.size()) - response.newly_registered();
        if (absl::Status written = WriteFilesDurably(out_directory, files); !written.ok()) {
          return absl::Status(
              written.code(),
              absl::StrCat("registered by Keyline, but the certificate files were not written (",
                           written.message(),
                           "); run again with the same CSV to write them: Keyline answers the "
                           "same certificates"));
        }
        return absl::OkStatus();
      });
}

StationRun RegisterExternalInBatches(std::span<const StationDevice> devices,
                                     const std::string& manufacturer, size_t batch_size,
                                     const RegisterDevicesCall& call, Progress& progress) {
  return RunBatches(
      devices, batch_size, progress,
      [&](std::span<const StationDevice> batch, StationTotals& totals) -> absl::Status {
        keyline::v1::RegisterDevicesRequest request;
        request.set_manufacturer(manufacturer);
        for (const StationDevice& device : batch) {
          auto* entry = request.add_devices();
          entry->set_device_serial(device.serial);
          entry->set_hardware_model(device.model);
          for (const std::string& der : device.chain_der) entry->add_attestation_chain(der);
        }
        KEYLINE_ASSIGN_OR_RETURN(const auto response, call(request));
        totals.newly_registered += response.newly_registered();
        totals.already_registered += response.unchanged();
        return absl::OkStatus();
      });
}

}  // namespace keyline::cli
