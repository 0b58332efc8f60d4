#include "cli/revocation_batch_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/hex.h"

namespace keyline::cli {
namespace {

using ::testing::HasSubstr;
using Kind = RevocationTargetSpec::Kind;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST(CertificateSerialHexTest, DecodesEitherCaseAndDropsLeadingZeros) {
  auto serial = ParseCertificateSerialHex("7A3f00", "s");
  ASSERT_TRUE(serial.ok()) << serial.status();
  EXPECT_EQ(HexEncode(*serial), "7a3f00");
  // An integer: leading zero digits do not change it, and odd lengths are padded.
  EXPECT_EQ(HexEncode(*ParseCertificateSerialHex("0000abc", "s")), "0abc");
  EXPECT_EQ(HexEncode(*ParseCertificateSerialHex("1", "s")), "01");
  EXPECT_EQ(ParseCertificateSerialHex(std::string(40, 'f'), "s")->size(), 20u);
  EXPECT_EQ(ParseCertificateSerialHex("00" + std::string(40, 'f'), "s")->size(), 20u);
}

TEST(CertificateSerialHexTest, RefusesWhatIsNotAPositiveSerialOfAtMostTwentyOctets) {
  for (const std::string bad : {"", "0x1234", "12:34", "12 34", "g1", "-1", "1234h"}) {
    const auto serial = ParseCertificateSerialHex(bad, "--serial #3");
    EXPECT_EQ(serial.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(Message(serial.status()), HasSubstr("--serial #3")) << bad;
  }
  EXPECT_THAT(Message(ParseCertificateSerialHex("000", "s").status()), HasSubstr("serial 0"));
  EXPECT_THAT(Message(ParseCertificateSerialHex(std::string(41, '1'), "s").status()),
              HasSubstr("41 hex digits; at most 40"));
}

TEST(RevocationBatchTest, ParsesSerialsDevicesReasonsCommentsAndBlankLines) {
  const auto targets = ParseRevocationBatch(
      "# lost on ward 3\n"
      "serial 7a3f01 keyCompromise\r\n"
      "\n"
      "   device\tSTO2-0001   \n"
      "  # indented comment\n"
      "device sto2-0002 CESSATIONOFOPERATION\n"
      "serial 00FF\n",
      "revoke.txt");
  ASSERT_TRUE(targets.ok()) << targets.status();
  ASSERT_EQ(targets->size(), 4u);
  EXPECT_EQ((*targets)[0].kind, Kind::kCertificate);
  EXPECT_EQ(HexEncode((*targets)[0].id), "7a3f01");
  EXPECT_EQ((*targets)[0].reason, "keyCompromise");
  EXPECT_EQ((*targets)[0].where, "revoke.txt:2");
  EXPECT_EQ((*targets)[1].kind, Kind::kDevice);
  EXPECT_EQ((*targets)[1].id, "STO2-0001");
  EXPECT_EQ((*targets)[1].reason, "");
  EXPECT_EQ((*targets)[1].where, "revoke.txt:4");
  EXPECT_EQ((*targets)[2].reason, "cessationOfOperation");  // canonical spelling
  EXPECT_EQ((*targets)[2].where, "revoke.txt:6");
  EXPECT_EQ(HexEncode((*targets)[3].id), "ff");
  EXPECT_EQ((*targets)[3].where, "revoke.txt:7");
}

// Each refusal names the file and line, and nothing of the list is returned.
TEST(RevocationBatchTest, RefusesBadLinesNamingThem) {
  const struct {
    std::string line;
    std::string expected;
  } cases[] = {
      {"serial zz12", "is not hexadecimal"},
      {"serial 0x7a3f", "is not hexadecimal"},
      {"serial 7a3f bogusReason", "unknown reason \"bogusReason\""},
      {"serial 7a3f certificateHold", "certificateHold is not supported"},
      {"serial 7a3f removeFromCRL", "is not supported"},
      {"device bad/serial", "only letters, digits"},
      {"device", "device without a value"},
      {"serial", "serial without a value"},
      {"certificate 7a3f", "expected \"serial <hex> [reason]\""},
      {"Serial 7a3f", "got \"Serial\""},
      {"7a3f0123456789abcdef0123456789ab", "expected \"serial <hex> [reason]\""},
      {"serial 7a3f keyCompromise # lost", "5 fields"},
      {"serial 7a3f keyCompromise extra", "4 fields"},
  };
  for (const auto& [line, expected] : cases) {
    const auto targets =
        ParseRevocationBatch(absl::StrCat("serial 01\n# fine\n", line, "\nserial 02\n"), "b.txt");
    EXPECT_EQ(targets.status().code(), absl::StatusCode::kInvalidArgument) << line;
    EXPECT_THAT(Message(targets.status()), HasSubstr("b.txt:3: ")) << line;
    EXPECT_THAT(Message(targets.status()), HasSubstr(expected)) << line;
  }
}

TEST(RevocationBatchTest, RefusesRepeatsNamingBothLines) {
  // The same integer written two ways is the same serial.
  const auto serials = ParseRevocationBatch("serial 7a3f\ndevice D-1\nserial 007A3F\n", "b.txt");
  EXPECT_EQ(serials.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(serials.status()), HasSubstr("b.txt:3: serial 7a3f repeats b.txt:1"));

  const auto devices = ParseRevocationBatch("device D-1 superseded\ndevice D-1\n", "b.txt");
  EXPECT_THAT(Message(devices.status()), HasSubstr("b.txt:2: device D-1 repeats b.txt:1"));

  // A device serial that looks like a certificate serial is a different target.
  EXPECT_TRUE(ParseRevocationBatch("device 7a3f\nserial 7a3f\n", "b.txt").ok());
}

TEST(RevocationBatchTest, RefusesAnEmptyList) {
  const auto targets = ParseRevocationBatch("# nothing yet\n\n   \n", "b.txt");
  EXPECT_EQ(targets.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(targets.status()), HasSubstr("b.txt: no targets"));
}

TEST(RevocationBatchTest, TakesExactlyTheServerLimitAndRefusesOneMore) {
  std::string text;
  for (size_t i = 1; i <= kMaxRevocationTargets; ++i)
    absl::StrAppend(&text, "serial ", i * 16 + 1, "\n");
  const auto at_limit = ParseRevocationBatch(text, "big.txt");
  ASSERT_TRUE(at_limit.ok()) << at_limit.status();
  EXPECT_EQ(at_limit->size(), kMaxRevocationTargets);

  absl::StrAppend(&text, "device one-too-many\n");
  const auto over = ParseRevocationBatch(text, "big.txt");
  EXPECT_EQ(over.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(over.status()), HasSubstr("big.txt: more than 100000 targets"));
  EXPECT_THAT(Message(over.status()), HasSubstr("split the list"));
}

TEST(RevocationBatchTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadRevocationBatch("/nonexistent/revoke.txt").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(RevocationTargetsFromFlagsTest, SerialsThenDevicesNamedByFlag) {
  const auto targets = RevocationTargetsFromFlags({"0A", "0b"}, {"D-1"});
  ASSERT_TRUE(targets.ok()) << targets.status();
  ASSERT_EQ(targets->size(), 3u);
  EXPECT_EQ((*targets)[0].where, "--serial #1");
  EXPECT_EQ(HexEncode((*targets)[1].id), "0b");
  EXPECT_EQ((*targets)[2].kind, Kind::kDevice);
  EXPECT_EQ((*targets)[2].where, "--device #1");

  EXPECT_THAT(Message(RevocationTargetsFromFlags({"0a", "zz"}, {}).status()),
              HasSubstr("--serial #2"));
  EXPECT_THAT(Message(RevocationTargetsFromFlags({}, {"ok", "not ok"}).status()),
              HasSubstr("--device #2"));
  EXPECT_THAT(Message(RevocationTargetsFromFlags({"0a", "a"}, {}).status()),
              HasSubstr("--serial #2: serial 0a repeats --serial #1"));
  EXPECT_EQ(RevocationTargetsFromFlags({}, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LocateTargetErrorTest, PrefixesTheTargetsPlace) {
  const auto targets = ParseRevocationBatch("# header\nserial 01\n\ndevice D-7\n", "b.txt");
  ASSERT_TRUE(targets.ok());
  const absl::Status located =
      LocateTargetError(absl::NotFoundError("targets[1].device_serial: no device D-7"), *targets);
  EXPECT_EQ(located.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(located.message(), "b.txt:4: targets[1].device_serial: no device D-7");

  // Nothing to locate: unchanged.
  const absl::Status other = absl::PermissionDeniedError("role factory may not call Revoke");
  EXPECT_EQ(LocateTargetError(other, *targets), other);
  const absl::Status out_of_range = absl::NotFoundError("targets[2].certificate_serial: no");
  EXPECT_EQ(LocateTargetError(out_of_range, *targets), out_of_range);
  const absl::Status garbled = absl::NotFoundError("targets[x]: no");
  EXPECT_EQ(LocateTargetError(garbled, *targets), garbled);
}

}  // namespace
}  // namespace keyline::cli
