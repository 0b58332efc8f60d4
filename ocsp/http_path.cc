#include "ocsp/http_path.h"

#include <array>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace keyline::ocsp {
namespace {

constexpr int8_t kInvalid = -1;

constexpr std::array<int8_t, 256> MakeBase64Table() {
  std::array<int8_t, 256> table{};
  for (auto& entry : table) entry = kInvalid;
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}
constexpr std::array<int8_t, 256> kBase64 = MakeBase64Table();

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `encoded` into `out`, copying the runs between escapes whole.
absl::Status PercentDecodeInto(std::string_view encoded, std::string& out) {
  out.clear();
  out.reserve(encoded.size());
  size_t done = 0;
  for (size_t escape = encoded.find('%'); escape != std::string_view::npos;
       escape = encoded.find('%', done)) {
    out.append(encoded.data() + done, escape - done);
    const int high = escape + 2 < encoded.size() ? HexValue(encoded[escape + 1]) : -1;
    const int low = escape + 2 < encoded.size() ? HexValue(encoded[escape + 2]) : -1;
    if (high < 0 || low < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("ocsp GET path: bad percent escape at offset ", escape));
    }
    out.push_back(static_cast<char>(high * 16 + low));
    done = escape + 3;
  }
  out.append(encoded.data() + done, encoded.size() - done);
  return absl::OkStatus();
}

absl::Status NotBase64(std::string_view text, size_t offset) {
  return absl::InvalidArgumentError(absl::StrCat(
      "ocsp GET path: character 0x", absl::Hex(static_cast<uint8_t>(text[offset]), absl::kZeroPad2),
      " at base64 offset ", offset, " is not base64"));
}

}  // namespace

absl::StatusOr<std::string> DecodeOcspGetPath(std::string_view encoded) {
  if (encoded.empty()) return absl::InvalidArgumentError("ocsp GET path: empty");
  if (encoded.size() > kMaxEncodedOcspGetPathBytes) {
    return absl::InvalidArgumentError(absl::StrCat("ocsp GET path: more than ",
                                                   kMaxEncodedOcspGetPathBytes, " bytes"));
  }
  // One buffer: percent-decoded first, then base64-decoded in place (the output never overtakes
  // the input: three bytes written for every four read). GET answers are a hot path.
  std::string buffer;
  if (absl::Status status = PercentDecodeInto(encoded, buffer); !status.ok()) return status;

  std::string_view body = buffer;
  size_t padding = 0;
  while (!body.empty() && body.back() == '=' && padding < 2) {
    body.remove_suffix(1);
    ++padding;
  }
  if (body.empty()) return absl::InvalidArgumentError("ocsp GET path: no base64 data");
  if (body.size() % 4 == 1) {
    return absl::InvalidArgumentError("ocsp GET path: truncated base64 (length 1 mod 4)");
  }
  if (padding != 0 && (body.size() + padding) % 4 != 0) {
    return absl::InvalidArgumentError("ocsp GET path: wrong base64 padding");
  }

  const size_t length = body.size();
  const auto* in = reinterpret_cast<const uint8_t*>(buffer.data());
  char* out = buffer.data();
  size_t i = 0;
  for (; i + 4 <= length; i += 4) {
    const int8_t a = kBase64[in[i]], b = kBase64[in[i + 1]], c = kBase64[in[i + 2]],
                 d = kBase64[in[i + 3]];
    if ((a | b | c | d) < 0) {  // kInvalid is the only negative entry
      size_t bad = i;
      while (kBase64[in[bad]] != kInvalid) ++bad;
      return NotBase64(body, bad);
    }
    const uint32_t group = static_cast<uint32_t>(a) << 18 | static_cast<uint32_t>(b) << 12 |
                           static_cast<uint32_t>(c) << 6 | static_cast<uint32_t>(d);
    *out++ = static_cast<char>(group >> 16);
    *out++ = static_cast<char>(group >> 8);
    *out++ = static_cast<char>(group);
  }
  // The last 2 or 3 characters carry 1 or 2 bytes.
  uint32_t group = 0;
  for (size_t j = i; j < length; ++j) {
    const int8_t value = kBase64[in[j]];
    if (value == kInvalid) return NotBase64(body, j);
    group = group << 6 | static_cast<uint32_t>(value);
  }
  if (length - i == 2) {
    *out++ = static_cast<char>(group >> 4);
  } else if (length - i == 3) {
    *out++ = static_cast<char>(group >> 10);
    *out++ = static_cast<char>(group >> 2);
  }
  buffer.resize(static_cast<size_t>(out - buffer.data()));
  return buffer;
}

}  // namespace keyline::ocsp
