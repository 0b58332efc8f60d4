// The CSV files a factory line station feeds keyline-station, validated in full before any call
// so that a bad line refuses the whole run and names its line number:
//
//   serial,model,csr_file      register: csr_file is the secure element's PKCS#10 request for
//                              its attestation key (DER or PEM)
//   serial,model,chain_file    register-external: chain_file is the vendor's PEM attestation
//                              chain, the device's certificate first
//
// The header line must be exactly one of these. Files are relative to the CSV's directory.
// Fields follow RFC 4180 (double quotes around a field that holds a comma, "" for a quote; no
// line breaks inside fields); whitespace around fields is dropped; blank lines are skipped;
// CRLF and a UTF-8 byte order mark are accepted. Each line is checked as keyline-server will
// check it (ca::ValidateDeviceSerial, ValidateHardwareModel, the CSR policy, the attestation
// chain's shape), and a serial or key that appears twice is refused.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace keyline::cli {

enum class StationCsvKind { kCsr, kChain };

struct StationDevice {
  size_t line = 0;  // 1-based line of the CSV (the header is line 1)
  std::string serial;
  std::string model;
  std::string csr_der;                 // kCsr
  std::vector<std::string> chain_der;  // kChain: the device's certificate first
};

// The fields of one CSV record. InvalidArgument for an unterminated or misplaced quote.
[[nodiscard]] absl::StatusOr<std::vector<std::string>> SplitCsvRecord(std::string_view line);

// `name` prefixes every error ("devices.csv:12: serial: ..."); files resolve against
// `base_directory`.
[[nodiscard]] absl::StatusOr<std::vector<StationDevice>> ParseStationCsv(
    std::string_view text, std::string_view name, const std::string& base_directory,
    StationCsvKind kind);

// Reads `path` and parses it, files relative to its directory.
[[nodiscard]] absl::StatusOr<std::vector<StationDevice>> ReadStationCsv(const std::string& path,
                                                                        StationCsvKind kind);

}  // namespace keyline::cli
