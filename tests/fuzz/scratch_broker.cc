#include "tests/fuzz/scratch_broker.h"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "common/clock.h"
#include "storage/store.h"

namespace riffle::fuzz {
namespace {

// A store and broker in a scratch directory, removed with it.
class ScratchBroker {
 public:
  ScratchBroker() {
    char dir[] = "/tmp/riffle-fuzz-XXXXXX";
    dir_ = mkdtemp(dir);
    storage::StoreOptions store_options;
    store_options.data_dir = dir_;
    store_options.fsync = storage::FsyncMode::kNever;
    store_ = storage::Store::Open(store_options).value();
    broker::BrokerOptions options;
    options.shard_limit = 8;
    // AWS's call rates would refuse nearly every fuzzed call at thousands of inputs a second,
    // before it reaches the request's validation; the rate limiter reads no client bytes.
    options.shard_quotas = false;
    broker_ = broker::Broker::Open(*store_, clock_, options).value();
  }
  ~ScratchBroker() {
    // A fuzzed put answers from the commit pipeline after the input is done; those answers
    // reach into the broker, so they complete before it goes, as riffled drains at shutdown.
    store_->pipeline().Drain();
    broker_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  broker::Broker& broker() { return *broker_; }

 private:
  std::filesystem::path dir_;
  SystemClock clock_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<broker::Broker> broker_;
};

constexpr int kInputsPerScratch = 20000;

// Not a static object: RocksDB's own statics, made when the first store opens, must still be
// there when the last store closes, so it is closed by an exit handler registered after them.
ScratchBroker* scratch = nullptr;

void CloseScratch() {
  delete scratch;
  scratch = nullptr;
}

}  // namespace

broker::Broker& ScratchBrokerForInput() {
  static int inputs = 0;
  if (inputs++ % kInputsPerScratch == 0) {
    const bool first = scratch == nullptr;
    CloseScratch();
    scratch = new ScratchBroker();
    if (first) {
      std::atexit(CloseScratch);
    }
  }
  return scratch->broker();
}

}  // namespace riffle::fuzz
