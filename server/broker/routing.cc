// Where requests go, for a cluster's router: the same routing the data plane uses, without
// doing anything. Any doubt answers nullopt, and the operation judges the request itself.
#include "server/broker/broker_impl.h"

namespace riffle::broker {

std::optional<ShardRef> BrokerImpl::RouteRecord(
    const RequestContext& ctx, const StreamRef& ref,
    const std::optional<std::string>& partition_key,
    const std::optional<std::string>& explicit_hash_key) const {
  if (!partition_key || partition_key->empty()) {
    return std::nullopt;
  }
  StatusOr<std::shared_ptr<Stream>> stream = ResolveStream(ctx, ref);
  if (!stream.ok()) {
    return std::nullopt;
  }
  storage::HashKey hash_key = 0;
  if (!HashKeyOf(explicit_hash_key, *partition_key, hash_key).ok()) {
    return std::nullopt;
  }
  const std::shared_ptr<const ShardSet> shards = (*stream)->shards();
  return ShardRef{(*stream)->id, shards->Route(hash_key)->meta.ordinal};
}

std::optional<ShardRef> BrokerImpl::RouteShardId(const RequestContext& ctx, const StreamRef& ref,
                                                 const std::optional<std::string>& shard_id) const {
  if (!shard_id) {
    return std::nullopt;
  }
  StatusOr<uint32_t> ordinal = ResolveShardId(ctx, ref, *shard_id);
  StatusOr<std::shared_ptr<Stream>> stream = ResolveStream(ctx, ref);
  if (!ordinal.ok() || !stream.ok() || (*stream)->shards()->Find(*ordinal) == nullptr) {
    return std::nullopt;
  }
  return ShardRef{(*stream)->id, *ordinal};
}

std::optional<ShardRef> BrokerImpl::RouteIterator(
    const std::optional<std::string>& iterator) const {
  if (!iterator) {
    return std::nullopt;
  }
  StatusOr<IteratorPosition> position =
      DecodeIterator(signer_, *iterator, clock_.NowMillis(), options_.iterator_ttl_ms);
  if (!position.ok()) {
    return std::nullopt;
  }
  return ShardRef{position->stream_id, position->shard_ordinal};
}

std::optional<std::string> BrokerImpl::ContinuationOf(const std::string& iterator) const {
  StatusOr<IteratorPosition> position =
      DecodeIterator(signer_, iterator, clock_.NowMillis(), options_.iterator_ttl_ms);
  if (!position.ok()) {
    return std::nullopt;
  }
  // Position p is the record at offset p - 1: after it comes the record at offset p.
  return storage::FormatSequenceNumber(position->shard_ordinal, position->offset);
}

}  // namespace riffle::broker
