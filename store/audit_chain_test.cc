#include "store/audit_chain.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/hex.h"

namespace keyline::store {
namespace {

absl::Time At(const char* rfc3339) {
  absl::Time time;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &time, &error)) << error;
  return time;
}

AuditEvent FirstEvent() {
  AuditEvent event;
  event.actor = "system:init";
  event.action = "ca.created";
  event.target = "root";
  event.details = {{"b", 1}, {"a", "x"}, {"n", {true, nullptr, -3}}};
  return event;
}

// Pins the exact bytes: any change here breaks every stored chain. The expected hashes were
// computed independently (Python hashlib over the same bytes).
TEST(AuditChainTest, CanonicalFormAndHashArePinned) {
  const auto canonical = CanonicalAuditEvent(1, At("2026-11-26T15:39:39.123456789Z"), FirstEvent());
  ASSERT_TRUE(canonical.ok()) << canonical.status();
  EXPECT_EQ(*canonical,
            R"({"action":"ca.created","actor":"system:init","details":{"a":"x","b":1,)"
            R"("n":[true,null,-3]},"occurred_at":"2026-11-26T15:39:39.123456Z","seq":1,)"
            R"("target":"root"})");
  const std::string first = AuditRowHash(GenesisAuditHash(), *canonical);
  EXPECT_EQ(HexEncode(first), "e10c034b5941052166d7ee69d748e0ca3704bb062d4046178d857f7a1fc2f8e0");

  AuditEvent second{"b", "a", "c", {{"name", "M\xc3\xbcller \xe2\x9c\x93"}}};
  const auto canonical2 = CanonicalAuditEvent(2, absl::FromUnixMicros(1), second);
  ASSERT_TRUE(canonical2.ok()) << canonical2.status();
  EXPECT_EQ(HexEncode(AuditRowHash(first, *canonical2)),
            "0c1890317705f7d54b05df5d52391bf4df043b77339468b9696902c2d144d901");
}

TEST(AuditChainTest, GenesisIsThirtyTwoZeroBytes) {
  EXPECT_EQ(GenesisAuditHash(), std::string(32, '\0'));
}

TEST(AuditChainTest, RejectsWhatJsonbWouldNotRoundTrip) {
  AuditEvent event = FirstEvent();
  event.details["ratio"] = 0.5;
  EXPECT_EQ(ValidateAuditEvent(event).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ValidateAuditEvent(event).message().find("details.ratio"), absl::string_view::npos);

  event = FirstEvent();
  event.details["nested"] = {{"list", {1, std::string("a\0b", 3)}}};
  EXPECT_EQ(ValidateAuditEvent(event).code(), absl::StatusCode::kInvalidArgument);

  event = FirstEvent();
  event.target = std::string("x\0", 2);
  EXPECT_EQ(ValidateAuditEvent(event).code(), absl::StatusCode::kInvalidArgument);

  event = FirstEvent();
  event.actor = "\xff\xfe";
  EXPECT_EQ(ValidateAuditEvent(event).code(), absl::StatusCode::kInvalidArgument);

  event = FirstEvent();
  event.details = nlohmann::json::array();
  EXPECT_EQ(ValidateAuditEvent(event).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(CanonicalAuditEvent(1, absl::UnixEpoch(), event).ok());

  EXPECT_TRUE(ValidateAuditEvent(FirstEvent()).ok());
}

std::vector<AuditRow> MakeChain(int length) {
  std::vector<AuditRow> rows;
  std::string prev = GenesisAuditHash();
  for (int i = 1; i <= length; ++i) {
    AuditRow row;
    row.seq = i;
    row.occurred_at = absl::FromUnixMicros(1'700'000'000'000'000 + i);
    row.event = FirstEvent();
    row.event.details["i"] = i;
    row.prev_hash = prev;
    row.row_hash = AuditRowHash(prev, *CanonicalAuditEvent(i, row.occurred_at, row.event));
    prev = row.row_hash;
    rows.push_back(row);
  }
  return rows;
}

TEST(AuditChainTest, VerifyAcceptsAnIntactChainAndItsTail) {
  const std::vector<AuditRow> rows = MakeChain(5);
  EXPECT_TRUE(VerifyAuditChain(rows).ok());
  EXPECT_TRUE(VerifyAuditChain(std::span(rows).subspan(2), 2, rows[1].row_hash).ok());
  EXPECT_TRUE(VerifyAuditChain({}).ok());
}

TEST(AuditChainTest, VerifyNamesTheFirstAlteredRemovedOrReorderedRow) {
  std::vector<AuditRow> altered = MakeChain(5);
  altered[2].event.target = "other";
  EXPECT_EQ(VerifyAuditChain(altered).code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(VerifyAuditChain(altered).message().find("row 3"), absl::string_view::npos);

  std::vector<AuditRow> removed = MakeChain(5);
  removed.erase(removed.begin() + 3);
  EXPECT_NE(VerifyAuditChain(removed).message().find("row 4 is missing"), absl::string_view::npos);

  std::vector<AuditRow> reordered = MakeChain(5);
  std::swap(reordered[1], reordered[2]);
  EXPECT_NE(VerifyAuditChain(reordered).message().find("row 2"), absl::string_view::npos);

  // Renumbered after a removal: seq is consecutive but the links are not.
  std::vector<AuditRow> renumbered = MakeChain(5);
  renumbered.erase(renumbered.begin() + 1);
  for (size_t i = 0; i < renumbered.size(); ++i) renumbered[i].seq = static_cast<int64_t>(i + 1);
  EXPECT_NE(VerifyAuditChain(renumbered).message().find("row 2: prev_hash"),
            absl::string_view::npos);
}

}  // namespace
}  // namespace keyline::store
