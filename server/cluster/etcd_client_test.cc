// EtcdClient and Watch against a real etcd (Debian's etcd-server), started by the fixture on
// loopback ports picked at run time, with a fresh data directory.
#include "server/cluster/etcd_client.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

extern char** environ;

namespace riffle::cluster {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using ::testing::HasSubstr;

constexpr const char* kEtcdBinary = "/usr/bin/etcd";

// A loopback port nothing listens on right now.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

std::string Url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

// One etcd process. Stop kills it as a crash would; Start again keeps its ports and data.
class EtcdServer {
 public:
  EtcdServer() {
    std::string pattern = std::filesystem::temp_directory_path() / "riffle-etcd-test-XXXXXX";
    dir_ = mkdtemp(pattern.data()) != nullptr ? pattern : "";
  }
  ~EtcdServer() {
    Stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Waits up to 20 s for etcd to answer; picks fresh ports if another process took ours.
  Status Start() {
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (client_port_ == 0 || attempt > 0) {
        client_port_ = FreePort();
        peer_port_ = FreePort();
      }
      if (Launch()) {
        return Status();
      }
    }
    return Status(ErrorCode::kServiceUnavailable, "etcd did not start; its log:\n" + LogTail());
  }
  void Stop() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = 0;
    }
  }
  std::string endpoint() const { return Url(client_port_); }

 private:
  bool Launch() {
    const std::string log = (dir_ / "etcd.log").string();
    const std::vector<std::string> argv = {
        kEtcdBinary, "--name", "test", "--data-dir", (dir_ / "data").string(),
        "--listen-client-urls", Url(client_port_), "--advertise-client-urls", Url(client_port_),
        "--listen-peer-urls", Url(peer_port_), "--initial-advertise-peer-urls", Url(peer_port_),
        "--initial-cluster", "test=" + Url(peer_port_),
        // Short timeouts elect the lone member sooner and let a lease's TTL be 1 s.
        "--election-timeout", "500", "--heartbeat-interval", "50"};
    std::vector<char*> args;
    for (const std::string& arg : argv) {
      args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    const int error = posix_spawn(&pid_, kEtcdBinary, &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) {
      pid_ = 0;
      return false;
    }
    for (auto deadline = steady_clock::now() + seconds(20); steady_clock::now() < deadline;) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = 0;
        return false;
      }
      if (EtcdClient::Connect({endpoint()}, milliseconds(500)).ok()) {
        return true;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    Stop();
    return false;
  }
  std::string LogTail() const {
    std::ifstream in(dir_ / "etcd.log");
    std::stringstream contents;
    contents << in.rdbuf();
    const std::string log = contents.str();
    return log.size() > 4000 ? log.substr(log.size() - 4000) : log;
  }

  std::filesystem::path dir_;
  pid_t pid_ = 0;
  int client_port_ = 0;
  int peer_port_ = 0;
};

// Collects a watch's events for the test thread.
class EventLog {
 public:
  void Add(const WatchEvent& event) {
    std::lock_guard lock(mu_);
    events_.push_back(event);
    cv_.notify_all();
  }
  // The events once there are `count`, or all there are after `timeout`.
  std::vector<WatchEvent> WaitFor(size_t count, milliseconds timeout = seconds(10)) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return events_.size() >= count; });
    return events_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WatchEvent> events_;
};

class EtcdClientTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kEtcdBinary))
        << kEtcdBinary << " is missing: install Debian's etcd-server "
        << "(apt-get install -y etcd-server; scripts/test installs it)";
    if (server_ == nullptr) {
      auto server = std::make_unique<EtcdServer>();
      Status started = server->Start();
      ASSERT_TRUE(started.ok()) << started.message();
      server_ = std::move(server);
    }
    auto client = EtcdClient::Connect({server_->endpoint()}, seconds(2));
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
    prefix_ = std::string("/") + ::testing::UnitTest::GetInstance()->current_test_info()->name() +
              "/";
  }

  std::unique_ptr<Watch> WatchInto(EventLog& log, int64_t start_revision) {
    return client_->WatchPrefix(prefix_, start_revision,
                                [&log](const WatchEvent& event) { log.Add(event); });
  }
  int64_t NextRevision() { return client_->GetPrefix(prefix_)->revision + 1; }

  static std::unique_ptr<EtcdServer> server_;
  std::unique_ptr<EtcdClient> client_;
  std::string prefix_;  // the test's own keys
};

std::unique_ptr<EtcdServer> EtcdClientTest::server_;

TEST_F(EtcdClientTest, PutGetPrefixAndDelete) {
  const std::string binary("\0\xff\x01value", 8);
  StatusOr<int64_t> first = client_->Put(prefix_ + "a", binary);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  StatusOr<std::optional<KeyValue>> a = client_->Get(prefix_ + "a");
  ASSERT_TRUE(a.ok() && a->has_value()) << a.status().ToString();
  EXPECT_EQ((*a)->value, binary);
  EXPECT_EQ((*a)->create_revision, *first);
  EXPECT_EQ((*a)->mod_revision, *first);
  EXPECT_EQ((*a)->version, 1);
  EXPECT_EQ((*a)->lease, 0);

  StatusOr<int64_t> second = client_->Put(prefix_ + "a", "");
  ASSERT_TRUE(second.ok());
  EXPECT_GT(*second, *first);
  a = client_->Get(prefix_ + "a");
  EXPECT_EQ((*a)->value, "");
  EXPECT_EQ((*a)->version, 2);
  EXPECT_EQ((*a)->create_revision, *first);
  EXPECT_EQ((*a)->mod_revision, *second);
  EXPECT_FALSE(client_->Get(prefix_ + "missing")->has_value());

  ASSERT_TRUE(client_->Put(prefix_ + "c", "3").ok());
  ASSERT_TRUE(client_->Put(prefix_ + "b", "2").ok());
  ASSERT_TRUE(client_->Put(prefix_ + "\xff\xff", "top").ok());  // the last key under prefix_
  ASSERT_TRUE(client_->Put(prefix_.substr(0, prefix_.size() - 1) + "0", "beside").ok());
  StatusOr<RangeResult> all = client_->GetPrefix(prefix_);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->kvs.size(), 4u);
  EXPECT_EQ(all->kvs[0].key, prefix_ + "a");
  EXPECT_EQ(all->kvs[1].key, prefix_ + "b");
  EXPECT_EQ(all->kvs[2].key, prefix_ + "c");
  EXPECT_EQ(all->kvs[3].key, prefix_ + "\xff\xff");
  EXPECT_GE(all->revision, *second);
  EXPECT_EQ(client_->GetPrefix(prefix_ + "\xff")->kvs.size(), 1u);

  EXPECT_EQ(*client_->Delete(prefix_ + "a"), 1);
  EXPECT_EQ(*client_->Delete(prefix_ + "a"), 0);
  EXPECT_EQ(*client_->DeletePrefix(prefix_), 3);
  EXPECT_TRUE(client_->GetPrefix(prefix_)->kvs.empty());
  EXPECT_TRUE(client_->Get(prefix_.substr(0, prefix_.size() - 1) + "0")->has_value());
}

TEST_F(EtcdClientTest, TransactionsCompareAndSwap) {
  const std::string key = prefix_ + "leader";
  EXPECT_TRUE(*client_->PutIfModRevision(key, "n1", 0));
  EXPECT_FALSE(*client_->PutIfModRevision(key, "n2", 0));  // exists already
  const int64_t revision = (*client_->Get(key))->mod_revision;
  EXPECT_FALSE(*client_->PutIfModRevision(key, "n2", revision - 1));
  EXPECT_TRUE(*client_->PutIfModRevision(key, "n2", revision));
  EXPECT_FALSE(*client_->PutIfModRevision(key, "n3", revision));  // stale now
  EXPECT_EQ((*client_->Get(key))->value, "n2");

  using R = Compare::Result;
  StatusOr<TxnResult> won = client_->Txn(
      {Compare::Value(key, R::kEqual, "n2"), Compare::Version(key, R::kGreater, 1),
       Compare::CreateRevision(key, R::kLess, revision + 1)},
      {Op::Put(prefix_ + "epoch", "7"), Op::GetPrefix(prefix_), Op::Get(prefix_ + "none")},
      {Op::Get(key)});
  ASSERT_TRUE(won.ok()) << won.status().ToString();
  EXPECT_TRUE(won->succeeded);
  ASSERT_EQ(won->ranges.size(), 2u);
  ASSERT_EQ(won->ranges[0].size(), 2u);
  EXPECT_EQ(won->ranges[0][0].key, prefix_ + "epoch");
  EXPECT_EQ(won->ranges[0][0].mod_revision, won->revision);
  EXPECT_TRUE(won->ranges[1].empty());

  StatusOr<TxnResult> lost = client_->Txn(
      {Compare::Value(key, R::kNotEqual, "n2")}, {Op::Delete(key)},
      {Op::Get(key), Op::DeletePrefix(prefix_ + "ep"), Op::Get(prefix_ + "epoch")});
  ASSERT_TRUE(lost.ok());
  EXPECT_FALSE(lost->succeeded);
  ASSERT_EQ(lost->ranges.size(), 2u);
  EXPECT_EQ(lost->ranges[0].at(0).value, "n2");
  EXPECT_TRUE(lost->ranges[1].empty());

  const int64_t current = (*client_->Get(key))->mod_revision;
  EXPECT_FALSE(*client_->DeleteIfModRevision(key, current - 1));
  EXPECT_TRUE(*client_->DeleteIfModRevision(key, current));
  EXPECT_FALSE(client_->Get(key)->has_value());
}

TEST_F(EtcdClientTest, AnExpiredLeaseDeletesItsKeys) {
  StatusOr<int64_t> lease = client_->GrantLease(seconds(1));
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  ASSERT_TRUE(client_->Put(prefix_ + "node", "alive", *lease).ok());
  EXPECT_EQ((*client_->Get(prefix_ + "node"))->lease, *lease);

  const auto deadline = steady_clock::now() + seconds(10);
  while (client_->Get(prefix_ + "node")->has_value() && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_FALSE(client_->Get(prefix_ + "node")->has_value());
  StatusOr<seconds> renewed = client_->KeepAliveOnce(*lease);
  EXPECT_EQ(renewed.status().code(), ErrorCode::kResourceNotFound);
  StatusOr<int64_t> put = client_->Put(prefix_ + "node", "again", *lease);
  EXPECT_EQ(put.status().code(), ErrorCode::kResourceNotFound) << put.status().ToString();
}

TEST_F(EtcdClientTest, KeepAliveKeepsTheKeyAndRevokeDeletesIt) {
  StatusOr<int64_t> lease = client_->GrantLease(seconds(1));
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(client_->Put(prefix_ + "node", "alive", *lease).ok());
  StatusOr<seconds> ttl = client_->KeepAliveOnce(*lease);
  ASSERT_TRUE(ttl.ok()) << ttl.status().ToString();
  EXPECT_GE(*ttl, seconds(1));

  const auto until = steady_clock::now() + 3 * *ttl;
  while (steady_clock::now() < until) {
    ASSERT_TRUE(client_->KeepAliveOnce(*lease).ok());
    std::this_thread::sleep_for(milliseconds(200));
  }
  EXPECT_TRUE(client_->Get(prefix_ + "node")->has_value());

  EXPECT_TRUE(client_->RevokeLease(*lease).ok());
  EXPECT_FALSE(client_->Get(prefix_ + "node")->has_value());
  EXPECT_EQ(client_->RevokeLease(*lease).code(), ErrorCode::kResourceNotFound);
}

TEST_F(EtcdClientTest, WatchDeliversPutsAndDeletesInOrder) {
  EventLog log;
  std::unique_ptr<Watch> watch = WatchInto(log, NextRevision());
  const int64_t put_a = *client_->Put(prefix_ + "a", "1");
  const int64_t put_b = *client_->Put(prefix_ + "b", "2");
  ASSERT_TRUE(client_->Put("/elsewhere", "not watched").ok());
  ASSERT_EQ(*client_->Delete(prefix_ + "a"), 1);

  std::vector<WatchEvent> events = log.WaitFor(3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, WatchEvent::Type::kPut);
  EXPECT_EQ(events[0].kv.key, prefix_ + "a");
  EXPECT_EQ(events[0].kv.value, "1");
  EXPECT_EQ(events[0].revision, put_a);
  EXPECT_EQ(events[1].type, WatchEvent::Type::kPut);
  EXPECT_EQ(events[1].kv.key, prefix_ + "b");
  EXPECT_EQ(events[1].revision, put_b);
  EXPECT_EQ(events[2].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(events[2].kv.key, prefix_ + "a");
  EXPECT_GT(events[2].revision, put_b);

  // From an old revision, the history comes again.
  EventLog replay;
  std::unique_ptr<Watch> from_start = WatchInto(replay, put_a);
  EXPECT_EQ(replay.WaitFor(3).size(), 3u);

  const auto before = steady_clock::now();
  watch.reset();
  from_start->Stop();
  EXPECT_LT(steady_clock::now() - before, milliseconds(200));
}

TEST_F(EtcdClientTest, WatchFromNowSeesOnlyLaterWrites) {
  ASSERT_TRUE(client_->Put(prefix_ + "old", "x").ok());
  EventLog log;
  std::unique_ptr<Watch> watch = WatchInto(log, 0);
  // Writes made before etcd created the watch are history, not news; write until one is news.
  std::vector<WatchEvent> events;
  for (int i = 0; i < 100 && events.empty(); ++i) {
    ASSERT_TRUE(client_->Put(prefix_ + "new", std::to_string(i)).ok());
    events = log.WaitFor(1, milliseconds(100));
  }
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].kv.key, prefix_ + "new");
}

TEST_F(EtcdClientTest, WatchResumesAfterEtcdRestartsWithoutRepeats) {
  EventLog log;
  std::unique_ptr<Watch> watch = WatchInto(log, NextRevision());
  ASSERT_TRUE(client_->Put(prefix_ + "x", "1").ok());
  ASSERT_EQ(log.WaitFor(1).size(), 1u);

  server_->Stop();
  std::this_thread::sleep_for(milliseconds(300));
  {
    // A watch that is waiting to reconnect stops promptly too.
    EventLog ignored;
    std::unique_ptr<Watch> retrying = WatchInto(ignored, 1);
    std::this_thread::sleep_for(milliseconds(300));
    const auto before = steady_clock::now();
    retrying.reset();
    EXPECT_LT(steady_clock::now() - before, milliseconds(200));
  }
  ASSERT_TRUE(server_->Start().ok());
  ASSERT_TRUE(client_->Put(prefix_ + "y", "2").ok());
  ASSERT_EQ(*client_->Delete(prefix_ + "x"), 1);

  std::vector<WatchEvent> events = log.WaitFor(3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kv.key, prefix_ + "x");
  EXPECT_EQ(events[1].kv.key, prefix_ + "y");
  EXPECT_EQ(events[2].kv.key, prefix_ + "x");
  EXPECT_EQ(events[2].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(log.WaitFor(4, milliseconds(300)).size(), 3u) << "an event came twice";
}

TEST_F(EtcdClientTest, WatchReportsCompactedHistory) {
  const int64_t first = *client_->Put(prefix_ + "k", "1");
  const int64_t second = *client_->Put(prefix_ + "k", "2");
  ASSERT_TRUE(client_->Compact(second).ok());
  std::mutex mu;
  std::condition_variable cv;
  int64_t compacted = 0;
  std::unique_ptr<Watch> watch = client_->WatchPrefix(
      prefix_, first, [](const WatchEvent&) { ADD_FAILURE() << "no event predates compaction"; },
      [&](int64_t revision) {
        std::lock_guard lock(mu);
        compacted = revision;
        cv.notify_all();
      });
  std::unique_lock lock(mu);
  cv.wait_for(lock, seconds(10), [&] { return compacted != 0; });
  EXPECT_EQ(compacted, second);
}

TEST_F(EtcdClientTest, UnreachableEtcdIsServiceUnavailableQuickly) {
  const std::string dead = Url(FreePort());
  const auto before = steady_clock::now();
  auto client = EtcdClient::Connect({dead}, seconds(2));
  EXPECT_LT(steady_clock::now() - before, milliseconds(500));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), ErrorCode::kServiceUnavailable);
  EXPECT_THAT(client.status().message(), HasSubstr("etcd is unreachable: " + dead));

  // A server that accepts the connection but never answers: the call gives up at the timeout.
  const int silent = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(bind(silent, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(silent, 8), 0);
  getsockname(silent, reinterpret_cast<sockaddr*>(&address), &length);
  const auto asked = steady_clock::now();
  auto hung = EtcdClient::Connect({Url(ntohs(address.sin_port))}, milliseconds(300));
  EXPECT_LT(steady_clock::now() - asked, milliseconds(1000));
  close(silent);
  EXPECT_EQ(hung.status().code(), ErrorCode::kServiceUnavailable);
  EXPECT_THAT(hung.status().message(), HasSubstr("did not answer"));

  auto bad = EtcdClient::Connect({"https://127.0.0.1:2379"}, seconds(2));
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("https://127.0.0.1:2379"));
}

TEST_F(EtcdClientTest, FailsOverToTheNextEndpoint) {
  auto client = EtcdClient::Connect({Url(FreePort()), server_->endpoint()}, seconds(2));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->Put(prefix_ + "k", "v").ok());
  EXPECT_EQ((*(*client)->Get(prefix_ + "k"))->value, "v");

  EventLog log;
  std::unique_ptr<Watch> watch = (*client)->WatchPrefix(
      prefix_, NextRevision(), [&log](const WatchEvent& event) { log.Add(event); });
  ASSERT_TRUE(client_->Put(prefix_ + "k", "w").ok());
  std::vector<WatchEvent> events = log.WaitFor(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.value, "w");
}

}  // namespace
}  // namespace riffle::cluster
