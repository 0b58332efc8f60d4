// The SQL migrations this binary was built with (migrations/NNNN_name.sql, embedded at build time
// by embed_migrations.cmake). store/migrator.h applies them; nothing else should run them.
#pragma once

#include <span>
#include <string_view>

namespace keyline::migrations {

struct Migration {
  int version;            // NNNN from the file name, without leading zeros
  std::string_view name;  // the file name, e.g. "0001_initial.sql"
  std::string_view sql;   // the file's exact contents (its checksum is recorded when applied)
};

// Every embedded migration, sorted by version; versions are unique and positive. The views point
// at static storage and stay valid for the life of the program.
std::span<const Migration> EmbeddedMigrations();

}  // namespace keyline::migrations
