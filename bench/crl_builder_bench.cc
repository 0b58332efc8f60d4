// crl_builder_bench: how fast ca::CrlBuilder loads and signs a large CRL, beside `openssl ca
// -gencrl` on the same revoked serials and dates, measured in the same run.
//
//   crl_builder_bench [--entries 1000000] [--dir /tmp/...] [--skip-openssl]
//
// Steps (each timed with a steady clock):
//   load        rows as PostgreSQL hands them over (serial bytes, revoked_at in µs, reason) ->
//               RevokedEntry -> Reserve + AddBulk
//   first full  BuildFull over every entry
//   rebuild     one more Add, then BuildFull again (the steady state after a revocation)
//   delta       1,000 more Adds, then BuildDelta against the rebuild
//   openssl     `openssl ca -gencrl` with an index.txt of the same serials, dates and reasons and
//               the same CA key (a PEM file: openssl ca cannot reach our HSM), AKI and IDP
// then prints one key=value line per figure, the ratios against openssl, and memory: the
// builder's own bytes, this process's RSS after the load and its peak, and openssl's peak RSS.
// Both CRLs are checked (signature, entry count) before the figures are printed.
//
// The CA key is an in-memory key (ca/testing): signing is one ECDSA signature per CRL, the same
// cost for both tools, and the HSM's few milliseconds are not what this measures.
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "ca/certificate_builder.h"
#include "ca/certificate_der.h"
#include "ca/crl_builder.h"
#include "ca/profiles.h"
#include "ca/serial_number.h"
#include "ca/software_key.h"
#include "ca/testing/software_signing_key.h"
#include "common/files.h"
#include "common/openssl_ptr.h"

extern char** environ;

namespace {

using keyline::ca::BuiltCrl;
using keyline::ca::CrlBuilder;
using keyline::ca::RevokedEntry;
using Clock = std::chrono::steady_clock;
using X509CrlPtr = keyline::OpenSslPtr<X509_CRL, X509_CRL_free>;

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "crl_builder_bench: " << message << "\n";
  std::exit(1);
}

template <typename T>
T ValueOrDie(absl::StatusOr<T> value, const std::string& what) {
  if (!value.ok()) Die(absl::StrCat(what, ": ", value.status().ToString()));
  return *std::move(value);
}

double MillisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// CPU time of this (single-threaded) process: on a shared machine wall time also counts the time
// other processes had the core, so both are printed.
double CpuMilliseconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

// Wall and CPU milliseconds of a step.
struct Timer {
  Clock::time_point wall_start = Clock::now();
  double cpu_start = CpuMilliseconds();
  double wall_ms() const { return MillisecondsSince(wall_start); }
  double cpu_ms() const { return CpuMilliseconds() - cpu_start; }
};

// VmRSS or VmHWM of this process in MiB, from /proc/self/status.
double ProcStatusMib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;
  }
  return 0;
}

// A row as the certificates table yields it.
struct Row {
  std::string_view serial;
  int64_t revoked_at_micros;
  int16_t reason;
};

constexpr int kReasons[] = {0, 1, 4, 5};  // unspecified, keyCompromise, superseded, cessation
constexpr const char* kOpensslReasonNames[] = {"unspecified", "keyCompromise", "", "", "superseded",
                                               "cessationOfOperation"};

// Serials like GenerateSerial's (16 octets, top bit clear, next bit set), drawn in bulk.
std::vector<Row> MakeRows(size_t count, absl::Time now, std::string& serial_storage) {
  serial_storage.resize(count * keyline::ca::kSerialBytes);
  std::vector<uint32_t> random(count * 2);
  if (RAND_bytes(reinterpret_cast<unsigned char*>(serial_storage.data()),
                 static_cast<int>(serial_storage.size())) != 1 ||
      RAND_bytes(reinterpret_cast<unsigned char*>(random.data()),
                 static_cast<int>(random.size() * sizeof(uint32_t))) != 1) {
    Die("RAND_bytes");
  }
  std::vector<Row> rows(count);
  const int64_t now_micros = absl::ToUnixMicros(now);
  for (size_t i = 0; i < count; ++i) {
    char* serial = serial_storage.data() + i * keyline::ca::kSerialBytes;
    serial[0] = static_cast<char>((serial[0] & 0x3f) | 0x40);
    rows[i].serial = std::string_view(serial, keyline::ca::kSerialBytes);
    // Within the last year, microsecond precision like timestamptz.
    rows[i].revoked_at_micros =
        now_micros - static_cast<int64_t>(random[2 * i] % (365LL * 86400)) * 1000000 -
        random[2 * i + 1] % 1000000;
    rows[i].reason = static_cast<int16_t>(kReasons[random[2 * i + 1] % 4]);
  }
  return rows;
}

std::string OpensslTime(int64_t unix_seconds) {
  return absl::FormatTime("%y%m%d%H%M%SZ", absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

void WriteOpensslCa(const std::string& dir, const std::vector<Row>& rows,
                    const std::string& ca_pem, const std::string& key_pem,
                    const std::string& crl_url) {
  std::string index;
  index.reserve(rows.size() * 90);
  const std::string expiry = OpensslTime(absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 30)));
  for (const Row& row : rows) {
    absl::StrAppend(&index, "R\t", expiry, "\t",
                    OpensslTime(absl::ToUnixSeconds(absl::FromUnixMicros(row.revoked_at_micros))),
                    row.reason == 0 ? "" : ",", row.reason == 0 ? "" : kOpensslReasonNames[row.reason],
                    "\t", absl::AsciiStrToUpper(absl::BytesToHexString(absl::string_view(
                              row.serial.data(), row.serial.size()))),
                    "\tunknown\t/CN=revoked\n");
  }
  auto write = [&](const std::string& name, std::string_view contents) {
    if (!keyline::WriteFileAtomically(dir + "/" + name, contents).ok()) Die("write " + name);
  };
  write("index.txt", index);
  write("index.txt.attr", "unique_subject = no\n");
  write("crlnumber", "1000\n");
  write("ca.pem", ca_pem);
  write("ca.key", key_pem);
  write("openssl.cnf", absl::StrCat("[ca]\ndefault_ca = bench\n[bench]\n",
                                    "database = ", dir, "/index.txt\n",
                                    "crlnumber = ", dir, "/crlnumber\n",
                                    "certificate = ", dir, "/ca.pem\n",
                                    "private_key = ", dir, "/ca.key\n",
                                    "default_md = sha256\ndefault_crl_days = 1\n",
                                    "crl_extensions = crl_ext\n[crl_ext]\n",
                                    "authorityKeyIdentifier = keyid:always\n",
                                    "issuingDistributionPoint = critical, @idp\n",
                                    "[idp]\nfullname = URI:", crl_url, "\n"));
}

struct ChildRun {
  double milliseconds = 0;
  double cpu_milliseconds = 0;
  double max_rss_mib = 0;
  int exit_code = -1;
};

// Runs argv and waits for it with wait4, so its own peak RSS is known.
ChildRun RunChild(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  ChildRun run;
  const Clock::time_point start = Clock::now();
  pid_t pid = 0;
  if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return run;
  int status = 0;
  struct rusage usage {};
  if (wait4(pid, &status, 0, &usage) != pid) return run;
  run.milliseconds = MillisecondsSince(start);
  run.max_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
  auto ms = [](const timeval& time) {
    return static_cast<double>(time.tv_sec) * 1e3 + static_cast<double>(time.tv_usec) / 1e3;
  };
  run.cpu_milliseconds = ms(usage.ru_utime) + ms(usage.ru_stime);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

void CheckCrl(X509_CRL* crl, EVP_PKEY* key, size_t entries, const std::string& what) {
  if (crl == nullptr) Die(what + ": does not parse");
  if (X509_CRL_verify(crl, key) != 1) Die(what + ": signature does not verify");
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
  const size_t listed = revoked == nullptr ? 0 : static_cast<size_t>(sk_X509_REVOKED_num(revoked));
  if (listed != entries) Die(absl::StrCat(what, ": ", listed, " entries, expected ", entries));
}

X509CrlPtr ParseDer(const std::string& der) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  return X509CrlPtr(d2i_X509_CRL(nullptr, &cursor, static_cast<long>(der.size())));
}

}  // namespace

int main(int argc, char** argv) {
  size_t entry_count = 1000000;
  std::string dir;
  bool skip_openssl = false;
  bool keep_dir = false;
  CLI::App app{"CrlBuilder against openssl ca -gencrl"};
  app.add_option("--entries", entry_count, "revoked certificates");
  app.add_option("--dir", dir, "working directory for openssl ca (default: a new one in /tmp)");
  app.add_flag("--skip-openssl", skip_openssl, "measure CrlBuilder only");
  app.add_flag("--keep", keep_dir, "keep openssl's files (index.txt, openssl.cnf, CRL)");
  CLI11_PARSE(app, argc, argv);
  if (dir.empty() && !skip_openssl) {
    std::string pattern = "/tmp/crl_builder_bench_XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) Die("mkdtemp");
    dir = pattern;
  }

  // A self-signed CA (keyCertSign, cRLSign, SKI) with an in-memory P-256 key.
  keyline::ca::ProfileSettings settings;
  const absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  auto key = keyline::ca::testing::SoftwareSigningKey::Generate(keyline::hsm::KeyAlgorithm::kEcdsaP256);
  auto key_info = ValueOrDie(keyline::ca::PublicKeyInfo::FromKey(key->public_key()), "key info");
  keyline::ca::IssueContext context{settings, &key_info,
                                    ValueOrDie(keyline::ca::GenerateSerial(), "serial"), now, ""};
  const auto ca = ValueOrDie(
      keyline::ca::BuildCertificate(keyline::ca::RootTemplate(context), nullptr, *key), "CA");
  const keyline::X509Ptr ca_certificate = ValueOrDie(keyline::ca::ParseCertificateDer(ca.der), "CA");
  const std::string crl_url = keyline::ca::CrlUrl(settings, "bench");

  std::string serial_storage;
  std::vector<Row> rows = MakeRows(entry_count + 1001, now, serial_storage);
  const std::vector<Row> loaded(rows.begin(), rows.begin() + static_cast<long>(entry_count));
  const double rss_before_load = ProcStatusMib("VmRSS");

  // Load: rows -> entries -> builder.
  auto builder = ValueOrDie(CrlBuilder::Create(ca_certificate.get(), crl_url), "builder");
  Timer timer;
  {
    std::vector<RevokedEntry> entries(loaded.size());
    for (size_t i = 0; i < loaded.size(); ++i) {
      entries[i] = RevokedEntry{loaded[i].serial, absl::FromUnixMicros(loaded[i].revoked_at_micros),
                                loaded[i].reason, std::nullopt};
    }
    builder->Reserve(entries.size());
    const size_t stored = ValueOrDie(builder->AddBulk(entries), "AddBulk");
    if (stored != entry_count) Die("AddBulk stored fewer entries than it was given");
  }
  const double load_ms = timer.wall_ms(), load_cpu_ms = timer.cpu_ms();
  const double rss_after_load = ProcStatusMib("VmRSS");

  uint64_t number = 1;
  timer = Timer();
  const BuiltCrl first = ValueOrDie(builder->BuildFull(number++, now, now + absl::Hours(24), *key),
                                    "first full");
  const double first_ms = timer.wall_ms(), first_cpu_ms = timer.cpu_ms();

  const Row& one_more = rows[entry_count];
  timer = Timer();
  (void)ValueOrDie(builder->Add(one_more.serial, absl::FromUnixMicros(one_more.revoked_at_micros),
                                one_more.reason),
                   "Add");
  const BuiltCrl rebuilt = ValueOrDie(
      builder->BuildFull(number++, now, now + absl::Hours(24), *key), "rebuild");
  const double rebuild_ms = timer.wall_ms(), rebuild_cpu_ms = timer.cpu_ms();

  timer = Timer();
  for (size_t i = entry_count + 1; i < entry_count + 1001; ++i) {
    (void)ValueOrDie(builder->Add(rows[i].serial, absl::FromUnixMicros(rows[i].revoked_at_micros),
                                  rows[i].reason),
                     "Add");
  }
  const double add_1000_ms = timer.wall_ms();
  timer = Timer();
  const BuiltCrl delta = ValueOrDie(
      builder->BuildDelta(number++, rebuilt.crl_number, now, now + absl::Hours(1), *key), "delta");
  const double delta_ms = timer.wall_ms();
  const double peak_rss = ProcStatusMib("VmHWM");

  CheckCrl(ParseDer(*first.der).get(), key->public_key(), entry_count, "first full CRL");
  CheckCrl(ParseDer(*rebuilt.der).get(), key->public_key(), entry_count + 1, "rebuilt CRL");
  CheckCrl(ParseDer(*delta.der).get(), key->public_key(), 1000, "delta CRL");

  std::cout << absl::StrFormat(
      "crl_builder: entries=%d load_ms=%.1f first_full_ms=%.1f rebuild_after_one_add_ms=%.1f "
      "add_1000_ms=%.2f delta_1000_ms=%.2f crl_bytes=%d delta_bytes=%d\n"
      "crl_builder_cpu: load_cpu_ms=%.1f first_full_cpu_ms=%.1f rebuild_cpu_ms=%.1f\n",
      entry_count, load_ms, first_ms, rebuild_ms, add_1000_ms, delta_ms, rebuilt.der->size(),
      delta.der->size(), load_cpu_ms, first_cpu_ms, rebuild_cpu_ms);
  std::cout << absl::StrFormat(
      "crl_builder_memory: builder_mib=%.1f rss_growth_by_load_mib=%.1f peak_rss_mib=%.1f "
      "(peak includes the input rows, three CRLs held at once and their verification)\n",
      static_cast<double>(builder->MemoryBytes()) / (1 << 20), rss_after_load - rss_before_load,
      peak_rss);
  if (skip_openssl) return 0;

  // The CA key's PEM: the in-memory key's EVP_PKEY holds the private half too.
  const std::string key_pem = ValueOrDie(keyline::ca::PrivateKeyToPem(key->public_key()), "key PEM");
  std::vector<Row> openssl_rows(rows.begin(), rows.begin() + static_cast<long>(entry_count + 1));
  WriteOpensslCa(dir, openssl_rows, keyline::ca::DerToPem(ca.der), key_pem, crl_url);
  const ChildRun openssl = RunChild({"openssl", "ca", "-config", dir + "/openssl.cnf", "-gencrl",
                                     "-out", dir + "/openssl.crl", "-batch"});
  if (openssl.exit_code != 0) Die("openssl ca -gencrl failed; see " + dir);
  {
    keyline::BioPtr bio(BIO_new_file((dir + "/openssl.crl").c_str(), "r"));
    X509CrlPtr crl(bio ? PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    CheckCrl(crl.get(), key->public_key(), entry_count + 1, "openssl's CRL");
  }
  std::cout << absl::StrFormat(
      "openssl_ca_gencrl: entries=%d ms=%.1f cpu_ms=%.1f peak_rss_mib=%.1f\n", entry_count + 1,
      openssl.milliseconds, openssl.cpu_milliseconds, openssl.max_rss_mib);
  std::cout << absl::StrFormat(
      "ratios (wall): openssl_over_first_full=%.1f openssl_over_rebuild=%.1f "
      "openssl_over_load_plus_first_full=%.1f\n"
      "ratios (cpu): openssl_over_first_full=%.1f openssl_over_rebuild=%.1f "
      "openssl_over_load_plus_first_full=%.1f\n",
      openssl.milliseconds / first_ms, openssl.milliseconds / rebuild_ms,
      openssl.milliseconds / (load_ms + first_ms), openssl.cpu_milliseconds / first_cpu_ms,
      openssl.cpu_milliseconds / rebuild_cpu_ms,
      openssl.cpu_milliseconds / (load_cpu_ms + first_cpu_ms));
  if (keep_dir) {
    std::cout << "openssl_dir: " << dir << "\n";
  } else {
    for (const char* name : {"index.txt", "index.txt.attr", "index.txt.old", "index.txt.attr.old",
                             "crlnumber", "crlnumber.old", "ca.pem", "ca.key", "openssl.cnf",
                             "openssl.crl"}) {
      std::remove((dir + "/" + name).c_str());
    }
    rmdir(dir.c_str());
  }
  return 0;
}
