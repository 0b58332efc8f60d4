#include "cli/station_csv.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ca/certificate_der.h"
#include "ca/csr_policy.h"
#include "ca/device_identity.h"
#include "common/absl_compat.h"
#include "common/files.h"
#include "common/openssl_ptr.h"
#include "common/status_macros.h"

namespace keyline::cli {
namespace {

constexpr size_t kMaxCsvBytes = 256 << 20;
constexpr size_t kMaxChainFileBytes = 256 << 10;
// What keyline-server accepts in an attestation chain (provisioning/attestation_chain.h).
constexpr size_t kMaxChainLength = 8;
constexpr size_t kMaxCertificateBytes = 16 * 1024;

absl::Status LineError(std::string_view where, std::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(AsAbsl(where), ": ", AsAbsl(message)));
}

// A PEM certification request as DER; DER input is returned as it is.
absl::StatusOr<std::string> CsrDer(const std::string& contents, const std::string& field) {
  if (!absl::StrContains(contents, "-----BEGIN")) return contents;
  BioPtr bio(BIO_new_mem_buf(contents.data(), static_cast<int>(contents.size())));
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long length = 0;
  if (!bio || PEM_read_bio(bio.get(), &name, &header, &data, &length) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(field, ": not a PEM certification request"));
  }
  const std::string type = name;
  std::string der(reinterpret_cast<const char*>(data), static_cast<size_t>(length));
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  if (type != "CERTIFICATE REQUEST" && type != "NEW CERTIFICATE REQUEST") {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": PEM holds a ", type, ", not a CERTIFICATE REQUEST"));
  }
  return der;
}

std::string ResolvePath(const std::string& base_directory, const std::string& file) {
  const std::filesystem::path path(file);
  if (path.is_absolute() || base_directory.empty()) return file;
  return (std::filesystem::path(base_directory) / path).string();
}

// The attestation key's identity, to refuse one key for two devices.
absl::StatusOr<std::string> CsrKeyIdentity(const std::string& der, const std::string& field) {
  KEYLINE_ASSIGN_OR_RETURN(const ca::AcceptedCsr csr, ca::ParseAndCheckCsr(der, field));
  return csr.public_key.ToDer();
}

absl::StatusOr<std::vector<std::string>> ReadChain(const std::string& path,
                                                   const std::string& field) {
  KEYLINE_ASSIGN_OR_RETURN(const std::string pem, ReadFile(path, kMaxChainFileBytes));
  auto chain = ca::PemToDerChain(pem);
  if (!chain.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", chain.status().message()));
  }
  if (chain->size() > kMaxChainLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", chain->size(), " certificates, at most ", kMaxChainLength));
  }
  for (size_t i = 0; i < chain->size(); ++i) {
    if ((*chain)[i].size() > kMaxCertificateBytes) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": certificate ", i + 1, " is over ",
                                                     kMaxCertificateBytes, " bytes"));
    }
  }
  KEYLINE_ASSIGN_OR_RETURN(const X509Ptr leaf, ca::ParseCertificateDer(chain->front()));
  if (X509_check_ca(leaf.get()) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": the first certificate is a CA; the device's own certificate comes first"));
  }
  return chain;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> SplitCsvRecord(std::string_view line) {
  std::vector<std::string> fields;
  std::string field;
  size_t i = 0;
  while (true) {
    field.clear();
    // Leading whitespace before a quoted field is dropped with the rest.
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= line.size()) return absl::InvalidArgumentError("unterminated quoted field");
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] != ',') {
        return absl::InvalidArgumentError("text after a closing quote");
      }
    } else {
      while (i < line.size() && line[i] != ',') {
        if (line[i] == '"') return absl::InvalidArgumentError("quote inside an unquoted field");
        field += line[i++];
      }
      field = std::string(absl::StripAsciiWhitespace(field));
    }
    fields.push_back(field);
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return fields;
}

absl::StatusOr<std::vector<StationDevice>> ParseStationCsv(std::string_view text,
                                                           std::string_view name,
                                                           const std::string& base_directory,
                                                           StationCsvKind kind) {
  const std::vector<std::string> header = {
      "serial", "model", kind == StationCsvKind::kCsr ? "csr_file" : "chain_file"};
  if (absl::StartsWith(AsAbsl(text), "\xEF\xBB\xBF")) text.remove_prefix(3);

  std::vector<StationDevice> devices;
  std::unordered_map<std::string, size_t> serial_lines;
  std::unordered_map<std::string, size_t> key_lines;
  bool header_seen = false;
  size_t line_number = 0;
  for (absl::string_view raw : absl::StrSplit(AsAbsl(text), '\n')) {
    ++line_number;
    if (absl::EndsWith(raw, "\r")) raw.remove_suffix(1);
    if (absl::StripAsciiWhitespace(raw).empty()) continue;
    const std::string where = absl::StrCat(AsAbsl(name), ":", line_number);
    auto fields = SplitCsvRecord(AsStd(raw));
    if (!fields.ok()) return LineError(where, AsStd(fields.status().message()));
    if (!header_seen) {
      if (*fields != header) {
        return LineError(where, absl::StrCat("the header must be ", absl::StrJoin(header, ","),
                                             " (found ", raw, ")"));
      }
      header_seen = true;
      continue;
    }
    if (fields->size() != header.size()) {
      return LineError(where, absl::StrCat(fields->size(), " fields, expected ", header.size(),
                                           " (", absl::StrJoin(header, ","), ")"));
    }
    StationDevice device;
    device.line = line_number;
    device.serial = (*fields)[0];
    device.model = (*fields)[1];
    const std::string& file = (*fields)[2];
    KEYLINE_RETURN_IF_ERROR(
        ca::ValidateDeviceSerial(device.serial, absl::StrCat(where, ": serial")));
    KEYLINE_RETURN_IF_ERROR(
        ca::ValidateHardwareModel(device.model, absl::StrCat(where, ": model")));
    if (const auto [it, inserted] = serial_lines.emplace(device.serial, line_number); !inserted) {
      return LineError(where, absl::StrCat("serial ", device.serial, " repeats line ", it->second));
    }
    const std::string field = absl::StrCat(where, ": ", header[2], " ", file);
    if (file.empty()) return LineError(where, absl::StrCat(header[2], ": empty"));
    const std::string path = ResolvePath(base_directory, file);

    std::string key;  // identity of the attestation key, to catch one key on two lines
    if (kind == StationCsvKind::kCsr) {
      auto contents = ReadFile(path, ca::kMaxCsrBytes * 2);
      if (!contents.ok()) {
        return absl::Status(contents.status().code(),
                            absl::StrCat(where, ": ", contents.status().message()));
      }
      KEYLINE_ASSIGN_OR_RETURN(device.csr_der, CsrDer(*contents, field));
      if (device.csr_der.size() > ca::kMaxCsrBytes) {
        return LineError(field, absl::StrCat("over ", ca::kMaxCsrBytes, " bytes"));
      }
      KEYLINE_ASSIGN_OR_RETURN(key, CsrKeyIdentity(device.csr_der, field));
    } else {
      auto chain = ReadChain(path, field);
      if (!chain.ok()) {
        // ReadFile's errors name the path but not the line.
        return absl::Status(chain.status().code(),
                            absl::StrContains(chain.status().message(), where)
                                ? chain.status().message()
                                : absl::StrCat(where, ": ", chain.status().message()));
      }
      device.chain_der = *std::move(chain);
      key = device.chain_der.front();
    }
    if (const auto [it, inserted] = key_lines.emplace(key, line_number); !inserted) {
      return LineError(
          where, absl::StrCat(kind == StationCsvKind::kCsr ? "the same attestation key as line "
                                                           : "the same device certificate as line ",
                              it->second));
    }
    devices.push_back(std::move(device));
  }
  if (!header_seen) {
    return absl::InvalidArgumentError(
        absl::StrCat(AsAbsl(name), ": empty; expected the header ", absl::StrJoin(header, ",")));
  }
  if (devices.empty())
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(name), ": no devices"));
  return devices;
}

absl::StatusOr<std::vector<StationDevice>> ReadStationCsv(const std::string& path,
                                                          StationCsvKind kind) {
  KEYLINE_ASSIGN_OR_RETURN(const std::string text, ReadFile(path, kMaxCsvBytes));
  return ParseStationCsv(text, path, std::filesystem::path(path).parent_path().string(), kind);
}

}  // namespace keyline::cli
