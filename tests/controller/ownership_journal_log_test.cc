// The ownership journal's append-only log: replay, torn and corrupt lines, compaction at every
// crash point, and the state directories of earlier versions (a snapshot alone).
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "controller/ownership_journal.h"
#include "gtest/gtest.h"
#include "tests/controller/reconciler_test_util.h"

namespace kustodian {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing_util::ReadText;
using testing_util::ScopedDir;
using testing_util::WriteText;
using Step = OwnershipJournal::CompactionStep;
using Records = std::map<std::string, OwnershipRecord>;

OwnershipRecord Rec(const std::string& name, const std::string& hash = "") {
  OwnershipRecord r;
  r.id = absl::StrCat(
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kusto/clusters/c/databases/db/"
      "dataConnections/",
      name);
  r.kind = "EventHub";
  r.file = "m.yaml";
  r.since = absl::FromUnixSeconds(1'790'000'000);
  r.last_applied_hash = hash;
  return r;
}

// What a restarted daemon would load (read only).
Records OnDisk(const ScopedDir& dir) {
  absl::StatusOr<JournalContents> contents = OwnershipJournal::Load(dir.path());
  EXPECT_TRUE(contents.ok()) << contents.status();
  return contents.ok() ? contents->records : Records{};
}

TEST(OwnershipJournalLogTest, FlushAppendsOneLinePerChangedKeyAndReplays) {
  ScopedDir dir;
  const std::string log = dir.path() + "/managed.log";
  auto journal = OwnershipJournal::Open(dir.path());
  ASSERT_TRUE(journal.ok()) << journal.status();
  for (int i = 0; i < 50; ++i) {
    (*journal)->Add(absl::StrCat("k", i), Rec(absl::StrCat("c", i)));
  }
  ASSERT_TRUE((*journal)->Flush().ok());
  const size_t before = ReadText(log).size();
  // One change costs one line, not a rewrite of the 50 records.
  (*journal)->Add("k50", Rec("c50"));
  ASSERT_TRUE((*journal)->Flush().ok());
  const std::string text = ReadText(log);
  ASSERT_EQ(text.size(), before + OwnershipJournal::LogLine("k50", Rec("c50")).size());
  EXPECT_EQ(text.substr(before), OwnershipJournal::LogLine("k50", Rec("c50")));
  // Several changes of one key between flushes are one line with the last value.
  EXPECT_TRUE((*journal)->SetLastAppliedHash("k1", "h1"));
  EXPECT_TRUE((*journal)->SetLastAppliedHash("k1", "h2"));
  EXPECT_TRUE((*journal)->Remove("k2"));
  ASSERT_TRUE((*journal)->Flush().ok());
  EXPECT_EQ(ReadText(log).substr(text.size()), OwnershipJournal::LogLine("k1", Rec("c1", "h2")) +
                                                   OwnershipJournal::LogLine("k2", std::nullopt));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/managed.json"));

  auto reloaded = OwnershipJournal::Open(dir.path());
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_EQ((*reloaded)->All(), (*journal)->All());
  EXPECT_EQ((*reloaded)->size(), 50u);
  EXPECT_EQ((*reloaded)->Get("k1")->last_applied_hash, "h2");
  EXPECT_FALSE((*reloaded)->Contains("k2"));
  EXPECT_THAT((*reloaded)->load_warnings(), IsEmpty());
  EXPECT_FALSE((*reloaded)->Dirty());
}

TEST(OwnershipJournalLogTest, LogIsReplayedOverTheSnapshot) {
  ScopedDir dir;
  WriteText(dir.path() + "/managed.json",
            OwnershipJournal::Serialize({{"a", Rec("a")}, {"b", Rec("b")}, {"c", Rec("c")}}));
  WriteText(dir.path() + "/managed.log",
            OwnershipJournal::LogLine("b", std::nullopt) +
                OwnershipJournal::LogLine("c", Rec("c", "new")) +
                OwnershipJournal::LogLine("d", Rec("d")) +
                OwnershipJournal::LogLine("d", std::nullopt) +
                OwnershipJournal::LogLine("e", Rec("e")) +
                // A line whose change the snapshot already holds is harmless.
                OwnershipJournal::LogLine("a", Rec("a")));
  auto journal = OwnershipJournal::Open(dir.path());
  ASSERT_TRUE(journal.ok()) << journal.status();
  EXPECT_EQ((*journal)->All(), (Records{{"a", Rec("a")}, {"c", Rec("c", "new")}, {"e", Rec("e")}}));
}

TEST(OwnershipJournalLogTest, TornLastLineIsIgnoredReportedAndCutOff) {
  const std::string good =
      OwnershipJournal::LogLine("a", Rec("a")) + OwnershipJournal::LogLine("b", Rec("b"));
  const std::string next = OwnershipJournal::LogLine("c", Rec("c"));
  // A crash in the middle of an append: a prefix of the line, the line without its newline,
  // or (power loss) zeros, or a complete line of garbage.
  for (const std::string& tail : {next.substr(0, 20), next.substr(0, next.size() - 1),
                                  std::string(37, '\0'), std::string("{\"op\":\"put\",\"k\n")}) {
    ScopedDir dir;
    const std::string log = dir.path() + "/managed.log";
    WriteText(log, good + tail);
    absl::StatusOr<JournalContents> loaded = OwnershipJournal::Load(dir.path());
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->log_valid_bytes, good.size());
    EXPECT_EQ(ReadText(log), good + tail) << "Load changes nothing";

    auto journal = OwnershipJournal::Open(dir.path());
    ASSERT_TRUE(journal.ok()) << journal.status();
    EXPECT_EQ((*journal)->All(), (Records{{"a", Rec("a")}, {"b", Rec("b")}}));
    ASSERT_EQ((*journal)->load_warnings().size(), 2u);
    EXPECT_THAT((*journal)->load_warnings()[0], HasSubstr("managed.log line 3"));
    EXPECT_THAT((*journal)->load_warnings()[0], HasSubstr("incomplete last line"));
    EXPECT_THAT((*journal)->load_warnings()[1], HasSubstr(absl::StrCat("cut ", tail.size())));
    EXPECT_EQ(ReadText(log), good) << "the torn line is cut off";

    // The next append follows the last good line, so the log stays loadable.
    (*journal)->Add("d", Rec("d"));
    ASSERT_TRUE((*journal)->Flush().ok());
    auto reloaded = OwnershipJournal::Open(dir.path());
    ASSERT_TRUE(reloaded.ok()) << reloaded.status();
    EXPECT_EQ((*reloaded)->size(), 3u);
    EXPECT_THAT((*reloaded)->load_warnings(), IsEmpty());
  }
}

TEST(OwnershipJournalLogTest, CorruptLineBeforeTheLastIsAnErrorNamingFileAndLine) {
  const std::string a = OwnershipJournal::LogLine("a", Rec("a"));
  const std::string z = OwnershipJournal::LogLine("z", Rec("z"));
  for (const std::string& bad :
       {std::string("{not json\n"), std::string("[1]\n"), std::string("\n"),
        std::string("{\"op\":\"merge\",\"key\":\"k\"}\n"), std::string("{\"op\":\"put\"}\n"),
        std::string("{\"op\":\"put\",\"key\":\"k\"}\n"),
        std::string("{\"op\":\"put\",\"key\":\"k\",\"record\":{\"kind\":\"EventHub\"}}\n"),
        std::string(
            "{\"op\":\"put\",\"key\":\"k\",\"record\":{\"id\":\"/x\",\"deletion\":7}}\n")}) {
    ScopedDir dir;
    WriteText(dir.path() + "/managed.log", a + bad + z);
    auto journal = OwnershipJournal::Open(dir.path());
    ASSERT_FALSE(journal.ok()) << bad;
    EXPECT_TRUE(absl::IsDataLoss(journal.status())) << journal.status();
    const std::string message(journal.status().message());
    EXPECT_THAT(message, HasSubstr("managed.log line 2: ")) << bad;
    EXPECT_THAT(message, HasSubstr("Refusing to start"));
    EXPECT_FALSE(OwnershipJournal::Load(dir.path()).ok()) << "the CLI refuses too";
  }
}

// Compaction stopped at each of its steps (as kill -9 would stop it) leaves files from which
// every record acknowledged by Flush loads, and a journal reopened there goes on working.
TEST(OwnershipJournalLogTest, CompactionKeepsEveryRecordAtEveryCrashPoint) {
  for (Step crash_at : {Step::kBeforeSnapshot, Step::kAfterSnapshot, Step::kAfterTruncate}) {
    SCOPED_TRACE(static_cast<int>(crash_at));
    ScopedDir dir;
    Records expected;
    {
      // A small floor: the log is compacted whenever it outgrows the snapshot.
      auto journal = OwnershipJournal::Open(dir.path(), {.compact_min_bytes = 2048});
      ASSERT_TRUE(journal.ok()) << journal.status();
      int compactions = 0;
      bool crashed = false;
      (*journal)->SetCompactionHookForTest([&](Step step) {
        if (step == Step::kAfterTruncate) {
          ++compactions;
        }
        // The second compaction "crashes" (a first one has left a snapshot behind).
        if (compactions >= 1 && step == crash_at && !crashed) {
          crashed = true;
          return absl::AbortedError("simulated kill -9");
        }
        return absl::OkStatus();
      });
      for (int i = 0; !crashed; ++i) {
        ASSERT_LT(i, 1000) << "no compaction happened";
        (*journal)->Add(absl::StrCat("k", i), Rec(absl::StrCat("c", i)));
        if (i % 3 == 0) {
          (*journal)->SetLastAppliedHash(absl::StrCat("k", i / 2), absl::StrCat("h", i));
        }
        if (i % 5 == 0) {
          (*journal)->Remove(absl::StrCat("k", i / 3));
        }
        ASSERT_TRUE((*journal)->Flush().ok()) << "the lines were appended before compacting";
        EXPECT_EQ(OnDisk(dir), (*journal)->All()) << "after flush " << i;
      }
      expected = (*journal)->All();
      // The journal is abandoned here, as a killed process would leave it.
    }
    if (crash_at == Step::kAfterSnapshot) {
      EXPECT_GT(ReadText(dir.path() + "/managed.log").size(), 0u) << "the old log is still there";
    }
    auto reopened = OwnershipJournal::Open(dir.path(), {.compact_min_bytes = 2048});
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    EXPECT_EQ((*reopened)->All(), expected);
    EXPECT_THAT((*reopened)->load_warnings(), IsEmpty());
    (*reopened)->Add("after", Rec("after"));
    ASSERT_TRUE((*reopened)->Flush().ok());
    ASSERT_TRUE((*reopened)->Compact().ok());
    expected["after"] = Rec("after");
    EXPECT_EQ(OnDisk(dir), expected);
    EXPECT_EQ(ReadText(dir.path() + "/managed.log"), "");
  }
}

// A crash inside the snapshot's atomic replacement leaves a temporary file beside the old
// snapshot; it is not read.
TEST(OwnershipJournalLogTest, LeftoverSnapshotTempFileIsIgnored) {
  ScopedDir dir;
  WriteText(dir.path() + "/managed.json", OwnershipJournal::Serialize({{"a", Rec("a")}}));
  WriteText(dir.path() + "/managed.log", OwnershipJournal::LogLine("b", Rec("b")));
  WriteText(dir.path() + "/managed.json.4242.tmp", "{\"connections\": {\"x");
  EXPECT_EQ(OnDisk(dir), (Records{{"a", Rec("a")}, {"b", Rec("b")}}));
}

// The state directory of an earlier version (managed.json alone, the same format) loads, keeps
// working with a log beside it, and a clean shutdown leaves a snapshot that version can read.
TEST(OwnershipJournalLogTest, StateDirOfTheSingleFileFormatMigrates) {
  ScopedDir dir;
  const std::string old_text =
      "{\n  \"connections\": {\n    \"k1\": {\n      \"createdAt\": \"2026-09-21T14:13:20Z\",\n"
      "      \"deletion\": \"Delete\",\n      \"file\": \"m.yaml\",\n      \"id\": \"/x/k1\",\n"
      "      \"kind\": \"EventHub\",\n      \"lastAppliedHash\": \"abc\"\n    }\n  },\n"
      "  \"version\": 1\n}\n";
  WriteText(dir.path() + "/managed.json", old_text);
  {
    auto journal = OwnershipJournal::Open(dir.path());
    ASSERT_TRUE(journal.ok()) << journal.status();
    ASSERT_EQ((*journal)->size(), 1u);
    EXPECT_EQ((*journal)->Get("k1")->last_applied_hash, "abc");
    EXPECT_EQ((*journal)->Get("k1")->since, absl::FromUnixSeconds(1'790'000'000));
    (*journal)->Add("k2", Rec("k2"));
    ASSERT_TRUE((*journal)->Flush().ok());
    EXPECT_EQ(ReadText(dir.path() + "/managed.json"), old_text) << "a flush only appends";
  }
  auto journal = OwnershipJournal::Open(dir.path());
  ASSERT_TRUE(journal.ok()) << journal.status();
  EXPECT_EQ((*journal)->size(), 2u);
  ASSERT_TRUE((*journal)->Compact().ok());
  auto parsed = OwnershipJournal::Parse(ReadText(dir.path() + "/managed.json"));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, (*journal)->All());
}

TEST(OwnershipJournalLogTest, FailedFlushKeepsTheChangesPending) {
  ScopedDir dir;
  auto journal = OwnershipJournal::Open(dir.path());
  ASSERT_TRUE(journal.ok()) << journal.status();
  (*journal)->Add("a", Rec("a"));
  // A directory where the log should be: the log cannot be opened.
  std::filesystem::create_directory(dir.path() + "/managed.log");
  absl::Status failed = (*journal)->Flush();
  EXPECT_FALSE(failed.ok());
  EXPECT_THAT(std::string(failed.message()), HasSubstr("managed.log"));
  EXPECT_TRUE((*journal)->Dirty());
  std::filesystem::remove(dir.path() + "/managed.log");
  ASSERT_TRUE((*journal)->Flush().ok());
  EXPECT_FALSE((*journal)->Dirty());
  EXPECT_EQ(OnDisk(dir), (Records{{"a", Rec("a")}}));
}

TEST(OwnershipJournalLogTest, LogStaysWithinItsBound) {
  ScopedDir dir;
  auto journal = OwnershipJournal::Open(dir.path(), {.compact_min_bytes = 4096});
  ASSERT_TRUE(journal.ok()) << journal.status();
  for (int i = 0; i < 120; ++i) {
    (*journal)->Add(absl::StrCat("k", i % 20), Rec(absl::StrCat("c", i % 20), absl::StrCat(i)));
    ASSERT_TRUE((*journal)->Flush().ok());
    const uint64_t log = std::filesystem::file_size(dir.path() + "/managed.log");
    const uint64_t snapshot = std::filesystem::exists(dir.path() + "/managed.json")
                                  ? std::filesystem::file_size(dir.path() + "/managed.json")
                                  : 0;
    ASSERT_LE(log, std::max<uint64_t>(4096, snapshot)) << "after flush " << i;
  }
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/managed.json"));
  EXPECT_EQ(OnDisk(dir), (*journal)->All());
}

TEST(OwnershipJournalLogTest, LoadOfAMissingDirectoryIsEmptyAndCreatesNothing) {
  ScopedDir dir;
  absl::StatusOr<JournalContents> loaded = OwnershipJournal::Load(dir.path() + "/none");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->records.empty());
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/none"));
}

}  // namespace
}  // namespace kustodian
