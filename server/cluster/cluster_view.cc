#include "server/cluster/cluster_view.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <charconv>

namespace riffle::cluster {
namespace {

constexpr std::string_view kMembers = "members/";
constexpr std::string_view kController = "controller";
constexpr std::string_view kCatalog = "catalog/";
constexpr std::string_view kShards = "shards/";
constexpr std::string_view kMoves = "moves/";
constexpr std::string_view kInSync = "isr/";

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> out;
  for (size_t at = 0; at < text.size();) {
    const size_t comma = std::min(text.find(',', at), text.size());
    out.push_back(text.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

// "key=value key=value" as members and assignments store them.
std::string Field(std::string_view text, std::string_view name) {
  const std::string needle = std::string(name) + "=";
  size_t at = 0;
  while ((at = text.find(needle, at)) != std::string_view::npos) {
    if (at == 0 || text[at - 1] == ' ') {
      const size_t start = at + needle.size();
      return std::string(text.substr(start, text.find(' ', start) - start));
    }
    at += needle.size();
  }
  return {};
}

template <typename T>
std::optional<T> Number(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::string CatalogKey(std::string_view catalog_key) {
  return std::string(kCatalog) + std::string(catalog_key);
}

std::string AssignmentKey(uint64_t stream_id, uint32_t ordinal) {
  return fmt::format("{}{:010}", StreamAssignmentsPrefix(stream_id), ordinal);
}

std::string StreamAssignmentsPrefix(uint64_t stream_id) {
  return fmt::format("{}{:020}/", kShards, stream_id);
}

std::string EncodeAssignment(const Assignment& assignment) {
  // An empty node (no leader, during an election) is written as "-".
  std::string out = fmt::format("node={} epoch={}",
                                assignment.node_id.empty() ? "-" : assignment.node_id,
                                assignment.epoch);
  if (!assignment.moving_to.empty()) {
    out += " moving_to=" + assignment.moving_to;
  }
  if (assignment.closing) {
    out += " closing=1";
  }
  if (!assignment.replicas.empty()) {
    out += fmt::format(" replicas={}", fmt::join(assignment.replicas, ","));
  }
  if (!assignment.learners.empty()) {
    out += fmt::format(" learners={}", fmt::join(assignment.learners, ","));
  }
  if (assignment.replication_factor != 0) {
    out += fmt::format(" rf={}", assignment.replication_factor);
  }
  return out;
}

std::string InSyncKey(uint64_t stream_id, uint32_t ordinal) {
  return fmt::format("{}{:020}/{:010}", kInSync, stream_id, ordinal);
}

std::string StreamInSyncPrefix(uint64_t stream_id) {
  return fmt::format("{}{:020}/", kInSync, stream_id);
}

// "epoch=<e> in_sync=<a>,<b>"
std::string EncodeInSync(const InSync& in_sync) {
  return fmt::format("epoch={} in_sync={}", in_sync.epoch, fmt::join(in_sync.replicas, ","));
}

std::string SealKey(uint64_t stream_id, uint32_t ordinal) {
  return fmt::format("{}{:020}/{:010}", kMoves, stream_id, ordinal);
}

std::string StreamSealsPrefix(uint64_t stream_id) {
  return fmt::format("{}{:020}/", kMoves, stream_id);
}

std::string EncodeSeal(const Seal& seal) {
  return fmt::format("end={} epoch={}", seal.end, seal.epoch);
}

ClusterView::ClusterView(std::string prefix,
                         std::function<void(const storage::CatalogChange&, int64_t)> on_catalog,
                         std::function<void()> on_topology)
    : prefix_(std::move(prefix)),
      on_catalog_(std::move(on_catalog)),
      on_topology_(std::move(on_topology)) {}

ClusterView::~ClusterView() {
  if (watch_) {
    watch_->Stop();
  }
}

StatusOr<std::unique_ptr<ClusterView>> ClusterView::Start(
    EtcdClient& etcd, std::string prefix, storage::CatalogChange& initial_catalog,
    std::function<void(const storage::CatalogChange&, int64_t)> on_catalog,
    std::function<void()> on_topology) {
  std::unique_ptr<ClusterView> view(
      new ClusterView(std::move(prefix), std::move(on_catalog), std::move(on_topology)));
  RIFFLE_ASSIGN_OR_RETURN(RangeResult all, etcd.GetPrefix(view->prefix_));
  {
    std::lock_guard lock(view->mu_);
    for (const KeyValue& kv : all.kvs) {
      view->ApplyLocked(std::string_view(kv.key).substr(view->prefix_.size()), kv.value,
                        kv.mod_revision, initial_catalog);
    }
    view->revision_ = all.revision;
  }
  view->watch_ = etcd.WatchPrefix(
      view->prefix_, all.revision + 1, [v = view.get()](const WatchEvent& event) { v->OnEvent(event); },
      [](int64_t compacted) {
        // The cluster's keys change rarely and etcd keeps their history; a view this far
        // behind cannot trust its copy.
        spdlog::critical("cluster: etcd compacted history this node still needed (revision {}); "
                         "restart the node to reload the cluster state",
                         compacted);
      });
  return view;
}

bool ClusterView::ApplyLocked(std::string_view suffix, const std::optional<std::string>& value,
                              int64_t mod_revision, storage::CatalogChange& catalog) {
  if (suffix.starts_with(kCatalog)) {
    const std::string key(suffix.substr(kCatalog.size()));
    if (value) {
      catalog.puts.emplace_back(key, *value);
    } else {
      catalog.deletes.push_back(key);
    }
    return false;
  }
  if (suffix.starts_with(kMembers)) {
    const std::string node_id(suffix.substr(kMembers.size()));
    if (!value) {
      members_.erase(node_id);
    } else {
      members_[node_id] = Member{node_id, Field(*value, "grpc"), Field(*value, "kinesis"),
                                 Number<int64_t>(Field(*value, "incarnation")).value_or(0),
                                 Field(*value, "draining") == "1"};
    }
    return true;
  }
  if (suffix == kController) {
    controller_ = value;
    return true;
  }
  const bool is_seal = suffix.starts_with(kMoves);
  const bool is_in_sync = suffix.starts_with(kInSync);
  if (suffix.starts_with(kShards) || is_seal || is_in_sync) {
    // shards/, moves/ or isr/, then <stream 20 digits>/<ordinal 10 digits>
    const std::string_view rest = suffix.substr(
        is_seal ? kMoves.size() : is_in_sync ? kInSync.size() : kShards.size());
    const size_t slash = rest.find('/');
    std::optional<uint64_t> stream = Number<uint64_t>(rest.substr(0, slash));
    std::optional<uint32_t> ordinal =
        slash == std::string_view::npos ? std::nullopt : Number<uint32_t>(rest.substr(slash + 1));
    if (!stream || !ordinal) {
      return false;
    }
    if (is_in_sync) {
      if (!value) {
        in_sync_.erase({*stream, *ordinal});
      } else {
        in_sync_[{*stream, *ordinal}] =
            InSync{Number<uint64_t>(Field(*value, "epoch")).value_or(0),
                   SplitCommas(Field(*value, "in_sync")), mod_revision};
      }
      return false;  // what the leaders report, not who serves what
    }
    if (is_seal) {
      if (!value) {
        seals_.erase({*stream, *ordinal});
      } else {
        seals_[{*stream, *ordinal}] = Seal{Number<uint64_t>(Field(*value, "end")).value_or(0),
                                           Number<uint64_t>(Field(*value, "epoch")).value_or(0)};
      }
    } else if (!value) {
      assignments_.erase({*stream, *ordinal});
    } else {
      Assignment assignment;
      assignment.node_id = Field(*value, "node");
      assignment.epoch = Number<uint64_t>(Field(*value, "epoch")).value_or(0);
      assignment.moving_to = Field(*value, "moving_to");
      assignment.closing = Field(*value, "closing") == "1";
      assignment.mod_revision = mod_revision;
      if (assignment.node_id == "-") {
        assignment.node_id.clear();
      }
      assignment.replicas = SplitCommas(Field(*value, "replicas"));
      assignment.learners = SplitCommas(Field(*value, "learners"));
      assignment.replication_factor = Number<size_t>(Field(*value, "rf")).value_or(0);
      assignments_[{*stream, *ordinal}] = std::move(assignment);
    }
    return true;
  }
  return false;
}

void ClusterView::OnEvent(const WatchEvent& event) {
  storage::CatalogChange catalog;
  bool topology = false;
  {
    std::lock_guard lock(mu_);
    topology = ApplyLocked(std::string_view(event.kv.key).substr(prefix_.size()),
                           event.type == WatchEvent::Type::kPut
                               ? std::optional<std::string>(event.kv.value)
                               : std::nullopt,
                           event.kv.mod_revision, catalog);
  }
  if (!catalog.puts.empty() || !catalog.deletes.empty()) {
    on_catalog_(catalog, event.revision);
  }
  if (topology) {
    on_topology_();
  }
  {
    std::lock_guard lock(mu_);
    revision_ = std::max(revision_, event.revision);
  }
  advanced_.notify_all();
}

std::vector<Member> ClusterView::Members() const {
  std::lock_guard lock(mu_);
  std::vector<Member> out;
  for (const auto& [id, member] : members_) {
    out.push_back(member);
  }
  return out;
}

std::optional<Member> ClusterView::FindMember(const std::string& node_id) const {
  std::lock_guard lock(mu_);
  auto it = members_.find(node_id);
  return it == members_.end() ? std::nullopt : std::optional<Member>(it->second);
}

std::optional<std::string> ClusterView::Controller() const {
  std::lock_guard lock(mu_);
  return controller_;
}

std::optional<Assignment> ClusterView::AssignmentOf(uint64_t stream_id, uint32_t ordinal) const {
  std::lock_guard lock(mu_);
  auto it = assignments_.find({stream_id, ordinal});
  return it == assignments_.end() ? std::nullopt : std::optional<Assignment>(it->second);
}

std::map<std::pair<uint64_t, uint32_t>, Assignment> ClusterView::Assignments() const {
  std::lock_guard lock(mu_);
  return assignments_;
}

std::optional<Seal> ClusterView::SealOf(uint64_t stream_id, uint32_t ordinal) const {
  std::lock_guard lock(mu_);
  auto it = seals_.find({stream_id, ordinal});
  return it == seals_.end() ? std::nullopt : std::optional<Seal>(it->second);
}

std::optional<InSync> ClusterView::InSyncOf(uint64_t stream_id, uint32_t ordinal) const {
  std::lock_guard lock(mu_);
  auto it = in_sync_.find({stream_id, ordinal});
  return it == in_sync_.end() ? std::nullopt : std::optional<InSync>(it->second);
}

int64_t ClusterView::revision() const {
  std::lock_guard lock(mu_);
  return revision_;
}

bool ClusterView::WaitFor(int64_t revision, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return advanced_.wait_for(lock, timeout, [&] { return revision_ >= revision; });
}

}  // namespace riffle::cluster
