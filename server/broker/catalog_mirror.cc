// A cluster's catalog changes, made by the controller and copied through etcd, applied to this
// node's streams: the same in-memory state a local CreateStream, reshard or DeleteStream leaves.
#include <fmt/format.h>

#include "server/broker/broker_impl.h"
#include "storage/catalog_change.h"

namespace riffle::broker {

Status BrokerImpl::ApplyCatalogChange(const storage::CatalogChange& change) {
  RIFFLE_RETURN_IF_ERROR(store_.ApplyCatalog(change));
  MirrorGroups(change);
  MutexLock create_lock(&create_mu_);
  for (const auto& [key, value] : change.puts) {
    if (key == storage::kCatalogNextStreamIdKey && value.size() == 8) {
      next_stream_id_ = std::max(next_stream_id_, ReadBigEndian64(value, 0));
    } else if (key.starts_with(storage::kCatalogStreamPrefix)) {
      std::optional<storage::StreamMeta> meta = storage::DecodeStreamMeta(value);
      if (!meta) {
        return Status(ErrorCode::kInternalFailure, "corrupt replicated catalog entry " + key);
      }
      next_stream_id_ = std::max(next_stream_id_, meta->id + 1);
      RIFFLE_RETURN_IF_ERROR(MirrorStream(std::move(*meta)));
    }
  }
  for (const std::string& key : change.deletes) {
    if (!key.starts_with(storage::kCatalogStreamPrefix)) {
      continue;
    }
    if (std::shared_ptr<Stream> stream =
            FindStream(key.substr(storage::kCatalogStreamPrefix.size()))) {
      ForgetStream(stream);
    }
  }
  return Status();
}

Status BrokerImpl::MirrorStream(storage::StreamMeta meta) {
  std::shared_ptr<Stream> existing = FindStream(meta.name);
  if (existing && existing->id != meta.id) {
    ForgetStream(existing);  // deleted and created again meanwhile
    existing = nullptr;
  }
  if (!existing) {
    const std::string name = meta.name;
    RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, BuildStream(std::move(meta)));
    WriterMutexLock lock(&streams_mu_);
    streams_by_id_[stream->id] = stream;
    streams_[name] = std::move(stream);
    return Status();
  }
  MutexLock control(&existing->control_mu);
  // Writers must not route to a shard the controller has closed: the same exclusion a local
  // reshard takes.
  WriterMutexLock no_new_appends(&existing->append_mu);
  const std::shared_ptr<const ShardSet> previous = existing->shards();
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<const ShardSet> shards,
                          BuildShardSet(meta, previous.get()));
  std::vector<uint32_t> expired;
  for (const auto& shard : previous->all) {
    if (shards->Find(shard->meta.ordinal) == nullptr) {
      expired.push_back(shard->meta.ordinal);
    }
  }
  RIFFLE_RETURN_IF_ERROR(store_.DropShards(existing->id, expired));
  MutexLock lock(&existing->mu);
  existing->meta = std::move(meta);
  existing->shard_set = std::move(shards);
  return Status();
}

void BrokerImpl::ForgetStream(const std::shared_ptr<Stream>& stream) {
  const std::string name = stream->Snapshot().name;
  {
    WriterMutexLock lock(&streams_mu_);
    streams_.erase(name);
    streams_by_id_.erase(stream->id);
  }
  if (observer_ != nullptr) {
    observer_->StreamDeleted(name);
  }
  store_.DropShardsInBackground(stream->id, stream->shards()->Ordinals());
}

}  // namespace riffle::broker
