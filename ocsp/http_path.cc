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

absl::StatusOr<std::string> PercentDecode(std::string_view encoded) {
  std::string decoded;
  decoded.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      decoded.push_back(encoded[i]);
      continue;
    }
    const int high = i + 2 < encoded.size() ? HexValue(encoded[i + 1]) : -1;
    const int low = i + 2 < encoded.size() ? HexValue(encoded[i + 2]) : -1;
    if (high < 0 || low < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("ocsp GET path: bad percent escape at offset ", i));
    }
    decoded.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return decoded;
}

}  // namespace

absl::StatusOr<std::string> DecodeOcspGetPath(std::string_view encoded) {
  if (encoded.empty()) return absl::InvalidArgumentError("ocsp GET path: empty");
  if (encoded.size() > kMaxEncodedOcspGetPathBytes) {
    return absl::InvalidArgumentError(absl::StrCat("ocsp GET path: more than ",
                                                   kMaxEncodedOcspGetPathBytes, " bytes"));
  }
  auto text = PercentDecode(encoded);
  if (!text.ok()) return text.status();

  std::string_view body = *text;
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

  std::string decoded;
  decoded.reserve(body.size() / 4 * 3 + 2);
  uint32_t accumulator = 0;
  int bits = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    const int8_t value = kBase64[static_cast<uint8_t>(body[i])];
    if (value == kInvalid) {
      return absl::InvalidArgumentError(
          absl::StrCat("ocsp GET path: character 0x",
                       absl::Hex(static_cast<uint8_t>(body[i]), absl::kZeroPad2),
                       " at base64 offset ", i, " is not base64"));
    }
    accumulator = (accumulator << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      decoded.push_back(static_cast<char>((accumulator >> bits) & 0xff));
    }
  }
  return decoded;
}

}  // namespace keyline::ocsp
