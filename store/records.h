// Plain rows of Keyline's tables (see migrations/0001_initial.sql, 0002_enrollment.sql). No SQL
// here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/time/time.h"

namespace keyline::store {

struct CaRecord {
  int32_t id = 0;                 // assigned by the database on insert
  std::string name;               // "root", "operators", "deployment/<d>", "manufacturer/<m>"
  std::string kind;               // "root", "operator", "deployment", "manufacturer"
  std::optional<std::string> deployment;
  std::optional<int32_t> parent_id;
  std::string key_label;          // CKA_LABEL in the HSM
  std::string key_algorithm;      // "ec-p256", "ec-p384"
  std::string certificate_der;
  std::string subject_key_id;     // raw bytes
  std::string status = "active";  // "active", "retired", "revoked"
  absl::Time not_before;
  absl::Time not_after;
};

struct CertificateRecord {
  std::string serial;  // big-endian magnitude of the (positive) serial number, raw bytes
  int32_t issuer_id = 0;
  std::string profile;  // "operator", "server", "ocsp-signer", "device", ...
  std::string subject;  // what it names, e.g. "urn:keyline:role:factory:line-3"
  absl::Time not_before;
  absl::Time not_after;
  std::string der;
  std::string status = "good";  // "good" or "revoked"
  std::optional<absl::Time> revoked_at;
  std::optional<int16_t> revocation_reason;
  std::optional<std::string> device_serial;  // set for device and attestation certificates
};

struct ManufacturerRecord {
  int32_t id = 0;  // assigned on insert
  std::string name;
  std::optional<int32_t> ca_id;   // the certificate_authorities row when Keyline hosts it
  std::string trust_anchor_der;   // CA certificate attestation chains end at
  std::string anchor_key_id;      // its subjectKeyIdentifier
  std::string status = "trusted"; // "trusted" or "revoked"
  std::string added_by;           // the actor of ManufacturerRepository::Add
  absl::Time added_at;            // set by the database on insert
  std::optional<absl::Time> revoked_at;
};

struct DeviceRecord {
  std::string serial;
  int32_t manufacturer_id = 0;
  std::string manufacturer_name;  // read from manufacturers on lookups; ignored on insert
  std::string hardware_model;
  std::string attestation_certificate_der;
  std::vector<std::string> attestation_chain_der;  // intermediates below the anchor
  std::string attestation_key_sha256;              // 32 bytes
  std::string state = "registered";  // "registered", "claimed", "enrolled", "decommissioned"
  std::optional<std::string> deployment;
  std::string registered_by;  // the actor of DeviceRepository::Register
  absl::Time registered_at;  // set by the database on insert
};

// A device read together with its manufacturer (one statement, one snapshot).
struct DeviceWithManufacturer {
  DeviceRecord device;
  ManufacturerRecord manufacturer;
};

struct ChallengeRecord {
  std::string id;     // 16 random bytes
  std::string device_serial;
  std::string nonce;  // 32 random bytes
  std::string purpose;       // "enroll" or "renew"
  std::string requested_by;  // "device" or the relaying gateway's URI
  absl::Time expires_at;
  std::optional<absl::Time> used_at;
};

// The enrollment side of a device certificate's IssuanceWrite (store/issuance_writer.h).
struct EnrollmentRecord {
  std::string request_id;
  std::string challenge_id;
  std::string device_serial;
  std::string expected_deployment;  // the device must still belong to it
  std::string purpose;              // "enroll" or "renew": the challenge's purpose
  // Renewals: the raw serial of the client certificate the device renews with. It must still be
  // good and unexpired when the renewal commits; empty for enrollments.
  std::string renewed_certificate_serial;
};

struct OperatorRecord {
  std::string role;  // "admin", "factory", "gateway"
  std::string name;
  std::string created_by;  // actor that first issued a certificate for it
};

// One event for the hash-chained audit log. seq, occurred_at and the hashes are assigned by the
// appender; callers fill actor, action, target and details.
struct AuditEvent {
  std::string actor;   // e.g. "urn:keyline:role:admin:alice" or "system:init"
  std::string action;  // e.g. "operator.certificate.issued"
  std::string target;  // e.g. the certificate serial in hex
  nlohmann::json details = nlohmann::json::object();  // never secrets or PHI
};

}  // namespace keyline::store
