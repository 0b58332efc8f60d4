#include "store/device_repository.h"

#include <algorithm>
#include <map>
#include <pqxx/binarystring>
#include <pqxx/prepared_statement>
#include <pqxx/result>
#include <pqxx/stream_to>
#include <string>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/hex.h"
#include "common/status_macros.h"
#include "store/audit_appender.h"
#include "store/certificate_rows.h"
#include "store/certificate_status_feed.h"
#include "store/device_rows.h"
#include "store/field_checks.h"
#include "store/prepared_statement.h"
#include "store/sql_text.h"
#include "store/timestamps.h"

namespace keyline::store {
namespace {

constexpr size_t kAttestationKeyHashBytes = 32;
// RFC 5280, section 5.3.1: cessationOfOperation.
constexpr int kCessationOfOperation = 5;

const std::vector<std::string_view> kDeviceColumnCasts = {
    "::text", "::integer", "::text", "::bytea", "::bytea[]", "::bytea", "::text"};
// A statement takes at most 65535 parameters.
const size_t kDevicesPerInsert = 65535 / kDeviceColumnCasts.size();

std::string SelectDevices() {
  return absl::StrCat("SELECT ", DeviceColumns(), AsAbsl(kDevicesWithManufacturers));
}

absl::StatusOr<DeviceRecord> FindDevice(pqxx::transaction_base& tx, std::string_view serial) {
  static const std::string* const kFind = new std::string(SelectDevices() + " WHERE d.serial = $1");
  const pqxx::result rows = ExecPrepared(tx, "device.find", *kFind, std::string(serial));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("device_serial: no device ", AsAbsl(serial)));
  }
  return DeviceFromRow(rows[0]);
}

absl::Status ValidateRegistration(const DeviceRegistration& registration, size_t i) {
  const DeviceRecord& device = registration.device;
  KEYLINE_RETURN_IF_ERROR(
      CheckNonEmptyText(device.serial, IndexedField("devices", i, "device_serial")));
  if (device.manufacturer_id <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(IndexedField("devices", i, "manufacturer_id"), ": must be > 0"));
  }
  KEYLINE_RETURN_IF_ERROR(
      CheckNonEmptyText(device.hardware_model, IndexedField("devices", i, "hardware_model")));
  KEYLINE_RETURN_IF_ERROR(CheckNonEmptyBytes(device.attestation_certificate_der,
                                             IndexedField("devices", i, "attestation_certificate")));
  for (size_t k = 0; k < device.attestation_chain_der.size(); ++k) {
    KEYLINE_RETURN_IF_ERROR(
        CheckNonEmptyBytes(device.attestation_chain_der[k],
                           absl::StrCat(IndexedField("devices", i, "attestation_chain"), "[", k, "]")));
  }
  KEYLINE_RETURN_IF_ERROR(CheckByteCount(device.attestation_key_sha256, kAttestationKeyHashBytes,
                                         IndexedField("devices", i, "attestation_key_sha256")));
  if (device.state != "registered" || device.deployment) {
    return absl::InvalidArgumentError(absl::StrCat(
        IndexedField("devices", i, "state"), ": a new device is \"registered\", without a deployment"));
  }
  if (registration.issued_certificate) {
    const CertificateRecord& certificate = *registration.issued_certificate;
    KEYLINE_RETURN_IF_ERROR(
        ValidateCertificate(certificate, IndexedField("devices", i, "issued_certificate")));
    if (certificate.device_serial && *certificate.device_serial != device.serial) {
      return absl::InvalidArgumentError(absl::StrCat(
          IndexedField("devices", i, "issued_certificate.device_serial"), ": not the device's serial"));
    }
  }
  return absl::OkStatus();
}

// Every element of `items` named by `key` once, or InvalidArgument naming the repeat.
template <typename T, typename Key>
absl::Status CheckDistinct(const std::vector<T>& items, Key key, std::string_view list,
                           std::string_view field) {
  std::unordered_map<std::string_view, size_t> first;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::optional<std::string_view> value = key(items[i]);
    if (!value) continue;
    if (const auto [it, inserted] = first.emplace(*value, i); !inserted) {
      return absl::InvalidArgumentError(absl::StrCat(IndexedField(list, i, field), ": repeats ",
                                                     IndexedField(list, it->second, field)));
    }
  }
  return absl::OkStatus();
}

// The batch's manufacturers must exist and be trusted. FOR SHARE: a concurrent revocation waits
// for this registration, or this registration sees it.
absl::Status CheckManufacturers(pqxx::transaction_base& tx,
                                const std::vector<DeviceRegistration>& batch) {
  std::vector<std::string> ids;
  for (const DeviceRegistration& registration : batch) {
    ids.push_back(absl::StrCat(registration.device.manufacturer_id));
  }
  std::map<int32_t, std::pair<std::string, std::string>> found;  // id -> (name, status)
  for (const pqxx::row& row : tx.exec_params(
           "SELECT id, name, status FROM manufacturers WHERE id = ANY ($1::integer[]) "
           "ORDER BY id FOR SHARE",
           absl::StrCat("{", absl::StrJoin(ids, ","), "}"))) {
    found[row[0].as<int32_t>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    const int32_t id = batch[i].device.manufacturer_id;
    const auto it = found.find(id);
    if (it == found.end()) {
      return absl::FailedPreconditionError(absl::StrCat(IndexedField("devices", i, "manufacturer_id"),
                                                        ": no manufacturer with id ", id));
    }
    if (it->second.second != "trusted") {
      return absl::FailedPreconditionError(absl::StrCat(IndexedField("devices", i, "manufacturer_id"),
                                                        ": manufacturer \"", it->second.first,
                                                        "\" is ", it->second.second));
    }
  }
  return absl::OkStatus();
}

// Inserts the devices that are not registered yet; returns the serials inserted. In serial
// order, so that concurrent registrations of overlapping batches wait for each other instead of
// deadlocking.
std::unordered_set<std::string> InsertNewDevices(pqxx::transaction_base& tx,
                                                 const std::vector<DeviceRegistration>& batch,
                                                 const std::string& actor) {
  std::vector<const DeviceRecord*> devices;
  for (const DeviceRegistration& registration : batch) devices.push_back(&registration.device);
  std::sort(devices.begin(), devices.end(),
            [](const DeviceRecord* a, const DeviceRecord* b) { return a->serial < b->serial; });
  std::unordered_set<std::string> inserted;
  for (size_t start = 0; start < devices.size(); start += kDevicesPerInsert) {
    const size_t count = std::min(kDevicesPerInsert, devices.size() - start);
    SqlParams params;
    for (size_t k = start; k < start + count; ++k) {
      const DeviceRecord& device = *devices[k];
      std::vector<std::string_view> chain(device.attestation_chain_der.begin(),
                                          device.attestation_chain_der.end());
      params.Add(device.serial);
      params.Add(absl::StrCat(device.manufacturer_id));
      params.Add(device.hardware_model);
      params.Add(ByteaParam(device.attestation_certificate_der));
      params.Add(ByteaArrayParam(chain));
      params.Add(ByteaParam(device.attestation_key_sha256));
      params.Add(actor);
    }
    for (const pqxx::row& row : tx.exec_params(
             absl::StrCat("INSERT INTO devices (serial, manufacturer_id, hardware_model, "
                          "attestation_certificate, attestation_chain, attestation_key_sha256, "
                          "registered_by) VALUES ",
                          ValuesPlaceholders(count, kDeviceColumnCasts),
                          " ON CONFLICT (serial) DO NOTHING RETURNING serial"),
             pqxx::prepare::make_dynamic_params(params.Pointers()))) {
      inserted.insert(row[0].as<std::string>());
    }
  }
  return inserted;
}

}  // namespace

absl::StatusOr<RegistrationResult> DeviceRepository::Register(
    const std::vector<DeviceRegistration>& batch, const std::string& actor) {
  KEYLINE_RETURN_IF_ERROR(CheckNonEmptyText(actor, "actor"));
  for (size_t i = 0; i < batch.size(); ++i) {
    KEYLINE_RETURN_IF_ERROR(ValidateRegistration(batch[i], i));
  }
  KEYLINE_RETURN_IF_ERROR(CheckDistinct(
      batch,
      [](const DeviceRegistration& r) { return std::optional<std::string_view>(r.device.serial); },
      "devices", "device_serial"));
  KEYLINE_RETURN_IF_ERROR(CheckDistinct(
      batch,
      [](const DeviceRegistration& r) {
        return r.issued_certificate
                   ? std::optional<std::string_view>(r.issued_certificate->serial)
                   : std::nullopt;
      },
      "devices", "issued_certificate.serial"));
  if (batch.empty()) return RegistrationResult{};

  return pool_.WithTransaction(
      "register devices", [&](pqxx::work& tx) -> absl::StatusOr<RegistrationResult> {
        KEYLINE_RETURN_IF_ERROR(CheckManufacturers(tx, batch));
        const std::unordered_set<std::string> inserted = InsertNewDevices(tx, batch, actor);

        // The rest were registered before (or by a concurrent batch that committed meanwhile:
        // ON CONFLICT waited for it): the same attestation key leaves them unchanged.
        std::vector<std::string_view> existing;
        for (const DeviceRegistration& registration : batch) {
          if (!inserted.contains(registration.device.serial)) {
            existing.push_back(registration.device.serial);
          }
        }
        if (!existing.empty()) {
          std::unordered_map<std::string, std::string> stored_keys;
          for (const pqxx::row& row : tx.exec_params(
                   "SELECT serial, attestation_key_sha256 FROM devices "
                   "WHERE serial = ANY ($1::text[])",
                   TextArrayParam(existing))) {
            stored_keys[row[0].as<std::string>()] = pqxx::binarystring(row[1]).str();
          }
          for (size_t i = 0; i < batch.size(); ++i) {
            const DeviceRecord& device = batch[i].device;
            const auto it = stored_keys.find(device.serial);
            if (it != stored_keys.end() && it->second != device.attestation_key_sha256) {
              return absl::AlreadyExistsError(
                  absl::StrCat(IndexedField("devices", i, "device_serial"), ": ", device.serial,
                               " is registered with a different attestation key"));
            }
          }
        }

        // Attestation certificates of the new devices, tied to them.
        std::vector<size_t> with_certificate;
        std::vector<std::string_view> certificate_serials;
        for (size_t i = 0; i < batch.size(); ++i) {
          if (batch[i].issued_certificate && inserted.contains(batch[i].device.serial)) {
            with_certificate.push_back(i);
            certificate_serials.push_back(batch[i].issued_certificate->serial);
          }
        }
        if (!with_certificate.empty()) {
          const std::unordered_set<std::string> stored = StoredSerials(tx, certificate_serials);
          for (size_t i : with_certificate) {
            if (stored.contains(batch[i].issued_certificate->serial)) {
              return absl::AlreadyExistsError(
                  absl::StrCat(IndexedField("devices", i, "issued_certificate.serial"),
                               ": a certificate with this serial is already stored"));
            }
          }
          pqxx::stream_to copy(tx, "certificates", CertificateCopyColumns());
          for (size_t i : with_certificate) {
            absl::Status status = CopyCertificate(*batch[i].issued_certificate,
                                                  batch[i].device.serial, copy);
            if (!status.ok()) {
              copy.complete();
              return status;
            }
          }
          copy.complete();
          NotifyCertificatesChanged(tx);
        }

        std::vector<AuditEvent> events;
        for (const DeviceRegistration& registration : batch) {
          const DeviceRecord& device = registration.device;
          if (!inserted.contains(device.serial)) continue;
          nlohmann::json details = {{"manufacturer_id", device.manufacturer_id},
                                    {"hardware_model", device.hardware_model}};
          if (registration.issued_certificate) {
            details["attestation_certificate_serial"] =
                HexEncode(registration.issued_certificate->serial);
          }
          events.push_back({actor, "device.registered", device.serial, std::move(details)});
        }
        std::vector<const AuditEvent*> event_pointers;
        for (const AuditEvent& event : events) event_pointers.push_back(&event);
        KEYLINE_RETURN_IF_ERROR(AppendAuditEvents(tx, event_pointers).status());
        return RegistrationResult{static_cast<int>(batch.size() - inserted.size()), inserted};
      });
}

absl::StatusOr<DeviceRecord> DeviceRepository::Find(std::string_view serial) {
  return pool_.WithStatement("find device", [&](pqxx::nontransaction& tx) {
    return FindDevice(tx, serial);
  });
}

absl::StatusOr<std::vector<DeviceRecord>> DeviceRepository::FindMany(
    const std::vector<std::string>& serials) {
  for (size_t i = 0; i < serials.size(); ++i) {
    KEYLINE_RETURN_IF_ERROR(CheckText(serials[i], IndexedField("device_serials", i)));
  }
  return pool_.WithTransaction(
      "find devices", [&](pqxx::work& tx) -> absl::StatusOr<std::vector<DeviceRecord>> {
        std::vector<DeviceRecord> devices;
        for (const pqxx::row& row : tx.exec_params(
                 SelectDevices() + " WHERE d.serial = ANY ($1::text[]) ORDER BY d.serial",
                 TextArrayParam(serials))) {
          devices.push_back(DeviceFromRow(row));
        }
        return devices;
      });
}

absl::StatusOr<std::vector<DeviceCertificate>> DeviceRepository::Certificates(
    std::string_view device_serial) {
  return pool_.WithTransaction(
      "list device certificates",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<DeviceCertificate>> {
        std::vector<DeviceCertificate> certificates;
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT serial, status = 'good' FROM certificates WHERE device_serial = $1 "
                 "ORDER BY issued_at DESC, not_before DESC, serial DESC",
                 std::string(device_serial))) {
          certificates.push_back({pqxx::binarystring(row[0]).str(), row[1].as<bool>()});
        }
        return certificates;
      });
}

absl::StatusOr<DecommissionResult> DeviceRepository::Decommission(std::string_view serial,
                                                                  const std::string& actor,
                                                                  const std::string& reason) {
  KEYLINE_RETURN_IF_ERROR(CheckNonEmptyText(actor, "actor"));
  KEYLINE_RETURN_IF_ERROR(CheckText(reason, "reason"));
  return pool_.WithTransaction(
      "decommission device", [&](pqxx::work& tx) -> absl::StatusOr<DecommissionResult> {
        // FOR UPDATE (not NO KEY UPDATE) also conflicts with the KEY SHARE lock that storing a
        // certificate for this device takes: a certificate stored concurrently is committed
        // before the revocation below reads, or waits for it and sees the decommissioned device.
        const pqxx::result locked = tx.exec_params(
            "SELECT state FROM devices WHERE serial = $1 FOR UPDATE", std::string(serial));
        if (locked.empty()) {
          return absl::NotFoundError(absl::StrCat("device_serial: no device ", AsAbsl(serial)));
        }
        if (locked[0][0].as<std::string>() == "decommissioned") {
          KEYLINE_ASSIGN_OR_RETURN(DeviceRecord device, FindDevice(tx, serial));
          return DecommissionResult{std::move(device), false, {}};
        }
        tx.exec_params(
            "UPDATE devices SET state = 'decommissioned', decommissioned_at = now() "
            "WHERE serial = $1",
            std::string(serial));
        // Revocations lock certificates in serial order (RevocationRepository::Revoke); the UPDATE
        // alone would lock them in the order it finds them, and the two could deadlock.
        tx.exec_params(
            "SELECT 1 FROM certificates WHERE device_serial = $1 AND status = 'good' "
            "ORDER BY serial FOR UPDATE",
            std::string(serial));
        std::vector<std::string> revoked;
        for (const pqxx::row& row : tx.exec_params(
                 "UPDATE certificates SET status = 'revoked', revoked_at = now(), "
                 "revocation_reason = $2 WHERE device_serial = $1 AND status = 'good' "
                 "RETURNING encode(serial, 'hex')",
                 std::string(serial), kCessationOfOperation)) {
          revoked.push_back(row[0].as<std::string>());
        }
        std::sort(revoked.begin(), revoked.end());
        const AuditEvent event{actor,
                               "device.decommissioned",
                               std::string(serial),
                               {{"reason", reason}, {"revoked_certificate_serials", revoked}}};
        const AuditEvent* events[] = {&event};
        KEYLINE_RETURN_IF_ERROR(AppendAuditEvents(tx, events).status());
        if (!revoked.empty()) NotifyCertificatesChanged(tx);
        KEYLINE_ASSIGN_OR_RETURN(DeviceRecord device, FindDevice(tx, serial));
        return DecommissionResult{std::move(device), true, std::move(revoked)};
      });
}

}  // namespace keyline::store
